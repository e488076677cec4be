//! A scan: the days in range, each day's live files opened as sorted, filtered streams,
//! merged (or read one after another when no two can hold one event). A day whose files
//! change under the scan (a compaction or prune removed one) is listed again and resumed
//! after the last time given whole, a bounded number of times.

use std::collections::VecDeque;
use std::sync::Arc;

use futures::{StreamExt, stream};
use kaizen_core::UtcDay;

use super::catalog;
use super::read::DayScan;
use crate::backend::Backend;
use crate::event_store::BatchStream;
use crate::{Error, IdentityLedger, Query, Result};

/// Scans `query`; with `check_payloads`, every payload is checked as JSON, even in files
/// kaizen wrote.
pub(crate) async fn scan(
    backend: Arc<dyn Backend>,
    query: Query,
    batch_rows: usize,
    check_payloads: bool,
) -> Result<BatchStream> {
    if query.is_empty_range() || query.limit == Some(0) {
        return Ok(Box::pin(stream::empty()));
    }
    let days = catalog::list_days(backend.as_ref(), |day| query.may_contain_day(day)).await?;
    // Days read at once: one for a limited scan (which may stop early), two on a disk (more
    // only hold more batches in memory), eight on a bucket, whose time is round trips (each
    // day's footers, then its column chunks): 30 days at 30 ms a request were 1.6 s with
    // two at once. Each day in flight holds up to `READ_AHEAD_BATCHES` batches.
    let days_at_once = match (query.limit, backend.latency_bound()) {
        (Some(_), _) => 1,
        (None, false) => 2,
        (None, true) => 8,
    };
    let fields = Arc::new(query.output_fields());
    let limit = query.limit;
    let mut query = query;
    query.identities.get_or_insert_with(IdentityLedger::default);
    let query = Arc::new(query);

    let start = move |day: UtcDay, files| {
        let scan =
            DayScan::new(backend.clone(), day, query.clone(), batch_rows).columns(fields.clone());
        let scan = match check_payloads {
            true => scan,
            false => scan.trusting_payloads(),
        };
        read_ahead(scan.stream(files), day)
    };
    let merged = days_ahead(days.into_iter(), days_at_once, start);
    Ok(match limit {
        Some(n) => take_rows(Box::pin(merged), n),
        None => Box::pin(merged),
    })
}

/// Batches a day's producer may be ahead of its reader.
const READ_AHEAD_BATCHES: usize = 2;

/// The days' rows, day after day, with `at_once` days started ahead of the one being read:
/// each next day opens its files and decodes its first batches (on a task of its own,
/// [`read_ahead`]) while the rows before it are read, so its latency (footers, first pages,
/// each a round trip on a bucket) hides behind them. (A `buffered` stream of days under a
/// `flatten` started the next day only once the last was read through.)
fn days_ahead<D, I, S>(days: I, at_once: usize, start: S) -> BatchStream
where
    D: Send + 'static,
    I: Iterator<Item = (UtcDay, D)> + Send + 'static,
    S: Fn(UtcDay, D) -> BatchStream + Send + 'static,
{
    let started: VecDeque<BatchStream> = VecDeque::with_capacity(at_once);
    Box::pin(stream::unfold(
        (days, started, start),
        move |(mut days, mut started, start)| async move {
            loop {
                while started.len() < at_once.max(1) {
                    let Some((day, files)) = days.next() else {
                        break;
                    };
                    started.push_back(start(day, files));
                }
                let item = started.front_mut()?.next().await;
                match item {
                    Some(item) => return Some((item, (days, started, start))),
                    None => {
                        started.pop_front();
                    }
                }
            }
        },
    ))
}

/// Drives `rows` on a task of its own, at most [`READ_AHEAD_BATCHES`] ahead of the reader.
/// Stops at the first error, or when the reader drops the stream. A producer that panics
/// ends the stream with an error, never early and silently. Needs a Tokio runtime.
fn read_ahead(rows: BatchStream, day: UtcDay) -> BatchStream {
    let (tx, rx) = tokio::sync::mpsc::channel(READ_AHEAD_BATCHES);
    let producer = tokio::spawn(async move {
        let mut rows = rows;
        while let Some(item) = rows.next().await {
            let failed = item.is_err();
            if tx.send(item).await.is_err() || failed {
                break;
            }
        }
    });
    Box::pin(stream::unfold(
        (rx, Some(producer)),
        move |(mut rx, producer)| async move {
            if let Some(item) = rx.recv().await {
                return Some((item, (rx, producer)));
            }
            // The channel closed: the producer is done; a panic is the day's error.
            let failure = producer?.await.err()?;
            let error = Error::io(
                format!("the scan of {day}"),
                std::io::Error::other(failure.to_string()),
            );
            Some((Err(error), (rx, None)))
        },
    ))
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

#[cfg(test)]
mod tests {
    use arrow::array::RecordBatch;
    use futures::TryStreamExt;

    use super::*;
    use crate::store::test_batches::{given_ts, ts_batch as batch};

    #[tokio::test]
    async fn a_day_read_ahead_gives_its_batches_then_a_panic_as_an_error() {
        let day = UtcDay::from_days_since_epoch(20_000);
        let rows: BatchStream = Box::pin(stream::iter([Ok(batch(&[1])), Ok(batch(&[2]))]));
        let out: Vec<RecordBatch> = read_ahead(rows, day).try_collect().await.expect("rows");
        assert_eq!(given_ts(out), [1, 2]);

        let panics: BatchStream = Box::pin(stream::iter([1u64, 2]).map(|t| match t {
            1 => Ok(batch(&[1])),
            _ => panic!("a decoder bug"),
        }));
        let out: Vec<Result<RecordBatch>> = read_ahead(panics, day).collect().await;
        assert_eq!(
            out.len(),
            2,
            "the batch before the panic, then the panic's error"
        );
        assert!(out[0].is_ok());
        let error = out[1]
            .as_ref()
            .expect_err("the panic ends the day with an error");
        assert!(error.to_string().contains("a decoder bug"), "{error}");
    }

    /// The days ahead are started (their producers running) before the first day is read
    /// through, and the rows still come day after day, in order.
    #[tokio::test]
    async fn days_ahead_starts_the_next_days_before_the_first_is_read() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let started = Arc::new(AtomicUsize::new(0));
        let days = (0..5u32).map(|i| (UtcDay::from_days_since_epoch(20_000 + i), u64::from(i)));
        let counter = started.clone();
        let mut rows = days_ahead(days, 3, move |day, i| {
            counter.fetch_add(1, Ordering::SeqCst);
            read_ahead(
                Box::pin(stream::iter([
                    Ok(batch(&[i * 10])),
                    Ok(batch(&[i * 10 + 1])),
                ])),
                day,
            )
        });
        let first = rows.next().await.expect("a batch").expect("rows");
        assert_eq!(given_ts(vec![first]), [0]);
        assert_eq!(
            started.load(Ordering::SeqCst),
            3,
            "three days started at the first batch"
        );
        let rest: Vec<RecordBatch> = rows.try_collect().await.expect("rows");
        assert_eq!(given_ts(rest), [1, 10, 11, 20, 21, 30, 31, 40, 41]);
        assert_eq!(started.load(Ordering::SeqCst), 5);
    }
}
