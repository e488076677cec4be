//! Where each figure the report needs beyond the typed columns is read: the one place that
//! knows which live in the payload today. Swapping one for a typed column (a `model`
//! column, say) is a change here alone: every query of the report uses these fragments.
//!
//! Payload reads cost most of a report's time (payloads are most of a store's bytes):
//! [`Attr::own_sql`] is only in a report by that attribute, [`failed_tool_results`] only
//! in one that reads payloads anyway (or is by tool); [`cache_write_1h`] is in every
//! report, until it is a typed column.

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
        let key = self.name();
        format!(
            "CASE WHEN {may} THEN json_get_text(payload, '{key}') END",
            may = may_have(key)
        )
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

/// Whether the payload may hold the top-level `key`: its quoted name is in the text, or
/// the text has a `\u` escape (a key may be spelled with one). A substring search is many
/// times cheaper than parsing the payload, and most payloads lack most keys; the parse
/// that follows stays the judge (a key nested deeper or inside a string is not one).
fn may_have(key: &str) -> String {
    format!("(contains(payload, '\"{key}\"') OR contains(payload, '\\u'))")
}

/// Tokens written to the 1-hour prompt cache, of `cache_creation_tokens` (the rest are
/// 5-minute writes, as are all writes of a source that does not say which: priced so by
/// ccusage and the price table too). Today the payload's top-level `cache_creation_1h`
/// (`kaizen-import` writes it where the log splits cache writes); only events with cache
/// writes are looked at (a CASE evaluates its THEN on the rows its WHEN selects).
pub fn cache_write_1h() -> String {
    format!(
        "CASE WHEN cache_creation_tokens > 0 AND {may}
     THEN least(coalesce(TRY_CAST(json_get_text(payload, 'cache_creation_1h') AS BIGINT), 0),
                CAST(cache_creation_tokens AS BIGINT))
     ELSE 0 END",
        may = may_have("cache_creation_1h")
    )
}

/// Failed tool results of each event: 1 for a tool result whose payload's top-level `ok` is
/// `false` (kaizen's own events), else the payload's top-level `tool_errors` (imported
/// agent logs count failed tool results there: Claude's and Codex's on the tool result,
/// Gemini's on its calls). Only those kinds' payloads are looked at.
pub fn failed_tool_results() -> String {
    let tool_errors = format!(
        "CASE WHEN {may}
          THEN coalesce(TRY_CAST(json_get_text(payload, 'tool_errors') AS BIGINT), 0)
          ELSE 0 END",
        may = may_have("tool_errors")
    );
    format!(
        "CASE WHEN kind = 'ToolResult' AND {may_ok}
       THEN CASE WHEN json_get_text(payload, 'ok') = 'false' THEN 1 ELSE {tool_errors} END
     WHEN kind IN ('ToolResult', 'ToolCall', 'Message') THEN {tool_errors}
     ELSE 0 END",
        may_ok = may_have("ok")
    )
}

/// An API response's event: one that carries token figures (ccusage's "entries": a
/// block's activity, and what is repriced).
pub const IS_RESPONSE: &str = "(tokens_in IS NOT NULL OR tokens_out IS NOT NULL
     OR cache_read_tokens IS NOT NULL OR cache_creation_tokens IS NOT NULL)";
