//! Backends move bytes; everything that knows about events lives above them.
//!
//! A backend lists folders, reads byte ranges, stages a file where no reader sees it,
//! publishes it under its final name without ever replacing one, and deletes files.

mod counting;
mod footer_cache;
mod local;
mod object;
mod reader;

use std::fmt::Debug;
use std::ops::Range;

use async_trait::async_trait;
use bytes::Bytes;

pub use counting::{CountingStore, RequestCounter, RequestCounts};
pub use footer_cache::FooterCache;
pub use local::LocalBackend;
pub use object::ObjectStoreBackend;
pub use reader::BackendFileReader;

use crate::Result;

/// A file in a listing, with its path relative to the store root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMeta {
    /// `/`-separated, relative to the store root (never the backend's own key or path).
    pub path: String,
    /// Bytes.
    pub size: u64,
    /// What the service says of this version of the file, when it says anything: an
    /// object's ETag and last-modified time (`None` on a local folder). A file replaced in
    /// place by another tool (a restore, `aws s3 cp`) shows a new one even at the same size.
    pub version: Option<String>,
}

/// One level of a folder: its files and its sub-folders (paths relative to the store root).
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// The files directly in the folder.
    pub files: Vec<FileMeta>,
    /// The folders directly in it (on object stores: the common prefixes).
    pub dirs: Vec<String>,
}

/// A file written but not yet visible under its final path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staged {
    /// Where the file will be visible once published.
    pub path: String,
    /// Where its bytes are now.
    pub staging_path: String,
    /// Bytes.
    pub size: u64,
}

/// A file being staged piece by piece (see [`Backend::stage_writer`]).
#[async_trait]
pub trait StageWriter: Send {
    /// Appends `data` to the file.
    async fn write(&mut self, data: Bytes) -> Result<()>;

    /// Makes the whole file durable where [`Backend::publish`] takes it.
    async fn finish(self: Box<Self>) -> Result<Staged>;

    /// Removes what was written: the file will not be published.
    async fn abort(self: Box<Self>) -> Result<()>;

    /// Writes the file's last piece (or takes the error that came instead of it) and
    /// finishes; on failure, nothing of the file stays.
    async fn finish_with(mut self: Box<Self>, last: Result<Bytes>) -> Result<Staged> {
        let written = match last {
            Ok(last) => self.write(last).await,
            Err(e) => Err(e),
        };
        if let Err(e) = written {
            let _ = self.abort().await;
            return Err(e);
        }
        self.finish().await
    }
}

/// Moves the bytes of one store's files: a local folder ([`LocalBackend`]) or any
/// object store ([`ObjectStoreBackend`]). Paths are relative to the store root and
/// `/`-separated. Knows nothing of events, so each new place to keep a store is only this.
#[async_trait]
pub trait Backend: Send + Sync + Debug + 'static {
    /// Where the store lives, for messages: a folder or a URL, never a secret.
    fn location(&self) -> String;

    /// The service requests made so far, by kind, when the backend counts them (an object
    /// store opened by URL does: [`CountingStore`]); `None` for a local folder.
    fn request_counts(&self) -> Option<RequestCounts> {
        None
    }

    /// Whether each request waits on a network round trip (20–100 ms to a bucket) rather
    /// than a local disk: scans then read more days at once, so that the round trips of
    /// many files overlap instead of adding up.
    fn latency_bound(&self) -> bool {
        false
    }

    /// One level of `dir`. A folder that does not exist lists as empty.
    async fn list(&self, dir: &str) -> Result<Listing>;

    /// The bytes `range` of a file ([`crate::Error::NotFound`] when it is gone): Parquet
    /// readers read footers and column chunks, never whole files.
    async fn get_range(&self, path: &str, range: Range<u64>) -> Result<Bytes>;

    /// Several ranges of one file; backends that can coalesce or parallelise them do.
    async fn get_ranges(&self, path: &str, ranges: Vec<Range<u64>>) -> Result<Vec<Bytes>> {
        let mut out = Vec::with_capacity(ranges.len());
        for range in ranges {
            out.push(self.get_range(path, range).await?);
        }
        Ok(out)
    }

    /// Writes `data` durably where no reader takes it for data; [`Backend::publish`] makes
    /// it visible under `path`.
    async fn stage(&self, path: &str, data: Bytes) -> Result<Staged> {
        self.stage_writer(path).await?.finish_with(Ok(data)).await
    }

    /// As [`Backend::stage`], for a file given piece by piece: memory holds a piece, never
    /// the whole file. Nothing is staged until [`StageWriter::finish`].
    async fn stage_writer(&self, path: &str) -> Result<Box<dyn StageWriter>>;

    /// Makes a staged file visible under its path, atomically. Fails with
    /// [`crate::Error::AlreadyExists`] when something is there: a file is never replaced.
    async fn publish(&self, staged: &Staged) -> Result<()>;

    /// Removes a staged file that will not be published.
    async fn discard(&self, staged: &Staged) -> Result<()>;

    /// Removes a published file (prune, compaction). Only data files are ever asked for:
    /// anything else under the store is foreign and left alone.
    async fn delete(&self, path: &str) -> Result<()>;

    /// Makes the folder `dir` (and its parents) exist, where folders exist apart from the
    /// files in them: a local folder is created; object stores have no folders, so this
    /// does nothing there (a prefix exists once an object is under it).
    async fn create_dir(&self, dir: &str) -> Result<()> {
        let _ = dir;
        Ok(())
    }
}
