//! Content retention: the payloads of old days replaced by a small marker, every typed
//! column kept, so that cost, token, latency and tool figures over those days stay.

use kaizen_core::{Event, Payload, UtcDay};
use serde_json::{Map, Value};

use super::events::{RewriteReport, RewriteScope, Rewritten};
use crate::Result;
use crate::store::Store;

/// The key of the marker a pruned payload is: `{"kaizen_payload_pruned": true, …}`.
pub const PRUNED_PAYLOAD_MARK: &str = "kaizen_payload_pruned";

/// Top-level payload keys a pruned payload keeps, when their value is a string, number,
/// boolean or null: what reports read of payloads (`report --by model|agent|project`, a
/// tool result's `ok`, an imported event's `tool_calls`, `tool_results`, `tool_errors` and
/// `api_errors`, its cache writes by duration), among them every key the derived columns
/// come from (`kaizen_core::PayloadAttributes`), so those columns are the same after.
/// Anything nested, and every other key, is dropped.
pub const PRUNED_PAYLOAD_KEPT_KEYS: [&str; 11] = [
    "model",
    "agent",
    "project",
    "cache_creation_1h",
    "cache_creation_5m",
    "ok",
    "tool_calls",
    "tool_results",
    "tool_errors",
    "api_errors",
    "cost_source",
];

/// The pruned version of `payload`: the marker, with the kept keys' scalar values.
pub fn pruned_payload(payload: &Payload) -> Payload {
    let value = payload.to_value();
    let mut out = Map::new();
    out.insert(PRUNED_PAYLOAD_MARK.to_owned(), Value::Bool(true));
    if let Value::Object(fields) = &value {
        for key in PRUNED_PAYLOAD_KEPT_KEYS {
            if let Some(v @ (Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null)) =
                fields.get(key)
            {
                out.insert(key.to_owned(), v.clone());
            }
        }
    }
    Payload::from_value(&Value::Object(out))
}

/// Whether `payload` is a pruned payload already (the marker, and nothing but kept keys).
pub fn is_pruned_payload(payload: &Payload) -> bool {
    match payload.to_value() {
        Value::Object(fields) => {
            fields.get(PRUNED_PAYLOAD_MARK) == Some(&Value::Bool(true))
                && (fields.keys()).all(|k| {
                    k == PRUNED_PAYLOAD_MARK || PRUNED_PAYLOAD_KEPT_KEYS.contains(&k.as_str())
                })
        }
        _ => false,
    }
}

/// The event with its payload pruned, or `Keep` when it is pruned already.
fn prune(event: &Event) -> Rewritten {
    if is_pruned_payload(&event.payload) {
        return Rewritten::Keep;
    }
    let mut pruned = event.clone();
    pruned.payload = pruned_payload(&event.payload);
    Rewritten::Replace(Box::new(pruned))
}

impl Store {
    /// Replaces the payload of every event of the days before `before` by the pruned
    /// marker ([`pruned_payload`]); every other column is kept. Files whose footer says
    /// their payloads are pruned already are not read; outputs say so
    /// ([`crate::codec::PAYLOAD_PRUNED_KEY`]), which `verify` checks. Through the rewrite
    /// mechanism: interrupted anywhere, each event is read once, old or new. With
    /// `dry_run` nothing is written.
    pub async fn prune_payloads(&self, before: UtcDay, dry_run: bool) -> Result<RewriteReport> {
        let scope = RewriteScope {
            before: Some(before),
            payload_pruning: true,
            ..RewriteScope::default()
        };
        self.rewrite_events(&scope, dry_run, &prune).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pruned_payload_keeps_the_report_keys_and_nothing_else() {
        let payload = Payload::from_json_text(
            r#"{"model":"m1","agent":"claude","ok":false,"tool_errors":2,"text":"secret words","project":{"nested":1},"cache_creation_1h":9}"#,
        )
        .expect("json");
        let pruned = pruned_payload(&payload);
        assert_eq!(
            pruned.to_value(),
            serde_json::json!({"kaizen_payload_pruned": true, "model": "m1", "agent": "claude", "ok": false, "tool_errors": 2, "cache_creation_1h": 9})
        );
        // The derived columns are the same before and after.
        assert_eq!(
            pruned.attributes().cache_creation_1h,
            payload.attributes().cache_creation_1h
        );
        assert_eq!(pruned.attributes().model, payload.attributes().model);
        assert!(is_pruned_payload(&pruned));
        assert!(!is_pruned_payload(&payload));
        assert!(!pruned.as_json_text().contains("secret"));
        // Not an object: the marker alone.
        let text = Payload::from_json_text(r#""just text""#).expect("json");
        assert_eq!(
            pruned_payload(&text).to_value(),
            serde_json::json!({"kaizen_payload_pruned": true})
        );
    }
}
