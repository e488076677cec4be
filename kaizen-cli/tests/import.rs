//! `kaizen import` and `kaizen export` end to end, on agent-log trees written by
//! `shared/tools/gen_agent_logs.py`, whose manifest holds the exact totals to find.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared")
}

fn kaizen(store: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kaizen"))
        .arg("--store")
        .arg(store)
        .args(args)
        .env_remove("KAIZEN_STORE")
        .output()
        .expect("run kaizen")
}

#[track_caller]
fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A generated tree of the three agents' logs, and its manifest.
fn tree(dir: &Path) -> serde_json::Value {
    let out = Command::new("python3")
        .arg(shared().join("tools/gen_agent_logs.py"))
        .args([
            "--claude-sessions",
            "4",
            "--codex-sessions",
            "2",
            "--gemini-sessions",
            "2",
        ])
        .args(["--days", "2", "--seed", "import-test", "--out"])
        .arg(dir)
        .output()
        .expect("python3 gen_agent_logs.py");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.join("manifest.json")).expect("manifest");
    serde_json::from_str(&text).expect("manifest json")
}

/// The token sums the store holds, by column.
fn stored_tokens(store: &Path) -> BTreeMap<String, u64> {
    let query = "SELECT CAST(coalesce(sum(tokens_in), 0) AS BIGINT) AS input, \
                 CAST(coalesce(sum(tokens_out), 0) AS BIGINT) AS output, \
                 CAST(coalesce(sum(cache_read_tokens), 0) AS BIGINT) AS cache_read, \
                 CAST(coalesce(sum(cache_creation_tokens), 0) AS BIGINT) AS cache_creation, \
                 count(*) AS events FROM events";
    let text = ok(kaizen(store, &["sql", query, "--format", "jsonl"]));
    let row: BTreeMap<String, u64> = serde_json::from_str(text.trim()).expect("one row");
    row
}

/// Every file under `dir`, by relative path, with its bytes.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).expect("under dir").to_path_buf();
                out.insert(rel, std::fs::read(&path).expect("read"));
            }
        }
    }
    out
}

/// Import: the manifest's totals exactly, every line an event; again: nothing new;
/// ten lines appended: exactly those; export: every file byte for byte.
#[test]
fn import_counts_every_token_once_resumes_and_exports_byte_for_byte() {
    let dir = tempfile::tempdir().expect("tmp");
    let (logs, store) = (dir.path().join("logs"), dir.path().join("store"));
    let manifest = tree(&logs);
    let logs_arg = logs.to_str().expect("path");

    let first = ok(kaizen(
        &store,
        &["import", "all", logs_arg, "--format", "json"],
    ));
    let first: serde_json::Value = serde_json::from_str(&first).expect("json");
    let sum = |key: &str| -> u64 {
        (manifest["sources"].as_object().expect("sources").values())
            .map(|s| s["totals"][key].as_u64().expect("figure"))
            .sum()
    };
    let stored = stored_tokens(&store);
    for key in ["input", "output", "cache_read", "cache_creation"] {
        assert_eq!(stored[key], sum(key), "{key}: {stored:?}");
    }
    // One event a line of every JSON Lines file (a Gemini `.json` chat is one document:
    // an event a message).
    for source in ["claude", "codex"] {
        let lines = &manifest["sources"][source]["totals"]["lines"];
        assert_eq!(
            &first["report"]["sources"][source]["events"], lines,
            "{source}"
        );
    }
    assert_eq!(first["events_written"], stored["events"]);

    // Again: every file unchanged, nothing written.
    let again = ok(kaizen(
        &store,
        &["import", "all", logs_arg, "--format", "json"],
    ));
    let again: serde_json::Value = serde_json::from_str(&again).expect("json");
    assert_eq!(again["events_written"], 0, "{again}");
    assert_eq!(stored_tokens(&store), stored);

    // A transcript grows by ten lines (copies of its own last line, as a new turn would
    // add lines): exactly those are added.
    let transcript = files(&logs)
        .into_keys()
        .find(|p| p.starts_with("claude/projects") && p.extension().is_some_and(|e| e == "jsonl"))
        .expect("a Claude transcript");
    let path = logs.join(&transcript);
    let text = std::fs::read_to_string(&path).expect("read");
    let last = text.lines().last().expect("a line").to_owned();
    let mut grown = text.clone();
    for _ in 0..10 {
        grown.push_str(&last);
        grown.push('\n');
    }
    std::fs::write(&path, &grown).expect("append");
    let more = ok(kaizen(
        &store,
        &[
            "import",
            "claude",
            logs.join("claude").to_str().expect("path"),
            "--format",
            "json",
        ],
    ));
    let more: serde_json::Value = serde_json::from_str(&more).expect("json");
    assert_eq!(more["events_written"], 10, "{more}");
    assert_eq!(stored_tokens(&store)["events"], stored["events"] + 10);

    // Export each agent; the tree comes back byte for byte.
    let out = dir.path().join("out");
    for agent in ["claude", "codex", "gemini"] {
        let target = out.join(agent);
        ok(kaizen(
            &store,
            &["export", agent, "--out", target.to_str().expect("path")],
        ));
    }
    let mut want = files(&logs);
    want.remove(Path::new("manifest.json"));
    assert_eq!(files(&out), want, "export gives back every file");
}

/// Bad input: a line that is not JSON in the middle of a transcript is named by file and
/// line, and nothing is written (cursors included); a PATH that holds no agent's folders is
/// refused with what to do.
#[test]
fn a_broken_line_is_named_and_nothing_is_written() {
    let dir = tempfile::tempdir().expect("tmp");
    let (logs, store) = (dir.path().join("logs"), dir.path().join("store"));
    tree(&logs);
    let transcript = files(&logs)
        .into_keys()
        .find(|p| p.starts_with("claude/projects") && p.extension().is_some_and(|e| e == "jsonl"))
        .expect("a Claude transcript");
    let path = logs.join(&transcript);
    let text = std::fs::read_to_string(&path).expect("read");
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(2, "{not json");
    std::fs::write(&path, lines.join("\n") + "\n").expect("write");

    let out = kaizen(&store, &["import", "all", logs.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let name = transcript
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert!(err.contains(&format!("{name}:3")), "{err}");
    assert!(err.contains("nothing of this import was written"), "{err}");
    assert!(
        !store.join("cold").exists() && !store.join("state").exists(),
        "nothing written"
    );

    let out = kaizen(
        &store,
        &["import", "all", dir.path().to_str().expect("path")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("name the agent"));
}
