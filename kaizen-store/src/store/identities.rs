//! The identities a writer has put in each day's files, so that a day written as several
//! files can claim in their footers that no identity is in two of them: a scan then reads
//! them one after another instead of merging them.
//!
//! Kept as ranges of `seq` per session (agents number a session's events 0, 1, 2, …), so
//! a day costs about one range per session. Past a bound nothing more is claimed.

use std::borrow::Borrow;
use std::collections::HashMap;

use kaizen_core::{Event, UtcDay};

use crate::{Error, Result};

/// Ranges kept across all days at most: about 40 MB in the worst case of one range an
/// event, far less for real sessions.
const MAX_RANGES: usize = 1 << 20;

/// Inclusive `seq` ranges, sorted, neither overlapping nor touching.
type Ranges = Vec<(u64, u64)>;

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
pub(crate) struct FileIdentities<'a>(HashMap<&'a str, Ranges>);

impl<'a> FileIdentities<'a> {
    /// The identities of `events`, each of which must hold its own: two events with one
    /// identity are the error of that identity.
    pub fn of<E: Borrow<Event>>(events: &'a [E]) -> Result<Self> {
        let mut seqs: HashMap<&str, Vec<u64>> = HashMap::new();
        for e in events {
            let e: &'a Event = e.borrow();
            seqs.entry(e.session_id.as_str()).or_default().push(e.seq);
        }
        let mut sessions = HashMap::with_capacity(seqs.len());
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
        first: "the events being appended".into(),
        second: "the events being appended".into(),
    }
}

fn overlap(a: &[(u64, u64)], b: &[(u64, u64)]) -> bool {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i].1 < b[j].0 {
            i += 1;
        } else if b[j].1 < a[i].0 {
            j += 1;
        } else {
            return true;
        }
    }
    false
}

fn union(a: &[(u64, u64)], b: &[(u64, u64)]) -> Ranges {
    let mut all: Ranges = a.iter().chain(b).copied().collect();
    all.sort_unstable();
    let mut out: Ranges = Vec::with_capacity(all.len());
    for (start, end) in all {
        match out.last_mut() {
            Some((_, last)) if start <= last.saturating_add(1) => *last = (*last).max(end),
            _ => out.push((start, end)),
        }
    }
    out
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
