//! The store is a plain hive-partitioned Parquet dataset: DuckDB, pyarrow and polars read
//! it unchanged and see what kaizen itself reports (rows, sessions, cost and token sums,
//! rows per day). scripts/test installs the three Python packages.

use std::path::Path;
use std::process::Command;

fn kaizen(store: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_kaizen"))
        .arg("--store")
        .arg(store)
        .args(args)
        .env_remove("KAIZEN_STORE")
        .output()
        .expect("run kaizen");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn duckdb_pyarrow_and_polars_read_the_store_unchanged() {
    let ready = Command::new("python3")
        .args(["-c", "import duckdb, pyarrow, polars"])
        .output();
    if !ready.is_ok_and(|o| o.status.success()) {
        assert!(
            std::env::var("CI").is_err(),
            "duckdb, pyarrow and polars are needed: scripts/test installs them"
        );
        eprintln!(
            "skipped: duckdb, pyarrow or polars is not installed (scripts/test installs them)"
        );
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let store = dir.path().join("store");
    let corpus = dir.path().join("events.jsonl");
    let generated = kaizen(
        &store,
        &[
            "generate", "--events", "20000", "--days", "5", "--seed", "3",
        ],
    );
    std::fs::write(&corpus, generated).expect("write corpus");
    kaizen(&store, &["ingest", corpus.to_str().expect("path")]);

    let totals = kaizen(
        &store,
        &[
            "sql",
            "SELECT count(*) AS rows, count(DISTINCT session_id) AS sessions, sum(cost_usd_e6) AS cost, \
             sum(tokens_in) AS tin, sum(tokens_out) AS tout FROM events",
            "--format",
            "jsonl",
        ],
    );
    let ours: serde_json::Value = serde_json::from_str(totals.trim()).expect("json");
    let per_day = kaizen(
        &store,
        &[
            "sql",
            "SELECT CAST(day AS VARCHAR) AS day, count(*) AS n FROM events GROUP BY day",
            "--format",
            "jsonl",
        ],
    );
    let our_days: serde_json::Map<String, serde_json::Value> = per_day
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json");
            (v["day"].as_str().expect("day").to_owned(), v["n"].clone())
        })
        .collect();
    assert!(our_days.len() >= 5, "{our_days:?}");
    assert_eq!(ours["rows"], 20000);

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/interop/read_store.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(&store)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    for reader in ["duckdb", "pyarrow", "polars"] {
        let r = &theirs[reader];
        assert_eq!(r["rows"], ours["rows"], "{reader} rows");
        assert_eq!(r["sessions"], ours["sessions"], "{reader} sessions");
        assert_eq!(r["cost_usd_e6"], ours["cost"], "{reader} cost");
        assert_eq!(r["tokens_in"], ours["tin"], "{reader} tokens in");
        assert_eq!(r["tokens_out"], ours["tout"], "{reader} tokens out");
        assert_eq!(
            r["days"].as_object().expect("days"),
            &our_days,
            "{reader} rows per day"
        );
    }
}
