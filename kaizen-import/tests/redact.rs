//! Secret redaction through the import path: a Claude Code transcript with secrets planted
//! at known places (tool output, commands, nested JSON, JSON inside a JSON string, `\/` and
//! `\u002f` escapes, a private key split by `\n` escapes), and corpora of ordinary text
//! (this repository's sources, its `git log` hashes, UUIDs, sha256 sums, base64 blobs) for
//! false positives.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kaizen_core::Event;
use kaizen_import::{Agent, ImportOptions, RedactCounts, Redactor, discover, import_files};
use serde_json::{Value, json};

const SESSION: &str = "5e55e55e-1111-4222-8333-944444444444";

/// A planted secret: the line it is in, its text as it appears in the line's decoded
/// string values, and the detector that must find it.
struct Plant {
    line: Value,
    /// Raw lines with escapes serde_json does not write (`\/`, `\u002f`) replace `line`.
    raw: Option<String>,
    secret: String,
    detector: &'static str,
}

const PRIVATE_KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACDx3qVw0KpxYyGHUmS8fOoHP2zk4gqKbSbqH7P6mbrwfAAAAJgAAAAA\n-----END OPENSSH PRIVATE KEY-----";

fn record(n: u64, message: Value) -> Value {
    json!({
        "parentUuid": null, "isSidechain": false, "cwd": "/home/u/app",
        "sessionId": SESSION, "version": "2.1.39", "uuid": format!("u{n}"),
        "timestamp": format!("2026-10-01T10:00:{n:02}.000Z"),
        "type": message["role"].as_str().unwrap_or("user"),
        "message": message,
    })
}

fn tool_use(n: u64, tool: &str, input: Value) -> Value {
    let mut r = record(
        n,
        json!({"model": "claude-sonnet-4-5", "id": format!("msg_{n}"), "type": "message",
               "role": "assistant",
               "content": [{"type": "tool_use", "id": format!("toolu_{n}"), "name": tool, "input": input}],
               "stop_reason": "tool_use",
               "usage": {"input_tokens": 10, "output_tokens": 5}}),
    );
    r["requestId"] = json!(format!("req_{n}"));
    r
}

fn tool_result(n: u64, call: u64, text: &str) -> Value {
    record(
        n,
        json!({"role": "user", "content": [{"tool_use_id": format!("toolu_{call}"),
               "type": "tool_result", "content": text}]}),
    )
}

fn plants() -> Vec<Plant> {
    let plant = |line: Value, secret: &str, detector| Plant {
        line,
        raw: None,
        secret: secret.to_owned(),
        detector,
    };
    let inner_key = serde_json::to_string(PRIVATE_KEY).unwrap();
    let inner_key = &inner_key[1..inner_key.len() - 1]; // `\n` as two characters
    vec![
        // Tool output: an environment dump.
        plant(
            tool_result(
                1,
                0,
                "HOME=/home/u\nAWS_ACCESS_KEY_ID=AKIAQYLPMN5HHHFPZAM2\nSHELL=/bin/bash",
            ),
            "AKIAQYLPMN5HHHFPZAM2",
            "aws-access-key-id",
        ),
        plant(
            tool_result(
                2,
                0,
                "[default]\naws_secret_access_key = drTJvcXLB89QzPLmXYKEYwJalrXUtnFEMI/K7MDE",
            ),
            "drTJvcXLB89QzPLmXYKEYwJalrXUtnFEMI/K7MDE",
            "aws-secret-access-key",
        ),
        // Commands.
        plant(
            tool_use(
                3,
                "Bash",
                json!({"command": "curl -s -H \"Authorization: Bearer 7f3c9a1e5b2d8f4a6c0e9b3d7a1f5c2e\" https://api.internal/v1/me"}),
            ),
            "7f3c9a1e5b2d8f4a6c0e9b3d7a1f5c2e",
            "bearer-token",
        ),
        plant(
            tool_use(
                4,
                "Bash",
                json!({"command": "git clone https://x-access-token:ghp_Zq3xY8wV5uT2sR9pO6nM3lK0jI7hG4fE1dC8@github.com/org/repo.git"}),
            ),
            "ghp_Zq3xY8wV5uT2sR9pO6nM3lK0jI7hG4fE1dC8",
            "github-token",
        ),
        plant(
            tool_use(
                5,
                "Bash",
                json!({"command": "export GITLAB_TOKEN=glpat-8xYz2AbC4dEf6GhI8jKl && glab mr list"}),
            ),
            "glpat-8xYz2AbC4dEf6GhI8jKl",
            "gitlab-token",
        ),
        // Nested JSON: a tool's input object holding an env object.
        plant(
            tool_use(
                6,
                "mcp__deploy__run",
                json!({"service": "api", "env": {"OPENAI_API_KEY": "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3iJk6lMn9oPq2rSt5uVw8xYz1aBc4dEf7gHi0jKl3mNo6pQr9sTu2vWx5yZa8bCd1eFg4hIj7kLm0nOp3qRs6tUv9"}}),
            ),
            "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3iJk6lMn9oPq2rSt5uVw8xYz1aBc4dEf7gHi0jKl3mNo6pQr9sTu2vWx5yZa8bCd1eFg4hIj7kLm0nOp3qRs6tUv9",
            "openai-api-key",
        ),
        // JSON inside a JSON string (a tool result holding an API response).
        plant(
            tool_result(
                7,
                6,
                r#"{"ok":true,"bot":{"token":"xoxb-2048163264-1357924680135-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2"}}"#,
            ),
            "xoxb-2048163264-1357924680135-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2",
            "slack-token",
        ),
        plant(
            tool_result(
                8,
                6,
                r#"{"client_secret":"q7Lm2Xv9Rt4Kp8Wz3Nb6","grant_type":"client_credentials"}"#,
            ),
            "q7Lm2Xv9Rt4Kp8Wz3Nb6",
            "keyed-secret",
        ),
        // A private key read from a file: its lines are `\n` escapes in the line.
        plant(
            tool_result(9, 6, &format!("{PRIVATE_KEY}\n")),
            PRIVATE_KEY,
            "private-key",
        ),
        // The same key inside JSON inside the string: `\\n` in the line.
        plant(
            tool_result(10, 6, &format!("{{\"ssh_key\":\"{inner_key}\"}}")),
            inner_key,
            "private-key",
        ),
        // Pasted into the prompt.
        plant(
            record(
                11,
                json!({"role": "user", "content": "use this key: sk-ant-api03-Qw3Er5Ty7Ui9Op1As3Df5Gh7Jk9Lz1Xc3Vb5Nm7Qw9Er1Ty3Ui5Op7As9Df1Gh3Jk5Lz7Xc9Vb1Nm3Qw5Er7Ty9Ui1Op3As5Df7Gh9Jk1Lz3XcAA please"}),
            ),
            "sk-ant-api03-Qw3Er5Ty7Ui9Op1As3Df5Gh7Jk9Lz1Xc3Vb5Nm7Qw9Er1Ty3Ui5Op7As9Df1Gh3Jk5Lz7Xc9Vb1Nm3Qw5Er7Ty9Ui1Op3As5Df7Gh9Jk1Lz3XcAA",
            "anthropic-api-key",
        ),
        plant(
            tool_result(
                12,
                6,
                "HTTP/1.1 200 OK\nset-cookie: session=eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyIjoiYm9iIiwiZXhwIjoxNzAwMDAwMDAwfQ.Yk8m3Zr7Qp2Wx9Lv4Tn6Hs1Jd5Fg0Ka8Bc3De7Fh2Gi; Path=/",
            ),
            "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyIjoiYm9iIiwiZXhwIjoxNzAwMDAwMDAwfQ.Yk8m3Zr7Qp2Wx9Lv4Tn6Hs1Jd5Fg0Ka8Bc3De7Fh2Gi",
            "jwt",
        ),
        plant(
            tool_use(
                13,
                "WebFetch",
                json!({"url": "https://maps.googleapis.com/maps/api/geocode/json?address=x&key=AIzaSyB7x9Q2mN4pL6kJ8hG0fD3sA5zX1cV7bN9"}),
            ),
            "AIzaSyB7x9Q2mN4pL6kJ8hG0fD3sA5zX1cV7bN9",
            "gcp-api-key",
        ),
        plant(
            tool_result(
                14,
                6,
                "# .env\nDB_HOST=db.internal\nDB_PASSWORD=correct-horse-battery-staple\n",
            ),
            "correct-horse-battery-staple",
            "secret-assignment",
        ),
        // Escapes serde_json does not write: `\/` (PHP, some loggers) and `\u002f`.
        Plant {
            line: Value::Null,
            raw: Some(format!(
                r#"{{"parentUuid":null,"sessionId":"{SESSION}","uuid":"u15","timestamp":"2026-10-01T10:00:15.000Z","type":"user","message":{{"role":"user","content":"notify https:\/\/hooks.slack.com\/services\/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"}}}}"#
            )),
            secret: "T024BE7LD/B01J9G7H6K2/aB3cD5eF7gH9iJ1kL3mN5oP7".into(),
            detector: "slack-webhook-url",
        },
        Plant {
            line: Value::Null,
            raw: Some(format!(
                r#"{{"parentUuid":null,"sessionId":"{SESSION}","uuid":"u16","timestamp":"2026-10-01T10:00:16.000Z","type":"user","message":{{"role":"user","content":"DATABASE_URL is postgres:\u002f\u002fapp:Pg5ecretPw9x@db.internal:5432\u002fapp"}}}}"#
            )),
            secret: "Pg5ecretPw9x".into(),
            detector: "basic-auth-url",
        },
    ]
}

/// Every string of `v` with `from` replaced by `to`.
fn replace_strings(v: &Value, from: &str, to: &str) -> Value {
    match v {
        Value::String(s) => Value::String(s.replace(from, to)),
        Value::Array(a) => Value::Array(a.iter().map(|x| replace_strings(x, from, to)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), replace_strings(x, from, to)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn strings_contain(v: &Value, needle: &str) -> bool {
    match v {
        Value::String(s) => s.contains(needle),
        Value::Array(a) => a.iter().any(|x| strings_contain(x, needle)),
        Value::Object(o) => o.values().any(|x| strings_contain(x, needle)),
        _ => false,
    }
}

/// Writes the planted transcript as a Claude Code project and imports it.
fn import(
    root: &Path,
    lines: &[String],
    redactor: Option<std::sync::Arc<Redactor>>,
) -> (Vec<Event>, RedactCounts) {
    let dir = root.join("claude/projects/-home-u-app");
    std::fs::create_dir_all(&dir).unwrap();
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(dir.join(format!("{SESSION}.jsonl")), text).unwrap();
    let files = discover(Agent::Claude, &[root.join("claude")]).unwrap();
    let options = ImportOptions {
        redactor,
        ..ImportOptions::default()
    };
    let mut events = Vec::new();
    let (report, _) = import_files(&files, &Default::default(), &options, &mut |chunk| {
        events.extend(chunk);
        Ok(())
    })
    .unwrap();
    (events, report.sources["claude"].redacted.clone())
}

#[test]
fn every_planted_secret_is_found_and_each_line_is_the_same_json_but_the_secret() {
    let plants = plants();
    let lines: Vec<String> = (plants.iter())
        .map(|p| p.raw.clone().unwrap_or_else(|| p.line.to_string()))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let (events, counts) = import(dir.path(), &lines, Some(Redactor::builtin()));
    let (kept, none) = import(&dir.path().join("kept"), &lines, None);
    assert!(none.is_empty());
    assert_eq!(events.len(), plants.len());
    let mut expected_counts = BTreeMap::new();
    for ((p, line), (event, kept)) in plants.iter().zip(&lines).zip(events.iter().zip(&kept)) {
        *expected_counts.entry(p.detector.to_owned()).or_insert(0u64) += 1;
        let payload = event.payload.to_value();
        let stored = payload["record"].clone();
        let original: Value = serde_json::from_str(line).unwrap();
        let placeholder = format!("[REDACTED:{}]", p.detector);
        assert!(
            strings_contain(&original, &p.secret),
            "the plant is in its line: {}",
            p.secret
        );
        assert_eq!(
            stored,
            replace_strings(&original, &p.secret, &placeholder),
            "{}: the stored line is the original JSON with only the secret replaced",
            p.detector
        );
        let raw = event.payload.as_json_text();
        let tail = &p.secret[p.secret.len() - 12..];
        assert!(
            !raw.contains(tail),
            "{}: a piece of the secret is left: {raw}",
            p.detector
        );
        // Typed fields come from the line as written: the same as without redaction.
        let mut a = event.clone();
        let mut b = kept.clone();
        a.payload = kaizen_core::Payload::null();
        b.payload = kaizen_core::Payload::null();
        assert_eq!(a, b, "{}: typed fields differ", p.detector);
        assert_eq!(event.session_id, SESSION);
        // The rest of the payload (agent, path, line, model, …) is the same too.
        let mut without_record = payload.clone();
        let mut kept_without = kept.payload.to_value();
        without_record.as_object_mut().unwrap().remove("record");
        kept_without.as_object_mut().unwrap().remove("record");
        assert_eq!(without_record, kept_without);
        // Without redaction the line is kept exactly, secret included.
        assert!(
            kept.payload.as_json_text().contains(&line[..]),
            "{}",
            p.detector
        );
    }
    assert_eq!(counts, expected_counts);
    // The tool names and call ids survived (typed columns).
    let tools: Vec<_> = events.iter().filter_map(|e| e.tool.as_deref()).collect();
    assert!(
        tools.contains(&"Bash") && tools.contains(&"mcp__deploy__run"),
        "{tools:?}"
    );
}

/// A small deterministic generator (xorshift64*), for the random corpora.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b"0123456789abcdef"[(self.next() % 16) as usize]))
            .collect()
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// Every `.rs` and `.md` file under `dir`, except the redactor's own sources and the
/// crates' integration tests (they hold planted secrets on purpose: a match there is a
/// secret found, not a false positive).
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.')
            || name == "target"
            || name == "redact"
            || name == "redact.rs"
            || name == "fixtures"
            || (name == "tests" && path.is_dir())
        {
            continue;
        }
        if path.is_dir() {
            sources(&path, out);
        } else if name.ends_with(".rs") || name.ends_with(".md") {
            out.push(path);
        }
    }
}

/// Matches of the built-in detectors in `texts`, each as a JSON string (a tool result
/// holding it), per detector; and the bytes looked at.
fn false_positives(texts: impl IntoIterator<Item = String>) -> (RedactCounts, usize, Vec<String>) {
    let r = Redactor::builtin();
    let mut counts = RedactCounts::new();
    let mut bytes = 0;
    let mut examples = Vec::new();
    for text in texts {
        bytes += text.len();
        let line = json!({"type": "tool_result", "content": text}).to_string();
        let before: u64 = counts.values().sum();
        let out = r.redact_json(&line, &mut counts);
        if counts.values().sum::<u64>() > before && examples.len() < 20 {
            // Where the redacted line first differs from the line.
            let at = (line.bytes().zip(out.bytes()))
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            let from = out.floor_char_boundary(at.saturating_sub(60));
            let to = out.ceil_char_boundary((at + 60).min(out.len()));
            examples.push(out[from..to].to_owned());
        }
    }
    (counts, bytes, examples)
}

#[test]
fn false_positives_on_ordinary_code_and_hashes() {
    let mut files = Vec::new();
    sources(&workspace(), &mut files);
    files.sort();
    assert!(
        files.len() > 50,
        "the repository's sources: {}",
        files.len()
    );
    // Whole files, as a Read tool's output holds them.
    let code = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap_or_default());
    let (code_fp, code_bytes, examples) = false_positives(code);
    // This repository's history: `git log` hashes and subjects (where git is there).
    let log = std::process::Command::new("git")
        .args(["log", "--format=%H %h %T %s"])
        .current_dir(workspace())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let (log_fp, log_bytes, _) = false_positives(log.lines().map(str::to_owned));
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let uuids = (0..20_000).map(|_| {
        let h = rng.hex(32);
        format!(
            "{}-{}-4{}-a{}-{}",
            &h[..8],
            &h[8..12],
            &h[13..16],
            &h[17..20],
            &h[20..]
        )
    });
    let (uuid_fp, uuid_bytes, _) = false_positives(uuids.collect::<Vec<_>>());
    let sums =
        (0..20_000).map(|i| format!("{}  src/file{i}.rs\nsha1:{}", rng.hex(64), rng.hex(40)));
    let (sum_fp, sum_bytes, _) = false_positives(sums.collect::<Vec<_>>());
    use base64::Engine as _;
    let blobs = (0..2_000).map(|i| {
        let raw = rng.bytes(16 + (i * 37) % 4096);
        match i % 2 {
            0 => base64::engine::general_purpose::STANDARD.encode(raw),
            _ => base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw),
        }
    });
    let (b64_fp, b64_bytes, _) = false_positives(blobs.collect::<Vec<_>>());
    let total = |c: &RedactCounts| c.values().sum::<u64>();
    eprintln!(
        "false positives: code {} in {} files, {} KB {:?}; git log {} in {} KB; uuids {} in {} KB; sha256/sha1 sums {} in {} KB; base64 {} in {} KB",
        total(&code_fp),
        files.len(),
        code_bytes / 1000,
        code_fp,
        total(&log_fp),
        log_bytes / 1000,
        total(&uuid_fp),
        uuid_bytes / 1000,
        total(&sum_fp),
        sum_bytes / 1000,
        total(&b64_fp),
        b64_bytes / 1000,
    );
    for e in &examples {
        eprintln!("  code: …{e}…");
    }
    // Hashes, UUIDs and base64 are never secrets by shape.
    assert_eq!(total(&log_fp), 0, "{log_fp:?}");
    assert_eq!(total(&uuid_fp), 0, "{uuid_fp:?}");
    assert_eq!(total(&sum_fp), 0, "{sum_fp:?}");
    assert_eq!(total(&b64_fp), 0, "{b64_fp:?}");
    // Ordinary code: the figure in the README (matches that are no secret: test fixtures'
    // made-up credentials count here too).
    assert!(
        total(&code_fp) <= CODE_FALSE_POSITIVES_AT_MOST,
        "{code_fp:?}\n{examples:#?}"
    );
}

/// The false positives measured on this repository's sources (README), with room for the
/// sources to grow.
const CODE_FALSE_POSITIVES_AT_MOST: u64 = 10;
