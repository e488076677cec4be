//! Claude Code transcripts: `projects/<dir>/<sessionId>.jsonl`, 2.0.x `agent-<id>.jsonl`
//! beside it, 2.1.x `<sessionId>/subagents/agent-<id>.jsonl`; 1.0.x sidechains inline.
//!
//! One API response is written as several assistant lines repeating `message.id`,
//! `requestId` and `usage`, the last line holding the final `output_tokens`. A first pass
//! over the new part of the file finds each response's last line; the second pass puts the
//! response's tokens and cost on that line's event only. A response whose last line was
//! imported and which goes on after the cursor (the agent was still writing) gets the
//! difference on its new last line, so sums stay exact.

use std::collections::{BTreeMap, HashMap};

use kaizen_core::EventKind;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::import::{Derived, Keep, LineText, Out, Progress, parse_lenient, restore_state};
use crate::lenient::{Lenient, LenientSeq};
use crate::lines::{LineReader, Next, each_line};
use crate::price::Usage;
use crate::util::{KeySet, file_hash24, fnv64, json_count, json_str, parse_rfc3339_ms, seq};
use crate::{Cursor, Error, Result, SEQ_KIND_CLAUDE, SourceFile};

/// Responses remembered in the cursor after their last line, in case they go on.
const OPEN_KEPT: usize = 32;

/// Line types Claude Code writes that the importer knows (others are counted as unknown).
const KNOWN_TYPES: [&str; 8] = [
    "user",
    "assistant",
    "system",
    "summary",
    "progress",
    "attachment",
    "file-history-snapshot",
    "queue-operation",
];

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    session_id: String,
    file_hash: u32,
    /// The session's working directory (its first `cwd`), or until a line names one, the
    /// project folder's name (`-home-me-proj`: `/` made `-`, so not reversible).
    project: Option<String>,
    /// `project` is a `cwd` (no longer the folder's name).
    #[serde(default)]
    project_is_cwd: bool,
    /// Responses whose last line so far was imported, oldest first.
    open: Vec<Open>,
    /// Tool uses whose result has not been seen yet: id → (tool name, model of the call,
    /// time of the call's line).
    tools: BTreeMap<String, (String, Option<String>, Option<u64>)>,
    /// Every response counted in this file, in this version and the earlier ones (a
    /// rewritten file's new version carries them over): a response counted before carries
    /// no tokens again. Absent from cursors written before it was kept.
    #[serde(default)]
    counted: KeySet,
}

/// The state an earlier version of a rewritten file leaves to the new one: the responses
/// it counted (its `open` ones with their figures, so that one that grew gets the
/// difference).
#[derive(Debug, Default, Deserialize)]
struct Earlier {
    #[serde(default)]
    open: Vec<Open>,
    #[serde(default)]
    counted: KeySet,
}

/// The figures already put on a response's events.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Open {
    key: u64,
    input: u64,
    output: u64,
    cache_read: u64,
    cache_5m: u64,
    cache_1h: u64,
    cost_e6: Option<i64>,
}

/// Where a transcript sits in its session.
struct Role {
    /// The session's own file (`<sessionId>.jsonl`).
    main: bool,
    /// Session id known from the path (main file stem, 2.1.x parent folder).
    session_from_path: Option<String>,
    /// The file's path within its session (for the seq's file hash).
    in_session: String,
    project: Option<String>,
}

fn role(rel: &str) -> Role {
    let parts: Vec<&str> = rel.split('/').collect();
    let name = parts.last().copied().unwrap_or(rel);
    let stem = name.strip_suffix(".jsonl").unwrap_or(name);
    let project = parts
        .iter()
        .position(|p| *p == "projects")
        .and_then(|i| parts.get(i + 1))
        .map(|s| s.to_string());
    let n = parts.len();
    if n >= 3 && parts[n - 2] == "subagents" {
        // 2.1.x: <sessionId>/subagents/agent-<id>.jsonl
        return Role {
            main: false,
            session_from_path: Some(parts[n - 3].to_owned()),
            in_session: format!("subagents/{name}"),
            project,
        };
    }
    if stem.starts_with("agent-") {
        // 2.0.x: agent-<id>.jsonl beside the session file; the session is in its lines.
        return Role {
            main: false,
            session_from_path: None,
            in_session: name.to_owned(),
            project,
        };
    }
    Role {
        main: true,
        session_from_path: Some(stem.to_owned()),
        in_session: String::new(),
        project,
    }
}

/// The few keys the first pass reads.
#[derive(Deserialize)]
struct Pass1<'a> {
    #[serde(rename = "type", borrow)]
    ty: Option<&'a RawValue>,
    #[serde(rename = "requestId", borrow)]
    request_id: Option<&'a RawValue>,
    #[serde(rename = "sessionId", borrow)]
    session_id: Option<&'a RawValue>,
    #[serde(borrow)]
    cwd: Option<&'a RawValue>,
    #[serde(borrow)]
    message: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct MsgId<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
}

/// A line read in one pass: `message` and `data` parsed where they are (lenient: a value
/// of another shape is ignored, not an error).
#[derive(Deserialize)]
struct Line<'a> {
    #[serde(rename = "type", borrow)]
    ty: Option<&'a RawValue>,
    #[serde(borrow)]
    timestamp: Option<&'a RawValue>,
    #[serde(rename = "parentUuid", borrow)]
    parent_uuid: Option<&'a RawValue>,
    #[serde(rename = "requestId", borrow)]
    request_id: Option<&'a RawValue>,
    #[serde(rename = "isApiErrorMessage", borrow)]
    api_error: Option<&'a RawValue>,
    #[serde(rename = "costUSD", borrow)]
    cost_usd: Option<&'a RawValue>,
    #[serde(borrow)]
    message: Option<Lenient<Message<'a>>>,
    #[serde(borrow)]
    data: Option<Lenient<DataType<'a>>>,
    #[serde(borrow)]
    subtype: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    model: Option<&'a RawValue>,
    #[serde(borrow, default)]
    content: LenientSeq<Block<'a>>,
    #[serde(borrow)]
    stop_reason: Option<&'a RawValue>,
    usage: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Block<'a> {
    #[serde(rename = "type", borrow)]
    ty: Option<&'a RawValue>,
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    name: Option<&'a RawValue>,
    #[serde(borrow)]
    tool_use_id: Option<&'a RawValue>,
    #[serde(borrow)]
    is_error: Option<&'a RawValue>,
}

/// The same keys, nested values kept raw: the fallback when [`Line`] cannot read a line
/// (e.g. a duplicate key inside `message`).
#[derive(Deserialize)]
struct LineLoose<'a> {
    #[serde(rename = "type", borrow)]
    ty: Option<&'a RawValue>,
    #[serde(borrow)]
    timestamp: Option<&'a RawValue>,
    #[serde(rename = "parentUuid", borrow)]
    parent_uuid: Option<&'a RawValue>,
    #[serde(rename = "requestId", borrow)]
    request_id: Option<&'a RawValue>,
    #[serde(rename = "isApiErrorMessage", borrow)]
    api_error: Option<&'a RawValue>,
    #[serde(rename = "costUSD", borrow)]
    cost_usd: Option<&'a RawValue>,
    #[serde(borrow)]
    message: Option<&'a RawValue>,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
    #[serde(borrow)]
    subtype: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct DataType<'a> {
    #[serde(rename = "type", borrow)]
    ty: Option<&'a RawValue>,
}

fn text_of(raw: Option<&RawValue>) -> Option<String> {
    raw.and_then(json_str).map(|c| c.into_owned())
}

fn response_key(msg_id: Option<&str>, request_id: Option<&str>) -> u64 {
    let mut k = String::new();
    k.push_str(msg_id.unwrap_or(""));
    k.push('\0');
    k.push_str(request_id.unwrap_or(""));
    fnv64(k.as_bytes())
}

/// Parses a line in one pass; a line whose nested values have an unexpected shape (a
/// duplicate key…) is read again with them kept raw.
fn parse_fast(text: &str) -> std::result::Result<Option<Line<'_>>, serde_json::Error> {
    match parse_lenient::<Line>(text) {
        Ok(v) => Ok(v),
        Err(e) if e.classify() == serde_json::error::Category::Data => {
            let Some(l) = parse_lenient::<LineLoose>(text)? else {
                return Ok(None);
            };
            fn nested<'a, T: Deserialize<'a>>(raw: Option<&'a RawValue>) -> Option<T> {
                raw.and_then(|r| serde_json::from_str(r.get()).ok())
            }
            Ok(Some(Line {
                ty: l.ty,
                timestamp: l.timestamp,
                parent_uuid: l.parent_uuid,
                request_id: l.request_id,
                api_error: l.api_error,
                cost_usd: l.cost_usd,
                message: nested(l.message),
                data: nested(l.data),
                subtype: l.subtype,
            }))
        }
        Err(e) => Err(e),
    }
}

/// What the first pass found.
struct Scan {
    /// Response key → line number of its last line.
    last_line: HashMap<u64, u64>,
    end_offset: u64,
    end_line: u64,
    tail: bool,
    session_id: Option<String>,
    /// The first `cwd` of the lines read (when asked for).
    cwd: Option<String>,
}

fn scan(
    file: &SourceFile,
    handle: &std::fs::File,
    start: u64,
    start_line: u64,
    max: usize,
    want_session: bool,
    want_cwd: bool,
) -> Result<Scan> {
    let mut reader = LineReader::open(handle, &file.path, start, start_line, None, max)?;
    let mut buf = Vec::new();
    let mut scan = Scan {
        last_line: HashMap::new(),
        end_offset: start,
        end_line: start_line,
        tail: false,
        session_id: None,
        cwd: None,
    };
    loop {
        match reader.next_line(&mut buf)? {
            Next::Eof => break,
            Next::Tail => {
                scan.tail = true;
                break;
            }
            Next::Line => {}
        }
        let want_sid = want_session && scan.session_id.is_none();
        let want_dir =
            want_cwd && scan.cwd.is_none() && memchr::memmem::find(&buf, b"\"cwd\"").is_some();
        let is_assistant = memchr::memmem::find(&buf, b"assistant").is_some();
        if !is_assistant && !want_sid && !want_dir {
            continue;
        }
        let Ok(text) = std::str::from_utf8(&buf) else {
            continue;
        };
        let Ok(Some(p)) = parse_lenient::<Pass1>(text) else {
            continue;
        };
        if want_sid && let Some(s) = text_of(p.session_id) {
            scan.session_id = Some(s);
        }
        if want_dir && let Some(cwd) = text_of(p.cwd).filter(|c| !c.is_empty()) {
            scan.cwd = Some(cwd);
        }
        if text_of(p.ty).as_deref() == Some("assistant") {
            let msg_id = p
                .message
                .and_then(|m| serde_json::from_str::<MsgId>(m.get()).ok())
                .and_then(|m| text_of(m.id));
            let key = response_key(msg_id.as_deref(), text_of(p.request_id).as_deref());
            scan.last_line.insert(key, reader.line_no());
        }
    }
    scan.end_offset = reader.offset();
    scan.end_line = reader.line_no();
    Ok(scan)
}

fn usage_of(u: &serde_json::Value) -> Usage {
    let n = |k: &str| u.get(k).and_then(json_count).unwrap_or(0);
    let cache_creation = n("cache_creation_input_tokens");
    let (c5, c1) = match u.get("cache_creation") {
        Some(cc) if cc.is_object() => {
            let c5 = cc
                .get("ephemeral_5m_input_tokens")
                .and_then(json_count)
                .unwrap_or(0);
            let c1 = cc
                .get("ephemeral_1h_input_tokens")
                .and_then(json_count)
                .unwrap_or(0);
            // Writes not broken down are 5-minute ones (the API's default TTL).
            (c5 + cache_creation.saturating_sub(c5 + c1), c1)
        }
        _ => (cache_creation, 0),
    };
    Usage {
        input: n("input_tokens"),
        output: n("output_tokens"),
        cache_read: n("cache_read_input_tokens"),
        cache_creation_5m: c5,
        cache_creation_1h: c1,
    }
}

pub(crate) fn import(
    file: &SourceFile,
    start: Option<&Cursor>,
    out: &mut Out<'_>,
) -> Result<Progress> {
    let role = role(&file.rel);
    let max = out.options.max_line_bytes;
    let (start_off, start_line) = start.map_or((0, 0), |c| (c.consumed, c.lines));
    let mut state: State = restore_state(file, start, State::default)?;
    let want_session = start.is_none() && role.session_from_path.is_none();
    let scan = scan(
        file,
        out.file,
        start_off,
        start_line,
        max,
        want_session,
        !state.project_is_cwd,
    )?;
    if start.is_none() {
        state.session_id = role
            .session_from_path
            .clone()
            .or(scan.session_id.clone())
            .unwrap_or_else(|| {
                let name = file.rel.rsplit('/').next().unwrap_or(&file.rel);
                name.trim_end_matches(".jsonl").to_owned()
            });
        state.file_hash = out.file_field(if role.main {
            0
        } else {
            file_hash24(&role.in_session)
        });
        state.project = role.project.clone();
        // A rewritten file read again: the responses its earlier versions counted.
        if let Some(earlier) = out.earlier.take() {
            let earlier: Earlier = serde_json::from_value(earlier).unwrap_or_default();
            state.counted = earlier.counted;
            state.counted.0.extend(earlier.open.iter().map(|o| o.key));
            state.open = earlier.open;
        }
    }
    // Where the session ran, as Codex says it: the project folder's name only until a
    // line says so (every line of the file counts under the session's first `cwd`).
    if let Some(cwd) = &scan.cwd {
        state.project = Some(cwd.clone());
        state.project_is_cwd = true;
    }
    // Up to where the first pass found the last complete line.
    let end = Some(scan.end_offset);
    let read = each_line(out, (start_off, start_line), end, |out, line_no, raw| {
        line(&mut state, &role, &scan, out, line_no, raw)
    })?;
    if read.lines != scan.end_line {
        return Err(Error::Changed {
            path: file.path.clone(),
            reason: "it shrank between the two passes".into(),
        });
    }
    let session_id = state.session_id.clone();
    Ok(Progress {
        consumed: scan.end_offset,
        lines: scan.end_line,
        session_id: Some(session_id),
        state: serde_json::to_value(&state).unwrap_or(serde_json::Value::Null),
        truncated_tail: scan.tail,
    })
}

fn line(
    state: &mut State,
    role: &Role,
    scan: &Scan,
    out: &mut Out<'_>,
    line_no: u64,
    raw: &[u8],
) -> Result<()> {
    let lt = LineText::new(raw);
    let seq = seq(SEQ_KIND_CLAUDE, state.file_hash, line_no);
    let mut d = Derived {
        project: state.project.clone(),
        ..Derived::default()
    };
    let parsed = out.parse_record(&lt, line_no, parse_fast)?;
    let keep = Keep::of(&lt, parsed.is_some());
    let Some(parsed) = parsed else {
        return out.line_event(&state.session_id.clone(), seq, line_no, d, keep, lt.crlf);
    };
    let Some(mut p) = parsed else {
        // Valid JSON, but not an object: kept, counted as an unknown type.
        d.unknown_type = Some("<not an object>".into());
        return out.line_event(&state.session_id.clone(), seq, line_no, d, keep, lt.crlf);
    };
    d.ts_ms = p
        .timestamp
        .and_then(json_str)
        .and_then(|t| parse_rfc3339_ms(&t));
    let ty = text_of(p.ty);
    let msg = p.message.take().and_then(|m| m.0);
    let blocks: &[Block] = msg.as_ref().map_or(&[], |m| &m.content.0);
    match ty.as_deref() {
        Some("assistant") => assistant(state, scan, out, &p, msg.as_ref(), blocks, &mut d, line_no),
        Some("user") => user(state, role, &p, blocks, &mut d, line_no),
        Some("progress") => {
            let data = p
                .data
                .as_ref()
                .and_then(|x| x.0.as_ref())
                .and_then(|x| text_of(x.ty));
            d.kind = Some(if data.as_deref() == Some("hook_progress") {
                EventKind::Hook
            } else {
                EventKind::Lifecycle
            });
        }
        Some("system") => {
            let hook = text_of(p.subtype).is_some_and(|s| s.contains("hook"));
            d.kind = Some(if hook {
                EventKind::Hook
            } else {
                EventKind::Lifecycle
            });
        }
        Some(t) if KNOWN_TYPES.contains(&t) => d.kind = Some(EventKind::Lifecycle),
        other => {
            d.kind = Some(EventKind::Lifecycle);
            d.unknown_type = Some(other.unwrap_or("<no type>").to_owned());
        }
    }
    out.line_event(&state.session_id.clone(), seq, line_no, d, keep, lt.crlf)
}

#[allow(clippy::too_many_arguments)]
fn assistant(
    state: &mut State,
    scan: &Scan,
    out: &mut Out<'_>,
    p: &Line<'_>,
    msg: Option<&Message<'_>>,
    blocks: &[Block<'_>],
    d: &mut Derived,
    line_no: u64,
) {
    let model = msg.and_then(|m| text_of(m.model));
    d.model = model.clone();
    let api_error = p.api_error.is_some_and(|v| v.get() == "true");
    let mut first_tool = None;
    for b in blocks {
        if text_of(b.ty).as_deref() == Some("tool_use") {
            d.tool_calls += 1;
            let id = text_of(b.id);
            let name = text_of(b.name).unwrap_or_default();
            if let Some(id) = &id {
                let call = (name.clone(), model.clone(), d.ts_ms);
                state.tools.insert(id.clone(), call);
            }
            if first_tool.is_none() {
                first_tool = Some((name, id));
            }
        }
    }
    d.kind = Some(if api_error {
        EventKind::Error
    } else if first_tool.is_some() {
        EventKind::ToolCall
    } else {
        EventKind::Message
    });
    if let Some((name, id)) = first_tool {
        d.tool = Some(name);
        d.tool_call_id = id;
    }
    if api_error {
        d.api_errors = 1;
    }
    let key = response_key(
        msg.and_then(|m| text_of(m.id)).as_deref(),
        text_of(p.request_id).as_deref(),
    );
    if scan.last_line.get(&key) != Some(&line_no) {
        return; // not the response's last line: no tokens here
    }
    d.stop_reason = msg.and_then(|m| text_of(m.stop_reason));
    let usage = msg
        .and_then(|m| m.usage.as_ref())
        .map(usage_of)
        .unwrap_or_default();
    d.has_cache_creation = true;
    d.has_cache_read = true;
    let reported = p
        .cost_usd
        .and_then(|c| serde_json::from_str::<f64>(c.get()).ok());
    let synthetic = model.as_deref() == Some("<synthetic>");
    let priced_model = if synthetic { None } else { model.as_deref() };
    let counted_before = !state.counted.0.insert(key);
    if let Some(i) = state.open.iter().position(|o| o.key == key) {
        // The response went on after the last import: only the difference is new.
        let before = state.open.remove(i);
        d.usage = Some(usage);
        out.price(d, priced_model, reported);
        let total_cost = d.cost_e6;
        d.usage = Some(Usage {
            input: usage.input.saturating_sub(before.input),
            output: usage.output.saturating_sub(before.output),
            cache_read: usage.cache_read.saturating_sub(before.cache_read),
            cache_creation_5m: usage.cache_creation_5m.saturating_sub(before.cache_5m),
            cache_creation_1h: usage.cache_creation_1h.saturating_sub(before.cache_1h),
        });
        d.cost_e6 = match (total_cost, before.cost_e6) {
            (Some(now), Some(then)) => Some(now - then),
            (now, _) => now,
        };
        d.unpriced = false;
        state.open.push(Open {
            key,
            input: usage.input.max(before.input),
            output: usage.output.max(before.output),
            cache_read: usage.cache_read.max(before.cache_read),
            cache_5m: usage.cache_creation_5m.max(before.cache_5m),
            cache_1h: usage.cache_creation_1h.max(before.cache_1h),
            cost_e6: total_cost.or(before.cost_e6),
        });
        d.flags.push("continued");
    } else if counted_before {
        // Counted in an earlier version of this (rewritten) file, which is gone from the
        // kept figures: its tokens and cost are on that version's event.
        d.usage = None;
        d.has_cache_creation = false;
        d.has_cache_read = false;
        d.flags.push("counted_before");
        return;
    } else {
        d.response = true;
        d.usage = Some(usage);
        out.price(d, priced_model, reported);
        state.open.push(Open {
            key,
            input: usage.input,
            output: usage.output,
            cache_read: usage.cache_read,
            cache_5m: usage.cache_creation_5m,
            cache_1h: usage.cache_creation_1h,
            cost_e6: d.cost_e6,
        });
    }
    if state.open.len() > OPEN_KEPT {
        state.open.remove(0);
    }
}

fn user(
    state: &mut State,
    role: &Role,
    p: &Line<'_>,
    blocks: &[Block<'_>],
    d: &mut Derived,
    line_no: u64,
) {
    let results: Vec<&Block> = blocks
        .iter()
        .filter(|b| text_of(b.ty).as_deref() == Some("tool_result"))
        .collect();
    if results.is_empty() {
        d.kind = Some(EventKind::Message);
        return;
    }
    // A resumed session's file starts with a copy of the previous session's last line (a
    // tool result whose call is in the other file): kept, not counted again.
    let continues_other = p.parent_uuid.is_some_and(|u| u.get() != "null");
    if role.main && line_no == 1 && continues_other {
        d.kind = Some(EventKind::Lifecycle);
        d.flags.push("resume_copy");
        return;
    }
    d.kind = Some(EventKind::ToolResult);
    for (i, b) in results.iter().enumerate() {
        d.tool_results += 1;
        if b.is_error.is_some_and(|v| v.get() == "true") {
            d.tool_errors += 1;
        }
        let id = text_of(b.tool_use_id);
        let call = id.as_ref().and_then(|id| state.tools.remove(id));
        if i == 0 {
            if let Some((name, model, called_ms)) = call {
                d.tool = Some(name);
                d.model = model;
                // From the call's line to the result's: how long the tool ran (and waited
                // for permission), as the transcript's clock saw it.
                d.latency_ms = (d.ts_ms.zip(called_ms))
                    .and_then(|(done, called)| done.checked_sub(called))
                    .and_then(|ms| u32::try_from(ms).ok());
            }
            d.tool_call_id = id;
        }
    }
}
