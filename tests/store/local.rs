//! The conformance suite on the local-folder backend, plus what only a folder can show.

use crate::suite;

use kaizen::store::{EventStore, Query, Store};

/// A store in a fresh temporary folder, removed with the guard.
async fn local_store() -> Option<(Store, tempfile::TempDir)> {
    let dir = tempfile::tempdir().expect("temp dir");
    Some((Store::local(dir.path()), dir))
}

conformance_suite!(local_store);

/// The fixture stores are read in place, read-only, exactly.
#[tokio::test]
async fn fixture_stores_read_in_place() {
    for name in ["daily", "chunked"] {
        let store = Store::local(suite::fixture_dir().join(name));
        let events = store.scan_events(Query::all()).await.expect("scan");
        assert_eq!(events, suite::sorted(suite::fixture_events()), "{name}");
    }
}

/// A folder is a store once it has `cold/`: `create` makes it one before any event, and
/// pruning every day leaves it one (an empty store, not no store).
#[tokio::test]
async fn an_emptied_folder_is_still_a_store() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::local(dir.path().join("store"));
    assert!(!store.exists().await.expect("exists"));
    store.create().await.expect("create");
    assert!(dir.path().join("store/cold/events").is_dir());
    assert!(store.exists().await.expect("exists"));

    let other = Store::local(dir.path().join("pruned"));
    other
        .append(vec![suite::event(
            "s",
            0,
            suite::day("2026-10-05").start_ms(),
        )])
        .await
        .expect("append");
    let pruned = other
        .prune(suite::day("2026-10-06"), false)
        .await
        .expect("prune");
    assert_eq!(pruned.files.len(), 1);
    assert!(
        other.exists().await.expect("exists"),
        "emptied, still a store"
    );
    assert!(
        other
            .scan_events(Query::all())
            .await
            .expect("scan")
            .is_empty()
    );
}
