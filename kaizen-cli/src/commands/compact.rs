//! `kaizen compact`: few large sorted files a day, crash-safe.

use kaizen_store::Store;

use crate::cli::CompactArgs;
use crate::output;

pub async fn run(store: Store, args: CompactArgs) -> anyhow::Result<()> {
    let (day, before) = (args.day, args.before);
    let wanted = move |d| day.is_none_or(|only| d == only) && before.is_none_or(|b| d < b);
    let days = store.compact(wanted, args.target_size).await?;
    for d in &days {
        let rows: u64 = d.outputs.iter().map(|f| f.rows).sum();
        let bytes: u64 = d.outputs.iter().map(|f| f.bytes).sum();
        println!(
            "{}: {} file(s) -> {} file(s), {rows} rows, {}",
            d.day,
            d.inputs.len(),
            d.outputs.len(),
            output::bytes(bytes)
        );
    }
    println!("compacted {} day(s)", days.len());
    Ok(())
}
