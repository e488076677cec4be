//! `kaizen bench --store s3://…`: the queries again, against a bucket, with what each costs
//! in requests. Every request to a real bucket takes 20–100 ms and is billed; on a loopback
//! server (moto, s3s-fs, MinIO) the store option `kaizen_request_latency_ms` adds the wait
//! before every request (object_store's `ThrottledStore`), so the time is what a real bucket
//! would give and the request counts (`kaizen --requests`) are exact.

use std::path::Path;
use std::process::Command;

use anyhow::Context;
use serde::Serialize;

use super::measure::{self, Measured};
use super::{Answers, Queries};

/// Runs of each phase, of which the fastest counts (the counts are the same every run).
const RUNS: usize = 3;

/// Where the bucket phases run and how.
pub struct Bucket {
    /// The store URL the corpus is written under (a fresh prefix below the one given).
    pub url: String,
    /// The object-store options given to the command (`--store-option`).
    pub options: Vec<(String, String)>,
    /// Milliseconds injected before each request.
    pub latency_ms: u64,
}

/// One phase against the bucket.
#[derive(Debug, Clone, Serialize)]
pub struct BucketPhase {
    /// What ran (`Q1 cost by day, last 7 days`, …).
    pub name: String,
    /// Seconds, the fastest of the runs: the command's own clock for SQL, else the process.
    pub seconds: f64,
    /// Requests sent, by kind.
    pub requests: Requests,
}

/// Requests by kind, as `kaizen --requests` prints them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Requests {
    /// Every request.
    pub total: u64,
    /// Reads (footers, column chunks).
    pub get: u64,
    /// Metadata reads.
    pub head: u64,
    /// Listings (pages).
    pub list: u64,
}

/// The bucket's figures: where, at what latency, each phase.
#[derive(Debug, Clone, Serialize)]
pub struct BucketReport {
    /// The store URL the corpus was written to (kept: delete the prefix when done).
    pub url: String,
    /// Milliseconds injected before each request.
    pub request_latency_ms: u64,
    /// Seconds the ingest into the bucket took (no latency injected), and its requests.
    pub ingest: BucketPhase,
    /// The queries and the report, each at the injected latency.
    pub phases: Vec<BucketPhase>,
}

impl Bucket {
    fn command(&self, exe: &Path, latency_ms: u64) -> Command {
        let mut command = Command::new(exe);
        command.arg("--store").arg(&self.url).arg("--requests");
        for (key, value) in &self.options {
            command.arg("--store-option").arg(format!("{key}={value}"));
        }
        command
            .arg("--store-option")
            .arg(format!("kaizen_request_latency_ms={latency_ms}"));
        command
    }
}

/// Writes the corpus to the bucket, then times Q1 (the last 7 days, and all days), Q2, Q3
/// and `report --by day` over every day against it; each query's answer must be the one the
/// local store gave (`local`).
pub fn bench(
    exe: &Path,
    bucket: &Bucket,
    corpus: &Path,
    queries: &Queries,
    local: &Answers,
    report_days: u32,
    dir: &Path,
) -> anyhow::Result<BucketReport> {
    let mut ingest = bucket.command(exe, 0);
    ingest.arg("ingest").arg(corpus);
    let ingest = measure::run(ingest, dir, "bucket-ingest")?;
    let ingest = phase("ingest (no latency injected)", &ingest, ingest.seconds)?;

    let q1_all = "SELECT day, sum(cost_usd_e6) AS cost FROM events GROUP BY day ORDER BY day";
    let sql = |sql: &str, count: bool| {
        let mut command = bucket.command(exe, bucket.latency_ms);
        let format = if count { "count" } else { "csv" };
        command.args(["sql", "--timing", "--format", format, sql]);
        command
    };
    let report_days = report_days.to_string();
    let report = || {
        let mut command = bucket.command(exe, bucket.latency_ms);
        command.args([
            "report",
            "--by",
            "day",
            "--format",
            "json",
            "--days",
            &report_days,
        ]);
        command
    };
    // Each phase: its name, its command, and which local answer it must give.
    type Phase<'a> = (&'a str, Box<dyn Fn() -> Command + 'a>, Option<usize>);
    let runs: [Phase; 5] = [
        (
            "Q1 cost by day, last 7 days",
            Box::new(|| sql(&queries.q1, false)),
            Some(0),
        ),
        (
            "Q1 cost by day, all days",
            Box::new(|| sql(q1_all, false)),
            None,
        ),
        (
            "Q2 one session, ordered",
            Box::new(|| sql(&queries.q2, true)),
            Some(1),
        ),
        ("Q3 full scan", Box::new(|| sql(&queries.q3, true)), Some(2)),
        ("report --by day, all days", Box::new(report), None),
    ];
    let mut phases = Vec::new();
    for (name, command, answer) in runs {
        let mut fastest: Option<(f64, Measured)> = None;
        for _ in 0..RUNS {
            let run = measure::run(command(), dir, "bucket-query")?;
            let seconds = own_seconds(&run).unwrap_or(run.seconds);
            if fastest.as_ref().is_none_or(|(best, _)| seconds < *best) {
                fastest = Some((seconds, run));
            }
        }
        let (seconds, run) = fastest.context("no run")?;
        if let Some(which) = answer {
            check_answer(name, which, &run, local)?;
        }
        phases.push(phase(name, &run, seconds)?);
    }
    Ok(BucketReport {
        url: bucket.url.clone(),
        request_latency_ms: bucket.latency_ms,
        ingest,
        phases,
    })
}

fn phase(name: &str, run: &Measured, seconds: f64) -> anyhow::Result<BucketPhase> {
    Ok(BucketPhase {
        name: name.to_owned(),
        seconds,
        requests: parse_requests(&run.stderr)
            .with_context(|| format!("{name}: no request counts in {:?}", run.stderr))?,
    })
}

/// `took S s`, as `kaizen sql --timing` prints it.
fn own_seconds(run: &Measured) -> Option<f64> {
    (run.stderr.lines()).find_map(|l| l.strip_prefix("took ")?.strip_suffix(" s")?.parse().ok())
}

/// Q1's rows (CSV without its header), or Q2's or Q3's count, against the local answers
/// (Q1's rows first, then `q2 rows: N`, `q3 rows: N`).
fn check_answer(name: &str, which: usize, run: &Measured, local: &Answers) -> anyhow::Result<()> {
    let q1_rows = local.len().saturating_sub(2);
    let (got, want): (Vec<String>, Vec<String>) = match which {
        0 => (
            run.stdout.lines().skip(1).map(str::to_owned).collect(),
            local[..q1_rows].to_vec(),
        ),
        n => (
            vec![format!("q{} rows: {}", n + 1, run.stdout.trim())],
            vec![local[q1_rows + n - 1].clone()],
        ),
    };
    anyhow::ensure!(
        got == want,
        "{name}: the bucket answers {got:?}, the local store {want:?}"
    );
    Ok(())
}

/// The counts of the last line `kaizen --requests` printed:
/// `<store>: N request(s): G get, H head, L list, P put, D delete, C copy`.
fn parse_requests(stderr: &str) -> Option<Requests> {
    let line = stderr.lines().rev().find(|l| l.contains(" request(s): "))?;
    let (before, counts) = line.split_once(" request(s): ")?;
    let total = before.rsplit(' ').next()?.parse().ok()?;
    let mut requests = Requests {
        total,
        ..Requests::default()
    };
    for part in counts.split(", ") {
        let (n, kind) = part.split_once(' ')?;
        let n: u64 = n.parse().ok()?;
        match kind {
            "get" => requests.get = n,
            "head" => requests.head = n,
            "list" => requests.list = n,
            _ => {}
        }
    }
    Some(requests)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines_parse() {
        let stderr = "took 0.2 s\ns3://b/p: 94 request(s): 60 get, 1 head, 33 list, 0 put, 0 delete, 0 copy\n";
        assert_eq!(
            parse_requests(stderr),
            Some(Requests {
                total: 94,
                get: 60,
                head: 1,
                list: 33
            })
        );
        assert_eq!(parse_requests("took 1 s\n"), None);
    }
}
