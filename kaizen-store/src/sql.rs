//! SQL over stores with DataFusion: a table of the 22 event columns plus `day` (the UTC day,
//! as hive readers see the partition folder) and `store` (which store an event lives in).
//!
//! The table reads through [`EventStore::scan`], so it keeps the store's identity rule
//! (an event stored twice counts once), reads v1 files, works on every backend, and takes
//! what it can of a query's filters (time range and days, sessions, kinds) and projection
//! down into the scan: only the days in range are listed, only row groups in range read,
//! only the columns used decoded. Results stream.

mod json;

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Date32Array, RecordBatch, RecordBatchOptions, StringArray};
use arrow::compute::SortOptions;
use arrow::datatypes::{DataType, Field as ArrowField, Schema, SchemaRef, UInt64Type};
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{
    Between, BinaryExpr, Expr, Operator, TableProviderFilterPushDown, TableType,
};
use datafusion::physical_expr::expressions::col;
use datafusion::physical_expr::{LexOrdering, PhysicalSortExpr};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};
use datafusion::physical_plan::{ExecutionPlan, SendableRecordBatchStream};
use datafusion::prelude::{SessionConfig, SessionContext};
use futures::{StreamExt, TryStreamExt};
use kaizen_core::{EventKind, Field, UtcDay};

use crate::codec::file_schema;
use crate::{EventStore, IdentityLedger, Query, SkippedFiles, Store};

/// The partition column: the UTC day of `ts_ms`.
pub const DAY_COLUMN: &str = "day";
/// The store an event lives in (its name when several stores are one table).
pub const STORE_COLUMN: &str = "store";
const DAY_MS: u64 = 86_400_000;
/// SQL's `ORDER BY x` (the key has no nulls, but the planner matches the options exactly).
const ASC_NULLS_LAST: SortOptions = SortOptions {
    descending: false,
    nulls_first: false,
};

/// The table's schema: the 22 event columns, the 5 derived columns (`model`, `agent`,
/// `project`, `cache_creation_1h_tokens`, `tool_errors`), then `day` and `store`.
pub fn table_schema() -> SchemaRef {
    let mut fields: Vec<ArrowField> = file_schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(ArrowField::new(DAY_COLUMN, DataType::Date32, false));
    fields.push(ArrowField::new(STORE_COLUMN, DataType::Utf8, false));
    Arc::new(Schema::new(fields))
}

pub use json::{JSON_GET_TEXT, JsonGetText};

/// The DataFusion configuration of the sessions over stores for any SQL (`kaizen sql`,
/// [`session`], [`aggregate_session`]): DataFusion's defaults, but
/// partial aggregation is never skipped for groups that are nearly all distinct (the
/// skip converts each row to a partial state, and DataFusion 55.2's `percentile_cont`
/// then fails: "one argument to merge_batch", for a `GROUP BY session_id` over 300k
/// one-event sessions).
pub fn session_config() -> SessionConfig {
    let mut config = SessionConfig::new();
    config
        .options_mut()
        .execution
        .skip_partial_aggregation_probe_rows_threshold = usize::MAX;
    config
}

/// A DataFusion session with the stores registered as one table `events`, and
/// [`JsonGetText`] as `json_get_text`.
pub fn session(stores: Vec<(String, Store)>) -> DfResult<SessionContext> {
    let ctx = SessionContext::new_with_config(session_config());
    register(&ctx, "events", stores)?;
    Ok(ctx)
}

/// [`session`] with an [`EventsTable::unordered`] table: for queries that aggregate (a
/// report, stats), which need each event once and no order.
pub fn aggregate_session(stores: Vec<(String, Store)>) -> DfResult<SessionContext> {
    let ctx = SessionContext::new_with_config(session_config());
    ctx.register_table("events", Arc::new(EventsTable::new(stores).unordered()))?;
    register_functions(&ctx);
    Ok(ctx)
}

/// Registers `stores` (name, store) as one table in `ctx`, and the functions SQL over
/// events uses ([`JsonGetText`]).
pub fn register(ctx: &SessionContext, table: &str, stores: Vec<(String, Store)>) -> DfResult<()> {
    ctx.register_table(table, Arc::new(EventsTable::new(stores)))?;
    register_functions(ctx);
    Ok(())
}

/// Registers kaizen's SQL functions in `ctx`: [`JsonGetText`].
pub fn register_functions(ctx: &SessionContext) {
    ctx.register_udf(JsonGetText::udf());
}

/// One or more stores as a DataFusion table.
#[derive(Debug)]
pub struct EventsTable {
    stores: Vec<(String, Store)>,
    schema: SchemaRef,
    skip_corrupt: Option<SkippedFiles>,
    unordered: bool,
}

impl EventsTable {
    /// The table over `stores`, each named (its `store` column) by its given name.
    pub fn new(stores: Vec<(String, Store)>) -> Self {
        EventsTable {
            stores,
            schema: table_schema(),
            skip_corrupt: None,
            unordered: false,
        }
    }

    /// The table promises no row order (see [`Query::unordered`]): for aggregates, which
    /// then read a day of many files without merging them. `ORDER BY` still works (the
    /// plan sorts), at the cost of a sort instead of a merge.
    pub fn unordered(mut self) -> Self {
        self.unordered = true;
        self
    }

    /// Scans skip files that cannot be read, recording each in `log`, instead of failing.
    pub fn skip_corrupt(mut self, log: SkippedFiles) -> Self {
        self.skip_corrupt = Some(log);
        self
    }
}

#[async_trait]
impl TableProvider for EventsTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        // Exact where the scan keeps exactly the rows the filter does (a bare column against
        // literals): DataFusion then neither filters again nor computes `day` to do so.
        Ok(filters
            .iter()
            .map(|f| match narrow(&mut Query::all(), f) {
                true if on_bare_column(f) => TableProviderFilterPushDown::Exact,
                true => TableProviderFilterPushDown::Inexact,
                false => TableProviderFilterPushDown::Unsupported,
            })
            .collect())
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let mut query = Query::all();
        for filter in filters {
            narrow(&mut query, filter);
        }
        query.limit = limit;
        query.skip_corrupt = self.skip_corrupt.clone();
        query.unordered = self.unordered;
        // One ledger for every run of days: an identity on two days is found whichever
        // runs read them.
        query.identities = Some(IdentityLedger::default());
        let wanted: Vec<usize> = projection
            .cloned()
            .unwrap_or_else(|| (0..self.schema.fields().len()).collect());
        let schema = Arc::new(self.schema.project(&wanted)?);
        // The event columns to read: those asked for, ts_ms for `day`, at least one.
        let mut read: Vec<Field> = wanted
            .iter()
            .filter_map(|&i| Field::COLUMNS.get(i).copied())
            .collect();
        let needs_ts = wanted
            .iter()
            .any(|&i| self.schema.field(i).name() == DAY_COLUMN);
        if (needs_ts || read.is_empty()) && !read.contains(&Field::TsMs) {
            read.push(Field::TsMs);
        }
        query.columns = Some(read);
        // Each store's days split into runs scanned side by side, one per core in all (more
        // runs at once hold more files open: memory grows, time does not shrink).
        let cores = state.config().target_partitions().max(1);
        let runs_per_store = cores.div_ceil(self.stores.len().max(1));
        let mut runs: Vec<StoreRun> = Vec::new();
        for (name, store) in &self.stores {
            let days = store
                .days(&query)
                .await
                .map_err(|e| DataFusionError::External(Box::new(e)))?;
            for run in query.split_by_days(&days, runs_per_store) {
                runs.push(StoreRun {
                    name: name.clone(),
                    store: store.clone(),
                    query: run,
                });
            }
        }
        // With more stores than cores, an unordered table reads its runs one after another
        // in one partition per core: DataFusion runs every partition at once, and 30 stores
        // read side by side held 30 runs' batches (a report by day over 30 stores of 1M
        // events peaked at 718 MiB). An ordered table keeps a partition per run, each in key
        // order, for the merge.
        let partitions_wanted = match self.unordered {
            true => cores.min(runs.len()).max(1),
            false => runs.len().max(1),
        };
        let mut partitions: Vec<Vec<StoreRun>> =
            (0..partitions_wanted).map(|_| Vec::new()).collect();
        for (i, run) in runs.into_iter().enumerate() {
            partitions[i % partitions_wanted].push(run);
        }
        let partitions: Vec<Arc<dyn PartitionStream>> = partitions
            .into_iter()
            .map(|runs| -> Arc<dyn PartitionStream> {
                Arc::new(StorePartition {
                    runs,
                    schema: schema.clone(),
                })
            })
            .collect();
        // Each store's rows come sorted by the key: ORDER BY it merges instead of sorting.
        let key = ["ts_ms", "session_id", "seq"].map(|name| {
            col(name, &schema)
                .ok()
                .map(|e| PhysicalSortExpr::new(e, ASC_NULLS_LAST))
        });
        let ordering = match self.unordered {
            true => None,
            false => key
                .into_iter()
                .collect::<Option<Vec<_>>>()
                .and_then(LexOrdering::new),
        };
        Ok(Arc::new(StreamingTableExec::try_new(
            schema, partitions, None, ordering, false, limit,
        )?))
    }
}

/// One run of a store's days (see `Query::split_by_days`).
#[derive(Debug, Clone)]
struct StoreRun {
    name: String,
    store: Store,
    query: Query,
}

/// A share of a table scan: runs read one after another (one run for an ordered table).
#[derive(Debug)]
struct StorePartition {
    runs: Vec<StoreRun>,
    schema: SchemaRef,
}

impl PartitionStream for StorePartition {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let schema = self.schema.clone();
        let out_schema = schema.clone();
        let batches = futures::stream::iter(self.runs.clone()).flat_map(move |run| {
            let schema = schema.clone();
            let StoreRun { name, store, query } = run;
            futures::stream::once(async move { store.scan(query).await })
                .try_flatten()
                .map(move |batch| {
                    // A file's error names it within its store: say which store.
                    let batch = batch.map_err(|e| {
                        DataFusionError::External(Box::new(e)).context(format!("store {name}"))
                    })?;
                    table_batch(&batch, &schema, &name)
                })
        });
        Box::pin(RecordBatchStreamAdapter::new(out_schema, batches))
    }
}

/// A scan batch in the table's projected shape: event columns by name, `day` from `ts_ms`,
/// `store` the store's name.
fn table_batch(batch: &RecordBatch, schema: &SchemaRef, store: &str) -> DfResult<RecordBatch> {
    let rows = batch.num_rows();
    let columns = schema
        .fields()
        .iter()
        .map(|f| -> DfResult<ArrayRef> {
            match f.name().as_str() {
                DAY_COLUMN => {
                    let ts = batch
                        .column_by_name(Field::TsMs.name())
                        .ok_or_else(|| {
                            DataFusionError::Internal("the scan reads ts_ms for day".into())
                        })?
                        .as_primitive::<UInt64Type>()
                        .values();
                    let day = |t: &u64| (t / DAY_MS) as i32;
                    // A scan's batch holds one day: one value, not one division a row.
                    Ok(Arc::new(match (ts.first().map(day), ts.last().map(day)) {
                        (Some(first), Some(last)) if first == last => {
                            Date32Array::from_value(first, rows)
                        }
                        _ => Date32Array::from_iter_values(ts.iter().map(day)),
                    }))
                }
                STORE_COLUMN => Ok(Arc::new(StringArray::from(vec![store; rows]))),
                name => batch.column_by_name(name).cloned().ok_or_else(|| {
                    DataFusionError::Internal(format!("the scan did not read {name}"))
                }),
            }
        })
        .collect::<DfResult<Vec<_>>>()?;
    let options = RecordBatchOptions::new().with_row_count(Some(rows));
    Ok(RecordBatch::try_new_with_options(
        schema.clone(),
        columns,
        &options,
    )?)
}

/// Narrows `query` by `filter` when the scan can take it; `false` when it cannot.
fn narrow(query: &mut Query, filter: &Expr) -> bool {
    match filter {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            let (column, op, value) = match (column_of(left), column_of(right)) {
                (Some(c), None) => (c, *op, literal(right)),
                (None, Some(c)) => (c, op.swap().unwrap_or(*op), literal(left)),
                _ => return false,
            };
            let Some(value) = value else {
                return false;
            };
            match column {
                "ts_ms" => time_bound(query, op, as_u64(&value)),
                DAY_COLUMN => day_bound(query, op, as_day(&value)),
                "session_id" | "kind" if op == Operator::Eq => {
                    one_of(query, column, Some(vec![value]))
                }
                _ => false,
            }
        }
        Expr::Between(Between {
            expr,
            negated: false,
            low,
            high,
        }) => {
            let (Some(column), Some(low), Some(high)) =
                (column_of(expr), literal(low), literal(high))
            else {
                return false;
            };
            match column {
                "ts_ms" => {
                    let (low, high) = (as_u64(&low), as_u64(&high));
                    time_bound(query, Operator::GtEq, low)
                        && time_bound(query, Operator::LtEq, high)
                }
                DAY_COLUMN => {
                    let (low, high) = (as_day(&low), as_day(&high));
                    day_bound(query, Operator::GtEq, low) && day_bound(query, Operator::LtEq, high)
                }
                _ => false,
            }
        }
        Expr::InList(list) if !list.negated => {
            let Some(column) = column_of(&list.expr) else {
                return false;
            };
            let values: Option<Vec<ScalarValue>> = list.list.iter().map(literal).collect();
            match column {
                "session_id" | "kind" => one_of(query, column, values),
                _ => false,
            }
        }
        _ => false,
    }
}

/// Whether the filter's column is compared as it is, not through a cast (whose rounding or
/// overflow the scan would not reproduce).
fn on_bare_column(filter: &Expr) -> bool {
    let bare = |e: &Expr| matches!(e, Expr::Column(_));
    match filter {
        Expr::BinaryExpr(BinaryExpr { left, right, .. }) => bare(left) || bare(right),
        Expr::Between(between) => bare(&between.expr),
        Expr::InList(list) => bare(&list.expr),
        _ => false,
    }
}

fn column_of(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Column(c) => Some(c.name.as_str()),
        Expr::Cast(cast) => column_of(&cast.expr),
        _ => None,
    }
}

fn literal(expr: &Expr) -> Option<ScalarValue> {
    match expr {
        Expr::Literal(value, _) if !value.is_null() => Some(value.clone()),
        _ => None,
    }
}

fn as_u64(value: &ScalarValue) -> Option<u64> {
    match value {
        ScalarValue::UInt64(Some(v)) => Some(*v),
        ScalarValue::UInt32(Some(v)) => Some(u64::from(*v)),
        ScalarValue::Int64(Some(v)) => u64::try_from(*v).ok(),
        ScalarValue::Int32(Some(v)) => u64::try_from(*v).ok(),
        _ => None,
    }
}

fn as_day(value: &ScalarValue) -> Option<UtcDay> {
    match value {
        ScalarValue::Date32(Some(d)) => u32::try_from(*d).ok().map(UtcDay::from_days_since_epoch),
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => s.parse().ok(),
        _ => None,
    }
}

/// `ts_ms <op> value` as the query's half-open range, narrowed.
fn time_bound(query: &mut Query, op: Operator, value: Option<u64>) -> bool {
    let Some(v) = value else {
        return false;
    };
    let (from, to) = match op {
        // Nothing is after the last time: an empty range.
        Operator::Gt if v == u64::MAX => (Some(0), Some(0)),
        Operator::Gt => (v.checked_add(1), None),
        Operator::GtEq => (Some(v), None),
        Operator::Lt => (None, Some(v)),
        Operator::LtEq => (None, v.checked_add(1)),
        Operator::Eq => (Some(v), v.checked_add(1)),
        _ => return false,
    };
    if let Some(from) = from {
        query.from_ms = Some(query.from_ms.map_or(from, |f| f.max(from)));
    }
    if let Some(to) = to {
        query.to_ms = Some(query.to_ms.map_or(to, |t| t.min(to)));
    }
    true
}

/// `day <op> value` as a time range of whole days.
fn day_bound(query: &mut Query, op: Operator, day: Option<UtcDay>) -> bool {
    let Some(day) = day else {
        return false;
    };
    match op {
        Operator::Gt => time_bound(query, Operator::GtEq, Some(day.end_ms())),
        Operator::GtEq => time_bound(query, Operator::GtEq, Some(day.start_ms())),
        Operator::Lt => time_bound(query, Operator::Lt, Some(day.start_ms())),
        Operator::LtEq => time_bound(query, Operator::Lt, Some(day.end_ms())),
        Operator::Eq => {
            time_bound(query, Operator::GtEq, Some(day.start_ms()))
                && time_bound(query, Operator::Lt, Some(day.end_ms()))
        }
        _ => false,
    }
}

/// `column` (`session_id` or `kind`) is one of `values`: narrows the query to them.
fn one_of(query: &mut Query, column: &str, values: Option<Vec<ScalarValue>>) -> bool {
    let strings: Option<Vec<String>> = values
        .into_iter()
        .flatten()
        .map(|v| match v {
            ScalarValue::Utf8(Some(s))
            | ScalarValue::LargeUtf8(Some(s))
            | ScalarValue::Utf8View(Some(s)) => Some(s),
            _ => None,
        })
        .collect();
    let Some(strings) = strings else {
        return false;
    };
    let nothing = match column {
        "kind" => {
            // A name that is no kind matches no event.
            let kinds = strings
                .iter()
                .filter_map(|s| EventKind::from_name(s))
                .collect();
            query.kinds = intersect(std::mem::take(&mut query.kinds), kinds);
            query.kinds.is_empty()
        }
        _ => {
            query.sessions = intersect(std::mem::take(&mut query.sessions), strings);
            query.sessions.is_empty()
        }
    };
    // An empty list means "all" to a query: no match at all is an empty time range.
    if nothing {
        query.from_ms = Some(0);
        query.to_ms = Some(0);
    }
    true
}

/// The values in both lists; `current` empty means no restriction yet.
fn intersect<T: PartialEq>(current: Vec<T>, new: Vec<T>) -> Vec<T> {
    if current.is_empty() {
        new
    } else {
        current.into_iter().filter(|c| new.contains(c)).collect()
    }
}
