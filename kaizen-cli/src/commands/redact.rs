//! `kaizen redact`: the secret detectors of import and ingest run over what is already
//! stored, and only the files holding a match are rewritten (through the store's rewrite:
//! interrupted anywhere, each event is read once, old or new).

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use kaizen_core::{Event, UtcDay};
use kaizen_import::{RedactCounts, Redactor, redact_payload};
use kaizen_store::{RewriteScope, Rewritten, Store};

use crate::cli::StoredRedactArgs;
use crate::commands::import::{redaction_line, redactor};

pub async fn run(store: &Store, args: StoredRedactArgs) -> anyhow::Result<()> {
    let Some(redactor) = redactor(&args.redact)? else {
        anyhow::bail!("--keep-secrets: nothing to redact");
    };
    let (from, to) = (args.range.from, args.range.to);
    if let (Some(f), Some(t)) = (from, to)
        && f >= t
    {
        anyhow::bail!("--from is not before --to: an empty range, nothing to redact");
    }
    // Times past the last day an event can have are no bound on the days.
    let day = |t: u64| UtcDay::of_ts_ms(t).ok();
    let mut scope = RewriteScope::default();
    scope.from = from.and_then(day);
    // The day after the last one holding an event before `to`.
    scope.before = to.and_then(|t| day(t.saturating_sub(1))).map(UtcDay::next);
    scope.sessions = args.sessions.into_iter().collect::<BTreeSet<_>>();
    // The rewrite asks about an event once to find its file and once to rewrite it: counts
    // are kept per identity, so that each secret is counted once.
    let found: Mutex<HashMap<(String, u64), RedactCounts>> = Mutex::new(HashMap::new());
    let in_range = |e: &Event| from.is_none_or(|f| e.ts_ms >= f) && to.is_none_or(|t| e.ts_ms < t);
    let redact = |event: &Event| -> Rewritten {
        if !in_range(event) {
            return Rewritten::Keep;
        }
        redact_one(&redactor, event, &found)
    };
    let report = store.rewrite_events(&scope, args.dry_run, &redact).await?;
    let mut counts = RedactCounts::new();
    for per_event in found.into_inner().unwrap_or_default().into_values() {
        for (detector, n) in per_event {
            *counts.entry(detector).or_default() += n;
        }
    }
    let verb = if args.dry_run {
        "would rewrite"
    } else {
        "rewrote"
    };
    for day in &report.days {
        for file in &day.inputs {
            outln!(
                "{}: {verb} {} ({} event(s) with a secret)",
                day.day,
                file.path,
                day.replaced
            );
        }
    }
    outln!(
        "{}; {} event(s) in {} file(s) on {} day(s){}",
        redaction_line(true, &counts),
        report.replaced(),
        report.days.iter().map(|d| d.inputs.len()).sum::<usize>(),
        report.days.len(),
        if args.dry_run {
            " (dry run: nothing written)"
        } else {
            ""
        }
    );
    Ok(())
}

/// One event: replaced by its redacted version when its payload holds a secret.
fn redact_one(
    redactor: &Redactor,
    event: &Event,
    found: &Mutex<HashMap<(String, u64), RedactCounts>>,
) -> Rewritten {
    let mut counts = RedactCounts::new();
    let mut redacted = event.clone();
    if redact_payload(redactor, &mut redacted, &mut counts).is_err() || counts.is_empty() {
        // A redaction that would not be JSON cannot happen (the redactor keeps JSON); the
        // event is then kept as it is rather than lost.
        return Rewritten::Keep;
    }
    if let Ok(mut found) = found.lock() {
        found.insert((event.session_id.clone(), event.seq), counts);
    }
    Rewritten::Replace(Box::new(redacted))
}
