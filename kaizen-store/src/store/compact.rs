//! Compaction: a day's small files (and v1 files) merged into few large sorted files,
//! through the one rewrite mechanism ([`super::rewrite::DayRewrite`]): each output records
//! in its footer the compaction's id and the files it supersedes; the marker makes the
//! switch after every output is published; inputs are deleted after it, the marker last.
//! Interrupted anywhere, the store reads each event once: before the marker, inputs and
//! outputs (copies of the same events) overlap and scans de-duplicate them; after it, the
//! inputs are ignored.

use std::sync::Arc;

use futures::{StreamExt, TryStreamExt, stream};
use kaizen_core::UtcDay;
use parquet::basic::ZstdLevel;

use super::Store;
use super::catalog::{self, DayFiles, FileEntry};
use super::read::{DayScan, DayState, day_state};
use super::rewrite::DayRewrite;
use crate::codec::{FileFacts, SCHEMA_VERSION, UNRECORDED_ZSTD_LEVEL, ingest_zstd_level};
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
        let levels = || (live.iter()).map(|(_, f)| f.zstd_level.unwrap_or(UNRECORDED_ZSTD_LEVEL));
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
        let DayState { live, orphans, .. } = day_state(&self.backend, files).await?;
        let Some(level) = target.rewrite_level(&live) else {
            return Ok(None);
        };
        let rows: u64 = live.iter().map(|(_, f)| f.rows).sum();
        let bytes: u64 = live.iter().map(|(f, _)| f.size).sum();
        let rows_per_output =
            (target.file_bytes.saturating_mul(rows) / bytes.max(1)).max(1) as usize;
        let inputs: Vec<FileEntry> = live.into_iter().map(|(f, _)| f).collect();
        // The outputs are copies of the inputs' events: not exclusive.
        let mut rewrite = DayRewrite::new(
            self.backend.clone(),
            day,
            &inputs,
            &orphans,
            false,
            level,
            rows_per_output,
        );
        let query = Arc::new(Query::all().from_ms(day.start_ms()).to_ms(day.end_ms()));
        let scan = DayScan::new(self.backend.clone(), day, query, self.options.batch_rows);
        let mut merged = scan.stream_files(inputs);
        while let Some(batch) = merged.next().await {
            let written = match batch {
                Ok(batch) => rewrite.write(&batch).await,
                Err(e) => Err(e),
            };
            if let Err(e) = written {
                rewrite.abort().await;
                return Err(e);
            }
        }
        let switched = rewrite.switch().await?;
        Ok(Some(CompactedDay {
            day,
            id: switched.id,
            inputs: switched.inputs,
            outputs: switched.outputs,
        }))
    }
}
