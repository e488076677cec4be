//! `kaizen import` and `kaizen export` end to end, on agent-log trees written by
//! `shared/tools/gen_agent_logs.py`, whose manifest holds the exact totals to find.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared")
}

fn kaizen(store: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kaizen"))
        .arg("--store")
        .arg(store)
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

/// A generated tree of the three agents' logs, and its manifest.
fn tree(dir: &Path) -> serde_json::Value {
    let out = Command::new("python3")
        .arg(shared().join("tools/gen_agent_logs.py"))
        .args([
            "--claude-sessions",
            "4",
            "--codex-sessions",
            "2",
            "--gemini-sessions",
            "2",
        ])
        .args(["--days", "2", "--seed", "import-test", "--out"])
        .arg(dir)
        .output()
        .expect("python3 gen_agent_logs.py");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.join("manifest.json")).expect("manifest");
    serde_json::from_str(&text).expect("manifest json")
}

/// A temporary folder holding a generated tree (`logs`) imported into a store (`store`),
/// and the tree's manifest.
fn imported_tree() -> (tempfile::TempDir, PathBuf, PathBuf, serde_json::Value) {
    let dir = tempfile::tempdir().expect("tmp");
    let (logs, store) = (dir.path().join("logs"), dir.path().join("store"));
    let manifest = tree(&logs);
    ok(kaizen(
        &store,
        &["import", "all", logs.to_str().expect("path")],
    ));
    (dir, logs, store, manifest)
}

/// The rows of a `kaizen report --format json` document (schema `kaizen.report/1`).
fn report_rows(text: &str) -> Vec<serde_json::Value> {
    let doc: serde_json::Value = serde_json::from_str(text).expect("report json");
    assert_eq!(doc["schema"], "kaizen.report/1", "{doc}");
    doc["rows"].as_array().expect("rows").clone()
}

/// The token sums the store holds, by column.
fn stored_tokens(store: &Path) -> BTreeMap<String, u64> {
    let query = "SELECT CAST(coalesce(sum(tokens_in), 0) AS BIGINT) AS input, \
                 CAST(coalesce(sum(tokens_out), 0) AS BIGINT) AS output, \
                 CAST(coalesce(sum(cache_read_tokens), 0) AS BIGINT) AS cache_read, \
                 CAST(coalesce(sum(cache_creation_tokens), 0) AS BIGINT) AS cache_creation, \
                 count(*) AS events FROM events";
    let text = ok(kaizen(store, &["sql", query, "--format", "jsonl"]));
    let row: BTreeMap<String, u64> = serde_json::from_str(text.trim()).expect("one row");
    row
}

/// Every file under `dir`, by relative path, with its bytes.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).expect("under dir").to_path_buf();
                out.insert(rel, std::fs::read(&path).expect("read"));
            }
        }
    }
    out
}

/// Import: the manifest's totals exactly, every line an event; again: nothing new;
/// ten lines appended: exactly those; export: every file byte for byte.
#[test]
fn import_counts_every_token_once_resumes_and_exports_byte_for_byte() {
    let dir = tempfile::tempdir().expect("tmp");
    let (logs, store) = (dir.path().join("logs"), dir.path().join("store"));
    let manifest = tree(&logs);
    let logs_arg = logs.to_str().expect("path");

    let first = ok(kaizen(
        &store,
        &["import", "all", logs_arg, "--format", "json"],
    ));
    let first: serde_json::Value = serde_json::from_str(&first).expect("json");
    let sum = |key: &str| -> u64 {
        (manifest["sources"].as_object().expect("sources").values())
            .map(|s| s["totals"][key].as_u64().expect("figure"))
            .sum()
    };
    let stored = stored_tokens(&store);
    for key in ["input", "output", "cache_read", "cache_creation"] {
        assert_eq!(stored[key], sum(key), "{key}: {stored:?}");
    }
    // One event a line of every JSON Lines file (a Gemini `.json` chat is one document:
    // an event a message).
    for source in ["claude", "codex"] {
        let lines = &manifest["sources"][source]["totals"]["lines"];
        assert_eq!(
            &first["report"]["sources"][source]["events"], lines,
            "{source}"
        );
    }
    assert_eq!(first["events_written"], stored["events"]);

    // Again: every file unchanged, nothing written.
    let again = ok(kaizen(
        &store,
        &["import", "all", logs_arg, "--format", "json"],
    ));
    let again: serde_json::Value = serde_json::from_str(&again).expect("json");
    assert_eq!(again["events_written"], 0, "{again}");
    assert_eq!(stored_tokens(&store), stored);

    // A transcript grows by ten lines (copies of its own last line, as a new turn would
    // add lines): exactly those are added.
    let transcript = files(&logs)
        .into_keys()
        .find(|p| p.starts_with("claude/projects") && p.extension().is_some_and(|e| e == "jsonl"))
        .expect("a Claude transcript");
    let path = logs.join(&transcript);
    let text = std::fs::read_to_string(&path).expect("read");
    let last = text.lines().last().expect("a line").to_owned();
    let mut grown = text.clone();
    for _ in 0..10 {
        grown.push_str(&last);
        grown.push('\n');
    }
    std::fs::write(&path, &grown).expect("append");
    let more = ok(kaizen(
        &store,
        &[
            "import",
            "claude",
            logs.join("claude").to_str().expect("path"),
            "--format",
            "json",
        ],
    ));
    let more: serde_json::Value = serde_json::from_str(&more).expect("json");
    assert_eq!(more["events_written"], 10, "{more}");
    assert_eq!(stored_tokens(&store)["events"], stored["events"] + 10);

    // Export each agent; the tree comes back byte for byte.
    let out = dir.path().join("out");
    for agent in ["claude", "codex", "gemini"] {
        let target = out.join(agent);
        ok(kaizen(
            &store,
            &["export", agent, "--out", target.to_str().expect("path")],
        ));
    }
    let mut want = files(&logs);
    want.remove(Path::new("manifest.json"));
    assert_eq!(files(&out), want, "export gives back every file");
}

/// Bad input: a line that is not JSON in the middle of a transcript is named by file and
/// line, and nothing is written (cursors included); a PATH that holds no agent's folders is
/// refused with what to do.
#[test]
fn a_broken_line_is_named_and_nothing_is_written() {
    let dir = tempfile::tempdir().expect("tmp");
    let (logs, store) = (dir.path().join("logs"), dir.path().join("store"));
    tree(&logs);
    let transcript = files(&logs)
        .into_keys()
        .find(|p| p.starts_with("claude/projects") && p.extension().is_some_and(|e| e == "jsonl"))
        .expect("a Claude transcript");
    let path = logs.join(&transcript);
    let text = std::fs::read_to_string(&path).expect("read");
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(2, "{not json");
    std::fs::write(&path, lines.join("\n") + "\n").expect("write");

    let out = kaizen(&store, &["import", "all", logs.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let name = transcript
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert!(err.contains(&format!("{name}:3")), "{err}");
    assert!(err.contains("nothing of this import was written"), "{err}");
    assert!(
        !store.join("cold").exists() && !store.join("state").exists(),
        "nothing written"
    );

    let out = kaizen(
        &store,
        &["import", "all", dir.path().to_str().expect("path")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("name the agent"));
}

/// `kaizen` with standard input and environment variables of its own.
fn kaizen_with(store: &Path, args: &[&str], stdin: &[u8], env: &[(&str, &Path)]) -> Output {
    use std::io::Write;
    let mut command = Command::new(env!("CARGO_BIN_EXE_kaizen"));
    command
        .arg("--store")
        .arg(store)
        .args(args)
        .env_remove("KAIZEN_STORE")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("run kaizen");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    child.wait_with_output().expect("kaizen output")
}

#[track_caller]
fn fails(o: &Output) -> String {
    assert_eq!(
        o.status.code(),
        Some(1),
        "stdout: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A hook's input without `transcript_path`, or naming a file that is not there, is an
/// error on standard error with exit 1 (Claude Code shows it; 2 would block the agent);
/// a real transcript is archived with exit 0.
#[test]
fn the_hook_names_a_missing_transcript_path_or_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let (logs, store) = (dir.path().join("logs"), dir.path().join("store"));
    tree(&logs);
    let hook = |input: &str| kaizen_with(&store, &["hook", "claude"], input.as_bytes(), &[]);

    let err = fails(&hook(r#"{"session_id":"s1","hook_event_name":"Stop"}"#));
    assert!(
        err.contains("no transcript_path") && err.contains("hook_event_name, session_id"),
        "{err}"
    );
    let missing = logs.join("claude/projects/nowhere/s1.jsonl");
    let input = serde_json::json!({ "session_id": "s1", "transcript_path": missing });
    let err = fails(&hook(&input.to_string()));
    assert!(
        err.contains(&format!(
            "{}: the hook's transcript_path does not exist",
            missing.display()
        )),
        "{err}"
    );
    let err = fails(&hook("not json"));
    assert!(err.contains("not JSON"), "{err}");
    assert!(!store.join("cold").exists(), "nothing written");

    let transcript = files(&logs)
        .into_keys()
        .find(|p| p.starts_with("claude/projects") && p.extension().is_some_and(|e| e == "jsonl"))
        .expect("a Claude transcript");
    let input = serde_json::json!({ "session_id": "s1", "transcript_path": logs.join(transcript) });
    let out = hook(&input.to_string());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stored_tokens(&store)["events"] > 0);
}

/// A PATH that is not there is said to be not there.
#[test]
fn import_of_a_missing_path_says_it_does_not_exist() {
    let dir = tempfile::tempdir().expect("tmp");
    let missing = dir.path().join("nonexistent");
    let arg = missing.to_str().expect("path");
    for source in ["all", "claude"] {
        let err = fails(&kaizen(&dir.path().join("store"), &["import", source, arg]));
        assert!(
            err.contains(&format!("{arg}: does not exist")),
            "{source}: {err}"
        );
    }
}

/// Export into a folder where some files differ: every one of them is named at once, and
/// nothing is written (not even the files that could be).
#[test]
fn export_names_every_conflict_and_writes_nothing() {
    let (dir, _, store, _) = imported_tree();
    let out = dir.path().join("out");
    let out_arg = out.to_str().expect("path");
    ok(kaizen(&store, &["export", "claude", "--out", out_arg]));
    let written: Vec<PathBuf> = files(&out).into_keys().collect();
    assert!(written.len() >= 3);
    std::fs::write(out.join(&written[0]), "mine\n").expect("write");
    std::fs::write(out.join(&written[1]), "mine too\n").expect("write");
    std::fs::remove_file(out.join(&written[2])).expect("remove");
    let before = files(&out);

    let err = fails(&kaizen(&store, &["export", "claude", "--out", out_arg]));
    for conflict in &written[..2] {
        assert!(err.contains(&*conflict.to_string_lossy()), "{err}");
    }
    assert!(
        err.contains("2 problem(s)") && err.contains("all its files or none"),
        "{err}"
    );
    assert_eq!(files(&out), before, "nothing written");
}

/// `doctor` exits 1 when it warns (Claude Code set to delete transcripts), 0 when not.
#[test]
fn doctor_exits_1_when_it_warns() {
    let dir = tempfile::tempdir().expect("tmp");
    let claude = dir.path().join("claude");
    std::fs::create_dir_all(&claude).expect("mkdir");
    let env = [
        ("HOME", dir.path()),
        ("CLAUDE_CONFIG_DIR", claude.as_path()),
        ("CODEX_HOME", dir.path()),
    ];
    let store = dir.path().join("store");
    let out = kaizen_with(&store, &["doctor"], b"", &env);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("cleanupPeriodDays is not set") && text.contains("1 warning(s)"),
        "{text}"
    );
    std::fs::write(
        claude.join("settings.json"),
        r#"{"cleanupPeriodDays": 36500}"#,
    )
    .expect("write");
    let out = kaizen_with(&store, &["doctor"], b"", &env);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("no problem found"));
}

/// `report`: on an empty window a line saying what to do (on standard error for JSON and
/// CSV, whose standard output stays rows); the table shows dollars, JSON and CSV the exact
/// micro-dollars.
#[test]
fn report_hints_on_an_empty_window_and_shows_dollars() {
    let dir = tempfile::tempdir().expect("tmp");
    let (logs, store) = (dir.path().join("logs"), dir.path().join("store"));
    let empty = kaizen_with(&store, &["ingest"], b"", &[]);
    assert!(empty.status.success());
    let table = ok(kaizen(&store, &["report"]));
    assert!(
        table.contains("no events in this window") && table.contains("--days"),
        "{table}"
    );
    assert!(
        !table.contains("key") && !table.contains("cost per day"),
        "{table}"
    );
    // JSON and CSV stay the report (a document without rows, a header alone); the hint
    // goes to standard error.
    for format in ["json", "csv"] {
        let out = kaizen(&store, &["report", "--format", format]);
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        match format {
            "json" => assert!(report_rows(&text).is_empty(), "{text}"),
            _ => assert_eq!(text.lines().count(), 1, "{text}"),
        }
        assert!(String::from_utf8_lossy(&out.stderr).contains("no events in this window"));
    }

    tree(&logs);
    ok(kaizen(
        &store,
        &["import", "all", logs.to_str().expect("path")],
    ));
    // The generated tree's days are in October 2026.
    let window = ["report", "--days", "3650"];
    let rows = report_rows(&ok(kaizen(
        &store,
        &[&window[..], &["--format", "json"]].concat(),
    )));
    let e6: i64 = rows
        .iter()
        .map(|r| r["cost_usd_e6"].as_i64().expect("an integer"))
        .sum();
    assert!(e6 > 0);
    let table = ok(kaizen(&store, &window));
    assert!(
        !table.contains("cost_usd_e6") && !table.contains("no events"),
        "{table}"
    );
    let first_cost = rows[0]["cost_usd_e6"].as_i64().expect("cost");
    let dollars = format!(
        "${}.{:02}",
        first_cost / 1_000_000,
        first_cost % 1_000_000 / 10_000
    );
    assert!(table.contains(&dollars), "{dollars} in\n{table}");
    let csv = ok(kaizen(
        &store,
        &[&window[..], &["--format", "csv"]].concat(),
    ));
    assert!(csv.starts_with("day,events,input_tokens,"), "{csv}");
}

/// Upstream kaizen's database (`projects/<slug>/kaizen.db`) with two sessions of different
/// agents and models, `per_session` events each, made with rusqlite. Times are the last
/// hour, so the report's window holds them.
fn kaizen_db(root: &Path, slug: &str, per_session: i64) -> PathBuf {
    let path = root.join("projects").join(slug).join("kaizen.db");
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let conn = rusqlite::Connection::open(&path).expect("open");
    conn.pragma_update(None, "journal_mode", "WAL")
        .expect("wal");
    conn.execute_batch(
        "CREATE TABLE sessions (id TEXT PRIMARY KEY, agent TEXT, model TEXT, workspace TEXT);
         CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT,
           session_id TEXT NOT NULL, seq INTEGER NOT NULL, ts_ms INTEGER NOT NULL,
           ts_exact INTEGER NOT NULL, kind TEXT NOT NULL, source TEXT NOT NULL, tool TEXT,
           tool_call_id TEXT, tokens_in INTEGER, tokens_out INTEGER, reasoning_tokens INTEGER,
           cost_usd_e6 INTEGER, payload TEXT NOT NULL, stop_reason TEXT, latency_ms INTEGER,
           ttft_ms INTEGER, retry_count INTEGER, context_used_tokens INTEGER,
           context_max_tokens INTEGER, cache_creation_tokens INTEGER,
           cache_read_tokens INTEGER, system_prompt_tokens INTEGER);
         INSERT INTO sessions VALUES ('s-claude', 'claude', 'claude-sonnet-4-5', '/w/app'),
                                     ('s-codex', 'codex', 'gpt-5', '/w/lib');",
    )
    .expect("schema");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    for (session, tokens) in [("s-claude", 100), ("s-codex", 10)] {
        for seq in 1..=per_session {
            conn.execute(
                "INSERT INTO events (session_id, seq, ts_ms, ts_exact, kind, source, tokens_in,
                   tokens_out, cost_usd_e6, payload)
                 VALUES (?1, ?2, ?3, 1, 'Message', 'Proxy', ?4, 1, 1000, '{\"text\": \"hi\"}')",
                rusqlite::params![session, seq, now - 3_600_000 + seq, tokens],
            )
            .expect("insert");
        }
    }
    path
}

/// `kaizen import kaizen-db`: a database into a folder store, attributed by model (from
/// its sessions table); a rerun adds nothing; new rows are exactly what the next adds; a
/// folder of projects is found; the database is left as it was.
#[test]
fn upstream_kaizen_databases_import_once_with_their_models() {
    let dir = tempfile::tempdir().expect("tmp");
    let (home, store) = (dir.path().join("kaizen"), dir.path().join("store"));
    let db = kaizen_db(&home, "-w-app", 3);
    let db_arg = db.to_str().expect("path");
    let db_before = std::fs::read(&db).expect("db");

    let first = ok(kaizen(
        &store,
        &["import", "kaizen-db", db_arg, "--format", "json"],
    ));
    let first: serde_json::Value = serde_json::from_str(&first).expect("json");
    assert_eq!(first["events_written"], 6, "{first}");
    assert_eq!(first["report"]["sources"]["kaizen-db"]["files"], 1);
    assert_eq!(first["report"]["sources"]["kaizen-db"]["input"], 330);
    assert_eq!(std::fs::read(&db).expect("db"), db_before, "read-only");

    let by_model = ok(kaizen(
        &store,
        &["report", "--by", "model", "--format", "json"],
    ));
    let rows = report_rows(&by_model);
    let figures: BTreeMap<String, (i64, i64)> = (rows.iter())
        .map(|r| {
            let key = r["model"].as_str().expect("model").to_owned();
            let events = r["events"].as_i64().expect("events");
            (key, (events, r["input_tokens"].as_i64().expect("tokens")))
        })
        .collect();
    let want = BTreeMap::from([
        ("claude-sonnet-4-5".to_owned(), (3, 300)),
        ("gpt-5".to_owned(), (3, 30)),
    ]);
    assert_eq!(figures, want, "{by_model}");
    let query = "SELECT json_get_text(payload, 'agent') AS agent, \
                 json_get_text(payload, 'project') AS project, count(*) AS n \
                 FROM events GROUP BY 1, 2 ORDER BY 1";
    let text = ok(kaizen(&store, &["sql", query, "--format", "jsonl"]));
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            r#"{"agent":"claude","project":"/w/app","n":3}"#,
            r#"{"agent":"codex","project":"/w/lib","n":3}"#
        ]
    );

    // Again: nothing new. Then two rows more: exactly those, found through the folder.
    let again = ok(kaizen(
        &store,
        &["import", "kaizen-db", db_arg, "--format", "json"],
    ));
    let again: serde_json::Value = serde_json::from_str(&again).expect("json");
    assert_eq!(again["events_written"], 0, "{again}");
    let conn = rusqlite::Connection::open(&db).expect("open");
    conn.execute_batch(
        "INSERT INTO events (session_id, seq, ts_ms, ts_exact, kind, source, payload)
         SELECT session_id, seq + 100, ts_ms, ts_exact, kind, source, payload
         FROM events WHERE seq = 1",
    )
    .expect("insert");
    drop(conn);
    let home_arg = home.to_str().expect("path");
    let dry = ok(kaizen(
        &store,
        &[
            "import",
            "kaizen-db",
            home_arg,
            "--dry-run",
            "--format",
            "json",
        ],
    ));
    let dry: serde_json::Value = serde_json::from_str(&dry).expect("json");
    assert_eq!(dry["report"]["sources"]["kaizen-db"]["events"], 2, "{dry}");
    let more = ok(kaizen(
        &store,
        &["import", "kaizen-db", home_arg, "--format", "json"],
    ));
    let more: serde_json::Value = serde_json::from_str(&more).expect("json");
    assert_eq!(more["events_written"], 2, "{more}");
    assert_eq!(stored_tokens(&store)["events"], 8);

    // `import all` reads a copy of ~/.kaizen laid out as `kaizen/` beside the agents'
    // roots; the database copied under another project name is read whole (a cursor of its
    // own) and its events, stored already, are not stored twice.
    let copy = dir.path().join("backup/kaizen/projects/copy/kaizen.db");
    std::fs::create_dir_all(copy.parent().expect("parent")).expect("mkdir");
    std::fs::copy(&db, &copy).expect("copy");
    let trees = dir.path().join("backup");
    let all = ok(kaizen(
        &store,
        &[
            "import",
            "all",
            trees.to_str().expect("path"),
            "--format",
            "json",
        ],
    ));
    let all: serde_json::Value = serde_json::from_str(&all).expect("json");
    assert_eq!(all["report"]["sources"]["kaizen-db"]["events"], 8, "{all}");
    assert_eq!(all["events_written"], 0, "{all}");
    assert_eq!(stored_tokens(&store)["events"], 8);
}

/// `report --by tool` counts the failed tool results the agents' logs hold (the
/// generator's manifest counts them per source), and `scan --format jsonl` writes one
/// event a line even where a payload holds line breaks (Gemini's pretty-printed
/// documents): its output ingests into another store as the same events.
#[test]
fn imported_failed_tool_results_are_reported_and_scans_are_json_lines() {
    let (dir, _, store, manifest) = imported_tree();
    let want: i64 = ["claude", "codex", "gemini"]
        .iter()
        .map(|a| {
            manifest["sources"][a]["totals"]["tool_errors"]
                .as_i64()
                .expect("tool_errors")
        })
        .sum();
    assert!(want > 0, "the tree has failed tool results");
    let rows = ok(kaizen(
        &store,
        &[
            "report", "--by", "tool", "--days", "3650", "--format", "json",
        ],
    ));
    let failed: i64 = (report_rows(&rows).iter())
        .map(|r| {
            r["failed_tool_results"]
                .as_i64()
                .expect("failed_tool_results")
        })
        .sum();
    assert_eq!(failed, want, "{rows}");

    let scanned = ok(kaizen(&store, &["scan", "--format", "jsonl"]));
    let lines: Vec<&str> = scanned.lines().collect();
    assert_eq!(lines.len() as u64, stored_tokens(&store)["events"]);
    for line in &lines {
        serde_json::from_str::<serde_json::Value>(line).expect("each line is one JSON value");
    }
    let file = dir.path().join("scan.jsonl");
    std::fs::write(&file, &scanned).expect("write");
    let other = dir.path().join("other");
    ok(kaizen(&other, &["ingest", file.to_str().expect("path")]));
    assert_eq!(stored_tokens(&other), stored_tokens(&store));
    // Into the same store: the same events, stored already, whatever their whitespace.
    let before = stored_tokens(&store);
    let again = ok(kaizen(&store, &["ingest", file.to_str().expect("path")]));
    assert!(again.starts_with("ingested 0 events"), "{again}");
    assert_eq!(stored_tokens(&store), before);
}

/// `doctor` on settings it cannot read as days: a string, a negative number and a
/// `settings.json` that is not JSON each warn (and the other checks still run); a
/// `$CODEX_HOME` that is not a folder warns.
#[test]
fn doctor_warns_on_settings_it_cannot_read_and_on_missing_agent_folders() {
    let dir = tempfile::tempdir().expect("tmp");
    let claude = dir.path().join("claude");
    std::fs::create_dir_all(&claude).expect("mkdir");
    let store = dir.path().join("store");
    let missing = dir.path().join("no-codex-here");
    let env = [
        ("HOME", dir.path()),
        ("CLAUDE_CONFIG_DIR", claude.as_path()),
        ("CODEX_HOME", missing.as_path()),
    ];
    for (settings, said) in [
        (
            r#"{"cleanupPeriodDays": "90"}"#,
            "cleanupPeriodDays is \"90\", not a whole number",
        ),
        (
            r#"{"cleanupPeriodDays": -1}"#,
            "cleanupPeriodDays is -1, not a whole number",
        ),
        ("{not json", "not JSON"),
    ] {
        std::fs::write(claude.join("settings.json"), settings).expect("write");
        let out = kaizen_with(&store, &["doctor"], b"", &env);
        assert_eq!(out.status.code(), Some(1));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(said), "{settings}: {text}");
        assert!(
            text.contains(&format!("$CODEX_HOME names {}", missing.display())),
            "{text}"
        );
        assert!(text.contains("gemini: "), "the other checks ran: {text}");
    }
}

/// `export --session ID` of a session the store does not hold is an error, not "wrote 0".
#[test]
fn export_of_an_unknown_session_says_so() {
    let (dir, _, store, _) = imported_tree();
    let out = dir.path().join("out");
    let err = fails(&kaizen(
        &store,
        &[
            "export",
            "claude",
            "--session",
            "nope",
            "--out",
            out.to_str().expect("path"),
        ],
    ));
    assert!(err.contains("no claude log lines of session nope"), "{err}");
    assert!(!out.exists() || files(&out).is_empty(), "nothing written");
}

/// `import all TREE`: an agent's folder with nothing in it is no error (the others import);
/// a tree with no logs at all is.
#[test]
fn import_all_takes_a_tree_with_an_empty_agent_folder() {
    let dir = tempfile::tempdir().expect("tmp");
    let (logs, store) = (dir.path().join("logs"), dir.path().join("store"));
    tree(&logs);
    std::fs::remove_dir_all(logs.join("gemini")).expect("rm");
    std::fs::create_dir_all(logs.join("gemini/tmp")).expect("mkdir");
    ok(kaizen(
        &store,
        &["import", "all", logs.to_str().expect("path")],
    ));
    assert!(stored_tokens(&store)["events"] > 0);

    let empty = dir.path().join("empty");
    std::fs::create_dir_all(empty.join("claude/projects")).expect("mkdir");
    let err = fails(&kaizen(
        &store,
        &["import", "all", empty.to_str().expect("path")],
    ));
    assert!(err.contains("no agent logs found"), "{err}");
}

/// `report`'s cache hit rate: cache reads over all input (the store's `tokens_in` excludes
/// cache reads and writes), per agent as the generator's manifest counts it; unknown (JSON
/// null, `-` in the table) where no event records a cache figure, never 0%.
#[test]
fn report_gives_a_cache_hit_rate_and_says_when_it_is_unknown() {
    let (dir, _, store, manifest) = imported_tree();
    let rows = ok(kaizen(
        &store,
        &[
            "report", "--by", "agent", "--days", "3650", "--format", "json",
        ],
    ));
    for row in report_rows(&rows) {
        let agent = row["agent"].as_str().expect("agent");
        let t = &manifest["sources"][agent]["totals"];
        let n = |k: &str| t[k].as_f64().expect("a figure");
        let want = n("cache_read") / (n("input") + n("cache_read") + n("cache_creation"));
        let got = row["cache_hit_rate"].as_f64().expect("a rate");
        assert!((got - want).abs() < 1e-4, "{agent}: {got} vs {want}");
    }

    let plain = dir.path().join("plain");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis();
    let event = format!(
        r#"{{"session_id":"s","seq":1,"ts_ms":{},"ts_exact":true,"kind":"Message","source":"Proxy","tokens_in":10,"tokens_out":5,"payload":{{}}}}"#,
        now - 60_000
    );
    let out = kaizen_with(&plain, &["ingest"], event.as_bytes(), &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = ok(kaizen(&plain, &["report", "--format", "json"]));
    let rows = report_rows(&json);
    assert_eq!(rows.len(), 1, "{json}");
    assert!(rows[0]["cache_hit_rate"].is_null(), "{json}");
    let table = ok(kaizen(&plain, &["report"]));
    let cells = |line: &str| {
        line.split(['│', '┆'])
            .map(str::trim)
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let header = (table.lines().map(cells))
        .find(|c| c.iter().any(|h| h == "cache hit"))
        .expect("header");
    let at = header
        .iter()
        .position(|h| h == "cache hit")
        .expect("column");
    let day = (table.lines().map(cells))
        .find(|c| c.len() == header.len() && c[1].starts_with("20"))
        .expect("the day's row");
    assert_eq!(day[at], "-", "{table}");
}

/// A Claude Code transcript holding secrets, imported: each is replaced by
/// `[REDACTED:<detector>]` (built-in and `--redact-pattern`), counted per detector in both
/// summaries, and an export gives back the transcript with only the secrets replaced;
/// `--keep-secrets` keeps it byte for byte; typed columns are the same either way.
#[test]
fn import_redacts_secrets_by_default_and_export_gives_the_redacted_text() {
    let dir = tempfile::tempdir().expect("tmp");
    let logs = dir.path().join("logs");
    let project = logs.join("claude/projects/-home-u-app");
    std::fs::create_dir_all(&project).expect("mkdir");
    let session = "7a7a7a7a-1111-4222-8333-944444444444";
    let token = "ghp_Zq3xY8wV5uT2sR9pO6nM3lK0jI7hG4fE1dC8";
    let key = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oPaIL5sOEh1yoAoGCCqGSM49\nAwEHoUQDQgAEFlHHWrH1vaYRMjfY3n4JnCVf1ZYw1y1Q9lVSq0dEkIc=\n-----END EC PRIVATE KEY-----";
    let line = |n: u64, message: serde_json::Value| {
        serde_json::json!({"parentUuid": null, "sessionId": session, "uuid": format!("u{n}"),
            "cwd": "/home/u/app", "timestamp": format!("2026-10-01T10:00:0{n}.000Z"),
            "type": message["role"], "message": message})
        .to_string()
    };
    let lines = [
        line(
            1,
            serde_json::json!({"role": "assistant", "model": "claude-sonnet-4-5", "id": "msg_1",
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "Bash",
                         "input": {"command": format!("GH_TOKEN={token} gh pr list")}}],
            "usage": {"input_tokens": 10, "output_tokens": 5}}),
        ),
        line(
            2,
            serde_json::json!({"role": "user", "content": [{"type": "tool_result",
            "tool_use_id": "toolu_1", "content": format!("{key}\nticket ACME-778812")}]}),
        ),
        line(3, serde_json::json!({"role": "user", "content": "thanks"})),
    ];
    let original = format!("{}\n", lines.join("\n"));
    let file = project.join(format!("{session}.jsonl"));
    std::fs::write(&file, &original).expect("write");
    let claude = logs.join("claude");
    let claude = claude.to_str().expect("path");

    let store = dir.path().join("store");
    let json = ok(kaizen(
        &store,
        &[
            "import",
            "claude",
            claude,
            "--format",
            "json",
            "--redact-pattern",
            r"ACME-\d{6}",
        ],
    ));
    let run: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(run["redaction"], true);
    assert_eq!(
        run["redacted"],
        serde_json::json!({"custom-1": 1, "github-token": 1, "private-key": 1}),
        "{run}"
    );
    assert_eq!(
        run["report"]["sources"]["claude"]["redacted"],
        run["redacted"]
    );

    // The export: the transcript with only the secrets replaced, still one JSON a line.
    let out = dir.path().join("out");
    ok(kaizen(
        &store,
        &["export", "claude", "--out", out.to_str().expect("path")],
    ));
    let exported =
        std::fs::read_to_string(out.join(format!("projects/-home-u-app/{session}.jsonl")))
            .expect("exported transcript");
    let raw_key = serde_json::to_string(key).expect("json");
    let want = original
        .replace(token, "[REDACTED:github-token]")
        .replace(&raw_key[1..raw_key.len() - 1], "[REDACTED:private-key]")
        .replace("ACME-778812", "[REDACTED:custom-1]");
    assert_ne!(want, original);
    assert_eq!(exported, want);
    for l in exported.lines() {
        serde_json::from_str::<serde_json::Value>(l).expect("each exported line is JSON");
    }
    let scanned = ok(kaizen(&store, &["scan", "--format", "jsonl"]));
    assert!(
        !scanned.contains("ghp_Zq3x") && !scanned.contains("MHcCAQEE"),
        "{scanned}"
    );

    // The text summary counts per detector; --keep-secrets keeps every byte.
    let kept = dir.path().join("kept");
    let text = ok(kaizen(
        &kept,
        &["import", "claude", claude, "--keep-secrets"],
    ));
    assert!(
        text.contains("secrets kept as they are (--keep-secrets)"),
        "{text}"
    );
    let text = ok(kaizen(
        &dir.path().join("third"),
        &["import", "claude", claude],
    ));
    assert!(
        text.contains("redacted 2 secret(s): github-token 1, private-key 1"),
        "{text}"
    );
    let out2 = dir.path().join("out2");
    ok(kaizen(
        &kept,
        &["export", "claude", "--out", out2.to_str().expect("path")],
    ));
    assert_eq!(
        std::fs::read_to_string(out2.join(format!("projects/-home-u-app/{session}.jsonl")))
            .expect("read"),
        original
    );
    // Typed columns are read from the lines as written: the same with and without.
    let columns = "session_id,seq,ts_ms,kind,tool,tool_call_id,tokens_in,tokens_out,cost_usd_e6";
    assert_eq!(
        ok(kaizen(
            &store,
            &["scan", "--columns", columns, "--format", "csv"]
        )),
        ok(kaizen(
            &kept,
            &["scan", "--columns", columns, "--format", "csv"]
        ))
    );

    // Patterns that cannot be used are refused before anything is read.
    let bad = kaizen(
        &dir.path().join("s4"),
        &["import", "claude", claude, "--redact-pattern", "("],
    );
    assert!(
        fails(&bad).contains("--redact-pattern 1: "),
        "{}",
        fails(&bad)
    );
    let missing = dir.path().join("nope.txt");
    let bad = kaizen(
        &dir.path().join("s4"),
        &[
            "import",
            "claude",
            claude,
            "--redact-patterns",
            missing.to_str().expect("path"),
        ],
    );
    assert!(fails(&bad).contains("nope.txt"), "{}", fails(&bad));
    let both = kaizen(
        &dir.path().join("s4"),
        &[
            "import",
            "claude",
            claude,
            "--keep-secrets",
            "--redact-pattern",
            "x",
        ],
    );
    assert_eq!(both.status.code(), Some(2));
    assert!(!dir.path().join("s4").exists(), "nothing written");
}

/// `kaizen ingest` redacts payloads the same way, counting per detector; `--keep-secrets`
/// stores them as given.
#[test]
fn ingest_redacts_payloads_by_default() {
    let dir = tempfile::tempdir().expect("tmp");
    let input = dir.path().join("events.jsonl");
    std::fs::write(
        &input,
        concat!(
            r#"{"session_id":"s1","seq":1,"ts_ms":1790812800000,"ts_exact":true,"kind":"ToolCall","source":"Hook","tool":"Bash","payload":{"command":"curl -H 'Authorization: Bearer 7f3c9a1e5b2d8f4a6c0e9b3d7a1f5c2e' https:\/\/x"}}"#,
            "\n",
            r#"{"session_id":"s1","seq":2,"ts_ms":1790812801000,"ts_exact":true,"kind":"Message","source":"Hook","payload":{"text":"hi"}}"#,
            "\n"
        ),
    )
    .expect("write");
    let store = dir.path().join("store");
    let text = ok(kaizen(&store, &["ingest", input.to_str().expect("path")]));
    assert!(
        text.contains("redacted 1 secret(s): bearer-token 1"),
        "{text}"
    );
    let scanned = ok(kaizen(&store, &["scan", "--format", "jsonl"]));
    assert!(
        scanned.contains("Bearer [REDACTED:bearer-token]"),
        "{scanned}"
    );
    assert!(!scanned.contains("7f3c9a1e"), "{scanned}");
    assert!(scanned.contains(r#""tool":"Bash""#), "{scanned}");
    let kept = dir.path().join("kept");
    let text = ok(kaizen(
        &kept,
        &["ingest", input.to_str().expect("path"), "--keep-secrets"],
    ));
    assert!(text.contains("secrets kept as they are"), "{text}");
    assert!(ok(kaizen(&kept, &["scan", "--format", "jsonl"])).contains("7f3c9a1e"));
}
