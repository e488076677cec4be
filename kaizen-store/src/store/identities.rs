//! The identities a writer has put in each day's files, so that a day written as several
//! files can claim in their footers that no identity is in two of them: a scan then reads
//! them one after another instead of merging them.
//!
//! Kept as ranges of `seq` per session (agents number a session's events 0, 1, 2, …), so
//! a day costs about one range per session. Past a bound nothing more is claimed.

use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::FastMap;
use std::sync::Arc;

use futures::TryStreamExt;
use kaizen_core::{Event, UtcDay};

use super::catalog::{self, FileEntry};
use super::read::{self, DayScan};
use crate::backend::Backend;
use crate::codec::{IdentitySummary, SeqRanges, batch_to_events, first_overlap, union};
use crate::{Error, Query, Result};

/// The identities of the files a query has opened, by day and file: an identity found on
/// two days is a conflict (one event has one time, so one day; the same identity at two
/// times is two different events). Within a day, the merge decides (copies are one event).
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    sessions: HashMap<String, Vec<Registered>>,
}

#[derive(Debug)]
struct Registered {
    ranges: SeqRanges,
    day: UtcDay,
    path: Arc<str>,
}

impl Ledger {
    /// Records the identities of a file of `day` at `path`; the error of the first identity
    /// some file of another day holds too, naming both files.
    pub fn register(&mut self, day: UtcDay, path: &str, file: &IdentitySummary) -> Result<()> {
        let path: Arc<str> = path.into();
        for (session, ranges) in file.sessions() {
            let known = match self.sessions.get_mut(session) {
                Some(known) => known,
                None => self.sessions.entry(session.to_owned()).or_default(),
            };
            for other in known.iter().filter(|r| r.day != day) {
                if let Some(seq) = first_overlap(&other.ranges, ranges) {
                    return Err(Error::Conflict {
                        session_id: session.to_owned(),
                        seq,
                        first: other.path.to_string(),
                        second: path.to_string(),
                    });
                }
            }
            known.push(Registered {
                ranges: ranges.to_vec(),
                day,
                path: path.clone(),
            });
        }
        Ok(())
    }
}

/// The identities of every live file of a store, by session: what a writer checks the
/// events it was given against before it stages them. Loaded once per writer (one footer
/// read a file; a file without a summary in its footer has its key columns read).
pub(crate) struct StoredIdentities {
    files: Vec<FileEntry>,
    sessions: HashMap<String, Vec<(usize, SeqRanges)>>,
}

impl StoredIdentities {
    /// Loads the identities of every live file; listed again when a file vanishes under
    /// it (a compaction finished meanwhile), a bounded number of times.
    pub async fn load(backend: &Arc<dyn Backend>) -> Result<Self> {
        const ATTEMPTS: usize = 8;
        let mut attempt = 1;
        loop {
            match Self::load_once(backend).await {
                Err(e) if e.is_vanished_file() && attempt < ATTEMPTS => attempt += 1,
                other => return other,
            }
        }
    }

    async fn load_once(backend: &Arc<dyn Backend>) -> Result<Self> {
        let mut stored = StoredIdentities {
            files: Vec::new(),
            sessions: HashMap::new(),
        };
        for (_, files) in catalog::list_days(backend.as_ref(), |_| true).await? {
            for (file, facts) in read::live_files(backend, files).await? {
                let summary = read::file_identities(backend, &file, &facts).await?;
                let index = stored.files.len();
                stored.files.push(file);
                for (session, ranges) in summary.sessions() {
                    let holders = stored.sessions.entry(session.to_owned()).or_default();
                    holders.push((index, ranges.to_vec()));
                }
            }
        }
        Ok(stored)
    }

    /// The files that hold the identity `(session, seq)`, by index.
    fn holders(&self, session: &str, seq: u64) -> impl Iterator<Item = usize> + '_ {
        (self.sessions.get(session).into_iter().flatten())
            .filter(move |(_, ranges)| first_overlap(ranges, &[(seq, seq)]).is_some())
            .map(|(file, _)| *file)
    }

    /// Checks `chunks` (events of one part) against the stored events: an exact copy of a
    /// stored event is removed (it is stored already); another event with a stored identity
    /// (the same identity at another time, on this day or another, or with other content)
    /// is the error of that identity, naming the stored file. Returns the copies removed.
    ///
    /// With `refused`, such an event is left out and pushed there with its conflict's
    /// message instead (see `EventWriter::set_aside_conflicts`).
    pub async fn check(
        &self,
        backend: &Arc<dyn Backend>,
        chunks: &mut [Vec<Event>],
        batch_rows: usize,
        mut refused: Option<&mut Vec<(Event, String)>>,
    ) -> Result<u64> {
        if self.sessions.is_empty() {
            return Ok(0);
        }
        // Which files to read, for which sessions; and which identities are asked about.
        let mut wanted: BTreeMap<usize, BTreeSet<&str>> = BTreeMap::new();
        let mut asked: HashSet<(&str, u64)> = HashSet::new();
        for event in chunks.iter().flatten() {
            for file in self.holders(&event.session_id, event.seq) {
                wanted.entry(file).or_default().insert(&event.session_id);
                asked.insert((&event.session_id, event.seq));
            }
        }
        if asked.is_empty() {
            return Ok(0);
        }
        let mut stored: HashMap<(String, u64), (Event, &str)> = HashMap::new();
        for (index, sessions) in wanted {
            let file = &self.files[index];
            let query = Query {
                sessions: sessions.into_iter().map(str::to_owned).collect(),
                ..Query::all()
            };
            let scan = DayScan::new(backend.clone(), file.day, Arc::new(query), batch_rows);
            let Some(input) = scan.open_one(file.clone()).await? else {
                continue;
            };
            let mut batches = input.stream;
            while let Some(batch) = batches.try_next().await? {
                for event in batch_to_events(&batch, &file.path)? {
                    if asked.contains(&(event.session_id.as_str(), event.seq)) {
                        let key = (event.session_id.clone(), event.seq);
                        stored.entry(key).or_insert((event, &file.path));
                    }
                }
            }
        }
        let mut copies = 0;
        for chunk in chunks.iter_mut() {
            let mut conflict = None;
            chunk.retain(|event| {
                let key = (event.session_id.clone(), event.seq);
                match stored.get(&key) {
                    Some((twin, _)) if twin == event => {
                        copies += 1;
                        false
                    }
                    Some((_, path)) => {
                        let error = || Error::Conflict {
                            session_id: event.session_id.clone(),
                            seq: event.seq,
                            first: (*path).to_owned(),
                            second: APPENDED.to_owned(),
                        };
                        if let Some(refused) = refused.as_deref_mut() {
                            refused.push((event.clone(), error().to_string()));
                            return false;
                        }
                        conflict.get_or_insert_with(error);
                        true
                    }
                    None => true,
                }
            });
            if let Some(conflict) = conflict {
                return Err(conflict);
            }
        }
        Ok(copies)
    }
}

/// How a conflict names the events a writer was given (callers that know their input
/// name its lines instead).
pub const APPENDED: &str = "the events being appended";

/// Ranges kept across all days at most: about 40 MB in the worst case of one range an
/// event, far less for real sessions.
const MAX_RANGES: usize = 1 << 20;

/// Inclusive `seq` ranges, sorted, neither overlapping nor touching.
type Ranges = SeqRanges;

pub(crate) struct WrittenIdentities {
    days: HashMap<UtcDay, HashMap<String, Ranges>>,
    ranges: usize,
    max_ranges: usize,
    /// Set once the bound was passed: nothing is claimed any more.
    exhausted: bool,
}

impl Default for WrittenIdentities {
    fn default() -> Self {
        WrittenIdentities {
            days: HashMap::new(),
            ranges: 0,
            max_ranges: MAX_RANGES,
            exhausted: false,
        }
    }
}

impl WrittenIdentities {
    /// Records the identities of a new file of `day`. True when none of them is in a file
    /// of the day recorded before.
    pub fn add(&mut self, day: UtcDay, file: FileIdentities<'_>) -> bool {
        if self.exhausted {
            return false;
        }
        let known = self.days.entry(day).or_default();
        let mut disjoint = true;
        for (session, new) in file.0 {
            let known = known.entry(session.to_owned()).or_default();
            disjoint &= !overlap(known, &new);
            self.ranges -= known.len();
            *known = union(known, &new);
            self.ranges += known.len();
        }
        if self.ranges > self.max_ranges {
            self.exhausted = true;
            self.days = HashMap::new();
            return false;
        }
        disjoint
    }
}

/// The identities of one file's events: each session's `seq` values, as ranges.
pub(crate) struct FileIdentities<'a>(FastMap<&'a str, Ranges>);

impl<'a> FileIdentities<'a> {
    /// The identities of `events`, each of which must hold its own: two events with one
    /// identity are the error of that identity.
    pub fn of<E: Borrow<Event>>(events: &'a [E]) -> Result<Self> {
        let mut seqs: FastMap<&str, Vec<u64>> = FastMap::default();
        for e in events {
            let e: &'a Event = e.borrow();
            seqs.entry(e.session_id.as_str()).or_default().push(e.seq);
        }
        let mut sessions = FastMap::with_capacity_and_hasher(seqs.len(), Default::default());
        for (session, mut seqs) in seqs {
            seqs.sort_unstable();
            let mut ranges: Ranges = Vec::new();
            for seq in seqs {
                match ranges.last_mut() {
                    Some((_, end)) if seq == *end => return Err(conflict(session, seq)),
                    Some((_, end)) if seq == *end + 1 => *end = seq,
                    _ => ranges.push((seq, seq)),
                }
            }
            sessions.insert(session, ranges);
        }
        Ok(FileIdentities(sessions))
    }
}

fn conflict(session_id: &str, seq: u64) -> Error {
    Error::Conflict {
        session_id: session_id.to_owned(),
        seq,
        first: APPENDED.into(),
        second: APPENDED.into(),
    }
}

fn overlap(a: &[(u64, u64)], b: &[(u64, u64)]) -> bool {
    first_overlap(a, b).is_some()
}

#[cfg(test)]
mod tests {
    use kaizen_core::{EventKind, EventSource};

    use super::*;

    fn events(session: &str, seqs: impl IntoIterator<Item = u64>) -> Vec<Event> {
        seqs.into_iter()
            .map(|seq| {
                Event::new(
                    session,
                    seq,
                    1_000 + seq,
                    EventKind::Message,
                    EventSource::Tail,
                )
            })
            .collect()
    }

    /// Records a file of `events`.
    fn add(written: &mut WrittenIdentities, day: UtcDay, events: &[Event]) -> bool {
        written.add(day, FileIdentities::of(events).expect("each identity once"))
    }

    #[test]
    fn one_identity_twice_in_a_file_is_a_conflict() {
        let mut twice = events("a", [3, 1, 2]);
        twice.extend(events("a", [2]));
        let err = FileIdentities::of(&twice).err().expect("conflict");
        assert!(matches!(&err, Error::Conflict { session_id, seq: 2, .. } if session_id == "a"));
        let edge = |seq| Event::new("a", seq, 1, EventKind::Message, EventSource::Tail);
        assert!(FileIdentities::of(&[edge(u64::MAX), edge(0)]).is_ok());
        assert!(FileIdentities::of(&[edge(u64::MAX), edge(u64::MAX)]).is_err());
    }

    #[test]
    fn files_of_a_day_are_disjoint_until_one_repeats_an_identity() {
        let day = UtcDay::from_days_since_epoch(0);
        let mut written = WrittenIdentities::default();
        assert!(add(&mut written, day, &events("a", 0..10)));
        assert!(add(&mut written, day, &events("a", 10..20)));
        assert!(add(&mut written, day, &events("b", 0..20)));
        // Another day is another set.
        assert!(add(
            &mut written,
            UtcDay::from_days_since_epoch(1),
            &events("a", 0..5)
        ));
        assert!(!add(&mut written, day, &events("a", [25, 19])));
        // Ranges merged: 0..=19 and 25 for "a", so 21..=24 is free and 25 is not.
        assert!(add(&mut written, day, &events("a", 21..25)));
        assert!(!add(&mut written, day, &events("a", [25])));
    }

    #[test]
    fn ranges_overlap_only_where_they_share_a_value() {
        assert!(!overlap(&[(0, 4), (10, 12)], &[(5, 9), (13, 20)]));
        assert!(overlap(&[(0, 4), (10, 12)], &[(5, 10)]));
        assert_eq!(union(&[(0, 4), (10, 12)], &[(5, 9)]), vec![(0, 12)]);
    }

    #[test]
    fn past_the_bound_nothing_is_claimed() {
        let day = UtcDay::from_days_since_epoch(0);
        let mut written = WrittenIdentities {
            max_ranges: 10,
            ..WrittenIdentities::default()
        };
        // Every other seq: one range each.
        assert!(add(&mut written, day, &events("a", (0..10).map(|i| i * 2))));
        assert!(!add(&mut written, day, &events("a", [101])));
        assert!(!add(&mut written, day, &events("b", [0])));
    }
}
