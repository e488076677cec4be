//! K-way merge of sorted streams, holding one batch per stream, that keeps each identity
//! `(session_id, seq)` once and fails on two different events with one identity.

use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::interleave_record_batch;
use arrow::datatypes::{SchemaRef, UInt64Type};
use arrow::row::{RowConverter, Rows, SortField};
use futures::{StreamExt, stream};
use kaizen_core::Field;

use crate::codec::{BATCH_BYTES, rows_within, slice_bytes};
use crate::event_store::BatchStream;
use crate::{Error, Result};

/// Identity maps are looked up once a row: a fast hasher (no untrusted keys of an attacker
/// choosing reach a scan's private map).
use crate::FastMap as HashMap;

/// One sorted input, named by the file it reads.
pub(crate) struct MergeInput {
    pub path: String,
    pub stream: BatchStream,
}

/// Merges inputs whose batches all have `schema` (which holds the key columns). With
/// `distinct`, the inputs are known to hold each identity once among them all (files of one
/// identity group): rows are only ordered, not checked.
pub(crate) fn merge_sorted(
    inputs: Vec<MergeInput>,
    schema: SchemaRef,
    batch_rows: usize,
    distinct: bool,
) -> BatchStream {
    let merger = match Merger::new(inputs, schema, batch_rows, distinct) {
        Ok(merger) => merger,
        Err(e) => return Box::pin(stream::once(async { Err(e) })),
    };
    Box::pin(stream::try_unfold(merger, |mut m| async move {
        Ok(m.next_batch().await?.map(|batch| (batch, m)))
    }))
}

/// A batch with its sort keys as comparable rows.
struct Loaded {
    batch: RecordBatch,
    keys: Rows,
}

struct Cursor {
    input: MergeInput,
    current: Option<Arc<Loaded>>,
    pos: usize,
    /// Index of `current` in the merger's `pending_batches`.
    slot: usize,
    done: bool,
}

impl Cursor {
    fn has_row(&self) -> bool {
        self.current
            .as_ref()
            .is_some_and(|c| self.pos < c.batch.num_rows())
    }
}

struct Merger {
    cursors: Vec<Cursor>,
    converter: RowConverter,
    schema: SchemaRef,
    /// Column positions of ts_ms, session_id, seq, payload (payload may be absent).
    ts: usize,
    session: usize,
    seq: usize,
    payload: Option<usize>,
    batch_rows: usize,
    /// Batches that rows picked for the next output batch point into.
    pending_batches: Vec<Arc<Loaded>>,
    picked: Vec<(usize, usize)>,
    /// The bytes of the rows picked (copies dropped included).
    picked_bytes: usize,
    /// The last row kept, to recognise the next copy of the same event.
    last: Option<(Arc<Loaded>, usize, usize)>,
    /// Identity → (ts_ms, cursor) of every event kept: finds one identity at two times.
    session_ids: HashMap<String, u32>,
    seen: HashMap<(u32, u64), (u64, usize)>,
    /// Each identity is in one input at most, once: no copies to drop, no conflicts.
    distinct: bool,
}

impl Merger {
    fn new(
        inputs: Vec<MergeInput>,
        schema: SchemaRef,
        batch_rows: usize,
        distinct: bool,
    ) -> Result<Self> {
        let index = |f: Field| {
            schema
                .index_of(f.name())
                .map_err(|_| Error::column("merge", f.name(), "missing"))
        };
        let (ts, session, seq) = (
            index(Field::TsMs)?,
            index(Field::SessionId)?,
            index(Field::Seq)?,
        );
        let converter = RowConverter::new(
            [ts, session, seq]
                .iter()
                .map(|&i| SortField::new(schema.field(i).data_type().clone()))
                .collect(),
        )
        .map_err(|e| Error::arrow("merge", e))?;
        Ok(Merger {
            cursors: inputs
                .into_iter()
                .map(|input| Cursor {
                    input,
                    current: None,
                    pos: 0,
                    slot: 0,
                    done: false,
                })
                .collect(),
            converter,
            payload: schema.index_of(Field::Payload.name()).ok(),
            schema,
            ts,
            session,
            seq,
            batch_rows,
            pending_batches: Vec::new(),
            picked: Vec::new(),
            picked_bytes: 0,
            last: None,
            session_ids: HashMap::default(),
            seen: HashMap::default(),
            distinct,
        })
    }

    async fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        loop {
            for i in 0..self.cursors.len() {
                self.fill(i).await?;
            }
            let Some((i, end)) = self.next_run() else {
                break;
            };
            let cursor = &mut self.cursors[i];
            let (loaded, start, slot) = (cursor.current.clone(), cursor.pos, cursor.slot);
            let rows_left = (self.batch_rows - self.picked.len()).max(1);
            let Some(loaded) = loaded else {
                cursor.pos = end;
                continue;
            };
            // Closed by bytes as well as rows: rows can be megabytes.
            let budget = BATCH_BYTES.saturating_sub(self.picked_bytes);
            let end =
                start + rows_within(&loaded.batch, start, budget, (end - start).min(rows_left));
            cursor.pos = end;
            self.picked_bytes += slice_bytes(&loaded.batch, start, end);
            for row in start..end {
                self.take(i, loaded.clone(), row, slot)?;
            }
            if self.picked.len() >= self.batch_rows || self.picked_bytes >= BATCH_BYTES {
                return self.flush().map(Some);
            }
        }
        match self.picked.is_empty() {
            true => Ok(None),
            false => self.flush().map(Some),
        }
    }

    /// Loads the cursor's next non-empty batch once its current one is used up.
    async fn fill(&mut self, i: usize) -> Result<()> {
        let cursor = &mut self.cursors[i];
        while !cursor.done && !cursor.has_row() {
            match cursor.input.stream.next().await {
                None => {
                    cursor.done = true;
                    cursor.current = None;
                }
                Some(batch) => {
                    let batch = batch?;
                    if batch.num_rows() == 0 {
                        continue;
                    }
                    let key = [self.ts, self.session, self.seq].map(|c| batch.column(c).clone());
                    let keys = self
                        .converter
                        .convert_columns(&key)
                        .map_err(|e| Error::arrow(&cursor.input.path, e))?;
                    let loaded = Arc::new(Loaded { batch, keys });
                    cursor.slot = self.pending_batches.len();
                    self.pending_batches.push(loaded.clone());
                    cursor.current = Some(loaded);
                    cursor.pos = 0;
                }
            }
        }
        Ok(())
    }

    /// The cursor holding the smallest key, and the end of its run of rows that come before
    /// every other cursor's next row: those are taken in one go (all of a batch when files
    /// do not overlap). A key equal to another cursor's ends the run, so that copies of one
    /// event are taken one after the other.
    fn next_run(&self) -> Option<(usize, usize)> {
        let mut best: Option<(usize, arrow::row::Row<'_>)> = None;
        let mut second: Option<arrow::row::Row<'_>> = None;
        for (i, cursor) in self.cursors.iter().enumerate() {
            let Some(loaded) = cursor.current.as_ref().filter(|_| cursor.has_row()) else {
                continue;
            };
            let key = loaded.keys.row(cursor.pos);
            match &best {
                Some((_, b)) if key >= *b => {
                    if second.as_ref().is_none_or(|s| key < *s) {
                        second = Some(key);
                    }
                }
                _ => {
                    second = best.map(|(_, b)| b);
                    best = Some((i, key));
                }
            }
        }
        let (i, _) = best?;
        let cursor = &self.cursors[i];
        let loaded = cursor.current.as_ref()?;
        let rows = loaded.batch.num_rows();
        let mut end = cursor.pos + 1;
        while end < rows && second.as_ref().is_none_or(|s| loaded.keys.row(end) < *s) {
            end += 1;
        }
        Some((i, end))
    }

    fn take(&mut self, cursor: usize, loaded: Arc<Loaded>, row: usize, slot: usize) -> Result<()> {
        if self.distinct {
            self.picked.push((slot, row));
            return Ok(());
        }
        if let Some((last, last_row, last_cursor)) = &self.last
            && last.keys.row(*last_row) == loaded.keys.row(row)
        {
            if self.same_event(&last.batch, *last_row, &loaded.batch, row) {
                return Ok(()); // the same event stored twice: keep it once
            }
            return Err(self.conflict(&loaded.batch, row, *last_cursor, cursor));
        }
        let session = loaded
            .batch
            .column(self.session)
            .as_string::<i32>()
            .value(row);
        let seq = loaded
            .batch
            .column(self.seq)
            .as_primitive::<UInt64Type>()
            .value(row);
        let ts = loaded
            .batch
            .column(self.ts)
            .as_primitive::<UInt64Type>()
            .value(row);
        let next_id = self.session_ids.len() as u32;
        let id = match self.session_ids.get(session) {
            Some(&id) => id,
            None => *self
                .session_ids
                .entry(session.to_owned())
                .or_insert(next_id),
        };
        if let Some((_, earlier)) = self.seen.insert((id, seq), (ts, cursor)) {
            return Err(self.conflict(&loaded.batch, row, earlier, cursor));
        }
        self.picked.push((slot, row));
        self.last = Some((loaded, row, cursor));
        Ok(())
    }

    fn conflict(&self, batch: &RecordBatch, row: usize, first: usize, second: usize) -> Error {
        Error::Conflict {
            session_id: batch
                .column(self.session)
                .as_string::<i32>()
                .value(row)
                .to_owned(),
            seq: batch
                .column(self.seq)
                .as_primitive::<UInt64Type>()
                .value(row),
            first: self.cursors[first].input.path.clone(),
            second: self.cursors[second].input.path.clone(),
        }
    }

    /// Equal in every column read; payloads equal as JSON values (whitespace aside).
    fn same_event(&self, a: &RecordBatch, i: usize, b: &RecordBatch, j: usize) -> bool {
        (0..self.schema.fields().len()).all(|c| {
            let (x, y) = (a.column(c), b.column(c));
            if Some(c) == self.payload && x.is_valid(i) && y.is_valid(j) {
                let (x, y) = (x.as_string::<i32>().value(i), y.as_string::<i32>().value(j));
                return kaizen_core::same_json(x, y);
            }
            x.slice(i, 1).to_data() == y.slice(j, 1).to_data()
        })
    }

    fn flush(&mut self) -> Result<RecordBatch> {
        let batches: Vec<&RecordBatch> = self.pending_batches.iter().map(|l| &l.batch).collect();
        let out = interleave_record_batch(&batches, &self.picked)
            .map_err(|e| Error::arrow("merge", e))?;
        self.picked.clear();
        self.picked_bytes = 0;
        self.pending_batches.clear();
        for cursor in &mut self.cursors {
            if let Some(current) = &cursor.current {
                cursor.slot = self.pending_batches.len();
                self.pending_batches.push(current.clone());
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use futures::TryStreamExt;
    use kaizen_core::{Event, EventKind, EventSource};

    use super::*;
    use crate::codec::{batch_to_events, event_schema, events_to_batch};

    /// A deterministic stream of pseudo-random numbers (no test depends on a seed's luck).
    struct Lcg(u64);

    impl Lcg {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) % n
        }
    }

    fn input(path: &str, mut events: Vec<Event>, batch_rows: usize) -> MergeInput {
        events.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        let batches: Vec<Result<RecordBatch>> = events
            .chunks(batch_rows)
            .map(|chunk| Ok(events_to_batch(chunk)))
            .collect();
        MergeInput {
            path: path.to_owned(),
            stream: Box::pin(stream::iter(batches)),
        }
    }

    async fn merged(inputs: Vec<MergeInput>) -> Result<Vec<Event>> {
        merged_as(inputs, false).await
    }

    async fn merged_as(inputs: Vec<MergeInput>, distinct: bool) -> Result<Vec<Event>> {
        let batches: Vec<RecordBatch> = merge_sorted(inputs, event_schema(), 7, distinct)
            .try_collect()
            .await?;
        let mut events = Vec::new();
        for batch in &batches {
            events.extend(batch_to_events(batch, "merged")?);
        }
        Ok(events)
    }

    #[tokio::test]
    async fn output_batches_are_closed_by_bytes_as_well_as_rows() {
        // Rows of 3 MiB from two files taking turns: 8192 rows a batch would hold them all.
        let big = |seq: u64| {
            let mut e = Event::new(
                "s",
                seq,
                1_000 + seq,
                EventKind::ToolResult,
                EventSource::Tail,
            );
            let text = format!("\"{}\"", "x".repeat(3 << 20));
            e.payload = kaizen_core::Payload::from_json_text(text).expect("json");
            e
        };
        let (even, odd): (Vec<Event>, Vec<Event>) = (0..12).map(big).partition(|e| e.seq % 2 == 0);
        let inputs = vec![input("a", even, 2), input("b", odd, 2)];
        let batches: Vec<RecordBatch> = merge_sorted(inputs, event_schema(), 8192, false)
            .try_collect()
            .await
            .expect("merge");
        let rows: Vec<usize> = batches.iter().map(|b| b.num_rows()).collect();
        // Two rows fit in BATCH_BYTES, a third goes over and closes the batch.
        assert_eq!(rows, [3, 3, 3, 3], "{rows:?}");
        let mut seqs = Vec::new();
        for batch in &batches {
            seqs.extend(
                batch_to_events(batch, "merged")
                    .expect("events")
                    .iter()
                    .map(|e| e.seq),
            );
        }
        assert_eq!(seqs, (0..12).collect::<Vec<u64>>());
    }

    #[tokio::test]
    async fn runs_overlapping_disjoint_and_duplicated_merge_into_each_event_once() {
        let mut rng = Lcg(7);
        for case in 0..200 {
            let files = 1 + rng.below(4) as usize;
            let events: Vec<Event> = (0..rng.below(60))
                .map(|i| {
                    let session = format!("s{}", rng.below(3));
                    // Few distinct times: equal ts_ms across sessions and files.
                    let ts = 1_000 + rng.below(20) + if case % 2 == 0 { i * 10 } else { 0 };
                    Event::new(session, i, ts, EventKind::Message, EventSource::Tail)
                })
                .collect();
            let mut split: Vec<Vec<Event>> = vec![Vec::new(); files];
            for e in &events {
                let home = rng.below(files as u64) as usize;
                split[home].push(e.clone());
                if rng.below(4) == 0 {
                    // A copy in another file: stored twice, read once.
                    split[rng.below(files as u64) as usize].push(e.clone());
                }
            }
            let inputs = (split.into_iter().enumerate())
                .map(|(i, evs)| input(&format!("f{i}"), evs, 1 + case % 5))
                .collect();
            let mut want = events.clone();
            want.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
            assert_eq!(merged(inputs).await.expect("merge"), want, "case {case}");
        }
    }

    #[tokio::test]
    async fn distinct_inputs_overlapping_in_time_come_out_in_key_order() {
        let mut rng = Lcg(11);
        let events: Vec<Event> = (0..300)
            .map(|i| {
                let session = format!("s{}", rng.below(4));
                let ts = 1_000 + rng.below(40);
                Event::new(session, i, ts, EventKind::Message, EventSource::Tail)
            })
            .collect();
        let mut split: Vec<Vec<Event>> = vec![Vec::new(); 3];
        for e in &events {
            split[rng.below(3) as usize].push(e.clone());
        }
        let inputs = (split.into_iter().enumerate())
            .map(|(i, evs)| input(&format!("f{i}"), evs, 1 + i * 4))
            .collect();
        let mut want = events;
        want.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        assert_eq!(merged_as(inputs, true).await.expect("merge"), want);
    }

    #[tokio::test]
    async fn one_identity_at_two_times_in_two_files_is_a_conflict() {
        let a = Event::new("s", 1, 1_000, EventKind::Message, EventSource::Tail);
        let b = Event::new("s", 1, 5_000, EventKind::Message, EventSource::Tail);
        let filler = |ts| Event::new("t", ts, ts, EventKind::Message, EventSource::Tail);
        let inputs = vec![
            input("first", vec![a, filler(2_000)], 1),
            input("second", vec![filler(3_000), b], 1),
        ];
        let err = merged(inputs).await.expect_err("conflict");
        assert!(matches!(err, Error::Conflict { .. }), "{err}");
    }
}
