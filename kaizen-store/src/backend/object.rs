use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, WriteMultipart};

use super::{
    Backend, CountingStore, FileMeta, Listing, RequestCounter, RequestCounts, StageWriter, Staged,
};
use crate::{Error, Result, layout};

/// Files larger than this are uploaded in parts.
const MULTIPART_THRESHOLD: usize = 8 * 1024 * 1024;
const MULTIPART_PART: usize = 5 * 1024 * 1024;
/// Parts of one file uploaded at once: what a file given piece by piece holds in memory.
const PARTS_IN_FLIGHT: usize = 4;

/// A store under a prefix of an object store bucket or container (S3 and S3-compatible
/// servers, GCS, Azure Blob, in-memory). Puts are create-only: nothing is ever replaced.
#[derive(Clone)]
pub struct ObjectStoreBackend {
    store: Arc<dyn ObjectStore>,
    /// The requests made through `store`, when it is a [`CountingStore`].
    counter: Option<RequestCounter>,
    prefix: Path,
    /// The URL without credentials, for messages.
    location: String,
}

/// Shows the location only: a client's own `Debug` may hold credentials.
impl std::fmt::Debug for ObjectStoreBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectStoreBackend")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl ObjectStoreBackend {
    /// The store under `prefix` of `store` (its keys are `prefix/cold/…`); `location` is
    /// what messages show (the URL without secrets).
    pub fn new(store: Arc<dyn ObjectStore>, prefix: Path, location: impl Into<String>) -> Self {
        ObjectStoreBackend {
            store,
            counter: None,
            prefix,
            location: location.into(),
        }
    }

    /// As [`ObjectStoreBackend::new`], every request made through `store` counted
    /// ([`Backend::request_counts`]).
    pub fn counted(store: Arc<dyn ObjectStore>, prefix: Path, location: impl Into<String>) -> Self {
        let counting = CountingStore::new(store);
        let counter = counting.counter();
        ObjectStoreBackend {
            store: Arc::new(counting),
            counter: Some(counter),
            prefix,
            location: location.into(),
        }
    }

    /// The object key of `path` (relative to the store root): the prefix exactly as given,
    /// then the path's segments. Joined as parts, never re-encoded: `Path::from` on the
    /// whole string would percent-encode the prefix (`équipe` → `%C3%A9quipe`), writing
    /// where no listing of the prefix looks. The layout's own paths are plain ASCII.
    fn full(&self, path: &str) -> Path {
        Path::from_iter(self.prefix.parts().chain(Path::from(path).parts()))
    }

    fn relative(&self, path: &Path) -> String {
        let full = path.as_ref();
        let rest = full.strip_prefix(self.prefix.as_ref()).unwrap_or(full);
        rest.trim_start_matches('/').to_owned()
    }

    fn error(&self, path: &str, e: object_store::Error) -> Error {
        let shown = format!("{}/{path}", self.location.trim_end_matches('/'));
        match e {
            object_store::Error::NotFound { .. } => Error::NotFound { path: shown },
            object_store::Error::AlreadyExists { .. }
            | object_store::Error::Precondition { .. } => Error::AlreadyExists { path: shown },
            source => Error::ObjectStore {
                path: shown,
                source,
            },
        }
    }
}

#[async_trait]
impl Backend for ObjectStoreBackend {
    fn location(&self) -> String {
        self.location.clone()
    }

    fn request_counts(&self) -> Option<RequestCounts> {
        self.counter.as_ref().map(RequestCounter::snapshot)
    }

    fn latency_bound(&self) -> bool {
        true
    }

    async fn list(&self, dir: &str) -> Result<Listing> {
        let full = self.full(dir.trim_end_matches('/'));
        let result = self
            .store
            .list_with_delimiter(Some(&full))
            .await
            .map_err(|e| self.error(dir, e))?;
        let mut listing = Listing {
            files: result
                .objects
                .iter()
                .map(|o| FileMeta {
                    path: self.relative(&o.location),
                    size: o.size,
                    version: Some(format!(
                        "{} {}",
                        o.e_tag.as_deref().unwrap_or("-"),
                        o.last_modified.to_rfc3339()
                    )),
                })
                .collect(),
            dirs: result
                .common_prefixes
                .iter()
                .map(|p| self.relative(p))
                .collect(),
        };
        listing.files.sort_by(|a, b| a.path.cmp(&b.path));
        listing.dirs.sort();
        Ok(listing)
    }

    async fn get_range(&self, path: &str, range: Range<u64>) -> Result<Bytes> {
        // S3 has no empty range; a zero-length file reads as nothing.
        if range.is_empty() {
            return Ok(Bytes::new());
        }
        self.store
            .get_range(&self.full(path), range)
            .await
            .map_err(|e| self.error(path, e))
    }

    async fn get_ranges(&self, path: &str, ranges: Vec<Range<u64>>) -> Result<Vec<Bytes>> {
        self.store
            .get_ranges(&self.full(path), &ranges)
            .await
            .map_err(|e| self.error(path, e))
    }

    async fn stage_writer(&self, path: &str) -> Result<Box<dyn StageWriter>> {
        let staging_path = layout::staging_path(path);
        Ok(Box::new(ObjectStageWriter {
            backend: self.clone(),
            location: self.full(&staging_path),
            staged: Staged {
                path: path.to_owned(),
                staging_path,
                size: 0,
            },
            pending: Vec::new(),
            upload: None,
        }))
    }

    async fn publish(&self, staged: &Staged) -> Result<()> {
        let (from, to) = (self.full(&staged.staging_path), self.full(&staged.path));
        match self.store.copy_if_not_exists(&from, &to).await {
            Ok(()) => {}
            // Stores without a server-side create-only copy (S3 without a configured
            // mechanism): put the bytes again, create-only.
            Err(
                object_store::Error::NotSupported { .. }
                | object_store::Error::NotImplemented { .. },
            ) => {
                let bytes = self.get_range(&staged.staging_path, 0..staged.size).await?;
                let create = PutOptions::from(PutMode::Create);
                self.store
                    .put_opts(&to, PutPayload::from(bytes), create)
                    .await
                    .map_err(|e| self.error(&staged.path, e))?;
            }
            Err(e) => return Err(self.error(&staged.path, e)),
        }
        self.discard(staged).await
    }

    async fn discard(&self, staged: &Staged) -> Result<()> {
        match self.delete(&staged.staging_path).await {
            Err(Error::NotFound { .. }) => Ok(()),
            other => other,
        }
    }

    async fn delete(&self, path: &str) -> Result<()> {
        self.store
            .delete(&self.full(path))
            .await
            .map_err(|e| self.error(path, e))
    }
}

/// A staging object given piece by piece: one put when it stays small, else a multipart
/// upload started once it passes [`MULTIPART_THRESHOLD`]. A failed upload is aborted, so no
/// object appears.
struct ObjectStageWriter {
    backend: ObjectStoreBackend,
    location: Path,
    staged: Staged,
    /// Pieces held until the file is known to be small (one put) or large (parts).
    pending: Vec<Bytes>,
    upload: Option<WriteMultipart>,
}

impl ObjectStageWriter {
    fn error(&self, e: object_store::Error) -> Error {
        self.backend.error(&self.staged.staging_path, e)
    }
}

#[async_trait]
impl StageWriter for ObjectStageWriter {
    async fn write(&mut self, data: Bytes) -> Result<()> {
        self.staged.size += data.len() as u64;
        let upload = match &mut self.upload {
            Some(upload) => {
                upload.put(data);
                upload
            }
            None => {
                self.pending.push(data);
                if self.staged.size <= MULTIPART_THRESHOLD as u64 {
                    return Ok(());
                }
                let upload = (self.backend.store.put_multipart(&self.location).await)
                    .map_err(|e| self.error(e))?;
                let mut upload = WriteMultipart::new_with_chunk_size(upload, MULTIPART_PART);
                self.pending.drain(..).for_each(|piece| upload.put(piece));
                self.upload.insert(upload)
            }
        };
        let waited = upload.wait_for_capacity(PARTS_IN_FLIGHT).await;
        waited.map_err(|e| self.error(e))
    }

    async fn finish(mut self: Box<Self>) -> Result<Staged> {
        let Some(mut upload) = self.upload.take() else {
            let payload = PutPayload::from_iter(std::mem::take(&mut self.pending));
            let create = PutOptions::from(PutMode::Create);
            (self
                .backend
                .store
                .put_opts(&self.location, payload, create)
                .await)
                .map_err(|e| self.error(e))?;
            return Ok(self.staged);
        };
        // finish() aborts when completing fails, but not when a part failed: wait for the
        // parts first and abort ourselves on their failure.
        if let Err(e) = upload.wait_for_capacity(0).await {
            let _ = upload.abort().await;
            return Err(self.error(e));
        }
        upload.finish().await.map_err(|e| self.error(e))?;
        Ok(self.staged)
    }

    async fn abort(mut self: Box<Self>) -> Result<()> {
        match self.upload.take() {
            Some(upload) => upload.abort().await.map_err(|e| self.error(e)),
            None => Ok(()),
        }
    }
}
