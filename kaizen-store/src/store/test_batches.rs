//! Batches of timestamps alone, for the unit tests of what streams batches (scans, resumes).

use std::sync::Arc;

use arrow::array::{AsArray, RecordBatch, UInt64Array};
use arrow::datatypes::UInt64Type;
use kaizen_core::Field;

use crate::codec::projected_schema;

/// A batch of one `ts_ms` column holding `ts`.
pub(crate) fn ts_batch(ts: &[u64]) -> RecordBatch {
    let values = Arc::new(UInt64Array::from(ts.to_vec()));
    RecordBatch::try_new(projected_schema(&[Field::TsMs]), vec![values]).expect("batch")
}

/// The timestamps of batches made by [`ts_batch`], in order.
pub(crate) fn given_ts(batches: Vec<RecordBatch>) -> Vec<u64> {
    (batches.iter())
        .flat_map(|b| b.column(0).as_primitive::<UInt64Type>().values().to_vec())
        .collect()
}
