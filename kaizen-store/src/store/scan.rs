//! A scan: the days in range, each day's live files opened as sorted, filtered streams,
//! merged (or read one after another when no two can hold one event). A day whose files
//! change under the scan (a compaction or prune removed one) is listed again and resumed
//! after the last time given whole, a bounded number of times.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use arrow::array::{Array, BooleanArray, RecordBatch, StringArray, UInt64Array};
use arrow::buffer::BooleanBuffer;
use arrow::compute::kernels::{boolean, cmp};
use arrow::compute::{
    SortColumn, concat_batches, lexsort_to_indices, prep_null_mask_filter, take_record_batch,
};
use std::panic::AssertUnwindSafe;

use arrow::error::ArrowError;
use futures::{FutureExt, StreamExt, TryStreamExt, stream};
use kaizen_core::{Field, UtcDay};
use parquet::arrow::arrow_reader::{
    ArrowPredicateFn, ArrowReaderMetadata, ArrowReaderOptions, RowFilter,
};
use parquet::arrow::{ParquetRecordBatchStreamBuilder, ProjectionMask};
use parquet::errors::ParquetError;
use parquet::file::metadata::{PageIndexPolicy, ParquetMetaData};

use super::catalog::{self, DayFiles, FileEntry};
use super::merge::{MergeInput, merge_sorted};
use crate::backend::{Backend, BackendFileReader};
use crate::codec::{
    EventColumns, FileFacts, IdentitySummary, batch_rows_for, check_file, check_schema,
    derive_columns, file_facts, projected_schema,
};
use crate::event_store::BatchStream;
use crate::{Error, IdentityLedger, Query, Result};

/// The sort key: the merge reads these columns whatever the query asks for.
const KEY: [Field; 3] = [Field::TsMs, Field::SessionId, Field::Seq];

/// How often a day is listed again when its files change under a scan.
const MAX_RELISTS: usize = 8;

type Parquet = ParquetRecordBatchStreamBuilder<BackendFileReader>;

/// Scans `query`; with `check_payloads`, every payload is checked as JSON, even in files
/// kaizen wrote.
pub(crate) async fn scan(
    backend: Arc<dyn Backend>,
    query: Query,
    batch_rows: usize,
    check_payloads: bool,
) -> Result<BatchStream> {
    if query.is_empty_range() || query.limit == Some(0) {
        return Ok(Box::pin(stream::empty()));
    }
    let days = catalog::list_days(backend.as_ref(), |day| query.may_contain_day(day)).await?;
    let fields = Arc::new(query.output_fields());
    let limit = query.limit;
    let mut query = query;
    query.identities.get_or_insert_with(IdentityLedger::default);
    let query = Arc::new(query);

    let merged = stream::iter(days)
        .map(move |(day, files)| {
            let scan = DayScan {
                backend: backend.clone(),
                day,
                query: query.clone(),
                fields: fields.clone(),
                batch_rows,
                check_payloads,
            };
            read_ahead(scan.stream(files), day)
        })
        // The next day opens its files and decodes its first batches while this one is
        // read: a day's latency (listing, footers, first pages) hides behind the last's
        // rows. Not for a limit, which may need one day only.
        .buffered(if limit.is_some() { 1 } else { 2 })
        .flatten();
    Ok(match limit {
        Some(n) => take_rows(Box::pin(merged), n),
        None => Box::pin(merged),
    })
}

/// Batches a day's producer may be ahead of its reader.
const READ_AHEAD_BATCHES: usize = 2;

/// Drives `rows` on a task of its own, at most [`READ_AHEAD_BATCHES`] ahead of the reader.
/// Stops at the first error, or when the reader drops the stream. A producer that panics
/// ends the stream with an error, never early and silently.
async fn read_ahead(rows: BatchStream, day: UtcDay) -> BatchStream {
    let (tx, rx) = tokio::sync::mpsc::channel(READ_AHEAD_BATCHES);
    let producer = tokio::spawn(async move {
        let mut rows = rows;
        while let Some(item) = rows.next().await {
            let failed = item.is_err();
            if tx.send(item).await.is_err() || failed {
                break;
            }
        }
    });
    Box::pin(stream::unfold(
        (rx, Some(producer)),
        move |(mut rx, producer)| async move {
            if let Some(item) = rx.recv().await {
                return Some((item, (rx, producer)));
            }
            // The channel closed: the producer is done; a panic is the day's error.
            let failure = producer?.await.err()?;
            let error = Error::io(
                format!("the scan of {day}"),
                std::io::Error::other(failure.to_string()),
            );
            Some((Err(error), (rx, None)))
        },
    ))
}

/// Ends the stream after `n` rows, without pulling a batch more than it needs.
fn take_rows(input: BatchStream, n: usize) -> BatchStream {
    Box::pin(stream::unfold((input, n), |(mut input, left)| async move {
        if left == 0 {
            return None;
        }
        match input.next().await? {
            Ok(batch) => {
                let rows = batch.num_rows().min(left);
                Some((Ok(batch.slice(0, rows)), (input, left - rows)))
            }
            Err(e) => Some((Err(e), (input, 0))),
        }
    }))
}

/// The files that compactions with a published marker have superseded.
pub(crate) fn superseded<'a>(
    facts: impl IntoIterator<Item = &'a FileFacts>,
    finished: &BTreeSet<String>,
) -> HashSet<String> {
    facts
        .into_iter()
        .filter_map(|f| f.compaction.as_ref())
        .filter(|c| finished.contains(&c.id))
        .flat_map(|c| c.supersedes.iter().cloned())
        .collect()
}

/// The day's files that hold its data now, with their footer facts.
pub(crate) async fn live_files(
    backend: &Arc<dyn Backend>,
    day: DayFiles,
) -> Result<Vec<(FileEntry, FileFacts)>> {
    let all: Vec<(FileEntry, FileFacts)> = stream::iter(day.files)
        .map(|file| async move {
            let facts = read_facts(backend.clone(), &file).await?;
            Ok::<_, Error>((file, facts))
        })
        .buffered(16)
        .try_collect()
        .await?;
    let gone = superseded(all.iter().map(|(_, f)| f), &day.compactions);
    Ok(all
        .into_iter()
        .filter(|(file, _)| !gone.contains(&file.path))
        .collect())
}

/// Reads a data file's footer, ready to stream its rows.
pub(crate) async fn open_parquet(backend: Arc<dyn Backend>, file: &FileEntry) -> Result<Parquet> {
    open_parquet_with(backend, file, false).await
}

/// As [`open_parquet`]; with `page_index`, also the page index, so that a filtered read
/// fetches and decodes only the pages that hold matching rows.
async fn open_parquet_with(
    backend: Arc<dyn Backend>,
    file: &FileEntry,
    page_index: bool,
) -> Result<Parquet> {
    let reader = BackendFileReader::new(backend, file.path.clone(), file.size);
    let policy = match page_index {
        true => PageIndexPolicy::Optional,
        false => PageIndexPolicy::Skip,
    };
    let options = reader_options().with_page_index_policy(policy);
    // The decoder can panic on some damaged bytes: a damaged file is an error, never a crash.
    match AssertUnwindSafe(ParquetRecordBatchStreamBuilder::new_with_options(
        reader, options,
    ))
    .catch_unwind()
    .await
    {
        Ok(opened) => opened.map_err(|e| Error::from_parquet(&file.path, e)),
        Err(panic) => Err(decoder_panic(&file.path, panic)),
    }
}

/// How every data file is read: by its Parquet types (a string column is text however the
/// writer's embedded Arrow schema hint calls it: `Utf8`, `LargeUtf8`, `Utf8View`), so that a
/// file another tool rewrote reads as one kaizen wrote.
fn reader_options() -> ArrowReaderOptions {
    ArrowReaderOptions::new().with_skip_arrow_metadata(true)
}

/// A panic of the Parquet decoder, as the error of the file it was reading.
fn decoder_panic(path: &str, panic: Box<dyn std::any::Any + Send>) -> Error {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown".into());
    Error::parquet(
        path,
        ParquetError::General(format!("damaged file (the decoder failed: {message})")),
    )
}

/// The identities of a data file: its footer's summary, or, for a file without one (v1
/// files, older kaizen, other writers), read from its `session_id` and `seq` columns.
pub(crate) async fn file_identities(
    backend: &Arc<dyn Backend>,
    file: &FileEntry,
    facts: &FileFacts,
) -> Result<Arc<IdentitySummary>> {
    if let Some(summary) = facts.identity_summary() {
        return Ok(Arc::new(summary));
    }
    const COLUMNS: [Field; 2] = [Field::SessionId, Field::Seq];
    let builder = open_parquet(backend.clone(), file).await?;
    check_schema(builder.schema(), &COLUMNS, &file.path)?;
    let schema = builder.schema().clone();
    let root = |f: &Field| schema.index_of(f.name()).ok();
    let mask = ProjectionMask::roots(builder.parquet_schema(), COLUMNS.iter().filter_map(root));
    let mut batches =
        (builder.with_projection(mask).build()).map_err(|e| Error::from_parquet(&file.path, e))?;
    let mut summary = IdentitySummary::default();
    loop {
        let next = AssertUnwindSafe(batches.next()).catch_unwind().await;
        let batch = match next {
            Ok(None) => break,
            Ok(Some(batch)) => batch.map_err(|e| Error::from_parquet(&file.path, e))?,
            Err(panic) => return Err(decoder_panic(&file.path, panic)),
        };
        let batch = normalize(&batch, &COLUMNS, false, &file.path)?;
        summary.add_batch(&batch, &file.path)?;
    }
    Ok(Arc::new(summary))
}

/// The footer facts of a data file: rows and time span, without reading rows.
pub(crate) async fn read_facts(backend: Arc<dyn Backend>, file: &FileEntry) -> Result<FileFacts> {
    let builder = open_parquet(backend, file).await?;
    check_schema(builder.schema(), &[Field::TsMs], &file.path)?;
    file_facts(builder.metadata(), builder.schema(), &file.path)
}

/// The scan of one day.
pub(crate) struct DayScan {
    pub backend: Arc<dyn Backend>,
    pub day: UtcDay,
    pub query: Arc<Query>,
    /// The columns of the day's batches, in this order.
    pub fields: Arc<Vec<Field>>,
    pub batch_rows: usize,
    /// Check that every payload is JSON even in files kaizen wrote (which its writer
    /// checked): for rows that will be written again, or decoded into events.
    pub check_payloads: bool,
}

impl DayScan {
    /// The day's rows in key order; resumed where it stopped when files vanish.
    pub fn stream(self, files: DayFiles) -> BatchStream {
        Box::pin(async_stream::try_stream! {
            let mut files = files;
            let mut given = Given::default();
            let mut gave_unordered = false;
            let mut relists = 0;
            loop {
                let mut vanished = false;
                match self.open(files).await {
                    Err(e) if e.is_vanished_file() && relists < MAX_RELISTS => vanished = true,
                    Err(e) => Err(e)?,
                    Ok(mut rows) => {
                        while let Some(batch) = rows.next().await {
                            let batch = match batch {
                                Err(e) if e.is_vanished_file() && relists < MAX_RELISTS => {
                                    if self.query.unordered && gave_unordered {
                                        Err(Error::ChangedUnderScan { day: self.day.to_string() })?;
                                    }
                                    vanished = true;
                                    break;
                                }
                                other => other?,
                            };
                            if self.query.unordered {
                                // No order to resume from: given as it comes (see `open`).
                                gave_unordered |= batch.num_rows() > 0;
                                yield self.output(&batch)?;
                                continue;
                            }
                            for batch in given.take(batch)? {
                                yield self.output(&batch)?;
                            }
                        }
                        if !vanished {
                            for batch in given.finish() {
                                yield self.output(&batch)?;
                            }
                        }
                    }
                }
                if !vanished {
                    break;
                }
                relists += 1;
                given.resume();
                let day = self.day;
                let mut listed = catalog::list_days(self.backend.as_ref(), |d| d == day).await?;
                files = listed.remove(&day).unwrap_or_default();
            }
        })
    }

    /// The columns to read from the day's files: the fields asked for, `ts_ms` (which orders
    /// and checks every row), the columns the query filters by, and with `keyed` the whole
    /// sort key that a merge compares.
    fn read_fields(&self, keyed: bool) -> Vec<Field> {
        let query = &self.query;
        let mut fields = self.fields.to_vec();
        let wanted = [
            (Field::TsMs, true),
            (Field::SessionId, keyed || !query.sessions.is_empty()),
            (Field::Seq, keyed),
            (Field::Kind, !query.kinds.is_empty()),
        ];
        for (field, _) in wanted.into_iter().filter(|(_, w)| *w) {
            if !fields.contains(&field) {
                fields.push(field);
            }
        }
        fields
    }

    /// Every column, the fields asked for first: what a merge that compares whole events
    /// reads.
    fn read_fields_all(&self) -> Vec<Field> {
        let mut fields = self.read_fields(true);
        for field in Field::ALL {
            if !fields.contains(&field) {
                fields.push(field);
            }
        }
        fields
    }

    /// Registers the day's live files in the query's ledger (an identity on another day is
    /// the error of both files) and tells whether two of them share an identity. A file
    /// whose identities cannot be read is skipped (and recorded) under `skip_corrupt`.
    async fn check_identities(
        &self,
        live: &mut Vec<(FileEntry, Parquet, FileFacts)>,
    ) -> Result<bool> {
        let mut day = IdentitySummary::default();
        let mut shared = false;
        let mut unreadable = Vec::new();
        // Owned: the opened readers are not `Sync`, and this awaits between files.
        let files: Vec<(FileEntry, FileFacts)> = (live.iter())
            .map(|(file, _, facts)| (file.clone(), facts.clone()))
            .collect();
        for (file, facts) in &files {
            // A file whose footer puts its rows on another day holds no event of this one:
            // it is damaged, and its identities are not this day's.
            let checked = match check_footer_day(facts, self.day, &file.path) {
                Ok(()) => file_identities(&self.backend, file, facts).await,
                Err(e) => Err(e),
            };
            let identities = match checked {
                Ok(identities) => identities,
                Err(e) => match &self.query.skip_corrupt {
                    Some(skip) if e.is_corrupt_file() => {
                        skip.record(&file.path, e.to_string());
                        unreadable.push(file.path.clone());
                        continue;
                    }
                    _ => return Err(e),
                },
            };
            if let Some(ledger) = &self.query.identities
                && let Ok(mut ledger) = ledger.0.lock()
            {
                ledger.register(self.day, &file.path, &identities)?;
            }
            if files.len() > 1 {
                shared = shared || day.first_shared(&identities).is_some();
                day.extend(&identities);
            }
        }
        live.retain(|(file, _, _)| !unreadable.contains(&file.path));
        Ok(shared)
    }

    /// A batch read with [`DayScan::read_fields`] as the `fields` asked for.
    fn output(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        let schema = batch.schema();
        let indices = self
            .fields
            .iter()
            .map(|f| schema.index_of(f.name()))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::arrow("scan output", e))?;
        batch
            .project(&indices)
            .map_err(|e| Error::arrow("scan output", e))
    }

    /// One file alone, as [`DayScan::stream_file`] gives it.
    pub async fn open_one(&self, file: FileEntry) -> Result<Option<MergeInput>> {
        let builder = self.open_file(&file).await?;
        self.stream_file(file, builder, &self.read_fields(true))
            .await
    }

    /// A file's footer, with the page index when the query picks sessions or kinds: their
    /// rows are scattered, and the index lets the read skip the pages between them. (A time
    /// range is contiguous in a sorted file: row groups' statistics already narrow it.)
    async fn open_file(&self, file: &FileEntry) -> Result<Parquet> {
        let scattered = !self.query.sessions.is_empty() || !self.query.kinds.is_empty();
        open_parquet_with(self.backend.clone(), file, scattered).await
    }

    /// Opens the day's live files and merges them.
    async fn open(&self, day: DayFiles) -> Result<BatchStream> {
        let skip = self.query.skip_corrupt.clone();
        let opened: Vec<Option<(FileEntry, Parquet, FileFacts)>> = stream::iter(day.files)
            .map(|file| {
                let skip = skip.clone();
                async move {
                    let opened = async {
                        let builder = self.open_file(&file).await?;
                        check_schema(builder.schema(), &self.read_fields(true), &file.path)?;
                        let facts = file_facts(builder.metadata(), builder.schema(), &file.path)?;
                        check_file(builder.schema(), &facts, &file.path)?;
                        Ok::<_, Error>((builder, facts))
                    }
                    .await;
                    match (opened, skip) {
                        (Ok((builder, facts)), _) => Ok(Some((file, builder, facts))),
                        (Err(e), Some(skip)) if e.is_corrupt_file() => {
                            skip.record(&file.path, e.to_string());
                            Ok(None)
                        }
                        (Err(e), _) => Err(e),
                    }
                }
            })
            .buffered(8)
            .try_collect()
            .await?;
        let opened: Vec<_> = opened.into_iter().flatten().collect();
        let gone = superseded(opened.iter().map(|(_, _, f)| f), &day.compactions);
        let mut live: Vec<_> = opened
            .into_iter()
            .filter(|(f, _, _)| !gone.contains(&f.path))
            .collect();
        // The store's identity rule: across days through the query's ledger; within the
        // day, files that share an identity are merged comparing every column, so that a
        // copy is read once and two versions are a conflict whatever the query reads.
        let shared = self.check_identities(&mut live).await?;
        let distinct = !shared && one_identity_group(&live);
        // Files kaizen wrote hold no identity twice: sharing none, they need no merge for
        // each event to come once, only for order.
        let independent = !shared && live.iter().all(|(_, _, f)| f.ours);
        let chained =
            (self.query.unordered && independent) || (distinct && in_time_order(&mut live));
        let read = match shared {
            true => self.read_fields_all(),
            false => self.read_fields(!chained),
        };
        let mut inputs = Vec::new();
        for (file, builder, _) in live {
            if let Some(input) = self.stream_file(file, builder, &read).await? {
                inputs.push(input);
            }
        }
        if chained {
            return Ok(Box::pin(stream::iter(inputs).flat_map(|i| i.stream)));
        }
        Ok(merge_sorted(
            inputs,
            projected_schema(&read),
            self.batch_rows,
            distinct,
        ))
    }

    /// One file as a stream sorted by the key: only the row groups and columns the query
    /// needs, rows checked and filtered. `None` when no row group can match.
    async fn stream_file(
        &self,
        file: FileEntry,
        mut builder: Parquet,
        read: &[Field],
    ) -> Result<Option<MergeInput>> {
        let path = file.path;
        let schema = builder.schema().clone();
        check_schema(&schema, read, &path)?;
        let facts = file_facts(builder.metadata(), &schema, &path)?;
        check_file(&schema, &facts, &path)?;
        let row_groups: Vec<usize> = (facts.row_groups.iter().enumerate())
            .filter(|(_, (_, min, max))| match (min, max) {
                (Some(min), Some(max)) => self.query.may_contain_span(*min, *max),
                _ => true,
            })
            .map(|(i, _)| i)
            .collect();
        let row_groups = self.bloom_pruned(&mut builder, row_groups, &path).await?;
        if row_groups.is_empty() {
            return Ok(None);
        }
        // check_schema found every column but derived ones a v1 file lacks, which are
        // derived from its payloads; a flat schema's root indices are its field indices.
        let root = |f: &Field| schema.index_of(f.name()).ok();
        let derives = read.iter().any(|f| f.is_derived() && root(f).is_none());
        let payload_for_derived = derives && !read.contains(&Field::Payload);
        let roots: Vec<usize> = (read.iter())
            .chain(payload_for_derived.then_some(&Field::Payload))
            .filter_map(root)
            .collect();
        let mask = ProjectionMask::roots(builder.parquet_schema(), roots.iter().copied());
        let filtered = self.row_filter(&facts);
        let filter_mask =
            ProjectionMask::roots(builder.parquet_schema(), filtered.iter().filter_map(root));
        let runs = batch_runs(builder.metadata(), &roots, &row_groups, self.batch_rows);
        let metadata = ArrowReaderMetadata::try_new(builder.metadata().clone(), reader_options())
            .map_err(|e| Error::from_parquet(&path, e))?;
        drop(builder);
        let (backend, size, query, run_path) = (
            self.backend.clone(),
            file.size,
            self.query.clone(),
            path.clone(),
        );
        // One reader a run of row groups, each with its batch size, opened as the last ends.
        let read_run = move |(batch_rows, groups): (usize, Vec<usize>)| {
            let reader = BackendFileReader::new(backend.clone(), run_path.clone(), size);
            let mut builder = Parquet::new_with_metadata(reader, metadata.clone())
                .with_projection(mask.clone())
                .with_row_groups(groups)
                .with_batch_size(batch_rows);
            if !filtered.is_empty() {
                // The filter's columns are decoded first; the others only for the rows that
                // match.
                let (query, filtered, filter_path) =
                    (query.clone(), filtered.clone(), run_path.clone());
                let predicate = ArrowPredicateFn::new(filter_mask.clone(), move |batch| {
                    row_mask(&batch, &query, &filtered, &filter_path)
                        .map_err(|e| ArrowError::ExternalError(Box::new(e)))
                });
                builder = builder.with_row_filter(RowFilter::new(vec![Box::new(predicate)]));
            }
            match builder.build() {
                Ok(batches) => batches.boxed(),
                Err(e) => stream::once(std::future::ready(Err(e))).boxed(),
            }
        };
        let batches = stream::iter(runs).flat_map(read_run);
        // Decoding pages can panic on damaged bytes: that ends the file with its error.
        let panic_path = path.clone();
        let batches = AssertUnwindSafe(batches)
            .catch_unwind()
            .map(move |item| match item {
                Ok(batch) => batch,
                Err(panic) => Err(ParquetError::General(
                    decoder_panic(&panic_path, panic).to_string(),
                )),
            });
        let batches = stop_after_error(batches);

        let (read, day) = (read.to_vec(), self.day);
        // kaizen's writer checked every payload it wrote; a file anyone else wrote, and rows
        // about to be written again, are checked here.
        let payloads = self.check_payloads || !facts.ours;
        let shape_path = path.clone();
        // A file that declares its rows sorted must hold them in time order: the scan gives
        // them as they come, and resumes by time.
        let mut in_order = facts.sorted.then_some(0u64);
        let shaped = batches
            .map(move |batch| {
                let batch = batch.map_err(|e| Error::from_parquet(&shape_path, e))?;
                let batch = normalize(&batch, &read, payloads, &shape_path)?;
                check_day(&batch, day, &shape_path)?;
                if let Some(last) = &mut in_order {
                    *last = check_time_order(&batch, *last, &shape_path)?;
                }
                // The row filter above kept only the rows the query matches.
                Ok::<_, Error>(batch)
            })
            .try_filter(|b| std::future::ready(b.num_rows() > 0));
        let shaped: BatchStream = match self.query.skip_corrupt.clone() {
            // A file that turns out damaged part way ends there, recorded.
            Some(skip) => {
                let skip_path = path.clone();
                Box::pin(shaped.take_while(move |b| {
                    let keep = match b {
                        Err(e) if e.is_corrupt_file() => {
                            skip.record(&skip_path, e.to_string());
                            false
                        }
                        _ => true,
                    };
                    std::future::ready(keep)
                }))
            }
            None => Box::pin(shaped),
        };
        let stream: BatchStream = if facts.sorted {
            shaped
        } else {
            // v1 files hold rows in arrival order: sort the file (one day at most) before merging.
            let batches: Vec<RecordBatch> = shaped.try_collect().await?;
            match sort_batches(&batches, &path)? {
                Some(sorted) => Box::pin(stream::once(async { Ok(sorted) })),
                None => return Ok(None),
            }
        };
        Ok(Some(MergeInput { path, stream }))
    }

    /// The columns worth filtering a file's rows by before the rest is decoded: the query's
    /// sessions and kinds, and its time range when it cuts into the file.
    fn row_filter(&self, facts: &FileFacts) -> Vec<Field> {
        let query = &self.query;
        let mut fields = Vec::new();
        let by_time = query.from_ms.is_some() || query.to_ms.is_some();
        let inside = match (facts.min_ts(), facts.max_ts()) {
            (Some(min), Some(max)) => query.contains_span(min, max),
            _ => false,
        };
        if by_time && !inside {
            fields.push(Field::TsMs);
        }
        if !query.sessions.is_empty() {
            fields.push(Field::SessionId);
        }
        if !query.kinds.is_empty() {
            fields.push(Field::Kind);
        }
        fields
    }

    /// The row groups whose `session_id` bloom filter may hold one of the query's sessions
    /// (all of them when the query names none, or the file has no bloom filter).
    async fn bloom_pruned(
        &self,
        builder: &mut Parquet,
        row_groups: Vec<usize>,
        path: &str,
    ) -> Result<Vec<usize>> {
        let Ok(column) = builder.schema().index_of(Field::SessionId.name()) else {
            return Ok(row_groups);
        };
        if self.query.sessions.is_empty() {
            return Ok(row_groups);
        }
        let mut kept = Vec::with_capacity(row_groups.len());
        for group in row_groups {
            let bloom = builder
                .get_row_group_column_bloom_filter(group, column)
                .await
                .map_err(|e| Error::from_parquet(path, e))?;
            let may_hold = bloom
                .is_none_or(|bloom| self.query.sessions.iter().any(|s| bloom.check(s.as_str())));
            if may_hold {
                kept.push(group);
            }
        }
        Ok(kept)
    }
}

/// The selected row groups in runs that share a batch size: for each, the rows that keep a
/// decoded batch of the `roots` columns within [`crate::codec::BATCH_BYTES`] by the footer's sizes (at
/// most `batch_rows`). A file of common events is one run; a row group of large rows is read
/// a few rows at a time without slowing the rest of its file.
fn batch_runs(
    metadata: &ParquetMetaData,
    roots: &[usize],
    row_groups: &[usize],
    batch_rows: usize,
) -> Vec<(usize, Vec<usize>)> {
    let schema = metadata.file_metadata().schema_descr();
    let leaves: Vec<usize> = (0..schema.num_columns())
        .filter(|&leaf| roots.contains(&schema.get_column_root_idx(leaf)))
        .collect();
    let mut runs: Vec<(usize, Vec<usize>)> = Vec::new();
    for &group in row_groups {
        let rows = batch_rows_for(metadata.row_group(group), &leaves, batch_rows);
        match runs.last_mut() {
            Some((last, groups)) if *last == rows => groups.push(group),
            _ => runs.push((rows, vec![group])),
        }
    }
    runs
}

/// Whether no identity is in two of a day's live files, nor twice in one: files kaizen
/// wrote, sorted, one alone or all of one identity group.
fn one_identity_group(live: &[(FileEntry, Parquet, FileFacts)]) -> bool {
    let trusted = |f: &FileFacts| f.ours && f.sorted;
    let group = live.first().and_then(|(_, _, f)| f.identity_group.clone());
    let one_group = live.len() == 1
        || (group.is_some() && live.iter().all(|(_, _, f)| f.identity_group == group));
    !live.is_empty() && one_group && live.iter().all(|(_, _, f)| trusted(f))
}

/// Puts sorted files in time order; true when their time spans do not overlap, so that
/// reading them one after another gives their rows in order, without a merge.
fn in_time_order(live: &mut [(FileEntry, Parquet, FileFacts)]) -> bool {
    live.sort_by_key(|(_, _, f)| f.min_ts());
    live.windows(2)
        .all(|w| match (w[0].2.max_ts(), w[1].2.min_ts()) {
            (Some(end), Some(start)) => end < start,
            _ => false,
        })
}

/// The `ts_ms` values of a scan's batch (which always reads them).
fn times(batch: &RecordBatch) -> Result<&[u64]> {
    Ok(EventColumns::new(batch, "scan").u64s(Field::TsMs)?.values())
}

/// Checks that `batch` continues a time order whose last time was `last`; returns its own.
fn check_time_order(batch: &RecordBatch, last: u64, path: &str) -> Result<u64> {
    let ts = times(batch)?;
    let mut previous = last;
    for (row, &t) in ts.iter().enumerate() {
        if t < previous {
            return Err(Error::column(
                path,
                Field::TsMs.name(),
                format!("row {row} is out of the time order the footer declares"),
            ));
        }
        previous = t;
    }
    Ok(previous)
}

/// What a day's scan has given, so that a resumed scan gives no row twice and misses none.
/// Rows come in time order. Each batch is held back until the next one shows that no more
/// rows come at its last time, so every time up to `through` has been given whole, and a
/// scan resumed after a file vanished skips exactly the rows at those times. Batches are
/// given whole, one late; only rows at a time that runs on into the next batch wait longer.
#[derive(Default)]
struct Given {
    /// Every row at this `ts_ms` or before it has been given.
    through: Option<u64>,
    /// Set on resuming: rows at this time or before are skipped until a later one comes.
    skip_through: Option<u64>,
    /// Rows not given yet, in order; the last of them at `held_ts`.
    held: Vec<RecordBatch>,
    held_ts: u64,
}

impl Given {
    /// Takes the next batch in time order; returns the rows now safe to give.
    fn take(&mut self, batch: RecordBatch) -> Result<Vec<RecordBatch>> {
        let batch = self.skip_given(batch)?;
        let ts = times(&batch)?;
        let (Some(&first), Some(&last)) = (ts.first(), ts.last()) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        if !self.held.is_empty() {
            if first < self.held_ts {
                return Err(Error::column(
                    "scan",
                    Field::TsMs.name(),
                    "rows out of time order after a merge",
                ));
            }
            // More rows at `first` may follow: give only what comes before it.
            let mut kept = Vec::new();
            for held in std::mem::take(&mut self.held) {
                let held_ts = times(&held)?;
                let before = held_ts.partition_point(|&t| t < first);
                if before > 0 {
                    self.through = Some(held_ts[before - 1]);
                    out.push(held.slice(0, before));
                }
                if before < held.num_rows() {
                    kept.push(held.slice(before, held.num_rows() - before));
                }
            }
            self.held = kept;
        }
        self.held.push(batch);
        self.held_ts = last;
        Ok(out)
    }

    /// The rows held back, once the day has no more.
    fn finish(&mut self) -> Vec<RecordBatch> {
        std::mem::take(&mut self.held)
    }

    /// Forgets the rows held back: the day is read again from its files as now listed.
    fn resume(&mut self) {
        self.held.clear();
        self.skip_through = self.through;
    }

    fn skip_given(&mut self, batch: RecordBatch) -> Result<RecordBatch> {
        let Some(through) = self.skip_through else {
            return Ok(batch);
        };
        let ts = times(&batch)?;
        let first_new = ts.partition_point(|&t| t <= through);
        if first_new < ts.len() {
            self.skip_through = None;
        }
        Ok(batch.slice(first_new, batch.num_rows() - first_new))
    }
}

/// The batch with exactly the `read` columns, in that order, under the store's schema,
/// every value checked (payloads as JSON only with `payloads`).
fn normalize(
    batch: &RecordBatch,
    read: &[Field],
    payloads: bool,
    path: &str,
) -> Result<RecordBatch> {
    // A file without the derived columns (v1) has them derived from its payloads, which the
    // projection then read; once a batch, whichever of them the query asked for.
    let mut derived = None;
    let columns = read
        .iter()
        .map(|&f| match batch.column_by_name(f.name()) {
            Some(column) => Ok(column.clone()),
            None if f.is_derived() => {
                let columns = match &mut derived {
                    Some(columns) => columns,
                    None => {
                        let payload = (batch.column_by_name(Field::Payload.name()))
                            .and_then(|c| arrow::array::AsArray::as_string_opt::<i32>(c))
                            .ok_or_else(|| Error::column(path, Field::Payload.name(), "missing"))?;
                        derived.insert(derive_columns(payload))
                    }
                };
                // The derived columns follow the 22 event fields, in `Field::DERIVED` order.
                Ok(columns[f.index() - Field::ALL.len()].clone())
            }
            None => Err(Error::column(path, f.name(), "missing")),
        })
        .collect::<Result<Vec<_>>>()?;
    let batch =
        RecordBatch::try_new(projected_schema(read), columns).map_err(|e| Error::arrow(path, e))?;
    let checked: Vec<Field> = (read.iter().copied())
        .filter(|&f| payloads || f != Field::Payload)
        .collect();
    EventColumns::new(&batch, path).check(&checked)?;
    Ok(batch)
}

/// A file's footer time span must lie within the day its path names.
pub(crate) fn check_footer_day(facts: &FileFacts, day: UtcDay, path: &str) -> Result<()> {
    match (facts.min_ts(), facts.max_ts()) {
        (Some(min), Some(max)) if min < day.start_ms() || max >= day.end_ms() => {
            Err(Error::WrongDay {
                path: path.to_owned(),
                row: 0,
                ts_ms: if min < day.start_ms() { min } else { max },
                day: day.to_string(),
            })
        }
        _ => Ok(()),
    }
}

/// Every row of a file must belong to the day its name says.
fn check_day(batch: &RecordBatch, day: UtcDay, path: &str) -> Result<()> {
    let ts = EventColumns::new(batch, path).u64s(Field::TsMs)?;
    match ts
        .values()
        .iter()
        .position(|&t| t < day.start_ms() || t >= day.end_ms())
    {
        None => Ok(()),
        Some(row) => Err(Error::WrongDay {
            path: path.to_owned(),
            row,
            ts_ms: ts.value(row),
            day: day.to_string(),
        }),
    }
}

/// Which rows of `batch` the query keeps by the parts of it on `fields` (of `ts_ms`,
/// `session_id`, `kind`); the batch needs only those columns. Compared a column at a time
/// with Arrow's kernels; a null (which decode refuses in these columns) is not kept.
fn row_mask(
    batch: &RecordBatch,
    query: &Query,
    fields: &[Field],
    path: &str,
) -> Result<BooleanArray> {
    let columns = EventColumns::new(batch, path);
    let arrow_error = |e| Error::arrow(path, e);
    let mut keep = BooleanArray::new(BooleanBuffer::new_set(batch.num_rows()), None);
    let mut and = |mask: BooleanArray| -> Result<()> {
        keep = boolean::and_kleene(&keep, &mask).map_err(arrow_error)?;
        Ok(())
    };
    if fields.contains(&Field::TsMs) && (query.from_ms.is_some() || query.to_ms.is_some()) {
        let ts = columns.u64s(Field::TsMs)?;
        if let Some(from) = query.from_ms {
            and(cmp::gt_eq(ts, &UInt64Array::new_scalar(from)).map_err(arrow_error)?)?;
        }
        if let Some(to) = query.to_ms {
            and(cmp::lt(ts, &UInt64Array::new_scalar(to)).map_err(arrow_error)?)?;
        }
    }
    let kinds: Vec<&str> = query.kinds.iter().map(|k| k.name()).collect();
    let sessions: Vec<&str> = query.sessions.iter().map(String::as_str).collect();
    for (field, wanted) in [(Field::SessionId, sessions), (Field::Kind, kinds)] {
        if !fields.contains(&field) || wanted.is_empty() {
            continue;
        }
        let values = columns.strings(field)?;
        let mut any = BooleanArray::new(BooleanBuffer::new_unset(batch.num_rows()), None);
        for value in wanted {
            let hit = cmp::eq(values, &StringArray::new_scalar(value)).map_err(arrow_error)?;
            any = boolean::or_kleene(&any, &hit).map_err(arrow_error)?;
        }
        and(any)?;
    }
    // A null compared is null: not kept.
    Ok(match keep.nulls() {
        Some(_) => prep_null_mask_filter(&keep),
        None => keep,
    })
}

/// Concatenates and sorts by the key; `None` for no rows.
fn sort_batches(batches: &[RecordBatch], path: &str) -> Result<Option<RecordBatch>> {
    let Some(first) = batches.first() else {
        return Ok(None);
    };
    let all = concat_batches(&first.schema(), batches).map_err(|e| Error::arrow(path, e))?;
    let key = KEY
        .iter()
        .map(|f| {
            let values = all.column_by_name(f.name()).cloned();
            let values = values.ok_or_else(|| Error::column(path, f.name(), "missing"))?;
            Ok(SortColumn {
                values,
                options: None,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let order = lexsort_to_indices(&key, None).map_err(|e| Error::arrow(path, e))?;
    let sorted = take_record_batch(&all, &order).map_err(|e| Error::arrow(path, e))?;
    Ok((sorted.num_rows() > 0).then_some(sorted))
}

/// Ends a stream after its first error: a decoder that failed is not polled again.
fn stop_after_error<T, E>(
    input: impl futures::Stream<Item = std::result::Result<T, E>> + Send + 'static,
) -> impl futures::Stream<Item = std::result::Result<T, E>> + Send + 'static
where
    T: Send + 'static,
    E: Send + 'static,
{
    input.scan(false, |failed, item| {
        let next = match (*failed, item) {
            (true, _) => None,
            (false, Err(e)) => {
                *failed = true;
                Some(Err(e))
            }
            (false, ok) => Some(ok),
        };
        std::future::ready(next)
    })
}

#[cfg(test)]
mod tests {
    use arrow::array::UInt64Array;

    use super::*;

    fn batch(ts: &[u64]) -> RecordBatch {
        let values = Arc::new(UInt64Array::from(ts.to_vec()));
        RecordBatch::try_new(projected_schema(&[Field::TsMs]), vec![values]).expect("batch")
    }

    fn given_ts(batches: Vec<RecordBatch>) -> Vec<u64> {
        let mut out = Vec::new();
        for b in &batches {
            out.extend_from_slice(times(b).expect("ts"));
        }
        out
    }

    #[test]
    fn batches_are_given_whole_once_the_next_starts_later() {
        let mut given = Given::default();
        assert!(given.take(batch(&[1, 2])).expect("take").is_empty());
        let out = given.take(batch(&[3, 4])).expect("take");
        assert_eq!(out.len(), 1);
        assert_eq!(given_ts(out), [1, 2]);
        assert_eq!(given.through, Some(2));
        assert_eq!(given_ts(given.finish()), [3, 4]);
    }

    #[test]
    fn rows_at_a_time_that_runs_on_wait_for_a_later_time() {
        let mut given = Given::default();
        assert!(given.take(batch(&[1, 2, 2])).expect("take").is_empty());
        assert_eq!(given_ts(given.take(batch(&[2, 2])).expect("take")), [1]);
        assert_eq!(given.through, Some(1));
        assert!(given.take(batch(&[2, 3])).expect("take").is_empty());
        let out = given_ts(given.take(batch(&[5])).expect("take"));
        assert_eq!(out, [2, 2, 2, 2, 2, 3]);
        assert_eq!(given.through, Some(3));
        assert_eq!(given_ts(given.finish()), [5]);
    }

    #[test]
    fn a_resumed_day_gives_every_row_once() {
        let mut given = Given::default();
        let mut out = given_ts(given.take(batch(&[1, 2, 2])).expect("take"));
        out.extend(given_ts(given.take(batch(&[2, 3, 3])).expect("take")));
        out.extend(given_ts(given.take(batch(&[4, 4])).expect("take")));
        assert_eq!(out, [1, 2, 2, 2, 3, 3]);
        // A file vanished: the day is read again from the start, in other batches.
        given.resume();
        out.extend(given_ts(given.take(batch(&[1, 2])).expect("take")));
        out.extend(given_ts(given.take(batch(&[2, 2, 3])).expect("take")));
        out.extend(given_ts(given.take(batch(&[3, 4])).expect("take")));
        out.extend(given_ts(given.take(batch(&[4])).expect("take")));
        out.extend(given_ts(given.finish()));
        assert_eq!(out, [1, 2, 2, 2, 3, 3, 4, 4]);
    }

    #[test]
    fn rows_out_of_time_order_are_an_error_not_a_loss() {
        let mut given = Given::default();
        given.take(batch(&[5, 6])).expect("take");
        assert!(given.take(batch(&[4])).is_err());
        assert!(check_time_order(&batch(&[3, 2]), 0, "f.parquet").is_err());
        assert_eq!(
            check_time_order(&batch(&[3, 3, 7]), 3, "f").expect("ordered"),
            7
        );
    }

    #[tokio::test]
    async fn a_day_read_ahead_gives_its_batches_then_a_panic_as_an_error() {
        let day = UtcDay::from_days_since_epoch(20_000);
        let rows: BatchStream = Box::pin(stream::iter([Ok(batch(&[1])), Ok(batch(&[2]))]));
        let out: Vec<RecordBatch> = read_ahead(rows, day)
            .await
            .try_collect()
            .await
            .expect("rows");
        assert_eq!(given_ts(out), [1, 2]);

        let panics: BatchStream = Box::pin(stream::iter([1u64, 2]).map(|t| match t {
            1 => Ok(batch(&[1])),
            _ => panic!("a decoder bug"),
        }));
        let out: Vec<Result<RecordBatch>> = read_ahead(panics, day).await.collect().await;
        assert_eq!(
            out.len(),
            2,
            "the batch before the panic, then the panic's error"
        );
        assert!(out[0].is_ok());
        let error = out[1]
            .as_ref()
            .expect_err("the panic ends the day with an error");
        assert!(error.to_string().contains("a decoder bug"), "{error}");
    }
}
