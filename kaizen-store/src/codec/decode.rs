use arrow::array::{
    Array, AsArray, BooleanArray, Int64Array, StringArray, UInt16Array, UInt32Array, UInt64Array,
};
use arrow::datatypes::{Schema, UInt16Type, UInt32Type};
use arrow::record_batch::RecordBatch;
use kaizen_core::{Event, EventKind, EventSource, Field, Payload};

use super::column_type;
use super::file::{FileFacts, READABLE_SCHEMA_VERSIONS, SCHEMA_VERSION_KEY};
use crate::{Error, Result};

/// Checks that `schema` has each of `fields` with its type. A derived column may be absent
/// (a v1 file, or one another tool wrote): scans derive it from the payloads. Extra columns
/// are ignored.
pub fn check_schema(schema: &Schema, fields: &[Field], path: &str) -> Result<()> {
    for &field in fields {
        let found = match schema.field_with_name(field.name()) {
            Ok(found) => found,
            Err(_) if field.is_derived() => continue,
            Err(_) => return Err(Error::column(path, field.name(), "missing")),
        };
        let expected = column_type(field);
        if found.data_type() != &expected {
            return Err(Error::column(
                path,
                field.name(),
                format!("has type {}, expected {expected}", found.data_type()),
            ));
        }
    }
    Ok(())
}

/// The one contract every reader holds a data file to (scan, verify, compaction, copy
/// alike), whoever wrote it: the 22 v1 columns with their types as the file's Parquet
/// schema gives them (the reader ignores a writer's embedded Arrow schema hint, so text is
/// text whether it said `Utf8`, `LargeUtf8` or `Utf8View`), the derived columns with theirs
/// where present, and a `kaizen_schema_v` this build reads when the footer has one. A file
/// without it was written by another tool (DuckDB, pyarrow, polars rewriting a day):
/// readable, its rows checked as they are read.
pub fn check_file(schema: &Schema, facts: &FileFacts, path: &str) -> Result<()> {
    check_schema(schema, &Field::COLUMNS, path)?;
    match facts.schema_version.as_deref() {
        None => Ok(()),
        Some(v) if READABLE_SCHEMA_VERSIONS.contains(&v) => Ok(()),
        Some(other) => Err(Error::FooterKey {
            path: path.to_owned(),
            key: SCHEMA_VERSION_KEY.to_owned(),
            detail: format!(
                "{other:?}, and this build reads {}",
                READABLE_SCHEMA_VERSIONS
                    .map(|v| format!("\"{v}\""))
                    .join(" and ")
            ),
        }),
    }
}

/// Typed access to the columns of a batch whose schema passed [`check_schema`].
pub struct EventColumns<'a> {
    batch: &'a RecordBatch,
    path: &'a str,
}

impl<'a> EventColumns<'a> {
    /// Columns of `batch`, read from the file at `path` (which errors name).
    pub fn new(batch: &'a RecordBatch, path: &'a str) -> Self {
        EventColumns { batch, path }
    }

    fn column(&self, field: Field) -> Result<&'a dyn Array> {
        let schema = self.batch.schema_ref();
        let index = schema
            .index_of(field.name())
            .map_err(|_| Error::column(self.path, field.name(), "missing"))?;
        let array = self.batch.column(index).as_ref();
        if array.data_type() != &column_type(field) {
            return Err(Error::column(
                self.path,
                field.name(),
                format!(
                    "has type {}, expected {}",
                    array.data_type(),
                    column_type(field)
                ),
            ));
        }
        if field.is_required() && array.null_count() > 0 {
            let row = (0..array.len()).find(|&i| array.is_null(i)).unwrap_or(0);
            return Err(Error::column(
                self.path,
                field.name(),
                format!("row {row}: null in a required column"),
            ));
        }
        Ok(array)
    }

    /// A text column (`session_id`, `kind`, `tool`, `payload`…); [`Error::Column`] when it
    /// is missing, of another type, or holds a null in a required column.
    pub fn strings(&self, field: Field) -> Result<&'a StringArray> {
        Ok(self.column(field)?.as_string::<i32>())
    }

    /// A `UInt64` column (`seq`, `ts_ms`), checked as [`EventColumns::strings`].
    pub fn u64s(&self, field: Field) -> Result<&'a UInt64Array> {
        Ok(self.column(field)?.as_primitive())
    }

    fn u32s(&self, field: Field) -> Result<&'a UInt32Array> {
        Ok(self.column(field)?.as_primitive::<UInt32Type>())
    }

    fn u16s(&self, field: Field) -> Result<&'a UInt16Array> {
        Ok(self.column(field)?.as_primitive::<UInt16Type>())
    }

    fn i64s(&self, field: Field) -> Result<&'a Int64Array> {
        Ok(self.column(field)?.as_primitive())
    }

    fn bools(&self, field: Field) -> Result<&'a BooleanArray> {
        Ok(self.column(field)?.as_boolean())
    }

    /// Checks every column of `fields` present in the batch: type, nulls in required
    /// columns, and that kinds and sources are ones the model knows.
    pub fn check(&self, fields: &[Field]) -> Result<()> {
        for &field in fields {
            match field {
                Field::Kind => self.check_names(field, |s| EventKind::from_name(s).is_some())?,
                Field::Source => {
                    self.check_names(field, |s| EventSource::from_name(s).is_some())?
                }
                Field::Payload => self.check_payloads()?,
                _ => {
                    self.column(field)?;
                }
            }
        }
        Ok(())
    }

    /// Every payload is one valid JSON value, so that it can be written back as JSON.
    fn check_payloads(&self) -> Result<()> {
        let payloads = self.strings(Field::Payload)?;
        for (row, text) in payloads.iter().enumerate() {
            let text = text.unwrap_or_default();
            if let Err(e) = serde_json::from_str::<&serde_json::value::RawValue>(text) {
                return Err(Error::column(
                    self.path,
                    Field::Payload.name(),
                    format!("row {row}: not valid JSON: {e}"),
                ));
            }
        }
        Ok(())
    }

    fn check_names(&self, field: Field, known: impl Fn(&str) -> bool) -> Result<()> {
        let names = self.strings(field)?;
        match names.iter().position(|n| !n.is_some_and(&known)) {
            None => Ok(()),
            Some(row) => Err(Error::column(
                self.path,
                field.name(),
                format!("row {row}: unknown {field} {:?}", names.value(row)),
            )),
        }
    }
}

/// Decodes a batch holding all 22 columns into events, checking every value.
pub fn batch_to_events(batch: &RecordBatch, path: &str) -> Result<Vec<Event>> {
    let c = EventColumns::new(batch, path);
    let session_id = c.strings(Field::SessionId)?;
    let seq = c.u64s(Field::Seq)?;
    let ts_ms = c.u64s(Field::TsMs)?;
    let ts_exact = c.bools(Field::TsExact)?;
    let kind = c.strings(Field::Kind)?;
    let source = c.strings(Field::Source)?;
    let tool = c.strings(Field::Tool)?;
    let tool_call_id = c.strings(Field::ToolCallId)?;
    let tokens_in = c.u32s(Field::TokensIn)?;
    let tokens_out = c.u32s(Field::TokensOut)?;
    let reasoning_tokens = c.u32s(Field::ReasoningTokens)?;
    let cost = c.i64s(Field::CostUsdE6)?;
    let payload = c.strings(Field::Payload)?;
    let stop_reason = c.strings(Field::StopReason)?;
    let latency_ms = c.u32s(Field::LatencyMs)?;
    let ttft_ms = c.u32s(Field::TtftMs)?;
    let retry_count = c.u16s(Field::RetryCount)?;
    let context_used = c.u32s(Field::ContextUsedTokens)?;
    let context_max = c.u32s(Field::ContextMaxTokens)?;
    let cache_creation = c.u32s(Field::CacheCreationTokens)?;
    let cache_read = c.u32s(Field::CacheReadTokens)?;
    let system_prompt = c.u32s(Field::SystemPromptTokens)?;

    let row_error = |field: Field, row: usize, detail: String| {
        Error::column(path, field.name(), format!("row {row}: {detail}"))
    };
    let opt_str = |a: &StringArray, i: usize| a.is_valid(i).then(|| a.value(i).to_owned());
    let opt_u32 = |a: &UInt32Array, i: usize| a.is_valid(i).then(|| a.value(i));

    (0..batch.num_rows())
        .map(|i| {
            let kind = EventKind::from_name(kind.value(i)).ok_or_else(|| {
                row_error(Field::Kind, i, format!("unknown kind {:?}", kind.value(i)))
            })?;
            let source = EventSource::from_name(source.value(i)).ok_or_else(|| {
                row_error(
                    Field::Source,
                    i,
                    format!("unknown source {:?}", source.value(i)),
                )
            })?;
            let payload = Payload::from_json_text(payload.value(i))
                .map_err(|e| row_error(Field::Payload, i, format!("not valid JSON: {e}")))?;
            Ok(Event {
                session_id: session_id.value(i).to_owned(),
                seq: seq.value(i),
                ts_ms: ts_ms.value(i),
                ts_exact: ts_exact.value(i),
                kind,
                source,
                tool: opt_str(tool, i),
                tool_call_id: opt_str(tool_call_id, i),
                tokens_in: opt_u32(tokens_in, i),
                tokens_out: opt_u32(tokens_out, i),
                reasoning_tokens: opt_u32(reasoning_tokens, i),
                cost_usd_e6: cost.is_valid(i).then(|| cost.value(i)),
                stop_reason: opt_str(stop_reason, i),
                latency_ms: opt_u32(latency_ms, i),
                ttft_ms: opt_u32(ttft_ms, i),
                retry_count: retry_count.is_valid(i).then(|| retry_count.value(i)),
                context_used_tokens: opt_u32(context_used, i),
                context_max_tokens: opt_u32(context_max, i),
                cache_creation_tokens: opt_u32(cache_creation, i),
                cache_read_tokens: opt_u32(cache_read, i),
                system_prompt_tokens: opt_u32(system_prompt, i),
                payload,
            })
        })
        .collect()
}
