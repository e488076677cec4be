//! A file's identities, summarised in its footer: for each session, the `seq` values its
//! rows hold, as ranges. Agents number a session's events 0, 1, 2, …, so a file costs about
//! one range per session it holds. Readers and writers compare files by these summaries
//! (the store's identity rule, `store/identities.rs`) without reading rows.

use std::io::Read;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::UInt64Type;
use base64::Engine;
use base64::prelude::BASE64_STANDARD;
use kaizen_core::Field;
use serde::{Deserialize, Serialize};

use crate::{Error, FastMap, Result};

/// Footer key of a file's [`IdentitySummary`], as JSON.
pub const IDENTITIES_KEY: &str = "kaizen_identities";

/// Ranges a footer summary holds at most (about 50 bytes each): past this a file carries
/// no summary, and readers that need one read its `session_id` and `seq` columns instead.
pub const MAX_SUMMARY_RANGES: usize = 64 * 1024;

/// Inclusive `seq` ranges, sorted, neither overlapping nor touching.
pub type SeqRanges = Vec<(u64, u64)>;

/// The identities `(session_id, seq)` of a set of rows: each session's `seq` values as
/// [`SeqRanges`]. Serialised in footers as `{"v":2,"zstd":"<base64>"}`: the standard base64
/// (RFC 4648, padded) of one zstd frame of the JSON list
/// `[["<session_id>",[[first,last],…]],…]`, sessions sorted. Files written before it hold
/// version 1, the list as it is: `{"v":1,"sessions":[…]}`; both are read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentitySummary {
    /// A fast hasher: ingest and compaction add every row they write.
    sessions: FastMap<String, SeqRanges>,
    ranges: usize,
}

/// The footer's JSON: `v` 1 holds the sessions as they are, 2 compressed.
#[derive(Serialize, Deserialize)]
struct Stored {
    v: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sessions: Option<Vec<(String, SeqRanges)>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    zstd: Option<String>,
}

/// The summary version written.
const FOOTER_VERSION: u32 = 2;

/// The zstd level of a summary: 10 KB a day's file, at most a few megabytes (64k ranges).
/// Compressed, base64 included, the summaries of a store of imported agent logs take 39% of
/// their JSON's bytes (0.3% of the store's bytes saved; `kaizen bench --corpus agent-logs`).
const FOOTER_ZSTD_LEVEL: i32 = 9;

/// The decompressed bytes a summary may take: 8 MiB, over what [`MAX_SUMMARY_RANGES`] ranges
/// of two 20-digit numbers take in as many sessions of 60-byte ids (7.5 MB). A longer one (a
/// damaged or hostile footer, a zstd frame of megabytes of spaces) is read as no summary, so
/// reading it holds 16 MiB at most (it was 150 MB at a 70 MB bound, a hostile pass found); a
/// real summary that long only makes a writer read the file's two key columns instead.
const FOOTER_JSON_BYTES: u64 = 8 << 20;

impl IdentitySummary {
    /// Adds the identity `(session, seq)`.
    pub fn insert(&mut self, session: &str, seq: u64) {
        self.insert_ranges(session, &[(seq, seq)]);
    }

    /// Adds every `seq` of `ranges` (sorted, disjoint) to `session`.
    pub fn insert_ranges(&mut self, session: &str, ranges: &[(u64, u64)]) {
        let known = match self.sessions.get_mut(session) {
            Some(known) => known,
            None => self.sessions.entry(session.to_owned()).or_default(),
        };
        // The common case: seqs arriving in order, extending the last range.
        if let ([.., last], [(start, end)]) = (known.as_mut_slice(), ranges)
            && *start >= last.0
        {
            if *start <= last.1.saturating_add(1) {
                last.1 = last.1.max(*end);
                return;
            }
            known.push((*start, *end));
            self.ranges += 1;
            return;
        }
        self.ranges -= known.len();
        *known = union(known, ranges);
        self.ranges += known.len();
    }

    /// Adds every identity of `other`.
    pub fn extend(&mut self, other: &IdentitySummary) {
        for (session, ranges) in &other.sessions {
            self.insert_ranges(session, ranges);
        }
    }

    /// Adds the identities of `batch`'s `session_id` and `seq` columns.
    pub fn add_batch(&mut self, batch: &RecordBatch, path: &str) -> Result<()> {
        let column = |f: Field| {
            batch
                .column_by_name(f.name())
                .ok_or_else(|| Error::column(path, f.name(), "missing"))
        };
        let sessions = column(Field::SessionId)?;
        let seqs = column(Field::Seq)?;
        let (Some(sessions), Some(seqs)) = (
            sessions.as_string_opt::<i32>(),
            seqs.as_primitive_opt::<UInt64Type>(),
        ) else {
            return Err(Error::column(path, "session_id/seq", "not utf8/uint64"));
        };
        for i in 0..batch.num_rows() {
            if sessions.is_valid(i) && seqs.is_valid(i) {
                self.insert(sessions.value(i), seqs.value(i));
            }
        }
        Ok(())
    }

    /// Sessions held, in no particular order.
    pub fn sessions(&self) -> impl Iterator<Item = (&str, &[(u64, u64)])> {
        self.sessions
            .iter()
            .map(|(s, r)| (s.as_str(), r.as_slice()))
    }

    /// The `seq` ranges of `session`, empty when it holds none.
    pub fn ranges(&self, session: &str) -> &[(u64, u64)] {
        self.sessions.get(session).map_or(&[], Vec::as_slice)
    }

    /// Whether no identity is held.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// Ranges held in all.
    pub fn range_count(&self) -> usize {
        self.ranges
    }

    /// One identity both hold, if any: `(session_id, seq)`.
    pub fn first_shared(&self, other: &IdentitySummary) -> Option<(String, u64)> {
        let (small, large) = match self.sessions.len() <= other.sessions.len() {
            true => (self, other),
            false => (other, self),
        };
        small.sessions.iter().find_map(|(session, ranges)| {
            let seq = first_overlap(ranges, large.sessions.get(session)?)?;
            Some((session.clone(), seq))
        })
    }

    /// The footer text, or `None` past [`MAX_SUMMARY_RANGES`].
    pub fn to_footer(&self) -> Option<String> {
        if self.ranges > MAX_SUMMARY_RANGES {
            return None;
        }
        let mut sessions: Vec<(&String, &SeqRanges)> = self.sessions.iter().collect();
        sessions.sort_unstable();
        let json = serde_json::to_vec(&sessions).ok()?;
        let compressed = zstd::bulk::compress(&json, FOOTER_ZSTD_LEVEL).ok()?;
        let stored = Stored {
            v: FOOTER_VERSION,
            sessions: None,
            zstd: Some(BASE64_STANDARD.encode(compressed)),
        };
        serde_json::to_string(&stored).ok()
    }

    /// A footer's summary, of either version; `None` when the text is not one (a damaged or
    /// future footer is read as a file without a summary: its columns are read instead).
    pub fn from_footer(text: &str) -> Option<Self> {
        let stored: Stored = serde_json::from_str(text).ok()?;
        let sessions: Vec<(String, SeqRanges)> = match (stored.v, stored.sessions, stored.zstd) {
            (1, Some(sessions), None) => sessions,
            (2, None, Some(compressed)) => {
                serde_json::from_slice(&decompressed(&compressed)?).ok()?
            }
            _ => return None,
        };
        let mut summary = IdentitySummary::default();
        for (session, ranges) in sessions {
            let well_formed = ranges.iter().all(|(a, b)| a <= b)
                && ranges.windows(2).all(|w| w[0].1.saturating_add(1) < w[1].0);
            if !well_formed {
                return None;
            }
            summary.ranges += ranges.len();
            if summary.sessions.insert(session, ranges).is_some() {
                return None;
            }
        }
        Some(summary)
    }
}

/// The JSON a version 2 summary's `zstd` text holds; `None` when it is not base64 of a zstd
/// frame, or expands past [`FOOTER_JSON_BYTES`].
fn decompressed(base64: &str) -> Option<Vec<u8>> {
    let compressed = BASE64_STANDARD.decode(base64).ok()?;
    let mut json = Vec::new();
    zstd::stream::read::Decoder::new(compressed.as_slice())
        .ok()?
        .take(FOOTER_JSON_BYTES + 1)
        .read_to_end(&mut json)
        .ok()?;
    (json.len() as u64 <= FOOTER_JSON_BYTES).then_some(json)
}

/// The first value both range lists hold.
pub fn first_overlap(a: &[(u64, u64)], b: &[(u64, u64)]) -> Option<u64> {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i].1 < b[j].0 {
            i += 1;
        } else if b[j].1 < a[i].0 {
            j += 1;
        } else {
            return Some(a[i].0.max(b[j].0));
        }
    }
    None
}

/// The union of two sorted, disjoint range lists.
pub fn union(a: &[(u64, u64)], b: &[(u64, u64)]) -> SeqRanges {
    let mut all: SeqRanges = a.iter().chain(b).copied().collect();
    all.sort_unstable();
    let mut out: SeqRanges = Vec::with_capacity(all.len());
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
    use super::*;

    /// A summary that decompresses past [`FOOTER_JSON_BYTES`] (a few kilobytes of zstd
    /// expanding to tens of megabytes) is not read whole: no summary.
    #[test]
    fn a_summary_expanding_past_its_bound_is_no_summary() {
        let mut json = b"[[\"a\",[[0,1]]]".to_vec();
        json.resize(FOOTER_JSON_BYTES as usize + 2, b' ');
        json.push(b']');
        let compressed = zstd::bulk::compress(&json, 1).expect("compress");
        assert!(compressed.len() < 1 << 20, "{}", compressed.len());
        let text = format!(
            "{{\"v\":2,\"zstd\":\"{}\"}}",
            BASE64_STANDARD.encode(&compressed)
        );
        assert_eq!(IdentitySummary::from_footer(&text), None);
    }

    #[test]
    fn ranges_merge_in_any_order_and_round_trip_through_the_footer() {
        let mut s = IdentitySummary::default();
        for seq in [0, 1, 2, 5, 4, 9, 3, u64::MAX] {
            s.insert("a", seq);
        }
        s.insert("b\"\n", 7);
        assert_eq!(s.ranges("a"), &[(0, 5), (9, 9), (u64::MAX, u64::MAX)]);
        assert_eq!(s.range_count(), 4);
        let text = s.to_footer().expect("small");
        assert!(text.starts_with("{\"v\":2,\"zstd\":\""), "{text}");
        assert_eq!(IdentitySummary::from_footer(&text), Some(s.clone()));
        // Version 1, as files written before compressed summaries hold it.
        let v1 = r#"{"v":1,"sessions":[["a",[[0,5],[9,9],[18446744073709551615,18446744073709551615]]],["b\"\n",[[7,7]]]]}"#;
        assert_eq!(IdentitySummary::from_footer(v1), Some(s.clone()));
        assert_eq!(
            IdentitySummary::from_footer("{\"v\":2,\"sessions\":[]}"),
            None
        );
        assert_eq!(
            IdentitySummary::from_footer("{\"v\":3,\"zstd\":\"\"}"),
            None
        );
        assert_eq!(
            IdentitySummary::from_footer("{\"v\":1,\"sessions\":[[\"a\",[[5,1]]]]}"),
            None
        );

        // Damaged compressed summaries are no summary: not base64, not zstd, not the list.
        let v2 = |payload: &[u8]| {
            format!(
                "{{\"v\":2,\"zstd\":\"{}\"}}",
                BASE64_STANDARD.encode(payload)
            )
        };
        assert_eq!(
            IdentitySummary::from_footer("{\"v\":2,\"zstd\":\"%%\"}"),
            None
        );
        assert_eq!(IdentitySummary::from_footer(&v2(b"not zstd")), None);
        let list = |json: &[u8]| zstd::bulk::compress(json, 1).expect("compress");
        assert_eq!(IdentitySummary::from_footer(&v2(&list(b"{}"))), None);
        assert_eq!(
            IdentitySummary::from_footer(&v2(&list(br#"[["a",[[0,5],[1,2]]]]"#))),
            None
        );
        assert!(IdentitySummary::from_footer(&v2(&list(br#"[["a",[[0,5]]]]"#))).is_some());

        let mut other = IdentitySummary::default();
        other.insert("a", 7);
        assert_eq!(s.first_shared(&other), None);
        other.insert("a", 9);
        assert_eq!(s.first_shared(&other), Some(("a".into(), 9)));
        assert_eq!(other.first_shared(&s), Some(("a".into(), 9)));
    }
}
