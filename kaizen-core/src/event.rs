use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Error, Payload, Result, UtcDay};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventKind {
    ToolCall,
    ToolResult,
    Message,
    Error,
    Cost,
    Hook,
    Lifecycle,
}

impl EventKind {
    pub const ALL: [EventKind; 7] = [
        EventKind::ToolCall,
        EventKind::ToolResult,
        EventKind::Message,
        EventKind::Error,
        EventKind::Cost,
        EventKind::Hook,
        EventKind::Lifecycle,
    ];

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

/// How the event reached kaizen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventSource {
    Tail,
    Hook,
    Proxy,
}

impl EventSource {
    pub const ALL: [EventSource; 3] = [EventSource::Tail, EventSource::Hook, EventSource::Proxy];

    pub const fn name(self) -> &'static str {
        match self {
            EventSource::Tail => "Tail",
            EventSource::Hook => "Hook",
            EventSource::Proxy => "Proxy",
        }
    }

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
    pub session_id: String,
    pub seq: u64,
    pub ts_ms: u64,
    pub ts_exact: bool,
    pub kind: EventKind,
    pub source: EventSource,
    pub tool: Option<String>,
    pub tool_call_id: Option<String>,
    pub tokens_in: Option<u32>,
    pub tokens_out: Option<u32>,
    pub reasoning_tokens: Option<u32>,
    /// Micro-dollars; negative for credits.
    pub cost_usd_e6: Option<i64>,
    pub stop_reason: Option<String>,
    pub latency_ms: Option<u32>,
    pub ttft_ms: Option<u32>,
    pub retry_count: Option<u16>,
    pub context_used_tokens: Option<u32>,
    pub context_max_tokens: Option<u32>,
    pub cache_creation_tokens: Option<u32>,
    pub cache_read_tokens: Option<u32>,
    pub system_prompt_tokens: Option<u32>,
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
