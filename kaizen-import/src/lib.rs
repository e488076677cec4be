//! Turns AI coding agents' own logs into kaizen [`Event`]s: Claude Code transcripts (1.0.x
//! inline sidechains, 2.0.x `agent-*.jsonl`, 2.1.x `subagents/`), Codex CLI rollouts,
//! Gemini CLI chats (`.json` and `.jsonl`), kaizen's own event JSON Lines, and upstream
//! kaizen's SQLite databases ([`Agent::KaizenDb`]: read-only, one event per row of their
//! `events` table, payload `{"import":"kaizen-db","agent","model","project","record"}`, a row-id
//! cursor; see that variant and `src/kaizen_db/`). Knows formats and files, no store: the
//! caller hands events to a store and keeps the cursors.
//!
//! # Use
//! ```no_run
//! use kaizen_import::{Agent, ImportOptions, discover, import_file};
//!
//! let files = discover(Agent::Claude, &[])?; // default roots; or PATHs
//! let options = ImportOptions::default();
//! for file in &files {
//!     let cursor = None; // the store's cursor of `file.rel`, if any
//!     let done = import_file(file, cursor, &options, &mut |events| {
//!         // write `events` to the store (chunks of at most `options.chunk_events`)
//!         Ok(())
//!     })?;
//!     // keep `done.cursor` with the data, in the same commit; show `done.report`
//! }
//! # Ok::<(), kaizen_import::Error>(())
//! ```
//! [`export`] / [`Exporter`] write imported events back as the original files.
//! [`sample::write_tree`] writes a small generated tree of the three agents' logs (for a
//! demo on a machine without any), with the figures an import of it must give.
//!
//! # One event per source line, lossless
//! Every line of a `.jsonl` file becomes one event, unknown record types included
//! (counted per type in [`SourceReport::unknown_types`]); a Gemini `.json` chat, one JSON
//! document, becomes one event per message and one for the text around them (below). A
//! 0-byte file has no line and so no event: export cannot write it back (it held nothing).
//!
//! A file read from its start is first checked to be its agent's: when its first record
//! clearly is another agent's (a Codex rollout's `{"timestamp","type":"session_meta",
//! "payload"}`, a Claude line's `uuid` + `sessionId` or a type only Claude writes, a Gemini
//! chat's `projectHash` header, kaizen's own event), the file is refused with
//! [`Error::WrongAgent`] naming the import that reads it; with `skip_invalid` it is
//! skipped, counted in [`SourceReport::files_refused`] and noted, nothing of it stored. A
//! record without such a mark (an unknown type) is imported as always. Its `payload` is
//! `{"agent":"claude","path":"projects/-home-u-p/<id>.jsonl","line":N, derived…, "record":<the line>}`
//! where `record` is the line's JSON exactly as written (bytes kept). Derived keys, present
//! when they apply: `model` (the model the event counts under; for a tool result, the
//! model of the call), `project` (where the session ran, so that one project's Claude and
//! Codex events group together: Claude the session's first `cwd`, the project folder's
//! name only until a line has one; Codex the session's `cwd`; Gemini the project hash),
//! `response: true` (this event carries an API response's
//! tokens), `cache_creation_5m` / `cache_creation_1h`, `cost_source`
//! (`reported` or `computed:litellm-1.110.2`), `tool_calls` / `tool_results` /
//! `tool_errors` / `api_errors` (counts), `resume_copy`, `continued` (a difference, see
//! below), `counted_before` (a response counted in an earlier version of a rewritten
//! file: no tokens here), `crlf: true` (the line ended in `\r\n`), `no_newline: true` (the file's last
//! line, without its `\n` when imported). A line that cannot be kept as `record`
//! exactly (whitespace around it, not JSON under `skip_invalid`, blank) is kept as
//! `"text": "<line>"`, one that is not UTF-8 as `"bytes_b64"`. A Gemini `.json` document
//! becomes one event per message (`index`, `before`: the text between messages) and one
//! document event (`head`, `tail`, `messages`), so export rebuilds it byte for byte; when
//! the document is rewritten after an import, a changed message is a new `version` event
//! (only what it adds is counted), and so is a changed document event (its text, or only
//! its number of messages: a message appended with `lastUpdated` unchanged); export writes
//! the latest of each by that `version`, whatever the document's own times say.
//!
//! # Identity
//! `session_id` is the agent's own: Claude the session file's stem (a subagent file: its
//! parent session), Codex `session_meta.id`, Gemini `sessionId`. `seq` is namespaced so
//! that sources never collide (also with OpenTelemetry records of the same session and
//! with native kaizen events):
//!
//! `seq = kind << 56 | file_hash << 32 | line`
//!
//! with `kind` [`SEQ_KIND_CLAUDE`] (1), [`SEQ_KIND_CODEX`] (2), [`SEQ_KIND_GEMINI`] (3),
//! [`SEQ_KIND_OTEL`] (4: OTLP records, see [`otel`]); `file_hash` a 24-bit FNV-1a hash of the file's path
//! within its session (`agent-<id>.jsonl`, `subagents/agent-<id>.jsonl`), 0 for the
//! session's own file; `line` the 1-based line number (a Gemini `.json` message: its
//! index + 1, a later version `0x4000_0000 | version << 20 | index`; its document event:
//! `0x8000_0000 | hash of the document's text`). It depends
//! only on the file's place in its session and the line's number, so it is stable under
//! appends and the same when the files are copied from another machine. kaizen's own
//! events keep their `session_id` and `seq`.
//!
//! # Every token counted once
//! Tokens follow the store's convention: `tokens_in` excludes cache reads and writes,
//! `cache_read_tokens` and `cache_creation_tokens` beside it (null when the source has no
//! such figure: Codex and Gemini have no cache writes), `reasoning_tokens` is part of
//! `tokens_out`. The tokens and cost of one API response sit on exactly one event:
//! - Claude: the last line of a `(message.id, requestId)` group (the line with the final
//!   `output_tokens`); `progress` lines carry none (their copies of subagent messages are
//!   counted in the subagent's file); a resumed session's copied first line is kept as a
//!   `Lifecycle` event with `resume_copy` and not counted; API errors (`isApiErrorMessage`)
//!   are responses of model `<synthetic>` with zero tokens and `api_errors: 1`.
//! - Codex: the `token_count` whose `total_token_usage` changed, with `last_token_usage`
//!   converted (`input - cached`).
//! - Gemini: the first record of a message id (`input - cached`, output + thoughts).
//!
//! This reproduces the counting rules of `shared/tools/gen_agent_logs.py` exactly (tested
//! per source, day and model against its manifest).
//!
//! Kinds: a line with a tool use → `ToolCall` (`tool`, `tool_call_id`); a tool result →
//! `ToolResult` (`latency_ms`: its time minus its call's, matched by call id: Claude's
//! `tool_use_id`, Codex's `call_id`; none for a result whose call is unknown). Gemini
//! writes a call with its result: the record that first has a call's result is its
//! `ToolCall` event, with `latency_ms` from the message's time to the call's own
//! `timestamp`; an API error → `Error`; user/assistant text → `Message`; Codex
//! `token_count` → `Cost`; hook lines → `Hook`; everything else `Lifecycle`. `ts_ms` is the
//! line's timestamp; a line without one takes the previous line's time (or the first time
//! of the file) with `ts_exact = false`. `source` is `Tail`.
//!
//! # Incremental
//! [`import_file`] takes the file's [`Cursor`] from the previous import (size, mtime, a
//! hash of its first 4 KiB, bytes and lines consumed, and the per-format state needed to go
//! on exactly) and reads only the bytes after it; an unchanged file is not opened; a file
//! whose head changed (or that shrank) is read again from the start, as a new version
//! ([`Cursor::generation`]) whose lines are stored beside the earlier ones, noted in
//! [`SourceReport::notes`]. Its tokens are not counted twice: the cursor's state carries
//! what the earlier versions counted into the new one (Claude: every response key,
//! `message.id` + `requestId`; Codex: the highest cumulative total; Gemini `.jsonl`: the
//! message ids with their figures), and a response counted before carries no tokens or
//! cost again (flag `counted_before`; one that grew carries the difference, `continued`).
//! Cursors written before these keys were kept carry only the last 32 Claude responses and
//! Codex's last total.
//!
//! A file gone when its import begins (deleted after discovery: Claude Code's own cleanup
//! can run during an import) is skipped with a note, [`SourceReport::files_vanished`], its
//! cursor kept as it was (a file never imported gets a placeholder cursor, size 0 and no
//! mtime, that the next import takes as none). Once opened, a file is read through that
//! one handle: deleted meanwhile, it is still read whole. A file that cannot be read for
//! another reason (permissions) is [`Error::Unreadable`]: `skip_invalid` does not apply.
//!
//! A last line without its newline is imported when it is a complete JSON object (ccusage
//! counts it, and an agent writes a line whole): its event says `no_newline`, export
//! writes it back without one, and the cursor expects that `\n` first. When the file goes
//! on with `\n` and more lines, the next import reads exactly those (export then ends the
//! line with its `\n`, which must be there since a line follows); a `\n` that comes alone
//! gets an event of its own (`{"agent","path","line","newline":true}`, kind `Lifecycle`,
//! seq `… | 0xC000_0000 | line`), so export stays byte for byte; a last line that goes on
//! instead (it was not finished after all) makes the file another one, read again as a new
//! version. A last line that is not a complete object (the agent is still writing) ends
//! the import of that file at the last complete line, reported in
//! [`SourceReport::truncated_tails`], and is picked up next time. A Claude response whose last line so far was imported and which goes on after
//! the cursor gets the *difference* on its new last line (flag `continued`), so sums stay
//! exact. Consequence: a file imported in two steps has events that differ from a
//! one-step import of the same bytes; keep the cursor with the data.
//!
//! # Streaming
//! Files are read line by line in bounded memory (lines up to
//! [`ImportOptions::max_line_bytes`], 256 MiB by default); events go to the caller's sink
//! in chunks of [`ImportOptions::chunk_events`] events or about
//! [`ImportOptions::chunk_bytes`] bytes. A Gemini `.json` document is read whole.
//!
//! # Cost
//! The cost a source states (Claude `costUSD`) is kept; otherwise it is computed from the
//! price table shipped in this crate ([`PriceTable::shipped`], a subset of LiteLLM 1.110.2's
//! table, see `prices/`), per model: input, output, cache reads, 5-minute and 1-hour
//! cache writes, and long-context tiers applied per token type above their threshold (as
//! ccusage does). A model missing from the table leaves the cost null and is reported in
//! [`SourceReport::unpriced_models`], never priced as 0. `cost_usd_e6` is micro-dollars.

#![warn(missing_docs)]

mod chunks;
mod claude;
mod codex;
mod discover;
mod error;
mod export;
mod gemini;
mod import;
mod kaizen_db;
mod lenient;
mod lines;
mod native;
pub mod otel;
mod price;
mod redact;
mod report;
pub mod sample;
mod sniff;
mod source;
mod util;

pub use discover::{
    ClaudeCleanup, claude_cleanup, default_roots, discover, in_time_order, rel_path, source_file,
};
pub use error::{Error, Result, SinkError};
pub use export::{ExportReport, Exporter, export};
pub use import::{FileImport, ImportOptions, OnBytes, import_file, redact_payload};
pub use kaizen_core::Event;
pub use native::parse_event_line;
pub use price::{ModelPrice, PriceTable, Usage};
pub use redact::{RedactCounts, Redactor, UserPattern};
pub use report::{Report, SourceReport};
pub use source::{
    Agent, Cursor, CursorState, SEQ_KIND_CLAUDE, SEQ_KIND_CODEX, SEQ_KIND_GEMINI, SEQ_KIND_OTEL,
    SourceFile,
};

/// Imports `files` in order, each from its cursor in `cursors` (keyed by
/// [`SourceFile::rel`]), handing events to `sink`. Returns the report per source and the
/// new cursors (one per file, unchanged files included). Stops at the first error.
pub fn import_files(
    files: &[SourceFile],
    cursors: &std::collections::HashMap<String, Cursor>,
    options: &ImportOptions,
    sink: &mut dyn FnMut(Vec<Event>) -> Result<(), SinkError>,
) -> Result<(Report, Vec<Cursor>)> {
    let mut report = Report::default();
    let mut out = Vec::with_capacity(files.len());
    for file in files {
        let done = import_file(file, cursors.get(&file.rel), options, sink)?;
        report.add(file.agent, &done.report);
        out.push(done.cursor);
    }
    Ok((report, out))
}
