//! `kaizen compact`: few large sorted files a day, crash-safe.

use kaizen_core::UtcDay;
use kaizen_store::{CompactTarget, Store, ZstdLevel};

use crate::cli::CompactArgs;
use crate::output;

pub async fn run(store: Store, args: CompactArgs) -> anyhow::Result<()> {
    // By default the sealed days: today's day is still being written (a compaction of it
    // would be undone by the next import's files).
    let before = match (args.day, args.before, args.all) {
        (None, None, false) => Some(UtcDay::today()),
        (_, before, _) => before,
    };
    let day = args.day;
    let wanted = move |d| day.is_none_or(|only| d == only) && before.is_none_or(|b| d < b);
    let target = CompactTarget {
        file_bytes: args.target_size,
        zstd_level: ZstdLevel::try_new(args.level)?,
    };
    let days = store.compact(wanted, target).await?;
    for d in &days {
        let rows: u64 = d.outputs.iter().map(|f| f.rows).sum();
        let bytes: u64 = d.outputs.iter().map(|f| f.bytes).sum();
        outln!(
            "{}: {} file(s) -> {} file(s), {rows} rows, {}",
            d.day,
            d.inputs.len(),
            d.outputs.len(),
            output::bytes(bytes)
        );
    }
    outln!("compacted {} day(s)", days.len());
    Ok(())
}
