use thiserror::Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every error of the store. Each names the file (path inside the store), column or key at fault.
#[derive(Debug, Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },

    #[error("{path}: already exists (a file is written once and never replaced)")]
    AlreadyExists { path: String },

    #[error("{path}: not found")]
    NotFound { path: String },

    #[error("{path}: not a readable Parquet file: {source}")]
    Parquet {
        path: String,
        #[source]
        source: parquet::errors::ParquetError,
    },

    #[error("{path}: {source}")]
    Arrow {
        path: String,
        #[source]
        source: arrow::error::ArrowError,
    },

    #[error("{path}: column `{column}`: {detail}")]
    Column {
        path: String,
        column: String,
        detail: String,
    },

    #[error("{path}: footer key `{key}`: {detail}")]
    FooterKey {
        path: String,
        key: String,
        detail: String,
    },

    #[error("{path}: row {row} has ts_ms {ts_ms}, which is not in its day {day}")]
    WrongDay {
        path: String,
        row: usize,
        ts_ms: u64,
        day: String,
    },

    #[error(
        "identity conflict: two different events are stored as (session_id {session_id:?}, seq {seq}), in {first} and {second}"
    )]
    Conflict {
        session_id: String,
        seq: u64,
        first: String,
        second: String,
    },

    #[error("event (session_id {session_id:?}, seq {seq}): {source}")]
    InvalidEvent {
        session_id: String,
        seq: u64,
        #[source]
        source: Box<kaizen_core::Error>,
    },

    /// A commit that failed after publishing some of its files: those stay (whole, and a
    /// rerun does not duplicate them); the rest were removed.
    #[error("{source} (after {} of the run's files were published)", published.len())]
    PartlyPublished {
        published: Vec<String>,
        source: Box<Error>,
    },

    /// A file published without error that a listing of its folder does not show: what
    /// was written is where no reader looks (the store's location derived one way for
    /// writing and another for reading). The file is left where it is.
    #[error(
        "{path}: published, but a listing of {dir} does not show it: readers of this store would not find it"
    )]
    NotVisible { path: String, dir: String },

    /// An unordered scan's day lost a file (a compaction or prune replaced it) after the
    /// scan gave rows of it: with no order to resume from, the scan stops rather than give
    /// an event twice or miss one. Scanning again reads the day as it now is.
    #[error(
        "day {day} changed while an unordered scan read it (a compaction or prune ran): scan again"
    )]
    ChangedUnderScan { day: String },

    #[error("copy to {target}: {detail}")]
    CopyMismatch { target: String, detail: String },

    #[error("unknown column `{0}` (the columns are the 22 event fields)")]
    UnknownColumn(String),

    #[error("store URL {url:?}: {reason}")]
    Url { url: String, reason: String },

    #[error("{path}: {source}")]
    ObjectStore {
        path: String,
        #[source]
        source: object_store::Error,
    },
}

impl Error {
    /// A file that cannot be read as data: damaged, truncated, of another schema or day.
    pub fn is_corrupt_file(&self) -> bool {
        matches!(
            self,
            Error::Parquet { .. }
                | Error::Arrow { .. }
                | Error::Column { .. }
                | Error::FooterKey { .. }
                | Error::WrongDay { .. }
        )
    }

    /// A file listed a moment ago is gone (a compaction or prune removed it).
    pub fn is_vanished_file(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }

    /// A Parquet reader's error; one that came from the backend is given back as it was.
    pub(crate) fn from_parquet(path: &str, e: parquet::errors::ParquetError) -> Self {
        match e {
            parquet::errors::ParquetError::External(inner) => match inner.downcast::<Error>() {
                Ok(ours) => *ours,
                Err(other) => Error::parquet(path, parquet::errors::ParquetError::External(other)),
            },
            other => Error::parquet(path, other),
        }
    }

    pub(crate) fn io(path: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn parquet(path: impl Into<String>, source: parquet::errors::ParquetError) -> Self {
        Error::Parquet {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn arrow(path: impl Into<String>, source: arrow::error::ArrowError) -> Self {
        Error::Arrow {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn column(
        path: impl Into<String>,
        column: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Error::Column {
            path: path.into(),
            column: column.into(),
            detail: detail.into(),
        }
    }
}
