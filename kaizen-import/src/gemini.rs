//! Gemini CLI chats: `tmp/<projectHash>/chats/session-*.jsonl` (a header line, then one
//! record a line; a later record with the same message `id` replaces the earlier one;
//! `$set` lines update metadata) and the older `session-*.json` (one document).
//!
//! Tokens: a `gemini` message is one response, counted on the first record of its `id`
//! (a later record of the same id carries only what changed: usually nothing, or the tool
//! calls added). `tokens.input` includes `cached`: `tokens_in = input - cached`,
//! `cache_read = cached`, `tokens_out = output + thoughts`, `reasoning = thoughts`.
//!
//! A `.json` document is read whole (it is rewritten whole by Gemini CLI, so a changed
//! one is read again from the start). It becomes one event per message plus one
//! "document" event holding the text around the messages (export puts it back together
//! byte for byte). The document event's seq hashes that text, so a rewritten header is a
//! new event, not a conflict; export uses the latest.

use std::collections::BTreeMap;

use kaizen_core::EventKind;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::import::{Derived, Keep, LineText, Out, Progress, parse_lenient, restore_state};
use crate::lines::each_line;
use crate::price::Usage;
use crate::util::{PayloadBuilder, fnv64, json_count, json_str, parse_rfc3339_ms, seq};
use crate::{Cursor, Error, Result, SEQ_KIND_GEMINI, SourceFile};

/// The low 32 bits of a `.json` document event's seq have this bit set (message events use
/// their index + 1).
pub(crate) const DOCUMENT_BIT: u64 = 0x8000_0000;

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    session_id: String,
    project: Option<String>,
    /// The model of the latest `gemini` message (API errors count under it).
    model: Option<String>,
    /// Messages seen, by id, with what was counted for them.
    seen: BTreeMap<String, Seen>,
    /// `.json` documents: per message index, the hash of the text last emitted for it.
    #[serde(default)]
    emitted: Vec<u64>,
    /// `.json` documents: per message index, how many versions were emitted.
    #[serde(default)]
    versions: Vec<u32>,
    /// `.json` documents: the low seq bits of the document event last emitted.
    #[serde(default)]
    skeleton: Option<u64>,
    /// `.json` documents: the hash of the last emitted document event's text and message
    /// count (a message appended changes only the count).
    #[serde(default)]
    skeleton_hash: Option<u64>,
    /// `.json` documents: how many document events were emitted (each new one's payload
    /// `version`: export writes the highest, whatever the document's own times say).
    #[serde(default)]
    documents: u32,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Seen {
    input: u64,
    output: u64,
    cached: u64,
    thoughts: u64,
    tool_calls: u64,
    tool_results: u64,
    tool_errors: u64,
}

#[derive(Deserialize)]
struct Record<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(rename = "type", borrow)]
    ty: Option<&'a RawValue>,
    #[serde(borrow)]
    timestamp: Option<&'a RawValue>,
    #[serde(borrow)]
    model: Option<&'a RawValue>,
    tokens: Option<serde_json::Value>,
    #[serde(rename = "toolCalls", borrow)]
    tool_calls: Option<Vec<ToolCall<'a>>>,
    #[serde(rename = "sessionId", borrow)]
    session_id: Option<&'a RawValue>,
    #[serde(rename = "projectHash", borrow)]
    project_hash: Option<&'a RawValue>,
    #[serde(rename = "startTime", borrow)]
    start_time: Option<&'a RawValue>,
    #[serde(rename = "lastUpdated", borrow)]
    last_updated: Option<&'a RawValue>,
    #[serde(rename = "$set", borrow)]
    set: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct ToolCall<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    name: Option<&'a RawValue>,
    #[serde(borrow)]
    result: Option<&'a RawValue>,
    #[serde(borrow)]
    status: Option<&'a RawValue>,
    /// When the call was recorded, with its result.
    #[serde(borrow)]
    timestamp: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct SetTime<'a> {
    #[serde(rename = "lastUpdated", borrow)]
    last_updated: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Document<'a> {
    #[serde(rename = "sessionId", borrow)]
    session_id: Option<&'a RawValue>,
    #[serde(rename = "projectHash", borrow)]
    project_hash: Option<&'a RawValue>,
    #[serde(rename = "startTime", borrow)]
    start_time: Option<&'a RawValue>,
    #[serde(rename = "lastUpdated", borrow)]
    last_updated: Option<&'a RawValue>,
    #[serde(borrow)]
    messages: Option<&'a RawValue>,
}

fn text_of(raw: Option<&RawValue>) -> Option<String> {
    raw.and_then(json_str).map(|c| c.into_owned())
}

fn time_of(raw: Option<&RawValue>) -> Option<u64> {
    raw.and_then(json_str).and_then(|t| parse_rfc3339_ms(&t))
}

/// The project hash folder in `tmp/<hash>/chats/<file>`.
fn project_of(rel: &str) -> Option<String> {
    let parts: Vec<&str> = rel.split('/').collect();
    let i = parts.iter().rposition(|p| *p == "chats")?;
    (i >= 1).then(|| parts[i - 1].to_owned())
}

fn stem_of(rel: &str) -> String {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    name.rsplit_once('.').map_or(name, |(s, _)| s).to_owned()
}

pub(crate) fn import_lines(
    file: &SourceFile,
    start: Option<&Cursor>,
    out: &mut Out<'_>,
) -> Result<Progress> {
    let (start_off, start_line) = start.map_or((0, 0), |c| (c.consumed, c.lines));
    let earlier = out.earlier.take();
    let mut state: State = restore_state(file, start, || State {
        session_id: stem_of(&file.rel),
        project: project_of(&file.rel),
        // A rewritten file read again: the messages its earlier versions counted (each
        // counts again only what it adds).
        seen: earlier
            .and_then(|e| e.get("seen").cloned())
            .and_then(|seen| serde_json::from_value(seen).ok())
            .unwrap_or_default(),
        ..State::default()
    })?;
    let read = each_line(out, (start_off, start_line), None, |out, line_no, raw| {
        let lt = LineText::new(raw);
        let parsed = out.parse_record(&lt, line_no, parse_lenient::<Record>)?;
        let keep = Keep::of(&lt, parsed.is_some());
        let mut d = Derived::default();
        match parsed {
            Some(Some(rec)) => {
                if line_no == 1
                    && rec.ty.is_none()
                    && let Some(sid) = text_of(rec.session_id)
                {
                    state.session_id = sid;
                }
                record(&mut state, out, &rec, &mut d);
            }
            Some(None) => d.unknown_type = Some("<not an object>".into()),
            None => {}
        }
        d.project = state.project.clone();
        let seq = seq(SEQ_KIND_GEMINI, out.file_field(0), line_no);
        out.line_event(&state.session_id.clone(), seq, line_no, d, keep, lt.crlf)
    })?;
    Ok(Progress {
        consumed: read.consumed,
        lines: read.lines,
        session_id: Some(state.session_id.clone()),
        state: serde_json::to_value(&state).unwrap_or(serde_json::Value::Null),
        truncated_tail: read.tail,
    })
}

/// Classifies one record (a JSONL line or a `.json` message) and counts it.
fn record(state: &mut State, out: &Out<'_>, rec: &Record<'_>, d: &mut Derived) {
    d.kind = Some(EventKind::Lifecycle);
    let ty = text_of(rec.ty);
    let Some(ty) = ty else {
        if let Some(set) = rec.set {
            d.ts_ms = serde_json::from_str::<SetTime>(set.get())
                .ok()
                .and_then(|s| time_of(s.last_updated));
        } else if rec.session_id.is_some() {
            d.ts_ms = time_of(rec.start_time).or_else(|| time_of(rec.last_updated));
            if rec.project_hash.is_some() {
                state.project = text_of(rec.project_hash).or(state.project.take());
            }
        } else {
            d.unknown_type = Some("<no type>".into());
        }
        return;
    };
    d.ts_ms = time_of(rec.timestamp);
    let id = text_of(rec.id);
    let before = id.as_ref().and_then(|id| state.seen.get(id)).cloned();
    match ty.as_str() {
        "gemini" => {
            if let Some(m) = text_of(rec.model) {
                state.model = Some(m);
            }
            d.model = state.model.clone();
            let t = rec.tokens.as_ref();
            let n = |k: &str| t.and_then(|t| t.get(k)).and_then(json_count).unwrap_or(0);
            let calls = rec.tool_calls.as_deref().unwrap_or_default();
            let now = Seen {
                input: n("input"),
                output: n("output"),
                cached: n("cached"),
                thoughts: n("thoughts"),
                tool_calls: calls.len() as u64,
                tool_results: calls
                    .iter()
                    .filter(|c| c.result.is_some_and(|r| r.get() != "null"))
                    .count() as u64,
                tool_errors: calls
                    .iter()
                    .filter(|c| text_of(c.status).as_deref() == Some("error"))
                    .count() as u64,
            };
            let was = before.clone().unwrap_or_default();
            d.response = before.is_none();
            let usage = Usage {
                input: now
                    .input
                    .saturating_sub(now.cached)
                    .saturating_sub(was.input.saturating_sub(was.cached)),
                output: (now.output + now.thoughts).saturating_sub(was.output + was.thoughts),
                cache_read: now.cached.saturating_sub(was.cached),
                cache_creation_5m: 0,
                cache_creation_1h: 0,
            };
            if d.response || usage != Usage::default() {
                d.usage = Some(usage);
                d.reasoning = Some(now.thoughts.saturating_sub(was.thoughts));
                d.has_cache_read = true;
                let model = d.model.clone();
                out.price(d, model.as_deref(), None);
                if !d.response {
                    d.unpriced = false;
                }
            }
            d.tool_calls = now.tool_calls.saturating_sub(was.tool_calls);
            d.tool_results = now.tool_results.saturating_sub(was.tool_results);
            d.tool_errors = now.tool_errors.saturating_sub(was.tool_errors);
            if let Some(first) = calls.first() {
                d.kind = Some(EventKind::ToolCall);
                d.tool = text_of(first.name);
                d.tool_call_id = text_of(first.id);
                // Gemini CLI records a call with its result, stamped when it finished: from
                // the message that asked for it to then is how long the tool ran (as
                // Claude's and Codex's results). On the record that first has its result.
                let has_result = first.result.is_some_and(|r| r.get() != "null");
                if has_result && was.tool_results == 0 {
                    d.latency_ms = (time_of(first.timestamp).zip(d.ts_ms))
                        .and_then(|(done, called)| done.checked_sub(called))
                        .and_then(|ms| u32::try_from(ms).ok());
                }
            } else {
                d.kind = Some(EventKind::Message);
            }
            if let Some(id) = id {
                let keep = Seen {
                    input: now.input.max(was.input),
                    output: now.output.max(was.output),
                    cached: now.cached.max(was.cached),
                    thoughts: now.thoughts.max(was.thoughts),
                    tool_calls: now.tool_calls.max(was.tool_calls),
                    tool_results: now.tool_results.max(was.tool_results),
                    tool_errors: now.tool_errors.max(was.tool_errors),
                };
                state.seen.insert(id, keep);
            }
        }
        "error" => {
            d.kind = Some(EventKind::Error);
            d.model = state.model.clone();
            if before.is_none() {
                d.api_errors = 1;
            }
            if let Some(id) = id {
                state.seen.entry(id).or_default();
            }
        }
        "user" => d.kind = Some(EventKind::Message),
        "info" | "warning" => {}
        other => d.unknown_type = Some(other.to_owned()),
    }
}

/// Byte offset of a borrowed slice within `base`.
fn offset_in(base: &str, part: &str) -> usize {
    (part.as_ptr() as usize).saturating_sub(base.as_ptr() as usize)
}

/// Low seq bits of a rewritten `.json` message (version ≥ 1): `VERSION_BIT | version << 20 |
/// index`; the first version of message `index` has `index + 1`.
pub(crate) const VERSION_BIT: u64 = 0x4000_0000;

fn message_low_bits(index: usize, version: u32) -> u64 {
    if version == 0 {
        index as u64 + 1
    } else {
        VERSION_BIT | (u64::from(version.min(1023)) << 20) | (index as u64 & 0xF_FFFF)
    }
}

/// Imports a `.json` chat. It is read whole each time it changed; with the cursor of the
/// previous import, a message whose text did not change is not emitted again, and one that
/// changed (Gemini CLI rewrites the document as a message grows) is emitted as a new
/// version (payload `version`, its own seq) carrying only what it adds to the counts.
pub(crate) fn import_document(
    file: &SourceFile,
    start: Option<&Cursor>,
    out: &mut Out<'_>,
) -> Result<Progress> {
    let bytes = {
        use std::io::{Read as _, Seek as _};
        let mut handle = out.file.try_clone().map_err(|e| Error::io(&file.path, e))?;
        let mut bytes = Vec::new();
        handle
            .seek(std::io::SeekFrom::Start(0))
            .and_then(|_| handle.read_to_end(&mut bytes))
            .map_err(|e| Error::io(&file.path, e))?;
        bytes
    };
    if bytes.len() > out.options.max_line_bytes {
        return Err(Error::LineTooLong {
            path: file.path.clone(),
            line: 1,
            limit: out.options.max_line_bytes,
        });
    }
    let consumed = bytes.len() as u64;
    let lines = memchr::memchr_iter(b'\n', &bytes).count() as u64;
    out.report.lines += lines;
    out.report.bytes += consumed;
    let fresh = || State {
        session_id: stem_of(&file.rel),
        project: project_of(&file.rel),
        ..State::default()
    };
    let mut state = start
        .and_then(|c| c.state.read::<State>().ok())
        .unwrap_or_else(fresh);
    let text = match std::str::from_utf8(&bytes) {
        Ok(t) => t,
        Err(e) => {
            out.invalid(1, Some(e.valid_up_to() + 1), "invalid UTF-8".into())?;
            document_event(&mut state, out, None, &[], &bytes, 0, None)?;
            return Ok(done(consumed, lines, state));
        }
    };
    let doc = match parse_lenient::<Document>(text) {
        Ok(doc) => doc,
        Err(e) => {
            out.invalid(
                e.line() as u64,
                Some(e.column()),
                format!("invalid JSON at column {}: {e}", e.column()),
            )?;
            document_event(&mut state, out, Some(text), &[], &[], 0, None)?;
            return Ok(done(consumed, lines, state));
        }
    };
    let Some(doc) = doc else {
        document_event(&mut state, out, Some(text), &[], &[], 0, None)?;
        return Ok(done(consumed, lines, state));
    };
    if let Some(sid) = text_of(doc.session_id) {
        if state.session_id != sid && !state.emitted.is_empty() {
            state = fresh(); // another session in the same file: start over
        }
        state.session_id = sid;
    }
    state.model = None; // replayed below, message by message
    if let Some(p) = text_of(doc.project_hash) {
        state.project = Some(p);
    }
    let doc_ts = time_of(doc.last_updated).or_else(|| time_of(doc.start_time));
    let messages: Vec<&RawValue> = doc
        .messages
        .and_then(|m| serde_json::from_str(m.get()).ok())
        .unwrap_or_default();
    if messages.is_empty() {
        document_event(&mut state, out, Some(text), &[], &[], 0, doc_ts)?;
        return Ok(done(consumed, lines, state));
    }
    let first = offset_in(text, messages[0].get());
    let last = messages[messages.len() - 1];
    let end = offset_in(text, last.get()) + last.get().len();
    document_event(
        &mut state,
        out,
        Some(&text[..first]),
        &[&text[end..]],
        &[],
        messages.len(),
        doc_ts,
    )?;
    let mut prev_end = first;
    // Line numbers counted as we go (counting from the start each time was quadratic).
    let mut counted_to = 0;
    let mut line_no = 1u64;
    for (i, m) in messages.iter().enumerate() {
        let start = offset_in(text, m.get());
        let before = &text[prev_end..start];
        prev_end = start + m.get().len();
        line_no += memchr::memchr_iter(b'\n', &text.as_bytes()[counted_to..start]).count() as u64;
        counted_to = start;
        let mut d = Derived::default();
        match parse_lenient::<Record>(m.get()) {
            Ok(Some(rec)) => record(&mut state, out, &rec, &mut d),
            _ => d.unknown_type = Some("<not an object>".into()),
        }
        let before_kept = if i > 0 { before } else { "" };
        let hash = fnv64(format!("{before_kept}\0{}", m.get()).as_bytes());
        if state.emitted.get(i) == Some(&hash) {
            continue; // emitted by an earlier import, unchanged
        }
        if state.emitted.len() <= i {
            state.emitted.resize(i + 1, 0);
            state.versions.resize(i + 1, 0);
        }
        let version = state.versions[i];
        state.emitted[i] = hash;
        state.versions[i] = version.saturating_add(1);
        d.project = state.project.clone();
        d.numbers.push(("index", i as u64));
        if version > 0 {
            d.numbers.push(("version", u64::from(version)));
        }
        if i > 0 {
            d.strings.push(("before", before.to_owned()));
        }
        let seq = seq(SEQ_KIND_GEMINI, 0, message_low_bits(i, version));
        out.line_event(
            &state.session_id.clone(),
            seq,
            line_no,
            d,
            Keep::Record(m.get()),
            false,
        )?;
    }
    Ok(done(consumed, lines, state))
}

fn done(consumed: u64, lines: u64, state: State) -> Progress {
    Progress {
        consumed,
        lines,
        session_id: Some(state.session_id.clone()),
        state: serde_json::to_value(&state).unwrap_or(serde_json::Value::Null),
        truncated_tail: false,
    }
}

/// The event holding a `.json` document's text around its messages: `head` (up to the
/// first message, or the whole text when there is none), `tail` (after the last), and the
/// number of messages; or the whole file as base64 when it is not UTF-8.
fn document_event(
    state: &mut State,
    out: &mut Out<'_>,
    head: Option<&str>,
    tail: &[&str],
    raw: &[u8],
    messages: usize,
    ts: Option<u64>,
) -> Result<()> {
    use base64::Engine as _;
    let mut p = PayloadBuilder::new(
        "gemini",
        out.rel,
        0,
        head.map_or(raw.len() * 2, str::len) + 64,
    );
    p.opt_str("project", state.project.as_deref());
    p.num("messages", messages);
    let mut hashed = String::new();
    match head {
        Some(h) => {
            p.str("head", h);
            hashed.push_str(h);
        }
        None => {
            let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
            p.str("bytes_b64", &b64);
            hashed.push_str(&b64);
        }
    }
    if let Some(t) = tail.first() {
        p.str("tail", t);
        hashed.push('\0');
        hashed.push_str(t);
    }
    // What the event says: its text and how many messages go between head and tail (a
    // message appended changes only that, not even `lastUpdated` need change).
    let content = fnv64(format!("{hashed}\0{messages}").as_bytes());
    if state.skeleton_hash == Some(content) {
        return Ok(()); // emitted by an earlier import, unchanged
    }
    // Cursors from before `documents` was kept: the one they emitted is the first.
    let version = match (state.documents, state.skeleton) {
        (0, Some(_)) => 1,
        (n, _) => n,
    };
    // The first version keeps the seq of the text alone (as imports before versions were
    // counted gave it); a later one mixes its number in, so that a text seen again after
    // another (A, B, A) is a new event, never a conflict with the first.
    let low = match version {
        0 => DOCUMENT_BIT | (fnv64(hashed.as_bytes()) & 0x7FFF_FFFF),
        v => DOCUMENT_BIT | (fnv64(format!("{hashed}\0#{v}").as_bytes()) & 0x7FFF_FFFF),
    };
    p.nonzero("version", u64::from(version));
    let payload = kaizen_core::Payload::from_json_text(p.finish())
        .map_err(|e| Error::line(out.path, 1, format!("internal payload error: {e}")))?;
    state.skeleton = Some(low);
    state.skeleton_hash = Some(content);
    state.documents = version.saturating_add(1);
    let d = Derived {
        kind: Some(EventKind::Lifecycle),
        ts_ms: ts,
        project: state.project.clone(),
        ..Derived::default()
    };
    out.emit(
        &state.session_id.clone(),
        seq(SEQ_KIND_GEMINI, 0, low),
        0,
        d,
        payload,
    )
}
