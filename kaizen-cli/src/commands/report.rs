//! `kaizen report`: cost, tokens, tool calls, errors, latency and retries per day, model,
//! tool, session or agent, computed by SQL over the store(s), with a cost-per-day chart.

use std::io::Write;

use arrow::array::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use futures::TryStreamExt;
use kaizen_core::UtcDay;
use kaizen_store::Store;

use crate::cli::{ReportArgs, ReportBy, ReportOutput};
use crate::output;

/// The report's columns of each event in the window. Only `--by tool` reads payloads (for
/// the tool results that failed): they are most of a store's bytes, and every other figure
/// comes from the typed columns.
const RECENT: &str = "
  recent AS (
    SELECT session_id, day, tool, kind, cost_usd_e6, tokens_in, tokens_out,
           cache_read_tokens, cache_creation_tokens, latency_ms, retry_count{failed}
    FROM events WHERE ts_ms >= {from_ms}
  )";

/// A tool result whose payload says `"ok": false` (compact or spaced JSON).
const FAILED: &str = ", kind = 'ToolResult'
    AND (payload LIKE '%\"ok\":false%' OR payload LIKE '%\"ok\": false%') AS failed";

/// A session's model and agent, from its messages' and costs' payloads.
const SESSION_INFO: &str = "
  session_info AS (
    SELECT session_id,
           max(regexp_match(payload, '\"model\":\\s*\"([^\"]*)\"')[1]) AS model,
           max(regexp_match(payload, '\"agent\":\\s*\"([^\"]*)\"')[1]) AS agent
    FROM events WHERE ts_ms >= {from_ms} AND kind IN ('Message', 'Cost') GROUP BY session_id
  )";

fn report_sql(by: ReportBy, from_ms: u64) -> String {
    // Days group as dates and print as text: a cast per group, not per event.
    let group = match by {
        ReportBy::Day => "e.day",
        _ => "1",
    };
    let key = match by {
        ReportBy::Day => "CAST(e.day AS VARCHAR)",
        ReportBy::Tool => "coalesce(e.tool, '(no tool)')",
        ReportBy::Session => "e.session_id",
        ReportBy::Model => "coalesce(s.model, '(unknown)')",
        ReportBy::Agent => "coalesce(s.agent, '(unknown)')",
    };
    // The few sessions are the join's build side; the many events stream past them.
    let (with, from) = match by {
        ReportBy::Model | ReportBy::Agent => (
            format!("{RECENT},{SESSION_INFO}"),
            "session_info s RIGHT JOIN recent e ON e.session_id = s.session_id",
        ),
        _ => (RECENT.to_owned(), "recent e"),
    };
    let with = with
        .replace("{from_ms}", &from_ms.to_string())
        .replace("{failed}", if by == ReportBy::Tool { FAILED } else { "" });
    let failed = match by {
        ReportBy::Tool => ",\n sum(CASE WHEN e.failed THEN 1 ELSE 0 END) AS failed_results",
        _ => "",
    };
    format!(
        "WITH {with}
         SELECT {key} AS key,
                count(*) AS events,
                CAST(coalesce(sum(e.cost_usd_e6), 0) AS BIGINT) AS cost_usd_e6,
                CAST(coalesce(sum(e.tokens_in), 0) AS BIGINT) AS tokens_in,
                CAST(coalesce(sum(e.tokens_out), 0) AS BIGINT) AS tokens_out,
                CAST(coalesce(sum(e.cache_read_tokens), 0) AS BIGINT) AS cache_read,
                CAST(coalesce(sum(e.cache_creation_tokens), 0) AS BIGINT) AS cache_creation,
                sum(CASE WHEN e.kind = 'ToolCall' THEN 1 ELSE 0 END) AS tool_calls,
                sum(CASE WHEN e.kind = 'Error' THEN 1 ELSE 0 END) AS errors{failed},
                CAST(approx_percentile_cont(0.5) WITHIN GROUP (ORDER BY e.latency_ms) AS BIGINT) AS p50_latency_ms,
                CAST(approx_percentile_cont(0.95) WITHIN GROUP (ORDER BY e.latency_ms) AS BIGINT) AS p95_latency_ms,
                CAST(coalesce(sum(e.retry_count), 0) AS BIGINT) AS retries
         FROM {from}
         GROUP BY {group}
         ORDER BY {}",
        if by == ReportBy::Day { "key" } else { "cost_usd_e6 DESC, key" }
    )
}

/// Cost per day for the chart: no payload, so cheap beside any report.
fn day_cost_sql(from_ms: u64) -> String {
    format!(
        "SELECT CAST(day AS VARCHAR) AS key, count(*) AS events,
                CAST(coalesce(sum(cost_usd_e6), 0) AS BIGINT) AS cost_usd_e6
         FROM events WHERE ts_ms >= {from_ms} GROUP BY day ORDER BY 1"
    )
}

pub async fn run(stores: Vec<(String, Store)>, args: ReportArgs) -> anyhow::Result<()> {
    let from = UtcDay::today().minus_days(args.days - 1);
    let ctx = kaizen_store::sql::session(stores)?;
    let frame = ctx.sql(&report_sql(args.by, from.start_ms())).await?;
    let batches: Vec<RecordBatch> = frame.execute_stream().await?.try_collect().await?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        ReportOutput::Json => {
            for batch in &batches {
                output::write_jsonl(batch, &mut out)?;
            }
        }
        ReportOutput::Csv => {
            let mut csv = output::CsvOut::new(&mut out);
            for batch in &batches {
                csv.write(batch)?;
            }
        }
        ReportOutput::Table => {
            writeln!(out, "since {from} ({} days), by {:?}", args.days, args.by)?;
            writeln!(out, "{}", output::batches_table(&batches)?)?;
            let day_costs = if args.by == ReportBy::Day {
                key_costs(&batches)?
            } else {
                let frame = ctx.sql(&day_cost_sql(from.start_ms())).await?;
                key_costs(&frame.collect().await?)?
            };
            writeln!(out, "\ncost per day\n{}", bar_chart(&day_costs))?;
        }
    }
    Ok(())
}

/// (key, cost in micro-dollars) of each report row.
fn key_costs(batches: &[RecordBatch]) -> anyhow::Result<Vec<(String, i64)>> {
    let mut rows = Vec::new();
    for batch in batches {
        let keys = ArrayFormatter::try_new(batch.column(0).as_ref(), &FormatOptions::default())?;
        let costs = ArrayFormatter::try_new(batch.column(2).as_ref(), &FormatOptions::default())?;
        for i in 0..batch.num_rows() {
            rows.push((
                keys.value(i).to_string(),
                costs.value(i).to_string().parse().unwrap_or(0),
            ));
        }
    }
    Ok(rows)
}

/// A horizontal bar per row, scaled to the largest.
fn bar_chart(rows: &[(String, i64)]) -> String {
    const WIDTH: i64 = 40;
    let max = rows.iter().map(|(_, c)| *c).max().unwrap_or(0).max(1);
    rows.iter()
        .map(|(key, cost)| {
            let len = (cost.max(&0) * WIDTH / max) as usize;
            format!(
                "{key:>10} {:<40} {}",
                "█".repeat(len),
                output::usd(i128::from(*cost))
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}
