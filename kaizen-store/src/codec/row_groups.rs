//! Row groups encoded on any thread, apart from the file they go into, then appended to a
//! file in order: a day's parts are encoded side by side and still make one file.

use bytes::Bytes;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::{ArrowColumnChunk, ArrowRowGroupWriterFactory, compute_leaves};
use parquet::file::metadata::KeyValue;
use parquet::file::writer::SerializedFileWriter;

use super::budget::{ROW_GROUP_BYTES, rows_within};
use super::file::{IDENTITY_GROUP_KEY, ROW_GROUP_ROWS, ingest_zstd_level, writer_properties};
use super::identities::{IDENTITIES_KEY, IdentitySummary};
use super::{file_schema, with_derived_columns};
use crate::{Error, Result};

/// Sorted events encoded as row groups (of 65,536 rows and [`ROW_GROUP_BYTES`]
/// at most), not yet in a file.
pub struct EncodedRowGroups {
    groups: Vec<Vec<ArrowColumnChunk>>,
    identities: IdentitySummary,
}

impl EncodedRowGroups {
    /// The identities of the encoded rows.
    pub fn identities(&self) -> &IdentitySummary {
        &self.identities
    }
}

/// Encodes `batch` (of the event schema, rows sorted) as row groups for a file at `path`
/// (named in errors), at ingest's zstd level, with the derived columns computed from its
/// payloads.
pub fn encode_row_groups(
    batch: &arrow::record_batch::RecordBatch,
    path: &str,
) -> Result<EncodedRowGroups> {
    let batch = with_derived_columns(batch, path)?;
    let batch = batch.as_ref();
    let (_, factory) = file_writer(path)?;
    let fail = |e| Error::parquet(path, e);
    let mut identities = IdentitySummary::default();
    identities.add_batch(batch, path)?;
    let mut groups = Vec::new();
    let mut offset = 0;
    while offset < batch.num_rows() {
        let rows = rows_within(batch, offset, ROW_GROUP_BYTES, ROW_GROUP_ROWS);
        let slice = batch.slice(offset, rows);
        // The index only matters to encrypted files, which the store does not write.
        let mut writers = factory.create_column_writers(0).map_err(fail)?;
        // The event schema is flat: one leaf, one writer, per column.
        for ((writer, field), column) in (writers.iter_mut())
            .zip(slice.schema().fields())
            .zip(slice.columns())
        {
            for leaf in compute_leaves(field, column).map_err(fail)? {
                writer.write(&leaf).map_err(fail)?;
            }
        }
        let chunks = writers.into_iter().map(|w| w.close());
        groups.push(
            chunks
                .collect::<parquet::errors::Result<_>>()
                .map_err(fail)?,
        );
        offset += rows;
    }
    Ok(EncodedRowGroups { groups, identities })
}

/// A data file built of row groups encoded apart, appended in their order.
pub struct RowGroupFile {
    writer: SerializedFileWriter<Vec<u8>>,
    path: String,
    /// The identities of the row groups appended, for the footer.
    identities: IdentitySummary,
}

impl RowGroupFile {
    /// An empty file to be published at `path` (named in errors), with the store's writer
    /// properties.
    pub fn new(path: &str) -> Result<Self> {
        let (writer, _) = file_writer(path)?;
        Ok(RowGroupFile {
            writer,
            path: path.to_owned(),
            identities: IdentitySummary::default(),
        })
    }

    /// As [`super::FileEncoder::set_identity_group`].
    pub fn set_identity_group(&mut self, group: &str) {
        self.writer.append_key_value_metadata(KeyValue::new(
            IDENTITY_GROUP_KEY.to_owned(),
            group.to_owned(),
        ));
    }

    /// Appends row groups whose rows sort after the file's last row.
    pub fn append(&mut self, encoded: EncodedRowGroups) -> Result<()> {
        let fail = |e| Error::parquet(&self.path, e);
        self.identities.extend(&encoded.identities);
        for group in encoded.groups {
            let mut row_group = self.writer.next_row_group().map_err(fail)?;
            for chunk in group {
                chunk.append_to_row_group(&mut row_group).map_err(fail)?;
            }
            row_group.close().map_err(fail)?;
        }
        Ok(())
    }

    /// The bytes written since the last call: the file is handed on piece by piece, and
    /// memory holds a row group's bytes at most.
    pub fn take_written(&mut self) -> Bytes {
        // The footer's offsets count bytes written, not bytes held: taking the bytes out,
        // in order, changes nothing in the file.
        Bytes::from(std::mem::take(self.writer.inner_mut()))
    }

    /// The rest of the file: what [`RowGroupFile::take_written`] has not taken, and the
    /// footer.
    pub fn finish(mut self) -> Result<Bytes> {
        if let Some(text) = self.identities.to_footer() {
            let identities = KeyValue::new(IDENTITIES_KEY.to_owned(), text);
            self.writer.append_key_value_metadata(identities);
        }
        let out = self.writer.into_inner();
        Ok(Bytes::from(out.map_err(|e| Error::parquet(&self.path, e))?))
    }
}

/// A file writer with the store's properties (and the Arrow schema in its footer, as
/// `ArrowWriter` puts it), and the factory of its row groups' column writers.
fn file_writer(path: &str) -> Result<(SerializedFileWriter<Vec<u8>>, ArrowRowGroupWriterFactory)> {
    let properties = writer_properties(ingest_zstd_level());
    ArrowWriter::try_new(Vec::new(), file_schema(), Some(properties))
        .and_then(ArrowWriter::into_serialized_writer)
        .map_err(|e| Error::parquet(path, e))
}
