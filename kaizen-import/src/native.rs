//! kaizen's own event JSON Lines (the `kaizen ingest` format): one [`Event`] a line, kept
//! as it is (its own `session_id` and `seq`). A BOM on the first line, CRLF endings and
//! blank lines are accepted; anything else that is not a valid event is `file:line: reason`.

use kaizen_core::Event;

use crate::import::{Out, Progress};
use crate::lines::{LineReader, Next};
use crate::{Cursor, Result, SourceFile};

/// Parses one line of kaizen event JSON Lines (`raw` with or without its `\n`): a BOM on
/// the first line, a CRLF ending and blank lines are accepted; `Ok(None)` for a blank line.
/// The error is the reason alone (`invalid UTF-8 at column 3`, or the event's validation
/// error); callers prefix `file:line: `.
pub fn parse_event_line(raw: &[u8], first: bool) -> Result<Option<Event>, String> {
    let text = std::str::from_utf8(raw)
        .map_err(|e| format!("invalid UTF-8 at column {}", e.valid_up_to() + 1))?;
    let text = if first {
        text.strip_prefix('\u{feff}').unwrap_or(text)
    } else {
        text
    };
    let text = text.strip_suffix('\n').unwrap_or(text);
    let text = text.strip_suffix('\r').unwrap_or(text);
    if text.trim().is_empty() {
        return Ok(None);
    }
    Event::from_json(text).map(Some).map_err(|e| e.to_string())
}

pub(crate) fn import(
    file: &SourceFile,
    start: Option<&Cursor>,
    out: &mut Out<'_>,
) -> Result<Progress> {
    let (start_off, start_line) = start.map_or((0, 0), |c| (c.consumed, c.lines));
    let mut reader = LineReader::open(
        &file.path,
        start_off,
        start_line,
        None,
        out.options.max_line_bytes,
    )?;
    let mut buf = Vec::new();
    let tail = loop {
        match reader.next_line(&mut buf)? {
            Next::Line => {}
            Next::Eof => break false,
            Next::Tail => break true,
        }
        out.report.lines += 1;
        out.report.bytes += buf.len() as u64 + 1;
        let line_no = reader.line_no();
        match parse_event_line(&buf, line_no == 1) {
            Ok(None) => {}
            Ok(Some(event)) => {
                out.report.sessions.insert(event.session_id.clone());
                out.push_native(event)?;
            }
            Err(reason) => out.invalid(line_no, None, reason)?,
        }
    };
    Ok(Progress {
        consumed: reader.offset(),
        lines: reader.line_no(),
        session_id: None,
        state: serde_json::Value::Object(Default::default()),
        truncated_tail: tail,
    })
}
