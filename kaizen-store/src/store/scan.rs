//! A scan: the days in range, each day's files opened as sorted, filtered streams, merged.

use std::sync::Arc;

use arrow::array::{BooleanArray, RecordBatch};
use arrow::compute::{
    SortColumn, concat_batches, filter_record_batch, lexsort_to_indices, take_record_batch,
};
use futures::{StreamExt, TryStreamExt, stream};
use kaizen_core::{Field, UtcDay};
use parquet::arrow::{ParquetRecordBatchStreamBuilder, ProjectionMask};

use super::catalog::{self, FileEntry};
use super::merge::{MergeInput, merge_sorted};
use crate::backend::{Backend, BackendFileReader};
use crate::codec::{EventColumns, FileFacts, check_schema, file_facts, projected_schema};
use crate::event_store::BatchStream;
use crate::{Error, Query, Result};

/// The sort key: the merge reads these columns whatever the query asks for.
const KEY: [Field; 3] = [Field::TsMs, Field::SessionId, Field::Seq];

pub(crate) async fn scan(
    backend: Arc<dyn Backend>,
    query: Query,
    batch_rows: usize,
) -> Result<BatchStream> {
    if query.is_empty_range() || query.limit == Some(0) {
        return Ok(Box::pin(stream::empty()));
    }
    let days = catalog::list_days(backend.as_ref(), |day| query.may_contain_day(day)).await?;
    let read = Arc::new(read_fields(&query));
    let output: Vec<usize> = query
        .output_fields()
        .iter()
        .filter_map(|f| read.iter().position(|r| r == f))
        .collect();
    let limit = query.limit;
    let query = Arc::new(query);

    let merged = stream::iter(days)
        .then(move |(day, files)| {
            let (backend, query, read) = (backend.clone(), query.clone(), read.clone());
            async move { scan_day(backend, day, files, query, read, batch_rows).await }
        })
        .try_flatten()
        .map(move |batch| {
            batch.and_then(|b| {
                b.project(&output)
                    .map_err(|e| Error::arrow("scan output", e))
            })
        });
    Ok(match limit {
        Some(n) => take_rows(Box::pin(merged), n),
        None => Box::pin(merged),
    })
}

/// Ends the stream after `n` rows, without pulling a batch more than it needs.
fn take_rows(input: BatchStream, n: usize) -> BatchStream {
    Box::pin(stream::unfold((input, n), |(mut input, left)| async move {
        if left == 0 {
            return None;
        }
        match input.next().await? {
            Ok(batch) => {
                let rows = batch.num_rows().min(left);
                Some((Ok(batch.slice(0, rows)), (input, left - rows)))
            }
            Err(e) => Some((Err(e), (input, 0))),
        }
    }))
}

/// The query's output columns, then the key and filter columns it does not ask for.
fn read_fields(query: &Query) -> Vec<Field> {
    let mut fields = query.output_fields();
    let kind = (!query.kinds.is_empty()).then_some(Field::Kind);
    for f in KEY.into_iter().chain(kind) {
        if !fields.contains(&f) {
            fields.push(f);
        }
    }
    fields
}

async fn scan_day(
    backend: Arc<dyn Backend>,
    day: UtcDay,
    files: Vec<FileEntry>,
    query: Arc<Query>,
    read: Arc<Vec<Field>>,
    batch_rows: usize,
) -> Result<BatchStream> {
    let inputs: Vec<MergeInput> = stream::iter(files)
        .map(|file| {
            open_file(
                backend.clone(),
                file,
                day,
                query.clone(),
                read.clone(),
                batch_rows,
            )
        })
        .buffered(8)
        .try_filter_map(|input| async move { Ok(input) })
        .try_collect()
        .await?;
    Ok(merge_sorted(inputs, projected_schema(&read), batch_rows))
}

/// Reads a data file's footer, ready to stream its rows.
async fn open_parquet(
    backend: Arc<dyn Backend>,
    file: &FileEntry,
) -> Result<ParquetRecordBatchStreamBuilder<BackendFileReader>> {
    let reader = BackendFileReader::new(backend, file.path.clone(), file.size);
    ParquetRecordBatchStreamBuilder::new(reader)
        .await
        .map_err(|e| Error::parquet(&file.path, e))
}

/// The footer facts of a data file: rows and time span, without reading rows.
pub(crate) async fn read_facts(backend: Arc<dyn Backend>, file: &FileEntry) -> Result<FileFacts> {
    let builder = open_parquet(backend, file).await?;
    check_schema(builder.schema(), &[Field::TsMs], &file.path)?;
    file_facts(builder.metadata(), builder.schema(), &file.path)
}

/// One file as a stream sorted by the key: only the row groups and columns the query
/// needs, rows checked and filtered. `None` when no row group can match.
pub(crate) async fn open_file(
    backend: Arc<dyn Backend>,
    file: FileEntry,
    day: UtcDay,
    query: Arc<Query>,
    read: Arc<Vec<Field>>,
    batch_rows: usize,
) -> Result<Option<MergeInput>> {
    let builder = open_parquet(backend, &file).await?;
    let path = file.path;
    let schema = builder.schema().clone();
    check_schema(&schema, &read, &path)?;
    let facts = file_facts(builder.metadata(), &schema, &path)?;
    let row_groups: Vec<usize> = (facts.row_groups.iter().enumerate())
        .filter(|(_, (_, min, max))| match (min, max) {
            (Some(min), Some(max)) => query.may_contain_span(*min, *max),
            _ => true,
        })
        .map(|(i, _)| i)
        .collect();
    if row_groups.is_empty() {
        return Ok(None);
    }
    // check_schema found every column; a flat schema's root indices are its field indices.
    let columns = read.iter().filter_map(|f| schema.index_of(f.name()).ok());
    let mask = ProjectionMask::roots(builder.parquet_schema(), columns);
    let batches = builder
        .with_projection(mask)
        .with_row_groups(row_groups)
        .with_batch_size(batch_rows)
        .build()
        .map_err(|e| Error::parquet(&path, e))?;

    let shape = {
        let path = path.clone();
        move |batch: std::result::Result<RecordBatch, _>| {
            let batch = batch.map_err(|e| Error::parquet(&path, e))?;
            let batch = normalize(&batch, &read, &path)?;
            check_day(&batch, day, &path)?;
            filter(&batch, &query, &path)
        }
    };
    let stream = batches
        .map(shape)
        .try_filter(|b| std::future::ready(b.num_rows() > 0));
    let stream: BatchStream = if facts.sorted {
        Box::pin(stream)
    } else {
        // v1 files hold rows in arrival order: sort the file (one day at most) before merging.
        let batches: Vec<RecordBatch> = stream.try_collect().await?;
        match sort_batches(&batches, &path)? {
            Some(sorted) => Box::pin(stream::once(async { Ok(sorted) })),
            None => return Ok(None),
        }
    };
    Ok(Some(MergeInput { path, stream }))
}

/// The batch with exactly the `read` columns, in that order, under the store's schema.
fn normalize(batch: &RecordBatch, read: &[Field], path: &str) -> Result<RecordBatch> {
    let columns = read
        .iter()
        .map(|f| {
            batch
                .column_by_name(f.name())
                .cloned()
                .ok_or_else(|| Error::column(path, f.name(), "missing"))
        })
        .collect::<Result<Vec<_>>>()?;
    let batch =
        RecordBatch::try_new(projected_schema(read), columns).map_err(|e| Error::arrow(path, e))?;
    EventColumns::new(&batch, path).check(read)?;
    Ok(batch)
}

/// Every row of a file must belong to the day its name says.
fn check_day(batch: &RecordBatch, day: UtcDay, path: &str) -> Result<()> {
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

fn filter(batch: &RecordBatch, query: &Query, path: &str) -> Result<RecordBatch> {
    let by_time = query.from_ms.is_some() || query.to_ms.is_some();
    if !by_time && query.sessions.is_empty() && query.kinds.is_empty() {
        return Ok(batch.clone());
    }
    let columns = EventColumns::new(batch, path);
    let ts = columns.u64s(Field::TsMs)?;
    let sessions = columns.strings(Field::SessionId)?;
    let kinds = match query.kinds.is_empty() {
        true => None,
        false => Some(columns.strings(Field::Kind)?),
    };
    let keep: BooleanArray = (0..batch.num_rows())
        .map(|i| {
            let t = ts.value(i);
            Some(
                query.from_ms.is_none_or(|from| t >= from)
                    && query.to_ms.is_none_or(|to| t < to)
                    && (query.sessions.is_empty()
                        || query.sessions.iter().any(|s| s == sessions.value(i)))
                    && kinds.is_none_or(|k| query.kinds.iter().any(|q| q.name() == k.value(i))),
            )
        })
        .collect();
    filter_record_batch(batch, &keep).map_err(|e| Error::arrow(path, e))
}

/// Concatenates and sorts by the key; `None` for no rows.
fn sort_batches(batches: &[RecordBatch], path: &str) -> Result<Option<RecordBatch>> {
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
