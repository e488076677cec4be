//! Opening a store by URL. A plain path or `file://` is a local folder; `s3://`, `gs://`,
//! `az://`/`abfs://` and `memory://` are object stores, built by object_store's own URL
//! parsing and builders, with credentials from each cloud's standard environment variables.

use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::throttle::{ThrottleConfig, ThrottledStore};
use object_store::{ObjectStore, ObjectStoreScheme, RetryConfig};
use url::Url;

use crate::backend::{FooterCache, ObjectStoreBackend};
use crate::{Error, EventStore, Result, Store};

/// kaizen's own options, beside object_store's configuration keys: how many times and for
/// how long a failing request is retried (object_store's defaults: 10 times, 180 s).
pub const MAX_RETRIES_OPTION: &str = "kaizen_max_retries";
pub const RETRY_TIMEOUT_OPTION: &str = "kaizen_retry_timeout_secs";
/// Store option: milliseconds added before every request to an object store (object_store's
/// `ThrottledStore`), to measure on a loopback server what a query costs on a real bucket,
/// where each request takes 20–100 ms (`kaizen bench --store s3://… --request-latency-ms`).
pub const REQUEST_LATENCY_OPTION: &str = "kaizen_request_latency_ms";

/// Opens the store at `url` with no options beyond the environment's.
pub fn open(url: &str) -> Result<Arc<dyn EventStore>> {
    open_with_options(url, &[])
}

/// Opens the store at `url`. `options` are object_store configuration keys
/// (`aws_endpoint`, `aws_allow_http`, `azure_storage_use_emulator`, …) and kaizen's retry
/// options; they override the environment's `AWS_*`, `GOOGLE_*` and `AZURE_*` variables.
pub fn open_with_options(url: &str, options: &[(String, String)]) -> Result<Arc<dyn EventStore>> {
    Ok(Arc::new(open_store(url, options)?))
}

/// As [`open_with_options`], as the concrete [`Store`].
pub fn open_store(url: &str, options: &[(String, String)]) -> Result<Store> {
    let bad = |reason: String| Error::Url {
        url: redact(url),
        reason,
    };
    let Some((scheme, rest)) = url.split_once("://") else {
        return local(url, options, bad);
    };
    if scheme == "file" {
        if !rest.starts_with('/') {
            return Err(bad("a file URL needs an absolute path (file:///…)".into()));
        }
        if let Some((key, _)) = options.first() {
            return Err(bad(format!("a local store takes no options (got `{key}`)")));
        }
        // Percent-decoded once, as a URL's path is (`file:///tmp/my%20store` is the folder
        // `/tmp/my store`); a plain path is taken as it is.
        let path = url::Url::parse(url)
            .ok()
            .and_then(|u| u.to_file_path().ok())
            .ok_or_else(|| bad("not a file URL of a local path (file:///…)".into()))?;
        return Ok(Store::local(path));
    }
    let (kind, prefix) = object_location(url)?;

    let mut retry = RetryConfig::default();
    let mut latency = None;
    let mut user = Vec::new();
    for (key, value) in options {
        match key.to_ascii_lowercase().as_str() {
            MAX_RETRIES_OPTION => {
                retry.max_retries = value
                    .parse()
                    .map_err(|_| bad(format!("{key} takes a whole number")))?;
            }
            RETRY_TIMEOUT_OPTION => {
                let secs: f64 = value
                    .parse()
                    .map_err(|_| bad(format!("{key} takes seconds")))?;
                retry.retry_timeout =
                    Duration::try_from_secs_f64(secs).map_err(|e| bad(format!("{key}: {e}")))?;
            }
            REQUEST_LATENCY_OPTION => {
                let ms: u64 = value
                    .parse()
                    .map_err(|_| bad(format!("{key} takes whole milliseconds")))?;
                latency = Some(Duration::from_millis(ms));
            }
            other if is_option_of(&kind, other) => user.push((other.to_owned(), value.clone())),
            _ => return Err(bad(format!("unknown store option `{key}` for {scheme}://"))),
        }
    }
    // The environment first, so that explicit options win.
    let all: Vec<(String, String)> = environment_options().into_iter().chain(user).collect();
    let store: Arc<dyn ObjectStore> = match kind {
        ObjectStoreScheme::Memory => Arc::new(InMemory::new()),
        ObjectStoreScheme::AmazonS3 => {
            let builder = configure(
                AmazonS3Builder::new().with_url(url),
                &all,
                AmazonS3Builder::with_config,
            );
            Arc::new(
                builder
                    .with_retry(retry)
                    .build()
                    .map_err(|e| bad(e.to_string()))?,
            )
        }
        ObjectStoreScheme::GoogleCloudStorage => {
            let builder = configure(
                GoogleCloudStorageBuilder::new().with_url(url),
                &all,
                GoogleCloudStorageBuilder::with_config,
            );
            Arc::new(
                builder
                    .with_retry(retry)
                    .build()
                    .map_err(|e| bad(e.to_string()))?,
            )
        }
        ObjectStoreScheme::MicrosoftAzure => {
            let builder = configure(
                MicrosoftAzureBuilder::new().with_url(url),
                &all,
                MicrosoftAzureBuilder::with_config,
            );
            Arc::new(
                builder
                    .with_retry(retry)
                    .build()
                    .map_err(|e| bad(e.to_string()))?,
            )
        }
        _ => return Err(bad(format!("{scheme}:// is not a store kaizen can use"))),
    };
    let store = match latency {
        Some(wait) => Arc::new(ThrottledStore::new(
            store,
            ThrottleConfig {
                wait_get_per_call: wait,
                wait_list_per_call: wait,
                wait_list_with_delimiter_per_call: wait,
                wait_put_per_call: wait,
                wait_delete_per_call: wait,
                ..ThrottleConfig::default()
            },
        )) as Arc<dyn ObjectStore>,
        None => store,
    };
    Ok(on_prefix(store, prefix, url))
}

/// The store at `url`'s prefix on an object-store client the caller built (a wrapper such
/// as object_store's `ThrottledStore`, a custom credential provider, a shared `InMemory`).
/// The bucket or container in `url` must be the client's; only its path is used, derived
/// as [`open_store`] derives it. Errors: [`Error::Url`] for a URL that is not an object
/// store's (`s3://`, `gs://`, `az://`, `abfs://`, `memory://`…).
pub fn store_on(client: Arc<dyn ObjectStore>, url: &str) -> Result<Store> {
    let (_, prefix) = object_location(url)?;
    Ok(on_prefix(client, prefix, url))
}

fn on_prefix(client: Arc<dyn ObjectStore>, prefix: Path, url: &str) -> Store {
    let backend = ObjectStoreBackend::counted(client, prefix, redact(url));
    // Footers fetched once per process: every request to a bucket is a round trip.
    Store::new(Arc::new(FooterCache::new(Arc::new(backend))))
}

/// The one derivation of where an object-store URL's store lives: its kind and the key
/// prefix of its objects, percent-decoded once, as the URL spells it: `s3://b/équipe`,
/// `s3://b/%C3%A9quipe` and `s3://b/~x` put objects under the keys `équipe/…` and `~x/…`,
/// the keys `aws s3 ls`, DuckDB and Spark list for that URL. Writing and reading both
/// use this prefix, joined without any further encoding
/// ([`crate::backend::ObjectStoreBackend`]).
fn object_location(url: &str) -> Result<(ObjectStoreScheme, Path)> {
    let bad = |reason: String| Error::Url {
        url: redact(url),
        reason,
    };
    let parsed = Url::parse(url).map_err(|e| bad(e.to_string()))?;
    match ObjectStoreScheme::parse(&parsed) {
        Ok((ObjectStoreScheme::Local | ObjectStoreScheme::Http, _)) => Err(bad(format!(
            "{}:// is not a store kaizen can use (s3://, gs://, az://, abfs://, memory://, or a folder)",
            parsed.scheme()
        ))),
        Err(e) => Err(bad(e.to_string())),
        Ok(location) => Ok(location),
    }
}

/// Applies every option whose key the builder knows (the environment holds others).
fn configure<B, K: std::str::FromStr>(
    builder: B,
    options: &[(String, String)],
    set: fn(B, K, String) -> B,
) -> B {
    options
        .iter()
        .fold(builder, |b, (key, value)| match key.parse::<K>() {
            Ok(key) => set(b, key, value.clone()),
            Err(_) => b,
        })
}

fn local(path: &str, options: &[(String, String)], bad: impl Fn(String) -> Error) -> Result<Store> {
    if let Some((key, _)) = options.first() {
        return Err(bad(format!("a local store takes no options (got `{key}`)")));
    }
    Ok(Store::local(crate::expand_home(path)?))
}

/// The standard cloud variables, as object_store's `from_env` builders read them.
fn environment_options() -> Vec<(String, String)> {
    std::env::vars()
        .filter(|(key, _)| {
            let key = key.to_ascii_lowercase();
            ["aws_", "google_", "azure_"]
                .iter()
                .any(|p| key.starts_with(p))
        })
        .map(|(key, value)| (key.to_ascii_lowercase(), value))
        .collect()
}

fn is_option_of(kind: &ObjectStoreScheme, key: &str) -> bool {
    match kind {
        ObjectStoreScheme::AmazonS3 => key.parse::<AmazonS3ConfigKey>().is_ok(),
        ObjectStoreScheme::GoogleCloudStorage => key.parse::<GoogleConfigKey>().is_ok(),
        ObjectStoreScheme::MicrosoftAzure => key.parse::<AzureConfigKey>().is_ok(),
        _ => false,
    }
}

/// The URL without user or password, for messages.
fn redact(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() || !parsed.username().is_empty() => {
            let _ = parsed.set_password(None);
            let _ = parsed.set_username("");
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}
