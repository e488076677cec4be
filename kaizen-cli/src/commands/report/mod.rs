//! `kaizen report`: tokens, cost, cache hit rate, API errors, tool calls and failures,
//! latency per local day, week or month, 5-hour block, session, model, agent, project,
//! tool, host or store (several at once), over one store or many, in a time zone; with
//! `--reprice`, the cost recomputed under a price table.
//!
//! - [`period`]: the zone, the window and calendar periods;
//! - [`blocks`]: 5-hour blocks, burn rate and projection;
//! - [`attrs`]: where figures that are not typed columns are read (the one place);
//! - [`sql`]: the queries; [`udf`]: the period and block functions they group by;
//! - [`row`]: rows and figures; [`reprice`]: `--reprice`; [`format`]: JSON, CSV, table.
//!
//! Many stores are one table (`kaizen_store::sql`, with a `store` column): `--by store`
//! splits by it, `--by host` by the payload's host or the store.

mod attrs;
mod blocks;
mod format;
mod percentiles;
mod period;
mod reprice;
mod row;
mod sql;
mod udf;

use std::sync::Arc;

use anyhow::bail;
use arrow::array::{Array, AsArray, RecordBatch};
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use futures::TryStreamExt;
use kaizen_store::Store;
use kaizen_store::sql::EventsTable;

use crate::cli::{ReportArgs, ReportBy, ReportOutput};
use crate::output;
use attrs::Attr;
use blocks::Blocks;
use period::{Periods, Unit, Window, Zone};
use row::{BlockInfo, Metrics, Row};
use sql::Key;

/// The keys of `--by`, in the order given, each once; a block report is also by agent
/// (each agent's blocks are its own). At most one time period.
fn keys_of(by: &[ReportBy]) -> anyhow::Result<Vec<Key>> {
    let mut keys: Vec<Key> = Vec::new();
    for b in by {
        let key = match b {
            ReportBy::Day => Key::Period(Unit::Day),
            ReportBy::Week => Key::Period(Unit::Week),
            ReportBy::Month => Key::Period(Unit::Month),
            ReportBy::Block => Key::Block,
            ReportBy::Session => Key::Session,
            ReportBy::Model => Key::Attr(Attr::Model),
            ReportBy::Agent => Key::Attr(Attr::Agent),
            ReportBy::Project => Key::Attr(Attr::Project),
            ReportBy::Host => Key::Attr(Attr::Host),
            ReportBy::Tool => Key::Tool,
            ReportBy::Store => Key::Store,
        };
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    let times: Vec<&str> = keys
        .iter()
        .filter(|k| matches!(k, Key::Period(_) | Key::Block))
        .map(|k| k.name())
        .collect();
    if times.len() > 1 {
        bail!(
            "--by {}: at most one of day, week, month and block",
            times.join(",")
        );
    }
    if let Some(i) = keys.iter().position(|k| *k == Key::Block)
        && !keys.contains(&Key::Attr(Attr::Agent))
    {
        keys.insert(i + 1, Key::Attr(Attr::Agent));
    }
    Ok(keys)
}

/// Milliseconds since the Unix epoch, from the system clock.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Memory the report's queries may hold before their sorts spill to the OS's temporary
/// folder: carrying model, agent or project along sessions sorts the window's events.
const MEMORY_LIMIT: usize = 512 << 20;

/// The report's DataFusion session: the stores as one unordered table (aggregates need
/// each event once and no order: `kaizen_store::sql::aggregate_session`'s table), kaizen's
/// SQL functions, and a memory pool of [`MEMORY_LIMIT`] that sorts spill beyond, so
/// memory does not grow with the window (10M events by model: 3.1 GB without it).
fn session(stores: Vec<(String, Store)>) -> anyhow::Result<SessionContext> {
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(FairSpillPool::new(MEMORY_LIMIT)))
        .build_arc()?;
    // DataFusion's defaults, not `kaizen_store::sql::session_config()`: the report uses no
    // `percentile_cont`, and skipping partial aggregation where groups are nearly all
    // distinct (a session each) is faster (300k one-event sessions: 1.8 s against 2.1–2.4).
    let ctx = SessionContext::new_with_config_rt(SessionConfig::new(), runtime);
    ctx.register_table("events", Arc::new(EventsTable::new(stores).unordered()))?;
    kaizen_store::sql::register_functions(&ctx);
    Ok(ctx)
}

/// The window's sessions with both OpenTelemetry and transcript events ([`Window::doubled_sessions`]).
async fn doubled_sessions(ctx: &SessionContext, window: &Window) -> anyhow::Result<Vec<String>> {
    let texts = |batches: Vec<RecordBatch>| -> Vec<String> {
        let mut out = Vec::new();
        for b in &batches {
            if let Some(ids) = b.column(0).as_string_opt::<i32>() {
                out.extend(ids.iter().flatten().map(str::to_owned));
            }
        }
        out
    };
    let counted = collect(ctx, &sql::otel_events(window)).await?;
    let otel_events = match counted.iter().find(|b| b.num_rows() > 0) {
        Some(b) => row::int(b, "n", 0)?.unwrap_or(0),
        None => 0,
    };
    if otel_events == 0 {
        return Ok(Vec::new());
    }
    let otel = texts(collect(ctx, &sql::otel_sessions(window)).await?);
    if otel.is_empty() {
        return Ok(otel);
    }
    Ok(texts(
        collect(ctx, &sql::transcribed_among(window, &otel)).await?,
    ))
}

/// Runs [`sql::session_values`] for `attrs` and registers, for each, the lookup of its
/// one value per session ([`udf::SessionValueUdf`]); returns the mixed sessions. Nothing
/// to do without attributes.
async fn register_session_values(
    ctx: &SessionContext,
    window: &Window,
    attrs: &[Attr],
) -> anyhow::Result<Vec<String>> {
    if attrs.is_empty() {
        return Ok(Vec::new());
    }
    let mut values: Vec<foldhash::HashMap<String, String>> = vec![Default::default(); attrs.len()];
    let mut mixed = Vec::new();
    for b in collect(ctx, &sql::session_values(window, attrs)).await? {
        let text = |name: &str| {
            let column = b.column_by_name(name)?;
            arrow::compute::cast(column, &arrow::datatypes::DataType::Utf8).ok()
        };
        let ids = text("session_id");
        let flags = b.column_by_name("mixed").and_then(|c| c.as_boolean_opt());
        let (Some(ids), Some(flags)) = (ids, flags) else {
            bail!("the session values query gave no session_id or mixed column");
        };
        let ids = ids.as_string::<i32>();
        let columns: Vec<_> = attrs
            .iter()
            .map(|a| text(&format!("value_{}", a.name())))
            .collect::<Option<_>>()
            .ok_or_else(|| anyhow::anyhow!("the session values query lacks a value column"))?;
        for i in 0..b.num_rows() {
            if flags.is_valid(i) && flags.value(i) {
                mixed.push(ids.value(i).to_owned());
                continue;
            }
            for (map, column) in values.iter_mut().zip(&columns) {
                let column = column.as_string::<i32>();
                if column.is_valid(i) {
                    map.insert(ids.value(i).to_owned(), column.value(i).to_owned());
                }
            }
        }
    }
    for (attr, map) in attrs.iter().zip(values) {
        ctx.register_udf(udf::SessionValueUdf::udf(attr.name(), map));
    }
    Ok(mixed)
}

/// The events the report query's rows say came over OpenTelemetry.
fn otel_events_in(batches: &[RecordBatch]) -> anyhow::Result<i64> {
    let mut n = 0;
    for b in batches {
        for i in 0..b.num_rows() {
            n += row::int(b, "otel_events", i)?.unwrap_or(0);
        }
    }
    Ok(n)
}

async fn collect(ctx: &SessionContext, sql: &str) -> anyhow::Result<Vec<RecordBatch>> {
    let frame = ctx.sql(sql).await?;
    Ok(frame.execute_stream().await?.try_collect().await?)
}

/// The labels of a query row's keys: periods by their local date, blocks by their UTC
/// start, the rest as text.
fn labels(
    keys: &[Key],
    periods: &Periods,
    batch: &RecordBatch,
    i: usize,
) -> anyhow::Result<(Vec<String>, Option<i64>)> {
    let mut labels = Vec::with_capacity(keys.len());
    let mut start = None;
    for key in keys {
        labels.push(match key {
            Key::Period(_) => match row::int(batch, key.name(), i)? {
                Some(ms) => {
                    start = Some(ms);
                    periods.label(ms)
                }
                None => "(no time)".into(),
            },
            Key::Block => match row::int(batch, key.name(), i)? {
                Some(ms) => {
                    start = Some(ms);
                    format::utc(ms)
                }
                None => "(between blocks)".into(),
            },
            _ => row::text(batch, key.name(), i)?.unwrap_or_else(|| "(none)".into()),
        });
    }
    Ok((labels, start))
}

pub async fn run(stores: Vec<(String, Store)>, args: ReportArgs) -> anyhow::Result<()> {
    let zone = Zone::resolve(args.timezone.as_deref())?;
    let keys = keys_of(&args.by)?;
    let now = now_ms();
    let window = Window::new(zone, args.days, args.since, args.until, now)?;
    let prices = match args.reprice {
        true => Some(reprice::table(args.prices.as_deref())?),
        false => None,
    };
    let unit = keys
        .iter()
        .find_map(|k| match k {
            Key::Period(u) => Some(*u),
            _ => None,
        })
        .unwrap_or(Unit::Day);
    let periods = Periods::new(zone, unit);

    let ctx = session(stores)?;
    ctx.register_udf(udf::PeriodUdf::udf(periods));
    ctx.register_udaf(percentiles::LatencyPercentiles::udaf());
    let mut window = window;
    let attrs = sql::attributes_needed(&keys, prices.is_some());
    // The sessions sent both over OpenTelemetry and from their transcript are found first
    // when other queries come before the figures; otherwise the figures' query counts the
    // OpenTelemetry events too, and only when there are any are those sessions looked for
    // and the figures taken again without their doubles (a store `kaizen serve` never wrote
    // to then costs one query less).
    let doubles_first = !attrs.is_empty() || keys.contains(&Key::Block);
    if doubles_first {
        window.doubled_sessions = doubled_sessions(&ctx, &window).await?;
    }
    window.mixed_sessions = register_session_values(&ctx, &window, &attrs).await?;
    let blocks = if keys.contains(&Key::Block) {
        let mut responses = Vec::new();
        for batch in collect(&ctx, &sql::responses(&window)).await? {
            for i in 0..batch.num_rows() {
                let agent = row::text(&batch, "agent", i)?.unwrap_or_default();
                let ms = row::int(&batch, "ts_ms", i)?.unwrap_or(0);
                let n = row::int(&batch, "responses", i)?.unwrap_or(0);
                responses.push((agent, ms, u64::try_from(n).unwrap_or(0)));
            }
        }
        Blocks::detect(responses)
    } else {
        Blocks::default()
    };
    let blocks = Arc::new(blocks);
    ctx.register_udf(udf::BlockUdf::udf(blocks.clone()));

    let mut rows = Vec::new();
    let agent_at = keys.iter().position(|k| *k == Key::Attr(Attr::Agent));
    let mut figures = collect(&ctx, &sql::report(&window, &keys)).await?;
    if !doubles_first && otel_events_in(&figures)? > 0 {
        window.doubled_sessions = doubled_sessions(&ctx, &window).await?;
        if !window.doubled_sessions.is_empty() {
            figures = collect(&ctx, &sql::report(&window, &keys)).await?;
        }
    }
    for batch in figures {
        for i in 0..batch.num_rows() {
            let (keys_text, start_ms) = labels(&keys, &periods, &batch, i)?;
            let metrics = row::metrics(&batch, i)?;
            let block = match (keys.contains(&Key::Block), start_ms, agent_at) {
                (true, Some(start), Some(a)) => {
                    blocks.get(&keys_text[a], start).map(|b| BlockInfo {
                        start_ms: b.start_ms,
                        end_ms: b.end_ms(),
                        last_activity_ms: b.last_ms,
                        responses: b.responses,
                        active: b.active(now),
                        burn: blocks::burn(b, &metrics, now),
                    })
                }
                _ => None,
            };
            rows.push(Row {
                keys: keys_text,
                start_ms,
                metrics,
                block,
                repriced_usd_e6: None,
                unpriced_responses: None,
            });
        }
    }
    // In time order; within a period (or without one), the costliest first.
    rows.sort_by(|a, b| {
        a.start_ms
            .cmp(&b.start_ms)
            .then_with(|| b.metrics.cost_usd_e6.cmp(&a.metrics.cost_usd_e6))
            .then_with(|| a.keys.cmp(&b.keys))
    });
    let mut totals = Metrics::default();
    for row in &rows {
        totals.add(&row.metrics);
    }
    totals.failed_tool_results = rows.iter().map(|r| r.metrics.failed_tool_results).sum();

    let repriced = match &prices {
        Some(table) => {
            let batches = collect(&ctx, &sql::reprice(&window, &keys)).await?;
            let key_of = |batch: &RecordBatch, i: usize| Ok(labels(&keys, &periods, batch, i)?.0);
            Some(reprice::apply(table, &batches, key_of, &mut rows)?)
        }
        None => None,
    };

    let future = collect(&ctx, &sql::future(&window)).await?;
    let (future_events, future_cost) = match future.iter().find(|b| b.num_rows() > 0) {
        Some(batch) => (
            row::int(batch, "events", 0)?.unwrap_or(0),
            row::int(batch, "cost_usd_e6", 0)?.unwrap_or(0),
        ),
        None => (0, 0),
    };
    let left_out = (future_events > 0).then_some((future_events, future_cost));

    let report = format::Report {
        by: keys.iter().map(|k| k.name()).collect(),
        timezone: zone.name(),
        since: window.first_day.to_string(),
        until: window.last_day.to_string(),
        from_ms: window.from_ms,
        to_ms: window.asked_to_ms.unwrap_or(window.to_ms),
        rows: &rows,
        totals,
        left_out,
        repriced: repriced.as_ref(),
        blocks: keys.contains(&Key::Block),
    };
    let left_out_note = left_out.map(|(events, cost)| {
        format!(
            "left out: {events} event(s) dated after now ({}), {} of cost: in no window until their time comes",
            format::utc(now),
            output::usd(i128::from(cost))
        )
    });
    // An empty table says nothing about why: say what to do instead.
    let empty_note = rows.is_empty().then(|| {
        format!(
            "no events in this window ({} to {}, {}): `kaizen import` brings in agent logs; `--days N` or --since widens the window",
            window.first_day,
            window.last_day,
            zone.name()
        )
    });
    // The chart's cost per period: typed columns only, and only for the table.
    let chart = match args.format {
        ReportOutput::Table if !rows.is_empty() => {
            let mut costs = Vec::new();
            for batch in collect(&ctx, &sql::day_costs(&window)).await? {
                for i in 0..batch.num_rows() {
                    let start = row::int(&batch, "day", i)?.unwrap_or(0);
                    let cost = row::int(&batch, "cost_usd_e6", i)?.unwrap_or(0);
                    costs.push((start, cost));
                }
            }
            costs.sort_unstable();
            costs
                .into_iter()
                .map(|(start, cost)| (periods.label(start), cost))
                .collect()
        }
        _ => Vec::new(),
    };
    let notes = format::Notes {
        heading: format!(
            "{} to {} ({}, up to now), by {}",
            window.first_day,
            window.last_day,
            zone.name(),
            report.by.join(", ")
        ),
        left_out: left_out_note,
        empty: empty_note,
        chart_unit: match unit {
            Unit::Day => "day",
            Unit::Week => "week",
            Unit::Month => "month",
        },
        chart,
    };
    let stdout = std::io::stdout();
    format::write(&report, &notes, args.format, &mut stdout.lock())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_in_order_once_blocks_per_agent_one_time_period() {
        let keys = keys_of(&[ReportBy::Day, ReportBy::Model, ReportBy::Day]).expect("keys");
        assert_eq!(keys, vec![Key::Period(Unit::Day), Key::Attr(Attr::Model)]);
        let keys = keys_of(&[ReportBy::Block, ReportBy::Model]).expect("keys");
        assert_eq!(
            keys,
            vec![Key::Block, Key::Attr(Attr::Agent), Key::Attr(Attr::Model)]
        );
        let keys = keys_of(&[ReportBy::Agent, ReportBy::Block]).expect("keys");
        assert_eq!(keys, vec![Key::Attr(Attr::Agent), Key::Block]);
        assert!(keys_of(&[ReportBy::Week, ReportBy::Block]).is_err());
        assert!(keys_of(&[ReportBy::Month, ReportBy::Day]).is_err());
    }
}
