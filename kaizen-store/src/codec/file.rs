use std::sync::Arc;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{Schema, UInt64Type};
use arrow::record_batch::RecordBatch;
use bytes::Bytes;
use kaizen_core::Field;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::statistics::StatisticsConverter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::{KeyValue, ParquetMetaData, SortingColumn};
use parquet::file::properties::{EnabledStatistics, WriterProperties};

use crate::{Error, Result};

pub const SCHEMA_VERSION_KEY: &str = "kaizen_schema_v";
pub const SCHEMA_VERSION: &str = "1";
pub const WRITER_KEY: &str = "kaizen_writer";

/// Rows of a written file are sorted by this key; the footer says so in `sorting_columns`.
const SORT_KEY: [Field; 3] = [Field::TsMs, Field::SessionId, Field::Seq];

fn sort_columns() -> Vec<SortingColumn> {
    SORT_KEY
        .iter()
        .map(|f| SortingColumn {
            column_idx: f.index() as i32,
            descending: false,
            nulls_first: false,
        })
        .collect()
}

fn writer_properties() -> WriterProperties {
    WriterProperties::builder()
        // Level 3 is zstd's own default: most of the size win for a fraction of the time.
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(64 * 1024))
        .set_sorting_columns(Some(sort_columns()))
        .set_key_value_metadata(Some(vec![
            KeyValue::new(SCHEMA_VERSION_KEY.to_owned(), SCHEMA_VERSION.to_owned()),
            KeyValue::new(
                WRITER_KEY.to_owned(),
                concat!("kaizen-store ", env!("CARGO_PKG_VERSION")).to_owned(),
            ),
        ]))
        .build()
}

/// Encodes a batch whose rows are already sorted by `(ts_ms, session_id, seq)` as a
/// Parquet file: v1 columns, ZSTD, page statistics, the schema version in its metadata.
pub fn encode_file(batch: &RecordBatch, path: &str) -> Result<Bytes> {
    let mut out = Vec::with_capacity(batch.get_array_memory_size() / 4);
    let mut writer = ArrowWriter::try_new(&mut out, batch.schema(), Some(writer_properties()))
        .map_err(|e| Error::parquet(path, e))?;
    writer.write(batch).map_err(|e| Error::parquet(path, e))?;
    writer.close().map_err(|e| Error::parquet(path, e))?;
    Ok(Bytes::from(out))
}

/// What a file's footer tells without reading its rows.
#[derive(Debug, Clone, PartialEq)]
pub struct FileFacts {
    pub rows: u64,
    /// Per row group: `(rows, min ts_ms, max ts_ms)`; the bounds are `None` without statistics.
    pub row_groups: Vec<(u64, Option<u64>, Option<u64>)>,
    /// Every row group declares the store's sort order.
    pub sorted: bool,
    pub schema_version: Option<String>,
}

impl FileFacts {
    pub fn min_ts(&self) -> Option<u64> {
        self.row_groups
            .iter()
            .map(|g| g.1)
            .collect::<Option<Vec<_>>>()?
            .into_iter()
            .min()
    }

    pub fn max_ts(&self) -> Option<u64> {
        self.row_groups
            .iter()
            .map(|g| g.2)
            .collect::<Option<Vec<_>>>()?
            .into_iter()
            .max()
    }
}

pub fn file_facts(meta: &ParquetMetaData, schema: &Schema, path: &str) -> Result<FileFacts> {
    let groups = meta.row_groups();
    let converter = StatisticsConverter::try_new(
        Field::TsMs.name(),
        schema,
        meta.file_metadata().schema_descr(),
    )
    .map_err(|e| Error::parquet(path, e))?;
    let mins = converter
        .row_group_mins(groups)
        .map_err(|e| Error::parquet(path, e))?;
    let maxes = converter
        .row_group_maxes(groups)
        .map_err(|e| Error::parquet(path, e))?;
    let bound = |a: &Arc<dyn Array>, i: usize| {
        a.as_primitive_opt::<UInt64Type>()
            .filter(|a| a.is_valid(i))
            .map(|a| a.value(i))
    };
    let sort_key = sort_columns();
    Ok(FileFacts {
        rows: groups.iter().map(|g| g.num_rows() as u64).sum(),
        row_groups: groups
            .iter()
            .enumerate()
            .map(|(i, g)| (g.num_rows() as u64, bound(&mins, i), bound(&maxes, i)))
            .collect(),
        sorted: !groups.is_empty()
            && groups.iter().all(|g| {
                g.sorting_columns()
                    .is_some_and(|s| s.starts_with(&sort_key))
            }),
        schema_version: meta
            .file_metadata()
            .key_value_metadata()
            .and_then(|kv| kv.iter().find(|kv| kv.key == SCHEMA_VERSION_KEY))
            .and_then(|kv| kv.value.clone()),
    })
}
