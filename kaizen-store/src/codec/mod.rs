//! The one batch codec every backend shares: events ↔ Arrow `RecordBatch` ↔ Parquet bytes,
//! in the v1 column schema plus the derived columns of schema 2 (computed from payloads).

mod budget;
mod decode;
mod derived;
mod encode;
mod file;
mod identities;
mod row_groups;
mod schema;

pub use budget::{BATCH_BYTES, ROW_GROUP_BYTES, batch_rows_for, rows_within, slice_bytes};
pub use decode::{EventColumns, batch_to_events, check_file, check_schema};
pub use derived::{derive_columns, with_derived_columns};
pub use encode::events_to_batch;
pub use file::{
    COLD_ZSTD_LEVEL, COMPACTION_KEY, Compaction, FileEncoder, FileFacts, IDENTITY_GROUP_KEY,
    INGEST_ZSTD_LEVEL, PAYLOAD_PRUNED_KEY, READABLE_SCHEMA_VERSIONS, SCHEMA_VERSION,
    SCHEMA_VERSION_KEY, UNRECORDED_ZSTD_LEVEL, WRITER_KEY, ZSTD_LEVEL_KEY, encode_file, file_facts,
    ingest_zstd_level,
};
pub use identities::{
    IDENTITIES_KEY, IdentitySummary, MAX_SUMMARY_RANGES, SeqRanges, first_overlap, union,
};
pub use row_groups::{EncodedRowGroups, RowGroupFile, encode_row_groups};
pub use schema::{column_type, event_schema, file_schema, parse_columns, projected_schema};
