//! OTLP log records (`ExportLogsServiceRequest`) → events.

use kaizen_core::EventKind;
use serde_json::{Map, Value};

use super::proto::collector::logs::v1::ExportLogsServiceRequest;
use super::proto::logs::v1::LogRecord;
use super::value::{Attrs, any_json, attrs_json, hex};
use super::{Built, Columns, Mapped, Origin, agent_of, build, columns, payload_head};
use crate::util::parse_rfc3339_ms;

/// The prefixes of the event names this mapping knows.
const PREFIXES: [&str; 4] = ["claude_code.", "codex.", "gemini_cli.", "gen_ai."];

/// Maps every log record of `request` to an event (see the module docs); `host` is the
/// sender's token name, kept as `payload.host`. Records without a time, or with one the
/// store cannot place (after 9999), are counted in [`Mapped::rejected`].
pub fn logs_to_events(request: &ExportLogsServiceRequest, host: Option<&str>) -> Mapped {
    let mut out = Mapped::default();
    for rl in &request.resource_logs {
        for sl in &rl.scope_logs {
            let origin = Origin::new(rl.resource.as_ref(), sl.scope.as_ref());
            let service = origin.service();
            for record in &sl.log_records {
                map_record(record, &origin, service.as_deref(), host, &mut out);
            }
        }
    }
    out
}

fn map_record(
    record: &LogRecord,
    origin: &Origin,
    service: Option<&str>,
    host: Option<&str>,
    out: &mut Mapped,
) {
    let a = Attrs::new(&record.attributes);
    let name = event_name(record, &a);
    let Some(ts_ms) = time_ms(record, &a) else {
        out.reject(format!(
            "log record {:?} has no time (time_unix_nano, observed_time_unix_nano or event.timestamp)",
            name
        ));
        return;
    };
    if kaizen_core::UtcDay::of_ts_ms(ts_ms).is_err() {
        out.reject(format!(
            "log record {name:?}: its time {ts_ms} ms is after 9999-12-31"
        ));
        return;
    }
    let agent = agent_of(&name, service);
    let cols = columns(agent, &a);
    let kind = kind_of(&name, &a, &cols);
    let mut payload = payload_head(agent, "logs", &name, host, &cols, kind);
    payload.insert("resource".into(), origin.resource_json.clone());
    payload.insert("scope".into(), origin.scope_json.clone());
    payload.insert("record".into(), Value::Object(record_json(record)));
    let session_id = origin.session(&a, None);
    out.events.push(build(Built {
        session_id,
        sequence: a.count("event.sequence"),
        ts_ms,
        kind,
        cols: &cols,
        payload,
    }));
}

/// The record's full event name: the first of its `event_name` field, its `event.name`
/// attribute and its body (a string) that carries a known prefix (Claude Code sends
/// `event.name: "api_request"` with the body `claude_code.api_request`), else the first
/// that is not empty, else "".
fn event_name(record: &LogRecord, a: &Attrs) -> String {
    let body = match any_json(record.body.as_ref()) {
        Value::String(s) => Some(s),
        _ => None,
    };
    let candidates = [
        Some(record.event_name.clone()).filter(|s| !s.is_empty()),
        a.text("event.name"),
        body,
    ];
    let known = candidates
        .iter()
        .flatten()
        .find(|n| PREFIXES.iter().any(|p| n.starts_with(p)));
    known
        .or_else(|| candidates.iter().flatten().next())
        .cloned()
        .unwrap_or_default()
}

/// Milliseconds since the epoch: the record's time, its observed time, or `event.timestamp`.
fn time_ms(record: &LogRecord, a: &Attrs) -> Option<u64> {
    [record.time_unix_nano, record.observed_time_unix_nano]
        .into_iter()
        .find(|ns| *ns != 0)
        .map(|ns| ns / 1_000_000)
        .or_else(|| parse_rfc3339_ms(&a.text("event.timestamp")?))
}

/// The kind of a record, from its name's last part and what it carries.
fn kind_of(name: &str, a: &Attrs, cols: &Columns) -> EventKind {
    let short = PREFIXES
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .unwrap_or(name);
    match short {
        "api_error" => EventKind::Error,
        "tool_result" | "tool_call" | "tool.message" => EventKind::ToolResult,
        "user_prompt" | "user.message" => EventKind::Message,
        _ if is_response(short, a) => {
            if cols.failed && !cols.usage.any() {
                EventKind::Error
            } else if cols.usage.any() {
                EventKind::Cost
            } else {
                EventKind::Lifecycle
            }
        }
        _ if cols.usage.any() => EventKind::Cost,
        _ => EventKind::Lifecycle,
    }
}

/// An API request or response record: Claude's `api_request`, Gemini's `api_response`,
/// Codex's `api_request` and `sse_event`s, GenAI's inference details and choices.
fn is_response(short: &str, a: &Attrs) -> bool {
    matches!(
        short,
        "api_request"
            | "api_response"
            | "sse_event"
            | "websocket_request"
            | "choice"
            | "assistant.message"
    ) || short.starts_with("client.inference")
        || a.any_prefixed("gen_ai.usage.")
}

/// Every field of the record, as JSON (empty ones left out), keys in a fixed order.
fn record_json(r: &LogRecord) -> Map<String, Value> {
    let mut m = Map::new();
    if r.time_unix_nano != 0 {
        m.insert("time_unix_nano".into(), r.time_unix_nano.into());
    }
    if r.observed_time_unix_nano != 0 {
        m.insert(
            "observed_time_unix_nano".into(),
            r.observed_time_unix_nano.into(),
        );
    }
    if r.severity_number != 0 {
        m.insert("severity_number".into(), r.severity_number.into());
    }
    if !r.severity_text.is_empty() {
        m.insert("severity_text".into(), r.severity_text.clone().into());
    }
    if !r.event_name.is_empty() {
        m.insert("event_name".into(), r.event_name.clone().into());
    }
    if r.body.is_some() {
        m.insert("body".into(), any_json(r.body.as_ref()));
    }
    m.insert(
        "attributes".into(),
        Value::Object(attrs_json(&r.attributes)),
    );
    if r.dropped_attributes_count != 0 {
        m.insert(
            "dropped_attributes_count".into(),
            r.dropped_attributes_count.into(),
        );
    }
    if r.flags != 0 {
        m.insert("flags".into(), r.flags.into());
    }
    if !r.trace_id.is_empty() {
        m.insert("trace_id".into(), hex(&r.trace_id).into());
    }
    if !r.span_id.is_empty() {
        m.insert("span_id".into(), hex(&r.span_id).into());
    }
    m
}
