//! OpenTelemetry (OTLP) log records and GenAI spans → kaizen [`Event`]s: what `kaizen
//! serve` stores. Knows the records Claude Code (`claude_code.*`), Codex (`codex.*`) and
//! Gemini CLI (`gemini_cli.*`) export, and OpenTelemetry's generic GenAI conventions
//! (`gen_ai.*`); anything else is kept too, as a `Lifecycle` event. The types are
//! `opentelemetry-proto`'s generated ones (re-exported as [`proto`]): decode a request with
//! prost (protobuf) or serde (OTLP JSON), then map it here. No store, no I/O.
//!
//! # One event per record, the whole record kept
//! Each log record (each GenAI span) is one event. Its payload is
//! `{"agent","import":"otlp","signal":"logs"|"traces","event":<name>,"host"?,"model"?,
//! "cost_source"?,"response"?,"ok"?,"tool_errors"?,"resource":{…},"scope":{…},
//! "record"|"span":{…}}`: `agent` is `claude`, `codex`, `gemini` (from the event name's
//! prefix, else the resource's `service.name`) or `otel`; `host` is the name of the
//! token the request came with (`kaizen serve --token-file`), the sender's attribution;
//! `resource`, `scope` and `record`/`span` hold every attribute and field as JSON (string
//! and number attribute values as they came).
//!
//! # Columns
//! Kinds: an API request/response with tokens (`claude_code.api_request`,
//! `gemini_cli.api_response`, `codex.sse_event` of `response.completed`, a GenAI inference)
//! → `Cost`; an API error (or a response with an error or HTTP status ≥ 400) → `Error`; a
//! tool result (`*.tool_result`, `gemini_cli.tool_call`) → `ToolResult` (`ok` in the
//! payload from `success`); a GenAI `execute_tool` span → `ToolCall`; a user prompt →
//! `Message`; everything else (tool decisions, config, conversation starts) → `Lifecycle`.
//! `source` is `Hook` (sent by the agent as it happened).
//!
//! Tokens follow the store's convention (`tokens_in` without cache reads and writes,
//! reasoning part of `tokens_out`): Claude's `input_tokens` already exclude the cache;
//! Codex's `input_token_count` and Gemini's include `cached…` (subtracted); Gemini's
//! thoughts are added to its output; `gen_ai.usage.input_tokens` includes
//! `gen_ai.usage.cache_read.input_tokens` and `…cache_creation.input_tokens` (subtracted).
//! A source without a cache figure leaves that column null. The cost is the one the record
//! reports (`cost_usd`, dollars → micro-dollars), never computed here. `latency_ms` is
//! `duration_ms` (a span: end − start), `retry_count` is `attempt − 1`, `stop_reason`
//! `gen_ai.response.finish_reasons`' first.
//!
//! `ts_ms` is the record's `time_unix_nano`, else its `observed_time_unix_nano`, else its
//! `event.timestamp` attribute (RFC 3339); a record with none of them is rejected (never
//! stamped with the time it arrived: a retry would then be another event).
//!
//! # Identity
//! `session_id` is the record's `session.id`, else `conversation.id` (Codex), else
//! `gen_ai.conversation.id`, looked up in the record's attributes and then the resource's;
//! a record with none gets `otel:<service.name>:<hash of the resource>` (a span:
//! `otel-trace:<trace id>`). Claude's `session.id` is the transcript's `sessionId`, so an
//! OTLP session and its transcript share the session id; their `seq` never collide:
//!
//! `seq = 4 << 56 | hash24 << 32 | event.sequence` when the record has an
//! `event.sequence` (0 ≤ n < 2³²), else `4 << 56 | hash56`,
//!
//! with 4 = [`crate::SEQ_KIND_OTEL`] (transcript lines are 1–3) and the hash FNV-1a of the
//! event's payload text (every field of the record, its resource and scope, and the
//! sender's token name). The payload is a function of the record alone (keys in a fixed
//! order), so an export retried after a lost answer, or a spool flushed again after a
//! crash, gives the same events, which the store keeps once; two records that differ in
//! anything are two events, even when a restarted agent numbers `event.sequence` from 0
//! again.
//!
//! # One session from two sources
//! A team may both run `kaizen serve` and import transcripts (`kaizen import`, the hook):
//! the same API response is then one event from each. `kaizen report` counts a session's
//! OTLP events only when its window holds no transcript event of that session (the
//! transcript is the complete record; see [`is_otel_seq`]); `kaizen sql` sees both
//! (`seq >> 56` tells the source: 4 is OTLP).

mod logs;
mod spans;
mod value;

use kaizen_core::{Event, EventKind, EventSource, Payload};
use serde_json::{Map, Value};

pub use logs::logs_to_events;
/// The OpenTelemetry protocol's generated types (`opentelemetry-proto`, prost and serde),
/// the ones these functions read.
pub use opentelemetry_proto::tonic as proto;
pub use spans::spans_to_events;

use crate::util::{fnv64, seq};
use value::Attrs;

/// What a request's records became.
#[derive(Debug, Default)]
pub struct Mapped {
    /// One event per accepted record, in the request's order.
    pub events: Vec<Event>,
    /// Records refused (no time, a time the store cannot place, a span that is not GenAI):
    /// OTLP's `rejected_log_records` / `rejected_spans`.
    pub rejected: u64,
    /// Why the first refused record was refused (OTLP's partial-success `error_message`).
    pub first_error: Option<String>,
}

impl Mapped {
    fn reject(&mut self, reason: String) {
        self.rejected += 1;
        self.first_error.get_or_insert(reason);
    }
}

/// Whether `seq` is in the OTLP namespace ([`crate::SEQ_KIND_OTEL`]): events `kaizen
/// serve` stored, as opposed to transcript lines (1–3) or kaizen's own events.
pub const fn is_otel_seq(seq: u64) -> bool {
    (seq >> 56) as u8 == crate::SEQ_KIND_OTEL
}

/// Where a record came from, for `payload.agent`.
fn agent_of(event: &str, service: Option<&str>) -> &'static str {
    let by_service = |s: &str| {
        let s = s.to_ascii_lowercase();
        if s.contains("claude") {
            Some("claude")
        } else if s.contains("codex") {
            Some("codex")
        } else if s.contains("gemini") {
            Some("gemini")
        } else {
            None
        }
    };
    if event.starts_with("claude_code.") {
        "claude"
    } else if event.starts_with("codex.") {
        "codex"
    } else if event.starts_with("gemini_cli.") {
        "gemini"
    } else {
        service.and_then(by_service).unwrap_or("otel")
    }
}

/// Token figures in the store's convention.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Usage {
    tokens_in: Option<u64>,
    tokens_out: Option<u64>,
    reasoning: Option<u64>,
    cache_read: Option<u64>,
    cache_creation: Option<u64>,
}

impl Usage {
    fn any(&self) -> bool {
        self.tokens_in.is_some() || self.tokens_out.is_some()
    }
}

/// The record's tokens, converted from the sender's convention (see the module docs).
fn usage(agent: &str, a: &Attrs) -> Usage {
    let sub = |total: Option<u64>, parts: &[Option<u64>]| {
        total.map(|t| parts.iter().flatten().fold(t, |t, p| t.saturating_sub(*p)))
    };
    if a.any_prefixed("gen_ai.usage.") {
        let cache_read = a.count("gen_ai.usage.cache_read.input_tokens");
        let cache_creation = a.count("gen_ai.usage.cache_creation.input_tokens");
        return Usage {
            tokens_in: sub(
                a.count("gen_ai.usage.input_tokens"),
                &[cache_read, cache_creation],
            ),
            tokens_out: a.count("gen_ai.usage.output_tokens"),
            reasoning: a.count("gen_ai.usage.reasoning.output_tokens"),
            cache_read,
            cache_creation,
        };
    }
    match agent {
        "codex" => {
            let cached = a.count("cached_token_count");
            Usage {
                tokens_in: sub(a.count("input_token_count"), &[cached]),
                tokens_out: a.count("output_token_count"),
                reasoning: a.count("reasoning_token_count"),
                cache_read: cached,
                cache_creation: None,
            }
        }
        "gemini" => {
            let cached = a.count("cached_content_token_count");
            let thoughts = a.count("thoughts_token_count");
            let output = a.count("output_token_count");
            Usage {
                tokens_in: sub(a.count("input_token_count"), &[cached]),
                tokens_out: match (output, thoughts) {
                    (None, None) => None,
                    (o, t) => Some(o.unwrap_or(0).saturating_add(t.unwrap_or(0))),
                },
                reasoning: thoughts,
                cache_read: cached,
                cache_creation: None,
            }
        }
        _ => Usage {
            tokens_in: a.count("input_tokens"),
            tokens_out: a.count("output_tokens"),
            reasoning: a.count("reasoning_tokens"),
            cache_read: a.count("cache_read_tokens"),
            cache_creation: a.count("cache_creation_tokens"),
        },
    }
}

/// The typed columns a record's attributes give, beside its kind.
struct Columns {
    model: Option<String>,
    usage: Usage,
    cost_usd_e6: Option<i64>,
    latency_ms: Option<u64>,
    ttft_ms: Option<u64>,
    retry_count: Option<u64>,
    tool: Option<String>,
    tool_call_id: Option<String>,
    stop_reason: Option<String>,
    success: Option<bool>,
    failed: bool,
}

fn columns(agent: &str, a: &Attrs) -> Columns {
    let status = a
        .count("status_code")
        .or_else(|| a.count("http.response.status_code"));
    let error = a.first_text(&["error", "error.message", "error.type"]);
    Columns {
        model: a.first_text(&["model", "gen_ai.response.model", "gen_ai.request.model"]),
        usage: usage(agent, a),
        cost_usd_e6: a
            .number("cost_usd")
            .map(|d| (d * 1e6).round())
            .filter(|m| m.abs() < 9.2e18)
            .map(|m| m as i64),
        latency_ms: a.count("duration_ms"),
        ttft_ms: a.count("ttft_ms"),
        retry_count: a.count("attempt").map(|n| n.saturating_sub(1)),
        tool: a.first_text(&["tool_name", "function_name", "gen_ai.tool.name"]),
        tool_call_id: a.first_text(&["tool_use_id", "call_id", "gen_ai.tool.call.id"]),
        stop_reason: a.first_text(&["gen_ai.response.finish_reasons", "stop_reason"]),
        success: a.flag("success"),
        failed: error.is_some() || status.is_some_and(|s| s >= 400),
    }
}

/// Fits a count into a `u32` column; a larger one stays in the payload only.
fn u32_of(n: Option<u64>) -> Option<u32> {
    n.and_then(|n| u32::try_from(n).ok())
}

/// The parts of an event other than its kind and time.
struct Built<'a> {
    session_id: String,
    sequence: Option<u64>,
    ts_ms: u64,
    kind: EventKind,
    cols: &'a Columns,
    payload: Map<String, Value>,
}

/// Makes the event: identity from the payload text (see the module docs).
fn build(b: Built) -> Event {
    let payload = Payload::from_value(&Value::Object(b.payload));
    let h = fnv64(payload.as_json_text().as_bytes());
    let seq = match b.sequence.filter(|n| *n <= u64::from(u32::MAX)) {
        Some(n) => seq(crate::SEQ_KIND_OTEL, ((h >> 32) ^ h) as u32, n),
        None => (u64::from(crate::SEQ_KIND_OTEL) << 56) | (h & 0x00FF_FFFF_FFFF_FFFF),
    };
    let c = b.cols;
    let mut e = Event::new(b.session_id, seq, b.ts_ms, b.kind, EventSource::Hook);
    e.tool = c.tool.clone();
    e.tool_call_id = c.tool_call_id.clone();
    e.tokens_in = u32_of(c.usage.tokens_in);
    e.tokens_out = u32_of(c.usage.tokens_out);
    e.reasoning_tokens = u32_of(c.usage.reasoning);
    e.cache_read_tokens = u32_of(c.usage.cache_read);
    e.cache_creation_tokens = u32_of(c.usage.cache_creation);
    e.cost_usd_e6 = c.cost_usd_e6;
    e.stop_reason = c.stop_reason.clone();
    e.latency_ms = u32_of(c.latency_ms);
    e.ttft_ms = u32_of(c.ttft_ms);
    e.retry_count = c.retry_count.and_then(|n| u16::try_from(n).ok());
    e.payload = payload;
    e
}

/// The payload's head: the keys before the record itself, in a fixed order.
fn payload_head(
    agent: &str,
    signal: &str,
    event: &str,
    host: Option<&str>,
    cols: &Columns,
    kind: EventKind,
) -> Map<String, Value> {
    let mut p = Map::new();
    p.insert("agent".into(), agent.into());
    p.insert("import".into(), "otlp".into());
    p.insert("signal".into(), signal.into());
    p.insert("event".into(), event.into());
    if let Some(h) = host {
        p.insert("host".into(), h.into());
    }
    if let Some(m) = &cols.model {
        p.insert("model".into(), m.clone().into());
    }
    if cols.cost_usd_e6.is_some() {
        p.insert("cost_source".into(), "reported".into());
    }
    if cols.usage.any() {
        p.insert("response".into(), true.into());
    }
    if let Some(ok) = cols.success {
        p.insert("ok".into(), ok.into());
        if !ok && kind == EventKind::ToolCall {
            p.insert("tool_errors".into(), 1.into());
        }
    }
    p
}

/// The resource and scope of a batch of records, as JSON, and what identity falls back on.
struct Origin<'a> {
    resource: &'a [proto::common::v1::KeyValue],
    resource_json: Value,
    scope_json: Value,
}

impl<'a> Origin<'a> {
    fn new(
        resource: Option<&'a proto::resource::v1::Resource>,
        scope: Option<&proto::common::v1::InstrumentationScope>,
    ) -> Self {
        let attrs = resource.map_or(&[][..], |r| r.attributes.as_slice());
        let mut scope_json = Map::new();
        if let Some(s) = scope {
            scope_json.insert("name".into(), s.name.clone().into());
            scope_json.insert("version".into(), s.version.clone().into());
            if !s.attributes.is_empty() {
                scope_json.insert(
                    "attributes".into(),
                    Value::Object(value::attrs_json(&s.attributes)),
                );
            }
        }
        Origin {
            resource: attrs,
            resource_json: Value::Object(value::attrs_json(attrs)),
            scope_json: Value::Object(scope_json),
        }
    }

    fn service(&self) -> Option<String> {
        Attrs::new(self.resource).text("service.name")
    }

    /// The session: the record's own key, else the resource's, else a derivation.
    fn session(&self, a: &Attrs, fallback: Option<String>) -> String {
        const KEYS: [&str; 3] = ["session.id", "conversation.id", "gen_ai.conversation.id"];
        a.first_text(&KEYS)
            .or_else(|| Attrs::new(self.resource).first_text(&KEYS))
            .or(fallback)
            .unwrap_or_else(|| {
                let text = self.resource_json.to_string();
                format!(
                    "otel:{}:{:016x}",
                    self.service().unwrap_or_else(|| "unknown".into()),
                    fnv64(text.as_bytes())
                )
            })
    }
}

#[cfg(test)]
mod tests;
