//! [`FooterCache`]: a backend wrapper that keeps the last bytes of the data files it has
//! listed, where Parquet keeps a file's footer, so that the queries of one process fetch
//! each footer once. A report runs two or three queries over the same days, and on a
//! bucket every footer fetched again is a billed request of 20–100 ms.
//!
//! Safe because the store's data files are never rewritten in place (a compaction writes
//! new files and deletes the old ones): under one path and size, a data file's bytes never
//! change. The cache learns each file's size and version (an object's ETag and
//! last-modified time) from listings; it keeps a read only when it is of a data file, ends
//! at the file's end and is at most [`TAIL_BYTES`] long; it forgets a file it is asked to
//! delete, or whose size or version a listing shows changed (a file another tool replaced
//! in place: every query lists its days first) or that a listing of its folder no longer
//! shows (deleted by another process: what the cache knows stays bounded by the files that
//! exist, for a `kaizen serve` that runs for months), and holds [`BUDGET_BYTES`] at most (the
//! oldest read goes first).

use std::collections::{HashMap, VecDeque};
use std::ops::Range;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use bytes::Bytes;

use super::{Backend, Listing, RequestCounts, StageWriter, Staged};
use crate::{Result, layout};

/// The longest tail read kept: what a footer read asks for (`BackendFileReader`'s prefetch,
/// or the whole of a smaller file).
pub const TAIL_BYTES: u64 = super::reader::FOOTER_PREFETCH;

/// Bytes kept at most: the footers of 512 files of 64 KiB or more, of thousands of smaller
/// ones (a day's file footer is about 10 KB).
pub const BUDGET_BYTES: usize = 32 << 20;

/// Wraps a backend, keeping its data files' footer reads (see the module's documentation).
#[derive(Debug)]
pub struct FooterCache {
    inner: Arc<dyn Backend>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Each listed folder's data files (by path): their size and version, as the folder's
    /// last listing gave them.
    folders: HashMap<String, HashMap<String, (u64, Option<String>)>>,
    /// The tail read kept for a file: its range and bytes.
    tails: HashMap<String, (Range<u64>, Bytes)>,
    /// Files in the order their tail was kept, oldest first.
    order: VecDeque<String>,
    /// The bytes of every tail kept.
    bytes: usize,
}

/// What the cache holds for a read.
enum Lookup {
    /// Not a footer read: never kept.
    NotTail,
    /// A footer read, kept: its bytes.
    Kept(Bytes),
    /// A footer read not kept yet.
    Missing,
}

impl State {
    /// Whether a read of `range` of `path` is a footer read (of a listed data file, ending
    /// at its end, [`TAIL_BYTES`] at most), and if so what is kept of it.
    fn lookup(&self, path: &str, range: &Range<u64>) -> Lookup {
        let size = (self.folders.get(layout::parent_dir(path)))
            .and_then(|files| files.get(path))
            .map(|(size, _)| *size);
        if size != Some(range.end) || range.end - range.start > TAIL_BYTES {
            return Lookup::NotTail;
        }
        match self.tails.get(path) {
            Some((kept, tail)) if kept == range => Lookup::Kept(tail.clone()),
            _ => Lookup::Missing,
        }
    }

    fn forget(&mut self, path: &str) {
        if let Some((_, tail)) = self.tails.remove(path) {
            self.bytes -= tail.len();
            self.order.retain(|p| p != path);
        }
    }

    fn keep(&mut self, path: &str, range: Range<u64>, tail: Bytes) {
        self.forget(path);
        while self.bytes + tail.len() > BUDGET_BYTES {
            let Some(oldest) = self.order.pop_front() else {
                return; // larger than the whole budget: not kept
            };
            if let Some((_, dropped)) = self.tails.remove(&oldest) {
                self.bytes -= dropped.len();
            }
        }
        self.bytes += tail.len();
        self.order.push_back(path.to_owned());
        self.tails.insert(path.to_owned(), (range, tail));
    }
}

impl FooterCache {
    /// `inner`, with its data files' footer reads kept.
    pub fn new(inner: Arc<dyn Backend>) -> Self {
        FooterCache {
            inner,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state is a cache: after a panic elsewhere it is still a valid one.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl Backend for FooterCache {
    fn location(&self) -> String {
        self.inner.location()
    }

    fn request_counts(&self) -> Option<RequestCounts> {
        self.inner.request_counts()
    }

    fn latency_bound(&self) -> bool {
        self.inner.latency_bound()
    }

    async fn list(&self, dir: &str) -> Result<Listing> {
        let listing = self.inner.list(dir).await?;
        let listed: HashMap<String, (u64, Option<String>)> = (listing.files.iter())
            .filter(|file| layout::classify(&file.path).is_some())
            .map(|file| (file.path.clone(), (file.size, file.version.clone())))
            .collect();
        let folder = dir.trim_end_matches('/');
        let mut state = self.state();
        let before = state.folders.remove(folder).unwrap_or_default();
        for (path, seen) in &before {
            // Gone, or another size or version than before: what was kept is not of it.
            if listed.get(path) != Some(seen) {
                state.forget(path);
            }
        }
        if !listed.is_empty() {
            state.folders.insert(folder.to_owned(), listed);
        }
        Ok(listing)
    }

    async fn get_range(&self, path: &str, range: Range<u64>) -> Result<Bytes> {
        let lookup = self.state().lookup(path, &range);
        match lookup {
            Lookup::NotTail => self.inner.get_range(path, range).await,
            Lookup::Kept(tail) => Ok(tail),
            Lookup::Missing => {
                let tail = self.inner.get_range(path, range.clone()).await?;
                self.state().keep(path, range, tail.clone());
                Ok(tail)
            }
        }
    }

    async fn get_ranges(&self, path: &str, ranges: Vec<Range<u64>>) -> Result<Vec<Bytes>> {
        // Column chunks and page indexes: never kept, and read as the backend coalesces them.
        self.inner.get_ranges(path, ranges).await
    }

    async fn stage(&self, path: &str, data: Bytes) -> Result<Staged> {
        self.inner.stage(path, data).await
    }

    async fn stage_writer(&self, path: &str) -> Result<Box<dyn StageWriter>> {
        self.inner.stage_writer(path).await
    }

    async fn publish(&self, staged: &Staged) -> Result<()> {
        self.inner.publish(staged).await
    }

    async fn discard(&self, staged: &Staged) -> Result<()> {
        self.inner.discard(staged).await
    }

    async fn delete(&self, path: &str) -> Result<()> {
        {
            let mut state = self.state();
            state.forget(path);
            if let Some(files) = state.folders.get_mut(layout::parent_dir(path)) {
                files.remove(path);
            }
        }
        self.inner.delete(path).await
    }

    async fn create_dir(&self, dir: &str) -> Result<()> {
        self.inner.create_dir(dir).await
    }
}

#[cfg(test)]
mod tests {
    use object_store::memory::InMemory;
    use object_store::path::Path;

    use super::*;
    use crate::backend::ObjectStoreBackend;

    /// A data file another process deletes is forgotten at the next listing of its folder,
    /// with the footer kept for it; the files still listed keep theirs.
    #[tokio::test]
    async fn a_file_a_listing_no_longer_shows_is_forgotten() {
        let client = Arc::new(InMemory::new());
        let inner: Arc<dyn Backend> = Arc::new(ObjectStoreBackend::new(
            client,
            Path::from("store"),
            "memory:///store",
        ));
        let cache = FooterCache::new(inner.clone());
        let dir = format!("{}/day=2026-10-05", layout::EVENTS_DIR);
        let (gone, kept) = (format!("{dir}/a.parquet"), format!("{dir}/b.parquet"));
        for path in [&gone, &kept] {
            let staged = inner.stage(path, Bytes::from_static(b"0123456789")).await;
            inner
                .publish(&staged.expect("stage"))
                .await
                .expect("publish");
        }
        cache.list(&dir).await.expect("list");
        for path in [&gone, &kept] {
            cache.get_range(path, 4..10).await.expect("footer read");
        }
        assert_eq!(cache.state().bytes, 12);
        inner
            .delete(&gone)
            .await
            .expect("deleted by another process");
        cache.list(&dir).await.expect("list again");
        {
            let state = cache.state();
            assert_eq!(state.bytes, 6);
            assert_eq!(state.order, std::slice::from_ref(&kept));
            let files: Vec<&String> = state.folders[dir.as_str()].keys().collect();
            assert_eq!(files, [&kept]);
        }
        inner
            .delete(&kept)
            .await
            .expect("deleted by another process");
        cache.list(&dir).await.expect("list the empty folder");
        let state = cache.state();
        assert!(state.folders.is_empty() && state.tails.is_empty());
        assert_eq!(state.bytes, 0);
    }
}
