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
