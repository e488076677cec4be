//! Byte budgets: row groups, parts and batches closed by bytes as well as rows, because an
//! event can be megabytes (a tool result carrying a base64 image) where most are a few
//! hundred bytes. Counting rows alone, twenty such events made one 240 MiB row group.

use arrow::array::{Array, AsArray};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use parquet::file::metadata::RowGroupMetaData;

/// Uncompressed bytes of a row group at most (rows at least one, however large): about
/// 64k rows of common events (450 bytes each), a couple of rows of 12 MiB images. A writer
/// holds a row group's pages, and a reader fetches a row group's column chunks, at once.
pub const ROW_GROUP_BYTES: usize = 32 << 20;

/// Bytes of a batch a scan decodes or gives at most (rows at least one): 8192 common events
/// take about 4 MiB, well within it.
pub const BATCH_BYTES: usize = 8 << 20;

/// The bytes rows `start..end` of `batch` take in memory: their text and the fixed width of
/// every other value. Reads offsets only: a few operations a column, whatever the rows.
pub fn slice_bytes(batch: &RecordBatch, start: usize, end: usize) -> usize {
    let rows = end.saturating_sub(start);
    batch
        .columns()
        .iter()
        .map(|column| match column.data_type() {
            DataType::Utf8 => {
                let offsets = column.as_string::<i32>().value_offsets();
                (offsets[end] - offsets[start]) as usize + rows * 4
            }
            DataType::LargeUtf8 => {
                let offsets = column.as_string::<i64>().value_offsets();
                (offsets[end] - offsets[start]) as usize + rows * 8
            }
            // Bits, counted as a byte a row: sums of slices add up.
            DataType::Boolean => rows,
            other => rows * other.primitive_width().unwrap_or(8),
        })
        .sum()
}

/// How many rows from `start` fit in `budget` bytes (at least one, at most `max_rows`), so
/// that no piece of `batch` is larger than its budget unless one row is.
pub fn rows_within(batch: &RecordBatch, start: usize, budget: usize, max_rows: usize) -> usize {
    let left = batch.num_rows().saturating_sub(start);
    let max = left.min(max_rows.max(1));
    if max <= 1 || slice_bytes(batch, start, start + max) <= budget {
        return max;
    }
    // The bytes grow with the rows taken: the largest count within the budget, by halving.
    let (mut fits, mut over) = (1, max);
    while over - fits > 1 {
        let mid = fits + (over - fits) / 2;
        if slice_bytes(batch, start, start + mid) <= budget {
            fits = mid;
        } else {
            over = mid;
        }
    }
    fits
}

/// The rows of a batch a reader decodes from `group`, given the columns it reads
/// (`columns`: leaf indices), so that a batch takes about [`BATCH_BYTES`]: the footer's
/// uncompressed size of those column chunks over the group's rows. At least one row, at
/// most `max_rows`.
pub fn batch_rows_for(group: &RowGroupMetaData, columns: &[usize], max_rows: usize) -> usize {
    let rows = group.num_rows().max(1) as u64;
    let bytes: u64 = columns
        .iter()
        .filter(|&&c| c < group.num_columns())
        .map(|&c| group.column(c).uncompressed_size().max(0) as u64)
        .sum();
    // The rows' bytes as decoded: the footer counts the pages' bytes, a little less.
    let per_row = bytes.div_ceil(rows).max(1);
    ((BATCH_BYTES as u64 / per_row) as usize).clamp(1, max_rows.max(1))
}

#[cfg(test)]
mod tests {
    use kaizen_core::{Event, EventKind, EventSource, Payload};

    use super::*;
    use crate::codec::events_to_batch;

    fn event(seq: u64, payload_bytes: usize) -> Event {
        let mut e = Event::new(
            "s",
            seq,
            1_000 + seq,
            EventKind::ToolResult,
            EventSource::Tail,
        );
        let text = format!("{{\"b\":\"{}\"}}", "A".repeat(payload_bytes));
        e.payload = Payload::from_json_text(&text).expect("json");
        e
    }

    #[test]
    fn rows_are_taken_up_to_the_budget_and_one_at_least() {
        let events: Vec<Event> = [10, 10, 1_000, 10, 5_000, 10]
            .into_iter()
            .enumerate()
            .map(|(i, n)| event(i as u64, n))
            .collect();
        let batch = events_to_batch(&events);
        let all = slice_bytes(&batch, 0, 6);
        assert!(all > 6_040, "{all}");
        assert_eq!(
            slice_bytes(&batch, 0, 3) + slice_bytes(&batch, 3, 6),
            all,
            "bytes add up"
        );
        assert_eq!(rows_within(&batch, 0, usize::MAX, 100), 6);
        assert_eq!(rows_within(&batch, 0, usize::MAX, 4), 4);
        // Two small rows fit in 500 bytes, not the 1000-byte one after them.
        assert_eq!(rows_within(&batch, 0, 500, 100), 2);
        // A row larger than the budget goes alone.
        assert_eq!(rows_within(&batch, 4, 500, 100), 1);
        assert_eq!(rows_within(&batch, 5, 500, 100), 1);
        assert_eq!(rows_within(&batch, 6, 500, 100), 0);
    }
}
