//! `kaizen bench` end to end on a small corpus: every figure is measured, DuckDB (installed
//! by scripts/test) answers the same queries the same way, and the folder given is kept.
//! `kaizen bench --import` likewise on a small agent-log tree, beside ccusage when
//! scripts/bench-tools installed it.

use std::process::Command;

#[test]
fn bench_measures_both_engines_on_one_corpus() {
    let dir = tempfile::tempdir().expect("tmp");
    let work = dir.path().join("bench");
    let out = Command::new(env!("CARGO_BIN_EXE_kaizen"))
        .args([
            "bench",
            "--events",
            "3000",
            "--days",
            "3",
            "--format",
            "json",
            "--compact-level",
            "19",
        ])
        .arg("--dir")
        .arg(&work)
        .env_remove("KAIZEN_STORE")
        .output()
        .expect("run kaizen bench");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["events"], 3000);
    let kaizen = &report["kaizen"];
    for figure in [
        "ingest_seconds",
        "q1_seconds",
        "q2_seconds",
        "q3_seconds",
        "bytes_on_disk",
        "ingest_peak_rss_bytes",
        "q3_peak_rss_bytes",
    ] {
        let value = kaizen[figure].as_f64().unwrap_or(0.0);
        assert!(value > 0.0, "{figure}: {value}");
    }
    let compacted = &report["kaizen_compacted"];
    assert_eq!(compacted["level"], 19);
    let dense = compacted["bytes_on_disk"].as_u64().unwrap_or(0);
    let ingested = kaizen["bytes_on_disk"].as_u64().unwrap_or(0);
    assert!(
        dense > 0 && dense < ingested,
        "{dense} bytes at 19, {ingested} at ingest"
    );
    assert!(work.join("kaizen/cold/events").is_dir(), "--dir is kept");
    assert!(work.join("events.jsonl").is_file());

    let duckdb = Command::new("python3")
        .args(["-c", "import duckdb"])
        .output()
        .is_ok_and(|o| o.status.success());
    if duckdb {
        // The run fails when the engines' answers differ, so reaching here means they agreed.
        assert!(report["duckdb"]["q3_seconds"].as_f64().unwrap_or(0.0) > 0.0);
        assert_eq!(report["ratios"].as_array().map(Vec::len), Some(6));
    } else {
        assert!(std::env::var("CI").is_err(), "scripts/test installs duckdb");
        assert!(report["duckdb"].is_null());
    }

    // A folder that is not empty is refused, and left as it was.
    let again = Command::new(env!("CARGO_BIN_EXE_kaizen"))
        .args(["bench", "--events", "10"])
        .arg("--dir")
        .arg(&work)
        .output()
        .expect("run kaizen bench");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));
    assert!(work.join("events.jsonl").is_file());
}

/// ccusage's entry script where `kaizen bench --import` looks for it.
fn ccusage_installed() -> bool {
    let path = match std::env::var_os("KAIZEN_CCUSAGE") {
        Some(path) => std::path::PathBuf::from(path),
        None => {
            let tools = std::env::var_os("KAIZEN_TOOLS").map_or_else(
                || {
                    std::path::Path::new(&std::env::var_os("HOME").unwrap_or_default())
                        .join(".cache/kaizen-test-tools")
                },
                std::path::PathBuf::from,
            );
            tools.join("ccusage/node_modules/ccusage/src/cli.js")
        }
    };
    path.is_file()
}

#[test]
fn bench_import_measures_kaizen_and_ccusage_on_one_tree() {
    let dir = tempfile::tempdir().expect("tmp");
    let work = dir.path().join("bench");
    let out = Command::new(env!("CARGO_BIN_EXE_kaizen"))
        .args(["bench", "--import", "--import-mb", "5", "--format", "json"])
        .arg("--dir")
        .arg(&work)
        .env_remove("KAIZEN_STORE")
        .output()
        .expect("run kaizen bench --import");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let n = |v: &serde_json::Value| v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"));
    let (tree, import, rerun) = (&report["tree"], &report["import"], &report["rerun"]);
    assert_eq!(report["mode"], "import");
    assert_eq!(report["import_mb"], 5);

    // The tree is about the size asked for, spread over 30 days ending yesterday.
    let bytes = n(&tree["bytes"]);
    assert!((4_000_000..6_000_000).contains(&bytes), "{bytes} bytes");
    assert_eq!(tree["days"], 30);
    assert!(n(&tree["files"]) > 0 && n(&tree["sessions"]) > 0);

    // Every line became one event, written once; every byte read; every token counted once.
    let lines = n(&tree["lines"]);
    assert!(lines > 1000, "{lines} lines");
    for figure in ["lines", "events", "events_written"] {
        assert_eq!(n(&import[figure]), lines, "import {figure}");
    }
    for figure in ["bytes", "files", "sessions", "responses"] {
        assert_eq!(import[figure], tree[figure], "import {figure}");
    }
    let tokens = &tree["tokens"];
    for kind in ["input", "output", "cache_read", "cache_creation"] {
        assert!(n(&tokens[kind]) > 0, "tree {kind} tokens");
    }
    assert_eq!(import["tokens"], *tokens);
    for figure in [
        "seconds",
        "mb_per_second",
        "events_per_second",
        "peak_rss_bytes",
    ] {
        let value = import[figure].as_f64().unwrap_or(0.0);
        assert!(value > 0.0, "import {figure}: {value}");
    }
    let expected_rate = bytes as f64 / 1e6 / import["seconds"].as_f64().unwrap_or(0.0);
    let rate = import["mb_per_second"].as_f64().unwrap_or(0.0);
    assert!((rate - expected_rate).abs() < 1e-6 * rate, "{rate} MB/s");
    assert!(n(&import["store_bytes"]) > 0);

    // The rerun reads and writes nothing: every file is unchanged since its cursor.
    assert_eq!(rerun["files_unchanged"], tree["files"]);
    assert_eq!(n(&rerun["lines_read"]), 0);
    assert_eq!(n(&rerun["events_written"]), 0);
    assert!(rerun["seconds"].as_f64().unwrap_or(0.0) > 0.0);

    // The reports after the import give the tree's events and tokens.
    for by in ["report_by_day", "report_by_session"] {
        let r = &report[by];
        assert_eq!(n(&r["events"]), lines, "{by} events");
        assert_eq!(r["tokens"], *tokens, "{by} tokens");
        assert!(r["seconds"].as_f64().unwrap_or(0.0) > 0.0, "{by} seconds");
    }
    assert_eq!(report["report_by_session"]["rows"], tree["sessions"]);
    let days = n(&report["report_by_day"]["rows"]);
    assert!((1..=30).contains(&days), "{days} days");
    assert_eq!(report["kaizen_matches_tree"], true);

    let goals = report["goals"].as_array().expect("goals");
    assert_eq!(goals[0]["name"], "import MB/s");
    if ccusage_installed() {
        // The run fails when the tokens differ, so reaching here means they agreed.
        let cc = &report["ccusage"];
        assert_eq!(cc["version"], "20.0.24");
        assert_eq!(cc["tokens_agree"], true);
        assert_eq!(n(&cc["days_compared"]), days);
        for kind in ["daily", "session"] {
            assert_eq!(cc[kind].as_array().map(Vec::len), Some(3), "{kind}");
            let seconds = cc[format!("{kind}_seconds")].as_f64().unwrap_or(0.0);
            assert!(seconds > 0.0, "ccusage {kind}: {seconds}");
        }
        // Same tree and the price table's version of LiteLLM: costs agree closely.
        assert!(cc["max_day_cost_difference"].as_f64().unwrap_or(1.0) < 0.01);
        // Import MB/s, peak RSS, the rerun, and the two reports against ccusage.
        assert_eq!(goals.len(), 5);
    } else {
        assert!(
            std::env::var("CI").is_err(),
            "scripts/test installs ccusage"
        );
        assert!(report["ccusage"].is_null());
        assert_eq!(goals.len(), 3);
    }
    assert!(work.join("tree/claude").is_dir(), "--dir is kept");
}

#[test]
fn bench_import_mb_needs_import() {
    let out = Command::new(env!("CARGO_BIN_EXE_kaizen"))
        .args(["bench", "--import-mb", "5"])
        .output()
        .expect("run kaizen bench");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--import"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `kaizen bench --store s3://…` (moto, which scripts/test starts): the queries run again
/// against the bucket, each with its requests counted; their answers are checked against
/// the local store's inside the bench, so success means the bucket agreed.
#[test]
fn bench_counts_requests_on_a_bucket() {
    let Ok(endpoint) = std::env::var("KAIZEN_TEST_S3_MOTO") else {
        assert!(
            std::env::var("CI").is_err(),
            "KAIZEN_TEST_S3_MOTO is not set: scripts/test starts moto"
        );
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let out = Command::new(env!("CARGO_BIN_EXE_kaizen"))
        .args(["--store", "s3://kaizen-test/bench-requests"])
        .args(["--store-option", &format!("aws_endpoint={endpoint}")])
        .args(["--store-option", "aws_allow_http=true"])
        .args(["--store-option", "aws_region=us-east-1"])
        .args(["--store-option", "aws_access_key_id=test"])
        .args(["--store-option", "aws_secret_access_key=test"])
        .args([
            "bench", "--events", "2000", "--days", "3", "--format", "json",
        ])
        .args(["--request-latency-ms", "2"])
        .arg("--dir")
        .arg(dir.path().join("bench"))
        .env_remove("KAIZEN_STORE")
        .output()
        .expect("run kaizen bench");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let bucket = &report["bucket"];
    assert_eq!(bucket["request_latency_ms"], 2);
    assert!(
        bucket["url"]
            .as_str()
            .is_some_and(|u| u.starts_with("s3://kaizen-test/bench-requests/kaizen-bench-")),
        "{bucket}"
    );
    let phases = bucket["phases"].as_array().expect("phases");
    assert_eq!(phases.len(), 5, "{bucket}");
    for phase in phases {
        // Every read lists the days and reads at least one footer.
        let requests = |kind: &str| phase["requests"][kind].as_u64().unwrap_or(0);
        assert!(requests("list") > 0 && requests("get") > 0, "{phase}");
    }
    assert!(bucket["ingest"]["requests"]["total"].as_u64().unwrap_or(0) > 0);
}

/// `kaizen bench --report-stores N`: reports over N stores of one ingested corpus, each
/// checked (inside the run) to be N times one store's figures.
#[test]
fn bench_reports_over_several_stores() {
    let dir = tempfile::tempdir().expect("tmp");
    let work = dir.path().join("bench");
    let out = Command::new(env!("CARGO_BIN_EXE_kaizen"))
        .args([
            "bench",
            "--report-stores",
            "3",
            "--events",
            "3000",
            "--days",
            "3",
        ])
        .args(["--format", "json", "--dir"])
        .arg(&work)
        .env_remove("KAIZEN_STORE")
        .output()
        .expect("run kaizen bench --report-stores");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["mode"], "reports");
    assert_eq!(report["stores"], 3);
    let runs = report["reports"].as_array().expect("reports");
    assert_eq!(runs.len(), 2);
    for run in runs {
        assert!(run["seconds"].as_f64().unwrap_or(0.0) > 0.0, "{run}");
        // The corpus's sessions start within its 3 days; some run into the 4th, outside.
        let events = run["events"].as_u64().expect("events");
        assert!(events > 3 * 2900 && events <= 3 * 3000, "{run}");
    }
    assert_eq!(runs[0]["rows"], 3, "three days");
    for i in 0..3 {
        assert!(work.join(format!("stores/ws-{i:02}/cold")).is_dir());
    }
}
