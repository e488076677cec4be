//! The report's output: JSON (one document, schema [`SCHEMA`], documented in the README),
//! CSV (the JSON rows' fields, one line each) and a table for people.

use std::io::Write;

use serde_json::{Value, json};

use super::reprice::Repriced;
use super::row::{Metrics, Row};
use crate::cli::ReportOutput;
use crate::output;

/// The JSON document's schema name and version. Fields are only ever added within a
/// version; renaming or removing one, or changing its meaning, makes the next version.
pub const SCHEMA: &str = "kaizen.report/1";

/// What a report shows, beside its rows.
pub struct Report<'a> {
    pub by: Vec<&'static str>,
    pub timezone: &'static str,
    pub since: String,
    pub until: String,
    pub from_ms: i64,
    /// The end of the window asked for (exclusive): the day after `until` starts.
    pub to_ms: i64,
    pub rows: &'a [Row],
    pub totals: Metrics,
    /// Events dated after now: (events, cost in micro-dollars).
    pub left_out: Option<(i64, i64)>,
    pub repriced: Option<&'a Repriced>,
    /// Whether rows carry block figures.
    pub blocks: bool,
}

/// RFC 3339 in UTC, to the millisecond (`2026-10-01T23:00:00.000Z`, as ccusage writes).
pub fn utc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_else(|| ms.to_string())
}

/// A row's fields in their order (CSV columns keep it; JSON objects are sorted by name).
#[derive(Default)]
struct Fields(Vec<(String, Value)>);

impl Fields {
    fn insert(&mut self, name: String, value: Value) {
        self.0.push((name, value));
    }

    /// In name order, as JSON objects show them.
    fn sorted(mut self) -> Self {
        self.0.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        self
    }
}

/// A JSON object of the fields in their order.
impl serde::Serialize for Fields {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

fn figures(m: &Metrics, fields: &mut Fields) {
    fields.insert("events".into(), json!(m.events));
    fields.insert("input_tokens".into(), json!(m.input));
    fields.insert("output_tokens".into(), json!(m.output));
    fields.insert("cache_write_5m_tokens".into(), json!(m.cache_write_5m));
    fields.insert("cache_write_1h_tokens".into(), json!(m.cache_write_1h));
    fields.insert("cache_read_tokens".into(), json!(m.cache_read));
    fields.insert("total_tokens".into(), json!(m.total_tokens()));
    fields.insert("cost_usd_e6".into(), json!(m.cost_usd_e6));
    fields.insert("cache_hit_rate".into(), json!(m.cache_hit_rate()));
    fields.insert("api_errors".into(), json!(m.api_errors));
    fields.insert("tool_calls".into(), json!(m.tool_calls));
    fields.insert("failed_tool_results".into(), json!(m.failed_tool_results));
    fields.insert("retries".into(), json!(m.retries));
}

/// One row as the JSON object (and CSV line) of schema [`SCHEMA`].
fn row_fields(report: &Report, row: &Row) -> Fields {
    let mut fields = Fields::default();
    for (name, key) in report.by.iter().zip(&row.keys) {
        fields.insert((*name).into(), json!(key));
    }
    figures(&row.metrics, &mut fields);
    fields.insert("p50_latency_ms".into(), json!(row.metrics.p50_latency_ms));
    fields.insert("p95_latency_ms".into(), json!(row.metrics.p95_latency_ms));
    if report.blocks {
        let b = row.block.as_ref();
        let burn = b.and_then(|b| b.burn);
        fields.insert("block_start".into(), json!(b.map(|b| utc(b.start_ms))));
        fields.insert("block_end".into(), json!(b.map(|b| utc(b.end_ms))));
        fields.insert(
            "block_last_activity".into(),
            json!(b.map(|b| utc(b.last_activity_ms))),
        );
        fields.insert("block_responses".into(), json!(b.map(|b| b.responses)));
        fields.insert("block_active".into(), json!(b.map(|b| b.active)));
        fields.insert(
            "burn_tokens_per_minute".into(),
            json!(burn.map(|(r, _)| r.tokens_per_minute)),
        );
        fields.insert(
            "burn_io_tokens_per_minute".into(),
            json!(burn.map(|(r, _)| r.tokens_per_minute_io)),
        );
        fields.insert(
            "burn_cost_usd_per_hour".into(),
            json!(burn.map(|(r, _)| r.cost_usd_per_hour)),
        );
        fields.insert(
            "projected_total_tokens".into(),
            json!(burn.map(|(_, p)| p.total_tokens)),
        );
        fields.insert(
            "projected_cost_usd".into(),
            json!(burn.map(|(_, p)| p.total_cost_usd)),
        );
        fields.insert(
            "remaining_minutes".into(),
            json!(burn.map(|(_, p)| p.remaining_minutes)),
        );
    }
    if report.repriced.is_some() {
        fields.insert("repriced_cost_usd_e6".into(), json!(row.repriced_usd_e6));
        fields.insert("unpriced_responses".into(), json!(row.unpriced_responses));
    }
    fields
}

/// The JSON document: its keys in name order (as a `serde_json::Map` orders them), each
/// row serialized as it is written, so a report of many rows (a session each) is never
/// held as a tree of values (11,694 sessions: 40 MiB and 50 ms less).
#[derive(serde::Serialize)]
struct JsonDocument<'a> {
    by: &'a [&'static str],
    from: String,
    left_out: Option<Value>,
    reprice: Option<Value>,
    rows: JsonRows<'a>,
    schema: &'static str,
    since: &'a str,
    timezone: &'static str,
    to: String,
    totals: Fields,
    until: &'a str,
}

/// The report's rows, each an object with its keys in name order.
struct JsonRows<'a>(&'a Report<'a>);

impl serde::Serialize for JsonRows<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let report = self.0;
        let mut seq = serializer.serialize_seq(Some(report.rows.len()))?;
        for row in report.rows {
            seq.serialize_element(&row_fields(report, row).sorted())?;
        }
        seq.end()
    }
}

/// Writes the JSON document.
pub fn write_json(report: &Report, out: &mut impl Write) -> anyhow::Result<()> {
    let mut totals = Fields::default();
    figures(&report.totals, &mut totals);
    let repriced = report.repriced.map(|r| {
        json!({
            "prices": r.prices,
            "models": r.models.iter().map(|m| json!({
                "model": m.model,
                "responses": m.responses,
                "recorded_cost_usd_e6": m.recorded_usd_e6,
                "repriced_cost_usd_e6": m.repriced_usd_e6,
                "difference_usd_e6": m.difference_usd_e6(),
            })).collect::<Vec<_>>(),
        })
    });
    let document = JsonDocument {
        by: &report.by,
        from: utc(report.from_ms),
        left_out: (report.left_out)
            .map(|(events, cost)| json!({"events": events, "cost_usd_e6": cost})),
        reprice: repriced,
        rows: JsonRows(report),
        schema: SCHEMA,
        since: &report.since,
        timezone: report.timezone,
        to: utc(report.to_ms),
        totals: totals.sorted(),
        until: &report.until,
    };
    // As text first: a closed pipe is then an io::Error, which the exit code knows.
    let mut text = serde_json::to_vec_pretty(&document)?;
    text.push(b'\n');
    out.write_all(&text)?;
    Ok(())
}

/// Writes the rows as CSV: a header of the JSON rows' field names, one line per row
/// (an empty cell for null).
pub fn write_csv(report: &Report, out: &mut impl Write) -> anyhow::Result<()> {
    let empty = Row {
        keys: report.by.iter().map(|_| String::new()).collect(),
        start_ms: None,
        metrics: Metrics::default(),
        block: None,
        repriced_usd_e6: None,
        unpriced_responses: None,
    };
    let header: Vec<String> = row_fields(report, &empty)
        .0
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    writeln!(out, "{}", header.join(","))?;
    for row in report.rows {
        let fields = row_fields(report, row);
        let cells: Vec<String> = fields
            .0
            .iter()
            .map(|(_, v)| match v {
                Value::Null => String::new(),
                Value::String(s) => csv_cell(s),
                other => other.to_string(),
            })
            .collect();
        writeln!(out, "{}", cells.join(","))?;
    }
    Ok(())
}

/// A CSV cell: quoted when it holds a comma, a quote or a line break.
fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// A count with thousands separators (`1,234,567`).
fn count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

fn rate(rate: Option<f64>) -> String {
    rate.map_or("-".into(), |r| format!("{:.1}%", r * 100.0))
}

fn ms(v: Option<i64>) -> String {
    v.map_or("-".into(), |v| v.to_string())
}

/// The table: one line per row and a total line.
pub fn table(report: &Report) -> String {
    let mut header: Vec<&str> = report.by.clone();
    header.extend([
        "events",
        "input",
        "output",
        "cache w 5m",
        "cache w 1h",
        "cache read",
        "total tokens",
        "cost",
        "cache hit",
        "api errors",
        "tool calls",
        "failed",
        "p50 ms",
        "p95 ms",
    ]);
    if report.repriced.is_some() {
        header.extend(["repriced", "difference"]);
    }
    if report.blocks {
        header.extend(["last activity", "status"]);
    }
    let line = |keys: Vec<String>, m: &Metrics, row: Option<&Row>| -> Vec<String> {
        let mut cells = keys;
        cells.extend([
            count(m.events),
            count(m.input),
            count(m.output),
            count(m.cache_write_5m),
            count(m.cache_write_1h),
            count(m.cache_read),
            count(m.total_tokens()),
            output::usd(i128::from(m.cost_usd_e6)),
            rate(m.cache_hit_rate()),
            count(m.api_errors),
            count(m.tool_calls),
            m.failed_tool_results.map_or("-".into(), count),
            ms(m.p50_latency_ms),
            ms(m.p95_latency_ms),
        ]);
        if report.repriced.is_some() {
            let repriced = row.and_then(|r| r.repriced_usd_e6);
            cells.push(repriced.map_or("-".into(), |c| output::usd(i128::from(c))));
            cells.push(repriced.map_or("-".into(), |c| {
                output::usd(i128::from(c) - i128::from(m.cost_usd_e6))
            }));
        }
        if report.blocks {
            let b = row.and_then(|r| r.block.as_ref());
            cells.push(b.map_or(String::new(), |b| utc(b.last_activity_ms)));
            cells.push(match b {
                Some(b) if b.active => "ACTIVE".into(),
                Some(_) => String::new(),
                None => String::new(),
            });
        }
        cells
    };
    let mut rows: Vec<Vec<String>> = report
        .rows
        .iter()
        .map(|r| line(r.keys.clone(), &r.metrics, Some(r)))
        .collect();
    if report.rows.len() > 1 {
        let mut keys = vec![String::new(); report.by.len()];
        if let Some(first) = keys.first_mut() {
            *first = "total".into();
        }
        let mut total = report.totals.clone();
        total.p50_latency_ms = None;
        total.p95_latency_ms = None;
        let mut cells = line(keys, &total, None);
        if report.repriced.is_some() {
            let repriced: Option<i64> = report.rows.iter().map(|r| r.repriced_usd_e6).sum();
            let n = report.by.len() + 14;
            cells[n] = repriced.map_or("-".into(), |c| output::usd(i128::from(c)));
            cells[n + 1] = repriced.map_or("-".into(), |c| {
                output::usd(i128::from(c) - i128::from(total.cost_usd_e6))
            });
        }
        rows.push(cells);
    }
    output::report_table(&header, rows)
}

/// The active blocks' burn rate and projection, one line each.
pub fn burn_lines(report: &Report) -> Vec<String> {
    report
        .rows
        .iter()
        .filter_map(|row| {
            let b = row.block.as_ref()?;
            let (rate, projection) = b.burn?;
            Some(format!(
                "active block {} ({}): {:.0} tokens/min, ${:.2}/hour; at this pace {} tokens and ${:.2} by {} ({} min left)",
                row.keys.join(" "),
                b.responses,
                rate.tokens_per_minute,
                rate.cost_usd_per_hour,
                count(i64::try_from(projection.total_tokens).unwrap_or(i64::MAX)),
                projection.total_cost_usd,
                utc(b.end_ms),
                projection.remaining_minutes,
            ))
        })
        .collect()
}

/// The per-model repricing, as a table.
pub fn reprice_table(repriced: &Repriced) -> String {
    let rows = repriced
        .models
        .iter()
        .map(|m| {
            vec![
                m.model.clone(),
                count(m.responses),
                output::usd(i128::from(m.recorded_usd_e6)),
                m.repriced_usd_e6
                    .map_or("not in the table".into(), |c| output::usd(i128::from(c))),
                m.difference_usd_e6()
                    .map_or("-".into(), |c| output::usd(i128::from(c))),
            ]
        })
        .collect();
    output::report_table(
        &["model", "responses", "recorded", "repriced", "difference"],
        rows,
    )
}

/// A horizontal bar per (label, cost in micro-dollars), scaled to the largest.
pub fn bar_chart(rows: &[(String, i64)]) -> String {
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

/// What the table shows around the report, and the notes JSON and CSV print on standard
/// error (standard output stays the report).
pub struct Notes {
    /// The table's first line: the window, the zone, the groups.
    pub heading: String,
    /// Events dated after now, left out.
    pub left_out: Option<String>,
    /// Why there is no row, and what to do.
    pub empty: Option<String>,
    /// The chart's period (`day`, `week`, `month`) and its bars: (label, micro-dollars).
    pub chart_unit: &'static str,
    pub chart: Vec<(String, i64)>,
}

/// Writes the report in `format` to `out`.
pub fn write(
    report: &Report,
    notes: &Notes,
    format: ReportOutput,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    match format {
        ReportOutput::Json | ReportOutput::Csv => {
            for note in notes.left_out.iter().chain(&notes.empty) {
                eprintln!("note: {note}");
            }
            match format {
                ReportOutput::Json => write_json(report, out),
                _ => write_csv(report, out),
            }
        }
        ReportOutput::Table => {
            writeln!(out, "{}", notes.heading)?;
            if let Some(note) = &notes.left_out {
                writeln!(out, "{note}")?;
            }
            if let Some(hint) = &notes.empty {
                writeln!(out, "{hint}")?;
                return Ok(());
            }
            writeln!(out, "{}", table(report))?;
            for line in burn_lines(report) {
                writeln!(out, "{line}")?;
            }
            if let Some(repriced) = report.repriced {
                writeln!(
                    out,
                    "\ncost recomputed from the stored tokens with prices {} (recorded: as imported)\n{}",
                    repriced.prices,
                    reprice_table(repriced)
                )?;
            }
            writeln!(
                out,
                "\ncost per {}\n{}",
                notes.chart_unit,
                bar_chart(&notes.chart)
            )?;
            Ok(())
        }
    }
}
