//! `kaizen copy`: a store to another URL, resumable, verified on the target.

use kaizen_store::{EventStore, Store, open_store};

use crate::cli::CopyArgs;
use crate::{output, progress};

pub async fn run(source: Store, args: CopyArgs) -> anyhow::Result<()> {
    let target = open_store(&args.to, &args.to_options)?;
    let total = source.partitions().await?.iter().map(|p| p.bytes).sum();
    let bar = progress::bytes(Some(total));
    bar.set_message("copying");
    let on_file = |bytes: u64| bar.inc(bytes);
    let report = source
        .copy_to(&target, args.from, args.to_time, &on_file)
        .await;
    bar.finish_and_clear();
    let report = report?;
    // A copy of a store is a store, even of one that holds no event yet.
    target.create().await?;
    let written: u64 = report.copied.iter().map(|(_, b)| b).sum();
    outln!(
        "copied {} file(s) ({}) to {}, {} already there",
        report.copied.len(),
        output::bytes(written),
        target.location(),
        report.skipped.len()
    );
    let events: u64 = report.verified.values().sum();
    outln!(
        "verified {events} event(s) over {} day(s): each on the target, identical",
        report.verified.len()
    );
    Ok(())
}
