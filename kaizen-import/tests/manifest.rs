//! Generated trees (gen_agent_logs.py): the imported figures equal the manifest per source,
//! day and model; import → export is byte-identical; a rerun from the cursors reads nothing.

mod common;

use std::collections::HashMap;

use common::*;
use kaizen_import::{Agent, export};

fn check_tree(args: &[&str]) {
    let dir = generate(args);
    let root = dir.path().join("logs");
    let m = manifest(&root);
    let (events, report, cursors) = import_tree(&root, &HashMap::new());
    assert_manifest(&events, &m);

    for agent in Agent::AGENTS {
        let r = &report.sources[agent.name()];
        let t = &m["sources"][agent.name()]["totals"];
        assert_eq!(r.files, t["files"].as_u64().unwrap(), "{agent} files");
        assert_eq!(r.lines, t["lines"].as_u64().unwrap(), "{agent} lines");
        assert_eq!(r.bytes, t["bytes"].as_u64().unwrap(), "{agent} bytes");
        assert_eq!(
            r.sessions.len() as u64,
            t["sessions"].as_u64().unwrap(),
            "{agent} sessions"
        );
        assert_eq!(
            r.responses,
            t["responses"].as_u64().unwrap(),
            "{agent} responses"
        );
        assert_eq!(r.input, t["input"].as_u64().unwrap(), "{agent} input");
        assert_eq!(r.output, t["output"].as_u64().unwrap(), "{agent} output");
        assert_eq!(
            r.cache_read,
            t["cache_read"].as_u64().unwrap(),
            "{agent} cache_read"
        );
        assert_eq!(r.lines_skipped, 0);
        assert!(r.truncated_tails.is_empty());
        let priced = r.unpriced_models.keys().all(|m| m == "<synthetic>");
        assert!(priced, "{agent}: {:?}", r.unpriced_models);
    }
    // Every event is valid for the store and its identity unique.
    let mut ids = std::collections::HashSet::new();
    for e in &events {
        e.validate().unwrap();
        assert!(
            ids.insert((e.session_id.clone(), e.seq)),
            "{} {}",
            e.session_id,
            e.seq
        );
    }

    // Import → export: every file back, byte for byte.
    let out = tempfile::tempdir().unwrap();
    let written = export(events.clone(), out.path(), None).unwrap();
    assert_eq!(written.events_skipped, 0);
    let want = tree(&root);
    let got = tree(out.path());
    let want: Vec<_> = want
        .iter()
        .filter(|(p, _)| !p.ends_with("manifest.json"))
        .collect();
    assert_eq!(got.len(), want.len(), "files exported");
    for (path, bytes) in want {
        assert!(got.get(path) == Some(bytes), "{} differs", path.display());
    }

    // The same files again, from scratch: the same events (so the store stores nothing twice).
    let (again, _, _) = import_tree(&root, &HashMap::new());
    assert!(
        again == events,
        "a second import from scratch gives other events"
    );

    // The same files copied to another machine (another root): the same events.
    let elsewhere = tempfile::tempdir().unwrap();
    for (rel, bytes) in tree(&root) {
        let target = elsewhere.path().join("copy").join(&rel);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
    let (copied, _, _) = import_tree(&elsewhere.path().join("copy"), &HashMap::new());
    assert!(copied == events, "a copy of the files gives other events");

    // From the cursors: nothing read.
    let cursors: HashMap<_, _> = cursors.into_iter().map(|c| (c.path.clone(), c)).collect();
    let (none, report, _) = import_tree(&root, &cursors);
    assert!(
        none.is_empty(),
        "{} events from unchanged files",
        none.len()
    );
    let unchanged: u64 = report.sources.values().map(|r| r.files_unchanged).sum();
    assert_eq!(unchanged as usize, cursors.len());
}

#[test]
fn default_tree_equals_the_manifest() {
    check_tree(&[]);
}

#[test]
fn second_seed_with_resumed_sessions_equals_the_manifest() {
    let dir = generate(&["--seed", "3", "--claude-sessions", "40"]);
    let m = manifest(&dir.path().join("logs"));
    assert!(
        m["sources"]["claude"]["totals"]["resume_copies"]
            .as_u64()
            .unwrap()
            > 0
    );
    drop(dir);
    check_tree(&["--seed", "3", "--claude-sessions", "40"]);
}
