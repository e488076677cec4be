//! Agents, source files and cursors.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Where events come from: an agent's own logs, or kaizen's own event JSON Lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Agent {
    /// Claude Code session transcripts (`projects/<dir>/<sessionId>.jsonl` and subagents).
    Claude,
    /// Codex CLI rollout files (`sessions/YYYY/MM/DD/rollout-*.jsonl`, `archived_sessions/`).
    Codex,
    /// Gemini CLI chats (`tmp/<projectHash>/chats/session-*.json` and `.jsonl`).
    Gemini,
    /// kaizen's own event JSON Lines (one [`kaizen_core::Event`] a line, as `kaizen ingest`).
    Kaizen,
    /// Upstream kaizen's SQLite databases (`~/.kaizen/projects/<slug>/kaizen.db`), read
    /// read-only: one event per row of their `events` table.
    KaizenDb,
}

impl Agent {
    /// The agents whose logs [`crate::discover`] finds in default roots.
    pub const AGENTS: [Agent; 3] = [Agent::Claude, Agent::Codex, Agent::Gemini];

    /// Every source with default places on a machine: the agents and upstream kaizen's
    /// databases (what `kaizen import all` reads).
    pub const DEFAULT_SOURCES: [Agent; 4] =
        [Agent::Claude, Agent::Codex, Agent::Gemini, Agent::KaizenDb];

    /// `claude`, `codex`, `gemini`, `kaizen`: the value of the payload's `agent` key;
    /// `kaizen-db` (whose events' payload `agent` is upstream's own, see the crate docs).
    pub const fn name(self) -> &'static str {
        match self {
            Agent::Claude => "claude",
            Agent::Codex => "codex",
            Agent::Gemini => "gemini",
            Agent::Kaizen => "kaizen",
            Agent::KaizenDb => "kaizen-db",
        }
    }

    /// Parses [`Agent::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Agent::Claude,
            Agent::Codex,
            Agent::Gemini,
            Agent::Kaizen,
            Agent::KaizenDb,
        ]
        .into_iter()
        .find(|a| a.name() == name)
    }

    /// The top byte of the `seq` of this agent's events (see the crate docs); `None` for
    /// kaizen's own events and upstream kaizen's database rows, which keep their seq.
    pub const fn seq_kind(self) -> Option<u8> {
        match self {
            Agent::Claude => Some(SEQ_KIND_CLAUDE),
            Agent::Codex => Some(SEQ_KIND_CODEX),
            Agent::Gemini => Some(SEQ_KIND_GEMINI),
            Agent::Kaizen | Agent::KaizenDb => None,
        }
    }
}

/// `seq` namespace (top 8 bits) of Claude Code transcript lines.
pub const SEQ_KIND_CLAUDE: u8 = 0x01;
/// `seq` namespace of Codex rollout lines.
pub const SEQ_KIND_CODEX: u8 = 0x02;
/// `seq` namespace of Gemini CLI chat records.
pub const SEQ_KIND_GEMINI: u8 = 0x03;
/// `seq` namespace of OpenTelemetry (OTLP) log records and GenAI spans ([`crate::otel`]).
pub const SEQ_KIND_OTEL: u8 = 0x04;

impl fmt::Display for Agent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One file to import.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourceFile {
    /// Its format.
    pub agent: Agent,
    /// Where it is on disk.
    pub path: PathBuf,
    /// Its path relative to the agent's root, `/`-separated: what events record as
    /// `payload.path` and where export writes it back. Claude: `projects/<dir>/<file>`;
    /// Codex: `sessions/YYYY/MM/DD/<file>` (also for a file read from `archived_sessions/`,
    /// so an archived session is the same data); Gemini: `tmp/<hash>/chats/<file>`;
    /// kaizen JSON Lines: the path as given; upstream kaizen: `projects/<slug>/kaizen.db`.
    pub rel: String,
}

/// Where the import of one file stopped, and what is needed to go on exactly from there.
/// Serializable (serde JSON); the store keeps one per file, beside the data. A cursor with
/// `size` 0, no `mtime_ms` and nothing consumed is a placeholder for a file of which
/// nothing was read (gone before it was opened, or refused as another agent's): an
/// import takes it as no cursor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// The file's format.
    pub agent: Agent,
    /// The file's [`SourceFile::rel`].
    pub path: String,
    /// The file's size when last read, bytes.
    pub size: u64,
    /// The file's modification time when last read, ms since the epoch (if the OS has one).
    pub mtime_ms: Option<i64>,
    /// How many bytes from the start `head_hash` covers (up to 4 KiB).
    pub head_len: u64,
    /// FNV-1a hash of the first `head_len` bytes: a different head means the file was
    /// replaced, and it is read again from the start.
    pub head_hash: u64,
    /// Bytes consumed: the offset just after the last complete line imported.
    pub consumed: u64,
    /// Complete lines consumed (the next line's number is `lines + 1`).
    pub lines: u64,
    /// The session the file's events belong to.
    pub session_id: Option<String>,
    /// Per-format state to continue exactly (open Claude responses with the tokens already
    /// assigned, Codex's previous total and model, Gemini ids seen…). Opaque.
    pub state: CursorState,
    /// How many times the file was found rewritten (its head changed): its lines are then
    /// other events than the ones stored before, and get other identities (see
    /// [`crate::SEQ_KIND_CLAUDE`]'s layout: this version is mixed into the file field).
    #[serde(default)]
    pub generation: u32,
}

/// A source's state in a [`Cursor`]: a JSON value kept as its text until a source reads
/// it. A store's cursors are one document (tens of MB for tens of thousands of files); a
/// rerun parses each file's state only when the file has grown, so an unchanged tree is
/// checked without building a JSON tree per file (which took 400 MB for 13k files).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CursorState(Box<serde_json::value::RawValue>);

impl CursorState {
    /// The state of `value` (`null` for a value that is not JSON: a map with keys that are
    /// not strings, which no source's state has).
    pub fn of(value: &impl Serialize) -> Self {
        match serde_json::value::to_raw_value(value) {
            Ok(raw) => CursorState(raw),
            Err(_) => Self::default(),
        }
    }

    /// The state as a JSON value.
    pub fn to_value(&self) -> serde_json::Value {
        self.read().unwrap_or(serde_json::Value::Null)
    }

    /// The state as a source's own type. Errors: the JSON does not have that shape.
    pub fn read<T: serde::de::DeserializeOwned>(&self) -> serde_json::Result<T> {
        serde_json::from_str(self.0.get())
    }

    /// The value at a top-level key of an object state.
    pub fn get(&self, key: &str) -> Option<serde_json::Value> {
        match self.to_value() {
            serde_json::Value::Object(mut map) => map.remove(key),
            _ => None,
        }
    }

    /// The state's JSON text.
    pub fn as_json(&self) -> &str {
        self.0.get()
    }
}

impl Default for CursorState {
    /// An empty object.
    fn default() -> Self {
        CursorState::of(&serde_json::Map::new())
    }
}

impl PartialEq for CursorState {
    fn eq(&self, other: &Self) -> bool {
        self.as_json() == other.as_json()
    }
}
