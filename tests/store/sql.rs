//! The library's SQL: stores registered as one DataFusion table.

use crate::suite;

use datafusion::prelude::SessionContext;
use kaizen::store::{EventStore, Store, open_store, sql};

/// The result of `query`, as a table of text.
async fn run(ctx: &SessionContext, query: &str) -> String {
    let batches = ctx
        .sql(query)
        .await
        .expect("plan")
        .collect()
        .await
        .expect("run");
    arrow::util::pretty::pretty_format_batches(&batches)
        .expect("format")
        .to_string()
}

#[tokio::test]
async fn stores_register_as_one_table_that_counts_each_event_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let local = Store::local(dir.path());
    local.append(suite::fixture_events()).await.expect("append");
    local
        .append(suite::fixture_events())
        .await
        .expect("the same events again");
    let memory = open_store("memory://", &[]).expect("memory");
    memory
        .append(vec![suite::event(
            "m",
            0,
            suite::day("2026-10-05").start_ms(),
        )])
        .await
        .expect("append");

    let ctx = SessionContext::new();
    sql::register(
        &ctx,
        "events",
        vec![("local".into(), local), ("mem".into(), memory)],
    )
    .expect("register");
    let text = run(
        &ctx,
        "SELECT store, count(*) AS n, count(DISTINCT day) AS days FROM events GROUP BY store ORDER BY store",
    )
    .await;
    assert!(text.contains("| local | 3011 | 3    |"), "{text}");
    assert!(text.contains("| mem   | 1    | 1    |"), "{text}");
}

/// Filters the scan takes exactly (DataFusion does not filter again) keep exactly the rows a
/// plain filter over the events keeps.
#[tokio::test]
async fn pushed_filters_keep_exactly_the_matching_rows() {
    use kaizen::core::Event;

    let store = open_store("memory://", &[]).expect("memory");
    let events = suite::fixture_events();
    store.append(events.clone()).await.expect("append");
    let ctx = sql::session(vec![("m".into(), store)]).expect("session");

    let (t1, t2) = (1_790_878_612_494u64, 1_790_950_685_004u64);
    let day = |e: &Event| e.ts_ms / 86_400_000;
    let d = suite::day("2026-10-02");
    let d_num = d.start_ms() / 86_400_000;
    let kind = |e: &Event, names: &[&str]| names.contains(&e.kind.name());
    type Keep = Box<dyn Fn(&Event) -> bool>;
    let cases: Vec<(String, Keep)> = vec![
        (format!("ts_ms > {t1}"), Box::new(move |e| e.ts_ms > t1)),
        (format!("ts_ms = {t1}"), Box::new(move |e| e.ts_ms == t1)),
        (
            format!("ts_ms >= {t1} AND ts_ms < {t2}"),
            Box::new(move |e| e.ts_ms >= t1 && e.ts_ms < t2),
        ),
        (
            format!("ts_ms BETWEEN {t1} AND {t2}"),
            Box::new(move |e| (t1..=t2).contains(&e.ts_ms)),
        ),
        (format!("{t2} >= ts_ms"), Box::new(move |e| e.ts_ms <= t2)),
        ("ts_ms > 18446744073709551615".into(), Box::new(|_| false)),
        (
            format!("day = DATE '{d}'"),
            Box::new(move |e| day(e) == d_num),
        ),
        (format!("day > '{d}'"), Box::new(move |e| day(e) > d_num)),
        (
            format!("day <= DATE '{d}'"),
            Box::new(move |e| day(e) <= d_num),
        ),
        (
            format!("day BETWEEN DATE '{d}' AND DATE '{d}' AND ts_ms < {t2}"),
            Box::new(move |e| day(e) == d_num && e.ts_ms < t2),
        ),
        (
            "session_id = 'edge-a'".into(),
            Box::new(|e| e.session_id == "edge-a"),
        ),
        (
            "session_id IN ('edge-a', 'no-such-session')".into(),
            Box::new(|e| e.session_id == "edge-a"),
        ),
        (
            "kind IN ('Cost', 'Error') AND session_id <> 'edge-a'".into(),
            Box::new(move |e| kind(e, &["Cost", "Error"]) && e.session_id != "edge-a"),
        ),
        ("kind = 'NoSuchKind'".into(), Box::new(|_| false)),
        (
            format!("CAST(ts_ms AS BIGINT) > {t1} AND kind = 'ToolCall'"),
            Box::new(move |e| e.ts_ms > t1 && kind(e, &["ToolCall"])),
        ),
    ];
    for (filter, keep) in cases {
        let text = run(
            &ctx,
            &format!("SELECT count(*) AS n FROM events WHERE {filter}"),
        )
        .await;
        let want = events.iter().filter(|e| keep(e)).count();
        assert!(
            text.contains(&format!("| {want} ")),
            "{filter}: want {want}\n{text}"
        );
    }
}

/// A store that holds two versions of one identity on two days far apart (written by an
/// older kaizen, or copied in): `count(*)` fails naming both files, although SQL scans the
/// days in runs side by side and reads no column but `ts_ms`.
#[tokio::test]
async fn a_count_over_a_stored_conflict_fails() {
    use kaizen::store::codec::{encode_file, events_to_batch};
    use kaizen::store::layout;

    let store = open_store("memory://", &[]).expect("memory");
    let first = suite::day("2026-10-01");
    let days: Vec<_> = (0..10)
        .map(|i| suite::event("filler", i, first.start_ms() + i * 86_400_000))
        .collect();
    store.append(days).await.expect("append");
    let mut paths = Vec::new();
    for ts in [first.start_ms() + 5, first.start_ms() + 9 * 86_400_000 + 5] {
        let event = suite::event("twice", 0, ts);
        let path = layout::new_file_path(event.day().expect("day"));
        let bytes = encode_file(&events_to_batch(&[event]), &path).expect("encode");
        suite::put_file(&store, &path, bytes).await;
        paths.push(path);
    }
    let ctx = sql::session(vec![("m".into(), store)]).expect("session");
    let frame = ctx.sql("SELECT count(*) FROM events").await.expect("plan");
    let err = frame.collect().await.expect_err("a conflict");
    let text = err.to_string();
    assert!(paths.iter().all(|p| text.contains(p.as_str())), "{text}");
}

/// The table for aggregates (no order promised) counts what the ordered table counts, and
/// `ORDER BY` over it still orders.
#[tokio::test]
async fn the_aggregate_table_counts_what_the_ordered_one_does() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::local(dir.path());
    let events = suite::fixture_events();
    for part in 0..3 {
        let chunk: Vec<_> = events.iter().skip(part).step_by(3).cloned().collect();
        store.append(chunk).await.expect("append");
    }
    let ordered = sql::session(vec![("s".into(), store.clone())]).expect("session");
    let unordered = sql::aggregate_session(vec![("s".into(), store)]).expect("session");
    for query in [
        "SELECT day, count(*) AS n, count(DISTINCT session_id) AS sessions, sum(seq) AS seqs FROM events GROUP BY day ORDER BY day",
        "SELECT session_id, seq, ts_ms FROM events ORDER BY ts_ms, session_id, seq LIMIT 25",
    ] {
        assert_eq!(
            run(&ordered, query).await,
            run(&unordered, query).await,
            "{query}"
        );
    }
}

/// Over more stores than cores, the table for aggregates reads one partition per core
/// (stores one after another: every partition is read at once, and memory grew with the
/// stores), and counts every store's events, each under its name.
#[tokio::test]
async fn the_aggregate_table_reads_many_stores_in_one_partition_per_core() {
    let mut stores = Vec::new();
    for i in 0..5u64 {
        let store = open_store("memory://", &[]).expect("memory");
        let events: Vec<_> = (0..=i)
            .map(|seq| suite::event(&format!("s{i}"), seq, suite::day("2026-10-05").start_ms()))
            .collect();
        store.append(events).await.expect("append");
        stores.push((format!("m{i}"), store));
    }
    let ordered = sql::session(stores.clone()).expect("session");
    let unordered = sql::aggregate_session(stores).expect("session");
    let partitions = |ctx: SessionContext| async move {
        use datafusion::physical_plan::ExecutionPlanProperties;
        let frame = ctx.sql("SELECT * FROM events").await.expect("plan");
        let plan = frame.create_physical_plan().await.expect("physical plan");
        let cores = ctx.state().config().target_partitions();
        (plan.output_partitioning().partition_count(), cores)
    };
    let query = "SELECT store, count(*) AS n FROM events GROUP BY store ORDER BY store";
    let counted = run(&unordered, query).await;
    assert_eq!(run(&ordered, query).await, counted);
    for i in 0..5 {
        assert!(
            counted.contains(&format!("| m{i}    | {} |", i + 1)),
            "{counted}"
        );
    }
    let (read_at_once, cores) = partitions(unordered).await;
    assert!(
        read_at_once <= cores.max(1),
        "{read_at_once} partitions, {cores} cores"
    );
    assert_eq!(
        partitions(ordered).await.0,
        5,
        "an ordered table: a partition per store"
    );
}

/// A group per row (240k one-event sessions, past DataFusion's 100k-row probe for skipping
/// partial aggregation) with `percentile_cont`: answered, not "one argument to
/// merge_batch" (DataFusion 55.2's, when the skip turns rows into partial states).
#[tokio::test]
async fn percentiles_over_groups_of_one_row_are_answered() {
    let store = open_store("memory://", &[]).expect("memory");
    // Two days: two partitions, each past the probe, partial aggregates then a final one.
    let start = suite::day("2026-10-05").start_ms();
    let events: Vec<_> = (0..240_000u64)
        .map(|i| {
            let mut e = suite::event(&format!("s{i}"), 0, start + i * 720);
            e.latency_ms = Some((i % 1000) as u32);
            e
        })
        .collect();
    store.append(events).await.expect("append");
    for ctx in [
        sql::session(vec![("m".into(), store.clone())]).expect("session"),
        sql::aggregate_session(vec![("m".into(), store.clone())]).expect("session"),
    ] {
        let text = run(
            &ctx,
            "SELECT count(*) AS groups, sum(p) AS latency FROM (
               SELECT session_id,
                      CAST(percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS BIGINT) AS p
               FROM events GROUP BY session_id)",
        )
        .await;
        // 240 runs of 0..999: 240 × 499,500.
        assert!(text.contains("| 240000 | 119880000 |"), "{text}");
    }
}

/// A file that cannot be read fails the query with an error naming its store (the file's
/// own path is within the store), whichever of several stores holds it.
#[tokio::test]
async fn an_unreadable_file_is_named_with_its_store() {
    let (good, broken) = (
        open_store("memory://", &[]).expect("memory"),
        open_store("memory://", &[]).expect("memory"),
    );
    good.append(suite::fixture_events()).await.expect("append");
    let path = format!(
        "{}/damaged.parquet",
        kaizen::store::layout::day_dir(suite::day("2026-10-01"))
    );
    suite::put_file(
        &broken,
        &path,
        bytes::Bytes::from_static(b"PAR1 not parquet PAR1"),
    )
    .await;
    let stores = vec![("a".into(), good), ("b".into(), broken)];
    let ctx = sql::aggregate_session(stores).expect("session");
    let frame = ctx.sql("SELECT count(*) FROM events").await.expect("plan");
    let error = frame
        .collect()
        .await
        .expect_err("a damaged file")
        .to_string();
    assert!(error.contains("store b"), "{error}");
    assert!(error.contains("damaged.parquet"), "{error}");
}
