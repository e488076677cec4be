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
    /// Files read again from the start because their head changed (replaced or rewritten),
    /// each also named in [`SourceReport::notes`]. A re-read file's lines are stored again
    /// as a new version, but a response counted in an earlier version carries no tokens
    /// or cost again.
    pub files_reread: u64,
    /// Files that were gone when their import began (deleted after discovery, e.g. by the
    /// agent's own cleanup): skipped, each named in [`SourceReport::notes`], their cursors
    /// kept as they were.
    #[serde(default)]
    pub files_vanished: u64,
    /// Files refused because they are another agent's logs (with `skip_invalid`; without it
    /// such a file is an error): nothing of them read into events, each named in
    /// [`SourceReport::notes`].
    #[serde(default)]
    pub files_refused: u64,
    /// One line per file that needs a word, `<path>: what happened` (read again because it
    /// was rewritten, gone before it was read, refused as another agent's, an empty
    /// database file…). Not capped: one line per such file, as `truncated_tails`.
    #[serde(default)]
    pub notes: Vec<String>,
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
    /// Lines kept as text because they are not valid JSON, and upstream database rows left
    /// out because a value cannot be its field (both only with `skip_invalid`).
    pub lines_skipped: u64,
    /// The first few `file:line: reason` of the lines kept as text (the line is stored, as
    /// `text` or `bytes_b64`, and export gives it back).
    pub skipped: Vec<String>,
    /// The first few `db: table events, row id N, column C: reason` of the upstream
    /// database rows left out (not stored: they stay in the database only).
    #[serde(default)]
    pub left_out: Vec<String>,
    /// Secrets replaced by `[REDACTED:<detector>]`, per detector (empty when redaction is
    /// off or nothing was found).
    #[serde(default)]
    pub redacted: BTreeMap<String, u64>,
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
        self.files_vanished += other.files_vanished;
        self.files_refused += other.files_refused;
        self.notes.extend(other.notes.iter().cloned());
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
        for s in &other.left_out {
            if self.left_out.len() < MAX_SKIPPED_SHOWN {
                self.left_out.push(s.clone());
            }
        }
        self.truncated_tails
            .extend(other.truncated_tails.iter().cloned());
        for (k, v) in &other.redacted {
            *self.redacted.entry(k.clone()).or_default() += v;
        }
    }

    /// The remarks a summary prints, one a line: the files' [`SourceReport::notes`], then
    /// the lines kept as text (`kept as text: file:line: reason`), then the database rows
    /// left out (`left out: db: table events, row id N, …`).
    pub fn remarks(&self) -> Vec<String> {
        let mut lines = self.notes.clone();
        lines.extend(self.skipped.iter().map(|s| format!("kept as text: {s}")));
        lines.extend(self.left_out.iter().map(|s| format!("left out: {s}")));
        lines
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
