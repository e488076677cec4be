//! Incremental import: appended lines, a partial last line, a response split by the cursor,
//! a replaced file, a very long line.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use common::*;
use kaizen_core::Event;
use kaizen_import::{Agent, Cursor, ImportOptions, export, import_file, source_file};

fn copy_tree(from: &Path, to: &Path) {
    for (rel, bytes) in tree(from) {
        if rel.ends_with("manifest.json") {
            continue;
        }
        let target = to.join(&rel);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
}

fn lines_of(path: &Path) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(path).unwrap();
    bytes
        .split_inclusive(|b| *b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

/// A Claude transcript and a line K where the response of line K goes on at line K+1.
fn split_response(root: &Path) -> (PathBuf, usize) {
    for (rel, _) in tree(&root.join("claude")) {
        let path = root.join("claude").join(&rel);
        let lines = lines_of(&path);
        let key = |l: &[u8]| -> Option<(String, String)> {
            let v: serde_json::Value = serde_json::from_slice(l).ok()?;
            if v["type"] != "assistant" {
                return None;
            }
            let id = v["message"]["id"].as_str()?.to_owned();
            Some((id, v["requestId"].as_str()?.to_owned()))
        };
        for k in 1..lines.len().saturating_sub(3) {
            if let (Some(a), Some(b)) = (key(&lines[k - 1]), key(&lines[k]))
                && a == b
            {
                return (path, k);
            }
        }
    }
    panic!("no multi-line response in the tree");
}

fn first_file(dir: &Path, ext: &str) -> PathBuf {
    let rel = tree(dir)
        .into_keys()
        .find(|p| p.extension().is_some_and(|e| e == ext))
        .expect("a file");
    dir.join(rel)
}

/// Cuts `path` to its first `k` lines plus half of the next one (no newline).
fn cut(path: &Path, k: usize) -> usize {
    let lines = lines_of(path);
    let mut bytes: Vec<u8> = lines[..k].concat();
    let next = &lines[k];
    bytes.extend_from_slice(&next[..next.len() / 2]);
    std::fs::write(path, bytes).unwrap();
    lines.len()
}

fn path_line(e: &Event) -> (String, u64) {
    let p = e.payload.to_value();
    (
        p["path"].as_str().unwrap().to_owned(),
        p["line"].as_u64().unwrap(),
    )
}

/// A copy of a generated tree (the generator's folder, its manifest, the copy) and a file
/// of each agent with the line K after which a test cuts it: Claude's in the middle of a
/// response written over several lines, Codex's and Gemini's 10 lines before their end.
fn tree_to_cut() -> (
    tempfile::TempDir,
    serde_json::Value,
    tempfile::TempDir,
    [(PathBuf, usize); 3],
) {
    let dir = generate(&[]);
    let root = dir.path().join("logs");
    let m = manifest(&root);
    let work = tempfile::tempdir().unwrap();
    copy_tree(&root, work.path());
    let claude = split_response(work.path());
    let codex = first_file(&work.path().join("codex"), "jsonl");
    let gemini = first_file(&work.path().join("gemini"), "jsonl");
    let (k_codex, k_gemini) = (lines_of(&codex).len() - 10, lines_of(&gemini).len() - 10);
    (dir, m, work, [claude, (codex, k_codex), (gemini, k_gemini)])
}

#[test]
fn appended_lines_and_partial_tails_are_picked_up_exactly() {
    let (dir, m, work, to_cut) = tree_to_cut();
    let root = dir.path().join("logs");
    let (claude, k_claude) = to_cut[0].clone();
    let mut cuts = Vec::new();
    for (path, k) in to_cut {
        let original = std::fs::read(&path).unwrap();
        let n = cut(&path, k);
        cuts.push((path, k, n, original));
    }

    let (first, report, cursors) = import_tree(work.path(), &HashMap::new());
    let tails: usize = report
        .sources
        .values()
        .map(|r| r.truncated_tails.len())
        .sum();
    assert_eq!(tails, 3, "each cut file reports its partial last line");
    // The continued Claude response got its interim tokens on line K.
    let claude_rel = source_file(Agent::Claude, &claude).unwrap().rel;
    let at_k = first
        .iter()
        .find(|e| path_line(e) == (claude_rel.clone(), k_claude as u64))
        .unwrap();
    assert!(
        at_k.tokens_out.is_some(),
        "line K was the response's last line so far"
    );

    for (path, _, _, original) in &cuts {
        std::fs::write(path, original).unwrap();
    }
    let cursors: HashMap<String, Cursor> =
        cursors.into_iter().map(|c| (c.path.clone(), c)).collect();
    let (second, report, _) = import_tree(work.path(), &cursors);
    let unchanged: u64 = report.sources.values().map(|r| r.files_unchanged).sum();
    assert_eq!(unchanged as usize, cursors.len() - 3);

    // Exactly the appended lines, each once.
    let mut got: Vec<(String, u64)> = second.iter().map(path_line).collect();
    got.sort();
    let mut want = Vec::new();
    for (path, k, n, _) in &cuts {
        let agent = if path.starts_with(work.path().join("claude")) {
            Agent::Claude
        } else if path.starts_with(work.path().join("codex")) {
            Agent::Codex
        } else {
            Agent::Gemini
        };
        let rel = source_file(agent, path).unwrap().rel;
        want.extend((*k as u64 + 1..=*n as u64).map(|l| (rel.clone(), l)));
    }
    want.sort();
    assert_eq!(got, want);
    let codex_lines = second
        .iter()
        .filter(|e| path_line(e).0.starts_with("sessions/"));
    assert_eq!(
        codex_lines.count(),
        10,
        "the 10 lines appended to the rollout"
    );

    // Together: the manifest's figures exactly, and the files back byte for byte.
    let all: Vec<Event> = first.into_iter().chain(second).collect();
    assert_manifest(&all, &m);
    let continued = all
        .iter()
        .filter(|e| e.payload.to_value()["continued"] == true)
        .count();
    assert_eq!(
        continued, 1,
        "the split response's rest is a difference, not a response"
    );
    let out = tempfile::tempdir().unwrap();
    export(all, out.path(), None).unwrap();
    let want = tree(&root);
    let got = tree(out.path());
    for (path, bytes) in want.iter().filter(|(p, _)| !p.ends_with("manifest.json")) {
        assert!(got.get(path) == Some(bytes), "{} differs", path.display());
    }
}

#[test]
fn a_replaced_head_is_read_again_from_the_start() {
    let dir = generate(&[
        "--claude-sessions",
        "2",
        "--codex-sessions",
        "1",
        "--gemini-sessions",
        "1",
    ]);
    let root = dir.path().join("logs");
    let path = first_file(&root.join("codex"), "jsonl");
    let file = source_file(Agent::Codex, &path).unwrap();
    let options = ImportOptions::default();
    let mut n = 0;
    let done = import_file(&file, None, &options, &mut |c| {
        n += c.len();
        Ok(())
    })
    .unwrap();
    assert_eq!(n as u64, done.cursor.lines);
    let mut bytes = std::fs::read(&path).unwrap();
    // Same size, other first timestamp digit: a different file.
    let i = bytes.iter().position(|b| b.is_ascii_digit()).unwrap();
    bytes[i] = if bytes[i] == b'1' { b'2' } else { b'1' };
    bytes.extend_from_slice(
        b"{\"timestamp\":\"2026-10-09T00:00:00.000Z\",\"type\":\"x\",\"payload\":{}}\n",
    );
    std::fs::write(&path, bytes).unwrap();
    let mut again = 0;
    let mut seqs = std::collections::BTreeSet::new();
    let redo = import_file(&file, Some(&done.cursor), &options, &mut |c| {
        again += c.len();
        seqs.extend(c.iter().map(|e| e.seq));
        Ok(())
    })
    .unwrap();
    assert_eq!(redo.report.files_reread, 1);
    assert_eq!(again, n + 1, "every line again, from the start");
    // A new version of the file: its lines are other events, with identities of their own,
    // so a store keeps both versions instead of refusing the new one as a conflict.
    assert_eq!(redo.cursor.generation, 1);
    let mut first = std::collections::BTreeSet::new();
    import_file(&file, None, &options, &mut |c| {
        first.extend(c.iter().map(|e| e.seq));
        Ok(())
    })
    .unwrap();
    assert!(
        seqs.is_disjoint(&first),
        "a rewritten file's lines keep no old identity"
    );
    // Appended to after that: the same version goes on.
    let mut more = std::fs::read(&path).unwrap();
    more.extend_from_slice(
        b"{\"timestamp\":\"2026-10-09T00:00:01.000Z\",\"type\":\"x\",\"payload\":{}}\n",
    );
    std::fs::write(&path, more).unwrap();
    let mut appended = Vec::new();
    let next = import_file(&file, Some(&redo.cursor), &options, &mut |c| {
        appended.extend(c.iter().map(|e| e.seq));
        Ok(())
    })
    .unwrap();
    assert_eq!(next.cursor.generation, 1);
    assert_eq!(appended.len(), 1);
    assert!(!seqs.contains(&appended[0]) && !first.contains(&appended[0]));

    // The file's lines as a first version and as its second (re-read after the rewrite):
    // export writes the latest version.
    let mut events = Vec::new();
    for cursor in [None, Some(&done.cursor)] {
        let mut collect = |c: Vec<Event>| {
            events.extend(c);
            Ok(())
        };
        import_file(&file, cursor, &options, &mut collect).unwrap();
    }
    let out = tempfile::tempdir().unwrap();
    export(events, out.path(), Some(Agent::Codex)).unwrap();
    let exported = std::fs::read(out.path().join(&file.rel)).unwrap();
    assert!(
        exported == std::fs::read(&path).unwrap(),
        "the latest version"
    );
}

#[test]
fn a_fifty_megabyte_line_imports_and_exports() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("projects/-home-u-big");
    std::fs::create_dir_all(&project).unwrap();
    let path = project.join("55555555-5555-5555-5555-555555555555.jsonl");
    let big = "é".repeat(25 << 20);
    let line = format!(
        "{{\"type\":\"user\",\"message\":{{\"role\":\"user\",\"content\":\"{big}\"}},\"uuid\":\"u\",\"timestamp\":\"2026-10-01T00:00:00Z\"}}\n"
    );
    assert!(line.len() > 50 << 20);
    std::fs::write(&path, format!("{line}{line}")).unwrap();
    let file = source_file(Agent::Claude, &path).unwrap();
    let options = ImportOptions {
        chunk_bytes: 1 << 20,
        ..ImportOptions::default()
    };
    let mut chunks = Vec::new();
    let done = import_file(&file, None, &options, &mut |c| {
        chunks.push(c);
        Ok(())
    })
    .unwrap();
    assert_eq!(done.report.events, 2);
    assert_eq!(chunks.len(), 2, "one big event a chunk");
    let out = tempfile::tempdir().unwrap();
    export(
        chunks.into_iter().flatten(),
        out.path(),
        Some(Agent::Claude),
    )
    .unwrap();
    assert!(std::fs::read(out.path().join(&file.rel)).unwrap() == std::fs::read(&path).unwrap());
}

/// Gemini CLI rewrites a `.json` chat whole as it grows (here: tool calls added to the last
/// message, a message appended, `lastUpdated` changed). With the cursor, nothing is emitted
/// twice, the rewritten message is a new version with only what it adds, and export gives
/// the latest document back.
#[test]
fn a_rewritten_gemini_document_adds_versions_not_conflicts() {
    let dir = tempfile::tempdir().unwrap();
    let chats = dir.path().join("tmp/h1/chats");
    std::fs::create_dir_all(&chats).unwrap();
    let path = chats.join("session-2026-10-01T12-00-abcd1234.json");
    let msg = |id: &str, s: u32, calls: usize| {
        let mut m = serde_json::json!({"id": id, "timestamp": format!("2026-10-01T12:00:{s:02}.000Z"),
            "type": "gemini", "content": "x", "model": "gemini-2.5-pro",
            "tokens": {"input": 100, "output": 10, "cached": 40, "thoughts": 5, "tool": 0, "total": 115}});
        if calls > 0 {
            m["toolCalls"] = (0..calls)
                .map(|i| serde_json::json!({"id": format!("t{i}"), "name": "glob", "result": [], "status": "success"}))
                .collect();
        }
        m
    };
    let doc = |msgs: Vec<serde_json::Value>, updated: u32| {
        let d = serde_json::json!({"sessionId": "s-json", "projectHash": "h1",
            "startTime": "2026-10-01T12:00:00.000Z",
            "lastUpdated": format!("2026-10-01T12:00:{updated:02}.000Z"), "messages": msgs});
        serde_json::to_string_pretty(&d).unwrap() + "\n"
    };
    std::fs::write(&path, doc(vec![msg("a", 1, 0), msg("b", 2, 0)], 2)).unwrap();
    let file = source_file(Agent::Gemini, &path).unwrap();
    let options = ImportOptions::default();
    let mut first = Vec::new();
    let done = import_file(&file, None, &options, &mut |c| {
        first.extend(c);
        Ok(())
    })
    .unwrap();
    assert_eq!((done.report.responses, first.len()), (2, 3));

    std::fs::write(
        &path,
        doc(vec![msg("a", 1, 0), msg("b", 2, 2), msg("c", 3, 0)], 3),
    )
    .unwrap();
    let mut second = Vec::new();
    let redo = import_file(&file, Some(&done.cursor), &options, &mut |c| {
        second.extend(c);
        Ok(())
    })
    .unwrap();
    // The new document text, message b's new version, message c; a is not emitted again.
    assert_eq!(second.len(), 3);
    assert_eq!(redo.report.responses, 1, "only c is a new response");
    assert_eq!(
        redo.report.tool_calls, 2,
        "b's version adds its two tool calls"
    );
    assert_eq!(redo.report.input, 60, "b's version adds no tokens");
    let ids: std::collections::HashSet<_> = first.iter().chain(&second).map(|e| e.seq).collect();
    assert_eq!(ids.len(), 6, "every event has its own identity");

    let out = tempfile::tempdir().unwrap();
    export(
        first.into_iter().chain(second),
        out.path(),
        Some(Agent::Gemini),
    )
    .unwrap();
    assert!(std::fs::read(out.path().join(&file.rel)).unwrap() == std::fs::read(&path).unwrap());
}

fn agent_of(root: &Path, path: &Path) -> Agent {
    Agent::AGENTS
        .into_iter()
        .find(|a| path.starts_with(root.join(a.name())))
        .expect("a file of an agent's folder")
}

fn by_path(cursors: Vec<Cursor>) -> HashMap<String, Cursor> {
    cursors.into_iter().map(|c| (c.path.clone(), c)).collect()
}

fn exported(events: &[Event]) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let out = tempfile::tempdir().unwrap();
    export(events.to_vec(), out.path(), None).unwrap();
    tree(out.path())
}

fn logs(root: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut t = tree(root);
    t.retain(|p, _| !p.ends_with("manifest.json"));
    t
}

/// A last line that is a complete record without its `\n` (the agent wrote the line, the
/// newline is to come, or never comes) is imported, as ccusage counts it; export gives the
/// file back without the `\n`. When the `\n` and more lines come, the next import takes
/// exactly the new lines and stores nothing twice, and export gives the grown file back.
#[test]
fn a_complete_last_line_without_newline_is_imported_and_grows_exactly() {
    let (dir, m, work, to_cut) = tree_to_cut();
    let root = dir.path().join("logs");
    // Each file cut after its line K, whose `\n` is left out.
    let mut cuts = Vec::new();
    for (path, k) in to_cut {
        let lines = lines_of(&path);
        let mut bytes = lines[..k].concat();
        assert_eq!(bytes.pop(), Some(b'\n'));
        std::fs::write(&path, &bytes).unwrap();
        let rel = source_file(agent_of(work.path(), &path), &path)
            .unwrap()
            .rel;
        cuts.push((path, rel, k, lines.len(), lines.concat()));
    }

    let (first, report, cursors) = import_tree(work.path(), &HashMap::new());
    let tails: usize = (report.sources.values())
        .map(|r| r.truncated_tails.len())
        .sum();
    assert_eq!(tails, 0, "a complete record is no unfinished line");
    for (_, rel, k, ..) in &cuts {
        let last = (first.iter())
            .find(|e| path_line(e) == (rel.clone(), *k as u64))
            .unwrap_or_else(|| panic!("{rel}: its last line {k} is imported"));
        assert_eq!(last.payload.to_value()["no_newline"], true, "{rel}");
    }
    assert!(
        exported(&first) == logs(work.path()),
        "export without the `\\n`"
    );
    // Counted as the same lines with their `\n` are (ccusage reads them so).
    let ended = tempfile::tempdir().unwrap();
    copy_tree(work.path(), ended.path());
    for (path, ..) in &cuts {
        let target = ended.path().join(path.strip_prefix(work.path()).unwrap());
        let mut bytes = std::fs::read(&target).unwrap();
        bytes.push(b'\n');
        std::fs::write(&target, bytes).unwrap();
    }
    let (terminated, _, _) = import_tree(ended.path(), &HashMap::new());
    assert_eq!(figures(&first), figures(&terminated));

    // Touched, not changed: nothing read, the `\n` still expected.
    for (path, ..) in &cuts {
        let file = std::fs::File::options().write(true).open(path).unwrap();
        file.set_modified(
            std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1 << 30),
        )
        .unwrap();
    }
    let (touched, report, cursors) = import_tree(work.path(), &by_path(cursors));
    assert!(
        touched.is_empty(),
        "{} event(s) from touched files",
        touched.len()
    );
    assert_eq!(
        report.sources.values().map(|r| r.files_reread).sum::<u64>(),
        0
    );

    // The `\n` alone comes: nothing new, nothing read again.
    for (path, ..) in &cuts {
        let mut bytes = std::fs::read(path).unwrap();
        bytes.push(b'\n');
        std::fs::write(path, bytes).unwrap();
    }
    let (newline, report, cursors) = import_tree(work.path(), &by_path(cursors));
    assert_eq!(
        report.sources.values().map(|r| r.files_reread).sum::<u64>(),
        0
    );
    assert_eq!(
        report.sources.values().map(|r| r.lines).sum::<u64>(),
        0,
        "no line"
    );
    // Each `\n` is kept by an event of its own (the line's event is stored, without it).
    let mut ended: Vec<(String, u64)> = newline.iter().map(path_line).collect();
    ended.sort();
    let mut want: Vec<(String, u64)> = cuts
        .iter()
        .map(|(_, rel, k, ..)| (rel.clone(), *k as u64))
        .collect();
    want.sort();
    assert_eq!(ended, want);
    assert!(
        newline
            .iter()
            .all(|e| e.payload.to_value()["newline"] == true)
    );
    let first: Vec<Event> = first.into_iter().chain(newline).collect();
    assert!(
        exported(&first) == logs(work.path()),
        "export with the `\\n`"
    );

    // Then the rest of each file: exactly its new lines.
    for (path, .., original) in &cuts {
        std::fs::write(path, original).unwrap();
    }
    let (second, report, _) = import_tree(work.path(), &by_path(cursors));
    assert_eq!(
        report.sources.values().map(|r| r.files_reread).sum::<u64>(),
        0
    );
    let mut got: Vec<(String, u64)> = second.iter().map(path_line).collect();
    got.sort();
    let mut want: Vec<(String, u64)> = (cuts.iter())
        .flat_map(|(_, rel, k, n, _)| (*k as u64 + 1..=*n as u64).map(|l| (rel.clone(), l)))
        .collect();
    want.sort();
    assert_eq!(got, want);
    let all: Vec<Event> = first.into_iter().chain(second).collect();
    let ids: std::collections::BTreeSet<(&str, u64)> =
        all.iter().map(|e| (e.session_id.as_str(), e.seq)).collect();
    assert_eq!(ids.len(), all.len(), "no identity stored twice");
    assert_manifest(&all, &m);
    assert!(
        exported(&all) == logs(&root),
        "the grown files back byte for byte"
    );
}

/// A last line taken without its `\n` that then goes on (it was not finished after all):
/// the file is not the one imported, so it is read again as a new version, never glued to
/// the stored line.
#[test]
fn a_last_line_that_goes_on_makes_a_new_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir
        .path()
        .join("sessions/2026/10/01/rollout-2026-10-01T11-00-00-0199a000-0000-7000-8000-0000000000aa.jsonl");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let line = |s: u32| {
        format!(
            "{{\"timestamp\":\"2026-10-01T11:00:{s:02}.000Z\",\"type\":\"x\",\"payload\":{{}}}}"
        )
    };
    std::fs::write(&path, format!("{}\n{}", line(1), line(2))).unwrap();
    let file = source_file(Agent::Codex, &path).unwrap();
    let options = ImportOptions::default();
    let mut events = Vec::new();
    let done = import_file(&file, None, &options, &mut |c| {
        events.extend(c);
        Ok(())
    })
    .unwrap();
    assert_eq!(done.report.events, 2);
    std::fs::write(&path, format!("{}\n{}  \n{}\n", line(1), line(2), line(3))).unwrap();
    let again = import_file(&file, Some(&done.cursor), &options, &mut |c| {
        events.extend(c);
        Ok(())
    })
    .unwrap();
    assert_eq!(again.report.files_reread, 1);
    assert_eq!(again.cursor.generation, 1);
    assert_eq!(again.report.events, 3, "every line of the new version");
    let out = tempfile::tempdir().unwrap();
    export(events, out.path(), Some(Agent::Codex)).unwrap();
    assert_eq!(
        std::fs::read(out.path().join(&file.rel)).unwrap(),
        std::fs::read(&path).unwrap()
    );
}
