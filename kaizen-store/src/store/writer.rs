//! The all-or-nothing writer: buffers events by day, stages sorted files, publishes on commit.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};

use kaizen_core::{Event, UtcDay};

use super::StoreOptions;
use super::identities::{FileIdentities, WrittenIdentities};
use crate::backend::{Backend, Staged};
use crate::codec::{FileEncoder, events_to_batch};
use crate::event_store::{AppendReceipt, EventWriter, WrittenFile};
use crate::{Error, Result, layout};

pub(crate) struct StoreWriter {
    backend: Arc<dyn Backend>,
    options: StoreOptions,
    buffered: BTreeMap<UtcDay, DayBuffer>,
    buffered_rows: usize,
    buffered_bytes: usize,
    /// Days being sorted and encoded on the blocking pool, oldest first, while the writer
    /// takes more events: parsing and encoding overlap.
    encoding: VecDeque<Encoding>,
    staged: Vec<(Staged, WrittenFile)>,
    duplicates_dropped: u64,
    /// This writer's identity group, claimed by its files that share no identity with
    /// another of its files of the same day.
    group: Arc<str>,
    identities: Arc<Mutex<WrittenIdentities>>,
}

/// Days encoded at once while events still arrive: one, so that memory holds the buffer
/// and one day being encoded. At commit nothing arrives any more and every core encodes.
const ENCODING_WHILE_WRITING: usize = 1;

/// A day's file being encoded.
struct Encoding {
    day: UtcDay,
    path: String,
    task: tokio::task::JoinHandle<Result<Encoded>>,
}

/// An encoded day: the file's bytes, its rows and the exact copies dropped.
struct Encoded {
    bytes: bytes::Bytes,
    rows: u64,
    dropped: u64,
}

impl StoreWriter {
    pub(crate) fn new(backend: Arc<dyn Backend>, options: StoreOptions) -> Self {
        StoreWriter {
            backend,
            options,
            buffered: BTreeMap::new(),
            buffered_rows: 0,
            buffered_bytes: 0,
            encoding: VecDeque::new(),
            staged: Vec::new(),
            duplicates_dropped: 0,
            group: uuid::Uuid::now_v7().to_string().into(),
            identities: Arc::default(),
        }
    }

    /// Hands a day's buffered events to the blocking pool to be sorted, de-duplicated and
    /// encoded, first waiting for older encodings while `limit` are under way.
    async fn start_encoding(&mut self, day: UtcDay, limit: usize) -> Result<()> {
        let Some(DayBuffer { events, bytes }) = self.buffered.remove(&day) else {
            return Ok(());
        };
        self.buffered_rows -= events.len();
        self.buffered_bytes -= bytes;
        while self.encoding.len() >= limit.max(1) {
            self.stage_oldest().await?;
        }
        let path = layout::new_file_path(day);
        let encode_path = path.clone();
        let (group, identities) = (self.group.clone(), self.identities.clone());
        let task = tokio::task::spawn_blocking(move || {
            let (events, dropped) = sorted_without_copies(events);
            // Every identity once (else the error of the one twice), and the day's record.
            let file = FileIdentities::of(&events)?;
            // A poisoned lock means an encoding panicked mid-record: claim nothing.
            let disjoint = (identities.lock()).is_ok_and(|mut w| w.add(day, file));
            let batch = events_to_batch(&events);
            drop(events); // the batch holds the day now: one copy in memory, not two
            let mut encoder = FileEncoder::new(&encode_path, batch.schema())?;
            if disjoint {
                encoder.set_identity_group(&group);
            }
            encoder.write(&batch)?;
            let bytes = encoder.finish()?;
            let rows = batch.num_rows() as u64;
            Ok(Encoded {
                bytes,
                rows,
                dropped,
            })
        });
        self.encoding.push_back(Encoding { day, path, task });
        Ok(())
    }

    /// Waits for the oldest encoding and stages its file.
    async fn stage_oldest(&mut self) -> Result<()> {
        let Some(Encoding { day, path, task }) = self.encoding.pop_front() else {
            return Ok(());
        };
        let encoded = task
            .await
            .map_err(|e| Error::io(&path, std::io::Error::other(e)))??;
        self.duplicates_dropped += encoded.dropped;
        let staged = self.backend.stage(&path, encoded.bytes).await?;
        let file = WrittenFile {
            path,
            day,
            rows: encoded.rows,
            bytes: staged.size,
        };
        self.staged.push((staged, file));
        Ok(())
    }

    /// Encodes and stages every buffered day, `parallel` at a time.
    async fn stage_all(&mut self, parallel: usize) -> Result<()> {
        let days: Vec<UtcDay> = self.buffered.keys().copied().collect();
        for day in days {
            self.start_encoding(day, parallel).await?;
        }
        while !self.encoding.is_empty() {
            self.stage_oldest().await?;
        }
        Ok(())
    }

    async fn discard_all(&mut self) -> Result<()> {
        // An encoding under way has staged nothing yet: dropping it is enough.
        self.encoding.clear();
        let mut first_error = None;
        for (staged, _) in self.staged.drain(..) {
            if let Err(e) = self.backend.discard(&staged).await {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// One day's events waiting to be staged, and about how much memory they take.
#[derive(Default)]
struct DayBuffer {
    events: Vec<Event>,
    bytes: usize,
}

/// About the memory an event takes: the struct and the text it owns.
fn approx_size(e: &Event) -> usize {
    let text = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    std::mem::size_of::<Event>()
        + e.session_id.len()
        + e.payload.as_json_text().len()
        + text(&e.tool)
        + text(&e.tool_call_id)
        + text(&e.stop_reason)
}

/// A staging file older than this was left by a writer that died; the next writer to
/// publish in its folder removes it. (A live writer's files are far younger.)
pub(crate) const STALE_STAGING_MS: u64 = 24 * 3_600_000;

/// Removes stale staging files from `dirs`. Best effort: a failure leaves a file no reader
/// takes for data.
async fn sweep_stale_staging(backend: &dyn Backend, dirs: BTreeSet<String>) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    for dir in dirs {
        let Ok(listing) = backend.list(&dir).await else {
            continue;
        };
        for file in listing.files {
            let stale =
                layout::staging_created_ms(&file.path).is_some_and(|t| t + STALE_STAGING_MS < now);
            if stale {
                let _ = backend.delete(&file.path).await;
            }
        }
    }
}

/// Sorts by `(ts_ms, session_id, seq)` and keeps one copy of each event; returns the
/// copies dropped.
fn sorted_without_copies(mut events: Vec<Event>) -> (Vec<Event>, u64) {
    events.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let before = events.len();
    events.dedup_by(|later, earlier| later == earlier);
    let dropped = (before - events.len()) as u64;
    (events, dropped)
}

#[async_trait::async_trait]
impl EventWriter for StoreWriter {
    async fn write(&mut self, events: Vec<Event>) -> Result<()> {
        for event in events {
            let day = event.day().map_err(|source| Error::InvalidEvent {
                session_id: event.session_id.clone(),
                seq: event.seq,
                source: Box::new(source),
            })?;
            let size = approx_size(&event);
            let bucket = self.buffered.entry(day).or_default();
            bucket.events.push(event);
            bucket.bytes += size;
            let full = bucket.events.len() >= self.options.rows_per_file;
            self.buffered_rows += 1;
            self.buffered_bytes += size;
            // A full day is staged at once: no file gets more than `rows_per_file` rows,
            // however many events one call brings.
            if full {
                self.start_encoding(day, ENCODING_WHILE_WRITING).await?;
            }
        }
        while self.buffered_rows > self.options.max_buffered_rows
            || self.buffered_bytes > self.options.max_buffered_bytes
        {
            let largest = self
                .buffered
                .iter()
                .max_by_key(|(_, b)| b.bytes)
                .map(|(d, _)| *d);
            match largest {
                Some(day) => self.start_encoding(day, ENCODING_WHILE_WRITING).await?,
                None => break,
            }
        }
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> Result<AppendReceipt> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        if let Err(e) = self.stage_all(cores).await {
            let _ = self.discard_all().await;
            return Err(e);
        }
        let mut receipt = AppendReceipt {
            files: Vec::with_capacity(self.staged.len()),
            duplicates_dropped: self.duplicates_dropped,
        };
        let staged = std::mem::take(&mut self.staged);
        let mut rest = staged.into_iter();
        for (staged, file) in rest.by_ref() {
            if let Err(e) = self.backend.publish(&staged).await {
                // What was published stays (it is whole and a rerun does not duplicate it);
                // what was not is removed.
                let _ = self.backend.discard(&staged).await;
                for (staged, _) in rest {
                    let _ = self.backend.discard(&staged).await;
                }
                if receipt.files.is_empty() {
                    return Err(e);
                }
                return Err(Error::PartlyPublished {
                    published: receipt.files.into_iter().map(|f| f.path).collect(),
                    source: Box::new(e),
                });
            }
            receipt.files.push(file);
        }
        let mut dirs: BTreeSet<String> = (receipt.files.iter())
            .filter_map(|f| f.path.rsplit_once('/').map(|(dir, _)| dir.to_owned()))
            .collect();
        dirs.insert(layout::EVENTS_DIR.to_owned());
        sweep_stale_staging(self.backend.as_ref(), dirs).await;
        Ok(receipt)
    }

    async fn abort(mut self: Box<Self>) -> Result<()> {
        self.buffered.clear();
        self.discard_all().await
    }
}
