//! What the import reads of a database: the `events` columns checked, the `sessions`
//! columns found, each session's model, agent and project.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::Connection;
use rusqlite::types::ValueRef;

use super::{EVENT_COLUMNS, State, TEXT_COLUMNS, row_error, sql_error, type_name};
use crate::{Error, Result};

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
pub(super) struct Schema {
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
    pub(super) fn read(conn: &Connection, path: &Path) -> Result<Schema> {
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
    pub(super) fn sessions(
        &self,
        conn: &Connection,
        path: &Path,
    ) -> Result<HashMap<String, Attrs>> {
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
    pub(super) fn still_there(
        &self,
        conn: &Connection,
        path: &Path,
        state: &State,
    ) -> Result<bool> {
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
pub(super) struct Attrs {
    pub(super) model: Option<String>,
    pub(super) agent: Option<String>,
    pub(super) project: Option<String>,
}
