//! Flushing: closed spool segments → the store, through its all-or-nothing writer; a
//! segment is deleted only after the commit that published its events returned. A crash
//! between the commit and the deletion flushes the segment again after the restart: its
//! events are then exact copies of stored ones, which the writer does not write again
//! (`AppendReceipt::duplicates_dropped`), so nothing is stored twice.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use kaizen_core::Event;
use kaizen_store::{APPENDED, AppendReceipt, EventStore, RefusedEvents, Store};
use tokio::sync::watch;

use super::metrics::Metrics;
use super::spool::{Segment, Spool};

/// Events handed to the writer at a time.
const CHUNK_EVENTS: usize = 2_048;

/// How often the store is reached while nothing is flushed (one listing).
const PROBE_EVERY: Duration = Duration::from_secs(60);

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
/// is left. A line that is not an event (damaged on disk), or an event the store refuses,
/// is kept aside in the spool folder (`<segment>.damaged`, `<segment>.refused`), named in
/// the log and counted in `/metrics`; the rest is stored.
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
        let result = flush_segments(store, spool, metrics, &segments).await;
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
    metrics: &Metrics,
    segments: &[Segment],
) -> anyhow::Result<Flushed> {
    let mut events = Vec::new();
    let mut damaged = Vec::new();
    for segment in segments {
        let read = read_segment(segment).await?;
        events.extend(read.events);
        for line in &read.damaged {
            tracing::error!(at = %format!("{}:{}", segment.path.display(), line.number), error = %line.error, "damaged spool line: kept aside, not stored");
        }
        if !read.damaged.is_empty() {
            damaged.push((segment.clone(), read.damaged));
        }
    }
    // An event the store refuses (another event already holds its identity) is set aside
    // with the reason, and the rest is written again: one bad record must not hold back
    // every later one. Conflicts within the batch are found first, in one pass (a request
    // can carry thousands of records crafted to share identities).
    let mut refused = conflicts_within(&mut events);
    let receipt = loop {
        // Events that conflict with stored ones are left out by the writer in the same
        // pass (each would otherwise cost one more try of the whole commit).
        let set_aside: RefusedEvents = Default::default();
        let result = write_all(store, &events, set_aside.clone()).await;
        // A poisoned lock still holds the events: they were left out of the commit.
        let from_writer = std::mem::take(&mut *set_aside.lock().unwrap_or_else(|p| p.into_inner()));
        let error = match result {
            Ok(receipt) => {
                if let Some((e, reason)) = from_writer.first() {
                    tracing::error!(count = from_writer.len(), first_session_id = %e.session_id, first_seq = e.seq, first_reason = %reason, "spooled events conflict with stored ones: kept aside, not stored");
                }
                refused.extend(from_writer);
                break receipt;
            }
            Err(e) => e,
        };
        // What is left here is an error naming one event (an invalid event, or a conflict
        // from a writer that cannot set conflicts aside): that event is set aside and the
        // rest written again.
        let Some(identity) = refused_identity(&error) else {
            return Err(error);
        };
        // Each round takes at least one event out: the loop ends.
        let taken = identity.take_from(&mut events);
        if taken.is_empty() {
            return Err(error);
        }
        let reason = format!("{error:#}");
        tracing::error!(session_id = %identity.session_id, seq = identity.seq, %reason, "the store refused a spooled event: kept aside, not stored");
        refused.extend(taken.into_iter().map(|e| (e, reason.clone())));
    };
    // What was not stored is kept beside the spool before its segments go.
    for (segment, lines) in &damaged {
        spool.keep_aside(segment, "damaged", lines.iter().map(|l| l.bytes.clone()))?;
        metrics.damaged_lines.inc_by(lines.len() as u64);
    }
    if let Some(first) = segments.first().filter(|_| !refused.is_empty()) {
        let lines = refused.iter().map(|(event, reason)| {
            let reason = serde_json::Value::String(reason.clone());
            format!("{{\"reason\":{reason},\"event\":{}}}", event.to_json()).into_bytes()
        });
        spool.keep_aside(first, "refused", lines)?;
        metrics.refused_events.inc_by(refused.len() as u64);
    }
    // Published: now, and only now, the segments may go.
    spool
        .remove(segments)
        .context("removing flushed spool segments")?;
    Ok(Flushed {
        segments: segments.len(),
        events: receipt.rows(),
        duplicates: receipt.duplicates_dropped,
    })
}

/// Takes out of `events` each one whose identity an earlier, different event of the batch
/// holds (exact copies stay: the writer stores them once), with the reason.
fn conflicts_within(events: &mut Vec<Event>) -> Vec<(Event, String)> {
    let mut first: foldhash::HashMap<(String, u64), usize> = Default::default();
    let mut conflicting = vec![false; events.len()];
    for (i, e) in events.iter().enumerate() {
        match first.entry((e.session_id.clone(), e.seq)) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(i);
            }
            std::collections::hash_map::Entry::Occupied(o) => {
                conflicting[i] = events[*o.get()] != *e;
            }
        }
    }
    let mut refused = Vec::new();
    let mut i = 0;
    events.retain(|e| {
        let keep = !conflicting[i];
        i += 1;
        if !keep {
            refused.push((
                e.clone(),
                format!(
                    "identity conflict: another record of this flush is stored as (session_id {:?}, seq {}) (their hashes collide)",
                    e.session_id, e.seq
                ),
            ));
        }
        keep
    });
    if let Some((e, _)) = refused.first() {
        tracing::error!(count = refused.len(), first_session_id = %e.session_id, first_seq = e.seq, "spooled events share an identity with another of the flush: kept aside, not stored");
    }
    refused
}

/// Writes and commits `events` in one all-or-nothing commit; events that conflict with
/// stored ones are left out and put in `set_aside`.
async fn write_all(
    store: &Store,
    events: &[Event],
    set_aside: RefusedEvents,
) -> anyhow::Result<AppendReceipt> {
    let mut writer = store.writer();
    writer.set_aside_conflicts(set_aside);
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
    writer
        .commit()
        .await
        .context("flushing the spool to the store")
}

/// An identity the store refused to take from the writer's input.
struct RefusedIdentity {
    session_id: String,
    seq: u64,
    /// Both versions were in the input: the first is kept, the later ones set aside.
    keep_first: bool,
}

impl RefusedIdentity {
    /// Takes the input's events of this identity that are refused (see `keep_first`).
    fn take_from(&self, events: &mut Vec<Event>) -> Vec<Event> {
        let mut kept_one = !self.keep_first;
        let mut taken = Vec::new();
        events.retain(|e| {
            if e.session_id != self.session_id || e.seq != self.seq {
                return true;
            }
            if !kept_one {
                kept_one = true;
                return true;
            }
            taken.push(e.clone());
            false
        });
        taken
    }
}

/// The identity behind a store's refusal of one event: a conflict with another version
/// (stored, or in the same input), or an event the model refuses.
fn refused_identity(error: &anyhow::Error) -> Option<RefusedIdentity> {
    error
        .chain()
        .find_map(|e| e.downcast_ref::<kaizen_store::Error>())
        .and_then(|e| match e {
            kaizen_store::Error::Conflict {
                session_id,
                seq,
                first,
                second,
            } => Some(RefusedIdentity {
                session_id: session_id.clone(),
                seq: *seq,
                keep_first: first.starts_with(APPENDED) && second.starts_with(APPENDED),
            }),
            kaizen_store::Error::InvalidEvent {
                session_id, seq, ..
            } => Some(RefusedIdentity {
                session_id: session_id.clone(),
                seq: *seq,
                keep_first: false,
            }),
            _ => None,
        })
}

/// A line of a segment that is not an event (damaged on disk).
pub struct DamagedLine {
    /// 1-based.
    pub number: usize,
    pub bytes: Vec<u8>,
    pub error: String,
}

/// What a segment holds.
struct SegmentEvents {
    events: Vec<Event>,
    damaged: Vec<DamagedLine>,
}

/// A segment's events, and its lines that are not events (bytes after the last newline
/// among them: never acknowledged, see the spool, but kept aside all the same). The error
/// is I/O (retried later).
async fn read_segment(segment: &Segment) -> anyhow::Result<SegmentEvents> {
    let bytes = tokio::fs::read(&segment.path)
        .await
        .with_context(|| segment.path.display().to_string())?;
    let parsed = tokio::task::spawn_blocking(move || {
        let end = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let mut read = SegmentEvents {
            events: Vec::new(),
            damaged: Vec::new(),
        };
        for (i, line) in bytes[..end].split(|b| *b == b'\n').enumerate() {
            if line.is_empty() {
                continue;
            }
            let parsed = std::str::from_utf8(line)
                .map_err(|e| e.to_string())
                .and_then(|text| Event::from_json(text).map_err(|e| e.to_string()));
            match parsed {
                Ok(event) => read.events.push(event),
                Err(error) => read.damaged.push(DamagedLine {
                    number: i + 1,
                    bytes: line.to_vec(),
                    error,
                }),
            }
        }
        // Bytes after the last newline: a write a crash cut short (never acknowledged), or
        // a damaged end. Either way kept aside, never dropped unseen.
        if end < bytes.len() {
            read.damaged.push(DamagedLine {
                number: bytes[..end].iter().filter(|b| **b == b'\n').count() + 1,
                bytes: bytes[end..].to_vec(),
                error: "no newline at the end: a write cut short (never acknowledged), or a damaged end".into(),
            });
        }
        read
    })
    .await?;
    Ok(parsed)
}

/// Creates the store, then flushes whenever a segment is closed, until `stop` turns true;
/// failures (the store unreachable) are logged and retried with a doubling wait (the
/// segments stay in the spool meanwhile, and requests are still taken into it).
pub async fn run(
    store: Store,
    spool: Arc<Spool>,
    metrics: Arc<Metrics>,
    budget: u64,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = Duration::from_secs(1);
    // At once at start: the store is created (or found unreachable) and what the last run
    // left in the spool goes first, while requests are already taken.
    let mut wait = false;
    let mut created = false;
    // When the store was last reached (a listing): at start, then every PROBE_EVERY, so
    // that `_store_up` says whether it can be reached even while nothing is flushed (an
    // object store's `create` sends no request).
    let mut reached: Option<Instant> = None;
    loop {
        if wait {
            tokio::select! {
                _ = spool.segment_closed() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stop.changed() => return,
            }
        }
        if *stop.borrow() {
            return;
        }
        let flushed = async {
            if !created {
                store.create().await.context("creating the store")?;
                created = true;
            }
            if reached.is_none_or(|at| at.elapsed() >= PROBE_EVERY) {
                store
                    .days(&kaizen_store::Query::all())
                    .await
                    .context("reaching the store (listing its days)")?;
                reached = Some(Instant::now());
            }
            flush_all(&store, &spool, &metrics, budget).await
        }
        .await;
        metrics.store_up.set(i64::from(flushed.is_ok()));
        match flushed {
            Ok(_) => {
                wait = true;
                backoff = Duration::from_secs(1);
            }
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), retry_in_s = backoff.as_secs(), "flush failed; the segments stay in the spool");
                wait = false;
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stop.changed() => return,
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}
