//! The README's library example, runnable: append events to a local store, scan them back.
//!
//! `cargo run --example quickstart -- ./kaizen-data`

use futures::TryStreamExt;
use kaizen::store::{EventStore, Query, Store};
use kaizen::{Event, EventKind};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "./kaizen-data".into());
    let store = Store::local(&dir);

    let lines = [
        r#"{"session_id":"quickstart","seq":0,"ts_ms":1790812800000,"ts_exact":true,"kind":"Message","source":"Hook","tokens_in":1200,"cost_usd_e6":3600,"payload":{"text":"hi"}}"#,
        r#"{"session_id":"quickstart","seq":1,"ts_ms":1790812801000,"ts_exact":true,"kind":"ToolCall","source":"Tail","tool":"bash","payload":{"args":{"command":"ls"}}}"#,
    ];
    let events = lines
        .iter()
        .map(|l| Event::from_json(l))
        .collect::<Result<Vec<_>, _>>()?;
    let receipt = store.append(events).await?;
    println!(
        "wrote {} event(s) in {} file(s) to {dir}",
        receipt.rows(),
        receipt.files.len()
    );

    let query = Query::all().session("quickstart").kind(EventKind::ToolCall);
    let batches: Vec<_> = store.scan(query).await?.try_collect().await?;
    println!(
        "{} tool call(s) in session quickstart",
        batches.iter().map(|b| b.num_rows()).sum::<usize>()
    );

    for event in store
        .scan_events(Query::all().session("quickstart"))
        .await?
    {
        println!("{}", event.to_json());
    }
    Ok(())
}
