//! `kaizen demo`: the first thing a newcomer runs: their own agents' history imported
//! (read only) and reported on, or, on a machine without agent logs, a generated week.

use std::collections::BTreeMap;

use arrow::array::{Array, AsArray};
use arrow::datatypes::UInt32Type;
use futures::TryStreamExt;
use kaizen_core::{EventKind, Field, UtcDay};
use kaizen_import::Agent;
use kaizen_import::sample::SampleOptions;
use kaizen_store::{EventStore, Query, Store};

use super::{import, report};
use crate::cli::{DemoArgs, ReportArgs, ReportBy, ReportOutput};
use crate::output;

pub async fn run(store: &Store, store_url: &str, args: DemoArgs) -> anyhow::Result<()> {
    let s = if store_url == "./kaizen-data" {
        String::new()
    } else {
        format!(" --store {store_url}")
    };
    // The agents' logs on this machine, read-only; else a generated week of them.
    let mut files = match args.sample {
        true => Vec::new(),
        false => import::local_agent_files(),
    };
    let sample_dir = std::env::temp_dir().join(format!("kaizen-demo-{}", std::process::id()));
    if files.is_empty() {
        outln!(
            "kaizen demo: no agent logs on this machine (or --sample); writing a week of generated Claude Code, Codex and Gemini CLI logs to {}\n",
            sample_dir.display()
        );
        // A week ending yesterday: every event is in the past, inside a report's window.
        let options = SampleOptions::ending(UtcDay::today().minus_days(1));
        kaizen_import::sample::write_tree(&sample_dir, &options)?;
        for agent in Agent::AGENTS {
            files.extend(kaizen_import::discover(
                agent,
                &[sample_dir.join(agent.name())],
            )?);
        }
    } else {
        let bytes: u64 = (files.iter())
            .filter_map(|f| std::fs::metadata(&f.path).ok())
            .map(|m| m.len())
            .sum();
        outln!(
            "kaizen demo: importing your agents' logs ({} file(s), {}; read only) into {}\n",
            files.len(),
            output::bytes(bytes),
            store.location()
        );
    }
    let imported = import::import(
        store,
        files,
        false,
        false,
        Some(kaizen_import::Redactor::builtin()),
    )
    .await;
    let _ = std::fs::remove_dir_all(&sample_dir);
    import::print_summary(&imported?)?;

    let stores = vec![(store_url.to_owned(), store.clone())];
    for (title, by) in [
        ("Cost and tokens per day (last 30 days)", ReportBy::Day),
        ("Per model", ReportBy::Model),
    ] {
        outln!("\n{title}:");
        let args = ReportArgs {
            days: Some(30),
            since: None,
            until: None,
            by: vec![by],
            timezone: None,
            reprice: false,
            prices: None,
            format: ReportOutput::Table,
        };
        report::run(stores.clone(), args).await?;
    }

    outln!("\nTop tools:");
    outln!("{}", top_tools(store).await?);

    outln!(
        "\nTry next:\n  \
         kaizen{s} report --by tool              # calls, failures, p50/p95 latency per tool\n  \
         kaizen{s} report --by session --days 7\n  \
         kaizen{s} report --by week,model --timezone Europe/Paris\n  \
         kaizen{s} report --by block --days 2       # 5-hour windows, the active one's burn rate\n  \
         kaizen{s} report --reprice           # cost under the shipped price table, per model\n  \
         kaizen{s} sql \"SELECT model, sum(tokens_out) FROM events GROUP BY 1\"\n  \
         kaizen{s} import                        # again: only what your agents wrote since\n  \
         kaizen{s} compact                       # daily: the sealed days, small and sorted\n  \
         kaizen{s} export claude --out restored/ # the transcripts back, byte for byte\n  \
         kaizen doctor                        # is an agent set to delete your history?\n  \
         kaizen{s} partitions\n  \
         kaizen bench                         # kaizen beside DuckDB on 1M events"
    );
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
            // A source that records no tool times (Codex, Gemini CLI) shows none, not 0.
            let mean = latency
                .checked_div(results)
                .map_or("-".to_owned(), |ms| format!("{ms} ms"));
            vec![tool, calls.to_string(), mean]
        })
        .collect();
    Ok(output::report_table(
        &["tool", "calls", "mean latency"],
        rows,
    ))
}
