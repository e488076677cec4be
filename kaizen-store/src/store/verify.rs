//! `verify`: every file of the store checked, every problem named by its path.

use std::collections::HashMap;
use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};
use kaizen_core::{Field, UtcDay};
use serde::Serialize;

use super::Store;
use super::catalog::{self, FileEntry};
use super::read::{
    DayScan, check_footer_day, file_identities, live_files, open_parquet, read_facts,
};
use super::rewrite::is_pruned_payload;
use crate::codec::{IdentitySummary, batch_to_events, check_file, check_schema, file_facts};
use crate::event_store::EventStore;
use crate::{Error, Query, Result, SkippedFiles};

/// What `verify` found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Data files looked at.
    pub files: usize,
    /// Rows the files' footers declare.
    pub rows: u64,
    /// What is wrong, each with the path at fault.
    pub problems: Vec<Problem>,
    /// Staging files of writers that stopped: not data, not corruption.
    pub leftovers: Vec<String>,
    /// Readable data files another tool wrote (DuckDB, pyarrow or polars rewriting a day:
    /// see [`crate::codec::FileFacts::foreign`]): read by the same contract as kaizen's own,
    /// so not a problem; listed because no kaizen writer vouches for their order or
    /// identities.
    pub foreign: Vec<String>,
    /// Days whose payloads were pruned (`kaizen prune --payload-older-than`): every live
    /// file of the day says so in its footer (and `deep` checks that each of its payloads
    /// is the pruned marker). Not a problem: their typed columns are whole.
    pub payload_pruned_days: Vec<String>,
}

/// One thing `verify` found wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file at fault (path in the store).
    pub path: String,
    /// What is wrong with it.
    pub problem: String,
}

impl VerifyReport {
    /// Nothing wrong (leftovers and foreign files are not problems).
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

impl Store {
    /// Checks every data file: a readable footer, the v1 column schema, `kaizen_schema_v`,
    /// rows in the file's day, and identity conflicts across the store. `deep` also decodes
    /// every row and counts rows against the footer.
    pub async fn verify(&self, deep: bool) -> Result<VerifyReport> {
        let catalog = catalog::catalog(self.backend.as_ref(), |_| true).await?;
        let mut report = VerifyReport {
            leftovers: catalog.staging.iter().map(|f| f.path.clone()).collect(),
            ..VerifyReport::default()
        };
        for (day, files) in &catalog.days {
            if let Ok(live) = live_files(&self.backend, files.clone()).await
                && !live.is_empty()
                && live.iter().all(|(_, facts)| facts.payload_pruned)
            {
                report.payload_pruned_days.push(day.to_string());
            }
            for file in &files.files {
                report.files += 1;
                match self.check_file(*day, file, deep).await {
                    Ok((rows, foreign)) => {
                        report.rows += rows;
                        if foreign {
                            report.foreign.push(file.path.clone());
                        }
                    }
                    Err(e) => {
                        let text = e.to_string();
                        let problem = text
                            .strip_prefix(&format!("{}: ", file.path))
                            .unwrap_or(&text);
                        report.problems.push(Problem {
                            path: file.path.clone(),
                            problem: problem.to_owned(),
                        });
                    }
                }
            }
        }
        self.check_identities(deep, &mut report).await?;
        Ok(report)
    }

    /// One file's checks: the contract every reader holds it to, then its day (and with
    /// `deep` its rows); its footer's row count, and whether another tool wrote it.
    async fn check_file(&self, day: UtcDay, file: &FileEntry, deep: bool) -> Result<(u64, bool)> {
        let builder = open_parquet(self.backend.clone(), file).await?;
        check_schema(builder.schema(), &Field::ALL, &file.path)?;
        let facts = file_facts(builder.metadata(), builder.schema(), &file.path)?;
        check_file(builder.schema(), &facts, &file.path)?;
        check_footer_day(&facts, day, &file.path)?;
        if deep {
            let query = Arc::new(Query::all());
            let scan = DayScan::new(self.backend.clone(), day, query, self.options.batch_rows);
            let mut rows = 0u64;
            let mut held = IdentitySummary::default();
            if let Some(input) = scan.open_one(file.clone()).await? {
                let mut batches = input.stream;
                while let Some(batch) = batches.try_next().await? {
                    held.add_batch(&batch, &file.path)?;
                    let events = batch_to_events(&batch, &file.path)?;
                    if facts.payload_pruned
                        && let Some(e) = events.iter().find(|e| !is_pruned_payload(&e.payload))
                    {
                        return Err(Error::column(
                            &file.path,
                            Field::Payload.name(),
                            format!(
                                "the footer says every payload is pruned, but (session_id {:?}, seq {})'s is not",
                                e.session_id, e.seq
                            ),
                        ));
                    }
                    rows += batch.num_rows() as u64;
                }
            }
            // Writers believe a footer's summary instead of reading the rows: one that
            // leaves out an identity the file holds would let a copy of it be written.
            if let Some(summary) = facts.identity_summary()
                && let Some(session) = first_differing_session(&summary, &held)
            {
                return Err(Error::column(
                    &file.path,
                    Field::Seq.name(),
                    format!(
                        "the footer's identity summary gives session {session:?} the seq ranges {}, the rows hold {}",
                        some_ranges(summary.ranges(&session)),
                        some_ranges(held.ranges(&session))
                    ),
                ));
            }
            if rows != facts.rows {
                return Err(Error::column(
                    &file.path,
                    "*",
                    format!(
                        "the footer declares {} rows, the file holds {rows}",
                        facts.rows
                    ),
                ));
            }
        }
        Ok((facts.rows, facts.foreign))
    }

    /// The store's identity rule over every readable file: a scan of the whole store
    /// (which compares the events of files that share an identity column by column, and
    /// finds an identity stored on two days through its ledger), and each identity group's
    /// claim that its files of a day share no identity, checked against their summaries.
    async fn check_identities(&self, deep: bool, report: &mut VerifyReport) -> Result<()> {
        for (day, files) in catalog::list_days(self.backend.as_ref(), |_| true).await? {
            // Unreadable files are problems already; the claim is checked on the others.
            let mut groups: HashMap<String, Vec<(FileEntry, Arc<IdentitySummary>)>> =
                HashMap::new();
            for file in files.files {
                let Ok(facts) = read_facts(self.backend.clone(), &file).await else {
                    continue;
                };
                let Some(group) = facts.identity_group.clone() else {
                    continue;
                };
                if let Ok(identities) = file_identities(&self.backend, &file, &facts).await {
                    groups.entry(group).or_default().push((file, identities));
                }
            }
            for files in groups.values() {
                if let Some(problem) = shared_in_group(day, files) {
                    report.problems.push(problem);
                }
            }
        }
        let skipped = SkippedFiles::default();
        let mut query = Query::all().skip_corrupt(skipped);
        if !deep {
            query = query.columns([Field::SessionId, Field::Seq, Field::TsMs]);
        }
        let mut batches = self.scan(query).await?;
        while let Some(batch) = batches.next().await {
            if let Err(e) = batch {
                let path = match &e {
                    Error::Conflict { first, .. } => first.clone(),
                    _ => self.location(),
                };
                report.problems.push(Problem {
                    path,
                    problem: e.to_string(),
                });
                break;
            }
        }
        Ok(())
    }
}

/// `ranges` as `[first..=last, …]`, the first four of them and how many in all: a session
/// can hold thousands.
fn some_ranges(ranges: &[(u64, u64)]) -> String {
    let shown: Vec<String> = (ranges.iter().take(4))
        .map(|(first, last)| format!("{first}..={last}"))
        .collect();
    match ranges.len() > shown.len() {
        true => format!("[{}, … {} in all]", shown.join(", "), ranges.len()),
        false => format!("[{}]", shown.join(", ")),
    }
}

/// A session whose `seq` ranges differ between two summaries (the smallest such id).
fn first_differing_session(a: &IdentitySummary, b: &IdentitySummary) -> Option<String> {
    let sessions = a.sessions().chain(b.sessions()).map(|(s, _)| s);
    sessions
        .filter(|s| a.ranges(s) != b.ranges(s))
        .min()
        .map(str::to_owned)
}

/// The first identity two files of one identity group hold on `day`, as a problem: their
/// footers claim that no identity is in two of them.
fn shared_in_group(day: UtcDay, files: &[(FileEntry, Arc<IdentitySummary>)]) -> Option<Problem> {
    for (i, (a, a_ids)) in files.iter().enumerate() {
        for (b, b_ids) in &files[i + 1..] {
            if let Some((session_id, seq)) = a_ids.first_shared(b_ids) {
                return Some(Problem {
                    path: a.path.clone(),
                    problem: format!(
                        "identity (session_id {session_id:?}, seq {seq}) is stored twice on {day}, here and in {}, files whose footers say no identity is in two of them",
                        b.path
                    ),
                });
            }
        }
    }
    None
}
