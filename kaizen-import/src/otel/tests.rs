//! The mapping on records shaped like each agent's.

use kaizen_core::EventKind;
use prost::Message as _;

use super::proto::collector::logs::v1::ExportLogsServiceRequest;
use super::proto::collector::trace::v1::ExportTraceServiceRequest;
use super::*;

/// An OTLP JSON logs request of one resource (`service.name`) with the given records.
fn logs_json(service: &str, records: &str) -> ExportLogsServiceRequest {
    let text = format!(
        r#"{{"resourceLogs":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"{service}"}}}}]}},
        "scopeLogs":[{{"scope":{{"name":"com.anthropic.claude_code.events","version":"2.0.1"}},"logRecords":[{records}]}}]}}]}}"#
    );
    serde_json::from_str(&text).expect("OTLP JSON")
}

const CLAUDE_API_REQUEST: &str = r#"{"timeUnixNano":"1790846102123000000","observedTimeUnixNano":"1790846102130000000",
  "body":{"stringValue":"claude_code.api_request"},
  "attributes":[
    {"key":"event.name","value":{"stringValue":"api_request"}},
    {"key":"session.id","value":{"stringValue":"sess-1"}},
    {"key":"event.sequence","value":{"intValue":"7"}},
    {"key":"model","value":{"stringValue":"claude-sonnet-4-5"}},
    {"key":"cost_usd","value":{"stringValue":"0.012345"}},
    {"key":"duration_ms","value":{"stringValue":"2300"}},
    {"key":"input_tokens","value":{"intValue":120}},
    {"key":"output_tokens","value":{"stringValue":"450"}},
    {"key":"cache_read_tokens","value":{"intValue":"9000"}},
    {"key":"cache_creation_tokens","value":{"doubleValue":300}}]}"#;

#[test]
fn claude_api_request_tokens_cost_and_identity() {
    let req = logs_json("claude-code", CLAUDE_API_REQUEST);
    let m = logs_to_events(&req, Some("alice"));
    assert_eq!((m.events.len(), m.rejected), (1, 0));
    let e = &m.events[0];
    assert_eq!(e.session_id, "sess-1");
    assert!(is_otel_seq(e.seq));
    assert_eq!(e.seq & 0xFFFF_FFFF, 7, "event.sequence in the low bits");
    assert_eq!(e.ts_ms, 1_790_846_102_123);
    assert_eq!(e.kind, EventKind::Cost);
    assert_eq!(e.source, kaizen_core::EventSource::Hook);
    assert_eq!(
        (
            e.tokens_in,
            e.tokens_out,
            e.cache_read_tokens,
            e.cache_creation_tokens
        ),
        (Some(120), Some(450), Some(9000), Some(300))
    );
    assert_eq!(e.cost_usd_e6, Some(12_345));
    assert_eq!(e.latency_ms, Some(2300));
    let p = e.payload.to_value();
    assert_eq!(p["agent"], "claude");
    assert_eq!(p["event"], "claude_code.api_request");
    assert_eq!(p["host"], "alice");
    assert_eq!(p["model"], "claude-sonnet-4-5");
    assert_eq!(
        p["record"]["attributes"]["output_tokens"], "450",
        "kept as sent"
    );
    assert_eq!(p["resource"]["service.name"], "claude-code");

    // The same record again (a retry), as protobuf this time: the same event.
    let again = ExportLogsServiceRequest::decode(req.encode_to_vec().as_slice()).expect("decode");
    assert_eq!(logs_to_events(&again, Some("alice")).events, m.events);
    // Another sender's name is another event (never a conflict with the first).
    let bob = logs_to_events(&req, Some("bob"));
    assert_ne!(bob.events[0].seq, e.seq);
    assert_eq!(bob.events[0].seq & 0xFFFF_FFFF, 7);
}

#[test]
fn codex_and_gemini_tokens_in_the_store_convention() {
    let codex = logs_json(
        "codex_cli_rs",
        r#"{"timeUnixNano":"1790846102000000000","attributes":[
        {"key":"event.name","value":{"stringValue":"codex.sse_event"}},
        {"key":"event.kind","value":{"stringValue":"response.completed"}},
        {"key":"conversation.id","value":{"stringValue":"conv-9"}},
        {"key":"model","value":{"stringValue":"gpt-5-codex"}},
        {"key":"input_token_count","value":{"stringValue":"1000"}},
        {"key":"cached_token_count","value":{"stringValue":"600"}},
        {"key":"output_token_count","value":{"intValue":"300"}},
        {"key":"reasoning_token_count","value":{"intValue":"200"}}]},
        {"timeUnixNano":"1790846103000000000","attributes":[
        {"key":"event.name","value":{"stringValue":"codex.tool_result"}},
        {"key":"conversation.id","value":{"stringValue":"conv-9"}},
        {"key":"tool_name","value":{"stringValue":"shell"}},
        {"key":"call_id","value":{"stringValue":"call_1"}},
        {"key":"duration_ms","value":{"intValue":"41"}},
        {"key":"success","value":{"stringValue":"false"}}]}"#,
    );
    let m = logs_to_events(&codex, None);
    assert_eq!(m.events.len(), 2);
    let (c, t) = (&m.events[0], &m.events[1]);
    assert_eq!((c.session_id.as_str(), c.kind), ("conv-9", EventKind::Cost));
    assert_eq!(
        (
            c.tokens_in,
            c.tokens_out,
            c.reasoning_tokens,
            c.cache_read_tokens,
            c.cache_creation_tokens
        ),
        (Some(400), Some(300), Some(200), Some(600), None)
    );
    assert_eq!(c.payload.to_value()["agent"], "codex");
    assert!(c.payload.to_value().get("host").is_none());
    assert_eq!(t.kind, EventKind::ToolResult);
    assert_eq!(
        (t.tool.as_deref(), t.tool_call_id.as_deref()),
        (Some("shell"), Some("call_1"))
    );
    assert_eq!(t.latency_ms, Some(41));
    assert_eq!(t.payload.to_value()["ok"], false);

    let gemini = logs_json(
        "gemini-cli",
        r#"{"observedTimeUnixNano":"1790846102000000000","attributes":[
        {"key":"event.name","value":{"stringValue":"gemini_cli.api_response"}},
        {"key":"session.id","value":{"stringValue":"g-1"}},
        {"key":"model","value":{"stringValue":"gemini-2.5-pro"}},
        {"key":"input_token_count","value":{"intValue":"500"}},
        {"key":"cached_content_token_count","value":{"intValue":"100"}},
        {"key":"output_token_count","value":{"intValue":"50"}},
        {"key":"thoughts_token_count","value":{"intValue":"25"}}]}"#,
    );
    let g = &logs_to_events(&gemini, None).events[0];
    assert_eq!(
        g.ts_ms, 1_790_846_102_000,
        "observed time when there is no time"
    );
    assert_eq!(
        (
            g.tokens_in,
            g.tokens_out,
            g.reasoning_tokens,
            g.cache_read_tokens
        ),
        (Some(400), Some(75), Some(25), Some(100))
    );
    // No event.sequence: a 56-bit hash, still in the OTLP namespace.
    assert!(is_otel_seq(g.seq));
}

#[test]
fn records_without_time_are_rejected_not_stamped() {
    let req = logs_json(
        "claude-code",
        r#"{"attributes":[{"key":"session.id","value":{"stringValue":"s"}}]},
        {"attributes":[{"key":"session.id","value":{"stringValue":"s"}},
          {"key":"event.timestamp","value":{"stringValue":"2026-10-01T09:15:02.123Z"}}]}"#,
    );
    let m = logs_to_events(&req, None);
    assert_eq!(m.events.len(), 1);
    assert_eq!(m.events[0].ts_ms, 1_790_846_102_123);
    assert_eq!(m.rejected, 1);
    assert!(m.first_error.unwrap().contains("no time"));
}

#[test]
fn session_fallback_is_stable_and_sessions_never_collide_with_transcripts() {
    let req = logs_json(
        "x",
        r#"{"timeUnixNano":"1790846102000000000","body":{"stringValue":"hello"}}"#,
    );
    let a = logs_to_events(&req, None);
    let b = logs_to_events(&req, None);
    assert_eq!(a.events, b.events);
    assert!(a.events[0].session_id.starts_with("otel:x:"));
    assert_eq!(a.events[0].kind, EventKind::Lifecycle);
    assert_eq!(a.events[0].seq >> 56, u64::from(crate::SEQ_KIND_OTEL));
    for kind in [
        crate::SEQ_KIND_CLAUDE,
        crate::SEQ_KIND_CODEX,
        crate::SEQ_KIND_GEMINI,
    ] {
        assert!(!is_otel_seq(u64::from(kind) << 56 | 7));
    }
}

#[test]
fn genai_spans_kept_other_spans_rejected() {
    let text = r#"{"resourceSpans":[{"resource":{"attributes":[]},"scopeSpans":[{"spans":[
      {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"chat gpt-4o",
       "startTimeUnixNano":"1790846102000000000","endTimeUnixNano":"1790846104500000000",
       "attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},
         {"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o"}},
         {"key":"gen_ai.conversation.id","value":{"stringValue":"c-1"}},
         {"key":"gen_ai.usage.input_tokens","value":{"intValue":"100"}},
         {"key":"gen_ai.usage.cache_read.input_tokens","value":{"intValue":"40"}},
         {"key":"gen_ai.usage.output_tokens","value":{"intValue":"10"}},
         {"key":"gen_ai.response.finish_reasons","value":{"arrayValue":{"values":[{"stringValue":"stop"}]}}}]},
      {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b175","name":"execute_tool grep",
       "startTimeUnixNano":"1790846105000000000","endTimeUnixNano":"1790846105020000000",
       "status":{"code":2,"message":"exit 1"},
       "attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"execute_tool"}},
         {"key":"gen_ai.tool.name","value":{"stringValue":"grep"}}]},
      {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b176","name":"GET /",
       "startTimeUnixNano":"1790846105000000000","endTimeUnixNano":"1790846105020000000"}]}]}]}"#;
    let req: ExportTraceServiceRequest = serde_json::from_str(text).expect("OTLP JSON");
    let m = spans_to_events(&req, None);
    assert_eq!((m.events.len(), m.rejected), (2, 1));
    let (chat, tool) = (&m.events[0], &m.events[1]);
    assert_eq!(
        (chat.session_id.as_str(), chat.kind),
        ("c-1", EventKind::Cost)
    );
    assert_eq!(
        (chat.tokens_in, chat.tokens_out, chat.cache_read_tokens),
        (Some(60), Some(10), Some(40))
    );
    assert_eq!(
        (chat.latency_ms, chat.stop_reason.as_deref()),
        (Some(2500), Some("stop"))
    );
    assert_eq!(tool.kind, EventKind::ToolCall);
    assert_eq!(
        tool.session_id,
        "otel-trace:5b8efff798038103d269b633813fc60c"
    );
    assert_eq!(
        (tool.tool.as_deref(), tool.latency_ms),
        (Some("grep"), Some(20))
    );
    assert_eq!(tool.payload.to_value()["tool_errors"], 1);
}
