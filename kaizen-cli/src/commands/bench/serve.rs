//! `kaizen bench --serve`: `kaizen serve` on loopback under 1, 8 and 64 concurrent senders
//! (records/s, p50 and p99 request latency), then its peak RSS over the whole run.
//!
//! Each sender keeps one HTTP/1.1 connection and posts OTLP protobuf requests of
//! [`RECORDS_PER_REQUEST`] Claude Code `api_request` records (every record a distinct
//! event), waiting for each answer (200, fsynced in the spool) before the next. The
//! server runs as a child process with its defaults (flushes by size or a 60 s age, and
//! at the end); its peak RSS comes from `wait4`. No other collector is installable from
//! the registries this machine reaches (the OpenTelemetry Collector ships as Go binaries
//! and container images), so none runs beside it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use kaizen_import::otel::proto::collector::logs::v1::ExportLogsServiceRequest;
use kaizen_import::otel::proto::common::v1::{AnyValue, KeyValue, any_value::Value};
use kaizen_import::otel::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use prost::Message;
use serde::Serialize;

/// Records in one request (the OpenTelemetry SDKs' default batch is 512).
pub const RECORDS_PER_REQUEST: usize = 100;

/// Concurrency levels measured.
pub const SENDERS: [usize; 3] = [1, 8, 64];

#[derive(Debug, Serialize)]
pub struct Level {
    pub senders: usize,
    pub records: u64,
    pub seconds: f64,
    pub records_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

#[derive(Debug, Serialize)]
pub struct ServeBenchReport {
    pub records_per_request: usize,
    pub levels: Vec<Level>,
    /// The server's peak resident memory over every level, bytes.
    pub peak_rss: Option<u64>,
    pub stored_events: u64,
}

fn text(key: &str, v: String) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(v)),
        }),
        ..Default::default()
    }
}

fn int(key: &str, v: i64) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(Value::IntValue(v)),
        }),
        ..Default::default()
    }
}

/// One request's protobuf body: records `first..first + RECORDS_PER_REQUEST` of a session.
fn request(session: &str, first: u64, t0_ns: u64) -> Vec<u8> {
    let records = (first..first + RECORDS_PER_REQUEST as u64)
        .map(|i| LogRecord {
            time_unix_nano: t0_ns + i * 1_000_000,
            body: Some(AnyValue {
                value: Some(Value::StringValue("claude_code.api_request".into())),
            }),
            attributes: vec![
                text("event.name", "api_request".into()),
                text("session.id", session.into()),
                int("event.sequence", i as i64),
                text("model", "claude-sonnet-4-5".into()),
                text("cost_usd", "0.012".into()),
                int("input_tokens", 1200),
                int("output_tokens", 300),
                int("cache_read_tokens", 9000),
                int("cache_creation_tokens", 200),
                int("duration_ms", 2300),
            ],
            ..Default::default()
        })
        .collect();
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(kaizen_import::otel::proto::resource::v1::Resource {
                attributes: vec![text("service.name", "claude-code".into())],
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                log_records: records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

/// Posts on a kept-alive connection; the answer's status.
fn post(conn: &mut BufReader<TcpStream>, addr: SocketAddr, body: &[u8]) -> anyhow::Result<u16> {
    let head = format!(
        "POST /v1/logs HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-protobuf\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let s = conn.get_mut();
    s.write_all(head.as_bytes())?;
    s.write_all(body)?;
    let mut line = String::new();
    conn.read_line(&mut line)?;
    let status: u16 = line
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .context("no HTTP status")?;
    let mut length = 0usize;
    loop {
        line.clear();
        conn.read_line(&mut line)?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut rest = vec![0; length];
    conn.read_exact(&mut rest)?;
    Ok(status)
}

/// Runs `senders` threads, each posting `requests` requests; their latencies.
fn level(
    addr: SocketAddr,
    senders: usize,
    requests: usize,
    tag: usize,
    t0_ns: u64,
) -> anyhow::Result<Level> {
    let started = Instant::now();
    let threads: Vec<_> = (0..senders)
        .map(|s| {
            std::thread::spawn(move || -> anyhow::Result<Vec<f64>> {
                let mut conn = BufReader::new(TcpStream::connect(addr)?);
                let session = format!("bench-{tag}-{s}");
                let mut latencies = Vec::with_capacity(requests);
                for r in 0..requests {
                    let body = request(&session, (r * RECORDS_PER_REQUEST) as u64, t0_ns);
                    let sent = Instant::now();
                    let status = post(&mut conn, addr, &body)?;
                    if status != 200 {
                        bail!("kaizen serve answered {status}");
                    }
                    latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                }
                Ok(latencies)
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in threads {
        all.extend(
            t.join()
                .map_err(|_| anyhow::anyhow!("a sender panicked"))??,
        );
    }
    let seconds = started.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    let at = |q: f64| {
        all.get(((all.len() as f64 * q).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or(0.0)
    };
    let records = (senders * requests * RECORDS_PER_REQUEST) as u64;
    Ok(Level {
        senders,
        records,
        seconds,
        records_per_second: records as f64 / seconds,
        p50_ms: at(0.5),
        p99_ms: at(0.99),
    })
}

pub fn bench(dir: &Path, records: u64) -> anyhow::Result<ServeBenchReport> {
    let exe = std::env::current_exe()?;
    let store = dir.join("store");
    let mut child = Command::new(&exe)
        .arg("--store")
        .arg(&store)
        .args(["serve", "--listen", "127.0.0.1:0", "--spool"])
        .arg(dir.join("spool"))
        .env("KAIZEN_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.join("serve.err"))?)
        .spawn()
        .context("starting kaizen serve")?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("stdout")?).read_line(&mut line)?;
    let addr: SocketAddr = line
        .trim()
        .strip_prefix("kaizen serve: listening on http://")
        .context("kaizen serve did not say where it listens")?
        .parse()?;
    let t0_ns = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos() as u64)
        .saturating_sub(3_600_000_000_000);
    let mut levels = Vec::new();
    let mut failed = None;
    for (tag, senders) in SENDERS.into_iter().enumerate() {
        let requests = (records as usize / RECORDS_PER_REQUEST / senders).max(1);
        match level(addr, senders, requests, tag, t0_ns) {
            Ok(l) => levels.push(l),
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    // SIGTERM: the server flushes its spool and exits; wait4 gives its peak RSS.
    let pid = libc::pid_t::try_from(child.id())?;
    // SAFETY: a signal to this process's own child.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let (ok, peak_rss) = super::measure::wait(child)?;
    if let Some(e) = failed {
        return Err(e);
    }
    if !ok {
        bail!(
            "kaizen serve failed: {}",
            std::fs::read_to_string(dir.join("serve.err")).unwrap_or_default()
        );
    }
    std::thread::sleep(Duration::from_millis(10));
    let out = Command::new(&exe)
        .arg("--store")
        .arg(&store)
        .args(["scan", "--format", "count"])
        .output()?;
    let stored_events = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    let sent: u64 = levels.iter().map(|l| l.records).sum();
    if stored_events != sent {
        bail!(
            "kaizen serve acknowledged {sent} records and the store holds {stored_events} events"
        );
    }
    Ok(ServeBenchReport {
        records_per_request: RECORDS_PER_REQUEST,
        levels,
        peak_rss,
        stored_events,
    })
}

pub fn print_table(r: &ServeBenchReport) -> anyhow::Result<()> {
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header(["senders", "records", "records/s", "p50 ms", "p99 ms"]);
    for l in &r.levels {
        table.add_row([
            l.senders.to_string(),
            l.records.to_string(),
            format!("{:.0}", l.records_per_second),
            format!("{:.1}", l.p50_ms),
            format!("{:.1}", l.p99_ms),
        ]);
    }
    let rss = r.peak_rss.map_or("?".to_owned(), |b| {
        format!("{:.0} MiB", b as f64 / 1048576.0)
    });
    outln!(
        "kaizen serve on loopback: OTLP protobuf requests of {} records, each answered once fsynced\n{table}\npeak RSS {rss}; {} events in the store after SIGTERM (every record acknowledged, once)\nno other collector installable from this machine's registries to run beside it",
        r.records_per_request,
        r.stored_events
    );
    Ok(())
}
