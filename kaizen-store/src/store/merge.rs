//! K-way merge of sorted streams, holding one batch per stream, that keeps each identity
//! `(session_id, seq)` once and fails on two different events with one identity.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::interleave_record_batch;
use arrow::datatypes::{SchemaRef, UInt64Type};
use arrow::row::{RowConverter, Rows, SortField};
use futures::{StreamExt, stream};
use kaizen_core::Field;

use crate::event_store::BatchStream;
use crate::{Error, Result};

/// One sorted input, named by the file it reads.
pub(crate) struct MergeInput {
    pub path: String,
    pub stream: BatchStream,
}

/// Merges inputs whose batches all have `schema` (which holds the key columns).
pub(crate) fn merge_sorted(
    inputs: Vec<MergeInput>,
    schema: SchemaRef,
    batch_rows: usize,
) -> BatchStream {
    let merger = match Merger::new(inputs, schema, batch_rows) {
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
    /// The last row kept, to recognise the next copy of the same event.
    last: Option<(Arc<Loaded>, usize, usize)>,
    /// Identity → (ts_ms, cursor) of every event kept: finds one identity at two times.
    session_ids: HashMap<String, u32>,
    seen: HashMap<(u32, u64), (u64, usize)>,
}

impl Merger {
    fn new(inputs: Vec<MergeInput>, schema: SchemaRef, batch_rows: usize) -> Result<Self> {
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
            last: None,
            session_ids: HashMap::new(),
            seen: HashMap::new(),
        })
    }

    async fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        loop {
            for i in 0..self.cursors.len() {
                self.fill(i).await?;
            }
            let Some(i) = self.min_cursor() else {
                break;
            };
            let cursor = &mut self.cursors[i];
            let (loaded, row, slot) = (cursor.current.clone(), cursor.pos, cursor.slot);
            cursor.pos += 1;
            if let Some(loaded) = loaded {
                self.take(i, loaded, row, slot)?;
            }
            if self.picked.len() >= self.batch_rows {
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

    fn min_cursor(&self) -> Option<usize> {
        let mut best: Option<(usize, arrow::row::Row<'_>)> = None;
        for (i, cursor) in self.cursors.iter().enumerate() {
            let Some(loaded) = cursor.current.as_ref().filter(|_| cursor.has_row()) else {
                continue;
            };
            let key = loaded.keys.row(cursor.pos);
            if best.as_ref().is_none_or(|(_, b)| key < *b) {
                best = Some((i, key));
            }
        }
        best.map(|(i, _)| i)
    }

    fn take(&mut self, cursor: usize, loaded: Arc<Loaded>, row: usize, slot: usize) -> Result<()> {
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
