//! `kaizen report`: cost, tokens, tool calls, errors, latency and retries per day, model,
//! tool, session or agent, computed by SQL over the store(s), with a cost-per-day chart.

use std::io::Write;

use anyhow::Context;
use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::Int64Type;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use futures::TryStreamExt;
use kaizen_core::UtcDay;
use kaizen_store::Store;

use crate::cli::{ReportArgs, ReportBy, ReportOutput};
use crate::output;

/// The report's window: events from the start of its first day up to now, both included.
/// Events dated after now (a clock ahead, a bad timestamp) are in no window: they are counted
/// apart ([`future_sql`]), so that they never inflate "the last N days".
#[derive(Debug, Clone, Copy)]
struct Window {
    from_ms: u64,
    now_ms: u64,
}

/// The report's columns of each event in the window. Only `--by tool|model|agent` read
/// payloads (for failed tool results, a message's model or agent): they are most of a
/// store's bytes, and every other figure comes from the typed columns.
///
/// A session both exported over OpenTelemetry (`kaizen serve`, `seq` namespace 4) and
/// imported from its transcript (namespaces 1–3) has its API responses twice: its OTLP
/// events are left out when the window holds a transcript event of the session (the
/// transcript is the complete record), so that no token is counted twice.
const RECENT: &str = "
  transcribed AS (
    SELECT DISTINCT session_id AS transcribed_id FROM events
    WHERE ts_ms >= {from_ms} AND ts_ms <= {now_ms} AND seq >= {TRANSCRIPT_LO} AND seq < {OTEL_LO}
  ),
  recent AS (
    SELECT session_id, seq, day, tool, kind, cost_usd_e6, tokens_in, tokens_out,
           cache_read_tokens, cache_creation_tokens, latency_ms, retry_count{extra}
    FROM events LEFT JOIN transcribed ON session_id = transcribed_id
    WHERE ts_ms >= {from_ms} AND ts_ms <= {now_ms}
      AND (transcribed_id IS NULL OR seq < {OTEL_LO} OR seq >= {OTEL_HI})
  )";

/// Fills in the `seq` namespaces' bounds (`kaizen_import`'s layout: the top byte).
fn namespaces(sql: &str) -> String {
    use kaizen_import::{SEQ_KIND_CLAUDE, SEQ_KIND_OTEL};
    sql.replace(
        "{TRANSCRIPT_LO}",
        &(u64::from(SEQ_KIND_CLAUDE) << 56).to_string(),
    )
    .replace("{OTEL_LO}", &(u64::from(SEQ_KIND_OTEL) << 56).to_string())
    .replace(
        "{OTEL_HI}",
        &(u64::from(SEQ_KIND_OTEL + 1) << 56).to_string(),
    )
}

/// Failed tool results of each event: 1 for a tool result whose payload's top-level `ok`
/// is `false` (kaizen's own events), else the payload's top-level `tool_errors` (imported
/// agent logs count failed tool results there: Claude's and Codex's on the tool result,
/// Gemini's on its calls). Only those kinds' payloads are parsed
/// (a CASE evaluates its THEN on the rows its WHEN selects).
const FAILED: &str = ",
           CASE WHEN kind IN ('ToolResult', 'ToolCall', 'Message')
                THEN CASE WHEN kind = 'ToolResult' AND json_get_text(payload, 'ok') = 'false'
                          THEN 1
                          ELSE coalesce(TRY_CAST(json_get_text(payload, 'tool_errors') AS BIGINT), 0)
                     END
                ELSE 0 END AS failed";

/// The model (agent, project) named at the top level of the event's own payload (imported
/// agent logs carry all three: `kaizen-import`'s payload wrapper).
const OWN: &str = ",
           json_get_text(payload, '{attr}') AS own";

/// Each event's model (or agent): its own; else that of the latest event before it in its
/// session (by seq) that names one (a tool call made under a message's model); else, for
/// the events of a session before any names one, the first that does; else NULL
/// ('(unknown)'). Only events in the window are looked at.
const ATTRIBUTED: &str = ",
  attributed AS (
    SELECT *,
           coalesce(
             last_value(own) IGNORE NULLS OVER (PARTITION BY session_id ORDER BY seq
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
             first_value(own) IGNORE NULLS OVER (PARTITION BY session_id ORDER BY seq
               ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING)) AS attr
    FROM recent
  )";

fn report_sql(by: ReportBy, window: Window) -> String {
    // Days group as dates and print as text: a cast per group, not per event.
    let group = match by {
        ReportBy::Day => "e.day",
        _ => "1",
    };
    let key = match by {
        ReportBy::Day => "CAST(e.day AS VARCHAR)",
        ReportBy::Tool => "coalesce(e.tool, '(no tool)')",
        ReportBy::Session => "e.session_id",
        ReportBy::Model | ReportBy::Agent | ReportBy::Project => "coalesce(e.attr, '(unknown)')",
    };
    let (with, from) = match by {
        ReportBy::Model => (
            format!("{RECENT}{ATTRIBUTED}").replace("{extra}", &OWN.replace("{attr}", "model")),
            "attributed e",
        ),
        ReportBy::Agent => (
            format!("{RECENT}{ATTRIBUTED}").replace("{extra}", &OWN.replace("{attr}", "agent")),
            "attributed e",
        ),
        ReportBy::Project => (
            format!("{RECENT}{ATTRIBUTED}").replace("{extra}", &OWN.replace("{attr}", "project")),
            "attributed e",
        ),
        ReportBy::Tool => (RECENT.replace("{extra}", FAILED), "recent e"),
        _ => (RECENT.replace("{extra}", ""), "recent e"),
    };
    let with = namespaces(&with)
        .replace("{from_ms}", &window.from_ms.to_string())
        .replace("{now_ms}", &window.now_ms.to_string());
    let failed = match by {
        ReportBy::Tool => ",\n CAST(sum(e.failed) AS BIGINT) AS failed_results",
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
                CAST(coalesce(sum(e.cache_creation_tokens), 0) AS BIGINT) AS cache_creation,{CACHE_HIT_RATE}
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
    .replace("{CACHE_HIT_RATE}", CACHE_HIT_RATE)
}

/// Cache hit rate: tokens read from the prompt cache over all input tokens (`tokens_in`
/// excludes cache reads and writes, the store's convention), from 0 to 1, rounded to 4
/// places. NULL where no event of the group records a cache figure (a source that counts
/// no cache): unknown, never 0%.
const CACHE_HIT_RATE: &str = "
                CASE WHEN count(e.cache_read_tokens) + count(e.cache_creation_tokens) = 0 THEN NULL
                     ELSE round(CAST(coalesce(sum(e.cache_read_tokens), 0) AS DOUBLE)
                                / nullif(CAST(coalesce(sum(e.tokens_in), 0)
                                              + coalesce(sum(e.cache_read_tokens), 0)
                                              + coalesce(sum(e.cache_creation_tokens), 0) AS DOUBLE), 0), 4)
                END AS cache_hit_rate,";

/// Cost per day for the chart: no payload, so cheap beside any report (the same events as
/// the report's: [`RECENT`]).
fn day_cost_sql(window: Window) -> String {
    let with = namespaces(&RECENT.replace("{extra}", ""))
        .replace("{from_ms}", &window.from_ms.to_string())
        .replace("{now_ms}", &window.now_ms.to_string());
    format!(
        "WITH {with}
         SELECT CAST(day AS VARCHAR) AS key, count(*) AS events,
                CAST(coalesce(sum(cost_usd_e6), 0) AS BIGINT) AS cost_usd_e6
         FROM recent GROUP BY day ORDER BY 1"
    )
}

/// The events dated after now, and their cost: left out of every window, reported apart.
/// Only today's and later days are listed, and only two columns read.
fn future_sql(window: Window) -> String {
    format!(
        "SELECT count(*) AS events, CAST(coalesce(sum(cost_usd_e6), 0) AS BIGINT) AS cost_usd_e6
         FROM events WHERE ts_ms > {}",
        window.now_ms
    )
}

/// Milliseconds since the Unix epoch, from the system clock.
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

pub async fn run(stores: Vec<(String, Store)>, args: ReportArgs) -> anyhow::Result<()> {
    let from = UtcDay::today().minus_days(args.days - 1);
    let window = Window {
        from_ms: from.start_ms(),
        now_ms: now_ms(),
    };
    let ctx = kaizen_store::sql::aggregate_session(stores)?;
    let frame = ctx.sql(&report_sql(args.by, window)).await?;
    let batches: Vec<RecordBatch> = frame.execute_stream().await?.try_collect().await?;
    let (future_events, future_cost) =
        first_row_numbers(&ctx.sql(&future_sql(window)).await?.collect().await?)?;
    let left_out = (future_events > 0).then(|| {
        format!(
            "left out: {future_events} event(s) dated after now ({}), {} of cost: in no window until their time comes",
            output::time_ms(window.now_ms),
            output::usd(i128::from(future_cost))
        )
    });
    // An empty table says nothing about why: say what to do instead.
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let empty = (rows == 0).then(|| {
        format!(
            "no events in this window (since {from}, {} days): `kaizen import` brings in agent logs; `--days N` widens the window",
            args.days
        )
    });
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        ReportOutput::Json | ReportOutput::Csv => {
            // Standard output stays rows of the report; the notes are for the reader.
            if let Some(note) = &left_out {
                eprintln!("note: {note}");
            }
            if let Some(hint) = &empty {
                eprintln!("note: {hint}");
            }
            if args.format == ReportOutput::Json {
                for batch in &batches {
                    output::write_jsonl(batch, &mut out)?;
                }
            } else {
                let mut csv = output::CsvOut::new(&mut out);
                for batch in &batches {
                    csv.write(batch)?;
                }
            }
        }
        ReportOutput::Table => {
            writeln!(
                out,
                "since {from} ({} days, up to now), by {:?}",
                args.days, args.by
            )?;
            if let Some(note) = &left_out {
                writeln!(out, "{note}")?;
            }
            if let Some(hint) = &empty {
                writeln!(out, "{hint}")?;
                return Ok(());
            }
            writeln!(out, "{}", table(&batches)?)?;
            let day_costs = if args.by == ReportBy::Day {
                key_costs(&batches)?
            } else {
                let frame = ctx.sql(&day_cost_sql(window)).await?;
                key_costs(&frame.collect().await?)?
            };
            writeln!(out, "\ncost per day\n{}", bar_chart(&day_costs))?;
        }
    }
    Ok(())
}

/// The report's rows as a table, the cost in dollars (`$12.34`) rather than the exact
/// micro-dollars JSON and CSV keep, and the cache hit rate as a percentage (`-` where it
/// is unknown).
fn table(batches: &[RecordBatch]) -> anyhow::Result<String> {
    let Some(schema) = batches.first().map(RecordBatch::schema) else {
        return Ok(String::new());
    };
    let cost = schema.index_of("cost_usd_e6").ok();
    let hit_rate = schema.index_of("cache_hit_rate").ok();
    let header: Vec<&str> = (schema.fields().iter().enumerate())
        .map(|(i, f)| match Some(i) == cost {
            true => "cost",
            false => f.name().as_str(),
        })
        .collect();
    let mut rows = output::cells(batches)?;
    if let Some(i) = cost {
        for row in &mut rows {
            if let Ok(e6) = row[i].parse::<i128>() {
                row[i] = output::usd(e6);
            }
        }
    }
    if let Some(i) = hit_rate {
        for row in &mut rows {
            row[i] = match row[i].parse::<f64>() {
                Ok(rate) => format!("{:.1}%", rate * 100.0),
                Err(_) => "-".to_owned(),
            };
        }
    }
    Ok(output::report_table(&header, rows))
}

/// The two BIGINT columns of a one-row result (an aggregate without GROUP BY).
fn first_row_numbers(batches: &[RecordBatch]) -> anyhow::Result<(i64, i64)> {
    let Some(batch) = batches.iter().find(|b| b.num_rows() > 0) else {
        return Ok((0, 0));
    };
    let number = |i: usize| -> anyhow::Result<i64> {
        let column = batch
            .column(i)
            .as_primitive_opt::<Int64Type>()
            .context("an aggregate of the report is not a BIGINT")?;
        Ok(if column.is_null(0) {
            0
        } else {
            column.value(0)
        })
    };
    Ok((number(0)?, number(1)?))
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
