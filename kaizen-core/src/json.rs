//! Parsing one event from JSON with a typed error for each thing that can be wrong.
//!
//! First pass: serde_json splits the object into borrowed raw values, one slot a field
//! (duplicate and unknown keys are caught here). Second pass: each slot is checked against
//! its field's type and range, so an error names the field and the column of its value.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::{Error, Event, EventKind, EventSource, Field, MAX_TS_MS, Payload, Result};

pub(crate) fn parse_event(text: &str) -> Result<Event> {
    let mut de = serde_json::Deserializer::from_str(text);
    let base = text.as_ptr() as usize;
    let slots = de.deserialize_map(SlotsVisitor { base }).map_err(syntax)?;
    de.end().map_err(syntax)?;
    if let Some(problem) = slots.problem {
        return Err(problem);
    }
    Slots::build(&slots.values, text)
}

fn syntax(e: serde_json::Error) -> Error {
    Error::Syntax {
        column: e.column(),
        message: e.to_string(),
    }
}

struct Slots<'a> {
    values: [Option<&'a RawValue>; 22],
    /// The first unknown or duplicate key: reported after the object parsed as JSON.
    problem: Option<Error>,
}

struct SlotsVisitor {
    /// Address of the text's first byte, to turn a value's address into its column.
    base: usize,
}

impl<'de> Visitor<'de> for SlotsVisitor {
    type Value = Slots<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object (one event)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut slots = Slots {
            values: [None; 22],
            problem: None,
        };
        let mut expected = Field::JSON_ORDER.into_iter();
        while let Some(key) = map.next_key_seed(KeySeed(expected.next()))? {
            let value: &'de RawValue = map.next_value()?;
            let column = (value.get().as_ptr() as usize).saturating_sub(self.base) + 1;
            match key {
                Ok(field) if slots.values[field.index()].is_some() => {
                    slots.problem.get_or_insert(Error::DuplicateField {
                        field: field.name(),
                        column,
                    });
                }
                Ok(field) => slots.values[field.index()] = Some(value),
                Err(key) => {
                    slots
                        .problem
                        .get_or_insert(Error::UnknownField { key, column });
                }
            }
        }
        Ok(slots)
    }
}

/// Reads a key, trying first the field that comes next in the JSON form's order: producers
/// write that order, so most keys match at the first comparison.
struct KeySeed(Option<Field>);

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = std::result::Result<Field, String>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(KeyVisitor(self.0))
    }
}

struct KeyVisitor(Option<Field>);

impl Visitor<'_> for KeyVisitor {
    type Value = std::result::Result<Field, String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        match self.0 {
            Some(next) if next.name() == key => Ok(Ok(next)),
            _ => Ok(Field::from_name(key).ok_or_else(|| key.to_owned())),
        }
    }
}

impl Slots<'_> {
    fn build(values: &[Option<&RawValue>; 22], text: &str) -> Result<Event> {
        let base = text.as_ptr() as usize;
        let reader = FieldReader { values, base };
        let ts_ms = reader.required(Field::TsMs, |r, f, raw| r.unsigned(f, raw, MAX_TS_MS))?;
        let kind_name = reader.required(Field::Kind, FieldReader::text)?;
        let kind = EventKind::from_name(&kind_name).ok_or_else(|| Error::UnknownKind {
            value: kind_name.into_owned(),
            column: reader.column(Field::Kind),
        })?;
        let source_name = reader.required(Field::Source, FieldReader::text)?;
        let source = EventSource::from_name(&source_name).ok_or_else(|| Error::UnknownSource {
            value: source_name.into_owned(),
            column: reader.column(Field::Source),
        })?;
        Ok(Event {
            session_id: reader.required(Field::SessionId, FieldReader::string)?,
            seq: reader.required(Field::Seq, |r, f, raw| r.unsigned(f, raw, u64::MAX))?,
            ts_ms,
            ts_exact: reader.required(Field::TsExact, FieldReader::boolean)?,
            kind,
            source,
            tool: reader.optional(Field::Tool, FieldReader::string)?,
            tool_call_id: reader.optional(Field::ToolCallId, FieldReader::string)?,
            tokens_in: reader.optional(Field::TokensIn, FieldReader::u32)?,
            tokens_out: reader.optional(Field::TokensOut, FieldReader::u32)?,
            reasoning_tokens: reader.optional(Field::ReasoningTokens, FieldReader::u32)?,
            cost_usd_e6: reader.optional(Field::CostUsdE6, FieldReader::i64)?,
            stop_reason: reader.optional(Field::StopReason, FieldReader::string)?,
            latency_ms: reader.optional(Field::LatencyMs, FieldReader::u32)?,
            ttft_ms: reader.optional(Field::TtftMs, FieldReader::u32)?,
            retry_count: reader.optional(Field::RetryCount, |r, f, raw| {
                r.unsigned(f, raw, u16::MAX.into()).map(|v| v as u16)
            })?,
            context_used_tokens: reader.optional(Field::ContextUsedTokens, FieldReader::u32)?,
            context_max_tokens: reader.optional(Field::ContextMaxTokens, FieldReader::u32)?,
            cache_creation_tokens: reader.optional(Field::CacheCreationTokens, FieldReader::u32)?,
            cache_read_tokens: reader.optional(Field::CacheReadTokens, FieldReader::u32)?,
            system_prompt_tokens: reader.optional(Field::SystemPromptTokens, FieldReader::u32)?,
            payload: match values[Field::Payload.index()] {
                Some(raw) => Payload::from_raw(raw),
                None => {
                    return Err(Error::MissingField {
                        field: Field::Payload.name(),
                    });
                }
            },
        })
    }
}

struct FieldReader<'v, 'a> {
    values: &'v [Option<&'a RawValue>; 22],
    base: usize,
}

impl<'a> FieldReader<'_, 'a> {
    fn column(&self, field: Field) -> usize {
        self.values[field.index()].map_or(0, |raw| self.column_of(raw))
    }

    fn column_of(&self, raw: &RawValue) -> usize {
        (raw.get().as_ptr() as usize).saturating_sub(self.base) + 1
    }

    fn required<T>(
        &self,
        field: Field,
        read: impl Fn(&Self, Field, &'a RawValue) -> Result<T>,
    ) -> Result<T> {
        match self.values[field.index()] {
            None => Err(Error::MissingField {
                field: field.name(),
            }),
            Some(raw) if raw.get() == "null" => Err(self.wrong_type(field, raw, expected(field))),
            Some(raw) => read(self, field, raw),
        }
    }

    fn optional<T>(
        &self,
        field: Field,
        read: impl Fn(&Self, Field, &RawValue) -> Result<T>,
    ) -> Result<Option<T>> {
        match self.values[field.index()] {
            None => Ok(None),
            Some(raw) if raw.get() == "null" => Ok(None),
            Some(raw) => read(self, field, raw).map(Some),
        }
    }

    fn wrong_type(&self, field: Field, raw: &RawValue, expected: &'static str) -> Error {
        Error::WrongType {
            field: field.name(),
            column: self.column_of(raw),
            expected,
            found: json_type_of(raw.get()),
        }
    }

    fn string(&self, field: Field, raw: &RawValue) -> Result<String> {
        self.text(field, raw).map(Cow::into_owned)
    }

    /// A string value, borrowed from the line when it has no escapes.
    fn text<'r>(&self, field: Field, raw: &'r RawValue) -> Result<Cow<'r, str>> {
        let quoted = raw.get();
        let Some(inner) = quoted.strip_prefix('"').and_then(|s| s.strip_suffix('"')) else {
            return Err(self.wrong_type(field, raw, "a string"));
        };
        // The parser has checked the string: without a backslash its text is its value.
        if !inner.contains('\\') {
            return Ok(Cow::Borrowed(inner));
        }
        // The first pass skipped the string without decoding its `\\u` escapes: one that is
        // half a surrogate pair is found here, and named with its own column.
        serde_json::from_str(quoted).map(Cow::Owned).map_err(|e| {
            let column = self.column_of(raw);
            match lone_surrogate(inner) {
                Some((at, escape)) => Error::InvalidString {
                    field: field.name(),
                    // +1 for the opening quote.
                    column: column + 1 + at,
                    reason: format!("lone surrogate {escape}"),
                },
                None => Error::InvalidString {
                    field: field.name(),
                    column,
                    reason: e.to_string(),
                },
            }
        })
    }

    fn boolean(&self, field: Field, raw: &RawValue) -> Result<bool> {
        match raw.get() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(self.wrong_type(field, raw, "true or false")),
        }
    }

    fn u32(&self, field: Field, raw: &RawValue) -> Result<u32> {
        self.unsigned(field, raw, u32::MAX.into()).map(|v| v as u32)
    }

    /// A whole number in `0..=max`. `1.0`, `1e3` and `"1"` are type errors, not coerced.
    fn unsigned(&self, field: Field, raw: &RawValue, max: u64) -> Result<u64> {
        let value = self.integer(field, raw)?;
        u64::try_from(value)
            .ok()
            .filter(|v| *v <= max)
            .ok_or_else(|| self.out_of_range(field, raw, 0, max.into()))
    }

    fn i64(&self, field: Field, raw: &RawValue) -> Result<i64> {
        let value = self.integer(field, raw)?;
        i64::try_from(value)
            .map_err(|_| self.out_of_range(field, raw, i64::MIN.into(), i64::MAX.into()))
    }

    fn integer(&self, field: Field, raw: &RawValue) -> Result<i128> {
        let text = raw.get();
        let is_integer = text
            .strip_prefix('-')
            .unwrap_or(text)
            .bytes()
            .all(|b| b.is_ascii_digit());
        if !is_integer {
            return Err(self.wrong_type(field, raw, "an integer"));
        }
        // Longer than any i128: out of range for every field type.
        text.parse::<i128>()
            .map_err(|_| self.out_of_range(field, raw, i128::MIN, i128::MAX))
    }

    fn out_of_range(&self, field: Field, raw: &RawValue, min: i128, max: i128) -> Error {
        let ty = match field {
            Field::Seq => "u64",
            Field::TsMs => "a timestamp up to 9999-12-31 (u64 ms)",
            Field::CostUsdE6 => "i64",
            Field::RetryCount => "u16",
            _ => "u32",
        };
        Error::OutOfRange {
            field: field.name(),
            column: self.column_of(raw),
            value: raw.get().to_owned(),
            ty,
            min: min.to_string(),
            max: max.to_string(),
        }
    }
}

/// The first `\\uXXXX` escape in a JSON string's inner text that is half of a UTF-16
/// surrogate pair without its other half: its byte offset in `inner` and its text as written.
fn lone_surrogate(inner: &str) -> Option<(usize, &str)> {
    let bytes = inner.as_bytes();
    let unit = |at: usize| -> Option<u16> {
        let hex = inner.get(at + 2..at + 6)?;
        (bytes.get(at..at + 2) == Some(b"\\u".as_slice()))
            .then(|| u16::from_str_radix(hex, 16).ok())
            .flatten()
    };
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] != b'\\' {
            at += 1;
            continue;
        }
        let Some(code) = unit(at) else {
            at += 2; // a one-character escape (\n, \", \\ …)
            continue;
        };
        match code {
            0xD800..=0xDBFF => match unit(at + 6) {
                Some(0xDC00..=0xDFFF) => at += 12,
                _ => return Some((at, &inner[at..at + 6])),
            },
            0xDC00..=0xDFFF => return Some((at, &inner[at..at + 6])),
            _ => at += 6,
        }
    }
    None
}

fn expected(field: Field) -> &'static str {
    match field {
        Field::SessionId | Field::Kind | Field::Source => "a string",
        Field::TsExact => "true or false",
        _ => "an integer",
    }
}

fn json_type_of(text: &str) -> String {
    let kind = match text.as_bytes().first() {
        Some(b'"') => "a string",
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ if text.contains(['.', 'e', 'E']) => "a fractional number",
        _ => "a number",
    };
    let shown: String = text.chars().take(40).collect();
    if kind == "null" || shown.len() < text.len() {
        kind.to_owned()
    } else {
        format!("{kind} ({shown})")
    }
}
