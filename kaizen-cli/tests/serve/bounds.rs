//! What a slow, hostile or unlucky world does to `kaizen serve`: half-sent request heads,
//! slow bodies, a damaged spool, an unreachable store, a record the store refuses.

use super::*;

/// The metric line `name` of `/metrics` (no token), as a number.
fn metric(addr: SocketAddr, name: &str) -> f64 {
    let body = http(addr, "GET", "/metrics", &[], b"")
        .expect("metrics")
        .body;
    let text = String::from_utf8(body).expect("utf8");
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}

/// Opens a connection and sends half a request head.
fn half_head(addr: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.write_all(b"POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: appl")
        .expect("write");
    s
}

/// Whether the server closed `s` (end of stream, or reset) within `within`.
fn closed_by_server(s: &mut TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(within)).expect("timeout");
    let mut buf = [0u8; 512];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue, // an answer (408) before the close
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return false,
            Err(_) => return true,
        }
    }
}

/// An event's JSON line, as the spool holds it: a `Cost` of 10 input tokens, with a
/// payload `{"note": NOTE}` when given.
fn spooled_event(session: &str, seq: u64, note: Option<&str>) -> String {
    let mut e = kaizen_core::Event::new(
        session.to_owned(),
        seq,
        1_790_846_102_000 + seq,
        kaizen_core::EventKind::Cost,
        kaizen_core::EventSource::Hook,
    );
    e.tokens_in = Some(10);
    let mut v: serde_json::Value = serde_json::from_str(&e.to_json()).expect("json");
    if let Some(note) = note {
        v["payload"] = serde_json::json!({ "note": note });
    }
    v.to_string()
}

/// Half-sent request heads are closed after `--header-timeout`; while they hold every
/// slot of `--max-connections`, a new client waits (it is not accepted), then is served.
#[test]
fn half_sent_heads_are_closed_and_the_connection_cap_holds() {
    let (_dir, store, _, server) =
        serve_in_tempdir(&["--header-timeout", "3s", "--max-connections", "3"]);
    let addr = server.addr;
    let mut slow: Vec<TcpStream> = (0..3).map(|_| half_head(addr)).collect();
    std::thread::sleep(Duration::from_millis(300));
    // The fourth connection is in the kernel's backlog: no answer while the three hold.
    let waiting = std::thread::spawn(move || {
        let started = Instant::now();
        let a = post_json_logs(addr, &claude_request("capped", 0, 1));
        (a.status, started.elapsed())
    });
    for s in &mut slow {
        assert!(
            closed_by_server(s, Duration::from_secs(10)),
            "a half-sent head was not closed within 10 s"
        );
    }
    let (status, waited) = waiting.join().expect("client");
    assert_eq!(status, 200);
    assert!(
        waited >= Duration::from_secs(1),
        "answered after {waited:?}: the cap of 3 connections did not hold"
    );
    assert!(
        metric(
            addr,
            "kaizen_serve_rejects_total{reason=\"header_timeout\"}"
        ) >= 3.0
    );
    server.stop();
    assert_eq!(stored_identities(&store).len(), 1);
}

/// A sender that trickles its body holds no request slot, nor the memory it declared: with
/// `--max-inflight 1`, a complete request beside it is answered 200.
#[test]
fn a_slow_body_holds_no_request_slot() {
    let dir = tempfile::tempdir().expect("tmp");
    let (store, spool) = (dir.path().join("store"), dir.path().join("spool"));
    // Its declared length is the whole body budget (1 x 64 KiB): what it declares is not
    // taken before it arrives.
    let server = Server::start(
        &store,
        &spool,
        "127.0.0.1:0",
        &["--max-inflight", "1", "--max-body", "64KiB"],
    );
    let mut slow = TcpStream::connect_timeout(&server.addr, Duration::from_secs(5)).expect("c");
    slow.write_all(
        b"POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 65536\r\n\r\n{\"resourceLogs\":",
    )
    .expect("write");
    std::thread::sleep(Duration::from_millis(300));
    for i in 0..3 {
        let a = post_json_logs(server.addr, &claude_request("beside-a-slow-one", i, 1));
        assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    }
    drop(slow);
    server.stop();
    assert_eq!(stored_identities(&store).len(), 3);
}

/// A line of a recovered segment that is not an event, and an end without a newline, are
/// kept aside, named, counted; the segment's other events are stored.
#[test]
fn a_damaged_spool_line_is_kept_aside_and_the_rest_stored() {
    let dir = tempfile::tempdir().expect("tmp");
    let (store, spool) = (dir.path().join("store"), dir.path().join("spool"));
    std::fs::create_dir_all(&spool).expect("mkdir");
    let event = |seq| spooled_event("spooled", seq, None);
    let segment = spool.join("00000000000000000007.seg");
    std::fs::write(
        &segment,
        format!(
            "{}\n{{\"session_id\": \"cut\n{}\n{{\"session",
            event(1),
            event(2)
        ),
    )
    .expect("segment");
    let server = Server::start(&store, &spool, "127.0.0.1:0", &[]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while segment.exists() {
        assert!(Instant::now() < deadline, "the segment was not flushed");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(metric(server.addr, "kaizen_serve_damaged_lines_total"), 2.0);
    server.stop();
    let mut stored = stored_identities(&store);
    stored.sort();
    assert_eq!(
        stored,
        [("spooled".to_owned(), 1), ("spooled".to_owned(), 2)]
    );
    let kept = std::fs::read_to_string(spool.join("00000000000000000007.seg.damaged"))
        .expect("the damaged line is kept");
    // The cut line, and the end without a newline (a write a crash cut short).
    assert_eq!(kept, "{\"session_id\": \"cut\n{\"session\n");
}

/// The store unreachable at start (its folder cannot be created): the server listens and
/// acknowledges into the spool; a stop keeps the spool (exit 1); the next start, with the
/// store reachable, stores everything.
#[test]
fn listens_while_the_store_is_unreachable_and_flushes_when_it_is_back() {
    let dir = tempfile::tempdir().expect("tmp");
    let spool = dir.path().join("spool");
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, "not a folder").expect("file");
    let unreachable = blocker.join("store");
    let server = Server::start(
        &unreachable,
        &spool,
        "127.0.0.1:0",
        &["--flush-age", "100ms"],
    );
    let a = post_json_logs(server.addr, &claude_request("kept", 0, 5));
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    assert_eq!(metric(server.addr, "kaizen_serve_store_up"), 0.0);
    let status = server.terminate();
    assert_eq!(status.code(), Some(1), "the spool could not be flushed");
    let store = dir.path().join("store");
    Server::start(&store, &spool, "127.0.0.1:0", &[]).stop();
    assert_eq!(stored_identities(&store).len(), 5);
}

/// A spooled event whose identity the store, or an earlier event of the same flush, holds
/// with other content (OTLP identities hash the record into 24 bits: a collision, or a
/// hand-made spool) is kept aside with the reason; the segment's other events are stored.
#[test]
fn an_event_the_store_refuses_is_kept_aside_and_the_rest_stored() {
    let dir = tempfile::tempdir().expect("tmp");
    let (store, spool) = (dir.path().join("store"), dir.path().join("spool"));
    let event = |seq, note| spooled_event("twice", seq, Some(note));
    let first = dir.path().join("first.jsonl");
    std::fs::write(&first, event(5, "stored first") + "\n").expect("jsonl");
    let out = kaizen(&store)
        .arg("ingest")
        .arg(&first)
        .output()
        .expect("ingest");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::create_dir_all(&spool).expect("mkdir");
    let segment = spool.join("00000000000000000003.seg");
    std::fs::write(
        &segment,
        format!(
            "{}\n{}\n{}\n",
            event(5, "another version"),
            event(6, "new"),
            event(6, "a second version of 6, in the same flush")
        ),
    )
    .expect("segment");
    let server = Server::start(&store, &spool, "127.0.0.1:0", &[]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while segment.exists() {
        assert!(Instant::now() < deadline, "the segment was not flushed");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        metric(server.addr, "kaizen_serve_refused_events_total"),
        2.0
    );
    server.stop();
    let mut stored = stored_identities(&store);
    stored.sort();
    assert_eq!(stored, [("twice".to_owned(), 5), ("twice".to_owned(), 6)]);
    let line = std::fs::read_to_string(spool.join("00000000000000000003.seg.refused"))
        .expect("the refused event is kept");
    let kept: Vec<serde_json::Value> = line.lines().map(|l| json(l.as_bytes())).collect();
    assert_eq!(kept.len(), 2, "{line}");
    for v in &kept {
        let reason = v["reason"].as_str().expect("reason");
        assert!(reason.contains("identity conflict"), "{v}");
    }
    let notes: Vec<&str> = kept
        .iter()
        .map(|v| v["event"]["payload"]["note"].as_str().expect("note"))
        .collect();
    assert!(notes.contains(&"another version"), "{notes:?}");
    assert!(
        notes.contains(&"a second version of 6, in the same flush"),
        "{notes:?}"
    );
    let out = kaizen(&store)
        .args([
            "sql",
            "--format",
            "jsonl",
            "SELECT payload FROM events WHERE seq = 5",
        ])
        .output()
        .expect("sql");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("stored first"),
        "the stored version is kept: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Records dated more than a day ahead of the server's clock are rejected (partial
/// success); a JSON request of snake_case keys, which OTLP/JSON ignores, is answered with
/// a warning instead of a silent nothing.
#[test]
fn far_future_records_are_rejected_and_snake_case_json_is_warned() {
    let (_dir, store, _, server) = serve_in_tempdir(&[]);
    let future = String::from_utf8(claude_request("ahead", 0, 2))
        .expect("utf8")
        .replacen("1790846102000000000", "18446744073709551615", 1);
    let a = post_json_logs(server.addr, future.as_bytes());
    assert_eq!(a.status, 200);
    let body = json(&a.body);
    assert_eq!(body["partialSuccess"]["rejectedLogRecords"], 1, "{body}");
    assert!(
        body["partialSuccess"]["errorMessage"]
            .as_str()
            .expect("message")
            .contains("more than a day past the server's clock"),
        "{body}"
    );
    let snake = br#"{"resource_logs":[{"scope_logs":[{"log_records":[{"time_unix_nano":"1790846102000000000"}]}]}]}"#;
    let a = post_json_logs(server.addr, snake);
    assert_eq!(a.status, 200);
    let body = json(&a.body);
    assert!(
        body["partialSuccess"]["errorMessage"]
            .as_str()
            .expect("a warning")
            .contains("lowerCamelCase"),
        "{body}"
    );
    server.stop();
    assert_eq!(stored_identities(&store).len(), 1);
}

/// Claude Code's OpenTelemetry sends a `tool_result` record per finished tool call and no
/// call record: `report` counts each as a call.
#[test]
fn report_counts_otlp_tool_results_as_tool_calls() {
    let (_dir, store, _, server) = serve_in_tempdir(&[]);
    let ns = (time::OffsetDateTime::now_utc() - time::Duration::hours(1)).unix_timestamp_nanos();
    let records: Vec<String> = (0..3)
        .map(|i| {
            format!(
                r#"{{"timeUnixNano":"{}","body":{{"stringValue":"claude_code.tool_result"}},"attributes":[
                {{"key":"session.id","value":{{"stringValue":"tools"}}}},
                {{"key":"event.sequence","value":{{"intValue":"{i}"}}}},
                {{"key":"tool_name","value":{{"stringValue":"Bash"}}}},
                {{"key":"success","value":{{"stringValue":"{}"}}}}]}}"#,
                ns + i as i128,
                if i == 2 { "false" } else { "true" }
            )
        })
        .collect();
    let body = format!(
        r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{}]}}]}}]}}"#,
        records.join(",")
    );
    let a = post_json_logs(server.addr, body.as_bytes());
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    server.stop();
    let doc = report_json(&store);
    assert_eq!(doc["totals"]["tool_calls"], 3, "{doc}");
    assert_eq!(doc["totals"]["failed_tool_results"], 1, "{doc}");
}

/// A client that pipelines requests and never reads the answers holds its connection only
/// until a write makes no progress for three times `--header-timeout`: with one
/// connection allowed, the next client is then served.
#[test]
fn a_client_that_reads_no_answer_is_cut_off() {
    let (_dir, _, _, server) =
        serve_in_tempdir(&["--header-timeout", "1s", "--max-connections", "1"]);
    let addr = server.addr;
    let mut greedy = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("c");
    greedy
        .set_write_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    // 404s that echo an 8 KB path, pipelined until the sockets are full (at most 64 MB).
    let request = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "x".repeat(8000));
    let mut sent = 0usize;
    while sent < 64 << 20 && greedy.write_all(request.as_bytes()).is_ok() {
        sent += request.len();
    }
    let started = Instant::now();
    let a = post_json_logs(addr, &claude_request("after-the-greedy-one", 0, 1));
    assert_eq!(a.status, 200);
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "served after {:?}",
        started.elapsed()
    );
    drop(greedy);
    server.stop();
}

/// proto3's JSON mapping lets a double be a string: `"1.5"` is read as the number,
/// `"NaN"` kept as text (JSON has no number for it); the request is not refused.
#[test]
fn doubles_sent_as_strings_are_read() {
    let (_dir, store, _, server) = serve_in_tempdir(&[]);
    let ns = (time::OffsetDateTime::now_utc() - time::Duration::hours(1)).unix_timestamp_nanos();
    let body = String::from_utf8(claude_request("doubles", 0, 1))
        .expect("utf8")
        .replace("1790846102000000000", &ns.to_string())
        .replace(r#"{"doubleValue":0.001}"#, r#"{"doubleValue":"1.5"}"#)
        .replace(
            r#"{"key":"session.id""#,
            r#"{"key":"ratio","value":{"doubleValue":"NaN"}},{"key":"session.id""#,
        );
    assert!(body.contains(r#""doubleValue":"1.5""#), "{body}");
    let a = post_json_logs(server.addr, body.as_bytes());
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    server.stop();
    let doc = report_json(&store);
    assert_eq!(doc["totals"]["cost_usd_e6"], 1_500_000, "{doc}");
    assert_eq!(stored_identities(&store).len(), 1);
}
