//! Where each figure the report needs beyond the event fields is read: the one place that
//! knows which are the store's derived columns (schema 2: `model`, `agent`, `project`,
//! `cache_creation_1h_tokens`, `tool_errors`, typed and computed from the payloads when
//! written, or when a v1 file is read) and which live in the payload only (`host`). Every
//! query of the report uses these fragments.
//!
//! Payload reads cost most of a report's time (payloads are most of a store's bytes): only
//! a report by host reads them.

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

    /// The value the event itself names (NULL when it names none): the derived column of
    /// the same name (the payload's top-level string, `kaizen-import`'s payload wrapper
    /// writes `model`, `agent` and `project`), or for `host` the payload's top-level key
    /// (other writers may add it).
    pub fn own_sql(self) -> String {
        match self {
            Attr::Model | Attr::Agent | Attr::Project => self.name().to_owned(),
            Attr::Host => format!(
                "CASE WHEN {may} THEN json_get_text(payload, 'host') END",
                may = may_have("host")
            ),
        }
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

/// Tokens written to the 1-hour prompt cache by one event, of `cache_creation_tokens`
/// (the rest are 5-minute writes, as are all writes of a source that does not say which:
/// priced so by ccusage and the price table too): the derived column
/// `cache_creation_1h_tokens` (the payload's top-level `cache_creation_1h`, which
/// `kaizen-import` writes where the log splits cache writes), never more than the event's
/// cache writes.
pub fn cache_write_1h() -> String {
    "CASE WHEN cache_creation_tokens > 0
     THEN least(coalesce(CAST(cache_creation_1h_tokens AS BIGINT), 0),
                CAST(cache_creation_tokens AS BIGINT))
     ELSE 0 END"
        .to_owned()
}

/// [`cache_write_1h`] summed over a group's events (0 for none), as aggregates with a
/// filter: no per-row `CASE` (see `sql::recent_cte`).
pub fn cache_write_1h_sum() -> String {
    // The lesser of the two figures where both are known (an event lacking either wrote no
    // 1-hour tokens; one without cache writes adds 0), taken as two sums so that each
    // filter is one comparison: DataFusion evaluates the right side of an `AND` whose left
    // side holds for few rows on a filtered copy of the whole batch.
    "(coalesce(sum(cache_creation_1h_tokens)
                FILTER (WHERE cache_creation_1h_tokens <= cache_creation_tokens), 0)
      + coalesce(sum(cache_creation_tokens)
                FILTER (WHERE cache_creation_tokens < cache_creation_1h_tokens), 0))"
        .to_owned()
}

/// Failed tool results summed over a group's events (NULL for none): the derived column
/// `tool_errors` (the payload's top-level `tool_errors`, which imported agent logs carry
/// on a tool result, or on a Gemini message for its calls; else 1 for a payload whose `ok`
/// is `false`, kaizen's own tool results), of tool results, tool calls and messages.
pub fn failed_tool_results_sum() -> String {
    "sum(tool_errors) FILTER (WHERE kind IN ('ToolResult', 'ToolCall', 'Message'))".to_owned()
}

/// An API response's event: one that carries token figures (ccusage's "entries": a
/// block's activity, and what is repriced).
pub const IS_RESPONSE: &str = "(tokens_in IS NOT NULL OR tokens_out IS NOT NULL
     OR cache_read_tokens IS NOT NULL OR cache_creation_tokens IS NOT NULL)";
