//! Unit tests of the redactor: each detector on a realistic secret, JSON kept valid around
//! escapes, user patterns, and what must not be touched.

use super::*;

fn redact(text: &str) -> (String, RedactCounts) {
    let mut counts = RedactCounts::new();
    let out = Redactor::builtin()
        .redact_json(text, &mut counts)
        .into_owned();
    (out, counts)
}

#[test]
fn every_builtin_detector_compiles_and_has_anchors() {
    let r = Redactor::builtin();
    assert_eq!(r.detectors().len(), builtin::BUILTIN.len());
    for b in builtin::BUILTIN {
        let (builtin::Anchors::Exact(a) | builtin::Anchors::AnyCase(a)) = &b.anchors;
        assert!(!a.is_empty(), "{}", b.name);
    }
}

#[test]
fn each_builtin_detector_finds_its_secret() {
    let cases = [
        ("AKIAQYLPMN5HHHFPZAM2", "aws-access-key-id"),
        ("ASIAY34FZKBOKMUTVV7A", "aws-access-key-id"),
        ("ghp_R3aLl0ngT0k3nV4lu3xxxxyyyyzzzz123456", "github-token"),
        (
            "github_pat_11ABCDEFG0abcdefghijkl_mnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmno",
            "github-token",
        ),
        ("glpat-Xy9z8W7v6U5t4S3r2Q1p", "gitlab-token"),
        (
            "xoxb-1234567890123-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
            "slack-token",
        ),
        (
            "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
            "slack-webhook-url",
        ),
        (
            "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_abcdefghijklmnopqrstuvwxyz0123456AA",
            "anthropic-api-key",
        ),
        (
            "sk-proj-abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-abcdefghijT3BlbkFJabcdefghijklmnopqrstuvwxyz",
            "openai-api-key",
        ),
        (
            "sk-abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV",
            "openai-api-key",
        ),
        ("AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY", "gcp-api-key"),
        (
            "ya29.a0AfH6SMBx-abcdefghijklmnopqrstuvwxyz012345",
            "google-oauth-token",
        ),
        (
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "jwt",
        ),
        ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "stripe-key"),
        ("npm_abcdefghijklmnopqrstuvwxyz0123456789", "npm-token"),
        ("hf_abcdefghijklmnopqrstuvwxyzABCDEFGH", "huggingface-token"),
        (
            "SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ",
            "sendgrid-key",
        ),
        (
            "Authorization: Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0",
            "bearer-token",
        ),
        (
            "curl -H 'Authorization: Basic dXNlcjpwYXNzd29yZDEyMw=='",
            "basic-auth-header",
        ),
        (
            "postgres://admin:S3cr3tPassw0rd@db.internal:5432/app",
            "basic-auth-url",
        ),
        (
            "export GITHUB_TOKEN=abc123def456ghi789",
            "secret-assignment",
        ),
        ("DB_PASSWORD=hunter2", "secret-assignment"),
        (
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzzzzzzzzz",
            "aws-secret-access-key",
        ),
    ];
    for (secret, detector) in cases {
        let secret_part = match detector {
            "bearer-token" => "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
            "basic-auth-header" => "dXNlcjpwYXNzd29yZDEyMw==",
            "basic-auth-url" => "S3cr3tPassw0rd",
            "secret-assignment" if secret.contains("GITHUB") => "abc123def456ghi789",
            "secret-assignment" => "hunter2",
            "aws-secret-access-key" => "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzzzzzzzzz",
            "slack-webhook-url" => "T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
            _ => secret,
        };
        let line = serde_json::json!({"content": format!("out: {secret} end")}).to_string();
        let (out, counts) = redact(&line);
        let slash_escaped = secret_part.replace('/', "\\/");
        assert!(
            !out.contains(secret_part) && !out.contains(&slash_escaped),
            "{detector}: {secret_part} left in {out}"
        );
        assert_eq!(
            counts.get(detector),
            Some(&1),
            "{detector}: {counts:?} for {out}"
        );
        serde_json::from_str::<serde_json::Value>(&out).expect("still JSON");
    }
}

#[test]
fn private_key_block_across_escaped_line_breaks_is_one_match() {
    let key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB\naNDUMZO1Vl0pNnU0qTzVnkgJTmSh9KjDbgYcHgQ6/EXAMPLEq1pCQG7bOBvXjmLA\n-----END RSA PRIVATE KEY-----";
    let line = serde_json::json!({"content": [{"type": "text", "text": format!("cat id_rsa\n{key}\ndone")}]}).to_string();
    assert!(
        line.contains("\\n"),
        "the key's line breaks are escapes in the line"
    );
    let (out, counts) = redact(&line);
    assert_eq!(counts.get("private-key"), Some(&1), "{out}");
    assert!(!out.contains("MIIEow") && !out.contains("aNDUMZ"), "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["content"][0]["text"],
        "cat id_rsa\n[REDACTED:private-key]\ndone"
    );
}

#[test]
fn escapes_at_the_edges_of_a_secret_are_kept_whole() {
    // `/` escaped as `\/` and `\u002f`: the URL's password, and a webhook's path.
    let line = r#"{"a":"git clone https:\/\/bob:pa55w0rdXYZ@git.example.org\/x.git","b":"https:\u002f\u002fhooks.slack.com\u002fservices\u002fT00000000\u002fB00000000\u002fXXXXXXXXXXXXXXXXXXXXXXXX"}"#;
    let (out, counts) = redact(line);
    assert_eq!(counts.get("basic-auth-url"), Some(&1), "{out}");
    assert_eq!(counts.get("slack-webhook-url"), Some(&1), "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("still JSON");
    assert_eq!(
        v["a"],
        "git clone https://bob:[REDACTED:basic-auth-url]@git.example.org/x.git"
    );
    assert!(!out.contains("pa55w0rd"));
    // A key right after an escaped line break, and one in JSON inside a JSON string.
    let line =
        r#"{"t":"env\nAKIAQYLPMN5HHHFPZAM2\n","u":"{\"api_key\":\"q8Zr2LmX9vTn4WbK7pYc\"}"}"#;
    let (out, counts) = redact(line);
    assert_eq!(counts.get("aws-access-key-id"), Some(&1), "{out}");
    assert_eq!(counts.get("keyed-secret"), Some(&1), "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["t"], "env\n[REDACTED:aws-access-key-id]\n");
    assert_eq!(v["u"], r#"{"api_key":"[REDACTED:keyed-secret]"}"#);
}

#[test]
fn a_match_is_cut_to_its_string_and_whole_escapes() {
    // A user pattern that reaches over quotes and into an escape: the replacement stays in
    // the string it starts in, and covers the `\u00e9` it cut.
    let r = Redactor::with_patterns(
        UserPattern::from_args(&["secret-[a-z0-9]+.{0,8}".into()]).unwrap(),
    )
    .unwrap();
    let line = r#"{"a":"x secret-abc\u00e9","b":"keep"}"#;
    let mut counts = RedactCounts::new();
    let out = r.redact_json(line, &mut counts);
    assert_eq!(out, r#"{"a":"x [REDACTED:custom-1]","b":"keep"}"#);
    assert_eq!(counts.get("custom-1"), Some(&1));
    let text = r#"ab\u00e9cd"#;
    let parts = json::whole_escapes(&json::escapes(text, 0, text.len()), 4, 5);
    assert_eq!(parts, (2, 8));
    let text = r#"ab\\ncd"#;
    let parts = json::whole_escapes(&json::escapes(text, 0, text.len()), 4, 6);
    assert_eq!(parts, (4, 6), "`\\\\` then `n`: no escape is cut");
}

/// A match that runs past its string's end is cut to its string before matches are merged:
/// a secret in the next string is still replaced (merged first, it was taken in and lost).
#[test]
fn a_match_running_into_the_next_string_leaves_its_secret_found() {
    let r = Redactor::with_patterns(UserPattern::from_args(&[r"password=\S+".into()]).unwrap())
        .unwrap();
    let line =
        r#"{"cmd":"echo password=hunter2","out":"ghp_R3aLl0ngT0k3nV4lu3xxxxyyyyzzzz123456"}"#;
    let mut counts = RedactCounts::new();
    let out = r.redact_json(line, &mut counts);
    assert_eq!(
        out,
        r#"{"cmd":"echo [REDACTED:custom-1]","out":"[REDACTED:github-token]"}"#
    );
    assert_eq!(counts.get("custom-1"), Some(&1));
    assert_eq!(counts.get("github-token"), Some(&1));
}

#[test]
fn typed_fields_and_structure_are_not_touched() {
    let line = r#"{"sessionId":"0f3b2c1e-9a8d-4e7f-b6a5-c4d3e2f1a0b9","uuid":"d8f1c2a3-4b5e-6f70-8192-a3b4c5d6e7f8","message":{"model":"claude-sonnet-4-5-20250929","id":"msg_01XyZAbCdEfGhIjKlMnOpQrS","content":[{"type":"tool_use","id":"toolu_01AbCdEfGhIjKlMnOpQrStUv","name":"Bash","input":{"command":"git log -1 --format=%H"}}],"usage":{"input_tokens":1234,"output_tokens":56,"cache_read_input_tokens":78901}},"requestId":"req_011CUaBcDeFgHiJkLmNoPqRs","cwd":"/home/u/proj","gitBranch":"main","timestamp":"2026-10-01T09:15:02.123Z"}"#;
    let (out, counts) = redact(line);
    assert_eq!(out, line, "{counts:?}");
    assert!(counts.is_empty());
}

#[test]
fn ordinary_values_are_not_secrets() {
    for text in [
        "commit 3f9a1c2e4b5d6f708192a3b4c5d6e7f8091a2b3c",
        "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "uuid 123e4567-e89b-12d3-a456-426614174000",
        "MAX_TOKENS=4096",
        "let token = parser.next_token();",
        "SSH_KEY_PATH=/home/u/.ssh/id_ed25519",
        "GITHUB_TOKEN=${{ secrets.GITHUB_TOKEN }}",
        "export API_KEY=$API_KEY",
        "AKIAIOSFODNN7EXAMPLE",
        "bearer authentication is described in RFC 6750",
        "const SECRET_KEY: &str = env!(\"X\");",
        "https://user@example.com/path",
        "\"input_tokens\": 1234",
        "password: \"\"",
        "pub const IFLA_INET6_TOKEN: _bindgen_ty_5 = _bindgen_ty_5::IFLA_INET6_TOKEN;",
        "SQLITE_CHANGESET_FOREIGN_KEY = ffi::SQLITE_CHANGESET_FOREIGN_KEY,",
        "DEVSTAT_TYPE_PASS = 0x100,",
        "pub const B_MAIL_WRONG_PASSWORD: i32 = B_MAIL_ERROR_BASE + 2;",
        "invalid KEY=VALUE: no `=` found",
        "let secret_access_key = \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\";",
    ] {
        let (out, counts) = redact(&serde_json::json!({ "t": text }).to_string());
        assert!(counts.is_empty(), "{text:?} redacted as {counts:?}: {out}");
    }
}

#[test]
fn redacting_twice_changes_nothing_more() {
    let line = serde_json::json!({"t": "GITHUB_TOKEN=ghp_R3aLl0ngT0k3nV4lu3xxxxyyyyzzzz123456 postgres://a:b0bpw123@h/db password: \"hunter22\" Bearer abcdefgh12345678"}).to_string();
    let (once, counts) = redact(&line);
    assert!(!counts.is_empty());
    let (twice, again) = redact(&once);
    assert_eq!(twice, once);
    assert!(again.is_empty(), "{again:?}");
}

#[test]
fn non_json_text_and_invalid_utf8_are_redacted() {
    let r = Redactor::builtin();
    let mut counts = RedactCounts::new();
    let out = r.redact_text("not json AKIAQYLPMN5HHHFPZAM2 {", &mut counts);
    assert_eq!(out, "not json [REDACTED:aws-access-key-id] {");
    let bytes = b"\xff\xfe token ghp_R3aLl0ngT0k3nV4lu3xxxxyyyyzzzz123456 \xff";
    let out = redact_bytes(&r, bytes, &mut counts);
    assert_eq!(&out[..], b"\xff\xfe token [REDACTED:github-token] \xff");
    assert_eq!(counts.get("github-token"), Some(&1));
}

#[test]
fn user_patterns_from_args_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("patterns.txt");
    std::fs::write(
        &path,
        "# internal\n\ncorp-host = db\\d+\\.corp\\.internal\nticket = TICKET-(?P<secret>\\d{6})\n",
    )
    .unwrap();
    let mut patterns = UserPattern::from_file(&path).unwrap();
    patterns.extend(UserPattern::from_args(&["acme_[0-9a-f]{8}".into()]).unwrap());
    let r = Redactor::with_patterns(patterns).unwrap();
    let mut counts = RedactCounts::new();
    let out = r.redact_json(
        r#"{"t":"ssh db12.corp.internal; see TICKET-123456; acme_deadbeef"}"#,
        &mut counts,
    );
    assert_eq!(
        out,
        r#"{"t":"ssh [REDACTED:corp-host]; see TICKET-[REDACTED:ticket]; [REDACTED:custom-1]"}"#
    );
    std::fs::write(&path, "ok = a\nbroken = (\n").unwrap();
    let e = UserPattern::from_file(&path).unwrap_err().to_string();
    assert!(e.starts_with(&format!("{}:2: ", path.display())), "{e}");
    std::fs::write(&path, "just a regex\n").unwrap();
    let e = UserPattern::from_file(&path).unwrap_err().to_string();
    assert!(e.contains(":1: not `NAME = REGEX`"), "{e}");
    let e = UserPattern::from_args(&["ok".into(), "[".into()])
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("--redact-pattern 2: "), "{e}");
}

/// Lines built from secrets, escapes and quotes in random order, as JSON writers escape
/// them (serde_json, and `/` as `\/` or `\u002f`), and user patterns that reach over
/// quotes: whatever is replaced, the result is JSON, each replacement is counted, and no
/// secret is left.
#[test]
fn any_line_stays_json() {
    let pieces = [
        "ghp_R3aLl0ngT0k3nV4lu3xxxxyyyyzzzz123456",
        "AKIAQYLPMN5HHHFPZAM2",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB\n-----END RSA PRIVATE KEY-----",
        "postgres://u:pw0rd1234@h/db",
        "Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        "API_KEY=abc123def456",
        "\"api_key\": \"q8Zr2LmX9vTn4WbK7pYc\"",
        "\n",
        "\t",
        "é",
        "\"",
        "\\",
        "/",
        "\u{2028}",
        " ",
        "x",
        "{",
        "}",
        ":",
        "=",
        "\u{7}",
    ];
    let r = Redactor::with_patterns(
        UserPattern::from_args(&["x.{0,6}".into(), r#"pw0rd\d+@h"#.into()]).unwrap(),
    )
    .unwrap();
    let mut state = 0x243F_6A88_85A3_08D3u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for case in 0..3000 {
        // Pieces apart (a token glued to the next word is not one: detectors want a
        // boundary), by what separates words in logs. Not `/`: `Bearer a/Bearer b` is one
        // token (a bearer token may hold `/`), and the second `b` would be left.
        let separators = [" ", "\n", "\t", "\"", ", ", "\\"];
        let text: String = (0..(next() % 12))
            .flat_map(|_| {
                let piece = pieces[(next() % pieces.len() as u64) as usize];
                let separator = separators[(next() % separators.len() as u64) as usize];
                [piece, separator]
            })
            .collect();
        let mut line = serde_json::json!({"a": text, "n": 1, "b": [text.clone()]}).to_string();
        match case % 3 {
            1 => line = line.replace('/', "\\/"),
            2 => line = line.replace('/', "\\u002f"),
            _ => {}
        }
        let mut counts = RedactCounts::new();
        let out = r.redact_json(&line, &mut counts);
        let value: serde_json::Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {line}\n-> {out}"));
        assert_eq!(value["n"], 1);
        let replaced = out.matches("[REDACTED:").count() as u64;
        assert_eq!(replaced, counts.values().sum::<u64>(), "{line}\n-> {out}");
        for secret in [
            "R3aLl0ngT0k3n",
            "QYLPMN5HHHFPZAM2",
            "MIIEowIBAAKC",
            "9f8e7d6c5b4a",
        ] {
            assert!(
                !value.to_string().contains(secret),
                "{secret} left: {line}\n-> {out}"
            );
        }
    }
}

/// Object keys are the document's structure, never rewritten: two keys redacted alike would
/// become one, and a JSON reader keeps one of their values. The values are redacted.
#[test]
fn object_keys_are_kept_and_values_redacted() {
    let a = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789";
    let b = "ghp_zYxWvUtSrQpOnMlKjIhGfEdCbA9876543210";
    let line = format!(r#"{{"tokens":{{"{a}":"alice","{b}":"bob"}},"out" : "{a}"}}"#);
    let (out, counts) = redact(&line);
    assert_eq!(
        out,
        format!(r#"{{"tokens":{{"{a}":"alice","{b}":"bob"}},"out" : "[REDACTED:github-token]"}}"#)
    );
    assert_eq!(counts.get("github-token"), Some(&1));
    let value: serde_json::Value = serde_json::from_str(&out).expect("still JSON");
    assert_eq!(value["tokens"].as_object().map(|o| o.len()), Some(2));
}

/// A secret spelled with `\u` escapes is found as any reader of the JSON decodes it, and
/// replaced with the escapes it spans; the text around it is kept byte for byte.
#[test]
fn secrets_spelled_with_unicode_escapes_are_redacted() {
    let token = "ghp_R3aLl0ngT0k3nV4lu3xxxxyyyyzzzz123456";
    let escaped: String = token
        .chars()
        .enumerate()
        .map(|(i, c)| match i % 3 {
            0 => format!("\\u{:04x}", c as u32),
            _ => c.to_string(),
        })
        .collect();
    let line = format!(r#"{{"cmd":"caf\u00e9 GH_TOKEN={escaped} gh","n":1}}"#);
    let (out, counts) = redact(&line);
    assert_eq!(
        out,
        r#"{"cmd":"caf\u00e9 GH_TOKEN=[REDACTED:github-token] gh","n":1}"#
    );
    assert_eq!(counts["github-token"], 1);

    // A key id split by escapes of every kind, in a string inside a nested object; the
    // same key written plainly beside it is counted once.
    let line =
        r#"{"a":{"b":["AK\u0049A\u0051YLPMN5HHHFPZAM2\n","x AKIAQYLPMN5HHHFPZAM2 \u00e9"]}}"#;
    let (out, counts) = redact(line);
    assert_eq!(
        out,
        r#"{"a":{"b":["[REDACTED:aws-access-key-id]\n","x [REDACTED:aws-access-key-id] \u00e9"]}}"#
    );
    assert_eq!(counts["aws-access-key-id"], 2);

    // Escapes that spell nothing secret, and broken surrogates, leave the text as it is.
    for line in [
        r#"{"t":"\u00e9t\u00e9 \ud83d\ude00 \ud800 \udc00x \\u0041KIA"}"#,
        r#"{"\u0067hp_R3aLl0ngT0k3nV4lu3xxxxyyyyzzzz123456":1}"#,
    ] {
        let (out, counts) = redact(line);
        assert_eq!(out, line);
        assert!(counts.is_empty(), "{counts:?}");
    }
}

proptest::proptest! {
    /// Decoding a string's contents gives what a JSON reader reads, whichever characters it
    /// escapes (serde_json's own escapes, and every character as `\uXXXX`, pairs for those
    /// past U+FFFF), and each decoded byte comes from its character's escape.
    #[test]
    fn a_string_decodes_as_json_readers_read_it(text in "(?s).{0,40}", every in proptest::bool::ANY) {
        let json = match every {
            false => serde_json::to_string(&text).expect("a string"),
            true => {
                let mut json = String::from("\"");
                for unit in text.encode_utf16() {
                    json.push_str(&format!("\\u{unit:04X}"));
                }
                json.push('"');
                json
            }
        };
        let decoded = json::decode_string(&json, 1, json.len() - 1);
        proptest::prop_assert_eq!(&decoded.text, &text);
        proptest::prop_assert_eq!(decoded.origin.len(), text.len() + 1);
        for (i, c) in text.char_indices() {
            let at = decoded.origin[i];
            let raw = &json[at..];
            let plain = raw.starts_with(c) && c != '"' && c != '\\';
            proptest::prop_assert!(plain || raw.starts_with('\\'), "{} at {}", c, at);
        }
    }
}

/// A user pattern sees escaped text decoded too: a pattern of `é` matches `\u00e9`.
#[test]
fn user_patterns_match_escaped_text_as_decoded() {
    let patterns = UserPattern::from_args(&["caf\u{e9}-[0-9]{4}".into()]).expect("pattern");
    let redactor = Redactor::with_patterns(patterns).expect("redactor");
    let mut counts = RedactCounts::new();
    let line = r#"{"t":"order caf\u00e9-1234 and caf\u00E9-5678","u":"caf\u00e9"}"#;
    let out = redactor.redact_json(line, &mut counts);
    assert_eq!(
        out,
        r#"{"t":"order [REDACTED:custom-1] and [REDACTED:custom-1]","u":"caf\u00e9"}"#
    );
    assert_eq!(counts["custom-1"], 2);
}
