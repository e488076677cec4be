//! The SQL functions a report groups by: `kaizen_period(ts_ms)` (the start of an event's
//! local day, week or month) and `kaizen_block(ts_ms, agent)` (the start of its 5-hour
//! block). Both give UTC milliseconds (BIGINT): grouping by an integer is cheap, and the
//! labels are made once per group.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int64Builder};
use arrow::compute::cast;
use arrow::datatypes::{DataType, UInt64Type};
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::blocks::Blocks;
use super::period::Periods;

/// The SQL name of [`PeriodUdf`].
pub const PERIOD: &str = "kaizen_period";
/// The SQL name of [`BlockUdf`].
pub const BLOCK: &str = "kaizen_block";

/// `kaizen_period(ts_ms)`: the start (UTC ms) of the calendar period holding `ts_ms`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PeriodUdf {
    periods: Periods,
    signature: Signature,
}

impl PeriodUdf {
    pub fn udf(periods: Periods) -> ScalarUDF {
        ScalarUDF::new_from_impl(PeriodUdf {
            periods,
            signature: Signature::exact(vec![DataType::UInt64], Volatility::Immutable),
        })
    }
}

impl ScalarUDFImpl for PeriodUdf {
    fn name(&self) -> &str {
        PERIOD
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let [ts] = arrays.as_slice() else {
            return Err(DataFusionError::Plan(format!(
                "{PERIOD} takes one argument (ts_ms)"
            )));
        };
        let ts = ts.as_primitive::<UInt64Type>();
        let mut out = Int64Builder::with_capacity(ts.len());
        // A batch's rows are mostly of one period: look it up once per change.
        let mut last = (0i64, 0i64);
        for row in 0..ts.len() {
            if ts.is_null(row) {
                out.append_null();
                continue;
            }
            let ms = i64::try_from(ts.value(row)).unwrap_or(i64::MAX);
            if !(last.0 <= ms && ms < last.1) {
                last = self.periods.range(ms);
            }
            out.append_value(last.0);
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish()) as ArrayRef))
    }
}

/// `kaizen_block(ts_ms, agent)`: the start (UTC ms) of the agent's 5-hour block holding
/// `ts_ms`, NULL when the instant is in none of that agent's blocks (between them).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct BlockUdf {
    blocks: Arc<Blocks>,
    signature: Signature,
}

impl BlockUdf {
    pub fn udf(blocks: Arc<Blocks>) -> ScalarUDF {
        ScalarUDF::new_from_impl(BlockUdf {
            blocks,
            signature: Signature::exact(
                vec![DataType::UInt64, DataType::Utf8],
                Volatility::Immutable,
            ),
        })
    }
}

impl ScalarUDFImpl for BlockUdf {
    fn name(&self) -> &str {
        BLOCK
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let [ts, agent] = arrays.as_slice() else {
            return Err(DataFusionError::Plan(format!(
                "{BLOCK} takes two arguments (ts_ms, agent)"
            )));
        };
        let ts = ts.as_primitive::<UInt64Type>();
        let agent = cast(agent, &DataType::Utf8)?;
        let agent = agent.as_string::<i32>();
        let mut out = Int64Builder::with_capacity(ts.len());
        for row in 0..ts.len() {
            if ts.is_null(row) || agent.is_null(row) {
                out.append_null();
                continue;
            }
            let ms = i64::try_from(ts.value(row)).unwrap_or(i64::MAX);
            out.append_option(self.blocks.start_of(agent.value(row), ms));
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish()) as ArrayRef))
    }
}

/// `kaizen_session_<attr>(session_id)` (e.g. `kaizen_session_model`): the one value of an
/// attribute in a session that names at most one (see `sql::session_values`), NULL for a
/// session that names none. A lookup per row: joining the window's events to a table of
/// sessions copied every column of every row (10 stores x 1M events by model: 2.6 s with
/// the join).
#[derive(Debug)]
pub struct SessionValueUdf {
    name: String,
    values: foldhash::HashMap<String, String>,
    signature: Signature,
}

impl PartialEq for SessionValueUdf {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.values == other.values
    }
}

impl Eq for SessionValueUdf {}

impl std::hash::Hash for SessionValueUdf {
    /// By name: two lookups of one name in one session are the same function.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl SessionValueUdf {
    /// The SQL name of the lookup of attribute `attr`.
    pub fn name_of(attr: &str) -> String {
        format!("kaizen_session_{attr}")
    }

    /// The lookup of attribute `attr` in `values` (session id → its one value).
    pub fn udf(attr: &str, values: foldhash::HashMap<String, String>) -> ScalarUDF {
        ScalarUDF::new_from_impl(SessionValueUdf {
            name: Self::name_of(attr),
            values,
            signature: Signature::exact(vec![DataType::Utf8], Volatility::Immutable),
        })
    }
}

impl ScalarUDFImpl for SessionValueUdf {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let [sessions] = arrays.as_slice() else {
            return Err(DataFusionError::Plan(format!(
                "{} takes one argument (session_id)",
                self.name
            )));
        };
        let sessions = sessions.as_string::<i32>();
        let mut out =
            arrow::array::StringBuilder::with_capacity(sessions.len(), sessions.len() * 8);
        for row in 0..sessions.len() {
            if sessions.is_null(row) {
                out.append_null();
                continue;
            }
            out.append_option(self.values.get(sessions.value(row)));
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish()) as ArrayRef))
    }
}
