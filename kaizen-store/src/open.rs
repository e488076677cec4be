//! Opening a store by URL: a plain path or `file://` is a local folder.

use std::sync::Arc;

use crate::{Error, EventStore, Result, Store};

/// Opens the store at `url`: a path (`./kaizen-data`) or a `file:///…` URL.
pub fn open(url: &str) -> Result<Arc<dyn EventStore>> {
    match url.split_once("://") {
        None => Ok(Arc::new(Store::local(url))),
        Some(("file", path)) => {
            if !path.starts_with('/') {
                return Err(Error::Url {
                    url: url.to_owned(),
                    reason: "a file URL needs an absolute path (file:///…)".into(),
                });
            }
            Ok(Arc::new(Store::local(path)))
        }
        Some((scheme, _)) => Err(Error::Url {
            url: url.to_owned(),
            reason: format!("the {scheme}:// backend is not available in this build"),
        }),
    }
}
