//! Secret redaction: credentials found in agent logs are replaced by `[REDACTED:<detector>]`
//! before anything is stored.
//!
//! A [`Redactor`] holds the built-in detectors (see `builtin.rs`: cloud keys, GitHub, GitLab
//! and Slack tokens, OpenAI and Anthropic keys, private key blocks, bearer tokens, basic-auth
//! URLs and headers, JWTs, `*_TOKEN=`-style assignments, keyed secrets in JSON and code) and
//! the user's own patterns ([`UserPattern`]). It works on text as stored:
//! - [`Redactor::redact_json`] on JSON text (a log line, a payload): the result is JSON
//!   again, the same value except each secret's string part, and every byte outside the
//!   secrets is kept (export gives back the line with only the secrets replaced);
//! - [`Redactor::redact_text`] on any other text (a line that is not JSON, kept as text).
//!
//! Speed: a line is first searched once for the detectors' literal anchors (Aho-Corasick,
//! ASCII case-insensitive: `akia`, `ghp_`, `sk-`, `-----begin`, `bearer`, `token`, …); a
//! detector's expression runs only on a line holding one of its anchors, so the common line
//! costs one pass of the prefilter (`prefilter.rs`: four parts of the text side by side).
//! User patterns have no anchors and run on every line.

mod builtin;
mod json;
mod prefilter;
mod user;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock, OnceLock};

use regex::{Captures, Regex};

pub use user::UserPattern;

use crate::{Error, Result};

/// Matches per detector name, e.g. `{"github-token": 2, "private-key": 1}`.
pub type RedactCounts = BTreeMap<String, u64>;

/// One detector: a name, an expression and which part of a match is the secret.
struct Detector {
    name: String,
    /// Where its rule comes from (see `builtin.rs`), or `user pattern`.
    source: String,
    regex: Regex,
    /// The index of the `secret` group, when the expression has one; else the whole match.
    group: Option<usize>,
    check: Option<fn(&Captures<'_>) -> bool>,
    gate: Option<builtin::Gate>,
}

/// Whose an anchor is: a detector, and the anchor as written when it must match so (a
/// token prefix: `AKIA`, not `akia`).
struct Owner {
    detector: usize,
    exact: Option<&'static str>,
}

/// Every detector's anchors in one automaton (ASCII case-insensitive; a DFA run over the
/// text once, in four lanes: `prefilter.rs`), each literal with its owners (a literal can
/// be several detectors' anchor).
struct Prefilter {
    automaton: prefilter::AnchorScan,
    owners: Vec<Vec<Owner>>,
}

/// Finds and replaces secrets. Cheap to share (`Arc`); `Send + Sync`.
pub struct Redactor {
    detectors: Vec<Detector>,
    prefilter: Prefilter,
    /// Detectors without anchors (user patterns): run on every text.
    unanchored: Vec<usize>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.detectors.iter().map(|d| d.name.as_str()).collect();
        f.debug_struct("Redactor")
            .field("detectors", &names)
            .finish()
    }
}

/// A part of the text to replace, by whom.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
    detector: usize,
}

impl Redactor {
    /// The built-in detectors only (shared: built once per process).
    pub fn builtin() -> Arc<Redactor> {
        static BUILTIN: OnceLock<Arc<Redactor>> = OnceLock::new();
        BUILTIN
            .get_or_init(|| {
                Arc::new(
                    Redactor::with_patterns(Vec::new())
                        .expect("the built-in detectors compile (tested)"),
                )
            })
            .clone()
    }

    /// The built-in detectors and `patterns` (each a detector of its own name).
    /// Errors: a pattern that is not a valid expression ([`Error::Pattern`], naming where
    /// it came from).
    pub fn with_patterns(patterns: Vec<UserPattern>) -> Result<Redactor> {
        let mut detectors = Vec::new();
        // Each literal, lower-cased, with its owners.
        let mut literals: Vec<String> = Vec::new();
        let mut owners: Vec<Vec<Owner>> = Vec::new();
        for b in builtin::BUILTIN {
            let regex = Regex::new(b.pattern).map_err(|e| Error::Pattern {
                origin: format!("built-in detector {}", b.name),
                reason: e.to_string(),
            })?;
            let (anchors, exact) = match b.anchors {
                builtin::Anchors::Exact(a) => (a, true),
                builtin::Anchors::AnyCase(a) => (a, false),
            };
            for a in anchors {
                let literal = a.to_ascii_lowercase();
                let at = match literals.iter().position(|l| *l == literal) {
                    Some(at) => at,
                    None => {
                        literals.push(literal);
                        owners.push(Vec::new());
                        literals.len() - 1
                    }
                };
                owners[at].push(Owner {
                    detector: detectors.len(),
                    exact: exact.then_some(*a),
                });
            }
            detectors.push(Detector {
                name: b.name.to_owned(),
                source: b.source.to_owned(),
                group: regex.capture_names().position(|n| n == Some("secret")),
                regex,
                check: b.check,
                gate: b.gate,
            });
        }
        let automaton = prefilter::AnchorScan::new(&literals).map_err(|e| Error::Pattern {
            origin: "the built-in detectors' anchors".into(),
            reason: e.to_string(),
        })?;
        let prefilter = Prefilter { automaton, owners };
        let mut unanchored = Vec::new();
        for p in patterns {
            unanchored.push(detectors.len());
            detectors.push(Detector {
                group: p.regex.capture_names().position(|n| n == Some("secret")),
                name: p.name,
                source: "user pattern".into(),
                regex: p.regex,
                check: None,
                gate: None,
            });
        }
        Ok(Redactor {
            detectors,
            prefilter,
            unanchored,
        })
    }

    /// The detectors, built-in first, then the user's patterns: `(name, source)`, the
    /// source naming the gitleaks rules a built-in one follows (`gitleaks:<rule id>`),
    /// `kaizen` for this crate's own, `user pattern` for the user's.
    pub fn detectors(&self) -> Vec<(&str, &str)> {
        (self.detectors.iter())
            .map(|d| (d.name.as_str(), d.source.as_str()))
            .collect()
    }

    /// `text` (any text) with each secret replaced by `[REDACTED:<detector>]`, counting
    /// each replacement in `counts`. Borrowed when nothing was found.
    pub fn redact_text<'t>(&self, text: &'t str, counts: &mut RedactCounts) -> Cow<'t, str> {
        let spans = self.find(text);
        if spans.is_empty() {
            return Cow::Borrowed(text);
        }
        Cow::Owned(self.replace(text, &merge(spans), counts))
    }

    /// `json` (valid JSON text: a log line, a payload) with each secret inside its strings
    /// replaced by `[REDACTED:<detector>]`; the result is valid JSON, byte for byte the
    /// input outside the replaced parts, each of which lies inside one string and covers
    /// whole escape sequences. Matches outside strings (a number) are left. A string that
    /// spells characters as `\uXXXX` escapes is also searched as decoded (a secret written
    /// `ghp_\u0041…` is replaced too, with the escapes it spans). Borrowed when nothing was
    /// replaced.
    ///
    /// ```
    /// use kaizen_import::{RedactCounts, Redactor, UserPattern};
    ///
    /// let redactor = Redactor::with_patterns(UserPattern::from_args(&[r"ACME-\d{6}".into()])?)?;
    /// let mut counts = RedactCounts::new();
    /// let line = r#"{"cmd":"GH_TOKEN=ghp_Zq3xY8wV5uT2sR9pO6nM3lK0jI7hG4fE1dC8 gh pr list ACME-123456"}"#;
    /// let out = redactor.redact_json(line, &mut counts);
    /// assert_eq!(
    ///     out,
    ///     r#"{"cmd":"GH_TOKEN=[REDACTED:github-token] gh pr list [REDACTED:custom-1]"}"#
    /// );
    /// assert_eq!(counts["github-token"], 1);
    /// # Ok::<(), kaizen_import::Error>(())
    /// ```
    pub fn redact_json<'t>(&self, json: &'t str, counts: &mut RedactCounts) -> Cow<'t, str> {
        let mut found = self.find(json);
        let mut strings = None;
        // One searcher for every call: building one costs more than searching a payload.
        static UNICODE_ESCAPE: LazyLock<memchr::memmem::Finder<'static>> =
            LazyLock::new(|| memchr::memmem::Finder::new(b"\\u"));
        if UNICODE_ESCAPE.find(json.as_bytes()).is_some() {
            let ranges = json::string_ranges(json);
            found.extend(self.find_escaped(json, &ranges));
            strings = Some(ranges);
        }
        if found.is_empty() {
            return Cow::Borrowed(json);
        }
        let strings = strings.unwrap_or_else(|| json::string_ranges(json));
        // Each match is cut to its string before any are merged: merged first, a match that
        // runs past a string's end (a user pattern's `\S+`) would take in, and lose, a
        // secret of the next string.
        found.sort_by_key(|s| s.start);
        let mut spans = Vec::with_capacity(found.len());
        let mut escapes: Option<(usize, Vec<(usize, usize)>)> = None;
        for s in found {
            // The string the span starts in: the last whose contents start at or before it.
            let i = strings.partition_point(|&(a, _)| a <= s.start);
            let Some((i, &(a, b))) = i.checked_sub(1).map(|i| (i, &strings[i])) else {
                continue;
            };
            if s.start >= b {
                continue; // between strings: structure or a number
            }
            // The string's escapes, found once for all of its spans.
            if escapes.as_ref().is_none_or(|(of, _)| *of != i) {
                escapes = Some((i, json::escapes(json, a, b)));
            }
            let escapes = escapes.as_ref().map_or(&[][..], |(_, e)| e.as_slice());
            let (start, end) = json::whole_escapes(escapes, s.start, s.end.min(b));
            spans.push(Span { start, end, ..s });
        }
        if spans.is_empty() {
            return Cow::Borrowed(json);
        }
        let mut counted = RedactCounts::new();
        let out = self.replace(json, &merge(spans.clone()), &mut counted);
        if serde_json::from_str::<serde::de::IgnoredAny>(&out).is_ok() {
            // Counted only now: what is counted is what was replaced.
            for (k, v) in counted {
                *counts.entry(k).or_default() += v;
            }
            return Cow::Owned(out);
        }
        // Cannot happen by the rules above; should it, the strings holding a secret are
        // replaced whole, which is JSON whatever they held.
        let whole: Vec<Span> = spans
            .iter()
            .map(|s| {
                let i = strings.partition_point(|&(a, _)| a <= s.start) - 1;
                let (a, b) = strings[i];
                Span {
                    start: a,
                    end: b,
                    ..*s
                }
            })
            .collect();
        Cow::Owned(self.replace(json, &merge(whole), counts))
    }

    /// The detectors whose expressions run on `text` (its anchors, past their gates, and
    /// every user pattern): for measuring what the prefilter lets through.
    pub fn candidates(&self, text: &str) -> Vec<&str> {
        let (candidates, _) = self.candidates_of(text);
        (self.detectors.iter().zip(candidates))
            .filter(|(_, c)| *c)
            .map(|(d, _)| d.name.as_str())
            .collect()
    }

    /// Per detector, whether its expression runs on `text`; and whether any does.
    fn candidates_of(&self, text: &str) -> (Vec<bool>, bool) {
        let mut candidates = vec![false; self.detectors.len()];
        let mut any = false;
        let bytes = text.as_bytes();
        self.prefilter.automaton.each(bytes, |m| {
            for owner in &self.prefilter.owners[m.literal] {
                let d = owner.detector;
                if candidates[d]
                    || owner
                        .exact
                        .is_some_and(|a| &bytes[m.start..m.end] != a.as_bytes())
                {
                    continue;
                }
                if self.detectors[d]
                    .gate
                    .is_none_or(|gate| gate(bytes, m.start, m.end))
                {
                    candidates[d] = true;
                    any = true;
                }
            }
        });
        for &d in &self.unanchored {
            candidates[d] = true;
            any = true;
        }
        (candidates, any)
    }

    /// Every match of every detector that may match `text`, in no order.
    fn find(&self, text: &str) -> Vec<Span> {
        let (candidates, any) = self.candidates_of(text);
        let mut spans = Vec::new();
        if !any {
            return spans;
        }
        for (i, d) in self.detectors.iter().enumerate() {
            if !candidates[i] {
                continue;
            }
            // Each search goes on from the end of the last secret, not of the last match:
            // a match takes the character after its token as a boundary, which is also the
            // character before the next token (`ghp_… ghp_…`, `AKIA…\nAKIA…`).
            let mut at = 0;
            while at <= text.len() {
                let Some(c) = d.regex.captures_at(text, at) else {
                    break;
                };
                let whole = c.get(0).map_or(at..at, |m| m.range());
                let secret = d.group.map_or(c.get(0), |g| c.get(g));
                let next = secret.map_or(whole.end, |m| m.end()).max(whole.start + 1);
                if let Some(m) = secret
                    && !m.is_empty()
                    && d.check.is_none_or(|check| check(&c))
                {
                    spans.push(Span {
                        start: m.start(),
                        end: m.end(),
                        detector: i,
                    });
                }
                let next = next.max(at + 1);
                if next > text.len() {
                    break;
                }
                at = text.ceil_char_boundary(next);
            }
        }
        spans
    }

    /// The secrets of `json`'s strings (`strings`, as [`json::string_ranges`] gives them)
    /// that are spelled with `\u` escapes: each string holding one is decoded and searched
    /// as a reader of the JSON sees it. Spans in `json`'s offsets, each within its string.
    fn find_escaped(&self, json: &str, strings: &[(usize, usize)]) -> Vec<Span> {
        let mut spans = Vec::new();
        for &(start, end) in strings {
            if !json::has_unicode_escape(json, start, end) {
                continue;
            }
            let decoded = json::decode_string(json, start, end);
            for s in self.find(&decoded.text) {
                spans.push(Span {
                    start: decoded.origin[s.start],
                    end: decoded.origin[s.end],
                    detector: s.detector,
                });
            }
        }
        spans
    }

    /// `text` with `spans` (sorted, disjoint) replaced, counted in `counts`.
    fn replace(&self, text: &str, spans: &[Span], counts: &mut RedactCounts) -> String {
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for s in spans {
            let name = &self.detectors[s.detector].name;
            out.push_str(&text[at..s.start]);
            out.push_str("[REDACTED:");
            out.push_str(name);
            out.push(']');
            at = s.end;
            *counts.entry(name.clone()).or_default() += 1;
        }
        out.push_str(&text[at..]);
        out
    }
}

/// `spans` sorted by start, overlapping ones joined (the first's detector names the
/// union: a secret is never left half replaced).
fn merge(mut spans: Vec<Span>) -> Vec<Span> {
    spans.sort_by_key(|s| (s.start, std::cmp::Reverse(s.end)));
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for s in spans {
        match out.last_mut() {
            Some(last) if s.start < last.end => last.end = last.end.max(s.end),
            _ => out.push(s),
        }
    }
    out
}

/// Redacts `bytes` that may not be UTF-8 (a line kept as base64): each valid UTF-8 run as
/// text, the invalid bytes kept. Borrowed when nothing was found.
pub(crate) fn redact_bytes<'b>(
    redactor: &Redactor,
    bytes: &'b [u8],
    counts: &mut RedactCounts,
) -> Cow<'b, [u8]> {
    let mut out = Vec::new();
    let mut changed = false;
    for chunk in bytes.utf8_chunks() {
        let text = redactor.redact_text(chunk.valid(), counts);
        changed |= matches!(text, Cow::Owned(_));
        out.extend_from_slice(text.as_bytes());
        out.extend_from_slice(chunk.invalid());
    }
    match changed {
        true => Cow::Owned(out),
        false => Cow::Borrowed(bytes),
    }
}

#[cfg(test)]
mod tests;
