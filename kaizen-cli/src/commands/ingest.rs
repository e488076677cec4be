//! `kaizen ingest`: JSON Lines in, one all-or-nothing write out.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, Read};
use std::ops::ControlFlow;
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
    // Standard input is not read again: a line of it is named only as such.
    let stdin = inputs.iter().any(|p| p.as_os_str() == "-");
    let message = match (appended(first), appended(second), lines.as_slice()) {
        (true, true, [a, b, ..]) => {
            format!("{a} and {b}: two different events with one identity {identity}")
        }
        (true, true, [a]) if stdin => {
            format!("{a} and a line of <stdin>: two different events with one identity {identity}")
        }
        (true, true, []) if stdin => {
            format!("<stdin>: two different events with one identity {identity}")
        }
        (false, true, []) if stdin => format!(
            "<stdin>: the identity {identity} is already stored as a different event, in {first}"
        ),
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

/// `file:line` of the first input line of each version of the event identity
/// `(session_id, seq)`: an exact copy of a version found is not named again (the writer
/// keeps copies once; they are not what conflicts). Standard input is not read again, nor
/// anything but a regular file (a named pipe, opened again, would wait for a writer).
fn lines_of_identity(inputs: &[PathBuf], session_id: &str, seq: u64) -> Vec<String> {
    let mut found = Vec::new();
    let mut versions: Vec<Event> = Vec::new();
    for path in inputs
        .iter()
        .filter(|p| p.as_os_str() != "-" && p.is_file())
    {
        let Ok(mut file) = File::open(path) else {
            continue;
        };
        let mut line_no = 0u64;
        // A read error ends the search of that file: what was found is still named.
        let _ = each_line(&mut file, |line| {
            line_no += 1;
            if let Ok(Some(event)) = parse_event_line(line, line_no == 1)
                && event.session_id == session_id
                && event.seq == seq
                && !versions.contains(&event)
            {
                versions.push(event);
                found.push(format!("{}:{line_no}", path.display()));
            }
            ControlFlow::<()>::Continue(())
        });
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

/// Input read at a time; a longer line grows the buffer to hold it.
const READ_BLOCK: usize = 1 << 20;

/// The line buffer kept after a long line: larger ones go back to [`READ_BLOCK`].
const KEPT_BUFFER: usize = 8 << 20;

/// Calls `line` with each line of `input` (its `\n` kept; the last one may have none), until
/// it breaks, which is returned. Lines are found in the block they were read into (memchr's
/// SIMD search) and handed out in place, not copied out one by one as `read_until` does:
/// the two were 2% of `kaizen ingest`'s CPU.
fn each_line<B>(
    input: &mut dyn Read,
    mut line: impl FnMut(&[u8]) -> ControlFlow<B>,
) -> io::Result<Option<B>> {
    let mut buf = vec![0u8; READ_BLOCK];
    // `buf[..filled]` is read and not yet handed out: the start of a line not yet ended.
    let mut filled = 0;
    loop {
        if filled == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let n = match input.read(&mut buf[filled..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Ok(match filled {
                0 => None,
                _ => line(&buf[..filled]).break_value(),
            });
        }
        let mut start = 0;
        for newline in memchr::memchr_iter(b'\n', &buf[filled..filled + n]) {
            let end = filled + newline + 1;
            if let ControlFlow::Break(b) = line(&buf[start..end]) {
                return Ok(Some(b));
            }
            start = end;
        }
        filled += n;
        // The unfinished line to the front, when lines ended before it (else it is there:
        // moving it onto itself at each read of a long line would copy it over and over).
        if start > 0 {
            buf.copy_within(start..filled, 0);
            filled -= start;
        }
        // A buffer grown for a line of many megabytes goes back to its size once the line
        // is done; one grown for a few is kept (lines of 1-2 MiB in a row would otherwise
        // grow and shrink it at each).
        if buf.len() > KEPT_BUFFER && filled <= READ_BLOCK / 2 {
            buf.truncate(READ_BLOCK);
            buf.shrink_to_fit();
        }
    }
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
        let mut input = bar.wrap_read(input);
        let mut line_no = 0u64;
        let stopped = each_line(&mut input, |line| {
            line_no += 1;
            match parse_event_line(line, line_no == 1) {
                Ok(None) => {}
                Ok(Some(mut event)) => {
                    if let Some(r) = redactor {
                        let result = kaizen_import::redact_payload(r, &mut event, &mut redacted);
                        if let Err(reason) = result {
                            return ControlFlow::Break(Err(anyhow::anyhow!(
                                "{name}:{line_no}: {reason}"
                            )));
                        }
                    }
                    chunk.push(event);
                    chunk_bytes += line.len();
                }
                Err(reason) => {
                    let msg = Msg::Invalid(format!("{name}:{line_no}: {reason}"));
                    if tx.blocking_send(msg).is_err() || !skip_invalid {
                        return ControlFlow::Break(Ok(()));
                    }
                }
            }
            if chunk.len() == CHUNK_EVENTS || chunk_bytes >= CHUNK_BYTES {
                chunk_bytes = 0;
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK_EVENTS));
                if tx.blocking_send(Msg::Events(full)).is_err() {
                    return ControlFlow::Break(Ok(()));
                }
            }
            ControlFlow::Continue(())
        });
        match stopped {
            Ok(None) => {}
            // The writer stopped (it reports why), or a line was invalid.
            Ok(Some(Ok(()))) => return Ok(redacted),
            Ok(Some(Err(e))) => return Err(e),
            Err(e) => {
                return Err(e).with_context(|| format!("{name}: read failed after line {line_no}"));
            }
        }
    }
    if !chunk.is_empty() {
        let _ = tx.blocking_send(Msg::Events(chunk));
    }
    Ok(redacted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A reader that returns at most `step` bytes a call, as a pipe does.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.data.len().min(self.step).min(out.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn lines_of(data: &[u8], step: usize) -> Vec<Vec<u8>> {
        let mut lines = Vec::new();
        let stopped = each_line(&mut Trickle { data, step }, |line| {
            lines.push(line.to_vec());
            ControlFlow::<()>::Continue(())
        });
        assert!(matches!(stopped, Ok(None)));
        lines
    }

    /// What `BufRead::split_inclusive`-style splitting gives: every line, `\n` kept.
    fn expected(data: &[u8]) -> Vec<Vec<u8>> {
        data.split_inclusive(|&b| b == b'\n')
            .map(<[u8]>::to_vec)
            .collect()
    }

    #[test]
    fn lines_longer_than_a_block_are_whole() {
        let long = vec![b'x'; READ_BLOCK * 2 + 17];
        let mut data = b"a\n".to_vec();
        data.extend_from_slice(&long);
        data.extend_from_slice(b"\nb\n\nlast");
        for step in [READ_BLOCK, READ_BLOCK - 1, 4096, 1 << 22] {
            let lines = lines_of(&data, step);
            assert_eq!(lines, expected(&data), "reads of {step} bytes");
            assert_eq!(lines[1].len(), long.len() + 1);
            assert_eq!(lines.last().map(Vec::as_slice), Some(&b"last"[..]));
        }
        assert!(lines_of(b"", 10).is_empty());
    }

    #[test]
    fn a_break_stops_the_reading_and_is_returned() {
        let mut seen = 0;
        let stopped = each_line(&mut &b"1\n2\n3\n"[..], |line| {
            seen += 1;
            match line {
                b"2\n" => ControlFlow::Break("stopped at 2"),
                _ => ControlFlow::Continue(()),
            }
        });
        assert_eq!(stopped.ok().flatten(), Some("stopped at 2"));
        assert_eq!(seen, 2);
    }

    proptest! {
        #[test]
        fn every_line_is_handed_out_once_in_order(
            data in prop::collection::vec(prop::sample::select(vec![b'a', b'\n', b'{']), 0..3000),
            step in 1usize..700,
        ) {
            prop_assert_eq!(lines_of(&data, step), expected(&data));
        }
    }
}
