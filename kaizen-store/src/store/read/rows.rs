//! Checks and filters on the rows a day's files give.

use arrow::array::{Array, AsArray, BooleanArray, RecordBatch, StringArray, UInt64Array};
use arrow::buffer::BooleanBuffer;
use arrow::compute::kernels::{boolean, cmp};
use arrow::compute::{
    SortColumn, concat_batches, lexsort_to_indices, prep_null_mask_filter, take_record_batch,
};
use futures::StreamExt;
use kaizen_core::{Field, UtcDay};

use crate::codec::{EventColumns, derive_columns, projected_schema};
use crate::{Error, Query, Result};

/// The sort key: the merge reads these columns whatever the query asks for.
const KEY: [Field; 3] = [Field::TsMs, Field::SessionId, Field::Seq];

/// The `ts_ms` values of a scan's batch (which always reads them).
pub(super) fn times(batch: &RecordBatch) -> Result<&[u64]> {
    Ok(EventColumns::new(batch, "scan").u64s(Field::TsMs)?.values())
}

/// Checks that `batch` continues a time order whose last time was `last`; returns its own.
pub(super) fn check_time_order(batch: &RecordBatch, last: u64, path: &str) -> Result<u64> {
    let ts = times(batch)?;
    let mut previous = last;
    for (row, &t) in ts.iter().enumerate() {
        if t < previous {
            return Err(Error::column(
                path,
                Field::TsMs.name(),
                format!("row {row} is out of the time order the footer declares"),
            ));
        }
        previous = t;
    }
    Ok(previous)
}

/// The batch with exactly the `read` columns, in that order, under the store's schema,
/// every value checked (payloads as JSON only with `payloads`).
pub(super) fn normalize(
    batch: &RecordBatch,
    read: &[Field],
    payloads: bool,
    path: &str,
) -> Result<RecordBatch> {
    // A file without the derived columns (v1) has them derived from its payloads, which the
    // projection then read; once a batch, whichever of them the query asked for.
    let mut derived = None;
    let columns = read
        .iter()
        .map(|&f| match batch.column_by_name(f.name()) {
            Some(column) => Ok(column.clone()),
            None if f.is_derived() => {
                let columns = match &mut derived {
                    Some(columns) => columns,
                    None => {
                        let payload = (batch.column_by_name(Field::Payload.name()))
                            .and_then(|c| c.as_string_opt::<i32>())
                            .ok_or_else(|| Error::column(path, Field::Payload.name(), "missing"))?;
                        derived.insert(derive_columns(payload))
                    }
                };
                // The derived columns follow the 22 event fields, in `Field::DERIVED` order.
                Ok(columns[f.index() - Field::ALL.len()].clone())
            }
            None => Err(Error::column(path, f.name(), "missing")),
        })
        .collect::<Result<Vec<_>>>()?;
    let batch =
        RecordBatch::try_new(projected_schema(read), columns).map_err(|e| Error::arrow(path, e))?;
    let checked: Vec<Field> = (read.iter().copied())
        .filter(|&f| payloads || f != Field::Payload)
        .collect();
    EventColumns::new(&batch, path).check(&checked)?;
    Ok(batch)
}

/// Every row of a file must belong to the day its name says.
pub(super) fn check_day(batch: &RecordBatch, day: UtcDay, path: &str) -> Result<()> {
    let ts = EventColumns::new(batch, path).u64s(Field::TsMs)?;
    match ts
        .values()
        .iter()
        .position(|&t| t < day.start_ms() || t >= day.end_ms())
    {
        None => Ok(()),
        Some(row) => Err(Error::WrongDay {
            path: path.to_owned(),
            row,
            ts_ms: ts.value(row),
            day: day.to_string(),
        }),
    }
}

/// Which rows of `batch` the query keeps by the parts of it on `fields` (of `ts_ms`,
/// `session_id`, `kind`); the batch needs only those columns. Compared a column at a time
/// with Arrow's kernels; a null (which decode refuses in these columns) is not kept.
pub(super) fn row_mask(
    batch: &RecordBatch,
    query: &Query,
    fields: &[Field],
    path: &str,
) -> Result<BooleanArray> {
    let columns = EventColumns::new(batch, path);
    let arrow_error = |e| Error::arrow(path, e);
    let mut keep = BooleanArray::new(BooleanBuffer::new_set(batch.num_rows()), None);
    let mut and = |mask: BooleanArray| -> Result<()> {
        keep = boolean::and_kleene(&keep, &mask).map_err(arrow_error)?;
        Ok(())
    };
    if fields.contains(&Field::TsMs) && (query.from_ms.is_some() || query.to_ms.is_some()) {
        let ts = columns.u64s(Field::TsMs)?;
        if let Some(from) = query.from_ms {
            and(cmp::gt_eq(ts, &UInt64Array::new_scalar(from)).map_err(arrow_error)?)?;
        }
        if let Some(to) = query.to_ms {
            and(cmp::lt(ts, &UInt64Array::new_scalar(to)).map_err(arrow_error)?)?;
        }
    }
    let kinds: Vec<&str> = query.kinds.iter().map(|k| k.name()).collect();
    let sessions: Vec<&str> = query.sessions.iter().map(String::as_str).collect();
    for (field, wanted) in [(Field::SessionId, sessions), (Field::Kind, kinds)] {
        if !fields.contains(&field) || wanted.is_empty() {
            continue;
        }
        let values = columns.strings(field)?;
        let mut any = BooleanArray::new(BooleanBuffer::new_unset(batch.num_rows()), None);
        for value in wanted {
            let hit = cmp::eq(values, &StringArray::new_scalar(value)).map_err(arrow_error)?;
            any = boolean::or_kleene(&any, &hit).map_err(arrow_error)?;
        }
        and(any)?;
    }
    // A null compared is null: not kept.
    Ok(match keep.nulls() {
        Some(_) => prep_null_mask_filter(&keep),
        None => keep,
    })
}

/// Concatenates and sorts by the key; `None` for no rows.
pub(super) fn sort_batches(batches: &[RecordBatch], path: &str) -> Result<Option<RecordBatch>> {
    let Some(first) = batches.first() else {
        return Ok(None);
    };
    let all = concat_batches(&first.schema(), batches).map_err(|e| Error::arrow(path, e))?;
    let key = KEY
        .iter()
        .map(|f| {
            let values = all.column_by_name(f.name()).cloned();
            let values = values.ok_or_else(|| Error::column(path, f.name(), "missing"))?;
            Ok(SortColumn {
                values,
                options: None,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let order = lexsort_to_indices(&key, None).map_err(|e| Error::arrow(path, e))?;
    let sorted = take_record_batch(&all, &order).map_err(|e| Error::arrow(path, e))?;
    Ok((sorted.num_rows() > 0).then_some(sorted))
}

/// Ends a stream after its first error: a decoder that failed is not polled again.
pub(super) fn stop_after_error<T, E>(
    input: impl futures::Stream<Item = std::result::Result<T, E>> + Send + 'static,
) -> impl futures::Stream<Item = std::result::Result<T, E>> + Send + 'static
where
    T: Send + 'static,
    E: Send + 'static,
{
    input.scan(false, |failed, item| {
        let next = match (*failed, item) {
            (true, _) => None,
            (false, Err(e)) => {
                *failed = true;
                Some(Err(e))
            }
            (false, ok) => Some(ok),
        };
        std::future::ready(next)
    })
}
