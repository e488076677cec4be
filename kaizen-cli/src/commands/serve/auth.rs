//! Bearer tokens: `--token-file` (one `NAME TOKEN` a line), checked on every request. The
//! token's name is the sender's attribution (`payload.host` of its events).

use std::path::Path;

use anyhow::{Context, bail};

/// Shortest token accepted: a guessable token is no protection.
const MIN_TOKEN_LEN: usize = 16;

/// The tokens a server accepts, each with its name.
#[derive(Default)]
pub struct Tokens(Vec<(String, Vec<u8>)>);

impl std::fmt::Debug for Tokens {
    /// Names only: a token never shows in output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(n, _)| n))
            .finish()
    }
}

impl Tokens {
    /// Reads every file. Errors name the file and line: a line that is not `NAME TOKEN`, a
    /// token shorter than 16 characters, a token or name given twice, a file without token.
    pub fn read(files: &[impl AsRef<Path>]) -> anyhow::Result<Tokens> {
        let mut tokens = Tokens::default();
        for file in files {
            let file = file.as_ref();
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("--token-file {}", file.display()))?;
            let before = tokens.0.len();
            for (i, line) in text.lines().enumerate() {
                let at = || format!("{}:{}", file.display(), i + 1);
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let mut parts = line.split_whitespace();
                let (Some(name), Some(token), None) = (parts.next(), parts.next(), parts.next())
                else {
                    bail!("{}: expected `NAME TOKEN`", at());
                };
                if token.len() < MIN_TOKEN_LEN {
                    bail!(
                        "{}: the token of {name:?} is shorter than {MIN_TOKEN_LEN} characters",
                        at()
                    );
                }
                if tokens
                    .0
                    .iter()
                    .any(|(n, t)| n == name || t == token.as_bytes())
                {
                    bail!("{}: {name:?} or its token is given twice", at());
                }
                tokens.0.push((name.to_owned(), token.as_bytes().to_vec()));
            }
            if tokens.0.len() == before {
                bail!("--token-file {}: no token in it", file.display());
            }
        }
        Ok(tokens)
    }

    /// Whether no token is configured (every request accepted, on loopback only).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The name of the token an `Authorization` header carries. Every token is compared
    /// in constant time (a timing difference would tell how much of a guess was right).
    pub fn name_of(&self, authorization: Option<&[u8]>) -> Option<&str> {
        // The scheme's name is case-insensitive (RFC 7235 §2.1): `bearer` is `Bearer`.
        let authorization = authorization?;
        let (scheme, presented) = authorization.split_at_checked(7)?;
        if !scheme.eq_ignore_ascii_case(b"Bearer ") {
            return None;
        }
        let mut found = None;
        for (name, token) in &self.0 {
            if constant_time_eq(token, presented) {
                found = Some(name.as_str());
            }
        }
        found
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("tokens");
        std::fs::write(
            &f,
            "# team\nalice 0123456789abcdef0\n\nbob   fedcba98765432100\n",
        )
        .unwrap();
        let t = Tokens::read(&[&f]).unwrap();
        assert_eq!(t.name_of(Some(b"Bearer fedcba98765432100")), Some("bob"));
        assert_eq!(t.name_of(Some(b"bearer fedcba98765432100")), Some("bob"));
        assert_eq!(t.name_of(Some(b"Bearer fedcba9876543210")), None);
        assert_eq!(t.name_of(Some(b"fedcba98765432100")), None);
        assert_eq!(t.name_of(None), None);
        assert!(!format!("{t:?}").contains("0123"));
        std::fs::write(&f, "carol short\n").unwrap();
        let err = Tokens::read(&[&f]).unwrap_err().to_string();
        assert!(
            err.contains(":1: the token of \"carol\" is shorter"),
            "{err}"
        );
    }
}
