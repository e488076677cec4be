//! Hand-written fixtures, one per format and version trap, with their exact figures.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use kaizen_core::{Event, EventKind};
use kaizen_import::{
    Agent, Error, ImportOptions, SourceReport, discover, export, import_file, import_files,
    source_file,
};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn import_agent(agent: Agent) -> (Vec<Event>, SourceReport) {
    let (events, report, _) = import_paths(agent, &fixtures().join(agent.name()), &HashMap::new());
    (events, report)
}

fn payload(e: &Event) -> serde_json::Value {
    e.payload.to_value()
}

fn by_line<'a>(events: &'a [Event], path_end: &str, line: u64) -> &'a Event {
    events
        .iter()
        .find(|e| {
            let p = payload(e);
            p["path"].as_str().is_some_and(|s| s.ends_with(path_end)) && p["line"] == line
        })
        .unwrap_or_else(|| panic!("no event for {path_end}:{line}"))
}

#[test]
fn claude_layouts_count_each_response_once() {
    let (events, r) = import_agent(Agent::Claude);
    assert_eq!(r.files, 6);
    assert_eq!(r.lines, 30);
    assert_eq!(r.events, 30);
    assert_eq!(r.responses, 7, "A, B, the API error, C, D, E, F");
    assert_eq!(r.input, 24);
    assert_eq!(r.output, 158);
    assert_eq!(r.cache_read, 5000);
    assert_eq!(r.cache_creation_5m, 350);
    assert_eq!(r.cache_creation_1h, 400);
    assert_eq!(r.reasoning, 0);
    assert_eq!(
        (r.tool_calls, r.tool_results, r.tool_errors, r.api_errors),
        (4, 4, 1, 1)
    );
    assert_eq!(r.cost_reported, 1);
    assert_eq!(
        r.cost_computed, 5,
        "the <synthetic> API error is not priced"
    );
    assert!(r.unpriced_models.is_empty(), "{:?}", r.unpriced_models);
    let unknown: Vec<_> = r
        .unknown_types
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(unknown, [("last-prompt", 1), ("session-note", 1)]);
    assert_eq!(r.sessions.len(), 4);

    // 1.0.x: the response's tokens sit on its last line, with the cost it states.
    let p1 = "11111111-1111-1111-1111-111111111111.jsonl";
    let first = by_line(&events, p1, 3);
    assert_eq!((first.tokens_in, first.tokens_out), (None, None));
    let last = by_line(&events, p1, 4);
    assert_eq!(last.kind, EventKind::ToolCall);
    assert_eq!(last.tool.as_deref(), Some("Task"));
    assert_eq!((last.tokens_in, last.tokens_out), (Some(5), Some(50)));
    assert_eq!(last.cache_creation_tokens, Some(100));
    assert_eq!(last.cache_read_tokens, Some(1000));
    assert_eq!(last.cost_usd_e6, Some(20_000));
    assert_eq!(payload(last)["cost_source"], "reported");
    assert_eq!(last.seq, (1 << 56) | 4);
    // A sidechain tool result counts under the model of the sidechain's call.
    let err = by_line(&events, p1, 7);
    assert_eq!(err.kind, EventKind::ToolResult);
    assert_eq!(payload(err)["model"], "claude-haiku-4-5-20251001");
    assert_eq!(payload(err)["tool_errors"], 1);
    // The summary line has no time: it takes the file's first, inexactly.
    let summary = by_line(&events, p1, 1);
    assert!(!summary.ts_exact);
    assert_eq!(summary.ts_ms, by_line(&events, p1, 2).ts_ms);
    let api = by_line(&events, p1, 9);
    assert_eq!(api.kind, EventKind::Error);
    assert_eq!((api.tokens_in, api.cost_usd_e6), (Some(0), None));

    // 2.0.x: an agent file belongs to its parent session, in its own seq space.
    let agent = by_line(&events, "agent-a1b2c3.jsonl", 2);
    assert_eq!(agent.session_id, "22222222-2222-2222-2222-222222222222");
    assert_ne!((agent.seq >> 32) & 0xFF_FFFF, 0);
    assert_eq!(agent.cost_usd_e6, Some(290));
    let c = by_line(&events, "22222222-2222-2222-2222-222222222222.jsonl", 4);
    assert_eq!(c.cost_usd_e6, Some(4645));
    assert_eq!(payload(c)["cache_creation_5m"], 100);
    assert_eq!(payload(c)["cache_creation_1h"], 200);
    assert_eq!(payload(c)["cost_source"], "computed:litellm-1.110.2");
    // The resumed session's copied first line is kept, not counted.
    let copy = by_line(&events, "44444444-4444-4444-4444-444444444444.jsonl", 1);
    assert_eq!(copy.kind, EventKind::Lifecycle);
    assert_eq!(payload(copy)["resume_copy"], true);
    assert!(payload(copy).get("tool_results").is_none());

    // 2.1.x: the progress copy of a subagent response carries no tokens; the subagent
    // file's line does; hook lines are Hook events.
    let p3 = "33333333-3333-3333-3333-333333333333.jsonl";
    let progress = by_line(&events, p3, 4);
    assert_eq!(progress.tokens_in, None);
    assert_eq!(by_line(&events, p3, 1).kind, EventKind::Hook);
    assert_eq!(by_line(&events, p3, 6).kind, EventKind::Hook);
    assert_eq!(by_line(&events, p3, 7).kind, EventKind::Lifecycle);
    let sub = by_line(&events, "subagents/agent-a9.jsonl", 2);
    assert_eq!(sub.session_id, "33333333-3333-3333-3333-333333333333");
    assert_eq!((sub.tokens_in, sub.tokens_out), (Some(6), Some(30)));
}

#[test]
fn codex_counts_changed_snapshots_with_the_latest_model() {
    let (events, r) = import_agent(Agent::Codex);
    assert_eq!((r.files, r.lines, r.events), (1, 16, 16));
    assert_eq!(
        r.responses, 2,
        "the repeat and the zero compaction repeat are not responses"
    );
    assert_eq!(
        (r.input, r.cache_read, r.output, r.reasoning),
        (1000, 2000, 80, 20)
    );
    assert_eq!((r.cache_creation_5m, r.cache_creation_1h), (0, 0));
    assert_eq!(
        (r.tool_calls, r.tool_results, r.tool_errors, r.api_errors),
        (3, 2, 1, 1)
    );
    assert_eq!(r.cost_usd_e6, 1190 + 2030);
    assert_eq!(r.unknown_types.get("event_msg:brand_new_event"), Some(&1));
    let sid = "0199a000-0000-7000-8000-00000000c0de";
    assert!(events.iter().all(|e| e.session_id == sid));
    let sid = &format!("{sid}.jsonl");
    let first = by_line(&events, sid, 5);
    assert_eq!(first.kind, EventKind::Cost);
    assert_eq!(
        (
            first.tokens_in,
            first.cache_read_tokens,
            first.cache_creation_tokens
        ),
        (Some(200), Some(800), None),
        "Codex input includes cached tokens; no cache-write figure"
    );
    assert_eq!(first.reasoning_tokens, Some(20));
    assert_eq!(payload(first)["model"], "gpt-5.2-codex");
    assert_eq!(by_line(&events, sid, 8).tokens_in, None);
    assert_eq!(by_line(&events, sid, 12).tokens_in, None);
    let last = by_line(&events, sid, 16);
    assert_eq!(payload(last)["model"], "gpt-5.3-codex");
    let out = by_line(&events, sid, 6);
    assert_eq!(out.kind, EventKind::ToolResult);
    assert_eq!(out.tool.as_deref(), Some("exec_command"));
    assert_eq!(payload(out)["tool_errors"], 1);
    assert!(
        payload(by_line(&events, sid, 10))
            .get("tool_errors")
            .is_none()
    );
    assert_eq!(by_line(&events, sid, 11).kind, EventKind::Error);
    assert_eq!(payload(&events[0])["project"], "/home/u/p4");
}

#[test]
fn gemini_dedupes_message_ids_in_both_forms() {
    let (events, r) = import_agent(Agent::Gemini);
    assert_eq!(r.files, 2);
    assert_eq!(r.responses, 2);
    assert_eq!(
        (r.input, r.cache_read, r.output, r.reasoning),
        (1100, 300, 75, 25)
    );
    assert_eq!(
        (r.tool_calls, r.tool_results, r.tool_errors, r.api_errors),
        (3, 3, 1, 1)
    );
    assert!(r.unknown_types.is_empty(), "{:?}", r.unknown_types);
    let jsonl = "9a9a9a9a.jsonl";
    let m2 = by_line(&events, jsonl, 4);
    assert_eq!(
        (m2.tokens_in, m2.tokens_out, m2.reasoning_tokens),
        (Some(600), Some(65), Some(25))
    );
    let again = by_line(&events, jsonl, 6);
    assert_eq!(
        again.tokens_in, None,
        "the record written again carries no tokens"
    );
    assert_eq!(again.kind, EventKind::ToolCall);
    assert_eq!(payload(again)["tool_calls"], 2);
    assert_eq!(
        payload(by_line(&events, jsonl, 7))["model"],
        "gemini-2.5-pro"
    );
    assert_eq!(m2.session_id, "9a9a9a9a-0000-4000-8000-000000000001");
    let doc: Vec<&Event> = events
        .iter()
        .filter(|e| payload(e)["path"].as_str().unwrap().ends_with(".json"))
        .collect();
    assert_eq!(doc.len(), 3, "the document and its two messages");
    let lines: Vec<_> = doc
        .iter()
        .map(|e| payload(e)["line"].as_u64().unwrap())
        .collect();
    assert_eq!(
        lines,
        [0, 7, 17],
        "the document, then where each message starts"
    );
    assert!(
        doc.iter()
            .all(|e| e.session_id == "9b9b9b9b-0000-4000-8000-000000000002")
    );
}

#[test]
fn fixtures_export_byte_identical() {
    let out = tempfile::tempdir().unwrap();
    for agent in Agent::AGENTS {
        let (events, _) = import_agent(agent);
        let report = export(events, out.path().join(agent.name()), Some(agent)).unwrap();
        assert!(report.files > 0);
        assert_eq!(report.events_skipped, 0);
    }
    let want = common::tree(&fixtures());
    let got = common::tree(out.path());
    let want: Vec<_> = want.iter().filter(|(p, _)| !p.starts_with("bad")).collect();
    assert_eq!(got.len(), want.len());
    for (path, bytes) in want {
        assert_eq!(got.get(path), Some(bytes), "{}", path.display());
    }
}

#[test]
fn a_bad_line_in_the_middle_is_file_colon_line() {
    let path = fixtures().join("bad/bad.jsonl");
    let file = source_file(Agent::Claude, &path).unwrap();
    let mut events = Vec::new();
    let err = import_file(&file, None, &ImportOptions::default(), &mut |c| {
        events.extend(c);
        Ok(())
    })
    .unwrap_err();
    match &err {
        Error::Line { path: p, line, .. } => {
            assert_eq!((p.as_path(), *line), (path.as_path(), 3));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string()
            .starts_with(&format!("{}:3: invalid JSON", path.display())),
        "{err}"
    );

    // With skip_invalid the line is kept as text, reported, and exported back exactly.
    let options = ImportOptions {
        skip_invalid: true,
        ..ImportOptions::default()
    };
    let mut events = Vec::new();
    let done = import_file(&file, None, &options, &mut |c| {
        events.extend(c);
        Ok(())
    })
    .unwrap();
    assert_eq!(done.report.lines_skipped, 1);
    assert_eq!(done.report.events, 4);
    assert!(done.report.skipped[0].contains("bad.jsonl:3:"));
    assert!(payload(&events[2])["text"].is_string());
    let out = tempfile::tempdir().unwrap();
    export(events, out.path(), Some(Agent::Claude)).unwrap();
    let written = std::fs::read(out.path().join(&file.rel)).unwrap();
    assert_eq!(written, std::fs::read(&path).unwrap());
}

#[test]
fn progress_sees_every_byte_read() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    let seen = Arc::new(AtomicU64::new(0));
    let counter = seen.clone();
    let options = ImportOptions {
        chunk_events: 3,
        on_bytes: Some(kaizen_import::OnBytes(Arc::new(move |n| {
            counter.fetch_add(n, Ordering::Relaxed);
        }))),
        ..ImportOptions::default()
    };
    let files = discover(Agent::Claude, &[fixtures().join("claude")]).unwrap();
    let (report, _) = import_files(&files, &HashMap::new(), &options, &mut |_| Ok(())).unwrap();
    let read = report.sources["claude"].bytes;
    assert!(read > 0);
    assert_eq!(seen.load(Ordering::Relaxed), read);
}

#[test]
fn a_rollout_in_sessions_and_archived_sessions_is_one_file() {
    let root = tempfile::tempdir().unwrap();
    let name = "rollout-2026-10-01T11-00-00-0199a000-0000-7000-8000-00000000c0de.jsonl";
    let src = fixtures().join("codex/sessions/2026/10/01").join(name);
    let live = root.path().join("sessions/2026/10/01");
    let archived = root.path().join("archived_sessions");
    std::fs::create_dir_all(&live).unwrap();
    std::fs::create_dir_all(&archived).unwrap();
    std::fs::copy(&src, live.join(name)).unwrap();
    std::fs::copy(&src, archived.join(name)).unwrap();
    let files = discover(Agent::Codex, &[root.path().to_owned()]).unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].rel, format!("sessions/2026/10/01/{name}"));
    // Archived later: the same relative path, so the same events.
    let moved = source_file(Agent::Codex, archived.join(name)).unwrap();
    assert_eq!(moved.rel, files[0].rel);
}

#[test]
fn kaizen_json_lines_keep_the_ingest_contract() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let a = Event::new(
        "s",
        1,
        1_790_846_102_123,
        EventKind::Message,
        kaizen_core::EventSource::Hook,
    );
    let b = Event::new(
        "s",
        2,
        1_790_846_102_124,
        EventKind::Message,
        kaizen_core::EventSource::Hook,
    );
    let text = format!(
        "\u{feff}{}\r\n\n{}\n{{\"seq\":1}}\n",
        a.to_json(),
        b.to_json()
    );
    std::fs::write(&path, text).unwrap();
    let file = source_file(Agent::Kaizen, &path).unwrap();
    let mut events = Vec::new();
    let err = import_file(&file, None, &ImportOptions::default(), &mut |c| {
        events.extend(c);
        Ok(())
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}:4: missing field `ts_ms`", path.display())
    );
    let options = ImportOptions {
        skip_invalid: true,
        ..ImportOptions::default()
    };
    let mut events = Vec::new();
    let done = import_file(&file, None, &options, &mut |c| {
        events.extend(c);
        Ok(())
    })
    .unwrap();
    assert_eq!(
        events,
        [a, b],
        "kept as they are: BOM, CRLF and the blank line accepted"
    );
    assert_eq!(done.report.lines_skipped, 1);
    assert_eq!(kaizen_import::parse_event_line(b"  \r\n", false), Ok(None));
    assert_eq!(
        kaizen_import::parse_event_line(b"\xff{}", false),
        Err("invalid UTF-8 at column 1".to_owned())
    );
}

#[test]
fn claude_cleanup_period_is_read_from_settings() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    std::fs::write(
        a.path().join("settings.json"),
        r#"{"cleanupPeriodDays": 3650}"#,
    )
    .unwrap();
    let found = kaizen_import::claude_cleanup(&[a.path().to_owned(), b.path().to_owned()]).unwrap();
    assert_eq!(found[0].cleanup_period_days, Some(3650));
    assert!(!found[0].deletes_within_a_month());
    assert_eq!(found[1].cleanup_period_days, None);
    assert!(
        found[1].deletes_within_a_month(),
        "unset means Claude Code's 30 days"
    );
    // Not JSON, or not a whole number of days: said, not taken for unset, not an error
    // that would stop a check of the other roots.
    std::fs::write(b.path().join("settings.json"), "{not json").unwrap();
    let found = kaizen_import::claude_cleanup(&[b.path().to_owned()]).unwrap();
    let problem = found[0].settings_error.as_deref().unwrap_or_default();
    assert!(problem.contains("settings.json:1:"), "{problem}");
    std::fs::write(
        b.path().join("settings.json"),
        r#"{"cleanupPeriodDays": "90"}"#,
    )
    .unwrap();
    let found = kaizen_import::claude_cleanup(&[b.path().to_owned()]).unwrap();
    assert_eq!(found[0].cleanup_period_days, None);
    assert_eq!(found[0].unreadable_setting.as_deref(), Some("\"90\""));
}

#[test]
fn a_model_missing_from_the_price_table_is_reported_never_priced_as_zero() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("projects/-p");
    std::fs::create_dir_all(&project).unwrap();
    let path = project.join("88888888-8888-8888-8888-888888888888.jsonl");
    let line = |model: &str, id: &str| {
        format!(
            "{{\"type\":\"assistant\",\"message\":{{\"id\":\"{id}\",\"model\":\"{model}\",\"content\":[],\"usage\":{{\"input_tokens\":10,\"output_tokens\":5}}}},\"requestId\":\"r{id}\",\"timestamp\":\"2026-10-01T00:00:00Z\"}}\n"
        )
    };
    let text = line("claude-future-9", "m1") + &line("claude-opus-4-6", "m2");
    std::fs::write(&path, text).unwrap();
    let file = source_file(Agent::Claude, &path).unwrap();
    let mut events = Vec::new();
    let done = import_file(&file, None, &ImportOptions::default(), &mut |c| {
        events.extend(c);
        Ok(())
    })
    .unwrap();
    assert_eq!(events[0].cost_usd_e6, None);
    assert!(payload(&events[0]).get("cost_source").is_none());
    assert_eq!(events[1].cost_usd_e6, Some(10 * 5 + 5 * 25));
    let r = done.report;
    assert_eq!(r.unpriced_models.get("claude-future-9"), Some(&1));
    assert_eq!((r.cost_computed, r.cost_usd_e6), (1, 175));
}

/// Writes `lines` (each ended by `\n`) to `root/rel`, making its folders.
fn write_lines(root: &Path, rel: &str, lines: &[&str]) -> PathBuf {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        &path,
        lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
    path
}

fn import_paths(
    agent: Agent,
    root: &Path,
    cursors: &HashMap<String, kaizen_import::Cursor>,
) -> (Vec<Event>, SourceReport, Vec<kaizen_import::Cursor>) {
    let files = discover(agent, &[root.to_owned()]).expect("discover");
    let mut events = Vec::new();
    let (report, cursors) = import_files(&files, cursors, &ImportOptions::default(), &mut |c| {
        events.extend(c);
        Ok(())
    })
    .expect("import");
    let r = report
        .sources
        .get(agent.name())
        .cloned()
        .unwrap_or_default();
    (events, r, cursors)
}

/// Claude Code names a project's folder after its working directory with `/` made `-`
/// (not reversible); its lines carry the directory itself as `cwd`, as Codex's
/// `session_meta` does. Both agents' events of one project carry the same `project`.
#[test]
fn claude_and_codex_events_of_one_project_carry_its_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    let claude = dir.path().join("claude");
    let sid = "aaaaaaaa-0000-4000-8000-000000000001";
    let user = |cwd: &str, s: u32| {
        format!(
            r#"{{"type":"user","cwd":"{cwd}","sessionId":"{sid}","uuid":"u{s}","parentUuid":null,"timestamp":"2026-10-01T10:00:{s:02}.000Z","message":{{"role":"user","content":"hi"}}}}"#
        )
    };
    let transcript = write_lines(
        &claude,
        &format!("projects/-home-me-proj/{sid}.jsonl"),
        &[
            r#"{"type":"summary","summary":"s","leafUuid":"u1"}"#,
            &user("/home/me/proj", 1),
        ],
    );
    write_lines(
        &claude,
        "projects/-home-me-other/bbbbbbbb-0000-4000-8000-000000000002.jsonl",
        &[
            r#"{"type":"user","uuid":"x","timestamp":"2026-10-01T10:00:00.000Z","message":{"role":"user","content":"no cwd"}}"#,
        ],
    );
    let codex = dir.path().join("codex");
    write_lines(
        &codex,
        "sessions/2026/10/01/rollout-2026-10-01T11-00-00-0199a000-0000-7000-8000-0000000000bb.jsonl",
        &[
            r#"{"timestamp":"2026-10-01T11:00:00.000Z","type":"session_meta","payload":{"id":"0199a000-0000-7000-8000-0000000000bb","cwd":"/home/me/proj"}}"#,
            r#"{"timestamp":"2026-10-01T11:00:01.000Z","type":"turn_context","payload":{"cwd":"/home/me/proj","model":"gpt-5.2-codex"}}"#,
        ],
    );
    let (claude_events, _, cursors) = import_paths(Agent::Claude, &claude, &HashMap::new());
    let (codex_events, _, _) = import_paths(Agent::Codex, &codex, &HashMap::new());
    let project = |e: &Event| payload(e)["project"].as_str().unwrap_or("").to_owned();
    for e in claude_events
        .iter()
        .filter(|e| e.session_id == sid)
        .chain(&codex_events)
    {
        assert_eq!(project(e), "/home/me/proj", "{}", payload(e));
    }
    let other: Vec<String> = (claude_events.iter())
        .filter(|e| e.session_id != sid)
        .map(project)
        .collect();
    assert_eq!(other, ["-home-me-other"], "no cwd: the folder's name");

    // A transcript whose first import saw no `cwd` yet takes it from the line that has one.
    let late = "cccccccc-0000-4000-8000-000000000003";
    let path = write_lines(
        &claude,
        &format!("projects/-home-me-proj/{late}.jsonl"),
        &[r#"{"type":"summary","summary":"s","leafUuid":"u1"}"#],
    );
    let cursors: HashMap<_, _> = cursors.into_iter().map(|c| (c.path.clone(), c)).collect();
    let (first, _, cursors) = import_paths(Agent::Claude, &claude, &cursors);
    assert_eq!(
        first.iter().map(project).collect::<Vec<_>>(),
        ["-home-me-proj"]
    );
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(&(user("/home/me/proj", 2) + "\n"));
    std::fs::write(&path, text).unwrap();
    let cursors: HashMap<_, _> = cursors.into_iter().map(|c| (c.path.clone(), c)).collect();
    let (then, _, _) = import_paths(Agent::Claude, &claude, &cursors);
    assert_eq!(
        then.iter().map(project).collect::<Vec<_>>(),
        ["/home/me/proj"]
    );
    assert!(transcript.exists());
}

/// A 0-byte transcript (an agent that opened it and wrote nothing yet) holds no session.
#[test]
fn an_empty_transcript_is_no_session() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("claude");
    write_lines(
        &root,
        "projects/-p/dddddddd-0000-4000-8000-000000000004.jsonl",
        &[
            r#"{"type":"user","uuid":"x","timestamp":"2026-10-01T10:00:00.000Z","message":{"role":"user","content":"hi"}}"#,
        ],
    );
    write_lines(
        &root,
        "projects/-p/eeeeeeee-0000-4000-8000-000000000005.jsonl",
        &[],
    );
    let codex = dir.path().join("codex");
    write_lines(
        &codex,
        "sessions/2026/10/01/rollout-2026-10-01T11-00-00-0199a000-0000-7000-8000-0000000000cc.jsonl",
        &[],
    );
    let (_, r, cursors) = import_paths(Agent::Claude, &root, &HashMap::new());
    assert_eq!((r.files, r.sessions.len()), (2, 1), "{:?}", r.sessions);
    let (_, r, _) = import_paths(Agent::Codex, &codex, &HashMap::new());
    assert_eq!((r.files, r.sessions.len()), (1, 0));
    // Again, from the cursors (the files unchanged, not read).
    let cursors: HashMap<_, _> = cursors.into_iter().map(|c| (c.path.clone(), c)).collect();
    let (_, r, _) = import_paths(Agent::Claude, &root, &cursors);
    assert_eq!((r.files_unchanged, r.sessions.len()), (2, 1));
}

/// Codex and Gemini tool results carry the time their tool took, as Claude's do: Codex
/// from the call's line to its output's (matched by `call_id`, across imports too);
/// Gemini from the message that made the call to the call's own `timestamp` (recorded
/// with its result). A result whose call is unknown has none.
#[test]
fn codex_and_gemini_tool_results_carry_their_latency() {
    let dir = tempfile::tempdir().unwrap();
    let codex = dir.path().join("codex");
    let line = |t: &str, payload: &str| {
        format!(
            r#"{{"timestamp":"2026-10-01T11:00:{t}Z","type":"response_item","payload":{payload}}}"#
        )
    };
    let path = write_lines(
        &codex,
        "sessions/2026/10/01/rollout-2026-10-01T11-00-00-0199a000-0000-7000-8000-0000000000dd.jsonl",
        &[
            &line(
                "01.000",
                r#"{"type":"function_call","name":"exec_command","arguments":"{}","call_id":"c1"}"#,
            ),
            &line(
                "03.500",
                r#"{"type":"function_call_output","call_id":"c1","output":"ok"}"#,
            ),
            &line(
                "04.000",
                r#"{"type":"function_call_output","call_id":"nobody","output":"ok"}"#,
            ),
            &line(
                "05.000",
                r#"{"type":"custom_tool_call","name":"apply_patch","input":"x","call_id":"c2"}"#,
            ),
        ],
    );
    let (events, _, cursors) = import_paths(Agent::Codex, &codex, &HashMap::new());
    let results = |events: &[Event]| -> Vec<(Option<String>, Option<u32>)> {
        (events.iter())
            .filter(|e| e.kind == EventKind::ToolResult)
            .map(|e| (e.tool_call_id.clone(), e.latency_ms))
            .collect()
    };
    assert_eq!(
        results(&events),
        [
            (Some("c1".into()), Some(2500)),
            (Some("nobody".into()), None)
        ]
    );
    // The output of c2 comes in a later import: the call's time is in the cursor.
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(&line(
        "07.250",
        r#"{"type":"custom_tool_call_output","call_id":"c2","output":"done"}"#,
    ));
    text.push('\n');
    std::fs::write(&path, text).unwrap();
    let cursors: HashMap<_, _> = cursors.into_iter().map(|c| (c.path.clone(), c)).collect();
    let (later, _, _) = import_paths(Agent::Codex, &codex, &cursors);
    assert_eq!(results(&later), [(Some("c2".into()), Some(2250))]);

    let gemini = dir.path().join("gemini");
    let msg = |id: &str, calls: &str| {
        format!(
            r#"{{"id":"{id}","timestamp":"2026-10-01T12:00:02.000Z","type":"gemini","content":"","tokens":{{"input":10,"output":1,"cached":0,"thoughts":0,"tool":0,"total":11}},"model":"gemini-2.5-pro"{calls}}}"#
        )
    };
    let with_calls = msg(
        "g1",
        r#","toolCalls":[{"id":"t1","name":"glob","result":[{"functionResponse":{"id":"t1"}}],"status":"success","timestamp":"2026-10-01T12:00:03.200Z"}]"#,
    );
    let untimed = msg(
        "g2",
        r#","toolCalls":[{"id":"t2","name":"glob","result":[{"functionResponse":{"id":"t2"}}],"status":"success"}]"#,
    );
    write_lines(
        &gemini,
        "tmp/h1/chats/session-2026-10-01T12-00-ffff0001.jsonl",
        &[
            r#"{"sessionId":"ffff0001","projectHash":"h1","startTime":"2026-10-01T12:00:00.000Z","lastUpdated":"2026-10-01T12:00:00.000Z","kind":"main"}"#,
            &msg("g1", ""),
            &with_calls,
            &with_calls,
            &untimed,
        ],
    );
    let doc = serde_json::json!({"sessionId": "ffff0002", "projectHash": "h1",
        "startTime": "2026-10-01T12:00:00.000Z", "lastUpdated": "2026-10-01T12:00:05.000Z",
        "messages": [serde_json::from_str::<serde_json::Value>(&with_calls).unwrap()]});
    let doc_path = gemini.join("tmp/h1/chats/session-2026-10-01T12-00-ffff0002.json");
    std::fs::write(&doc_path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    let (events, _, _) = import_paths(Agent::Gemini, &gemini, &HashMap::new());
    let latencies: Vec<(String, u64, Option<u32>)> = (events.iter())
        .filter(|e| e.kind == EventKind::ToolCall)
        .map(|e| {
            let p = payload(e);
            let name = p["path"]
                .as_str()
                .unwrap()
                .rsplit('.')
                .next()
                .unwrap()
                .to_owned();
            (name, p["line"].as_u64().unwrap(), e.latency_ms)
        })
        .collect();
    assert_eq!(
        latencies,
        [
            ("jsonl".into(), 3, Some(1200)),
            ("jsonl".into(), 4, None),
            ("jsonl".into(), 5, None),
            ("json".into(), 4, Some(1200)),
        ],
        "the record that first has the result; none again for its repeat; none untimed"
    );
}

/// An export whose targets hold other files lists every one of them and writes nothing; a
/// target already holding the same bytes is fine.
#[test]
fn export_lists_every_conflict_and_writes_nothing() {
    let (events, _) = import_agent(Agent::Claude);
    let out = tempfile::tempdir().unwrap();
    let rels: Vec<PathBuf> = common::tree(&fixtures().join("claude"))
        .into_keys()
        .collect();
    assert!(rels.len() >= 4);
    for (i, rel) in rels.iter().take(3).enumerate() {
        let target = out.path().join(rel);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        let bytes = match i {
            0 => std::fs::read(fixtures().join("claude").join(rel)).unwrap(),
            _ => b"someone else's file\n".to_vec(),
        };
        std::fs::write(target, bytes).unwrap();
    }
    let before = common::tree(out.path());
    let err = export(events.clone(), out.path(), Some(Agent::Claude)).unwrap_err();
    let Error::ExportRefused { problems, .. } = &err else {
        panic!("not ExportRefused: {err}");
    };
    assert_eq!(problems.len(), 2, "{err}");
    for rel in &rels[1..3] {
        assert!(err.to_string().contains(&*rel.to_string_lossy()), "{err}");
    }
    assert!(err.to_string().contains("all its files or none"), "{err}");
    assert!(common::tree(out.path()) == before, "nothing written");
    for rel in &rels[1..3] {
        std::fs::remove_file(out.path().join(rel)).unwrap();
    }
    let report = export(events, out.path(), Some(Agent::Claude)).unwrap();
    assert_eq!(report.files as usize, rels.len());
    assert!(common::tree(out.path()) == common::tree(&fixtures().join("claude")));
}
