//! The conformance suite on Azure Blob: Azurite, started by scripts/test.

use crate::suite;

use kaizen::store::{Store, open_store};

async fn azurite_store() -> Option<(Store, ())> {
    if std::env::var("KAIZEN_TEST_AZURITE").is_err() {
        assert!(
            std::env::var("CI").is_err(),
            "KAIZEN_TEST_AZURITE is not set: scripts/test starts Azurite"
        );
        eprintln!("skipped: Azurite is not running (scripts/test starts it)");
        return None;
    }
    let options = [("azure_storage_use_emulator".to_owned(), "true".to_owned())];
    let url = format!("az://kaizen-test/{}", suite::unique_prefix());
    Some((open_store(&url, &options).expect("azurite store"), ()))
}

conformance_suite!(azurite_store);
