//! The conformance suite on S3 servers: moto and s3s-fs (two independent implementations,
//! started by scripts/test), and any S3-compatible endpoint given by
//! `KAIZEN_TEST_S3_ENDPOINT` (MinIO, for example).

mod suite;

use kaizen::store::{Store, open_store};

const BUCKET: &str = "kaizen-test";

/// A store under a fresh prefix of the bucket at the endpoint in `var`. Without the
/// variable the test is skipped, except under CI, where a missing server is a failure.
fn s3_store(var: &str, key: &str, secret: &str) -> Option<Store> {
    let Ok(endpoint) = std::env::var(var) else {
        assert!(
            std::env::var("CI").is_err(),
            "{var} is not set: scripts/test starts the S3 server"
        );
        eprintln!("skipped: {var} is not set (scripts/test sets it)");
        return None;
    };
    let bucket = std::env::var("KAIZEN_TEST_S3_BUCKET").unwrap_or_else(|_| BUCKET.into());
    let prefix = suite::unique_prefix();
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
