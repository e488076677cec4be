//! The one trait every store implements, and what its operations return.

use std::collections::BTreeSet;
use std::fmt;
use std::pin::Pin;

use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use futures::{Stream, TryStreamExt};
use kaizen_core::{Event, UtcDay};

use crate::codec::batch_to_events;
use crate::{Query, Result};

/// A stream of record batches in `(ts_ms, session_id, seq)` order.
pub type BatchStream = Pin<Box<dyn Stream<Item = Result<RecordBatch>> + Send>>;

/// A data file an append published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFile {
    /// Its path in the store (`cold/events/day=…/<uuid-v7>.parquet`).
    pub path: String,
    /// The day it holds.
    pub day: UtcDay,
    /// Events in it.
    pub rows: u64,
    /// Its size.
    pub bytes: u64,
}

impl WrittenFile {
    /// The file `staged` holds: `rows` rows of `day`.
    pub(crate) fn staged(staged: &crate::backend::Staged, day: UtcDay, rows: u64) -> Self {
        WrittenFile {
            path: staged.path.clone(),
            day,
            rows,
            bytes: staged.size,
        }
    }
}

/// What an append published.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppendReceipt {
    /// Every file published (none when every event was stored already).
    pub files: Vec<WrittenFile>,
    /// Events given that were exact copies of another event of the same append: stored once.
    pub duplicates_dropped: u64,
}

impl AppendReceipt {
    /// Events written: what the append added (events already stored are not counted).
    pub fn rows(&self) -> u64 {
        self.files.iter().map(|f| f.rows).sum()
    }

    /// Bytes published.
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes).sum()
    }

    /// The days the append wrote to.
    pub fn days(&self) -> BTreeSet<UtcDay> {
        self.files.iter().map(|f| f.day).collect()
    }
}

/// One day of the store, from the files' footers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// The UTC day.
    pub day: UtcDay,
    /// Its data files (v1 files included).
    pub files: usize,
    /// Rows stored, counting an event stored in two files twice.
    pub rows: u64,
    /// The files' sizes together.
    pub bytes: u64,
    /// The earliest `ts_ms` (ms since the epoch) the footers' statistics show; `None`
    /// when a file has none.
    pub min_ts_ms: Option<u64>,
    /// The latest, as `min_ts_ms`.
    pub max_ts_ms: Option<u64>,
}

/// A data file prune removed (or would remove, on a dry run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrunedFile {
    /// Its path in the store.
    pub path: String,
    /// The day it held.
    pub day: UtcDay,
    /// Its size.
    pub bytes: u64,
}

/// What a prune removed: whole data files of days before a cutoff, never anything else
/// under the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PruneReport {
    /// The cutoff: days before it were pruned, it and later kept.
    pub before: UtcDay,
    /// Nothing was removed; `files` is what would have been.
    pub dry_run: bool,
    /// The files removed.
    pub files: Vec<PrunedFile>,
}

/// Writes events in one all-or-nothing unit: nothing is visible before [`EventWriter::commit`],
/// and [`EventWriter::abort`] leaves the store as it was.
#[async_trait]
pub trait EventWriter: Send {
    /// Buffers events and stages full files; nothing becomes visible.
    async fn write(&mut self, events: Vec<Event>) -> Result<()>;

    /// Stages what is buffered, then publishes every staged file.
    async fn commit(self: Box<Self>) -> Result<AppendReceipt>;

    /// Removes every staged file.
    async fn abort(self: Box<Self>) -> Result<()>;

    /// From now on, an event whose identity the store holds with other content is not an
    /// error ([`crate::Error::Conflict`]) but is left out of the append and pushed to
    /// `refused`, with the conflict's message: for a caller that must keep going past a few
    /// bad events in one pass (`kaizen serve`'s flush), not retry once per event. Exact
    /// copies of stored events are dropped as always. Returns false for a writer that
    /// cannot (its conflicts stay errors); the store's own writer can.
    fn set_aside_conflicts(&mut self, refused: RefusedEvents) -> bool {
        let _ = refused;
        false
    }
}

/// Where [`EventWriter::set_aside_conflicts`] puts the events it leaves out: each with the
/// message of its conflict (naming the stored file).
pub type RefusedEvents = std::sync::Arc<std::sync::Mutex<Vec<(Event, String)>>>;

/// A store of events partitioned by UTC day.
#[async_trait]
pub trait EventStore: Send + Sync + fmt::Debug {
    /// Where the store lives, for messages (a folder or a URL without secrets).
    fn location(&self) -> String;

    /// Starts an all-or-nothing write.
    fn writer(&self) -> Box<dyn EventWriter>;

    /// Writes events as new files, one or more per day. An event's identity is
    /// `(session_id, seq)`: exact copies are stored once; two different events with one
    /// identity are refused.
    async fn append(&self, events: Vec<Event>) -> Result<AppendReceipt> {
        let mut writer = self.writer();
        match writer.write(events).await {
            Ok(()) => writer.commit().await,
            Err(e) => {
                // The write's own error is what the caller needs; a failed clean-up leaves
                // only staging files, which no reader takes for data.
                let _ = writer.abort().await;
                Err(e)
            }
        }
    }

    /// Streams the events that match `query`, sorted by `(ts_ms, session_id, seq)`, each
    /// identity once. Two different events with one identity fail the scan with
    /// [`crate::Error::Conflict`].
    async fn scan(&self, query: Query) -> Result<BatchStream>;

    /// Per day: files, rows, bytes and time span, from the files' footers.
    async fn partitions(&self) -> Result<Vec<Partition>>;

    /// Removes every data file of the days before `before` (never a foreign file).
    async fn prune(&self, before: UtcDay, dry_run: bool) -> Result<PruneReport>;

    /// Scans into events. The query must ask for every column; this holds the result in memory.
    async fn scan_events(&self, query: Query) -> Result<Vec<Event>> {
        let query = Query {
            columns: None,
            ..query
        };
        events_of(self.scan(query).await?, &self.location()).await
    }
}

/// The events of a scan's batches, held in memory (errors name `location`).
pub(crate) async fn events_of(batches: BatchStream, location: &str) -> Result<Vec<Event>> {
    let batches: Vec<RecordBatch> = batches.try_collect().await?;
    let mut events = Vec::new();
    for batch in &batches {
        events.extend(batch_to_events(batch, location)?);
    }
    Ok(events)
}
