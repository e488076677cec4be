//! The one mechanism every rewrite of stored files goes through (compaction, erasure,
//! payload pruning, redaction): crash-safe without a log service.
//!
//! Each output records in its footer the rewrite's id and the files it supersedes. Outputs
//! are published first; then the rewrite's marker (`day=…/_kaizen-compaction-<id>.json`),
//! which makes the switch: from then on readers ignore the inputs; then the inputs are
//! deleted, the marker last. Interrupted anywhere, a reader sees each event exactly once,
//! old or new:
//! - a compaction's outputs are copies of its inputs: before the marker both are read and
//!   merged, each event once;
//! - an exclusive rewrite's outputs hold other versions of the events (or fewer of them):
//!   readers ignore them until the marker exists, as long as one of their inputs is there
//!   (see [`crate::store::read::dead_paths`]).

use std::sync::Arc;

use arrow::array::RecordBatch;
use bytes::Bytes;
use kaizen_core::UtcDay;
use parquet::basic::ZstdLevel;

use crate::backend::Backend;
use crate::codec::Compaction;
use crate::event_store::WrittenFile;
use crate::store::catalog::FileEntry;
use crate::store::sink::{EncodingSink, Staging};
use crate::{Error, Result, layout};

/// What one day's rewrite did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Switched {
    /// The rewrite's id, as its outputs' footers and its marker name it.
    pub id: String,
    /// The files replaced, now removed.
    pub inputs: Vec<String>,
    /// The files written in their place.
    pub outputs: Vec<WrittenFile>,
}

/// One day's rewrite under way: sorted batches in, outputs staged as their row groups
/// complete, then [`DayRewrite::switch`] (or [`DayRewrite::abort`]).
pub(crate) struct DayRewrite {
    backend: Arc<dyn Backend>,
    day: UtcDay,
    record: Compaction,
    level: ZstdLevel,
    rows_per_output: usize,
    payload_pruned: bool,
    /// Outputs of stopped exclusive rewrites of the day: deleted before any input is.
    orphans: Vec<String>,
    staging: Staging,
    current: Option<EncodingSink>,
}

impl DayRewrite {
    /// A rewrite of `inputs` (files of `day`) into outputs of about `rows_per_output` rows
    /// at zstd `level`; `exclusive` when the outputs are not copies of the inputs' events.
    /// `orphans`: the day's outputs of stopped exclusive rewrites (see
    /// [`crate::store::read::DayState`]).
    pub fn new(
        backend: Arc<dyn Backend>,
        day: UtcDay,
        inputs: &[FileEntry],
        orphans: &[FileEntry],
        exclusive: bool,
        level: ZstdLevel,
        rows_per_output: usize,
    ) -> Self {
        let record = Compaction {
            id: uuid::Uuid::now_v7().to_string(),
            supersedes: inputs.iter().map(|f| f.path.clone()).collect(),
            exclusive,
        };
        DayRewrite {
            staging: Staging::new(backend.clone()),
            backend,
            day,
            record,
            level,
            rows_per_output: rows_per_output.max(1),
            payload_pruned: false,
            orphans: orphans.iter().map(|f| f.path.clone()).collect(),
            current: None,
        }
    }

    /// Marks every output as holding pruned payloads only (see
    /// [`crate::codec::PAYLOAD_PRUNED_KEY`]).
    pub fn payload_pruned(mut self) -> Self {
        self.payload_pruned = true;
        self
    }

    /// Appends sorted rows (after those before them) to the outputs.
    pub async fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let output = match &mut self.current {
            Some(output) => output,
            None => {
                let path = layout::new_file_path(self.day);
                let mut output =
                    EncodingSink::open(self.backend.as_ref(), &path, self.day, self.level).await?;
                // The outputs come from one sorted, de-duplicated stream: each identity in
                // one of them.
                output.encoder().set_identity_group(&self.record.id);
                self.current.insert(output)
            }
        };
        output.write(batch).await?;
        if output.rows() >= self.rows_per_output {
            self.finish_output().await?;
        }
        Ok(())
    }

    async fn finish_output(&mut self) -> Result<()> {
        if let Some(mut output) = self.current.take() {
            output.encoder().set_compaction(&self.record);
            if self.payload_pruned {
                output.encoder().set_payload_pruned();
            }
            self.staging.push(output.finish().await?);
        }
        Ok(())
    }

    /// Removes everything staged: the store stays as it was.
    pub async fn abort(mut self) {
        if let Some(output) = self.current.take() {
            let _ = output.abort().await;
        }
        let _ = self.staging.discard().await;
    }

    /// Publishes the outputs, makes the switch with the marker, deletes the inputs, then
    /// the marker. On an error before the marker, the outputs not yet published are
    /// discarded (published ones are ignored, or copies: either way read once).
    pub async fn switch(mut self) -> Result<Switched> {
        if let Err(e) = self.finish_output().await {
            self.abort().await;
            return Err(e);
        }
        let DayRewrite {
            backend,
            day,
            record,
            staging,
            orphans,
            ..
        } = self;
        // Hidden now, an orphan would be live once the inputs it supersedes are gone.
        for orphan in &orphans {
            if let Err(e) = delete_if_there(backend.as_ref(), orphan).await {
                let _ = staging.discard().await;
                return Err(e);
            }
        }
        let outputs = staging.publish().await.map_err(|failed| failed.error)?;
        let marker = layout::compaction_marker_path(day, &record.id);
        // No output supersedes anything: every event of the inputs is gone (an erasure of
        // whole files), so deleting them one by one is the switch.
        let with_marker = !outputs.is_empty();
        if with_marker {
            let text = serde_json::json!({
                "id": &record.id,
                "outputs": outputs.iter().map(|f| &f.path).collect::<Vec<_>>(),
                "supersedes": &record.supersedes,
            });
            let staged = backend
                .stage(&marker, Bytes::from(text.to_string()))
                .await?;
            if let Err(e) = backend.publish(&staged).await {
                let _ = backend.discard(&staged).await;
                return Err(e);
            }
        }
        for input in &record.supersedes {
            delete_if_there(backend.as_ref(), input).await?;
        }
        if with_marker {
            backend.delete(&marker).await?;
        }
        Ok(Switched {
            id: record.id,
            inputs: record.supersedes,
            outputs,
        })
    }
}

/// Deletes a file; one already gone is fine (a rerun, or another rewrite took it).
async fn delete_if_there(backend: &dyn Backend, path: &str) -> Result<()> {
    match backend.delete(path).await {
        Ok(()) | Err(Error::NotFound { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Finishes the rewrites of a day that stopped after their switch: the inputs they
/// superseded are deleted, then the day's markers (with their inputs gone, every output is
/// live without its marker). Readers already ignore those inputs; an erasure must not
/// leave them behind.
pub(crate) async fn finish_stopped(
    backend: &dyn Backend,
    state: &crate::store::read::DayState,
) -> Result<()> {
    for file in &state.superseded {
        delete_if_there(backend, &file.path).await?;
    }
    for marker in &state.markers {
        delete_if_there(backend, marker).await?;
    }
    Ok(())
}
