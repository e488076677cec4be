//! Imports a folder of agent logs with a sink that only counts, and prints the throughput
//! and the report. Usage: `import_dir DIR` where DIR holds `claude/`, `codex/` and
//! `gemini/` (a gen_agent_logs.py tree), or any of the agents' roots. With
//! `--costs`, also prints the cost per source, UTC day and model as JSON (to compare with
//! ccusage's `daily --json`).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Instant;

use kaizen_import::{Agent, ImportOptions, discover, import_files};

/// Prints a line; a closed pipe (`| head`) is not an error worth a panic.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::args().nth(1).ok_or("usage: import_dir DIR")?);
    let mut files = Vec::new();
    let tree = Agent::AGENTS.iter().any(|a| dir.join(a.name()).is_dir());
    for agent in Agent::AGENTS {
        // A generated tree has claude/, codex/, gemini/; otherwise DIR is every agent's root.
        let root = if tree {
            dir.join(agent.name())
        } else {
            dir.clone()
        };
        if root.is_dir() {
            files.extend(discover(agent, &[root])?);
        }
    }
    let bytes: u64 = files
        .iter()
        .map(|f| std::fs::metadata(&f.path).map(|m| m.len()).unwrap_or(0))
        .sum();
    let started = Instant::now();
    let mut events = 0u64;
    let want_costs = std::env::args().any(|a| a == "--costs");
    let mut costs: BTreeMap<(String, String, String), i64> = BTreeMap::new();
    let (report, cursors) = import_files(
        &files,
        &HashMap::new(),
        &ImportOptions::default(),
        &mut |chunk| {
            events += chunk.len() as u64;
            if want_costs {
                for e in &chunk {
                    let Some(cost) = e.cost_usd_e6 else { continue };
                    let p = e.payload.to_value();
                    let day = kaizen_core::UtcDay::of_ts_ms(e.ts_ms)?.to_string();
                    let agent = p["agent"].as_str().unwrap_or("").to_owned();
                    let model = p["model"].as_str().unwrap_or("").to_owned();
                    *costs.entry((agent, day, model)).or_default() += cost;
                }
            }
            Ok(())
        },
    )?;
    let secs = started.elapsed().as_secs_f64();
    outln!(
        "{} files, {:.1} MB, {} events in {:.2}s: {:.1} MB/s, {:.0} events/s",
        files.len(),
        bytes as f64 / 1e6,
        events,
        secs,
        bytes as f64 / 1e6 / secs,
        events as f64 / secs
    );
    let cursors: HashMap<_, _> = cursors.into_iter().map(|c| (c.path.clone(), c)).collect();
    let started = Instant::now();
    let (_, _) = import_files(&files, &cursors, &ImportOptions::default(), &mut |_| Ok(()))?;
    outln!(
        "rerun from the cursors: {:.3}s",
        started.elapsed().as_secs_f64()
    );
    for (source, r) in &report.sources {
        outln!(
            "{source}: files {} lines {} events {} sessions {} responses {} in {} out {} cache read {} cache write 5m {} 1h {} cost ${:.2} tools {}/{}/{} api errors {} unknown {:?} unpriced {:?}",
            r.files,
            r.lines,
            r.events,
            r.sessions.len(),
            r.responses,
            r.input,
            r.output,
            r.cache_read,
            r.cache_creation_5m,
            r.cache_creation_1h,
            r.cost_usd_e6 as f64 / 1e6,
            r.tool_calls,
            r.tool_results,
            r.tool_errors,
            r.api_errors,
            r.unknown_types,
            r.unpriced_models
        );
    }
    if want_costs {
        let rows: Vec<_> = costs
            .iter()
            .map(|((a, d, m), c)| serde_json::json!({"source": a, "day": d, "model": m, "cost_usd": *c as f64 / 1e6}))
            .collect();
        outln!("{}", serde_json::Value::Array(rows));
    }
    Ok(())
}
