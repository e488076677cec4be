//! The generic event rewrite: a function decides, event by event, to keep, replace or drop;
//! only the files holding an event it changes are rewritten, through [`super::switch`].
//! Erasure, payload pruning and redaction are thin over it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use futures::TryStreamExt;
use kaizen_core::{Event, UtcDay};
use parquet::basic::ZstdLevel;

use super::switch::{DayRewrite, finish_stopped};
use crate::codec::{UNRECORDED_ZSTD_LEVEL, batch_to_events, events_to_batch, ingest_zstd_level};
use crate::event_store::WrittenFile;
use crate::store::Store;
use crate::store::catalog::{self, FileEntry};
use crate::store::read::{DayScan, DayState, LiveFile, day_state, file_identities};
use crate::{Error, Query, Result};

/// What a rewrite does with one event.
#[derive(Debug, Clone, PartialEq)]
pub enum Rewritten {
    /// The event stays as it is.
    Keep,
    /// The event is replaced by this version of it: the same `session_id`, `seq` and
    /// `ts_ms` (anything else is [`Error::Rewrite`]).
    Replace(Box<Event>),
    /// The event is removed.
    Drop,
}

/// Which events a rewrite looks at: days `[from, before)` (all when `None`), and, when
/// `sessions` is not empty, only those sessions' events (files that hold none of them are
/// not even read: their footers' identity summaries say so).
#[derive(Debug, Clone, Default)]
pub struct RewriteScope {
    /// The first day looked at.
    pub from: Option<UtcDay>,
    /// The day after the last one looked at.
    pub before: Option<UtcDay>,
    /// Only these sessions' events (all sessions when empty).
    pub sessions: BTreeSet<String>,
    /// Files whose footer says every payload is pruned are passed over, and outputs say so.
    pub(crate) payload_pruning: bool,
}

impl RewriteScope {
    fn has_day(&self, day: UtcDay) -> bool {
        self.from.is_none_or(|f| day >= f) && self.before.is_none_or(|b| day < b)
    }

    fn has_event(&self, event: &Event) -> bool {
        self.sessions.is_empty() || self.sessions.contains(&event.session_id)
    }
}

/// What a rewrite did (or, dry, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RewriteReport {
    /// Nothing was written or removed: the figures are what a run would do (events
    /// stored twice, in two files, are counted twice there).
    pub dry_run: bool,
    /// Each day with a file rewritten, in day order.
    pub days: Vec<RewrittenDay>,
    /// Events removed, per session.
    pub dropped_by_session: BTreeMap<String, u64>,
}

impl RewriteReport {
    /// Events replaced, over every day.
    pub fn replaced(&self) -> u64 {
        self.days.iter().map(|d| d.replaced).sum()
    }

    /// Events removed, over every day.
    pub fn dropped(&self) -> u64 {
        self.days.iter().map(|d| d.dropped).sum()
    }
}

/// One day's rewrite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewrittenDay {
    /// The day.
    pub day: UtcDay,
    /// The rewrite's id, as its outputs' footers and its marker name it (`None` on a dry
    /// run, or when no output was written).
    pub id: Option<String>,
    /// The files that held an event to change: removed (or, dry, to be).
    pub inputs: Vec<FileEntrySummary>,
    /// The files written in their place (none on a dry run, or when every event of the
    /// inputs was removed).
    pub outputs: Vec<WrittenFile>,
    /// Events replaced.
    pub replaced: u64,
    /// Events removed.
    pub dropped: u64,
}

/// A file a rewrite replaced: its path and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntrySummary {
    /// Path in the store.
    pub path: String,
    /// Bytes.
    pub bytes: u64,
}

/// What the function made of a run of events.
#[derive(Default)]
struct Tally {
    replaced: u64,
    dropped: u64,
    dropped_by_session: BTreeMap<String, u64>,
}

impl Tally {
    fn changed(&self) -> bool {
        self.replaced + self.dropped > 0
    }

    fn add(&mut self, other: Tally) {
        self.replaced += other.replaced;
        self.dropped += other.dropped;
        for (session, n) in other.dropped_by_session {
            *self.dropped_by_session.entry(session).or_default() += n;
        }
    }
}

/// The function a rewrite applies.
pub type RewriteFn<'a> = &'a (dyn Fn(&Event) -> Rewritten + Send + Sync);

/// Applies `f` to `events` in `scope`: the events kept (replaced ones as their new
/// version), and the tally.
fn apply(
    events: Vec<Event>,
    scope: &RewriteScope,
    f: RewriteFn<'_>,
) -> Result<(Vec<Event>, Tally)> {
    let mut tally = Tally::default();
    let mut out = Vec::with_capacity(events.len());
    for event in events {
        if !scope.has_event(&event) {
            out.push(event);
            continue;
        }
        match f(&event) {
            Rewritten::Keep => out.push(event),
            Rewritten::Drop => {
                tally.dropped += 1;
                *tally
                    .dropped_by_session
                    .entry(event.session_id.clone())
                    .or_default() += 1;
            }
            Rewritten::Replace(new) => {
                let new = *new;
                let moved = new.session_id != event.session_id
                    || new.seq != event.seq
                    || new.ts_ms != event.ts_ms;
                if moved {
                    return Err(Error::Rewrite {
                        session_id: event.session_id,
                        seq: event.seq,
                        reason: "the replacement has another session_id, seq or ts_ms".into(),
                    });
                }
                if new != event {
                    tally.replaced += 1;
                }
                out.push(new);
            }
        }
    }
    Ok((out, tally))
}

impl Store {
    /// Rewrites the stored events in `scope` through `f` (keep, replace or drop each):
    /// each day's files holding an event `f` changes are replaced by files holding the
    /// day's events as `f` leaves them, through the rewrite mechanism (interrupted
    /// anywhere, readers see each event once, old or new). Files with no change are not
    /// written. With `dry_run`, nothing is written: the report says what would be.
    /// `f` must give the same answer for the same event (it is asked once to find the
    /// files, once to rewrite them). Errors: the store cannot be read or written, a file
    /// is damaged (nothing of its day is rewritten), `f` moved an event
    /// ([`Error::Rewrite`]).
    pub async fn rewrite_events(
        &self,
        scope: &RewriteScope,
        dry_run: bool,
        f: RewriteFn<'_>,
    ) -> Result<RewriteReport> {
        let listed = catalog::list_days(self.backend.as_ref(), |d| scope.has_day(d)).await?;
        let mut report = RewriteReport {
            dry_run,
            ..RewriteReport::default()
        };
        for (day, files) in listed {
            let state = day_state(&self.backend, files).await?;
            if !dry_run {
                finish_stopped(self.backend.as_ref(), &state).await?;
            }
            let (inputs, found) = (self.changed_files(day, &state.live, scope, f, dry_run)).await?;
            if inputs.is_empty() {
                continue;
            }
            let (id, outputs, tally) = match dry_run {
                true => (None, Vec::new(), found),
                false => self.rewrite_day(day, &state, &inputs, scope, f).await?,
            };
            for (session, n) in &tally.dropped_by_session {
                *report
                    .dropped_by_session
                    .entry(session.clone())
                    .or_default() += n;
            }
            report.days.push(RewrittenDay {
                day,
                id,
                inputs: (inputs.iter())
                    .map(|f| FileEntrySummary {
                        path: f.path.clone(),
                        bytes: f.size,
                    })
                    .collect(),
                outputs,
                replaced: tally.replaced,
                dropped: tally.dropped,
            });
        }
        Ok(report)
    }

    /// The live files of `day` holding an event in `scope` that `f` changes, each read
    /// alone; and, with `count`, what `f` made of them (without, a file is read only up to
    /// its first change: the rewrite counts what it does).
    async fn changed_files(
        &self,
        day: UtcDay,
        live: &[LiveFile],
        scope: &RewriteScope,
        f: RewriteFn<'_>,
        count: bool,
    ) -> Result<(Vec<FileEntry>, Tally)> {
        let mut changed = Vec::new();
        let mut total = Tally::default();
        for (file, facts) in live {
            if scope.payload_pruning && facts.payload_pruned {
                continue;
            }
            if !scope.sessions.is_empty() {
                let identities = file_identities(&self.backend, file, facts).await?;
                let holds = (scope.sessions.iter()).any(|s| !identities.ranges(s).is_empty());
                if !holds {
                    continue;
                }
            }
            let query = Query {
                sessions: scope.sessions.iter().cloned().collect(),
                ..Query::all()
            };
            let scan = DayScan::new(
                self.backend.clone(),
                day,
                Arc::new(query),
                self.options.batch_rows,
            );
            let mut rows = scan.stream_files(vec![file.clone()]);
            let mut tally = Tally::default();
            while let Some(batch) = rows.try_next().await? {
                let (_, found) = apply(batch_to_events(&batch, &file.path)?, scope, f)?;
                tally.add(found);
                if tally.changed() && !count {
                    break;
                }
            }
            if tally.changed() {
                changed.push(file.clone());
                total.add(tally);
            }
        }
        Ok((changed, total))
    }

    /// Rewrites `inputs` (files of `day`) through `f`, and switches.
    async fn rewrite_day(
        &self,
        day: UtcDay,
        state: &DayState,
        inputs: &[FileEntry],
        scope: &RewriteScope,
        f: RewriteFn<'_>,
    ) -> Result<(Option<String>, Vec<WrittenFile>, Tally)> {
        // Never below the level of the densest input (a cold day stays as dense).
        let level = (state.live.iter())
            .filter(|(file, _)| inputs.iter().any(|i| i.path == file.path))
            .map(|(_, facts)| facts.zstd_level.unwrap_or(UNRECORDED_ZSTD_LEVEL))
            .max()
            .and_then(|l| ZstdLevel::try_new(l).ok())
            .unwrap_or_else(ingest_zstd_level);
        let mut rewrite = DayRewrite::new(
            self.backend.clone(),
            day,
            inputs,
            &state.orphans,
            true,
            level,
            self.options.rows_per_file,
        );
        if scope.payload_pruning {
            rewrite = rewrite.payload_pruned();
        }
        let query = Arc::new(Query::all().from_ms(day.start_ms()).to_ms(day.end_ms()));
        let scan = DayScan::new(self.backend.clone(), day, query, self.options.batch_rows);
        let mut rows = scan.stream_files(inputs.to_vec());
        let mut tally = Tally::default();
        let written = async {
            while let Some(batch) = rows.try_next().await? {
                let (kept, found) = apply(batch_to_events(&batch, &day.to_string())?, scope, f)?;
                tally.add(found);
                if !kept.is_empty() {
                    rewrite.write(&events_to_batch(&kept)).await?;
                }
            }
            Ok::<_, Error>(())
        }
        .await;
        if let Err(e) = written {
            rewrite.abort().await;
            return Err(e);
        }
        let switched = rewrite.switch().await?;
        let id = (!switched.outputs.is_empty()).then_some(switched.id);
        Ok((id, switched.outputs, tally))
    }
}
