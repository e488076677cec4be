//! The detectors' anchors found in one scan: an Aho-Corasick DFA (ASCII case-insensitive,
//! every match, overlapping ones too) run over several parts of the text at once.
//!
//! Why lanes: a DFA step is a table load that depends on the step before, so one scan
//! runs at the latency of a load (about 6 cycles a byte here: 15% of `kaizen ingest`'s CPU
//! went to it). Four independent scans interleaved keep four loads in flight. Each lane
//! starts its part `longest anchor − 1` bytes early, so an anchor crossing into it is seen
//! whole, and reports only the matches that end in its own part: every match once, as one
//! scan of the whole text reports them.

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::dfa::DFA;
use aho_corasick::{Anchored, BuildError, MatchKind, PatternID};

/// Parts scanned side by side.
const LANES: usize = 4;

/// Texts shorter than this are scanned in one lane. Lanes 1 to 3 each scan a lead-in of
/// up to 19 bytes (the longest anchor, `pypi-AgEIcHlwaS5vcmc`, less one) after the steps in
/// lockstep, one lane at a time: about `n / 4 + 57` steps' latency against `n` for one
/// lane, a gain from about 80 bytes on.
const LANE_MIN_BYTES: usize = 128;

/// The anchors' automaton.
pub(super) struct AnchorScan {
    dfa: DFA,
    /// The start state (the same for every search: unanchored, no prefilter).
    start: StateID,
    longest: usize,
}

/// One anchor found: which (its index in the literals given), where (byte offsets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct AnchorMatch {
    pub literal: usize,
    pub start: usize,
    pub end: usize,
}

impl AnchorScan {
    /// An automaton of `literals`, matched in any ASCII case. Errors: aho-corasick's (too
    /// many states).
    pub(super) fn new(literals: &[String]) -> Result<AnchorScan, BuildError> {
        let dfa = DFA::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            // Its prefilter looks for the anchors' first bytes, which ordinary text is full
            // of; and a prefilter makes the start state special, which the lanes do not handle.
            .prefilter(false)
            .build(literals)?;
        let start = dfa
            .start_state(Anchored::No)
            .expect("a DFA built unanchored has an unanchored start state");
        let longest = dfa.max_pattern_len();
        Ok(AnchorScan {
            dfa,
            start,
            longest,
        })
    }

    /// Calls `found` for each occurrence of each literal in `text` (overlapping ones too),
    /// in no particular order.
    pub(super) fn each(&self, text: &[u8], mut found: impl FnMut(AnchorMatch)) {
        if text.len() < LANE_MIN_BYTES {
            self.scan(text, 0..text.len(), 0, self.start, &mut found);
            return;
        }
        // Lane i owns the matches whose last byte is in part i, and scans from
        // `longest - 1` bytes before it (0 for the first).
        let part = text.len().div_ceil(LANES);
        let owned = |i: usize| (i * part).min(text.len());
        let from = |i: usize| owned(i).saturating_sub(self.longest.saturating_sub(1));
        let own: [usize; LANES] = std::array::from_fn(owned);
        let mut at: [usize; LANES] = std::array::from_fn(from);
        let ends: [usize; LANES] = std::array::from_fn(|i| owned(i + 1));
        let mut sid = [self.start; LANES];
        // In step while every lane has bytes left: as many steps as the shortest scan (the
        // first lane's, which has no lead-in, or the last's, whose part may be short).
        let steps = (0..LANES).map(|i| ends[i] - at[i]).min().unwrap_or(0);
        // The four lanes' bytes zipped: no index to check against a length in the loop.
        let [a, b, c, d] = at.map(|from| &text[from..from + steps]);
        let lanes = a.iter().zip(b).zip(c).zip(d);
        for (k, (((&a, &b), &c), &d)) in lanes.enumerate() {
            for (lane, byte) in [a, b, c, d].into_iter().enumerate() {
                sid[lane] = self.step(sid[lane], byte);
                let i = at[lane] + k;
                if self.dfa.is_special(sid[lane]) && i >= own[lane] {
                    self.report(sid[lane], i + 1, &mut found);
                }
            }
        }
        for lane in &mut at {
            *lane += steps;
        }
        // Each lane's rest, alone.
        for lane in 0..LANES {
            self.scan(text, at[lane]..ends[lane], own[lane], sid[lane], &mut found);
        }
    }

    /// One lane: `text[bytes]` stepped from state `sid`, the matches ending at or after
    /// `text[own]` reported.
    #[inline(always)]
    fn scan(
        &self,
        text: &[u8],
        bytes: std::ops::Range<usize>,
        own: usize,
        mut sid: StateID,
        found: &mut impl FnMut(AnchorMatch),
    ) {
        let start = bytes.start;
        for (i, &byte) in (start..).zip(&text[bytes]) {
            sid = self.step(sid, byte);
            if self.dfa.is_special(sid) && i >= own {
                self.report(sid, i + 1, found);
            }
        }
    }

    #[inline(always)]
    fn step(&self, sid: StateID, byte: u8) -> StateID {
        self.dfa.next_state(Anchored::No, sid, byte)
    }

    /// The matches of match state `sid`, each ending at `end`. (No other state is special:
    /// the search is unanchored, so there is no dead state, and it has no prefilter.)
    #[cold]
    fn report(&self, sid: StateID, end: usize, found: &mut impl FnMut(AnchorMatch)) {
        for i in 0..self.dfa.match_len(sid) {
            let pattern: PatternID = self.dfa.match_pattern(sid, i);
            found(AnchorMatch {
                literal: pattern.as_usize(),
                start: end - self.dfa.pattern_len(pattern),
                end,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// With the longest built-in anchor (`pypi-AgEIcHlwaS5vcmc`, 20 bytes): the lead-ins are
    /// as long as the redactor's.
    fn literals() -> Vec<String> {
        [
            "pypi-ageichlwas5vcmc",
            "token",
            "sessiontoken",
            "key",
            "sk-",
            "sk-ant-",
            "://",
            "akia",
            "a3t",
            "eyj",
        ]
        .map(String::from)
        .to_vec()
    }

    /// Every match as aho-corasick's own overlapping search of the whole text finds them.
    fn expected(literals: &[String], text: &[u8]) -> Vec<AnchorMatch> {
        let ac = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(literals)
            .expect("the literals compile");
        let mut all: Vec<AnchorMatch> = (ac.find_overlapping_iter(text))
            .map(|m| AnchorMatch {
                literal: m.pattern().as_usize(),
                start: m.start(),
                end: m.end(),
            })
            .collect();
        all.sort();
        all
    }

    fn scanned(scan: &AnchorScan, text: &[u8]) -> Vec<AnchorMatch> {
        let mut all = Vec::new();
        scan.each(text, |m| all.push(m));
        all.sort();
        all
    }

    #[test]
    fn anchors_across_lane_boundaries_are_found_once() {
        let literals = literals();
        let scan = AnchorScan::new(&literals).expect("the literals compile");
        // Every offset of a long anchor, so one crosses each boundary between lanes.
        for shift in 0..40 {
            let mut text = "x".repeat(shift);
            while text.len() < 300 {
                text.push_str("SessionToken sk-ant-key://pypi-AgEIcHlwaS5vcmc ");
            }
            let found = scanned(&scan, text.as_bytes());
            assert_eq!(found, expected(&literals, text.as_bytes()), "shift {shift}");
            assert!(found.len() > 40);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Texts of anchor pieces and filler, of every length around the lane threshold.
        #[test]
        fn lanes_find_what_one_scan_finds(
            pieces in prop::collection::vec(
                prop::sample::select(vec![
                    "token", "TOKEN", "sessiontoken", "sk-", "sk-ant-", "ke", "y", ":/", "/",
                    "akia", "A3T", "eyJ", "a", " ", "pypi-AgEIcHlwaS5vcmc", "pypi-", "é", "\n",
                ]),
                0..120,
            )
        ) {
            let literals = literals();
            let scan = AnchorScan::new(&literals).expect("the literals compile");
            let text = pieces.concat();
            prop_assert_eq!(scanned(&scan, text.as_bytes()), expected(&literals, text.as_bytes()));
        }
    }
}
