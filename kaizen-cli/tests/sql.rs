//! `kaizen sql`, `kaizen report`, and scan/stats/sql over several stores at once.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

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
    assert_eq!(one, vec![serde_json::json!({"seq": 6})]);

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

#[test]
fn report_groups_by_each_key_with_a_cost_chart() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = dir.path().join("store");
    ok(&[&store], &["demo", "--events", "8000", "--days", "4"]);
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
        let rows = jsonl(&ok(
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
            assert!(rows.iter().any(|r| r["key"] == "bash"), "{rows:?}");
            let failed: i64 = rows
                .iter()
                .map(|r| r["failed_results"].as_i64().expect("failed_results"))
                .sum();
            let want = jsonl(&ok(
                &[&store],
                &[
                    "sql",
                    "SELECT count(*) AS n FROM events WHERE kind = 'ToolResult' AND payload LIKE '%\"ok\":false%'",
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
            "tokens_in",
            "cache_read",
            "tool_calls",
            "errors",
            "p50_latency_ms",
            "p95_latency_ms",
            "retries",
        ] {
            assert!(first.get(metric).is_some(), "{by}: {metric}");
        }
    }
    let models = jsonl(&ok(
        &[&store],
        &["report", "--by", "model", "--format", "json"],
    ));
    assert!(
        models.iter().any(|r| r["key"] == "claude-sonnet-4-5"),
        "{models:?}"
    );
    let table = ok(&[&store], &["report"]);
    assert!(
        table.contains("cost per day") && table.contains('█'),
        "{table}"
    );
    let csv = ok(&[&store], &["report", "--by", "agent", "--format", "csv"]);
    assert!(csv.starts_with("key,events,cost_usd_e6"), "{csv}");
}

#[test]
fn several_stores_are_one_table_with_a_store_column() {
    let dir = tempfile::tempdir().expect("tmp");
    let a = dir.path().join("ws-a");
    let b = dir.path().join("ws-b");
    let input = shared().join("fixtures/seed-v1/events.jsonl");
    ok(&[&a], &["ingest", input.to_str().expect("path")]);
    ok(&[&b], &["demo", "--events", "2000", "--days", "2"]);

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
    let report = jsonl(&ok(
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
