//! Data written is data kept, proven with real processes: `kaizen ingest` killed with
//! SIGKILL at many moments, concurrent writers, ingest + compaction + scan at once. Each
//! runs on a local folder and, when scripts/test started it, on S3 (moto). Every loop is
//! bounded in count and time.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const EVENTS: usize = 40_000;

/// Where a test's store lives: a folder, or a fresh prefix on the moto server.
struct Target {
    url: String,
    options: Vec<String>,
    _dir: Option<tempfile::TempDir>,
}

fn targets(name: &str) -> Vec<Target> {
    let dir = tempfile::tempdir().expect("tmp");
    let mut out = vec![Target {
        url: dir.path().join("store").to_str().expect("path").to_owned(),
        options: Vec::new(),
        _dir: Some(dir),
    }];
    match std::env::var("KAIZEN_TEST_S3_MOTO") {
        Ok(endpoint) => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            out.push(Target {
                url: format!("s3://kaizen-test/reliability-{name}-{nanos:x}"),
                options: [
                    format!("aws_endpoint={endpoint}"),
                    "aws_allow_http=true".into(),
                    "aws_region=us-east-1".into(),
                    "aws_access_key_id=test".into(),
                    "aws_secret_access_key=test".into(),
                ]
                .into(),
                _dir: None,
            })
        }
        Err(_) => assert!(
            std::env::var("CI").is_err(),
            "KAIZEN_TEST_S3_MOTO is not set: scripts/test starts moto"
        ),
    }
    out
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

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run kaizen")
    }

    fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn kaizen")
    }

    #[track_caller]
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} on {}: {}",
            self.url,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The identities a scan gives, checked to be unique.
    #[track_caller]
    fn identities(&self) -> HashSet<(String, u64)> {
        let text = self.ok(&["scan", "--columns", "session_id,seq", "--format", "jsonl"]);
        let mut seen = HashSet::new();
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).expect("json");
            let key = (
                v["session_id"].as_str().expect("id").to_owned(),
                v["seq"].as_u64().expect("seq"),
            );
            assert!(
                seen.insert(key.clone()),
                "{key:?} scanned twice on {}",
                self.url
            );
        }
        seen
    }
}

/// A corpus file of `EVENTS` events (made once per test by `kaizen generate`).
fn corpus(dir: &Path, seed: u64) -> (PathBuf, HashSet<(String, u64)>) {
    let path = dir.join(format!("corpus-{seed}.jsonl"));
    let out = Command::new(env!("CARGO_BIN_EXE_kaizen"))
        .args([
            "generate",
            "--events",
            &EVENTS.to_string(),
            "--days",
            "4",
            "--seed",
            &seed.to_string(),
        ])
        .output()
        .expect("generate");
    assert!(out.status.success());
    std::fs::write(&path, &out.stdout).expect("write corpus");
    let keys = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json");
            (
                v["session_id"].as_str().expect("id").to_owned(),
                v["seq"].as_u64().expect("seq"),
            )
        })
        .collect();
    (path, keys)
}

/// The corpus dealt line by line into `n` files, each with events of every day.
fn split(file: &Path, n: usize, dir: &Path) -> Vec<PathBuf> {
    let text = std::fs::read_to_string(file).expect("corpus");
    (0..n)
        .map(|w| {
            let part = dir.join(format!("part-{w}-of-{n}.jsonl"));
            let lines: String = text
                .lines()
                .skip(w)
                .step_by(n)
                .map(|l| format!("{l}\n"))
                .collect();
            std::fs::write(&part, lines).expect("write part");
            part
        })
        .collect()
}

#[test]
fn ingest_killed_at_any_moment_loses_and_duplicates_nothing() {
    let work = tempfile::tempdir().expect("tmp");
    let (file, keys) = corpus(work.path(), 3);
    let file = file.to_str().expect("path");
    for target in targets("kill") {
        // How long a whole ingest takes here, to spread the kills over it.
        let probe = Target {
            url: format!("{}-probe", target.url),
            options: target.options.clone(),
            _dir: None,
        };
        let started = Instant::now();
        probe.ok(&["ingest", file]);
        let full = started.elapsed();

        for k in 0..10u32 {
            let delay = full.mul_f64(f64::from(k) / 9.0 * 1.2);
            let mut child = target.spawn(&["ingest", file]);
            std::thread::sleep(delay);
            let finished = child
                .try_wait()
                .expect("wait")
                .is_some_and(|status| status.success());
            let _ = child.kill(); // SIGKILL on Unix
            let _ = child.wait();

            let verify = target.run(&["verify"]);
            let said = String::from_utf8_lossy(&verify.stderr);
            if !verify.status.success() && said.contains("no store at") {
                // Killed before it staged anything: nothing is there, not even a store.
                assert!(!finished, "a finished ingest leaves a store: {said}");
                continue;
            }
            assert!(verify.status.success(), "verify on {}: {said}", target.url);
            let seen = target.identities();
            assert!(seen.is_subset(&keys), "only events of the input");
            if finished {
                assert_eq!(seen, keys, "an ingest that reported success lost nothing");
            }
        }
        target.ok(&["ingest", file]);
        assert_eq!(
            target.identities(),
            keys,
            "after a rerun, every event exactly once"
        );
        target.ok(&["verify", "--deep"]);
    }
}

#[test]
fn concurrent_writers_keep_every_event() {
    let work = tempfile::tempdir().expect("tmp");
    let (file, keys) = corpus(work.path(), 5);
    let parts = split(&file, 4, work.path());
    for target in targets("concurrent") {
        let children: Vec<Child> = parts
            .iter()
            .map(|p| target.spawn(&["ingest", p.to_str().expect("path")]))
            .collect();
        for child in children {
            let out = child.wait_with_output().expect("wait");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert_eq!(target.identities(), keys);
        let partitions: serde_json::Value =
            serde_json::from_str(&target.ok(&["partitions", "--format", "json"])).expect("json");
        for day in partitions.as_array().expect("days") {
            assert_eq!(
                day["files"], 4,
                "each writer its own file, none replaced: {day}"
            );
        }
        target.ok(&["verify", "--deep"]);
    }
}

#[test]
fn ingest_compaction_and_scans_at_once_see_each_event_once() {
    let work = tempfile::tempdir().expect("tmp");
    let (file, keys) = corpus(work.path(), 9);
    let parts = split(&file, 6, work.path());
    for target in targets("mixed") {
        // The first part alone: compaction and scans need a store to be there.
        let mut pending = parts.iter();
        let first = pending.next().expect("a part");
        target.ok(&["ingest", first.to_str().expect("path")]);
        let mut writer = None::<Child>;
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut rounds = 0;
        loop {
            // One ingest at a time in the background, chunk after chunk.
            let running = writer
                .as_mut()
                .is_some_and(|c| c.try_wait().expect("wait").is_none());
            if !running {
                if let Some(done) = writer.take() {
                    let out = done.wait_with_output().expect("wait");
                    assert!(
                        out.status.success(),
                        "{}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
                match pending.next() {
                    Some(part) => {
                        writer = Some(target.spawn(&["ingest", part.to_str().expect("path")]))
                    }
                    None => break,
                }
            }
            let compact = target.spawn(&["compact", "--target-size", "64MiB", "--level", "3"]);
            let seen = target.identities(); // fails on any duplicate or error
            assert!(seen.is_subset(&keys));
            let out = compact.wait_with_output().expect("wait");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            rounds += 1;
            assert!(Instant::now() < deadline, "bounded: {rounds} rounds");
        }
        target.ok(&["compact", "--level", "3"]);
        assert_eq!(target.identities(), keys);
        target.ok(&["verify", "--deep"]);
    }
}
