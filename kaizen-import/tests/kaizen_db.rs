//! Upstream kaizen's SQLite databases: one event per row, read-only, incremental, beside a
//! live writer in WAL mode. Fixtures are made here with rusqlite: the schema, then rows.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use kaizen_core::{Event, EventKind, EventSource, Payload};
use kaizen_import::{Agent, Cursor, FileImport, ImportOptions, import_file, source_file};
use rusqlite::{Connection, params};

/// Upstream's tables as the import expects them: sessions keyed by `id`, events with the
/// 22 fields and an `id`.
const SCHEMA: &str = "
CREATE TABLE sessions (
  id TEXT PRIMARY KEY, agent TEXT, model TEXT, workspace TEXT, started_at_ms INTEGER
);
CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id TEXT NOT NULL, seq INTEGER NOT NULL, ts_ms INTEGER NOT NULL,
  ts_exact INTEGER NOT NULL, kind TEXT NOT NULL, source TEXT NOT NULL,
  tool TEXT, tool_call_id TEXT, tokens_in INTEGER, tokens_out INTEGER,
  reasoning_tokens INTEGER, cost_usd_e6 INTEGER, payload TEXT NOT NULL, stop_reason TEXT,
  latency_ms INTEGER, ttft_ms INTEGER, retry_count INTEGER, context_used_tokens INTEGER,
  context_max_tokens INTEGER, cache_creation_tokens INTEGER, cache_read_tokens INTEGER,
  system_prompt_tokens INTEGER,
  UNIQUE (session_id, seq)
);
";

const T0: u64 = 1_790_846_102_123; // 2026-10-01T09:15:02.123Z

/// `projects/<slug>/kaizen.db` in a new temporary folder, with the schema, in WAL mode.
fn new_db(dir: &Path, slug: &str, schema: &str) -> PathBuf {
    let path = dir.join("projects").join(slug).join("kaizen.db");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.execute_batch(schema).unwrap();
    path
}

fn session(conn: &Connection, id: &str, agent: &str, model: &str, workspace: &str) {
    conn.execute(
        "INSERT INTO sessions (id, agent, model, workspace) VALUES (?1, ?2, ?3, ?4)",
        params![id, agent, model, workspace],
    )
    .unwrap();
}

/// Inserts `e` as upstream stores it, with the payload text `payload`.
fn insert(conn: &Connection, e: &Event, payload: &str) {
    conn.execute(
        "INSERT INTO events (session_id, seq, ts_ms, ts_exact, kind, source, tool, tool_call_id,
           tokens_in, tokens_out, reasoning_tokens, cost_usd_e6, payload, stop_reason,
           latency_ms, ttft_ms, retry_count, context_used_tokens, context_max_tokens,
           cache_creation_tokens, cache_read_tokens, system_prompt_tokens)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                 ?18, ?19, ?20, ?21, ?22)",
        params![
            e.session_id,
            e.seq as i64,
            e.ts_ms as i64,
            e.ts_exact,
            e.kind.name(),
            e.source.name(),
            e.tool,
            e.tool_call_id,
            e.tokens_in,
            e.tokens_out,
            e.reasoning_tokens,
            e.cost_usd_e6,
            payload,
            e.stop_reason,
            e.latency_ms,
            e.ttft_ms,
            e.retry_count,
            e.context_used_tokens,
            e.context_max_tokens,
            e.cache_creation_tokens,
            e.cache_read_tokens,
            e.system_prompt_tokens,
        ],
    )
    .unwrap();
}

/// An event with every optional field set (a credit: negative cost).
fn full(session: &str, seq: u64) -> Event {
    let mut e = Event::new(
        session,
        seq,
        T0 + seq,
        EventKind::ToolCall,
        EventSource::Proxy,
    );
    e.ts_exact = false;
    e.tool = Some("Bash".into());
    e.tool_call_id = Some("toolu_01".into());
    e.tokens_in = Some(u32::MAX);
    e.tokens_out = Some(42);
    e.reasoning_tokens = Some(7);
    e.cost_usd_e6 = Some(-1_250_000);
    e.stop_reason = Some("tool_use".into());
    e.latency_ms = Some(1500);
    e.ttft_ms = Some(320);
    e.retry_count = Some(u16::MAX);
    e.context_used_tokens = Some(120_000);
    e.context_max_tokens = Some(200_000);
    e.cache_creation_tokens = Some(900);
    e.cache_read_tokens = Some(15_000);
    e.system_prompt_tokens = Some(3_000);
    e
}

/// An event with every optional field NULL.
fn bare(session: &str, seq: u64) -> Event {
    Event::new(
        session,
        seq,
        T0 + seq,
        EventKind::Message,
        EventSource::Tail,
    )
}

fn import(path: &Path, cursor: Option<&Cursor>, skip_invalid: bool) -> (FileImport, Vec<Event>) {
    try_import(path, cursor, skip_invalid).unwrap_or_else(|e| panic!("import: {e}"))
}

fn try_import(
    path: &Path,
    cursor: Option<&Cursor>,
    skip_invalid: bool,
) -> kaizen_import::Result<(FileImport, Vec<Event>)> {
    let file = source_file(Agent::KaizenDb, path).unwrap();
    let options = ImportOptions {
        skip_invalid,
        chunk_events: 2,
        ..ImportOptions::default()
    };
    let mut events = Vec::new();
    let done = import_file(&file, cursor, &options, &mut |chunk| {
        events.extend(chunk);
        Ok(())
    })?;
    Ok((done, events))
}

fn payload(e: &Event) -> serde_json::Value {
    e.payload.to_value()
}

/// The exact text of the wrapper's `record`.
fn record_text(e: &Event) -> String {
    #[derive(serde::Deserialize)]
    struct W<'a> {
        #[serde(borrow)]
        record: &'a serde_json::value::RawValue,
    }
    let w: W = serde_json::from_str(e.payload.as_json_text()).unwrap();
    w.record.get().to_owned()
}

fn ids(events: &[Event]) -> Vec<(String, u64)> {
    events
        .iter()
        .map(|e| (e.session_id.clone(), e.seq))
        .collect()
}

#[test]
fn every_field_maps_one_to_one_with_model_agent_and_project_from_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let path = new_db(dir.path(), "-home-u-app", SCHEMA);
    let conn = Connection::open(&path).unwrap();
    session(&conn, "s1", "claude", "claude-sonnet-4-5", "/home/u/app");
    let rows = [
        (full("s1", 1), r#"{"b": 1,  "a":[1.50, "é", {"x":null}]}"#),
        (bare("s1", 2), "null"),
        (bare("s-none", 9), r#""just text""#),
    ];
    for (e, p) in &rows {
        insert(&conn, e, p);
    }
    drop(conn); // closed cleanly: read as immutable, nothing beside it

    let (done, events) = import(&path, None, false);
    assert_eq!(events.len(), 3);
    for ((want, text), got) in rows.iter().zip(&events) {
        // Every typed field equal; the payload is the wrapper around the exact text.
        let mut got_fields = got.clone();
        got_fields.payload = Payload::null();
        assert_eq!(&got_fields, want);
        assert_eq!(record_text(got), *text);
    }
    let p = payload(&events[0]);
    assert_eq!(p["import"], "kaizen-db");
    assert_eq!(p["agent"], "claude");
    assert_eq!(p["model"], "claude-sonnet-4-5");
    assert_eq!(p["project"], "/home/u/app");
    assert!(
        p.get("path").is_none(),
        "export must leave these events alone"
    );
    // A session missing from `sessions`: no attributes, nothing invented.
    let p = payload(&events[2]);
    assert!(p.get("model").is_none() && p.get("agent").is_none() && p.get("project").is_none());

    let r = &done.report;
    assert_eq!((r.files, r.lines, r.events, r.sessions.len()), (1, 3, 3, 2));
    assert_eq!(
        (r.responses, r.input, r.output),
        (1, u64::from(u32::MAX), 42)
    );
    assert_eq!(
        (r.cache_read, r.cache_creation(), r.reasoning),
        (15_000, 900, 7)
    );
    assert_eq!(
        (r.cost_usd_e6, r.cost_reported, r.tool_calls),
        (-1_250_000, 1, 1)
    );
    assert_eq!(done.cursor.agent, Agent::KaizenDb);
    assert_eq!(done.cursor.path, "projects/-home-u-app/kaizen.db");
    // Read-only: nothing was created beside the database.
    let mut names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["kaizen.db"]);
}

#[test]
fn a_closed_database_is_read_without_creating_anything_whatever_its_name() {
    let dir = tempfile::tempdir().unwrap();
    // URI characters in the folder name must name this file, not parameters.
    let path = new_db(dir.path(), "a b?mode=rw#x%41", SCHEMA);
    let conn = Connection::open(&path).unwrap();
    insert(&conn, &bare("s1", 1), "{}");
    drop(conn);
    // A -shm left without its -wal (a crash between SQLite's two deletions): still no
    // connection, still nothing to create.
    let folder = path.parent().unwrap();
    std::fs::write(folder.join("kaizen.db-shm"), b"").unwrap();
    let (done, events) = import(&path, None, false);
    assert_eq!(events.len(), 1);
    assert_eq!(done.cursor.path, "projects/a b?mode=rw#x%41/kaizen.db");
    let mut names: Vec<_> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["kaizen.db", "kaizen.db-shm"]);
}

#[test]
fn a_closed_database_written_while_it_is_read_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = new_db(dir.path(), "p", SCHEMA);
    let conn = Connection::open(&path).unwrap();
    for seq in 1..=4 {
        insert(&conn, &bare("s1", seq), "{}");
    }
    drop(conn); // no -wal: read as immutable
    // A writer opens it in the middle of the read (the sink's first chunk), adds a row and
    // closes, checkpointing into the file the import is reading.
    let file = source_file(Agent::KaizenDb, &path).unwrap();
    let options = ImportOptions {
        chunk_events: 2,
        ..ImportOptions::default()
    };
    let mut written = false;
    let result = import_file(&file, None, &options, &mut |_| {
        if !written {
            written = true;
            let conn = Connection::open(&path).unwrap();
            insert(&conn, &bare("s2", 1), "{}");
        }
        Ok(())
    });
    let err = result.unwrap_err().to_string();
    assert!(err.contains("changed while it was read"), "{err}");
}

#[test]
fn sessions_keyed_by_session_id_with_optional_columns() {
    let dir = tempfile::tempdir().unwrap();
    let schema = SCHEMA.replace(
        "id TEXT PRIMARY KEY, agent TEXT, model TEXT, workspace TEXT, started_at_ms INTEGER",
        "id INTEGER PRIMARY KEY, session_id TEXT UNIQUE, model TEXT",
    );
    let path = new_db(dir.path(), "p", &schema);
    let conn = Connection::open(&path).unwrap();
    conn.execute(
        "INSERT INTO sessions (session_id, model) VALUES ('s1', 'gpt-5')",
        [],
    )
    .unwrap();
    insert(&conn, &bare("s1", 1), "{}");
    drop(conn);
    let (_, events) = import(&path, None, false);
    let p = payload(&events[0]);
    assert_eq!(p["model"], "gpt-5");
    assert!(p.get("agent").is_none() && p.get("project").is_none());
}

#[test]
fn a_rerun_adds_nothing_and_new_rows_are_exactly_what_the_next_import_adds() {
    let dir = tempfile::tempdir().unwrap();
    let path = new_db(dir.path(), "p", SCHEMA);
    let conn = Connection::open(&path).unwrap();
    for seq in 1..=4 {
        insert(&conn, &bare("s1", seq), "{}");
    }
    let (first, events) = import(&path, None, false);
    assert_eq!(events.len(), 4);

    let (again, events) = import(&path, Some(&first.cursor), false);
    assert!(events.is_empty());
    assert_eq!(again.report.files_unchanged, 1);
    assert_eq!(again.cursor, first.cursor);

    for seq in 5..=7 {
        insert(&conn, &full("s2", seq), "[]");
    }
    let (next, events) = import(&path, Some(&again.cursor), false);
    assert_eq!(
        ids(&events),
        [("s2".into(), 5), ("s2".into(), 6), ("s2".into(), 7)]
    );
    assert_eq!((next.report.lines, next.report.files_reread), (3, 0));
    assert_eq!(next.cursor.lines, 7);

    // The last rows deleted and their ids reused: the cursor's row holds another event,
    // so the database is read again from its start (the store keeps each event once).
    conn.execute("DELETE FROM events WHERE id >= 6", [])
        .unwrap();
    insert(&conn, &bare("s3", 1), "{}");
    let (reread, events) = import(&path, Some(&next.cursor), false);
    assert_eq!(reread.report.files_reread, 1);
    assert_eq!(events.len(), 6);
    assert_eq!(events.last().map(|e| e.session_id.as_str()), Some("s3"));
}

#[test]
fn a_missing_or_mistyped_column_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            SCHEMA.replace("ttft_ms INTEGER, ", ""),
            "table events, column ttft_ms: missing",
        ),
        (
            SCHEMA.replace("tokens_in INTEGER", "tokens_in TEXT"),
            "table events, column tokens_in: declared TEXT, expected an integer type",
        ),
        (
            SCHEMA.replace("kind TEXT NOT NULL", "kind INTEGER NOT NULL"),
            "table events, column kind: declared INTEGER, expected text",
        ),
        (
            SCHEMA.replace("id TEXT PRIMARY KEY,", "sid TEXT PRIMARY KEY,"),
            "table sessions, column id: missing",
        ),
        (
            SCHEMA.replace("CREATE TABLE sessions", "CREATE TABLE sessionz"),
            "table sessions: no such table",
        ),
    ];
    for (i, (schema, want)) in cases.iter().enumerate() {
        let path = new_db(dir.path(), &format!("case{i}"), schema);
        let err = try_import(&path, None, false).unwrap_err().to_string();
        assert!(err.starts_with(&path.display().to_string()), "{err}");
        assert!(err.contains(want), "{err}\nwanted: {want}");
    }
}

#[test]
fn a_bad_row_names_its_id_and_column_or_is_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = new_db(dir.path(), "p", SCHEMA);
    let conn = Connection::open(&path).unwrap();
    insert(&conn, &bare("s1", 1), "{}");
    insert(&conn, &bare("s1", 2), "{}");
    insert(&conn, &bare("s1", 3), "{}");
    conn.execute("UPDATE events SET kind = 'Bogus' WHERE id = 2", [])
        .unwrap();
    let err = try_import(&path, None, false).unwrap_err().to_string();
    let want = format!(
        "{}: table events, row id 2, column kind: unknown kind \"Bogus\"",
        path.display()
    );
    assert_eq!(err, want);

    let (done, events) = import(&path, None, true);
    assert_eq!(ids(&events), [("s1".into(), 1), ("s1".into(), 3)]);
    assert_eq!(done.report.lines_skipped, 1);
    // Left out, not kept as text: the summary must not say it was kept.
    assert_eq!(done.report.left_out, std::slice::from_ref(&want));
    assert!(done.report.skipped.is_empty());
    assert_eq!(done.report.remarks(), [format!("left out: {want}")]);

    // Out of range, another SQLite type, NULL where required, a payload that is not JSON.
    let cases = [
        (
            "tokens_in = 4294967296",
            "column tokens_in: 4294967296 is out of range",
        ),
        ("seq = -1", "column seq: -1 is out of range"),
        ("ts_exact = 2", "column ts_exact: 2 is out of range 0..=1"),
        (
            "latency_ms = 1.5",
            "column latency_ms: the real 1.5, expected an integer",
        ),
        (
            "tool = x'07'",
            "column tool: a blob of 1 bytes, expected text",
        ),
        ("source = 'tail'", "column source: unknown source \"tail\""),
        ("payload = '{\"a\":'", "column payload: not JSON"),
        (
            "ts_ms = 253402300800000",
            "column ts_ms: 253402300800000 is out of range",
        ),
    ];
    for (set, want) in cases {
        conn.execute(
            &format!("UPDATE events SET kind = 'Message', {set} WHERE id = 2"),
            [],
        )
        .unwrap();
        let err = try_import(&path, None, false).unwrap_err().to_string();
        assert!(err.contains(&format!("row id 2, {want}")), "{set}: {err}");
        conn.execute(
            "UPDATE events SET tokens_in = NULL, seq = 2, ts_exact = 1, latency_ms = NULL,
               tool = NULL, source = 'Tail', payload = '{}', ts_ms = ?1 WHERE id = 2",
            [T0 as i64],
        )
        .unwrap();
    }
    assert_eq!(import(&path, None, false).1.len(), 3);
}

// ---- A live writer in another process -------------------------------------------------

/// The variable that turns the `writer_process` test into the writer of the WAL test.
const WRITER_ENV: &str = "KAIZEN_DB_TEST_WRITER";
/// The writer's journal mode (`WAL` when unset).
const JOURNAL_ENV: &str = "KAIZEN_DB_TEST_JOURNAL";

/// Not a test of its own: the WAL test runs this test binary again as a second process
/// that writes the database (SQLite shares locks and the `-shm` mapping between
/// connections of one process, so a writer in the same process would prove nothing).
/// Commands on standard input, one a line: `commit N` (N committed rows), `open N` (a
/// write transaction left open with N rows, spilled to the `-wal` uncommitted), `commit-open`,
/// `quit`. Each is answered `WRITER ok` on standard output.
#[test]
fn writer_process() {
    let Some(path) = std::env::var_os(WRITER_ENV) else {
        return;
    };
    let conn = Connection::open(PathBuf::from(path)).unwrap();
    // WAL, or a rollback journal (`DELETE`) for the rollback-mode test.
    let journal = std::env::var(JOURNAL_ENV).unwrap_or_else(|_| "WAL".into());
    conn.pragma_update(None, "journal_mode", &journal).unwrap();
    conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
    // A tiny page cache: a big open transaction spills its pages to the -wal uncommitted.
    conn.pragma_update(None, "cache_size", 2).unwrap();
    let mut seq = 1000u64;
    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap();
        let mut words = line.split_whitespace();
        let n: u64 = words.clone().nth(1).map_or(0, |n| n.parse().unwrap());
        match words.next() {
            Some("commit") | Some("open") => {
                if line.starts_with("open") {
                    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
                }
                let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(2000));
                for _ in 0..n {
                    seq += 1;
                    insert(&conn, &bare("live", seq), &big);
                }
            }
            Some("commit-open") => conn.execute_batch("COMMIT").unwrap(),
            Some("rollback") => conn.execute_batch("ROLLBACK").unwrap(),
            _ => break,
        }
        println!("WRITER ok");
        std::io::stdout().flush().unwrap();
    }
}

struct Writer {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl Writer {
    fn start(db: &Path) -> Writer {
        Writer::start_in(db, "WAL")
    }

    fn start_in(db: &Path, journal: &str) -> Writer {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "writer_process",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(WRITER_ENV, db)
            .env(JOURNAL_ENV, journal)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let input = child.stdin.take().unwrap();
        let output = BufReader::new(child.stdout.take().unwrap());
        Writer {
            child,
            input,
            output,
        }
    }

    fn send(&mut self, command: &str) {
        writeln!(self.input, "{command}").unwrap();
        self.input.flush().unwrap();
        let mut line = String::new();
        loop {
            line.clear();
            assert!(self.output.read_line(&mut line).unwrap() > 0, "writer died");
            if line.contains("WRITER ok") {
                return;
            }
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        let _ = writeln!(self.input, "quit");
        let _ = self.child.wait();
    }
}

/// The database and its `-wal` and `-shm`, byte for byte.
fn files_of(db: &Path) -> Vec<Option<Vec<u8>>> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|s| {
            let mut name = db.as_os_str().to_owned();
            name.push(s);
            std::fs::read(PathBuf::from(name)).ok()
        })
        .collect()
}

#[test]
fn beside_a_live_writer_only_committed_rows_are_read_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = new_db(dir.path(), "p", SCHEMA);
    let mut writer = Writer::start(&path);

    // Committed rows still in the -wal (no checkpoint), the writer idle.
    writer.send("commit 5");
    let before = files_of(&path);
    assert!(
        before.iter().all(Option::is_some),
        "db, -wal and -shm exist"
    );
    let (first, events) = import(&path, None, false);
    assert_eq!(events.len(), 5);
    assert!(
        files_of(&path) == before,
        "the import wrote beside the database"
    );

    // A write transaction open, its pages spilled to the -wal but not committed.
    writer.send("open 300");
    let before = files_of(&path);
    let (again, events) = import(&path, Some(&first.cursor), false);
    assert!(events.is_empty(), "read {} uncommitted rows", events.len());
    assert_eq!(import(&path, None, false).1.len(), 5);
    assert!(
        files_of(&path) == before,
        "the import wrote beside the database"
    );

    // Committed: exactly those rows are the next import.
    writer.send("commit-open");
    let (_, events) = import(&path, Some(&again.cursor), false);
    assert_eq!(events.len(), 300);
    assert_eq!(events[0].seq, 1006);
}

/// The names in the database's folder.
fn names_in(folder: &Path) -> Vec<String> {
    let mut names: Vec<_> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// A rollback-journal database (`journal_mode=DELETE`, header bytes 18 and 19 = 1) is not
/// read as immutable: a writer holding `BEGIN EXCLUSIVE` with its rows spilled into the
/// file (a tiny page cache) would have them read, and stored, before it rolls back. Read
/// under SQLite's shared lock, the import waits for the writer (up to its busy timeout),
/// then reads only committed rows; a lock held longer is an error naming the database.
#[test]
fn a_rollback_journal_database_is_read_under_its_lock_never_uncommitted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("projects/p/kaizen.db");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(SCHEMA).unwrap();
    for seq in 1..=5 {
        insert(&conn, &bare("s1", seq), "{}");
    }
    drop(conn);
    let header = std::fs::read(&path).unwrap();
    assert_eq!(
        (header[18], header[19]),
        (1, 1),
        "a rollback-journal database"
    );

    let mut writer = Writer::start_in(&path, "DELETE");
    writer.send("open 300");
    let folder = path.parent().unwrap();
    assert_eq!(names_in(folder), ["kaizen.db", "kaizen.db-journal"]);
    assert!(
        std::fs::metadata(&path).unwrap().len() > 300 * 2000,
        "the uncommitted rows are in the file"
    );

    // Locked for longer than the busy timeout: an error naming the database.
    let started = std::time::Instant::now();
    let err = match try_import(&path, None, false) {
        Ok((_, events)) => panic!(
            "read {} rows of a database a writer holds, {} uncommitted",
            events.len(),
            events.iter().filter(|e| e.session_id == "live").count()
        ),
        Err(e) => e.to_string(),
    };
    assert!(err.starts_with(&path.display().to_string()), "{err}");
    assert!(
        err.contains("locked") && err.contains("nothing of it was read"),
        "{err}"
    );
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(4),
        "it waited"
    );

    // Locked for a moment: the import waits, then reads the committed rows only.
    let waiting = {
        let path = path.clone();
        std::thread::spawn(move || try_import(&path, None, false))
    };
    std::thread::sleep(std::time::Duration::from_millis(1000));
    writer.send("rollback");
    let (done, events) = waiting.join().unwrap().unwrap();
    assert_eq!(
        ids(&events),
        (1..=5).map(|q| ("s1".into(), q)).collect::<Vec<_>>()
    );
    assert_eq!(done.report.events, 5);
    drop(writer);
    // Nothing created beside it (a rollback-mode reader makes no -wal, -shm or journal).
    assert_eq!(names_in(folder), ["kaizen.db"]);
}

/// A fresh upstream install may leave a 0-byte `kaizen.db`: an empty database, with a note,
/// not an error that stops the run.
#[test]
fn an_empty_database_file_is_an_empty_database_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("projects/p/kaizen.db");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, b"").unwrap();
    let (done, events) = import(&path, None, false);
    assert!(events.is_empty());
    assert_eq!((done.report.files, done.report.lines), (1, 0));
    assert_eq!(done.report.notes.len(), 1, "{:?}", done.report.notes);
    assert!(done.report.notes[0].contains("an empty file (0 bytes)"));
    // Once upstream writes it, its rows are read.
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(SCHEMA).unwrap();
    insert(&conn, &bare("s1", 1), "{}");
    drop(conn);
    assert_eq!(import(&path, Some(&done.cursor), false).1.len(), 1);
    assert_eq!(names_in(path.parent().unwrap()), ["kaizen.db"]);
}

/// Discovery finds databases where upstream's layout has them (`projects/*/kaizen.db` of a
/// kaizen home, `*/kaizen.db` of a projects folder, a project folder's `kaizen.db`), no
/// deeper, and a PATH with none is an error saying where it looked.
#[test]
fn discovery_finds_databases_at_upstreams_depths_or_says_none() {
    let dir = tempfile::tempdir().unwrap();
    let projects = dir.path().join("home/projects");
    for slug in ["a", "b"] {
        new_db(&dir.path().join("home"), slug, SCHEMA);
    }
    let deep = projects.join("a/nested/kaizen.db");
    std::fs::create_dir_all(deep.parent().unwrap()).unwrap();
    std::fs::copy(projects.join("a/kaizen.db"), &deep).unwrap();
    let rels = |path: &Path| -> Vec<String> {
        kaizen_import::discover(Agent::KaizenDb, &[path.to_owned()])
            .unwrap()
            .into_iter()
            .map(|f| f.rel)
            .collect()
    };
    let both = ["projects/a/kaizen.db", "projects/b/kaizen.db"];
    assert_eq!(rels(&dir.path().join("home")), both);
    assert_eq!(rels(&projects), both);
    assert_eq!(rels(&projects.join("a")), ["projects/a/kaizen.db"]);
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let err = kaizen_import::discover(Agent::KaizenDb, std::slice::from_ref(&empty))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            "{}: no upstream kaizen databases found (looked for projects/*/kaizen.db, kaizen.db and */kaizen.db in it)",
            empty.display()
        )
    );
}
