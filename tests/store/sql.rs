//! The library's SQL: stores registered as one DataFusion table.

use crate::suite;

use datafusion::prelude::SessionContext;
use kaizen::store::{EventStore, Store, open_store, sql};

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
    let batches = ctx
        .sql("SELECT store, count(*) AS n, count(DISTINCT day) AS days FROM events GROUP BY store ORDER BY store")
        .await
        .expect("plan")
        .collect()
        .await
        .expect("run");
    let text = arrow::util::pretty::pretty_format_batches(&batches)
        .expect("format")
        .to_string();
    assert!(text.contains("| local | 3011 | 3    |"), "{text}");
    assert!(text.contains("| mem   | 1    | 1    |"), "{text}");
}
