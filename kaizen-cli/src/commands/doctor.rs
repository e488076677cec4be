//! `kaizen doctor`: what stands between a user and a complete archive — agents set to
//! delete their history, agent logs not imported yet, the store's location.

use kaizen_import::{Agent, ClaudeCleanup};
use kaizen_store::{EventStore, Store};

/// `doctor` found something to act on: it exits 1 (after printing what), so a script or a
/// scheduled check notices; 0 means no warning.
#[derive(Debug)]
pub struct Warned(pub usize);

impl std::fmt::Display for Warned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} warning(s)", self.0)
    }
}

impl std::error::Error for Warned {}

pub async fn run(store: &Store) -> anyhow::Result<()> {
    let mut warnings = 0;
    match store.exists().await {
        Ok(true) => outln!("store: {}", store.location()),
        Ok(false) => outln!(
            "store: {} (none yet: `kaizen import` makes it)",
            store.location()
        ),
        Err(e) => {
            warnings += 1;
            outln!("warning: store: {}: {e}", store.location());
        }
    }
    let cleanup = kaizen_import::claude_cleanup(&[])?;
    if cleanup.is_empty() {
        outln!(
            "claude: no Claude Code folder found (~/.claude, ~/.config/claude, $CLAUDE_CONFIG_DIR)"
        );
    }
    for root in &cleanup {
        let settings = root.root.join("settings.json");
        if let Some(problem) = &root.settings_error {
            warnings += 1;
            outln!(
                "warning: claude: {problem}: whether Claude Code deletes transcripts cannot be told"
            );
            continue;
        }
        if let Some(setting) = &root.unreadable_setting {
            warnings += 1;
            outln!(
                "warning: claude: {}: cleanupPeriodDays is {setting}, not a whole number of days: Claude Code may read it as unset and delete transcripts older than {} days. \
                 Set \"cleanupPeriodDays\": 36500 there",
                settings.display(),
                ClaudeCleanup::DEFAULT_DAYS
            );
            continue;
        }
        match root.cleanup_period_days {
            Some(days) if !root.deletes_within_a_month() => {
                outln!(
                    "claude: {}: cleanupPeriodDays is {days}: transcripts are kept that long",
                    settings.display()
                );
            }
            days => {
                warnings += 1;
                let now = match days {
                    Some(days) => format!("is {days}"),
                    None => format!(
                        "is not set (Claude Code's default: {})",
                        ClaudeCleanup::DEFAULT_DAYS
                    ),
                };
                outln!(
                    "warning: claude: {}: cleanupPeriodDays {now}: Claude Code deletes older transcripts silently. \
                     Import them now (kaizen import claude), archive each session as it ends (kaizen hook claude, see the README), \
                     or set \"cleanupPeriodDays\": 36500 there",
                    settings.display()
                );
            }
        }
    }
    // A variable naming a folder that is not there: the agent's logs are elsewhere, or
    // nowhere, and an import of the defaults finds nothing without a word.
    for variable in ["CLAUDE_CONFIG_DIR", "CODEX_HOME"] {
        let Some(value) = std::env::var_os(variable) else {
            continue;
        };
        let value = value.to_string_lossy().into_owned();
        // CLAUDE_CONFIG_DIR is a comma-separated list (as `kaizen_import::default_roots`
        // reads it); CODEX_HOME one folder.
        let folders: Vec<&str> = match variable {
            "CLAUDE_CONFIG_DIR" => value.split(',').map(str::trim).collect(),
            _ => vec![value.trim()],
        };
        for folder in folders.into_iter().filter(|f| !f.is_empty()) {
            let folder = std::path::Path::new(folder);
            if !folder.is_dir() {
                warnings += 1;
                outln!(
                    "warning: ${variable} names {}, which is not a folder: that agent's logs are not found there",
                    folder.display()
                );
            }
        }
    }
    for agent in Agent::AGENTS {
        let files = kaizen_import::discover(agent, &[])?;
        let bytes: u64 = (files.iter())
            .filter_map(|f| std::fs::metadata(&f.path).ok())
            .map(|m| m.len())
            .sum();
        outln!(
            "{}: {} log file(s), {} on this machine",
            agent.name(),
            files.len(),
            crate::output::bytes(bytes)
        );
    }
    match warnings {
        0 => {
            outln!("no problem found");
            Ok(())
        }
        n => {
            outln!("{n} warning(s)");
            Err(Warned(n).into())
        }
    }
}
