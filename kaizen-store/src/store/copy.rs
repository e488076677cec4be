//! Copying a store to another (any backend to any backend), resumable and verified.
//!
//! A data file wholly inside the time range is copied byte for byte under the same path
//! (v1 names included); a file that straddles the range's edge is rewritten with only the
//! rows in range, under a name derived from the source path and the range. Either way a
//! rerun finds the file already there with identical bytes and skips it. A file at the
//! same path with other bytes is an error: nothing is ever replaced.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::compute::concat_batches;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt, stream};
use kaizen_core::{Event, Field, UtcDay};

use super::Store;
use super::catalog::DayFiles;
use super::catalog::{self, FileEntry};
use super::scan::{DayScan, live_files};
use crate::codec::{batch_to_events, encode_file, event_schema};
use crate::event_store::EventStore;
use crate::{Error, Query, Result, layout};

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
                    let (source_size, path, bytes) = match plan {
                        Plan::Whole(file) => {
                            let bytes = self.backend.get_range(&file.path, 0..file.size).await?;
                            (file.size, file.path, Some(bytes))
                        }
                        Plan::Rewrite(file, path) => {
                            let size = file.size;
                            (size, path.clone(), self.rewrite(file, &path, range).await?)
                        }
                    };
                    let written = match bytes {
                        Some(bytes) => put_once(target, existing, &path, bytes).await?,
                        None => None, // no row of the file is in range
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

    /// The rows of `file` in range, sorted and each identity once, as a new file's bytes;
    /// `None` for no rows.
    async fn rewrite(
        &self,
        file: FileEntry,
        path: &str,
        range: Arc<Query>,
    ) -> Result<Option<Bytes>> {
        let scan = DayScan {
            backend: self.backend.clone(),
            day: file.day,
            query: range,
            fields: Arc::new(Field::ALL.to_vec()),
            batch_rows: self.options.batch_rows,
            check_payloads: true,
        };
        let files = DayFiles {
            files: vec![file],
            ..DayFiles::default()
        };
        let batches: Vec<_> = scan.stream(files).try_collect().await?;
        let all = concat_batches(&event_schema(), &batches).map_err(|e| Error::arrow(path, e))?;
        if all.num_rows() == 0 {
            return Ok(None);
        }
        encode_file(&all, path).map(Some)
    }
}

/// Publishes `bytes` at `path` on the target unless the same bytes are there already.
/// Returns the bytes written, or `None` when skipped.
async fn put_once(
    target: &Store,
    existing: &HashMap<String, u64>,
    path: &str,
    bytes: Bytes,
) -> Result<Option<u64>> {
    if let Some(&size) = existing.get(path) {
        let same =
            size == bytes.len() as u64 && target.backend.get_range(path, 0..size).await? == bytes;
        if same {
            return Ok(None);
        }
        return Err(Error::CopyMismatch {
            target: target.location(),
            detail: format!("{path} already exists with other content; it is never replaced"),
        });
    }
    let size = bytes.len() as u64;
    let staged = target.backend.stage(path, bytes).await?;
    if let Err(e) = target.backend.publish(&staged).await {
        let _ = target.backend.discard(&staged).await;
        return Err(e);
    }
    Ok(Some(size))
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
    let location = store.location();
    let batches = store.scan(range.clone()).await?;
    Ok(Box::pin(
        batches
            .and_then(move |batch| {
                let decoded = batch_to_events(&batch, &location);
                async move { decoded.map(|events| stream::iter(events.into_iter().map(Ok))) }
            })
            .try_flatten(),
    ))
}
