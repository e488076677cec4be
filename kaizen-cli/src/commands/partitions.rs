//! `kaizen partitions`: per day, files, rows, bytes and time span.

use kaizen_store::{EventStore, Partition};
use serde_json::json;

use crate::cli::{PartitionsArgs, ReportFormat};
use crate::output;

pub async fn run(store: &dyn EventStore, args: PartitionsArgs) -> anyhow::Result<()> {
    let partitions = store.partitions().await?;
    match args.format {
        ReportFormat::Table => outln!("{}", table(&partitions)),
        ReportFormat::Json => {
            let days: Vec<_> = partitions
                .iter()
                .map(|p| {
                    json!({
                        "day": p.day.to_string(), "files": p.files, "rows": p.rows,
                        "bytes": p.bytes, "min_ts_ms": p.min_ts_ms, "max_ts_ms": p.max_ts_ms,
                    })
                })
                .collect();
            outln!("{}", serde_json::to_string_pretty(&days)?);
        }
    }
    Ok(())
}

pub fn table(partitions: &[Partition]) -> String {
    let time = |t: Option<u64>| t.map(output::time_ms).unwrap_or_default();
    let mut rows: Vec<Vec<String>> = partitions
        .iter()
        .map(|p| {
            vec![
                p.day.to_string(),
                p.files.to_string(),
                p.rows.to_string(),
                output::bytes(p.bytes),
                time(p.min_ts_ms),
                time(p.max_ts_ms),
            ]
        })
        .collect();
    rows.push(vec![
        "total".into(),
        partitions
            .iter()
            .map(|p| p.files)
            .sum::<usize>()
            .to_string(),
        partitions.iter().map(|p| p.rows).sum::<u64>().to_string(),
        output::bytes(partitions.iter().map(|p| p.bytes).sum()),
        String::new(),
        String::new(),
    ]);
    output::report_table(
        &["day", "files", "rows", "bytes", "first event", "last event"],
        rows,
    )
}
