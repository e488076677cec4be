//! Erasure: every event of some sessions removed from every file that holds one, and the
//! staging leftovers that may hold them.

use std::collections::{BTreeMap, BTreeSet};

use super::events::{RewriteReport, RewriteScope, Rewritten};
use crate::Result;
use crate::store::Store;
use crate::store::retention::now_ms;

/// What an erasure removed (or, dry, would remove).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EraseReport {
    /// The data files rewritten without the sessions' events (or removed, when those were
    /// all they held).
    pub rewrite: RewriteReport,
    /// Staging files removed: leftovers of writers that stopped, which may hold any event.
    pub staging_removed: Vec<String>,
}

impl EraseReport {
    /// Events removed, per session (every session asked for, 0 for one with no event).
    pub fn removed(&self, sessions: &BTreeSet<String>) -> BTreeMap<String, u64> {
        (sessions.iter())
            .map(|s| {
                let n = self.rewrite.dropped_by_session.get(s).copied().unwrap_or(0);
                (s.clone(), n)
            })
            .collect()
    }
}

impl Store {
    /// Removes every event of `sessions` from the store's data files (the files holding
    /// one are rewritten without them, through the rewrite mechanism: interrupted anywhere,
    /// every other event is read once), then every staging leftover made before the
    /// erasure started, in the data folders and the state folders (a leftover may hold the
    /// sessions' events; a writer still running with such a file fails at its commit, and
    /// is rerun). With `dry_run` nothing is written or removed. State documents (import
    /// cursors) are the caller's: their format is not the store's.
    pub async fn erase_sessions(
        &self,
        sessions: &BTreeSet<String>,
        dry_run: bool,
    ) -> Result<EraseReport> {
        let started = now_ms();
        if sessions.is_empty() {
            return Ok(EraseReport::default());
        }
        let scope = RewriteScope {
            sessions: sessions.clone(),
            ..RewriteScope::default()
        };
        // The scope passes only the sessions' events to the function.
        let rewrite = self
            .rewrite_events(&scope, dry_run, &|_| Rewritten::Drop)
            .await?;
        let staging_removed = self.sweep_staging_before(started, dry_run).await?;
        Ok(EraseReport {
            rewrite,
            staging_removed,
        })
    }
}
