use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Error, Payload, Result, UtcDay};

/// What happened. Stored as its name (`kind` column, a string), so the set is closed: a
/// name outside it is an error, never read as another kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventKind {
    /// The agent asked for a tool (`tool`, `tool_call_id` say which).
    ToolCall,
    /// A tool's result came back (`latency_ms`: how long since its call, when known).
    ToolResult,
    /// Text from the user or the model.
    Message,
    /// An error the agent reported (an API error, a failed request).
    Error,
    /// Usage and cost without a message of its own (Codex's `token_count`).
    Cost,
    /// An agent's hook ran.
    Hook,
    /// Anything else of a session's life: start, summary, snapshots, records kept as they
    /// are.
    Lifecycle,
}

impl EventKind {
    /// Every kind, in the order of its declaration (the order reports list them in).
    pub const ALL: [EventKind; 7] = [
        EventKind::ToolCall,
        EventKind::ToolResult,
        EventKind::Message,
        EventKind::Error,
        EventKind::Cost,
        EventKind::Hook,
        EventKind::Lifecycle,
    ];

    /// The name stored in the `kind` column (`ToolCall`, …), as v1 wrote it.
    pub const fn name(self) -> &'static str {
        match self {
            EventKind::ToolCall => "ToolCall",
            EventKind::ToolResult => "ToolResult",
            EventKind::Message => "Message",
            EventKind::Error => "Error",
            EventKind::Cost => "Cost",
            EventKind::Hook => "Hook",
            EventKind::Lifecycle => "Lifecycle",
        }
    }

    /// Exact, case-sensitive: an unknown name is `None`, never a fallback kind.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// How the event reached kaizen. Stored as its name (`source` column); a closed set like
/// [`EventKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventSource {
    /// Read from the agent's own log files (every `kaizen import` event).
    Tail,
    /// Sent by an agent's hook as it happened.
    Hook,
    /// Seen by a proxy between the agent and its model's API.
    Proxy,
}

impl EventSource {
    /// Every source, in the order of its declaration.
    pub const ALL: [EventSource; 3] = [EventSource::Tail, EventSource::Hook, EventSource::Proxy];

    /// The name stored in the `source` column (`Tail`, …), as v1 wrote it.
    pub const fn name(self) -> &'static str {
        match self {
            EventSource::Tail => "Tail",
            EventSource::Hook => "Hook",
            EventSource::Proxy => "Proxy",
        }
    }

    /// Exact, case-sensitive: an unknown name is `None`, never a fallback source.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for EventSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One telemetry event of a coding agent. Its identity is `(session_id, seq)`.
///
/// The serde JSON form has the 22 fields in v1 column order, optional ones as `null`.
/// Deserializing goes through [`Event::from_json`], which validates every field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// The agent's session (first half of the identity): events of one session are read
    /// together, so it is the store's bloom-filtered column.
    pub session_id: String,
    /// Position in the session (second half of the identity); a source chooses it so that
    /// the same event read twice gets the same `seq` and is stored once.
    pub seq: u64,
    /// When it happened, milliseconds since the Unix epoch (UTC); its UTC day is the
    /// partition the event lives in.
    pub ts_ms: u64,
    /// `false` when `ts_ms` is an estimate (a log line without a time took its neighbour's).
    pub ts_exact: bool,
    /// What happened.
    pub kind: EventKind,
    /// How it reached kaizen.
    pub source: EventSource,
    /// The tool's name, for tool calls and results.
    pub tool: Option<String>,
    /// The agent's id of a tool call, shared by the call and its result.
    pub tool_call_id: Option<String>,
    /// Input tokens, excluding cache reads and writes (the store's one convention; those
    /// are `cache_read_tokens` and `cache_creation_tokens`).
    pub tokens_in: Option<u32>,
    /// Output tokens, reasoning included.
    pub tokens_out: Option<u32>,
    /// Reasoning ("thinking") tokens: a part of `tokens_out`, not added to it.
    pub reasoning_tokens: Option<u32>,
    /// Cost in micro-dollars (1 = $0.000001): an integer, so sums are exact; negative for
    /// credits.
    pub cost_usd_e6: Option<i64>,
    /// Why the model stopped (`end_turn`, `tool_use`, …), as the agent wrote it.
    pub stop_reason: Option<String>,
    /// How long it took, milliseconds (a tool result: since its call).
    pub latency_ms: Option<u32>,
    /// Time to the first token of a response, milliseconds.
    pub ttft_ms: Option<u32>,
    /// How many times the request was retried before this outcome.
    pub retry_count: Option<u16>,
    /// Tokens of the context window in use.
    pub context_used_tokens: Option<u32>,
    /// The context window's size, tokens.
    pub context_max_tokens: Option<u32>,
    /// Tokens written to the prompt cache (all TTLs together).
    pub cache_creation_tokens: Option<u32>,
    /// Tokens read from the prompt cache.
    pub cache_read_tokens: Option<u32>,
    /// Tokens of the system prompt.
    pub system_prompt_tokens: Option<u32>,
    /// Everything else, as any JSON value (kept as its text, byte for byte).
    pub payload: Payload,
}

impl Event {
    /// An event with the required fields set, every optional one absent and a `null` payload.
    pub fn new(
        session_id: impl Into<String>,
        seq: u64,
        ts_ms: u64,
        kind: EventKind,
        source: EventSource,
    ) -> Self {
        Event {
            session_id: session_id.into(),
            seq,
            ts_ms,
            ts_exact: true,
            kind,
            source,
            tool: None,
            tool_call_id: None,
            tokens_in: None,
            tokens_out: None,
            reasoning_tokens: None,
            cost_usd_e6: None,
            stop_reason: None,
            latency_ms: None,
            ttft_ms: None,
            retry_count: None,
            context_used_tokens: None,
            context_max_tokens: None,
            cache_creation_tokens: None,
            cache_read_tokens: None,
            system_prompt_tokens: None,
            payload: Payload::null(),
        }
    }

    /// Parses and validates one event from its JSON text (one line of JSON Lines).
    pub fn from_json(text: &str) -> Result<Event> {
        crate::json::parse_event(text)
    }

    /// The UTC day the event belongs to (the day of `ts_ms`).
    pub fn day(&self) -> Result<UtcDay> {
        UtcDay::of_ts_ms(self.ts_ms)
    }

    /// Checks what the types alone do not: `ts_ms` must fall on a day the layout can name.
    pub fn validate(&self) -> Result<()> {
        self.day().map(drop)
    }

    /// The sort key of the store: `(ts_ms, session_id, seq)`.
    pub fn sort_key(&self) -> (u64, &str, u64) {
        (self.ts_ms, &self.session_id, self.seq)
    }

    /// The event's serde JSON form, one line (the 22 fields in v1 column order, absent
    /// ones as `null`): what [`Event::from_json`] reads back.
    pub fn to_json(&self) -> String {
        // Serializing an Event cannot fail: every field is a plain value or validated JSON.
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let raw = Box::<serde_json::value::RawValue>::deserialize(deserializer)?;
        Event::from_json(raw.get()).map_err(|e| match e {
            Error::Syntax { message, .. } => D::Error::custom(message),
            other => D::Error::custom(other),
        })
    }
}
