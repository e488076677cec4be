//! Retention in one place: what the store removes and when — whole days before a cutoff
//! (`prune`), and staging files that writers which stopped left behind. The rewrites that
//! remove content inside files (erasure, payload pruning) are in [`super::rewrite`].

use std::collections::BTreeSet;

use kaizen_core::UtcDay;

use super::Store;
use super::catalog;
use crate::backend::Backend;
use crate::event_store::{PruneReport, PrunedFile};
use crate::{Result, layout};

/// A staging file older than this was left by a writer that died; the next writer to
/// publish in its folder removes it. (A live writer's files are far younger.)
pub(crate) const STALE_STAGING_MS: u64 = 24 * 3_600_000;

/// Milliseconds since the epoch, now.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Removes stale staging files from `dirs`. Best effort: a failure leaves a file no reader
/// takes for data. (Run by a writer after it published, in the folders it published in.)
pub(crate) async fn sweep_stale_staging(backend: &dyn Backend, dirs: BTreeSet<String>) {
    let now = now_ms();
    for dir in dirs {
        let Ok(listing) = backend.list(&dir).await else {
            continue;
        };
        for file in listing.files {
            let stale =
                layout::staging_created_ms(&file.path).is_some_and(|t| t + STALE_STAGING_MS < now);
            if stale {
                let _ = backend.delete(&file.path).await;
            }
        }
    }
}

impl Store {
    /// Removes every data file of the days before `before` (and their finished
    /// compactions' markers); with `dry_run`, only lists them.
    pub(crate) async fn prune_days(&self, before: UtcDay, dry_run: bool) -> Result<PruneReport> {
        let days = catalog::list_days(self.backend.as_ref(), |day| day < before).await?;
        let mut files = Vec::new();
        for (day, listed) in days {
            for file in listed.files {
                if !dry_run {
                    self.backend.delete(&file.path).await?;
                }
                files.push(PrunedFile {
                    path: file.path,
                    day: file.day,
                    bytes: file.size,
                });
            }
            // A finished compaction's marker goes with its day's data.
            for id in listed.compactions {
                if !dry_run {
                    self.backend
                        .delete(&layout::compaction_marker_path(day, &id))
                        .await?;
                }
            }
        }
        Ok(PruneReport {
            before,
            dry_run,
            files,
        })
    }

    /// Removes every staging file of the store's data and state folders made by `before_ms` (ms
    /// since the epoch), whatever its age: what an erasure needs, since a leftover may hold
    /// the erased events. A writer still staging such a file then fails at its commit
    /// (nothing of its run is lost: it is rerun). Returns the paths removed (or, with
    /// `dry_run`, that would be).
    pub(crate) async fn sweep_staging_before(
        &self,
        before_ms: u64,
        dry_run: bool,
    ) -> Result<Vec<String>> {
        let listed = catalog::catalog(self.backend.as_ref(), |_| true).await?;
        let mut staging: Vec<String> = listed.staging.into_iter().map(|f| f.path).collect();
        // State documents are staged in their own folders (`state/<name>/`).
        for dir in self.backend.list(layout::STATE_DIR).await?.dirs {
            let files = self.backend.list(&dir).await?.files;
            staging.extend(
                files
                    .into_iter()
                    .map(|f| f.path)
                    .filter(|p| layout::is_staging(p)),
            );
        }
        let mut removed = Vec::new();
        for path in staging {
            let made = layout::staging_created_ms(&path);
            if made.is_some_and(|t| t <= before_ms) {
                if !dry_run {
                    match self.backend.delete(&path).await {
                        Ok(()) | Err(crate::Error::NotFound { .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
                removed.push(path);
            }
        }
        Ok(removed)
    }
}
