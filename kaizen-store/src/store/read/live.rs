//! Which files of a day are live, and how every data file is opened: safely (a damaged
//! file is its error, never a panic) and by one contract.

use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::{FutureExt, StreamExt, TryStreamExt, stream};
use kaizen_core::{Field, UtcDay};
use parquet::arrow::arrow_reader::ArrowReaderOptions;
use parquet::arrow::{ParquetRecordBatchStreamBuilder, ProjectionMask};
use parquet::errors::ParquetError;
use parquet::file::metadata::PageIndexPolicy;

use super::rows::normalize;
use crate::backend::{Backend, BackendFileReader};
use crate::codec::{FileFacts, IdentitySummary, check_schema, file_facts};
use crate::store::catalog::{DayFiles, FileEntry};
use crate::{Error, Result};

/// A data file's footer, opened to stream its rows.
pub(crate) type Parquet = ParquetRecordBatchStreamBuilder<BackendFileReader>;

/// A live file of a day, with its footer facts.
pub(crate) type LiveFile = (FileEntry, FileFacts);

/// The paths of a day's files that do not hold its data now, as their footers (`facts`)
/// and the day's listing (`day`) tell:
/// - the files that rewrites with a published marker supersede (the marker made the
///   switch; the inputs are deleted after it);
/// - the outputs of a rewrite that replaces events (see [`crate::codec::Compaction::exclusive`])
///   while its switch has not happened: no marker, and an input it supersedes is still
///   listed. Such an output holds other versions of its inputs' events: read beside them
///   it would give an event twice (or an identity conflict). Once the marker exists it is
///   live; once its inputs are deleted too, it stays live without the marker.
pub(crate) fn dead_paths<'a>(
    facts: impl IntoIterator<Item = (&'a str, &'a FileFacts)>,
    day: &DayFiles,
) -> HashSet<String> {
    let (mut superseded, hidden) = not_live(facts, day);
    superseded.extend(hidden);
    superseded
}

/// [`dead_paths`] in two: the files superseded by a switched rewrite, and the outputs of
/// exclusive rewrites that have not switched (hidden).
fn not_live<'a>(
    facts: impl IntoIterator<Item = (&'a str, &'a FileFacts)>,
    day: &DayFiles,
) -> (HashSet<String>, HashSet<String>) {
    let listed: HashSet<&str> = day.files.iter().map(|f| f.path.as_str()).collect();
    let (mut superseded, mut hidden) = (HashSet::new(), HashSet::new());
    for (path, facts) in facts {
        let Some(rewrite) = &facts.compaction else {
            continue;
        };
        if day.compactions.contains(&rewrite.id) {
            superseded.extend(rewrite.supersedes.iter().cloned());
        } else if rewrite.exclusive
            && rewrite
                .supersedes
                .iter()
                .any(|p| listed.contains(p.as_str()))
        {
            hidden.insert(path.to_owned());
        }
    }
    (superseded, hidden)
}

/// A day's files as a rewrite needs them: the live ones with their facts, and the outputs
/// of exclusive rewrites that stopped before their switch (hidden, and never to be read:
/// a rewrite of the day deletes them before it deletes an input they supersede, which
/// would make them live).
pub(crate) struct DayState {
    pub live: Vec<LiveFile>,
    pub orphans: Vec<FileEntry>,
    /// Files a switched rewrite superseded that are still there (it stopped before
    /// deleting them), and the markers of the day: what finishing those rewrites removes.
    pub superseded: Vec<FileEntry>,
    pub markers: Vec<String>,
}

/// The day's files that hold its data now, with their footer facts, and the orphaned
/// outputs of stopped rewrites.
pub(crate) async fn day_state(backend: &Arc<dyn Backend>, day: DayFiles) -> Result<DayState> {
    let files = day.files.clone();
    let all: Vec<LiveFile> = stream::iter(files)
        .map(|file| async move {
            let facts = read_facts(backend.clone(), &file).await?;
            Ok::<_, Error>((file, facts))
        })
        .buffered(16)
        .try_collect()
        .await?;
    let facts = all.iter().map(|(f, facts)| (f.path.as_str(), facts));
    let (superseded, hidden) = not_live(facts, &day);
    let mut state = DayState {
        live: Vec::new(),
        orphans: Vec::new(),
        superseded: Vec::new(),
        markers: (day.compactions.iter())
            .filter_map(|id| Some(crate::layout::compaction_marker_path(day_of(&day)?, id)))
            .collect(),
    };
    for (file, facts) in all {
        if hidden.contains(&file.path) {
            state.orphans.push(file);
        } else if superseded.contains(&file.path) {
            state.superseded.push(file);
        } else {
            state.live.push((file, facts));
        }
    }
    Ok(state)
}

/// The day a listing is of (from its files; `None` for a day with markers only).
fn day_of(day: &DayFiles) -> Option<UtcDay> {
    day.files.first().map(|f| f.day)
}

/// The day's files that hold its data now, with their footer facts.
pub(crate) async fn live_files(backend: &Arc<dyn Backend>, day: DayFiles) -> Result<Vec<LiveFile>> {
    Ok(day_state(backend, day).await?.live)
}

/// Reads a data file's footer, ready to stream its rows.
pub(crate) async fn open_parquet(backend: Arc<dyn Backend>, file: &FileEntry) -> Result<Parquet> {
    open_parquet_with(backend, file, false).await
}

/// As [`open_parquet`]; with `page_index`, also the page index, so that a filtered read
/// fetches and decodes only the pages that hold matching rows.
pub(super) async fn open_parquet_with(
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
pub(super) fn reader_options() -> ArrowReaderOptions {
    ArrowReaderOptions::new().with_skip_arrow_metadata(true)
}

/// A panic of the Parquet decoder, as the error of the file it was reading.
pub(super) fn decoder_panic(path: &str, panic: Box<dyn std::any::Any + Send>) -> Error {
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
