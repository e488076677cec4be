//! The conformance suite on the object-store backend over object_store's in-memory store.

use crate::suite;

use kaizen::store::{Store, open_store};

async fn memory_store() -> Option<(Store, ())> {
    Some((open_store("memory://", &[]).expect("memory store"), ()))
}

conformance_suite!(memory_store);
