//! The conformance suite on S3 servers: moto and s3s-fs (two independent implementations,
//! started by scripts/test), and any S3-compatible endpoint given by
//! `KAIZEN_TEST_S3_ENDPOINT` (MinIO, for example).

use crate::suite;

use kaizen::store::{Store, open_store};

const BUCKET: &str = "kaizen-test";

/// A store under a fresh prefix of the bucket at the endpoint in `var`. Without the
/// variable the test is skipped, except under CI, where a missing server is a failure.
fn s3_store(var: &str, key: &str, secret: &str) -> Option<Store> {
    s3_store_at(var, key, secret, &suite::unique_prefix())
}

fn s3_store_at(var: &str, key: &str, secret: &str, prefix: &str) -> Option<Store> {
    let Ok(endpoint) = std::env::var(var) else {
        assert!(
            std::env::var("CI").is_err(),
            "{var} is not set: scripts/test starts the S3 server"
        );
        eprintln!("skipped: {var} is not set (scripts/test sets it)");
        return None;
    };
    let bucket = std::env::var("KAIZEN_TEST_S3_BUCKET").unwrap_or_else(|_| BUCKET.into());
    let options = [
        ("aws_endpoint", endpoint.as_str()),
        ("aws_allow_http", "true"),
        ("aws_region", "us-east-1"),
        ("aws_access_key_id", key),
        ("aws_secret_access_key", secret),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    Some(open_store(&format!("s3://{bucket}/{prefix}"), &options).expect("s3 store"))
}

mod moto {
    use super::*;

    async fn store() -> Option<(Store, ())> {
        s3_store("KAIZEN_TEST_S3_MOTO", "test", "test").map(|s| (s, ()))
    }

    conformance_suite!(store);
}

/// examples/upload_to_s3 against moto: uploads a local store, verifies, prints the URL.
#[tokio::test]
async fn upload_example_uploads_and_verifies() {
    use kaizen::store::EventStore;

    let Ok(endpoint) = std::env::var("KAIZEN_TEST_S3_MOTO") else {
        assert!(
            std::env::var("CI").is_err(),
            "KAIZEN_TEST_S3_MOTO is not set"
        );
        return;
    };
    // `cargo build --examples` (run by scripts/test) links the plain-named binary.
    let exe = std::env::current_exe().expect("test exe");
    let example = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target dir")
        .join("examples/upload_to_s3");
    assert!(
        example.exists(),
        "{} is built by cargo build --examples (scripts/test)",
        example.display()
    );

    let dir = tempfile::tempdir().expect("tmp");
    let local = Store::local(dir.path());
    local.append(suite::fixture_events()).await.expect("append");
    let prefix = suite::unique_prefix();
    let run = || {
        std::process::Command::new(&example)
            .args([
                "--from",
                dir.path().to_str().expect("path"),
                "--bucket",
                BUCKET,
                "--prefix",
                &prefix,
            ])
            .args(["--endpoint", &endpoint])
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .output()
            .expect("run example")
    };
    let out = run();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("uploaded 3 file(s)"), "{stdout}");
    assert!(
        stdout.contains(&format!("s3://{BUCKET}/{prefix}")),
        "{stdout}"
    );
    assert!(stdout.contains("2026-10-01: 1 file(s)"), "{stdout}");
    let again = run();
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("uploaded 0 file(s), 3 already"),
        "rerun skips"
    );

    let s3 = s3_store_at("KAIZEN_TEST_S3_MOTO", "test", "test", &prefix).expect("s3 store");
    let events = s3
        .scan_events(kaizen::store::Query::all())
        .await
        .expect("scan");
    assert_eq!(events, suite::sorted(suite::fixture_events()));
}

/// Prune, copy and writes touch only keys under the store's prefix: a sibling prefix that
/// starts with the same characters, and keys beside it, stay.
#[tokio::test]
async fn nothing_outside_the_prefix_is_touched() {
    use kaizen::store::EventStore;

    let prefix = suite::unique_prefix();
    let Some(store) = s3_store_at("KAIZEN_TEST_S3_MOTO", "test", "test", &prefix) else {
        return;
    };
    let sibling = format!("{prefix}-sibling");
    let next_door = s3_store_at("KAIZEN_TEST_S3_MOTO", "test", "test", &sibling).expect("sibling");
    store.append(suite::fixture_events()).await.expect("append");
    next_door
        .append(suite::fixture_events())
        .await
        .expect("append sibling");
    let before = suite::all_paths(&next_door).await;
    let report = store
        .prune(suite::day("2026-12-01"), false)
        .await
        .expect("prune");
    assert_eq!(report.files.len(), 3);
    assert!(suite::all_paths(&store).await.is_empty());
    assert_eq!(suite::all_paths(&next_door).await, before);
    assert_eq!(
        next_door
            .scan_events(kaizen::store::Query::all())
            .await
            .expect("scan")
            .len(),
        3011
    );
}

/// With a sentinel secret configured, neither an error nor `Debug` shows it.
#[tokio::test]
async fn secrets_never_show() {
    const SENTINEL: &str = "KAIZEN-SENTINEL-SECRET-0f9e8d7c";
    let Ok(endpoint) = std::env::var("KAIZEN_TEST_S3_MOTO") else {
        assert!(
            std::env::var("CI").is_err(),
            "KAIZEN_TEST_S3_MOTO is not set"
        );
        return;
    };
    let options = [
        ("aws_endpoint", endpoint.as_str()),
        ("aws_allow_http", "true"),
        ("aws_region", "us-east-1"),
        ("aws_access_key_id", "AKIDSENTINEL"),
        ("aws_secret_access_key", SENTINEL),
        ("aws_session_token", SENTINEL),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    // A bucket that does not exist: every operation fails.
    let store = open_store("s3://no-such-bucket-kaizen/x", &options).expect("open");
    assert!(!format!("{store:?}").contains(SENTINEL));
    let err = kaizen::store::EventStore::scan_events(&store, kaizen::store::Query::all())
        .await
        .expect_err("no bucket");
    assert!(!format!("{err} {err:?}").contains(SENTINEL), "{err:?}");
    let url_secret = open_store(
        &format!("s3://user:{SENTINEL}@no-such-bucket-kaizen/x"),
        &options,
    );
    if let Ok(store) = url_secret {
        assert!(!format!("{store:?}").contains(SENTINEL));
        assert!(!kaizen::store::EventStore::location(&store).contains(SENTINEL));
    }
}

mod s3s_fs {
    use super::*;

    async fn store() -> Option<(Store, ())> {
        s3_store("KAIZEN_TEST_S3_S3S", "kaizen", "kaizen-secret").map(|s| (s, ()))
    }

    conformance_suite!(store);
}

mod endpoint {
    use super::*;

    /// Optional everywhere, CI included: only a user's own endpoint (e.g. MinIO) runs these.
    async fn store() -> Option<(Store, ())> {
        std::env::var("KAIZEN_TEST_S3_ENDPOINT").ok()?;
        let key = std::env::var("AWS_ACCESS_KEY_ID").unwrap_or_default();
        let secret = std::env::var("AWS_SECRET_ACCESS_KEY").unwrap_or_default();
        s3_store("KAIZEN_TEST_S3_ENDPOINT", &key, &secret).map(|s| (s, ()))
    }

    conformance_suite!(store);
}
