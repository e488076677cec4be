//! Opening a store by URL. A plain path or `file://` is a local folder; `s3://`, `gs://`,
//! `az://`/`abfs://` and `memory://` are object stores, built by object_store's own URL
//! parsing with credentials from each cloud's standard environment variables.

use std::sync::Arc;

use object_store::ObjectStoreScheme;
use url::Url;

use crate::backend::ObjectStoreBackend;
use crate::{Error, EventStore, Result, Store};

/// Opens the store at `url` with no options beyond the environment's.
pub fn open(url: &str) -> Result<Arc<dyn EventStore>> {
    open_with_options(url, &[])
}

/// Opens the store at `url`. `options` are object_store configuration keys
/// (`aws_endpoint`, `aws_allow_http`, `azure_storage_use_emulator`, …); they override the
/// environment's `AWS_*`, `GOOGLE_*` and `AZURE_*` variables.
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
        return local(rest, options, bad);
    }
    let parsed = Url::parse(url).map_err(|e| bad(e.to_string()))?;
    let (kind, _) = ObjectStoreScheme::parse(&parsed).map_err(|e| bad(e.to_string()))?;
    if matches!(kind, ObjectStoreScheme::Local | ObjectStoreScheme::Http) {
        return Err(bad(format!("{scheme}:// is not a store kaizen can use")));
    }
    for (key, _) in options {
        if !is_option_of(&kind, key) {
            return Err(bad(format!("unknown store option `{key}` for {scheme}://")));
        }
    }
    let mut all = environment_options();
    all.extend(options.iter().cloned());
    let (store, prefix) =
        object_store::parse_url_opts(&parsed, all).map_err(|e| bad(e.to_string()))?;
    let backend = ObjectStoreBackend::new(Arc::from(store), prefix, redact(url));
    Ok(Store::new(Arc::new(backend)))
}

fn local(path: &str, options: &[(String, String)], bad: impl Fn(String) -> Error) -> Result<Store> {
    if let Some((key, _)) = options.first() {
        return Err(bad(format!("a local store takes no options (got `{key}`)")));
    }
    Ok(Store::local(path))
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
    let key = key.to_ascii_lowercase();
    match kind {
        ObjectStoreScheme::AmazonS3 => key.parse::<object_store::aws::AmazonS3ConfigKey>().is_ok(),
        ObjectStoreScheme::GoogleCloudStorage => {
            key.parse::<object_store::gcp::GoogleConfigKey>().is_ok()
        }
        ObjectStoreScheme::MicrosoftAzure => {
            key.parse::<object_store::azure::AzureConfigKey>().is_ok()
        }
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
