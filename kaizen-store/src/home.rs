//! `~` in a local store path: what a shell would have expanded, had the path not been quoted
//! (in an env file, a service unit, `KAIZEN_STORE='~/x'`).

use std::path::PathBuf;

use crate::{Error, Result};

/// `path` with a leading `~` or `~/` replaced by the home folder (`$HOME`); any other path
/// as it is (`~user/…`, and `~` elsewhere than first, are taken literally, as a folder name).
///
/// Errors: [`Error::Url`] when the path starts with `~` and `HOME` is unset or empty.
pub fn expand_home(path: &str) -> Result<PathBuf> {
    let rest = match path.strip_prefix('~') {
        Some("") => "",
        Some(rest) if rest.starts_with('/') => &rest[1..],
        _ => return Ok(PathBuf::from(path)),
    };
    match std::env::var_os("HOME").filter(|home| !home.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(rest)),
        None => Err(Error::Url {
            url: path.to_owned(),
            reason: "`~` stands for the home folder, but HOME is not set".to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_leading_tilde_is_the_home_folder() {
        let home = PathBuf::from(std::env::var_os("HOME").expect("HOME in tests"));
        assert_eq!(expand_home("~").expect("~"), home);
        assert_eq!(expand_home("~/").expect("~/"), home);
        assert_eq!(expand_home("~/a/b").expect("~/a"), home.join("a/b"));
        for literal in ["~user/x", "a/~/b", "./~", "/abs", "rel", "~~"] {
            assert_eq!(expand_home(literal).expect(literal), PathBuf::from(literal));
        }
    }
}
