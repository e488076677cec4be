//! Measures the redactor on a tree of agent logs (or any text files): every line of every
//! file under DIR, as `kaizen import` hands them to it. Prints MB/s of reading the lines
//! alone and of redacting them, how many lines each detector's expression ran on (what the
//! prefilter let through), and the matches per detector.
//!
//! `cargo run --release -p kaizen-import --example redact_scan -- DIR [--show N]`

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use kaizen_import::{RedactCounts, Redactor};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = PathBuf::from(args.first().expect("usage: redact_scan DIR [--show N]"));
    let show: usize = match args.get(1).map(String::as_str) {
        Some("--show") => args.get(2).and_then(|n| n.parse().ok()).unwrap_or(10),
        _ => 0,
    };
    let mut paths = Vec::new();
    files(&dir, &mut paths);
    let texts: Vec<String> = (paths.iter())
        .filter_map(|p| std::fs::read(p).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .collect();
    let lines: Vec<&str> = texts.iter().flat_map(|t| t.lines()).collect();
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    let mb = bytes as f64 / 1e6;
    let r = Redactor::builtin();
    // Reading alone: a pass over every line's bytes (what any reader pays).
    let started = Instant::now();
    let newlines: usize = lines.iter().map(|l| memchr_count(l.as_bytes())).sum();
    let read = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut counts = RedactCounts::new();
    let mut changed = 0usize;
    let mut shown = 0;
    for line in &lines {
        let json = serde_json::from_str::<serde::de::IgnoredAny>(line).is_ok();
        let out = match json {
            true => r.redact_json(line, &mut counts),
            false => r.redact_text(line, &mut counts),
        };
        if let std::borrow::Cow::Owned(o) = out {
            changed += 1;
            if shown < show {
                shown += 1;
                let at = (line.bytes().zip(o.bytes()))
                    .position(|(a, b)| a != b)
                    .unwrap_or(0);
                let from = o.floor_char_boundary(at.saturating_sub(80));
                let to = o.ceil_char_boundary((at + 80).min(o.len()));
                println!("  …{}…", &o[from..to]);
            }
        }
    }
    let redact = started.elapsed().as_secs_f64();
    let started = Instant::now();
    for line in &lines {
        let _ = serde_json::from_str::<serde::de::IgnoredAny>(line);
    }
    let parse = started.elapsed().as_secs_f64();
    let mut ran: BTreeMap<&str, usize> = BTreeMap::new();
    for line in &lines {
        for d in r.candidates(line) {
            *ran.entry(d).or_default() += 1;
        }
    }
    println!(
        "{} files, {} lines, {mb:.1} MB ({newlines} escaped newlines); read pass {:.0} MB/s; JSON check alone {:.0} MB/s; check + redact {:.0} MB/s, so redaction alone {:.0} MB/s",
        paths.len(),
        lines.len(),
        mb / read.max(1e-9),
        mb / parse.max(1e-9),
        mb / redact.max(1e-9),
        mb / (redact - parse).max(1e-9),
    );
    println!("lines each detector's expression ran on: {ran:?}");
    println!("lines changed: {changed}; matches per detector: {counts:?}");
}

/// Escaped newlines (`\n`) in a line: a stand-in pass over its bytes.
fn memchr_count(b: &[u8]) -> usize {
    b.windows(2).filter(|w| w == b"\\n").count()
}
