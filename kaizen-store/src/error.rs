use thiserror::Error;

/// `Result` with the store's [`enum@Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every error of the store. Each names the file (path inside the store), column or key at fault.
#[derive(Debug, Error)]
pub enum Error {
    /// The file system refused (a local store, or a staging file).
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },

    /// Publishing found a file under the name: a file is written once and never
    /// replaced, so nothing is overwritten, whoever was first.
    #[error("{path}: already exists (a file is written once and never replaced)")]
    AlreadyExists {
        /// The file's path in the store.
        path: String,
    },

    /// A file is not there (listed a moment ago and removed since, by a compaction or a
    /// prune: see [`Error::is_vanished_file`]).
    #[error("{path}: not found")]
    NotFound {
        /// The file's path in the store.
        path: String,
    },

    /// A data file that Parquet cannot read (truncated, damaged, not Parquet).
    #[error("{path}: not a readable Parquet file: {source}")]
    Parquet {
        /// The file's path in the store.
        path: String,
        /// The Parquet reader's or writer's error.
        #[source]
        source: parquet::errors::ParquetError,
    },

    /// Arrow refused a batch read from or written to a file.
    #[error("{path}: {source}")]
    Arrow {
        /// The file's path in the store.
        path: String,
        /// Arrow's error.
        #[source]
        source: arrow::error::ArrowError,
    },

    /// A column missing, of another type, or holding a value the event model refuses
    /// (a null in a required column, an unknown kind): the file is of another schema or
    /// damaged, never read as something else.
    #[error("{path}: column `{column}`: {detail}")]
    Column {
        /// The file's path in the store.
        path: String,
        /// The column's name.
        column: String,
        /// What is wrong (the row, the value, the type).
        detail: String,
    },

    /// A key of the file's footer metadata (`kaizen_schema_v`, `kaizen_identities`…)
    /// that does not say what kaizen wrote.
    #[error("{path}: footer key `{key}`: {detail}")]
    FooterKey {
        /// The file's path in the store.
        path: String,
        /// The metadata key.
        key: String,
        /// What is wrong with its value.
        detail: String,
    },

    /// A row dated outside the day its file's path names: reading it there would put it
    /// in the wrong partition of every query.
    #[error("{path}: row {row} has ts_ms {ts_ms}, which is not in its day {day}")]
    WrongDay {
        /// The file's path in the store.
        path: String,
        /// The row's 0-based index in the file.
        row: usize,
        /// The row's time, ms since the epoch.
        ts_ms: u64,
        /// The day of the file's path (`YYYY-MM-DD`).
        day: String,
    },

    /// Two different events with one identity: the store keeps one event per identity,
    /// and which of the two is right is not for it to guess.
    #[error(
        "identity conflict: two different events are stored as (session_id {session_id:?}, seq {seq}), in {first} and {second}"
    )]
    Conflict {
        /// The identity's session.
        session_id: String,
        /// The identity's seq.
        seq: u64,
        /// Where the first version is (a stored file, or the writer's input).
        first: String,
        /// Where the second is.
        second: String,
    },

    /// An event handed to a writer that the event model refuses (a time past 9999).
    #[error("event (session_id {session_id:?}, seq {seq}): {source}")]
    InvalidEvent {
        /// The event's session.
        session_id: String,
        /// The event's seq.
        seq: u64,
        /// What is wrong with it.
        #[source]
        source: Box<kaizen_core::Error>,
    },

    /// A rewrite's function gave back an event that is not a version of the one it was
    /// given: a rewrite replaces an event's content, never its identity or its time.
    #[error("rewrite of (session_id {session_id:?}, seq {seq}): {reason}")]
    Rewrite {
        /// The event's session.
        session_id: String,
        /// The event's seq.
        seq: u64,
        /// What the replacement changed.
        reason: String,
    },

    /// A commit that failed after publishing some of its files: those stay (whole, and a
    /// rerun does not duplicate them); the rest were removed.
    #[error("{source} (after {} of the run's files were published)", published.len())]
    PartlyPublished {
        /// The files that were published (paths in the store).
        published: Vec<String>,
        /// Why the commit stopped.
        source: Box<Error>,
    },

    /// A file published without error that a listing of its folder does not show: what
    /// was written is where no reader looks (the store's location derived one way for
    /// writing and another for reading). The file is left where it is.
    #[error(
        "{path}: published, but a listing of {dir} does not show it: readers of this store would not find it"
    )]
    NotVisible {
        /// The published file's path.
        path: String,
        /// The folder whose listing lacks it.
        dir: String,
    },

    /// An unordered scan's day lost a file (a compaction or prune replaced it) after the
    /// scan gave rows of it: with no order to resume from, the scan stops rather than give
    /// an event twice or miss one. Scanning again reads the day as it now is.
    #[error(
        "day {day} changed while an unordered scan read it (a compaction or prune ran): scan again"
    )]
    ChangedUnderScan {
        /// The day (`YYYY-MM-DD`).
        day: String,
    },

    /// A copy whose target holds a file of the same name with other content (or reads
    /// back other than written): never replaced, never counted as copied.
    #[error("copy to {target}: {detail}")]
    CopyMismatch {
        /// The target store's location.
        target: String,
        /// The file and the difference.
        detail: String,
    },

    /// A column name that is none of the 22 fields (a query's projection).
    #[error("unknown column `{0}` (the columns are the 22 event fields)")]
    UnknownColumn(String),

    /// A store URL that cannot be opened (unknown scheme, bad option, no bucket…); the
    /// reason never includes a secret.
    #[error("store URL {url:?}: {reason}")]
    Url {
        /// The URL as given (credentials are never part of it).
        url: String,
        /// What is wrong.
        reason: String,
    },

    /// The object store (S3, GCS, Azure, memory) refused or failed a request.
    #[error("{path}: {source}")]
    ObjectStore {
        /// The object's path in the store.
        path: String,
        /// object_store's error.
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
