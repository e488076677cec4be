/// The 22 fields of an event, in the column order of the v1 format (which new files keep).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// `session_id`: the session, first half of an event's identity.
    SessionId,
    /// `seq`: the position in the session, second half of the identity.
    Seq,
    /// `ts_ms`: milliseconds since the Unix epoch (UTC).
    TsMs,
    /// `ts_exact`: whether `ts_ms` is the event's own time or an estimate.
    TsExact,
    /// `kind`: an [`crate::EventKind`]'s name.
    Kind,
    /// `source`: an [`crate::EventSource`]'s name.
    Source,
    /// `tool`: the tool's name.
    Tool,
    /// `tool_call_id`: the agent's id of a tool call.
    ToolCallId,
    /// `tokens_in`: input tokens, cache reads and writes excluded.
    TokensIn,
    /// `tokens_out`: output tokens, reasoning included.
    TokensOut,
    /// `reasoning_tokens`: the reasoning part of `tokens_out`.
    ReasoningTokens,
    /// `cost_usd_e6`: micro-dollars.
    CostUsdE6,
    /// `payload`: any JSON value, as its text.
    Payload,
    /// `stop_reason`: why the model stopped.
    StopReason,
    /// `latency_ms`: how long it took, milliseconds.
    LatencyMs,
    /// `ttft_ms`: time to first token, milliseconds.
    TtftMs,
    /// `retry_count`: retries before this outcome.
    RetryCount,
    /// `context_used_tokens`: tokens of the context window in use.
    ContextUsedTokens,
    /// `context_max_tokens`: the context window's size.
    ContextMaxTokens,
    /// `cache_creation_tokens`: tokens written to the prompt cache.
    CacheCreationTokens,
    /// `cache_read_tokens`: tokens read from the prompt cache.
    CacheReadTokens,
    /// `system_prompt_tokens`: tokens of the system prompt.
    SystemPromptTokens,
    /// `model` (derived, schema 2): the payload's top-level `model` string.
    Model,
    /// `agent` (derived, schema 2): the payload's top-level `agent` string.
    Agent,
    /// `project` (derived, schema 2): the payload's top-level `project` string.
    Project,
    /// `cache_creation_1h_tokens` (derived, schema 2): the payload's top-level
    /// `cache_creation_1h` count, the one-hour part of `cache_creation_tokens`.
    CacheCreation1hTokens,
    /// `tool_errors` (derived, schema 2): failed tool results the payload records (its
    /// top-level `tool_errors`, else 1 where its `ok` is `false`).
    ToolErrors,
}

impl Field {
    /// Every field, in the v1 column order (the order of a file's columns).
    pub const ALL: [Field; 22] = [
        Field::SessionId,
        Field::Seq,
        Field::TsMs,
        Field::TsExact,
        Field::Kind,
        Field::Source,
        Field::Tool,
        Field::ToolCallId,
        Field::TokensIn,
        Field::TokensOut,
        Field::ReasoningTokens,
        Field::CostUsdE6,
        Field::Payload,
        Field::StopReason,
        Field::LatencyMs,
        Field::TtftMs,
        Field::RetryCount,
        Field::ContextUsedTokens,
        Field::ContextMaxTokens,
        Field::CacheCreationTokens,
        Field::CacheReadTokens,
        Field::SystemPromptTokens,
    ];

    /// The derived columns, added in schema 2 after the 22 v1 columns: the attributes a
    /// payload names at its top level ([`crate::PayloadAttributes`]), kept typed so reports
    /// need not read payloads. They are not fields of an [`crate::Event`] (not in its JSON
    /// form, not part of its equality): a writer computes them from the payload, and a
    /// reader of a v1 file, which has none, computes them the same way.
    pub const DERIVED: [Field; 5] = [
        Field::Model,
        Field::Agent,
        Field::Project,
        Field::CacheCreation1hTokens,
        Field::ToolErrors,
    ];

    /// Every column of a file this build writes: the 22 event fields in v1 order, then the
    /// [`Field::DERIVED`] columns.
    pub const COLUMNS: [Field; 27] = {
        let mut columns = [Field::SessionId; 27];
        let mut i = 0;
        while i < 22 {
            columns[i] = Field::ALL[i];
            i += 1;
        }
        while i < 27 {
            columns[i] = Field::DERIVED[i - 22];
            i += 1;
        }
        columns
    };

    /// The order of the fields in the serde JSON form: the v1 column order with `payload`
    /// last, as event producers write it.
    pub const JSON_ORDER: [Field; 22] = {
        let mut order = [Field::SessionId; 22];
        let mut i = 0;
        let mut j = 0;
        while i < 22 {
            if !matches!(Field::ALL[i], Field::Payload) {
                order[j] = Field::ALL[i];
                j += 1;
            }
            i += 1;
        }
        order[21] = Field::Payload;
        order
    };

    /// The field's name in JSON and its column name in Parquet.
    pub const fn name(self) -> &'static str {
        match self {
            Field::SessionId => "session_id",
            Field::Seq => "seq",
            Field::TsMs => "ts_ms",
            Field::TsExact => "ts_exact",
            Field::Kind => "kind",
            Field::Source => "source",
            Field::Tool => "tool",
            Field::ToolCallId => "tool_call_id",
            Field::TokensIn => "tokens_in",
            Field::TokensOut => "tokens_out",
            Field::ReasoningTokens => "reasoning_tokens",
            Field::CostUsdE6 => "cost_usd_e6",
            Field::Payload => "payload",
            Field::StopReason => "stop_reason",
            Field::LatencyMs => "latency_ms",
            Field::TtftMs => "ttft_ms",
            Field::RetryCount => "retry_count",
            Field::ContextUsedTokens => "context_used_tokens",
            Field::ContextMaxTokens => "context_max_tokens",
            Field::CacheCreationTokens => "cache_creation_tokens",
            Field::CacheReadTokens => "cache_read_tokens",
            Field::SystemPromptTokens => "system_prompt_tokens",
            Field::Model => "model",
            Field::Agent => "agent",
            Field::Project => "project",
            Field::CacheCreation1hTokens => "cache_creation_1h_tokens",
            Field::ToolErrors => "tool_errors",
        }
    }

    /// Position in [`Field::COLUMNS`] (for an event field also in [`Field::ALL`] and the v1
    /// column order).
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Required fields are never null (`payload` is required but may hold JSON `null`).
    pub const fn is_required(self) -> bool {
        matches!(
            self,
            Field::SessionId
                | Field::Seq
                | Field::TsMs
                | Field::TsExact
                | Field::Kind
                | Field::Source
                | Field::Payload
        )
    }

    /// Whether this is a [`Field::DERIVED`] column rather than an event field.
    pub const fn is_derived(self) -> bool {
        self.index() >= 22
    }

    /// The event field of a JSON key or v1 column name; exact, case-sensitive (`None`
    /// otherwise, and for a derived column's name).
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The column of a name, event field or derived; exact, case-sensitive.
    pub fn column_from_name(name: &str) -> Option<Field> {
        Field::COLUMNS.into_iter().find(|f| f.name() == name)
    }
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
