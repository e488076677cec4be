use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, WriteMultipart};

use super::{Backend, FileMeta, Listing, Staged};
use crate::{Error, Result, layout};

/// Files larger than this are uploaded in parts.
const MULTIPART_THRESHOLD: usize = 8 * 1024 * 1024;
const MULTIPART_PART: usize = 5 * 1024 * 1024;

/// A store under a prefix of an object store bucket or container (S3 and S3-compatible
/// servers, GCS, Azure Blob, in-memory). Puts are create-only: nothing is ever replaced.
#[derive(Clone)]
pub struct ObjectStoreBackend {
    store: Arc<dyn ObjectStore>,
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
    pub fn new(store: Arc<dyn ObjectStore>, prefix: Path, location: impl Into<String>) -> Self {
        ObjectStoreBackend {
            store,
            prefix,
            location: location.into(),
        }
    }

    fn full(&self, path: &str) -> Path {
        let prefix = self.prefix.as_ref();
        match (prefix.is_empty(), path.is_empty()) {
            (true, _) => Path::from(path),
            (false, true) => self.prefix.clone(),
            (false, false) => Path::from(format!("{prefix}/{path}")),
        }
    }

    fn relative(&self, path: &Path) -> String {
        let full = path.as_ref();
        let rest = full.strip_prefix(self.prefix.as_ref()).unwrap_or(full);
        rest.trim_start_matches('/').to_owned()
    }

    /// Uploads in parts; on any failure the upload is aborted, so no object appears.
    async fn put_multipart(&self, location: &Path, data: Bytes) -> object_store::Result<()> {
        let upload = self.store.put_multipart(location).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, MULTIPART_PART);
        writer.put(data);
        // finish() aborts when completing fails, but not when a part failed: wait for the
        // parts first and abort ourselves on their failure.
        if let Err(e) = writer.wait_for_capacity(0).await {
            let _ = writer.abort().await;
            return Err(e);
        }
        writer.finish().await.map(drop)
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

    async fn stage(&self, path: &str, data: Bytes) -> Result<Staged> {
        let staging_path = layout::staging_path(path);
        let size = data.len() as u64;
        let location = self.full(&staging_path);
        if data.len() > MULTIPART_THRESHOLD {
            self.put_multipart(&location, data)
                .await
                .map_err(|e| self.error(&staging_path, e))?;
        } else {
            let create = PutOptions::from(PutMode::Create);
            self.store
                .put_opts(&location, PutPayload::from(data), create)
                .await
                .map_err(|e| self.error(&staging_path, e))?;
        }
        Ok(Staged {
            path: path.to_owned(),
            staging_path,
            size,
        })
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
