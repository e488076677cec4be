//! `kaizen_latency_percentiles(latency_ms)`: a group's p50 and p95 latency, exact, as a
//! struct `{p50, p95}` of BIGINT milliseconds (NULL for a group without latencies).
//!
//! DataFusion's `percentile_cont` keeps every value of a group until the end, 8 bytes an
//! event of the window. This keeps how many times each distinct latency came (see
//! [`Histogram`]), so memory grows with the distinct milliseconds of a group, not with its
//! events, and both quantiles come from one table. The figures are
//! `CAST(percentile_cont(q) WITHIN GROUP (ORDER BY latency_ms) AS BIGINT)`'s to the
//! millisecond: the same interpolation between the two nearest ranks
//! (`datafusion-functions-aggregate` 55, `percentile_cont.rs`), then truncated.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Int64Array, ListArray, StructArray, UInt32Array,
    UInt64Array,
};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, Field, FieldRef, Fields, UInt32Type, UInt64Type};
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, GroupsAccumulator, Signature, Volatility,
};
use datafusion::scalar::ScalarValue;

/// The SQL name of [`LatencyPercentiles`].
pub const LATENCY_PERCENTILES: &str = "kaizen_latency_percentiles";

/// The quantiles, with their field names in the result.
const QUANTILES: [(&str, f64); 2] = [("p50", 0.5), ("p95", 0.95)];

/// `percentile_cont`'s interpolation weight is rounded down to millionths.
const INTERPOLATION_PRECISION: f64 = 1_000_000.0;

/// The aggregate function (see the module's documentation).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct LatencyPercentiles {
    signature: Signature,
}

impl LatencyPercentiles {
    /// The function, to register with a session.
    pub fn udaf() -> AggregateUDF {
        AggregateUDF::new_from_impl(LatencyPercentiles {
            signature: Signature::exact(vec![DataType::UInt32], Volatility::Immutable),
        })
    }
}

fn result_fields() -> Fields {
    QUANTILES
        .iter()
        .map(|(name, _)| Field::new(*name, DataType::Int64, true))
        .collect()
}

impl AggregateUDFImpl for LatencyPercentiles {
    fn name(&self) -> &str {
        LATENCY_PERCENTILES
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Struct(result_fields()))
    }

    /// The partial state of a group: its distinct latencies and how many times each came.
    fn state_fields(&self, args: StateFieldsArgs) -> DfResult<Vec<FieldRef>> {
        let list = |name: &str, item: DataType| {
            let item = Arc::new(Field::new_list_field(item, false));
            Arc::new(Field::new(
                format!("{}[{name}]", args.name),
                DataType::List(item),
                true,
            ))
        };
        Ok(vec![
            list("latencies", DataType::UInt32),
            list("counts", DataType::UInt64),
        ])
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> DfResult<Box<dyn Accumulator>> {
        Ok(Box::new(OneGroup(Groups::default())))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        _args: AccumulatorArgs,
    ) -> DfResult<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(Groups::default()))
    }
}

/// Latencies taken before they are counted in, at least.
const MIN_PENDING: usize = 1024;

/// How many times each latency came in one group: the distinct latencies in order with
/// their counts (`values`, `counts`: 8 bytes a distinct latency; a count that would pass
/// `u32::MAX` goes on in another run of the same value), and the latencies taken since
/// (`pending`, 4 bytes each), counted in (sorted and merged) whenever they are as many as
/// the runs. So a group costs at most about 12 bytes a distinct latency however many events
/// it has, and no more than `percentile_cont`'s 8 bytes an event when nearly all differ.
#[derive(Debug, Default)]
struct Histogram {
    values: Vec<u32>,
    counts: Vec<u32>,
    pending: Vec<u32>,
}

impl Histogram {
    fn add(&mut self, latency: u32) {
        self.pending.push(latency);
        if self.pending.len() >= self.values.len().max(MIN_PENDING) {
            self.count_pending();
        }
    }

    /// Counts `pending` into the runs.
    fn count_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let mut pending = std::mem::take(&mut self.pending);
        pending.sort_unstable();
        let runs = pending
            .chunk_by(|a, b| a == b)
            .map(|r| (r[0], r.len() as u64));
        self.merge(runs, pending.len());
        pending.clear();
        self.pending = pending;
    }

    /// Merges `incoming` (latencies in order, each with how many times it came; at most
    /// `most` of them) into the runs.
    fn merge(&mut self, incoming: impl Iterator<Item = (u32, u64)>, most: usize) {
        let (values, counts) = (
            std::mem::take(&mut self.values),
            std::mem::take(&mut self.counts),
        );
        let mut ours = values
            .iter()
            .copied()
            .zip(counts.iter().map(|&n| u64::from(n)));
        let mut theirs = incoming.peekable();
        let mut next_ours = ours.next();
        // Exactly what the runs can come to: growing by doubling would hold up to twice it.
        self.values.reserve_exact(values.len() + most);
        self.counts.reserve_exact(values.len() + most);
        loop {
            let (value, times) = match (next_ours, theirs.peek().copied()) {
                (Some(a), Some(b)) if b.0 < a.0 => {
                    theirs.next();
                    b
                }
                (Some(a), _) => {
                    next_ours = ours.next();
                    a
                }
                (None, Some(b)) => {
                    theirs.next();
                    b
                }
                (None, None) => break,
            };
            self.push_run(value, times);
        }
    }

    /// Adds `times` of `value`, at or after the last run's value.
    fn push_run(&mut self, value: u32, mut times: u64) {
        if self.values.last() == Some(&value)
            && let Some(last) = self.counts.last_mut()
        {
            let take = times.min(u64::from(u32::MAX - *last));
            *last += take as u32;
            times -= take;
        }
        while times > 0 {
            let take = times.min(u64::from(u32::MAX));
            self.values.push(value);
            self.counts.push(take as u32);
            times -= take;
        }
    }

    /// The quantiles of [`QUANTILES`], NULL for no latency.
    fn quantiles(&mut self) -> [Option<i64>; 2] {
        self.count_pending();
        let n: u64 = self.counts.iter().map(|&c| u64::from(c)).sum();
        QUANTILES.map(|(_, q)| (n > 0).then(|| percentile_cont(&self.values, &self.counts, n, q)))
    }

    fn bytes(&self) -> usize {
        (self.values.capacity() + self.counts.capacity() + self.pending.capacity())
            * size_of::<u32>()
    }
}

/// `percentile_cont(q)` over `n > 0` latencies given in order as `values`, each `counts`
/// times, truncated to an integer as `CAST(… AS BIGINT)` does.
fn percentile_cont(values: &[u32], counts: &[u32], n: u64, q: f64) -> i64 {
    // The value of rank `i` (from 0) in order.
    let nth = |i: u64| -> f64 {
        let mut below = 0;
        for (&value, &times) in values.iter().zip(counts) {
            below += u64::from(times);
            if i < below {
                return f64::from(value);
            }
        }
        values.last().map_or(0.0, |&value| f64::from(value))
    };
    if n == 1 {
        return nth(0) as i64;
    }
    let index = q * ((n - 1) as f64);
    let (lower, upper) = (index.floor() as u64, index.ceil() as u64);
    if lower == upper {
        return nth(lower) as i64;
    }
    let fraction = index - lower as f64;
    let weight = ((fraction * INTERPOLATION_PRECISION) as u64) as f64 / INTERPOLATION_PRECISION;
    let (low, high) = (nth(lower), nth(upper));
    (low + (high - low) * weight) as i64
}

/// The histograms of every group.
#[derive(Debug, Default)]
struct Groups(Vec<Histogram>);

impl Groups {
    fn grow(&mut self, total_num_groups: usize) {
        if self.0.len() < total_num_groups {
            self.0.resize_with(total_num_groups, Histogram::default);
        }
    }

    fn result(groups: &mut [Histogram]) -> StructArray {
        let quantiles: Vec<[Option<i64>; 2]> =
            groups.iter_mut().map(Histogram::quantiles).collect();
        let columns: Vec<ArrayRef> = (0..QUANTILES.len())
            .map(|i| Arc::new(quantiles.iter().map(|q| q[i]).collect::<Int64Array>()) as ArrayRef)
            .collect();
        StructArray::new(result_fields(), columns, None)
    }

    /// Each group's runs, as a list of latencies and a list of their counts.
    fn states(groups: &mut [Histogram]) -> Vec<ArrayRef> {
        groups.iter_mut().for_each(Histogram::count_pending);
        let offsets = OffsetBuffer::<i32>::from_lengths(groups.iter().map(|h| h.values.len()));
        let latencies: UInt32Array = groups
            .iter()
            .flat_map(|h| h.values.iter().copied())
            .collect();
        let counts: UInt64Array = (groups.iter())
            .flat_map(|h| h.counts.iter().map(|&c| u64::from(c)))
            .collect();
        state_arrays(offsets, latencies, counts)
    }
}

/// The state columns (see `state_fields`): per group, its latencies and their counts.
fn state_arrays(
    offsets: OffsetBuffer<i32>,
    latencies: UInt32Array,
    counts: UInt64Array,
) -> Vec<ArrayRef> {
    let list = |values: ArrayRef, item: DataType| -> ArrayRef {
        let field = Arc::new(Field::new_list_field(item, false));
        Arc::new(ListArray::new(field, offsets.clone(), values, None))
    };
    vec![
        list(Arc::new(latencies), DataType::UInt32),
        list(Arc::new(counts), DataType::UInt64),
    ]
}

/// The argument's latencies, and whether row `row` counts: a latency, not filtered out.
fn latencies_of<'a>(
    values: &'a [ArrayRef],
    opt_filter: Option<&'a BooleanArray>,
) -> DfResult<(&'a UInt32Array, impl Fn(usize) -> bool + 'a)> {
    let Some(latencies) = values.first() else {
        return Err(DataFusionError::Internal(format!(
            "{LATENCY_PERCENTILES} takes one argument (latency_ms)"
        )));
    };
    let latencies = latencies.as_primitive::<UInt32Type>();
    let counts = move |row: usize| {
        latencies.is_valid(row) && opt_filter.is_none_or(|f| f.is_valid(row) && f.value(row))
    };
    Ok((latencies, counts))
}

fn state_lists(values: &[ArrayRef]) -> DfResult<(&ListArray, &ListArray)> {
    match values {
        [latencies, counts] => Ok((latencies.as_list::<i32>(), counts.as_list::<i32>())),
        _ => Err(DataFusionError::Internal(format!(
            "{LATENCY_PERCENTILES}: a state of {} columns, not 2",
            values.len()
        ))),
    }
}

impl GroupsAccumulator for Groups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> DfResult<()> {
        self.grow(total_num_groups);
        let (latencies, counts) = latencies_of(values, opt_filter)?;
        for (row, &group) in group_indices.iter().enumerate() {
            if counts(row) {
                self.0[group].add(latencies.value(row));
            }
        }
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> DfResult<ArrayRef> {
        Ok(Arc::new(Self::result(
            &mut emit_to.take_needed(&mut self.0),
        )))
    }

    fn state(&mut self, emit_to: EmitTo) -> DfResult<Vec<ArrayRef>> {
        Ok(Self::states(&mut emit_to.take_needed(&mut self.0)))
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> DfResult<()> {
        self.grow(total_num_groups);
        let (latencies, counts) = state_lists(values)?;
        for (row, &group) in group_indices.iter().enumerate() {
            if latencies.is_null(row) || counts.is_null(row) {
                continue;
            }
            let (l, c) = (latencies.value(row), counts.value(row));
            let (l, c) = (
                l.as_primitive::<UInt32Type>(),
                c.as_primitive::<UInt64Type>(),
            );
            let mut runs: Vec<(u32, u64)> = (l.values().iter().copied())
                .zip(c.values().iter().copied())
                .collect();
            // States are written in order; one that is not is put in order, not trusted.
            if !runs.is_sorted_by_key(|r| r.0) {
                runs.sort_unstable_by_key(|r| r.0);
            }
            let most = runs.len();
            self.0[group].merge(runs.into_iter(), most);
        }
        Ok(())
    }

    /// Each row as the state of a group of its own: its latency once, or nothing. Built
    /// straight as arrays (DataFusion calls this on every row where groups are nearly all
    /// distinct, a session each).
    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> DfResult<Vec<ArrayRef>> {
        let (latencies, counts) = latencies_of(values, opt_filter)?;
        let rows = 0..latencies.len();
        let offsets =
            OffsetBuffer::<i32>::from_lengths(rows.clone().map(|r| usize::from(counts(r))));
        let kept: UInt32Array = rows
            .filter(|&r| counts(r))
            .map(|r| latencies.value(r))
            .collect();
        let ones = UInt64Array::from(vec![1; kept.len()]);
        Ok(state_arrays(offsets, kept, ones))
    }

    fn size(&self) -> usize {
        self.0.capacity() * size_of::<Histogram>()
            + self.0.iter().map(Histogram::bytes).sum::<usize>()
    }
}

/// The function without `GROUP BY`: one group.
#[derive(Debug)]
struct OneGroup(Groups);

impl OneGroup {
    fn zeros(rows: usize) -> Vec<usize> {
        vec![0; rows]
    }
}

impl Accumulator for OneGroup {
    fn update_batch(&mut self, values: &[ArrayRef]) -> DfResult<()> {
        let rows = values.first().map_or(0, |v| v.len());
        self.0.update_batch(values, &Self::zeros(rows), None, 1)
    }

    fn evaluate(&mut self) -> DfResult<ScalarValue> {
        self.0.grow(1);
        ScalarValue::try_from_array(&Groups::result(&mut self.0.0), 0)
    }

    fn size(&self) -> usize {
        size_of::<Self>() + self.0.size()
    }

    fn state(&mut self) -> DfResult<Vec<ScalarValue>> {
        self.0.grow(1);
        (Groups::states(&mut self.0.0).iter())
            .map(|column| ScalarValue::try_from_array(column, 0))
            .collect()
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> DfResult<()> {
        let rows = states.first().map_or(0, |v| v.len());
        GroupsAccumulator::merge_batch(&mut self.0, states, &Self::zeros(rows), 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// DataFusion's own `percentile_cont` over the same values, for the comparison.
    fn datafusion_percentile(values: &[u32], q: f64) -> Option<i64> {
        use datafusion::prelude::SessionContext;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let ctx = SessionContext::new();
            let column = UInt32Array::from(values.to_vec());
            let batch = arrow::record_batch::RecordBatch::try_from_iter([(
                "latency_ms",
                Arc::new(column) as ArrayRef,
            )])
            .expect("batch");
            ctx.register_batch("t", batch).expect("table");
            let sql = format!(
                "SELECT CAST(percentile_cont({q}) WITHIN GROUP (ORDER BY latency_ms) AS BIGINT) AS p FROM t"
            );
            let batches = ctx
                .sql(&sql)
                .await
                .expect("plan")
                .collect()
                .await
                .expect("run");
            let p = batches[0].column(0).as_primitive::<arrow::datatypes::Int64Type>();
            p.is_valid(0).then(|| p.value(0))
        })
    }

    fn ours(values: &[u32]) -> [Option<i64>; 2] {
        let mut histogram = Histogram::default();
        for &v in values {
            histogram.add(v);
        }
        histogram.quantiles()
    }

    #[test]
    fn equal_to_datafusions_percentile_cont() {
        let cases: Vec<Vec<u32>> = vec![
            vec![7],
            vec![1, 2],
            vec![10, 10, 10, 3],
            (0..1000).map(|i| (i * 7919) % 1013).collect(),
            (0..37).map(|i| i * i).collect(),
            vec![u32::MAX, 0, u32::MAX, 5],
            // Several rounds of pending latencies counted in.
            (0..5000).map(|i| (i * 48271) % 3001).collect(),
            (0..5000).map(|i| 5000 - i).collect(),
        ];
        for values in cases {
            let expected = QUANTILES.map(|(_, q)| datafusion_percentile(&values, q));
            assert_eq!(ours(&values), expected, "{values:?}");
        }
        assert_eq!(ours(&[]), [None, None]);
    }

    /// Rows turned into states one by one (what DataFusion does where groups are nearly
    /// all distinct), then merged: the figures of the rows that count (a latency, not
    /// filtered out).
    #[test]
    fn rows_as_states_merge_into_the_same_figures() {
        let latencies: ArrayRef = Arc::new(UInt32Array::from(vec![
            Some(30),
            None,
            Some(10),
            Some(99),
            Some(20),
        ]));
        let filter =
            BooleanArray::from(vec![Some(true), Some(true), Some(true), Some(false), None]);
        let states = Groups::default()
            .convert_to_state(&[latencies], Some(&filter))
            .expect("states");
        let mut merged = Groups::default();
        merged.merge_batch(&states, &[0; 5], 1).expect("merge");
        let got = merged.evaluate(EmitTo::All).expect("evaluate");
        let got = got.as_struct();
        let p50 = got.column(0).as_primitive::<arrow::datatypes::Int64Type>();
        assert_eq!(Some(p50.value(0)), ours(&[30, 10])[0]);
    }

    /// A count past `u32::MAX` goes on in another run of the same latency.
    #[test]
    fn counts_past_u32_go_on_in_another_run() {
        let mut h = Histogram::default();
        let many = u64::from(u32::MAX) + 10;
        h.merge([(5, many), (9, 1)].into_iter(), 2);
        h.merge([(5, 7)].into_iter(), 1);
        assert_eq!(h.values, [5, 5, 9]);
        assert_eq!(h.counts, [u32::MAX, 17, 1]);
        assert_eq!(h.quantiles(), [Some(5), Some(5)]);
    }

    #[test]
    fn partial_states_merge_into_the_same_figures() {
        let values: Vec<u32> = (0..500).map(|i| (i * 31) % 97).collect();
        let (left, right) = values.split_at(200);
        let mut parts = Groups::default();
        for (group, part) in [left, right].into_iter().enumerate() {
            let column: ArrayRef = Arc::new(UInt32Array::from(part.to_vec()));
            parts
                .update_batch(&[column], &vec![group; part.len()], None, 2)
                .expect("update");
        }
        let states = parts.state(EmitTo::All).expect("state");
        let mut merged = Groups::default();
        merged.merge_batch(&states, &[0, 0], 1).expect("merge");
        let got = merged.evaluate(EmitTo::All).expect("evaluate");
        let got = got.as_struct();
        let p50 = got.column(0).as_primitive::<arrow::datatypes::Int64Type>();
        let p95 = got.column(1).as_primitive::<arrow::datatypes::Int64Type>();
        assert_eq!([Some(p50.value(0)), Some(p95.value(0))], ours(&values));
    }
}
