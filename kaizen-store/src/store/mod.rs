//! [`Store`]: the [`EventStore`] over any [`Backend`]. It knows events, the codec and the
//! layout; the backend only moves bytes.

mod catalog;
mod copy;
mod merge;
mod scan;
mod writer;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use kaizen_core::UtcDay;

use crate::backend::{Backend, LocalBackend};
use crate::event_store::{
    BatchStream, EventStore, EventWriter, Partition, PruneReport, PrunedFile,
};
use crate::{Query, Result};

pub use copy::CopyReport;

/// Tuning of a store. The defaults suit most stores.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Rows in one new data file at most (a day with more gets more files).
    pub rows_per_file: usize,
    /// Rows a writer buffers across all days before it stages the largest day.
    pub max_buffered_rows: usize,
    /// Rows in one batch of a scan's output.
    pub batch_rows: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            rows_per_file: 500_000,
            max_buffered_rows: 1_000_000,
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

    pub fn with_options(mut self, options: StoreOptions) -> Self {
        self.options = options;
        self
    }

    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
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
        scan::scan(self.backend.clone(), query, self.options.batch_rows).await
    }

    async fn partitions(&self) -> Result<Vec<Partition>> {
        let days = catalog::list_days(self.backend.as_ref(), |_| true).await?;
        let files = days.into_values().flatten();
        let facts: Vec<_> = futures::stream::iter(files)
            .map(|file| async move {
                let facts = scan::read_facts(self.backend.clone(), &file).await?;
                Ok::<_, crate::Error>((file, facts))
            })
            .buffered(16)
            .try_collect()
            .await?;
        let mut partitions: BTreeMap<UtcDay, Partition> = BTreeMap::new();
        for (file, facts) in facts {
            let p = partitions.entry(file.day).or_insert(Partition {
                day: file.day,
                files: 0,
                rows: 0,
                bytes: 0,
                min_ts_ms: None,
                max_ts_ms: None,
            });
            p.files += 1;
            p.rows += facts.rows;
            p.bytes += file.size;
            p.min_ts_ms = min_some(p.min_ts_ms, facts.min_ts());
            p.max_ts_ms = p.max_ts_ms.max(facts.max_ts());
        }
        Ok(partitions.into_values().collect())
    }

    async fn prune(&self, before: UtcDay, dry_run: bool) -> Result<PruneReport> {
        let days = catalog::list_days(self.backend.as_ref(), |day| day < before).await?;
        let mut files = Vec::new();
        for file in days.into_values().flatten() {
            if !dry_run {
                self.backend.delete(&file.path).await?;
            }
            files.push(PrunedFile {
                path: file.path,
                day: file.day,
                bytes: file.size,
            });
        }
        Ok(PruneReport {
            before,
            dry_run,
            files,
        })
    }
}

fn min_some(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
