use std::path::PathBuf;

use thiserror::Error;

/// The error a sink (the caller's consumer of events) returns; carried through unchanged.
pub type SinkError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `Result` with this crate's [`enum@Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can stop an import or an export. Every variant about a file names it;
/// variants about one line name its 1-based number (and the column or key where known).
#[derive(Debug, Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },

    /// One line is not what its format allows (not JSON, invalid UTF-8, a number out of
    /// range, an invalid kaizen event…). Shown as `file:line: reason`, the contract of
    /// `kaizen ingest`.
    #[error("{}:{line}: {reason}", path.display())]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based line number (for a Gemini `.json` document: the line where the value starts).
        line: u64,
        /// 1-based byte column within the line, when known.
        column: Option<usize>,
        /// The JSON key at fault, when known.
        key: Option<String>,
        /// What is wrong, e.g. `invalid JSON at column 7: expected value`.
        reason: String,
    },

    /// A file that exists but cannot be opened or read (permissions, a folder where a file
    /// was, an I/O error). The import stops: `skip_invalid` keeps lines that are not valid
    /// and does not apply to a file that cannot be read (a file deleted meanwhile is not
    /// this error: it is skipped, see [`crate::SourceReport::files_vanished`]).
    #[error(
        "{}: cannot be read: {source}; --skip-invalid does not apply (it keeps lines that are not valid, not files that cannot be read): make it readable, or leave it out of the PATHs",
        path.display()
    )]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },

    /// A file given as one agent's logs is clearly another's (its first record says so):
    /// nothing of it was imported. With `skip_invalid` it is skipped instead, and counted in
    /// [`crate::SourceReport::files_refused`].
    #[error("{}: not {expected}: it looks like {looks_like}: {command} {}", path.display(), path.display())]
    WrongAgent {
        /// The file.
        path: PathBuf,
        /// What it was imported as, e.g. `a Claude Code transcript`.
        expected: String,
        /// What it looks like, e.g. `a Codex rollout`.
        looks_like: String,
        /// The command that imports it, e.g. `kaizen import codex`.
        command: String,
    },

    /// A line longer than the limit of [`crate::ImportOptions::max_line_bytes`]: reading it
    /// would break the memory bound.
    #[error("{}:{line}: line longer than {limit} bytes", path.display())]
    LineTooLong {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// The limit in bytes.
        limit: usize,
    },

    /// The file changed while it was read (it shrank, or its head was rewritten between the
    /// two passes of a Claude import): nothing of it was handed to the sink after the change.
    #[error("{}: the file changed while it was read ({reason}); import it again", path.display())]
    Changed {
        /// The file.
        path: PathBuf,
        /// What changed.
        reason: String,
    },

    /// A cursor given for a file does not belong to it (another agent or path).
    #[error("{}: cursor of {cursor_agent} {cursor_path:?} does not belong to this file", path.display())]
    CursorMismatch {
        /// The file.
        path: PathBuf,
        /// The cursor's agent.
        cursor_agent: String,
        /// The cursor's relative path.
        cursor_path: String,
    },

    /// A PATH given to [`crate::discover`] does not exist or cannot be read.
    #[error("{}: {reason}", path.display())]
    Discover {
        /// The path.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },

    /// A PATH given to [`crate::discover`] holds no file of the agent (where it looked is
    /// in `reason`): said, rather than an empty summary that reads as "nothing new".
    #[error("{}: {reason}", path.display())]
    NothingFound {
        /// The path.
        path: PathBuf,
        /// What was looked for, and where.
        reason: &'static str,
    },

    /// An event handed to export cannot be written back: not an imported agent-log event,
    /// a file with missing lines, two different texts for one line…
    #[error("export of {path}: {reason}")]
    Export {
        /// The file's path relative to its agent's root (or the event's identity).
        path: String,
        /// What is wrong.
        reason: String,
    },

    /// An export found problems with some of its files (a different file already at a
    /// target, a target that cannot be written, a line missing from the store): it writes
    /// all its files or none, so it wrote none. Every problem is kept here; the message
    /// lists them one a line (the first 50, then how many more).
    #[error(
        "export to {}: nothing written: an export writes all its files or none, and never replaces a file; {} problem(s):{}",
        out_dir.display(),
        problems.len(),
        listed(problems)
    )]
    ExportRefused {
        /// The export folder.
        out_dir: PathBuf,
        /// Each problem as `path: what is wrong`.
        problems: Vec<String>,
    },

    /// The shipped price table could not be read (a build defect, never user data).
    #[error("price table: {0}")]
    Prices(String),

    /// An upstream kaizen database could not be opened or queried (SQLite's reason).
    #[error("{}: {reason}", path.display())]
    Database {
        /// The database file.
        path: PathBuf,
        /// What SQLite said, and what to do where known.
        reason: String,
    },

    /// An upstream kaizen database lacks a table or column the import needs, or declares a
    /// column with a type its field cannot hold. Nothing of it was read.
    #[error("{}: table {table}{}: {reason}", path.display(), column.as_ref().map(|c| format!(", column {c}")).unwrap_or_default())]
    Schema {
        /// The database file.
        path: PathBuf,
        /// The table (`events` or `sessions`).
        table: String,
        /// The column, when one is at fault.
        column: Option<String>,
        /// What is wrong, e.g. `missing` or `declared TEXT, expected an integer type`.
        reason: String,
    },

    /// A row of an upstream kaizen database holds a value its event field cannot take (out
    /// of range, another SQLite type, an unknown kind, a payload that is not JSON…).
    #[error("{}: table {table}, row {row}, column {column}: {reason}", path.display())]
    Row {
        /// The database file.
        path: PathBuf,
        /// The table (`events` or `sessions`).
        table: String,
        /// The row: `id 17` in `events`, `session "…"` in `sessions`.
        row: String,
        /// The column.
        column: String,
        /// What is wrong.
        reason: String,
    },

    /// The caller's sink refused a chunk of events: the import stopped there.
    #[error("{0}")]
    Sink(#[source] SinkError),

    /// A redaction pattern that cannot be used (not a valid regular expression, a name that
    /// cannot be a detector's, a patterns file line that is not `NAME = REGEX`).
    #[error("{origin}: {reason}")]
    Pattern {
        /// Where it came from: `--redact-pattern 2`, `patterns.txt:4`.
        origin: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Problems one a line, the first [`SHOWN`] of them (an export into a folder of another
/// export can find thousands; the error keeps them all).
fn listed(problems: &[String]) -> String {
    let mut text = String::new();
    for p in problems.iter().take(SHOWN) {
        text.push_str("\n  ");
        text.push_str(p);
    }
    if problems.len() > SHOWN {
        text.push_str(&format!("\n  … and {} more", problems.len() - SHOWN));
    }
    text
}

/// Problems an [`Error::ExportRefused`] message shows.
const SHOWN: usize = 50;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn line(path: impl Into<PathBuf>, line: u64, reason: impl Into<String>) -> Self {
        Error::Line {
            path: path.into(),
            line,
            column: None,
            key: None,
            reason: reason.into(),
        }
    }
}
