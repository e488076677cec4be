//! `kaizen demo`: the first thing a newcomer runs.

use std::collections::BTreeMap;
use std::time::Instant;

use arrow::array::{Array, AsArray};
use arrow::datatypes::UInt32Type;
use futures::TryStreamExt;
use kaizen_core::{EventKind, Field, UtcDay};
use kaizen_store::{EventStore, Query, Store};

use super::ingest::{IngestSummary, print_summary};
use super::{partitions, stats};
use crate::cli::DemoArgs;
use crate::generate::Corpus;
use crate::{output, progress};

const CHUNK: usize = 50_000;

pub async fn run(store: &Store, store_url: &str, args: DemoArgs) -> anyhow::Result<()> {
    // The sessions start in the days before today, so (nearly) every event is in the past.
    let first_day = UtcDay::today().minus_days(args.days);
    outln!(
        "kaizen demo: {} realistic agent events over {} days ({first_day} on) into {}\n",
        args.events,
        args.days,
        store.location()
    );
    let started = Instant::now();
    let bar = progress::events(args.events);
    bar.set_message("ingesting");
    let mut writer = store.writer();
    let mut corpus = Corpus::new(args.events, args.days, first_day, 7).peekable();
    while corpus.peek().is_some() {
        let chunk: Vec<_> = corpus.by_ref().take(CHUNK).collect();
        bar.inc(chunk.len() as u64);
        if let Err(e) = writer.write(chunk).await {
            let _ = writer.abort().await;
            return Err(e.into());
        }
    }
    let receipt = writer.commit().await?;
    store.create().await?;
    bar.finish_and_clear();
    print_summary(&IngestSummary {
        receipt,
        skipped: 0,
        seconds: started.elapsed().as_secs_f64(),
    })?;

    outln!("\nPartitions (one folder a UTC day, Parquet files inside):");
    outln!("{}", partitions::table(&store.partitions().await?));

    outln!("\nCost by day ({first_day} on):");
    let stats = stats::compute(store, Some(first_day.start_ms()), None, None).await?;
    outln!("{}", stats::table(&stats));

    outln!("\nTop tools:");
    outln!("{}", top_tools(store).await?);

    let s = if store_url == "./kaizen-data" {
        String::new()
    } else {
        format!(" --store {store_url}")
    };
    outln!(
        "\nTry next:\n  \
         kaizen{s} scan --from {first_day} --kind ToolCall --limit 5 --format table\n  \
         kaizen{s} scan --session <session_id> --format jsonl\n  \
         kaizen{s} stats --format json\n  \
         kaizen{s} report --by model\n  \
         kaizen{s} sql \"SELECT tool, count(*) FROM events GROUP BY tool\"\n  \
         kaizen{s} partitions\n  \
         kaizen{s} prune --older-than 30d --dry-run\n  \
         kaizen generate --events 1000000 --days 30 > events.jsonl && kaizen{s} ingest events.jsonl\n  \
         kaizen bench                        # kaizen beside DuckDB on 1M events"
    );
    outln!("\n(Running the demo again stores the same events again; scans keep each event once.)");
    Ok(())
}

/// Calls, results and mean latency per tool, most called first.
async fn top_tools(store: &dyn EventStore) -> anyhow::Result<String> {
    let query = Query::all()
        .kind(EventKind::ToolCall)
        .kind(EventKind::ToolResult)
        .columns([Field::Kind, Field::Tool, Field::LatencyMs]);
    let mut batches = store.scan(query).await?;
    let mut tools: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    while let Some(batch) = batches.try_next().await? {
        let kinds = batch.column(0).as_string::<i32>();
        let names = batch.column(1).as_string::<i32>();
        let latency = batch.column(2).as_primitive::<UInt32Type>();
        for i in 0..batch.num_rows() {
            if names.is_null(i) {
                continue;
            }
            let entry = tools.entry(names.value(i).to_owned()).or_default();
            if kinds.value(i) == EventKind::ToolCall.name() {
                entry.0 += 1;
            } else if latency.is_valid(i) {
                entry.1 += 1;
                entry.2 += u64::from(latency.value(i));
            }
        }
    }
    let mut ranked: Vec<_> = tools.into_iter().collect();
    ranked.sort_by(|a, b| b.1.0.cmp(&a.1.0).then_with(|| a.0.cmp(&b.0)));
    let rows = ranked
        .into_iter()
        .take(10)
        .map(|(tool, (calls, results, latency))| {
            let mean = latency.checked_div(results).unwrap_or(0);
            vec![tool, calls.to_string(), format!("{mean} ms")]
        })
        .collect();
    Ok(output::report_table(
        &["tool", "calls", "mean latency"],
        rows,
    ))
}
