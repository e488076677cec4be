//! The `kaizen` binary end to end, on a local store in a temporary folder.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared")
}

fn fixture_jsonl() -> PathBuf {
    shared().join("fixtures/seed-v1/events.jsonl")
}

fn kaizen(store: &Path, args: &[&str]) -> Output {
    kaizen_stdin(store, args, None)
}

fn kaizen_stdin(store: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kaizen"))
        .arg("--store")
        .arg(store)
        .args(args)
        .env_remove("KAIZEN_STORE")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kaizen");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input)
            .expect("write stdin");
    }
    child.wait_with_output().expect("kaizen output")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
fn ok(o: Output) -> Output {
    assert!(
        o.status.success(),
        "exit {:?}\nstderr: {}",
        o.status.code(),
        stderr(&o)
    );
    o
}

/// The fixture lines sorted by (ts_ms, session_id, seq), as a scan gives them back.
fn sorted_fixture_lines() -> String {
    let text = std::fs::read_to_string(fixture_jsonl()).expect("fixture");
    let mut lines: Vec<(u64, String, u64, &str)> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json");
            let n = |k: &str| v[k].as_u64().expect("number");
            (
                n("ts_ms"),
                v["session_id"].as_str().expect("id").to_owned(),
                n("seq"),
                l,
            )
        })
        .collect();
    lines.sort();
    lines.iter().map(|l| format!("{}\n", l.3)).collect()
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(path.clone(), std::fs::read(&path).expect("read"));
            }
        }
    }
    out
}

#[test]
fn ingest_then_scan_gives_back_the_input_sorted() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = dir.path().join("store");
    let out = ok(kaizen(
        &store,
        &["ingest", fixture_jsonl().to_str().expect("path")],
    ));
    let summary = stdout(&out);
    assert!(
        summary.contains("ingested 3011 events into 3 day(s)"),
        "{summary}"
    );
    assert!(
        stderr(&out).is_empty(),
        "no progress bar when not on a terminal: {}",
        stderr(&out)
    );
    let scanned = ok(kaizen(&store, &["scan", "--format", "jsonl"]));
    assert_eq!(stdout(&scanned), sorted_fixture_lines());

    // Ingesting again stores the events again, but a scan gives each once.
    ok(kaizen(
        &store,
        &["ingest", fixture_jsonl().to_str().expect("path")],
    ));
    assert_eq!(
        stdout(&ok(kaizen(&store, &["scan"]))),
        sorted_fixture_lines()
    );
}

#[test]
fn v1_fixture_stores_scan_to_their_events() {
    let want: Vec<serde_json::Value> = sorted_fixture_lines()
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    for name in ["daily", "chunked"] {
        let store = shared().join("fixtures/seed-v1").join(name);
        let out = ok(kaizen(&store, &["scan", "--format", "jsonl"]));
        let got: Vec<serde_json::Value> = stdout(&out)
            .lines()
            .map(|l| serde_json::from_str(l).expect("json"))
            .collect();
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn stdin_bom_crlf_and_blank_lines_are_accepted() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = dir.path().join("store");
    let lines = sorted_fixture_lines();
    let mut input = "\u{feff}".to_owned();
    for line in lines.lines().take(20) {
        input.push_str(line);
        input.push_str("\r\n\n   \n");
    }
    ok(kaizen_stdin(
        &store,
        &["ingest", "-"],
        Some(input.as_bytes()),
    ));
    let want: String = lines.lines().take(20).map(|l| format!("{l}\n")).collect();
    assert_eq!(stdout(&ok(kaizen(&store, &["scan"]))), want);

    // An empty file is nothing to do.
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").expect("write");
    let out = ok(kaizen(&store, &["ingest", empty.to_str().expect("path")]));
    assert!(
        stdout(&out).contains("ingested 0 events"),
        "{}",
        stdout(&out)
    );
}

/// Each kind of bad line: exit 1, the error names file:line and the field, and the store
/// is byte-for-byte what it was.
#[test]
fn bad_input_is_refused_and_the_store_is_unchanged() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = dir.path().join("store");
    ok(kaizen(
        &store,
        &["ingest", fixture_jsonl().to_str().expect("path")],
    ));
    let before = snapshot(&store);

    let good = r#"{"session_id":"x","seq":1,"ts_ms":1790900000000,"ts_exact":true,"kind":"Message","source":"Tail","payload":{}}"#;
    let cases: Vec<(&str, String, &str)> = vec![
        ("malformed JSON", "{\"session_id\":".into(), "invalid JSON"),
        (
            "wrong type",
            good.replace("\"seq\":1", "\"seq\":\"1\""),
            "`seq`",
        ),
        ("negative", good.replace("\"seq\":1", "\"seq\":-1"), "`seq`"),
        (
            "overflow",
            good.replace("\"seq\":1", "\"tokens_in\":4294967296,\"seq\":1"),
            "`tokens_in`",
        ),
        ("unknown kind", good.replace("Message", "Chat"), "`kind`"),
        ("unknown source", good.replace("Tail", "Pipe"), "`source`"),
        (
            "missing field",
            good.replace("\"ts_exact\":true,", ""),
            "`ts_exact`",
        ),
        (
            "duplicate key",
            good.replace("\"seq\":1", "\"seq\":1,\"seq\":2"),
            "`seq`",
        ),
        (
            "unknown field",
            good.replace("\"seq\":1", "\"seq\":1,\"cost\":5"),
            "`cost`",
        ),
        (
            "fractional",
            good.replace("\"seq\":1", "\"seq\":1.5"),
            "`seq`",
        ),
        (
            "truncated last line",
            good[..good.len() - 10].to_owned(),
            "invalid JSON",
        ),
    ];
    for (what, bad, names) in cases {
        let file = dir.path().join("bad.jsonl");
        // Good lines first: they must not be published either.
        std::fs::write(
            &file,
            format!("{good}\n{}\n{bad}", good.replace("\"seq\":1", "\"seq\":2")),
        )
        .expect("write");
        let out = kaizen(&store, &["ingest", file.to_str().expect("path")]);
        assert_eq!(out.status.code(), Some(1), "{what}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains(&format!("{}:3:", file.display())),
            "{what}: names file:line: {err}"
        );
        assert!(err.contains(names), "{what}: names {names}: {err}");
        assert_eq!(snapshot(&store), before, "{what}: store unchanged");
    }

    let file = dir.path().join("utf8.jsonl");
    let mut bytes = format!("{good}\n").into_bytes();
    bytes.extend_from_slice(b"{\"session_id\":\"\xff\"}\n");
    std::fs::write(&file, bytes).expect("write");
    let out = kaizen(&store, &["ingest", file.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(":2: invalid UTF-8"),
        "{}",
        stderr(&out)
    );
    assert_eq!(snapshot(&store), before);
}

#[test]
fn skip_invalid_reports_each_bad_line_and_keeps_the_rest() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = dir.path().join("store");
    let good = r#"{"session_id":"x","seq":1,"ts_ms":1790900000000,"ts_exact":true,"kind":"Message","source":"Tail","payload":{}}"#;
    let input = format!(
        "{good}\nnot json\n{}\n{}\n",
        good.replace("Tail", "Nope"),
        good.replace("\"seq\":1", "\"seq\":2")
    );
    let out = ok(kaizen_stdin(
        &store,
        &["ingest", "--skip-invalid"],
        Some(input.as_bytes()),
    ));
    let err = stderr(&out);
    assert!(
        err.contains("<stdin>:2:") && err.contains("<stdin>:3:") && err.contains("`source`"),
        "{err}"
    );
    assert!(
        stdout(&out).contains("skipped 2 invalid line(s)"),
        "{}",
        stdout(&out)
    );
    assert_eq!(stdout(&ok(kaizen(&store, &["scan"]))).lines().count(), 2);
}

#[test]
fn scan_filters_formats_and_limits() {
    let store = shared().join("fixtures/seed-v1/daily");
    let out = ok(kaizen(
        &store,
        &[
            "scan",
            "--from",
            "2026-10-02",
            "--to",
            "2026-10-02T00:00:00.001Z",
            "--columns",
            "ts_ms,session_id,seq",
            "--format",
            "csv",
        ],
    ));
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("ts_ms,session_id,seq"));
    assert_eq!(lines.next(), Some("1790899200000,edge-a,2"));
    assert_eq!(lines.next(), None);

    let out = ok(kaizen(
        &store,
        &[
            "scan",
            "--kind",
            "Cost",
            "--session",
            "edge-a",
            "--format",
            "jsonl",
        ],
    ));
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("one event");
    assert_eq!(v["seq"], 6);

    let out = ok(kaizen(
        &store,
        &[
            "scan",
            "--limit",
            "2",
            "--columns",
            "kind,payload",
            "--format",
            "table",
        ],
    ));
    assert!(stdout(&out).contains("| kind"), "{}", stdout(&out));

    for bad in [
        &["scan", "--kind", "Nope"][..],
        &["scan", "--from", "yesterday"],
        &["prune"],
        &["scan", "--format", "xml"],
    ] {
        let out = kaizen(&store, bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: usage error");
    }
    let out = kaizen(&store, &["scan", "--columns", "ts_ms,nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("`nope`"), "{}", stderr(&out));
}

#[test]
fn stats_and_partitions_report_per_day() {
    let store = shared().join("fixtures/seed-v1/chunked");
    let out = ok(kaizen(&store, &["stats", "--format", "json"]));
    let stats: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(stats["days"].as_array().expect("days").len(), 3);
    assert_eq!(stats["total"]["events"], 3011);
    let out = ok(kaizen(&store, &["partitions", "--format", "json"]));
    let days: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(days[0]["files"], 5);
    assert_eq!(
        days.as_array()
            .expect("days")
            .iter()
            .map(|d| d["rows"].as_u64().expect("rows"))
            .sum::<u64>(),
        3011
    );
    ok(kaizen(&store, &["stats"]));
    ok(kaizen(&store, &["partitions"]));
}

#[test]
fn prune_prints_and_removes_only_old_data_files() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = dir.path().join("store");
    ok(kaizen(
        &store,
        &["ingest", fixture_jsonl().to_str().expect("path")],
    ));
    let foreign = store.join("cold/events/.DS_Store");
    std::fs::write(&foreign, "x").expect("write");
    let before = snapshot(&store);
    let out = ok(kaizen(
        &store,
        &["prune", "--before", "2026-10-02", "--dry-run"],
    ));
    assert!(
        stdout(&out).contains("would remove 1 file(s) of 1 day(s) before 2026-10-02"),
        "{}",
        stdout(&out)
    );
    assert_eq!(snapshot(&store), before);
    let out = ok(kaizen(&store, &["prune", "--before", "2026-10-02"]));
    assert!(
        stdout(&out).contains("removed cold/events/day=2026-10-01/"),
        "{}",
        stdout(&out)
    );
    assert!(foreign.exists());
    assert!(!store.join("cold/events/day=2026-10-01").exists());
    let out = ok(kaizen(&store, &["prune", "--older-than", "100000d"]));
    assert!(
        stdout(&out).contains("removed 0 file(s)"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn generate_is_deterministic_sorted_and_valid() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = dir.path().join("store");
    let a = ok(kaizen(
        &store,
        &[
            "generate", "--events", "3000", "--days", "3", "--seed", "11",
        ],
    ));
    let b = ok(kaizen(
        &store,
        &[
            "generate", "--events", "3000", "--days", "3", "--seed", "11",
        ],
    ));
    assert_eq!(a.stdout, b.stdout);
    let text = stdout(&a);
    assert_eq!(text.lines().count(), 3000);
    let events: Vec<kaizen_core::Event> = text
        .lines()
        .map(|l| kaizen_core::Event::from_json(l).expect("valid event"))
        .collect();
    assert!(
        events
            .windows(2)
            .all(|w| w[0].sort_key() <= w[1].sort_key()),
        "sorted"
    );
    let kinds: std::collections::BTreeSet<_> = events.iter().map(|e| e.kind).collect();
    assert!(kinds.len() >= 6, "{kinds:?}");
    assert!(
        events
            .iter()
            .any(|e| e.payload.as_json_text().contains("東京"))
    );
    // And it is what ingest reads.
    ok(kaizen_stdin(&store, &["ingest"], Some(&a.stdout)));
    assert_eq!(stdout(&ok(kaizen(&store, &["scan"]))).lines().count(), 3000);
}

/// On a machine without agent logs (an empty HOME, no agent variables) the demo writes a
/// generated week of them, imports it and reports; run again, it imports nothing new.
#[test]
fn demo_imports_a_generated_week_on_a_machine_without_agent_logs() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = dir.path().join("store");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let demo = || {
        let out = Command::new(env!("CARGO_BIN_EXE_kaizen"))
            .arg("--store")
            .arg(&store)
            .arg("demo")
            .env("HOME", &home)
            .env_remove("KAIZEN_STORE")
            .env_remove("CLAUDE_CONFIG_DIR")
            .env_remove("CODEX_HOME")
            .env_remove("GEMINI_DATA_DIR")
            .output()
            .expect("run kaizen");
        stdout(&ok(out))
    };
    let text = demo();
    for part in [
        "writing a week of generated",
        "claude",
        "codex",
        "gemini",
        "Cost and tokens per day",
        "Per model",
        "claude-sonnet",
        "Top tools",
        "Try next",
    ] {
        assert!(text.contains(part), "{part}: {text}");
    }
    assert!(
        !text.contains("left out"),
        "every event is in the past: {text}"
    );
    assert!(demo().contains("imported 0 new event(s)"));
}

#[test]
fn copy_copies_resumes_and_verifies() {
    let dir = tempfile::tempdir().expect("tmp");
    let source = shared().join("fixtures/seed-v1/chunked");
    let target = dir.path().join("copy");
    let to = target.to_str().expect("path");
    let out = ok(kaizen(&source, &["copy", "--to", to]));
    assert!(
        stdout(&out).contains("copied 14 file(s)"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("verified 3011 event(s) over 3 day(s)"),
        "{}",
        stdout(&out)
    );
    let out = ok(kaizen(&source, &["copy", "--to", to]));
    assert!(
        stdout(&out).contains("copied 0 file(s)") && stdout(&out).contains("14 already there"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        stdout(&ok(kaizen(&target, &["scan"]))),
        stdout(&ok(kaizen(&source, &["scan"])))
    );
    let out = kaizen(
        &source,
        &[
            "copy",
            "--to",
            "s3://bucket/x",
            "--to-option",
            "no_such_option=1",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no_such_option"), "{}", stderr(&out));
}

/// A sentinel secret given as a store option never appears in the CLI's output.
#[test]
fn secrets_never_show_in_cli_errors() {
    const SENTINEL: &str = "KAIZEN-SENTINEL-SECRET-cli-77";
    let Ok(endpoint) = std::env::var("KAIZEN_TEST_S3_MOTO") else {
        assert!(
            std::env::var("CI").is_err(),
            "KAIZEN_TEST_S3_MOTO is not set"
        );
        return;
    };
    let store = Path::new("s3://no-such-bucket-kaizen/x");
    let args = [
        "--store-option",
        &format!("aws_endpoint={endpoint}"),
        "--store-option",
        "aws_allow_http=true",
        "--store-option",
        "aws_region=us-east-1",
        "--store-option",
        "aws_access_key_id=AKIDSENTINEL",
        "--store-option",
        &format!("aws_secret_access_key={SENTINEL}"),
    ];
    for command in [&["scan"][..], &["partitions"], &["stats"]] {
        let all: Vec<&str> = args
            .iter()
            .copied()
            .chain(command.iter().copied())
            .collect();
        let out = kaizen(store, &all);
        assert_eq!(out.status.code(), Some(1), "{command:?}: {}", stderr(&out));
        assert!(
            !stderr(&out).contains(SENTINEL) && !stdout(&out).contains(SENTINEL),
            "{}",
            stderr(&out)
        );
    }
}

/// What JSON Lines readers accept is accepted: here a 50 MB payload, kept exactly.
#[test]
fn a_50_mb_payload_is_stored_and_read_back() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = dir.path().join("store");
    let text: String = (0..50_000_000u32)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let line = format!(
        r#"{{"session_id":"big","seq":0,"ts_ms":1790812800000,"ts_exact":true,"kind":"Message","source":"Tail","payload":{{"text":"{text}"}}}}"#
    );
    let file = dir.path().join("big.jsonl");
    std::fs::write(&file, format!("{line}\n")).expect("write");
    ok(kaizen(&store, &["ingest", file.to_str().expect("path")]));
    let out = ok(kaizen(&store, &["scan", "--columns", "session_id,payload"]));
    let back: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("one event");
    // Compared without printing 50 MB on failure.
    assert!(
        back["payload"]["text"].as_str() == Some(text.as_str()),
        "payload kept exactly"
    );
}

/// A corrupt file fails scan and stats, naming it; --skip-corrupt reads the other days and
/// reports the file; verify exits 1 naming it; nothing is deleted.
#[test]
fn corrupt_files_are_named_and_skippable_from_the_cli() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = dir.path().join("store");
    ok(kaizen(
        &store,
        &["ingest", fixture_jsonl().to_str().expect("path")],
    ));
    let day = store.join("cold/events/day=2026-10-02");
    let good = std::fs::read_dir(&day)
        .expect("day")
        .next()
        .expect("a file")
        .expect("entry")
        .path();
    let bytes = std::fs::read(&good).expect("read");
    std::fs::write(&good, &bytes[..bytes.len() / 3]).expect("truncate");
    let name = good
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();

    for command in [&["scan"][..], &["stats"], &["verify"]] {
        let out = kaizen(&store, command);
        assert_eq!(out.status.code(), Some(1), "{command:?}");
        let said = format!("{}{}", stdout(&out), stderr(&out));
        assert!(said.contains(&name), "{command:?} names the file: {said}");
    }
    let out = ok(kaizen(&store, &["scan", "--skip-corrupt"]));
    assert_eq!(stdout(&out).lines().count(), 1043 + 569, "the other days");
    assert!(
        stderr(&out).contains(&format!(
            "skipped corrupt file cold/events/day=2026-10-02/{name}"
        )),
        "{}",
        stderr(&out)
    );
    let out = kaizen(
        &store,
        &["sql", "SELECT count(*) AS n FROM events", "--format", "csv"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&name),
        "sql names the file: {}",
        stderr(&out)
    );
    let sql = [
        "sql",
        "SELECT count(*) AS n FROM events",
        "--format",
        "csv",
        "--skip-corrupt",
    ];
    let out = ok(kaizen(&store, &sql));
    assert_eq!(stdout(&out), format!("n\n{}\n", 1043 + 569));
    assert!(
        stderr(&out).contains("skipped corrupt file"),
        "{}",
        stderr(&out)
    );
    let out = ok(kaizen(
        &store,
        &["stats", "--skip-corrupt", "--format", "json"],
    ));
    let stats: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(stats["total"]["events"], 1043 + 569);
    assert!(good.exists(), "nothing deleted because it looked corrupt");
}

/// A reader that closed standard output early (`kaizen ingest … | head -0`) ends no command
/// with a panic: the work is done, and the command exits quietly.
#[test]
fn a_closed_stdout_ends_commands_quietly_after_their_work() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = dir.path().join("store");
    let closed = |args: &[&str]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kaizen"))
            .arg("--store")
            .arg(&store)
            .args(args)
            .env_remove("KAIZEN_STORE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run kaizen");
        drop(child.stdout.take()); // the reader is gone before anything is printed
        child.wait_with_output().expect("kaizen output")
    };
    let fixture = fixture_jsonl();
    let fixture = fixture.to_str().expect("path");
    for args in [
        vec!["ingest", fixture],
        vec!["partitions"],
        vec!["stats"],
        vec!["compact", "--level", "5"],
        vec!["verify"],
        vec!["scan"],
    ] {
        let out = closed(&args);
        assert!(
            out.status.success() && !stderr(&out).contains("panicked"),
            "{args:?}: exit {:?}\n{}",
            out.status.code(),
            stderr(&out)
        );
    }
    let out = ok(kaizen(&store, &["stats"]));
    assert!(stdout(&out).contains("3011"), "{}", stdout(&out));
}

/// An identity stored, or given twice, with other content: refused with the input lines
/// (and the stored file), the store byte-identical; an exact copy adds nothing.
#[test]
fn identity_conflicts_name_the_input_lines() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = dir.path().join("store");
    let line = |seq: u64, ts: u64, tool: &str| {
        format!(
            r#"{{"session_id":"s1","seq":{seq},"ts_ms":{ts},"ts_exact":true,"kind":"ToolCall","source":"Hook","tool":"{tool}","payload":{{}}}}"#
        )
    };
    let first = dir.path().join("first.jsonl");
    std::fs::write(
        &first,
        format!(
            "{}\n{}\n",
            line(0, 1790812800000, "read"),
            line(1, 1790812800001, "edit")
        ),
    )
    .expect("write");
    ok(kaizen(&store, &["ingest", first.to_str().expect("path")]));
    let before = snapshot(&store);

    // The same identity with another tool, a day later: a re-stamped, different event.
    let second = dir.path().join("second.jsonl");
    let blank_then_conflict = format!("\n{}\n", line(1, 1790899200001, "bash"));
    std::fs::write(&second, blank_then_conflict).expect("write");
    let out = kaizen(&store, &["ingest", second.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("second.jsonl:2:"), "{err}");
    assert!(err.contains("already stored as a different event"), "{err}");
    assert!(
        err.contains("day=2026-10-01/"),
        "names the stored file: {err}"
    );
    assert_eq!(snapshot(&store), before, "the store is unchanged");

    // Two versions in one input: both lines named.
    let third = dir.path().join("third.jsonl");
    std::fs::write(
        &third,
        format!(
            "{}\n{}\n",
            line(7, 1790812800100, "a"),
            line(7, 1790812800200, "b")
        ),
    )
    .expect("write");
    let out = kaizen(&store, &["ingest", third.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("third.jsonl:1 and") && err.contains("third.jsonl:2"),
        "{err}"
    );
    assert_eq!(snapshot(&store), before);

    // One version in a file, the other on standard input (which is not read again).
    let fourth = dir.path().join("fourth.jsonl");
    std::fs::write(&fourth, format!("{}\n", line(9, 1790812800100, "a"))).expect("write");
    let on_stdin = format!("{}\n", line(9, 1790812800300, "c"));
    let args = ["ingest", fourth.to_str().expect("path"), "-"];
    let out = kaizen_stdin(&store, &args[..], Some(on_stdin.as_bytes()));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("fourth.jsonl:1 and a line of <stdin>: two different events"),
        "{err}"
    );
    // Both versions on standard input.
    let both = format!(
        "{}\n{}\n",
        line(8, 1790812800300, "c"),
        line(8, 1790812800400, "d")
    );
    let out = kaizen_stdin(&store, &["ingest", "-"], Some(both.as_bytes()));
    let err = stderr(&out);
    assert!(
        err.contains("<stdin>: two different events with one identity"),
        "{err}"
    );
    assert!(
        !err.contains("appended and the events being appended"),
        "{err}"
    );
    assert_eq!(snapshot(&store), before);
    // A stored identity given again, differently, on standard input.
    let restamped = format!("{}\n", line(1, 1790899200001, "bash"));
    let out = kaizen_stdin(&store, &["ingest", "-"], Some(restamped.as_bytes()));
    let err = stderr(&out);
    assert!(
        err.contains("<stdin>: the identity (session_id \"s1\", seq 1) is already stored"),
        "{err}"
    );
    // Exact copies are kept once, so they are not what conflicts: the first line of each
    // version is named.
    let copies = dir.path().join("copies.jsonl");
    let x = line(10, 1790812800100, "a");
    let other = line(10, 1790812800200, "b");
    std::fs::write(&copies, format!("{x}\n{x}\n{other}\n")).expect("write");
    let out = kaizen(&store, &["ingest", copies.to_str().expect("path")]);
    let err = stderr(&out);
    assert!(
        err.contains("copies.jsonl:1 and") && err.contains("copies.jsonl:3"),
        "{err}"
    );
    assert!(!err.contains("copies.jsonl:2"), "{err}");
    assert_eq!(snapshot(&store), before);

    // The first file again: every event is stored already.
    let out = ok(kaizen(&store, &["ingest", first.to_str().expect("path")]));
    assert!(
        stdout(&out).contains("ingested 0 events"),
        "{}",
        stdout(&out)
    );
    assert_eq!(snapshot(&store), before);
}

/// A path that holds no store is not an empty store: every command that reads refuses it
/// ("no store at …", exit 1) and creates nothing; `ingest` makes a store where it is asked
/// to, even of an empty input, and a store pruned of every day is still one.
#[test]
fn a_location_without_a_store_is_refused_by_every_reader() {
    let dir = tempfile::tempdir().expect("tmp");
    let missing = dir.path().join("typo");
    let foreign = dir.path().join("foreign");
    std::fs::create_dir_all(foreign.join("colder")).expect("mkdir");
    std::fs::write(foreign.join("notes.txt"), "x").expect("write");
    let target = dir.path().join("copy-target");
    let to = target.to_str().expect("path");
    let readers: [&[&str]; 9] = [
        &["scan"],
        &["stats"],
        &["partitions"],
        &["verify"],
        &["sql", "SELECT count(*) FROM events"],
        &["report", "--by", "model"],
        &["compact"],
        &["prune", "--before", "2030-01-01"],
        &["copy", "--to", to],
    ];
    for store in [&missing, &foreign] {
        let before = snapshot(dir.path());
        for args in readers {
            let out = kaizen(store, args);
            assert_eq!(
                out.status.code(),
                Some(1),
                "{args:?} on {}",
                store.display()
            );
            assert!(
                stderr(&out).contains(&format!("no store at {}", store.display())),
                "{args:?}: {}",
                stderr(&out)
            );
        }
        assert_eq!(snapshot(dir.path()), before, "nothing created or changed");
        assert!(!missing.exists() && !target.exists());
    }

    // Asked to ingest here: a store, even of nothing.
    ok(kaizen_stdin(&missing, &["ingest"], Some(b"")));
    assert!(missing.join("cold/events").is_dir());
    assert_eq!(stdout(&ok(kaizen(&missing, &["scan"]))), "");
    ok(kaizen(&missing, &["verify"]));
    ok(kaizen(&missing, &["report"]));

    // Pruned of every day: an empty store, not no store.
    ok(kaizen(
        &missing,
        &["ingest", fixture_jsonl().to_str().expect("path")],
    ));
    ok(kaizen(&missing, &["prune", "--before", "2030-01-01"]));
    assert_eq!(stdout(&ok(kaizen(&missing, &["scan"]))), "");
    let out = ok(kaizen(&missing, &["stats", "--format", "json"]));
    let stats: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(stats["total"]["events"], 0);
}

/// `~` is the home folder wherever a local store path is taken, quoted as in env files and
/// service units: `--store`, `KAIZEN_STORE`, globs, `copy --to`. Nothing named `~` appears.
#[test]
fn tilde_is_the_home_folder_in_every_store_path() {
    let home = tempfile::tempdir().expect("tmp");
    let cwd = home.path().join("work");
    std::fs::create_dir(&cwd).expect("mkdir");
    let run = |env_store: Option<&str>, args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_kaizen"));
        match env_store {
            Some(store) => c.env("KAIZEN_STORE", store),
            None => c.env_remove("KAIZEN_STORE"),
        };
        c.args(args)
            .env("HOME", home.path())
            .current_dir(&cwd)
            .stdin(Stdio::null())
            .output()
            .expect("run kaizen")
    };
    let fixture = fixture_jsonl();
    let fixture = fixture.to_str().expect("path");
    ok(run(None, &["--store", "~/ws/a", "ingest", fixture]));
    assert!(home.path().join("ws/a/cold/events").is_dir());
    let scanned = ok(run(Some("~/ws/a"), &["scan", "--format", "count"]));
    assert!(stdout(&scanned).contains("3011"), "{}", stdout(&scanned));

    let small = cwd.join("small.jsonl");
    let two: String = sorted_fixture_lines()
        .lines()
        .take(2)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&small, two).expect("write");
    ok(run(
        Some("~/ws/b"),
        &["ingest", small.to_str().expect("path")],
    ));
    let counts = ok(run(
        None,
        &[
            "--store",
            "~/ws/*",
            "sql",
            "SELECT count(*) AS n, count(DISTINCT store) AS stores FROM events",
            "--format",
            "csv",
        ],
    ));
    assert_eq!(stdout(&counts), "n,stores\n3013,2\n");

    let out = ok(run(Some("~/ws/a"), &["copy", "--to", "~/copy"]));
    assert!(
        stdout(&out).contains("verified 3011 event(s)"),
        "{}",
        stdout(&out)
    );
    assert!(home.path().join("copy/cold/events").is_dir());

    let out = run(Some("~/ws/typo"), &["scan"]);
    assert_eq!(out.status.code(), Some(1));
    let typo = home.path().join("ws/typo");
    assert!(
        stderr(&out).contains(&format!("no store at {}", typo.display())),
        "{}",
        stderr(&out)
    );
    assert!(!cwd.join("~").exists(), "no folder named ~");
    assert_eq!(
        std::fs::read_dir(&cwd).expect("cwd").count(),
        1,
        "only small.jsonl"
    );
}

/// `--skip-invalid` skips a few bad lines; an input of nothing but bad lines is a wrong file,
/// not a success: exit 1, nothing stored. An empty input is nothing to do (exit 0).
#[test]
fn skip_invalid_fails_when_every_line_was_invalid() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = dir.path().join("store");
    let out = kaizen_stdin(
        &store,
        &["ingest", "--skip-invalid"],
        Some(b"not json\n\n{\"session_id\":\"s\"}\n"),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("<stdin>:1:") && err.contains("<stdin>:3:"),
        "each bad line reported: {err}"
    );
    assert!(
        err.contains("every one of the 2 input line(s) was invalid")
            && err.contains("nothing of this run was written"),
        "{err}"
    );
    assert!(!store.exists(), "no store made of a failed run");

    for empty in [&b""[..], b"\n\r\n  \n"] {
        let out = ok(kaizen_stdin(
            &store,
            &["ingest", "--skip-invalid"],
            Some(empty),
        ));
        assert!(
            stdout(&out).contains("ingested 0 events"),
            "{}",
            stdout(&out)
        );
    }
}

/// A store's path as given: a `file://` URL percent-decoded once; a path with `?`, `*` or
/// `[` is a folder of that name for a command that writes, and for one that reads when the
/// folder is there (a pattern over several stores otherwise, whose miss says so).
#[test]
fn store_paths_are_taken_as_spelled_and_file_urls_decoded() {
    let dir = tempfile::tempdir().expect("tmp");
    let fixture = fixture_jsonl();
    let input = fixture.to_str().expect("path");

    let url = format!("file://{}/my%20store", dir.path().display());
    ok(kaizen(Path::new(&url), &["ingest", input]));
    assert!(dir.path().join("my store/cold").is_dir(), "decoded once");
    assert!(!dir.path().join("my%20store").exists());

    let odd = dir.path().join("new?dir[1]");
    ok(kaizen(&odd, &["ingest", input]));
    assert!(odd.join("cold").is_dir(), "created as spelled");
    let scanned = ok(kaizen(&odd, &["scan", "--format", "count"]));
    assert!(!stdout(&scanned).trim().is_empty());

    let pattern = dir.path().join("nothing-*");
    let missed = kaizen(&pattern, &["scan"]);
    assert!(!missed.status.success());
    assert!(
        stderr(&missed).contains("no folder matches this pattern"),
        "{}",
        stderr(&missed)
    );
}

/// `kaizen compact` with no arguments: the sealed days (before the current UTC day), each
/// rewritten at the cold level (19, in the footer); today's files are left to their
/// writers. `--all` takes today too.
#[test]
fn compact_rewrites_the_sealed_days_at_the_cold_level() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = dir.path().join("store");
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64;
    let today_start = now_ms - now_ms % 86_400_000;
    let sealed = today_start - 3 * 86_400_000;
    let line = |session: &str, seq: u64, ts: u64| {
        format!(
            r#"{{"session_id":"{session}","seq":{seq},"ts_ms":{ts},"ts_exact":true,"kind":"Message","source":"Tail","payload":{{"text":"words {seq}"}}}}"#
        )
    };
    // Two ingests: two files on each day.
    for part in 0..2u64 {
        let lines: Vec<String> = (0..50)
            .flat_map(|i| {
                let seq = part * 50 + i;
                [
                    line("old", seq, sealed + seq),
                    line("new", seq, today_start + seq),
                ]
            })
            .collect();
        let file = dir.path().join(format!("part-{part}.jsonl"));
        std::fs::write(&file, lines.join("\n") + "\n").expect("write");
        let out = kaizen(&store, &["ingest", file.to_str().expect("path")]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    // The day folders in day order: the sealed day's, then today's.
    let files_of = |day_ms: u64| -> Vec<PathBuf> {
        let events = dir.path().join("store/cold/events");
        let mut days: Vec<PathBuf> = std::fs::read_dir(&events)
            .expect("events folder")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.is_dir())
            .collect();
        days.sort();
        let folder = &days[usize::from(day_ms == today_start)];
        let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
            .expect("day folder")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
            .collect();
        files.sort();
        files
    };
    let level_of = |path: &Path| -> Option<String> {
        let file = std::fs::File::open(path).expect("open");
        let reader = parquet::file::reader::SerializedFileReader::new(file).expect("parquet");
        let meta = parquet::file::reader::FileReader::metadata(&reader)
            .file_metadata()
            .clone();
        (meta.key_value_metadata().into_iter().flatten())
            .find(|kv| kv.key == "kaizen_zstd_level")
            .and_then(|kv| kv.value.clone())
    };
    let today_files = files_of(today_start);
    assert_eq!(files_of(sealed).len(), 2);
    assert_eq!(today_files.len(), 2);

    let out = kaizen(&store, &["compact"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("compacted 1 day(s)"),
        "{}",
        stdout(&out)
    );
    let old = files_of(sealed);
    assert_eq!(old.len(), 1);
    assert_eq!(level_of(&old[0]).as_deref(), Some("19"));
    assert_eq!(files_of(today_start), today_files, "today is left as it is");
    // Run again: nothing left to do.
    let again = kaizen(&store, &["compact"]);
    assert!(
        stdout(&again).contains("compacted 0 day(s)"),
        "{}",
        stdout(&again)
    );

    let all = kaizen(&store, &["compact", "--all"]);
    assert!(
        stdout(&all).contains("compacted 1 day(s)"),
        "{}",
        stdout(&all)
    );
    assert_eq!(files_of(today_start).len(), 1);
}

/// One store given twice (a path and its `file://` URL, or with a trailing slash) is
/// refused: every report would count its events twice.
#[test]
fn the_same_store_given_twice_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = dir.path().join("my store");
    let line = r#"{"session_id":"s","seq":0,"ts_ms":1790812800000,"ts_exact":true,"kind":"Message","source":"Tail","payload":{}}"#;
    let file = dir.path().join("e.jsonl");
    std::fs::write(&file, format!("{line}\n")).expect("write");
    assert!(
        kaizen(&store, &["ingest", file.to_str().expect("path")])
            .status
            .success()
    );
    let path = store.to_str().expect("path").to_owned();
    let url = format!("file://{}", path.replace(' ', "%20"));
    for other in [url.as_str(), &format!("{path}/")] {
        let out = Command::new(env!("CARGO_BIN_EXE_kaizen"))
            .args([
                "--store", &path, "--store", other, "report", "--by", "store",
            ])
            .env_remove("KAIZEN_STORE")
            .output()
            .expect("kaizen");
        assert_eq!(out.status.code(), Some(1), "{other}");
        assert!(
            stderr(&out).contains("the same store as"),
            "{}",
            stderr(&out)
        );
    }
}
