//! Opening a database read-only, the way that writes nothing beside it (see the parent
//! module's docs), and telling whether the file was written meanwhile.

use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use rusqlite::{Connection, OpenFlags};

use super::db_error;
use crate::{Error, Result};

/// A connection waits this long for a lock a writer holds for a moment (WAL recovery).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A database opened for reading.
pub(super) struct Db {
    pub(super) conn: Connection,
    /// Opened as `immutable=1` (no other connection attached): check the file after.
    pub(super) immutable: bool,
}

/// Opens `path` read-only, the way that writes nothing beside it (see the module docs).
pub(super) fn open(path: &Path) -> Result<Db> {
    let side = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        std::path::PathBuf::from(name)
    };
    let (wal, shm) = (side("-wal").exists(), side("-shm").exists());
    let (params, immutable) = match (wal, shm) {
        (true, true) => ("mode=ro&readonly_shm=1", false),
        // No -wal: every committed row is in the file (SQLite would create a -wal to look).
        (false, _) => ("mode=ro&immutable=1", true),
        (true, false) => ("mode=ro", false),
    };
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let failed = |e: rusqlite::Error| {
        let mut reason = e.to_string();
        if wal && !shm {
            reason.push_str(
                " (it has a -wal but no -shm: SQLite must create the -shm beside it to read \
                 the -wal; copy the database with its -wal to a folder you may write to)",
            );
        }
        db_error(path, reason)
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
