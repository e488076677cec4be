//! The attributes reports group, price and count by, as an event's payload names them at
//! its top level: `model`, `agent`, `project`, `cache_creation_1h` and `tool_errors` (or
//! `ok`) (kaizen-import's payload wrapper writes them; kaizen's own events name `model`
//! and, on a tool result, `ok`). The store keeps them in
//! typed columns beside the payload ([`crate::Field::DERIVED`]), so a report by model reads a
//! small dictionary column instead of every payload; they are a function of the payload,
//! never set apart from it, so two copies of an event always agree on them.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, Visitor};

/// The top-level attributes of one payload. Each is `None` when the payload is not a JSON
/// object, has no such key, or holds a value of another type there (a `model` that is a
/// number is no model name): the column is then null, as the key is absent.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PayloadAttributes<'a> {
    /// `model`: the model name (`claude-sonnet-4-5`, `gpt-5-codex`, …), a string.
    pub model: Option<Cow<'a, str>>,
    /// `agent`: the agent that wrote the source (`claude`, `codex`, `gemini`), a string.
    pub agent: Option<Cow<'a, str>>,
    /// `project`: the project (working directory, or what the agent names it), a string.
    pub project: Option<Cow<'a, str>>,
    /// `cache_creation_1h`: the prompt-cache write tokens written for one hour (Anthropic's
    /// `cache_creation.ephemeral_1h_input_tokens`), part of `cache_creation_tokens`; an
    /// integer in 0..=u32::MAX.
    pub cache_creation_1h: Option<u32>,
    /// Failed tool results the event records: the top-level `tool_errors` count
    /// (kaizen-import writes it on the event of a tool result, or on a Gemini message for
    /// its calls), else 1 where the top-level `ok` is `false` (a kaizen tool-result event),
    /// else none.
    pub tool_errors: Option<u32>,
}

impl<'a> PayloadAttributes<'a> {
    /// Reads the attributes of a payload's JSON text. Text that is not a JSON object (or not
    /// JSON: a file another tool wrote) has none.
    pub fn of_json_text(text: &'a str) -> Self {
        if !text.trim_start().starts_with('{') {
            return Self::default();
        }
        serde_json::from_str::<Self>(text).unwrap_or_default()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for PayloadAttributes<'a> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(AttributesVisitor(std::marker::PhantomData))
    }
}

struct AttributesVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for AttributesVisitor<'a> {
    type Value = PayloadAttributes<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        let mut out = PayloadAttributes::default();
        let mut failed = false;
        // Keys borrow from the text unless escaped; every other value is skipped unparsed.
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match key.as_ref() {
                "model" => out.model = map.next_value::<Scalar<'de>>()?.text(),
                "agent" => out.agent = map.next_value::<Scalar<'de>>()?.text(),
                "project" => out.project = map.next_value::<Scalar<'de>>()?.text(),
                "cache_creation_1h" => {
                    out.cache_creation_1h = map.next_value::<Scalar<'de>>()?.count()
                }
                "tool_errors" => out.tool_errors = map.next_value::<Scalar<'de>>()?.count(),
                "ok" => failed = matches!(map.next_value::<Scalar<'de>>()?, Scalar::False),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if out.tool_errors.is_none() && failed {
            out.tool_errors = Some(1);
        }
        Ok(out)
    }
}

/// A top-level value: text, a count, or anything else (skipped).
enum Scalar<'a> {
    Text(Cow<'a, str>),
    Count(u64),
    False,
    Other,
}

impl<'a> Scalar<'a> {
    fn text(self) -> Option<Cow<'a, str>> {
        match self {
            Scalar::Text(t) => Some(t),
            _ => None,
        }
    }

    fn count(self) -> Option<u32> {
        match self {
            Scalar::Count(n) => u32::try_from(n).ok(),
            _ => None,
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for ScalarVisitor<'a> {
            type Value = Scalar<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Scalar::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Scalar::Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Scalar::Text(Cow::Owned(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Scalar::Count(v))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Scalar::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Scalar::Other)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
                Ok(if v { Scalar::Other } else { Scalar::False })
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Scalar::Other)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
        }
        deserializer.deserialize_any(ScalarVisitor(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_level_strings_and_counts_are_read_and_nothing_else() {
        let a = PayloadAttributes::of_json_text(
            r#"{"agent":"claude","line":3,"model":"claude-\"x\"\n\u00e9","project":"/p",
                "cache_creation_1h":1200,"record":{"model":"inner","agent":"no"}}"#,
        );
        assert_eq!(a.agent.as_deref(), Some("claude"));
        assert_eq!(a.model.as_deref(), Some("claude-\"x\"\n\u{e9}"));
        assert_eq!(a.project.as_deref(), Some("/p"));
        assert_eq!(a.cache_creation_1h, Some(1200));
        assert_eq!(a.tool_errors, None);
        // Failed tool results: a count, else a tool result that says it failed.
        let counted = PayloadAttributes::of_json_text(r#"{"tool_errors":2,"ok":false}"#);
        assert_eq!(counted.tool_errors, Some(2));
        let failed = PayloadAttributes::of_json_text(r#"{"ok":false,"output":"x"}"#);
        assert_eq!(failed.tool_errors, Some(1));
        let fine = PayloadAttributes::of_json_text(r#"{"ok":true}"#);
        assert_eq!(fine.tool_errors, None);
        // Only the top level names them.
        let nested = PayloadAttributes::of_json_text(r#"{"record":{"model":"m"}}"#);
        assert_eq!(nested, PayloadAttributes::default());
    }

    #[test]
    fn other_types_and_other_payloads_name_none() {
        let a = PayloadAttributes::of_json_text(
            r#"{"model":7,"agent":null,"project":["p"],"cache_creation_1h":-1,"tool_errors":"2","ok":"false"}"#,
        );
        assert_eq!(a, PayloadAttributes::default());
        let big = PayloadAttributes::of_json_text(r#"{"cache_creation_1h":4294967296}"#);
        assert_eq!(big.cache_creation_1h, None);
        for text in ["null", "[1,2]", "\"model\"", "{not json", ""] {
            assert_eq!(
                PayloadAttributes::of_json_text(text),
                PayloadAttributes::default()
            );
        }
    }
}
