//! `kaizen bench` end to end on a small corpus: every figure is measured, DuckDB (installed
//! by scripts/test) answers the same queries the same way, and the folder given is kept.

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
