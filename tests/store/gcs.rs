//! The conformance suite on Google Cloud Storage, when a bucket is configured:
//! `KAIZEN_TEST_GCS_URL=gs://bucket/prefix` with the usual Google credential variables.
//! No GCS emulator that object_store's client works with is installable here.

use crate::suite;

use kaizen::store::{Store, open_store};

async fn gcs_store() -> Option<(Store, ())> {
    let base = std::env::var("KAIZEN_TEST_GCS_URL").ok()?;
    let url = format!("{}/{}", base.trim_end_matches('/'), suite::unique_prefix());
    Some((open_store(&url, &[]).expect("gcs store"), ()))
}

conformance_suite!(gcs_store);
