//! The price table shipped in the repository and the cost of one API response.
//!
//! The table (`prices/litellm-<version>.json`) is a subset of LiteLLM's
//! `model_prices_and_context_window_backup.json` at a named version, extracted by
//! `prices/extract.py`: per model, US dollars per token for input, output, cache reads,
//! 5-minute and 1-hour cache writes, and long-context tiers (`…_above_200k_tokens`, …).
//! It is compiled in, so history is priced offline and reproducibly; updating it is a
//! deliberate commit that changes the version every computed cost names.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use serde::Deserialize;

use crate::{Error, Result};

const SHIPPED: &str = include_str!("../prices/litellm-1.110.2.json");

/// Token figures of one API response, in the store's convention: `input` excludes cache
/// reads and writes; `output` includes reasoning.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Input tokens, cache reads and writes excluded.
    pub input: u64,
    /// Output tokens, reasoning included.
    pub output: u64,
    /// Tokens read from the prompt cache.
    pub cache_read: u64,
    /// Tokens written to the 5-minute prompt cache.
    pub cache_creation_5m: u64,
    /// Tokens written to the 1-hour prompt cache.
    pub cache_creation_1h: u64,
}

/// Piecewise price of one token type: `base` per token up to the first threshold, then each
/// tier's price for the tokens above its threshold.
#[derive(Debug, Clone, Default)]
struct Tiered {
    base: Option<f64>,
    /// (threshold in tokens, price per token above it), ascending.
    tiers: Vec<(u64, f64)>,
}

impl Tiered {
    /// Cost of `n` tokens of this type. Like ccusage, tiers apply per token type to the
    /// tokens above the threshold.
    fn cost(&self, base: f64, n: u64) -> f64 {
        let base = self.base.unwrap_or(base);
        let mut cost = 0.0;
        let mut from = 0u64;
        let mut price = base;
        for &(threshold, tier_price) in &self.tiers {
            if n <= threshold {
                break;
            }
            cost += (threshold - from) as f64 * price;
            from = threshold;
            price = tier_price;
        }
        cost + (n - from) as f64 * price
    }
}

/// Prices of one model.
#[derive(Debug, Clone, Default)]
pub struct ModelPrice {
    input: Tiered,
    output: Tiered,
    cache_read: Tiered,
    cache_5m: Tiered,
    cache_1h: Tiered,
}

impl ModelPrice {
    /// The prices of one model's entry; `Ok(None)` when it has no input or output price
    /// (not a chat model), an error naming the key for a price that is negative, not finite,
    /// or above 1 US dollar a token (no model costs that; such a price would overflow costs).
    fn from_entry(entry: &BTreeMap<String, f64>) -> std::result::Result<Option<Self>, String> {
        let mut price = ModelPrice::default();
        for (key, &value) in entry {
            let (base, threshold) = match key.rsplit_once("_above_") {
                Some((base, rest)) if rest.ends_with("k_tokens") => {
                    let Ok(k) = rest.trim_end_matches("k_tokens").parse::<u64>() else {
                        return Ok(None);
                    };
                    (base, Some(k.saturating_mul(1000)))
                }
                _ => (key.as_str(), None),
            };
            let slot = match base {
                "input_cost_per_token" => &mut price.input,
                "output_cost_per_token" => &mut price.output,
                "cache_read_input_token_cost" => &mut price.cache_read,
                "cache_creation_input_token_cost" => &mut price.cache_5m,
                "cache_creation_input_token_cost_above_1hr" => &mut price.cache_1h,
                _ => continue,
            };
            if !(value.is_finite() && (0.0..=1.0).contains(&value)) {
                return Err(format!(
                    "`{key}` is {value}: a price is US dollars a token, from 0 to 1"
                ));
            }
            match threshold {
                None => slot.base = Some(value),
                Some(t) => slot.tiers.push((t, value)),
            }
        }
        for slot in [
            &mut price.input,
            &mut price.output,
            &mut price.cache_read,
            &mut price.cache_5m,
            &mut price.cache_1h,
        ] {
            slot.tiers.sort_by_key(|t| t.0);
        }
        if price.input.base.is_none() || price.output.base.is_none() {
            return Ok(None);
        }
        Ok(Some(price))
    }

    /// Cost in US dollars. A price the table lacks falls back: cache reads and 5-minute
    /// writes to the input price, 1-hour writes to the 5-minute price.
    pub fn cost_usd(&self, u: &Usage) -> f64 {
        let input = self.input.base.unwrap_or(0.0);
        let write_5m = self.cache_5m.base.unwrap_or(input);
        let write_1h = self.cache_1h.base.unwrap_or(write_5m);
        let mut cache_1h = self.cache_1h.clone();
        if cache_1h.base.is_none() {
            cache_1h.tiers = self.cache_5m.tiers.clone();
        }
        self.input.cost(input, u.input)
            + self.output.cost(0.0, u.output)
            + self.cache_read.cost(input, u.cache_read)
            + self.cache_5m.cost(input, u.cache_creation_5m)
            + cache_1h.cost(write_1h, u.cache_creation_1h)
    }
}

#[derive(Deserialize)]
struct TableFile {
    version: String,
    models: BTreeMap<String, BTreeMap<String, f64>>,
}

/// A price table: model name → prices, with the version every computed cost names.
#[derive(Debug, Clone)]
pub struct PriceTable {
    version: String,
    models: HashMap<String, ModelPrice>,
}

impl PriceTable {
    /// The table shipped in the crate (`litellm-1.110.2`).
    pub fn shipped() -> &'static PriceTable {
        static TABLE: OnceLock<PriceTable> = OnceLock::new();
        TABLE.get_or_init(|| {
            // The shipped file is tested to parse; an empty table would price nothing.
            PriceTable::from_json(SHIPPED).unwrap_or_else(|_| PriceTable {
                version: "none".into(),
                models: HashMap::new(),
            })
        })
    }

    /// Reads a table in the shipped file's form (`{"version", "models": {name: {key: usd}}}`).
    pub fn from_json(text: &str) -> Result<Self> {
        let file: TableFile =
            serde_json::from_str(text).map_err(|e| Error::Prices(e.to_string()))?;
        let mut models = HashMap::new();
        for (name, entry) in &file.models {
            let price = ModelPrice::from_entry(entry)
                .map_err(|reason| Error::Prices(format!("model {name:?}: {reason}")))?;
            if let Some(price) = price {
                models.insert(name.clone(), price);
            }
        }
        Ok(PriceTable {
            version: file.version,
            models,
        })
    }

    /// The table's version, e.g. `litellm-1.110.2`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Number of models priced.
    pub fn len(&self) -> usize {
        self.models.len()
    }

    /// Whether the table prices no model.
    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }

    /// The prices of `model`: its exact name, else without a provider prefix
    /// (`anthropic/…`), else without a date suffix (`-20250929`, `@20250929`).
    pub fn lookup(&self, model: &str) -> Option<&ModelPrice> {
        if let Some(p) = self.models.get(model) {
            return Some(p);
        }
        let bare = model.rsplit('/').next().unwrap_or(model);
        if let Some(p) = self.models.get(bare) {
            return Some(p);
        }
        let undated = strip_date(bare)?;
        self.models.get(undated)
    }

    /// Cost of `usage` with `model`'s prices in micro-dollars; `None` when the model is not
    /// in the table (never 0).
    pub fn cost_e6(&self, model: &str, usage: &Usage) -> Option<i64> {
        let price = self.lookup(model)?;
        Some(usd_to_e6(price.cost_usd(usage)))
    }
}

/// US dollars to micro-dollars, rounded to the nearest.
pub(crate) fn usd_to_e6(usd: f64) -> i64 {
    (usd * 1e6).round() as i64
}

fn strip_date(name: &str) -> Option<&str> {
    let (head, tail) = name.rsplit_once(['-', '@'])?;
    (tail.len() == 8 && tail.bytes().all(|b| b.is_ascii_digit())).then_some(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_table_parses_and_prices_the_agents_models() {
        let t = PriceTable::shipped();
        assert_eq!(t.version(), "litellm-1.110.2");
        assert!(t.len() > 100, "{}", t.len());
        for m in [
            "claude-sonnet-4-5-20250929",
            "claude-opus-4-6",
            "claude-haiku-4-5-20251001",
            "gpt-5.3-codex",
            "gpt-5.2-codex",
            "gpt-5.2",
            "gemini-2.5-pro",
            "gemini-2.5-flash",
            "gemini-3-flash-preview",
            "gemini-3.1-pro-preview",
        ] {
            assert!(t.lookup(m).is_some(), "{m}");
        }
        assert!(t.lookup("<synthetic>").is_none());
        assert!(t.lookup("anthropic/claude-opus-4-6").is_some());
    }

    #[test]
    fn cost_per_token_type() {
        let t = PriceTable::shipped();
        // claude-opus-4-6: $5 in, $25 out, $0.5 read, $6.25 5m write, $10 1h write per MTok.
        let u = Usage {
            input: 1_000_000,
            output: 1_000_000,
            cache_read: 1_000_000,
            cache_creation_5m: 1_000_000,
            cache_creation_1h: 1_000_000,
        };
        assert_eq!(t.cost_e6("claude-opus-4-6", &u), Some(46_750_000));
        assert_eq!(t.cost_e6("no-such-model", &u), None);
        // gemini-2.5-pro: input above 200k tokens at $2.5/MTok instead of $1.25.
        let long = Usage {
            input: 300_000,
            ..Usage::default()
        };
        assert_eq!(
            t.cost_e6("gemini-2.5-pro", &long),
            Some(200_000 * 125 / 100 + 100_000 * 250 / 100)
        );
    }
}
