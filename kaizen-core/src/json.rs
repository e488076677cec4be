//! Parsing one event from JSON with a typed error for each thing that can be wrong.
//!
//! A line in the canonical form (what [`crate::Event::to_json`] and every kaizen producer
//! write: the 22 keys in JSON order, no whitespace, strings without escapes) is split into
//! its fields by [`canonical_slots`], one pass over its bytes; any other line, or any byte
//! that differs, goes to the general parser, so every error is the general parser's.
//!
//! General parser, first pass: serde_json splits the object into borrowed raw values, one
//! slot a field (duplicate and unknown keys are caught here). Second pass (both paths):
//! each slot is checked against its field's type and range, so an error names the field
//! and the column of its value.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::{Error, Event, EventKind, EventSource, Field, MAX_TS_MS, Payload, Result};

pub(crate) fn parse_event(text: &str) -> Result<Event> {
    match canonical_slots(text) {
        Some(slots) => slots.build(text),
        None => parse_event_general(text),
    }
}

/// Any JSON form of an event: keys in any order, whitespace, escapes.
fn parse_event_general(text: &str) -> Result<Event> {
    let mut de = serde_json::Deserializer::from_str(text);
    let base = text.as_ptr() as usize;
    let slots = de
        .deserialize_map(SlotsVisitor { base })
        .map_err(Error::json_syntax)?;
    de.end().map_err(Error::json_syntax)?;
    if let Some(problem) = slots.problem {
        return Err(problem);
    }
    slots.build(text)
}

struct Slots<'a> {
    /// Each field's value as written (a JSON token; the payload's whole text).
    values: [Option<&'a str>; 22],
    /// The payload, checked as JSON.
    payload: Option<&'a RawValue>,
    /// The first unknown or duplicate key: reported after the object parsed as JSON.
    problem: Option<Error>,
}

impl Slots<'_> {
    fn empty() -> Self {
        Slots {
            values: [None; 22],
            payload: None,
            problem: None,
        }
    }
}

/// The slots of `text` when it is exactly the canonical form, `None` at the first byte
/// that is not. Accepts only valid JSON (scalars checked here, the payload by serde_json),
/// and gives each slot the text the general parser would, so both paths build the same
/// event or fail with the same error.
fn canonical_slots(text: &str) -> Option<Slots<'_>> {
    let bytes = text.as_bytes();
    let mut slots = Slots::empty();
    let mut at = 0;
    for (i, field) in Field::JSON_ORDER.into_iter().enumerate() {
        let name = field.name().as_bytes();
        let key_end = at + 2 + name.len() + 2;
        let key = bytes.get(at..key_end)?;
        let open = if i == 0 { b'{' } else { b',' };
        if key[0] != open || key[1] != b'"' || &key[2..2 + name.len()] != name {
            return None;
        }
        if &key[2 + name.len()..] != b"\":" {
            return None;
        }
        at = key_end;
        let len = if field == Field::Payload {
            let mut de = serde_json::Deserializer::from_str(text.get(at..)?);
            let raw = <&RawValue>::deserialize(&mut de).ok()?;
            // serde_json skips whitespace before a value; the canonical form has none.
            if raw.get().as_ptr() != bytes[at..].as_ptr() {
                return None;
            }
            slots.payload = Some(raw);
            raw.get().len()
        } else {
            scalar_len(&bytes[at..])?
        };
        slots.values[field.index()] = Some(text.get(at..at + len)?);
        at += len;
    }
    (bytes.get(at..) == Some(b"}")).then_some(slots)
}

/// The length of the JSON scalar `bytes` starts with, when it is one the canonical form
/// writes: a string without escapes or control characters, a whole number without sign
/// or leading zero, `true`, `false` or `null`. What follows it is checked by the caller.
fn scalar_len(bytes: &[u8]) -> Option<usize> {
    match *bytes.first()? {
        b'"' => {
            let inner = bytes[1..]
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
            (bytes[1 + inner] == b'"').then_some(inner + 2)
        }
        b'0' => Some(1),
        b'1'..=b'9' => Some(bytes.iter().take_while(|b| b.is_ascii_digit()).count()),
        b't' => bytes.starts_with(b"true").then_some(4),
        b'f' => bytes.starts_with(b"false").then_some(5),
        b'n' => bytes.starts_with(b"null").then_some(4),
        _ => None,
    }
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
        let mut slots = Slots::empty();
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
                Ok(field) => {
                    slots.values[field.index()] = Some(value.get());
                    if field == Field::Payload {
                        slots.payload = Some(value);
                    }
                }
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
    fn build(&self, text: &str) -> Result<Event> {
        let base = text.as_ptr() as usize;
        let reader = FieldReader {
            values: &self.values,
            base,
        };
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
            payload: match self.payload {
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
    values: &'v [Option<&'a str>; 22],
    base: usize,
}

impl<'a> FieldReader<'_, 'a> {
    fn column(&self, field: Field) -> usize {
        self.values[field.index()].map_or(0, |raw| self.column_of(raw))
    }

    fn column_of(&self, raw: &str) -> usize {
        (raw.as_ptr() as usize).saturating_sub(self.base) + 1
    }

    fn required<T>(
        &self,
        field: Field,
        read: impl Fn(&Self, Field, &'a str) -> Result<T>,
    ) -> Result<T> {
        match self.values[field.index()] {
            None => Err(Error::MissingField {
                field: field.name(),
            }),
            // Its own text, not a literal: the column is found from where the value lies.
            Some(raw) if raw == "null" => Err(self.wrong_type(field, raw, expected(field))),
            Some(raw) => read(self, field, raw),
        }
    }

    fn optional<T>(
        &self,
        field: Field,
        read: impl Fn(&Self, Field, &str) -> Result<T>,
    ) -> Result<Option<T>> {
        match self.values[field.index()] {
            None => Ok(None),
            Some("null") => Ok(None),
            Some(raw) => read(self, field, raw).map(Some),
        }
    }

    fn wrong_type(&self, field: Field, raw: &str, expected: &'static str) -> Error {
        Error::WrongType {
            field: field.name(),
            column: self.column_of(raw),
            expected,
            found: json_type_of(raw),
        }
    }

    fn string(&self, field: Field, raw: &str) -> Result<String> {
        self.text(field, raw).map(Cow::into_owned)
    }

    /// A string value, borrowed from the line when it has no escapes.
    fn text<'r>(&self, field: Field, raw: &'r str) -> Result<Cow<'r, str>> {
        let Some(inner) = raw.strip_prefix('"').and_then(|s| s.strip_suffix('"')) else {
            return Err(self.wrong_type(field, raw, "a string"));
        };
        // The parser has checked the string: without a backslash its text is its value.
        if !inner.contains('\\') {
            return Ok(Cow::Borrowed(inner));
        }
        // The first pass skipped the string without decoding its `\\u` escapes: one that is
        // half a surrogate pair is found here, and named with its own column.
        serde_json::from_str(raw).map(Cow::Owned).map_err(|e| {
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

    fn boolean(&self, field: Field, raw: &str) -> Result<bool> {
        match raw {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(self.wrong_type(field, raw, "true or false")),
        }
    }

    fn u32(&self, field: Field, raw: &str) -> Result<u32> {
        self.unsigned(field, raw, u32::MAX.into()).map(|v| v as u32)
    }

    /// A whole number in `0..=max`. `1.0`, `1e3` and `"1"` are type errors, not coerced.
    fn unsigned(&self, field: Field, raw: &str, max: u64) -> Result<u64> {
        let value = self.integer(field, raw, 0, max.into())?;
        u64::try_from(value)
            .ok()
            .filter(|v| *v <= max)
            .ok_or_else(|| self.out_of_range(field, raw, 0, max.into()))
    }

    fn i64(&self, field: Field, raw: &str) -> Result<i64> {
        let value = self.integer(field, raw, i64::MIN.into(), i64::MAX.into())?;
        i64::try_from(value)
            .map_err(|_| self.out_of_range(field, raw, i64::MIN.into(), i64::MAX.into()))
    }

    /// A whole number; one too long for an i128 is out of the field's range `min..=max`.
    fn integer(&self, field: Field, raw: &str, min: i128, max: i128) -> Result<i128> {
        let is_integer = raw
            .strip_prefix('-')
            .unwrap_or(raw)
            .bytes()
            .all(|b| b.is_ascii_digit());
        if !is_integer {
            return Err(self.wrong_type(field, raw, "an integer"));
        }
        // Longer than any i128: out of range for every field type.
        raw.parse::<i128>()
            .map_err(|_| self.out_of_range(field, raw, min, max))
    }

    fn out_of_range(&self, field: Field, raw: &str, min: i128, max: i128) -> Error {
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
            value: raw.to_owned(),
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A parse's outcome, comparable: the event's JSON form, or the error's message.
    fn outcome(result: Result<Event>) -> std::result::Result<String, String> {
        result.map(|e| e.to_json()).map_err(|e| e.to_string())
    }

    /// Both paths agree on `text`; returns whether the canonical one took it.
    fn agree(text: &str) -> bool {
        let general = outcome(parse_event_general(text));
        assert_eq!(outcome(parse_event(text)), general, "{text}");
        canonical_slots(text).is_some()
    }

    const LINE: &str = r#"{"session_id":"codex-2467bdd9","seq":0,"ts_ms":1790813141427,"ts_exact":true,"kind":"Message","source":"Tail","tool":null,"tool_call_id":null,"tokens_in":41252,"tokens_out":1807,"reasoning_tokens":5463,"cost_usd_e6":150861,"stop_reason":"end_turn","latency_ms":29771,"ttft_ms":3449,"retry_count":null,"context_used_tokens":18478,"context_max_tokens":200000,"cache_creation_tokens":13637,"cache_read_tokens":11209,"system_prompt_tokens":1671,"payload":{"agent":"codex","text":"données 데이터 🚀"}}"#;

    #[test]
    fn a_canonical_line_takes_the_canonical_path() {
        assert!(agree(LINE));
        let event = parse_event(LINE).expect("valid");
        assert_eq!(event.to_json(), LINE);
    }

    #[test]
    fn syntax_errors_give_their_column_once_and_from_1() {
        let error = |text: &str| match parse_event(text) {
            Err(Error::Syntax { column, message }) => (column, message),
            other => panic!("{text}: {other:?}"),
        };
        // JSON of another type is found where it starts, not at serde_json's column 0.
        let (column, message) = error("[1,2]");
        assert_eq!(column, 1);
        assert_eq!(
            message,
            "invalid type: sequence, expected a JSON object (one event)"
        );
        let (column, message) = error(r#"{"a":1"#);
        assert_eq!(column, 6);
        assert_eq!(message, "EOF while parsing an object");
        assert_eq!(
            parse_event("[]")
                .map_err(|e| e.to_string())
                .err()
                .as_deref(),
            Some(
                "invalid JSON at column 1: invalid type: sequence, expected a JSON object (one event)"
            )
        );
    }

    #[test]
    fn payloads_are_any_json_on_the_canonical_path() {
        for payload in [
            r#""donn\u00e9es \"x\"""#,
            "-1.5e3",
            "[[{}]]",
            "null",
            "{\"a\":1}",
        ] {
            let text = LINE.replacen(
                r#"{"agent":"codex","text":"données 데이터 🚀"}"#,
                payload,
                1,
            );
            assert!(agree(&text), "{text}");
            let event = parse_event(&text).expect("valid");
            assert_eq!(event.payload.as_json_text(), payload);
        }
        for payload in ["{\"a\":1", "{\"a\":1}}", "[1,]", "01", "\"\\x\""] {
            let text = LINE.replacen(
                r#"{"agent":"codex","text":"données 데이터 🚀"}"#,
                payload,
                1,
            );
            assert!(!agree(&text), "{text}");
        }
    }

    #[test]
    fn canonical_lines_with_bad_values_fail_as_the_general_parser_says() {
        for (from, to) in [
            (r#""ts_ms":1790813141427"#, r#""ts_ms":253402300800000"#),
            (r#""kind":"Message""#, r#""kind":"Mesage""#),
            (r#""source":"Tail""#, r#""source":null"#),
            (r#""seq":0"#, r#""seq":"0""#),
            (r#""tokens_in":41252"#, r#""tokens_in":4294967296"#),
            (r#""retry_count":null"#, r#""retry_count":65536"#),
            (r#""ts_exact":true"#, r#""ts_exact":1"#),
            (r#""tool":null"#, r#""tool":7"#),
            (
                r#""cost_usd_e6":150861"#,
                r#""cost_usd_e6":99999999999999999999999999999999999999999"#,
            ),
        ] {
            let text = LINE.replacen(from, to, 1);
            assert!(agree(&text), "took the general path: {text}");
            assert!(parse_event(&text).is_err(), "{text}");
        }
    }

    #[test]
    fn other_forms_go_to_the_general_parser() {
        for (from, to) in [
            (r#""seq":0"#, r#""seq": 0"#),
            (r#""seq":0"#, r#""seq":00"#),
            (r#""seq":0"#, r#""seq":-0"#),
            (r#""seq":0"#, r#""seq":0.0"#),
            (r#""seq":0"#, r#""seq":1e2"#),
            (r#""cost_usd_e6":150861"#, r#""cost_usd_e6":-150861"#),
            (r#""session_id":"codex"#, r#""session_id":"co\u0064ex"#),
            (r#""session_id":"codex"#, "\"session_id\":\"co\tdex"),
            (
                r#""stop_reason":"end_turn""#,
                r#""stop_reason":"end\"turn""#,
            ),
            (r#""payload":{"#, r#""payload": {"#),
            (r#""tool":null"#, r#""tool":nul"#),
            (r#""tool":null"#, r#""tool":nullx"#),
            (r#""ts_exact":true"#, r#""ts_exact":truefalse"#),
            (r#"{"session_id""#, r#" {"session_id""#),
        ] {
            let text = LINE.replacen(from, to, 1);
            assert!(!agree(&text), "took the canonical path: {text}");
        }
        for text in [
            format!("{LINE} "),
            format!("{LINE}}}"),
            LINE.replacen(r#","seq":0"#, "", 1),
            LINE.replacen(r#""seq":0,"#, r#""seq":0,"seq":0,"#, 1),
            LINE.replacen(
                r#""seq":0,"ts_ms":1790813141427"#,
                r#""ts_ms":1790813141427,"seq":0"#,
                1,
            ),
            LINE.replacen(
                r#","payload":{"agent":"codex","text":"données 데이터 🚀"}"#,
                "",
                1,
            ),
            format!("{LINE}\n"),
        ] {
            assert!(!agree(&text), "took the canonical path: {text}");
        }
    }

    /// An event's line as `to_json` writes it, and whether the canonical form takes it:
    /// no string field needing an escape, no negative cost (payloads may hold anything).
    fn event_line() -> impl Strategy<Value = (String, bool)> {
        let text = || prop_oneof!["[a-z0-9_-]{1,12}", any::<String>(), r#"[a-z"\\é]{0,6}"#];
        let count = || prop::option::of(prop_oneof![Just(0u32), any::<u32>()]);
        (
            (text(), any::<u64>(), 0..=MAX_TS_MS, any::<bool>()),
            (0..EventKind::ALL.len(), 0..EventSource::ALL.len()),
            (
                prop::option::of(text()),
                prop::option::of(text()),
                prop::option::of(text()),
            ),
            (
                count(),
                count(),
                prop::option::of(any::<i64>()),
                prop::option::of(any::<u16>()),
            ),
            prop_oneof![
                Just("null"),
                Just("0"),
                Just("-1.5e3"),
                Just(r#""a \"quoted\" text""#),
                Just(r#"{"a":[1,"two",null,{"b":true}],"c":"\u00e9"}"#),
                Just("[[[]]]"),
            ],
        )
            .prop_map(|(head, (kind, source), strings, numbers, payload)| {
                let (session, seq, ts_ms, exact) = head;
                let plain = |s: &str| !s.chars().any(|c| c < ' ' || c == '"' || c == '\\');
                let canonical = plain(&session)
                    && [&strings.0, &strings.1, &strings.2]
                        .iter()
                        .all(|s| s.as_deref().is_none_or(plain))
                    && numbers.2.is_none_or(|cost| cost >= 0);
                let (kind, source) = (EventKind::ALL[kind], EventSource::ALL[source]);
                let mut event = Event::new(session, seq, ts_ms, kind, source);
                event.ts_exact = exact;
                (event.tool, event.tool_call_id, event.stop_reason) = strings;
                (event.tokens_in, event.latency_ms) = (numbers.0, numbers.1);
                (event.cost_usd_e6, event.retry_count) = (numbers.2, numbers.3);
                event.payload = Payload::from_json_text(payload).expect("valid JSON");
                (event.to_json(), canonical)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 2000,
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x6661_7374),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// Every line `to_json` writes parses by either path to the same event; those
        /// without escapes or negative numbers by the canonical one.
        #[test]
        fn written_lines_agree((line, canonical) in event_line()) {
            prop_assert_eq!(agree(&line), canonical, "{}", line);
        }

        /// Lines a few bytes off the written form (the bytes swapped, removed or added
        /// anywhere) give the same event or the same error by either path.
        #[test]
        fn mutated_lines_agree(
            (line, _) in event_line(),
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 1..5),
        ) {
            let mut bytes = line.into_bytes();
            for (at, byte, op) in edits {
                if bytes.is_empty() {
                    break;
                }
                let i = at.index(bytes.len());
                match op {
                    0 => bytes[i] = byte,
                    1 => { bytes.remove(i); }
                    _ => bytes.insert(i, byte),
                }
            }
            if let Ok(text) = std::str::from_utf8(&bytes) {
                agree(text);
            }
        }
    }
}
