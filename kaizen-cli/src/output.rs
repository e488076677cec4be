//! Writing record batches and reports to standard output.

use std::io::{self, Write};

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Int64Type, UInt16Type, UInt32Type, UInt64Type};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

/// `println!` that returns a failed write (a pipe closed by its reader, say) as an error
/// of the enclosing function, where `println!` would panic.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*)?
    }};
}

/// A pipe closed by its reader (`kaizen scan | head`) ends the command quietly.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// An error and its causes on one line, each cause once: the store's errors already quote
/// their source in their own message, so a plain `{:#}` would repeat it.
pub fn error_message(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
    }
    out
}

/// Writes each row as one JSON object in the event's serde form: the payload as its JSON
/// text, integers as numbers, absent values as `null`, columns in the batch's order.
pub fn write_jsonl(batch: &RecordBatch, out: &mut impl Write) -> io::Result<()> {
    let schema = batch.schema();
    let names: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| serde_json::to_string(f.name()))
        .collect::<Result<_, _>>()?;
    let mut line = Vec::with_capacity(1024);
    for row in 0..batch.num_rows() {
        line.clear();
        line.push(b'{');
        for (i, column) in batch.columns().iter().enumerate() {
            if i > 0 {
                line.push(b',');
            }
            line.extend_from_slice(names[i].as_bytes());
            line.push(b':');
            let raw_json = schema.field(i).name() == "payload";
            write_json_value(column, row, raw_json, &mut line)?;
        }
        line.extend_from_slice(b"}\n");
        out.write_all(&line)?;
    }
    Ok(())
}

fn write_json_value(
    column: &ArrayRef,
    row: usize,
    raw_json: bool,
    out: &mut Vec<u8>,
) -> io::Result<()> {
    if column.is_null(row) {
        out.extend_from_slice(b"null");
        return Ok(());
    }
    let text = || -> io::Result<String> {
        let formatter = ArrayFormatter::try_new(column.as_ref(), &FormatOptions::default())
            .map_err(io::Error::other)?;
        Ok(formatter.value(row).to_string())
    };
    match column.data_type() {
        // Written as it is, so checked here: a payload that is not JSON (a damaged file,
        // or a query's own `payload` column) would make the line unreadable.
        DataType::Utf8 if raw_json => {
            let text = column.as_string::<i32>().value(row);
            if let Err(e) = serde_json::from_str::<&serde_json::value::RawValue>(text) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("row {row}: the payload is not valid JSON ({e})"),
                ));
            }
            // One event a line: a payload's line breaks (whitespace between its tokens; a
            // JSON string holds none raw) are written as spaces. Its value is the same.
            out.extend(
                text.bytes()
                    .map(|b| if b == b'\n' || b == b'\r' { b' ' } else { b }),
            )
        }
        DataType::Utf8 => serde_json::to_writer(&mut *out, column.as_string::<i32>().value(row))?,
        DataType::UInt64 => write!(out, "{}", column.as_primitive::<UInt64Type>().value(row))?,
        DataType::UInt32 => write!(out, "{}", column.as_primitive::<UInt32Type>().value(row))?,
        DataType::UInt16 => write!(out, "{}", column.as_primitive::<UInt16Type>().value(row))?,
        DataType::Int64 => write!(out, "{}", column.as_primitive::<Int64Type>().value(row))?,
        DataType::Boolean => write!(out, "{}", column.as_boolean().value(row))?,
        // Any other result of a SQL query: numbers as numbers, everything else as text.
        t if t.is_integer() || matches!(t, DataType::Decimal128(..) | DataType::Decimal256(..)) => {
            out.extend_from_slice(text()?.as_bytes())
        }
        t if t.is_floating() => {
            let value = text()?;
            match value.parse::<f64>() {
                Ok(f) if f.is_finite() => out.extend_from_slice(value.as_bytes()),
                _ => out.extend_from_slice(b"null"),
            }
        }
        _ => serde_json::to_writer(&mut *out, &text()?)?,
    }
    Ok(())
}

/// CSV with one header line, however many batches follow.
pub struct CsvOut<W: Write> {
    writer: arrow::csv::Writer<W>,
}

impl<W: Write> CsvOut<W> {
    pub fn new(out: W) -> Self {
        CsvOut {
            writer: arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(out),
        }
    }

    pub fn write(&mut self, batch: &RecordBatch) -> anyhow::Result<()> {
        Ok(self.writer.write(batch)?)
    }
}

/// Long texts (payloads) cut to keep a table readable.
const TABLE_CELL_CHARS: usize = 60;

/// Rows as a terminal table; long strings shortened with `…`.
pub fn batches_table(batches: &[RecordBatch]) -> anyhow::Result<String> {
    let shortened: Vec<RecordBatch> = batches
        .iter()
        .map(|b| {
            let columns = b.columns().iter().map(shorten).collect();
            RecordBatch::try_new(b.schema(), columns)
        })
        .collect::<Result<_, _>>()?;
    Ok(arrow::util::pretty::pretty_format_batches(&shortened)?.to_string())
}

fn shorten(column: &ArrayRef) -> ArrayRef {
    let Some(strings) = column.as_string_opt::<i32>() else {
        return column.clone();
    };
    let short: StringArray = strings
        .iter()
        .map(|v| {
            v.map(|s| match s.char_indices().nth(TABLE_CELL_CHARS) {
                Some((cut, _)) => format!("{}…", &s[..cut]),
                None => s.to_owned(),
            })
        })
        .collect();
    std::sync::Arc::new(short)
}

/// A report table: a header and rows of cells, numbers right-aligned.
pub fn report_table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_header(header.to_vec());
    for row in rows {
        table.add_row(row);
    }
    for i in 1..header.len() {
        if let Some(column) = table.column_mut(i) {
            column.set_cell_alignment(comfy_table::CellAlignment::Right);
        }
    }
    table.to_string()
}

pub fn usd(e6: i128) -> String {
    let sign = if e6 < 0 { "-" } else { "" };
    let abs = e6.unsigned_abs();
    format!(
        "{sign}${}.{:02}",
        abs / 1_000_000,
        (abs % 1_000_000) / 10_000
    )
}

pub fn bytes(n: u64) -> String {
    indicatif::HumanBytes(n).to_string()
}

pub fn time_ms(ms: u64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000);
    match t.map(|t| t.format(&time::format_description::well_known::Rfc3339)) {
        Ok(Ok(s)) => s,
        _ => ms.to_string(),
    }
}

/// Every cell of the batches as text, row by row (for reports built from SQL results).
pub fn cells(batches: &[RecordBatch]) -> anyhow::Result<Vec<Vec<String>>> {
    let mut rows = Vec::new();
    for batch in batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &FormatOptions::default()))
            .collect::<Result<Vec<_>, _>>()?;
        for i in 0..batch.num_rows() {
            rows.push(formatters.iter().map(|f| f.value(i).to_string()).collect());
        }
    }
    Ok(rows)
}

/// A string literal for SQL.
pub fn sql_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Writes a stream of batches in `format` to standard output: JSON Lines and CSV as they
/// come, a table once every row is in (it needs their widths: use it for small results).
pub async fn write_stream<E>(
    mut batches: impl futures::Stream<Item = Result<RecordBatch, E>> + Unpin,
    format: crate::cli::ScanFormat,
) -> anyhow::Result<()>
where
    E: std::error::Error + Send + Sync + 'static,
{
    use crate::cli::ScanFormat;
    use futures::TryStreamExt;

    let stdout = std::io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    match format {
        ScanFormat::Jsonl => {
            while let Some(batch) = batches.try_next().await? {
                write_jsonl(&batch, &mut out)?;
            }
        }
        ScanFormat::Csv => {
            let mut csv = CsvOut::new(&mut out);
            while let Some(batch) = batches.try_next().await? {
                csv.write(&batch)?;
            }
        }
        ScanFormat::Table => {
            let all: Vec<_> = batches.try_collect().await?;
            writeln!(out, "{}", batches_table(&all)?)?;
        }
        ScanFormat::Count => {
            let mut rows = 0;
            while let Some(batch) = batches.try_next().await? {
                rows += batch.num_rows();
            }
            writeln!(out, "{rows}")?;
        }
    }
    out.flush()?;
    Ok(())
}
