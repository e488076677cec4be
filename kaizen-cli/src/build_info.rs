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
