//! The store is a plain hive-partitioned Parquet dataset: DuckDB, pyarrow and polars read
//! it unchanged and see what kaizen itself reports (rows, sessions, cost and token sums,
//! rows per day). scripts/test installs the three Python packages.

use std::path::{Path, PathBuf};
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

/// Whether python3 has duckdb, pyarrow and polars; under CI their absence is a failure.
fn python_ready() -> bool {
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
        return false;
    }
    true
}

/// A temporary folder holding a store (`store` in it) of `kaizen generate`'s events.
fn generated_store(events: &str, days: &str, seed: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tmp");
    let store = dir.path().join("store");
    let corpus = dir.path().join("events.jsonl");
    let generated = kaizen(
        &store,
        &[
            "generate", "--events", events, "--days", days, "--seed", seed,
        ],
    );
    std::fs::write(&corpus, generated).expect("write corpus");
    kaizen(&store, &["ingest", corpus.to_str().expect("path")]);
    (dir, store)
}

#[test]
fn duckdb_pyarrow_and_polars_read_the_store_unchanged() {
    if !python_ready() {
        return;
    }
    let (_dir, store) = generated_store("20000", "5", "3");

    let totals = kaizen(
        &store,
        &[
            "sql",
            "SELECT count(*) AS rows, count(DISTINCT session_id) AS sessions, sum(cost_usd_e6) AS cost, \
             sum(tokens_in) AS tin, sum(tokens_out) AS tout, \
             sum(character_length(payload)) AS payload_chars, \
             sum(character_length(tool_call_id)) AS call_id_chars FROM events",
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
    // The derived `model` column (schema 2), as kaizen reads it.
    let per_model = kaizen(
        &store,
        &[
            "sql",
            "SELECT model, count(*) AS n FROM events WHERE model IS NOT NULL GROUP BY model",
            "--format",
            "jsonl",
        ],
    );
    let our_models: serde_json::Map<String, serde_json::Value> = per_model
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json");
            (
                v["model"].as_str().expect("model").to_owned(),
                v["n"].clone(),
            )
        })
        .collect();
    assert!(our_models.len() >= 3, "{our_models:?}");

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
        // Payloads (delta-length byte arrays) and call ids (plain) decode to the same text.
        assert_eq!(
            r["payload_chars"], ours["payload_chars"],
            "{reader} payloads"
        );
        assert_eq!(
            r["call_id_chars"], ours["call_id_chars"],
            "{reader} call ids"
        );
        assert_eq!(
            r["days"].as_object().expect("days"),
            &our_days,
            "{reader} rows per day"
        );
        assert_eq!(
            r["models"].as_object().expect("models"),
            &our_models,
            "{reader} rows per model"
        );
    }
}

/// Runs kaizen; its exit success, stdout and stderr.
fn kaizen_status(store: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kaizen"))
        .arg("--store")
        .arg(store)
        .args(args)
        .env_remove("KAIZEN_STORE")
        .output()
        .expect("run kaizen");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A day folder's files rewritten by DuckDB, pyarrow and polars (one day each, the original
/// removed) read as the events kaizen wrote: `scan` and `stats` give the same, and `verify`
/// passes, listing the rewritten files as foreign. polars' files say `LargeUtf8` (or
/// `Utf8View`) in their embedded Arrow schema: the reader goes by the Parquet types.
#[test]
fn days_rewritten_by_duckdb_pyarrow_and_polars_read_the_same() {
    if !python_ready() {
        return;
    }
    let (_dir, store) = generated_store("3000", "3", "5");
    let scan_before = kaizen(&store, &["scan"]);
    let stats_before = kaizen(&store, &["stats", "--format", "json"]);
    assert_eq!(scan_before.lines().count(), 3000);

    let events = store.join("cold/events");
    let mut days: Vec<_> = std::fs::read_dir(&events)
        .expect("events dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    days.sort();
    assert!(days.len() >= 3, "{days:?}");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/interop/rewrite_day.py");
    let mut rewritten = Vec::new();
    for (tool, day) in ["duckdb", "pyarrow", "polars"].into_iter().zip(&days) {
        for file in std::fs::read_dir(day).expect("day dir") {
            let file = file.expect("entry").path();
            let out = Command::new("python3")
                .arg(&script)
                .arg(tool)
                .arg(&file)
                .output()
                .expect("python3");
            assert!(
                out.status.success(),
                "{tool}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let facts: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
            if tool == "pyarrow" {
                // The rewrite kept kaizen's footer keys: foreign all the same.
                assert_eq!(facts["kaizen_schema_v"], "2", "{facts}");
            }
            if tool == "polars" {
                // The case that was refused as corrupt: not kaizen's own Arrow type.
                let hint = facts["payload_hint"].as_str().expect("hint");
                assert!(hint == "large_string" || hint == "string_view", "{facts}");
            }
            let path = facts["path"].as_str().expect("path");
            rewritten.push(
                path.rsplit_once("cold/events/")
                    .expect("in store")
                    .1
                    .to_owned(),
            );
        }
    }
    assert!(rewritten.len() >= 3, "{rewritten:?}");

    assert_eq!(
        kaizen(&store, &["scan"]),
        scan_before,
        "scan after rewrites"
    );
    assert_eq!(
        kaizen(&store, &["scan", "--format", "count"]).trim(),
        "3000"
    );
    assert_eq!(
        kaizen(&store, &["stats", "--format", "json"]),
        stats_before,
        "stats after rewrites"
    );
    for deep in [false, true] {
        let args: &[&str] = if deep {
            &["verify", "--deep"]
        } else {
            &["verify"]
        };
        let (ok, out, err) = kaizen_status(&store, args);
        assert!(ok, "{args:?} exits 0: {out}{err}");
        assert!(out.contains("0 problem(s)"), "{out}");
        for path in &rewritten {
            assert!(
                out.lines()
                    .any(|l| l.starts_with("foreign ") && l.contains(path.as_str())),
                "{path} listed as foreign: {out}"
            );
        }
    }

    // `scan --format count` reads no payload: a foreign file's payload that is not JSON
    // fails a scan that reads it, not a count.
    let pyarrow_file = store.join("cold/events").join(&rewritten[1]);
    let damage = "import os, sys, pyarrow as pa, pyarrow.parquet as pq\n\
        src = sys.argv[1]\n\
        t = pq.read_table(src)\n\
        p = t.column('payload').to_pylist()\n\
        p[0] = '{not json'\n\
        t = t.set_column(t.schema.get_field_index('payload'), 'payload', pa.array(p, pa.string()))\n\
        pq.write_table(t, src.replace('.parquet', '-damaged.parquet'))\n\
        os.remove(src)\n";
    let out = Command::new("python3")
        .args(["-c", damage])
        .arg(&pyarrow_file)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        kaizen(&store, &["scan", "--format", "count"]).trim(),
        "3000"
    );
    let (ok, _, err) = kaizen_status(&store, &["scan"]);
    assert!(!ok && err.contains("payload"), "{err}");
}
