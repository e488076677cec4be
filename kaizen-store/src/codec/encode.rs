use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Int64Builder, StringBuilder, UInt16Builder, UInt32Builder,
    UInt64Builder,
};
use arrow::record_batch::RecordBatch;
use kaizen_core::Event;

use super::event_schema;

/// Encodes events, in the order given, into one batch of the 22-column schema.
pub fn events_to_batch(events: &[Event]) -> RecordBatch {
    fn strings<'a>(events: &'a [Event], get: impl Fn(&'a Event) -> Option<&'a str>) -> ArrayRef {
        // Exact capacity: growing a day's payload text by doubling copied it several times.
        let text: usize = events.iter().map(|e| get(e).map_or(0, str::len)).sum();
        let mut b = StringBuilder::with_capacity(events.len(), text);
        events.iter().for_each(|e| b.append_option(get(e)));
        Arc::new(b.finish())
    }
    fn u32s(events: &[Event], get: impl Fn(&Event) -> Option<u32>) -> ArrayRef {
        let mut b = UInt32Builder::with_capacity(events.len());
        events.iter().for_each(|e| b.append_option(get(e)));
        Arc::new(b.finish())
    }
    fn u64s(events: &[Event], get: impl Fn(&Event) -> u64) -> ArrayRef {
        let mut b = UInt64Builder::with_capacity(events.len());
        events.iter().for_each(|e| b.append_value(get(e)));
        Arc::new(b.finish())
    }

    let mut ts_exact = BooleanBuilder::with_capacity(events.len());
    let mut cost = Int64Builder::with_capacity(events.len());
    let mut retry = UInt16Builder::with_capacity(events.len());
    for e in events {
        ts_exact.append_value(e.ts_exact);
        cost.append_option(e.cost_usd_e6);
        retry.append_option(e.retry_count);
    }
    let columns: Vec<ArrayRef> = vec![
        strings(events, |e| Some(&e.session_id)),
        u64s(events, |e| e.seq),
        u64s(events, |e| e.ts_ms),
        Arc::new(ts_exact.finish()),
        strings(events, |e| Some(e.kind.name())),
        strings(events, |e| Some(e.source.name())),
        strings(events, |e| e.tool.as_deref()),
        strings(events, |e| e.tool_call_id.as_deref()),
        u32s(events, |e| e.tokens_in),
        u32s(events, |e| e.tokens_out),
        u32s(events, |e| e.reasoning_tokens),
        Arc::new(cost.finish()),
        strings(events, |e| Some(e.payload.as_json_text())),
        strings(events, |e| e.stop_reason.as_deref()),
        u32s(events, |e| e.latency_ms),
        u32s(events, |e| e.ttft_ms),
        Arc::new(retry.finish()),
        u32s(events, |e| e.context_used_tokens),
        u32s(events, |e| e.context_max_tokens),
        u32s(events, |e| e.cache_creation_tokens),
        u32s(events, |e| e.cache_read_tokens),
        u32s(events, |e| e.system_prompt_tokens),
    ];
    // The columns are built from the schema's own field list, so their types always match.
    RecordBatch::try_new(event_schema(), columns).expect("event columns match the event schema")
}
