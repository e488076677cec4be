//! Build information for `kaizen --version`: the commit the binary was built from.
//!
//! Sets `KAIZEN_GIT_COMMIT` for the crate: the short hash of `HEAD`, with `-dirty` when
//! tracked files had changes, or `unknown` when built outside git (a crates.io tarball,
//! a source archive, `git` not installed or refusing the repository). From a packaged
//! crate, cargo's `.cargo_vcs_info.json` names the commit it was packaged from. Nothing
//! here fails the build: every failure is `unknown`. The script reruns on a commit, a
//! checkout or a `git add`, not on every edit (that would rebuild kaizen-cli on every
//! build), so `-dirty` is as of then.

use std::path::Path;
use std::process::Command;

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let dir = Path::new(&dir);
    // A packaged crate first: its folder may sit inside some other repository.
    let commit = from_vcs_info(dir)
        .or_else(|| from_git(dir))
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=KAIZEN_GIT_COMMIT={commit}");

    // Without rerun-if-changed lines, cargo would rerun this on any change in the package;
    // with them, only when these change: a commit, a checkout, a staged change.
    watch(&dir.join("build.rs"));
    watch(&dir.join(".cargo_vcs_info.json"));
    let mut git_files = vec![
        "HEAD".to_owned(),
        "index".to_owned(),
        "packed-refs".to_owned(),
    ];
    git_files.extend(git(dir, &["symbolic-ref", "-q", "HEAD"]));
    for name in git_files {
        if let Some(path) = git(
            dir,
            &["rev-parse", "--path-format=absolute", "--git-path", &name],
        ) {
            watch(Path::new(&path));
        }
    }
}

/// Reruns this script when `path` changes; only a file that is there (cargo counts a
/// missing one as changed, and would rebuild kaizen-cli on every build).
fn watch(path: &Path) {
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

/// The short hash of `HEAD` of the work tree holding `dir`, `-dirty` when a tracked file
/// differs from it (untracked files do not count, as for `git describe --dirty`). `None`
/// when this package's Cargo.toml is not tracked there (not this project's repository).
fn from_git(dir: &Path) -> Option<String> {
    git(dir, &["ls-files", "--error-unmatch", "Cargo.toml"])?;
    let hash = git(dir, &["rev-parse", "--short=12", "HEAD"])?;
    let changes = git_output(dir, &["status", "--porcelain", "--untracked-files=no"])?;
    Some(if changes.trim().is_empty() {
        hash
    } else {
        format!("{hash}-dirty")
    })
}

/// The commit `cargo package` recorded: `{"git":{"sha1":"…","dirty":true},…}`.
fn from_vcs_info(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(".cargo_vcs_info.json")).ok()?;
    // A hand-rolled read of one string field, to need no JSON parser at build time.
    let start = text.find("\"sha1\"")? + "\"sha1\"".len();
    let rest = text[start..].trim_start().strip_prefix(':')?.trim_start();
    let rest = rest.strip_prefix('"')?;
    let sha = &rest[..rest.find('"')?];
    if sha.len() < 12 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let dirty = text.contains("\"dirty\": true") || text.contains("\"dirty\":true");
    Some(format!(
        "{}{}",
        &sha[..12],
        if dirty { "-dirty" } else { "" }
    ))
}

/// `git ARGS` in `dir`, its output's one line, or `None` when git is missing or fails.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = git_output(dir, args)?;
    let line = out.trim();
    (!line.is_empty() && !line.contains('\n')).then(|| line.to_owned())
}

fn git_output(dir: &Path, args: &[&str]) -> Option<String> {
    // No optional locks: `git status` would otherwise refresh and rewrite the index, which
    // could make a concurrent `git commit` fail on index.lock and, the index being watched,
    // make cargo run this script again on every build.
    let out = Command::new("git")
        .arg("--no-optional-locks")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8(out.stdout).ok()
}
