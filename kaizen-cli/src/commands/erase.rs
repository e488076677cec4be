//! `kaizen erase --session ID…`: every event of the sessions removed from every file of the
//! store, staging leftovers included, and the import cursors that name them.

use std::collections::BTreeSet;

use anyhow::Context;
use bytes::Bytes;
use kaizen_import::Cursor;
use kaizen_store::Store;

use crate::cli::EraseArgs;
use crate::commands::import::CURSORS;
use crate::output;

pub async fn run(store: &Store, args: EraseArgs) -> anyhow::Result<()> {
    let sessions: BTreeSet<String> = args.sessions.into_iter().collect();
    let report = store.erase_sessions(&sessions, args.dry_run).await?;
    let cursors = erase_cursors(store, &sessions, args.dry_run).await?;
    let verb = if args.dry_run {
        "would remove"
    } else {
        "removed"
    };
    for day in &report.rewrite.days {
        let kept: u64 = day.outputs.iter().map(|f| f.rows).sum();
        for file in &day.inputs {
            outln!(
                "{}: {verb} {} ({})",
                day.day,
                file.path,
                output::bytes(file.bytes)
            );
        }
        if !args.dry_run {
            outln!(
                "{}: {} event(s) removed, {} other event(s) kept in {} new file(s)",
                day.day,
                day.dropped,
                kept,
                day.outputs.len()
            );
        }
    }
    for path in &report.staging_removed {
        outln!("{verb} staging leftover {path}");
    }
    for cursor in &cursors {
        outln!("{verb} the import cursor of {cursor}");
    }
    for (session, events) in report.removed(&sessions) {
        outln!("session {session}: {verb} {events} event(s)");
    }
    outln!(
        "{verb} {} event(s) of {} session(s) from {} file(s) on {} day(s), {} staging leftover(s), {} import cursor(s)",
        report.rewrite.dropped(),
        sessions.len(),
        report
            .rewrite
            .days
            .iter()
            .map(|d| d.inputs.len())
            .sum::<usize>(),
        report.rewrite.days.len(),
        report.staging_removed.len(),
        cursors.len()
    );
    Ok(())
}

/// Removes from the store's import cursors every cursor that names one of `sessions`
/// exactly ([`names_a_session`]), every older version of the document going too.
/// Returns the paths of the cursors removed. A later `kaizen import` of that agent log
/// would read the file again from its start: erase the log too, or the session is archived
/// again.
async fn erase_cursors(
    store: &Store,
    sessions: &BTreeSet<String>,
    dry_run: bool,
) -> anyhow::Result<Vec<String>> {
    let Some(bytes) = store.read_state(CURSORS).await? else {
        return Ok(Vec::new());
    };
    let cursors: Vec<Cursor> = serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "{}/state/{CURSORS}: not a list of import cursors",
            kaizen_store::EventStore::location(store)
        )
    })?;
    let (gone, kept): (Vec<Cursor>, Vec<Cursor>) = cursors
        .into_iter()
        .partition(|c| names_a_session(c, sessions));
    let removed: Vec<String> = gone
        .iter()
        .map(|c| format!("{} {}", c.agent.name(), c.path))
        .collect();
    if !dry_run && !removed.is_empty() {
        let bytes = serde_json::to_vec(&kept)?;
        store.replace_state(CURSORS, Bytes::from(bytes)).await?;
    }
    Ok(removed)
}

/// Whether `cursor` names one of `sessions`, each compared whole (never a part of an id: a
/// short or mistyped id must not take other sessions' cursors): its session; a segment of
/// its path, or the path's file name without its extension (Claude writes
/// `<session>.jsonl` and `<session>/subagents/…`); or a string anywhere in its saved state.
fn names_a_session(cursor: &Cursor, sessions: &BTreeSet<String>) -> bool {
    if (cursor.session_id.as_ref()).is_some_and(|s| sessions.contains(s)) {
        return true;
    }
    let segments = cursor.path.split('/');
    let stem = (cursor.path.rsplit('/').next())
        .map(|name| name.rsplit_once('.').map_or(name, |(stem, _)| stem));
    if segments.chain(stem).any(|part| sessions.contains(part)) {
        return true;
    }
    fn has_string(value: &serde_json::Value, sessions: &BTreeSet<String>) -> bool {
        match value {
            serde_json::Value::String(s) => sessions.contains(s),
            serde_json::Value::Array(items) => items.iter().any(|v| has_string(v, sessions)),
            serde_json::Value::Object(fields) => fields
                .iter()
                .any(|(k, v)| sessions.contains(k) || has_string(v, sessions)),
            _ => false,
        }
    }
    has_string(&cursor.state.to_value(), sessions)
}
