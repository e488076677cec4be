use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures::FutureExt;
use futures::future::BoxFuture;
use parquet::arrow::arrow_reader::ArrowReaderOptions;
use parquet::arrow::async_reader::AsyncFileReader;
use parquet::errors::{ParquetError, Result as ParquetResult};
use parquet::file::metadata::{PageIndexPolicy, ParquetMetaData, ParquetMetaDataReader};

use super::Backend;

/// Bytes read from a file's end to find its footer: one read for most footers instead of
/// two (a footer is about 10 KB).
pub const FOOTER_PREFETCH: u64 = 64 * 1024;

/// Reads a Parquet file of any backend with ranged reads: the footer first, then only the
/// column chunks a query needs.
pub struct BackendFileReader {
    backend: Arc<dyn Backend>,
    path: String,
    size: u64,
}

impl BackendFileReader {
    /// A reader of the file at `path` of `size` bytes (the listing's: the footer is read
    /// from the end without asking for the size again).
    pub fn new(backend: Arc<dyn Backend>, path: String, size: u64) -> Self {
        BackendFileReader {
            backend,
            path,
            size,
        }
    }
}

impl AsyncFileReader for BackendFileReader {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, ParquetResult<Bytes>> {
        async move {
            self.backend
                .get_range(&self.path, range)
                .await
                .map_err(|e| ParquetError::External(Box::new(e)))
        }
        .boxed()
    }

    fn get_byte_ranges(
        &mut self,
        ranges: Vec<Range<u64>>,
    ) -> BoxFuture<'_, ParquetResult<Vec<Bytes>>> {
        async move {
            self.backend
                .get_ranges(&self.path, ranges)
                .await
                .map_err(|e| ParquetError::External(Box::new(e)))
        }
        .boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, ParquetResult<Arc<ParquetMetaData>>> {
        async move {
            let mut reader = ParquetMetaDataReader::new()
                .with_page_index_policy(PageIndexPolicy::Skip)
                .with_prefetch_hint(Some(FOOTER_PREFETCH as usize));
            if let Some(options) = options {
                reader = reader
                    .with_column_index_policy(options.column_index_policy())
                    .with_offset_index_policy(options.offset_index_policy());
            }
            let size = self.size;
            Ok(Arc::new(reader.load_and_finish(self, size).await?))
        }
        .boxed()
    }
}
