//! OTLP attribute values as JSON, and typed reads of attributes that a source may send as
//! a string or as a number (Claude Code's versions differ).

use std::collections::BTreeMap;

use base64::Engine as _;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value as Any};
use serde_json::{Map, Number, Value};

/// An `AnyValue` as JSON: strings, booleans and numbers as themselves (a double that is
/// not finite as its text, `"NaN"`), bytes as `{"bytes_b64": …}`, arrays and key-value
/// lists as arrays and objects. An empty value is `null`.
pub(crate) fn any_json(value: Option<&AnyValue>) -> Value {
    match value.and_then(|v| v.value.as_ref()) {
        None => Value::Null,
        Some(Any::StringValue(s)) => Value::String(s.clone()),
        Some(Any::BoolValue(b)) => Value::Bool(*b),
        Some(Any::IntValue(i)) => Value::Number((*i).into()),
        Some(Any::DoubleValue(d)) => {
            Number::from_f64(*d).map_or_else(|| Value::String(d.to_string()), Value::Number)
        }
        Some(Any::BytesValue(b)) => {
            let mut m = Map::new();
            m.insert(
                "bytes_b64".into(),
                Value::String(base64::engine::general_purpose::STANDARD.encode(b)),
            );
            Value::Object(m)
        }
        Some(Any::ArrayValue(a)) => {
            Value::Array(a.values.iter().map(|v| any_json(Some(v))).collect())
        }
        Some(Any::KvlistValue(kv)) => Value::Object(attrs_json(&kv.values)),
        // An index into a profile's string table (profiles only): kept as the number sent.
        Some(Any::StringValueStrindex(i)) => {
            let mut m = Map::new();
            m.insert("strindex".into(), Value::Number((*i).into()));
            Value::Object(m)
        }
    }
}

/// Attributes as a JSON object. A key given twice keeps its last value (as the OTLP
/// specification leaves it to the receiver; the whole request is not refused for it).
pub(crate) fn attrs_json(attrs: &[KeyValue]) -> Map<String, Value> {
    let mut m = Map::new();
    for kv in attrs {
        m.insert(kv.key.clone(), any_json(kv.value.as_ref()));
    }
    m
}

/// A record's attributes, looked up by key (the last value of a key given twice).
pub(crate) struct Attrs<'a>(BTreeMap<&'a str, &'a AnyValue>);

impl<'a> Attrs<'a> {
    pub(crate) fn new(attrs: &'a [KeyValue]) -> Self {
        Attrs(
            attrs
                .iter()
                .filter_map(|kv| kv.value.as_ref().map(|v| (kv.key.as_str(), v)))
                .collect(),
        )
    }

    fn get(&self, key: &str) -> Option<&'a Any> {
        self.0.get(key).and_then(|v| v.value.as_ref())
    }

    /// Whether any key starts with `prefix`.
    pub(crate) fn any_prefixed(&self, prefix: &str) -> bool {
        self.0.keys().any(|k| k.starts_with(prefix))
    }

    /// A non-empty text value (a number or boolean as its text).
    pub(crate) fn text(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Any::StringValue(s) if !s.is_empty() => Some(s.clone()),
            Any::IntValue(i) => Some(i.to_string()),
            Any::DoubleValue(d) => Some(d.to_string()),
            Any::BoolValue(b) => Some(b.to_string()),
            // `gen_ai.response.finish_reasons` is an array of strings: its first.
            Any::ArrayValue(a) => a.values.first().and_then(|v| match &v.value {
                Some(Any::StringValue(s)) if !s.is_empty() => Some(s.clone()),
                _ => None,
            }),
            _ => None,
        }
    }

    /// The first key of `keys` with a text value.
    pub(crate) fn first_text(&self, keys: &[&str]) -> Option<String> {
        keys.iter().find_map(|k| self.text(k))
    }

    /// A number: an int, a double, or a string holding one (`"12"`, `"0.25"`).
    pub(crate) fn number(&self, key: &str) -> Option<f64> {
        match self.get(key)? {
            Any::IntValue(i) => Some(*i as f64),
            Any::DoubleValue(d) => Some(*d),
            Any::StringValue(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        }
        .filter(|f| f.is_finite())
    }

    /// A whole non-negative count (an int, a whole double, or a string holding one).
    /// Exact for ints and integer strings; a value out of `u64`'s range is `None`.
    pub(crate) fn count(&self, key: &str) -> Option<u64> {
        match self.get(key)? {
            Any::IntValue(i) => u64::try_from(*i).ok(),
            Any::StringValue(s) => {
                let s = s.trim();
                s.parse::<u64>()
                    .ok()
                    .or_else(|| whole(s.parse::<f64>().ok()?))
            }
            Any::DoubleValue(d) => whole(*d),
            _ => None,
        }
    }

    /// A boolean: `true`/`false`, or the strings `"true"`/`"false"` (any case).
    pub(crate) fn flag(&self, key: &str) -> Option<bool> {
        match self.get(key)? {
            Any::BoolValue(b) => Some(*b),
            Any::StringValue(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Any::StringValue(s) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }
}

fn whole(f: f64) -> Option<u64> {
    (f >= 0.0 && f.fract() == 0.0 && f < 1.8e19).then_some(f as u64)
}

/// Lowercase hex of an id (trace and span ids); empty for none.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
