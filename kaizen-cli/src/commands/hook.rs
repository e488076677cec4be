//! `kaizen hook claude`: run by a Claude Code hook (`Stop`, `SessionEnd`), it reads the
//! hook's JSON on standard input and imports the session's transcript folder, so each
//! session is archived as it happens — before Claude Code deletes it.
//!
//! Exit codes: 0 when the session is archived; 1 with the reason on standard error
//! otherwise (input without `transcript_path`, a transcript that is not there, a store
//! that cannot be written), which Claude Code shows and goes on. Never 2: Claude Code
//! reads 2 as "block" (a `Stop` hook would keep the agent from stopping).

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, bail};
use kaizen_import::Agent;
use kaizen_store::Store;

use crate::cli::HookArgs;

pub async fn run(store: &Store, args: HookArgs) -> anyhow::Result<()> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .context("the hook's input (standard input)")?;
    let transcript = transcript_path(&text)?;
    // Claude Code names the transcript before it is written at times; a hook run for a
    // file that is not there archives nothing, and says so rather than succeed silently.
    match std::fs::metadata(&transcript) {
        Ok(m) if m.is_file() => {}
        Ok(_) => bail!(
            "{}: the hook's transcript_path is not a file",
            transcript.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "{}: the hook's transcript_path does not exist: nothing archived",
            transcript.display()
        ),
        Err(e) => bail!("{}: {e}", transcript.display()),
    }
    // The whole project folder: the session's subagent files sit beside or under the
    // transcript, and files imported before are skipped by their cursors.
    let folder = transcript
        .parent()
        .map(PathBuf::from)
        .with_context(|| format!("{}: not a transcript path", transcript.display()))?;
    let files = kaizen_import::discover(Agent::Claude, &[folder])?;
    // Lenient: a line that is not JSON (in this transcript, or another session's file of
    // the folder) is kept as text and counted, never a reason to archive nothing — with a
    // strict import, one bad line would fail every later hook of the project.
    let run = super::import::import(
        store,
        files,
        true,
        false,
        Some(kaizen_import::Redactor::builtin()),
    )
    .await?;
    if args.verbose {
        super::import::print_summary(&run)?;
    }
    Ok(())
}

/// The `transcript_path` of a Claude Code hook's input (JSON), `~` expanded. The error
/// names what is missing: the key, or JSON at all.
fn transcript_path(input: &str) -> anyhow::Result<PathBuf> {
    let what =
        "`kaizen hook claude` reads a Claude Code hook's JSON (SessionEnd, Stop) on standard input";
    let value: serde_json::Value = serde_json::from_str(input)
        .with_context(|| format!("the hook's input is not JSON; {what}"))?;
    let Some(path) = value.get("transcript_path") else {
        let keys: Vec<&str> = value
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        bail!(
            "the hook's input has no transcript_path (its keys: {}); {what}",
            if keys.is_empty() {
                "none".to_owned()
            } else {
                keys.join(", ")
            }
        );
    };
    match path.as_str() {
        Some(p) if !p.trim().is_empty() => Ok(kaizen_store::expand_home(p)?),
        _ => bail!("the hook's transcript_path is not a path: {path}; {what}"),
    }
}
