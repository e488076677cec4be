//! `--reprice`: the cost of each API response recomputed from its stored tokens under a
//! price table (the shipped one, or `--prices FILE`), beside the cost recorded when it was
//! imported, per report row and per model.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use arrow::array::RecordBatch;
use kaizen_import::{PriceTable, Usage};

use super::row::{Row, int, text};

/// The table `--prices FILE` names, else the shipped one.
pub fn table(prices: Option<&Path>) -> anyhow::Result<PriceTable> {
    match prices {
        None => Ok(PriceTable::shipped().clone()),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("--prices {}", path.display()))?;
            let table = PriceTable::from_json(&text).with_context(|| {
                format!(
                    "--prices {}: not a price table ({{\"version\", \"models\": {{name: {{\"input_cost_per_token\": …}}}}}})",
                    path.display()
                )
            })?;
            anyhow::ensure!(
                !table.is_empty(),
                "--prices {}: prices no model (each needs input_cost_per_token and output_cost_per_token)",
                path.display()
            );
            Ok(table)
        }
    }
}

/// Recorded against recomputed cost of one model's responses.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelCost {
    pub model: String,
    pub responses: i64,
    /// Micro-dollars, as recorded.
    pub recorded_usd_e6: i64,
    /// Micro-dollars under the table; None when the table does not price the model.
    pub repriced_usd_e6: Option<i64>,
}

impl ModelCost {
    /// Repriced minus recorded; None when unpriced.
    pub fn difference_usd_e6(&self) -> Option<i64> {
        self.repriced_usd_e6.map(|r| r - self.recorded_usd_e6)
    }
}

/// The repricing of a report: the table's version and each model's costs.
#[derive(Debug, Clone, PartialEq)]
pub struct Repriced {
    pub prices: String,
    pub models: Vec<ModelCost>,
}

/// Prices the rows of the reprice query (see [`super::sql::reprice`]) under `table`, adds
/// each report row's repriced cost (`key_of` gives the row's key labels of a batch row),
/// and returns the per-model summary, the costliest first.
pub fn apply(
    table: &PriceTable,
    batches: &[RecordBatch],
    key_of: impl Fn(&RecordBatch, usize) -> anyhow::Result<Vec<String>>,
    rows: &mut [Row],
) -> anyhow::Result<Repriced> {
    let index: BTreeMap<Vec<String>, usize> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (r.keys.clone(), i))
        .collect();
    for row in rows.iter_mut() {
        row.repriced_usd_e6 = Some(0);
        row.unpriced_responses = Some(0);
    }
    let mut models: BTreeMap<String, ModelCost> = BTreeMap::new();
    for batch in batches {
        for i in 0..batch.num_rows() {
            let model = text(batch, "reprice_model", i)?.unwrap_or_else(|| "(unknown)".into());
            let n = |name: &str| -> anyhow::Result<u64> {
                Ok(u64::try_from(int(batch, name, i)?.unwrap_or(0)).unwrap_or(0))
            };
            let creation = n("cache_creation")?;
            let write_1h = n("cache_write_1h")?.min(creation);
            let usage = Usage {
                input: n("input")?,
                output: n("output")?,
                cache_read: n("cache_read")?,
                cache_creation_5m: creation - write_1h,
                cache_creation_1h: write_1h,
            };
            let responses = int(batch, "responses", i)?.unwrap_or(0);
            let recorded = int(batch, "cost_usd_e6", i)?.unwrap_or(0);
            // Costs are micro-dollars in an i64: a sum past it is an error, never a wrap.
            let named = model.clone();
            let overflow = move || anyhow::anyhow!("the repriced cost of {named} overflows");
            let repriced = match table.cost_e6(&model, &usage) {
                Some(c) => Some(c.checked_mul(responses).ok_or_else(&overflow)?),
                None => None,
            };
            let entry = models.entry(model.clone()).or_insert_with(|| ModelCost {
                model,
                repriced_usd_e6: Some(0),
                ..ModelCost::default()
            });
            entry.responses += responses;
            entry.recorded_usd_e6 = (entry.recorded_usd_e6.checked_add(recorded))
                .ok_or_else(|| anyhow::anyhow!("the recorded cost of {} overflows", entry.model))?;
            entry.repriced_usd_e6 = match (entry.repriced_usd_e6, repriced) {
                (Some(a), Some(b)) => Some(a.checked_add(b).ok_or_else(&overflow)?),
                _ => None,
            };
            let keys = key_of(batch, i)?;
            if let Some(&r) = index.get(&keys) {
                let row = &mut rows[r];
                match repriced {
                    Some(cost) => {
                        row.repriced_usd_e6 = match row.repriced_usd_e6 {
                            Some(c) => Some(c.checked_add(cost).ok_or_else(&overflow)?),
                            None => None,
                        }
                    }
                    None => row.unpriced_responses = row.unpriced_responses.map(|u| u + responses),
                }
            }
        }
    }
    let mut models: Vec<ModelCost> = models.into_values().collect();
    models.sort_by(|a, b| {
        b.recorded_usd_e6
            .cmp(&a.recorded_usd_e6)
            .then_with(|| a.model.cmp(&b.model))
    });
    Ok(Repriced {
        prices: table.version().to_owned(),
        models,
    })
}
