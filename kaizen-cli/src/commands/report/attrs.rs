//! Where each figure the report needs beyond the typed columns is read: the one place that
//! knows which live in the payload today. Swapping one for a typed column (a `model`
//! column, say) is a change here alone: every query of the report uses these fragments.
//!
//! Payload reads cost most of a report's time (payloads are most of a store's bytes), so
//! [`Attr::own_sql`] and the figures below are only in a query that needs them.

/// An attribute of an event that a report groups by and that is not a typed column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Attr {
    /// The model an event counts under.
    Model,
    /// The agent (claude, codex, gemini, …).
    Agent,
    /// Where the session ran (a folder, a project hash).
    Project,
    /// The machine.
    Host,
}

impl Attr {
    /// The attribute's name (and the column name of its key in a report).
    pub fn name(self) -> &'static str {
        match self {
            Attr::Model => "model",
            Attr::Agent => "agent",
            Attr::Project => "project",
            Attr::Host => "host",
        }
    }

    /// The value the event itself names (NULL when it names none): today the top-level key
    /// of the same name in its payload (`kaizen-import`'s payload wrapper writes `model`,
    /// `agent` and `project`; other writers may add `host`).
    pub fn own_sql(self) -> String {
        format!("json_get_text(payload, '{}')", self.name())
    }

    /// The value for events whose session names none in the window: model, agent and
    /// project are unknown; a host is the store the event lives in (one store per machine
    /// is how machines share a bucket).
    pub fn fallback_sql(self) -> &'static str {
        match self {
            Attr::Host => "store",
            _ => "'(unknown)'",
        }
    }
}

/// Tokens written to the 1-hour prompt cache, of `cache_creation_tokens` (the rest are
/// 5-minute writes, as are all writes of a source that does not say which: priced so by
/// ccusage and the price table too). Today the payload's top-level `cache_creation_1h`
/// (`kaizen-import` writes it where the log splits cache writes); only events with cache
/// writes are parsed (a CASE evaluates its THEN on the rows its WHEN selects).
pub const CACHE_WRITE_1H: &str = "CASE WHEN cache_creation_tokens > 0
     THEN least(coalesce(TRY_CAST(json_get_text(payload, 'cache_creation_1h') AS BIGINT), 0),
                CAST(cache_creation_tokens AS BIGINT))
     ELSE 0 END";

/// Failed tool results of each event: 1 for a tool result whose payload's top-level `ok` is
/// `false` (kaizen's own events), else the payload's top-level `tool_errors` (imported
/// agent logs count failed tool results there: Claude's and Codex's on the tool result,
/// Gemini's on its calls). Only those kinds' payloads are parsed.
pub const FAILED_TOOL_RESULTS: &str = "CASE WHEN kind IN ('ToolResult', 'ToolCall', 'Message')
     THEN CASE WHEN kind = 'ToolResult' AND json_get_text(payload, 'ok') = 'false'
               THEN 1
               ELSE coalesce(TRY_CAST(json_get_text(payload, 'tool_errors') AS BIGINT), 0)
          END
     ELSE 0 END";

/// An API response's event: one that carries token figures (ccusage's "entries": a
/// block's activity, and what is repriced).
pub const IS_RESPONSE: &str = "(tokens_in IS NOT NULL OR tokens_out IS NOT NULL
     OR cache_read_tokens IS NOT NULL OR cache_creation_tokens IS NOT NULL)";
