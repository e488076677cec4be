//! `verify`: every file of the store checked, every problem named by its path.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::AsArray;
use arrow::datatypes::UInt64Type;
use futures::{StreamExt, TryStreamExt};
use kaizen_core::{Field, UtcDay};
use serde::Serialize;

use super::Store;
use super::catalog::{self, FileEntry};
use super::scan::{DayScan, open_parquet};
use crate::codec::{batch_to_events, check_file, check_schema, file_facts};
use crate::event_store::EventStore;
use crate::{Error, Query, Result, SkippedFiles};

/// What `verify` found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub path: String,
    pub problem: String,
}

impl VerifyReport {
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
        if let (Some(min), Some(max)) = (facts.min_ts(), facts.max_ts())
            && (min < day.start_ms() || max >= day.end_ms())
        {
            let ts_ms = if min < day.start_ms() { min } else { max };
            return Err(Error::WrongDay {
                path: file.path.clone(),
                row: 0,
                ts_ms,
                day: day.to_string(),
            });
        }
        if deep {
            let scan = DayScan {
                backend: self.backend.clone(),
                day,
                query: Arc::new(Query::all()),
                fields: Arc::new(Field::ALL.to_vec()),
                batch_rows: self.options.batch_rows,
                check_payloads: true,
            };
            let mut rows = 0u64;
            if let Some(input) = scan.open_one(file.clone()).await? {
                let mut batches = input.stream;
                while let Some(batch) = batches.try_next().await? {
                    batch_to_events(&batch, &file.path)?;
                    rows += batch.num_rows() as u64;
                }
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

    /// Scans the readable files: within a day the merge finds two events with one identity;
    /// across days, a map of every identity does.
    async fn check_identities(&self, deep: bool, report: &mut VerifyReport) -> Result<()> {
        let skipped = SkippedFiles::default();
        let mut query = Query::all().skip_corrupt(skipped);
        if !deep {
            query = query.columns([Field::SessionId, Field::Seq, Field::TsMs]);
        }
        let mut batches = self.scan(query).await?;
        let mut days: HashMap<(String, u64), UtcDay> = HashMap::new();
        loop {
            let batch = match batches.next().await {
                None => break,
                Some(Ok(batch)) => batch,
                Some(Err(e)) => {
                    report.problems.push(Problem {
                        path: self.location(),
                        problem: e.to_string(),
                    });
                    break;
                }
            };
            let column = |f: Field| batch.column_by_name(f.name());
            let (Some(sessions), Some(seqs), Some(ts)) = (
                column(Field::SessionId),
                column(Field::Seq),
                column(Field::TsMs),
            ) else {
                continue;
            };
            let (sessions, seqs, ts) = (
                sessions.as_string::<i32>(),
                seqs.as_primitive::<UInt64Type>(),
                ts.as_primitive::<UInt64Type>(),
            );
            for i in 0..batch.num_rows() {
                let day = UtcDay::of_ts_ms(ts.value(i)).map_err(|e| Error::InvalidEvent {
                    session_id: sessions.value(i).to_owned(),
                    seq: seqs.value(i),
                    source: Box::new(e),
                })?;
                let key = (sessions.value(i).to_owned(), seqs.value(i));
                let Some(other) = days.insert(key, day) else {
                    continue;
                };
                if other == day {
                    // A merge gives each identity once: files read one after another
                    // claimed to share none, and two of them do.
                    report.problems.push(Problem {
                        path: crate::layout::day_dir(day),
                        problem: format!(
                            "identity (session_id {:?}, seq {}) is stored twice on {day}, in files whose footers say no identity is in two of them",
                            sessions.value(i),
                            seqs.value(i)
                        ),
                    });
                } else {
                    report.problems.push(Problem {
                        path: format!("{}/{}", crate::layout::day_dir(other), crate::layout::day_dir(day)),
                        problem: format!(
                            "identity conflict: (session_id {:?}, seq {}) is stored on {other} and on {day}",
                            sessions.value(i),
                            seqs.value(i)
                        ),
                    });
                }
            }
        }
        Ok(())
    }
}
