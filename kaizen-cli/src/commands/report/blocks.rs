//! 5-hour blocks: the usage windows of a subscription, as ccusage 20.0.24 defines them
//! (checked against `ccusage blocks --json` by the tests; none of its code is used).
//!
//! Per agent, over its API responses in time order: a block starts at the first response
//! after the previous block, floored to the UTC hour (also in half-hour zones), and holds
//! every response up to 5 hours after its start, that instant included; a response more
//! than 5 hours after the block's start, or more than 5 hours after the response before it
//! (a gap), starts the next block. A block is active while now is within 5 hours of its
//! last response and before its end; the active block has a burn rate (over its first to
//! last response) and a projection to its end.

use std::collections::HashMap;

use super::row::Metrics;

/// A block's length.
pub const BLOCK_MS: i64 = 5 * 3_600_000;
const HOUR_MS: i64 = 3_600_000;

/// One agent's block.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Block {
    /// UTC ms: the first response's hour.
    pub start_ms: i64,
    /// The first and last response's time.
    pub first_ms: i64,
    pub last_ms: i64,
    /// API responses in the block (ccusage's `entries`).
    pub responses: u64,
}

impl Block {
    /// The block's nominal end: 5 hours after its start.
    pub fn end_ms(&self) -> i64 {
        self.start_ms + BLOCK_MS
    }

    /// Whether the block is still open at `now_ms`.
    pub fn active(&self, now_ms: i64) -> bool {
        now_ms - self.last_ms < BLOCK_MS && now_ms < self.end_ms()
    }
}

/// Every agent's blocks, each list in time order.
#[derive(Debug, Default, PartialEq, Eq, Hash)]
pub struct Blocks {
    by_agent: Vec<(String, Vec<Block>)>,
}

impl Blocks {
    /// The blocks of responses given as (agent, time in UTC ms, responses at that time), in
    /// any order.
    pub fn detect(responses: Vec<(String, i64, u64)>) -> Blocks {
        let mut per_agent: HashMap<String, Vec<(i64, u64)>> = HashMap::new();
        for (agent, ms, n) in responses {
            per_agent.entry(agent).or_default().push((ms, n));
        }
        let mut by_agent: Vec<(String, Vec<Block>)> = per_agent
            .into_iter()
            .map(|(agent, mut times)| {
                times.sort_unstable();
                (agent, blocks_of(&times))
            })
            .collect();
        by_agent.sort_by(|a, b| a.0.cmp(&b.0));
        Blocks { by_agent }
    }

    fn of(&self, agent: &str) -> Option<&[Block]> {
        let i = self
            .by_agent
            .binary_search_by(|(a, _)| a.as_str().cmp(agent))
            .ok()?;
        Some(&self.by_agent[i].1)
    }

    /// The start of `agent`'s block holding the instant `ms` (its start to 5 hours later,
    /// both included), or None between blocks. Where two blocks hold it (one ends at the
    /// instant the next starts), the earlier, as a response at that instant would be.
    pub fn start_of(&self, agent: &str, ms: i64) -> Option<i64> {
        let blocks = self.of(agent)?;
        let after = blocks.partition_point(|b| b.start_ms <= ms);
        let candidates = &blocks[after.saturating_sub(2)..after];
        candidates
            .iter()
            .find(|b| ms - b.start_ms <= BLOCK_MS)
            .map(|b| b.start_ms)
    }

    /// `agent`'s block starting at `start_ms`.
    pub fn get(&self, agent: &str, start_ms: i64) -> Option<&Block> {
        let blocks = self.of(agent)?;
        let i = blocks
            .binary_search_by_key(&start_ms, |b| b.start_ms)
            .ok()?;
        Some(&blocks[i])
    }
}

/// The blocks of one agent's responses, given in time order.
fn blocks_of(times: &[(i64, u64)]) -> Vec<Block> {
    let mut blocks: Vec<Block> = Vec::new();
    for &(ms, n) in times {
        match blocks.last_mut() {
            Some(b) if ms - b.start_ms <= BLOCK_MS && ms - b.last_ms <= BLOCK_MS => {
                b.last_ms = ms;
                b.responses += n;
            }
            _ => blocks.push(Block {
                start_ms: ms.div_euclid(HOUR_MS) * HOUR_MS,
                first_ms: ms,
                last_ms: ms,
                responses: n,
            }),
        }
    }
    blocks
}

/// The active block's pace: over its first to last response.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BurnRate {
    /// All tokens (input, output, cache reads and writes) per minute.
    pub tokens_per_minute: f64,
    /// Input and output tokens per minute (without cache: ccusage's indicator).
    pub tokens_per_minute_io: f64,
    pub cost_usd_per_hour: f64,
}

/// Where the active block ends up at its burn rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Projection {
    pub total_tokens: u64,
    /// Rounded to the cent, as ccusage does.
    pub total_cost_usd: f64,
    /// Whole minutes to the block's end.
    pub remaining_minutes: u64,
}

/// The burn rate and projection of `block` at `now_ms` with `metrics` its figures; None for a
/// block that is not active or whose responses are all at one instant (no pace to take).
pub fn burn(block: &Block, metrics: &Metrics, now_ms: i64) -> Option<(BurnRate, Projection)> {
    if !block.active(now_ms) {
        return None;
    }
    let minutes = (block.last_ms - block.first_ms) as f64 / 60_000.0;
    if minutes <= 0.0 {
        return None;
    }
    let cost_usd = metrics.cost_usd_e6 as f64 / 1e6;
    let rate = BurnRate {
        tokens_per_minute: metrics.total_tokens() as f64 / minutes,
        tokens_per_minute_io: (metrics.input + metrics.output) as f64 / minutes,
        cost_usd_per_hour: cost_usd / minutes * 60.0,
    };
    let remaining = ((block.end_ms() - now_ms).max(0)) as f64 / 60_000.0;
    let projection = Projection {
        total_tokens: (metrics.total_tokens() as f64 + rate.tokens_per_minute * remaining).round()
            as u64,
        total_cost_usd: ((cost_usd + rate.cost_usd_per_hour / 60.0 * remaining) * 100.0).round()
            / 100.0,
        remaining_minutes: remaining.round() as u64,
    };
    Some((rate, projection))
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = HOUR_MS;
    const M: i64 = 60_000;

    fn starts(times: &[i64]) -> Vec<(i64, i64, u64)> {
        let b = Blocks::detect(times.iter().map(|&t| ("claude".into(), t, 1)).collect());
        b.of("claude")
            .unwrap_or_default()
            .iter()
            .map(|b| (b.start_ms, b.last_ms, b.responses))
            .collect()
    }

    #[test]
    fn blocks_as_ccusage_cuts_them() {
        let t0 = 10 * H + 30 * M;
        // A response exactly 5 hours after the block's start is in it.
        assert_eq!(starts(&[t0, 15 * H]), vec![(10 * H, 15 * H, 2)]);
        // A millisecond later starts the next block, on its own hour.
        assert_eq!(
            starts(&[t0, 15 * H + 1]),
            vec![(10 * H, t0, 1), (15 * H, 15 * H + 1, 1)]
        );
        // More than 5 hours after the last response: a new block (the gap between).
        assert_eq!(
            starts(&[t0, 14 * H, 19 * H + 1]),
            vec![(10 * H, 14 * H, 2), (19 * H, 19 * H + 1, 1)]
        );
        // Past the block's end, soon after the last response: the next hour's block.
        assert_eq!(
            starts(&[t0, 14 * H + 59 * M, 16 * H + 10 * M]),
            vec![(10 * H, 14 * H + 59 * M, 2), (16 * H, 16 * H + 10 * M, 1)]
        );
    }

    #[test]
    fn instants_map_to_their_block() {
        let b = Blocks::detect(vec![
            ("claude".into(), 10 * H + 30 * M, 1),
            ("claude".into(), 15 * H + 1, 1),
            ("codex".into(), 11 * H, 1),
        ]);
        assert_eq!(b.start_of("claude", 10 * H), Some(10 * H));
        assert_eq!(b.start_of("claude", 15 * H), Some(10 * H));
        assert_eq!(b.start_of("claude", 15 * H + 1), Some(15 * H));
        assert_eq!(b.start_of("claude", 20 * H + 1), None);
        assert_eq!(b.start_of("claude", 9 * H), None);
        assert_eq!(b.start_of("codex", 10 * H + 30 * M), None);
        assert_eq!(b.start_of("codex", 12 * H), Some(11 * H));
        assert_eq!(b.start_of("gemini", 12 * H), None);
    }

    #[test]
    fn burn_rate_and_projection_of_the_active_block() {
        // ccusage: 220 tokens over 60 minutes, $0.0009, 159 minutes left → 803 tokens.
        let block = Block {
            start_ms: 10 * H,
            first_ms: 10 * H + 40 * M,
            last_ms: 11 * H + 40 * M,
            responses: 2,
        };
        let metrics = Metrics {
            input: 200,
            output: 20,
            cost_usd_e6: 900,
            ..Metrics::default()
        };
        let now = 12 * H + 21 * M;
        let (rate, projection) = burn(&block, &metrics, now).expect("active");
        assert!((rate.tokens_per_minute - 220.0 / 60.0).abs() < 1e-9);
        assert!((rate.cost_usd_per_hour - 0.0009).abs() < 1e-12);
        assert_eq!(projection.remaining_minutes, 159);
        assert_eq!(projection.total_tokens, 803);
        assert_eq!(burn(&block, &metrics, 15 * H + 1), None, "ended");
    }
}
