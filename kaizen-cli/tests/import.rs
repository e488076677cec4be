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

/// Upstream kaizen's database (`projects/<slug>/kaizen.db`) with two sessions of different
/// agents and models, `per_session` events each, made with rusqlite. Times are the last
/// hour, so the report's window holds them.
fn kaizen_db(root: &Path, slug: &str, per_session: i64) -> PathBuf {
    let path = root.join("projects").join(slug).join("kaizen.db");
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let conn = rusqlite::Connection::open(&path).expect("open");
    conn.pragma_update(None, "journal_mode", "WAL")
        .expect("wal");
    conn.execute_batch(
        "CREATE TABLE sessions (id TEXT PRIMARY KEY, agent TEXT, model TEXT, workspace TEXT);
         CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT,
           session_id TEXT NOT NULL, seq INTEGER NOT NULL, ts_ms INTEGER NOT NULL,
           ts_exact INTEGER NOT NULL, kind TEXT NOT NULL, source TEXT NOT NULL, tool TEXT,
           tool_call_id TEXT, tokens_in INTEGER, tokens_out INTEGER, reasoning_tokens INTEGER,
           cost_usd_e6 INTEGER, payload TEXT NOT NULL, stop_reason TEXT, latency_ms INTEGER,
           ttft_ms INTEGER, retry_count INTEGER, context_used_tokens INTEGER,
           context_max_tokens INTEGER, cache_creation_tokens INTEGER,
           cache_read_tokens INTEGER, system_prompt_tokens INTEGER);
         INSERT INTO sessions VALUES ('s-claude', 'claude', 'claude-sonnet-4-5', '/w/app'),
                                     ('s-codex', 'codex', 'gpt-5', '/w/lib');",
    )
    .expect("schema");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    for (session, tokens) in [("s-claude", 100), ("s-codex", 10)] {
        for seq in 1..=per_session {
            conn.execute(
                "INSERT INTO events (session_id, seq, ts_ms, ts_exact, kind, source, tokens_in,
                   tokens_out, cost_usd_e6, payload)
                 VALUES (?1, ?2, ?3, 1, 'Message', 'Proxy', ?4, 1, 1000, '{\"text\": \"hi\"}')",
                rusqlite::params![session, seq, now - 3_600_000 + seq, tokens],
            )
            .expect("insert");
        }
    }
    path
}

/// `kaizen import kaizen-db`: a database into a folder store, attributed by model (from
/// its sessions table); a rerun adds nothing; new rows are exactly what the next adds; a
/// folder of projects is found; the database is left as it was.
#[test]
fn upstream_kaizen_databases_import_once_with_their_models() {
    let dir = tempfile::tempdir().expect("tmp");
    let (home, store) = (dir.path().join("kaizen"), dir.path().join("store"));
    let db = kaizen_db(&home, "-w-app", 3);
    let db_arg = db.to_str().expect("path");
    let db_before = std::fs::read(&db).expect("db");

    let first = ok(kaizen(
        &store,
        &["import", "kaizen-db", db_arg, "--format", "json"],
    ));
    let first: serde_json::Value = serde_json::from_str(&first).expect("json");
    assert_eq!(first["events_written"], 6, "{first}");
    assert_eq!(first["report"]["sources"]["kaizen-db"]["files"], 1);
    assert_eq!(first["report"]["sources"]["kaizen-db"]["input"], 330);
    assert_eq!(std::fs::read(&db).expect("db"), db_before, "read-only");

    let by_model = ok(kaizen(
        &store,
        &["report", "--by", "model", "--format", "json"],
    ));
    let rows: Vec<serde_json::Value> = (by_model.lines())
        .map(|l| serde_json::from_str(l).expect("json row"))
        .collect();
    let figures: BTreeMap<String, (i64, i64)> = (rows.iter())
        .map(|r| {
            let key = r["key"].as_str().expect("key").to_owned();
            let events = r["events"].as_i64().expect("events");
            (key, (events, r["tokens_in"].as_i64().expect("tokens")))
        })
        .collect();
    let want = BTreeMap::from([
        ("claude-sonnet-4-5".to_owned(), (3, 300)),
        ("gpt-5".to_owned(), (3, 30)),
    ]);
    assert_eq!(figures, want, "{by_model}");
    let query = "SELECT json_get_text(payload, 'agent') AS agent, \
                 json_get_text(payload, 'project') AS project, count(*) AS n \
                 FROM events GROUP BY 1, 2 ORDER BY 1";
    let text = ok(kaizen(&store, &["sql", query, "--format", "jsonl"]));
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            r#"{"agent":"claude","project":"/w/app","n":3}"#,
            r#"{"agent":"codex","project":"/w/lib","n":3}"#
        ]
    );

    // Again: nothing new. Then two rows more: exactly those, found through the folder.
    let again = ok(kaizen(
        &store,
        &["import", "kaizen-db", db_arg, "--format", "json"],
    ));
    let again: serde_json::Value = serde_json::from_str(&again).expect("json");
    assert_eq!(again["events_written"], 0, "{again}");
    let conn = rusqlite::Connection::open(&db).expect("open");
    conn.execute_batch(
        "INSERT INTO events (session_id, seq, ts_ms, ts_exact, kind, source, payload)
         SELECT session_id, seq + 100, ts_ms, ts_exact, kind, source, payload
         FROM events WHERE seq = 1",
    )
    .expect("insert");
    drop(conn);
    let home_arg = home.to_str().expect("path");
    let dry = ok(kaizen(
        &store,
        &[
            "import",
            "kaizen-db",
            home_arg,
            "--dry-run",
            "--format",
            "json",
        ],
    ));
    let dry: serde_json::Value = serde_json::from_str(&dry).expect("json");
    assert_eq!(dry["report"]["sources"]["kaizen-db"]["events"], 2, "{dry}");
    let more = ok(kaizen(
        &store,
        &["import", "kaizen-db", home_arg, "--format", "json"],
    ));
    let more: serde_json::Value = serde_json::from_str(&more).expect("json");
    assert_eq!(more["events_written"], 2, "{more}");
    assert_eq!(stored_tokens(&store)["events"], 8);

    // `import all` reads a copy of ~/.kaizen laid out as `kaizen/` beside the agents'
    // roots; the database copied under another project name is read whole (a cursor of its
    // own) and its events, stored already, are not stored twice.
    let copy = dir.path().join("backup/kaizen/projects/copy/kaizen.db");
    std::fs::create_dir_all(copy.parent().expect("parent")).expect("mkdir");
    std::fs::copy(&db, &copy).expect("copy");
    let trees = dir.path().join("backup");
    let all = ok(kaizen(
        &store,
        &[
            "import",
            "all",
            trees.to_str().expect("path"),
            "--format",
            "json",
        ],
    ));
    let all: serde_json::Value = serde_json::from_str(&all).expect("json");
    assert_eq!(all["report"]["sources"]["kaizen-db"]["events"], 8, "{all}");
    assert_eq!(all["events_written"], 0, "{all}");
    assert_eq!(stored_tokens(&store)["events"], 8);
}
