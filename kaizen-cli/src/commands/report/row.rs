//! A report's rows: the group's keys and its figures, read from the query's batches.

use anyhow::{Context, bail};
use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Int64Type};

use super::blocks::{BurnRate, Projection};

/// The figures of one group (or of the whole report).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics {
    pub events: i64,
    /// Input tokens, cache reads and writes excluded (the store's `tokens_in`).
    pub input: i64,
    /// Output tokens, reasoning included.
    pub output: i64,
    pub cache_write_5m: i64,
    pub cache_write_1h: i64,
    pub cache_read: i64,
    /// Recorded cost, micro-dollars.
    pub cost_usd_e6: i64,
    /// Events that record a cache figure (read or write): none means the hit rate is unknown.
    pub cache_figures: i64,
    /// `Error` events: failed API calls.
    pub api_errors: i64,
    pub tool_calls: i64,
    /// Failed tool results (the derived `tool_errors` column: see `attrs`); None where a
    /// report is asked not to count them.
    pub failed_tool_results: Option<i64>,
    pub retries: i64,
    /// Latency percentiles (approximate, t-digest), ms; None without any latency.
    pub p50_latency_ms: Option<i64>,
    pub p95_latency_ms: Option<i64>,
}

impl Metrics {
    /// Input, output, cache writes and reads: ccusage's `totalTokens`.
    pub fn total_tokens(&self) -> i64 {
        self.input + self.output + self.cache_write_5m + self.cache_write_1h + self.cache_read
    }

    /// Cache reads over all input tokens (input, cache reads and writes), 0 to 1 rounded
    /// to 4 places; None where no event records a cache figure (unknown, never 0%).
    pub fn cache_hit_rate(&self) -> Option<f64> {
        if self.cache_figures == 0 {
            return None;
        }
        let all = self.input + self.cache_read + self.cache_write_5m + self.cache_write_1h;
        (all > 0).then(|| (self.cache_read as f64 / all as f64 * 10_000.0).round() / 10_000.0)
    }

    /// Adds the additive figures of `other` (not the percentiles: they do not add; nor
    /// failed tool results, which may be unknown: see [`Metrics::failed_tool_results`]).
    pub fn add(&mut self, other: &Metrics) {
        self.events += other.events;
        self.input += other.input;
        self.output += other.output;
        self.cache_write_5m += other.cache_write_5m;
        self.cache_write_1h += other.cache_write_1h;
        self.cache_read += other.cache_read;
        self.cost_usd_e6 += other.cost_usd_e6;
        self.cache_figures += other.cache_figures;
        self.api_errors += other.api_errors;
        self.tool_calls += other.tool_calls;
        self.retries += other.retries;
    }
}

/// A block's own figures, on its row.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockInfo {
    pub start_ms: i64,
    pub end_ms: i64,
    /// The last response's time.
    pub last_activity_ms: i64,
    pub responses: u64,
    pub active: bool,
    pub burn: Option<(BurnRate, Projection)>,
}

/// One group: its key values (one per `--by` dimension, as text), figures, and what the
/// options add.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub keys: Vec<String>,
    /// The period's or block's start (UTC ms), for ordering.
    pub start_ms: Option<i64>,
    pub metrics: Metrics,
    pub block: Option<BlockInfo>,
    /// `--reprice`: the cost under the price table, micro-dollars (of the responses whose
    /// model it prices), and the responses it could not price.
    pub repriced_usd_e6: Option<i64>,
    pub unpriced_responses: Option<i64>,
}

/// A BIGINT cell (None when null).
pub fn int(batch: &RecordBatch, name: &str, row: usize) -> anyhow::Result<Option<i64>> {
    let column = batch
        .column_by_name(name)
        .with_context(|| format!("the report's query has no column {name}"))?;
    if column.is_null(row) {
        return Ok(None);
    }
    match column.data_type() {
        DataType::Int64 => Ok(Some(column.as_primitive::<Int64Type>().value(row))),
        other => bail!("the report's column {name} is {other}, not BIGINT"),
    }
}

/// A text cell (None when null).
pub fn text(batch: &RecordBatch, name: &str, row: usize) -> anyhow::Result<Option<String>> {
    let column = batch
        .column_by_name(name)
        .with_context(|| format!("the report's query has no column {name}"))?;
    if column.is_null(row) {
        return Ok(None);
    }
    let column = arrow::compute::cast(column, &DataType::Utf8)?;
    Ok(Some(column.as_string::<i32>().value(row).to_owned()))
}

/// The figures of row `row` of a report query's batch.
pub fn metrics(batch: &RecordBatch, row: usize) -> anyhow::Result<Metrics> {
    let n = |name: &str| -> anyhow::Result<i64> { Ok(int(batch, name, row)?.unwrap_or(0)) };
    let creation = n("cache_creation")?;
    let write_1h = n("cache_write_1h")?.min(creation);
    Ok(Metrics {
        events: n("events")?,
        input: n("input")?,
        output: n("output")?,
        cache_write_5m: creation - write_1h,
        cache_write_1h: write_1h,
        cache_read: n("cache_read")?,
        cost_usd_e6: n("cost_usd_e6")?,
        cache_figures: n("cache_figures")?,
        api_errors: n("api_errors")?,
        tool_calls: n("tool_calls")?,
        failed_tool_results: int(batch, "failed_tool_results", row)?,
        retries: n("retries")?,
        p50_latency_ms: int(batch, "p50_latency_ms", row)?,
        p95_latency_ms: int(batch, "p95_latency_ms", row)?,
    })
}
