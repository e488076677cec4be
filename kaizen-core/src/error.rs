use thiserror::Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can be wrong with an event or a time argument. Every variant that is about
/// a field names it; `column` is the 1-based byte column in the JSON line where the value starts.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Error {
    #[error("invalid JSON at column {column}: {message}")]
    Syntax { column: usize, message: String },

    #[error("missing field `{field}`")]
    MissingField { field: &'static str },

    #[error(
        "unknown field `{key}` at column {column} (an event has exactly the 22 fields of the v1 format)"
    )]
    UnknownField { key: String, column: usize },

    #[error("duplicate field `{field}` at column {column}")]
    DuplicateField { field: &'static str, column: usize },

    #[error("field `{field}` at column {column}: expected {expected}, found {found}")]
    WrongType {
        field: &'static str,
        column: usize,
        expected: &'static str,
        found: String,
    },

    #[error("field `{field}` at column {column}: {value} is out of range for {ty} ({min}..={max})")]
    OutOfRange {
        field: &'static str,
        column: usize,
        value: String,
        ty: &'static str,
        min: String,
        max: String,
    },

    /// A string whose escapes do not spell valid Unicode (a lone surrogate such as
    /// `\ud800`); `column` is where the offending escape starts.
    #[error("field `{field}` at column {column}: not valid Unicode: {reason}")]
    InvalidString {
        field: &'static str,
        column: usize,
        reason: String,
    },

    #[error(
        "field `kind` at column {column}: unknown kind {value:?} (one of ToolCall, ToolResult, Message, Error, Cost, Hook, Lifecycle)"
    )]
    UnknownKind { value: String, column: usize },

    #[error(
        "field `source` at column {column}: unknown source {value:?} (one of Tail, Hook, Proxy)"
    )]
    UnknownSource { value: String, column: usize },

    #[error("invalid time {input:?}: {reason}")]
    InvalidTime { input: String, reason: String },
}

impl Error {
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
