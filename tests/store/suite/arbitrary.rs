//! Arbitrary valid events, for property tests (deterministic: the same events every run).

use kaizen::core::{Event, EventKind, EventSource, MAX_TS_MS, Payload};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

/// Any JSON value: every type, nested, with non-ASCII and control characters in strings.
pub fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<u64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        any::<String>().prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

prop_compose! {
    /// A valid event with sequence number `seq` (so a batch's identities are distinct).
    pub fn event(seq: u64)(
        session_id in any::<String>(),
        ts_ms in 0..=MAX_TS_MS,
        ts_exact in any::<bool>(),
        kind in prop::sample::select(EventKind::ALL.to_vec()),
        source in prop::sample::select(EventSource::ALL.to_vec()),
        tool in any::<Option<String>>(),
        tool_call_id in any::<Option<String>>(),
        tokens in any::<[Option<u32>; 11]>(),
        cost_usd_e6 in any::<Option<i64>>(),
        retry_count in any::<Option<u16>>(),
        stop_reason in any::<Option<String>>(),
        payload in json_value(),
    ) -> Event {
        let mut e = Event::new(session_id, seq, ts_ms, kind, source);
        e.ts_exact = ts_exact;
        e.tool = tool;
        e.tool_call_id = tool_call_id;
        [e.tokens_in, e.tokens_out, e.reasoning_tokens, e.latency_ms, e.ttft_ms,
         e.context_used_tokens, e.context_max_tokens, e.cache_creation_tokens,
         e.cache_read_tokens, e.system_prompt_tokens, _] = tokens;
        e.cost_usd_e6 = cost_usd_e6;
        e.retry_count = retry_count;
        e.stop_reason = stop_reason;
        e.payload = Payload::from_value(&payload);
        e
    }
}

/// `n` arbitrary valid events with distinct identities.
pub fn events(n: u64) -> Vec<Event> {
    let mut runner = TestRunner::deterministic();
    (0..n)
        .map(|seq| {
            event(seq)
                .new_tree(&mut runner)
                .expect("strategy")
                .current()
        })
        .collect()
}
