//! [`Store`]: the [`EventStore`] over any [`Backend`]. It knows events, the codec and the
//! layout; the backend only moves bytes.

mod catalog;
mod compact;
mod copy;
mod identities;
mod merge;
mod read;
mod retention;
mod rewrite;
mod scan;
mod sink;
mod state;
#[cfg(test)]
mod test_batches;
mod verify;
mod writer;

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use kaizen_core::{Event, UtcDay};

use crate::backend::{Backend, LocalBackend};
use crate::event_store::{BatchStream, EventStore, EventWriter, Partition, PruneReport, events_of};
use crate::{Query, Result, layout};

pub use compact::{CompactTarget, CompactedDay};
pub use copy::CopyReport;
pub use identities::APPENDED;
pub(crate) use identities::Ledger;
pub use rewrite::{
    EraseReport, FileEntrySummary, PRUNED_PAYLOAD_KEPT_KEYS, PRUNED_PAYLOAD_MARK, RewriteFn,
    RewriteReport, RewriteScope, Rewritten, RewrittenDay, is_pruned_payload, pruned_payload,
};
pub use verify::{Problem, VerifyReport};

/// Tuning of a store. The defaults suit most stores.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Rows in one new data file at most (a day with more gets more files).
    pub rows_per_file: usize,
    /// Rows a writer buffers across all days before it stages the largest day.
    pub max_buffered_rows: usize,
    /// Bytes (about) a writer buffers across all days before it stages the largest day,
    /// and the bytes of a day's part at most (an event larger than that is a part alone):
    /// what bounds a writer's memory whatever the input's size or its rows' sizes.
    pub max_buffered_bytes: usize,
    /// Rows in one batch of a scan's output at most; a batch also stays within
    /// [`crate::codec::BATCH_BYTES`] (but one row), as the footer's sizes tell.
    pub batch_rows: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            rows_per_file: 500_000,
            max_buffered_rows: 1_000_000,
            max_buffered_bytes: 24 << 20,
            batch_rows: 8192,
        }
    }
}

/// An event store on a backend.
#[derive(Debug, Clone)]
pub struct Store {
    backend: Arc<dyn Backend>,
    options: StoreOptions,
}

impl Store {
    /// The store a backend holds, with the default options.
    pub fn new(backend: Arc<dyn Backend>) -> Self {
        Store {
            backend,
            options: StoreOptions::default(),
        }
    }

    /// A store in a local folder (created on the first write).
    pub fn local(root: impl Into<PathBuf>) -> Self {
        Self::new(Arc::new(LocalBackend::new(root)))
    }

    /// The same store with other writer and reader options.
    pub fn with_options(mut self, options: StoreOptions) -> Self {
        self.options = options;
        self
    }

    /// The backend moving its bytes (for tools that read or copy files as they are).
    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    /// The requests made to the service so far, by kind, when the backend counts them
    /// (an object store opened by URL); `None` for a local folder.
    pub fn request_counts(&self) -> Option<crate::backend::RequestCounts> {
        self.backend.request_counts()
    }

    /// Whether a store is there: something is under its `cold/` folder. On a local folder
    /// that is the folder `<root>/cold` (which [`Store::create`] makes, and which pruning
    /// every day leaves); on an object store, any object under `<prefix>/cold/` (object
    /// stores have no empty folders: a prefix whose every object was pruned holds no store).
    /// One listing of the store's top level. A location that is not there at all is `false`,
    /// not an error: readers refuse it ("no store at …") rather than read it as empty.
    pub async fn exists(&self) -> Result<bool> {
        let top = self.backend.list("").await?;
        Ok(top.dirs.iter().any(|dir| dir == layout::STORE_MARKER_DIR))
    }

    /// Makes the store exist where it does not yet, as a writer would: a local folder gets
    /// `cold/events`, so that it is a store (see [`Store::exists`]) even before its first
    /// event; on object stores this writes nothing (the first data file makes the store).
    pub async fn create(&self) -> Result<()> {
        self.backend.create_dir(layout::EVENTS_DIR).await
    }

    /// The days that may hold events of `query`'s time range, from one listing of the
    /// store's top folder: what [`Query::split_by_days`] splits a scan by.
    pub async fn days(&self, query: &Query) -> Result<Vec<UtcDay>> {
        let days = catalog::list_day_names(self.backend.as_ref(), |day| query.may_contain_day(day))
            .await?;
        Ok(days.into_iter().collect())
    }
}

#[async_trait]
impl EventStore for Store {
    fn location(&self) -> String {
        self.backend.location()
    }

    fn writer(&self) -> Box<dyn EventWriter> {
        Box::new(writer::StoreWriter::new(
            self.backend.clone(),
            self.options.clone(),
        ))
    }

    async fn scan(&self, query: Query) -> Result<BatchStream> {
        scan::scan(self.backend.clone(), query, self.options.batch_rows, false).await
    }

    /// As the trait's, but the scan checks every payload, so that one a damaged file holds
    /// is the error of that file (scans trust the payloads of kaizen's files otherwise).
    async fn scan_events(&self, query: Query) -> Result<Vec<Event>> {
        let query = Query {
            columns: None,
            ..query
        };
        let batches = scan::scan(self.backend.clone(), query, self.options.batch_rows, true);
        events_of(batches.await?, &self.location()).await
    }

    async fn partitions(&self) -> Result<Vec<Partition>> {
        let days = catalog::list_days(self.backend.as_ref(), |_| true).await?;
        let mut partitions = Vec::with_capacity(days.len());
        for (day, files) in days {
            let live = read::live_files(&self.backend, files).await?;
            if live.is_empty() {
                continue;
            }
            partitions.push(Partition {
                day,
                files: live.len(),
                rows: live.iter().map(|(_, f)| f.rows).sum(),
                bytes: live.iter().map(|(file, _)| file.size).sum(),
                min_ts_ms: live.iter().filter_map(|(_, f)| f.min_ts()).min(),
                max_ts_ms: live.iter().filter_map(|(_, f)| f.max_ts()).max(),
            });
        }
        Ok(partitions)
    }

    async fn prune(&self, before: UtcDay, dry_run: bool) -> Result<PruneReport> {
        self.prune_days(before, dry_run).await
    }
}
