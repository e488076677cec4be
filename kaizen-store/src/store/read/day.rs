//! One day's live files read as one checked, sorted stream.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::error::ArrowError;
use futures::{StreamExt, TryStreamExt, stream};
use kaizen_core::{Field, UtcDay};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ArrowPredicateFn, ArrowReaderMetadata, RowFilter};
use parquet::errors::ParquetError;
use parquet::file::metadata::ParquetMetaData;

use super::live::{
    Parquet, check_footer_day, dead_paths, decoder_panic, file_identities, open_parquet_with,
    reader_options,
};
use super::resume::Given;
use super::rows::{
    check_day, check_time_order, normalize, row_mask, sort_batches, stop_after_error,
};
use crate::backend::{Backend, BackendFileReader};
use crate::codec::{
    FileFacts, IdentitySummary, batch_rows_for, check_file, check_schema, file_facts,
    projected_schema,
};
use crate::event_store::BatchStream;
use crate::store::catalog::{self, DayFiles, FileEntry};
use crate::store::merge::{MergeInput, merge_sorted};
use crate::{Error, Query, Result};

/// How often a day is listed again when its files change under a scan.
const MAX_RELISTS: usize = 8;

/// The scan of one day: its live files read as one stream in key order, every row checked
/// (its day, its file's declared order, the columns' types), filtered by the query, each
/// identity once (files that share identities are merged comparing every column: a copy
/// is read once, two versions are a conflict), resumed where it stopped when files change
/// under it. Built by [`DayScan::new`].
pub(crate) struct DayScan {
    backend: Arc<dyn Backend>,
    day: UtcDay,
    query: Arc<Query>,
    /// The columns of the day's batches, in this order.
    fields: Arc<Vec<Field>>,
    batch_rows: usize,
    /// Check that every payload is JSON even in files kaizen wrote (which its writer
    /// checked): for rows that will be written again, or decoded into events.
    check_payloads: bool,
}

impl DayScan {
    /// The scan of `day` by `query`, giving every column in batches of `batch_rows` rows at
    /// most, every payload checked as JSON (what rows written again or decoded into events
    /// need; [`DayScan::trusting_payloads`] and [`DayScan::columns`] narrow it).
    pub fn new(
        backend: Arc<dyn Backend>,
        day: UtcDay,
        query: Arc<Query>,
        batch_rows: usize,
    ) -> Self {
        DayScan {
            backend,
            day,
            query,
            fields: Arc::new(Field::ALL.to_vec()),
            batch_rows,
            check_payloads: true,
        }
    }

    /// The same scan giving only `fields`, in this order.
    pub fn columns(mut self, fields: Arc<Vec<Field>>) -> Self {
        self.fields = fields;
        self
    }

    /// The same scan, trusting the payloads of kaizen's own files (its writer checked
    /// them): for reads whose rows are only given out as they are.
    pub fn trusting_payloads(mut self) -> Self {
        self.check_payloads = false;
        self
    }

    /// The rows of `files` alone (none of them superseded), in key order: what a rewrite
    /// reads of the files it replaces.
    pub fn stream_files(self, files: Vec<FileEntry>) -> BatchStream {
        self.stream(DayFiles {
            files,
            ..DayFiles::default()
        })
    }

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
        self.stream_file(file, builder, &self.read_fields(true), true)
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
        let opened: Vec<Option<(FileEntry, Parquet, FileFacts)>> = stream::iter(day.files.clone())
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
        let facts = opened.iter().map(|(f, _, facts)| (f.path.as_str(), facts));
        let dead = dead_paths(facts, &day);
        let mut live: Vec<_> = opened
            .into_iter()
            .filter(|(f, _, _)| !dead.contains(&f.path))
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
            if let Some(input) = self.stream_file(file, builder, &read, !chained).await? {
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

    /// One file as a stream, sorted by the key when it is to be `merged` (read without the
    /// key columns otherwise: an unordered read): only the row groups and columns the query
    /// needs, rows checked and filtered. `None` when no row group can match.
    async fn stream_file(
        &self,
        file: FileEntry,
        mut builder: Parquet,
        read: &[Field],
        merged: bool,
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
        let stream: BatchStream = if facts.sorted || !merged {
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
