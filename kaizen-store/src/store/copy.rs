//! Copying a store to another (any backend to any backend), resumable and verified.
//!
//! A data file wholly inside the time range is copied byte for byte under the same path
//! (v1 names included); a file that straddles the range's edge is rewritten with only the
//! rows in range, under a name derived from the source path and the range. Either way a
//! rerun finds the file already there with identical bytes and skips it. A file at the
//! same path with other bytes is an error: nothing is ever replaced.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use futures::{StreamExt, TryStreamExt, stream};
use kaizen_core::{Event, UtcDay};

use super::Store;
use super::catalog::{self, FileEntry};
use super::read::{DayScan, live_files};
use super::sink::{EncodingSink, FileSink, StagedFile, Staging};
use crate::codec::{batch_to_events, ingest_zstd_level};
use crate::event_store::EventStore;
use crate::{Error, Query, Result, layout};

/// Bytes of a file moved at a time: memory holds this much of a file being copied.
const PIECE_BYTES: u64 = 8 << 20;

/// What a copy did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyReport {
    /// Files written to the target, with their bytes.
    pub copied: Vec<(String, u64)>,
    /// Files already on the target with identical bytes.
    pub skipped: Vec<String>,
    /// Per day: events in range in the source, all found identical on the target.
    pub verified: BTreeMap<UtcDay, u64>,
}

/// How a source file goes to the target.
enum Plan {
    Whole(FileEntry),
    Rewrite(FileEntry, String),
}

impl Store {
    /// Copies the events of `[from_ms, to_ms)` (all when `None`) to `target`, then verifies
    /// that every source event in range is on the target, identical. `progress` is called
    /// with the bytes of each source file done.
    pub async fn copy_to(
        &self,
        target: &Store,
        from_ms: Option<u64>,
        to_ms: Option<u64>,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<CopyReport> {
        let range = Query {
            from_ms,
            to_ms,
            ..Query::default()
        };
        let source_days =
            catalog::list_days(self.backend.as_ref(), |d| range.may_contain_day(d)).await?;
        let target_days =
            catalog::list_days(target.backend.as_ref(), |d| range.may_contain_day(d)).await?;
        let existing: HashMap<String, u64> = catalog::data_files(target_days)
            .map(|f| (f.path, f.size))
            .collect();

        let mut plans = Vec::new();
        let mut live = Vec::new();
        for files in source_days.into_values() {
            live.extend(live_files(&self.backend, files).await?);
        }
        for (file, facts) in live {
            let inside = match (facts.min_ts(), facts.max_ts()) {
                (Some(min), Some(max)) => {
                    from_ms.is_none_or(|f| min >= f) && to_ms.is_none_or(|t| max < t)
                }
                _ => from_ms.is_none() && to_ms.is_none(),
            };
            if inside {
                plans.push(Plan::Whole(file));
            } else {
                let key = format!("{}?from={from_ms:?}&to={to_ms:?}", file.path);
                let path = layout::derived_file_path(file.day, &key);
                plans.push(Plan::Rewrite(file, path));
            }
        }

        let range = Arc::new(range);
        let existing = &existing;
        let results: Vec<(String, Option<u64>)> = stream::iter(plans)
            .map(|plan| {
                let range = range.clone();
                async move {
                    let (source_size, path) = match &plan {
                        Plan::Whole(file) => (file.size, file.path.clone()),
                        Plan::Rewrite(file, path) => (file.size, path.clone()),
                    };
                    let written = match existing.get(&path) {
                        Some(&size) => {
                            self.check_same(target, &plan, &path, size, range).await?;
                            None
                        }
                        None => self.copy_file(target, plan, range).await?,
                    };
                    progress(source_size);
                    Ok::<_, Error>((path, written))
                }
            })
            .buffer_unordered(4)
            .try_collect()
            .await?;

        let mut report = CopyReport::default();
        for (path, written) in results {
            match written {
                Some(bytes) => report.copied.push((path, bytes)),
                None => report.skipped.push(path),
            }
        }
        report.copied.sort();
        report.skipped.sort();
        report.verified = verify(self, target, &range).await?;
        Ok(report)
    }

    /// Copies one planned file to `target`, streamed piece by piece and published
    /// create-only. Returns the bytes written, or `None` when no row of the file is in range.
    async fn copy_file(
        &self,
        target: &Store,
        plan: Plan,
        range: Arc<Query>,
    ) -> Result<Option<u64>> {
        let staged = match plan {
            Plan::Whole(file) => Some(self.stage_whole(target, &file).await?),
            Plan::Rewrite(file, path) => self.stage_rewrite(target, file, &path, range).await?,
        };
        let Some(staged) = staged else {
            return Ok(None);
        };
        let size = staged.staged.size;
        let mut staging = Staging::new(target.backend.clone());
        staging.push(staged);
        staging.publish().await.map_err(|failed| failed.error)?;
        Ok(Some(size))
    }

    /// `file`'s bytes staged on `target` under the same path, a piece at a time.
    async fn stage_whole(&self, target: &Store, file: &FileEntry) -> Result<StagedFile> {
        let mut sink = FileSink::open(target.backend.as_ref(), &file.path, file.day).await?;
        let mut offset = 0;
        while offset < file.size {
            let end = (offset + PIECE_BYTES).min(file.size);
            let piece = self.backend.get_range(&file.path, offset..end).await;
            let written = match piece {
                Ok(piece) => sink.write(piece).await,
                Err(e) => Err(e),
            };
            if let Err(e) = written {
                let _ = sink.abort().await;
                return Err(e);
            }
            offset = end;
        }
        // Rows are not counted for a file copied as it is.
        sink.finish(Ok(bytes::Bytes::new()), 0).await
    }

    /// The rows of `file` in range, sorted and each identity once, encoded and staged on
    /// `target` at `path` as they are read; `None` for no rows.
    async fn stage_rewrite(
        &self,
        target: &Store,
        file: FileEntry,
        path: &str,
        range: Arc<Query>,
    ) -> Result<Option<StagedFile>> {
        let day = file.day;
        let scan = DayScan::new(self.backend.clone(), day, range, self.options.batch_rows);
        let mut rows = scan.stream_files(vec![file]);
        let mut sink: Option<EncodingSink> = None;
        let result = async {
            while let Some(batch) = rows.try_next().await? {
                if batch.num_rows() == 0 {
                    continue;
                }
                let output = match &mut sink {
                    Some(sink) => sink,
                    None => {
                        let level = ingest_zstd_level();
                        let opened =
                            EncodingSink::open(target.backend.as_ref(), path, day, level).await?;
                        sink.insert(opened)
                    }
                };
                output.write(&batch).await?;
            }
            Ok::<_, Error>(())
        }
        .await;
        match (result, sink) {
            (Ok(()), Some(sink)) => sink.finish().await.map(Some),
            (Ok(()), None) => Ok(None),
            (Err(e), sink) => {
                if let Some(sink) = sink {
                    let _ = sink.abort().await;
                }
                Err(e)
            }
        }
    }

    /// A planned file whose path is on the target already (`size` bytes there): fine when
    /// it holds what the copy would write, compared a piece at a time; an error otherwise
    /// (nothing is ever replaced).
    async fn check_same(
        &self,
        target: &Store,
        plan: &Plan,
        path: &str,
        size: u64,
        range: Arc<Query>,
    ) -> Result<()> {
        let differs = || Error::CopyMismatch {
            target: target.location(),
            detail: format!("{path} already exists with other content; it is never replaced"),
        };
        match plan {
            Plan::Whole(file) => {
                if file.size != size {
                    return Err(differs());
                }
                let mut offset = 0;
                while offset < size {
                    let end = (offset + PIECE_BYTES).min(size);
                    let mine = self.backend.get_range(&file.path, offset..end).await?;
                    let theirs = target.backend.get_range(path, offset..end).await?;
                    if mine != theirs {
                        return Err(differs());
                    }
                    offset = end;
                }
                Ok(())
            }
            Plan::Rewrite(file, _) => {
                // The rows in range of the source file, event for event, against the
                // file there: the same events are the same file, whichever build encoded
                // them (page boundaries follow how rows were handed to the encoder).
                let day = file.day;
                let batch_rows = self.options.batch_rows;
                let scan = DayScan::new(self.backend.clone(), day, range, batch_rows);
                let mut mine = decoded(scan.stream_files(vec![file.clone()]), file.path.clone());
                let there = FileEntry {
                    path: path.to_owned(),
                    size,
                    day,
                    kind: layout::DataFileKind::Partitioned,
                };
                let all = Arc::new(Query::all());
                let scan = DayScan::new(target.backend.clone(), day, all, batch_rows);
                let mut theirs = decoded(scan.stream_files(vec![there]), path.to_owned());
                loop {
                    match (mine.try_next().await?, theirs.try_next().await?) {
                        (None, None) => return Ok(()),
                        (Some(a), Some(b)) if a == b => {}
                        _ => return Err(differs()),
                    }
                }
            }
        }
    }
}

/// Walks both stores' scans of the range in order: every source event must be on the
/// target, identical. Returns the per-day counts of source events.
async fn verify(source: &Store, target: &Store, range: &Query) -> Result<BTreeMap<UtcDay, u64>> {
    let mismatch = |detail: String| Error::CopyMismatch {
        target: target.location(),
        detail,
    };
    let mut theirs = events(target, range).await?;
    let mut mine = events(source, range).await?;
    let mut counts = BTreeMap::new();
    let mut next_theirs = theirs.try_next().await?;
    while let Some(event) = mine.try_next().await? {
        *counts
            .entry(event.day().map_err(|e| mismatch(e.to_string()))?)
            .or_insert(0) += 1;
        while next_theirs
            .as_ref()
            .is_some_and(|t| t.sort_key() < event.sort_key())
        {
            next_theirs = theirs.try_next().await?;
        }
        match &next_theirs {
            Some(t) if *t == event => {}
            Some(t) if t.sort_key() == event.sort_key() => {
                return Err(mismatch(format!(
                    "event (session_id {:?}, seq {}) differs on the target",
                    event.session_id, event.seq
                )));
            }
            _ => {
                return Err(mismatch(format!(
                    "event (session_id {:?}, seq {}) is missing on the target",
                    event.session_id, event.seq
                )));
            }
        }
    }
    Ok(counts)
}

type EventStream = std::pin::Pin<Box<dyn futures::Stream<Item = Result<Event>> + Send>>;

/// A store's events in range, streamed one batch at a time.
async fn events(store: &Store, range: &Query) -> Result<EventStream> {
    let batches = store.scan(range.clone()).await?;
    Ok(decoded(batches, store.location()))
}

/// The events of `batches`, one at a time (errors name `label`).
fn decoded(batches: crate::event_store::BatchStream, label: String) -> EventStream {
    Box::pin(
        batches
            .and_then(move |batch| {
                let decoded = batch_to_events(&batch, &label);
                async move { decoded.map(|events| stream::iter(events.into_iter().map(Ok))) }
            })
            .try_flatten(),
    )
}
