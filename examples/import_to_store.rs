//! Imports a folder of agent logs into any store, from where the last import stopped, the
//! way `kaizen import` does, through the library alone:
//!
//! ```sh
//! cargo run --release --example import_to_store -- claude ~/.claude ./kaizen-data
//! cargo run --release --example import_to_store -- codex ~/.codex s3://bucket/prefix
//! cargo run --release --example import_to_store -- kaizen-db ~/.kaizen ./kaizen-data
//! ```
//!
//! The arguments: the agent (`claude`, `codex`, `gemini`, or `kaizen-db` for upstream
//! kaizen's databases), its root (`~/.claude`, `~/.codex`, `~/.gemini/tmp`, `~/.kaizen`, a
//! project folder or one file) and a store URL.
//! Events are read on a thread and written by one all-or-nothing writer; the cursors are
//! kept in the store as a state document after the data.

use std::collections::HashMap;

use kaizen::import::{Agent, Cursor, ImportOptions, discover, import_files};
use kaizen::store::{EventStore, open_store};

const CURSORS: &str = "import-cursors";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(agent), Some(root), Some(url)) = (args.next(), args.next(), args.next()) else {
        return Err(
            "usage: import_to_store claude|codex|gemini|kaizen-db AGENT_ROOT STORE_URL".into(),
        );
    };
    let agent = Agent::from_name(&agent)
        .filter(|a| Agent::DEFAULT_SOURCES.contains(a))
        .ok_or("the agent is claude, codex, gemini or kaizen-db")?;
    let store = open_store(&url, &[])?;
    let root = kaizen::store::expand_home(&root)?;
    let files = discover(agent, &[root])?;

    let cursors: HashMap<String, Cursor> = match store.read_state(CURSORS).await? {
        Some(bytes) => serde_json::from_slice::<Vec<Cursor>>(&bytes)?
            .into_iter()
            .filter(|c| c.agent == agent)
            .map(|c| (c.path.clone(), c))
            .collect(),
        None => HashMap::new(),
    };

    let (tx, mut rx) = tokio::sync::mpsc::channel(2);
    let reader = std::thread::spawn(move || {
        import_files(&files, &cursors, &ImportOptions::default(), &mut |events| {
            tx.blocking_send(events).map_err(|e| e.to_string().into())
        })
    });
    let mut writer = store.writer();
    while let Some(events) = rx.recv().await {
        if let Err(e) = writer.write(events).await {
            writer.abort().await?;
            return Err(e.into());
        }
    }
    let (report, new_cursors) = match reader.join() {
        Ok(Ok(done)) => done,
        Ok(Err(e)) => {
            writer.abort().await?;
            return Err(e.into());
        }
        Err(_) => return Err("the reader thread panicked".into()),
    };
    let receipt = writer.commit().await?;

    // Other agents' cursors stay as they were.
    let mut all: Vec<Cursor> = match store.read_state(CURSORS).await? {
        Some(bytes) => serde_json::from_slice::<Vec<Cursor>>(&bytes)?
            .into_iter()
            .filter(|c| c.agent != agent || !new_cursors.iter().any(|n| n.path == c.path))
            .collect(),
        None => Vec::new(),
    };
    all.extend(new_cursors);
    store
        .write_state(CURSORS, serde_json::to_vec(&all)?.into())
        .await?;

    let source = &report.sources[agent.name()];
    println!(
        "{}: {} file(s), {} line(s) read; {} new event(s) stored in {}; {} tokens out, ${:.2}",
        agent.name(),
        source.files,
        source.lines,
        receipt.rows(),
        store.location(),
        source.output,
        source.cost_usd_e6 as f64 / 1e6
    );
    Ok(())
}
