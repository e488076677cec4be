//! The conformance suite on the object-store backend over object_store's in-memory store.

use crate::suite;

use kaizen::store::{EventStore, Store, open_store};

async fn memory_store() -> Option<(Store, ())> {
    Some((open_store("memory://", &[]).expect("memory store"), ()))
}

conformance_suite!(memory_store);

/// An object store has no empty folders: a prefix is a store while an object is under its
/// `cold/`. `create` writes nothing, and pruning every day leaves no store (documented).
#[tokio::test]
async fn an_object_store_is_there_while_it_holds_objects() {
    let store = open_store("memory://", &[]).expect("memory store");
    store.create().await.expect("create");
    assert!(
        !store.exists().await.expect("exists"),
        "create writes nothing"
    );
    store
        .append(vec![suite::event(
            "s",
            0,
            suite::day("2026-10-05").start_ms(),
        )])
        .await
        .expect("append");
    assert!(store.exists().await.expect("exists"));
    store
        .prune(suite::day("2026-10-06"), false)
        .await
        .expect("prune");
    assert!(
        !store.exists().await.expect("exists"),
        "nothing left under cold/"
    );
}

/// A footer is fetched once per store handle (the writer's checks, then queries): a second
/// query over the same files reads no footer, with the same answer; files a compaction
/// replaced are never read from the cache.
#[tokio::test]
async fn footers_are_fetched_once_per_store() {
    use kaizen::store::{CompactTarget, Query};
    let store = open_store("memory://", &[]).expect("memory store");
    let days = ["2026-10-05", "2026-10-06", "2026-10-07"];
    for seq in 0..2 {
        // Two appends a day: two files a day, which compaction makes one.
        let events = days
            .iter()
            .map(|d| suite::event(d, seq, suite::day(d).start_ms() + seq));
        store.append(events.collect()).await.expect("append");
    }
    let counted = |store: &Store| store.request_counts().expect("counted");
    let before = counted(&store);
    let first = store.scan_events(Query::all()).await.expect("scan");
    let after_first = counted(&store);
    let second = store.scan_events(Query::all()).await.expect("scan again");
    let after_second = counted(&store);
    assert_eq!(first, second);
    assert_eq!(first.len(), 6);
    let (gets_first, gets_second) = (
        after_first.get - before.get,
        after_second.get - after_first.get,
    );
    // Six files: the second scan reads each one's rows (one `get` a file), no footer.
    assert_eq!(gets_second, 6, "{gets_first} then {gets_second}");
    assert!(gets_first > gets_second, "{gets_first} then {gets_second}");
    assert_eq!(
        after_second.list - after_first.list,
        after_first.list - before.list
    );

    let compacted = store
        .compact(|_| true, CompactTarget::default())
        .await
        .expect("compact");
    assert_eq!(compacted.len(), 3, "{compacted:?}");
    let third = store
        .scan_events(Query::all())
        .await
        .expect("scan after compaction");
    assert_eq!(third, first);
}

/// A data file another tool replaces in place, at the same size, is read anew: the next
/// query's listing shows its new version, so no footer kept from before is used (here the
/// replacement's footer is damaged, and the query must say so, not answer from the old one).
#[tokio::test]
async fn a_file_replaced_in_place_is_not_read_from_the_cache() {
    use std::sync::Arc;

    use kaizen::store::{Query, store_on};
    use object_store::{ObjectStore, ObjectStoreExt, PutPayload, path::Path};

    let client: Arc<dyn ObjectStore> = Arc::new(object_store::memory::InMemory::new());
    let store = store_on(client.clone(), "memory:///replaced").expect("store");
    let day = suite::day("2026-10-05");
    let events = (0..3).map(|seq| suite::event("s", seq, day.start_ms() + seq));
    store.append(events.collect()).await.expect("append");
    assert_eq!(
        store.scan_events(Query::all()).await.expect("scan").len(),
        3
    );

    let listed = client.list(Some(&Path::from("replaced/cold/events")));
    let files: Vec<_> = futures::TryStreamExt::try_collect(listed)
        .await
        .expect("list");
    assert_eq!(files.len(), 1, "{files:?}");
    let key = files[0].location.clone();
    let mut bytes = client
        .get(&key)
        .await
        .expect("get")
        .bytes()
        .await
        .expect("bytes")
        .to_vec();
    // The same size, the footer's length and magic gone.
    let end = bytes.len();
    bytes[end - 8..].fill(0);
    client
        .put(&key, PutPayload::from(bytes))
        .await
        .expect("replace");

    let err = store
        .scan_events(Query::all())
        .await
        .expect_err("the damaged footer");
    assert!(
        err.to_string().contains(key.filename().expect("name")),
        "{err}"
    );
}
