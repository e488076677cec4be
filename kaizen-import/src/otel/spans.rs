//! OTLP spans (`ExportTraceServiceRequest`) that follow OpenTelemetry's GenAI conventions
//! (any `gen_ai.*` attribute) → events. Other spans are rejected, counted (OTLP partial
//! success): kaizen keeps agents' events, not a general trace store.

use kaizen_core::EventKind;
use serde_json::{Map, Value};

use super::proto::collector::trace::v1::ExportTraceServiceRequest;
use super::proto::trace::v1::Span;
use super::value::{Attrs, attrs_json, hex};
use super::{Built, Mapped, Origin, agent_of, build, columns, payload_head};

/// `Status.code` of a failed span (`STATUS_CODE_ERROR`).
const STATUS_ERROR: i32 = 2;

/// Maps every GenAI span of `request` to an event (see the module docs); others, and spans
/// without a start time, are counted in [`Mapped::rejected`].
pub fn spans_to_events(request: &ExportTraceServiceRequest, host: Option<&str>) -> Mapped {
    let mut out = Mapped::default();
    for rs in &request.resource_spans {
        for ss in &rs.scope_spans {
            let origin = Origin::new(rs.resource.as_ref(), ss.scope.as_ref());
            let service = origin.service();
            for span in &ss.spans {
                map_span(span, &origin, service.as_deref(), host, &mut out);
            }
        }
    }
    out
}

fn map_span(
    span: &Span,
    origin: &Origin,
    service: Option<&str>,
    host: Option<&str>,
    out: &mut Mapped,
) {
    let a = Attrs::new(&span.attributes);
    if !a.any_prefixed("gen_ai.") {
        out.reject(format!(
            "span {:?} has no gen_ai.* attribute: only GenAI spans are stored",
            span.name
        ));
        return;
    }
    let ts_ms = span.start_time_unix_nano / 1_000_000;
    if span.start_time_unix_nano == 0 || kaizen_core::UtcDay::of_ts_ms(ts_ms).is_err() {
        out.reject(format!(
            "span {:?} has no start time the store can place",
            span.name
        ));
        return;
    }
    let operation = a.text("gen_ai.operation.name").unwrap_or_default();
    let name = format!(
        "gen_ai.{}",
        if operation.is_empty() {
            "span"
        } else {
            &operation
        }
    );
    let agent = agent_of(&name, service);
    let mut cols = columns(agent, &a);
    let failed = span.status.as_ref().is_some_and(|s| s.code == STATUS_ERROR);
    if cols.latency_ms.is_none() && span.end_time_unix_nano >= span.start_time_unix_nano {
        cols.latency_ms = Some((span.end_time_unix_nano - span.start_time_unix_nano) / 1_000_000);
    }
    let kind = if operation == "execute_tool" {
        cols.success = Some(cols.success.unwrap_or(true) && !failed);
        EventKind::ToolCall
    } else if failed || (cols.failed && !cols.usage.any()) {
        EventKind::Error
    } else if cols.usage.any() {
        EventKind::Cost
    } else {
        EventKind::Lifecycle
    };
    let mut payload = payload_head(agent, "traces", &name, host, &cols, kind);
    payload.insert("resource".into(), origin.resource_json.clone());
    payload.insert("scope".into(), origin.scope_json.clone());
    payload.insert("span".into(), Value::Object(span_json(span)));
    let fallback =
        (!span.trace_id.is_empty()).then(|| format!("otel-trace:{}", hex(&span.trace_id)));
    out.events.push(build(Built {
        session_id: origin.session(&a, fallback),
        sequence: None,
        ts_ms,
        kind,
        cols: &cols,
        payload,
    }));
}

/// Every field of the span, as JSON (empty ones left out).
fn span_json(s: &Span) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("name".into(), s.name.clone().into());
    m.insert("kind".into(), s.kind.into());
    m.insert("trace_id".into(), hex(&s.trace_id).into());
    m.insert("span_id".into(), hex(&s.span_id).into());
    if !s.parent_span_id.is_empty() {
        m.insert("parent_span_id".into(), hex(&s.parent_span_id).into());
    }
    m.insert("start_time_unix_nano".into(), s.start_time_unix_nano.into());
    m.insert("end_time_unix_nano".into(), s.end_time_unix_nano.into());
    m.insert(
        "attributes".into(),
        Value::Object(attrs_json(&s.attributes)),
    );
    if let Some(status) = &s.status {
        let mut st = Map::new();
        st.insert("code".into(), status.code.into());
        if !status.message.is_empty() {
            st.insert("message".into(), status.message.clone().into());
        }
        m.insert("status".into(), Value::Object(st));
    }
    if !s.events.is_empty() {
        let events = s.events.iter().map(|e| {
            let mut ev = Map::new();
            ev.insert("name".into(), e.name.clone().into());
            ev.insert("time_unix_nano".into(), e.time_unix_nano.into());
            ev.insert(
                "attributes".into(),
                Value::Object(attrs_json(&e.attributes)),
            );
            Value::Object(ev)
        });
        m.insert("events".into(), Value::Array(events.collect()));
    }
    if !s.links.is_empty() {
        m.insert("links".into(), s.links.len().into());
    }
    if !s.trace_state.is_empty() {
        m.insert("trace_state".into(), s.trace_state.clone().into());
    }
    m
}
