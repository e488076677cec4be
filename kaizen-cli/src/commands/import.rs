//! `kaizen import`: agents' own logs (Claude Code, Codex, Gemini CLI) and upstream kaizen's
//! SQLite databases into the store, each file from where the last import stopped, in one all-or-nothing write. The formats are
//! `kaizen-import`'s; this is the plumbing: discover, read on a thread, write, keep cursors.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use bytes::Bytes;
use kaizen_core::Event;
use kaizen_import::{
    Agent, Cursor, ImportOptions, OnBytes, RedactCounts, Redactor, Report, SourceFile,
    SourceReport, UserPattern,
};
use kaizen_store::{AppendReceipt, EventStore, Store};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::cli::{ImportArgs, ImportSource, RedactArgs, ReportFormat};
use crate::{output, progress};

/// The state document holding every imported file's cursor (see `Store::write_state`).
pub const CURSORS: &str = "import-cursors";

/// What one import run did.
#[derive(Debug, Serialize)]
pub struct ImportRun {
    /// Figures per source, from the lines read.
    pub report: Report,
    /// Events written (0 on a dry run), files and bytes.
    pub events_written: u64,
    /// Events that were stored already (re-read lines, a session copied from elsewhere).
    pub events_already_stored: u64,
    /// Data files published.
    pub files_written: usize,
    /// Seconds the run took.
    pub seconds: f64,
    /// Nothing was written.
    pub dry_run: bool,
    /// Secrets were redacted (false with `--keep-secrets`).
    pub redaction: bool,
    /// Secrets replaced, per detector, over every source (each source's own figures are in
    /// its report's `redacted`).
    pub redacted: RedactCounts,
}

/// The redactor `args` ask for: the built-in detectors and the user's patterns, or none
/// with `--keep-secrets`. Errors: a pattern or patterns file that cannot be used.
pub fn redactor(args: &RedactArgs) -> anyhow::Result<Option<Arc<Redactor>>> {
    if args.keep_secrets {
        return Ok(None);
    }
    let mut patterns = UserPattern::from_args(&args.redact_patterns)?;
    for file in &args.redact_pattern_files {
        patterns.extend(UserPattern::from_file(file)?);
    }
    Ok(Some(match patterns.is_empty() {
        true => Redactor::builtin(),
        false => Arc::new(Redactor::with_patterns(patterns)?),
    }))
}

/// The summary's line about redaction: what was replaced, per detector.
pub fn redaction_line(redactor_on: bool, counts: &RedactCounts) -> String {
    if !redactor_on {
        return "secrets kept as they are (--keep-secrets)".to_owned();
    }
    let total: u64 = counts.values().sum();
    if total == 0 {
        return "redacted no secret".to_owned();
    }
    let each: Vec<String> = counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
    format!("redacted {total} secret(s): {}", each.join(", "))
}

pub async fn run(store: &Store, args: ImportArgs) -> anyhow::Result<()> {
    let agents: &[Agent] = match args.source {
        ImportSource::All => &Agent::DEFAULT_SOURCES,
        ImportSource::Claude => &[Agent::Claude],
        ImportSource::Codex => &[Agent::Codex],
        ImportSource::Gemini => &[Agent::Gemini],
        ImportSource::KaizenDb => &[Agent::KaizenDb],
    };
    let mut files = Vec::new();
    for &agent in agents {
        let paths = match args.source {
            ImportSource::All => roots_in_trees(agent, &args.paths)?,
            _ => args.paths.clone(),
        };
        if args.paths.is_empty() || !paths.is_empty() {
            match kaizen_import::discover(agent, &paths) {
                Ok(found) => files.extend(found),
                // In a tree, an agent's folder with nothing in it is that agent's share.
                Err(kaizen_import::Error::NothingFound { .. })
                    if args.source == ImportSource::All => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    if files.is_empty() && args.source == ImportSource::All && !args.paths.is_empty() {
        anyhow::bail!(
            "{}: no agent logs found in its claude/, codex/, gemini/ or kaizen/ folders",
            (args.paths.iter())
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let redactor = redactor(&args.redact)?;
    let run = import(store, files, args.skip_invalid, args.dry_run, redactor).await?;
    match args.format {
        ReportFormat::Json => outln!("{}", serde_json::to_string_pretty(&run)?),
        ReportFormat::Table => print_summary(&run)?,
    }
    Ok(())
}

/// Imports `files` into `store` from their stored cursors, then stores the new cursors.
/// All-or-nothing: an error leaves the store as it was (cursors included). `redactor`:
/// secrets replaced before anything is stored (`None` keeps them).
pub async fn import(
    store: &Store,
    files: Vec<SourceFile>,
    skip_invalid: bool,
    dry_run: bool,
    redactor: Option<Arc<Redactor>>,
) -> anyhow::Result<ImportRun> {
    let redaction = redactor.is_some();
    let started = Instant::now();
    let mut files = files;
    kaizen_import::in_time_order(&mut files);
    // Shared with the reader thread, not copied: tens of MB for a large tree.
    let stored = Arc::new(load_cursors(store).await?);
    let total: u64 = (files.iter())
        .map(|f| {
            let size = std::fs::metadata(&f.path).map_or(0, |m| m.len());
            let done = stored.get(&key(f.agent, &f.rel)).map_or(0, |c| c.consumed);
            size.saturating_sub(done)
        })
        .sum();
    let bar = progress::bytes(Some(total));
    bar.set_message("importing");
    let progress_bar = bar.clone();
    let options = ImportOptions {
        skip_invalid,
        on_bytes: Some(OnBytes(Arc::new(move |n| progress_bar.inc(n)))),
        redactor,
        ..ImportOptions::default()
    };

    let (tx, mut rx) = mpsc::channel::<Handover>(2);
    let given = stored.clone();
    let reader = std::thread::spawn(move || read_files(&files, &given, &options, &tx));
    let mut writer = store.writer();
    let mut failure = None;
    while let Some((events, written)) = rx.recv().await {
        if dry_run {
            continue;
        }
        if let Err(e) = writer.write(events).await {
            failure = Some(anyhow::Error::new(e));
            break;
        }
        if let Some(written) = written {
            let _ = written.send(());
        }
    }
    drop(rx); // stops the reader at its next chunk
    let read = reader
        .join()
        .unwrap_or_else(|_| Err(anyhow::anyhow!("the import reader stopped unexpectedly")));
    bar.finish_and_clear();
    let (report, cursors) = match (failure, read) {
        (None, Ok(done)) => done,
        (Some(e), _) | (None, Err(e)) => {
            let _ = writer.abort().await;
            let message = output::error_message(&e);
            anyhow::bail!("{message}\nnothing of this import was written");
        }
    };
    let receipt = match dry_run {
        true => {
            writer.abort().await?;
            AppendReceipt::default()
        }
        false => writer.commit().await.map_err(|e| {
            anyhow::anyhow!(
                "{e}\nthe cursors were not stored: the next import reads these lines again, and stores each event once"
            )
        })?,
    };
    if !dry_run {
        // Asked to import here: a store is here now, even when nothing was new.
        store.create().await?;
        // After the data: a crash between the two re-reads lines whose events are stored
        // already, which the store keeps once.
        // Unchanged cursors are not written again.
        if !cursors.is_empty() {
            let mut all = Arc::try_unwrap(stored).unwrap_or_else(|shared| (*shared).clone());
            for cursor in cursors {
                all.insert(key(cursor.agent, &cursor.path), cursor);
            }
            save_cursors(store, all.into_values().collect()).await?;
        }
    }
    let events_read: u64 = report.sources.values().map(|s| s.events).sum();
    let mut redacted = RedactCounts::new();
    for (k, v) in report.sources.values().flat_map(|s| &s.redacted) {
        *redacted.entry(k.clone()).or_default() += v;
    }
    Ok(ImportRun {
        redaction,
        redacted,
        report,
        events_written: receipt.rows(),
        events_already_stored: match dry_run {
            true => 0,
            false => events_read.saturating_sub(receipt.rows()),
        },
        files_written: receipt.files.len(),
        seconds: started.elapsed().as_secs_f64(),
        dry_run,
    })
}

/// For `import all PATH…`: each PATH is a folder holding the agents' roots side by side
/// (`claude/`, `codex/`, `gemini/`, as a backup or `gen_agent_logs.py` lays them out, and
/// `kaizen/` for a copy of `~/.kaizen`); `agent`'s root in each. A PATH with none of them
/// is refused: which agent's files it holds is for the user to say (`kaizen import claude
/// PATH`).
fn roots_in_trees(
    agent: Agent,
    paths: &[std::path::PathBuf],
) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let folder = |a: Agent| match a {
        Agent::KaizenDb => "kaizen",
        a => a.name(),
    };
    let mut roots = Vec::new();
    for path in paths {
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                anyhow::bail!("{}: does not exist", path.display())
            }
            Err(e) => anyhow::bail!("{}: {e}", path.display()),
            Ok(m) if !m.is_dir() => anyhow::bail!(
                "{}: not a folder; `import all` takes folders holding claude/, codex/ or gemini/ (for one file, name its agent: kaizen import claude|codex|gemini FILE)",
                path.display()
            ),
            Ok(_) => {}
        }
        let held: Vec<Agent> = (Agent::DEFAULT_SOURCES.into_iter())
            .filter(|a| path.join(folder(*a)).is_dir())
            .collect();
        if held.is_empty() {
            anyhow::bail!(
                "{}: holds no claude/, codex/, gemini/ or kaizen/ folder; name the agent whose logs it holds (kaizen import claude|codex|gemini|kaizen-db PATH)",
                path.display()
            );
        }
        if held.contains(&agent) {
            roots.push(path.join(folder(agent)));
        }
    }
    Ok(roots)
}

/// Events from the reader thread to the writer, with whom to tell once they are written
/// (for a chunk of huge events, whose reader waits).
type Handover = (Vec<Event>, Option<std::sync::mpsc::Sender<()>>);

/// Payload bytes from which a chunk is a chunk of huge events (see `read_files`). Chunks
/// are cut at 8 MiB: this is a chunk of one or a few events of megabytes each.
const HUGE_CHUNK_BYTES: usize = 16 << 20;

/// Reads every file from its cursor on this thread, sending events in chunks. Returns the
/// cursors that changed.
fn read_files(
    files: &[SourceFile],
    cursors: &HashMap<(Agent, String), Cursor>,
    options: &ImportOptions,
    tx: &mpsc::Sender<Handover>,
) -> anyhow::Result<(Report, Vec<Cursor>)> {
    let mut report = Report::default();
    let mut out = Vec::with_capacity(files.len());
    let mut sink = |events: Vec<Event>| {
        let bytes: usize = (events.iter())
            .map(|e| e.payload.as_json_text().len())
            .sum();
        // A chunk of huge events (a 50 MB line) is written before the next line is read:
        // memory holds one of them at a time, not one being encoded, one waiting and one
        // being parsed.
        let (written, wait) = match bytes >= HUGE_CHUNK_BYTES {
            true => {
                let (done, wait) = std::sync::mpsc::channel();
                (Some(done), Some(wait))
            }
            false => (None, None),
        };
        tx.blocking_send((events, written))
            .map_err(|_| "the store's writer stopped")?;
        if let Some(wait) = wait {
            // An error drops the sender: the next send says the writer stopped.
            let _ = wait.recv();
        }
        Ok(())
    };
    for file in files {
        let cursor = cursors.get(&key(file.agent, &file.rel));
        let done = kaizen_import::import_file(file, cursor, options, &mut sink)?;
        report.add(file.agent, &done.report);
        if cursor != Some(&done.cursor) {
            out.push(done.cursor);
        }
    }
    Ok((report, out))
}

/// A cursor's key: its agent and its path relative to the agent's root.
fn key(agent: Agent, rel: &str) -> (Agent, String) {
    (agent, rel.to_owned())
}

async fn load_cursors(store: &Store) -> anyhow::Result<HashMap<(Agent, String), Cursor>> {
    let Some(bytes) = store.read_state(CURSORS).await? else {
        return Ok(HashMap::new());
    };
    let cursors: Vec<Cursor> = serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "{}/state/{CURSORS}: not a list of import cursors",
            store.location()
        )
    })?;
    Ok(cursors
        .into_iter()
        .map(|c| (key(c.agent, &c.path), c))
        .collect())
}

async fn save_cursors(store: &Store, mut cursors: Vec<Cursor>) -> anyhow::Result<()> {
    cursors.sort_by(|a, b| (a.agent.name(), &a.path).cmp(&(b.agent.name(), &b.path)));
    let bytes = serde_json::to_vec(&cursors)?;
    store.write_state(CURSORS, Bytes::from(bytes)).await?;
    Ok(())
}

pub fn print_summary(run: &ImportRun) -> anyhow::Result<()> {
    let header = [
        "source",
        "files",
        "read",
        "lines",
        "events",
        "sessions",
        "responses",
        "in",
        "out",
        "cache read",
        "cache write",
        "cost",
        "unknown",
        "skipped",
    ];
    let rows = (run.report.sources.iter())
        .map(|(source, r)| {
            vec![
                source.clone(),
                r.files.to_string(),
                output::bytes(r.bytes),
                r.lines.to_string(),
                r.events.to_string(),
                r.sessions.len().to_string(),
                r.responses.to_string(),
                r.input.to_string(),
                r.output.to_string(),
                r.cache_read.to_string(),
                r.cache_creation().to_string(),
                output::usd(r.cost_usd_e6 as i128),
                r.unknown_types.values().sum::<u64>().to_string(),
                r.lines_skipped.to_string(),
            ]
        })
        .collect();
    let table = output::report_table(&header, rows);
    outln!("{table}");
    for (source, r) in &run.report.sources {
        notes(source, r)?;
    }
    outln!("{}", redaction_line(run.redaction, &run.redacted));
    if run.dry_run {
        // Nothing was handed to the store: which of them it holds already is not known.
        let read: u64 = run.report.sources.values().map(|s| s.events).sum();
        outln!(
            "dry run: {read} event(s) read from new lines in {:.2}s; nothing written (events the store holds already would be kept once)",
            run.seconds
        );
        return Ok(());
    }
    outln!(
        "imported {} new event(s) in {:.2}s ({} file(s) written); {} already stored",
        run.events_written,
        run.seconds,
        run.files_written,
        run.events_already_stored
    );
    Ok(())
}

/// The per-source remarks a user acts on: unknown record types, unpriced models, files
/// still being written, files read again, gone or refused, lines kept as text, rows left out.
fn notes(source: &str, r: &SourceReport) -> anyhow::Result<()> {
    if !r.unknown_types.is_empty() {
        let types: Vec<String> = (r.unknown_types.iter())
            .map(|(t, n)| format!("{t} ({n})"))
            .collect();
        outln!(
            "{source}: record types kept as they are: {}",
            types.join(", ")
        );
    }
    if !r.unpriced_models.is_empty() {
        let models: Vec<&str> = r.unpriced_models.keys().map(String::as_str).collect();
        outln!(
            "{source}: no price for {}: their cost is left empty, not 0",
            models.join(", ")
        );
    }
    for file in &r.truncated_tails {
        outln!("{source}: {file}: its last line is not finished yet; the next import reads it");
    }
    for line in r.remarks() {
        outln!("{source}: {line}");
    }
    Ok(())
}

/// The agent roots (and upstream kaizen's databases) a demo reads: those that exist on
/// this machine.
pub fn local_agent_files() -> Vec<SourceFile> {
    let mut files = Vec::new();
    for agent in Agent::DEFAULT_SOURCES {
        if let Ok(found) = kaizen_import::discover(agent, &[]) {
            files.extend(found);
        }
    }
    files
}
