//! The built-in detectors: one entry per kind of credential that leaks into agent logs.
//!
//! Where a rule follows gitleaks' default rule set (<https://github.com/gitleaks/gitleaks>,
//! `config/gitleaks.toml`, MIT License, Copyright (c) 2019 Zachary Rice), its rule ids are
//! named in `source`: the token formats (prefixes, alphabets, lengths) are gitleaks', the
//! expressions are written here for this crate's input, which is JSON text: a secret may sit
//! inside a JSON string, with its `/` escaped as `\/` and its line breaks as `\n`, so
//! boundaries accept those escapes and the secret's own alphabet accepts `\/` where it has `/`.
//! Rules marked `kaizen` are this crate's own (credentials gitleaks leaves to its generic
//! rule, or to nothing: basic-auth URLs, `*_TOKEN=` assignments).
//!
//! Every expression names the part that is the secret `secret` (only that part is
//! replaced, so `Bearer [REDACTED:bearer-token]` keeps its keyword); without the group the
//! whole match is the secret. `anchors` are literals, at least one
//! of which is in every match: the prefilter runs a detector only on text holding one (and,
//! for the commonest anchors, only where its `gate` says a match can follow).

use regex::Captures;

/// A gate: the text's bytes, an anchor's start and end; whether a match can follow.
pub(crate) type Gate = fn(&[u8], usize, usize) -> bool;

/// The literals a detector's matches hold, at least one each.
pub(crate) enum Anchors {
    /// Matched as written (token prefixes: `AKIA`, `ghp_`, `sk-`).
    Exact(&'static [&'static str]),
    /// Matched in any ASCII case (keywords: `bearer`, `token`).
    AnyCase(&'static [&'static str]),
}

/// A built-in detector: its name (in `[REDACTED:<name>]` and the counts), where it comes
/// from, its prefilter literals, its expression, and a check a match must pass.
pub(crate) struct Builtin {
    pub name: &'static str,
    /// `gitleaks:<rule id>,…` or `kaizen`.
    pub source: &'static str,
    pub anchors: Anchors,
    pub pattern: &'static str,
    /// A match is a secret only when this says so (placeholders, numbers, file paths are not).
    pub check: Option<fn(&Captures<'_>) -> bool>,
    /// Looked at each anchor found (the text's bytes, the anchor's start and end): the
    /// expression runs only when one says the text after it can be a match. For anchors
    /// common in agent logs (`token` in `input_tokens`, every URL's `://`); as permissive as
    /// the expression, so no match is lost.
    pub gate: Option<Gate>,
}

/// Before a token: the start, a character that cannot be part of it, or a JSON escape
/// (`\n`, `\t`, `\u002f`: `"a\nAKIA…"` holds the key right after an escaped line break).
macro_rules! pre {
    () => {
        r"(?:^|[^A-Za-z0-9_]|\\[nrt]|\\u[0-9a-fA-F]{4})"
    };
}

/// An optional quote around a key or a value, maybe escaped (JSON inside a JSON string:
/// `{\"api_key\":\"…\"}`, or inside that again).
macro_rules! q {
    () => {
        r#"(?:\\{0,3}["'`])?"#
    };
}

/// `/`, also as JSON writes it escaped (`\/`, `\u002f`).
macro_rules! slash {
    () => {
        r"(?:/|\\/|\\u002[fF])"
    };
}

pub(crate) const BUILTIN: &[Builtin] = &[
    Builtin {
        name: "private-key",
        source: "gitleaks:private-key",
        anchors: Anchors::Exact(&["-----BEGIN"]),
        // A whole PEM/OpenSSH/PGP private key block, its lines joined by real or escaped
        // line breaks (`\n`, or `\\n` in JSON inside JSON); without its END line (output cut
        // short) from BEGIN to the end of the base64 text.
        pattern: concat!(
            r"(?P<secret>-----BEGIN[ A-Z0-9_]{0,100}PRIVATE KEY(?: BLOCK)?-----",
            r"(?:(?:[A-Za-z0-9+=\s:,.\-]|\\{1,3}[nrt]|",
            slash!(),
            r")*?-----END[ A-Z0-9_]{0,100}PRIVATE KEY(?: BLOCK)?-----",
            r"|(?:[A-Za-z0-9+=\s:,.\-]|\\{1,3}[nrt]|",
            slash!(),
            r"){64,}))"
        ),
        check: None,
        gate: None,
    },
    Builtin {
        name: "aws-access-key-id",
        source: "gitleaks:aws-access-token",
        anchors: Anchors::Exact(&["AKIA", "ASIA", "ABIA", "ACCA", "A3T"]),
        pattern: concat!(
            pre!(),
            r"(?P<secret>(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})(?:[^A-Za-z0-9]|$)"
        ),
        // gitleaks' allowlist: AWS's documentation key, AKIAIOSFODNN7EXAMPLE.
        check: Some(|c| !c["secret"].ends_with("EXAMPLE")),
        gate: None,
    },
    Builtin {
        name: "aws-secret-access-key",
        source: "kaizen (gitleaks' generic-api-key covers it there)",
        anchors: Anchors::AnyCase(&["secret"]),
        // `aws_secret_access_key = …` (credentials files, env), `"SecretAccessKey": "…"`
        // (`aws sts assume-role` output): 40 characters of base64.
        pattern: concat!(
            r"(?i:aws[A-Za-z0-9_.-]{0,20}?secret|secret_?access_?key)[A-Za-z0-9_.-]{0,20}",
            q!(),
            r"\s*(?:=|:|=>|:=)\s*",
            q!(),
            r"(?P<secret>(?:[A-Za-z0-9+]|",
            slash!(),
            r"){40})(?:[^A-Za-z0-9+/]|$)"
        ),
        // AWS's documentation keys (`wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`) are no secret.
        check: Some(|c| !c["secret"].contains("EXAMPLE")),
        gate: None,
    },
    Builtin {
        name: "aws-session-token",
        source: "kaizen",
        anchors: Anchors::AnyCase(&["sessiontoken", "session_token"]),
        pattern: concat!(
            r"(?i:aws_?session_?token|sessiontoken)",
            q!(),
            r"\s*(?:=|:|=>|:=)\s*",
            q!(),
            r"(?P<secret>(?:[A-Za-z0-9+=]|",
            slash!(),
            r"){100,})"
        ),
        check: None,
        gate: None,
    },
    Builtin {
        name: "gcp-api-key",
        source: "gitleaks:gcp-api-key",
        anchors: Anchors::Exact(&["AIza"]),
        pattern: concat!(
            pre!(),
            r"(?P<secret>AIza[A-Za-z0-9_-]{35})(?:[^A-Za-z0-9_-]|$)"
        ),
        check: None,
        gate: None,
    },
    Builtin {
        name: "google-oauth-token",
        source: "kaizen (Google OAuth 2.0 access tokens, `ya29.`)",
        anchors: Anchors::Exact(&["ya29."]),
        pattern: concat!(pre!(), r"(?P<secret>ya29\.[A-Za-z0-9_-]{20,})"),
        check: None,
        gate: None,
    },
    Builtin {
        name: "github-token",
        source: "gitleaks:github-pat,github-oauth,github-app-token,github-refresh-token,github-fine-grained-pat",
        anchors: Anchors::Exact(&["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"]),
        pattern: concat!(
            pre!(),
            r"(?P<secret>gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{82,})(?:[^A-Za-z0-9_]|$)"
        ),
        check: None,
        gate: None,
    },
    Builtin {
        name: "gitlab-token",
        source: "gitleaks:gitlab-pat,gitlab-ptt,gitlab-rrt,gitlab-runner-authentication-token,gitlab-deploy-token,gitlab-feed-token,gitlab-incoming-mail-token,gitlab-kubernetes-agent-token,gitlab-oauth-app-secret,gitlab-scim-token,gitlab-cicd-job-token,gitlab-feature-flag-client-token",
        anchors: Anchors::Exact(&[
            "glpat-",
            "glptt-",
            "glrt-",
            "gldt-",
            "glft-",
            "glimt-",
            "glagent-",
            "gloas-",
            "glsoat-",
            "glcbt-",
            "glffct-",
            "GR1348941",
        ]),
        pattern: concat!(
            pre!(),
            r"(?P<secret>(?:glpat|glptt|glrt|gldt|glft|glimt|glagent|gloas|glsoat|glcbt|glffct)-[A-Za-z0-9_.-]{20,}|GR1348941[A-Za-z0-9_-]{20,})"
        ),
        check: None,
        gate: None,
    },
    Builtin {
        name: "slack-token",
        source: "gitleaks:slack-bot-token,slack-user-token,slack-app-token,slack-config-access-token,slack-config-refresh-token,slack-legacy-token,slack-legacy-bot-token,slack-legacy-workspace-token",
        anchors: Anchors::Exact(&[
            "xoxb-", "xoxp-", "xoxa-", "xoxo-", "xoxs-", "xoxr-", "xoxe", "xapp-",
        ]),
        pattern: concat!(
            pre!(),
            r"(?P<secret>xox[bpaosr]-[A-Za-z0-9-]{10,}|xoxe(?:\.xox[bp])?-\d-[A-Za-z0-9]{40,}|xoxe-[A-Za-z0-9-]{40,}|xapp-\d-[A-Za-z0-9]+-\d+-[A-Za-z0-9]+)"
        ),
        check: None,
        gate: None,
    },
    Builtin {
        name: "slack-webhook-url",
        source: "gitleaks:slack-webhook-url",
        anchors: Anchors::Exact(&["hooks.slack.com"]),
        pattern: concat!(
            r"hooks\.slack\.com",
            slash!(),
            r"(?:services|workflows|triggers)",
            slash!(),
            r"(?P<secret>(?:[A-Za-z0-9+]|",
            slash!(),
            r"){40,})"
        ),
        check: None,
        gate: None,
    },
    Builtin {
        name: "anthropic-api-key",
        source: "gitleaks:anthropic-api-key,anthropic-admin-api-key (and Claude Code's OAuth tokens, sk-ant-oat01/ort01)",
        anchors: Anchors::Exact(&["sk-ant-"]),
        pattern: concat!(
            pre!(),
            r"(?P<secret>sk-ant-[a-z]{2,8}[0-9]{2}-[A-Za-z0-9_-]{20,})"
        ),
        check: None,
        gate: None,
    },
    Builtin {
        name: "openai-api-key",
        source: "gitleaks:openai-api-key (and the older sk- + 48 form)",
        anchors: Anchors::Exact(&["sk-"]),
        // Project, service-account and admin keys carry `T3BlbkFJ` ("OpenAI" in base64) in
        // their middle; the newest are only known by their prefix and length.
        pattern: concat!(
            pre!(),
            r"(?P<secret>sk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{16,}T3BlbkFJ[A-Za-z0-9_-]{16,}",
            r"|sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}",
            r"|sk-[A-Za-z0-9]{48})(?:[^A-Za-z0-9_-]|$)"
        ),
        check: None,
        gate: Some(token_start_gate),
    },
    Builtin {
        name: "jwt",
        source: "gitleaks:jwt",
        anchors: Anchors::Exact(&["eyJ"]),
        pattern: concat!(
            pre!(),
            r"(?P<secret>eyJ[A-Za-z0-9_-]{14,}\.eyJ[A-Za-z0-9_-]{14,}\.[A-Za-z0-9_-]{10,})"
        ),
        check: None,
        gate: None,
    },
    Builtin {
        name: "stripe-key",
        source: "gitleaks:stripe-access-token",
        anchors: Anchors::Exact(&[
            "sk_live_", "sk_test_", "rk_live_", "rk_test_", "sk_prod_", "rk_prod_",
        ]),
        pattern: concat!(
            pre!(),
            r"(?P<secret>[rs]k_(?:live|test|prod)_[A-Za-z0-9]{10,99})"
        ),
        check: None,
        gate: None,
    },
    Builtin {
        name: "npm-token",
        source: "gitleaks:npm-access-token",
        anchors: Anchors::Exact(&["npm_"]),
        pattern: concat!(pre!(), r"(?P<secret>npm_[A-Za-z0-9]{36})(?:[^A-Za-z0-9]|$)"),
        check: None,
        gate: None,
    },
    Builtin {
        name: "pypi-token",
        source: "gitleaks:pypi-upload-token",
        anchors: Anchors::Exact(&["pypi-AgEIcHlwaS5vcmc"]),
        pattern: r"(?P<secret>pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,})",
        check: None,
        gate: None,
    },
    Builtin {
        name: "huggingface-token",
        source: "gitleaks:huggingface-access-token",
        anchors: Anchors::Exact(&["hf_"]),
        pattern: concat!(pre!(), r"(?P<secret>hf_[A-Za-z]{34})(?:[^A-Za-z0-9]|$)"),
        check: None,
        gate: None,
    },
    Builtin {
        name: "sendgrid-key",
        source: "gitleaks:sendgrid-api-token",
        anchors: Anchors::Exact(&["SG."]),
        pattern: concat!(
            pre!(),
            r"(?P<secret>SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})"
        ),
        check: None,
        gate: None,
    },
    Builtin {
        name: "bearer-token",
        source: "gitleaks:curl-auth-header (its Bearer part, anywhere: headers in code, logs, HTTP dumps)",
        anchors: Anchors::AnyCase(&["bearer"]),
        pattern: concat!(
            r"(?i:bearer)(?:\s|\\[nrt])+(?P<secret>(?:[A-Za-z0-9._~+-]|",
            slash!(),
            r"){16,}=*)"
        ),
        // Prose ("bearer authentication") has no digit.
        check: Some(|c| c["secret"].bytes().any(|b| b.is_ascii_digit())),
        gate: None,
    },
    Builtin {
        name: "basic-auth-header",
        source: "gitleaks:curl-auth-header (its Basic part)",
        anchors: Anchors::AnyCase(&["authorization"]),
        pattern: concat!(
            r"(?i:authorization)",
            q!(),
            r"\s*[:=]\s*",
            q!(),
            r"(?i:basic)\s+(?P<secret>(?:[A-Za-z0-9+=]|",
            slash!(),
            r"){8,})"
        ),
        check: None,
        gate: None,
    },
    Builtin {
        name: "basic-auth-url",
        source: "kaizen (credentials in a URL: scheme://user:password@host)",
        anchors: Anchors::AnyCase(&["://", r":\/\/", r":\u002f\u002f"]),
        // Only the password is replaced: the user and host say what it was for.
        pattern: concat!(
            r"[A-Za-z][A-Za-z0-9+.-]{1,20}:",
            slash!(),
            slash!(),
            r#"[^\s:@/\\"'<>\[\]]{1,128}:(?P<secret>[^\s:@/\\"'<>]{1,256})@[A-Za-z0-9_.-]+"#
        ),
        check: Some(|c| not_placeholder(&c["secret"])),
        gate: Some(url_gate),
    },
    Builtin {
        name: "secret-assignment",
        source: "kaizen (the issue's `*_TOKEN=`, `*_KEY=`, `*_SECRET=`, `PASSWORD=` variables)",
        anchors: Anchors::Exact(&["TOKEN", "KEY", "SECRET", "PASS", "PWD", "CREDENTIAL"]),
        // An environment-style variable (upper case) assigned a value: `export
        // GITHUB_TOKEN=…`, `DB_PASSWORD: …` (YAML), `"OPENAI_API_KEY": "…"` (an env dump).
        pattern: concat!(
            r"(?:^|[^A-Za-z0-9_]|\\[nrt]|\\u[0-9a-fA-F]{4})(?P<name>(?:[A-Z0-9]+_)*(?:TOKEN|KEY|SECRET|PASSWORD|PASSWD|PASS|PWD|APIKEY|CREDENTIALS?)(?:_[A-Z0-9]+)*)",
            q!(),
            r"[ \t]*(?P<op>=|:)[ \t]*",
            q!(),
            r#"(?P<secret>[^\s"'`\\$;&|<>(){}\[\],]{4,})(?P<typed>[ \t]*=)?"#
        ),
        check: Some(assignment_is_secret),
        gate: Some(assignment_gate),
    },
    Builtin {
        name: "keyed-secret",
        source: "gitleaks:generic-api-key (its idea: a secret-sounding key, a quoted value of high entropy)",
        anchors: Anchors::AnyCase(&["token", "key", "secret", "passw", "credential", "auth"]),
        // A JSON, YAML or code key naming a secret, its value quoted: `"api_key": "…"`,
        // `client_secret = '…'`, `password: "…"`.
        pattern: concat!(
            r"(?i:(?P<name>[A-Za-z0-9_.-]{0,40}?(?:api[_-]?key|apikey|secret|token|passwd|password|access[_-]?key|private[_-]?key|credentials?|auth)[A-Za-z0-9_.-]{0,20}))",
            q!(),
            r"\s*(?:=|:|:=|=>)\s*\\{0,3}[\x22'`]",
            r"(?P<secret>[A-Za-z0-9_\-+/=.~!@#%^*]{8,256})\\{0,3}[\x22'`]"
        ),
        check: Some(keyed_is_secret),
        gate: Some(keyed_gate),
    },
];

/// A value that stands for a secret rather than being one: a variable reference, a
/// template, a mask, an example.
fn not_placeholder(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    let first = value.as_bytes()[0];
    let all_same = value.bytes().all(|b| b == first);
    !(all_same
        || matches!(first, b'$' | b'<' | b'{' | b'%' | b'*' | b'[')
        || [
            "example",
            "xxxx",
            "redacted",
            "your_",
            "your-",
            "placeholder",
            "changeme",
            "dummy",
        ]
        .iter()
        .any(|p| lower.contains(p))
        || lower == "password"
        || lower == "secret")
}

/// Names ending so hold a secret's whereabouts or shape, not the secret.
const NOT_SECRET_SUFFIXES: &[&str] = &[
    "_PATH",
    "_FILE",
    "_DIR",
    "_NAME",
    "_ID",
    "_URL",
    "_URI",
    "_ENV",
    "_VAR",
    "_TYPE",
    "_LEN",
    "_LENGTH",
    "_SIZE",
    "_COUNT",
    "_LIMIT",
    "_MAX",
    "_MIN",
    "_TTL",
    "_TIMEOUT",
    "_EXPIRY",
    "_HEADER",
    "_FIELD",
    "_PREFIX",
    "_ALGORITHM",
    "_ALG",
    "_REGION",
    "_HOST",
    "_PORT",
    "_USER",
    "_USERNAME",
    "_FORMAT",
    "_MODE",
    "_ENABLED",
    "_KIND",
    "_INDEX",
    "_LOCATION",
    "_HELPER",
];

/// `NAME=value`: a secret unless the name says where one is, or the value is a number, a
/// path, a reference or a placeholder. After `:` (YAML, or code's `KEY: Type`), the value must
/// look generated (a digit in it) unless the name is a password's.
fn assignment_is_secret(c: &Captures<'_>) -> bool {
    let (name, value) = (&c["name"], &c["secret"]);
    if NOT_SECRET_SUFFIXES.iter().any(|s| name.ends_with(s)) {
        return false;
    }
    let password = ["PASS", "PWD"].iter().any(|p| name.contains(p));
    if (!password && value.len() < 6)
        || value.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        || matches!(value.as_bytes()[0], b'/' | b'~' | b'.')
        || ["true", "false", "null", "none", "nil", "undefined"]
            .contains(&value.to_ascii_lowercase().as_str())
    {
        return false;
    }
    // Code, not a value: `NAME: Type = …` (a declaration's type), `ffi::NAME`, `0x100`,
    // another constant (`B_MAIL_ERROR_BASE`).
    if (&c["op"] == ":" && c.name("typed").is_some())
        || value.contains("::")
        || value.starts_with("0x")
        || is_constant(value)
        || ["value", "val", "string", "str", "secret", "token", "key"].contains(
            &value
                .trim_end_matches([':', '.', ','])
                .to_ascii_lowercase()
                .as_str(),
        )
    {
        return false;
    }
    if &c["op"] == ":" && !password && !value.bytes().any(|b| b.is_ascii_digit()) {
        return false;
    }
    not_placeholder(value)
}

/// `"api_key": "value"`: a secret when the value looks generated: a digit and a letter in
/// it, and at least 3 bits of entropy per character (gitleaks asks 3.5 of its generic rule;
/// short passwords have less), not a placeholder. A password key needs no entropy.
fn keyed_is_secret(c: &Captures<'_>) -> bool {
    let (name, value) = (c["name"].to_ascii_lowercase(), &c["secret"]);
    if !not_placeholder(value) || value.contains("://") || is_constant(value) {
        return false;
    }
    if name.contains("passw") {
        return true;
    }
    let lower = name.trim_end_matches(['_', '-', '.']);
    if [
        "_path", "_file", "_name", "_id", "_url", "_type", "_count", "_limit", "tokens", "_at",
    ]
    .iter()
    .any(|s| lower.ends_with(s))
    {
        return false;
    }
    value.bytes().any(|b| b.is_ascii_digit())
        && value.bytes().any(|b| b.is_ascii_alphabetic())
        && entropy(value) >= 3.0
}

/// An UPPER_SNAKE_CASE name (`B_MAIL_ERROR_BASE`, `CLIENT_TRAFFIC_SECRET_0`): a constant
/// referred to, not a value.
fn is_constant(v: &str) -> bool {
    v.contains('_')
        && v.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
        && (v.bytes()).all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// Shannon entropy of `text`'s bytes, bits per byte.
pub(crate) fn entropy(text: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in text.bytes() {
        counts[b as usize] += 1;
    }
    let n = text.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// After a keyword, the rest of a name, a closing quote, blanks, then `=` or `:`: the
/// position after the separator, if there is one.
fn separator_after(
    b: &[u8],
    mut i: usize,
    name: fn(u8) -> bool,
    blank: fn(u8) -> bool,
) -> Option<usize> {
    while i < b.len() && name(b[i]) {
        i += 1;
    }
    let mut quotes = 0;
    while i < b.len() && quotes < 4 && matches!(b[i], b'\\' | b'"' | b'\'' | b'`') {
        i += 1;
        quotes += 1;
    }
    while i < b.len() && blank(b[i]) {
        i += 1;
    }
    matches!(b.get(i), Some(b'=' | b':')).then_some(i + 1)
}

/// `secret-assignment`: `…TOKEN…` then `=` or `:` (quotes and blanks between).
fn assignment_gate(b: &[u8], _start: usize, end: usize) -> bool {
    let name = |c: u8| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_';
    separator_after(b, end, name, |c| c == b' ' || c == b'\t').is_some()
}

/// `keyed-secret`: `…token…` then a separator and an opening quote.
fn keyed_gate(b: &[u8], _start: usize, end: usize) -> bool {
    let name = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-');
    let Some(mut i) = separator_after(b, end, name, |c| c.is_ascii_whitespace()) else {
        return false;
    };
    if matches!(b.get(i), Some(b'=' | b'>')) {
        i += 1;
    }
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    let mut slashes = 0;
    while i < b.len() && slashes < 3 && b[i] == b'\\' {
        i += 1;
        slashes += 1;
    }
    matches!(b.get(i), Some(b'"' | b'\'' | b'`'))
}

/// `basic-auth-url`: after `scheme://`, a user, `:`, a password and `@`.
fn url_gate(b: &[u8], _start: usize, end: usize) -> bool {
    let stop = |c: u8| {
        c.is_ascii_whitespace()
            || matches!(c, b':' | b'@' | b'/' | b'\\' | b'"' | b'\'' | b'<' | b'>')
    };
    let mut i = end;
    while i < b.len() && i - end <= 128 && !stop(b[i]) {
        i += 1;
    }
    if i == end || b.get(i) != Some(&b':') {
        return false;
    }
    let from = i + 1;
    i = from;
    while i < b.len() && i - from <= 256 && !stop(b[i]) {
        i += 1;
    }
    i > from && b.get(i) == Some(&b'@')
}

/// A token prefix (`sk-`) at the start of a word (not the end of `task-` or `disk-`), or
/// right after an escape (`\n`, `\u002f`).
fn token_start_gate(b: &[u8], start: usize, _end: usize) -> bool {
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    start == 0
        || !word(b[start - 1])
        || (start >= 2 && b[start - 2] == b'\\' && matches!(b[start - 1], b'n' | b'r' | b't'))
        || (start >= 6 && b[start - 6] == b'\\' && b[start - 5] == b'u')
}
