//! Which agent wrote a file, from its first record: so that `kaizen import claude` on a
//! Codex folder refuses the rollouts instead of storing them as Claude events (which a
//! later `import codex` would store again, under other identities).
//!
//! Only clear marks count; a record with none of them (an unknown type, a line that is not
//! JSON) says nothing, and the file is imported as today (unknown types are kept).

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

use crate::lines::{LineReader, Next};
use crate::{Agent, Result};

/// The top-level keys that tell the agents apart (values not parsed, except `type`).
#[derive(Deserialize)]
struct Marks<'a> {
    #[serde(rename = "type", borrow)]
    ty: Option<&'a RawValue>,
    timestamp: Option<IgnoredAny>,
    payload: Option<IgnoredAny>,
    instructions: Option<IgnoredAny>,
    record_type: Option<IgnoredAny>,
    uuid: Option<IgnoredAny>,
    #[serde(rename = "sessionId")]
    session_id: Option<IgnoredAny>,
    #[serde(rename = "projectHash")]
    project_hash: Option<IgnoredAny>,
    messages: Option<IgnoredAny>,
    #[serde(rename = "$set")]
    set: Option<IgnoredAny>,
    seq: Option<IgnoredAny>,
    kind: Option<IgnoredAny>,
    #[serde(rename = "session_id")]
    native_session: Option<IgnoredAny>,
}

/// Codex's top-level record types (`{"timestamp","type","payload"}`).
const CODEX_TYPES: [&str; 5] = [
    "session_meta",
    "turn_context",
    "response_item",
    "event_msg",
    "compacted",
];

/// Record types only Claude Code writes (`user` and `system` need a `sessionId` too:
/// Gemini writes a `user` type as well).
const CLAUDE_TYPES: [&str; 6] = [
    "assistant",
    "summary",
    "progress",
    "attachment",
    "file-history-snapshot",
    "queue-operation",
];

/// The agent whose record `text` clearly is, if any.
pub(crate) fn agent_of_record(text: &str) -> Option<Agent> {
    let m: Marks = serde_json::from_str(text).ok()?;
    let ty = m.ty.and_then(crate::util::json_str);
    let ty = ty.as_deref();
    let codex_record = m.timestamp.is_some()
        && m.payload.is_some()
        && ty.is_some_and(|t| CODEX_TYPES.contains(&t));
    // Rollouts before Codex 0.3x: a header `{"id","timestamp","instructions"}`, then
    // `{"record_type":"state"}` lines.
    let old_codex = (m.instructions.is_some() && m.timestamp.is_some()) || m.record_type.is_some();
    if codex_record || old_codex {
        return Some(Agent::Codex);
    }
    let gemini = (m.project_hash.is_some() && m.uuid.is_none())
        || m.set.is_some()
        || ty == Some("gemini")
        || (m.messages.is_some() && m.session_id.is_some());
    if gemini {
        return Some(Agent::Gemini);
    }
    let claude = (m.uuid.is_some() && m.session_id.is_some())
        || ty.is_some_and(|t| CLAUDE_TYPES.contains(&t))
        || (matches!(ty, Some("user" | "system")) && m.session_id.is_some());
    if claude {
        return Some(Agent::Claude);
    }
    if m.native_session.is_some() && m.seq.is_some() && m.kind.is_some() {
        return Some(Agent::Kaizen);
    }
    None
}

/// The agent whose file `file` clearly is, from its first non-blank line (read through
/// `handle`, at most `max_line` bytes): `None` when that line is not JSON or has no clear
/// mark, or the file has no complete line yet.
pub(crate) fn agent_of_file(
    handle: &std::fs::File,
    path: &std::path::Path,
    max_line: usize,
) -> Result<Option<Agent>> {
    let mut reader = LineReader::open(handle, path, 0, 0, None, max_line)?;
    let mut buf = Vec::new();
    loop {
        match reader.next_line(&mut buf)? {
            Next::Line => {}
            Next::Tail | Next::Eof => return Ok(None),
        }
        if buf.trim_ascii().is_empty() {
            continue;
        }
        let text = String::from_utf8_lossy(&buf);
        return Ok(agent_of_record(text.trim_end_matches('\r')));
    }
}

/// How a refusal names the agent a file looks like, and the command that imports it.
pub(crate) fn described(agent: Agent) -> (&'static str, &'static str) {
    match agent {
        Agent::Claude => ("a Claude Code transcript", "kaizen import claude"),
        Agent::Codex => ("a Codex rollout", "kaizen import codex"),
        Agent::Gemini => ("a Gemini CLI chat", "kaizen import gemini"),
        Agent::Kaizen => ("kaizen's own event JSON Lines", "kaizen ingest"),
        Agent::KaizenDb => ("an upstream kaizen database", "kaizen import kaizen-db"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_records_of_each_agent_are_told_apart() {
        let codex = r#"{"timestamp":"2026-10-01T11:00:00.000Z","type":"session_meta","payload":{"id":"x"}}"#;
        let claude = r#"{"parentUuid":null,"sessionId":"s","type":"user","uuid":"u","message":{}}"#;
        let summary = r#"{"type":"summary","summary":"x","leafUuid":"u"}"#;
        let gemini = r#"{"sessionId":"s","projectHash":"h","startTime":"2026-10-01T12:00:00Z"}"#;
        let gemini_user =
            r#"{"id":"m","timestamp":"2026-10-01T12:00:00Z","type":"user","content":"hi"}"#;
        assert_eq!(agent_of_record(codex), Some(Agent::Codex));
        assert_eq!(agent_of_record(claude), Some(Agent::Claude));
        assert_eq!(agent_of_record(summary), Some(Agent::Claude));
        assert_eq!(agent_of_record(gemini), Some(Agent::Gemini));
        // Gemini's `user` record has no mark of its own: it says nothing.
        assert_eq!(agent_of_record(gemini_user), None);
        assert_eq!(agent_of_record(r#"{"type":"brand-new"}"#), None);
        assert_eq!(agent_of_record("not json"), None);
    }
}
