//! Files that are not what their import expects: another agent's logs, a file rewritten
//! from its first line, a file deleted after discovery, a folder with no logs, a Gemini
//! document changed without its `lastUpdated`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use kaizen_core::Event;
use kaizen_import::{
    Agent, Cursor, Error, ImportOptions, discover, export, import_file, import_files, source_file,
};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

const CLAUDE: &str = "claude/projects/-home-u-p1/11111111-1111-1111-1111-111111111111.jsonl";
const CODEX: &str = "codex/sessions/2026/10/01/rollout-2026-10-01T11-00-00-0199a000-0000-7000-8000-00000000c0de.jsonl";
const GEMINI: &str = "gemini/tmp/abc123/chats/session-2026-10-01T12-00-9a9a9a9a.jsonl";

/// Copies fixture `rel` to `root/rel`.
fn copy(root: &Path, rel: &str) -> PathBuf {
    let to = root.join(rel);
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(fixtures().join(rel), &to).unwrap();
    to
}

fn run(
    agent: Agent,
    path: &Path,
    cursor: Option<&Cursor>,
    skip_invalid: bool,
) -> kaizen_import::Result<(kaizen_import::FileImport, Vec<Event>)> {
    let file = source_file(agent, path).unwrap();
    let options = ImportOptions {
        skip_invalid,
        ..ImportOptions::default()
    };
    let mut events = Vec::new();
    let done = import_file(&file, cursor, &options, &mut |c| {
        events.extend(c);
        Ok(())
    })?;
    Ok((done, events))
}

/// `kaizen import claude <codex folder>` stored rollouts as Claude events (and `import
/// codex` then stored them again). A file whose first record is clearly another agent's is
/// refused, naming it and the import that reads it; with `--skip-invalid` it is skipped,
/// counted and noted, nothing of it stored. Both directions, and Gemini's chats.
#[test]
fn another_agents_file_is_refused_naming_the_right_import() {
    let dir = tempfile::tempdir().unwrap();
    let claude = copy(dir.path(), CLAUDE);
    let codex = copy(dir.path(), CODEX);
    let gemini = copy(dir.path(), GEMINI);
    let cases = [
        (
            Agent::Claude,
            &codex,
            "a Codex rollout: kaizen import codex",
        ),
        (
            Agent::Codex,
            &claude,
            "a Claude Code transcript: kaizen import claude",
        ),
        (
            Agent::Claude,
            &gemini,
            "a Gemini CLI chat: kaizen import gemini",
        ),
        (
            Agent::Gemini,
            &claude,
            "a Claude Code transcript: kaizen import claude",
        ),
        (
            Agent::Codex,
            &gemini,
            "a Gemini CLI chat: kaizen import gemini",
        ),
    ];
    for (agent, path, says) in cases {
        let err = run(agent, path, None, false).unwrap_err();
        assert!(matches!(err, Error::WrongAgent { .. }), "{err}");
        let text = err.to_string();
        assert!(text.starts_with(&path.display().to_string()), "{text}");
        assert!(text.contains(&format!("looks like {says} ")), "{text}");
        let (done, events) = run(agent, path, None, true).unwrap();
        assert!(events.is_empty(), "{agent} stored {} events", events.len());
        assert_eq!((done.report.files_refused, done.report.events), (1, 0));
        assert!(done.report.notes[0].contains(says.split(':').next().unwrap()));
        // Nothing read: the next import checks it again.
        assert_eq!(done.cursor.consumed, 0);
        assert!(run(agent, path, Some(&done.cursor), false).is_err());
    }
    // Each file imports as its own agent's.
    for (agent, path) in [
        (Agent::Claude, &claude),
        (Agent::Codex, &codex),
        (Agent::Gemini, &gemini),
    ] {
        let (done, events) = run(agent, path, None, false).unwrap();
        assert_eq!(done.report.files_refused, 0);
        assert_eq!(events.len() as u64, done.cursor.lines);
    }
    // A folder of rollouts imported as Claude: an error, nothing handed to the sink.
    let files = discover(Agent::Claude, &[dir.path().join("codex")]).unwrap();
    let mut handed = 0;
    let result = import_files(
        &files,
        &HashMap::new(),
        &ImportOptions::default(),
        &mut |c| {
            handed += c.len();
            Ok(())
        },
    );
    assert!(matches!(result, Err(Error::WrongAgent { .. })));
    assert_eq!(handed, 0);
    // Records of unknown types with no other agent's mark are still imported (kept).
    let odd = dir.path().join("claude/projects/-p/odd.jsonl");
    std::fs::create_dir_all(odd.parent().unwrap()).unwrap();
    std::fs::write(&odd, "{\"type\":\"brand-new\",\"x\":1}\n").unwrap();
    let (done, events) = run(Agent::Claude, &odd, None, false).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(done.report.unknown_types.get("brand-new"), Some(&1));
}

fn touch_later(path: &Path) {
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(2);
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(later).unwrap();
}

/// The sums of the token and cost columns of `events`.
fn sums(events: &[Event]) -> [i64; 5] {
    let mut s = [0i64; 5];
    for e in events {
        s[0] += i64::from(e.tokens_in.unwrap_or(0));
        s[1] += i64::from(e.tokens_out.unwrap_or(0));
        s[2] += i64::from(e.cache_read_tokens.unwrap_or(0));
        s[3] += i64::from(e.cache_creation_tokens.unwrap_or(0));
        s[4] += e.cost_usd_e6.unwrap_or(0);
    }
    s
}

/// A transcript whose first line changes is a new version of the file, read again and
/// stored beside the first (lossless); but each API response's tokens and cost are counted
/// once: a response counted in the earlier version carries none in the new one. Claude
/// (message id + request id), Codex (cumulative totals), Gemini `.jsonl` (message ids).
#[test]
fn a_rewritten_first_line_reads_the_file_again_without_counting_tokens_twice() {
    for (agent, rel) in [
        (Agent::Claude, CLAUDE),
        (Agent::Codex, CODEX),
        (Agent::Gemini, GEMINI),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = copy(dir.path(), rel);
        let (first, mut events) = run(agent, &path, None, false).unwrap();
        let before = sums(&events);
        assert!(before[1] > 0, "{agent}: the fixture has output tokens");
        assert!(first.report.responses > 0);

        // One byte of the first line changed (a digit of its first number or time).
        let mut bytes = std::fs::read(&path).unwrap();
        let i = bytes.iter().position(u8::is_ascii_digit).unwrap();
        bytes[i] = if bytes[i] == b'1' { b'2' } else { b'1' };
        std::fs::write(&path, &bytes).unwrap();
        // Same size: a later time tells it changed (a write within the same millisecond
        // would look unchanged).
        touch_later(&path);
        let (again, new) = run(agent, &path, Some(&first.cursor), false).unwrap();
        assert_eq!(again.report.files_reread, 1, "{agent}");
        assert_eq!(
            new.len(),
            events.len(),
            "{agent}: every line stored again, as a new version"
        );
        assert_eq!(again.report.notes.len(), 1, "{agent}");
        assert!(
            again.report.notes[0].starts_with(&format!("{}: rewritten", path.display())),
            "{}",
            again.report.notes[0]
        );
        assert_eq!(
            sums(&new),
            [0; 5],
            "{agent}: the new version counts nothing again"
        );
        assert_eq!(again.report.responses, 0, "{agent}");
        events.extend(new);
        assert_eq!(sums(&events), before, "{agent}: every token counted once");

        // New responses appended to the new version are counted.
        let more = run(agent, &path, Some(&again.cursor), false).unwrap();
        assert!(more.1.is_empty(), "{agent}: unchanged");
        // And export writes the latest version back.
        let out = tempfile::tempdir().unwrap();
        export(events, out.path(), Some(agent)).unwrap();
        let file = source_file(agent, &path).unwrap();
        assert!(std::fs::read(out.path().join(&file.rel)).unwrap() == bytes);
    }
}

/// A rewritten Claude transcript that goes on with a new response: that one is counted.
#[test]
fn a_rewritten_transcript_counts_its_new_responses() {
    let dir = tempfile::tempdir().unwrap();
    let path = copy(dir.path(), CLAUDE);
    let (first, events) = run(Agent::Claude, &path, None, false).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let last_assistant = text
        .lines()
        .rev()
        .find(|l| l.contains("\"type\":\"assistant\"") && l.contains("\"usage\""))
        .unwrap();
    let mut v: serde_json::Value = serde_json::from_str(last_assistant).unwrap();
    v["message"]["id"] = "msg_brand_new".into();
    v["requestId"] = "req_brand_new".into();
    let out_tokens = v["message"]["usage"]["output_tokens"].as_i64().unwrap();
    let rewritten = text.replacen("2026", "2027", 1) + &v.to_string() + "\n";
    std::fs::write(&path, rewritten).unwrap();
    let (again, new) = run(Agent::Claude, &path, Some(&first.cursor), false).unwrap();
    assert_eq!(new.len(), events.len() + 1);
    assert_eq!(again.report.responses, 1);
    assert_eq!(sums(&new)[1], out_tokens);
}

/// A file deleted between discovery and its import (Claude Code's own cleanup can run
/// during an import or hook) is skipped with a note; its cursor stays as it was; the run
/// goes on with the other files.
#[test]
fn a_file_deleted_after_discovery_is_skipped_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let kept = copy(dir.path(), CLAUDE);
    let gone = copy(
        dir.path(),
        "claude/projects/-home-u-p2/22222222-2222-2222-2222-222222222222.jsonl",
    );
    let root = dir.path().join("claude");
    let files = discover(Agent::Claude, std::slice::from_ref(&root)).unwrap();
    assert_eq!(files.len(), 2);
    let options = ImportOptions::default();
    let (_, cursors) = import_files(&files, &HashMap::new(), &options, &mut |_| Ok(())).unwrap();
    let cursors: HashMap<String, Cursor> =
        cursors.into_iter().map(|c| (c.path.clone(), c)).collect();
    // Both grow; then one is deleted before the next import reaches it.
    for path in [&kept, &gone] {
        let mut bytes = std::fs::read(path).unwrap();
        bytes.extend_from_slice(
            b"{\"type\":\"summary\",\"summary\":\"later\",\"leafUuid\":\"x\"}\n",
        );
        std::fs::write(path, bytes).unwrap();
    }
    std::fs::remove_file(&gone).unwrap();
    let mut events = 0;
    let (report, after) = import_files(&files, &cursors, &options, &mut |c| {
        events += c.len();
        Ok(())
    })
    .unwrap();
    let r = &report.sources["claude"];
    assert_eq!(events, 1, "the other file's new line");
    assert_eq!((r.files, r.files_vanished), (2, 1));
    assert_eq!(
        r.notes,
        [format!(
            "{}: gone before it was read (deleted since it was found); skipped, its cursor kept",
            gone.display()
        )]
    );
    let gone_rel = files.iter().find(|f| f.path == gone).unwrap().rel.clone();
    let kept_cursor = after.iter().find(|c| c.path == gone_rel).unwrap();
    assert_eq!(kept_cursor, &cursors[&gone_rel], "its cursor as it was");

    // Never imported and gone: nothing read, and no cursor to keep: the placeholder it gets
    // is no cursor to the next import (the file, should it come back, is read whole).
    let file = source_file(Agent::Claude, &gone).unwrap();
    let done = import_file(&file, None, &options, &mut |_| Ok(())).unwrap();
    assert_eq!(done.report.files_vanished, 1);
    copy(
        dir.path(),
        "claude/projects/-home-u-p2/22222222-2222-2222-2222-222222222222.jsonl",
    );
    let mut back = 0;
    let again = import_file(&file, Some(&done.cursor), &options, &mut |c| {
        back += c.len();
        Ok(())
    })
    .unwrap();
    assert_eq!(back as u64, again.cursor.lines);
    assert!(back > 0);
}

/// A file that exists but cannot be read stays an error, naming it and saying that
/// `--skip-invalid` does not apply. (Skipped when running as root, which reads anyway.)
#[cfg(unix)]
#[test]
fn an_unreadable_file_is_an_error_naming_it() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = copy(dir.path(), CLAUDE);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::File::open(&path).is_ok() {
        return; // root
    }
    let err = run(Agent::Claude, &path, None, true)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!("{}: cannot be read", path.display())),
        "{err}"
    );
    assert!(err.contains("--skip-invalid does not apply"), "{err}");
}

/// `kaizen import claude EMPTY_DIR` printed an empty table and exited 0: a PATH holding no
/// file of the agent is an error saying where discovery looked.
#[test]
fn a_path_without_the_agents_files_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(empty.join("projects/-p")).unwrap();
    for (agent, says) in [
        (
            Agent::Claude,
            "no Claude Code transcripts found (looked for projects/*/*.jsonl",
        ),
        (
            Agent::Codex,
            "no Codex rollouts found (looked for sessions/",
        ),
        (
            Agent::Gemini,
            "no Gemini CLI chats found (looked for tmp/*/chats/",
        ),
    ] {
        let err = discover(agent, std::slice::from_ref(&empty))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!("{}: {says}", empty.display())),
            "{err}"
        );
    }
    // No PATH: default roots that hold nothing are no error.
    assert!(discover(Agent::Kaizen, &[]).unwrap().is_empty());
}

/// Gemini CLI rewrites a `.json` chat whole: a message appended with `lastUpdated`
/// unchanged, then the document re-serialised (`ensure_ascii` escapes, no trailing
/// newline) with the same `lastUpdated`. Each time the import sees a new text, and export
/// writes exactly the latest, whatever `lastUpdated` says.
#[test]
fn a_gemini_document_changed_without_its_last_updated_exports_its_latest_text() {
    let dir = tempfile::tempdir().unwrap();
    let chats = dir.path().join("tmp/h1/chats");
    std::fs::create_dir_all(&chats).unwrap();
    let path = chats.join("session-2026-10-01T12-00-abcd1234.json");
    let msg = |id: &str, s: u32| {
        serde_json::json!({"id": id, "timestamp": format!("2026-10-01T12:00:{s:02}.000Z"),
            "type": "gemini", "content": "café ☕", "model": "gemini-2.5-pro",
            "tokens": {"input": 100, "output": 10, "cached": 40, "thoughts": 5, "tool": 0, "total": 115}})
    };
    let doc = |msgs: Vec<serde_json::Value>| {
        serde_json::json!({"sessionId": "s-json", "projectHash": "h1",
            "startTime": "2026-10-01T12:00:00.000Z",
            "lastUpdated": "2026-10-01T12:00:02.000Z", "messages": msgs})
    };
    let pretty = |d: &serde_json::Value| serde_json::to_string_pretty(d).unwrap() + "\n";
    // Python's json.dumps(ensure_ascii=True): non-ASCII escaped, compact, no newline.
    let ascii = |d: &serde_json::Value| {
        let mut out = String::new();
        for c in serde_json::to_string(d).unwrap().chars() {
            if c.is_ascii() {
                out.push(c);
            } else {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
        }
        out
    };
    let three = doc(vec![msg("a", 1), msg("b", 2), msg("c", 2)]);
    // Back and forth between two texts too: each time the latest is written back.
    let versions = [
        pretty(&doc(vec![msg("a", 1), msg("b", 2)])),
        pretty(&three),
        ascii(&three),
        pretty(&three),
        ascii(&three),
        pretty(&three),
        ascii(&doc(vec![
            msg("a", 1),
            msg("b", 2),
            msg("c", 2),
            msg("d", 2),
        ])),
    ];
    let file = source_file(Agent::Gemini, &path).unwrap();
    let options = ImportOptions::default();
    let mut cursor: Option<Cursor> = None;
    let mut events = Vec::new();
    for (n, text) in versions.iter().enumerate() {
        std::fs::write(&path, text).unwrap();
        let done = import_file(&file, cursor.as_ref(), &options, &mut |c| {
            events.extend(c);
            Ok(())
        })
        .unwrap();
        assert_eq!(
            done.report.responses,
            [2, 1, 0, 0, 0, 0, 1][n],
            "version {n}: each response once"
        );
        cursor = Some(done.cursor);
        let out = tempfile::tempdir().unwrap();
        export(events.clone(), out.path(), Some(Agent::Gemini)).unwrap();
        let written = std::fs::read(out.path().join(&file.rel)).unwrap();
        assert!(
            written == text.as_bytes(),
            "version {n}: export wrote\n{}\ninstead of\n{text}",
            String::from_utf8_lossy(&written)
        );
    }
    let ids: std::collections::HashSet<_> = events.iter().map(|e| e.seq).collect();
    assert_eq!(ids.len(), events.len(), "every event has its own identity");
}
