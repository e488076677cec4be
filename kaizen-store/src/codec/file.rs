use std::sync::Arc;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Schema, SchemaRef, UInt64Type};
use arrow::record_batch::RecordBatch;
use bytes::Bytes;
use kaizen_core::Field;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::statistics::StatisticsConverter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::metadata::{KeyValue, ParquetMetaData, SortingColumn};
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterVersion};
use parquet::schema::types::ColumnPath;

use super::budget::{ROW_GROUP_BYTES, rows_within, slice_bytes};
use super::schema::{column_type, event_schema, file_schema};
use super::with_derived_columns;
use crate::{Error, Result};

/// Footer key naming the column schema's version: what v1 writers wrote, so readers of
/// either tell a kaizen file from another tool's.
pub const SCHEMA_VERSION_KEY: &str = "kaizen_schema_v";
/// The schema version written ([`SCHEMA_VERSION_KEY`]'s value): 2, the 22 v1 columns and
/// the derived columns after them ([`Field::DERIVED`]).
pub const SCHEMA_VERSION: &str = "2";

/// Every schema version this build reads: 1 (the v1 columns only: a scan derives the derived
/// columns from the payloads) and [`SCHEMA_VERSION`].
pub const READABLE_SCHEMA_VERSIONS: [&str; 2] = ["1", SCHEMA_VERSION];
/// Footer key naming the kaizen build that wrote a file: its claims (identity group,
/// compaction) are believed only from kaizen's own writer.
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

/// The zstd level of files written by ingest: 4, for the bytes goal at ingest (0.96× of
/// DuckDB's, which writes 3). Against zstd's default, 3: 0.24% fewer bytes on gen_events.py's
/// payloads for about 5% more of ingest's CPU (5.08 against 4.81 CPU-s per 1M events, five
/// alternating runs each) and 4 MiB more at a 1 GB import's peak; 0.11% more bytes on
/// imported agent logs', for no more CPU. Level 3 was as fast as 1 and 7% smaller. Over the
/// payloads of a 100k-event day (pyarrow, the same zstd): 5 is 4% larger than 4, 6 and 7 are
/// 0.5% and 2.3% smaller for 3.4 and 4.1 times the CPU.
pub const INGEST_ZSTD_LEVEL: i32 = 4;

/// The level of files written before footers recorded it ([`ZSTD_LEVEL_KEY`]): ingest's level
/// until then.
pub const UNRECORDED_ZSTD_LEVEL: i32 = 3;

/// The zstd level `kaizen compact` rewrites sealed days at (every day before the current
/// UTC day, once it is over): per 97k-event generated day, against ingest's level 4, 22%
/// fewer bytes for 24 CPU-s and 181 MB of memory, read as fast after (`kaizen compact --day D
/// --level 19`). Against level 3, when ingest wrote it (pages of 4 MiB): level 19 22% for 28
/// CPU-s, 15 17% for 25 CPU-s, 12 9% for 3.3 CPU-s, 9 3% (README "Cold days").
pub const COLD_ZSTD_LEVEL: i32 = 19;

/// [`INGEST_ZSTD_LEVEL`] as Parquet's level (4 is in zstd's range: the fallback never happens).
pub fn ingest_zstd_level() -> ZstdLevel {
    ZstdLevel::try_new(INGEST_ZSTD_LEVEL).unwrap_or_default()
}

/// Rows in a row group at most.
pub(super) const ROW_GROUP_ROWS: usize = 64 * 1024;

/// How the Parquet writer kaizen uses (and v1 files were written with) names itself in a
/// footer's `created_by`.
const KAIZEN_PARQUET_WRITER: &str = "parquet-rs ";

/// Footer key of the zstd level a file was written at (Parquet records only the codec).
pub const ZSTD_LEVEL_KEY: &str = "kaizen_zstd_level";

/// The bytes of a payload page at most, for files written at `level`.
///
/// At ingest's level, 4 MiB: 0.7% fewer bytes than 1 MiB on gen_events.py's payloads. Pages
/// of 8 MiB were 0.2% smaller again on imported agent logs' (1.4 KB each), the same on
/// gen_events.py's, but took a 1 GB import's peak RSS over its 200 MB goal (187–201 MiB
/// against 177–182 in four runs each). Above it (compaction, whose denser levels search
/// further back), 8 MiB: 1% fewer bytes on a 97k-event day at level 19, for 2 MB more
/// memory.
fn payload_page_bytes(level: ZstdLevel) -> usize {
    match level.compression_level() > INGEST_ZSTD_LEVEL {
        true => 8 << 20,
        false => 4 << 20,
    }
}

pub(super) fn writer_properties(level: ZstdLevel) -> WriterProperties {
    let mut properties = WriterProperties::builder()
        // Data page v2 compresses a page's values where they are; v1 first copies levels and
        // values into one buffer, a fourth copy of a 50 MB tool result at the writer's peak
        // (an import of 50 MB lines peaked at 228 MiB with v1 pages, 132 MiB with v2). Every
        // outside reader the store is tested with (DuckDB, pyarrow, polars) reads v2 pages.
        .set_writer_version(WriterVersion::PARQUET_2_0)
        .set_compression(Compression::ZSTD(level))
        // Page statistics and the page index let a filtered read skip whole pages.
        .set_statistics_enabled(EnabledStatistics::Page)
        // Payloads and call ids are nearly all distinct: a dictionary only costs time.
        .set_column_dictionary_enabled(ColumnPath::from(Field::Payload.name()), false)
        // Delta-length byte arrays: the lengths packed apart, so that zstd sees the texts
        // back to back (0.7% fewer bytes than plain values, whose 4-byte lengths interrupt
        // them; v2's fallback, delta byte arrays, only finds shared prefixes, which zstd
        // finds anyway). DuckDB, pyarrow and polars read the encoding (tests/interop).
        .set_column_encoding(
            ColumnPath::from(Field::Payload.name()),
            Encoding::DELTA_LENGTH_BYTE_ARRAY,
        )
        .set_column_data_page_size_limit(
            ColumnPath::from(Field::Payload.name()),
            payload_page_bytes(level),
        )
        // No query filters on a payload's first bytes, and a page's min and max are copies
        // of its largest values: megabytes each for a tool result holding an image.
        .set_column_statistics_enabled(
            ColumnPath::from(Field::Payload.name()),
            EnabledStatistics::None,
        )
        .set_column_dictionary_enabled(ColumnPath::from(Field::ToolCallId.name()), false)
        // Plain: random ids share no prefix for delta byte arrays to find (5% more bytes).
        .set_column_encoding(ColumnPath::from(Field::ToolCallId.name()), Encoding::PLAIN)
        // Sorted timestamps are small deltas; zstd still takes 27% off an imported agent
        // log's (whose events come in bursts), 3% off gen_events.py's.
        .set_column_dictionary_enabled(ColumnPath::from(Field::TsMs.name()), false)
        .set_column_encoding(
            ColumnPath::from(Field::TsMs.name()),
            Encoding::DELTA_BINARY_PACKED,
        )
        // A session's query skips the row groups whose bloom filter rules the session out.
        .set_column_bloom_filter_enabled(ColumnPath::from(Field::SessionId.name()), true)
        .set_column_bloom_filter_fpp(ColumnPath::from(Field::SessionId.name()), 0.01)
        // Sized for a whole row group of distinct ids, then folded down to what is there.
        .set_column_bloom_filter_max_ndv(ColumnPath::from(Field::SessionId.name()), 65_536)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_sorting_columns(Some(sort_columns()))
        .set_key_value_metadata(Some(vec![
            KeyValue::new(SCHEMA_VERSION_KEY.to_owned(), SCHEMA_VERSION.to_owned()),
            KeyValue::new(
                WRITER_KEY.to_owned(),
                concat!("kaizen-store ", env!("CARGO_PKG_VERSION")).to_owned(),
            ),
            KeyValue::new(
                ZSTD_LEVEL_KEY.to_owned(),
                level.compression_level().to_string(),
            ),
        ]));
    // Counts, sizes and ids are spread too wide for a dictionary to pay: packed deltas (v2's
    // encoding without one) are 2.7% fewer bytes in all (kaizen bench, 300k events).
    // Byte-stream-split was as small, but not every reader decodes it on integers.
    // Context sizes grow within a session, but sessions interleave in time order, so their
    // deltas are as wide as the values: plain values, whose repeated high bytes zstd finds,
    // are 23% fewer bytes than packed deltas (pyarrow, generated days).
    let context_used = ColumnPath::from(Field::ContextUsedTokens.name());
    properties = properties
        .set_column_dictionary_enabled(context_used.clone(), false)
        .set_column_encoding(context_used, Encoding::PLAIN)
        // Flags bit-packed, not run-length encoded: 21% fewer bytes, as they seldom repeat.
        .set_column_encoding(ColumnPath::from(Field::TsExact.name()), Encoding::PLAIN);
    for field in Field::COLUMNS {
        if ![Field::TsMs, Field::ContextUsedTokens].contains(&field)
            && matches!(
                column_type(field),
                DataType::UInt64 | DataType::UInt32 | DataType::UInt16 | DataType::Int64
            )
        {
            properties =
                properties.set_column_dictionary_enabled(ColumnPath::from(field.name()), false);
        }
    }
    properties.build()
}

/// Encodes a batch whose rows are already sorted by `(ts_ms, session_id, seq)` as a
/// Parquet file: v1 columns, ZSTD, page statistics, the schema version in its metadata.
pub fn encode_file(batch: &RecordBatch, path: &str) -> Result<Bytes> {
    let mut encoder = FileEncoder::new(path, batch.schema())?;
    encoder.write(batch)?;
    encoder.finish()
}

/// Builds a data file from sorted batches written one after another, in row groups of
/// 65,536 (`ROW_GROUP_ROWS`) rows and [`ROW_GROUP_BYTES`] at most (Parquet's writer counts rows
/// only, and takes a first batch whole however large).
pub struct FileEncoder {
    writer: ArrowWriter<Vec<u8>>,
    path: String,
    /// Whether batches come in the event schema and get the derived columns appended.
    derive: bool,
    /// The identities written so far, for the footer; `None` once a batch had no typed
    /// `session_id` and `seq` (a file of another schema carries no summary).
    identities: Option<super::IdentitySummary>,
    /// Rows and bytes (as [`slice_bytes`] counts them) of the row group being written.
    group_rows: usize,
    group_bytes: usize,
}

impl FileEncoder {
    /// `schema` is the schema of the batches to be written: the event schema
    /// (`event_schema()`) for every file the store writes, whose files then get the derived
    /// columns too (the file schema, `file_schema()`); any other schema is written as it is
    /// (tests writing files of other shapes).
    pub fn new(path: &str, schema: SchemaRef) -> Result<Self> {
        Self::with_level(path, schema, ingest_zstd_level())
    }

    /// As [`FileEncoder::new`], compressed at `level`.
    pub fn with_level(path: &str, schema: SchemaRef, level: ZstdLevel) -> Result<Self> {
        let properties = writer_properties(level);
        let derive = schema == event_schema();
        let schema = if derive { file_schema() } else { schema };
        let writer = ArrowWriter::try_new(Vec::new(), schema, Some(properties))
            .map_err(|e| Error::parquet(path, e))?;
        Ok(FileEncoder {
            writer,
            path: path.to_owned(),
            derive,
            identities: Some(super::IdentitySummary::default()),
            group_rows: 0,
            group_bytes: 0,
        })
    }

    /// Appends `batch`'s rows, closing the row group being written whenever the next rows
    /// would take it over its rows or bytes: a writer holds one row group's pages at a time.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let batch = match self.derive {
            true => with_derived_columns(batch, &self.path)?,
            false => std::borrow::Cow::Borrowed(batch),
        };
        let batch = batch.as_ref();
        if let Some(identities) = &mut self.identities
            && identities.add_batch(batch, &self.path).is_err()
        {
            self.identities = None;
        }
        let mut offset = 0;
        while offset < batch.num_rows() {
            let room = ROW_GROUP_BYTES.saturating_sub(self.group_bytes);
            let rows = rows_within(batch, offset, room, ROW_GROUP_ROWS - self.group_rows);
            let bytes = slice_bytes(batch, offset, offset + rows);
            if self.group_rows > 0 && bytes > room {
                // Even one more row would not fit: it starts the next row group.
                self.close_row_group()?;
                continue;
            }
            self.writer
                .write(&batch.slice(offset, rows))
                .map_err(|e| Error::parquet(&self.path, e))?;
            (self.group_rows, self.group_bytes) =
                (self.group_rows + rows, self.group_bytes + bytes);
            offset += rows;
            if self.group_rows >= ROW_GROUP_ROWS || self.group_bytes >= ROW_GROUP_BYTES {
                self.close_row_group()?;
            }
        }
        Ok(())
    }

    fn close_row_group(&mut self) -> Result<()> {
        (self.group_rows, self.group_bytes) = (0, 0);
        self.writer
            .flush()
            .map_err(|e| Error::parquet(&self.path, e))
    }

    /// Rows written so far, those still buffered included.
    pub fn rows(&self) -> usize {
        self.writer
            .flushed_row_groups()
            .iter()
            .map(|g| g.num_rows() as usize)
            .sum::<usize>()
            + self.writer.in_progress_rows()
    }

    /// Bytes written so far plus those buffered: the file's size, roughly.
    pub fn bytes(&self) -> usize {
        self.writer.bytes_written() + self.writer.in_progress_size()
    }

    /// Records in the footer that no identity of this file is in another file of `group`:
    /// a scan may then read the group's files of a day one after another, without a merge.
    pub fn set_identity_group(&mut self, group: &str) {
        self.writer.append_key_value_metadata(KeyValue::new(
            IDENTITY_GROUP_KEY.to_owned(),
            group.to_owned(),
        ));
    }

    /// Records what a compaction output supersedes, in the footer.
    pub fn set_compaction(&mut self, compaction: &Compaction) {
        let mut value =
            serde_json::json!({"id": compaction.id, "supersedes": compaction.supersedes});
        if compaction.exclusive {
            value["exclusive"] = serde_json::Value::Bool(true);
        }
        self.writer
            .append_key_value_metadata(KeyValue::new(COMPACTION_KEY.to_owned(), value.to_string()));
    }

    /// Records that every payload of this file was replaced by the pruned-payload marker
    /// (`kaizen prune --payload-older-than`): `verify` knows such files.
    pub fn set_payload_pruned(&mut self) {
        self.writer.append_key_value_metadata(KeyValue::new(
            PAYLOAD_PRUNED_KEY.to_owned(),
            "1".to_owned(),
        ));
    }

    /// The bytes of the row groups completed since the last call: the file is handed on
    /// piece by piece, and memory holds about a row group's bytes.
    pub fn take_written(&mut self) -> Bytes {
        // The footer's offsets count bytes written, not bytes held: taking the bytes out,
        // in order, changes nothing in the file.
        Bytes::from(std::mem::take(self.writer.inner_mut()))
    }

    /// The rest of the file, footer included: the whole file when
    /// [`FileEncoder::take_written`] took nothing.
    pub fn finish(mut self) -> Result<Bytes> {
        if let Some(text) = self.identities.as_ref().and_then(|i| i.to_footer()) {
            let identities = KeyValue::new(super::IDENTITIES_KEY.to_owned(), text);
            self.writer.append_key_value_metadata(identities);
        }
        self.writer
            .finish()
            .map_err(|e| Error::parquet(&self.path, e))?;
        Ok(self.take_written())
    }
}

/// Footer key of a compaction output: which compaction made it and what it replaces.
pub const COMPACTION_KEY: &str = "kaizen_compaction";

/// Footer key of a file whose payloads were all replaced by the pruned-payload marker.
pub const PAYLOAD_PRUNED_KEY: &str = "kaizen_payload_pruned";

/// Footer key of a file whose identities no other file of the same group holds.
pub const IDENTITY_GROUP_KEY: &str = "kaizen_identity_group";

/// A compaction output's record: once the compaction's marker exists, the files of
/// `supersedes` (paths in the store) are ignored by readers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compaction {
    /// The compaction's id (a UUID v7): the name of its marker.
    pub id: String,
    /// The files this output replaces, paths in the store.
    pub supersedes: Vec<String>,
    /// The output holds other versions of its inputs' events (a rewrite that drops or
    /// replaces events, not a compaction's copies): readers ignore it until the marker
    /// exists, as long as one of its inputs is still there. Compactions leave it `false`
    /// (their outputs are copies, read once beside their inputs).
    pub exclusive: bool,
}

fn parse_compaction(text: &str) -> Option<Compaction> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    Some(Compaction {
        id: v.get("id")?.as_str()?.to_owned(),
        supersedes: v
            .get("supersedes")?
            .as_array()?
            .iter()
            .map(|p| p.as_str().map(str::to_owned))
            .collect::<Option<_>>()?,
        exclusive: v
            .get("exclusive")
            .and_then(|e| e.as_bool())
            .unwrap_or(false),
    })
}

/// What a file's footer tells without reading its rows.
#[derive(Debug, Clone, PartialEq)]
pub struct FileFacts {
    /// Rows in the file.
    pub rows: u64,
    /// Per row group: `(rows, min ts_ms, max ts_ms)`; the bounds are `None` without statistics.
    pub row_groups: Vec<(u64, Option<u64>, Option<u64>)>,
    /// Every row group declares the store's sort order.
    pub sorted: bool,
    /// The footer's `kaizen_schema_v` (`None`: another tool wrote the file).
    pub schema_version: Option<String>,
    /// Set on a compaction's outputs.
    pub compaction: Option<Compaction>,
    /// Written by kaizen-store: rows sorted, each identity once (the writer guarantees it).
    pub ours: bool,
    /// Set when no other file of this group holds one of this file's identities.
    pub identity_group: Option<String>,
    /// The zstd level kaizen wrote the file at, when the footer records it.
    pub zstd_level: Option<i32>,
    /// The footer's summary of the file's identities, as written (files this version of
    /// kaizen writes, unless they hold too many sessions): parsed by
    /// [`FileFacts::identity_summary`] only where a reader needs it.
    pub identities: Option<Arc<str>>,
    /// Every payload of the file is the pruned-payload marker (the footer says so).
    pub payload_pruned: bool,
    /// Written by another tool (DuckDB, pyarrow, polars rewriting a day): the footer has no
    /// `kaizen_schema_v`, or another Parquet writer than kaizen's made it (pyarrow copies a
    /// file's key-value metadata into its rewrite). Read by the same contract as any file;
    /// its footer's kaizen claims (writer, identity group, compaction) are not believed.
    pub foreign: bool,
}

impl FileFacts {
    /// The file's identities from its footer; `None` without a readable summary.
    pub fn identity_summary(&self) -> Option<super::IdentitySummary> {
        super::IdentitySummary::from_footer(self.identities.as_deref()?)
    }

    /// The file's earliest `ts_ms`, from its row groups' statistics (`None` when a row
    /// group has none: the file must then be read to know).
    pub fn min_ts(&self) -> Option<u64> {
        self.row_groups
            .iter()
            .map(|g| g.1)
            .collect::<Option<Vec<_>>>()?
            .into_iter()
            .min()
    }

    /// The file's latest `ts_ms`, as [`FileFacts::min_ts`].
    pub fn max_ts(&self) -> Option<u64> {
        self.row_groups
            .iter()
            .map(|g| g.2)
            .collect::<Option<Vec<_>>>()?
            .into_iter()
            .max()
    }
}

/// What the footer `meta` (with its Arrow `schema`) of the file at `path` says. A footer
/// whose statistics cannot be read is the file's error ([`Error::Parquet`]), never a
/// panic.
pub fn file_facts(meta: &ParquetMetaData, schema: &Schema, path: &str) -> Result<FileFacts> {
    // Statistics of a damaged footer can make the converter panic: that is the file's error.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_facts(meta, schema, path)
    }))
    .unwrap_or_else(|_| {
        Err(Error::parquet(
            path,
            parquet::errors::ParquetError::General("damaged footer statistics".into()),
        ))
    })
}

fn read_facts(meta: &ParquetMetaData, schema: &Schema, path: &str) -> Result<FileFacts> {
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
    let schema_version = metadata_value(meta, SCHEMA_VERSION_KEY).map(str::to_owned);
    let created_by = meta.file_metadata().created_by().unwrap_or_default();
    let foreign = schema_version.is_none() || !created_by.starts_with(KAIZEN_PARQUET_WRITER);
    // What a foreign file's footer says of kaizen was copied from another file, at best.
    let claim = |key| metadata_value(meta, key).filter(|_| !foreign);
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
        schema_version,
        compaction: claim(COMPACTION_KEY).and_then(parse_compaction),
        ours: claim(WRITER_KEY).is_some_and(|w| w.starts_with("kaizen-store ")),
        identity_group: claim(IDENTITY_GROUP_KEY).map(str::to_owned),
        zstd_level: claim(ZSTD_LEVEL_KEY).and_then(|v| v.parse().ok()),
        foreign,
        identities: claim(super::IDENTITIES_KEY).map(Arc::from),
        payload_pruned: claim(PAYLOAD_PRUNED_KEY).is_some(),
    })
}

fn metadata_value<'a>(meta: &'a ParquetMetaData, key: &str) -> Option<&'a str> {
    meta.file_metadata()
        .key_value_metadata()?
        .iter()
        .find(|kv| kv.key == key)?
        .value
        .as_deref()
}

#[cfg(test)]
mod tests {
    use kaizen_core::{Event, EventKind, EventSource};
    use parquet::file::metadata::ParquetMetaDataReader;

    use super::*;
    use crate::codec::events_to_batch;

    #[test]
    fn every_column_is_in_zstd() {
        let events: Vec<Event> = (0..1_000)
            .map(|i| Event::new("s", i, 1_000 + i, EventKind::Message, EventSource::Tail))
            .collect();
        let bytes = encode_file(&events_to_batch(&events), "test.parquet").expect("encode");
        let meta = ParquetMetaDataReader::new()
            .parse_and_finish(&bytes)
            .expect("footer");
        for column in meta.row_group(0).columns() {
            let path = column.column_path().string();
            // The footer names the codec only: its level reads back as zstd's default.
            let zstd = matches!(column.compression(), Compression::ZSTD(_));
            assert!(zstd, "{path}: {:?}", column.compression());
        }
    }

    /// Payload pages hold 4 MiB at ingest's level and 8 MiB above it (compaction): 12 MB of
    /// payloads are two pages, then one. (Parquet's writer closes a page once a write takes
    /// it to its limit, and writes up to the limit at once: a page ends between one and two
    /// limits.)
    #[test]
    fn payload_pages_are_larger_above_ingests_level() {
        use parquet::basic::PageType;
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let events: Vec<Event> = (0..12_000u64)
            .map(|i| {
                let mut e = Event::new("s", i, 1_000 + i, EventKind::Message, EventSource::Tail);
                let text = format!("{{\"text\":\"{i:01000}\"}}");
                e.payload = kaizen_core::Payload::from_json_text(text).expect("json");
                e
            })
            .collect();
        let batch = events_to_batch(&events);
        let payload_pages = |level: i32| {
            let level = ZstdLevel::try_new(level).expect("level");
            let mut encoder =
                FileEncoder::with_level("test.parquet", batch.schema(), level).expect("encoder");
            encoder.write(&batch).expect("write");
            let reader =
                SerializedFileReader::new(encoder.finish().expect("finish")).expect("footer");
            let column = (reader.metadata().row_group(0).columns().iter())
                .position(|c| c.column_path().string() == Field::Payload.name())
                .expect("payload column");
            let pages = reader
                .get_row_group(0)
                .expect("row group")
                .get_column_page_reader(column)
                .expect("pages");
            pages
                .map(|p| p.expect("page read").page_type())
                .filter(|t| *t == PageType::DATA_PAGE_V2)
                .count()
        };
        assert_eq!(payload_pages(INGEST_ZSTD_LEVEL), 2);
        assert_eq!(payload_pages(INGEST_ZSTD_LEVEL + 1), 1);
    }

    /// The encodings `writer_properties` chooses: v2 data pages, delta-length payloads, plain
    /// call ids, context sizes and flags, packed deltas (no dictionary) for every other integer
    /// column, dictionaries for the repeated strings.
    #[test]
    fn pages_are_v2_with_the_chosen_encodings() {
        use parquet::basic::{Encoding, PageType};
        use parquet::column::page::Page;
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let events: Vec<Event> = (0..1_000)
            .map(|i| {
                let mut e = Event::new("s", i, 1_000 + i, EventKind::Message, EventSource::Tail);
                e.tokens_in = Some((i * 7919 % 100_000) as u32);
                e.payload =
                    kaizen_core::Payload::from_json_text(format!("{{\"text\":\"line {i}\"}}"))
                        .expect("json");
                e
            })
            .collect();
        let bytes = encode_file(&events_to_batch(&events), "test.parquet").expect("encode");
        let reader = SerializedFileReader::new(bytes).expect("footer");
        let row_group = reader.get_row_group(0).expect("row group");
        for (i, column) in reader.metadata().row_group(0).columns().iter().enumerate() {
            let path = column.column_path().string();
            let pages: Vec<Page> = row_group
                .get_column_page_reader(i)
                .expect("pages")
                .collect::<parquet::errors::Result<_>>()
                .expect("pages read");
            assert!(
                pages.iter().all(|p| p.page_type() != PageType::DATA_PAGE),
                "{path}: a v1 data page"
            );
            let dictionary = pages
                .iter()
                .any(|p| p.page_type() == PageType::DICTIONARY_PAGE);
            let field = Field::column_from_name(&path).expect("a column of the file schema");
            let integer = !matches!(column_type(field), DataType::Utf8 | DataType::Boolean);
            let expected_dictionary = column_type(field) == DataType::Utf8
                && !matches!(field, Field::Payload | Field::ToolCallId);
            assert_eq!(dictionary, expected_dictionary, "{path}");
            let encodings: Vec<Encoding> = pages
                .iter()
                .filter(|p| p.page_type() == PageType::DATA_PAGE_V2)
                .map(|p| p.encoding())
                .collect();
            let expected = if matches!(field, Field::ContextUsedTokens | Field::TsExact) {
                Encoding::PLAIN
            } else if integer {
                Encoding::DELTA_BINARY_PACKED
            } else if field == Field::Payload {
                Encoding::DELTA_LENGTH_BYTE_ARRAY
            } else if field == Field::ToolCallId {
                Encoding::PLAIN
            } else {
                continue;
            };
            assert!(
                encodings.iter().all(|e| *e == expected),
                "{path}: {encodings:?}"
            );
        }
    }
}
