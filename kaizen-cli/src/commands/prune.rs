//! `kaizen prune`: remove whole days of data files, never anything else; or, with
//! `--payload-older-than`, only the payloads of those days.

use kaizen_core::UtcDay;
use kaizen_store::{EventStore, Store};

use crate::cli::PruneArgs;
use crate::output;

pub async fn run(store: &Store, args: PruneArgs) -> anyhow::Result<()> {
    let cutoff = &args.cutoff;
    if let Some(days) = cutoff.payload_older_than {
        return prune_payloads(store, UtcDay::today().minus_days(days), args.dry_run).await;
    }
    let before = match (cutoff.before, cutoff.older_than) {
        (Some(day), _) => day,
        (None, Some(days)) => UtcDay::today().minus_days(days),
        // clap requires one of the three.
        (None, None) => {
            anyhow::bail!("give --before DAY, --older-than 30d or --payload-older-than 30d")
        }
    };
    let report = store.prune(before, args.dry_run).await?;
    let verb = if report.dry_run {
        "would remove"
    } else {
        "removed"
    };
    for file in &report.files {
        outln!("{verb} {} ({})", file.path, output::bytes(file.bytes));
    }
    let days: std::collections::BTreeSet<_> = report.files.iter().map(|f| f.day).collect();
    outln!(
        "{verb} {} file(s) of {} day(s) before {}, {}",
        report.files.len(),
        days.len(),
        report.before,
        output::bytes(report.files.iter().map(|f| f.bytes).sum())
    );
    Ok(())
}

/// The payloads of the days before `before` replaced by the pruned marker.
async fn prune_payloads(store: &Store, before: UtcDay, dry_run: bool) -> anyhow::Result<()> {
    let report = store.prune_payloads(before, dry_run).await?;
    let verb = if dry_run { "would prune" } else { "pruned" };
    let (mut read, mut written) = (0u64, 0u64);
    for day in &report.days {
        let bytes_in: u64 = day.inputs.iter().map(|f| f.bytes).sum();
        let bytes_out: u64 = day.outputs.iter().map(|f| f.bytes).sum();
        read += bytes_in;
        written += bytes_out;
        match dry_run {
            true => outln!(
                "{}: {verb} the payloads of {} event(s) in {} file(s), {}",
                day.day,
                day.replaced,
                day.inputs.len(),
                output::bytes(bytes_in)
            ),
            false => outln!(
                "{}: {verb} the payloads of {} event(s): {} file(s), {} -> {}",
                day.day,
                day.replaced,
                day.inputs.len(),
                output::bytes(bytes_in),
                output::bytes(bytes_out)
            ),
        }
    }
    let tail = match dry_run {
        true => format!("{} of files to rewrite", output::bytes(read)),
        false => format!("{} -> {}", output::bytes(read), output::bytes(written)),
    };
    outln!(
        "{verb} the payloads of {} event(s) on {} day(s) before {before}, {tail}",
        report.replaced(),
        report.days.len(),
    );
    Ok(())
}
