//! [`CountingStore`]: an object-store wrapper that counts the requests made through it, by
//! kind, so that what a query costs on a bucket (where every request is billed and takes
//! 20–100 ms) can be seen: `kaizen --requests`, `kaizen bench --store s3://…`.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, OBJECT_STORE_COALESCE_DEFAULT,
    ObjectMeta, ObjectStore, ObjectStoreExt, PutMultipartOptions, PutOptions, PutPayload,
    PutResult, RenameOptions, Result, coalesce_ranges,
};
use serde::Serialize;

/// Requests made through a [`CountingStore`], by kind. Each is one request to the service
/// (an HTTP request for S3, GCS and Azure), as object_store issues them: a ranged read of
/// several ranges is one `get` per coalesced range (ranges less than 1 MiB apart are read as
/// one, `OBJECT_STORE_COALESCE_DEFAULT`), a listing one `list` per page.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RequestCounts {
    /// Reads of an object or a range of it (`GET`).
    pub get: u64,
    /// Metadata reads (`HEAD`).
    pub head: u64,
    /// Listings (one per page of results).
    pub list: u64,
    /// Writes: whole objects, and each part of a multipart upload with its start and end.
    pub put: u64,
    /// Deletes (one per object).
    pub delete: u64,
    /// Server-side copies and renames.
    pub copy: u64,
}

impl RequestCounts {
    /// Every request, whatever its kind.
    pub fn total(&self) -> u64 {
        self.get + self.head + self.list + self.put + self.delete + self.copy
    }
}

impl fmt::Display for RequestCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} request(s): {} get, {} head, {} list, {} put, {} delete, {} copy",
            self.total(),
            self.get,
            self.head,
            self.list,
            self.put,
            self.delete,
            self.copy
        )
    }
}

/// The live counters a [`CountingStore`] adds to; clones share them.
#[derive(Debug, Default, Clone)]
pub struct RequestCounter(Arc<[AtomicU64; 6]>);

impl RequestCounter {
    fn add(&self, kind: Kind, n: u64) {
        self.0[kind as usize].fetch_add(n, Ordering::Relaxed);
    }

    /// The requests counted so far.
    pub fn snapshot(&self) -> RequestCounts {
        let n = |k: Kind| self.0[k as usize].load(Ordering::Relaxed);
        RequestCounts {
            get: n(Kind::Get),
            head: n(Kind::Head),
            list: n(Kind::List),
            put: n(Kind::Put),
            delete: n(Kind::Delete),
            copy: n(Kind::Copy),
        }
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Get,
    Head,
    List,
    Put,
    Delete,
    Copy,
}

/// An [`ObjectStore`] that forwards every call to `inner` and counts it in a
/// [`RequestCounter`]. Every trait method is implemented (as object_store asks of
/// wrappers), and ranged reads are coalesced here, so each range request passes through
/// [`ObjectStore::get_opts`] of this store, and of a `ThrottledStore` inside it: the counts
/// and an injected per-request latency apply to each request as the service would see it.
#[derive(Debug)]
pub struct CountingStore {
    inner: Arc<dyn ObjectStore>,
    counter: RequestCounter,
}

impl CountingStore {
    /// `inner`, counted in a new counter.
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        CountingStore {
            inner,
            counter: RequestCounter::default(),
        }
    }

    /// The counter (a shared handle: it keeps counting after this call).
    pub fn counter(&self) -> RequestCounter {
        self.counter.clone()
    }
}

impl fmt::Display for CountingStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CountingStore({})", self.inner)
    }
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl ObjectStore for CountingStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        self.counter.add(Kind::Put, 1);
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        // The upload's start; its parts and its completion are counted as they go.
        self.counter.add(Kind::Put, 1);
        let upload = self.inner.put_multipart_opts(location, opts).await?;
        Ok(Box::new(CountedUpload {
            upload,
            counter: self.counter.clone(),
        }))
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        let kind = if options.head { Kind::Head } else { Kind::Get };
        self.counter.add(kind, 1);
        self.inner.get_opts(location, options).await
    }

    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        coalesce_ranges(
            ranges,
            |range| self.get_range(location, range),
            OBJECT_STORE_COALESCE_DEFAULT,
        )
        .await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        let counter = self.counter.clone();
        let locations = locations.inspect_ok(move |_| counter.add(Kind::Delete, 1));
        self.inner.delete_stream(locations.boxed())
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        // A page holds up to 1,000 objects (S3, GCS and Azure alike): one request per page
        // begun, the first even when the listing is empty.
        self.counter.add(Kind::List, 1);
        let counter = self.counter.clone();
        let mut seen = 0u64;
        self.inner
            .list(prefix)
            .inspect_ok(move |_| {
                seen += 1;
                if seen % 1000 == 1 && seen > 1 {
                    counter.add(Kind::List, 1);
                }
            })
            .boxed()
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        self.counter.add(Kind::List, 1);
        let counter = self.counter.clone();
        let mut seen = 0u64;
        self.inner
            .list_with_offset(prefix, offset)
            .inspect_ok(move |_| {
                seen += 1;
                if seen % 1000 == 1 && seen > 1 {
                    counter.add(Kind::List, 1);
                }
            })
            .boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        let listed = self.inner.list_with_delimiter(prefix).await?;
        let entries = (listed.objects.len() + listed.common_prefixes.len()) as u64;
        self.counter.add(Kind::List, entries.div_ceil(1000).max(1));
        Ok(listed)
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.counter.add(Kind::Copy, 1);
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
        self.counter.add(Kind::Copy, 1);
        self.inner.rename_opts(from, to, options).await
    }
}

/// A multipart upload whose parts and completion are counted as puts.
#[derive(Debug)]
struct CountedUpload {
    upload: Box<dyn MultipartUpload>,
    counter: RequestCounter,
}

#[async_trait]
impl MultipartUpload for CountedUpload {
    fn put_part(&mut self, data: PutPayload) -> object_store::UploadPart {
        self.counter.add(Kind::Put, 1);
        self.upload.put_part(data)
    }

    async fn complete(&mut self) -> Result<PutResult> {
        self.counter.add(Kind::Put, 1);
        self.upload.complete().await
    }

    async fn abort(&mut self) -> Result<()> {
        self.counter.add(Kind::Delete, 1);
        self.upload.abort().await
    }
}

#[cfg(test)]
mod tests {
    use object_store::memory::InMemory;

    use super::*;

    #[tokio::test]
    async fn each_request_is_counted_by_kind() {
        let store = CountingStore::new(Arc::new(InMemory::new()));
        let counter = store.counter();
        let path = Path::from("a/b.parquet");
        store
            .put(&path, PutPayload::from(vec![7u8; 4 << 20]))
            .await
            .expect("put");
        store.head(&path).await.expect("head");
        // Two ranges 3 MiB apart are two requests; two 1 KiB apart are one.
        store
            .get_ranges(&path, &[0..10, (3 << 20)..(3 << 20) + 10])
            .await
            .expect("ranges");
        store
            .get_ranges(&path, &[0..10, 1024..1034])
            .await
            .expect("ranges");
        let listed: Vec<_> = store
            .list(Some(&Path::from("a")))
            .try_collect()
            .await
            .expect("list");
        assert_eq!(listed.len(), 1);
        store.list_with_delimiter(None).await.expect("list");
        store.delete(&path).await.expect("delete");
        assert_eq!(
            counter.snapshot(),
            RequestCounts {
                get: 3,
                head: 1,
                list: 2,
                put: 1,
                delete: 1,
                copy: 0
            }
        );
    }
}
