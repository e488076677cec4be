//! The import driver: cursors, chunked hand-off to the sink, and what every format shares
//! (a line's text kept exactly, its events' payload wrapper, the report's accounting).

use std::path::Path;
use std::time::UNIX_EPOCH;

use base64::Engine as _;
use kaizen_core::{Event, EventKind, EventSource, Payload};

use crate::chunks::Chunks;
use crate::price::{PriceTable, Usage};
use crate::redact::{RedactCounts, Redactor};
use crate::report::{MAX_SKIPPED_SHOWN, SourceReport};
use crate::util::PayloadBuilder;
use crate::{Agent, Cursor, CursorState, Error, Result, SinkError, SourceFile};

/// Bytes of a file's head hashed into its cursor.
pub(crate) const HEAD_LEN: u64 = 4096;

/// How to import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Keep a line that is not valid JSON (or not a valid kaizen event) as text, count it
    /// in [`SourceReport::lines_skipped`] and go on; otherwise such a line stops the import
    /// with [`Error::Line`] (`file:line: reason`).
    pub skip_invalid: bool,
    /// Events handed to the sink at a time (at most).
    pub chunk_events: usize,
    /// Payload bytes handed to the sink at a time (about; a single bigger event goes alone).
    pub chunk_bytes: usize,
    /// The longest line read; a longer one is [`Error::LineTooLong`]. Default 256 MiB.
    pub max_line_bytes: usize,
    /// The price table for costs a source does not state.
    pub prices: &'static PriceTable,
    /// Called with the bytes read since its last call, each time a chunk goes to the sink
    /// and at the end of each file (for a progress bar: a file's share is its size minus its
    /// cursor's `consumed`).
    pub on_bytes: Option<OnBytes>,
    /// Replaces secrets in what is kept of each line (its `record`, `text` or `bytes_b64`;
    /// an upstream database row's payload; a kaizen event's payload) by
    /// `[REDACTED:<detector>]`, counted per detector in [`SourceReport::redacted`]. Typed
    /// fields (session id, tool, model, tokens…) come from the line as written. Default: the
    /// built-in detectors ([`Redactor::builtin`]); `None` keeps secrets.
    pub redactor: Option<std::sync::Arc<Redactor>>,
}

/// A progress callback: bytes read since the last call.
#[derive(Clone)]
pub struct OnBytes(pub std::sync::Arc<dyn Fn(u64) + Send + Sync>);

impl std::fmt::Debug for OnBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OnBytes(..)")
    }
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            skip_invalid: false,
            chunk_events: 2048,
            chunk_bytes: 8 << 20,
            max_line_bytes: 256 << 20,
            prices: PriceTable::shipped(),
            on_bytes: None,
            redactor: Some(Redactor::builtin()),
        }
    }
}

/// The outcome of importing one file.
#[derive(Debug, Clone)]
pub struct FileImport {
    /// Where the next import of this file goes on from.
    pub cursor: Cursor,
    /// What this import found in the file.
    pub report: SourceReport,
}

/// Imports one file, from `cursor` when given (only bytes after it are read; an unchanged
/// file is not read at all; a file whose head changed is read again from the start).
/// Events go to `sink` in chunks, in file order; nothing is buffered beyond a chunk (and,
/// in a file whose first lines carry no time, those lines until the first time).
///
/// The returned cursor is valid only once every chunk handed to `sink` is durably stored:
/// keep it with the data, in the same commit.
pub fn import_file(
    file: &SourceFile,
    cursor: Option<&Cursor>,
    options: &ImportOptions,
    sink: &mut dyn FnMut(Vec<Event>) -> Result<(), SinkError>,
) -> Result<FileImport> {
    // The cursor of a file that was never read (see `vanished`) is no cursor.
    let cursor = cursor.filter(|c| !is_placeholder(c));
    if file.agent == Agent::KaizenDb {
        // A database, not a file of lines: its cursor is a row id.
        return crate::kaizen_db::import(file, cursor, options, sink);
    }
    let meta = match std::fs::metadata(&file.path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vanished(file, cursor)),
        Err(e) => return Err(unreadable(file, e)),
    };
    let (size, mtime_ms) = size_and_time(&meta);
    let mut report = SourceReport {
        files: 1,
        ..SourceReport::default()
    };
    let whole_document = is_gemini_document(file);
    let newline_read: Option<Cursor>;
    // The line whose `\n` this import found, when the last import took it without one.
    let mut ended: Option<serde_json::Value> = None;
    let mut start = None;
    if let Some(c) = cursor {
        if c.agent != file.agent || c.path != file.rel {
            return Err(Error::CursorMismatch {
                path: file.path.clone(),
                cursor_agent: c.agent.name().to_owned(),
                cursor_path: c.path.clone(),
            });
        }
        let unchanged = c.size == size && c.mtime_ms == mtime_ms && c.consumed == size;
        if unchanged {
            report.files_unchanged = 1;
            if let Some(s) = session_of(c) {
                report.sessions.insert(s.to_owned());
            }
            return Ok(FileImport {
                cursor: c.clone(),
                report,
            });
        }
    }
    // One handle for every read of this import: a file deleted from here on is still read
    // whole, as it was when opened.
    let handle = match std::fs::File::open(&file.path) {
        Ok(handle) => handle,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vanished(file, cursor)),
        Err(e) => return Err(unreadable(file, e)),
    };
    // The file opened, should it have been replaced since it was looked at.
    let (size, mtime_ms) = match handle.metadata() {
        Ok(meta) => size_and_time(&meta),
        Err(e) => return Err(unreadable(file, e)),
    };
    if let Some(c) = cursor {
        let same_head = size >= c.consumed
            && !whole_document
            && crate::lines::head_hash(&handle, &file.path, c.head_len)? == c.head_hash;
        if !same_head {
            report.files_reread = 1;
        } else if !newline_pending(c) || size == c.consumed {
            start = Some(c);
        } else if crate::lines::byte_at(&handle, &file.path, c.consumed)? == Some(b'\n') {
            // The last import took a last line that had no `\n` yet: here it is. Its line
            // is stored; the lines after it are new.
            let mut after = c.clone();
            after.consumed += 1;
            let mut state = after.state.to_value();
            if let serde_json::Value::Object(map) = &mut state {
                ended = map.remove(NEWLINE_PENDING);
            }
            after.state = CursorState::of(&state);
            report.bytes += 1;
            newline_read = Some(after);
            start = newline_read.as_ref();
        } else {
            // That line was not finished after all (it goes on without a `\n`): the file
            // is not the one imported, and is read again as a new version of it.
            report.files_reread = 1;
        }
    }
    // A file read from its start is checked to be this agent's: another agent's logs
    // would be stored as events of the wrong format (and again by the right import).
    if start.is_none()
        && !whole_document
        && matches!(file.agent, Agent::Claude | Agent::Codex | Agent::Gemini)
        && let Some(other) =
            crate::sniff::agent_of_file(&handle, &file.path, options.max_line_bytes)?
        && other != file.agent
    {
        return refuse(file, cursor, other, options);
    }
    // (A Gemini `.json` document is rewritten whole as it grows: read again each time, as
    // a matter of course, not worth a note.)
    if report.files_reread == 1 && !whole_document {
        report.notes.push(format!(
            "{}: rewritten since the last import (its start changed): read again as a new \
             version, its lines stored beside the earlier ones; responses counted before \
             carry no tokens again",
            file.path.display()
        ));
    }
    // A file read again because it was rewritten is a new version of the file: its lines
    // get identities of their own (kept beside the old version's, never in conflict).
    let generation = match (cursor, start) {
        (Some(c), None) if !whole_document => c.generation + 1,
        (Some(c), _) => c.generation,
        (None, _) => 0,
    };
    // What the earlier versions counted, for a file read again: each response's tokens
    // are counted once, in the version that first had it.
    let earlier = match (cursor, start) {
        (Some(c), None) if !whole_document => Some(c.state.to_value()),
        _ => None,
    };
    let mut out = Out {
        agent: file.agent,
        rel: &file.rel,
        path: &file.path,
        file: &handle,
        earlier,
        options,
        chunks: Chunks::new(options, sink),
        untimed: Vec::new(),
        untimed_bytes: 0,
        last_ts: start.and_then(|c| c.state.get("last_ts_ms").and_then(|v| v.as_u64())),
        fallback_ts: mtime_ms.and_then(|m| u64::try_from(m).ok()).unwrap_or(0),
        report,
        generation,
        unterminated: false,
        unterminated_id: None,
        in_line: false,
        flush_due: false,
    };
    let progress = match file.agent {
        Agent::Claude => crate::claude::import(file, start, &mut out)?,
        Agent::Codex => crate::codex::import(file, start, &mut out)?,
        Agent::Gemini if whole_document => crate::gemini::import_document(file, cursor, &mut out)?,
        Agent::Gemini => crate::gemini::import_lines(file, start, &mut out)?,
        Agent::Kaizen => crate::native::import(start, &mut out)?,
        // Dispatched at the top; kept here so the match stays exhaustive without a panic.
        Agent::KaizenDb => {
            return crate::kaizen_db::import(file, cursor, options, out.chunks.sink());
        }
    };
    // The `\n` came, and no line after it yet: only an event of its own keeps it (the
    // line's event is stored, and says it had none), so export writes it back.
    if let (Some(line), Some(c)) = (&ended, start)
        && progress.lines == c.lines
    {
        out.newline_event(line)?;
    }
    out.finish()?;
    // Still waiting for the `\n` of the last line: one read this time, or one of an
    // earlier import when nothing was read after it.
    let pending = match start {
        Some(c) if progress.consumed == c.consumed => c.state.get(NEWLINE_PENDING),
        _ if out.unterminated => Some(out.unterminated_id.take().unwrap_or(true.into())),
        _ => None,
    };
    let mut state = progress.state;
    if let serde_json::Value::Object(map) = &mut state {
        if let Some(ts) = out.last_ts {
            map.insert("last_ts_ms".into(), ts.into());
        }
        match pending {
            Some(line) => map.insert(NEWLINE_PENDING.into(), line),
            None => map.remove(NEWLINE_PENDING),
        };
    }
    let head_len = progress.consumed.min(HEAD_LEN);
    let cursor = Cursor {
        agent: file.agent,
        path: file.rel.clone(),
        size,
        mtime_ms,
        head_len,
        head_hash: crate::lines::head_hash(&handle, &file.path, head_len)?,
        consumed: progress.consumed,
        lines: progress.lines,
        session_id: progress.session_id,
        state: CursorState::of(&state),
        generation,
    };
    let mut report = out.report;
    if progress.truncated_tail {
        report.truncated_tails.push(file.path.display().to_string());
    }
    if let Some(s) = session_of(&cursor) {
        report.sessions.insert(s.to_owned());
    }
    Ok(FileImport { cursor, report })
}

/// A file's size and modification time (ms since the epoch, when the OS has one).
fn size_and_time(meta: &std::fs::Metadata) -> (u64, Option<i64>) {
    let mtime_ms = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as i64);
    (meta.len(), mtime_ms)
}

/// The outcome for a file gone before it was opened (deleted after discovery: Claude Code's
/// own cleanup can run during an import): skipped, noted, its cursor kept as it was. A
/// file never imported has no cursor to keep: it gets a placeholder saying nothing was
/// read (size 0, no mtime, nothing consumed), which the next import treats as no cursor.
pub(crate) fn vanished(file: &SourceFile, cursor: Option<&Cursor>) -> FileImport {
    let mut report = SourceReport {
        files: 1,
        files_vanished: 1,
        ..SourceReport::default()
    };
    report.notes.push(format!(
        "{}: gone before it was read (deleted since it was found); skipped, its cursor kept",
        file.path.display()
    ));
    FileImport {
        cursor: cursor.cloned().unwrap_or_else(|| placeholder(file)),
        report,
    }
}

/// A file that is another agent's: [`Error::WrongAgent`], or with `skip_invalid` skipped
/// with a note (nothing of it read into events, its cursor as it was).
fn refuse(
    file: &SourceFile,
    cursor: Option<&Cursor>,
    looks_like: Agent,
    options: &ImportOptions,
) -> Result<FileImport> {
    let (expected, _) = crate::sniff::described(file.agent);
    let (looks, command) = crate::sniff::described(looks_like);
    if !options.skip_invalid {
        return Err(Error::WrongAgent {
            path: file.path.clone(),
            expected: expected.into(),
            looks_like: looks.into(),
            command: command.into(),
        });
    }
    let mut report = SourceReport {
        files: 1,
        files_refused: 1,
        ..SourceReport::default()
    };
    report.notes.push(format!(
        "{}: skipped, not {expected}: it looks like {looks} ({command} {}); nothing of it stored",
        file.path.display(),
        file.path.display()
    ));
    Ok(FileImport {
        cursor: cursor.cloned().unwrap_or_else(|| placeholder(file)),
        report,
    })
}

/// The cursor of a file of which nothing was read (see [`vanished`]).
fn placeholder(file: &SourceFile) -> Cursor {
    Cursor {
        agent: file.agent,
        path: file.rel.clone(),
        size: 0,
        mtime_ms: None,
        head_len: 0,
        head_hash: 0,
        consumed: 0,
        lines: 0,
        session_id: None,
        state: CursorState::default(),
        generation: 0,
    }
}

/// Whether `c` is a [`placeholder`]: a real cursor of an empty file has its mtime.
fn is_placeholder(c: &Cursor) -> bool {
    c.size == 0 && c.mtime_ms.is_none() && c.consumed == 0 && c.lines == 0 && c.generation == 0
}

fn unreadable(file: &SourceFile, source: std::io::Error) -> Error {
    Error::Unreadable {
        path: file.path.clone(),
        source,
    }
}

/// The session a file counts for in a report: none while nothing of it was read (an empty
/// transcript, or one whose first line is still being written, holds no session yet).
fn session_of(c: &Cursor) -> Option<&str> {
    c.session_id.as_deref().filter(|_| c.consumed > 0)
}

/// The key of a cursor's state saying that the file ended in a complete record without
/// its `\n` (imported, see `lines::each_line`): the next import expects that `\n` first.
/// Its value names that line's event (`{"session_id","seq","line"}`; `true` for kaizen's
/// own events, which export does not write).
const NEWLINE_PENDING: &str = "newline_pending";

fn newline_pending(c: &Cursor) -> bool {
    c.state.get(NEWLINE_PENDING).is_some()
}

/// The low 32 bits of the seq of a line's late `\n` event: this tag, and the line's number
/// (line numbers stay far below 2^30; Gemini's `.json` documents, which use the high bits
/// too, are never line-based).
const NEWLINE_BITS: u64 = 0xC000_0000;

fn is_gemini_document(file: &SourceFile) -> bool {
    file.agent == Agent::Gemini && file.rel.ends_with(".json")
}

/// Where a format's import of a file stopped.
pub(crate) struct Progress {
    pub consumed: u64,
    pub lines: u64,
    pub session_id: Option<String>,
    pub state: serde_json::Value,
    pub truncated_tail: bool,
}

/// A source's state saved in `start` (the cursor it continues from), or `fresh` for a file
/// read from its beginning. Errors: [`Error::Changed`] when the cursor's state is not one
/// this source wrote.
pub(crate) fn restore_state<T: serde::de::DeserializeOwned>(
    file: &SourceFile,
    start: Option<&Cursor>,
    fresh: impl FnOnce() -> T,
) -> Result<T> {
    match start {
        Some(c) => c.state.read().map_err(|e| Error::Changed {
            path: file.path.clone(),
            reason: format!("unreadable cursor state: {e}"),
        }),
        None => Ok(fresh()),
    }
}

/// `text` as `T`; `Ok(None)` when it is valid JSON of another shape (a record an importer
/// keeps without reading it), an error only for text that is not JSON.
pub(crate) fn parse_lenient<'a, T: serde::Deserialize<'a>>(
    text: &'a str,
) -> std::result::Result<Option<T>, serde_json::Error> {
    match serde_json::from_str::<T>(text) {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.classify() == serde_json::error::Category::Data => {
            serde_json::from_str::<serde::de::IgnoredAny>(text).map(|_| None)
        }
        Err(e) => Err(e),
    }
}

/// A line's exact text, classified.
pub(crate) struct LineText<'a> {
    /// The text without `\n` and without a final `\r` (see `crlf`), when valid UTF-8.
    pub text: Option<&'a str>,
    /// The raw bytes (without `\n`), for a line that is not valid UTF-8.
    pub bytes: &'a [u8],
    /// The line ended in `\r\n`.
    pub crlf: bool,
}

impl<'a> LineText<'a> {
    pub(crate) fn new(raw: &'a [u8]) -> Self {
        let (body, crlf) = match raw.strip_suffix(b"\r") {
            Some(body) => (body, true),
            None => (raw, false),
        };
        match simdutf8::basic::from_utf8(body) {
            Ok(text) => LineText {
                text: Some(text),
                bytes: raw,
                crlf,
            },
            Err(_) => LineText {
                text: None,
                bytes: raw,
                crlf: false,
            },
        }
    }

    /// Whether `text` can be stored as the payload's `record` exactly: JSON with no
    /// whitespace around it (the caller has checked it is valid JSON).
    pub(crate) fn exact_json(&self) -> Option<&'a str> {
        let text = self.text?;
        let first = *text.as_bytes().first()?;
        let last = *text.as_bytes().last()?;
        (!first.is_ascii_whitespace() && !last.is_ascii_whitespace()).then_some(text)
    }

    pub(crate) fn is_blank(&self) -> bool {
        self.text.is_some_and(crate::util::is_blank)
    }
}

/// How a line's text is kept in its event's payload.
pub(crate) enum Keep<'a> {
    /// Valid JSON, exactly as written: `"record": <text>`.
    Record(&'a str),
    /// Not storable as a JSON value exactly: `"text": "<text>"`.
    Text(&'a str),
    /// Not UTF-8: `"bytes_b64": "<base64 of the line>"`.
    Bytes(&'a [u8]),
}

impl<'a> Keep<'a> {
    /// Chooses `Record` when the line parsed as JSON (`parsed`) and has no whitespace around it.
    pub(crate) fn of(line: &LineText<'a>, parsed: bool) -> Self {
        match (line.text, parsed.then(|| line.exact_json()).flatten()) {
            (_, Some(json)) => Keep::Record(json),
            (Some(text), None) => Keep::Text(text),
            (None, _) => Keep::Bytes(line.bytes),
        }
    }

    fn len(&self) -> usize {
        match self {
            Keep::Record(t) | Keep::Text(t) => t.len(),
            Keep::Bytes(b) => b.len() * 4 / 3 + 4,
        }
    }
}

/// A line kept as text: JSON with whitespace around it is redacted as JSON (export gives it
/// back, and it must stay JSON); anything else as text.
fn redact_line_text<'t>(
    r: &Redactor,
    text: &'t str,
    counts: &mut RedactCounts,
) -> std::borrow::Cow<'t, str> {
    let mut found = RedactCounts::new();
    match r.redact_text(text, &mut found) {
        std::borrow::Cow::Borrowed(t) => std::borrow::Cow::Borrowed(t),
        _ if serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() => {
            r.redact_json(text, counts)
        }
        owned => {
            for (k, v) in found {
                *counts.entry(k).or_default() += v;
            }
            owned
        }
    }
}

/// Redacts `event`'s payload (JSON text) in place. Errors: the redacted payload is not a
/// payload (cannot happen: [`Redactor::redact_json`] keeps JSON), as a reason.
pub fn redact_payload(
    r: &Redactor,
    event: &mut Event,
    counts: &mut RedactCounts,
) -> std::result::Result<(), String> {
    if let std::borrow::Cow::Owned(text) = r.redact_json(event.payload.as_json_text(), counts) {
        event.payload = Payload::from_json_text(text)
            .map_err(|e| format!("internal error: the redacted payload is not JSON: {e}"))?;
    }
    Ok(())
}

/// Where a cost came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CostSource {
    /// Stated by the source (Claude `costUSD`).
    Reported,
    /// Computed from the price table.
    Computed,
}

/// What a format derived from one line: the event's typed fields and the figures it counts.
#[derive(Default)]
pub(crate) struct Derived {
    pub kind: Option<EventKind>,
    pub ts_ms: Option<u64>,
    pub tool: Option<String>,
    pub tool_call_id: Option<String>,
    pub stop_reason: Option<String>,
    /// A tool result's latency: its line's time minus its call's, in milliseconds.
    pub latency_ms: Option<u32>,
    pub model: Option<String>,
    pub project: Option<String>,
    /// This event carries the tokens of a response counted here (not a difference).
    pub response: bool,
    /// Tokens on this event (a response's, or the difference of a continued one).
    pub usage: Option<Usage>,
    /// Reasoning tokens, where the source reports them.
    pub reasoning: Option<u64>,
    /// The source reports cache writes (Claude): the cache-creation column is set.
    pub has_cache_creation: bool,
    /// The source reports cache reads: the cache-read column is set.
    pub has_cache_read: bool,
    pub cost_e6: Option<i64>,
    pub cost_source: Option<CostSource>,
    /// The model is not in the price table (reported once per response).
    pub unpriced: bool,
    pub tool_calls: u64,
    pub tool_results: u64,
    pub tool_errors: u64,
    pub api_errors: u64,
    /// A record type the importer does not know.
    pub unknown_type: Option<String>,
    /// Extra `true` flags for the payload (e.g. `resume_copy`).
    pub flags: Vec<&'static str>,
    /// Extra numeric payload keys.
    pub numbers: Vec<(&'static str, u64)>,
    /// Extra string payload keys.
    pub strings: Vec<(&'static str, String)>,
}

/// The sink side of an import: builds events, fills missing times, hands chunks over, and
/// keeps the report.
pub(crate) struct Out<'a> {
    pub agent: Agent,
    pub rel: &'a str,
    pub path: &'a Path,
    /// The file, opened once: every read of this import goes through it.
    pub file: &'a std::fs::File,
    /// For a file read again because it was rewritten: the state the previous import left
    /// (what the earlier versions counted), which a source carries into the new version.
    pub earlier: Option<serde_json::Value>,
    pub options: &'a ImportOptions,
    chunks: Chunks<'a>,
    /// Events of the file's first lines that carry no time, waiting for the first time.
    untimed: Vec<Event>,
    untimed_bytes: usize,
    /// The file's version (see [`Cursor::generation`]).
    generation: u32,
    /// The time of the latest line that had one.
    pub last_ts: Option<u64>,
    /// The file's mtime: the time of lines when no line of the file has one.
    fallback_ts: u64,
    pub report: SourceReport,
    /// The line being handed over is the file's last and has no `\n` (a complete record the
    /// agent has not ended yet): its event says `no_newline`, so export writes it without
    /// one unless a later line follows.
    pub unterminated: bool,
    /// That line's event, as the cursor keeps it (`{"session_id","seq","line"}`).
    unterminated_id: Option<serde_json::Value>,
    /// A line is being turned into events (see `lines::each_line`): a full chunk waits for
    /// the line's end, when its buffer is freed, to be handed over.
    pub(crate) in_line: bool,
    /// A chunk filled up during the line.
    flush_due: bool,
}

/// Lines with no time held back at most, waiting for a line with one; past this they take
/// the file's modification time.
const MAX_UNTIMED: usize = 1024;

impl Out<'_> {
    /// The 24-bit file field of this file's `seq`s: `base` (the file's place in its
    /// session), with the file's version mixed in from its first rewrite on.
    pub(crate) fn file_field(&self, base: u32) -> u32 {
        match self.generation {
            0 => base,
            g => crate::util::file_hash24(&format!("{base}#{g}")),
        }
    }

    /// A line's record, parsed by `parse`: `None` for a blank line (kept as text) and for
    /// one that is not valid UTF-8 or JSON, which is reported as [`Out::invalid`] first.
    pub(crate) fn parse_record<'t, T>(
        &mut self,
        line: &LineText<'t>,
        line_no: u64,
        parse: impl FnOnce(&'t str) -> std::result::Result<T, serde_json::Error>,
    ) -> Result<Option<T>> {
        match line.text {
            Some(text) if !line.is_blank() => match parse(text) {
                Ok(record) => Ok(Some(record)),
                Err(e) => {
                    let error = kaizen_core::Error::json_syntax(e);
                    let column = match &error {
                        kaizen_core::Error::Syntax { column, .. } => Some(*column),
                        _ => None,
                    };
                    self.invalid(line_no, column, error.to_string())?;
                    Ok(None)
                }
            },
            Some(_) => Ok(None),
            None => {
                self.invalid(line_no, None, "invalid UTF-8".into())?;
                Ok(None)
            }
        }
    }

    /// Reports a line that is not valid: an error, or with `skip_invalid` a note and `Ok`.
    pub(crate) fn invalid(
        &mut self,
        line: u64,
        column: Option<usize>,
        reason: String,
    ) -> Result<()> {
        if !self.options.skip_invalid {
            return Err(Error::Line {
                path: self.path.to_owned(),
                line,
                column,
                key: None,
                reason,
            });
        }
        self.report.lines_skipped += 1;
        if self.report.skipped.len() < MAX_SKIPPED_SHOWN {
            self.report
                .skipped
                .push(format!("{}:{line}: {reason}", self.path.display()));
        }
        Ok(())
    }

    /// Builds and emits the event of one line.
    pub(crate) fn line_event(
        &mut self,
        session_id: &str,
        seq: u64,
        line: u64,
        d: Derived,
        keep: Keep<'_>,
        crlf: bool,
    ) -> Result<()> {
        let mut p = PayloadBuilder::new(self.agent.name(), self.rel, line, keep.len() + 128);
        p.opt_str("model", d.model.as_deref())
            .opt_str("project", d.project.as_deref())
            .flag("response", d.response);
        if let Some(u) = &d.usage
            && d.has_cache_creation
        {
            p.num("cache_creation_5m", u.cache_creation_5m)
                .num("cache_creation_1h", u.cache_creation_1h);
        }
        if let Some(source) = d.cost_source {
            match source {
                CostSource::Reported => p.str("cost_source", "reported"),
                CostSource::Computed => p.str(
                    "cost_source",
                    &format!("computed:{}", self.options.prices.version()),
                ),
            };
        }
        // The file's version, from its first rewrite on: export writes the latest.
        p.nonzero("generation", u64::from(self.generation));
        p.nonzero("tool_calls", d.tool_calls)
            .nonzero("tool_results", d.tool_results)
            .nonzero("tool_errors", d.tool_errors)
            .nonzero("api_errors", d.api_errors);
        for flag in &d.flags {
            p.flag(flag, true);
        }
        for (k, v) in &d.numbers {
            p.num(k, v);
        }
        for (k, v) in &d.strings {
            p.str(k, v);
        }
        p.flag("crlf", crlf).flag("no_newline", self.unterminated);
        if self.unterminated {
            self.unterminated_id = Some(serde_json::json!({
                "session_id": session_id, "seq": seq, "line": line,
            }));
        }
        let (redactor, counts) = (self.options.redactor.as_deref(), &mut self.report.redacted);
        match keep {
            Keep::Record(json) => match redactor {
                Some(r) => p.raw("record", &r.redact_json(json, counts)),
                None => p.raw("record", json),
            },
            Keep::Text(text) => match redactor {
                Some(r) => p.str("text", &redact_line_text(r, text, counts)),
                None => p.str("text", text),
            },
            Keep::Bytes(bytes) => {
                let bytes = match redactor {
                    Some(r) => crate::redact::redact_bytes(r, bytes, counts),
                    None => std::borrow::Cow::Borrowed(bytes),
                };
                p.str(
                    "bytes_b64",
                    &base64::engine::general_purpose::STANDARD.encode(bytes),
                )
            }
        };
        let payload = Payload::from_json_text(p.finish())
            .map_err(|e| Error::line(self.path, line, format!("internal payload error: {e}")))?;
        self.emit(session_id, seq, line, d, payload)
    }

    /// Emits an event with a ready payload, doing the accounting.
    pub(crate) fn emit(
        &mut self,
        session_id: &str,
        seq: u64,
        line: u64,
        d: Derived,
        payload: Payload,
    ) -> Result<()> {
        let to_u32 = |v: u64, what: &str| -> Result<u32> {
            u32::try_from(v).map_err(|_| Error::Line {
                path: self.path.to_owned(),
                line,
                column: None,
                key: Some(what.to_owned()),
                reason: format!("{what} {v} is out of range for u32"),
            })
        };
        let mut ev = Event::new(
            session_id,
            seq,
            0,
            d.kind.unwrap_or(EventKind::Lifecycle),
            EventSource::Tail,
        );
        ev.tool = d.tool;
        ev.tool_call_id = d.tool_call_id;
        ev.stop_reason = d.stop_reason;
        ev.latency_ms = d.latency_ms;
        if let Some(u) = &d.usage {
            ev.tokens_in = Some(to_u32(u.input, "input tokens")?);
            ev.tokens_out = Some(to_u32(u.output, "output tokens")?);
            if d.has_cache_creation {
                ev.cache_creation_tokens = Some(to_u32(
                    u.cache_creation_5m + u.cache_creation_1h,
                    "cache creation tokens",
                )?);
            }
            if d.has_cache_read {
                ev.cache_read_tokens = Some(to_u32(u.cache_read, "cache read tokens")?);
            }
            ev.reasoning_tokens = d
                .reasoning
                .map(|r| to_u32(r, "reasoning tokens"))
                .transpose()?;
            let r = &mut self.report;
            r.input += u.input;
            r.output += u.output;
            r.reasoning += d.reasoning.unwrap_or(0);
            r.cache_read += u.cache_read;
            r.cache_creation_5m += u.cache_creation_5m;
            r.cache_creation_1h += u.cache_creation_1h;
        }
        ev.cost_usd_e6 = d.cost_e6;
        ev.payload = payload;
        let r = &mut self.report;
        if d.response {
            r.responses += 1;
            match d.cost_source {
                Some(CostSource::Reported) => r.cost_reported += 1,
                Some(CostSource::Computed) => r.cost_computed += 1,
                None => {}
            }
            if d.unpriced
                && let Some(m) = &d.model
            {
                *r.unpriced_models.entry(m.clone()).or_default() += 1;
            }
        }
        r.cost_usd_e6 += d.cost_e6.unwrap_or(0);
        r.tool_calls += d.tool_calls;
        r.tool_results += d.tool_results;
        r.tool_errors += d.tool_errors;
        r.api_errors += d.api_errors;
        if let Some(t) = d.unknown_type {
            *r.unknown_types.entry(t).or_default() += 1;
        }
        // A time the store cannot hold (after 9999-12-31) is no time.
        match d.ts_ms.filter(|ts| *ts <= kaizen_core::MAX_TS_MS) {
            Some(ts) => {
                ev.ts_ms = ts;
                self.last_ts = Some(ts);
                if !self.untimed.is_empty() {
                    self.untimed_bytes = 0;
                    for mut e in std::mem::take(&mut self.untimed) {
                        e.ts_ms = ts;
                        self.push(e)?;
                    }
                }
                self.push(ev)
            }
            None => {
                ev.ts_exact = false;
                match self.last_ts {
                    Some(ts) => {
                        ev.ts_ms = ts;
                        self.push(ev)
                    }
                    None if self.untimed.len() < MAX_UNTIMED
                        && self.untimed_bytes < self.options.chunk_bytes =>
                    {
                        self.untimed_bytes += ev.payload.as_json_text().len();
                        self.untimed.push(ev);
                        Ok(())
                    }
                    None => {
                        ev.ts_ms = self.fallback_ts;
                        self.push(ev)
                    }
                }
            }
        }
    }

    /// Emits the event of a line's `\n` that came after the line was imported (`line`: the
    /// cursor's `{"session_id","seq","line"}` of it): payload `{"agent","path","line",
    /// "newline":true}`, its own identity beside the line's. Nothing for kaizen's own events.
    pub(crate) fn newline_event(&mut self, line: &serde_json::Value) -> Result<()> {
        let (Some(session_id), Some(seq), Some(number)) = (
            line.get("session_id").and_then(|v| v.as_str()),
            line.get("seq").and_then(|v| v.as_u64()),
            line.get("line").and_then(|v| v.as_u64()),
        ) else {
            return Ok(());
        };
        if number >= 1 << 30 {
            return Ok(()); // beyond the seq's room: export then lacks this one `\n`
        }
        let mut p = PayloadBuilder::new(self.agent.name(), self.rel, number, 32);
        p.nonzero("generation", u64::from(self.generation))
            .flag("newline", true);
        let payload = Payload::from_json_text(p.finish())
            .map_err(|e| Error::line(self.path, number, format!("internal payload error: {e}")))?;
        let d = Derived {
            kind: Some(EventKind::Lifecycle),
            ..Derived::default()
        };
        let seq = (seq & !0xFFFF_FFFF) | NEWLINE_BITS | number;
        self.emit(session_id, seq, number, d, payload)
    }

    /// Emits a kaizen event as it is (the native JSON Lines source), its payload redacted.
    pub(crate) fn push_native(&mut self, mut ev: Event, line: u64) -> Result<()> {
        if let Some(r) = self.options.redactor.as_deref() {
            redact_payload(r, &mut ev, &mut self.report.redacted)
                .map_err(|reason| Error::line(self.path, line, reason))?;
        }
        self.push(ev)
    }

    fn push(&mut self, ev: Event) -> Result<()> {
        self.report.events += 1;
        if self.chunks.add(ev) {
            match self.in_line {
                true => self.flush_due = true,
                false => self.flush()?,
            }
        }
        Ok(())
    }

    /// Hands over a chunk that filled up during the line just done.
    pub(crate) fn line_done(&mut self) -> Result<()> {
        self.in_line = false;
        match std::mem::take(&mut self.flush_due) {
            true => self.flush(),
            false => Ok(()),
        }
    }

    fn flush(&mut self) -> Result<()> {
        self.chunks.flush(self.report.bytes)
    }

    /// Hands over what is left (lines with no time at all take the file's mtime).
    pub(crate) fn finish(&mut self) -> Result<()> {
        self.untimed_bytes = 0;
        for mut e in std::mem::take(&mut self.untimed) {
            e.ts_ms = self.fallback_ts;
            self.push(e)?;
        }
        self.flush()
    }

    /// The cost of a response: the source's when it states one, else the table's.
    pub(crate) fn price(&self, d: &mut Derived, model: Option<&str>, reported_usd: Option<f64>) {
        if let Some(usd) = reported_usd {
            d.cost_e6 = Some(crate::price::usd_to_e6(usd));
            d.cost_source = Some(CostSource::Reported);
            return;
        }
        let (Some(model), Some(usage)) = (model, d.usage.as_ref()) else {
            return;
        };
        match self.options.prices.cost_e6(model, usage) {
            Some(cost) => {
                d.cost_e6 = Some(cost);
                d.cost_source = Some(CostSource::Computed);
            }
            None => d.unpriced = true,
        }
    }
}
