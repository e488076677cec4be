//! `kaizen prune`: remove whole days of data files, never anything else.

use kaizen_core::UtcDay;
use kaizen_store::EventStore;

use crate::cli::PruneArgs;
use crate::output;

pub async fn run(store: &dyn EventStore, args: PruneArgs) -> anyhow::Result<()> {
    let before = match (args.cutoff.before, args.cutoff.older_than) {
        (Some(day), _) => day,
        (None, Some(days)) => UtcDay::today().minus_days(days),
        // clap requires one of the two.
        (None, None) => anyhow::bail!("give --before DAY or --older-than 30d"),
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
