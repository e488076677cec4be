//! Erasure and payload pruning, on every backend: what they leave is checked through
//! kaizen's reader and on the files themselves (every byte, and every value of every column
//! decoded by the parquet crate), and the store reads each event once at every point an
//! interrupted rewrite can leave it.

use std::collections::BTreeSet;

use bytes::Bytes;
use kaizen::core::{Event, EventKind, EventSource, Payload, UtcDay};
use kaizen::store::codec::{encode_file, events_to_batch};
use kaizen::store::{EventStore, Query, Store, is_pruned_payload, layout, pruned_payload};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field as ParquetField;

use super::{all_paths, day, put_file, read_all, scan};

/// The session erased; every other session is kept.
const GONE: &str = "erase-me/7f3a";

/// Three days, four sessions (one of them [`GONE`]), typed columns filled, every payload
/// holding a text planted once in the store (`PLANTED-<session>-<seq>`).
fn corpus() -> Vec<Event> {
    let mut out = Vec::new();
    for (d, name) in ["2026-10-01", "2026-10-02", "2026-10-03"]
        .iter()
        .enumerate()
    {
        let start = day(name).start_ms();
        for (s, session) in [GONE, "keep-a", "keep-b", "keep-c"].iter().enumerate() {
            for i in 0..40u64 {
                let seq = (d as u64) * 1000 + i;
                let ts = start + 60_000 * i + s as u64 * 7;
                let kind = match i % 3 {
                    0 => EventKind::Message,
                    1 => EventKind::ToolCall,
                    _ => EventKind::ToolResult,
                };
                let mut e = Event::new(*session, seq, ts, kind, EventSource::Tail);
                e.tokens_in = Some(100 + i as u32);
                e.tokens_out = Some(7 * i as u32);
                e.cost_usd_e6 = Some(1_000 * i as i64 + 3);
                e.latency_ms = Some(50 + i as u32);
                e.tool = (i % 3 != 0).then(|| "bash".to_owned());
                let payload = serde_json::json!({
                    "text": format!("PLANTED-{session}-{seq}"),
                    "model": "model-x",
                    "ok": i % 5 != 0,
                    "nested": {"deep": format!("PLANTED-{session}-{seq}-nested")},
                });
                e.payload = Payload::from_value(&payload);
                out.push(e);
            }
        }
    }
    out
}

/// Stores `events` in two appends, so that each day has two files.
async fn store_in_two_files(store: &Store, events: &[Event]) {
    let (odd, even): (Vec<Event>, Vec<Event>) =
        events.iter().cloned().partition(|e| e.seq % 2 == 1);
    store.append(odd).await.expect("append");
    store.append(even).await.expect("append");
}

/// Every text value of every column of a Parquet file, decoded by the parquet crate.
fn decoded_values(bytes: Bytes, path: &str) -> Vec<String> {
    let reader = SerializedFileReader::new(bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
    let rows = reader
        .get_row_iter(None)
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut out = Vec::new();
    for row in rows {
        let row = row.unwrap_or_else(|e| panic!("{path}: {e}"));
        for (_, value) in row.get_column_iter() {
            out.push(match value {
                ParquetField::Str(s) => s.clone(),
                other => other.to_string(),
            });
        }
    }
    out
}

/// The files of the store that hold one of `needles`: in their bytes as stored (footers,
/// statistics, state documents, markers), or, for data files, in a value of a column
/// after decompression. `also_decoded` receives every decoded value (to show the check
/// sees the text it looks for where it is).
async fn files_holding(store: &Store, needles: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for path in all_paths(store).await {
        let bytes = read_all(store, &path).await;
        let raw = needles.iter().any(|n| contains(&bytes, n.as_bytes()));
        let decoded = layout::classify(&path).is_some()
            && decoded_values(bytes, &path)
                .iter()
                .any(|v| needles.iter().any(|n| v.contains(n.as_str())));
        if raw || decoded {
            found.push(path);
        }
    }
    found
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A staging file a killed writer left, holding events of `events`.
async fn leave_staging_file(store: &Store, events: &[Event], on: UtcDay) -> String {
    let bytes = encode_file(&events_to_batch(events), "leftover").expect("encode");
    let path = layout::staging_path(&layout::new_file_path(on));
    put_file(store, &path, bytes).await;
    path
}

/// `kaizen erase`: every event of the session gone from every file (staging leftovers
/// included), checked on the decoded values of every column; every other event reads back
/// exactly as before; `verify --deep` passes; a dry run changes nothing; a rerun finds
/// nothing.
pub async fn erase_removes_every_event_of_the_sessions(store: Store) {
    let events = corpus();
    store_in_two_files(&store, &events).await;
    let gone: Vec<Event> = events
        .iter()
        .filter(|e| e.session_id == GONE)
        .cloned()
        .collect();
    let leftover = leave_staging_file(&store, &gone[..5], day("2026-10-02")).await;
    let before = scan(&store, Query::all()).await;
    assert_eq!(before.len(), events.len());
    let needles = vec![GONE.to_owned()];
    assert!(
        files_holding(&store, &needles).await.contains(&leftover),
        "the check finds the session where it is"
    );

    let sessions: BTreeSet<String> = [GONE.to_owned(), "never-stored".to_owned()].into();
    let paths = all_paths(&store).await;
    let dry = store
        .erase_sessions(&sessions, true)
        .await
        .expect("dry run");
    assert_eq!(dry.rewrite.dropped(), gone.len() as u64);
    assert_eq!(dry.staging_removed, std::slice::from_ref(&leftover));
    assert_eq!(all_paths(&store).await, paths, "a dry run changes nothing");

    let report = store.erase_sessions(&sessions, false).await.expect("erase");
    let removed = report.removed(&sessions);
    assert_eq!(removed[GONE], gone.len() as u64);
    assert_eq!(removed["never-stored"], 0);
    assert_eq!(report.rewrite.days.len(), 3);
    assert!(report.rewrite.days.iter().all(|d| d.inputs.len() == 2));

    let kept: Vec<Event> = before
        .into_iter()
        .filter(|e| e.session_id != GONE)
        .collect();
    assert_eq!(
        scan(&store, Query::all()).await,
        kept,
        "every other event as before"
    );
    assert!(scan(&store, Query::all().session(GONE)).await.is_empty());
    let verified = store.verify(true).await.expect("verify");
    assert!(verified.is_ok(), "{verified:?}");
    assert!(verified.leftovers.is_empty(), "{verified:?}");
    assert_eq!(files_holding(&store, &needles).await, Vec::<String>::new());

    let again = store.erase_sessions(&sessions, false).await.expect("rerun");
    assert!(again.rewrite.days.is_empty(), "{again:?}");
    assert_eq!(scan(&store, Query::all()).await, kept);
}

/// A session all of whose events are in files of their own: those files are removed, no
/// output is written for them.
pub async fn erase_of_whole_files_removes_them(store: Store) {
    let events = corpus();
    let (gone, rest): (Vec<Event>, Vec<Event>) =
        events.into_iter().partition(|e| e.session_id == GONE);
    store.append(rest.clone()).await.expect("append");
    store.append(gone).await.expect("append");
    let sessions: BTreeSet<String> = [GONE.to_owned()].into();
    let report = store.erase_sessions(&sessions, false).await.expect("erase");
    assert!(
        report
            .rewrite
            .days
            .iter()
            .all(|d| d.outputs.is_empty() && d.id.is_none())
    );
    assert_eq!(scan(&store, Query::all()).await, super::sorted(rest));
    assert!(store.verify(true).await.expect("verify").is_ok());
    assert!(files_holding(&store, &[GONE.to_owned()]).await.is_empty());
}

/// `kaizen prune --payload-older-than`: the payloads of the days before the cutoff become
/// the marker (the report keys kept), every typed column and every later day exactly as
/// before, no file holds an old payload's text, the days shrink, `verify --deep` passes and
/// names the days; and at each point an interrupted rewrite can leave (outputs beside
/// their inputs without the marker; with it), each event is read once, old or new.
pub async fn payload_prune_keeps_every_typed_column(store: Store) {
    let events = corpus();
    store_in_two_files(&store, &events).await;
    let cutoff = day("2026-10-03");
    let before = scan(&store, Query::all()).await;
    let old_texts: Vec<String> = (before.iter())
        .filter(|e| e.ts_ms < cutoff.start_ms())
        .map(|e| format!("PLANTED-{}-{}\"", e.session_id, e.seq))
        .collect();
    let bytes_of = |days: Vec<kaizen::store::Partition>| -> u64 {
        days.iter()
            .filter(|p| p.day < cutoff)
            .map(|p| p.bytes)
            .sum()
    };
    let bytes_before = bytes_of(store.partitions().await.expect("partitions"));
    let inputs: Vec<(String, Bytes)> = {
        let mut saved = Vec::new();
        for path in all_paths(&store).await {
            if layout::classify(&path).is_some_and(|f| f.day < cutoff) {
                let bytes = read_all(&store, &path).await;
                saved.push((path, bytes));
            }
        }
        saved
    };
    assert_eq!(inputs.len(), 4);

    let paths = all_paths(&store).await;
    let dry = store.prune_payloads(cutoff, true).await.expect("dry run");
    assert_eq!(dry.replaced(), 2 * 4 * 40);
    assert_eq!(all_paths(&store).await, paths, "a dry run changes nothing");

    let report = store
        .prune_payloads(cutoff, false)
        .await
        .expect("prune payloads");
    assert_eq!(report.replaced(), 2 * 4 * 40);
    assert_eq!(report.days.len(), 2);
    let after = scan(&store, Query::all()).await;
    assert_eq!(after.len(), before.len());
    for (old, new) in before.iter().zip(&after) {
        if old.ts_ms < cutoff.start_ms() {
            assert!(is_pruned_payload(&new.payload), "{new:?}");
            assert_eq!(new.payload, pruned_payload(&old.payload));
            let value = new.payload.to_value();
            assert_eq!(value["model"], "model-x", "report keys kept");
            assert_eq!(value["ok"], old.payload.to_value()["ok"]);
            let mut typed = new.clone();
            typed.payload = old.payload.clone();
            assert_eq!(&typed, old, "every typed column as before");
        } else {
            assert_eq!(new, old, "days after the cutoff as before");
        }
    }
    let verified = store.verify(true).await.expect("verify");
    assert!(verified.is_ok(), "{verified:?}");
    assert_eq!(verified.payload_pruned_days, ["2026-10-01", "2026-10-02"]);
    assert!(files_holding(&store, &old_texts).await.is_empty());
    let new_texts: Vec<String> = (before.iter())
        .filter(|e| e.ts_ms >= cutoff.start_ms())
        .map(|e| format!("PLANTED-{}-{}\"", e.session_id, e.seq))
        .take(3)
        .collect();
    assert!(
        !files_holding(&store, &new_texts).await.is_empty(),
        "the check sees kept text"
    );
    let bytes_after = bytes_of(store.partitions().await.expect("partitions"));
    assert!(bytes_after < bytes_before, "{bytes_after} < {bytes_before}");
    assert!(
        store
            .prune_payloads(cutoff, false)
            .await
            .expect("rerun")
            .days
            .is_empty()
    );

    // Interrupted before the marker: the outputs beside their inputs are ignored.
    for (path, bytes) in &inputs {
        put_file(&store, path, bytes.clone()).await;
    }
    assert_eq!(scan(&store, Query::all()).await, before, "old, once");
    assert!(store.verify(true).await.expect("verify").is_ok());
    // Run again: the stopped rewrite's outputs are removed, never made live beside the new.
    let rerun = store.prune_payloads(cutoff, false).await.expect("rerun");
    assert_eq!(rerun.replaced(), 2 * 4 * 40);
    assert_eq!(scan(&store, Query::all()).await, after);
    let partitions = store.partitions().await.expect("partitions");
    let pruned = partitions.iter().filter(|p| p.day < cutoff);
    assert!(pruned.clone().all(|p| p.files == 1), "{partitions:?}");
    assert_eq!(pruned.count(), 2);
    assert!(files_holding(&store, &old_texts).await.is_empty());
    let day_files = |paths: BTreeSet<String>| -> usize {
        paths
            .iter()
            .filter(|p| layout::classify(p).is_some_and(|f| f.day < cutoff))
            .count()
    };
    assert_eq!(
        day_files(all_paths(&store).await),
        2,
        "one file a pruned day, orphans gone"
    );

    // Interrupted after the marker: the inputs are ignored.
    for (path, bytes) in &inputs {
        put_file(&store, path, bytes.clone()).await;
    }
    for d in &rerun.days {
        let id = d.id.as_deref().expect("outputs");
        let marker = layout::compaction_marker_path(d.day, id);
        put_file(&store, &marker, Bytes::from_static(b"{}")).await;
    }
    assert_eq!(scan(&store, Query::all()).await, after, "new, once");
    assert!(store.verify(true).await.expect("verify").is_ok());
    // A rerun finishes the switch: the inputs (and the old text) and markers are gone.
    assert!(
        store
            .prune_payloads(cutoff, false)
            .await
            .expect("finish")
            .days
            .is_empty()
    );
    assert_eq!(scan(&store, Query::all()).await, after);
    assert!(files_holding(&store, &old_texts).await.is_empty());
    let paths = all_paths(&store).await;
    assert!(
        paths
            .iter()
            .all(|p| layout::parse_compaction_marker(p).is_none()),
        "{paths:?}"
    );
    assert_eq!(day_files(paths), 2);
}

/// A rewrite function that moves an event (another seq) is refused, and nothing changes.
pub async fn a_rewrite_never_moves_an_event(store: Store) {
    let events = corpus();
    store_in_two_files(&store, &events).await;
    let paths = all_paths(&store).await;
    let scope = kaizen::store::RewriteScope::default();
    let err = store
        .rewrite_events(&scope, false, &|e: &Event| {
            let mut moved = e.clone();
            moved.seq += 1;
            kaizen::store::Rewritten::Replace(Box::new(moved))
        })
        .await
        .expect_err("moved");
    assert!(err.to_string().contains("seq"), "{err}");
    assert_eq!(all_paths(&store).await, paths);
}

/// Erasure in v1 files (no identity summary in their footers: their key columns are read to
/// find the session), daily and chunked alike.
pub async fn erase_reaches_v1_files(store: Store) {
    for layout_name in ["daily", "chunked"] {
        super::put_v1_fixture(&store, layout_name).await;
    }
    let gone = "claude-code-35b00a54-0018";
    let want: Vec<Event> = super::sorted(super::fixture_events())
        .into_iter()
        .filter(|e| e.session_id != gone)
        .collect();
    let sessions: BTreeSet<String> = [gone.to_owned()].into();
    let report = store.erase_sessions(&sessions, false).await.expect("erase");
    assert_eq!(report.removed(&sessions)[gone], 475);
    assert_eq!(scan(&store, Query::all()).await, want);
    let verified = store.verify(true).await.expect("verify");
    assert!(verified.is_ok(), "{verified:?}");
    assert_eq!(
        files_holding(&store, &[gone.to_owned()]).await,
        Vec::<String>::new()
    );
}
