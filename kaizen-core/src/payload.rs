use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

/// An event's payload: any JSON value, kept as the exact JSON text it arrived as.
///
/// Keeping the text (not a parsed `Value`) means no number is ever rounded and what was
/// written is what a scan gives back. Two payloads are equal when their texts are, or when
/// they parse to equal JSON values (so whitespace alone never makes a conflict).
#[derive(Clone, Debug)]
pub struct Payload(Box<RawValue>);

impl Payload {
    /// Validates `text` as one JSON value.
    pub fn from_json_text(text: impl Into<String>) -> Result<Self, serde_json::Error> {
        RawValue::from_string(text.into()).map(Payload)
    }

    /// A payload holding `value`'s compact JSON text (its text is not the one it may have
    /// been parsed from: use [`Payload::from_json_text`] to keep that).
    pub fn from_value(value: &serde_json::Value) -> Self {
        // Serializing a Value cannot fail: its keys are strings and its numbers finite.
        let text = serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned());
        Self::from_json_text(text).unwrap_or_else(|_| Self::null())
    }

    pub(crate) fn from_raw(raw: &RawValue) -> Self {
        Payload(raw.to_owned())
    }

    /// The JSON `null` payload (a payload is required; `null` says there is none).
    pub fn null() -> Self {
        Payload(RawValue::NULL.to_owned())
    }

    /// The exact JSON text the payload was made from, without parsing it again.
    pub fn as_json_text(&self) -> &str {
        self.0.get()
    }

    /// The attributes the payload names at its top level (model, agent, project, one-hour
    /// cache writes): the store's derived columns.
    pub fn attributes(&self) -> crate::PayloadAttributes<'_> {
        crate::PayloadAttributes::of_json_text(self.as_json_text())
    }

    /// The payload as a parsed JSON value.
    pub fn to_value(&self) -> serde_json::Value {
        // The text was validated as JSON when the payload was made.
        serde_json::from_str(self.0.get()).unwrap_or(serde_json::Value::Null)
    }
}

impl PartialEq for Payload {
    fn eq(&self, other: &Self) -> bool {
        same_json(self.as_json_text(), other.as_json_text())
    }
}

/// Whether two JSON texts are the same payload: equal texts, or both valid JSON with equal
/// values (so whitespace or key order alone never makes two payloads differ).
pub fn same_json(a: &str, b: &str) -> bool {
    let parse = serde_json::from_str::<serde_json::Value>;
    a == b || matches!((parse(a), parse(b)), (Ok(a), Ok(b)) if a == b)
}

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl Default for Payload {
    fn default() -> Self {
        Self::null()
    }
}
