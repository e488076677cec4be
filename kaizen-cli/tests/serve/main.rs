//! `kaizen serve` end to end: a real server process on 127.0.0.1 (port 0, or a fixed free
//! port across restarts), real OTLP clients (the OpenTelemetry Python SDK's exporter,
//! protobuf and JSON, gzip on and off), `kaizen report` afterwards; kill -9 at random
//! moments under a retrying sender; hostile requests. Every loop is bounded.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod bounds;

const TOKEN: &str = "team-token-0123456789";

fn kaizen(store: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kaizen"));
    c.arg("--store")
        .arg(store)
        .env_remove("KAIZEN_STORE")
        .stdin(Stdio::null());
    c
}

/// A temporary folder with a store and a spool (`store`, `spool`), and a server on them
/// on 127.0.0.1, a free port, started with `flags`.
fn serve_in_tempdir(flags: &[&str]) -> (tempfile::TempDir, PathBuf, PathBuf, Server) {
    let dir = tempfile::tempdir().expect("tmp");
    let (store, spool) = (dir.path().join("store"), dir.path().join("spool"));
    let server = Server::start(&store, &spool, "127.0.0.1:0", flags);
    (dir, store, spool, server)
}

/// A running `kaizen serve`.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    /// Starts it and waits for the line that says where it listens.
    fn start(store: &Path, spool: &Path, listen: &str, extra: &[&str]) -> Server {
        let mut child = kaizen(store)
            .args(["serve", "--listen", listen, "--spool"])
            .arg(spool)
            .args(extra)
            .env("KAIZEN_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("kaizen serve");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        BufReader::new(stdout).read_line(&mut line).expect("read");
        let addr = line
            .trim()
            .strip_prefix("kaizen serve: listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .parse()
            .expect("address");
        Server { child, addr }
    }

    /// SIGTERM, and waits (up to 60 s) for a clean exit: the spool flushed.
    fn stop(self) {
        let status = self.terminate();
        assert!(status.success(), "kaizen serve exited with {status}");
    }

    /// SIGTERM, and waits (up to 60 s) for the exit.
    fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "kaizen serve did not stop within 60 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn kill9(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("wait");
    }
}

impl Drop for Server {
    /// A test that fails leaves no server behind (stopped ones are reaped already).
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// An HTTP/1.1 answer: status, headers (lowercase names), body.
struct Answer {
    status: u16,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

/// One request on its own connection (a client as plain as can be: every byte is what the
/// test says).
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Answer> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes())?;
    // A server may answer (413) before reading a large body: a failed write is fine then.
    let _ = s.write_all(body);
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no HTTP head"))?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect::<HashMap<_, _>>();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .get("transfer-encoding")
        .is_some_and(|t| t == "chunked")
    {
        body = dechunk(&body);
    }
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// `POST /v1/logs` of an OTLP JSON body, no token.
fn post_json_logs(addr: SocketAddr, body: &[u8]) -> Answer {
    http(
        addr,
        "POST",
        "/v1/logs",
        &[("Content-Type", "application/json")],
        body,
    )
    .expect("answer")
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = b.windows(2).position(|w| w == b"\r\n") {
        let n = usize::from_str_radix(std::str::from_utf8(&b[..i]).unwrap_or("0").trim(), 16)
            .unwrap_or(0);
        if n == 0 {
            break;
        }
        out.extend_from_slice(&b[i + 2..i + 2 + n]);
        b = &b[i + 2 + n + 2..];
    }
    out
}

fn json(v: &[u8]) -> serde_json::Value {
    serde_json::from_slice(v).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(v)))
}

/// `kaizen report --days 2 --timezone UTC --format json`: the `kaizen.report/1` document.
fn report_json(store: &Path) -> serde_json::Value {
    let out = kaizen(store)
        .args([
            "report",
            "--days",
            "2",
            "--timezone",
            "UTC",
            "--format",
            "json",
        ])
        .output()
        .expect("report");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json(&out.stdout)
}

/// The totals of [`report_json`].
fn report_totals(store: &Path) -> HashMap<&'static str, i64> {
    let doc = report_json(store);
    let totals = &doc["totals"];
    let n = |col: &str| totals[col].as_i64().unwrap_or(0);
    HashMap::from([
        ("records", n("events")),
        ("tokens_in", n("input_tokens")),
        ("tokens_out", n("output_tokens")),
        ("cache_read", n("cache_read_tokens")),
        (
            "cache_creation",
            n("cache_write_5m_tokens") + n("cache_write_1h_tokens"),
        ),
        ("cost_usd_e6", n("cost_usd_e6")),
    ])
}

fn python_sdk_present() -> bool {
    let ok = Command::new("python3")
        .args([
            "-c",
            "import opentelemetry.sdk, opentelemetry.exporter.otlp.proto.http",
        ])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok || std::env::var("CI").is_err(),
        "the OpenTelemetry Python SDK is missing: scripts/test installs it"
    );
    ok
}

#[test]
fn python_sdk_exports_claude_and_codex_records_and_report_equals_what_was_sent() {
    if !python_sdk_present() {
        eprintln!("skipped: pip install opentelemetry-sdk opentelemetry-exporter-otlp-proto-http");
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let (store, spool) = (dir.path().join("store"), dir.path().join("spool"));
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, format!("laptop-1 {TOKEN}\n")).expect("tokens");
    let server = Server::start(
        &store,
        &spool,
        "127.0.0.1:0",
        &[
            "--token-file",
            tokens.to_str().expect("path"),
            "--flush-age",
            "200ms",
        ],
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/serve/otlp_send.py");
    let endpoint = format!("http://{}", server.addr);
    // An hour ago (inside `report --days 2`), the same for every run: a run repeated sends
    // the very same records.
    let base_ns = (time::OffsetDateTime::now_utc() - time::Duration::hours(1))
        .unix_timestamp_nanos()
        .to_string();
    let mut expected: HashMap<String, i64> = HashMap::new();
    for (i, (format, gzip)) in [
        ("protobuf", "gzip"),
        ("protobuf", "none"),
        ("json", "gzip"),
        ("json", "none"),
    ]
    .into_iter()
    .enumerate()
    {
        let out = Command::new("python3")
            .arg(&script)
            .args([
                &endpoint,
                TOKEN,
                format,
                gzip,
                "6",
                &i.to_string(),
                &base_ns,
            ])
            .output()
            .expect("python3");
        assert!(
            out.status.success(),
            "{format} {gzip}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let sent = json(&out.stdout);
        for (k, v) in sent.as_object().expect("sums") {
            *expected.entry(k.clone()).or_insert(0) += v.as_i64().expect("number");
        }
    }
    // One of the four runs again, exactly: a retried export stores nothing twice.
    let out = Command::new("python3")
        .arg(&script)
        .args([&endpoint, TOKEN, "json", "gzip", "6", "2", &base_ns])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let auth = format!("Bearer {TOKEN}");
    let metrics = http(
        server.addr,
        "GET",
        "/metrics",
        &[("Authorization", &auth)],
        b"",
    )
    .expect("metrics");
    let text = String::from_utf8_lossy(&metrics.body).to_string();
    assert!(
        text.contains("kaizen_serve_records_total{signal=\"logs\",outcome=\"stored\"}"),
        "{text}"
    );
    server.stop();
    let got = report_totals(&store);
    for key in [
        "records",
        "tokens_in",
        "tokens_out",
        "cache_read",
        "cache_creation",
        "cost_usd_e6",
    ] {
        assert_eq!(
            got[key], expected[key],
            "{key}: report {got:?} against sent {expected:?}"
        );
    }
    assert!(expected["records"] > 40, "{expected:?}");
    // The token's name is the host; the spool is empty after a clean stop.
    let out = kaizen(&store)
        .args([
            "sql",
            "SELECT count(*) AS n FROM events WHERE json_get_text(payload, 'host') = 'laptop-1'",
            "--format",
            "jsonl",
        ])
        .output()
        .expect("sql");
    assert_eq!(json(&out.stdout)["n"].as_i64(), Some(expected["records"]));
    let left: Vec<_> = std::fs::read_dir(&spool)
        .expect("spool")
        .flatten()
        .filter(|e| e.file_name() != "spool.lock")
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// An OTLP JSON logs request of `n` Claude-shaped records, `event.sequence` from `first`.
fn claude_request(session: &str, first: u64, n: u64) -> Vec<u8> {
    let t0: u64 = 1_790_846_102_000_000_000;
    let records: Vec<String> = (first..first + n)
        .map(|i| {
            format!(
                r#"{{"timeUnixNano":"{}","body":{{"stringValue":"claude_code.api_request"}},"attributes":[
                {{"key":"session.id","value":{{"stringValue":"{session}"}}}},
                {{"key":"event.sequence","value":{{"intValue":"{i}"}}}},
                {{"key":"input_tokens","value":{{"intValue":"10"}}}},
                {{"key":"output_tokens","value":{{"stringValue":"3"}}}},
                {{"key":"cost_usd","value":{{"doubleValue":0.001}}}}]}}"#,
                t0 + i * 1_000_000
            )
        })
        .collect();
    format!(
        r#"{{"resourceLogs":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"claude-code"}}}}]}},"scopeLogs":[{{"logRecords":[{}]}}]}}]}}"#,
        records.join(",")
    )
    .into_bytes()
}

/// `(session_id, seq)` of every stored event.
fn stored_identities(store: &Path) -> Vec<(String, u64)> {
    let out = kaizen(store)
        .args(["scan", "--columns", "session_id,seq", "--format", "jsonl"])
        .output()
        .expect("scan");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("jsonl");
            (
                v["session_id"].as_str().expect("id").to_owned(),
                v["seq"].as_u64().expect("seq"),
            )
        })
        .collect()
}

/// A free port on 127.0.0.1, for a server restarted on the same address.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// kill -9 at ten random moments while a sender posts batches and retries every one not
/// answered 200; then every acknowledged record is stored exactly once.
#[test]
fn kill_9_at_random_moments_loses_no_acknowledged_record_and_duplicates_none() {
    let dir = tempfile::tempdir().expect("tmp");
    let (store, spool) = (dir.path().join("store"), dir.path().join("spool"));
    let listen = format!("127.0.0.1:{}", free_port());
    // Small segments and a short age: flushes happen all the time, so kills land in them.
    let flags = ["--flush-bytes", "8KiB", "--flush-age", "50ms"];
    let addr: SocketAddr = listen.parse().expect("addr");
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sender = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut acked = Vec::new();
            let mut batch = 0u64;
            let deadline = Instant::now() + Duration::from_secs(240);
            while !done.load(std::sync::atomic::Ordering::SeqCst) && Instant::now() < deadline {
                let body = claude_request("kill9", batch * 5, 5);
                // Retry this very batch until it is acknowledged (the server may be down).
                loop {
                    match http(
                        addr,
                        "POST",
                        "/v1/logs",
                        &[("Content-Type", "application/json")],
                        &body,
                    ) {
                        Ok(a) if a.status == 200 => break,
                        _ if Instant::now() > deadline => return acked,
                        _ => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
                acked.extend(batch * 5..batch * 5 + 5);
                batch += 1;
            }
            acked
        })
    };
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(7, |d| d.as_nanos() as u64);
    for _ in 0..10 {
        let server = Server::start(&store, &spool, &listen, &flags);
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        std::thread::sleep(Duration::from_millis(100 + (seed >> 33) % 700));
        server.kill9();
    }
    // The last run: let the sender go on a little, then stop it and stop cleanly.
    let server = Server::start(&store, &spool, &listen, &flags);
    std::thread::sleep(Duration::from_millis(300));
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let acked = sender.join().expect("sender");
    server.stop();
    assert!(
        acked.len() > 50,
        "too few acknowledged records to prove anything: {}",
        acked.len()
    );
    let stored = stored_identities(&store);
    let mut per_sequence: HashMap<u64, usize> = HashMap::new();
    for (session, seq) in &stored {
        assert_eq!(session, "kill9");
        *per_sequence.entry(seq & 0xFFFF_FFFF).or_insert(0) += 1;
    }
    for n in &acked {
        assert_eq!(
            per_sequence.get(n),
            Some(&1),
            "acknowledged record {n} stored {:?} times",
            per_sequence.get(n)
        );
    }
    assert!(
        per_sequence.values().all(|c| *c == 1),
        "a record stored twice"
    );
    let verify = kaizen(&store).args(["verify"]).output().expect("verify");
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}

/// A request that is refused: its status and a `google.rpc.Status` message naming why.
/// A protobuf logs request whose one record's body is `depth` nested kvlists, the last
/// one cut short (a field that says 5 bytes follow, 1 does).
fn deep_kvlist_protobuf(depth: usize) -> Vec<u8> {
    fn varint(mut n: usize, out: &mut Vec<u8>) {
        while n >= 0x80 {
            out.push((n as u8) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
    }
    // A length-delimited field.
    fn ld(field: usize, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        varint((field << 3) | 2, &mut out);
        varint(bytes.len(), &mut out);
        out.extend_from_slice(bytes);
        out
    }
    let mut value = vec![0x0A, 0x05, b'a']; // AnyValue.string_value, truncated
    for _ in 0..depth {
        let key_value = [ld(1, b"k"), ld(2, &value)].concat(); // KeyValue {key, value}
        value = ld(6, &ld(1, &key_value)); // AnyValue.kvlist_value.values
    }
    let record = ld(5, &value); // LogRecord.body
    ld(1, &ld(2, &ld(2, &record))) // request.resource_logs.scope_logs.log_records
}

fn refused(a: &Answer, status: u16, says: &str) {
    assert_eq!(a.status, status, "{}", String::from_utf8_lossy(&a.body));
    let text = String::from_utf8_lossy(&a.body);
    assert!(
        text.contains(says),
        "{status}: {text:?} does not say {says:?}"
    );
}

#[test]
fn hostile_requests_get_their_status_never_a_panic_and_store_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let (store, spool) = (dir.path().join("store"), dir.path().join("spool"));
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, format!("ci {TOKEN}\n")).expect("tokens");
    let server = Server::start(
        &store,
        &spool,
        "127.0.0.1:0",
        &[
            "--token-file",
            tokens.to_str().expect("path"),
            "--max-body",
            "64KiB",
            "--max-records",
            "100",
            "--max-attribute-bytes",
            "1KiB",
        ],
    );
    let addr = server.addr;
    let auth = format!("Bearer {TOKEN}");
    let pb = [
        ("Content-Type", "application/x-protobuf"),
        ("Authorization", auth.as_str()),
    ];
    let js = [
        ("Content-Type", "application/json"),
        ("Authorization", auth.as_str()),
    ];
    let post = |headers: &[(&str, &str)], body: &[u8]| {
        http(addr, "POST", "/v1/logs", headers, body).expect("answer")
    };
    let valid = claude_request("hostile", 0, 3);

    // No token, a wrong one: 401, before anything else is looked at.
    refused(
        &post(&[("Content-Type", "application/json")], &valid),
        401,
        "Authorization",
    );
    refused(
        &post(
            &[
                ("Content-Type", "application/json"),
                ("Authorization", "Bearer team-token-0123456780"),
            ],
            &valid,
        ),
        401,
        "unknown token",
    );
    // Another content type, another encoding: 415.
    refused(
        &post(
            &[("Content-Type", "text/plain"), ("Authorization", &auth)],
            &valid,
        ),
        415,
        "Content-Type",
    );
    refused(
        &post(&[js[0], js[1], ("Content-Encoding", "br")], &valid),
        415,
        "Content-Encoding",
    );
    // Truncated protobuf: a field that says 200 bytes follow, 3 do.
    refused(
        &post(&pb, &[0x0A, 0xC8, 0x01, 1, 2, 3]),
        400,
        "invalid OTLP protobuf",
    );
    // A repeated field whose length header says a billion bytes (resource_logs, 1e9).
    refused(
        &post(&pb, &[0x0A, 0x80, 0x94, 0xEB, 0xDC, 0x03, 0x0A]),
        400,
        "invalid OTLP protobuf",
    );
    // Invalid UTF-8 in a protobuf string (a resource attribute's key) and in JSON.
    let bad_utf8_pb = [0x0A, 0x08, 0x0A, 0x06, 0x0A, 0x04, 0x0A, 0x02, 0xFF, 0xFE];
    refused(&post(&pb, &bad_utf8_pb), 400, "invalid OTLP protobuf");
    let mut bad_utf8_json = valid.clone();
    let at = bad_utf8_json
        .windows(7)
        .position(|w| w == b"hostile")
        .expect("session");
    bad_utf8_json[at] = 0xFF;
    refused(&post(&js, &bad_utf8_json), 400, "invalid OTLP JSON");
    // Over the body limit, as sent and as inflated (a gzip bomb): 413.
    refused(&post(&js, &vec![b' '; 70 * 1024]), 413, "--max-body");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&vec![b' '; 8 << 20]).expect("gzip");
    let bomb = gz.finish().expect("gzip");
    refused(
        &post(&[js[0], js[1], ("Content-Encoding", "gzip")], &bomb),
        413,
        "inflates",
    );
    refused(
        &post(&[js[0], js[1], ("Content-Encoding", "gzip")], b"not gzip"),
        400,
        "gzip",
    );
    // A valid gzip member followed by junk: 400 (members may follow one another, junk not).
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&valid).expect("gzip");
    let mut junk_after = gz.finish().expect("gzip");
    junk_after.extend_from_slice(b"trailing junk");
    refused(
        &post(&[js[0], js[1], ("Content-Encoding", "gzip")], &junk_after),
        400,
        "gzip",
    );
    // Too many records; an attribute over its limit (named).
    refused(
        &post(&js, &claude_request("hostile", 0, 101)),
        413,
        "--max-records",
    );
    let big = String::from_utf8(claude_request("hostile", 0, 1))
        .expect("utf8")
        .replace("claude_code.api_request", &"x".repeat(2000));
    refused(&post(&js, big.as_bytes()), 413, "--max-attribute-bytes");
    // The scope's name is kept in every payload: bounded as an attribute.
    let long_scope = String::from_utf8(claude_request("hostile", 0, 1))
        .expect("utf8")
        .replace(
            r#""scopeLogs":[{"#,
            &format!(
                r#""scopeLogs":[{{"scope":{{"name":"{}"}},"#,
                "s".repeat(2000)
            ),
        );
    refused(
        &post(&js, long_scope.as_bytes()),
        413,
        "the name of the scope",
    );
    // An error message is at most 1,000 characters, however deep the body's error.
    // (prost names every level of a nested message: a body 60 kvlists deep, cut short.)
    let a = post(&pb, &deep_kvlist_protobuf(60));
    assert_eq!(a.status, 400, "{}", String::from_utf8_lossy(&a.body));
    let message = String::from_utf8_lossy(&a.body).to_string();
    assert!(message.contains("invalid OTLP protobuf"), "{message}");
    assert!(message.len() < 1_100, "{} bytes: {message}", message.len());
    // Not POST, not a route: the answer says which routes there are.
    refused(
        &http(addr, "GET", "/v1/logs", &[], b"").expect("answer"),
        405,
        "POST /v1/logs",
    );
    refused(
        &http(addr, "POST", "/v1/nothing", &js, &valid).expect("answer"),
        404,
        "no route POST /v1/nothing",
    );
    // Still alive and well; a JSON error body is JSON.
    let a = post(&[("Content-Type", "application/json")], &valid);
    assert_eq!(json(&a.body)["code"], 16);
    assert!(a.headers.contains_key("www-authenticate"));
    assert_eq!(
        http(addr, "GET", "/healthz", &[], b"")
            .expect("healthz")
            .status,
        200
    );
    // /metrics is behind the tokens too.
    refused(
        &http(addr, "GET", "/metrics", &[], b"").expect("metrics"),
        401,
        "Authorization",
    );
    let metrics = String::from_utf8(
        http(addr, "GET", "/metrics", &[("Authorization", &auth)], b"")
            .expect("metrics")
            .body,
    )
    .expect("utf8");
    assert!(
        metrics.contains("kaizen_serve_rejects_total{reason=\"auth\"} 4"),
        "{metrics}"
    );
    server.stop();
    assert!(stored_identities(&store).is_empty(), "something was stored");
}

#[test]
fn metrics_are_answered_not_stored_and_partial_success_names_rejected_records() {
    let (_dir, store, _, server) = serve_in_tempdir(&["--flush-age", "100ms"]);
    let js = [("Content-Type", "application/json")];
    let metrics = br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"claude_code.token.usage",
      "sum":{"dataPoints":[{"asInt":"5","timeUnixNano":"1790846102000000000"},{"asInt":"7"}]}}]}]}]}"#;
    let a = http(server.addr, "POST", "/v1/metrics", &js, metrics).expect("answer");
    assert_eq!(a.status, 200);
    let body = json(&a.body);
    assert_eq!(body["partialSuccess"]["rejectedDataPoints"], 2, "{body}");
    assert!(
        body["partialSuccess"]["errorMessage"]
            .as_str()
            .expect("message")
            .contains("does not store metrics")
    );
    // One record with a time, one without: the second rejected, named.
    let logs = br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[
      {"timeUnixNano":"1790846102000000000","attributes":[{"key":"session.id","value":{"stringValue":"p"}}]},
      {"attributes":[{"key":"session.id","value":{"stringValue":"p"}}]}]}]}]}"#;
    let a = http(server.addr, "POST", "/v1/logs", &js, logs).expect("answer");
    assert_eq!(a.status, 200);
    let body = json(&a.body);
    assert_eq!(body["partialSuccess"]["rejectedLogRecords"], 1, "{body}");
    server.stop();
    assert_eq!(stored_identities(&store).len(), 1);
}

#[test]
fn refuses_to_listen_beyond_loopback_without_a_token() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = kaizen(&dir.path().join("store"))
        .args(["serve", "--listen", "0.0.0.0:0", "--spool"])
        .arg(dir.path().join("spool"))
        .output()
        .expect("serve");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refusing to listen on 0.0.0.0:0 without --token-file"),
        "{err}"
    );
}

/// One session from both sources: its transcript imported, its OTLP records served.
/// `kaizen report` counts the transcript's tokens once, and a session only served fully.
#[test]
fn report_counts_a_session_from_its_transcript_and_otlp_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let (store, spool) = (dir.path().join("store"), dir.path().join("spool"));
    let hour_ago = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    let ts = hour_ago
        .format(&time::format_description::well_known::Rfc3339)
        .expect("time");
    let ns = hour_ago.unix_timestamp_nanos();
    let root = dir.path().join("claude");
    std::fs::create_dir_all(root.join("projects/-p")).expect("mkdir");
    std::fs::write(
        root.join("projects/-p/both.jsonl"),
        format!(
            r#"{{"type":"assistant","sessionId":"both","uuid":"u1","timestamp":"{ts}","requestId":"r1","cwd":"/p","message":{{"id":"m1","role":"assistant","model":"claude-sonnet-4-5","content":[{{"type":"text","text":"hi"}}],"usage":{{"input_tokens":100,"output_tokens":7}}}}}}"#
        ) + "\n",
    )
    .expect("transcript");
    let out = kaizen(&store)
        .arg("import")
        .arg("claude")
        .arg(&root)
        .output()
        .expect("import");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let server = Server::start(&store, &spool, "127.0.0.1:0", &[]);
    for session in ["both", "served-only"] {
        let body = String::from_utf8(claude_request(session, 0, 1))
            .expect("utf8")
            .replace("1790846102000000000", &ns.to_string())
            .replace(r#"{"intValue":"10"}"#, r#"{"intValue":"100"}"#)
            .replace(r#"{"stringValue":"3"}"#, r#"{"stringValue":"7"}"#);
        let a = post_json_logs(server.addr, body.as_bytes());
        assert_eq!(a.status, 200);
    }
    server.stop();
    let totals = report_totals(&store);
    assert_eq!(
        (totals["tokens_in"], totals["tokens_out"]),
        (200, 14),
        "{totals:?}"
    );
    // Both are stored: sql sees the three events.
    assert_eq!(stored_identities(&store).len(), 3);
}
