//! The store's write primitive: one data file staged piece by piece where no reader sees it
//! ([`FileSink`], or [`EncodingSink`] for a file encoded from batches as its row groups
//! complete), then published create-only with the other files of its operation, or rolled
//! back ([`Staging`]). The writer, compaction, copy and the rewrites write through it, so a
//! file is published whole or not at all, and never replaces another, in one place.

use std::sync::Arc;

use arrow::array::RecordBatch;
use bytes::Bytes;
use kaizen_core::UtcDay;
use parquet::basic::ZstdLevel;

use crate::backend::{Backend, StageWriter, Staged};
use crate::codec::{FileEncoder, event_schema};
use crate::event_store::WrittenFile;
use crate::{Error, Result};

/// A data file staged and ready to publish, and what it will be once published.
pub(crate) struct StagedFile {
    pub staged: Staged,
    pub file: WrittenFile,
}

/// One data file of `day` being staged, piece by piece: memory holds a piece, never the
/// file. Dropped without [`FileSink::finish`] or [`FileSink::abort`], its staging file is
/// a leftover (never read as data; swept by [`super::retention`]).
pub(crate) struct FileSink {
    day: UtcDay,
    staging: Box<dyn StageWriter>,
}

impl FileSink {
    /// Starts staging the file that will be published at `path`.
    pub async fn open(backend: &dyn Backend, path: &str, day: UtcDay) -> Result<Self> {
        let staging = backend.stage_writer(path).await?;
        Ok(FileSink { day, staging })
    }

    /// Appends `bytes` to the file (nothing for no bytes).
    pub async fn write(&mut self, bytes: Bytes) -> Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.staging.write(bytes).await
    }

    /// Appends the file's last piece (or takes the error that came instead) and makes the
    /// whole file durable; `rows` is what it holds. On failure nothing of it stays.
    pub async fn finish(self, last: Result<Bytes>, rows: u64) -> Result<StagedFile> {
        let staged = self.staging.finish_with(last).await?;
        let file = WrittenFile::staged(&staged, self.day, rows);
        Ok(StagedFile { staged, file })
    }

    /// Removes what was staged: the file will not be published.
    pub async fn abort(self) -> Result<()> {
        self.staging.abort().await
    }
}

/// A data file encoded from sorted batches and staged as its row groups complete: memory
/// holds about a row group of it, whatever the file's size.
pub(crate) struct EncodingSink {
    encoder: FileEncoder,
    sink: FileSink,
}

impl EncodingSink {
    /// A new file of `day` at `path`, compressed at `level`.
    pub async fn open(
        backend: &dyn Backend,
        path: &str,
        day: UtcDay,
        level: ZstdLevel,
    ) -> Result<Self> {
        let encoder = FileEncoder::with_level(path, event_schema(), level)?;
        let sink = FileSink::open(backend, path, day).await?;
        Ok(EncodingSink { encoder, sink })
    }

    /// The encoder, to record footer claims (identity group, what the file supersedes).
    pub fn encoder(&mut self) -> &mut FileEncoder {
        &mut self.encoder
    }

    /// Appends `batch` (sorted after the rows before it) and stages the row groups it
    /// completed.
    pub async fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.encoder.write(batch)?;
        let written = self.encoder.take_written();
        self.sink.write(written).await
    }

    /// Rows written so far.
    pub fn rows(&self) -> usize {
        self.encoder.rows()
    }

    /// Writes the footer and stages the rest; on failure nothing of the file stays.
    pub async fn finish(self) -> Result<StagedFile> {
        let rows = self.encoder.rows() as u64;
        self.sink.finish(self.encoder.finish(), rows).await
    }

    /// Removes what was staged.
    pub async fn abort(self) -> Result<()> {
        self.sink.abort().await
    }
}

/// The files one operation staged, published together in the order staged, or discarded.
pub(crate) struct Staging {
    backend: Arc<dyn Backend>,
    files: Vec<StagedFile>,
}

/// A publication that stopped: the files published before the error (whole, and each a
/// file readers may take), and the error. The files after it were discarded.
pub(crate) struct Unpublished {
    pub published: Vec<WrittenFile>,
    pub error: Error,
}

impl Staging {
    /// Nothing staged yet, on `backend`.
    pub fn new(backend: Arc<dyn Backend>) -> Self {
        Staging {
            backend,
            files: Vec::new(),
        }
    }

    /// Adds a staged file, to be published after the others.
    pub fn push(&mut self, file: StagedFile) {
        self.files.push(file);
    }

    /// The files staged so far.
    pub fn files(&self) -> &[StagedFile] {
        &self.files
    }

    /// Publishes every file in order, create-only (a file already at a path is an error,
    /// never replaced). On a failure the files not yet published are discarded.
    pub async fn publish(self) -> std::result::Result<Vec<WrittenFile>, Unpublished> {
        let mut published = Vec::with_capacity(self.files.len());
        let mut rest = self.files.into_iter();
        for StagedFile { staged, file } in rest.by_ref() {
            if let Err(error) = self.backend.publish(&staged).await {
                let _ = self.backend.discard(&staged).await;
                for left in rest {
                    let _ = self.backend.discard(&left.staged).await;
                }
                return Err(Unpublished { published, error });
            }
            published.push(file);
        }
        Ok(published)
    }

    /// Removes every staged file; the first error, after trying them all.
    pub async fn discard(self) -> Result<()> {
        let mut first_error = None;
        for file in self.files {
            if let Err(e) = self.backend.discard(&file.staged).await {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}
