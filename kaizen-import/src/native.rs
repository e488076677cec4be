//! kaizen's own event JSON Lines (the `kaizen ingest` format): one [`Event`] a line, kept
//! as it is (its own `session_id` and `seq`). A BOM on the first line, CRLF endings and
//! blank lines are accepted; anything else that is not a valid event is `file:line: reason`.

use kaizen_core::Event;

use crate::import::{Out, Progress};
use crate::lines::each_line;
use crate::{Cursor, Result};

/// Parses one line of kaizen event JSON Lines (`raw` with or without its `\n`): a BOM on
/// the first line, a CRLF ending and blank lines are accepted; `Ok(None)` for a blank line.
/// The error is the reason alone (`invalid UTF-8 at column 3`, or the event's validation
/// error); callers prefix `file:line: `.
pub fn parse_event_line(raw: &[u8], first: bool) -> Result<Option<Event>, String> {
    let text = simdutf8::compat::from_utf8(raw)
        .map_err(|e| format!("invalid UTF-8 at column {}", e.valid_up_to() + 1))?;
    let text = if first {
        text.strip_prefix('\u{feff}').unwrap_or(text)
    } else {
        text
    };
    let text = text.strip_suffix('\n').unwrap_or(text);
    let text = text.strip_suffix('\r').unwrap_or(text);
    if crate::util::is_blank(text) {
        return Ok(None);
    }
    Event::from_json(text).map(Some).map_err(|e| e.to_string())
}

pub(crate) fn import(start: Option<&Cursor>, out: &mut Out<'_>) -> Result<Progress> {
    let (start_off, start_line) = start.map_or((0, 0), |c| (c.consumed, c.lines));
    let read =
        each_line(
            out,
            (start_off, start_line),
            None,
            |out, line_no, raw| match parse_event_line(raw, line_no == 1) {
                Ok(None) => Ok(()),
                Ok(Some(event)) => {
                    out.report.sessions.insert(event.session_id.clone());
                    out.push_native(event, line_no)
                }
                Err(reason) => out.invalid(line_no, None, reason),
            },
        )?;
    Ok(Progress {
        consumed: read.consumed,
        lines: read.lines,
        session_id: None,
        state: serde_json::Value::Object(Default::default()),
        truncated_tail: read.tail,
    })
}

#[cfg(test)]
mod tests {
    use super::parse_event_line;

    #[test]
    fn only_json_whitespace_makes_a_blank_line() {
        for blank in ["", "\n", " \t \r\n", "\u{feff}\n"] {
            assert!(
                matches!(parse_event_line(blank.as_bytes(), true), Ok(None)),
                "{blank:?}"
            );
        }
        // Unicode spaces are not JSON's: such a line is reported, never skipped unseen.
        for other in ["\u{a0}\n", "\u{2028}", "\u{c}\n", "\u{3000} "] {
            let err = parse_event_line(other.as_bytes(), false).expect_err(other);
            assert!(err.contains("column 1"), "{other:?}: {err}");
        }
    }
}
