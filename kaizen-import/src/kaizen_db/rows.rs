//! Rows into events: each value checked against its field, the payload wrapped, the
//! report kept, events handed to the sink in chunks.

use std::collections::HashMap;
use std::path::Path;

use kaizen_core::{Event, EventKind, EventSource, MAX_TS_MS, Payload};
use rusqlite::Connection;
use rusqlite::types::ValueRef;

use super::schema::Attrs;
use super::{EVENT_COLUMNS, State, row_error, sql_error, type_name};
use crate::Result;
use crate::chunks::Chunks;
use crate::import::ImportOptions;
use crate::report::{MAX_SKIPPED_SHOWN, SourceReport};
use crate::util::push_json_str;

/// Reads rows into events and hands them to the sink in chunks.
pub(super) struct Reader<'a> {
    pub(super) path: &'a Path,
    pub(super) options: &'a ImportOptions,
    pub(super) chunks: Chunks<'a>,
    pub(super) sessions: &'a HashMap<String, Attrs>,
    pub(super) report: SourceReport,
    /// The last row read.
    pub(super) last: Option<State>,
}

/// A row's value that cannot be its field: the column and why.
type Bad = (&'static str, String);

impl Reader<'_> {
    pub(super) fn rows(&mut self, conn: &Connection, from: i64) -> Result<()> {
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
                Ok(mut event) => {
                    // The wrapper and the row's payload, redacted as one JSON text.
                    if let Some(r) = self.options.redactor.as_deref() {
                        crate::import::redact_payload(r, &mut event, &mut self.report.redacted)
                            .map_err(|reason| {
                                row_error(path, "events", &format!("id {id}"), "payload", &reason)
                            })?;
                    }
                    self.push(event)?
                }
                Err((column, reason)) => {
                    let row = format!("id {id}");
                    let e = row_error(path, "events", &row, column, &reason);
                    if !self.options.skip_invalid {
                        return Err(e);
                    }
                    // Left out, not kept as text: the row stays in the database only.
                    self.report.lines_skipped += 1;
                    if self.report.left_out.len() < MAX_SKIPPED_SHOWN {
                        self.report.left_out.push(e.to_string());
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
        if self.chunks.add(e) {
            self.flush()?;
        }
        Ok(())
    }

    pub(super) fn flush(&mut self) -> Result<()> {
        self.chunks.flush(self.report.bytes)
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
