use std::borrow::Borrow;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Int64Builder, StringBuilder, UInt16Builder, UInt32Builder,
    UInt64Builder,
};
use arrow::record_batch::RecordBatch;
use kaizen_core::Event;

use super::event_schema;

/// Encodes events (owned or borrowed), in the order given, into one batch of the 22-column
/// schema. One pass over the events: each is read once, however many columns it fills.
pub fn events_to_batch<E: Borrow<Event>>(events: &[E]) -> RecordBatch {
    let rows = events.len();
    // Exact capacity: growing a day's payload text by doubling copied it several times.
    let mut text = TextSizes::default();
    events.iter().for_each(|e| text.add(e.borrow()));
    let strings = |bytes: usize| StringBuilder::with_capacity(rows, bytes);
    let u32s = || UInt32Builder::with_capacity(rows);
    let mut session_id = strings(text.session_id);
    let mut seq = UInt64Builder::with_capacity(rows);
    let mut ts_ms = UInt64Builder::with_capacity(rows);
    let mut ts_exact = BooleanBuilder::with_capacity(rows);
    let mut kind = strings(text.kind);
    let mut source = strings(text.source);
    let mut tool = strings(text.tool);
    let mut tool_call_id = strings(text.tool_call_id);
    let (mut tokens_in, mut tokens_out, mut reasoning_tokens) = (u32s(), u32s(), u32s());
    let mut cost_usd_e6 = Int64Builder::with_capacity(rows);
    let mut payload = strings(text.payload);
    let mut stop_reason = strings(text.stop_reason);
    let (mut latency_ms, mut ttft_ms) = (u32s(), u32s());
    let mut retry_count = UInt16Builder::with_capacity(rows);
    let (mut context_used, mut context_max) = (u32s(), u32s());
    let (mut cache_creation, mut cache_read, mut system_prompt) = (u32s(), u32s(), u32s());
    for e in events {
        let e = e.borrow();
        session_id.append_value(&e.session_id);
        seq.append_value(e.seq);
        ts_ms.append_value(e.ts_ms);
        ts_exact.append_value(e.ts_exact);
        kind.append_value(e.kind.name());
        source.append_value(e.source.name());
        tool.append_option(e.tool.as_deref());
        tool_call_id.append_option(e.tool_call_id.as_deref());
        tokens_in.append_option(e.tokens_in);
        tokens_out.append_option(e.tokens_out);
        reasoning_tokens.append_option(e.reasoning_tokens);
        cost_usd_e6.append_option(e.cost_usd_e6);
        payload.append_value(e.payload.as_json_text());
        stop_reason.append_option(e.stop_reason.as_deref());
        latency_ms.append_option(e.latency_ms);
        ttft_ms.append_option(e.ttft_ms);
        retry_count.append_option(e.retry_count);
        context_used.append_option(e.context_used_tokens);
        context_max.append_option(e.context_max_tokens);
        cache_creation.append_option(e.cache_creation_tokens);
        cache_read.append_option(e.cache_read_tokens);
        system_prompt.append_option(e.system_prompt_tokens);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(session_id.finish()),
        Arc::new(seq.finish()),
        Arc::new(ts_ms.finish()),
        Arc::new(ts_exact.finish()),
        Arc::new(kind.finish()),
        Arc::new(source.finish()),
        Arc::new(tool.finish()),
        Arc::new(tool_call_id.finish()),
        Arc::new(tokens_in.finish()),
        Arc::new(tokens_out.finish()),
        Arc::new(reasoning_tokens.finish()),
        Arc::new(cost_usd_e6.finish()),
        Arc::new(payload.finish()),
        Arc::new(stop_reason.finish()),
        Arc::new(latency_ms.finish()),
        Arc::new(ttft_ms.finish()),
        Arc::new(retry_count.finish()),
        Arc::new(context_used.finish()),
        Arc::new(context_max.finish()),
        Arc::new(cache_creation.finish()),
        Arc::new(cache_read.finish()),
        Arc::new(system_prompt.finish()),
    ];
    // The columns are built in the schema's own order and types (checked by the codec's
    // round-trip tests), so they always match.
    RecordBatch::try_new(event_schema(), columns).expect("event columns match the event schema")
}

/// The text bytes of each string column, to size its builder once.
#[derive(Default)]
struct TextSizes {
    session_id: usize,
    kind: usize,
    source: usize,
    tool: usize,
    tool_call_id: usize,
    payload: usize,
    stop_reason: usize,
}

impl TextSizes {
    fn add(&mut self, e: &Event) {
        let len = |s: &Option<String>| s.as_deref().map_or(0, str::len);
        self.session_id += e.session_id.len();
        self.kind += e.kind.name().len();
        self.source += e.source.name().len();
        self.tool += len(&e.tool);
        self.tool_call_id += len(&e.tool_call_id);
        self.payload += e.payload.as_json_text().len();
        self.stop_reason += len(&e.stop_reason);
    }
}
