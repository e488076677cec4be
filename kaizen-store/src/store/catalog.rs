//! Finds a store's data files, day by day, listing only the day folders a query needs.

use std::collections::{BTreeMap, BTreeSet};

use futures::{StreamExt, TryStreamExt};
use kaizen_core::UtcDay;

use crate::Result;
use crate::backend::{Backend, FileMeta};
use crate::layout::{self, DataFileKind};

/// A data file found in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileEntry {
    pub path: String,
    pub size: u64,
    pub day: UtcDay,
    pub kind: DataFileKind,
}

/// What a day holds: its data files (by path) and the ids of its finished compactions.
#[derive(Debug, Clone, Default)]
pub(crate) struct DayFiles {
    pub files: Vec<FileEntry>,
    pub compactions: BTreeSet<String>,
}

/// The days a listing found, and the staging files writers left in them (or beside v1 files).
#[derive(Debug, Clone, Default)]
pub(crate) struct Catalog {
    pub days: BTreeMap<UtcDay, DayFiles>,
    pub staging: Vec<FileMeta>,
}

/// Every day `wanted` accepts, listing only those days' folders.
pub(crate) async fn list_days(
    backend: &dyn Backend,
    wanted: impl Fn(UtcDay) -> bool,
) -> Result<BTreeMap<UtcDay, DayFiles>> {
    Ok(catalog(backend, wanted).await?.days)
}

/// The days `wanted` accepts that hold a day folder or a v1 file: one listing of the top.
pub(crate) async fn list_day_names(
    backend: &dyn Backend,
    wanted: impl Fn(UtcDay) -> bool,
) -> Result<BTreeSet<UtcDay>> {
    let top = backend.list(layout::EVENTS_DIR).await?;
    let folders = top.dirs.iter().filter_map(|dir| layout::parse_day_dir(dir));
    let v1_files = top
        .files
        .iter()
        .filter_map(|meta| layout::classify(&meta.path).map(|file| file.day));
    Ok(folders.chain(v1_files).filter(|day| wanted(*day)).collect())
}

/// As [`list_days`], with the staging files.
pub(crate) async fn catalog(
    backend: &dyn Backend,
    wanted: impl Fn(UtcDay) -> bool,
) -> Result<Catalog> {
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

    let mut days: BTreeMap<UtcDay, DayFiles> = BTreeMap::new();
    let mut staging = Vec::new();
    let all_files = top
        .files
        .into_iter()
        .chain(nested.into_iter().flat_map(|listing| listing.files));
    for meta in all_files {
        if let Some(file) = layout::classify(&meta.path) {
            if wanted(file.day) {
                days.entry(file.day).or_default().files.push(FileEntry {
                    path: file.path,
                    size: meta.size,
                    day: file.day,
                    kind: file.kind,
                });
            }
        } else if let Some((day, id)) = layout::parse_compaction_marker(&meta.path) {
            days.entry(day).or_default().compactions.insert(id);
        } else if layout::is_staging(&meta.path) {
            staging.push(meta);
        }
        // Anything else is foreign: never read, never deleted.
    }
    for day in days.values_mut() {
        day.files.sort_by(|a, b| a.path.cmp(&b.path));
    }
    Ok(Catalog { days, staging })
}

/// Just the data files, every day's, in day then path order.
pub(crate) fn data_files(days: BTreeMap<UtcDay, DayFiles>) -> impl Iterator<Item = FileEntry> {
    days.into_values().flat_map(|d| d.files)
}
