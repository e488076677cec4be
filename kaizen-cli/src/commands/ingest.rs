//! `kaizen ingest`: JSON Lines in, one all-or-nothing write out.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use indicatif::ProgressBar;
use kaizen_core::{Event, UtcDay};
use kaizen_import::{RedactCounts, Redactor, parse_event_line};
use kaizen_store::{AppendReceipt, EventStore, EventWriter, Store};
use tokio::sync::mpsc;

use crate::cli::IngestArgs;
use crate::{output, progress};

/// Events handed to the writer at a time: big enough to amortise, small enough that the
/// chunks in flight stay a few MiB (8192 held 30 MB more at peak, for no speed).
const CHUNK_EVENTS: usize = 2_048;

/// Input bytes a chunk takes at most (but one line): a line can be megabytes (a tool result
/// carrying an image), and chunks in flight are held in memory whole.
const CHUNK_BYTES: usize = 4 << 20;

/// What the reading thread sends to the writer.
enum Msg {
    Events(Vec<Event>),
    /// A line that is not a valid event, as `file:line: reason`.
    Invalid(String),
}

#[derive(Debug, Default)]
pub struct IngestSummary {
    pub receipt: AppendReceipt,
    pub skipped: u64,
    pub seconds: f64,
    /// Secrets were redacted (false with `--keep-secrets`).
    pub redaction: bool,
    /// Secrets replaced in payloads, per detector.
    pub redacted: RedactCounts,
}

pub async fn run(store: &Store, args: IngestArgs) -> anyhow::Result<()> {
    // One bulk write, then the process ends: freed buffers are worth more kept than returned.
    crate::alloc::keep_freed_pages();
    let inputs = if args.files.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        args.files
    };
    let redactor = super::import::redactor(&args.redact)?;
    let summary = ingest_files(store, inputs, args.skip_invalid, redactor).await?;
    // Asked to ingest here: a store is here now, even when the input held no event.
    store.create().await?;
    print_summary(&summary)
}

/// The days a run wrote in more than one file: a writer with bounded memory stages a day
/// larger than its buffer in parts.
fn split_days(receipt: &AppendReceipt) -> BTreeSet<UtcDay> {
    let mut files_per_day: BTreeMap<UtcDay, usize> = BTreeMap::new();
    for file in &receipt.files {
        *files_per_day.entry(file.day).or_default() += 1;
    }
    (files_per_day.into_iter())
        .filter(|(_, files)| *files > 1)
        .map(|(day, _)| day)
        .collect()
}

/// Ingests `inputs` into `store`, all or nothing. `redactor`: secrets in payloads replaced
/// before anything is stored (`None` keeps them).
pub async fn ingest_files(
    store: &dyn EventStore,
    inputs: Vec<PathBuf>,
    skip_invalid: bool,
    redactor: Option<std::sync::Arc<Redactor>>,
) -> anyhow::Result<IngestSummary> {
    let redaction = redactor.is_some();
    let started = Instant::now();
    let total = inputs
        .iter()
        .map(|p| {
            (p.as_os_str() != "-")
                .then(|| std::fs::metadata(p).ok().map(|m| m.len()))
                .flatten()
        })
        .sum::<Option<u64>>();
    let bar = progress::bytes(total);
    bar.set_message("ingesting");
    let (tx, mut rx) = mpsc::channel::<Msg>(2);
    let reader_bar = bar.clone();
    let given = inputs.clone();
    let reader = std::thread::spawn(move || {
        read_inputs(&inputs, &tx, &reader_bar, skip_invalid, redactor.as_deref())
    });

    let mut writer = store.writer();
    let mut skipped = 0;
    let mut events_read = 0;
    let mut failure = None;
    while let Some(msg) = rx.recv().await {
        match msg {
            Msg::Events(events) => {
                events_read += events.len();
                if let Err(e) = writer.write(events).await {
                    failure = Some(with_input_lines(e, &given));
                    break;
                }
            }
            Msg::Invalid(reason) if skip_invalid => {
                bar.suspend(|| eprintln!("skipped {reason}"));
                skipped += 1;
            }
            Msg::Invalid(reason) => {
                failure = Some(anyhow::anyhow!("{reason}"));
                break;
            }
        }
    }
    drop(rx); // stops the reader at its next send
    let read_result = reader
        .join()
        .unwrap_or_else(|_| Err(anyhow::anyhow!("the input reader stopped unexpectedly")));
    let (redacted, read_error) = match read_result {
        Ok(counts) => (counts, None),
        Err(e) => (RedactCounts::new(), Some(e)),
    };
    let failure = failure.or(read_error).or_else(|| {
        // Skipping bad lines is for a few of them: an input of nothing but bad lines is a
        // wrong file or format, not a run that worked (an empty input is nothing to do).
        (events_read == 0 && skipped > 0).then(|| {
            anyhow::anyhow!(
                "every one of the {skipped} input line(s) was invalid (each is reported above)"
            )
        })
    });
    bar.finish_and_clear();
    if let Some(e) = failure {
        abort(writer).await;
        let message = output::error_message(&e);
        return Err(anyhow::anyhow!(
            "{message}\nnothing of this run was written"
        ));
    }
    let receipt = writer.commit().await.map_err(|e| {
        let outcome = match &e {
            kaizen_store::Error::Conflict { .. } => {
                return anyhow::anyhow!(
                    "{}\nnothing of this run was written",
                    with_input_lines(e, &given)
                );
            }
            kaizen_store::Error::PartlyPublished { published, .. } => format!(
                "{} file(s) of this run were published; rerunning it is safe (no event is stored twice)",
                published.len()
            ),
            _ => "nothing of this run was written".to_owned(),
        };
        anyhow::anyhow!("{e}\n{outcome}")
    })?;
    Ok(IngestSummary {
        receipt,
        skipped,
        seconds: started.elapsed().as_secs_f64(),
        redaction,
        redacted,
    })
}

/// A store error; an identity conflict with the events given is said with the input lines
/// that hold the identity (read again from the files: the writer does not keep line
/// numbers, and standard input cannot be read twice).
fn with_input_lines(e: kaizen_store::Error, inputs: &[PathBuf]) -> anyhow::Error {
    let kaizen_store::Error::Conflict {
        session_id,
        seq,
        first,
        second,
    } = &e
    else {
        return anyhow::Error::new(e);
    };
    let lines = lines_of_identity(inputs, session_id, *seq);
    let identity = format!("(session_id {session_id:?}, seq {seq})");
    let appended = |s: &str| s.starts_with(kaizen_store::APPENDED);
    let message = match (appended(first), appended(second), lines.as_slice()) {
        (true, true, [a, b, ..]) => {
            format!("{a} and {b}: two different events with one identity {identity}")
        }
        (false, true, [line, ..]) => format!(
            "{line}: the identity {identity} is already stored as a different event, in {first}"
        ),
        _ if lines.is_empty() => return anyhow::Error::new(e),
        _ => format!("{e} (input: {})", lines.join(", ")),
    };
    anyhow::anyhow!(
        "{message} (an event's identity is its session_id and seq: one identity, one event)"
    )
}

/// `file:line` of every input line holding the event identity `(session_id, seq)`;
/// standard input is not read again.
fn lines_of_identity(inputs: &[PathBuf], session_id: &str, seq: u64) -> Vec<String> {
    let mut found = Vec::new();
    for path in inputs.iter().filter(|p| p.as_os_str() != "-") {
        let Ok(file) = File::open(path) else {
            continue;
        };
        let mut input = BufReader::new(file);
        let mut buf = Vec::new();
        let mut line_no = 0u64;
        while matches!(input.read_until(b'\n', &mut buf), Ok(n) if n > 0) {
            line_no += 1;
            if let Ok(Some(event)) = parse_event_line(&buf, line_no == 1)
                && event.session_id == session_id
                && event.seq == seq
            {
                found.push(format!("{}:{line_no}", path.display()));
            }
            buf.clear();
        }
    }
    found
}

async fn abort(writer: Box<dyn EventWriter>) {
    if let Err(e) = writer.abort().await {
        eprintln!("warning: could not remove staged files: {e}");
    }
}

pub fn print_summary(s: &IngestSummary) -> anyhow::Result<()> {
    let r = &s.receipt;
    let rate = r.rows() as f64 / s.seconds.max(1e-9);
    outln!(
        "ingested {} events into {} day(s), {} file(s), {} in {:.2}s ({:.0} events/s)",
        r.rows(),
        r.days().len(),
        r.files.len(),
        output::bytes(r.bytes()),
        s.seconds,
        rate
    );
    if r.duplicates_dropped > 0 {
        outln!(
            "{} event(s) were exact copies of stored events or of other input lines: each is stored once",
            r.duplicates_dropped
        );
    }
    if s.skipped > 0 {
        outln!("skipped {} invalid line(s)", s.skipped);
    }
    outln!(
        "{}",
        super::import::redaction_line(s.redaction, &s.redacted)
    );
    let split = split_days(r);
    if !split.is_empty() {
        outln!(
            "{} day(s) were written in several files; `kaizen compact` merges each into one sorted file, which reads faster",
            split.len()
        );
    }
    Ok(())
}

/// Reads every input line by line on this thread, sending events in chunks, their payloads
/// redacted by `redactor`. Returns what was redacted.
fn read_inputs(
    inputs: &[PathBuf],
    tx: &mpsc::Sender<Msg>,
    bar: &ProgressBar,
    skip_invalid: bool,
    redactor: Option<&Redactor>,
) -> anyhow::Result<RedactCounts> {
    let mut redacted = RedactCounts::new();
    let mut chunk = Vec::with_capacity(CHUNK_EVENTS);
    let mut chunk_bytes = 0;
    for path in inputs {
        let (name, input): (String, Box<dyn Read>) = if path.as_os_str() == "-" {
            ("<stdin>".into(), Box::new(io::stdin().lock()))
        } else {
            let file = File::open(path).with_context(|| format!("{}", path.display()))?;
            (path.display().to_string(), Box::new(file))
        };
        let mut input = BufReader::with_capacity(1 << 20, bar.wrap_read(input));
        let mut buf = Vec::new();
        let mut line_no = 0u64;
        loop {
            buf.clear();
            let n = input
                .read_until(b'\n', &mut buf)
                .with_context(|| format!("{name}: read failed after line {line_no}"))?;
            if n == 0 {
                break;
            }
            line_no += 1;
            match parse_event_line(&buf, line_no == 1) {
                Ok(None) => {}
                Ok(Some(mut event)) => {
                    if let Some(r) = redactor {
                        kaizen_import::redact_payload(r, &mut event, &mut redacted)
                            .map_err(|reason| anyhow::anyhow!("{name}:{line_no}: {reason}"))?;
                    }
                    chunk.push(event);
                    chunk_bytes += n;
                }
                Err(reason) => {
                    let msg = Msg::Invalid(format!("{name}:{line_no}: {reason}"));
                    if tx.blocking_send(msg).is_err() || !skip_invalid {
                        return Ok(redacted);
                    }
                }
            }
            if chunk.len() == CHUNK_EVENTS || chunk_bytes >= CHUNK_BYTES {
                chunk_bytes = 0;
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK_EVENTS));
                if tx.blocking_send(Msg::Events(full)).is_err() {
                    return Ok(redacted);
                }
            }
        }
    }
    if !chunk.is_empty() {
        let _ = tx.blocking_send(Msg::Events(chunk));
    }
    Ok(redacted)
}
