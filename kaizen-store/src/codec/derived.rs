//! The derived columns of schema 2 ([`Field::DERIVED`]: `model`, `agent`, `project`,
//! `cache_creation_1h_tokens`, `tool_errors`), computed from each row's payload: by the encoders for every
//! file they write, and by scans of v1 files, which have none. One function, so the two can
//! never disagree.

use std::borrow::Cow;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringArray, StringBuilder, UInt32Builder};
use arrow::record_batch::RecordBatch;
use kaizen_core::{Field, PayloadAttributes};

use super::file_schema;
use crate::{Error, Result};

/// The derived columns of `payloads` (a `payload` column; a null payload derives nulls), in
/// [`Field::DERIVED`] order.
pub fn derive_columns(payloads: &StringArray) -> [ArrayRef; 5] {
    let rows = payloads.len();
    let strings = || StringBuilder::with_capacity(rows, rows * 8);
    let (mut model, mut agent, mut project) = (strings(), strings(), strings());
    let mut cache_1h = UInt32Builder::with_capacity(rows);
    let mut tool_errors = UInt32Builder::with_capacity(rows);
    for i in 0..rows {
        let attributes = if payloads.is_null(i) {
            PayloadAttributes::default()
        } else {
            PayloadAttributes::of_json_text(payloads.value(i))
        };
        model.append_option(attributes.model);
        agent.append_option(attributes.agent);
        project.append_option(attributes.project);
        cache_1h.append_option(attributes.cache_creation_1h);
        tool_errors.append_option(attributes.tool_errors);
    }
    [
        Arc::new(model.finish()),
        Arc::new(agent.finish()),
        Arc::new(project.finish()),
        Arc::new(cache_1h.finish()),
        Arc::new(tool_errors.finish()),
    ]
}

/// `batch` as a batch of the file schema: as it is when it has the derived columns
/// already, else (a batch of the 22-column event schema) with them appended, computed from
/// its payloads.
///
/// # Errors
/// [`Error::Column`] when `batch` has no text `payload` column (not an event batch).
pub fn with_derived_columns<'a>(
    batch: &'a RecordBatch,
    path: &str,
) -> Result<Cow<'a, RecordBatch>> {
    let has_them = Field::DERIVED
        .iter()
        .all(|f| batch.schema_ref().column_with_name(f.name()).is_some());
    if has_them {
        return Ok(Cow::Borrowed(batch));
    }
    let payloads = batch
        .column_by_name(Field::Payload.name())
        .and_then(|c| c.as_string_opt::<i32>())
        .ok_or_else(|| Error::column(path, Field::Payload.name(), "missing"))?;
    let mut columns = batch.columns().to_vec();
    columns.extend(derive_columns(payloads));
    let batch = RecordBatch::try_new(file_schema(), columns).map_err(|e| Error::arrow(path, e))?;
    Ok(Cow::Owned(batch))
}
