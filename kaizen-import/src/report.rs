//! What an import found, per source.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// Figures of one source (one agent) over the files of one import run. Token figures are
/// the sums of the imported events' columns, so they are what the store will hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceReport {
    /// Files looked at.
    pub files: u64,
    /// Files skipped because nothing changed since their cursor (not read at all).
    pub files_unchanged: u64,
    /// Files read again from the start because their head changed (replaced or rewritten).
    pub files_reread: u64,
    /// Complete lines read (a Gemini `.json` document: its newlines).
    pub lines: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Events handed to the sink.
    pub events: u64,
    /// Distinct session ids of the events.
    pub sessions: BTreeSet<String>,
    /// API responses (each counted once, on the event carrying its tokens).
    pub responses: u64,
    /// Input tokens, cache reads and writes excluded.
    pub input: u64,
    /// Output tokens, reasoning included.
    pub output: u64,
    /// Reasoning tokens (part of `output`), where the source reports them.
    pub reasoning: u64,
    /// Tokens read from the prompt cache.
    pub cache_read: u64,
    /// Tokens written to the 5-minute cache.
    pub cache_creation_5m: u64,
    /// Tokens written to the 1-hour cache.
    pub cache_creation_1h: u64,
    /// Sum of known costs, micro-dollars.
    pub cost_usd_e6: i64,
    /// Responses whose cost the source stated (Claude `costUSD`).
    pub cost_reported: u64,
    /// Responses whose cost was computed from the price table.
    pub cost_computed: u64,
    /// Responses of a model missing from the price table (cost left null), per model.
    pub unpriced_models: BTreeMap<String, u64>,
    /// Tool calls.
    pub tool_calls: u64,
    /// Tool results.
    pub tool_results: u64,
    /// Tool results reporting an error.
    pub tool_errors: u64,
    /// API errors.
    pub api_errors: u64,
    /// Lines of a record type the importer does not know (kept as they are), per type.
    pub unknown_types: BTreeMap<String, u64>,
    /// Lines kept as text because they are not valid JSON (only with `skip_invalid`).
    pub lines_skipped: u64,
    /// The first few `file:line: reason` of the lines skipped.
    pub skipped: Vec<String>,
    /// Files whose last line had no newline yet (still being written): imported up to the
    /// last complete line; the rest is picked up by the next import.
    pub truncated_tails: Vec<String>,
}

impl SourceReport {
    /// Adds `other`'s figures to these.
    pub fn merge(&mut self, other: &SourceReport) {
        self.files += other.files;
        self.files_unchanged += other.files_unchanged;
        self.files_reread += other.files_reread;
        self.lines += other.lines;
        self.bytes += other.bytes;
        self.events += other.events;
        self.sessions.extend(other.sessions.iter().cloned());
        self.responses += other.responses;
        self.input += other.input;
        self.output += other.output;
        self.reasoning += other.reasoning;
        self.cache_read += other.cache_read;
        self.cache_creation_5m += other.cache_creation_5m;
        self.cache_creation_1h += other.cache_creation_1h;
        self.cost_usd_e6 += other.cost_usd_e6;
        self.cost_reported += other.cost_reported;
        self.cost_computed += other.cost_computed;
        for (k, v) in &other.unpriced_models {
            *self.unpriced_models.entry(k.clone()).or_default() += v;
        }
        self.tool_calls += other.tool_calls;
        self.tool_results += other.tool_results;
        self.tool_errors += other.tool_errors;
        self.api_errors += other.api_errors;
        for (k, v) in &other.unknown_types {
            *self.unknown_types.entry(k.clone()).or_default() += v;
        }
        self.lines_skipped += other.lines_skipped;
        for s in &other.skipped {
            if self.skipped.len() < MAX_SKIPPED_SHOWN {
                self.skipped.push(s.clone());
            }
        }
        self.truncated_tails
            .extend(other.truncated_tails.iter().cloned());
    }

    /// All cache writes (5-minute and 1-hour).
    pub fn cache_creation(&self) -> u64 {
        self.cache_creation_5m + self.cache_creation_1h
    }
}

pub(crate) const MAX_SKIPPED_SHOWN: usize = 20;

/// Figures per source (`claude`, `codex`, `gemini`, `kaizen`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// One entry per source that had files.
    pub sources: BTreeMap<String, SourceReport>,
}

impl Report {
    /// Adds one file's figures under its agent.
    pub fn add(&mut self, agent: crate::Agent, file: &SourceReport) {
        self.sources
            .entry(agent.name().to_owned())
            .or_default()
            .merge(file);
    }
}
