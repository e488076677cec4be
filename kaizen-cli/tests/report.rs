//! `kaizen report` against ccusage 20.0.24 (installed by scripts/bench-tools; these tests
//! say so and pass without it, except under CI=true) on a generated agent-log tree and on
//! hand-written transcripts with events on the edges of days, months and blocks: per day,
//! week, month and session, in UTC, a zone west (America/Los_Angeles) and one east with a
//! half-hour offset (Asia/Kolkata), tokens equal and costs within 1%; 5-hour blocks equal
//! `ccusage blocks --json`, the active block's burn rate included. And what ccusage has no
//! counterpart for: several keys at once, stores and hosts, `--reprice`, the JSON schema.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared")
}

const ZONES: [&str; 3] = ["UTC", "America/Los_Angeles", "Asia/Kolkata"];

fn kaizen(stores: &[&Path], args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kaizen"));
    for store in stores {
        command.arg("--store").arg(store);
    }
    command
        .args(args)
        .env_remove("KAIZEN_STORE")
        .output()
        .expect("run kaizen")
}

#[track_caller]
fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A report's JSON document (schema `kaizen.report/1`).
#[track_caller]
fn report(stores: &[&Path], args: &[&str]) -> Value {
    let mut all = vec!["report", "--format", "json"];
    if !args.contains(&"--days") && !args.contains(&"--since") {
        all.extend(["--since", "2026-01-01"]);
    }
    all.extend_from_slice(args);
    let doc: Value = serde_json::from_str(&ok(kaizen(stores, &all))).expect("json");
    assert_eq!(doc["schema"], "kaizen.report/1", "{doc}");
    doc
}

fn rows(doc: &Value) -> &Vec<Value> {
    doc["rows"].as_array().expect("rows")
}

fn int(v: &Value, key: &str) -> i64 {
    v[key]
        .as_i64()
        .unwrap_or_else(|| panic!("{key} is not an integer in {v}"))
}

/// ccusage's entry script, or None (with a note) where it is not installed.
fn ccusage() -> Option<PathBuf> {
    let path = match std::env::var_os("KAIZEN_CCUSAGE") {
        Some(path) => PathBuf::from(path),
        None => std::env::var_os("KAIZEN_TOOLS")
            .map_or_else(
                || {
                    Path::new(&std::env::var_os("HOME").unwrap_or_default())
                        .join(".cache/kaizen-test-tools")
                },
                PathBuf::from,
            )
            .join("ccusage/node_modules/ccusage/src/cli.js"),
    };
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").is_err(),
        "scripts/test installs ccusage (scripts/bench-tools)"
    );
    eprintln!("ccusage is not installed (scripts/bench-tools): the comparison is skipped");
    None
}

/// ccusage on `tree` only (an empty home; each agent's folder named by its variable).
fn run_ccusage(cli: &Path, tree: &Path, args: &[&str]) -> Value {
    let home = tree.join("ccusage-home");
    std::fs::create_dir_all(&home).expect("home");
    let out = Command::new("node")
        .arg(cli)
        .args(args)
        .args(["--json", "--offline"])
        .env("HOME", &home)
        .env("CLAUDE_CONFIG_DIR", tree.join("claude"))
        .env("CODEX_HOME", tree.join("codex"))
        .env("GEMINI_DATA_DIR", tree.join("gemini/tmp"))
        .env_remove("TZ")
        .output()
        .expect("run ccusage");
    serde_json::from_str(&ok(out)).expect("ccusage json")
}

/// A `gen_agent_logs.py` tree (Claude Code, Codex, Gemini CLI) over six days from Saturday
/// 2026-09-26: weeks from Monday 09-28, months September and October.
fn generated_tree(dir: &Path) -> PathBuf {
    let tree = dir.join("logs");
    let out = Command::new("python3")
        .arg(shared().join("tools/gen_agent_logs.py"))
        .args(["--claude-sessions", "8", "--codex-sessions", "3"])
        .args([
            "--gemini-sessions",
            "3",
            "--days",
            "6",
            "--start",
            "2026-09-26",
        ])
        .args(["--seed", "report-test", "--out"])
        .arg(&tree)
        .output()
        .expect("python3 gen_agent_logs.py");
    ok(out);
    tree
}

fn imported(dir: &Path, tree: &Path) -> PathBuf {
    let store = dir.join("store");
    ok(kaizen(
        &[&store],
        &["import", "all", tree.to_str().expect("path")],
    ));
    store
}

/// A row's tokens as ccusage counts them: (input, cache read, cache writes, total).
/// ccusage's `outputTokens` leaves Gemini's thoughts out (they are in its total); kaizen's
/// output tokens include reasoning, so output agrees through the total.
fn kaizen_tokens(row: &Value) -> [i64; 4] {
    [
        int(row, "input_tokens"),
        int(row, "cache_read_tokens"),
        int(row, "cache_write_5m_tokens") + int(row, "cache_write_1h_tokens"),
        int(row, "total_tokens"),
    ]
}

fn ccusage_tokens(row: &Value) -> [i64; 4] {
    let n = |k: &str| int(row, k);
    let (creation, read) = match row.get("cacheCreationTokens") {
        Some(_) => (n("cacheCreationTokens"), n("cacheReadTokens")),
        None => (n("cacheCreationInputTokens"), n("cacheReadInputTokens")),
    };
    let total = row.get("totalTokens").map_or(0, |_| n("totalTokens"));
    [n("inputTokens"), read, creation, total]
}

/// The session a subagent's transcript `agent-<id>.jsonl` belongs to: the `sessionId` of
/// its lines (kaizen counts it in that session; ccusage names it a session of its own).
fn parent_session(tree: &Path, agent_file: &str) -> String {
    fn find(dir: &Path, name: &str) -> Option<PathBuf> {
        for entry in std::fs::read_dir(dir).ok()?.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if let Some(found) = find(&path, name) {
                    return Some(found);
                }
            } else if path.file_name().is_some_and(|n| n == name) {
                return Some(path);
            }
        }
        None
    }
    let path = find(&tree.join("claude"), &format!("{agent_file}.jsonl"))
        .unwrap_or_else(|| panic!("{agent_file}.jsonl in the tree"));
    let text = std::fs::read_to_string(path).expect("read");
    let first: Value = serde_json::from_str(text.lines().next().expect("a line")).expect("json");
    first["sessionId"].as_str().expect("sessionId").to_owned()
}

/// The key ccusage gives a row, as kaizen names it: its period; a Codex session by the id
/// its rollout's path ends in (ccusage names it by the path); a subagent's transcript by
/// the session it belongs to.
fn ccusage_key(tree: &Path, report: &str, row: &Value) -> String {
    let period = row["period"].as_str().expect("period");
    match report {
        "session" if period.contains("rollout-") => period[period.len() - 36..].to_owned(),
        "session" if period.starts_with("agent-") => parent_session(tree, period),
        _ => period.to_owned(),
    }
}

/// Compares kaizen's rows with ccusage's `daily|weekly|monthly|session` rows: the same
/// keys, tokens equal, costs within 1%.
fn compare(tree: &Path, ccusage: &Value, report: &str, kaizen: &Value, by: &str, what: &str) {
    let mut theirs: BTreeMap<String, ([i64; 4], f64)> = BTreeMap::new();
    for row in ccusage[report]
        .as_array()
        .unwrap_or_else(|| panic!("{what}: no {report} in {ccusage}"))
    {
        let entry = theirs.entry(ccusage_key(tree, report, row)).or_default();
        for (sum, n) in entry.0.iter_mut().zip(ccusage_tokens(row)) {
            *sum += n;
        }
        entry.1 += row["totalCost"].as_f64().expect("cost");
    }
    let ours: BTreeMap<String, &Value> = rows(kaizen)
        .iter()
        .filter(|r| int(r, "total_tokens") > 0)
        .map(|r| (r[by].as_str().expect("key").to_owned(), r))
        .collect();
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        theirs.keys().collect::<Vec<_>>(),
        "{what}: the groups"
    );
    assert!(!ours.is_empty(), "{what}");
    for (key, (tokens, cost)) in &theirs {
        let k = ours[key];
        assert_eq!(&kaizen_tokens(k), tokens, "{what} {key}: tokens");
        let ours = int(k, "cost_usd_e6") as f64 / 1e6;
        assert!(
            (ours - cost).abs() <= 0.01 * cost.abs() + 1e-6,
            "{what} {key}: cost {ours} vs ccusage {cost}"
        );
    }
}

/// ccusage's non-gap blocks against kaizen's blocks of Claude (ccusage's `blocks` reads
/// Claude Code only): start, end, last activity, responses, tokens, cost within 1%.
fn compare_blocks(ccusage: &Value, kaizen: &Value, what: &str) {
    let theirs: Vec<&Value> = ccusage["blocks"]
        .as_array()
        .expect("blocks")
        .iter()
        .filter(|b| b["isGap"] != true)
        .collect();
    let ours: BTreeMap<&str, &Value> = rows(kaizen)
        .iter()
        .filter(|r| r["agent"] == "claude")
        .map(|r| (r["block"].as_str().expect("block"), r))
        .collect();
    assert_eq!(ours.len(), theirs.len(), "{what}: blocks");
    assert!(!theirs.is_empty(), "{what}");
    for cc in theirs {
        let start = cc["startTime"].as_str().expect("start");
        let k = ours
            .get(start)
            .unwrap_or_else(|| panic!("{what}: no block {start} in kaizen's {kaizen}"));
        assert_eq!(k["block_end"], cc["endTime"], "{what} {start}");
        assert_eq!(
            k["block_last_activity"], cc["actualEndTime"],
            "{what} {start}"
        );
        assert_eq!(k["block_responses"], cc["entries"], "{what} {start}");
        assert_eq!(k["block_active"], cc["isActive"], "{what} {start}");
        let mut theirs = ccusage_tokens(&cc["tokenCounts"]);
        theirs[3] = int(cc, "totalTokens");
        assert_eq!(kaizen_tokens(k), theirs, "{what} {start}: tokens");
        let (ours, theirs) = (
            int(k, "cost_usd_e6") as f64 / 1e6,
            cc["costUSD"].as_f64().expect("cost"),
        );
        assert!(
            (ours - theirs).abs() <= 0.01 * theirs.abs() + 1e-6,
            "{what} {start}: cost {ours} vs ccusage {theirs}"
        );
    }
}

#[test]
fn reports_equal_ccusage_on_a_generated_tree_in_three_zones() {
    let dir = tempfile::tempdir().expect("tmp");
    let tree = generated_tree(dir.path());
    let store = imported(dir.path(), &tree);
    // Every figure adds up whatever the grouping (kaizen's own consistency), failed tool
    // results (the derived `tool_errors` column) included.
    let day = report(&[&store], &["--timezone", "UTC"]);
    let failed = day["totals"]["failed_tool_results"].as_i64();
    assert!(failed.is_some_and(|f| f > 0), "{day}");
    for by in [
        "week", "month", "session", "model", "agent", "project", "tool", "block", "host",
    ] {
        let other = report(&[&store], &["--timezone", "UTC", "--by", by]);
        assert_eq!(other["totals"], day["totals"], "--by {by}");
    }
    let Some(cli) = ccusage() else { return };
    for zone in ZONES {
        for (cc, by) in [
            ("daily", "day"),
            ("weekly", "week"),
            ("monthly", "month"),
            ("session", "session"),
        ] {
            let theirs = run_ccusage(&cli, &tree, &[cc, "--timezone", zone]);
            let ours = report(&[&store], &["--by", by, "--timezone", zone]);
            compare(&tree, &theirs, cc, &ours, by, &format!("{cc} in {zone}"));
        }
        let theirs = run_ccusage(&cli, &tree, &["blocks", "--timezone", zone]);
        let ours = report(&[&store], &["--by", "block", "--timezone", zone]);
        compare_blocks(&theirs, &ours, &format!("blocks in {zone}"));
        // --since and --until are local days, both included, as ccusage reads them.
        let theirs = run_ccusage(
            &cli,
            &tree,
            &[
                "daily",
                "--timezone",
                zone,
                "--since",
                "20260928",
                "--until",
                "20260930",
            ],
        );
        let ours = report(
            &[&store],
            &[
                "--timezone",
                zone,
                "--since",
                "2026-09-28",
                "--until",
                "2026-09-30",
            ],
        );
        assert_eq!(rows(&ours).len(), 3, "{ours}");
        compare(
            &tree,
            &theirs,
            "daily",
            &ours,
            "day",
            &format!("daily --since --until in {zone}"),
        );
    }
}

/// One Claude Code assistant line: a response of `input`/`output` tokens and cache writes
/// (5-minute, 1-hour) at `ts`.
fn claude_line(n: usize, ts: &str, model: &str, usage: [u64; 4]) -> String {
    let [input, output, w5m, w1h] = usage;
    format!(
        r#"{{"parentUuid":null,"isSidechain":false,"userType":"external","cwd":"/home/u/edge","sessionId":"0b0e6b1e-0000-4000-8000-00000000000{s}","version":"2.0.0","type":"assistant","uuid":"00000000-0000-4000-8000-{n:012}","timestamp":"{ts}","requestId":"req_{n}","message":{{"id":"msg_{n}","type":"message","role":"assistant","model":"{model}","content":[{{"type":"text","text":"x"}}],"stop_reason":"end_turn","usage":{{"input_tokens":{input},"output_tokens":{output},"cache_creation_input_tokens":{w},"cache_read_input_tokens":{read},"cache_creation":{{"ephemeral_5m_input_tokens":{w5m},"ephemeral_1h_input_tokens":{w1h}}}}}}}}}"#,
        s = n % 2,
        w = w5m + w1h,
        read = 10 * input,
    )
}

/// Writes Claude Code transcripts of `lines` (two sessions, alternating) under `tree`.
fn claude_tree(tree: &Path, lines: &[String]) {
    let project = tree.join("claude/projects/-home-u-edge");
    std::fs::create_dir_all(&project).expect("mkdir");
    for s in 0..2 {
        let text: String = lines
            .iter()
            .enumerate()
            .filter(|(n, _)| n % 2 == s)
            .map(|(_, l)| format!("{l}\n"))
            .collect();
        let name = format!("0b0e6b1e-0000-4000-8000-00000000000{s}.jsonl");
        std::fs::write(project.join(name), text).expect("write");
    }
}

/// Events on the edges: a millisecond either side of midnight in UTC, Los Angeles (PDT,
/// and the 25-hour day DST ends on) and Kolkata (+05:30), of a month, and of 5-hour blocks
/// (a response exactly 5 hours after its block's start, one a millisecond later, a gap of
/// more than 5 hours); 1-hour cache writes.
#[test]
fn reports_equal_ccusage_on_the_edges_of_days_months_and_blocks() {
    let dir = tempfile::tempdir().expect("tmp");
    let tree = dir.path().join("logs");
    let stamps = [
        "2026-10-01T18:29:59.999Z",
        "2026-10-01T18:30:00.000Z",
        "2026-10-01T23:59:59.999Z",
        "2026-10-02T00:00:00.000Z",
        "2026-10-02T06:59:59.999Z",
        "2026-10-02T07:00:00.000Z",
        "2026-10-31T23:59:59.999Z",
        "2026-11-01T00:00:00.000Z",
        "2026-11-01T06:59:59.999Z",
        "2026-11-01T07:00:00.000Z",
        "2026-11-02T07:59:59.999Z",
        "2026-11-02T08:00:00.000Z",
        "2026-11-10T10:30:00.000Z",
        "2026-11-10T15:00:00.000Z",
        "2026-11-10T15:00:00.001Z",
        "2026-11-10T20:00:00.002Z",
        "2026-11-11T01:00:00.003Z",
    ];
    let lines: Vec<String> = stamps
        .iter()
        .enumerate()
        .map(|(n, ts)| {
            let model = ["claude-sonnet-4-5-20250929", "claude-opus-4-6"][n % 2];
            claude_line(
                n,
                ts,
                model,
                [100 + n as u64, 20, 1000, 2000 * (n as u64 % 3)],
            )
        })
        .collect();
    claude_tree(&tree, &lines);
    let store = imported(dir.path(), &tree);

    // 1-hour cache writes apart from 5-minute ones.
    let all = report(&[&store], &["--by", "month", "--timezone", "UTC"]);
    let w1h: u64 = (0..stamps.len() as u64).map(|n| 2000 * (n % 3)).sum();
    assert_eq!(all["totals"]["cache_write_1h_tokens"], w1h, "{all}");
    assert_eq!(
        all["totals"]["cache_write_5m_tokens"],
        1000 * stamps.len() as u64
    );
    // Each zone's days: an event a millisecond before its midnight and one at it are on
    // two days; no event is lost at a boundary.
    for (zone, before, after) in [
        ("UTC", "2026-10-01", "2026-10-02"),
        ("America/Los_Angeles", "2026-10-01", "2026-10-02"),
        ("Asia/Kolkata", "2026-10-01", "2026-10-02"),
    ] {
        let days = report(&[&store], &["--timezone", zone]);
        assert_eq!(days["totals"], all["totals"], "{zone}");
        let keys: Vec<&str> = rows(&days)
            .iter()
            .map(|r| r["day"].as_str().expect("day"))
            .collect();
        assert!(
            keys.contains(&before) && keys.contains(&after),
            "{zone}: {keys:?}"
        );
    }
    // Without --timezone: $TZ.
    let out = Command::new(env!("CARGO_BIN_EXE_kaizen"))
        .arg("--store")
        .arg(&store)
        .args(["report", "--since", "2026-01-01", "--format", "json"])
        .env_remove("KAIZEN_STORE")
        .env("TZ", "Asia/Kolkata")
        .output()
        .expect("run kaizen");
    let by_env: Value = serde_json::from_str(&ok(out)).expect("json");
    assert_eq!(by_env["timezone"], "Asia/Kolkata");
    assert_eq!(
        by_env["rows"],
        report(&[&store], &["--timezone", "Asia/Kolkata"])["rows"]
    );
    // Los Angeles' 2026-11-01 is 25 hours: 07:00Z that day to 08:00Z the next, both
    // edges in it (and 06:59:59.999Z, 08:00Z not).
    let la = report(&[&store], &["--timezone", "America/Los_Angeles"]);
    let day = |d: &str| {
        rows(&la)
            .iter()
            .find(|r| r["day"] == d)
            .map(|r| int(r, "events"))
    };
    assert_eq!(day("2026-11-01"), Some(2), "{la}");
    assert_eq!(day("2026-11-02"), Some(1), "{la}");

    let Some(cli) = ccusage() else { return };
    for zone in ZONES {
        for (cc, by) in [
            ("daily", "day"),
            ("weekly", "week"),
            ("monthly", "month"),
            ("session", "session"),
        ] {
            let theirs = run_ccusage(&cli, &tree, &[cc, "--timezone", zone]);
            let ours = report(&[&store], &["--by", by, "--timezone", zone]);
            compare(
                &tree,
                &theirs,
                cc,
                &ours,
                by,
                &format!("edges: {cc} in {zone}"),
            );
        }
    }
    let theirs = run_ccusage(&cli, &tree, &["blocks", "--timezone", "UTC"]);
    let ours = report(&[&store], &["--by", "block", "--timezone", "UTC"]);
    compare_blocks(&theirs, &ours, "edges: blocks");
}

/// The active block: its burn rate (over its first to last response) and projection to its
/// end agree with ccusage's (the projection within the minute that passes between runs).
#[test]
fn the_active_block_has_ccusages_burn_rate_and_projection() {
    let dir = tempfile::tempdir().expect("tmp");
    let tree = dir.path().join("logs");
    let now = chrono::Utc::now();
    // Within the current UTC hour's block or the one before: 100 and 40 minutes ago.
    let stamps: Vec<String> = [100, 40]
        .iter()
        .map(|m| {
            (now - chrono::Duration::minutes(*m))
                .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                .to_string()
        })
        .collect();
    let lines: Vec<String> = stamps
        .iter()
        .enumerate()
        .map(|(n, ts)| claude_line(n, ts, "claude-sonnet-4-5-20250929", [100, 10, 0, 0]))
        .collect();
    claude_tree(&tree, &lines);
    let store = imported(dir.path(), &tree);
    let ours = report(
        &[&store],
        &["--by", "block", "--timezone", "UTC", "--days", "2"],
    );
    let active: Vec<&Value> = rows(&ours)
        .iter()
        .filter(|r| r["block_active"] == true)
        .collect();
    assert_eq!(active.len(), 1, "{ours}");
    let ours = active[0];
    // 2 × (100 + 10 + 1,000 cache reads) tokens over 60 minutes.
    let rate = ours["burn_tokens_per_minute"].as_f64().expect("rate");
    assert!((rate - 2.0 * 1110.0 / 60.0).abs() < 1e-6, "{ours}");
    let table = ok(kaizen(
        &[&store],
        &["report", "--by", "block", "--days", "2"],
    ));
    assert!(
        table.contains("ACTIVE") && table.contains("tokens/min"),
        "{table}"
    );

    let Some(cli) = ccusage() else { return };
    let theirs = run_ccusage(&cli, &tree, &["blocks", "--active", "--timezone", "UTC"]);
    let theirs = theirs["blocks"]
        .as_array()
        .expect("blocks")
        .iter()
        .find(|b| b["isActive"] == true)
        .expect("ccusage's active block");
    assert_eq!(ours["block"], theirs["startTime"]);
    let their_rate = theirs["burnRate"]["tokensPerMinute"]
        .as_f64()
        .expect("rate");
    assert!((rate - their_rate).abs() < 1e-6, "{rate} vs {their_rate}");
    let per_hour = ours["burn_cost_usd_per_hour"].as_f64().expect("cost/h");
    let their_per_hour = theirs["burnRate"]["costPerHour"].as_f64().expect("cost/h");
    assert!(
        (per_hour - their_per_hour).abs() <= 0.01 * their_per_hour,
        "{per_hour} vs {their_per_hour}"
    );
    let projected = int(ours, "projected_total_tokens");
    let their_projected = int(&theirs["projection"], "totalTokens");
    assert!(
        (projected - their_projected).abs() as f64 <= 2.0 * rate,
        "{projected} vs {their_projected}"
    );
}

/// `--by day,model`: each day split by model, adding up to the day; `--by store` and
/// `--by host` over two stores given as a glob; CSV carries the JSON rows' fields; bad
/// options are refused with what to give instead.
#[test]
fn several_keys_stores_hosts_and_formats() {
    let dir = tempfile::tempdir().expect("tmp");
    let tree = generated_tree(dir.path());
    let a = dir.path().join("machine-a");
    let b = dir.path().join("machine-b");
    ok(kaizen(
        &[&a],
        &[
            "import",
            "claude",
            tree.join("claude").to_str().expect("path"),
        ],
    ));
    ok(kaizen(
        &[&b],
        &[
            "import",
            "codex",
            tree.join("codex").to_str().expect("path"),
        ],
    ));
    let glob = dir.path().join("machine-*");

    let days = report(&[&glob], &["--by", "day", "--timezone", "UTC"]);
    let split = report(&[&glob], &["--by", "day,model", "--timezone", "UTC"]);
    assert_eq!(split["by"], serde_json::json!(["day", "model"]));
    // Failed tool results are counted by day as by model (a typed column).
    assert!(days["totals"]["failed_tool_results"].as_i64().is_some());
    assert_eq!(split["totals"], days["totals"]);
    for day in rows(&days) {
        let parts: Vec<&Value> = rows(&split)
            .iter()
            .filter(|r| r["day"] == day["day"])
            .collect();
        assert!(!parts.is_empty());
        for figure in [
            "events",
            "input_tokens",
            "output_tokens",
            "cost_usd_e6",
            "tool_calls",
        ] {
            let sum: i64 = parts.iter().map(|r| int(r, figure)).sum();
            assert_eq!(sum, int(day, figure), "{} {figure}", day["day"]);
        }
    }
    // Rows in time order, the costliest first within a day.
    let keys: Vec<(String, i64)> = rows(&split)
        .iter()
        .map(|r| {
            (
                r["day"].as_str().expect("day").to_owned(),
                -int(r, "cost_usd_e6"),
            )
        })
        .collect();
    assert!(keys.windows(2).all(|w| w[0] <= w[1]), "{keys:?}");

    let stores = report(&[&glob], &["--by", "store,agent"]);
    let got: Vec<(String, String)> = rows(&stores)
        .iter()
        .map(|r| {
            let store = r["store"].as_str().expect("store");
            (
                Path::new(store)
                    .file_name()
                    .expect("name")
                    .to_string_lossy()
                    .into_owned(),
                r["agent"].as_str().expect("agent").to_owned(),
            )
        })
        .collect();
    assert_eq!(got.len(), 2, "{stores}");
    assert!(
        got.contains(&("machine-a".into(), "claude".into())),
        "{got:?}"
    );
    assert!(
        got.contains(&("machine-b".into(), "codex".into())),
        "{got:?}"
    );
    // Imported logs name no host: each machine is its store.
    let hosts = report(&[&a, &b], &["--by", "host"]);
    assert_eq!(rows(&hosts).len(), 2, "{hosts}");
    assert_eq!(hosts["totals"], stores["totals"]);

    let csv = ok(kaizen(
        &[&glob],
        &[
            "report",
            "--since",
            "2026-01-01",
            "--by",
            "day,agent",
            "--format",
            "csv",
        ],
    ));
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    assert_eq!(
        &header[..4],
        ["day", "agent", "events", "input_tokens"],
        "{csv}"
    );
    assert!(header.contains(&"cache_hit_rate") && header.contains(&"p95_latency_ms"));
    assert_eq!(
        lines.count(),
        rows(&report(&[&glob], &["--by", "day,agent"])).len()
    );

    for (args, says) in [
        (
            &["report", "--timezone", "Mars/Olympus"][..],
            "not an IANA time zone",
        ),
        (
            &["report", "--by", "day,week"][..],
            "at most one of day, week, month and block",
        ),
        (
            &["report", "--since", "2026-10-05", "--until", "2026-10-01"][..],
            "is after --until",
        ),
        (
            &["report", "--since", "yesterday"][..],
            "expected a day such as 2026-10-01",
        ),
    ] {
        let out = kaizen(&[&a], args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

/// `--reprice`: the shipped table gives back the cost computed at import (the same table),
/// so every difference is 0; a user's table doubling one model's prices doubles its cost,
/// and a model it lacks is unpriced (never $0); a table that is not one is refused by name.
#[test]
fn reprice_recomputes_costs_under_a_price_table() {
    let dir = tempfile::tempdir().expect("tmp");
    let tree = dir.path().join("logs");
    let lines: Vec<String> = (0..6)
        .map(|n| {
            let model = [
                "claude-sonnet-4-5-20250929",
                "claude-opus-4-6",
                "claude-haiku-4-5-20251001",
            ][n % 3];
            claude_line(
                n,
                &format!("2026-10-0{}T10:00:00.000Z", 1 + n),
                model,
                [1000, 300, 5000, 7000],
            )
        })
        .collect();
    claude_tree(&tree, &lines);
    let store = imported(dir.path(), &tree);

    let shipped = report(&[&store], &["--by", "model", "--reprice"]);
    assert_eq!(shipped["reprice"]["prices"], "litellm-1.110.2");
    for m in shipped["reprice"]["models"].as_array().expect("models") {
        assert_eq!(m["difference_usd_e6"], 0, "{m}");
        assert!(int(m, "recorded_cost_usd_e6") > 0);
    }
    for r in rows(&shipped) {
        assert_eq!(r["repriced_cost_usd_e6"], r["cost_usd_e6"], "{r}");
        assert_eq!(r["unpriced_responses"], 0);
    }

    // Sonnet at twice the shipped prices; opus and haiku missing from the table.
    let prices = dir.path().join("prices.json");
    std::fs::write(
        &prices,
        r#"{"version": "mine-1", "models": {"claude-sonnet-4-5": {
            "input_cost_per_token": 6e-06, "output_cost_per_token": 3e-05,
            "cache_read_input_token_cost": 6e-07, "cache_creation_input_token_cost": 7.5e-06,
            "cache_creation_input_token_cost_above_1hr": 1.2e-05}}}"#,
    )
    .expect("write");
    let mine = report(
        &[&store],
        &[
            "--by",
            "model",
            "--reprice",
            "--prices",
            prices.to_str().expect("path"),
        ],
    );
    assert_eq!(mine["reprice"]["prices"], "mine-1");
    let models: BTreeMap<&str, &Value> = mine["reprice"]["models"]
        .as_array()
        .expect("models")
        .iter()
        .map(|m| (m["model"].as_str().expect("model"), m))
        .collect();
    let sonnet = models["claude-sonnet-4-5-20250929"];
    // Per response: 1000 × 6 + 300 × 30 + 10,000 × 0.6 + 5000 × 7.5 + 7000 × 12 micro-dollars.
    let per_response = 6_000 + 9_000 + 6_000 + 37_500 + 84_000;
    assert_eq!(sonnet["repriced_cost_usd_e6"], 2 * per_response, "{sonnet}");
    assert_eq!(
        int(sonnet, "difference_usd_e6"),
        2 * per_response - int(sonnet, "recorded_cost_usd_e6")
    );
    assert_eq!(
        int(sonnet, "recorded_cost_usd_e6"),
        per_response,
        "the shipped prices are half"
    );
    assert!(models["claude-opus-4-6"]["repriced_cost_usd_e6"].is_null());
    let opus = rows(&mine)
        .iter()
        .find(|r| r["model"] == "claude-opus-4-6")
        .expect("opus");
    assert_eq!(opus["unpriced_responses"], 2);
    let table = ok(kaizen(
        &[&store],
        &[
            "report",
            "--since",
            "2026-01-01",
            "--reprice",
            "--prices",
            prices.to_str().expect("path"),
        ],
    ));
    assert!(
        table.contains("not in the table") && table.contains("mine-1"),
        "{table}"
    );

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"models\": 3}").expect("write");
    let out = kaizen(
        &[&store],
        &[
            "report",
            "--reprice",
            "--prices",
            bad.to_str().expect("path"),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.json") && err.contains("not a price table"),
        "{err}"
    );
}

/// `--by host`: the payload's `host` where an event names one (or its session does), else
/// the store the event lives in.
#[test]
fn hosts_are_named_by_the_payload_or_the_store() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = dir.path().join("store");
    let file = dir.path().join("events.jsonl");
    let at = "2026-10-01T10:00:00Z";
    let ms = chrono::DateTime::parse_from_rfc3339(at)
        .expect("time")
        .timestamp_millis();
    let event = |session: &str, seq: i64, payload: &str, cost: i64| {
        format!(
            r#"{{"session_id":"{session}","seq":{seq},"ts_ms":{},"ts_exact":true,"kind":"Message","source":"Hook","cost_usd_e6":{cost},"payload":{payload}}}"#,
            ms + seq
        )
    };
    let lines = [
        event("a", 1, r#"{"host":"laptop"}"#, 100),
        event("a", 2, "{}", 10),
        event(
            "b",
            1,
            r#"{"text":"no host here, \"host\": in a string"}"#,
            1,
        ),
    ];
    std::fs::write(&file, lines.join("\n") + "\n").expect("write");
    ok(kaizen(&[&store], &["ingest", file.to_str().expect("path")]));
    let doc = report(&[&store], &["--by", "host", "--timezone", "UTC"]);
    let got: Vec<(String, i64, i64)> = rows(&doc)
        .iter()
        .map(|r| {
            (
                r["host"].as_str().expect("host").to_owned(),
                int(r, "events"),
                int(r, "cost_usd_e6"),
            )
        })
        .collect();
    let store_name = store.display().to_string();
    assert_eq!(
        got,
        vec![("laptop".to_owned(), 2, 110), (store_name, 1, 1)],
        "{doc}"
    );
}

/// Figures taken from two columns each: 1-hour cache writes are the payload's
/// `cache_creation_1h`, never more than the event's cache writes and none where either is
/// missing; failed tool results count on tool results, tool calls and messages only.
#[test]
fn one_hour_cache_writes_and_failed_results_follow_their_rules() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = dir.path().join("store");
    let file = dir.path().join("events.jsonl");
    let ms = chrono::DateTime::parse_from_rfc3339("2026-10-01T10:00:00Z")
        .expect("time")
        .timestamp_millis();
    let event = |seq: i64, kind: &str, cache_writes: Option<u32>, payload: &str| {
        let writes = cache_writes
            .map(|n| format!(r#","cache_creation_tokens":{n}"#))
            .unwrap_or_default();
        format!(
            r#"{{"session_id":"s","seq":{seq},"ts_ms":{},"ts_exact":true,"kind":"{kind}","source":"Hook"{writes},"payload":{payload}}}"#,
            ms + seq
        )
    };
    let lines = [
        // More 1-hour writes than writes: the writes.
        event(1, "Message", Some(100), r#"{"cache_creation_1h":500}"#),
        event(2, "Message", Some(300), r#"{"cache_creation_1h":200}"#),
        // No writes, or no split: no 1-hour writes.
        event(3, "Message", None, r#"{"cache_creation_1h":50}"#),
        event(4, "Message", Some(40), "{}"),
        event(5, "Message", Some(0), r#"{"cache_creation_1h":10}"#),
        event(6, "ToolResult", None, r#"{"tool_errors":2}"#),
        event(7, "ToolCall", None, r#"{"tool_errors":1}"#),
        event(8, "Error", None, r#"{"tool_errors":5}"#),
    ];
    std::fs::write(&file, lines.join("\n") + "\n").expect("write");
    ok(kaizen(&[&store], &["ingest", file.to_str().expect("path")]));
    for by in ["session", "day"] {
        let doc = report(&[&store], &["--by", by, "--timezone", "UTC"]);
        let row = &rows(&doc)[0];
        assert_eq!(int(row, "cache_write_1h_tokens"), 300, "{doc}");
        assert_eq!(int(row, "cache_write_5m_tokens"), 140, "{doc}");
        assert_eq!(int(row, "failed_tool_results"), 3, "{doc}");
        assert_eq!(int(row, "tool_calls"), 1, "{doc}");
        assert_eq!(int(row, "api_errors"), 1, "{doc}");
        assert_eq!(doc["totals"]["cache_write_1h_tokens"], 300, "{doc}");
    }
}

/// Extreme arguments end in an answer or an error naming the argument, never a panic: a
/// window of more days than the calendar holds starts at the epoch (no event is before
/// it), and a price table whose prices would overflow a cost is refused, naming the model
/// and the key.
#[test]
fn extreme_windows_and_prices_are_answered_or_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let tree = dir.path().join("logs");
    claude_tree(
        &tree,
        &[claude_line(
            1,
            "2026-10-02T10:00:00.000Z",
            "claude-opus-4-6",
            [10, 20, 0, 0],
        )],
    );
    let store = imported(dir.path(), &tree);
    for days in ["4294967295", "3000000"] {
        let doc = report(&[&store], &["--days", days, "--timezone", "UTC"]);
        assert_eq!(doc["from"], "1970-01-01T00:00:00.000Z", "--days {days}");
        assert_eq!(int(&doc["totals"], "input_tokens"), 10, "--days {days}");
    }
    for price in ["1e20", "-1", "1e308"] {
        let prices = dir.path().join("prices.json");
        std::fs::write(
            &prices,
            format!(
                r#"{{"version":"x","models":{{"claude-opus-4-6":{{"input_cost_per_token":{price},"output_cost_per_token":0}}}}}}"#
            ),
        )
        .expect("write");
        let out = kaizen(
            &[&store],
            &[
                "report",
                "--reprice",
                "--prices",
                prices.to_str().expect("path"),
                "--days",
                "400",
            ],
        );
        assert_eq!(out.status.code(), Some(1), "price {price}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("claude-opus-4-6") && err.contains("input_cost_per_token"),
            "price {price}: {err}"
        );
    }
}

/// Attribution within a session: a session that names one model bills every event to it
/// (those before its first naming one too); one that names two bills each event to the
/// latest named before it (by `seq`), and the events before the first to that first; a
/// session that names none is `(unknown)`. Two stores, so that both ways of attributing
/// (a lookup per session; a sort of the mixed sessions) meet in one report.
#[test]
fn events_are_billed_to_their_sessions_models_in_seq_order() {
    let dir = tempfile::tempdir().expect("tmp");
    let event = |session: &str, seq: u64, model: Option<&str>| {
        let kind = match model {
            Some(_) => kaizen_core::EventKind::Cost,
            None => kaizen_core::EventKind::ToolCall,
        };
        let mut e = kaizen_core::Event::new(
            session.to_owned(),
            seq,
            1_790_846_102_000 + seq * 1_000,
            kind,
            kaizen_core::EventSource::Hook,
        );
        e.tokens_in = model.map(|_| 10);
        let mut v: Value = serde_json::from_str(&e.to_json()).expect("json");
        if let Some(model) = model {
            v["payload"] = serde_json::json!({ "model": model });
        }
        v.to_string()
    };
    let lines = [
        // Mixed: sonnet, then haiku; its first event names none.
        event("mixed", 1, None),
        event("mixed", 2, Some("sonnet")),
        event("mixed", 3, None),
        event("mixed", 4, Some("haiku")),
        event("mixed", 5, None),
        // One model; its first event names none.
        event("single", 1, None),
        event("single", 2, Some("opus")),
        event("single", 3, None),
        event("single", 4, Some("opus")),
        // None at all.
        event("nameless", 1, None),
    ];
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for (store, lines) in [(&a, &lines[..5]), (&b, &lines[5..])] {
        let file = dir.path().join("events.jsonl");
        std::fs::write(&file, lines.join("\n") + "\n").expect("jsonl");
        ok(kaizen(&[store], &["ingest", file.to_str().expect("path")]));
    }
    let doc = report(
        &[&a, &b],
        &[
            "--by",
            "model",
            "--since",
            "2026-09-01",
            "--timezone",
            "UTC",
        ],
    );
    let got: BTreeMap<String, (i64, i64, i64)> = rows(&doc)
        .iter()
        .map(|r| {
            (
                r["model"].as_str().expect("model").to_owned(),
                (
                    int(r, "events"),
                    int(r, "tool_calls"),
                    int(r, "input_tokens"),
                ),
            )
        })
        .collect();
    let want: BTreeMap<String, (i64, i64, i64)> = [
        ("sonnet", (3, 2, 10)),
        ("haiku", (2, 1, 10)),
        ("opus", (4, 2, 20)),
        ("(unknown)", (1, 1, 0)),
    ]
    .into_iter()
    .map(|(m, f)| (m.to_owned(), f))
    .collect();
    assert_eq!(got, want, "{doc}");
    // By session and model: the mixed session in two rows, the others in one.
    let doc = report(
        &[&a, &b],
        &[
            "--by",
            "session,model",
            "--since",
            "2026-09-01",
            "--timezone",
            "UTC",
        ],
    );
    assert_eq!(rows(&doc).len(), 4, "{doc}");
}
