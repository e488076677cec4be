//! A store URL's path is the literal key prefix of its objects, on every object backend:
//! written under U, listed under U by an independent client, found again by a second open.
//! Prefixes are drawn from Unicode and RFC 3986's reserved characters (`~`, `%`, `#`, `?`,
//! spaces…), given percent-encoded in the URL, and a few spelled raw.

use std::sync::Arc;

use futures::TryStreamExt;
use kaizen::store::{EventStore, Query, Store, open_store, store_on};
use object_store::ObjectStore;
use object_store::path::Path;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use crate::suite;

/// Cases a backend runs: each writes and lists a store, so a few dozen requests each.
const CASES: u32 = 12;

/// Prefixes spelled raw in the URL, as people type them: each must land where it reads.
const RAW: [&str; 4] = ["équipe", "~alice/agents", "data 2026", "日本/チーム"];

/// A segment of a key prefix: letters, Unicode, and every character a URL reserves or
/// object_store would encode. Never `.`/`..` (no object store takes them as a segment).
fn segment() -> impl Strategy<Value = String> {
    let alphabet: Vec<char> = "aZ09-_.~%:?#[]@!$&'()*+,;= éü日本🦀".chars().collect();
    proptest::collection::vec(proptest::sample::select(alphabet), 1..8)
        .prop_map(|chars| chars.into_iter().collect::<String>())
        .prop_filter("not a relative segment", |s| s != "." && s != "..")
}

/// `base` (scheme and bucket) with `segments` appended, each percent-encoded as a URL
/// path segment.
fn url_of(base: &str, segments: &[&str]) -> String {
    let mut url = url::Url::parse(base).expect("base URL");
    url.path_segments_mut()
        .expect("a URL with a path")
        .pop_if_empty()
        .extend(segments);
    url.to_string()
}

/// Writes a store at `url`, then checks with `client` (which the store's writes did not
/// go through, except for the memory backend's shared instance) that every object is under
/// the literal `prefix`, and that a second store opened at `url` reads the events.
async fn writes_under_the_literal_prefix(
    client: &dyn ObjectStore,
    open: &(dyn Fn(&str) -> Store + Sync),
    url: &str,
    prefix: &str,
) {
    let events = suite::fixture_events();
    open(url).append(events.clone()).await.expect("append");
    let literal = Path::parse(prefix).expect("a valid prefix");
    let keys: Vec<String> = client
        .list(Some(&literal))
        .map_ok(|meta| meta.location.to_string())
        .try_collect()
        .await
        .expect("list the literal prefix");
    assert!(
        !keys.is_empty(),
        "{url}: nothing under the key prefix {prefix:?}"
    );
    for key in &keys {
        let rest = key.strip_prefix(prefix).and_then(|r| r.strip_prefix('/'));
        assert!(
            rest.is_some_and(|r| r.starts_with("cold/events/")),
            "{url}: key {key:?} is not under {prefix:?}/cold/events"
        );
    }
    let read = open(url).scan_events(Query::all()).await.expect("scan");
    assert_eq!(read, suite::sorted(events), "{url}: read back");
}

/// The property on one backend: the raw spellings, then [`CASES`] drawn prefixes. `base`
/// is the scheme and bucket, ending in `/`.
async fn literal_prefixes(
    client: Arc<dyn ObjectStore>,
    base: &str,
    open: &(dyn Fn(&str) -> Store + Sync),
) {
    for raw in RAW {
        let prefix = format!("{}/{raw}", suite::unique_prefix());
        let url = format!("{base}{prefix}");
        writes_under_the_literal_prefix(client.as_ref(), open, &url, &prefix).await;
    }
    // Drawn with proptest's strategy, then run on this runtime (its runner is synchronous);
    // a fixed seed makes a failure reproducible.
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let strategy = proptest::collection::vec(segment(), 1..3);
    let drawn: Vec<Vec<String>> = (0..CASES)
        .map(|_| strategy.new_tree(&mut runner).expect("a prefix").current())
        .collect();
    for segments in drawn {
        let unique = suite::unique_prefix();
        let mut all: Vec<&str> = vec![&unique];
        all.extend(segments.iter().map(String::as_str));
        let url = url_of(base, &all);
        let prefix = all.join("/");
        writes_under_the_literal_prefix(client.as_ref(), open, &url, &prefix).await;
    }
}

#[tokio::test]
async fn memory() {
    let client: Arc<dyn ObjectStore> = Arc::new(object_store::memory::InMemory::new());
    let shared = client.clone();
    let open = move |url: &str| store_on(shared.clone(), url).expect("store on the client");
    literal_prefixes(client, "memory:///", &open).await;
}

/// An S3 server started by scripts/test, with an independent client of its bucket.
async fn s3(var: &str, key: &str, secret: &str) {
    let Ok(endpoint) = std::env::var(var) else {
        assert!(std::env::var("CI").is_err(), "{var} is not set");
        eprintln!("skipped: {var} is not set (scripts/test sets it)");
        return;
    };
    let options = [
        ("aws_endpoint", endpoint.as_str()),
        ("aws_allow_http", "true"),
        ("aws_region", "us-east-1"),
        ("aws_access_key_id", key),
        ("aws_secret_access_key", secret),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    let client = object_store::aws::AmazonS3Builder::new()
        .with_bucket_name("kaizen-test")
        .with_endpoint(&endpoint)
        .with_allow_http(true)
        .with_region("us-east-1")
        .with_access_key_id(key)
        .with_secret_access_key(secret)
        .build()
        .expect("S3 client");
    let open = move |url: &str| open_store(url, &options).expect("open");
    literal_prefixes(Arc::new(client), "s3://kaizen-test/", &open).await;
}

#[tokio::test]
async fn moto() {
    s3("KAIZEN_TEST_S3_MOTO", "test", "test").await;
}

#[tokio::test]
async fn s3s_fs() {
    s3("KAIZEN_TEST_S3_S3S", "kaizen", "kaizen-secret").await;
}

#[tokio::test]
async fn azurite() {
    if std::env::var("KAIZEN_TEST_AZURITE").is_err() {
        assert!(
            std::env::var("CI").is_err(),
            "KAIZEN_TEST_AZURITE is not set"
        );
        eprintln!("skipped: Azurite is not running (scripts/test starts it)");
        return;
    }
    let client = object_store::azure::MicrosoftAzureBuilder::new()
        .with_container_name("kaizen-test")
        .with_use_emulator(true)
        .build()
        .expect("Azurite client");
    let options = [("azure_storage_use_emulator".to_owned(), "true".to_owned())];
    let open = move |url: &str| open_store(url, &options).expect("open");
    literal_prefixes(Arc::new(client), "az://kaizen-test/", &open).await;
}
