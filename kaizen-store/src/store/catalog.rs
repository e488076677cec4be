//! Finds a store's data files, day by day, listing only the day folders a query needs.

use std::collections::BTreeMap;

use futures::{StreamExt, TryStreamExt};
use kaizen_core::UtcDay;

use crate::Result;
use crate::backend::Backend;
use crate::layout::{self, DataFileKind};

/// A data file found in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileEntry {
    pub path: String,
    pub size: u64,
    pub day: UtcDay,
    pub kind: DataFileKind,
}

/// The data files of every day `wanted` accepts, by day; within a day, by path.
pub(crate) async fn list_days(
    backend: &dyn Backend,
    wanted: impl Fn(UtcDay) -> bool,
) -> Result<BTreeMap<UtcDay, Vec<FileEntry>>> {
    let top = backend.list(layout::EVENTS_DIR).await?;
    let day_dirs: Vec<String> = top
        .dirs
        .into_iter()
        .filter(|dir| layout::parse_day_dir(dir).is_some_and(&wanted))
        .collect();
    let nested: Vec<_> = futures::stream::iter(day_dirs)
        .map(|dir| async move { backend.list(&dir).await })
        .buffer_unordered(16)
        .try_collect()
        .await?;

    let mut days: BTreeMap<UtcDay, Vec<FileEntry>> = BTreeMap::new();
    let all_files = top
        .files
        .into_iter()
        .chain(nested.into_iter().flat_map(|listing| listing.files));
    for meta in all_files {
        let Some(file) = layout::classify(&meta.path) else {
            continue; // foreign: never read, never deleted
        };
        if wanted(file.day) {
            days.entry(file.day).or_default().push(FileEntry {
                path: file.path,
                size: meta.size,
                day: file.day,
                kind: file.kind,
            });
        }
    }
    for files in days.values_mut() {
        files.sort_by(|a, b| a.path.cmp(&b.path));
    }
    Ok(days)
}
