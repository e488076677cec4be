//! `kaizen bench --report-stores N`: `kaizen report` over N stores at once, as machines
//! that each keep a store and report across all of them (upstream kaizen's target: 10
//! workspaces of 1M events, a 30-day report in under 2 s).
//!
//! The corpus (`--events` over `--days`, [`crate::generate::Corpus`]) is ingested once;
//! the other N−1 stores are hard links of its files (copies where links cannot be made):
//! kaizen's files are written once and never replaced, so the stores read as N stores of
//! the same events. Each report is run over all N stores, the fastest of a few runs, and
//! checked: every figure is N times the same report over the first store alone.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use serde::Serialize;

use super::import::REPORT_RUNS;
use super::measure;
use crate::cli::BenchArgs;
use crate::generate::DEFAULT_START;

/// One report over every store.
#[derive(Debug, Clone, Serialize)]
pub struct ReportRun {
    /// `--by` of the report.
    pub by: String,
    /// The whole process, wall clock: the fastest run.
    pub seconds: f64,
    pub peak_rss_bytes: Option<u64>,
    pub rows: u64,
    pub events: u64,
}

#[derive(Debug, Serialize)]
pub struct ReportsBenchReport {
    /// Always `reports`.
    pub mode: &'static str,
    pub stores: u32,
    pub events_per_store: u64,
    pub days: u32,
    pub cores: usize,
    pub ingest_seconds: f64,
    /// The report's window: the corpus's days, `--since`/`--until` in UTC.
    pub since: String,
    pub until: String,
    pub reports: Vec<ReportRun>,
    /// The goal: each report over every store in under this many seconds.
    pub goal_seconds: f64,
}

const GOAL_SECONDS: f64 = 2.0;

pub fn bench(args: &BenchArgs, stores: u32, dir: &Path) -> anyhow::Result<ReportsBenchReport> {
    let exe = std::env::current_exe().context("this program's path")?;
    let corpus = dir.join("events.jsonl");
    eprintln!("generating {} events over {} days…", args.events, args.days);
    super::write_corpus(&corpus, args)?;
    let first = dir.join("stores/ws-00");
    eprintln!("kaizen ingest…");
    let mut ingest = Command::new(&exe);
    ingest.arg("--store").arg(&first).arg("ingest").arg(&corpus);
    let ingested = measure::run(ingest, dir, "kaizen-ingest")?;
    // The corpus is no longer needed: free its disk before the links.
    std::fs::remove_file(&corpus)?;
    for i in 1..stores {
        link_tree(&first, &dir.join(format!("stores/ws-{i:02}")))?;
    }
    let since = DEFAULT_START.to_string();
    let until = DEFAULT_START
        .plus_days(args.days.saturating_sub(1))
        .to_string();
    let report = |stores: &[PathBuf], by: &str| {
        let mut command = Command::new(&exe);
        for store in stores {
            command.arg("--store").arg(store);
        }
        command.args(["report", "--by", by, "--since", &since, "--until", &until]);
        command.args(["--timezone", "UTC", "--format", "json"]);
        command
    };
    let glob = vec![dir.join("stores/ws-*")];
    let mut runs = Vec::new();
    for by in ["day", "model"] {
        eprintln!("kaizen report --by {by} over {stores} stores…");
        let one = measure::run(
            report(std::slice::from_ref(&first), by),
            dir,
            "kaizen-report-one",
        )?;
        let one_doc = json(&one.stdout)?;
        // Each run checked (not compared as text: latency percentiles are approximate, and
        // depend on the order the stores' rows arrive in); the fastest counts.
        let mut best: Option<(measure::Measured, serde_json::Value)> = None;
        for _ in 0..REPORT_RUNS {
            let run = measure::run(report(&glob, by), dir, &format!("kaizen-report-{by}"))?;
            let doc = json(&run.stdout)?;
            check(&one_doc, &doc, stores, by)?;
            if best.as_ref().is_none_or(|(b, _)| run.seconds < b.seconds) {
                best = Some((run, doc));
            }
        }
        let (all, all_doc) = best.context("no run")?;
        runs.push(ReportRun {
            by: by.to_owned(),
            seconds: all.seconds,
            peak_rss_bytes: all.peak_rss,
            rows: all_doc["rows"].as_array().map_or(0, |r| r.len() as u64),
            events: all_doc["totals"]["events"].as_u64().unwrap_or(0),
        });
    }
    Ok(ReportsBenchReport {
        mode: "reports",
        stores,
        events_per_store: args.events,
        days: args.days,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        ingest_seconds: ingested.seconds,
        since,
        until,
        reports: runs,
        goal_seconds: GOAL_SECONDS,
    })
}

fn json(text: &str) -> anyhow::Result<serde_json::Value> {
    serde_json::from_str(text).with_context(|| format!("kaizen report: not JSON: {text}"))
}

/// Every total over all stores is `stores` times the first store's, and so is each row's
/// (the rows are the same groups).
fn check(
    one: &serde_json::Value,
    all: &serde_json::Value,
    stores: u32,
    by: &str,
) -> anyhow::Result<()> {
    let n = i64::from(stores);
    let figures = [
        "events",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cost_usd_e6",
        "tool_calls",
        "failed_tool_results",
    ];
    let pairs = std::iter::once((&one["totals"], &all["totals"])).chain(
        one["rows"]
            .as_array()
            .into_iter()
            .flatten()
            .zip(all["rows"].as_array().into_iter().flatten()),
    );
    let mut checked = 0;
    for (a, b) in pairs {
        for f in figures {
            // Null (not computed by this report) in both, or N times.
            let (a, b) = (a[f].as_i64(), b[f].as_i64());
            if a.map(|a| a * n) != b {
                bail!("report --by {by}: {f} over {stores} stores is {b:?}, not {stores} × {a:?}");
            }
        }
        checked += 1;
    }
    let rows = |d: &serde_json::Value| d["rows"].as_array().map_or(0, Vec::len);
    if rows(one) != rows(all)
        || checked != rows(one) + 1
        || one["totals"]["events"].as_i64() == Some(0)
    {
        bail!(
            "report --by {by}: {} rows over one store, {} over {stores}",
            rows(one),
            rows(all)
        );
    }
    Ok(())
}

/// `to` holds `from`'s files, hard-linked (copied where a link cannot be made).
fn link_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            link_tree(&entry.path(), &target)?;
        } else if std::fs::hard_link(entry.path(), &target).is_err() {
            std::fs::copy(entry.path(), &target).with_context(|| {
                format!("copy {} to {}", entry.path().display(), target.display())
            })?;
        }
    }
    Ok(())
}

/// Prints the benchmark as a table.
pub fn print_table(report: &ReportsBenchReport) -> anyhow::Result<()> {
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header(["report", "seconds", "peak RSS", "rows", "events", "goal"]);
    for r in &report.reports {
        table.add_row([
            format!("--by {}", r.by),
            format!("{:.3}", r.seconds),
            r.peak_rss_bytes
                .map_or("?".into(), |b| format!("{:.0} MiB", b as f64 / 1048576.0)),
            r.rows.to_string(),
            r.events.to_string(),
            format!(
                "< {} s: {}",
                report.goal_seconds,
                if r.seconds < report.goal_seconds {
                    "met"
                } else {
                    "not met"
                }
            ),
        ]);
    }
    outln!(
        "kaizen report over {} stores of {} events ({} days, {} to {}, UTC), {} cores; \
         each the fastest of {REPORT_RUNS} runs (ingest of one store: {:.1} s)\n{table}",
        report.stores,
        report.events_per_store,
        report.days,
        report.since,
        report.until,
        report.cores,
        report.ingest_seconds
    );
    Ok(())
}
