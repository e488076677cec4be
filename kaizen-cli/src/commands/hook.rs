//! `kaizen hook claude`: run by a Claude Code hook (`Stop`, `SessionEnd`), it reads the
//! hook's JSON on standard input and imports the session's transcript folder, so each
//! session is archived as it happens — before Claude Code deletes it.

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use kaizen_import::Agent;
use kaizen_store::Store;
use serde::Deserialize;

use crate::cli::HookArgs;

/// The keys of a Claude Code hook's input this command reads (it has more).
#[derive(Deserialize)]
struct HookInput {
    transcript_path: String,
}

pub async fn run(store: &Store, args: HookArgs) -> anyhow::Result<()> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .context("the hook's input (standard input)")?;
    let input: HookInput = serde_json::from_str(&text)
        .context("the hook's input is not a Claude Code hook's JSON (no transcript_path)")?;
    let transcript = kaizen_store::expand_home(&input.transcript_path)?;
    // The whole project folder: the session's subagent files sit beside or under the
    // transcript, and files imported before are skipped by their cursors.
    let folder = transcript
        .parent()
        .map(PathBuf::from)
        .with_context(|| format!("{}: not a transcript path", transcript.display()))?;
    let files = kaizen_import::discover(Agent::Claude, &[folder])?;
    let run = super::import::import(store, files, false, false).await?;
    if args.verbose {
        super::import::print_summary(&run)?;
    }
    Ok(())
}
