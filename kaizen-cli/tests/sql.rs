//! `kaizen sql`, `kaizen report`, and scan/stats/sql over several stores at once.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::json;

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared")
}

fn kaizen(stores: &[&Path], args: &[&str], stdin: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kaizen"));
    for s in stores {
        c.arg("--store").arg(s);
    }
    let mut child = c
        .args(args)
        .env_remove("KAIZEN_STORE")
        .env("HOME", std::env::temp_dir())
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
            .write_all(input.as_bytes())
            .expect("write");
    }
    child.wait_with_output().expect("output")
}

#[track_caller]
fn ok(stores: &[&Path], args: &[&str]) -> String {
    let out = kaizen(stores, args, None);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The rows of a `kaizen report --format json` document (schema `kaizen.report/1`).
fn report_rows(text: &str) -> Vec<serde_json::Value> {
    let doc: serde_json::Value = serde_json::from_str(text).expect("report json");
    assert_eq!(doc["schema"], "kaizen.report/1", "{doc}");
    doc["rows"].as_array().expect("rows").clone()
}

fn jsonl(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect()
}

#[test]
fn sql_reads_v1_stores_with_the_identity_rule_and_pushdown() {
    let daily = shared().join("fixtures/seed-v1/daily");
    let rows = jsonl(&ok(
        &[&daily],
        &[
            "sql",
            "SELECT count(*) AS n, count(DISTINCT session_id) AS s FROM events",
            "--format",
            "jsonl",
        ],
    ));
    assert_eq!(rows[0]["n"], 3011);
    let by_day = jsonl(&ok(
        &[&daily],
        &[
            "sql",
            "SELECT CAST(day AS VARCHAR) AS d, count(*) AS n FROM events WHERE day >= '2026-10-02' GROUP BY d ORDER BY d",
            "--format",
            "jsonl",
        ],
    ));
    assert_eq!(by_day.len(), 2);
    assert_eq!(by_day[0]["n"], 1399);
    let one = jsonl(&ok(
        &[&daily],
        &[
            "sql",
            "SELECT seq FROM events WHERE session_id = 'edge-a' AND kind = 'Cost'",
            "--format",
            "jsonl",
        ],
    ));
    assert_eq!(one, vec![json!({"seq": 6})]);

    // Stored twice (a copy of the v1 files beside new files), counted once.
    let dir = tempfile::tempdir().expect("tmp");
    let store = dir.path().join("store");
    ok(
        &[&store],
        &[
            "ingest",
            shared()
                .join("fixtures/seed-v1/events.jsonl")
                .to_str()
                .expect("path"),
        ],
    );
    ok(&[&daily], &["copy", "--to", store.to_str().expect("path")]);
    let rows = jsonl(&ok(
        &[&store],
        &[
            "sql",
            "SELECT count(*) AS n FROM events",
            "--format",
            "jsonl",
        ],
    ));
    assert_eq!(rows[0]["n"], 3011);

    // The plan narrows the scan: the time filter reaches the table scan, which applies it
    // exactly (no filter is left above the scan).
    let plan = ok(
        &[&daily],
        &[
            "sql",
            "EXPLAIN SELECT count(*) FROM events WHERE ts_ms >= 1790899200000",
            "--format",
            "csv",
        ],
    );
    assert!(
        plan.contains("full_filters=[events.ts_ms >= UInt64(1790899200000)]"),
        "{plan}"
    );
    assert!(!plan.contains("FilterExec"), "{plan}");

    let bad = kaizen(&[&daily], &["sql", "SELECT nope FROM events"], None);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("nope"),
        "DataFusion's message"
    );
}

#[test]
fn the_prompt_runs_statements_over_several_lines() {
    let daily = shared().join("fixtures/seed-v1/daily");
    let out = kaizen(
        &[&daily],
        &["sql", "--format", "csv"],
        Some("SELECT count(*)\n  AS n FROM events;\nSELECT 1 + 1 AS two;\n\\q\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("n\n3011") && text.contains("two\n2"),
        "{text}"
    );
}

/// `kaizen generate`'s corpus of `events` over `days` days ending ten days ago, ingested
/// into `store`.
fn generated_store(store: &Path, events: u64, days: u32) {
    let start = kaizen_core::UtcDay::today()
        .minus_days(10 + days)
        .to_string();
    let corpus = kaizen(
        &[],
        &[
            "generate",
            "--events",
            &events.to_string(),
            "--days",
            &days.to_string(),
            "--start",
            &start,
        ],
        None,
    );
    assert!(corpus.status.success());
    let input = String::from_utf8(corpus.stdout).expect("utf-8");
    let out = kaizen(&[store], &["ingest"], Some(&input));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn report_groups_by_each_key_with_a_cost_chart() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = dir.path().join("store");
    // The demo's corpus, over days that are all past: sessions that start yesterday may run
    // past now, and a report leaves those events out (its window ends now).
    generated_store(&store, 8000, 4);
    let total = jsonl(&ok(
        &[&store],
        &[
            "sql",
            "SELECT sum(cost_usd_e6) AS c, count(*) AS n FROM events",
            "--format",
            "jsonl",
        ],
    ));
    for by in ["day", "model", "tool", "session", "agent"] {
        let rows = report_rows(&ok(
            &[&store],
            &["report", "--days", "30", "--by", by, "--format", "json"],
        ));
        assert!(!rows.is_empty(), "{by}");
        let events: i64 = rows
            .iter()
            .map(|r| r["events"].as_i64().expect("events"))
            .sum();
        let cost: i64 = rows
            .iter()
            .map(|r| r["cost_usd_e6"].as_i64().expect("cost"))
            .sum();
        if by == "tool" {
            assert!(rows.iter().any(|r| r["tool"] == "bash"), "{rows:?}");
            let failed: i64 = rows
                .iter()
                .map(|r| {
                    r["failed_tool_results"]
                        .as_i64()
                        .expect("failed_tool_results")
                })
                .sum();
            let want = jsonl(&ok(
                &[&store],
                &[
                    "sql",
                    "SELECT count(*) AS n FROM events WHERE kind = 'ToolResult' AND json_get_text(payload, 'ok') = 'false'",
                    "--format",
                    "jsonl",
                ],
            ));
            assert_eq!(
                failed,
                want[0]["n"].as_i64().expect("n"),
                "failed tool results"
            );
            assert!(failed > 0, "the demo has failed tool results");
        } else {
            assert_eq!(
                events,
                total[0]["n"].as_i64().expect("n"),
                "{by}: every event once"
            );
            assert_eq!(
                cost,
                total[0]["c"].as_i64().expect("c"),
                "{by}: all the cost"
            );
        }
        let first = &rows[0];
        for metric in [
            "input_tokens",
            "cache_read_tokens",
            "cache_hit_rate",
            "tool_calls",
            "api_errors",
            "p50_latency_ms",
            "p95_latency_ms",
            "retries",
        ] {
            assert!(first.get(metric).is_some(), "{by}: {metric}");
        }
    }
    let models = report_rows(&ok(
        &[&store],
        &["report", "--by", "model", "--format", "json"],
    ));
    assert!(
        models.iter().any(|r| r["model"] == "claude-sonnet-4-5"),
        "{models:?}"
    );
    let table = ok(&[&store], &["report"]);
    assert!(
        table.contains("cost per day") && table.contains('█'),
        "{table}"
    );
    let csv = ok(&[&store], &["report", "--by", "agent", "--format", "csv"]);
    assert!(csv.starts_with("agent,events,input_tokens,"), "{csv}");
}

#[test]
fn several_stores_are_one_table_with_a_store_column() {
    let dir = tempfile::tempdir().expect("tmp");
    let a = dir.path().join("ws-a");
    let b = dir.path().join("ws-b");
    let input = shared().join("fixtures/seed-v1/events.jsonl");
    ok(&[&a], &["ingest", input.to_str().expect("path")]);
    generated_store(&b, 2000, 2);

    let glob = dir.path().join("ws-*");
    let counts = jsonl(&ok(
        &[&glob],
        &[
            "sql",
            "SELECT store, count(*) AS n FROM events GROUP BY store ORDER BY store",
            "--format",
            "jsonl",
        ],
    ));
    assert_eq!(counts.len(), 2);
    assert_eq!(counts[0]["store"], a.display().to_string());
    assert_eq!(counts[0]["n"], 3011);
    assert_eq!(counts[1]["n"], 2000);

    let scanned = jsonl(&ok(
        &[&a, &b],
        &["scan", "--columns", "ts_ms,session_id,seq"],
    ));
    assert_eq!(scanned.len(), 5011);
    let keys: Vec<(u64, String, u64)> = scanned
        .iter()
        .map(|v| {
            (
                v["ts_ms"].as_u64().expect("ts"),
                v["session_id"].as_str().expect("id").to_owned(),
                v["seq"].as_u64().expect("seq"),
            )
        })
        .collect();
    assert!(keys.windows(2).all(|w| w[0] <= w[1]), "merged in key order");
    assert!(scanned.iter().all(|v| v.get("store").is_some()));

    let stats: serde_json::Value =
        serde_json::from_str(&ok(&[&a, &b], &["stats", "--format", "json"])).expect("json");
    assert_eq!(stats["total"]["events"], 5011);
    let report = report_rows(&ok(
        &[&glob],
        &[
            "report", "--days", "3650", "--by", "day", "--format", "json",
        ],
    ));
    assert_eq!(
        report
            .iter()
            .map(|r| r["events"].as_i64().expect("n"))
            .sum::<i64>(),
        5011
    );

    let one_only = kaizen(&[&a, &b], &["partitions"], None);
    assert_eq!(one_only.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&one_only.stderr).contains("one store"));
}

/// JSON Lines write a payload as JSON, so only valid JSON: stored payloads are, and a query's
/// own `payload` column that is not is an error naming the row, never a broken line.
#[test]
fn jsonl_writes_payloads_only_as_valid_json() {
    let daily = shared().join("fixtures/seed-v1/daily");
    let rows = jsonl(&ok(
        &[&daily],
        &[
            "sql",
            "SELECT payload FROM events WHERE session_id = 'edge-a' ORDER BY seq LIMIT 3",
            "--format",
            "jsonl",
        ],
    ));
    assert_eq!(rows.len(), 3);
    let bad = kaizen(
        &[&daily],
        &["sql", "SELECT 'not json' AS payload", "--format", "jsonl"],
        None,
    );
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("row 0: the payload is not valid JSON"),
        "{stderr}"
    );
}

/// Milliseconds since the epoch, now.
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64
}

/// A store in `dir` holding `events` (JSON values), ingested from a file.
fn store_of(dir: &Path, events: &[serde_json::Value]) -> PathBuf {
    let store = dir.join("store");
    let file = dir.join("events.jsonl");
    let lines: String = events.iter().map(|e| format!("{e}\n")).collect();
    std::fs::write(&file, lines).expect("write");
    ok(&[&store], &["ingest", file.to_str().expect("path")]);
    store
}

fn event(
    session: &str,
    seq: u64,
    ts_ms: u64,
    kind: &str,
    extra: serde_json::Value,
) -> serde_json::Value {
    let mut e = json!({
        "session_id": session, "seq": seq, "ts_ms": ts_ms, "ts_exact": true,
        "kind": kind, "source": "Tail", "payload": {}
    });
    for (k, v) in extra.as_object().expect("object") {
        e[k] = v.clone();
    }
    e
}

fn sum(rows: &[serde_json::Value], column: &str) -> i64 {
    rows.iter().map(|r| r[column].as_i64().expect(column)).sum()
}

/// "The last N days" ends now: an event dated a year ahead is in no window, and is reported
/// apart (how many, what cost) instead of inflating the figures.
#[test]
fn report_window_ends_now_and_future_events_are_reported_apart() {
    let dir = tempfile::tempdir().expect("tmp");
    let now = now_ms();
    let store = store_of(
        dir.path(),
        &[
            event(
                "s",
                0,
                now - 3_600_000,
                "Message",
                json!({"cost_usd_e6": 100_000}),
            ),
            event(
                "s",
                1,
                now + 365 * 86_400_000,
                "Cost",
                json!({"cost_usd_e6": 5_000_000}),
            ),
        ],
    );
    for by in ["day", "model", "tool", "session", "agent"] {
        let out = kaizen(
            &[&store],
            &["report", "--days", "7", "--by", by, "--format", "json"],
            None,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let rows = report_rows(&String::from_utf8_lossy(&out.stdout));
        assert_eq!(sum(&rows, "cost_usd_e6"), 100_000, "{by}: {rows:?}");
        assert_eq!(sum(&rows, "events"), 1, "{by}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("left out: 1 event(s) dated after now") && err.contains("$5.00"),
            "{by}: {err}"
        );
    }
    let table = ok(&[&store], &["report", "--days", "7"]);
    assert!(
        table.contains("left out: 1 event(s) dated after now") && table.contains("$0.10"),
        "{table}"
    );
    assert!(!table.contains("$5.10"), "{table}");
}

/// `--by model` bills each event to the model its own payload names (top-level `model`);
/// an event naming none to the latest one before it in its session, or, before any, the
/// first after it; a session naming none is '(unknown)' (a nested "model" is not its model).
#[test]
fn report_by_model_bills_each_event_to_its_own_model() {
    let dir = tempfile::tempdir().expect("tmp");
    let t = now_ms() - 7_200_000;
    let store = store_of(
        dir.path(),
        &[
            event("s1", 0, t, "Lifecycle", json!({})),
            event(
                "s1",
                1,
                t + 1,
                "Message",
                json!({"cost_usd_e6": 1_000, "tokens_in": 10,
                "payload": {"model": "claude-sonnet-4-5", "agent": "claude-code"}}),
            ),
            event("s1", 2, t + 2, "ToolCall", json!({"tool": "bash"})),
            event(
                "s1",
                3,
                t + 3,
                "Message",
                json!({"cost_usd_e6": 10, "tokens_in": 1,
                "payload": {"model": "claude-haiku-4-5", "agent": "claude-code"}}),
            ),
            event(
                "s1",
                4,
                t + 4,
                "Cost",
                json!({"cost_usd_e6": 100_000,
                "payload": {"model": "claude-opus-4-1"}}),
            ),
            event(
                "s1",
                5,
                t + 5,
                "ToolResult",
                json!({"tool": "bash", "payload": {"ok": true}}),
            ),
            event(
                "s2",
                0,
                t,
                "Message",
                json!({"cost_usd_e6": 7,
                "payload": {"text": "hi", "meta": {"model": "gpt-x"}}}),
            ),
        ],
    );
    let rows = report_rows(&ok(
        &[&store],
        &["report", "--days", "7", "--by", "model", "--format", "json"],
    ));
    let got: Vec<(String, i64, i64, i64)> = rows
        .iter()
        .map(|r| {
            (
                r["model"].as_str().expect("model").to_owned(),
                r["events"].as_i64().expect("events"),
                r["cost_usd_e6"].as_i64().expect("cost"),
                r["input_tokens"].as_i64().expect("tokens"),
            )
        })
        .collect();
    let want = [
        ("claude-opus-4-1", 2, 100_000, 0),
        ("claude-sonnet-4-5", 3, 1_000, 10),
        ("claude-haiku-4-5", 1, 10, 1),
        ("(unknown)", 1, 7, 0),
    ]
    .map(|(k, n, c, t)| (k.to_owned(), n, c, t));
    assert_eq!(got, want);

    let agents = report_rows(&ok(
        &[&store],
        &["report", "--days", "7", "--by", "agent", "--format", "json"],
    ));
    assert_eq!(agents[0]["agent"], "claude-code");
    assert_eq!(agents[0]["events"], 6, "{agents:?}");
}

/// A failed tool result is one whose payload's top-level `ok` is false (the derived
/// `tool_errors` column: on a tool call or message too): not one whose output happens to
/// hold a nested `"ok": false`.
#[test]
fn failed_results_read_the_top_level_ok_of_the_payload() {
    let dir = tempfile::tempdir().expect("tmp");
    let t = now_ms() - 7_200_000;
    let result = |seq: u64, payload: serde_json::Value| {
        event(
            "s",
            seq,
            t + seq,
            "ToolResult",
            json!({"tool": "bash", "payload": payload}),
        )
    };
    let store = store_of(
        dir.path(),
        &[
            result(0, json!({"ok": true, "output": {"ok": false, "status": 1}})),
            result(1, json!({"output": "boom", "ok": false})),
            result(2, json!({"ok": true, "output": [{"ok": false}]})),
            result(3, json!({"ok": true})),
            event(
                "s",
                4,
                t + 4,
                "ToolCall",
                json!({"tool": "bash", "payload": {"ok": false}}),
            ),
        ],
    );
    // Spaced JSON too: the predicate reads JSON, not text.
    let spaced = dir.path().join("spaced.jsonl");
    std::fs::write(
        &spaced,
        format!(
            "{{\"session_id\":\"s\",\"seq\":5,\"ts_ms\":{},\"ts_exact\":true,\"kind\":\"ToolResult\",\"source\":\"Tail\",\"tool\":\"bash\",\"payload\":{{ \"ok\" : false }}}}\n\
             {{\"session_id\":\"s\",\"seq\":6,\"ts_ms\":{},\"ts_exact\":true,\"kind\":\"ToolResult\",\"source\":\"Tail\",\"tool\":\"bash\",\"payload\":{{\"\\u006fk\":false}}}}\n",
            t + 5,
            t + 6
        ),
    )
    .expect("write");
    ok(&[&store], &["ingest", spaced.to_str().expect("path")]);
    let rows = report_rows(&ok(
        &[&store],
        &["report", "--days", "7", "--by", "tool", "--format", "json"],
    ));
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["tool"], "bash");
    // Its key spelled with an escape (`"\u006fk"`) is `ok` too; the tool call's top-level
    // `ok: false` counts as well (seqs 1, 4, 5, 6).
    assert_eq!(rows[0]["failed_tool_results"], 4, "{rows:?}");
    let direct = jsonl(&ok(
        &[&store],
        &[
            "sql",
            "SELECT count(*) AS n FROM events WHERE json_get_text(payload, 'ok') = 'false'",
            "--format",
            "jsonl",
        ],
    ));
    assert_eq!(
        direct[0]["n"], 4,
        "the tool call's ok too, through kaizen sql"
    );
}
