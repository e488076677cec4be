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
//! in place: every query lists its days first), and holds [`BUDGET_BYTES`] at most (the
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
    /// Each data file's size and version, as the last listing gave them.
    files: HashMap<String, (u64, Option<String>)>,
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
        let size = self.files.get(path).map(|(size, _)| *size);
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
        let mut state = self.state();
        for file in &listing.files {
            // Another size or version than before: what was kept is not of this file.
            let seen = (file.size, file.version.clone());
            if layout::classify(&file.path).is_some() && state.files.get(&file.path) != Some(&seen)
            {
                state.forget(&file.path);
                state.files.insert(file.path.clone(), seen);
            }
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
            state.files.remove(path);
        }
        self.inner.delete(path).await
    }

    async fn create_dir(&self, dir: &str) -> Result<()> {
        self.inner.create_dir(dir).await
    }
}
