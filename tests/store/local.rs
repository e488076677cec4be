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
