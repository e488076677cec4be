//! `kaizen scan`: events in order, as JSON Lines, CSV or a table.

use std::io::{BufWriter, Write};
use std::sync::Arc;

use futures::TryStreamExt;
use kaizen_core::Field;
use kaizen_store::codec::parse_columns;
use kaizen_store::{EventStore, Query, SkippedFiles};

use crate::cli::{ScanArgs, ScanFormat};
use crate::output;

pub async fn run(store: Arc<dyn EventStore>, args: ScanArgs) -> anyhow::Result<()> {
    let columns = match &args.columns {
        Some(names) => Some(parse_columns(names.iter().map(String::as_str))?),
        // Every column, in the order of the events' JSON form.
        None => Some(Field::JSON_ORDER.to_vec()),
    };
    let query = Query {
        from_ms: args.range.from,
        to_ms: args.range.to,
        sessions: args.sessions,
        kinds: args.kinds,
        columns,
        limit: args.limit,
        skip_corrupt: args.skip_corrupt.then(SkippedFiles::default),
    };
    let skipped = query.skip_corrupt.clone();
    let mut batches = store.scan(query).await?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    match args.format {
        ScanFormat::Jsonl => {
            while let Some(batch) = batches.try_next().await? {
                output::write_jsonl(&batch, &mut out)?;
            }
        }
        ScanFormat::Csv => {
            let mut csv = output::CsvOut::new(&mut out);
            while let Some(batch) = batches.try_next().await? {
                csv.write(&batch)?;
            }
        }
        ScanFormat::Table => {
            // A table needs every row's width: it is for small results (use --limit).
            let all: Vec<_> = batches.try_collect().await?;
            writeln!(out, "{}", output::batches_table(&all)?)?;
        }
    }
    out.flush()?;
    if let Some(skipped) = skipped {
        report_skipped(&skipped);
    }
    Ok(())
}

/// Each file a `--skip-corrupt` read passed over, on stderr.
pub fn report_skipped(skipped: &SkippedFiles) {
    for (path, reason) in skipped.list() {
        eprintln!("skipped corrupt file {path}: {reason}");
    }
}
