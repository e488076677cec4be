//! Codex CLI rollout files: one `{"timestamp","type","payload"}` object a line.
//!
//! Tokens: an `event_msg` `token_count` whose `info.total_token_usage` differs from the
//! previous one in the file is one response, counted with its `info.last_token_usage`
//! (Codex writes many snapshots twice). Codex's `input_tokens` include the cached ones, so
//! `tokens_in = input_tokens - cached_input_tokens` and `cache_read = cached_input_tokens`;
//! Codex reports no cache writes (column left null); reasoning is part of the output.

use std::collections::BTreeMap;

use kaizen_core::EventKind;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::import::{Derived, Keep, LineText, Out, Progress, parse_lenient, restore_state};
use crate::lenient::Lenient;
use crate::lines::each_line;
use crate::price::Usage;
use crate::util::{json_count, json_str, parse_rfc3339_ms, seq};
use crate::{Cursor, Result, SEQ_KIND_CODEX, SourceFile};

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    session_id: String,
    /// The model of the latest `turn_context`.
    model: Option<String>,
    project: Option<String>,
    /// The previous `total_token_usage` (input, cached, output, reasoning, total).
    prev_total: Option<[u64; 5]>,
    /// Tool calls whose output has not been seen yet: call id → tool name.
    tools: BTreeMap<String, String>,
    /// The same calls' times (ms), for their outputs' latency (a map of its own: cursors
    /// written before it was kept still read).
    #[serde(default)]
    tool_times: BTreeMap<String, u64>,
    /// For a rewritten file read again: the session and the highest total an earlier
    /// version counted. A snapshot whose total is not above it was counted there.
    #[serde(default)]
    counted: Option<(String, [u64; 5])>,
    /// The highest figures of the totals counted in this version, each on its own (a
    /// total's parts need not all grow: reasoning can be reported then not).
    #[serde(default)]
    high: Option<[u64; 5]>,
}

/// What an earlier version of a rewritten rollout counted (from its cursor's state).
#[derive(Debug, Default, Deserialize)]
struct Earlier {
    #[serde(default)]
    session_id: String,
    #[serde(default)]
    prev_total: Option<[u64; 5]>,
    #[serde(default)]
    high: Option<[u64; 5]>,
    #[serde(default)]
    counted: Option<(String, [u64; 5])>,
}

impl Earlier {
    /// The highest total counted for the earlier versions' session.
    fn counted(self) -> Option<(String, [u64; 5])> {
        // Cursors from before `high` was kept: the last total is the best known.
        match (self.high.or(self.prev_total), self.counted) {
            (Some(total), Some((session, before))) if session == self.session_id => {
                Some((session, std::array::from_fn(|i| total[i].max(before[i]))))
            }
            (Some(total), _) => Some((self.session_id, total)),
            (None, counted) => counted,
        }
    }
}

#[derive(Deserialize)]
struct LineLoose<'a> {
    #[serde(borrow)]
    timestamp: Option<&'a RawValue>,
    #[serde(rename = "type", borrow)]
    ty: Option<&'a RawValue>,
    #[serde(borrow)]
    payload: Option<&'a RawValue>,
}

/// A line read in one pass, its payload parsed where it is (leniently).
#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    timestamp: Option<&'a RawValue>,
    #[serde(rename = "type", borrow)]
    ty: Option<&'a RawValue>,
    #[serde(borrow)]
    payload: Option<Lenient<Payload<'a>>>,
}

/// Parses a line in one pass; one whose payload has an unexpected shape (a duplicate
/// key…) is read again with the payload kept raw.
fn parse_fast(text: &str) -> std::result::Result<Option<Line<'_>>, serde_json::Error> {
    match parse_lenient::<Line>(text) {
        Err(e) if e.classify() == serde_json::error::Category::Data => {
            let Some(l) = parse_lenient::<LineLoose>(text)? else {
                return Ok(None);
            };
            Ok(Some(Line {
                timestamp: l.timestamp,
                ty: l.ty,
                payload: l.payload.and_then(|r| serde_json::from_str(r.get()).ok()),
            }))
        }
        other => other,
    }
}

#[derive(Deserialize)]
struct Payload<'a> {
    #[serde(rename = "type", borrow)]
    ty: Option<&'a RawValue>,
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    cwd: Option<&'a RawValue>,
    #[serde(borrow)]
    model: Option<&'a RawValue>,
    #[serde(borrow)]
    name: Option<&'a RawValue>,
    #[serde(borrow)]
    call_id: Option<&'a RawValue>,
    #[serde(borrow)]
    output: Option<&'a RawValue>,
    info: Option<serde_json::Value>,
}

const RESPONSE_ITEMS: [&str; 8] = [
    "message",
    "reasoning",
    "function_call",
    "function_call_output",
    "custom_tool_call",
    "custom_tool_call_output",
    "web_search_call",
    "local_shell_call",
];

const EVENT_MSGS: [&str; 17] = [
    "token_count",
    "error",
    "user_message",
    "agent_message",
    "agent_reasoning",
    "agent_reasoning_raw_content",
    "task_started",
    "task_complete",
    "context_compacted",
    "turn_aborted",
    "exec_command_begin",
    "exec_command_end",
    "patch_apply_begin",
    "patch_apply_end",
    "mcp_tool_call_begin",
    "mcp_tool_call_end",
    "stream_error",
];

fn text_of(raw: Option<&RawValue>) -> Option<String> {
    raw.and_then(json_str).map(|c| c.into_owned())
}

/// The session id in a rollout's file name (`rollout-<time>-<uuid>.jsonl`).
fn session_from_name(rel: &str) -> String {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let stem = name.strip_suffix(".jsonl").unwrap_or(name);
    if stem.len() >= 36 && stem.is_char_boundary(stem.len() - 36) {
        stem[stem.len() - 36..].to_owned()
    } else {
        stem.to_owned()
    }
}

pub(crate) fn import(
    file: &SourceFile,
    start: Option<&Cursor>,
    out: &mut Out<'_>,
) -> Result<Progress> {
    let (start_off, start_line) = start.map_or((0, 0), |c| (c.consumed, c.lines));
    let earlier = out.earlier.take();
    let mut state: State = restore_state(file, start, || State {
        session_id: session_from_name(&file.rel),
        // A rewritten file read again: what its earlier versions counted.
        counted: earlier
            .and_then(|e| serde_json::from_value::<Earlier>(e).ok())
            .and_then(Earlier::counted),
        ..State::default()
    })?;
    let read = each_line(out, (start_off, start_line), None, |out, line_no, raw| {
        line(&mut state, out, line_no, raw)
    })?;
    Ok(Progress {
        consumed: read.consumed,
        lines: read.lines,
        session_id: Some(state.session_id.clone()),
        state: serde_json::to_value(&state).unwrap_or(serde_json::Value::Null),
        truncated_tail: read.tail,
    })
}

fn line(state: &mut State, out: &mut Out<'_>, line_no: u64, raw: &[u8]) -> Result<()> {
    let lt = LineText::new(raw);
    let seq = seq(SEQ_KIND_CODEX, out.file_field(0), line_no);
    let mut d = Derived::default();
    let parsed = out.parse_record(&lt, line_no, parse_fast)?;
    let keep = Keep::of(&lt, parsed.is_some());
    let not_object = matches!(parsed, Some(None));
    let Some(Some(p)) = parsed else {
        if not_object {
            d.unknown_type = Some("<not an object>".into());
        }
        d.project = state.project.clone();
        return out.line_event(&state.session_id.clone(), seq, line_no, d, keep, lt.crlf);
    };
    d.ts_ms = p
        .timestamp
        .and_then(json_str)
        .and_then(|t| parse_rfc3339_ms(&t));
    let ty = text_of(p.ty);
    let payload = p.payload.and_then(|x| x.0);
    let sub = payload.as_ref().and_then(|x| text_of(x.ty));
    d.kind = Some(EventKind::Lifecycle);
    match (ty.as_deref(), payload.as_ref()) {
        (Some("session_meta"), Some(pl)) => {
            if line_no == 1
                && let Some(id) = text_of(pl.id)
            {
                state.session_id = id;
            }
            if let Some(cwd) = text_of(pl.cwd) {
                state.project = Some(cwd);
            }
        }
        (Some("turn_context"), Some(pl)) => {
            if let Some(m) = text_of(pl.model) {
                state.model = Some(m);
            }
        }
        (Some("response_item"), Some(pl)) => response_item(state, pl, sub.as_deref(), &mut d),
        (Some("event_msg"), Some(pl)) => event_msg(state, out, pl, sub.as_deref(), &mut d),
        (Some("compacted"), _) => {}
        (Some("session_meta" | "turn_context" | "response_item" | "event_msg"), None) => {
            d.unknown_type = Some(format!("{}:<no payload>", ty.as_deref().unwrap_or("")));
        }
        (other, _) => d.unknown_type = Some(other.unwrap_or("<no type>").to_owned()),
    }
    d.project = state.project.clone();
    out.line_event(&state.session_id.clone(), seq, line_no, d, keep, lt.crlf)
}

fn response_item(state: &mut State, pl: &Payload<'_>, sub: Option<&str>, d: &mut Derived) {
    let model = state.model.clone();
    match sub {
        Some("message") | Some("reasoning") => d.kind = Some(EventKind::Message),
        Some("function_call") | Some("custom_tool_call") | Some("local_shell_call") => {
            let name = text_of(pl.name).unwrap_or_else(|| sub.unwrap_or_default().to_owned());
            let id = text_of(pl.call_id);
            if let Some(id) = &id {
                state.tools.insert(id.clone(), name.clone());
                match d.ts_ms {
                    Some(ts) => state.tool_times.insert(id.clone(), ts),
                    None => state.tool_times.remove(id),
                };
            }
            d.kind = Some(EventKind::ToolCall);
            d.tool = Some(name);
            d.tool_call_id = id;
            d.tool_calls = 1;
            d.model = model;
        }
        Some("web_search_call") => {
            d.kind = Some(EventKind::ToolCall);
            d.tool = Some("web_search".into());
            d.tool_call_id = text_of(pl.call_id).or_else(|| text_of(pl.id));
            d.tool_calls = 1;
            d.model = model;
        }
        Some("function_call_output") | Some("custom_tool_call_output") => {
            let id = text_of(pl.call_id);
            d.kind = Some(EventKind::ToolResult);
            d.tool = id.as_ref().and_then(|id| state.tools.remove(id));
            // From the call's line to its output's, as Claude's (see `claude::user`).
            let called_ms = id.as_ref().and_then(|id| state.tool_times.remove(id));
            d.latency_ms = (d.ts_ms.zip(called_ms))
                .and_then(|(done, called)| done.checked_sub(called))
                .and_then(|ms| u32::try_from(ms).ok());
            d.tool_call_id = id;
            d.tool_results = 1;
            if pl.output.is_some_and(output_failed) {
                d.tool_errors = 1;
            }
            d.model = model;
        }
        Some(other) if RESPONSE_ITEMS.contains(&other) => {}
        other => d.unknown_type = Some(format!("response_item:{}", other.unwrap_or("<no type>"))),
    }
}

/// Whether a tool output reports failure: `metadata.exit_code` non-zero in JSON output, or
/// "Process exited with code N" (N non-zero) in exec_command text.
fn output_failed(output: &RawValue) -> bool {
    let Some(text) = json_str(output) else {
        // Output as a JSON object rather than a string.
        return serde_json::from_str::<serde_json::Value>(output.get())
            .ok()
            .is_some_and(|v| exit_code_of(&v).is_some_and(|c| c != 0));
    };
    if text.starts_with('{')
        && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
        && let Some(code) = exit_code_of(&v)
    {
        return code != 0;
    }
    const MARK: &str = "Process exited with code ";
    if let Some(i) = text.find(MARK) {
        let digits: String = text[i + MARK.len()..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '-')
            .collect();
        return digits.parse::<i64>().is_ok_and(|c| c != 0);
    }
    false
}

fn exit_code_of(v: &serde_json::Value) -> Option<i64> {
    v.get("metadata")?.get("exit_code")?.as_i64()
}

fn usage5(u: Option<&serde_json::Value>) -> Option<[u64; 5]> {
    let u = u.filter(|u| u.is_object())?;
    let n = |k: &str| u.get(k).and_then(json_count).unwrap_or(0);
    Some([
        n("input_tokens"),
        n("cached_input_tokens"),
        n("output_tokens"),
        n("reasoning_output_tokens"),
        n("total_tokens"),
    ])
}

fn event_msg(
    state: &mut State,
    out: &Out<'_>,
    pl: &Payload<'_>,
    sub: Option<&str>,
    d: &mut Derived,
) {
    match sub {
        Some("token_count") => {
            d.kind = Some(EventKind::Cost);
            let Some(info) = pl.info.as_ref().filter(|i| i.is_object()) else {
                return;
            };
            let Some(total) = usage5(info.get("total_token_usage")) else {
                return;
            };
            if state.prev_total == Some(total) {
                return; // the same snapshot written again
            }
            let last = usage5(info.get("last_token_usage")).unwrap_or_else(|| {
                let prev = state.prev_total.unwrap_or_default();
                std::array::from_fn(|i| total[i].saturating_sub(prev[i]))
            });
            state.prev_total = Some(total);
            if let Some((session, counted)) = &state.counted
                && *session == state.session_id
                && total.iter().zip(counted).all(|(now, then)| now <= then)
            {
                // Counted by an earlier version of this rewritten file.
                d.flags.push("counted_before");
                return;
            }
            state.high = Some(match state.high {
                Some(high) => std::array::from_fn(|i| high[i].max(total[i])),
                None => total,
            });
            let [input, cached, output, reasoning, _] = last;
            d.response = true;
            d.usage = Some(Usage {
                input: input.saturating_sub(cached),
                output,
                cache_read: cached,
                cache_creation_5m: 0,
                cache_creation_1h: 0,
            });
            d.reasoning = Some(reasoning);
            d.has_cache_read = true;
            d.model = state.model.clone();
            let model = state.model.clone();
            out.price(d, model.as_deref(), None);
        }
        Some("error") => {
            d.kind = Some(EventKind::Error);
            d.api_errors = 1;
            d.model = state.model.clone();
        }
        Some("user_message") | Some("agent_message") | Some("agent_reasoning") => {
            d.kind = Some(EventKind::Message)
        }
        Some(other) if EVENT_MSGS.contains(&other) => {}
        other => d.unknown_type = Some(format!("event_msg:{}", other.unwrap_or("<no type>"))),
    }
}
