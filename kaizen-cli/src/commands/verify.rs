//! `kaizen verify`: every file checked; exit 1 when anything is wrong.

use kaizen_store::Store;

use crate::cli::{ReportFormat, VerifyArgs};

pub async fn run(store: Store, args: VerifyArgs) -> anyhow::Result<()> {
    let report = store.verify(args.deep).await?;
    match args.format {
        ReportFormat::Json => outln!("{}", serde_json::to_string_pretty(&report)?),
        ReportFormat::Table => {
            for p in &report.problems {
                outln!("PROBLEM {}: {}", p.path, p.problem);
            }
            for path in &report.foreign {
                outln!(
                    "foreign {path} (written by another tool; read by the same contract, not a problem)"
                );
            }
            for day in &report.payload_pruned_days {
                outln!(
                    "payload-pruned {day} (payloads replaced by the marker; typed columns whole)"
                );
            }
            for path in &report.leftovers {
                outln!("leftover {path} (a staging file of a writer that stopped; not data)");
            }
            outln!(
                "checked {} file(s), {} row(s){}: {} problem(s), {} leftover(s), {} foreign",
                report.files,
                report.rows,
                if args.deep { ", every row decoded" } else { "" },
                report.problems.len(),
                report.leftovers.len(),
                report.foreign.len()
            );
        }
    }
    if !report.is_ok() {
        anyhow::bail!(
            "{} problem(s) in {}",
            report.problems.len(),
            kaizen_store::EventStore::location(&store)
        );
    }
    Ok(())
}
