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

/// A session's model and agent, from its messages' payloads.
const SESSION_INFO: &str = "
  session_info AS (
    SELECT session_id,
           max(regexp_match(payload, '\"model\":\\s*\"([^\"]*)\"')[1]) AS model,
           max(regexp_match(payload, '\"agent\":\\s*\"([^\"]*)\"')[1]) AS agent
    FROM recent WHERE kind IN ('Message', 'Cost') GROUP BY session_id
  )";

fn report_sql(by: ReportBy, from_ms: u64) -> String {
    let (key, join) = match by {
        ReportBy::Day => ("CAST(e.day AS VARCHAR)", false),
        ReportBy::Tool => ("coalesce(e.tool, '(no tool)')", false),
        ReportBy::Session => ("e.session_id", false),
        ReportBy::Model => ("coalesce(s.model, '(unknown)')", true),
        ReportBy::Agent => ("coalesce(s.agent, '(unknown)')", true),
    };
    let with = if join {
        format!(",{SESSION_INFO}")
    } else {
        String::new()
    };
    let join = if join {
        "LEFT JOIN session_info s ON e.session_id = s.session_id"
    } else {
        ""
    };
    format!(
        "WITH recent AS (SELECT * FROM events WHERE ts_ms >= {from_ms}){with}
         SELECT {key} AS key,
                count(*) AS events,
                CAST(coalesce(sum(e.cost_usd_e6), 0) AS BIGINT) AS cost_usd_e6,
                CAST(coalesce(sum(e.tokens_in), 0) AS BIGINT) AS tokens_in,
                CAST(coalesce(sum(e.tokens_out), 0) AS BIGINT) AS tokens_out,
                CAST(coalesce(sum(e.cache_read_tokens), 0) AS BIGINT) AS cache_read,
                CAST(coalesce(sum(e.cache_creation_tokens), 0) AS BIGINT) AS cache_creation,
                sum(CASE WHEN e.kind = 'ToolCall' THEN 1 ELSE 0 END) AS tool_calls,
                sum(CASE WHEN e.kind = 'Error' OR (e.kind = 'ToolResult' AND e.payload LIKE '%\"ok\":false%')
                         THEN 1 ELSE 0 END) AS errors,
                CAST(approx_percentile_cont(0.5) WITHIN GROUP (ORDER BY e.latency_ms) AS BIGINT) AS p50_latency_ms,
                CAST(approx_percentile_cont(0.95) WITHIN GROUP (ORDER BY e.latency_ms) AS BIGINT) AS p95_latency_ms,
                CAST(coalesce(sum(e.retry_count), 0) AS BIGINT) AS retries
         FROM recent e {join}
         GROUP BY 1
         ORDER BY {}",
        if by == ReportBy::Day { "key" } else { "cost_usd_e6 DESC, key" }
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
                let frame = ctx.sql(&report_sql(ReportBy::Day, from.start_ms())).await?;
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
