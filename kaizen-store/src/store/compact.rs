//! Compaction: a day's small files (and v1 files) merged into few large sorted files.
//!
//! Crash-safe without a log service. Each output records in its footer the compaction's id
//! and the files it supersedes; readers ignore superseded files only once the compaction's
//! marker exists, and the marker is published only after every output is. Inputs are deleted
//! after the marker, the marker last. Interrupted anywhere, the store reads each event once:
//! before the marker, inputs and outputs overlap and scans de-duplicate them; after it, the
//! inputs are ignored.

use std::sync::Arc;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt, stream};
use kaizen_core::{Field, UtcDay};
use parquet::basic::ZstdLevel;

use super::Store;
use super::catalog::{self, DayFiles, FileEntry};
use super::scan::{DayScan, live_files};
use crate::backend::{StageWriter, Staged};
use crate::codec::{
    Compaction, FileEncoder, FileFacts, INGEST_ZSTD_LEVEL, SCHEMA_VERSION, event_schema,
    ingest_zstd_level,
};
use crate::event_store::WrittenFile;
use crate::layout::{self, DataFileKind};
use crate::{Error, Query, Result};

/// What a compaction of one day did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactedDay {
    /// The day rewritten.
    pub day: UtcDay,
    /// The compaction's id, as its outputs' footers and its marker name it.
    pub id: String,
    /// The files merged, now removed.
    pub inputs: Vec<String>,
    /// The files written in their place.
    pub outputs: Vec<WrittenFile>,
}

/// What compaction makes of the days it rewrites.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompactTarget {
    /// The size of the files to make.
    pub file_bytes: u64,
    /// The zstd level of the files to make: a higher one writes smaller files, slower
    /// (reading is as fast). A day with a file below it is rewritten; a day is never
    /// rewritten below the level of its densest file.
    pub zstd_level: ZstdLevel,
}

impl Default for CompactTarget {
    fn default() -> Self {
        CompactTarget {
            file_bytes: 128 << 20,
            zstd_level: ingest_zstd_level(),
        }
    }
}

impl CompactTarget {
    /// The level to rewrite a day at, or `None` when the day is as `self` asks already:
    /// at most one small file, no v1 file, none of an older schema (without the derived
    /// columns, which outside readers then see in some files and not in others), none below
    /// the level.
    fn rewrite_level(&self, live: &[(FileEntry, FileFacts)]) -> Option<ZstdLevel> {
        let small = (live.iter())
            .filter(|(f, _)| f.size < self.file_bytes / 2)
            .count();
        let v1 = (live.iter()).any(|(f, _)| f.kind != DataFileKind::Partitioned);
        let older_schema =
            (live.iter()).any(|(_, f)| f.schema_version.as_deref() != Some(SCHEMA_VERSION));
        let wanted = self.zstd_level.compression_level();
        // Files kaizen wrote before levels were recorded are at ingest's level.
        let levels = || (live.iter()).map(|(_, f)| f.zstd_level.unwrap_or(INGEST_ZSTD_LEVEL));
        let below = levels().any(|level| level < wanted);
        if small < 2 && !v1 && !older_schema && !below {
            return None;
        }
        let densest = levels().filter(|l| ZstdLevel::try_new(*l).is_ok()).max();
        let level = densest.map_or(wanted, |d| d.max(wanted));
        Some(ZstdLevel::try_new(level).unwrap_or(self.zstd_level))
    }
}

impl Store {
    /// Compacts every day `days` accepts whose data is spread over small files, held in v1
    /// files or compressed below `target`'s level, into files of about its size.
    pub async fn compact(
        &self,
        days: impl Fn(UtcDay) -> bool,
        target: CompactTarget,
    ) -> Result<Vec<CompactedDay>> {
        let listed = catalog::list_days(self.backend.as_ref(), days).await?;
        // Days are independent and encoding them is CPU work: one task a core.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let done: Vec<Option<CompactedDay>> = stream::iter(listed)
            .map(|(day, files)| {
                let store = self.clone();
                let task =
                    tokio::spawn(async move { store.compact_if_due(day, files, target).await });
                async move {
                    task.await
                        .map_err(|e| Error::io(layout::day_dir(day), std::io::Error::other(e)))?
                }
            })
            .buffered(cores)
            .try_collect()
            .await?;
        Ok(done.into_iter().flatten().collect())
    }

    /// Compacts `day` when `target` asks for it.
    async fn compact_if_due(
        &self,
        day: UtcDay,
        files: DayFiles,
        target: CompactTarget,
    ) -> Result<Option<CompactedDay>> {
        let live = live_files(&self.backend, files).await?;
        let Some(level) = target.rewrite_level(&live) else {
            return Ok(None);
        };
        let rows: u64 = live.iter().map(|(_, f)| f.rows).sum();
        let bytes: u64 = live.iter().map(|(f, _)| f.size).sum();
        let rows_per_output =
            (target.file_bytes.saturating_mul(rows) / bytes.max(1)).max(1) as usize;
        let inputs: Vec<FileEntry> = live.into_iter().map(|(f, _)| f).collect();
        self.compact_day(day, inputs, rows_per_output, level)
            .await
            .map(Some)
    }

    async fn compact_day(
        &self,
        day: UtcDay,
        inputs: Vec<FileEntry>,
        rows_per_output: usize,
        level: ZstdLevel,
    ) -> Result<CompactedDay> {
        let id = uuid::Uuid::now_v7().to_string();
        let compaction = Compaction {
            id: id.clone(),
            supersedes: inputs.iter().map(|f| f.path.clone()).collect(),
        };
        let scan = DayScan {
            backend: self.backend.clone(),
            day,
            query: Arc::new(Query::all().from_ms(day.start_ms()).to_ms(day.end_ms())),
            fields: Arc::new(Field::ALL.to_vec()),
            batch_rows: self.options.batch_rows,
            check_payloads: true,
        };
        let mut merged = scan.stream(DayFiles {
            files: inputs.clone(),
            ..DayFiles::default()
        });

        let mut staged: Vec<(Staged, WrittenFile)> = Vec::new();
        // The output being written: staged as its row groups complete, so memory holds
        // about a row group of it, whatever `--target-size`.
        let mut current: Option<Output> = None;
        let result = async {
            while let Some(batch) = merged.next().await {
                let batch = batch?;
                let output = match &mut current {
                    Some(output) => output,
                    None => {
                        let path = layout::new_file_path(day);
                        let mut encoder = FileEncoder::with_level(&path, event_schema(), level)?;
                        // The outputs come from one merge: each identity in one of them.
                        encoder.set_identity_group(&id);
                        let staging = self.backend.stage_writer(&path).await?;
                        current.insert(Output { encoder, staging })
                    }
                };
                output.encoder.write(&batch)?;
                let written = output.encoder.take_written();
                if !written.is_empty() {
                    output.staging.write(written).await?;
                }
                if output.encoder.rows() >= rows_per_output
                    && let Some(output) = current.take()
                {
                    staged.push(output.finish(day, &compaction).await?);
                }
            }
            if let Some(output) = current.take() {
                staged.push(output.finish(day, &compaction).await?);
            }
            Ok::<_, Error>(())
        }
        .await;
        if let Err(e) = result {
            if let Some(output) = current {
                let _ = output.staging.abort().await;
            }
            for (s, _) in &staged {
                let _ = self.backend.discard(s).await;
            }
            return Err(e);
        }

        for (i, (s, _)) in staged.iter().enumerate() {
            if let Err(e) = self.backend.publish(s).await {
                // Published outputs without a marker only duplicate what the inputs hold.
                for (rest, _) in &staged[i..] {
                    let _ = self.backend.discard(rest).await;
                }
                return Err(e);
            }
        }
        let marker = layout::compaction_marker_path(day, &id);
        let record = serde_json::json!({
            "id": &id,
            "outputs": staged.iter().map(|(s, _)| &s.path).collect::<Vec<_>>(),
            "supersedes": compaction.supersedes,
        });
        let marker_file = self
            .backend
            .stage(&marker, Bytes::from(record.to_string()))
            .await?;
        self.backend.publish(&marker_file).await?;
        for input in &inputs {
            match self.backend.delete(&input.path).await {
                Ok(()) | Err(Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        self.backend.delete(&marker).await?;
        Ok(CompactedDay {
            day,
            id,
            inputs: compaction.supersedes,
            outputs: staged.into_iter().map(|(_, f)| f).collect(),
        })
    }
}

/// A compaction output being written.
struct Output {
    encoder: FileEncoder,
    staging: Box<dyn StageWriter>,
}

impl Output {
    /// Records what the output supersedes and stages the rest of it.
    async fn finish(self, day: UtcDay, compaction: &Compaction) -> Result<(Staged, WrittenFile)> {
        let Output {
            mut encoder,
            staging,
        } = self;
        let rows = encoder.rows() as u64;
        encoder.set_compaction(compaction);
        let staged = staging.finish_with(encoder.finish()).await?;
        let file = WrittenFile::staged(&staged, day, rows);
        Ok((staged, file))
    }
}
