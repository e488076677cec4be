//! The user's own patterns: `--redact-pattern REGEX` (repeatable) and `--redact-patterns
//! FILE` (one `NAME = REGEX` a line).

use std::path::Path;

use regex::Regex;

use crate::{Error, Result};

/// A detector of the user's: a name (in `[REDACTED:<name>]` and the counts) and a regular
/// expression (the `regex` crate's syntax). The whole match is replaced, or only its group
/// named `secret` when it has one (`token=(?P<secret>\w+)`). It runs on the text as stored,
/// where a JSON string's `/` may be `\/` and its line breaks `\n`.
#[derive(Debug, Clone)]
pub struct UserPattern {
    /// `[A-Za-z0-9_.-]`, 1 to 64 characters.
    pub name: String,
    /// The compiled expression.
    pub regex: Regex,
}

impl UserPattern {
    /// A pattern named `name` (checked: letters, digits, `_`, `.`, `-`). `origin` names it in
    /// errors (`--redact-pattern 2`, `patterns.txt:4`).
    pub fn new(name: &str, pattern: &str, origin: &str) -> Result<UserPattern> {
        let valid_name = !name.is_empty()
            && name.len() <= 64
            && (name.bytes()).all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if !valid_name {
            return Err(Error::Pattern {
                origin: origin.to_owned(),
                reason: format!(
                    "the name {name:?} is not 1 to 64 letters, digits, `_`, `.` or `-`"
                ),
            });
        }
        if pattern.is_empty() {
            return Err(Error::Pattern {
                origin: origin.to_owned(),
                reason: "the pattern is empty".into(),
            });
        }
        let regex = Regex::new(pattern).map_err(|e| Error::Pattern {
            origin: origin.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(UserPattern {
            name: name.to_owned(),
            regex,
        })
    }

    /// The patterns of `--redact-pattern`, in order: the n-th (from 1) is named `custom-n`.
    pub fn from_args(patterns: &[String]) -> Result<Vec<UserPattern>> {
        (patterns.iter().enumerate())
            .map(|(i, p)| {
                let n = i + 1;
                UserPattern::new(&format!("custom-{n}"), p, &format!("--redact-pattern {n}"))
            })
            .collect()
    }

    /// The patterns of a file: one `NAME = REGEX` a line (spaces around `=` optional; the
    /// REGEX is the rest of the line, as it is); blank lines and lines starting with `#`
    /// are skipped. Errors name `file:line`.
    pub fn from_file(path: &Path) -> Result<Vec<UserPattern>> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        // A byte-order mark (editors on Windows write one) is not part of the first name.
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let origin = format!("{}:{}", path.display(), i + 1);
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            let Some((name, pattern)) = line.split_once('=') else {
                return Err(Error::Pattern {
                    origin,
                    reason: "not `NAME = REGEX`".into(),
                });
            };
            let pattern = pattern.strip_prefix(' ').unwrap_or(pattern);
            out.push(UserPattern::new(name.trim(), pattern, &origin)?);
        }
        Ok(out)
    }
}
