//! Finding agent log files: default roots, and PATHs that are a root, a project folder or
//! one file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::{Agent, Error, Result, SourceFile};

/// The default roots of an agent's logs (whether or not they exist):
/// - Claude: each entry of `$CLAUDE_CONFIG_DIR` (comma-separated), else `~/.claude` and
///   `~/.config/claude`;
/// - Codex: `$CODEX_HOME`, else `~/.codex`;
/// - Gemini: `~/.gemini/tmp`, and `$GEMINI_DATA_DIR` when set (the test-data generator's
///   variable, pointing at a `tmp` folder);
/// - upstream kaizen's databases: `~/.kaizen` (they are `projects/*/kaizen.db` under it);
/// - kaizen JSON Lines: none.
pub fn default_roots(agent: Agent) -> Vec<PathBuf> {
    roots_from(agent, &|name| std::env::var_os(name))
}

/// [`default_roots`] with the environment given (testable without touching the process's).
fn roots_from(agent: Agent, env: &dyn Fn(&str) -> Option<std::ffi::OsString>) -> Vec<PathBuf> {
    let home = || env("HOME").filter(|h| !h.is_empty()).map(PathBuf::from);
    match agent {
        Agent::Claude => match env("CLAUDE_CONFIG_DIR").and_then(|d| d.into_string().ok()) {
            Some(dirs) if !dirs.trim().is_empty() => dirs
                .split(',')
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(PathBuf::from)
                .collect(),
            _ => home()
                .map(|h| vec![h.join(".claude"), h.join(".config").join("claude")])
                .unwrap_or_default(),
        },
        Agent::Codex => match env("CODEX_HOME").filter(|v| !v.is_empty()) {
            Some(dir) => vec![PathBuf::from(dir)],
            None => home().map(|h| vec![h.join(".codex")]).unwrap_or_default(),
        },
        Agent::Gemini => {
            let mut roots: Vec<PathBuf> = home()
                .map(|h| vec![h.join(".gemini").join("tmp")])
                .unwrap_or_default();
            if let Some(dir) = env("GEMINI_DATA_DIR").filter(|v| !v.is_empty()) {
                roots.push(PathBuf::from(dir));
            }
            roots
        }
        Agent::KaizenDb => home().map(|h| vec![h.join(".kaizen")]).unwrap_or_default(),
        Agent::Kaizen => Vec::new(),
    }
}

/// The files of `agent` under `paths` (each a root, a project folder or one file), or under
/// the default roots when `paths` is empty (missing default roots are skipped; a missing
/// PATH is an error). Sorted by relative path; a file found twice under one relative path
/// (a Codex rollout in both `sessions/` and `archived_sessions/`, a Claude folder reached
/// through two roots) is listed once, the larger copy.
pub fn discover(agent: Agent, paths: &[PathBuf]) -> Result<Vec<SourceFile>> {
    let explicit = !paths.is_empty();
    let roots = if explicit {
        paths.to_vec()
    } else {
        default_roots(agent)
    };
    let mut found: BTreeMap<String, (u64, SourceFile)> = BTreeMap::new();
    for root in &roots {
        let meta = match std::fs::metadata(root) {
            Ok(m) => m,
            Err(_) if !explicit => continue,
            Err(e) => {
                return Err(Error::Discover {
                    path: root.clone(),
                    reason: match e.kind() {
                        std::io::ErrorKind::NotFound => "does not exist".into(),
                        _ => e.to_string(),
                    },
                });
            }
        };
        let mut files = Vec::new();
        if meta.is_file() {
            files.push(root.clone());
        } else if agent == Agent::KaizenDb {
            databases(root, &mut files);
        } else {
            for sub in start_dirs(agent, root) {
                walk(&sub, &mut files)?;
            }
            files.retain(|f| wanted(agent, f));
        }
        if explicit && files.is_empty() {
            // Silence (an empty summary, exit 0) would read as "imported, nothing new".
            return Err(Error::NothingFound {
                path: root.clone(),
                reason: nothing_found(agent),
            });
        }
        for path in files {
            let Some(rel) = rel_path(agent, &path) else {
                continue;
            };
            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            let keep = found.get(&rel).is_none_or(|(s, _)| size > *s);
            if keep {
                found.insert(rel.clone(), (size, SourceFile { agent, path, rel }));
            }
        }
    }
    Ok(found.into_values().map(|(_, f)| f).collect())
}

/// What a PATH holding no file of `agent` is told (where discovery looked).
fn nothing_found(agent: Agent) -> &'static str {
    match agent {
        Agent::Claude => {
            "no Claude Code transcripts found (looked for projects/*/*.jsonl: *.jsonl at any depth under its projects/ folder, or under it when it has none)"
        }
        Agent::Codex => {
            "no Codex rollouts found (looked for sessions/YYYY/MM/DD/*.jsonl: *.jsonl at any depth under its sessions/ and archived_sessions/ folders, or under it when it has neither)"
        }
        Agent::Gemini => {
            "no Gemini CLI chats found (looked for tmp/*/chats/*.json and *.jsonl: files in a chats/ folder at any depth under its tmp/ folder, or under it when it has none)"
        }
        Agent::KaizenDb => {
            "no upstream kaizen databases found (looked for projects/*/kaizen.db, kaizen.db and */kaizen.db in it)"
        }
        Agent::Kaizen => "no files found",
    }
}

/// Upstream kaizen's databases under a folder, at the depths upstream's layout has them
/// and no deeper: `projects/*/kaizen.db` (the folder is a kaizen home, `~/.kaizen`), else
/// `kaizen.db` (one project folder), else `*/kaizen.db` (a folder of project folders,
/// `~/.kaizen/projects`). Folders that cannot be listed are passed over.
fn databases(root: &Path, files: &mut Vec<PathBuf>) {
    let projects = root.join("projects");
    if !projects.is_dir() && root.join(KAIZEN_DB).is_file() {
        files.push(root.join(KAIZEN_DB)); // a project folder
        return;
    }
    let parent = if projects.is_dir() { &projects } else { root };
    let mut found: Vec<PathBuf> = std::fs::read_dir(parent)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join(KAIZEN_DB))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    files.extend(found);
}

/// Where to walk under a root: the agent's own folders when the root holds them.
fn start_dirs(agent: Agent, root: &Path) -> Vec<PathBuf> {
    let sub = |names: &[&str]| -> Vec<PathBuf> {
        let dirs: Vec<PathBuf> = names
            .iter()
            .map(|n| root.join(n))
            .filter(|p| p.is_dir())
            .collect();
        if dirs.is_empty() {
            vec![root.to_owned()]
        } else {
            dirs
        }
    };
    match agent {
        Agent::Claude => sub(&["projects"]),
        Agent::Codex => sub(&["sessions", "archived_sessions"]),
        Agent::Gemini => sub(&["tmp"]),
        Agent::KaizenDb => sub(&["projects"]),
        Agent::Kaizen => vec![root.to_owned()],
    }
}

/// All regular files under `dir` (symbolic links to folders are not followed).
fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut entries: Vec<_> = entries
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| Error::io(dir, e))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let ty = entry.file_type().map_err(|e| Error::io(&path, e))?;
        if ty.is_dir() {
            walk(&path, files)?;
        } else if ty.is_file() || (ty.is_symlink() && path.is_file()) {
            files.push(path);
        }
    }
    Ok(())
}

/// The file name of an upstream kaizen database.
const KAIZEN_DB: &str = "kaizen.db";

fn name_of(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).unwrap_or("")
}

fn parent_name(path: &Path, up: usize) -> Option<&str> {
    let mut p = path;
    for _ in 0..up {
        p = p.parent()?;
    }
    p.file_name()?.to_str()
}

fn wanted(agent: Agent, path: &Path) -> bool {
    let name = name_of(path);
    match agent {
        Agent::Claude => name.ends_with(".jsonl"),
        Agent::Codex => name.ends_with(".jsonl"),
        Agent::Gemini => {
            (name.ends_with(".json") || name.ends_with(".jsonl"))
                && parent_name(path, 1) == Some("chats")
        }
        Agent::KaizenDb => name == KAIZEN_DB,
        Agent::Kaizen => true,
    }
}

/// A file's path relative to its agent's root, from its place in the agent's layout (so
/// the same session found in two places has one identity).
pub fn rel_path(agent: Agent, path: &Path) -> Option<String> {
    let name = name_of(path);
    if name.is_empty() {
        return None;
    }
    match agent {
        Agent::Claude => {
            if parent_name(path, 1) == Some("subagents") {
                let sid = parent_name(path, 2)?;
                let project = parent_name(path, 3)?;
                Some(format!("projects/{project}/{sid}/subagents/{name}"))
            } else {
                let project = parent_name(path, 1).unwrap_or("unknown-project");
                Some(format!("projects/{project}/{name}"))
            }
        }
        Agent::Codex => {
            // rollout-YYYY-MM-DDTHH-MM-SS-<uuid>.jsonl lives in sessions/YYYY/MM/DD/.
            let date = name.strip_prefix("rollout-").and_then(|r| r.get(..10));
            match date {
                Some(d)
                    if d.as_bytes().get(4) == Some(&b'-')
                        && d.as_bytes().get(7) == Some(&b'-')
                        && d.bytes().filter(u8::is_ascii_digit).count() == 8 =>
                {
                    Some(format!(
                        "sessions/{}/{}/{}/{name}",
                        &d[..4],
                        &d[5..7],
                        &d[8..10]
                    ))
                }
                _ => Some(format!("sessions/{name}")),
            }
        }
        Agent::Gemini => {
            let hash = if parent_name(path, 1) == Some("chats") {
                parent_name(path, 2).unwrap_or("unknown-project")
            } else {
                parent_name(path, 1).unwrap_or("unknown-project")
            };
            Some(format!("tmp/{hash}/chats/{name}"))
        }
        // `projects/<slug>/kaizen.db`: the slug is the folder holding the file.
        Agent::KaizenDb => {
            let slug = parent_name(path, 1).unwrap_or("unknown-project");
            Some(format!("projects/{slug}/{name}"))
        }
        Agent::Kaizen => Some(path.display().to_string()),
    }
}

/// A [`SourceFile`] for one file of `agent`, its relative path taken from its place.
pub fn source_file(agent: Agent, path: impl Into<PathBuf>) -> Option<SourceFile> {
    let path = path.into();
    let rel = rel_path(agent, &path)?;
    Some(SourceFile { agent, path, rel })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<std::ffi::OsString> + 'a {
        move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.into())
    }

    #[test]
    fn default_roots_follow_the_environment() {
        let home = [("HOME", "/h")];
        assert_eq!(
            roots_from(Agent::Claude, &env(&home)),
            [
                PathBuf::from("/h/.claude"),
                PathBuf::from("/h/.config/claude")
            ]
        );
        let dirs = [("HOME", "/h"), ("CLAUDE_CONFIG_DIR", "/a, /b,")];
        assert_eq!(
            roots_from(Agent::Claude, &env(&dirs)),
            [PathBuf::from("/a"), PathBuf::from("/b")]
        );
        assert_eq!(
            roots_from(Agent::Codex, &env(&home)),
            [PathBuf::from("/h/.codex")]
        );
        let codex = [("HOME", "/h"), ("CODEX_HOME", "/c")];
        assert_eq!(
            roots_from(Agent::Codex, &env(&codex)),
            [PathBuf::from("/c")]
        );
        let gemini = [("HOME", "/h"), ("GEMINI_DATA_DIR", "/g/tmp")];
        assert_eq!(
            roots_from(Agent::Gemini, &env(&gemini)),
            [PathBuf::from("/h/.gemini/tmp"), PathBuf::from("/g/tmp")]
        );
        assert!(roots_from(Agent::Claude, &env(&[])).is_empty());
    }

    #[test]
    fn relative_paths_come_from_the_layout() {
        let rel = |a, p: &str| rel_path(a, Path::new(p)).unwrap();
        assert_eq!(
            rel(Agent::Claude, "/x/projects/-p/s.jsonl"),
            "projects/-p/s.jsonl"
        );
        assert_eq!(
            rel(Agent::Claude, "/anywhere/-p/s/subagents/agent-a.jsonl"),
            "projects/-p/s/subagents/agent-a.jsonl"
        );
        assert_eq!(
            rel(
                Agent::Codex,
                "/c/archived_sessions/rollout-2026-10-01T11-00-00-u.jsonl"
            ),
            "sessions/2026/10/01/rollout-2026-10-01T11-00-00-u.jsonl"
        );
        assert_eq!(
            rel(Agent::Gemini, "/g/tmp/h/chats/s.json"),
            "tmp/h/chats/s.json"
        );
    }
}

/// What a Claude Code root's `settings.json` says about deleting transcripts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaudeCleanup {
    /// The root (a default root or an entry of `$CLAUDE_CONFIG_DIR`).
    pub root: PathBuf,
    /// `cleanupPeriodDays` from `<root>/settings.json`; `None` when the file or the key is
    /// absent, in which case Claude Code deletes transcripts older than 30 days.
    pub cleanup_period_days: Option<u64>,
    /// The key's JSON when it is there but not a whole number of days (`"90"`, `-1`):
    /// how Claude Code reads such a value is not documented.
    pub unreadable_setting: Option<String>,
    /// Why `settings.json` could not be read as JSON (file, line, column), when it could
    /// not: the setting is then unknown.
    pub settings_error: Option<String>,
}

impl ClaudeCleanup {
    /// Claude Code's default when `cleanupPeriodDays` is not set.
    pub const DEFAULT_DAYS: u64 = 30;

    /// Whether transcripts older than about a month are deleted (unset, or at most 30 days):
    /// what `kaizen doctor` warns about.
    pub fn deletes_within_a_month(&self) -> bool {
        self.cleanup_period_days
            .is_none_or(|d| d <= Self::DEFAULT_DAYS)
    }
}

/// Reads `cleanupPeriodDays` in each existing Claude root (`roots`, or the default roots
/// when empty). A `settings.json` that is not JSON is said in its root's
/// [`ClaudeCleanup::settings_error`]; one that cannot be read is an error naming it.
pub fn claude_cleanup(roots: &[PathBuf]) -> Result<Vec<ClaudeCleanup>> {
    let roots = if roots.is_empty() {
        default_roots(Agent::Claude)
    } else {
        roots.to_vec()
    };
    let mut out = Vec::new();
    for root in roots.into_iter().filter(|r| r.is_dir()) {
        let path = root.join("settings.json");
        let mut cleanup = ClaudeCleanup {
            root,
            cleanup_period_days: None,
            unreadable_setting: None,
            settings_error: None,
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(v) => {
                    if let Some(setting) = v.get("cleanupPeriodDays") {
                        cleanup.cleanup_period_days = crate::util::json_count(setting);
                        if cleanup.cleanup_period_days.is_none() {
                            cleanup.unreadable_setting = Some(setting.to_string());
                        }
                    }
                }
                Err(e) => {
                    cleanup.settings_error = Some(format!(
                        "{}:{}:{}: not JSON: {e}",
                        path.display(),
                        e.line(),
                        e.column()
                    ))
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&path, e)),
        }
        out.push(cleanup);
    }
    Ok(out)
}

/// Puts `files` in the order their agents last wrote them (modification time, oldest
/// first; files without one last; ties by agent and relative path).
///
/// Why: an agent appends as it works, so a file's mtime is about its session's end, and
/// reading in this order hands the store's writer events a day or two at a time instead
/// of every day at once. Its memory then fills with few days, and each day is written as
/// a few large files instead of one small file per flush: reports over an imported store
/// read a few files a day instead of dozens. Which events are imported does not depend on
/// the order (each file's cursor is its own).
pub fn in_time_order(files: &mut [SourceFile]) {
    let mtime = |f: &SourceFile| {
        std::fs::metadata(&f.path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
    };
    files.sort_by_cached_key(|f| {
        let time = mtime(f);
        (time.is_none(), time, f.agent.name(), f.rel.clone())
    });
}
