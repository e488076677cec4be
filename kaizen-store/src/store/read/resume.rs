//! What a day's scan has given, so that a scan resumed after a file vanished gives every
//! row once.

use arrow::array::RecordBatch;
use kaizen_core::Field;

use super::rows::times;
use crate::{Error, Result};

/// What a day's scan has given, so that a resumed scan gives no row twice and misses none.
/// Rows come in time order. Each batch is held back until the next one shows that no more
/// rows come at its last time, so every time up to `through` has been given whole, and a
/// scan resumed after a file vanished skips exactly the rows at those times. Batches are
/// given whole, one late; only rows at a time that runs on into the next batch wait longer.
#[derive(Default)]
pub(super) struct Given {
    /// Every row at this `ts_ms` or before it has been given.
    through: Option<u64>,
    /// Set on resuming: rows at this time or before are skipped until a later one comes.
    skip_through: Option<u64>,
    /// Rows not given yet, in order; the last of them at `held_ts`.
    held: Vec<RecordBatch>,
    held_ts: u64,
}

impl Given {
    /// Takes the next batch in time order; returns the rows now safe to give.
    pub(super) fn take(&mut self, batch: RecordBatch) -> Result<Vec<RecordBatch>> {
        let batch = self.skip_given(batch)?;
        let ts = times(&batch)?;
        let (Some(&first), Some(&last)) = (ts.first(), ts.last()) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        if !self.held.is_empty() {
            if first < self.held_ts {
                return Err(Error::column(
                    "scan",
                    Field::TsMs.name(),
                    "rows out of time order after a merge",
                ));
            }
            // More rows at `first` may follow: give only what comes before it.
            let mut kept = Vec::new();
            for held in std::mem::take(&mut self.held) {
                let held_ts = times(&held)?;
                let before = held_ts.partition_point(|&t| t < first);
                if before > 0 {
                    self.through = Some(held_ts[before - 1]);
                    out.push(held.slice(0, before));
                }
                if before < held.num_rows() {
                    kept.push(held.slice(before, held.num_rows() - before));
                }
            }
            self.held = kept;
        }
        self.held.push(batch);
        self.held_ts = last;
        Ok(out)
    }

    /// The rows held back, once the day has no more.
    pub(super) fn finish(&mut self) -> Vec<RecordBatch> {
        std::mem::take(&mut self.held)
    }

    /// Forgets the rows held back: the day is read again from its files as now listed.
    pub(super) fn resume(&mut self) {
        self.held.clear();
        self.skip_through = self.through;
    }

    fn skip_given(&mut self, batch: RecordBatch) -> Result<RecordBatch> {
        let Some(through) = self.skip_through else {
            return Ok(batch);
        };
        let ts = times(&batch)?;
        let first_new = ts.partition_point(|&t| t <= through);
        if first_new < ts.len() {
            self.skip_through = None;
        }
        Ok(batch.slice(first_new, batch.num_rows() - first_new))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::read::rows::check_time_order;
    use crate::store::test_batches::{given_ts, ts_batch as batch};

    #[test]
    fn batches_are_given_whole_once_the_next_starts_later() {
        let mut given = Given::default();
        assert!(given.take(batch(&[1, 2])).expect("take").is_empty());
        let out = given.take(batch(&[3, 4])).expect("take");
        assert_eq!(out.len(), 1);
        assert_eq!(given_ts(out), [1, 2]);
        assert_eq!(given.through, Some(2));
        assert_eq!(given_ts(given.finish()), [3, 4]);
    }

    #[test]
    fn rows_at_a_time_that_runs_on_wait_for_a_later_time() {
        let mut given = Given::default();
        assert!(given.take(batch(&[1, 2, 2])).expect("take").is_empty());
        assert_eq!(given_ts(given.take(batch(&[2, 2])).expect("take")), [1]);
        assert_eq!(given.through, Some(1));
        assert!(given.take(batch(&[2, 3])).expect("take").is_empty());
        let out = given_ts(given.take(batch(&[5])).expect("take"));
        assert_eq!(out, [2, 2, 2, 2, 2, 3]);
        assert_eq!(given.through, Some(3));
        assert_eq!(given_ts(given.finish()), [5]);
    }

    #[test]
    fn a_resumed_day_gives_every_row_once() {
        let mut given = Given::default();
        let mut out = given_ts(given.take(batch(&[1, 2, 2])).expect("take"));
        out.extend(given_ts(given.take(batch(&[2, 3, 3])).expect("take")));
        out.extend(given_ts(given.take(batch(&[4, 4])).expect("take")));
        assert_eq!(out, [1, 2, 2, 2, 3, 3]);
        // A file vanished: the day is read again from the start, in other batches.
        given.resume();
        out.extend(given_ts(given.take(batch(&[1, 2])).expect("take")));
        out.extend(given_ts(given.take(batch(&[2, 2, 3])).expect("take")));
        out.extend(given_ts(given.take(batch(&[3, 4])).expect("take")));
        out.extend(given_ts(given.take(batch(&[4])).expect("take")));
        out.extend(given_ts(given.finish()));
        assert_eq!(out, [1, 2, 2, 2, 3, 3, 4, 4]);
    }

    #[test]
    fn rows_out_of_time_order_are_an_error_not_a_loss() {
        let mut given = Given::default();
        given.take(batch(&[5, 6])).expect("take");
        assert!(given.take(batch(&[4])).is_err());
        assert!(check_time_order(&batch(&[3, 2]), 0, "f.parquet").is_err());
        assert_eq!(
            check_time_order(&batch(&[3, 3, 7]), 3, "f").expect("ordered"),
            7
        );
    }
}
