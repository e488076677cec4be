//! `kaizen erase`, `kaizen redact` and `kaizen prune --payload-older-than` with real
//! processes: killed with
//! SIGKILL at random moments (on a folder and, when scripts/test started it, on S3 with
//! moto), after each of which the store verifies and reads every event exactly once, old
//! or new; reports give the same figures after a payload prune; an erasure removes the
//! import cursors that name the session.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Where a test's stores live: folders, or fresh prefixes on the moto server.
struct Place {
    kind: PlaceKind,
    _dir: tempfile::TempDir,
}

enum PlaceKind {
    Folder(PathBuf),
    S3 { endpoint: String, prefix: String },
}

fn places(name: &str) -> Vec<Place> {
    let dir = tempfile::tempdir().expect("tmp");
    let mut out = vec![Place {
        kind: PlaceKind::Folder(dir.path().to_owned()),
        _dir: dir,
    }];
    match std::env::var("KAIZEN_TEST_S3_MOTO") {
        Ok(endpoint) => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            out.push(Place {
                kind: PlaceKind::S3 {
                    endpoint,
                    prefix: format!("rewrites-{name}-{nanos:x}"),
                },
                _dir: tempfile::tempdir().expect("tmp"),
            });
        }
        Err(_) => assert!(
            std::env::var("CI").is_err(),
            "KAIZEN_TEST_S3_MOTO is not set: scripts/test starts moto"
        ),
    }
    out
}

/// One store: its URL and the options to reach it.
#[derive(Clone)]
struct Target {
    url: String,
    options: Vec<String>,
}

impl Place {
    /// The `n`th store of this place.
    fn store(&self, n: usize) -> Target {
        match &self.kind {
            PlaceKind::Folder(dir) => Target {
                url: dir
                    .join(format!("store-{n}"))
                    .to_str()
                    .expect("path")
                    .to_owned(),
                options: Vec::new(),
            },
            PlaceKind::S3 { endpoint, prefix } => Target {
                url: format!("s3://kaizen-test/{prefix}/store-{n}"),
                options: vec![
                    format!("aws_endpoint={endpoint}"),
                    "aws_allow_http=true".into(),
                    "aws_region=us-east-1".into(),
                    "aws_access_key_id=test".into(),
                    "aws_secret_access_key=test".into(),
                ],
            },
        }
    }
}

impl Target {
    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_kaizen"));
        c.arg("--store").arg(&self.url);
        for o in &self.options {
            c.arg("--store-option").arg(o);
        }
        c.args(args).env_remove("KAIZEN_STORE").stdin(Stdio::null());
        c
    }

    #[track_caller]
    fn ok(&self, args: &[&str]) -> String {
        let out: Output = self.command(args).output().expect("run kaizen");
        assert!(
            out.status.success(),
            "kaizen {args:?} on {}: exit {:?}\n{}",
            self.url,
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A copy of this store at `to` (a store of its own).
    fn copy_to(&self, to: &Target) {
        let mut args = vec!["copy", "--to", to.url.as_str()];
        for o in &to.options {
            args.extend(["--to-option", o.as_str()]);
        }
        self.ok(&args);
    }

    /// Every event, by identity, as `scan --format jsonl` gives it; an identity given
    /// twice fails the test.
    #[track_caller]
    fn events(&self) -> BTreeMap<(String, u64), serde_json::Value> {
        let text = self.ok(&["scan", "--format", "jsonl"]);
        let mut out = BTreeMap::new();
        for line in text.lines() {
            let value: serde_json::Value = serde_json::from_str(line).expect("json line");
            let key = (
                value["session_id"].as_str().expect("session").to_owned(),
                value["seq"].as_u64().expect("seq"),
            );
            assert!(
                out.insert(key.clone(), value).is_none(),
                "{key:?} read twice"
            );
        }
        out
    }

    /// `verify --deep` passes (leftovers of the killed process are not problems).
    #[track_caller]
    fn verifies(&self) {
        self.ok(&["verify", "--deep"]);
    }
}

/// A store of `kaizen generate`'s corpus, ingested in four runs (several files a day).
fn pristine(place: &Place, dir: &Path) -> Target {
    let store = place.store(0);
    let corpus = dir.join("events.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_kaizen"))
        .args([
            "generate", "--events", "40000", "--days", "3", "--seed", "11",
        ])
        .output()
        .expect("generate");
    assert!(out.status.success());
    std::fs::write(&corpus, &out.stdout).expect("write corpus");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    for (i, part) in lines.chunks(lines.len().div_ceil(4)).enumerate() {
        let path = dir.join(format!("part-{i}.jsonl"));
        std::fs::write(&path, part.join("\n") + "\n").expect("write part");
        store.ok(&["ingest", path.to_str().expect("path")]);
    }
    store
}

/// Moments to kill at, spread over the last 70% of `run` (the time a whole run
/// takes; its first moments start the process and list the store), from a fixed seed.
fn moments(run: Duration, n: usize, seed: u64) -> Vec<Duration> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let fraction = (state >> 11) as f64 / (1u64 << 53) as f64;
            run.mul_f64(0.3 + 0.7 * fraction)
        })
        .collect()
}

/// Runs `args` on `store`, killed with SIGKILL after `after` (if still running).
fn kill_after(store: &Target, args: &[&str], after: Duration) {
    let mut child = store
        .command(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    while start.elapsed() < after {
        if child.try_wait().expect("wait").is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The time a whole run of `args` takes on a fresh copy of `pristine`.
fn timed_run(pristine: &Target, fresh: &Target, args: &[&str]) -> Duration {
    pristine.copy_to(fresh);
    let start = Instant::now();
    fresh.ok(args);
    start.elapsed()
}

/// The `n` sessions with the most events.
fn biggest_sessions(events: &BTreeMap<(String, u64), serde_json::Value>, n: usize) -> Vec<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for (session, _) in events.keys() {
        *counts.entry(session).or_default() += 1;
    }
    let mut by_size: Vec<(usize, &str)> = counts.into_iter().map(|(s, c)| (c, s)).collect();
    by_size.sort();
    by_size
        .iter()
        .rev()
        .take(n)
        .map(|(_, s)| s.to_string())
        .collect()
}

/// Every event of a store, by identity.
type Events = BTreeMap<(String, u64), serde_json::Value>;

/// The kill test every rewrite passes, on each place (`places(name)`): the command
/// `args_of(base)` runs on fresh copies of a pristine store, each killed with SIGKILL at
/// one of `n` moments (from `seed`) of a whole run; after each kill the store verifies and
/// `killed(base, now, at)` checks every event read (and says what it saw, printed); then
/// the command runs again whole, the store verifies, and `done(base, after, at)` checks
/// the result.
fn killed_at_moments(
    name: &str,
    n: usize,
    seed: u64,
    args_of: impl Fn(&Events) -> Vec<String>,
    killed: impl Fn(&Events, &Events, Duration) -> String,
    done: impl Fn(&Events, &Events, Duration),
) {
    for place in places(name) {
        let dir = tempfile::tempdir().expect("tmp");
        let pristine = pristine(&place, dir.path());
        let base = pristine.events();
        let owned = args_of(&base);
        let args: Vec<&str> = owned.iter().map(String::as_str).collect();
        let run = timed_run(&pristine, &place.store(1), &args);
        for (i, at) in moments(run, n, seed).into_iter().enumerate() {
            let store = place.store(i + 2);
            pristine.copy_to(&store);
            kill_after(&store, &args, at);
            store.verifies();
            let seen = killed(&base, &store.events(), at);
            eprintln!("{}: killed at {at:?} of {run:?}: {seen}", store.url);
            store.ok(&args);
            store.verifies();
            done(&base, &store.events(), at);
        }
    }
}

#[test]
fn erase_killed_at_any_moment_reads_every_event_once() {
    let gone = |base: &Events| biggest_sessions(base, 8);
    killed_at_moments(
        "erase",
        10,
        0xe7a5e,
        |base| {
            let mut args = vec!["erase".to_owned()];
            for s in gone(base) {
                args.extend(["--session".to_owned(), s]);
            }
            args
        },
        |base, now, at| {
            let gone = gone(base);
            for (key, event) in base {
                match now.get(key) {
                    Some(read) => assert_eq!(read, event, "{key:?} changed (killed at {at:?})"),
                    None => assert!(gone.contains(&key.0), "{key:?} lost (killed at {at:?})"),
                }
            }
            assert!(now.keys().all(|k| base.contains_key(k)));
            let left = now.keys().filter(|k| gone.contains(&k.0)).count();
            format!("{left} erased event(s) still there")
        },
        |base, done, at| {
            // Run again: the erasure completes.
            let gone = gone(base);
            let want: BTreeMap<_, _> = (base.iter())
                .filter(|(k, _)| !gone.contains(&k.0))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            assert_eq!(*done, want, "killed at {at:?}, then run again");
        },
    );
}

/// The typed columns of an event (everything but its payload).
fn typed(event: &serde_json::Value) -> serde_json::Value {
    let mut typed = event.clone();
    typed.as_object_mut().expect("object").remove("payload");
    typed
}

#[test]
fn payload_prune_killed_at_any_moment_reads_every_event_once() {
    killed_at_moments(
        "payload",
        6,
        0x9a1d,
        |_| {
            ["prune", "--payload-older-than", "0d"]
                .map(str::to_owned)
                .to_vec()
        },
        |base, now, at| {
            assert_eq!(now.len(), base.len(), "killed at {at:?}");
            for (key, event) in base {
                let read = now.get(key).expect("every event");
                assert_eq!(typed(read), typed(event), "{key:?} (killed at {at:?})");
                let pruned = read["payload"].get("kaizen_payload_pruned").is_some();
                assert!(pruned || read == event, "{key:?}: old or new");
            }
            let pruned = (now.values())
                .filter(|e| e["payload"].get("kaizen_payload_pruned").is_some())
                .count();
            format!("{pruned} payload(s) pruned")
        },
        |base, done, _| {
            assert_eq!(done.len(), base.len());
            assert!(
                done.values()
                    .all(|e| e["payload"]["kaizen_payload_pruned"] == true)
            );
        },
    );
}

/// `kaizen redact` killed at random moments (a user pattern, `naïve`, stands for a secret
/// many generated payloads hold): every event read once, its typed columns as they were,
/// its payload the original or the redacted one; run again, no match is left.
#[test]
fn redact_killed_at_any_moment_reads_every_event_once() {
    killed_at_moments(
        "redact",
        6,
        0x7ed4c7,
        |base| {
            let holding = (base.values())
                .filter(|e| e["payload"].to_string().contains("naïve"))
                .count();
            assert!(holding > 1000, "{holding} payloads hold the word");
            ["redact", "--redact-pattern", "naïve"]
                .map(str::to_owned)
                .to_vec()
        },
        |base, now, at| {
            assert_eq!(now.len(), base.len(), "killed at {at:?}");
            let mut redacted = 0;
            for (key, event) in base {
                let read = now.get(key).expect("every event");
                assert_eq!(typed(read), typed(event), "{key:?} (killed at {at:?})");
                if read != event {
                    let text = read["payload"].to_string();
                    assert!(
                        text.contains("[REDACTED:custom-1]") && !text.contains("naïve"),
                        "{key:?}: old or redacted, not {text}"
                    );
                    redacted += 1;
                }
            }
            format!("{redacted} payload(s) redacted")
        },
        |base, done, _| {
            assert_eq!(done.len(), base.len());
            assert!(
                done.values()
                    .all(|e| !e["payload"].to_string().contains("naïve"))
            );
        },
    );
}

/// The columns of a report's CSV other than the latency percentiles, which DataFusion's
/// `approx_percentile_cont` (a t-digest) computes from the order rows come in: a day
/// rewritten into one file (by compaction as much as by a payload prune) moves them by a
/// few milliseconds.
fn exact_columns(csv: &str) -> Vec<Vec<String>> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let approximate = |i: usize| header.get(i).is_some_and(|h| h.ends_with("_latency_ms"));
    lines
        .map(|l| {
            (l.split(',').enumerate())
                .filter(|(i, _)| !approximate(*i))
                .map(|(_, v)| v.to_owned())
                .collect()
        })
        .collect()
}

/// Reports over days whose payloads were pruned give the same figures: cost, tokens,
/// tool calls and failures, errors, retries per day, tool, model, session and agent exactly
/// as before; latency percentiles exactly as the same store compacted (the same files,
/// payloads whole) gives them.
#[test]
fn reports_over_pruned_days_are_unchanged() {
    let dir = tempfile::tempdir().expect("tmp");
    let place = Place {
        kind: PlaceKind::Folder(dir.path().join("stores")),
        _dir: tempfile::tempdir().expect("tmp"),
    };
    let store = pristine(&place, dir.path());
    let compacted = place.store(1);
    store.copy_to(&compacted);
    compacted.ok(&["compact", "--level", "3"]);
    let report = |on: &Target, by: &str| {
        on.ok(&["report", "--days", "100000", "--by", by, "--format", "csv"])
    };
    let bys = ["day", "tool", "model", "session", "agent"];
    let before: Vec<String> = bys.iter().map(|by| report(&store, by)).collect();
    let same_files: Vec<String> = bys.iter().map(|by| report(&compacted, by)).collect();
    let bytes_before = store.ok(&["partitions", "--format", "json"]);
    let out = store.ok(&["prune", "--payload-older-than", "0d"]);
    assert!(
        out.contains("pruned the payloads of 40000 event(s)"),
        "{out}"
    );
    for ((by, was), compacted) in bys.iter().zip(&before).zip(&same_files) {
        let now = report(&store, by);
        assert_eq!(exact_columns(&now), exact_columns(was), "report --by {by}");
        assert_eq!(
            &now, compacted,
            "report --by {by}, beside the compacted store"
        );
    }
    let verify = store.ok(&["verify", "--deep"]);
    assert_eq!(
        verify.matches("payload-pruned 2026-").count(),
        4,
        "{verify}"
    );
    let size = |json: &str| -> u64 {
        let days: serde_json::Value = serde_json::from_str(json).expect("json");
        let days = days.as_array().expect("days");
        days.iter()
            .map(|d| d["bytes"].as_u64().expect("bytes"))
            .sum()
    };
    let bytes_after = store.ok(&["partitions", "--format", "json"]);
    assert!(
        size(&bytes_after) * 2 < size(&bytes_before),
        "{bytes_after} vs {bytes_before}"
    );
}

/// `kaizen erase` removes the import cursors that name the session (and every older
/// version of the cursors document): no file under the store's `state/` holds its id;
/// the other sessions' cursors stay, so a rerun of the import writes nothing.
#[test]
fn erase_removes_the_import_cursors_of_the_session() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = Target {
        url: dir.path().join("store").to_str().expect("path").to_owned(),
        options: Vec::new(),
    };
    let fixtures =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../kaizen-import/tests/fixtures/claude");
    store.ok(&["import", "claude", fixtures.to_str().expect("path")]);
    let gone = "22222222-2222-2222-2222-222222222222";
    let state = dir.path().join("store/state");
    let holding = |id: &str| -> Vec<PathBuf> {
        let mut found = Vec::new();
        for entry in walk(&state) {
            let bytes = std::fs::read(&entry).expect("read");
            if bytes.windows(id.len()).any(|w| w == id.as_bytes()) {
                found.push(entry);
            }
        }
        found
    };
    assert!(
        !holding(gone).is_empty(),
        "the cursors name the session before"
    );
    // Part of an id, or an empty one, names no session: no cursor goes.
    let snapshot = || -> Vec<(PathBuf, Vec<u8>)> {
        let mut files: Vec<_> = (walk(&state).into_iter())
            .map(|p| (p.clone(), std::fs::read(&p).expect("read")))
            .collect();
        files.sort();
        files
    };
    let cursors_before = snapshot();
    for partial in ["2222", "-", "claude", "jsonl"] {
        let out = store.ok(&["erase", "--session", partial]);
        assert!(
            !out.contains("import cursor of"),
            "--session {partial}: {out}"
        );
    }
    let empty = store
        .command(&["erase", "--session", ""])
        .output()
        .expect("kaizen");
    assert!(!empty.status.success());
    assert!(String::from_utf8_lossy(&empty.stderr).contains("a session id cannot be empty"));
    assert!(cursors_before == snapshot(), "the cursors are as they were");
    let out = store.ok(&["erase", "--session", gone]);
    assert!(out.contains("removed the import cursor of claude"), "{out}");
    assert!(holding(gone).is_empty(), "{:?}", holding(gone));
    assert!(
        !holding("44444444-4444-4444-4444-444444444444").is_empty(),
        "others kept"
    );
    let sessions: BTreeSet<String> = store.events().keys().map(|k| k.0.clone()).collect();
    assert!(!sessions.contains(gone));
    assert!(!sessions.is_empty());
    store.verifies();
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Every text value of every data file under `dir` (each column of each row group,
/// decompressed and decoded by the parquet crate, not through kaizen's reader).
fn stored_text(dir: &Path) -> Vec<String> {
    use arrow::array::{Array, AsArray};
    let mut out = Vec::new();
    for path in walk(dir) {
        if path.extension().is_none_or(|e| e != "parquet") {
            continue;
        }
        let file = std::fs::File::open(&path).expect("open");
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .expect("parquet")
            .build()
            .expect("reader");
        for batch in reader {
            let batch = batch.expect("batch");
            for column in batch.columns() {
                if let Some(text) = column.as_string_opt::<i32>() {
                    out.extend(
                        (0..text.len())
                            .filter(|&i| text.is_valid(i))
                            .map(|i| text.value(i).to_owned()),
                    );
                }
            }
        }
    }
    out
}

/// `kaizen redact` over what an ingest with `--keep-secrets` stored: the planted secrets
/// are gone from every data file (decoded by the parquet crate), every other event and
/// every typed column is as before, `verify --deep` passes, a second run finds nothing,
/// and `--session` and `--from`/`--to` keep the rewrite to what they name.
#[test]
fn redact_rewrites_only_what_holds_a_secret() {
    const GITHUB: &str = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789";
    const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    const SLACK: &str = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx";
    let dir = tempfile::tempdir().expect("tmp");
    let store = dir.path().join("store");
    let day1 = 1_790_812_800_000u64; // 2026-10-01
    let day2 = day1 + 86_400_000;
    let event = |session: &str, seq: u64, ts: u64, payload: serde_json::Value| {
        serde_json::json!({"session_id": session, "seq": seq, "ts_ms": ts, "ts_exact": true,
            "kind": "ToolResult", "source": "Tail", "tool": "Bash", "tokens_in": 7,
            "payload": payload})
        .to_string()
    };
    let mut lines = vec![
        event(
            "a",
            0,
            day1,
            serde_json::json!({"output": format!("token {GITHUB} here")}),
        ),
        event(
            "a",
            1,
            day1 + 1,
            serde_json::json!({"nested": {"auth": format!("Bearer {JWT}")}}),
        ),
        event(
            "b",
            0,
            day2,
            serde_json::json!({"output": format!("SLACK={SLACK}")}),
        ),
        event(
            "c",
            0,
            day2 + 5,
            serde_json::json!({"output": format!("again {GITHUB}")}),
        ),
    ];
    for i in 0..200 {
        lines.push(event(
            "plain",
            i,
            day1 + 10 + i,
            serde_json::json!({"text": format!("line {i}")}),
        ));
    }
    let corpus = dir.path().join("events.jsonl");
    std::fs::write(&corpus, lines.join("\n") + "\n").expect("write");
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_kaizen"))
            .arg("--store")
            .arg(&store)
            .args(args)
            .env_remove("KAIZEN_STORE")
            .output()
            .expect("kaizen");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&["ingest", "--keep-secrets", corpus.to_str().expect("utf-8")]);
    let before = run(&["scan", "--format", "jsonl"]);
    let has = |secret: &str| stored_text(&store).iter().any(|t| t.contains(secret));
    assert!(has(GITHUB) && has(JWT) && has(SLACK), "planted as they are");

    // A dry run writes nothing.
    let dry = run(&["redact", "--dry-run"]);
    assert!(dry.contains("would rewrite"), "{dry}");
    assert_eq!(run(&["scan", "--format", "jsonl"]), before);

    // Only session b's day, by session and by time: the other secrets stay.
    let only_b = run(&["redact", "--session", "b"]);
    assert!(only_b.contains("redacted 1 secret(s): slack"), "{only_b}");
    assert!(!has(SLACK) && has(GITHUB) && has(JWT));
    let only_day2 = run(&["redact", "--from", "2026-10-02", "--to", "2026-10-03"]);
    assert!(
        only_day2.contains("redacted 1 secret(s): github-token 1"),
        "{only_day2}"
    );
    assert!(has(GITHUB) && has(JWT), "day 1's stay");

    // The rest; then nothing is left to find.
    let all = run(&["redact"]);
    assert!(all.contains("redacted 2 secret(s)"), "{all}");
    for secret in [GITHUB, JWT, SLACK] {
        assert!(!has(secret), "{secret} is gone from every data file");
    }
    let again = run(&["redact"]);
    assert!(again.contains("redacted no secret; 0 event(s)"), "{again}");
    run(&["verify", "--deep"]);

    // Every event is still there once, with its typed columns; only the secrets changed.
    let after = run(&["scan", "--format", "jsonl"]);
    let parse = |text: &str| -> Vec<serde_json::Value> {
        text.lines()
            .map(|l| serde_json::from_str(l).expect("json"))
            .collect()
    };
    let (before, after) = (parse(&before), parse(&after));
    assert_eq!(before.len(), after.len());
    for (b, a) in before.iter().zip(&after) {
        let typed = |e: &serde_json::Value| {
            let mut e = e.clone();
            e.as_object_mut().expect("object").remove("payload");
            e
        };
        assert_eq!(typed(b), typed(a));
        let (bp, ap) = (b["payload"].to_string(), a["payload"].to_string());
        if bp.contains("line ") {
            assert_eq!(bp, ap, "an event without a secret is as it was");
        } else {
            assert!(ap.contains("[REDACTED:"), "{ap}");
        }
    }
}
