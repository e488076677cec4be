//! `kaizen export`: imported agent logs written back as the original files, at their
//! paths relative to the agent's root, byte for byte.

use std::collections::BTreeSet;

use futures::TryStreamExt;
use kaizen_core::Field;
use kaizen_import::{Agent, Exporter};
use kaizen_store::codec::batch_to_events;
use kaizen_store::{EventStore, Query, Store};

use crate::cli::{ExportAgent, ExportArgs};

pub async fn run(store: &Store, args: ExportArgs) -> anyhow::Result<()> {
    let agent = match args.agent {
        ExportAgent::Claude => Agent::Claude,
        ExportAgent::Codex => Agent::Codex,
        ExportAgent::Gemini => Agent::Gemini,
    };
    // A file is written whole: a time range picks sessions, and they are read entire.
    let asked: Vec<String> = args.sessions.clone();
    let mut sessions: BTreeSet<String> = args.sessions.into_iter().collect();
    if args.range.from.is_some() || args.range.to.is_some() {
        let in_range = Query {
            from_ms: args.range.from,
            to_ms: args.range.to,
            sessions: sessions.iter().cloned().collect(),
            ..Query::all()
        }
        .columns([Field::SessionId]);
        let mut found = BTreeSet::new();
        let mut batches = store.scan(in_range).await?;
        while let Some(batch) = batches.try_next().await? {
            let ids = kaizen_store::codec::EventColumns::new(&batch, "export")
                .strings(Field::SessionId)?;
            found.extend(ids.iter().flatten().map(str::to_owned));
        }
        if found.is_empty() {
            outln!("no session has events in that range: nothing written");
            return Ok(());
        }
        sessions = found;
    }
    let query = Query {
        sessions: sessions.into_iter().collect(),
        ..Query::all()
    };
    let mut exporter = Exporter::new(&args.out, Some(agent));
    let mut batches = store.scan(query).await?;
    while let Some(batch) = batches.try_next().await? {
        for event in batch_to_events(&batch, &store.location())? {
            exporter.add(&event)?;
        }
    }
    let report = exporter.finish()?;
    if report.files == 0 && !asked.is_empty() {
        anyhow::bail!(
            "no {} log lines of session {} in {}: nothing written",
            agent.name(),
            asked.join(", "),
            store.location()
        );
    }
    outln!(
        "wrote {} file(s), {} line(s), {} under {}",
        report.files,
        report.lines,
        crate::output::bytes(report.bytes),
        args.out.display()
    );
    if report.events_skipped > 0 {
        outln!(
            "{} event(s) were not {} log lines (kaizen's own events, or another agent's)",
            report.events_skipped,
            agent.name()
        );
    }
    Ok(())
}
