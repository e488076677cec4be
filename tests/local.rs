//! The conformance suite on the local-folder backend, plus what only a folder can show.

mod suite;

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

/// Files a writer stages are invisible until published, and the published ones are
/// never overwritten: publishing onto an existing path fails.
#[tokio::test]
async fn publish_never_replaces() {
    let (store, _dir) = local_store().await.expect("local store");
    let backend = store.backend();
    let path = "cold/events/day=2026-10-05/x.parquet";
    let first = backend
        .stage(path, bytes::Bytes::from_static(b"one"))
        .await
        .expect("stage");
    backend.publish(&first).await.expect("publish");
    let second = backend
        .stage(path, bytes::Bytes::from_static(b"two"))
        .await
        .expect("stage");
    let err = backend
        .publish(&second)
        .await
        .expect_err("must not replace");
    assert!(
        matches!(err, kaizen::store::Error::AlreadyExists { .. }),
        "{err}"
    );
    assert_eq!(
        backend.get_range(path, 0..3).await.expect("read").as_ref(),
        b"one"
    );
}
