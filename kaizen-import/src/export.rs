//! Writing imported agent logs back: every file at its relative path, byte for byte.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

use base64::Engine as _;
use kaizen_core::Event;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::{Agent, Error, Result};

/// What an export wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportReport {
    /// Files written (or found already there with the same bytes).
    pub files: u64,
    /// Lines written (for a Gemini `.json` document: its messages).
    pub lines: u64,
    /// Bytes written.
    pub bytes: u64,
    /// Events that are not imported agent-log lines (kaizen's own events, or another agent
    /// than the one exported): not written.
    pub events_skipped: u64,
}

#[derive(Deserialize)]
struct Wrapper<'a> {
    agent: Option<String>,
    path: Option<String>,
    line: Option<u64>,
    /// `null` is a record too (a line `null`): absent and `null` must differ.
    #[serde(borrow, default, deserialize_with = "some_raw")]
    record: Option<&'a RawValue>,
    text: Option<String>,
    bytes_b64: Option<String>,
    crlf: Option<bool>,
    /// The line was the file's last and had no `\n` when it was imported.
    no_newline: Option<bool>,
    /// The `\n` of line `line`, come after the line was imported (no text of its own).
    newline: Option<bool>,
    index: Option<u64>,
    before: Option<String>,
    head: Option<String>,
    tail: Option<String>,
    messages: Option<u64>,
    version: Option<u64>,
    /// The file's version (absent: the first), for files rewritten since an import.
    generation: Option<u64>,
}

fn some_raw<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

/// One version of a Gemini `.json` document's text around its messages.
struct Skeleton {
    /// The text before the first message, or the whole file when `whole`.
    head: Vec<u8>,
    /// `head` is the whole file (a document that was not UTF-8 JSON).
    whole: bool,
    /// The text after the last message.
    tail: String,
    /// How many messages the version has.
    messages: u64,
}

/// A Gemini `.json` document's parts.
#[derive(Default)]
struct Document {
    /// (version, ts_ms, seq) → skeleton: the latest wins. `version` is the import's count
    /// of the document's versions (payload `version`, absent in the first): the document's
    /// own times (`lastUpdated`, the event's `ts_ms`) may stay the same when it changes.
    versions: BTreeMap<(u64, u64, u64), Skeleton>,
    /// index → (text before it, its JSON text).
    /// Its versions when it was rewritten: the latest is written.
    messages: BTreeMap<(u64, u64), (String, String)>,
}

/// One line of a file: its bytes without the `\n`, and whether it had one when imported.
/// A line imported before its `\n` was written has none unless a later line follows:
/// then the `\n` is certainly there, the only thing that separates them.
#[derive(PartialEq, Eq)]
struct Line {
    bytes: Vec<u8>,
    newline: bool,
}

/// One version of a line-based file.
#[derive(Default)]
struct Version {
    /// Its lines by number.
    lines: BTreeMap<u64, Line>,
    /// Lines whose `\n` came after they were imported.
    late_newlines: std::collections::BTreeSet<u64>,
}

enum Parts {
    /// Each version of the file (see [`crate::Cursor::generation`]).
    Lines(BTreeMap<u64, Version>),
    Document(Document),
}

/// Collects imported events, then writes their files back. Events may come in any order
/// (and twice); each file is held in memory until [`Exporter::finish`], so export a large
/// archive a session or a day at a time.
pub struct Exporter {
    out_dir: PathBuf,
    only: Option<Agent>,
    files: BTreeMap<(Agent, String), Parts>,
    skipped: u64,
}

impl Exporter {
    /// Writes under `out_dir`: with `only = Some(agent)`, that agent's files at their
    /// relative paths (`out_dir/projects/…` for Claude, so `CLAUDE_CONFIG_DIR=out_dir`
    /// reads them); with `None`, every agent's under `out_dir/<agent>/…`.
    pub fn new(out_dir: impl Into<PathBuf>, only: Option<Agent>) -> Self {
        Exporter {
            out_dir: out_dir.into(),
            only,
            files: BTreeMap::new(),
            skipped: 0,
        }
    }

    /// Takes one event. Returns `false` (and counts it) when it is not an imported
    /// agent-log line of the agent exported.
    pub fn add(&mut self, event: &Event) -> Result<bool> {
        let text = event.payload.as_json_text();
        let Ok(w) = serde_json::from_str::<Wrapper>(text) else {
            self.skipped += 1;
            return Ok(false);
        };
        let agent = w.agent.as_deref().and_then(Agent::from_name);
        let (Some(agent), Some(path)) = (agent, w.path.clone()) else {
            self.skipped += 1;
            return Ok(false);
        };
        if agent == Agent::Kaizen || self.only.is_some_and(|a| a != agent) {
            self.skipped += 1;
            return Ok(false);
        }
        let conflict = |what: String| Error::Export {
            path: path.clone(),
            reason: what,
        };
        let is_document = agent == Agent::Gemini && path.ends_with(".json");
        let parts = self.files.entry((agent, path.clone())).or_insert_with(|| {
            if is_document {
                Parts::Document(Document::default())
            } else {
                Parts::Lines(BTreeMap::new())
            }
        });
        match parts {
            Parts::Lines(versions) => {
                let line = w
                    .line
                    .filter(|l| *l >= 1)
                    .ok_or_else(|| conflict("an event without a line number".into()))?;
                let version = versions.entry(w.generation.unwrap_or(0)).or_default();
                if w.newline == Some(true) {
                    version.late_newlines.insert(line);
                    return Ok(true);
                }
                let bytes = line_bytes(&w).map_err(conflict)?;
                let newline = w.no_newline != Some(true);
                let lines = &mut version.lines;
                match lines.get_mut(&line) {
                    Some(prev) if prev.bytes != bytes => {
                        return Err(conflict(format!("two different texts for line {line}")));
                    }
                    // The same line imported before and after its `\n` came (two copies
                    // of the session): it has one.
                    Some(prev) => prev.newline |= newline,
                    None => {
                        lines.insert(line, Line { bytes, newline });
                    }
                }
            }
            Parts::Document(doc) => {
                if let Some(index) = w.index {
                    let record = w
                        .record
                        .ok_or_else(|| conflict(format!("message {index} has no record")))?;
                    let entry = (
                        w.before.clone().unwrap_or_default(),
                        record.get().to_owned(),
                    );
                    let key = (index, w.version.unwrap_or(0));
                    match doc.messages.get(&key) {
                        Some(prev) if *prev != entry => {
                            return Err(conflict(format!(
                                "two different texts for message {index}"
                            )));
                        }
                        Some(_) => {}
                        None => {
                            doc.messages.insert(key, entry);
                        }
                    }
                } else {
                    let (head, b64) = match (&w.head, &w.bytes_b64) {
                        (Some(h), _) => (h.as_bytes().to_vec(), false),
                        (None, Some(b)) => (
                            base64::engine::general_purpose::STANDARD
                                .decode(b)
                                .map_err(|e| conflict(format!("bad base64: {e}")))?,
                            true,
                        ),
                        _ => return Err(conflict("a document event without its text".into())),
                    };
                    let skeleton = Skeleton {
                        head,
                        whole: b64,
                        tail: w.tail.clone().unwrap_or_default(),
                        messages: w.messages.unwrap_or(0),
                    };
                    let version = w.version.unwrap_or(0);
                    doc.versions
                        .insert((version, event.ts_ms, event.seq), skeleton);
                }
            }
        }
        Ok(true)
    }

    /// Writes every file collected, all or none. First every file is put together and its
    /// target checked: a file already there with the same bytes is left as it is (and
    /// counted); one with other bytes, a target that cannot be written, a file with a
    /// missing line or message — each is a problem, and with any problem nothing is
    /// written: [`Error::ExportRefused`] lists them all, so one run shows the user
    /// everything to move away. Then each file is written atomically (a temporary file
    /// linked into place, never over another file); if one fails, the files this export
    /// wrote are removed again ([`Error::Export`]).
    pub fn finish(mut self) -> Result<ExportReport> {
        let mut report = ExportReport {
            events_skipped: self.skipped,
            ..ExportReport::default()
        };
        let mut planned = Vec::new();
        let mut problems = Vec::new();
        for ((agent, rel), parts) in std::mem::take(&mut self.files) {
            let (bytes, lines) = match assemble(parts) {
                Ok(file) => file,
                Err(reason) => {
                    problems.push(format!("{rel}: {reason}"));
                    continue;
                }
            };
            let Some(target) = self.target(agent, &rel) else {
                problems.push(format!(
                    "{rel}: not a relative path inside the export folder"
                ));
                continue;
            };
            match already_there(&target, &bytes) {
                Ok(true) => {
                    report.files += 1;
                    report.lines += lines;
                    report.bytes += bytes.len() as u64;
                }
                Ok(false) => planned.push((target, bytes, lines)),
                Err(reason) => problems.push(format!("{}: {reason}", target.display())),
            }
        }
        if !problems.is_empty() {
            return Err(Error::ExportRefused {
                out_dir: self.out_dir.clone(),
                problems,
            });
        }
        let mut written: Vec<PathBuf> = Vec::with_capacity(planned.len());
        for (target, bytes, lines) in planned {
            if let Err(reason) = write_new(&target, &bytes) {
                let removed = written
                    .iter()
                    .filter(|w| std::fs::remove_file(w).is_ok())
                    .count();
                return Err(Error::Export {
                    path: target.display().to_string(),
                    reason: format!(
                        "{reason}; the {removed} file(s) this export had written were removed (it writes all its files or none)"
                    ),
                });
            }
            written.push(target);
            report.files += 1;
            report.lines += lines;
            report.bytes += bytes.len() as u64;
        }
        Ok(report)
    }

    /// Where `rel` goes under the export folder; `None` for a path that would leave it.
    fn target(&self, agent: Agent, rel: &str) -> Option<PathBuf> {
        let rel_path = Path::new(rel);
        let safe = rel_path
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
        if !safe || rel.is_empty() {
            return None;
        }
        Some(match self.only {
            Some(_) => self.out_dir.join(rel_path),
            None => self.out_dir.join(agent.name()).join(rel_path),
        })
    }
}

/// A file's bytes and its number of lines (messages, for a Gemini document): the latest
/// version of it. The error says what is missing.
fn assemble(parts: Parts) -> std::result::Result<(Vec<u8>, u64), String> {
    match parts {
        Parts::Lines(mut versions) => {
            // The latest version of a file that was rewritten since an import.
            let Version {
                lines,
                late_newlines,
            } = versions.pop_last().map(|(_, v)| v).unwrap_or_default();
            let n = lines.len() as u64;
            if let (None, Some(line)) = (lines.last_key_value(), late_newlines.first()) {
                return Err(format!(
                    "line {line} is missing (only its late newline is there)"
                ));
            }
            if let Some((&last, _)) = lines.last_key_value()
                && last != n
            {
                let missing = (1..=last).find(|l| !lines.contains_key(l)).unwrap_or(last);
                return Err(format!("line {missing} is missing (of {last})"));
            }
            let mut out = Vec::new();
            for (number, l) in lines {
                out.extend_from_slice(&l.bytes);
                if l.newline || number < n || late_newlines.contains(&number) {
                    out.push(b'\n');
                }
            }
            Ok((out, n))
        }
        Parts::Document(doc) => {
            let Some((_, latest)) = doc.versions.into_iter().next_back() else {
                return Err("the document event is missing".into());
            };
            let Skeleton {
                head,
                whole,
                tail,
                messages: count,
            } = latest;
            if whole {
                return Ok((head, 0));
            }
            let mut out = head;
            for i in 0..count {
                let (_, (before, record)) = doc
                    .messages
                    .range((i, 0)..=(i, u64::MAX))
                    .next_back()
                    .ok_or_else(|| format!("message {i} is missing (of {count})"))?;
                if i > 0 {
                    out.extend_from_slice(before.as_bytes());
                }
                out.extend_from_slice(record.as_bytes());
            }
            out.extend_from_slice(tail.as_bytes());
            Ok((out, count))
        }
    }
}

/// Whether `target` holds `bytes` already (`false`: nothing is there); an error when
/// something else is there or it cannot be looked at.
fn already_there(target: &Path, bytes: &[u8]) -> std::result::Result<bool, String> {
    match std::fs::read(target) {
        Ok(existing) if existing == bytes => Ok(true),
        Ok(_) => Err("a different file is already there".into()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) if target.is_dir() => Err(format!("a folder is there ({e})")),
        Err(e) => Err(format!("cannot be looked at: {e}")),
    }
}

/// The bytes of one line as written, without its `\n`.
fn line_bytes(w: &Wrapper<'_>) -> std::result::Result<Vec<u8>, String> {
    let mut bytes = match (&w.record, &w.text, &w.bytes_b64) {
        (Some(r), _, _) => r.get().as_bytes().to_vec(),
        (None, Some(t), _) => t.as_bytes().to_vec(),
        (None, None, Some(b)) => base64::engine::general_purpose::STANDARD
            .decode(b)
            .map_err(|e| format!("bad base64: {e}"))?,
        _ => return Err("an event without the line's text".into()),
    };
    if w.crlf == Some(true) {
        bytes.push(b'\r');
    }
    Ok(bytes)
}

/// Writes a new file atomically and never over another: staged beside it, fsynced, then
/// hard-linked into place (which fails if a file appeared there meanwhile). Where hard
/// links are not supported, renamed into place after checking that nothing is there.
fn write_new(target: &Path, bytes: &[u8]) -> std::result::Result<(), String> {
    let dir = target.parent().ok_or("no parent folder")?;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let name = target
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("file");
    let tmp = dir.join(format!(".{name}.kaizen-export-{}", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        match std::fs::hard_link(&tmp, target) {
            Ok(()) => std::fs::remove_file(&tmp),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(e),
            Err(_) if !target.exists() => std::fs::rename(&tmp, target),
            Err(e) => Err(e),
        }
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(match e.kind() {
            std::io::ErrorKind::AlreadyExists => {
                "a file appeared there meanwhile; not replaced".into()
            }
            _ => e.to_string(),
        });
    }
    Ok(())
}

/// Writes back the files of `events` under `out_dir` (see [`Exporter::new`] for `only`).
pub fn export(
    events: impl IntoIterator<Item = Event>,
    out_dir: impl Into<PathBuf>,
    only: Option<Agent>,
) -> Result<ExportReport> {
    let mut exporter = Exporter::new(out_dir, only);
    for event in events {
        exporter.add(&event)?;
    }
    exporter.finish()
}
