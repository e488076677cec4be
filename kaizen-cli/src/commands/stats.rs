//! `kaizen stats`: events, sessions, cost and tokens per day.

use std::collections::{BTreeMap, HashSet};

use arrow::array::{Array, AsArray, PrimitiveArray};
use arrow::datatypes::ArrowPrimitiveType;
use arrow::datatypes::{Int64Type, UInt32Type, UInt64Type};
use futures::TryStreamExt;
use kaizen_core::{Field, UtcDay};
use kaizen_store::{EventStore, Query, SkippedFiles};
use serde::Serialize;

use crate::cli::{ReportFormat, StatsArgs};
use crate::output;

#[derive(Debug, Default, Clone, Serialize)]
pub struct DayStats {
    pub day: String,
    pub events: u64,
    pub sessions: u64,
    /// Summed in i128: a day of i64 extremes cannot overflow it.
    pub cost_usd_e6: i128,
    pub tokens_in: u64,
    pub tokens_out: u64,
}

#[derive(Debug, Serialize)]
pub struct Stats {
    pub days: Vec<DayStats>,
    pub total: DayStats,
}

pub async fn run(store: &dyn EventStore, args: StatsArgs) -> anyhow::Result<()> {
    let skipped = args.skip_corrupt.then(SkippedFiles::default);
    let stats = compute(store, args.range.from, args.range.to, skipped.clone()).await?;
    if let Some(skipped) = &skipped {
        super::scan::report_skipped(skipped);
    }
    match args.format {
        ReportFormat::Json => outln!("{}", serde_json::to_string_pretty(&stats)?),
        ReportFormat::Table => outln!("{}", table(&stats)),
    }
    Ok(())
}

pub async fn compute(
    store: &dyn EventStore,
    from: Option<u64>,
    to: Option<u64>,
    skip_corrupt: Option<SkippedFiles>,
) -> anyhow::Result<Stats> {
    let query = Query {
        from_ms: from,
        to_ms: to,
        columns: Some(vec![
            Field::TsMs,
            Field::SessionId,
            Field::CostUsdE6,
            Field::TokensIn,
            Field::TokensOut,
        ]),
        skip_corrupt,
        ..Query::default()
    };
    let mut batches = store.scan(query).await?;
    let mut days: BTreeMap<UtcDay, (DayStats, HashSet<String>)> = BTreeMap::new();
    let mut all_sessions = HashSet::new();
    let mut total = DayStats {
        day: "total".into(),
        ..DayStats::default()
    };
    while let Some(batch) = batches.try_next().await? {
        let ts = batch.column(0).as_primitive::<UInt64Type>();
        let sessions = batch.column(1).as_string::<i32>();
        let cost = batch.column(2).as_primitive::<Int64Type>();
        let tokens_in = batch.column(3).as_primitive::<UInt32Type>();
        let tokens_out = batch.column(4).as_primitive::<UInt32Type>();
        for i in 0..batch.num_rows() {
            let day = UtcDay::of_ts_ms(ts.value(i))?;
            let (d, day_sessions) = days.entry(day).or_default();
            d.events += 1;
            let add = |a: &mut DayStats| {
                a.cost_usd_e6 += i128::from(or_zero(cost, i));
                a.tokens_in += u64::from(or_zero(tokens_in, i));
                a.tokens_out += u64::from(or_zero(tokens_out, i));
            };
            add(d);
            add(&mut total);
            total.events += 1;
            let session = sessions.value(i);
            if !day_sessions.contains(session) {
                day_sessions.insert(session.to_owned());
                all_sessions.insert(session.to_owned());
            }
        }
    }
    total.sessions = all_sessions.len() as u64;
    let days = days
        .into_iter()
        .map(|(day, (mut d, sessions))| {
            d.day = day.to_string();
            d.sessions = sessions.len() as u64;
            d
        })
        .collect();
    Ok(Stats { days, total })
}

fn or_zero<T: ArrowPrimitiveType>(a: &PrimitiveArray<T>, i: usize) -> T::Native {
    if a.is_valid(i) {
        a.value(i)
    } else {
        T::Native::default()
    }
}

pub fn table(stats: &Stats) -> String {
    let row = |d: &DayStats| {
        vec![
            d.day.clone(),
            d.events.to_string(),
            d.sessions.to_string(),
            output::usd(d.cost_usd_e6),
            d.tokens_in.to_string(),
            d.tokens_out.to_string(),
        ]
    };
    let mut rows: Vec<_> = stats.days.iter().map(row).collect();
    rows.push(row(&stats.total));
    output::report_table(
        &[
            "day",
            "events",
            "sessions",
            "cost",
            "tokens in",
            "tokens out",
        ],
        rows,
    )
}

/// Stats over several stores, computed by SQL over them as one table.
pub async fn run_many(
    stores: Vec<(String, kaizen_store::Store)>,
    args: StatsArgs,
) -> anyhow::Result<()> {
    if args.skip_corrupt {
        anyhow::bail!("--skip-corrupt reads one store at a time: give one --store");
    }
    let mut conditions = super::sql::time_conditions(&args.range);
    conditions.push("true".to_owned());
    let metrics = "count(*), count(DISTINCT session_id), CAST(coalesce(sum(cost_usd_e6), 0) AS DECIMAL(38, 0)), \
                   coalesce(sum(tokens_in), 0), coalesce(sum(tokens_out), 0)";
    let filter = conditions.join(" AND ");
    let ctx = kaizen_store::sql::aggregate_session(stores)?;
    let per_day = ctx
        .sql(&format!(
            "SELECT CAST(day AS VARCHAR) AS day_text, {metrics} FROM events WHERE {filter} \
             GROUP BY day_text ORDER BY day_text"
        ))
        .await?
        .collect()
        .await?;
    let total = ctx
        .sql(&format!(
            "SELECT 'total', {metrics} FROM events WHERE {filter}"
        ))
        .await?
        .collect()
        .await?;
    let parse = |row: Vec<String>| -> anyhow::Result<DayStats> {
        Ok(DayStats {
            day: row[0].clone(),
            events: row[1].parse()?,
            sessions: row[2].parse()?,
            cost_usd_e6: row[3].parse()?,
            tokens_in: row[4].parse()?,
            tokens_out: row[5].parse()?,
        })
    };
    let days = output::cells(&per_day)?
        .into_iter()
        .map(parse)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let total = output::cells(&total)?
        .into_iter()
        .map(parse)
        .next()
        .transpose()?
        .unwrap_or_default();
    let stats = Stats { days, total };
    match args.format {
        ReportFormat::Json => outln!("{}", serde_json::to_string_pretty(&stats)?),
        ReportFormat::Table => outln!("{}", table(&stats)),
    }
    Ok(())
}
