//! The backend-agnostic test functions. Every backend runs all of them through
//! [`conformance_suite!`]: a new backend is one more invocation of the macro.

pub mod arbitrary;
pub mod rewrites;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures::TryStreamExt;
use kaizen::core::{Event, EventKind, EventSource, Field, Payload, UtcDay};
use kaizen::store::{
    APPENDED, CompactTarget, Error, EventStore, Query, SkippedFiles, Store, StoreOptions,
    ZstdLevel, layout,
};

pub fn shared_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared")
}

pub fn fixture_dir() -> PathBuf {
    shared_dir().join("fixtures/seed-v1")
}

/// The events of the v1 fixtures, as in `events.jsonl`.
pub fn fixture_events() -> Vec<Event> {
    let text =
        std::fs::read_to_string(fixture_dir().join("events.jsonl")).expect("fixture events.jsonl");
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            Event::from_json(line).unwrap_or_else(|e| panic!("events.jsonl:{}: {e}", i + 1))
        })
        .collect()
}

/// A prefix no other test of this process or an earlier run uses, for stores in a bucket.
pub fn unique_prefix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "t-{}-{nanos:x}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

pub fn sorted(mut events: Vec<Event>) -> Vec<Event> {
    events.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    events
}

pub fn day(s: &str) -> UtcDay {
    s.parse().expect("day")
}

pub fn event(session: &str, seq: u64, ts_ms: u64) -> Event {
    let mut e = Event::new(session, seq, ts_ms, EventKind::Message, EventSource::Tail);
    e.payload = Payload::from_json_text(format!(r#"{{"n":{seq}}}"#)).expect("payload");
    e
}

/// Writes a file through the backend as any writer would: staged, then published.
pub async fn put_file(store: &Store, path: &str, bytes: Bytes) {
    let backend = store.backend();
    let staged = backend.stage(path, bytes).await.expect("stage");
    backend.publish(&staged).await.expect("publish");
}

/// Every path under the store (data or not), recursively.
pub async fn all_paths(store: &Store) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut dirs = vec![String::new()];
    while let Some(dir) = dirs.pop() {
        let listing = store.backend().list(&dir).await.expect("list");
        out.extend(listing.files.into_iter().map(|f| f.path));
        dirs.extend(listing.dirs);
    }
    out
}

pub async fn scan(store: &Store, query: Query) -> Vec<Event> {
    store.scan_events(query).await.expect("scan")
}

/// A u64 column of batches, as values.
pub fn u64_column(batches: &[arrow::array::RecordBatch], field: Field) -> Vec<u64> {
    use arrow::array::AsArray;
    batches
        .iter()
        .flat_map(|b| {
            let column = b.column_by_name(field.name()).expect("column read");
            let values = column.as_primitive::<arrow::datatypes::UInt64Type>();
            values.values().to_vec()
        })
        .collect()
}

// ---- the suite ----

/// Every edge event of the fixtures (u32::MAX, i64 extremes, seq u64::MAX, a 200 KB payload,
/// NUL and non-ASCII text, ids with `/` and spaces, every payload JSON type, midnight
/// boundaries) comes back equal, payloads as equal JSON values.
pub async fn round_trip_every_edge_event(store: Store) {
    let events = fixture_events();
    let receipt = store.append(events.clone()).await.expect("append");
    assert_eq!(receipt.rows(), events.len() as u64);
    assert_eq!(
        receipt.days(),
        [day("2026-10-01"), day("2026-10-02"), day("2026-10-03")].into()
    );
    let back = scan(&store, Query::all()).await;
    assert_eq!(back, sorted(events.clone()));
    for (a, b) in back.iter().zip(sorted(events)) {
        assert_eq!(a.payload.to_value(), b.payload.to_value());
        assert_eq!(
            a.payload.as_json_text(),
            b.payload.as_json_text(),
            "payload text kept exactly"
        );
    }
}

pub async fn queries_filter_project_and_limit(store: Store) {
    let events = fixture_events();
    store.append(events.clone()).await.expect("append");
    let all = sorted(events);

    let (from, to) = (1_790_899_199_999, 1_790_899_200_001); // around midnight 10-01/10-02
    let got = scan(&store, Query::all().from_ms(from).to_ms(to)).await;
    let want: Vec<_> = all
        .iter()
        .filter(|e| e.ts_ms >= from && e.ts_ms < to)
        .cloned()
        .collect();
    assert_eq!(got, want);
    assert!(got.iter().any(|e| e.ts_ms == from) && got.iter().all(|e| e.ts_ms < to));

    let session = "edge-a-σεσσιον/with slash & spaces";
    let got = scan(&store, Query::all().session(session).session("edge-a")).await;
    let want: Vec<_> = all
        .iter()
        .filter(|e| e.session_id.starts_with("edge-a"))
        .cloned()
        .collect();
    assert_eq!(got, want);
    assert!(got.iter().any(|e| e.session_id == session));

    let got = scan(
        &store,
        Query::all().kind(EventKind::Cost).kind(EventKind::Error),
    )
    .await;
    let want: Vec<_> = all
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Cost | EventKind::Error))
        .cloned()
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got, want);

    // Parts combined, each file wholly inside or cut by the time range.
    let (first, last) = (all[0].ts_ms, all[all.len() - 1].ts_ms);
    let (one, other) = (&all[all.len() / 2], &all[all.len() / 3]);
    let combined = [
        Query::all()
            .from_ms(first)
            .to_ms(last + 1)
            .kind(EventKind::ToolCall),
        Query::all()
            .from_ms(from)
            .kind(one.kind)
            .session(&one.session_id),
        Query::all()
            .to_ms(to)
            .session(session)
            .kind(EventKind::Message),
        Query::all()
            .from_ms(first + 1)
            .to_ms(one.ts_ms + 1)
            .session(&one.session_id)
            .session(&other.session_id),
    ];
    for query in combined {
        let want: Vec<_> = all
            .iter()
            .filter(|e| query.from_ms.is_none_or(|f| e.ts_ms >= f))
            .filter(|e| query.to_ms.is_none_or(|t| e.ts_ms < t))
            .filter(|e| query.sessions.is_empty() || query.sessions.contains(&e.session_id))
            .filter(|e| query.kinds.is_empty() || query.kinds.contains(&e.kind))
            .cloned()
            .collect();
        assert!(!want.is_empty(), "{query:?}");
        assert_eq!(scan(&store, query.clone()).await, want, "{query:?}");
    }

    let got = scan(&store, Query::all().limit(7)).await;
    assert_eq!(got, all[..7]);

    // A projection streams just those columns, in the order asked.
    let query = Query::all()
        .columns([Field::CostUsdE6, Field::SessionId])
        .limit(5000);
    let batches: Vec<_> = store
        .scan(query)
        .await
        .expect("scan")
        .try_collect()
        .await
        .expect("batches");
    let names: Vec<_> = batches[0]
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["cost_usd_e6", "session_id"]);
    assert_eq!(
        batches.iter().map(|b| b.num_rows()).sum::<usize>(),
        all.len()
    );

    assert!(
        scan(&store, Query::all().from_ms(to).to_ms(from))
            .await
            .is_empty()
    );
}

/// Rows come back in `(ts_ms, session_id, seq)` order across files and days.
pub async fn ordering_across_files_and_days(store: Store) {
    let events = sorted(fixture_events());
    // Interleave the events over three appends, so every day has three files.
    for part in 0..3 {
        let chunk: Vec<_> = events.iter().skip(part).step_by(3).cloned().collect();
        store.append(chunk).await.expect("append");
    }
    let partitions = store.partitions().await.expect("partitions");
    assert!(partitions.iter().all(|p| p.files == 3), "{partitions:?}");
    assert_eq!(scan(&store, Query::all()).await, events);
}

pub async fn two_appends_to_one_day_keep_both(store: Store) {
    let base = day("2026-10-05").start_ms();
    store
        .append(vec![event("s", 0, base + 10)])
        .await
        .expect("first");
    store
        .append(vec![event("s", 1, base + 5)])
        .await
        .expect("second");
    let got = scan(&store, Query::all()).await;
    assert_eq!(got, vec![event("s", 1, base + 5), event("s", 0, base + 10)]);
    let partitions = store.partitions().await.expect("partitions");
    assert_eq!(partitions.len(), 1);
    assert_eq!((partitions[0].files, partitions[0].rows), (2, 2));
    assert_eq!(
        (partitions[0].min_ts_ms, partitions[0].max_ts_ms),
        (Some(base + 5), Some(base + 10))
    );
}

pub async fn identity_is_deduplicated(store: Store) {
    let events = fixture_events();
    store.append(events.clone()).await.expect("first");
    // The same events again, and exact copies inside one append: stored already, so
    // nothing is written, and read once.
    let before = all_paths(&store).await;
    let mut twice = events.clone();
    twice.extend(events.iter().take(10).cloned());
    let receipt = store.append(twice).await.expect("second");
    assert_eq!(receipt.duplicates_dropped, events.len() as u64 + 10);
    assert_eq!(receipt.rows(), 0);
    assert_eq!(all_paths(&store).await, before);
    assert_eq!(scan(&store, Query::all()).await, sorted(events.clone()));
    let rows: u64 = store
        .partitions()
        .await
        .expect("partitions")
        .iter()
        .map(|p| p.rows)
        .sum();
    assert_eq!(rows, events.len() as u64);

    // New events beside copies of stored ones: only the new are written.
    let mut more = events[..5].to_vec();
    more.push(event("new-session", 0, day("2026-10-05").start_ms()));
    let receipt = store.append(more).await.expect("third");
    assert_eq!((receipt.rows(), receipt.duplicates_dropped), (1, 5));
}

/// A writer asked to set conflicts aside (`EventWriter::set_aside_conflicts`, what `kaizen
/// serve`'s flush uses) leaves each event that conflicts with a stored one out, with the
/// conflict's message, in one pass, and publishes the rest; the stored version stays.
pub async fn conflicts_set_aside_leave_the_rest_published(store: Store) {
    let base = day("2026-10-05").start_ms();
    store
        .append(vec![event("s", 0, base), event("s", 1, base + 1)])
        .await
        .expect("first");
    let mut changed_0 = event("s", 0, base);
    changed_0.tokens_in = Some(7);
    let mut changed_1 = event("s", 1, base + 1);
    changed_1.tokens_in = Some(8);
    let refused: kaizen::store::RefusedEvents = Default::default();
    let mut writer = store.writer();
    assert!(writer.set_aside_conflicts(refused.clone()));
    writer
        .write(vec![
            changed_0.clone(),
            event("s", 2, base + 2),
            changed_1.clone(),
            event("s", 1, base + 1),
        ])
        .await
        .expect("write");
    let receipt = writer.commit().await.expect("commit");
    assert_eq!((receipt.rows(), receipt.duplicates_dropped), (1, 1));
    let refused = refused.lock().expect("lock").clone();
    let events: Vec<&Event> = refused.iter().map(|(e, _)| e).collect();
    assert_eq!(events, vec![&changed_0, &changed_1]);
    for (_, reason) in &refused {
        assert!(reason.contains("identity conflict"), "{reason}");
    }
    let stored = scan(&store, Query::all()).await;
    assert_eq!(
        stored
            .iter()
            .map(|e| (e.seq, e.tokens_in))
            .collect::<Vec<_>>(),
        vec![(0, None), (1, None), (2, None)]
    );
}

/// The identity rule where data comes in: a second version of a stored event (other
/// content, another time of its day, or re-stamped to another day) is refused, naming the
/// stored file, and nothing of the append is written; an exact copy is stored once. Two
/// versions inside one append, on one day or two, are refused too.
pub async fn identity_conflicts_are_refused_at_append(store: Store) {
    let base = day("2026-10-05").start_ms();
    store
        .append(vec![event("s", 0, base), event("s", 1, base + 1)])
        .await
        .expect("first");
    let before = all_paths(&store).await;
    let stored: Vec<&String> = before.iter().filter(|p| p.ends_with(".parquet")).collect();
    assert_eq!(stored.len(), 1, "{before:?}");

    let mut changed = event("s", 1, base + 1);
    changed.tokens_in = Some(5);
    let restamped = event("s", 1, day("2026-10-07").start_ms() + 3);
    for version in [changed, event("s", 1, base + 500), restamped] {
        let fresh = event("u", 0, base + 2);
        let err = (store.append(vec![fresh, version.clone()]).await).expect_err("a second version");
        assert!(
            matches!(&err, Error::Conflict { session_id, seq: 1, first, second }
                if session_id == "s" && first == stored[0] && second == APPENDED),
            "{version:?}: {err}"
        );
        assert_eq!(all_paths(&store).await, before, "nothing written");
    }

    let copy = store
        .append(vec![event("s", 1, base + 1)])
        .await
        .expect("copy");
    assert_eq!((copy.rows(), copy.duplicates_dropped), (0, 1));

    let one_day = vec![event("t", 0, base + 100), event("t", 0, base + 200)];
    let err = store.append(one_day).await.expect_err("inside one append");
    assert!(matches!(err, Error::Conflict { seq: 0, .. }), "{err}");
    let two_days = vec![
        event("t", 0, base + 100),
        event("t", 0, day("2026-10-09").start_ms()),
    ];
    let err = store
        .append(two_days)
        .await
        .expect_err("on two days of one append");
    assert!(matches!(err, Error::Conflict { seq: 0, .. }), "{err}");
    assert_eq!(all_paths(&store).await, before);
}

/// A store that holds two versions of one identity anyway (files from an older kaizen, or
/// copied in): every read fails naming both files, whatever columns it reads, and so does
/// a plain `verify`; on one day and across days alike.
pub async fn readers_agree_on_a_stored_conflict(store: Store) {
    use kaizen::store::codec::{encode_file, events_to_batch};
    let put = |e: Event| {
        let store = store.clone();
        async move {
            let path = layout::new_file_path(e.day().expect("a day"));
            let bytes = encode_file(&events_to_batch(&[e]), &path).expect("encode");
            put_file(&store, &path, bytes).await;
            path
        }
    };
    let base = day("2026-10-05").start_ms();
    let mut changed = event("s", 1, base + 1);
    changed.tool = Some("edit".into());
    let restamped = event("r", 4, day("2026-10-09").start_ms() + 7);
    let pairs = [
        (event("s", 1, base + 1), changed),
        (event("r", 4, day("2026-10-07").start_ms()), restamped),
    ];
    for (one, other) in pairs {
        let (a, b) = (put(one).await, put(other).await);
        let names_both = |err: &Error| {
            matches!(err, Error::Conflict { first, second, .. }
                if (*first == a && *second == b) || (*first == b && *second == a))
        };
        let err = store.scan_events(Query::all()).await.expect_err("conflict");
        assert!(names_both(&err), "{err}");
        // A count reads no column of the pair's difference, and still fails.
        let counted: Result<Vec<_>, _> = match store.scan(Query::all().columns([Field::TsMs])).await
        {
            Ok(batches) => batches.try_collect().await,
            Err(e) => Err(e),
        };
        let err = counted.expect_err("a count fails too");
        assert!(names_both(&err), "{err}");
        let report = store.verify(false).await.expect("verify");
        assert!(
            (report.problems.iter()).any(|p| p.problem.contains(&a) && p.problem.contains(&b)),
            "{report:?}"
        );
        // The next case on a store without this one.
        store.prune(day("2026-12-01"), false).await.expect("prune");
    }
}

/// One write larger than a file: the day's files claim to share no identity, so a scan
/// reads them one after another, whole, projected, filtered and limited. An identity that
/// comes back in a later file of the same write is still a conflict, and an event that
/// comes back is still read once.
pub async fn one_write_over_many_files_reads_whole(store: Store) {
    let store = store.with_options(StoreOptions {
        rows_per_file: 10,
        batch_rows: 7,
        ..StoreOptions::default()
    });
    let base = day("2026-10-05").start_ms();
    let session = |i: u64| if i.is_multiple_of(2) { "a" } else { "b" };
    let events: Vec<_> = (0..45)
        .map(|i| event(session(i), i / 2, base + 10 * i))
        .collect();
    store.append(events.clone()).await.expect("append");
    let partitions = store.partitions().await.expect("partitions");
    assert_eq!(partitions[0].files, 5, "{partitions:?}");
    assert_eq!(scan(&store, Query::all()).await, events);
    let batches: Vec<_> = (store.scan(Query::all().columns([Field::Seq])).await)
        .expect("scan")
        .try_collect()
        .await
        .expect("batches");
    let seqs = u64_column(&batches, Field::Seq);
    assert_eq!(seqs, events.iter().map(|e| e.seq).collect::<Vec<_>>());
    let range = Query::all().from_ms(base + 95).to_ms(base + 305);
    assert_eq!(scan(&store, range).await, events[10..31].to_vec());
    assert_eq!(scan(&store, Query::all().limit(12)).await, events[..12]);

    // Out of time order: the write's files overlap in time, share no identity, and merge.
    let shuffled = day("2026-10-08").start_ms();
    let mut late: Vec<_> = (0..30).map(|i| event("e", i, shuffled + 7 * i)).collect();
    late.rotate_left(13);
    store.append(late.clone()).await.expect("append");
    let days = Query::all().from_ms(shuffled).to_ms(shuffled + 86_400_000);
    assert_eq!(scan(&store, days).await, sorted(late));

    let later = day("2026-10-06").start_ms();
    let mut conflicting: Vec<_> = (0..20).map(|i| event("c", i, later + i)).collect();
    conflicting.push(event("c", 3, later + 100));
    let before = all_paths(&store).await;
    let err = (store.append(conflicting).await).expect_err("each file alone is sound");
    assert!(matches!(err, Error::Conflict { seq: 3, .. }), "{err}");
    assert_eq!(all_paths(&store).await, before, "nothing published");

    let store = store.with_options(StoreOptions {
        rows_per_file: 10,
        ..StoreOptions::default()
    });
    let last = day("2026-10-07").start_ms();
    let mut again: Vec<_> = (0..20).map(|i| event("d", i, last + i)).collect();
    again.push(again[3].clone());
    store.append(again.clone()).await.expect("append");
    let days = Query::all().from_ms(last).to_ms(last + 86_400_000);
    assert_eq!(scan(&store, days).await, again[..20]);
}

/// Files that claim to share no identity but do: a scan trusts the claim, verify does not.
pub async fn verify_finds_a_false_identity_claim(store: Store) {
    use kaizen::store::codec::{FileEncoder, event_schema, events_to_batch};
    let base = day("2026-10-05").start_ms();
    for ts in [base + 100, base + 200] {
        let path = layout::new_file_path(day("2026-10-05"));
        let mut encoder = FileEncoder::new(&path, event_schema()).expect("encoder");
        encoder.set_identity_group("one-group");
        encoder
            .write(&events_to_batch(&[event("t", 0, ts)]))
            .expect("write");
        put_file(&store, &path, encoder.finish().expect("finish")).await;
    }
    let report = store.verify(false).await.expect("verify");
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.problem.contains("stored twice")),
        "{report:?}"
    );
}

/// A file as a build of kaizen before schema 2 wrote it (the v1 columns, `parquet-rs` in
/// its footer, so its claims are believed), holding `events` in the order given, with
/// `identities` as its footer's summary text when given; no `sorting_columns`.
fn file_kaizen_wrote_unsorted(events: &[Event], identities: Option<String>) -> Bytes {
    use parquet::file::metadata::KeyValue;
    let mut keys = vec![
        KeyValue::new("kaizen_schema_v".to_owned(), "1".to_owned()),
        KeyValue::new("kaizen_writer".to_owned(), "kaizen-store test".to_owned()),
    ];
    if let Some(text) = identities {
        keys.push(KeyValue::new("kaizen_identities".to_owned(), text));
    }
    let properties = parquet::file::properties::WriterProperties::builder()
        .set_key_value_metadata(Some(keys))
        .build();
    let batch = kaizen::store::codec::events_to_batch(events);
    let mut bytes = Vec::new();
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(&mut bytes, batch.schema(), Some(properties))
            .expect("writer");
    writer.write(&batch).expect("write");
    writer.close().expect("close");
    Bytes::from(bytes)
}

/// `verify --deep` compares each footer's identity summary with the file's rows: writers
/// believe the summary instead of reading the rows, so one that leaves out an identity
/// the file holds (here a well-formed summary of another session) would let a copy in.
pub async fn verify_deep_finds_a_summary_that_leaves_out_rows(store: Store) {
    use kaizen::store::codec::IdentitySummary;
    let base = day("2026-10-05").start_ms();
    let events = [event("t", 0, base + 1), event("t", 1, base + 2)];
    let mut lie = IdentitySummary::default();
    lie.insert("zzz", 0);
    let path = layout::new_file_path(day("2026-10-05"));
    let bytes = file_kaizen_wrote_unsorted(&events, lie.to_footer());
    put_file(&store, &path, bytes).await;
    let report = store.verify(true).await.expect("verify");
    let problem = report.problems.iter().find(|p| p.path == path);
    let problem = problem.map(|p| p.problem.as_str()).unwrap_or_default();
    assert!(
        problem.contains("identity summary") && problem.contains(r#""t""#),
        "{report:?}"
    );

    // The truth in the summary: no problem.
    let path_ok = layout::new_file_path(day("2026-10-06"));
    let later = [event("u", 0, base + 86_400_000 + 1)];
    let mut truth_later = IdentitySummary::default();
    truth_later.insert("u", 0);
    let bytes = file_kaizen_wrote_unsorted(&later, truth_later.to_footer());
    put_file(&store, &path_ok, bytes).await;
    let report = store.verify(true).await.expect("verify");
    assert!(
        report.problems.iter().all(|p| p.path != path_ok),
        "{report:?}"
    );
}

/// A file kaizen wrote but whose rows are not declared sorted (a v1 build's) is read by
/// an unordered query without the key columns it did not ask for, and by an ordered one
/// sorted.
pub async fn an_unsorted_file_reads_unordered_without_its_key_columns(store: Store) {
    let base = day("2026-10-05").start_ms();
    let events = [event("t", 1, base + 200), event("t", 0, base + 100)];
    let path = layout::new_file_path(day("2026-10-05"));
    put_file(&store, &path, file_kaizen_wrote_unsorted(&events, None)).await;
    let query = Query::all().unordered().columns([Field::Kind]);
    let batches: Vec<_> = (store.scan(query).await.expect("scan"))
        .try_collect()
        .await
        .expect("read without the key columns");
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, 2);
    let ordered = scan(&store, Query::all()).await;
    assert_eq!(ordered, vec![events[1].clone(), events[0].clone()]);
}

/// A writer over its memory bound stages first a day the last `write` brought nothing:
/// the day before's tail, in time-ordered input, does not crowd the day being written
/// into small files.
pub async fn a_day_left_behind_is_staged_before_the_day_being_written(store: Store) {
    let store = store.with_options(StoreOptions {
        max_buffered_rows: 10,
        ..StoreOptions::default()
    });
    let (first, second) = (day("2026-10-05").start_ms(), day("2026-10-06").start_ms());
    let mut writer = store.writer();
    let tail: Vec<_> = (0..3).map(|i| event("a", i, first + i)).collect();
    writer.write(tail).await.expect("write");
    for call in 0..3 {
        let part = (0..4).map(|i| event("b", call * 4 + i, second + call * 4 + i));
        writer.write(part.collect()).await.expect("write");
    }
    let receipt = writer.commit().await.expect("commit");
    let mut rows: Vec<(String, u64)> = (receipt.files.iter())
        .map(|f| (f.day.to_string(), f.rows))
        .collect();
    rows.sort();
    // Staging the largest day first would have split 2026-10-06 into 8 and 4 rows.
    assert_eq!(
        rows,
        [("2026-10-05".to_owned(), 3), ("2026-10-06".to_owned(), 12)]
    );
    assert_eq!(
        store.scan_events(Query::all()).await.expect("scan").len(),
        15
    );
}

/// A day staged in several parts is one file while each part sorts after the file's last
/// event and the file has room; a part that goes before, or past `rows_per_file`, starts
/// another file. Every event reads back once, in order.
pub async fn a_day_staged_in_time_order_is_one_file(store: Store) {
    let store = store.with_options(StoreOptions {
        max_buffered_rows: 10,
        rows_per_file: 30,
        ..StoreOptions::default()
    });
    let start = day("2026-10-05").start_ms();
    let rows_of = |receipt: kaizen::store::AppendReceipt| {
        let mut rows: Vec<u64> = receipt.files.iter().map(|f| f.rows).collect();
        rows.sort();
        rows
    };
    let mut all = Vec::new();
    // In time order, staged as 15 rows, then 15, then 10 at commit: 30 in a file at most.
    let mut writer = store.writer();
    for call in 0..8 {
        let part: Vec<_> = (0..5)
            .map(|i| event("a", call * 5 + i, start + call * 5 + i))
            .collect();
        all.extend(part.clone());
        writer.write(part).await.expect("write");
    }
    let receipt = writer.commit().await.expect("commit");
    assert_eq!(rows_of(receipt), [10, 30], "30 rows a file at most");
    // Staged as 15 rows, then 5 that sort before them.
    let mut writer = store.writer();
    for (session, from) in [("b", 100), ("b", 105), ("b", 110), ("c", 50)] {
        let part: Vec<_> = (0..5)
            .map(|i| event(session, from + i, start + from + i))
            .collect();
        all.extend(part.clone());
        writer.write(part).await.expect("write");
    }
    let receipt = writer.commit().await.expect("commit");
    assert_eq!(
        rows_of(receipt),
        [5, 15],
        "a part before the file's last event"
    );
    let got = store.scan_events(Query::all()).await.expect("scan");
    assert_eq!(got, sorted(all));
}

/// A scan that reads no key column over a day written as several files goes on, each row
/// once, when a compaction replaces the files under it.
pub async fn projected_scan_survives_a_compaction_of_a_split_day(store: Store) {
    let store = store.with_options(StoreOptions {
        rows_per_file: 10,
        batch_rows: 7,
        ..StoreOptions::default()
    });
    let want = sorted(fixture_events());
    store.append(want.clone()).await.expect("append");
    let query = Query::all().columns([Field::Seq, Field::TsMs]);
    let mut batches = store.scan(query).await.expect("scan");
    let mut got = Vec::new();
    let mut compacted = false;
    while let Some(batch) = batches.try_next().await.expect("scan goes on") {
        let batch = [batch];
        let (seqs, ts) = (
            u64_column(&batch, Field::Seq),
            u64_column(&batch, Field::TsMs),
        );
        got.extend(ts.into_iter().zip(seqs));
        if !compacted {
            let done = store
                .compact(|_| true, CompactTarget::default())
                .await
                .expect("compact");
            assert!(!done.is_empty(), "split days were compacted");
            compacted = true;
        }
    }
    let want: Vec<_> = want.iter().map(|e| (e.ts_ms, e.seq)).collect();
    assert_eq!(got, want);
}

/// Prune removes whole days of data files only: foreign files (even ones named like days),
/// staging files and later days stay; a dry run removes nothing.
pub async fn prune_removes_only_data_files(store: Store) {
    store.append(fixture_events()).await.expect("append");
    let foreign = [
        "cold/events/.DS_Store",
        "cold/events/notes.txt",
        "cold/events/2026-09-01.parquet.bak",
        "cold/events/day=2026-10-01/README.md",
        "cold/other/2026-09-01.parquet",
        "unrelated.parquet",
    ];
    for path in foreign {
        put_file(&store, path, Bytes::from_static(b"not data")).await;
    }
    let before = all_paths(&store).await;

    let dry = store.prune(day("2026-10-03"), true).await.expect("dry run");
    assert_eq!(
        dry.files.iter().map(|f| f.day).collect::<BTreeSet<_>>(),
        [day("2026-10-01"), day("2026-10-02")].into()
    );
    assert_eq!(all_paths(&store).await, before, "a dry run removes nothing");

    let report = store.prune(day("2026-10-03"), false).await.expect("prune");
    assert_eq!(report.files, dry.files);
    let after = all_paths(&store).await;
    let removed: BTreeSet<_> = before.difference(&after).cloned().collect();
    assert_eq!(
        removed,
        report.files.iter().map(|f| f.path.clone()).collect()
    );
    for path in foreign {
        assert!(after.contains(path), "{path} kept");
    }
    let left = scan(&store, Query::all()).await;
    assert_eq!(
        left,
        sorted(fixture_events())
            .into_iter()
            .filter(|e| e.ts_ms >= day("2026-10-03").start_ms())
            .collect::<Vec<_>>()
    );

    let again = store
        .prune(day("2026-10-03"), false)
        .await
        .expect("idempotent");
    assert!(again.files.is_empty());
}

/// v1 stores uploaded as they are read back exactly, and mixed with new files as one store.
pub async fn v1_fixture_stores_read_exactly(store: Store, layout_name: &str) {
    put_v1_fixture(&store, layout_name).await;
    let events = sorted(fixture_events());
    assert_eq!(scan(&store, Query::all()).await, events);

    // New files beside the v1 ones: the same events once, new events added.
    let extra = event("new-session", 0, day("2026-10-02").start_ms() + 1);
    let mut again = events.clone();
    again.push(extra.clone());
    store.append(again).await.expect("append");
    let mut want = events;
    want.push(extra);
    assert_eq!(scan(&store, Query::all()).await, sorted(want));
}

/// The derived columns (schema 2: `model`, `agent`, `project`, `cache_creation_1h_tokens`)
/// are the attributes each payload names at its top level: derived by a scan from the
/// payloads of v1 files, which have none, and stored by the writer, so a compaction that
/// rewrites v1 files as schema 2 changes no value; events written now carry them too.
pub async fn derived_columns_are_the_payloads_attributes(store: Store) {
    use arrow::array::{Array, AsArray};
    use kaizen::core::PayloadAttributes;

    put_v1_fixture(&store, "daily").await;
    // A file an earlier build wrote: the partitioned layout, schema 1 (no derived columns).
    let older = event("older-build", 0, day("2026-10-04").start_ms() + 1);
    let mut bytes = Vec::new();
    let properties = parquet::file::properties::WriterProperties::builder()
        .set_key_value_metadata(Some(vec![parquet::file::metadata::KeyValue::new(
            "kaizen_schema_v".to_owned(),
            "1".to_owned(),
        )]))
        .build();
    let batch = kaizen::store::codec::events_to_batch(std::slice::from_ref(&older));
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(&mut bytes, batch.schema(), Some(properties))
            .expect("writer");
    writer.write(&batch).expect("write");
    writer.close().expect("close");
    let older_path = format!(
        "{}/day=2026-10-04/01a22c73-4008-7236-ac06-b2044afaa461.parquet",
        layout::EVENTS_DIR
    );
    put_file(&store, &older_path, Bytes::from(bytes)).await;
    let mut fresh = event("derived", 0, day("2026-10-02").start_ms() + 5);
    fresh.payload = Payload::from_json_text(
        r#"{"agent":"claude","model":"claude-opus-4-6","project":"/p","cache_creation_1h":70,"tool_errors":2,
           "record":{"model":"not this one"}}"#,
    )
    .expect("json");
    let mut odd = event("derived", 1, day("2026-10-02").start_ms() + 6);
    odd.payload = Payload::from_json_text(r#"{"model":7,"cache_creation_1h":-3}"#).expect("json");
    store
        .append(vec![fresh.clone(), odd.clone()])
        .await
        .expect("append");
    let mut events = fixture_events();
    events.extend([fresh, odd, older]);
    let events = sorted(events);

    // What each event's payload names, in scan order.
    let owned = |a: PayloadAttributes<'_>| {
        (
            a.model.map(String::from),
            a.agent.map(String::from),
            a.project.map(String::from),
            a.cache_creation_1h,
            a.tool_errors,
        )
    };
    let want: Vec<_> = (events.iter())
        .map(|e| owned(e.payload.attributes()))
        .collect();
    assert!(
        want.iter().filter(|w| w.0.is_some()).count() > 100,
        "the fixture names models"
    );
    assert!(want.iter().any(|w| w.3 == Some(70) && w.4 == Some(2)));
    assert!(
        want.iter().any(|w| w.4 == Some(1)),
        "the fixture's failed tool results (`ok: false`)"
    );

    let derived_of = |batches: Vec<arrow::array::RecordBatch>| {
        let mut got = Vec::new();
        for b in &batches {
            let text = |f: Field| {
                b.column_by_name(f.name())
                    .expect("read")
                    .as_string::<i32>()
                    .clone()
            };
            let (model, agent, project) =
                (text(Field::Model), text(Field::Agent), text(Field::Project));
            let cache_1h = b
                .column_by_name(Field::CacheCreation1hTokens.name())
                .expect("read");
            let cache_1h = cache_1h.as_primitive::<arrow::datatypes::UInt32Type>();
            let failed = b.column_by_name(Field::ToolErrors.name()).expect("read");
            let failed = failed.as_primitive::<arrow::datatypes::UInt32Type>();
            for i in 0..b.num_rows() {
                let opt =
                    |a: &arrow::array::StringArray| (!a.is_null(i)).then(|| a.value(i).to_owned());
                got.push((
                    opt(&model),
                    opt(&agent),
                    opt(&project),
                    (!cache_1h.is_null(i)).then(|| cache_1h.value(i)),
                    (!failed.is_null(i)).then(|| failed.value(i)),
                ));
            }
        }
        got
    };
    let query = || Query {
        columns: Some(Field::DERIVED.to_vec()),
        ..Query::all()
    };
    let before: Vec<_> = store
        .scan(query())
        .await
        .expect("scan")
        .try_collect()
        .await
        .expect("rows");
    assert_eq!(
        derived_of(before),
        want,
        "v1 files and new files, before compaction"
    );

    store
        .compact(|_| true, CompactTarget::default())
        .await
        .expect("compact");
    let after: Vec<_> = store
        .scan(query())
        .await
        .expect("scan")
        .try_collect()
        .await
        .expect("rows");
    assert_eq!(derived_of(after), want, "schema 2 files after compaction");
    // Stored, not derived again: every data file now has the columns and says schema 2.
    for path in all_paths(&store).await {
        if !path.ends_with(".parquet") {
            continue;
        }
        let meta = parquet::file::metadata::ParquetMetaDataReader::new()
            .parse_and_finish(&read_all(&store, &path).await)
            .expect("footer");
        let columns: Vec<String> = (meta.file_metadata().schema_descr().columns().iter())
            .map(|c| c.name().to_owned())
            .collect();
        for field in Field::DERIVED {
            assert!(
                columns.iter().any(|c| c == field.name()),
                "{path}: {columns:?}"
            );
        }
        let version = (meta
            .file_metadata()
            .key_value_metadata()
            .into_iter()
            .flatten())
        .find(|kv| kv.key == "kaizen_schema_v")
        .and_then(|kv| kv.value.clone());
        assert_eq!(version.as_deref(), Some("2"), "{path}");
    }
    assert_eq!(scan(&store, Query::all()).await, events);
}

pub async fn corrupt_file_is_named(store: Store) {
    store
        .append(vec![event("s", 0, day("2026-10-05").start_ms())])
        .await
        .expect("append");
    let bad = format!("{}/not-parquet.parquet", layout::day_dir(day("2026-10-06")));
    put_file(
        &store,
        &bad,
        Bytes::from_static(b"PAR1 this is not a parquet file"),
    )
    .await;
    let err = store
        .scan_events(Query::all())
        .await
        .expect_err("corrupt file");
    assert!(err.to_string().contains("not-parquet.parquet"), "{err}");
    // A query whose days do not include the bad file still reads.
    let got = scan(&store, Query::all().to_ms(day("2026-10-06").start_ms())).await;
    assert_eq!(got.len(), 1);
}

/// A file whose column is missing or has another type, or whose payload is not JSON, fails
/// the scan with file and column.
pub async fn retyped_or_missing_column_is_named(store: Store) {
    use arrow::array::{ArrayRef, RecordBatch, StringArray};
    use kaizen::store::codec::{encode_file, events_to_batch};
    use std::sync::Arc;

    let with = |batch: &RecordBatch, name: &str, text: &str| {
        let columns: Vec<(String, ArrayRef)> = (batch.schema().fields().iter())
            .zip(batch.columns())
            .map(|(f, c)| match f.name() == name {
                true => (
                    f.name().clone(),
                    Arc::new(StringArray::from(vec![text])) as ArrayRef,
                ),
                false => (f.name().clone(), c.clone()),
            })
            .collect();
        RecordBatch::try_from_iter(columns).expect("batch")
    };
    // A payload that is not JSON in a file kaizen's codec wrote (so damaged after its
    // writer checked it): scans trust such files, events decoded from them do not.
    let earlier = events_to_batch(&[event("s", 0, day("2026-10-04").start_ms())]);
    let path = format!("{}/bad-payload.parquet", layout::day_dir(day("2026-10-04")));
    let bad_payload = with(&earlier, "payload", "{not json");
    put_file(
        &store,
        &path,
        encode_file(&bad_payload, &path).expect("encode"),
    )
    .await;
    let err = store
        .scan_events(Query::all().to_ms(day("2026-10-05").start_ms()))
        .await
        .expect_err("payload not JSON");
    assert!(
        matches!(&err, Error::Column { path: p, column, .. } if p == &path && column == "payload"),
        "{err}"
    );

    let good = events_to_batch(&[event("s", 0, day("2026-10-05").start_ms())]);
    let retyped = with(&good, "seq", "0");
    let path = format!("{}/retyped.parquet", layout::day_dir(day("2026-10-05")));
    put_file(&store, &path, encode_file(&retyped, &path).expect("encode")).await;
    let err = store
        .scan_events(Query::all().from_ms(day("2026-10-05").start_ms()))
        .await
        .expect_err("retyped column");
    assert!(
        matches!(&err, Error::Column { path: p, column, .. } if p == &path && column == "seq"),
        "{err}"
    );

    let missing = good.project(&(0..21).collect::<Vec<_>>()).expect("project");
    let path = format!("{}/missing.parquet", layout::day_dir(day("2026-10-06")));
    put_file(&store, &path, encode_file(&missing, &path).expect("encode")).await;
    let err = store
        .scan_events(Query::all().from_ms(day("2026-10-06").start_ms()))
        .await
        .expect_err("missing");
    assert!(
        err.to_string().contains("missing.parquet")
            && err.to_string().contains("system_prompt_tokens"),
        "{err}"
    );
}

/// Copies a local store (v1 chunk files plus a new file) to this backend and back out,
/// whole and by time range; reruns skip what is there; nothing is ever replaced.
pub async fn copy_between_backends(store: Store) {
    let source_dir = tempfile::tempdir().expect("tmp");
    let source = Store::local(source_dir.path());
    put_v1_fixture(&source, "chunked").await;
    let extra = event("new-session", 0, day("2026-10-02").start_ms() + 1);
    source.append(vec![extra.clone()]).await.expect("append");
    let mut want = sorted(fixture_events());
    want.push(extra);
    let want = sorted(want);
    let no_progress = |_: u64| {};

    let report = source
        .copy_to(&store, None, None, &no_progress)
        .await
        .expect("copy");
    assert_eq!(
        report.copied.len(),
        15,
        "14 v1 files and one new: {report:?}"
    );
    assert_eq!(report.verified.values().sum::<u64>(), want.len() as u64);
    assert_eq!(scan(&store, Query::all()).await, want);
    let paths = all_paths(&store).await;
    assert!(
        paths.contains("cold/events/2026-10-01-000000.parquet"),
        "v1 names kept"
    );

    let again = source
        .copy_to(&store, None, None, &no_progress)
        .await
        .expect("rerun");
    assert!(
        again.copied.is_empty() && again.skipped.len() == 15,
        "{again:?}"
    );
    assert_eq!(all_paths(&store).await, paths);

    // Out again, by range: the edge files are rewritten with only the rows in range.
    let out_dir = tempfile::tempdir().expect("tmp");
    let out = Store::local(out_dir.path());
    let (from, to) = (
        day("2026-10-01").start_ms() + 43_200_000,
        day("2026-10-02").end_ms(),
    );
    let report = store
        .copy_to(&out, Some(from), Some(to), &no_progress)
        .await
        .expect("range copy");
    let in_range: Vec<_> = want
        .iter()
        .filter(|e| e.ts_ms >= from && e.ts_ms < to)
        .cloned()
        .collect();
    assert_eq!(scan(&out, Query::all()).await, in_range);
    assert_eq!(report.verified.values().sum::<u64>(), in_range.len() as u64);
    let again = store
        .copy_to(&out, Some(from), Some(to), &no_progress)
        .await
        .expect("rerun");
    assert!(again.copied.is_empty(), "{again:?}");

    // A different file where a copy would go: refused, never replaced.
    let clash_dir = tempfile::tempdir().expect("tmp");
    let clash = Store::local(clash_dir.path());
    put_file(
        &clash,
        "cold/events/2026-10-01-000000.parquet",
        Bytes::from_static(b"other"),
    )
    .await;
    let err = store
        .copy_to(&clash, None, None, &no_progress)
        .await
        .expect_err("clash");
    assert!(
        matches!(&err, Error::CopyMismatch { detail, .. } if detail.contains("2026-10-01-000000.parquet")),
        "{err}"
    );
}

/// Publishing onto a path that exists fails: a file is never replaced.
pub async fn publish_never_replaces(store: Store) {
    let backend = store.backend();
    let path = "cold/events/day=2026-10-05/x.parquet";
    let first = backend
        .stage(path, Bytes::from_static(b"one"))
        .await
        .expect("stage");
    backend.publish(&first).await.expect("publish");
    let second = backend
        .stage(path, Bytes::from_static(b"two"))
        .await
        .expect("stage");
    let err = backend
        .publish(&second)
        .await
        .expect_err("must not replace");
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err}");
    backend.discard(&second).await.expect("discard");
    assert_eq!(
        backend.get_range(path, 0..3).await.expect("read").as_ref(),
        b"one"
    );
    assert_eq!(
        all_paths(&store).await,
        [path.to_owned()].into(),
        "no staging file left"
    );
}

/// Eight writers appending to the same days at once: every event is kept, none replaced.
pub async fn concurrent_appends_keep_everything(store: Store) {
    let base = day("2026-10-05").start_ms();
    let batches: Vec<Vec<Event>> = (0..8u64)
        .map(|w| {
            (0..50)
                .map(|i| event(&format!("writer-{w}"), i, base + i * 1_000 + w))
                .collect()
        })
        .collect();
    let appends = batches.iter().map(|b| store.append(b.clone()));
    let receipts = futures::future::try_join_all(appends)
        .await
        .expect("appends");
    let files: BTreeSet<_> = receipts
        .iter()
        .flat_map(|r| r.files.iter().map(|f| f.path.clone()))
        .collect();
    assert_eq!(files.len(), 8, "each writer its own file");
    let want = sorted(batches.into_iter().flatten().collect());
    assert_eq!(scan(&store, Query::all()).await, want);
}

/// Uploads the v1 chunked fixture files, as a store in the field holds them.
pub async fn put_v1_fixture(store: &Store, layout_name: &str) {
    let dir = fixture_dir().join(layout_name).join("cold/events");
    for entry in std::fs::read_dir(&dir).expect("fixture dir") {
        let name = entry
            .expect("entry")
            .file_name()
            .into_string()
            .expect("utf-8");
        let bytes = std::fs::read(dir.join(&name)).expect("fixture");
        put_file(
            store,
            &format!("{}/{name}", layout::EVENTS_DIR),
            Bytes::from(bytes),
        )
        .await;
    }
}

pub async fn read_all(store: &Store, path: &str) -> Bytes {
    let size = store
        .backend()
        .list(path.rsplit_once('/').map_or("", |(d, _)| d))
        .await
        .expect("list")
        .files
        .into_iter()
        .find(|f| f.path == path)
        .map(|f| f.size)
        .expect("file listed");
    store
        .backend()
        .get_range(path, 0..size)
        .await
        .expect("read")
}

/// Compaction merges each day into one sorted file, and the store reads each event once at
/// every point a crash could leave it: outputs beside inputs without the marker, outputs
/// beside inputs with the marker, outputs alone.
pub async fn compaction_reads_once_at_every_step(store: Store) {
    put_v1_fixture(&store, "chunked").await;
    let mut half = sorted(fixture_events());
    half.truncate(1500);
    store
        .append(half)
        .await
        .expect("append duplicates of v1 events");
    let want = sorted(fixture_events());
    let inputs_before = all_paths(&store).await;
    let mut saved = Vec::new();
    for path in &inputs_before {
        saved.push((path.clone(), read_all(&store, path).await));
    }

    let days = store
        .compact(|_| true, CompactTarget::default())
        .await
        .expect("compact");
    assert_eq!(days.len(), 3);
    let partitions = store.partitions().await.expect("partitions");
    assert!(partitions.iter().all(|p| p.files == 1), "{partitions:?}");
    assert_eq!(
        partitions.iter().map(|p| p.rows).sum::<u64>(),
        want.len() as u64
    );
    assert_eq!(scan(&store, Query::all()).await, want);
    let outputs = all_paths(&store).await;
    assert!(outputs.is_disjoint(&inputs_before));

    // A crash after the outputs were published, before the marker: inputs still there.
    for (path, bytes) in &saved {
        put_file(&store, path, bytes.clone()).await;
    }
    assert_eq!(scan(&store, Query::all()).await, want, "overlap read once");
    // A crash after the marker, before the inputs were deleted: inputs are ignored.
    for d in &days {
        put_file(
            &store,
            &layout::compaction_marker_path(d.day, &d.id),
            Bytes::from_static(b"{}"),
        )
        .await;
    }
    assert_eq!(scan(&store, Query::all()).await, want);
    let partitions = store.partitions().await.expect("partitions");
    assert!(
        partitions.iter().all(|p| p.files == 1),
        "superseded files not counted: {partitions:?}"
    );
    assert!(store.verify(true).await.expect("verify").is_ok());

    // A later compaction finishes the job.
    store
        .compact(|_| true, CompactTarget::default())
        .await
        .expect("compact again");
    assert_eq!(scan(&store, Query::all()).await, want);
    assert_eq!(
        store
            .partitions()
            .await
            .expect("partitions")
            .iter()
            .map(|p| p.files)
            .sum::<usize>(),
        3
    );
}

/// Compaction at a higher zstd level rewrites days that are one file already, smaller, with
/// the same events; and a day is never rewritten below the level of its densest file.
pub async fn compaction_to_a_higher_level_makes_days_smaller(store: Store) {
    let mut want = sorted(fixture_events());
    store.append(want.clone()).await.expect("append");
    let bytes = |partitions: Vec<kaizen::store::Partition>| -> Vec<(UtcDay, u64)> {
        partitions.iter().map(|p| (p.day, p.bytes)).collect()
    };
    let before = bytes(store.partitions().await.expect("partitions"));
    let at_ingest_level = CompactTarget::default();
    let done = store
        .compact(|_| true, at_ingest_level)
        .await
        .expect("compact");
    assert!(
        done.is_empty(),
        "one file a day at ingest's level: {done:?}"
    );

    let dense = CompactTarget {
        zstd_level: ZstdLevel::try_new(19).expect("level"),
        ..CompactTarget::default()
    };
    let done = store.compact(|_| true, dense).await.expect("compact dense");
    assert_eq!(done.len(), before.len());
    let after = bytes(store.partitions().await.expect("partitions"));
    for ((day, was), (_, is)) in before.iter().zip(&after) {
        assert!(is < was, "{day}: {is} bytes at level 19, {was} at ingest's");
    }
    assert_eq!(scan(&store, Query::all()).await, want);
    let done = store.compact(|_| true, dense).await.expect("compact again");
    assert!(done.is_empty(), "already at level 19: {done:?}");

    // A small file more on a day, merged at ingest's level: the day stays at 19.
    let mut late = want[0].clone();
    late.session_id = "a-session-of-its-own".into();
    store.append(vec![late.clone()]).await.expect("append late");
    let done = store
        .compact(|_| true, at_ingest_level)
        .await
        .expect("merge");
    assert_eq!(done.len(), 1);
    let done = store
        .compact(|_| true, dense)
        .await
        .expect("compact dense again");
    assert!(done.is_empty(), "the merge kept level 19: {done:?}");
    want.push(late);
    assert_eq!(scan(&store, Query::all()).await, sorted(want));
}

/// A scan that started before a compaction removed its files still gives every event once.
pub async fn scan_survives_a_concurrent_compaction(store: Store) {
    let store = store.with_options(StoreOptions {
        batch_rows: 100,
        ..StoreOptions::default()
    });
    let want = sorted(fixture_events());
    for part in 0..3 {
        let chunk: Vec<_> = want.iter().skip(part).step_by(3).cloned().collect();
        store.append(chunk).await.expect("append");
    }
    let mut batches = store.scan(Query::all()).await.expect("scan");
    let first = batches
        .try_next()
        .await
        .expect("first batch")
        .expect("rows");
    store
        .compact(|_| true, CompactTarget::default())
        .await
        .expect("compact under the scan");
    let mut got = kaizen::store::codec::batch_to_events(&first, "scan").expect("decode");
    while let Some(batch) = batches.try_next().await.expect("scan goes on") {
        got.extend(kaizen::store::codec::batch_to_events(&batch, "scan").expect("decode"));
    }
    assert_eq!(got, want);
}

/// An unordered scan (for aggregates) gives each event once, whatever the files of a day:
/// several writers' files overlapping in time, v1 files holding copies of them. A day whose
/// files a compaction replaces under it either still reads whole or fails naming the day:
/// never an event twice, never one missed in what it gave.
pub async fn unordered_scans_give_each_event_once(store: Store) {
    let store = store.with_options(StoreOptions {
        batch_rows: 100,
        ..StoreOptions::default()
    });
    // The fixture's days: three writers' files, then v1 files holding copies of them (a
    // merge drops the copies). Another day: only this store's files, overlapping in time
    // (read one after another).
    let mut want = fixture_events();
    let later = day("2026-10-07").start_ms();
    want.extend((0..600).map(|i| event(&format!("s{}", i % 7), i, later + i * 1000)));
    let want = sorted(want);
    for part in 0..3 {
        let chunk: Vec<_> = want.iter().skip(part).step_by(3).cloned().collect();
        store.append(chunk).await.expect("append");
    }
    put_v1_fixture(&store, "chunked").await;
    assert_eq!(sorted(scan(&store, Query::all().unordered()).await), want);

    let mut batches = store.scan(Query::all().unordered()).await.expect("scan");
    let mut got = Vec::new();
    let first = batches
        .try_next()
        .await
        .expect("first batch")
        .expect("rows");
    got.extend(kaizen::store::codec::batch_to_events(&first, "scan").expect("decode"));
    store
        .compact(|_| true, CompactTarget::default())
        .await
        .expect("compact under the scan");
    loop {
        match batches.try_next().await {
            Ok(Some(batch)) => {
                got.extend(kaizen::store::codec::batch_to_events(&batch, "scan").expect("decode"))
            }
            Ok(None) => {
                assert_eq!(sorted(got), want, "read whole");
                break;
            }
            Err(e) => {
                assert!(
                    matches!(e, kaizen::store::Error::ChangedUnderScan { .. }),
                    "only the day's change ends the scan: {e}"
                );
                let mut seen = std::collections::HashSet::new();
                for event in &got {
                    assert!(
                        want.contains(event),
                        "an event that is not stored: {event:?}"
                    );
                    assert!(
                        seen.insert((event.session_id.clone(), event.seq)),
                        "given twice"
                    );
                }
                break;
            }
        }
    }
    // Read again, the compacted store gives every event once.
    assert_eq!(sorted(scan(&store, Query::all().unordered()).await), want);
}

/// Damaged and foreign files: each named by verify, a scan fails naming it, and with
/// skip_corrupt the rest of the store reads, each skipped file recorded.
pub async fn hostile_files_are_named_and_skippable(store: Store) {
    use kaizen::store::codec::{encode_file, events_to_batch};

    store.append(fixture_events()).await.expect("append");
    let good_day = layout::day_dir(day("2026-10-01"));
    let good = all_paths(&store)
        .await
        .into_iter()
        .find(|p| p.starts_with(&good_day))
        .expect("a file");
    let bytes = read_all(&store, &good).await;
    let mut flipped = bytes.to_vec();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0xff;
    let foreign = {
        let batch = arrow::array::RecordBatch::try_from_iter([(
            "x",
            std::sync::Arc::new(arrow::array::Int32Array::from(vec![1, 2]))
                as arrow::array::ArrayRef,
        )])
        .expect("batch");
        encode_file(&batch, "foreign").expect("encode")
    };
    let wrong_day = encode_file(
        &events_to_batch(&[event("w", 0, day("2026-10-05").start_ms())]),
        "w",
    )
    .expect("encode");
    let bad: Vec<(String, Bytes)> = vec![
        (
            format!("{}/truncated.parquet", layout::day_dir(day("2026-11-01"))),
            bytes.slice(..bytes.len() / 2),
        ),
        (
            format!("{}/empty.parquet", layout::day_dir(day("2026-11-02"))),
            Bytes::new(),
        ),
        (
            format!("{}/flipped.parquet", layout::day_dir(day("2026-11-03"))),
            Bytes::from(flipped),
        ),
        (
            format!("{}/foreign.parquet", layout::day_dir(day("2026-11-04"))),
            foreign,
        ),
        (
            format!("{}/wrong-day.parquet", layout::day_dir(day("2026-11-05"))),
            wrong_day,
        ),
    ];
    for (path, bytes) in &bad {
        put_file(&store, path, bytes.clone()).await;
    }
    let leftover = format!(
        "{}/.{}.kaizen-tmp",
        layout::day_dir(day("2026-10-01")),
        "01a212c6-0e7e-753d-8a3d-e63c25b2e938"
    );
    put_file(&store, &leftover, Bytes::from_static(b"half a file")).await;

    let report = store.verify(false).await.expect("verify");
    let named: BTreeSet<_> = report.problems.iter().map(|p| p.path.clone()).collect();
    for (path, _) in &bad {
        if path.contains("flipped") {
            continue; // a flipped byte in a data page shows only when rows are decoded
        }
        assert!(named.contains(path), "{path} named by verify: {report:?}");
    }
    assert_eq!(report.leftovers, vec![leftover.clone()]);
    let deep = store.verify(true).await.expect("deep verify");
    assert!(!deep.is_ok());

    for (path, _) in &bad {
        let day_of = path
            .split('/')
            .nth(2)
            .expect("day dir")
            .trim_start_matches("day=");
        let from = day(day_of).start_ms();
        let err = store
            .scan_events(Query::all().from_ms(from).to_ms(from + 86_400_000))
            .await;
        if path.contains("flipped") || path.contains("wrong-day") {
            // A flip in a string's bytes may decode; the wrong-day file's statistics put it
            // outside its own day's range, so that range's scan never opens its rows. Both
            // are named by verify and recorded by the skip_corrupt scan below.
            continue;
        }
        let err = err.expect_err(path);
        assert!(
            err.to_string()
                .contains(path.rsplit('/').next().expect("name")),
            "{path}: {err}"
        );
    }

    let skipped = SkippedFiles::default();
    let got = store
        .scan_events(Query::all().skip_corrupt(skipped.clone()))
        .await
        .expect("skip corrupt");
    let healthy: Vec<_> = sorted(fixture_events());
    assert_eq!(got[..healthy.len()], healthy[..], "every healthy day read");
    let skipped: BTreeSet<_> = skipped.list().into_iter().map(|(p, _)| p).collect();
    for (path, _) in &bad {
        if !path.contains("flipped") {
            assert!(skipped.contains(path), "{path} skipped: {skipped:?}");
        }
    }
    assert!(!skipped.contains(&leftover));
}

/// Agent logs imported into the backend (the built-in sample week of Claude Code, Codex and
/// Gemini CLI logs): every token the importer counted is in the store, once; the importer's
/// cursors kept as a state document there make a second import read nothing, and the same
/// lines imported again without cursors (another machine's copy) store nothing twice;
/// export gives every file back byte for byte.
pub async fn imported_agent_logs_are_kept_once_and_exported_exactly(store: Store) {
    use kaizen::import::sample::{SampleOptions, write_tree};
    use kaizen::import::{Agent, Cursor, Exporter, ImportOptions, discover, import_files};

    let dir = tempfile::tempdir().expect("tmp");
    let logs = dir.path().join("logs");
    write_tree(&logs, &SampleOptions::ending(day("2026-10-07"))).expect("sample");
    let files: Vec<_> = (Agent::AGENTS.iter())
        .flat_map(|a| discover(*a, &[logs.join(a.name())]).expect("discover"))
        .collect();
    let import = |cursors: std::collections::HashMap<String, Cursor>| {
        let mut events = Vec::new();
        let (report, cursors) =
            import_files(&files, &cursors, &ImportOptions::default(), &mut |chunk| {
                events.extend(chunk);
                Ok(())
            })
            .expect("import");
        (events, report, cursors)
    };

    let (events, report, cursors) = import(Default::default());
    let receipt = store.append(events.clone()).await.expect("append");
    assert_eq!(receipt.rows(), events.len() as u64);
    let text = serde_json::to_vec(&cursors).expect("cursors");
    store
        .write_state("import-cursors", text.into())
        .await
        .expect("state");

    let stored = scan(&store, Query::all()).await;
    assert_eq!(stored.len(), events.len());
    let sum =
        |f: fn(&Event) -> Option<u32>| stored.iter().filter_map(f).map(u64::from).sum::<u64>();
    let want =
        |f: fn(&kaizen::import::SourceReport) -> u64| report.sources.values().map(f).sum::<u64>();
    assert_eq!(sum(|e| e.tokens_in), want(|r| r.input));
    assert_eq!(sum(|e| e.tokens_out), want(|r| r.output));
    assert_eq!(sum(|e| e.cache_read_tokens), want(|r| r.cache_read));
    assert_eq!(
        sum(|e| e.cache_creation_tokens),
        want(|r| r.cache_creation())
    );

    // From the stored cursors: nothing to read.
    let saved = store
        .read_state("import-cursors")
        .await
        .expect("read")
        .expect("saved");
    let saved: Vec<Cursor> = serde_json::from_slice(&saved).expect("cursors");
    let by_path = saved.into_iter().map(|c| (c.path.clone(), c)).collect();
    let (again, _, _) = import(by_path);
    assert!(again.is_empty(), "{} events read again", again.len());

    // Without cursors (the same logs on another machine): copies, nothing written.
    let before = all_paths(&store).await;
    let (copies, _, _) = import(Default::default());
    let receipt = store.append(copies).await.expect("append copies");
    assert_eq!(receipt.rows(), 0);
    assert_eq!(all_paths(&store).await, before);

    let out = dir.path().join("out");
    for agent in Agent::AGENTS {
        let mut exporter = Exporter::new(out.join(agent.name()), Some(agent));
        for event in &stored {
            exporter.add(event).expect("add");
        }
        exporter.finish().expect("export");
    }
    for file in &files {
        let rel = file.path.strip_prefix(&logs).expect("under logs");
        let back = std::fs::read(out.join(rel)).expect("exported");
        assert!(
            back == std::fs::read(&file.path).expect("source"),
            "{}",
            rel.display()
        );
    }
}

/// Property: any valid event round-trips through the backend unchanged.
pub async fn any_valid_event_round_trips(store: Store) {
    let events = crate::suite::arbitrary::events(64);
    store.append(events.clone()).await.expect("append");
    assert_eq!(scan(&store, Query::all()).await, sorted(events));
}

/// Prune removes v1 files before the cutoff and keeps those after it, and never touches a
/// live writer's staged files: the writer still commits afterwards.
pub async fn prune_keeps_later_v1_files_and_live_writers(store: Store) {
    put_v1_fixture(&store, "daily").await;
    let writing = store.clone().with_options(StoreOptions {
        rows_per_file: 10,
        ..StoreOptions::default()
    });
    let mut writer = writing.writer();
    let base = day("2026-10-01").start_ms() + 7;
    let fresh: Vec<_> = (0..50).map(|i| event("live-writer", i, base + i)).collect();
    writer.write(fresh.clone()).await.expect("stage");

    let report = store.prune(day("2026-10-03"), false).await.expect("prune");
    let removed: BTreeSet<_> = report.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        removed,
        [
            "cold/events/2026-10-01.parquet",
            "cold/events/2026-10-02.parquet"
        ]
        .into()
    );
    assert!(
        all_paths(&store)
            .await
            .contains("cold/events/2026-10-03.parquet")
    );

    writer
        .commit()
        .await
        .expect("the writer's staged files survived the prune");
    let mut want: Vec<_> = sorted(fixture_events())
        .into_iter()
        .filter(|e| e.ts_ms >= day("2026-10-03").start_ms())
        .collect();
    want.extend(fresh);
    assert_eq!(scan(&store, Query::all()).await, sorted(want));
}

/// A writer that publishes into a folder removes staging files left there a day ago by a
/// writer that died, and leaves a recent one (maybe a live writer's) alone.
pub async fn stale_staging_files_are_swept(store: Store) {
    let dir = layout::day_dir(day("2026-10-05"));
    // UUIDv7 names: the first from 2020, the second made now.
    let stale = format!("{dir}/.016f5e66-e800-7000-8000-000000000000.kaizen-tmp");
    let fresh = layout::staging_path(&format!("{dir}/x.parquet"));
    for path in [&stale, &fresh] {
        put_file(&store, path, Bytes::from_static(b"half")).await;
    }
    assert_eq!(
        store.verify(false).await.expect("verify").leftovers.len(),
        2
    );
    store
        .append(vec![event("s", 0, day("2026-10-05").start_ms())])
        .await
        .expect("append");
    let paths = all_paths(&store).await;
    assert!(!paths.contains(&stale), "stale leftover removed");
    assert!(paths.contains(&fresh), "recent staging file kept");
}

/// A file larger than one upload part (object stores upload it in parts) round-trips.
pub async fn large_file_round_trips(store: Store) {
    // Hex of a xorshift sequence: compresses to about half, so the file is over 8 MiB.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let events: Vec<Event> = (0..100)
        .map(|seq| {
            let text: String = (0..25_000)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    format!("{:08x}", x as u32)
                })
                .collect();
            let mut e = event("big", seq, day("2026-10-05").start_ms() + seq);
            e.payload = Payload::from_json_text(format!("\"{text}\"")).expect("payload");
            e
        })
        .collect();
    let receipt = store.append(events.clone()).await.expect("append");
    assert!(
        receipt.bytes() > 9 * 1024 * 1024,
        "{} bytes",
        receipt.bytes()
    );
    assert_eq!(scan(&store, Query::all()).await, events);
}

/// The row counts of each row group of every data file of `d`, by file path.
async fn row_group_rows(store: &Store, d: UtcDay) -> Vec<Vec<i64>> {
    use parquet::file::metadata::ParquetMetaDataReader;
    let listing = store
        .backend()
        .list(&layout::day_dir(d))
        .await
        .expect("list");
    let mut out = Vec::new();
    for file in listing
        .files
        .iter()
        .filter(|f| f.path.ends_with(".parquet"))
    {
        let bytes = read_all(store, &file.path).await;
        let meta = ParquetMetaDataReader::new()
            .parse_and_finish(&bytes)
            .expect("footer");
        out.push(meta.row_groups().iter().map(|g| g.num_rows()).collect());
    }
    out
}

/// Rows of megabytes (tool results carrying images) go into row groups closed by bytes, as
/// the writer buffers them (parts of the buffer's bytes), encodes a part, and compacts; a
/// scan gives them in batches closed by bytes; every event round-trips.
pub async fn large_rows_are_split_by_bytes(store: Store) {
    use kaizen::store::codec::{BATCH_BYTES, ROW_GROUP_BYTES};
    const ROW: usize = 6 << 20;
    // 6 MiB rows: 5 fit in a row group's bytes, 3 in the writer's buffer, 1 in a batch.
    assert_eq!(ROW_GROUP_BYTES / ROW, 5);
    assert_eq!(StoreOptions::default().max_buffered_bytes / ROW, 4);
    assert_eq!(BATCH_BYTES / ROW, 1);
    // Base64-like text of a xorshift sequence, a window of it per event.
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    const DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let text: Vec<u8> = (0..ROW + 4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            DIGITS[(x >> 58) as usize]
        })
        .collect();
    let text = String::from_utf8(text).expect("ascii");
    let image = |seq: u64, ts: u64| {
        let mut e = event("images", seq, ts);
        e.kind = EventKind::ToolResult;
        let at = (seq % 16) as usize * 256;
        let data = &text[at..at + ROW];
        e.payload = Payload::from_json_text(format!(r#"{{"type":"image","data":"{data}"}}"#))
            .expect("payload");
        e
    };
    let (by_writer, by_part) = (day("2026-10-07"), day("2026-10-08"));
    let first: Vec<Event> = (0..12)
        .map(|s| image(s, by_writer.start_ms() + s))
        .collect();
    let second: Vec<Event> = (0..12)
        .map(|s| image(100 + s, by_part.start_ms() + s))
        .collect();
    // One write each: the writer's buffer closes parts by bytes (3 rows each, one file)...
    store.append(first.clone()).await.expect("append");
    assert_eq!(row_group_rows(&store, by_writer).await, [vec![3, 3, 3, 3]]);
    // ...and a part larger than a row group is encoded in row groups closed by bytes.
    let roomy = store.clone().with_options(StoreOptions {
        max_buffered_bytes: 1 << 30,
        ..StoreOptions::default()
    });
    roomy.append(second.clone()).await.expect("append");
    assert_eq!(row_group_rows(&store, by_part).await, [vec![5, 5, 2]]);

    let mut want = first;
    want.extend(second);
    let batches: Vec<_> = (store.scan(Query::all()).await.expect("scan"))
        .try_collect()
        .await
        .expect("batches");
    assert!(
        batches.iter().all(|b| b.num_rows() == 1),
        "one 6 MiB row a batch"
    );
    assert_eq!(scan(&store, Query::all()).await, want);

    // Compaction's encoder closes row groups by bytes too, whatever the merge gives it.
    let target = CompactTarget {
        zstd_level: ZstdLevel::try_new(9).expect("level"),
        ..CompactTarget::default()
    };
    let done = store.compact(|_| true, target).await.expect("compact");
    assert_eq!(done.len(), 2, "{done:?}");
    for d in [by_writer, by_part] {
        assert_eq!(row_group_rows(&store, d).await, [vec![5, 5, 2]], "{d}");
    }
    assert_eq!(scan(&store, Query::all()).await, want);
    let report = store.verify(true).await.expect("verify");
    assert!(report.is_ok(), "{report:?}");
}

/// A file staged piece by piece publishes whole, whether it stays under the size that
/// object stores upload in parts or passes it on the way; an aborted one leaves nothing.
pub async fn a_file_staged_in_pieces_publishes_whole(store: Store) {
    let backend = store.backend();
    let before = all_paths(&store).await;
    let piece =
        |i: u8, len: usize| Bytes::from((0..len).map(|j| i ^ (j % 251) as u8).collect::<Vec<u8>>());
    let dir = layout::day_dir(day("2026-10-09"));
    for (name, len) in [("small", 100 << 10), ("large", 3 << 20)] {
        let path = format!("{dir}/pieces-{name}.bin");
        let mut writer = backend.stage_writer(&path).await.expect("stage writer");
        let mut whole = Vec::new();
        for i in 0..4 {
            let piece = piece(i, len);
            whole.extend_from_slice(&piece);
            writer.write(piece).await.expect("write");
        }
        let staged = writer.finish().await.expect("finish");
        assert_eq!(staged.size, whole.len() as u64);
        backend.publish(&staged).await.expect("publish");
        let read = backend
            .get_range(&path, 0..staged.size)
            .await
            .expect("read");
        assert!(read == whole, "{name}: the file as written");
        backend.delete(&path).await.expect("delete");

        let mut writer = backend.stage_writer(&path).await.expect("stage writer");
        for i in 0..4 {
            writer.write(piece(i, len)).await.expect("write");
        }
        writer.abort().await.expect("abort");
    }
    assert_eq!(all_paths(&store).await, before, "nothing left behind");
}

pub async fn aborted_writer_leaves_store_unchanged(store: Store) {
    store
        .append(vec![event("s", 0, day("2026-10-05").start_ms())])
        .await
        .expect("append");
    let before = all_paths(&store).await;
    let mut writer = store.writer();
    let many: Vec<_> = (1..100)
        .map(|i| event("s", i, day("2026-10-06").start_ms() + i))
        .collect();
    writer.write(many).await.expect("write");
    writer.abort().await.expect("abort");
    assert_eq!(all_paths(&store).await, before);
    assert_eq!(scan(&store, Query::all()).await.len(), 1);
}

/// A location holds a store once something is under its `cold/` (`Store::exists`): not when
/// fresh, not for foreign files beside it; the first event makes it one.
pub async fn a_store_is_there_once_it_holds_data(store: Store) {
    let exists = |store: &Store| {
        let store = store.clone();
        async move { store.exists().await.expect("exists") }
    };
    assert!(!exists(&store).await, "a fresh location holds no store");
    put_file(&store, "notes.txt", Bytes::from_static(b"x")).await;
    put_file(&store, "colder/x", Bytes::from_static(b"x")).await;
    assert!(!exists(&store).await, "foreign files are not a store");
    store
        .append(vec![event("s", 0, day("2026-10-05").start_ms())])
        .await
        .expect("append");
    assert!(exists(&store).await, "an event makes a store");
    store.create().await.expect("create");
    assert!(exists(&store).await);
    assert_eq!(scan(&store, Query::all()).await.len(), 1);
}

/// Runs every suite function against a backend. `$make` is an async fn returning a `Store`
/// and a guard that keeps what the store needs (a folder, a bucket) until the test ends, or
/// `None` where the backend's server is not configured (never under CI).
#[macro_export]
macro_rules! conformance_suite {
    ($make:path) => {
        #[tokio::test]
        async fn erase_reaches_v1_files() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::rewrites::erase_reaches_v1_files(store).await
        }
        #[tokio::test]
        async fn erase_removes_every_event_of_the_sessions() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::rewrites::erase_removes_every_event_of_the_sessions(store).await
        }
        #[tokio::test]
        async fn erase_of_whole_files_removes_them() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::rewrites::erase_of_whole_files_removes_them(store).await
        }
        #[tokio::test]
        async fn payload_prune_keeps_every_typed_column() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::rewrites::payload_prune_keeps_every_typed_column(store).await
        }
        #[tokio::test]
        async fn a_rewrite_never_moves_an_event() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::rewrites::a_rewrite_never_moves_an_event(store).await
        }
        #[tokio::test]
        async fn round_trip_every_edge_event() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::round_trip_every_edge_event(store).await
        }
        #[tokio::test]
        async fn queries_filter_project_and_limit() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::queries_filter_project_and_limit(store).await
        }
        #[tokio::test]
        async fn ordering_across_files_and_days() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::ordering_across_files_and_days(store).await
        }
        #[tokio::test]
        async fn two_appends_to_one_day_keep_both() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::two_appends_to_one_day_keep_both(store).await
        }
        #[tokio::test]
        async fn identity_is_deduplicated() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::identity_is_deduplicated(store).await
        }
        #[tokio::test]
        async fn conflicts_set_aside_leave_the_rest_published() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::conflicts_set_aside_leave_the_rest_published(store).await
        }
        #[tokio::test]
        async fn identity_conflicts_are_refused_at_append() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::identity_conflicts_are_refused_at_append(store).await
        }
        #[tokio::test]
        async fn imported_agent_logs_are_kept_once_and_exported_exactly() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::imported_agent_logs_are_kept_once_and_exported_exactly(store).await
        }
        #[tokio::test]
        async fn readers_agree_on_a_stored_conflict() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::readers_agree_on_a_stored_conflict(store).await
        }
        #[tokio::test]
        async fn one_write_over_many_files_reads_whole() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::one_write_over_many_files_reads_whole(store).await
        }
        #[tokio::test]
        async fn a_day_staged_in_time_order_is_one_file() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::a_day_staged_in_time_order_is_one_file(store).await
        }
        #[tokio::test]
        async fn a_day_left_behind_is_staged_before_the_day_being_written() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::a_day_left_behind_is_staged_before_the_day_being_written(store).await
        }
        #[tokio::test]
        async fn verify_finds_a_false_identity_claim() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::verify_finds_a_false_identity_claim(store).await
        }
        #[tokio::test]
        async fn projected_scan_survives_a_compaction_of_a_split_day() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::projected_scan_survives_a_compaction_of_a_split_day(store).await
        }
        #[tokio::test]
        async fn prune_removes_only_data_files() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::prune_removes_only_data_files(store).await
        }
        #[tokio::test]
        async fn v1_daily_fixture_store_reads_exactly() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::v1_fixture_stores_read_exactly(store, "daily").await
        }
        #[tokio::test]
        async fn v1_chunked_fixture_store_reads_exactly() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::v1_fixture_stores_read_exactly(store, "chunked").await
        }
        #[tokio::test]
        async fn verify_deep_finds_a_summary_that_leaves_out_rows() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::verify_deep_finds_a_summary_that_leaves_out_rows(store).await
        }
        #[tokio::test]
        async fn an_unsorted_file_reads_unordered_without_its_key_columns() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::an_unsorted_file_reads_unordered_without_its_key_columns(store).await
        }
        #[tokio::test]
        async fn derived_columns_are_the_payloads_attributes() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::derived_columns_are_the_payloads_attributes(store).await
        }
        #[tokio::test]
        async fn corrupt_file_is_named() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::corrupt_file_is_named(store).await
        }
        #[tokio::test]
        async fn retyped_or_missing_column_is_named() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::retyped_or_missing_column_is_named(store).await
        }
        #[tokio::test]
        async fn copy_between_backends() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::copy_between_backends(store).await
        }
        #[tokio::test]
        async fn publish_never_replaces() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::publish_never_replaces(store).await
        }
        #[tokio::test]
        async fn concurrent_appends_keep_everything() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::concurrent_appends_keep_everything(store).await
        }
        #[tokio::test]
        async fn compaction_reads_once_at_every_step() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::compaction_reads_once_at_every_step(store).await
        }
        #[tokio::test]
        async fn compaction_to_a_higher_level_makes_days_smaller() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::compaction_to_a_higher_level_makes_days_smaller(store).await
        }
        #[tokio::test]
        async fn scan_survives_a_concurrent_compaction() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::scan_survives_a_concurrent_compaction(store).await
        }
        #[tokio::test]
        async fn unordered_scans_give_each_event_once() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::unordered_scans_give_each_event_once(store).await
        }
        #[tokio::test]
        async fn hostile_files_are_named_and_skippable() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::hostile_files_are_named_and_skippable(store).await
        }
        #[tokio::test]
        async fn any_valid_event_round_trips() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::any_valid_event_round_trips(store).await
        }
        #[tokio::test]
        async fn prune_keeps_later_v1_files_and_live_writers() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::prune_keeps_later_v1_files_and_live_writers(store).await
        }
        #[tokio::test]
        async fn stale_staging_files_are_swept() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::stale_staging_files_are_swept(store).await
        }
        #[tokio::test]
        async fn a_file_staged_in_pieces_publishes_whole() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::a_file_staged_in_pieces_publishes_whole(store).await
        }
        #[tokio::test]
        async fn large_file_round_trips() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::large_file_round_trips(store).await
        }
        #[tokio::test]
        async fn large_rows_are_split_by_bytes() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::large_rows_are_split_by_bytes(store).await
        }
        #[tokio::test]
        async fn aborted_writer_leaves_store_unchanged() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::aborted_writer_leaves_store_unchanged(store).await
        }
        #[tokio::test]
        async fn a_store_is_there_once_it_holds_data() {
            let Some((store, _guard)) = $make().await else {
                return; // this backend is not configured here
            };
            suite::a_store_is_there_once_it_holds_data(store).await
        }
    };
}
