//! Shared by the integration tests: generating agent-log trees, importing them, and
//! summing the imported events the way the generator's manifest does.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use kaizen_core::{Event, UtcDay};
use kaizen_import::{Agent, Cursor, ImportOptions, Report, SourceFile, discover, import_files};
use serde::Deserialize;

pub const GENERATOR: &str = "/work/shared/tools/gen_agent_logs.py";

/// The figures of the manifest, in its order.
pub const FIELDS: [&str; 13] = [
    "responses",
    "input",
    "output",
    "reasoning",
    "cache_creation",
    "cache_creation_5m",
    "cache_creation_1h",
    "cache_read",
    "total_tokens",
    "tool_calls",
    "tool_results",
    "tool_errors",
    "api_errors",
];

pub fn generator() -> PathBuf {
    std::env::var_os("KAIZEN_GEN_AGENT_LOGS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(GENERATOR))
}

/// Writes a generated tree into a new temporary folder.
pub fn generate(args: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("logs");
    let status = Command::new("python3")
        .arg(generator())
        .arg("--out")
        .arg(&out)
        .args(args)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 runs the generator");
    assert!(status.success(), "generator failed");
    dir
}

pub fn manifest(root: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(root.join("manifest.json")).expect("manifest");
    serde_json::from_str(&text).expect("manifest JSON")
}

pub fn agent_dir(root: &Path, agent: Agent) -> PathBuf {
    root.join(agent.name())
}

pub fn files_of(root: &Path) -> Vec<SourceFile> {
    let mut files = Vec::new();
    for agent in Agent::AGENTS {
        files.extend(discover(agent, &[agent_dir(root, agent)]).expect("discover"));
    }
    files
}

/// Imports every agent's files under a generated tree; all events in memory.
pub fn import_tree(
    root: &Path,
    cursors: &HashMap<String, Cursor>,
) -> (Vec<Event>, Report, Vec<Cursor>) {
    let files = files_of(root);
    let mut events = Vec::new();
    let (report, cursors) =
        import_files(&files, cursors, &ImportOptions::default(), &mut |chunk| {
            events.extend(chunk);
            Ok(())
        })
        .expect("import");
    (events, report, cursors)
}

#[derive(Deserialize, Default)]
struct Derived {
    agent: Option<String>,
    model: Option<String>,
    #[serde(default)]
    response: bool,
    #[serde(default)]
    cache_creation_5m: u64,
    #[serde(default)]
    cache_creation_1h: u64,
    #[serde(default)]
    tool_calls: u64,
    #[serde(default)]
    tool_results: u64,
    #[serde(default)]
    tool_errors: u64,
    #[serde(default)]
    api_errors: u64,
}

pub type Cells = BTreeMap<(String, String, String), BTreeMap<&'static str, i64>>;

/// Sums events per (source, UTC day, model) as the manifest does.
pub fn figures(events: &[Event]) -> Cells {
    let mut cells: Cells = BTreeMap::new();
    for e in events {
        let d: Derived = serde_json::from_str(e.payload.as_json_text()).unwrap_or_default();
        let counts = d.response
            || e.tokens_in.is_some()
            || d.tool_calls + d.tool_results + d.tool_errors + d.api_errors > 0;
        if !counts {
            continue;
        }
        let day = UtcDay::of_ts_ms(e.ts_ms).expect("day").to_string();
        let key = (
            d.agent.unwrap_or_default(),
            day,
            d.model.unwrap_or_else(|| "<none>".into()),
        );
        let c = cells.entry(key).or_default();
        let n = |v: Option<u32>| i64::from(v.unwrap_or(0));
        let cc = n(e.cache_creation_tokens);
        let mut add = |k: &'static str, v: i64| *c.entry(k).or_default() += v;
        add("responses", i64::from(d.response));
        add("input", n(e.tokens_in));
        add("output", n(e.tokens_out));
        add("reasoning", n(e.reasoning_tokens));
        add("cache_creation", cc);
        add("cache_creation_5m", d.cache_creation_5m as i64);
        add("cache_creation_1h", d.cache_creation_1h as i64);
        add("cache_read", n(e.cache_read_tokens));
        add(
            "total_tokens",
            n(e.tokens_in) + n(e.tokens_out) + cc + n(e.cache_read_tokens),
        );
        add("tool_calls", d.tool_calls as i64);
        add("tool_results", d.tool_results as i64);
        add("tool_errors", d.tool_errors as i64);
        add("api_errors", d.api_errors as i64);
    }
    cells
}

/// The manifest's cells per (source, day, model).
pub fn manifest_cells(m: &serde_json::Value) -> Cells {
    let mut cells: Cells = BTreeMap::new();
    for (source, s) in m["sources"].as_object().expect("sources") {
        for (day, d) in s["by_day"].as_object().expect("by_day") {
            for (model, f) in d["by_model"].as_object().expect("by_model") {
                let c = cells
                    .entry((source.clone(), day.clone(), model.clone()))
                    .or_default();
                for k in FIELDS {
                    c.insert(k, f[k].as_i64().expect("figure"));
                }
            }
        }
    }
    cells
}

/// Asserts that the imported figures equal the manifest's, per source, day and model.
pub fn assert_manifest(events: &[Event], m: &serde_json::Value) {
    let ours = figures(events);
    let theirs = manifest_cells(m);
    let mut diffs = Vec::new();
    for (key, want) in &theirs {
        let got = ours.get(key);
        for (k, v) in want {
            let g = got.and_then(|g| g.get(k)).copied().unwrap_or(0);
            if g != *v {
                diffs.push(format!("{key:?} {k}: imported {g}, manifest {v}"));
            }
        }
    }
    for (key, got) in &ours {
        if !theirs.contains_key(key) && got.values().any(|v| *v != 0) {
            diffs.push(format!("{key:?}: imported {got:?}, not in the manifest"));
        }
    }
    assert!(
        diffs.is_empty(),
        "{} difference(s):\n{}",
        diffs.len(),
        diffs[..diffs.len().min(30)].join("\n")
    );
}

/// Every file under `dir`, relative path → bytes.
pub fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let rel = path.strip_prefix(base).expect("under base").to_owned();
                out.insert(rel, std::fs::read(&path).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}
