//! Flushing: closed spool segments → the store, through its all-or-nothing writer; a
//! segment is deleted only after the commit that published its events returned. A crash
//! between the commit and the deletion flushes the segment again after the restart: its
//! events are then exact copies of stored ones, which the writer does not write again
//! (`AppendReceipt::duplicates_dropped`), so nothing is stored twice.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use kaizen_core::Event;
use kaizen_store::{EventStore, Store};
use tokio::sync::watch;

use super::metrics::Metrics;
use super::spool::{Segment, Spool};

/// Events handed to the writer at a time.
const CHUNK_EVENTS: usize = 2_048;

/// Longest wait between two failed flushes (the store unreachable): doubling from 1 s.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What one flush did.
#[derive(Debug, Default)]
pub struct Flushed {
    pub segments: usize,
    pub events: u64,
    pub duplicates: u64,
}

/// Flushes closed segments, oldest first, in commits of about `budget` bytes, until none
/// is left. A segment with a line that is not an event (damaged on disk) is moved aside
/// and named in the log; the others go on.
pub async fn flush_all(
    store: &Store,
    spool: &Spool,
    metrics: &Metrics,
    budget: u64,
) -> anyhow::Result<Flushed> {
    let mut total = Flushed::default();
    loop {
        let segments = spool.closed(budget);
        if segments.is_empty() {
            return Ok(total);
        }
        let started = Instant::now();
        let result = flush_segments(store, spool, &segments).await;
        metrics
            .flush_seconds
            .observe(started.elapsed().as_secs_f64());
        match result {
            Ok(done) => {
                metrics
                    .flushes
                    .get_or_create(&vec![("result".to_owned(), "ok".to_owned())])
                    .inc();
                metrics.flushed_events.inc_by(done.events);
                tracing::info!(
                    segments = done.segments,
                    events = done.events,
                    already_stored = done.duplicates,
                    seconds = started.elapsed().as_secs_f64(),
                    "flushed to the store"
                );
                total.segments += done.segments;
                total.events += done.events;
                total.duplicates += done.duplicates;
            }
            Err(e) => {
                metrics
                    .flushes
                    .get_or_create(&vec![("result".to_owned(), "error".to_owned())])
                    .inc();
                return Err(e);
            }
        }
    }
}

async fn flush_segments(
    store: &Store,
    spool: &Spool,
    segments: &[Segment],
) -> anyhow::Result<Flushed> {
    let mut events = Vec::new();
    let mut good = Vec::new();
    for segment in segments {
        match read_segment(segment).await? {
            Ok(mut e) => {
                events.append(&mut e);
                good.push(segment.clone());
            }
            Err(reason) => {
                let bad = spool.quarantine(segment)?;
                tracing::error!(segment = %bad.display(), %reason, "spool segment is damaged: moved aside, not flushed");
            }
        }
    }
    let mut writer = store.writer();
    let written: anyhow::Result<()> = async {
        for chunk in events.chunks(CHUNK_EVENTS) {
            writer.write(chunk.to_vec()).await?;
        }
        Ok(())
    }
    .await;
    if let Err(e) = written {
        let _ = writer.abort().await;
        return Err(e);
    }
    let receipt = writer
        .commit()
        .await
        .context("flushing the spool to the store")?;
    // Published: now, and only now, the segments may go.
    spool
        .remove(&good)
        .context("removing flushed spool segments")?;
    Ok(Flushed {
        segments: good.len(),
        events: receipt.rows(),
        duplicates: receipt.duplicates_dropped,
    })
}

/// A segment's events. The outer error is I/O (retried later); the inner one a line that
/// is not an event (the segment is damaged). Bytes after the last newline were never
/// acknowledged (see the spool) and are left out.
async fn read_segment(segment: &Segment) -> anyhow::Result<Result<Vec<Event>, String>> {
    let bytes = tokio::fs::read(&segment.path)
        .await
        .with_context(|| segment.path.display().to_string())?;
    let path = segment.path.clone();
    let parsed = tokio::task::spawn_blocking(move || -> Result<Vec<Event>, String> {
        let end = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let mut events = Vec::new();
        for (i, line) in bytes[..end].split(|b| *b == b'\n').enumerate() {
            if line.is_empty() {
                continue;
            }
            let text = std::str::from_utf8(line)
                .map_err(|e| format!("{}:{}: {e}", path.display(), i + 1))?;
            events.push(
                Event::from_json(text).map_err(|e| format!("{}:{}: {e}", path.display(), i + 1))?,
            );
        }
        Ok(events)
    })
    .await?;
    Ok(parsed)
}

/// Flushes whenever a segment is closed, until `stop` turns true; failures are logged and
/// retried with a doubling wait (the segments stay in the spool meanwhile).
pub async fn run(
    store: Store,
    spool: Arc<Spool>,
    metrics: Arc<Metrics>,
    budget: u64,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = Duration::from_secs(1);
    let mut failing = false;
    loop {
        if !failing {
            tokio::select! {
                _ = spool.segment_closed() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stop.changed() => return,
            }
        }
        if *stop.borrow() {
            return;
        }
        match flush_all(&store, &spool, &metrics, budget).await {
            Ok(_) => {
                failing = false;
                backoff = Duration::from_secs(1);
            }
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), retry_in_s = backoff.as_secs(), "flush failed; the segments stay in the spool");
                failing = true;
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stop.changed() => return,
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}
