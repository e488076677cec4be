//! Upstream kaizen's SQLite databases (`~/.kaizen/projects/<slug>/kaizen.db`, WAL mode, or
//! a rollback journal):
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
//! [`ImportOptions::skip_invalid`] the row is left out instead (not stored, unlike a line
//! kept as text), counted in [`SourceReport::lines_skipped`] and listed in
//! [`SourceReport::left_out`] (the cursor moves past it: it stays in the database, not in
//! the store).
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
//! read transaction: a consistent snapshot of the committed rows, never a row of an open
//! write transaction. How it is opened depends on its journal mode, read from its header
//! (bytes 18 and 19: 1 a rollback journal, 2 WAL; see SQLite's file format) and on the
//! files beside it:
//! - **WAL, `-wal` and `-shm` present** (a connection has it open): SQLite's WAL protocol
//!   with the `-shm` mapped read-only (`readonly_shm=1`): committed rows still in the
//!   `-wal` are read, and not even a read mark is written (a plain read-only connection
//!   writes one; the WAL test saw it).
//! - **WAL, no `-wal`** (no connection has it open: upstream's writer removes the `-wal`
//!   and `-shm` when it closes): the file alone holds every committed row; it is read as
//!   `immutable=1` (no lock, no `-wal` or `-shm` to create; SQLite would create both
//!   otherwise), and its size, modification time and inode are compared before and after;
//!   a change (a writer that opened and checkpointed meanwhile) is [`Error::Changed`], and
//!   the caller keeps nothing of the run.
//! - **WAL, a `-wal` without its `-shm`** (left by a crash, or copied without it): SQLite
//!   needs the index to read the `-wal` and **creates the `-shm`** beside it (the database
//!   and `-wal` stay as they are): the one case where the import creates a file. In a
//!   folder it may not write to, this is an error that says so.
//! - **Rollback journal** (`journal_mode` DELETE, TRUNCATE, PERSIST…): never `immutable`
//!   (a writer changes the file itself: a transaction whose pages spilled into the file
//!   before its commit would be read, and stored, then rolled back). Opened `mode=ro`
//!   normally: SQLite's shared lock, so the import sees only committed rows; it waits up to
//!   5 s for a writer's lock, then stops with an error naming the database (nothing read).
//!   A hot `-journal` (a writer stopped mid-transaction) must be rolled back before the
//!   file can be read, which a read-only connection does not do: an error that says so.
//!   Nothing is created in this mode. Unlike WAL, the import's read lock holds a writer's
//!   commit back while it reads (upstream kaizen itself uses WAL).
//!
//! A 0-byte `kaizen.db` (left by a fresh upstream install) is an empty database: nothing
//! read, a note in [`SourceReport::notes`], not an error. A database gone before it is
//! read is skipped with a note ([`SourceReport::files_vanished`]).
//!
//! So a database on read-only media or in a read-only folder imports unless it is in WAL
//! mode with a `-wal` and no `-shm`, or has a hot journal.
//!
//! # Report
//! Per database: `files` 1, `lines` the rows read, `bytes` their text bytes, `events`,
//! `sessions`, `responses` (events carrying tokens), tokens as summed from the columns
//! (upstream has one cache-write figure: it is counted as 5-minute writes),
//! `cost_usd_e6` and `cost_reported` (events with a cost), tool calls and results.

mod open;
mod rows;
mod schema;

use std::path::Path;

use kaizen_core::Event;
use rusqlite::types::ValueRef;
use serde::{Deserialize, Serialize};

use crate::chunks::Chunks;
use crate::import::{FileImport, ImportOptions};
use crate::report::SourceReport;
use crate::{Cursor, Error, Result, SinkError, SourceFile};
use open::{Stamp, open};
use rows::Reader;
use schema::Schema;

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
    let before = match Stamp::of(path) {
        Ok(stamp) => stamp,
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Ok(crate::import::vanished(file, cursor));
        }
        Err(e) => return Err(e),
    };
    if before.size == 0 {
        // A fresh upstream install may leave an empty `kaizen.db` before its first write:
        // SQLite reads a 0-byte file as an empty database. Nothing to read, not an error.
        let mut report = SourceReport {
            files: 1,
            ..SourceReport::default()
        };
        report.notes.push(format!(
            "{}: an empty file (0 bytes): an empty database, nothing to import",
            path.display()
        ));
        let state = State {
            last_id: 0,
            last_key: None,
        };
        let cursor = Cursor {
            agent: file.agent,
            path: file.rel.clone(),
            size: 0,
            mtime_ms: before.mtime_ms,
            head_len: 0,
            head_hash: 0,
            consumed: 0,
            lines: 0,
            session_id: None,
            state: crate::CursorState::of(&state),
            generation: 0,
        };
        return Ok(FileImport { cursor, report });
    }
    let previous = match cursor {
        Some(c) => Some(c.state.read::<State>().map_err(|e| Error::Changed {
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
            report.notes.push(format!(
                "{}: read again from its first row: the row at its cursor is gone or holds \
                 another event (rows deleted, or the database replaced); events stored \
                 before are stored once",
                path.display()
            ));
        }
    }
    let mut read = Reader {
        path,
        options,
        chunks: Chunks::new(options, sink),
        sessions: &sessions,
        report,
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
        state: crate::CursorState::of(&state),
        generation: 0,
    };
    Ok(FileImport { cursor, report })
}

pub(super) fn db_error(path: &Path, reason: impl Into<String>) -> Error {
    Error::Database {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// SQLite's error, with what it means for an import where SQLite's words do not say it:
/// a lock held past the busy timeout, a hot journal a read-only connection cannot roll
/// back.
pub(super) fn sql_error(path: &Path, e: rusqlite::Error) -> Error {
    let code = e.sqlite_error();
    let reason = match code {
        Some(c) if c.extended_code == rusqlite::ffi::SQLITE_READONLY_ROLLBACK => format!(
            "{e}: it has a hot journal ({}-journal: a writer stopped in the middle of a \
             transaction); SQLite must roll that transaction back before the committed rows \
             can be read, which a read-only import does not do: open the database once with \
             sqlite3 (or upstream kaizen), then import again; nothing of it was read",
            path.display()
        ),
        Some(c)
            if c.code == rusqlite::ErrorCode::DatabaseBusy
                || c.code == rusqlite::ErrorCode::DatabaseLocked =>
        {
            format!(
                "{e}: another connection held a write lock on it for more than {} s (a write \
                 transaction in progress); nothing of it was read: import again when the \
                 writer is done",
                open::BUSY_TIMEOUT.as_secs()
            )
        }
        _ => e.to_string(),
    };
    db_error(path, reason)
}

pub(super) fn row_error(path: &Path, table: &str, row: &str, column: &str, reason: &str) -> Error {
    Error::Row {
        path: path.to_owned(),
        table: table.to_owned(),
        row: row.to_owned(),
        column: column.to_owned(),
        reason: reason.to_owned(),
    }
}

pub(super) fn type_name(v: ValueRef<'_>) -> String {
    match v {
        ValueRef::Null => "NULL".into(),
        ValueRef::Integer(i) => format!("the integer {i}"),
        ValueRef::Real(r) => format!("the real {r}"),
        ValueRef::Text(_) => "text".into(),
        ValueRef::Blob(b) => format!("a blob of {} bytes", b.len()),
    }
}
