//! What `kaizen --version` says: the version, the commit built and the store backends.

/// The store backends this binary opens (`kaizen_store::open_store`): local folders and
/// `file://` always, `memory://`, and object_store's `aws` (`s3://`), `gcp` (`gs://`) and
/// `azure` (`az://`, `abfs://`) features, which the workspace's Cargo.toml enables. A
/// macro, not a constant, so that `concat!` can put it in [`VERSION`].
macro_rules! backends {
    () => {
        "local, memory, s3, gcs, azure"
    };
}

/// `0.1.0 (commit 76affc4cbc4a-dirty; backends: local, memory, s3, gcs, azure)`: the
/// package version, the short hash of the commit built (`-dirty`: tracked files had
/// changes; `unknown`: built outside git, see build.rs) and the store backends
/// (`backends!`). clap prints it after the command's name, for `--version` and `-V`.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("KAIZEN_GIT_COMMIT"),
    "; backends: ",
    backends!(),
    ")"
);

#[cfg(test)]
mod tests {
    /// Each backend `--version` names opens a store (no request is made: opening only
    /// builds the client), so the list says what this build can do.
    #[test]
    fn each_backend_named_opens() {
        let dir = tempfile::tempdir().expect("tempdir");
        let options = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        for backend in backends!().split(", ") {
            let (url, options) = match backend {
                "local" => (dir.path().display().to_string(), Vec::new()),
                "memory" => ("memory://".to_owned(), Vec::new()),
                "s3" => (
                    "s3://bucket/prefix".to_owned(),
                    options(&[
                        ("aws_region", "us-east-1"),
                        ("aws_endpoint", "http://127.0.0.1:1"),
                        ("aws_allow_http", "true"),
                    ]),
                ),
                "gcs" => ("gs://bucket/prefix".to_owned(), Vec::new()),
                "azure" => (
                    "az://container/prefix".to_owned(),
                    options(&[
                        ("azure_storage_account_name", "devstoreaccount1"),
                        ("azure_storage_use_emulator", "true"),
                    ]),
                ),
                other => panic!("backend {other}: no example URL in this test"),
            };
            if let Err(e) = kaizen_store::open_store(&url, &options) {
                panic!("backend {backend}: {url}: {e}");
            }
        }
    }
}
