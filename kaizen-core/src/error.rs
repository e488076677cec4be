use thiserror::Error;

/// `Result` with this crate's [`enum@Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can be wrong with an event or a time argument. Every variant that is about
/// a field names it; `column` is the 1-based byte column in the JSON line where the value starts.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Error {
    /// The line is not JSON (or not a JSON object): nothing of it can be trusted.
    #[error("invalid JSON at column {column}: {message}")]
    Syntax {
        /// Where the parser stopped.
        column: usize,
        /// The parser's own words.
        message: String,
    },

    /// A required field (one the v1 columns hold without nulls) is absent.
    #[error("missing field `{field}`")]
    MissingField {
        /// The field's name.
        field: &'static str,
    },

    /// A key that is not one of the 22 fields: refused rather than dropped, since a
    /// misspelt optional field would otherwise vanish silently.
    #[error(
        "unknown field `{key}` at column {column} (an event has exactly the 22 fields of the v1 format)"
    )]
    UnknownField {
        /// The key as written.
        key: String,
        /// Where the key starts.
        column: usize,
    },

    /// A field given twice: which one is meant is not for kaizen to guess.
    #[error("duplicate field `{field}` at column {column}")]
    DuplicateField {
        /// The field's name.
        field: &'static str,
        /// Where the second one starts.
        column: usize,
    },

    /// A value of another JSON type than its column's (a string for a number…); never
    /// converted.
    #[error("field `{field}` at column {column}: expected {expected}, found {found}")]
    WrongType {
        /// The field's name.
        field: &'static str,
        /// Where the value starts.
        column: usize,
        /// The type the column takes (`a string`, `an unsigned integer`…).
        expected: &'static str,
        /// What was there instead.
        found: String,
    },

    /// A number that does not fit its column's type (a negative or fractional token
    /// count, a `u32` past 4,294,967,295…); never clamped.
    #[error("field `{field}` at column {column}: {value} is out of range for {ty} ({min}..={max})")]
    OutOfRange {
        /// The field's name.
        field: &'static str,
        /// Where the value starts.
        column: usize,
        /// The number as written.
        value: String,
        /// The column's type (`u32`, `i64`…).
        ty: &'static str,
        /// The smallest value the type holds.
        min: String,
        /// The largest value the type holds.
        max: String,
    },

    /// A string whose escapes do not spell valid Unicode (a lone surrogate such as
    /// `\ud800`); `column` is where the offending escape starts.
    #[error("field `{field}` at column {column}: not valid Unicode: {reason}")]
    InvalidString {
        /// The field's name.
        field: &'static str,
        /// Where the escape starts.
        column: usize,
        /// What is wrong with it.
        reason: String,
    },

    /// A `kind` that is none of [`crate::EventKind::ALL`] (v1 readers turned it into
    /// `Message`: silent corruption, not repeated).
    #[error(
        "field `kind` at column {column}: unknown kind {value:?} (one of ToolCall, ToolResult, Message, Error, Cost, Hook, Lifecycle)"
    )]
    UnknownKind {
        /// The kind as written.
        value: String,
        /// Where it starts.
        column: usize,
    },

    /// A `source` that is none of [`crate::EventSource::ALL`] (v1 readers turned it into
    /// `Tail`).
    #[error(
        "field `source` at column {column}: unknown source {value:?} (one of Tail, Hook, Proxy)"
    )]
    UnknownSource {
        /// The source as written.
        value: String,
        /// Where it starts.
        column: usize,
    },

    /// A time argument (`--from`, `--before`, a `ts_ms`) that is no time kaizen can place
    /// on a day: unparsable, or outside the years 1970–9999.
    #[error("invalid time {input:?}: {reason}")]
    InvalidTime {
        /// The argument as given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl Error {
    /// [`Error::Syntax`] from serde_json's error about one line: its column (from 1: a line
    /// that is JSON of another type, `[1,2]`, is at its start, where serde_json says 0)
    /// and its message without the `at line L column C` serde_json ends it with.
    pub fn json_syntax(e: serde_json::Error) -> Error {
        let message = e.to_string();
        let position = format!(" at line {} column {}", e.line(), e.column());
        Error::Syntax {
            column: e.column().max(1),
            message: message
                .strip_suffix(&position)
                .map_or(message.clone(), str::to_owned),
        }
    }

    /// The field at fault, when the error is about one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::MissingField { field }
            | Error::DuplicateField { field, .. }
            | Error::WrongType { field, .. }
            | Error::OutOfRange { field, .. }
            | Error::InvalidString { field, .. } => Some(field),
            Error::UnknownField { key, .. } => Some(key),
            Error::UnknownKind { .. } => Some("kind"),
            Error::UnknownSource { .. } => Some("source"),
            Error::Syntax { .. } | Error::InvalidTime { .. } => None,
        }
    }
}
