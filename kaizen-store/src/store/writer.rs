//! The all-or-nothing writer: buffers events by day, stages sorted files, publishes on commit.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};

use kaizen_core::{Event, UtcDay};

use futures::StreamExt;

use super::StoreOptions;
use super::catalog::{DayFiles, FileEntry};
use super::identities::{APPENDED, FileIdentities, StoredIdentities, WrittenIdentities};
use super::read::DayScan;
use super::retention::sweep_stale_staging;
use super::sink::{FileSink, StagedFile, Staging, Unpublished};
use crate::Query;
use crate::backend::Backend;
use crate::codec::IdentitySummary;
use crate::codec::{EncodedRowGroups, RowGroupFile, encode_row_groups, events_to_batch};
use crate::event_store::{AppendReceipt, EventWriter, WrittenFile};
use crate::{Error, Result, layout};

pub(crate) struct StoreWriter {
    backend: Arc<dyn Backend>,
    options: StoreOptions,
    buffered: BTreeMap<UtcDay, DayBuffer>,
    buffered_rows: usize,
    buffered_bytes: usize,
    /// `write` calls so far.
    writes: u64,
    /// Days being sorted and encoded on the blocking pool, oldest first, while the writer
    /// takes more events: parsing and encoding overlap.
    encoding: VecDeque<Encoding>,
    /// Parts put into files so far: which open file was appended to last.
    parts: u64,
    /// Files that take later parts of their day, by day (none of them being encoded).
    open: BTreeMap<UtcDay, OpenFile>,
    staged: Staging,
    duplicates_dropped: u64,
    /// This writer's identity group, claimed by its files that share no identity with
    /// another of its files of the same day.
    group: Arc<str>,
    identities: Arc<Mutex<WrittenIdentities>>,
    /// The store's identities, loaded at the first part staged: every part is checked
    /// against them (the store's identity rule, where data comes in).
    stored: Option<Arc<StoredIdentities>>,
    /// The identities of this writer's files so far, by day: one identity on two days of
    /// one run is two versions of one event.
    run_days: BTreeMap<UtcDay, IdentitySummary>,
    /// Days where a part shared identities with an earlier file of this writer: their
    /// files are compared event by event before anything is published.
    overlapping_days: BTreeSet<UtcDay>,
    /// Where events conflicting with stored ones go, when the caller asked for that
    /// (`EventWriter::set_aside_conflicts`); else they are an error.
    refused: Option<crate::event_store::RefusedEvents>,
}

/// Days encoded at once while events still arrive: two, so that encoding (the slower side)
/// keeps pace with parsing on a second core; memory holds the buffer and two days being
/// encoded (1M and 3M events: peak RSS 148-167 MB). At commit every core encodes.
const ENCODING_WHILE_WRITING: usize = 2;

/// Rows larger than this on average make a part of huge rows (see `start_encoding`).
const HUGE_ROW_BYTES: usize = 256 << 10;

/// Files kept open for later parts of their day. One is enough for time-ordered input:
/// the day before's tail is staged before the next day's first part (see `write`). More
/// would cost no memory (a file is staged as it grows), but more unfinished uploads.
const OPEN_FILES: usize = 1;

/// A day's part being encoded.
struct Encoding {
    day: UtcDay,
    task: tokio::task::JoinHandle<Result<EncodedPart>>,
}

/// A part of a day, sorted and encoded as row groups, ready to go into a file.
struct EncodedPart {
    groups: EncodedRowGroups,
    rows: usize,
    first_key: OwnedKey,
    last_key: OwnedKey,
    /// No identity of the part is in another file this writer made of the day.
    disjoint: bool,
    /// Exact copies dropped.
    dropped: u64,
}

/// An event's sort key, owned: `(ts_ms, session_id, seq)`.
type OwnedKey = (u64, String, u64);

fn owned_key(e: &Event) -> OwnedKey {
    (e.ts_ms, e.session_id.clone(), e.seq)
}

/// A data file of a day that takes the day's later parts while they sort after its last
/// event: a day written in time order is one file, however often the buffer stages it. Its
/// row groups are staged as they come: memory does not hold the file.
struct OpenFile {
    file: RowGroupFile,
    sink: FileSink,
    rows: usize,
    last_key: OwnedKey,
    /// The part last appended (see `StoreWriter::parts`).
    touched: u64,
}

impl OpenFile {
    /// A new file of `day`, claiming `group` when given.
    async fn open(backend: &dyn Backend, day: UtcDay, group: Option<&str>) -> Result<Self> {
        let path = layout::new_file_path(day);
        let mut file = RowGroupFile::new(&path)?;
        if let Some(group) = group {
            file.set_identity_group(group);
        }
        let sink = FileSink::open(backend, &path, day).await?;
        Ok(OpenFile {
            file,
            sink,
            rows: 0,
            last_key: (0, String::new(), 0),
            touched: 0,
        })
    }

    /// Whether `part` can follow this file's rows: all after its last, sharing no identity
    /// with another file, within the rows a file may hold.
    fn takes(&self, part: &EncodedPart, rows_per_file: usize) -> bool {
        part.disjoint && part.first_key > self.last_key && self.rows + part.rows <= rows_per_file
    }

    async fn append(&mut self, part: EncodedPart, touched: u64) -> Result<()> {
        self.file.append(part.groups)?;
        self.rows += part.rows;
        self.last_key = part.last_key;
        self.touched = touched;
        self.sink.write(self.file.take_written()).await
    }

    /// Writes the footer and stages the whole file; on failure, nothing of it stays.
    async fn finish(self) -> Result<StagedFile> {
        self.sink.finish(self.file.finish(), self.rows as u64).await
    }

    async fn abort(self) -> Result<()> {
        self.sink.abort().await
    }
}

impl StoreWriter {
    pub(crate) fn new(backend: Arc<dyn Backend>, options: StoreOptions) -> Self {
        StoreWriter {
            staged: Staging::new(backend.clone()),
            backend,
            options,
            buffered: BTreeMap::new(),
            buffered_rows: 0,
            buffered_bytes: 0,
            writes: 0,
            encoding: VecDeque::new(),
            parts: 0,
            open: BTreeMap::new(),
            duplicates_dropped: 0,
            group: uuid::Uuid::now_v7().to_string().into(),
            identities: Arc::default(),
            stored: None,
            run_days: BTreeMap::new(),
            overlapping_days: BTreeSet::new(),
            refused: None,
        }
    }

    /// The store's identities, loaded once.
    async fn stored(&mut self) -> Result<Arc<StoredIdentities>> {
        if let Some(stored) = &self.stored {
            return Ok(stored.clone());
        }
        let stored = Arc::new(StoredIdentities::load(&self.backend).await?);
        self.stored = Some(stored.clone());
        Ok(stored)
    }

    /// Hands a day's buffered events to the blocking pool to be sorted, de-duplicated and
    /// encoded, first waiting for older encodings while `limit` are under way.
    async fn start_encoding(&mut self, day: UtcDay, limit: usize) -> Result<()> {
        let Some(DayBuffer {
            mut chunks,
            rows,
            bytes,
            ..
        }) = self.buffered.remove(&day)
        else {
            return Ok(());
        };
        self.buffered_rows -= rows;
        self.buffered_bytes -= bytes;
        // Exact copies of stored events are stored already; other versions are refused.
        // A stored file that vanishes meanwhile (a compaction replaced it) means loading
        // the store's identities again, a bounded number of times.
        let batch_rows = self.options.batch_rows;
        let mut attempt = 1;
        loop {
            let stored = self.stored().await?;
            let mut refused = self.refused.as_ref().map(|_| Vec::new());
            match (stored.check(&self.backend, &mut chunks, batch_rows, refused.as_mut())).await {
                Ok(copies) => {
                    self.duplicates_dropped += copies;
                    if let (Some(sink), Some(refused)) = (&self.refused, refused) {
                        // A poisoned lock still holds the list: these events are left out
                        // of the append, so they must reach it.
                        let mut sink = sink.lock().unwrap_or_else(|p| p.into_inner());
                        sink.extend(refused);
                    }
                    break;
                }
                Err(e) if e.is_vanished_file() && attempt < 8 => {
                    self.stored = None;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
        if chunks.iter().all(Vec::is_empty) {
            return Ok(());
        }
        // Parts of huge rows (tool results carrying images: megabytes an event) encode one
        // at a time: two such parts in flight doubled the memory for no gain, as a few
        // large values compress at the same speed on one core or two. Ordinary rows keep
        // two parts encoding beside the parser.
        let huge = bytes / rows.max(1) > HUGE_ROW_BYTES;
        let limit = match huge {
            true => 1,
            false => limit,
        };
        while self.encoding.len() >= limit.max(1) {
            self.stage_oldest().await?;
        }
        let identities = self.identities.clone();
        let task = tokio::task::spawn_blocking(move || {
            let (events, dropped) = sorted_without_copies(&chunks);
            // A day is buffered only with events: the keys are there.
            let key = |e: Option<&&Event>| e.map(|e| owned_key(e)).unwrap_or_default();
            let (first_key, last_key) = (key(events.first()), key(events.last()));
            // Every identity once (else the error of the one twice), and the day's record.
            let file = FileIdentities::of(&events)?;
            // A poisoned lock means an encoding panicked mid-record: claim nothing.
            let disjoint = (identities.lock()).is_ok_and(|mut w| w.add(day, file));
            let batch = events_to_batch(&events);
            let rows = events.len();
            // The batch holds the part now: one copy in memory, not two.
            drop(events);
            drop(chunks);
            Ok(EncodedPart {
                groups: encode_row_groups(&batch, &layout::day_dir(day))?,
                rows,
                first_key,
                last_key,
                disjoint,
                dropped,
            })
        });
        self.encoding.push_back(Encoding { day, task });
        // A part of huge rows is staged before `write` returns: a caller that waits for
        // it (an import handing over a 50 MB line) then holds one such part in memory,
        // not one being encoded and the next being read.
        if huge {
            self.stage_oldest().await?;
        }
        Ok(())
    }

    /// Waits for the oldest encoding and appends it to its day's open file, or to a new
    /// one; stages the files that are done. Parts go into files in the order they were
    /// handed to encoding.
    async fn stage_oldest(&mut self) -> Result<()> {
        let Some(Encoding { day, task }) = self.encoding.pop_front() else {
            return Ok(());
        };
        let part = task
            .await
            .map_err(|e| Error::io(layout::day_dir(day), std::io::Error::other(e)))??;
        self.duplicates_dropped += part.dropped;
        self.parts += 1;
        self.record_run_identities(day, &part)?;
        let rows_per_file = self.options.rows_per_file.max(1);
        let mut file = match self.open.remove(&day) {
            Some(open) if open.takes(&part, rows_per_file) => open,
            open => {
                if let Some(open) = open {
                    self.stage(open).await?;
                }
                let group = part.disjoint.then_some(&*self.group);
                OpenFile::open(self.backend.as_ref(), day, group).await?
            }
        };
        if let Err(e) = file.append(part, self.parts).await {
            let _ = file.abort().await;
            return Err(e);
        }
        self.open.insert(day, file);
        while self.open.len() > OPEN_FILES {
            let oldest = (self.open.iter())
                .min_by_key(|(_, f)| f.touched)
                .map(|(day, _)| *day);
            if let Some(file) = oldest.and_then(|day| self.open.remove(&day)) {
                self.stage(file).await?;
            }
        }
        Ok(())
    }

    /// Records a part's identities in the run's: one on another day of the run is a
    /// conflict; one on the same day marks the day for the check before publishing.
    fn record_run_identities(&mut self, day: UtcDay, part: &EncodedPart) -> Result<()> {
        let identities = part.groups.identities();
        for (other, known) in self.run_days.iter().filter(|(d, _)| **d != day) {
            if let Some((session_id, seq)) = known.first_shared(identities) {
                return Err(Error::Conflict {
                    session_id,
                    seq,
                    first: format!("{APPENDED} (on {other})"),
                    second: format!("{APPENDED} (on {day})"),
                });
            }
        }
        if !part.disjoint {
            self.overlapping_days.insert(day);
        }
        self.run_days.entry(day).or_default().extend(identities);
        Ok(())
    }

    /// This writer's staged files of each day where its parts share identities: read
    /// merged, comparing every column, before anything is published, so that two versions
    /// of one event are refused (copies are read once, as every reader does).
    fn overlapping_day_files(&self) -> Vec<(UtcDay, Vec<FileEntry>)> {
        let mut days = Vec::new();
        for &day in &self.overlapping_days {
            let files: Vec<FileEntry> = (self.staged.files().iter())
                .filter(|StagedFile { file, .. }| file.day == day)
                .map(|StagedFile { staged, .. }| FileEntry {
                    path: staged.staging_path.clone(),
                    size: staged.size,
                    day,
                    kind: layout::DataFileKind::Partitioned,
                })
                .collect();
            days.push((day, files));
        }
        days
    }

    /// Finishes `file`; it is published at commit.
    async fn stage(&mut self, file: OpenFile) -> Result<()> {
        self.staged.push(file.finish().await?);
        Ok(())
    }

    /// Encodes and stages every buffered day, `parallel` at a time, then the open files.
    async fn stage_all(&mut self, parallel: usize) -> Result<()> {
        let days: Vec<UtcDay> = self.buffered.keys().copied().collect();
        for day in days {
            self.start_encoding(day, parallel).await?;
        }
        while !self.encoding.is_empty() {
            self.stage_oldest().await?;
        }
        // One at a time out of `open`: on a failure, the rest are still there to discard.
        while let Some((_, file)) = self.open.pop_first() {
            self.stage(file).await?;
        }
        Ok(())
    }

    async fn discard_all(&mut self) -> Result<()> {
        // An encoding under way has staged nothing yet: dropping it is enough.
        self.encoding.clear();
        let mut first_error = None;
        for file in std::mem::take(&mut self.open).into_values() {
            if let Err(e) = file.abort().await {
                first_error.get_or_insert(e);
            }
        }
        let staged = std::mem::replace(&mut self.staged, Staging::new(self.backend.clone()));
        if let Err(e) = staged.discard().await {
            first_error.get_or_insert(e);
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// Reads each day's `files` merged, comparing every column: two versions of one identity
/// are the error of the events being appended.
async fn check_days_read_once(
    backend: Arc<dyn Backend>,
    days: Vec<(UtcDay, Vec<FileEntry>)>,
    batch_rows: usize,
) -> Result<()> {
    for (day, files) in days {
        let scan = DayScan::new(backend.clone(), day, Arc::new(Query::all()), batch_rows)
            .trusting_payloads();
        let day_files = DayFiles {
            files,
            compactions: BTreeSet::new(),
        };
        let mut rows = scan.stream(day_files);
        while let Some(batch) = rows.next().await {
            if let Err(Error::Conflict {
                session_id, seq, ..
            }) = batch
            {
                return Err(Error::Conflict {
                    session_id,
                    seq,
                    first: APPENDED.to_owned(),
                    second: APPENDED.to_owned(),
                });
            }
            batch?;
        }
    }
    Ok(())
}

/// One day's events waiting to be staged, in the chunks they came in (never copied to
/// grow one vector), and about how much memory they take.
#[derive(Default)]
struct DayBuffer {
    chunks: Vec<Vec<Event>>,
    rows: usize,
    bytes: usize,
    /// The `write` call that last brought this day events.
    last_write: u64,
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

/// Lists the folder of every published file (once a folder) and fails when one of them is
/// readable but not listed: a write that readers cannot find is an error, never a silent
/// success. (A file neither listed nor readable was taken by a compaction meanwhile.)
async fn confirm_visible(backend: &dyn Backend, files: &[WrittenFile]) -> Result<()> {
    let mut by_dir: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for file in files {
        let dir = layout::parent_dir(&file.path);
        by_dir.entry(dir).or_default().push(&file.path);
    }
    for (dir, paths) in by_dir {
        let listed: BTreeSet<String> = (backend.list(dir).await?.files)
            .into_iter()
            .map(|f| f.path)
            .collect();
        for path in paths.into_iter().filter(|p| !listed.contains(*p)) {
            match backend.get_range(path, 0..1).await {
                Err(Error::NotFound { .. }) => {}
                _ => {
                    return Err(Error::NotVisible {
                        path: path.to_owned(),
                        dir: format!("{}/{dir}", backend.location().trim_end_matches('/')),
                    });
                }
            }
        }
    }
    Ok(())
}

/// How many of `events` (from the first) fit in `rows` and `bytes` (as [`approx_size`]
/// counts them), and their size: zero when the first alone is over `bytes`.
fn fitting(events: &[Event], rows: usize, bytes: usize) -> (usize, usize) {
    let mut size = 0;
    for (i, e) in events.iter().take(rows).enumerate() {
        let next = approx_size(e);
        if size + next > bytes {
            return (i, size);
        }
        size += next;
    }
    (events.len().min(rows), size)
}

/// The events in `(ts_ms, session_id, seq)` order, one copy of each; and the copies
/// dropped. Sorts references, not the events themselves. (Unstable is enough: events with
/// one key are either copies, adjacent whatever their order, or a conflict found next.)
fn sorted_without_copies(chunks: &[Vec<Event>]) -> (Vec<&Event>, u64) {
    let mut events: Vec<&Event> = chunks.iter().flatten().collect();
    events.sort_unstable_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let before = events.len();
    events.dedup_by(|later, earlier| later == earlier);
    let dropped = (before - events.len()) as u64;
    (events, dropped)
}

/// Splits events by their day, refusing one whose day the layout cannot name. A chunk all
/// of one day, the usual case, is kept as it is.
fn by_day(events: Vec<Event>) -> Result<Vec<(UtcDay, Vec<Event>)>> {
    let days = events
        .iter()
        .map(|event| {
            event.day().map_err(|source| Error::InvalidEvent {
                session_id: event.session_id.clone(),
                seq: event.seq,
                source: Box::new(source),
            })
        })
        .collect::<Result<Vec<UtcDay>>>()?;
    let Some(&first) = days.first() else {
        return Ok(Vec::new());
    };
    if days.iter().all(|d| *d == first) {
        return Ok(vec![(first, events)]);
    }
    let mut split: BTreeMap<UtcDay, Vec<Event>> = BTreeMap::new();
    for (event, day) in events.into_iter().zip(days) {
        split.entry(day).or_default().push(event);
    }
    Ok(split.into_iter().collect())
}

#[async_trait::async_trait]
impl EventWriter for StoreWriter {
    async fn write(&mut self, events: Vec<Event>) -> Result<()> {
        let rows_per_file = self.options.rows_per_file.max(1);
        self.writes += 1;
        for (day, mut events) in by_day(events)? {
            while !events.is_empty() {
                let max_bytes = self.options.max_buffered_bytes;
                let bucket = self.buffered.entry(day).or_default();
                bucket.last_write = self.writes;
                // A full day is staged at once: no file gets more than `rows_per_file` rows,
                // and no part more than the buffer's bytes (but one event), however many
                // events one call brings.
                let room = rows_per_file - bucket.rows;
                let (mut take, mut size) =
                    fitting(&events, room, max_bytes.saturating_sub(bucket.bytes));
                if take == 0 && bucket.rows == 0 {
                    // One event larger than the buffer is a part alone.
                    (take, size) = (1, approx_size(&events[0]));
                }
                if take == 0 {
                    // The next event would take the day over the buffer: its part goes first.
                    self.start_encoding(day, ENCODING_WHILE_WRITING).await?;
                    continue;
                }
                let rest = match events.len() > take {
                    true => events.split_off(take),
                    false => Vec::new(),
                };
                bucket.rows += events.len();
                bucket.bytes += size;
                self.buffered_rows += events.len();
                self.buffered_bytes += size;
                bucket.chunks.push(events);
                if bucket.rows >= rows_per_file || bucket.bytes >= max_bytes {
                    self.start_encoding(day, ENCODING_WHILE_WRITING).await?;
                }
                events = rest;
            }
        }
        while self.buffered_rows > self.options.max_buffered_rows
            || self.buffered_bytes > self.options.max_buffered_bytes
        {
            // A day this call brought nothing (in time-ordered input, the day before's
            // tail) goes first: left in the buffer, it would crowd the day being written
            // into files of half the size. Then the largest.
            let next = self
                .buffered
                .iter()
                .max_by_key(|(_, b)| (b.last_write != self.writes, b.bytes))
                .map(|(d, _)| *d);
            match next {
                Some(day) => self.start_encoding(day, ENCODING_WHILE_WRITING).await?,
                None => break,
            }
        }
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> Result<AppendReceipt> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let staged = match self.stage_all(cores).await {
            Ok(()) => {
                let days = self.overlapping_day_files();
                let (backend, batch_rows) = (self.backend.clone(), self.options.batch_rows);
                check_days_read_once(backend, days, batch_rows).await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = staged {
            let _ = self.discard_all().await;
            return Err(e);
        }
        let staged = std::mem::replace(&mut self.staged, Staging::new(self.backend.clone()));
        let receipt = match staged.publish().await {
            Ok(files) => AppendReceipt {
                files,
                duplicates_dropped: self.duplicates_dropped,
            },
            // What was published stays (it is whole and a rerun does not duplicate it);
            // what was not is removed.
            Err(Unpublished { published, error }) if published.is_empty() => return Err(error),
            Err(Unpublished { published, error }) => {
                return Err(Error::PartlyPublished {
                    published: published.into_iter().map(|f| f.path).collect(),
                    source: Box::new(error),
                });
            }
        };
        confirm_visible(self.backend.as_ref(), &receipt.files).await?;
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

    fn set_aside_conflicts(&mut self, refused: crate::event_store::RefusedEvents) -> bool {
        self.refused = Some(refused);
        true
    }
}

#[cfg(test)]
mod tests {
    use kaizen_core::{EventKind, EventSource};

    use super::*;
    use crate::backend::{StageWriter, Staged};

    fn event(session: &str, seq: u64, ts_ms: u64) -> Event {
        Event::new(session, seq, ts_ms, EventKind::Message, EventSource::Tail)
    }

    #[test]
    fn copies_across_chunks_are_kept_once_and_a_differing_twin_is_a_conflict() {
        let chunks = vec![
            vec![event("a", 2, 30), event("b", 1, 10), event("a", 1, 20)],
            vec![event("a", 1, 20), event("b", 1, 10), event("b", 1, 10)],
        ];
        let (sorted, dropped) = sorted_without_copies(&chunks);
        let keys: Vec<_> = sorted.iter().map(|e| e.sort_key()).collect();
        assert_eq!(keys, [(10, "b", 1), (20, "a", 1), (30, "a", 2)]);
        assert_eq!(dropped, 3);
        assert!(FileIdentities::of(&sorted).is_ok());

        // A twin with one identity and other content, between copies, survives the sort
        // whatever its place: the identity check refuses the file.
        let mut twin = event("b", 1, 10);
        twin.tool = Some("edit".into());
        let mut chunks = chunks;
        chunks[1].insert(2, twin.clone());
        let (sorted, _) = sorted_without_copies(&chunks);
        assert!(sorted.contains(&&twin));
        let keys: Vec<_> = sorted.iter().map(|e| e.sort_key()).collect();
        assert!(keys.is_sorted());
        assert!(matches!(
            FileIdentities::of(&sorted),
            Err(Error::Conflict { seq: 1, .. })
        ));
    }

    /// A backend whose listings show nothing: a store whose writes land where its reads
    /// do not look.
    #[derive(Debug)]
    struct ListsNothing(crate::backend::LocalBackend);

    #[async_trait::async_trait]
    impl Backend for ListsNothing {
        fn location(&self) -> String {
            self.0.location()
        }
        async fn list(&self, _dir: &str) -> Result<crate::backend::Listing> {
            Ok(crate::backend::Listing::default())
        }
        async fn get_range(&self, path: &str, range: std::ops::Range<u64>) -> Result<bytes::Bytes> {
            self.0.get_range(path, range).await
        }
        async fn stage_writer(&self, path: &str) -> Result<Box<dyn StageWriter>> {
            self.0.stage_writer(path).await
        }
        async fn publish(&self, staged: &Staged) -> Result<()> {
            self.0.publish(staged).await
        }
        async fn discard(&self, staged: &Staged) -> Result<()> {
            self.0.discard(staged).await
        }
        async fn delete(&self, path: &str) -> Result<()> {
            self.0.delete(path).await
        }
    }

    #[tokio::test]
    async fn a_commit_whose_files_no_listing_shows_is_an_error() {
        let dir = tempfile::tempdir().expect("tmp");
        let backend = ListsNothing(crate::backend::LocalBackend::new(dir.path()));
        let writer = StoreWriter::new(Arc::new(backend), StoreOptions::default());
        let mut writer: Box<dyn EventWriter> = Box::new(writer);
        writer.write(vec![event("a", 0, 5)]).await.expect("write");
        let err = writer.commit().await.expect_err("not visible");
        assert!(matches!(err, Error::NotVisible { .. }), "{err}");
    }

    #[test]
    fn events_are_split_by_day_and_a_day_out_of_range_is_refused() {
        const DAY: u64 = 86_400_000;
        let one_day = vec![event("a", 0, 5), event("a", 1, 6)];
        let split = by_day(one_day).expect("valid");
        assert_eq!(split.len(), 1);
        assert_eq!(split[0].1.len(), 2);

        let mixed = vec![event("a", 0, DAY + 1), event("a", 1, 2), event("a", 2, DAY)];
        let split = by_day(mixed).expect("valid");
        let seqs: Vec<(u32, Vec<u64>)> = split
            .iter()
            .map(|(day, events)| {
                let seqs = events.iter().map(|e| e.seq).collect();
                (day.days_since_epoch(), seqs)
            })
            .collect();
        assert_eq!(seqs, [(0, vec![1]), (1, vec![0, 2])]);

        let err = by_day(vec![event("a", 0, 1), event("z", 9, u64::MAX)]).err();
        assert!(
            matches!(err, Some(Error::InvalidEvent { ref session_id, seq: 9, .. }) if session_id == "z")
        );
    }
}
