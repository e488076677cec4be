//! Upstream kaizen's SQLite databases (`~/.kaizen/projects/<slug>/kaizen.db`, WAL mode):
//! each row of their `events` table is one [`Event`], one to one.
//!
//! # Mapping
//! The `events` table holds the 22 event fields under their own names (`session_id`, `seq`,
//! `ts_ms`, `ts_exact`, `kind`, `source`, `tool`, `tool_call_id`, `tokens_in`, `tokens_out`,
//! `reasoning_tokens`, `cost_usd_e6`, `payload`, `stop_reason`, `latency_ms`, `ttft_ms`,
//! `retry_count`, `context_used_tokens`, `context_max_tokens`, `cache_creation_tokens`,
//! `cache_read_tokens`, `system_prompt_tokens`) plus an integer `id`. Each field is copied
//! as it is: integers must be SQLite integers in the field's range (`ts_exact` 0 or 1,
//! `cost_usd_e6` any, negative for credits), `kind` and `source` text parsed by the core's
//! exact names, `NULL` only where the field is optional. Nothing is converted or priced: a
//! cost the row leaves `NULL` stays null. A value out of range, of another SQLite type, an
//! unknown kind or source, a `NULL` in a required field or a payload that is not JSON is
//! [`Error::Row`] naming the database, the table, the row's `id` and the column; with
//! [`ImportOptions::skip_invalid`] the row is left out instead, counted in
//! [`SourceReport::lines_skipped`] and listed in [`SourceReport::skipped`] (the cursor
//! moves past it: it stays in the database, not in the store).
//!
//! # Payload: the row's payload, exactly, in the import wrapper
//! Like every other source, the event's payload is a wrapper whose `record` is the
//! source's own text, byte for byte, with model, agent and project at its top level where
//! `kaizen report --by model|agent|project` and SQL (`json_get_text(payload, 'model')`)
//! read them:
//!
//! `{"import":"kaizen-db","agent":"claude","model":"claude-sonnet-4-5","project":"/home/u/app","record":<payload column>}`
//!
//! `agent`, `model` and `project` come from the row's session in the `sessions` table
//! (`agent`, `model`, `workspace`), each present only when that column exists and is not
//! `NULL`. The wrapper holds nothing of where the row was read (no database path, no row
//! `id`): the same event read from a copy of the database, or from another machine's, is
//! the same event, stored once and never a conflict. There is no `path` key either, so
//! export (which writes agent files back) leaves these events alone.
//!
//! # Identity and incremental import
//! Events keep their own `(session_id, seq)`, so importing a database twice, or a copy of
//! it, stores nothing twice. The [`Cursor`] of a database keeps the highest `id` imported
//! and that row's `(session_id, seq)` (in `state`); the next import reads only rows with a
//! greater `id`. When the row at that `id` is gone or holds another event (rows deleted at
//! the end, the database replaced, another machine's database under the same project
//! name), the database is read again from its first row ([`SourceReport::files_reread`]):
//! events already stored are stored once. Rows deleted upstream stay in the store (it is
//! the archive). A row changed upstream after its import is not read again; should it be
//! read again by a full re-read, its new content is an identity conflict the store
//! reports, never a silent replacement.
//!
//! # Read-only, beside a live writer
//! The database is opened read-only (`SQLITE_OPEN_READONLY`, `mode=ro`) and read in one
//! read transaction: a consistent snapshot of the committed rows, those still in the `-wal`
//! included, never a row of an open write transaction. The import never writes a page of
//! the database or of its `-wal`, never checkpoints and never deletes or creates a file:
//! - while a connection has the database open (its `-wal` and `-shm` exist), it follows
//!   SQLite's WAL protocol with the `-shm` mapped read-only (`readonly_shm=1`): not even a
//!   read mark is written (a plain read-only connection writes one; the WAL test saw it);
//! - when it has no `-wal` (no connection has it open: upstream's writer removes the `-wal`
//!   and `-shm` when it closes), the file alone holds every committed row: it is read as
//!   `immutable=1` (no lock, no `-wal` or `-shm` to create; SQLite would create both
//!   otherwise), and its size, modification time and inode are compared before and after;
//!   a change (a writer that opened and checkpointed meanwhile) is [`Error::Changed`], and
//!   the caller keeps nothing of the run;
//! - a `-wal` without its `-shm` (left by a crash, or copied without it): SQLite needs the
//!   index to read the `-wal`, and creates the `-shm` (the database and `-wal` stay as
//!   they are); in a folder the import may not write to, this is an error that says so.
//!
//! So a database on read-only media or in a read-only folder imports as long as it was
//! closed cleanly or its `-shm` is there.
//!
//! # Report
//! Per database: `files` 1, `lines` the rows read, `bytes` their text bytes, `events`,
//! `sessions`, `responses` (events carrying tokens), tokens as summed from the columns
//! (upstream has one cache-write figure: it is counted as 5-minute writes),
//! `cost_usd_e6` and `cost_reported` (events with a cost), tool calls and results.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use kaizen_core::{Event, EventKind, EventSource, MAX_TS_MS, Payload};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};

use crate::import::{FileImport, ImportOptions};
use crate::report::{MAX_SKIPPED_SHOWN, SourceReport};
use crate::util::push_json_str;
use crate::{Cursor, Error, Result, SinkError, SourceFile};

/// The `events` table's columns, in the order they are selected (after `id`).
const EVENT_COLUMNS: [&str; 22] = [
    "session_id",
    "seq",
    "ts_ms",
    "ts_exact",
    "kind",
    "source",
    "tool",
    "tool_call_id",
    "tokens_in",
    "tokens_out",
    "reasoning_tokens",
    "cost_usd_e6",
    "payload",
    "stop_reason",
    "latency_ms",
    "ttft_ms",
    "retry_count",
    "context_used_tokens",
    "context_max_tokens",
    "cache_creation_tokens",
    "cache_read_tokens",
    "system_prompt_tokens",
];

/// The text columns of `events`; every other one (and `id`) holds integers.
const TEXT_COLUMNS: [&str; 7] = [
    "session_id",
    "kind",
    "source",
    "tool",
    "tool_call_id",
    "payload",
    "stop_reason",
];

/// A connection waits this long for a lock a writer holds for a moment (WAL recovery).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the next import of a database goes on from (the cursor's `state`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct State {
    /// The highest `id` read (imported, or skipped as invalid).
    last_id: i64,
    /// The `(session_id, seq)` of that row, as text and integer: when the row at `last_id`
    /// no longer holds it, the database is read again from its start.
    last_key: Option<(String, i64)>,
}

/// Imports the rows of one database added since `cursor` (see the module docs).
pub(crate) fn import(
    file: &SourceFile,
    cursor: Option<&Cursor>,
    options: &ImportOptions,
    sink: &mut dyn FnMut(Vec<Event>) -> Result<(), SinkError>,
) -> Result<FileImport> {
    let path = file.path.as_path();
    if let Some(c) = cursor
        && (c.agent != file.agent || c.path != file.rel)
    {
        return Err(Error::CursorMismatch {
            path: file.path.clone(),
            cursor_agent: c.agent.name().to_owned(),
            cursor_path: c.path.clone(),
        });
    }
    let before = Stamp::of(path)?;
    if before.size == 0 {
        return Err(db_error(path, "an empty file, not a SQLite database"));
    }
    let previous = match cursor {
        Some(c) => Some(State::deserialize(&c.state).map_err(|e| Error::Changed {
            path: file.path.clone(),
            reason: format!("unreadable cursor state: {e}"),
        })?),
        None => None,
    };
    let db = open(path)?;
    // One read transaction: the sessions and the events are one snapshot.
    db.conn
        .execute_batch("BEGIN")
        .map_err(|e| sql_error(path, e))?;
    let schema = Schema::read(&db.conn, path)?;
    let sessions = schema.sessions(&db.conn, path)?;
    let mut report = SourceReport {
        files: 1,
        ..SourceReport::default()
    };
    let mut from = 0;
    if let Some(state) = &previous {
        if schema.still_there(&db.conn, path, state)? {
            from = state.last_id;
        } else {
            report.files_reread = 1;
        }
    }
    let mut read = Reader {
        path,
        options,
        sink,
        sessions: &sessions,
        report,
        chunk: Vec::new(),
        chunk_bytes: 0,
        bytes_reported: 0,
        last: previous.filter(|_| from > 0),
    };
    read.rows(&db.conn, from)?;
    read.flush()?;
    db.conn
        .execute_batch("COMMIT")
        .map_err(|e| sql_error(path, e))?;
    drop(db.conn);
    if db.immutable && Stamp::of(path)? != before {
        return Err(Error::Changed {
            path: file.path.clone(),
            reason: "another connection wrote it during a read that took it as immutable".into(),
        });
    }
    let mut report = read.report;
    if report.lines == 0 && report.files_reread == 0 && cursor.is_some() {
        report.files_unchanged = 1;
    }
    let rows_before = cursor.map_or(0, |c| c.lines);
    let state = read.last.unwrap_or(State {
        last_id: 0,
        last_key: None,
    });
    let cursor = Cursor {
        agent: file.agent,
        path: file.rel.clone(),
        size: before.size,
        mtime_ms: before.mtime_ms,
        head_len: 0,
        head_hash: 0,
        // The file's size when read: a progress bar's share of it is what it grew by since.
        consumed: before.size,
        lines: match report.files_reread {
            0 => rows_before + report.lines,
            _ => report.lines,
        },
        session_id: None,
        state: serde_json::to_value(&state).unwrap_or_default(),
        generation: 0,
    };
    Ok(FileImport { cursor, report })
}

/// A database opened for reading.
struct Db {
    conn: Connection,
    /// Opened as `immutable=1` (no other connection attached): check the file after.
    immutable: bool,
}

/// Opens `path` read-only, the way that writes nothing beside it (see the module docs).
fn open(path: &Path) -> Result<Db> {
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
struct Stamp {
    size: u64,
    mtime_ms: Option<i64>,
    modified: Option<std::time::SystemTime>,
    inode: u64,
}

impl Stamp {
    fn of(path: &Path) -> Result<Stamp> {
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

fn db_error(path: &Path, reason: impl Into<String>) -> Error {
    Error::Database {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

fn sql_error(path: &Path, e: rusqlite::Error) -> Error {
    db_error(path, e.to_string())
}

fn schema_error(path: &Path, table: &str, column: Option<&str>, reason: String) -> Error {
    Error::Schema {
        path: path.to_owned(),
        table: table.to_owned(),
        column: column.map(str::to_owned),
        reason,
    }
}

/// A column's declared type, by SQLite's affinity rules (section 3.1 of its datatype doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Affinity {
    Integer,
    Text,
    Blob,
    Real,
    Numeric,
}

fn affinity(declared: &str) -> Affinity {
    let t = declared.to_ascii_uppercase();
    if t.contains("INT") {
        Affinity::Integer
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
        Affinity::Text
    } else if t.contains("BLOB") || t.is_empty() {
        Affinity::Blob
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
        Affinity::Real
    } else {
        Affinity::Numeric
    }
}

/// The columns of one table: lower-cased name → declared type.
fn table_columns(conn: &Connection, path: &Path, table: &str) -> Result<HashMap<String, String>> {
    let mut stmt = conn
        .prepare(&format!("PRAGMA table_info({table})"))
        .map_err(|e| sql_error(path, e))?;
    let rows = stmt
        .query_map([], |row| {
            Ok((row.get::<_, String>(1)?, row.get::<_, Option<String>>(2)?))
        })
        .map_err(|e| sql_error(path, e))?;
    let mut out = HashMap::new();
    for row in rows {
        let (name, ty) = row.map_err(|e| sql_error(path, e))?;
        out.insert(name.to_ascii_lowercase(), ty.unwrap_or_default());
    }
    Ok(out)
}

/// What the import reads of a database: checked before any row is.
struct Schema {
    /// The `sessions` column that `events.session_id` refers to (`session_id` or `id`).
    session_key: &'static str,
    /// `model`, `agent`, `workspace`: whether `sessions` has each.
    model: bool,
    agent: bool,
    workspace: bool,
}

impl Schema {
    /// Checks that `events` has `id` and the 22 fields with fitting declared types, and
    /// finds the `sessions` columns. Errors: [`Error::Schema`] naming the table and column.
    fn read(conn: &Connection, path: &Path) -> Result<Schema> {
        let events = table_columns(conn, path, "events")?;
        if events.is_empty() {
            return Err(schema_error(
                path,
                "events",
                None,
                "no such table: not an upstream kaizen database".into(),
            ));
        }
        for name in std::iter::once("id").chain(EVENT_COLUMNS) {
            let Some(declared) = events.get(name) else {
                return Err(schema_error(
                    path,
                    "events",
                    Some(name),
                    "missing (upstream kaizen's events table has the 22 event fields and an id)"
                        .into(),
                ));
            };
            let text = TEXT_COLUMNS.contains(&name);
            let fits = match affinity(declared) {
                Affinity::Integer => !text,
                Affinity::Text => text,
                // Undeclared, or a type name such as JSON or BOOLEAN: each value's own type
                // is checked row by row.
                Affinity::Blob | Affinity::Numeric => {
                    declared.is_empty() || !text || name == "payload"
                }
                Affinity::Real => false,
            };
            if !fits {
                let expected = if text { "text" } else { "an integer type" };
                return Err(schema_error(
                    path,
                    "events",
                    Some(name),
                    format!("declared {declared}, expected {expected}"),
                ));
            }
        }
        let sessions = table_columns(conn, path, "sessions")?;
        if sessions.is_empty() {
            return Err(schema_error(
                path,
                "sessions",
                None,
                "no such table (upstream kaizen keeps model, agent and workspace there)".into(),
            ));
        }
        let session_key = if sessions.contains_key("session_id") {
            "session_id"
        } else if sessions.contains_key("id") {
            "id"
        } else {
            return Err(schema_error(
                path,
                "sessions",
                Some("id"),
                "missing: neither id nor session_id names the session".into(),
            ));
        };
        Ok(Schema {
            session_key,
            model: sessions.contains_key("model"),
            agent: sessions.contains_key("agent"),
            workspace: sessions.contains_key("workspace"),
        })
    }

    /// Every session's model, agent and project, by session id. Errors: a value that is not
    /// text, or one session listed twice with different values.
    fn sessions(&self, conn: &Connection, path: &Path) -> Result<HashMap<String, Attrs>> {
        let col = |present: bool, name: &str| match present {
            true => name.to_owned(),
            false => "NULL".to_owned(),
        };
        let sql = format!(
            "SELECT {}, {}, {}, {} FROM sessions",
            self.session_key,
            col(self.model, "model"),
            col(self.agent, "agent"),
            col(self.workspace, "workspace")
        );
        let mut stmt = conn.prepare(&sql).map_err(|e| sql_error(path, e))?;
        let mut rows = stmt.query([]).map_err(|e| sql_error(path, e))?;
        let mut out: HashMap<String, Attrs> = HashMap::new();
        while let Some(row) = rows.next().map_err(|e| sql_error(path, e))? {
            let key = match row.get_ref(0).map_err(|e| sql_error(path, e))? {
                ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                ValueRef::Integer(i) => i.to_string(),
                // A session without a key names no event's session.
                _ => continue,
            };
            let text = |i: usize, column: &str| -> Result<Option<String>> {
                match row.get_ref(i).map_err(|e| sql_error(path, e))? {
                    ValueRef::Null => Ok(None),
                    ValueRef::Text(t) => std::str::from_utf8(t)
                        .map(|s| Some(s.to_owned()))
                        .map_err(|_| {
                            row_error(
                                path,
                                "sessions",
                                &session_row(&key),
                                column,
                                "invalid UTF-8",
                            )
                        }),
                    other => Err(row_error(
                        path,
                        "sessions",
                        &session_row(&key),
                        column,
                        &format!("{}, expected text", type_name(other)),
                    )),
                }
            };
            let attrs = Attrs {
                model: text(1, "model")?,
                agent: text(2, "agent")?,
                project: text(3, "workspace")?,
            };
            if let Some(seen) = out.get(&key)
                && *seen != attrs
            {
                return Err(row_error(
                    path,
                    "sessions",
                    &session_row(&key),
                    self.session_key,
                    "two rows for this session with different model, agent or workspace",
                ));
            }
            out.insert(key, attrs);
        }
        Ok(out)
    }

    /// Whether the row at the cursor's `last_id` still holds the event it held.
    fn still_there(&self, conn: &Connection, path: &Path, state: &State) -> Result<bool> {
        let mut stmt = conn
            .prepare("SELECT session_id, seq FROM events WHERE id = ?1")
            .map_err(|e| sql_error(path, e))?;
        let mut rows = stmt
            .query([state.last_id])
            .map_err(|e| sql_error(path, e))?;
        let Some(row) = rows.next().map_err(|e| sql_error(path, e))? else {
            return Ok(false);
        };
        // A row left out as invalid may have no key: that its id is still there is all
        // that can be checked.
        let Some((session, seq)) = &state.last_key else {
            return Ok(true);
        };
        let same = matches!(
            (row.get_ref(0), row.get_ref(1)),
            (Ok(ValueRef::Text(s)), Ok(ValueRef::Integer(q))) if s == session.as_bytes() && q == *seq
        );
        Ok(same)
    }
}

fn session_row(key: &str) -> String {
    format!("session {key:?}")
}

/// A session's attributes, put in its events' payload wrapper.
#[derive(Debug, Clone, PartialEq, Default)]
struct Attrs {
    model: Option<String>,
    agent: Option<String>,
    project: Option<String>,
}

fn row_error(path: &Path, table: &str, row: &str, column: &str, reason: &str) -> Error {
    Error::Row {
        path: path.to_owned(),
        table: table.to_owned(),
        row: row.to_owned(),
        column: column.to_owned(),
        reason: reason.to_owned(),
    }
}

fn type_name(v: ValueRef<'_>) -> String {
    match v {
        ValueRef::Null => "NULL".into(),
        ValueRef::Integer(i) => format!("the integer {i}"),
        ValueRef::Real(r) => format!("the real {r}"),
        ValueRef::Text(_) => "text".into(),
        ValueRef::Blob(b) => format!("a blob of {} bytes", b.len()),
    }
}

/// Reads rows into events and hands them to the sink in chunks.
struct Reader<'a> {
    path: &'a Path,
    options: &'a ImportOptions,
    sink: &'a mut dyn FnMut(Vec<Event>) -> Result<(), SinkError>,
    sessions: &'a HashMap<String, Attrs>,
    report: SourceReport,
    chunk: Vec<Event>,
    chunk_bytes: usize,
    bytes_reported: u64,
    /// The last row read.
    last: Option<State>,
}

/// A row's value that cannot be its field: the column and why.
type Bad = (&'static str, String);

impl Reader<'_> {
    fn rows(&mut self, conn: &Connection, from: i64) -> Result<()> {
        let sql = format!(
            "SELECT id, {} FROM events WHERE id > ?1 ORDER BY id",
            EVENT_COLUMNS.join(", ")
        );
        let path = self.path;
        let mut stmt = conn.prepare(&sql).map_err(|e| sql_error(path, e))?;
        let mut rows = stmt.query([from]).map_err(|e| sql_error(path, e))?;
        while let Some(row) = rows.next().map_err(|e| sql_error(path, e))? {
            let mut values: [ValueRef<'_>; 23] = [ValueRef::Null; 23];
            for (i, v) in values.iter_mut().enumerate() {
                *v = row.get_ref(i).map_err(|e| sql_error(path, e))?;
            }
            let id = match values[0] {
                ValueRef::Integer(id) => id,
                other => {
                    // `WHERE id > ?` also matches text ids; they cannot be a cursor.
                    return Err(row_error(
                        path,
                        "events",
                        &format!("at id {}", type_name(other)),
                        "id",
                        "not an integer",
                    ));
                }
            };
            self.report.lines += 1;
            self.report.bytes += values
                .iter()
                .map(|v| match v {
                    ValueRef::Text(t) | ValueRef::Blob(t) => t.len() as u64,
                    ValueRef::Null => 0,
                    _ => 8,
                })
                .sum::<u64>();
            let key = match (values[1], values[2]) {
                (ValueRef::Text(s), ValueRef::Integer(q)) => {
                    Some((String::from_utf8_lossy(s).into_owned(), q))
                }
                _ => None,
            };
            self.last = Some(State {
                last_id: id,
                last_key: key,
            });
            match self.event(&values[1..]) {
                Ok(event) => self.push(event)?,
                Err((column, reason)) => {
                    let row = format!("id {id}");
                    let e = row_error(path, "events", &row, column, &reason);
                    if !self.options.skip_invalid {
                        return Err(e);
                    }
                    self.report.lines_skipped += 1;
                    if self.report.skipped.len() < MAX_SKIPPED_SHOWN {
                        self.report.skipped.push(e.to_string());
                    }
                }
            }
        }
        Ok(())
    }

    /// The event of one row (`v`: the 22 columns in [`EVENT_COLUMNS`] order).
    fn event(&self, v: &[ValueRef<'_>]) -> std::result::Result<Event, Bad> {
        let session_id = text(v, 0)?.ok_or_else(|| null(0))?;
        let seq = int(v, 1, 0, i64::MAX)?.ok_or_else(|| null(1))? as u64;
        let ts_ms =
            int(v, 2, 0, MAX_TS_MS.min(i64::MAX as u64) as i64)?.ok_or_else(|| null(2))? as u64;
        let ts_exact = int(v, 3, 0, 1)?.ok_or_else(|| null(3))? == 1;
        let kind_name = text(v, 4)?.ok_or_else(|| null(4))?;
        let kind = EventKind::from_name(&kind_name)
            .ok_or_else(|| (EVENT_COLUMNS[4], format!("unknown kind {kind_name:?}")))?;
        let source_name = text(v, 5)?.ok_or_else(|| null(5))?;
        let source = EventSource::from_name(&source_name)
            .ok_or_else(|| (EVENT_COLUMNS[5], format!("unknown source {source_name:?}")))?;
        let u32_at = |i: usize| int(v, i, 0, u32::MAX.into()).map(|o| o.map(|x| x as u32));
        let record = text(v, 12)?.ok_or_else(|| null(12))?;
        let payload = self
            .payload(&session_id, &record)
            .map_err(|reason| (EVENT_COLUMNS[12], reason))?;
        let mut event = Event::new(session_id, seq, ts_ms, kind, source);
        event.ts_exact = ts_exact;
        event.tool = text(v, 6)?;
        event.tool_call_id = text(v, 7)?;
        event.tokens_in = u32_at(8)?;
        event.tokens_out = u32_at(9)?;
        event.reasoning_tokens = u32_at(10)?;
        event.cost_usd_e6 = int(v, 11, i64::MIN, i64::MAX)?;
        event.payload = payload;
        event.stop_reason = text(v, 13)?;
        event.latency_ms = u32_at(14)?;
        event.ttft_ms = u32_at(15)?;
        event.retry_count = int(v, 16, 0, u16::MAX.into())?.map(|x| x as u16);
        event.context_used_tokens = u32_at(17)?;
        event.context_max_tokens = u32_at(18)?;
        event.cache_creation_tokens = u32_at(19)?;
        event.cache_read_tokens = u32_at(20)?;
        event.system_prompt_tokens = u32_at(21)?;
        event
            .validate()
            .map_err(|e| (EVENT_COLUMNS[2], e.to_string()))?;
        Ok(event)
    }

    /// The wrapper around the row's payload text (kept exactly), with its session's
    /// attributes. Errors: the text is not one JSON value.
    fn payload(&self, session_id: &str, record: &str) -> std::result::Result<Payload, String> {
        serde_json::from_str::<serde::de::IgnoredAny>(record)
            .map_err(|e| format!("not JSON at column {}: {e}", e.column()))?;
        let attrs = self.sessions.get(session_id);
        let mut text = String::with_capacity(record.len() + 160);
        text.push_str("{\"import\":\"kaizen-db\"");
        if let Some(a) = attrs {
            for (key, value) in [
                ("agent", &a.agent),
                ("model", &a.model),
                ("project", &a.project),
            ] {
                if let Some(value) = value {
                    text.push_str(",\"");
                    text.push_str(key);
                    text.push_str("\":");
                    push_json_str(&mut text, value);
                }
            }
        }
        text.push_str(",\"record\":");
        text.push_str(record);
        text.push('}');
        Payload::from_json_text(text).map_err(|e| format!("not JSON: {e}"))
    }

    fn push(&mut self, e: Event) -> Result<()> {
        let r = &mut self.report;
        r.events += 1;
        if !r.sessions.contains(&e.session_id) {
            r.sessions.insert(e.session_id.clone());
        }
        let tokens = [
            e.tokens_in,
            e.tokens_out,
            e.cache_read_tokens,
            e.cache_creation_tokens,
        ];
        if tokens.iter().any(Option::is_some) {
            r.responses += 1;
        }
        r.input += u64::from(e.tokens_in.unwrap_or(0));
        r.output += u64::from(e.tokens_out.unwrap_or(0));
        r.reasoning += u64::from(e.reasoning_tokens.unwrap_or(0));
        r.cache_read += u64::from(e.cache_read_tokens.unwrap_or(0));
        r.cache_creation_5m += u64::from(e.cache_creation_tokens.unwrap_or(0));
        if let Some(cost) = e.cost_usd_e6 {
            r.cost_usd_e6 += cost;
            r.cost_reported += 1;
        }
        match e.kind {
            EventKind::ToolCall => r.tool_calls += 1,
            EventKind::ToolResult => r.tool_results += 1,
            _ => {}
        }
        self.chunk_bytes += e.payload.as_json_text().len() + 64;
        self.chunk.push(e);
        if self.chunk.len() >= self.options.chunk_events.max(1)
            || self.chunk_bytes >= self.options.chunk_bytes
        {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if let Some(hook) = &self.options.on_bytes
            && self.report.bytes > self.bytes_reported
        {
            (hook.0)(self.report.bytes - self.bytes_reported);
            self.bytes_reported = self.report.bytes;
        }
        if self.chunk.is_empty() {
            return Ok(());
        }
        self.chunk_bytes = 0;
        let chunk = std::mem::take(&mut self.chunk);
        (self.sink)(chunk).map_err(Error::Sink)
    }
}

fn null(i: usize) -> Bad {
    (EVENT_COLUMNS[i], "NULL in a required field".into())
}

/// Column `i` as text; `None` for NULL. Errors: another SQLite type, invalid UTF-8.
fn text(v: &[ValueRef<'_>], i: usize) -> std::result::Result<Option<String>, Bad> {
    match v[i] {
        ValueRef::Null => Ok(None),
        ValueRef::Text(t) => std::str::from_utf8(t)
            .map(|s| Some(s.to_owned()))
            .map_err(|e| {
                (
                    EVENT_COLUMNS[i],
                    format!("invalid UTF-8 at byte {}", e.valid_up_to() + 1),
                )
            }),
        other => Err((
            EVENT_COLUMNS[i],
            format!("{}, expected text", type_name(other)),
        )),
    }
}

/// Column `i` as an integer in `min..=max`; `None` for NULL. Errors: another SQLite type,
/// out of range.
fn int(v: &[ValueRef<'_>], i: usize, min: i64, max: i64) -> std::result::Result<Option<i64>, Bad> {
    match v[i] {
        ValueRef::Null => Ok(None),
        ValueRef::Integer(x) if (min..=max).contains(&x) => Ok(Some(x)),
        ValueRef::Integer(x) => Err((
            EVENT_COLUMNS[i],
            format!("{x} is out of range {min}..={max}"),
        )),
        other => Err((
            EVENT_COLUMNS[i],
            format!("{}, expected an integer", type_name(other)),
        )),
    }
}
