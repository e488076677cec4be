//! Opening a database read-only, the way that writes nothing beside it (see the parent
//! module's docs), and telling whether the file was written meanwhile.

use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use rusqlite::{Connection, OpenFlags};

use super::{db_error, sql_error};
use crate::{Error, Result};

/// A connection waits this long for a lock a writer holds (a rollback-journal writer
/// committing, WAL recovery) before the import gives up with an error naming the database.
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A database opened for reading.
pub(super) struct Db {
    pub(super) conn: Connection,
    /// Opened as `immutable=1` (no other connection attached): check the file after.
    pub(super) immutable: bool,
}

/// How a database keeps its transactions, from its header (bytes 18 and 19, the file
/// format's write and read versions: 1 legacy, a rollback journal; 2 WAL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Journal {
    /// A rollback journal (`journal_mode` DELETE, TRUNCATE, PERSIST, MEMORY, OFF): a
    /// writer changes the file itself, and readers take SQLite's shared lock.
    Rollback,
    /// Write-ahead logging: a writer appends to the `-wal`, the file changes only at a
    /// checkpoint.
    Wal,
}

/// The SQLite header's first 16 bytes.
const MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// The journal mode of the database at `path`, from its 100-byte header. Errors: a file
/// that is not a SQLite database, or of a format version SQLite does not write.
pub(super) fn journal_of(path: &Path) -> Result<Journal> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut header = Vec::with_capacity(100);
    file.take(100)
        .read_to_end(&mut header)
        .map_err(|e| Error::io(path, e))?;
    if header.len() < 100 || !header.starts_with(MAGIC) {
        return Err(db_error(
            path,
            format!(
                "not a SQLite database (its {} first bytes are not a SQLite header)",
                header.len()
            ),
        ));
    }
    match (header[18], header[19]) {
        (1, 1) => Ok(Journal::Rollback),
        (2, 2) => Ok(Journal::Wal),
        (w, r) => Err(db_error(
            path,
            format!(
                "file format versions {w} (write) and {r} (read) in its header; SQLite writes 1 (rollback journal) or 2 (WAL)"
            ),
        )),
    }
}

/// Opens `path` read-only, the way that writes nothing beside it (see the module docs).
pub(super) fn open(path: &Path) -> Result<Db> {
    let side = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        std::path::PathBuf::from(name)
    };
    let journal = journal_of(path)?;
    let (wal, shm) = (side("-wal").exists(), side("-shm").exists());
    let (params, immutable) = match (journal, wal, shm) {
        (_, true, true) => ("mode=ro&readonly_shm=1", false),
        // WAL mode and no -wal: no connection has it open, every committed row is in the
        // file (SQLite would create a -wal and -shm to look). A writer that opens it
        // meanwhile is seen by the check after the read.
        (Journal::Wal, false, _) => ("mode=ro&immutable=1", true),
        // A -wal without its -shm: SQLite creates the -shm (it cannot read the -wal
        // without that index).
        (Journal::Wal, true, false) => ("mode=ro", false),
        // A rollback journal: SQLite's shared lock, so a writer's uncommitted pages in the
        // file are never read (it waits for the writer, up to the busy timeout), and a hot
        // `-journal` is an error. Nothing is created in this mode.
        (Journal::Rollback, _, _) => ("mode=ro", false),
    };
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let failed = |e: rusqlite::Error| {
        let hint = (wal && !shm && journal == Journal::Wal).then_some(
            " (it has a -wal but no -shm: SQLite must create the -shm beside it to read \
             the -wal; copy the database with its -wal to a folder you may write to)",
        );
        let mut error = sql_error(path, e);
        if let (Error::Database { reason, .. }, Some(hint)) = (&mut error, hint) {
            reason.push_str(hint);
        }
        error
    };
    let conn = Connection::open_with_flags(file_uri(path, params), flags).map_err(failed)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(failed)?;
    // SQLite opens lazily: read the schema now, so that a database it cannot open is
    // reported here, with the hint.
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
        .map_err(failed)?;
    Ok(Db { conn, immutable })
}

/// A `file:` URI naming `path` (made absolute), every byte outside the unreserved set
/// percent-encoded (so `?`, `#`, `%` and non-UTF-8 names are safe), with `params`.
fn file_uri(path: &Path, params: &str) -> String {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    #[cfg(unix)]
    let bytes = {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes().to_vec()
    };
    #[cfg(not(unix))]
    let bytes = {
        let text = path.to_string_lossy().replace('\\', "/");
        // `C:/x` is `file:/C:/x`.
        let text = match text.as_bytes().get(1) {
            Some(b':') => format!("/{text}"),
            _ => text,
        };
        text.into_bytes()
    };
    let mut uri = String::with_capacity(bytes.len() + params.len() + 8);
    // An empty authority: `file:///abs/path`.
    uri.push_str("file://");
    for b in bytes {
        if b.is_ascii_alphanumeric() || b"/-._~:".contains(&b) {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri.push('?');
    uri.push_str(params);
    uri
}

/// What tells a file was written: its size, modification time and inode.
#[derive(Debug, PartialEq)]
pub(super) struct Stamp {
    pub(super) size: u64,
    pub(super) mtime_ms: Option<i64>,
    modified: Option<std::time::SystemTime>,
    inode: u64,
}

impl Stamp {
    pub(super) fn of(path: &Path) -> Result<Stamp> {
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        let modified = meta.modified().ok();
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(&meta);
        #[cfg(not(unix))]
        let inode = 0;
        Ok(Stamp {
            size: meta.len(),
            mtime_ms: modified
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_millis() as i64),
            modified,
            inode,
        })
    }
}
