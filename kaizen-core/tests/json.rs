//! The JSON form of an event: what is accepted, and a typed error naming the field for
//! everything that is not.

use kaizen_core::{Error, Event, EventKind, Field};
use serde_json::{Value, json};

fn valid() -> Value {
    json!({
        "session_id": "s", "seq": 1, "ts_ms": 1_790_812_800_000u64, "ts_exact": true,
        "kind": "ToolCall", "source": "Tail", "tool": "bash", "tool_call_id": null,
        "tokens_in": 4_294_967_295u64, "cost_usd_e6": -9_223_372_036_854_775_808i64,
        "retry_count": 65535, "payload": {"a": [1, "two", null]}
    })
}

fn with(key: &str, value: Value) -> String {
    let mut v = valid();
    v[key] = value;
    v.to_string()
}

fn without(key: &str) -> String {
    let mut v = valid();
    v.as_object_mut().expect("object").remove(key);
    v.to_string()
}

#[test]
fn accepts_the_serde_form_with_absent_or_null_optionals() {
    let e = Event::from_json(&valid().to_string()).expect("valid");
    assert_eq!(e.kind, EventKind::ToolCall);
    assert_eq!(e.tokens_in, Some(u32::MAX));
    assert_eq!(e.cost_usd_e6, Some(i64::MIN));
    assert_eq!(e.retry_count, Some(u16::MAX));
    assert_eq!((e.tool_call_id, e.latency_ms), (None, None));
    assert_eq!(e.payload.to_value(), json!({"a": [1, "two", null]}));
}

#[test]
fn serde_form_round_trips_with_fields_in_order() {
    let e = Event::from_json(&valid().to_string()).expect("valid");
    let text = e.to_json();
    let keys: Vec<String> = serde_json::from_str::<serde_json::Map<String, Value>>(&text)
        .expect("json")
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys.len(), 22);
    assert!(
        text.ends_with(r#""payload":{"a":[1,"two",null]}}"#),
        "{text}"
    );
    assert_eq!(Event::from_json(&text).expect("again"), e);
    let via_serde: Event = serde_json::from_str(&text).expect("Deserialize");
    assert_eq!(via_serde, e);
}

#[test]
fn every_payload_json_type_is_kept_as_text() {
    for payload in [
        "null",
        "0",
        "-0.0",
        "1e300",
        "18446744073709551615",
        "123456789012345678901234567890",
        "\"s\"",
        "true",
        "[]",
        "{}",
        "{\"k\": [1, {\"x\": \"\\u0000\"}]}",
    ] {
        let line = format!(
            r#"{{"session_id":"s","seq":0,"ts_ms":0,"ts_exact":true,"kind":"Hook","source":"Hook","payload":{payload}}}"#
        );
        let e = Event::from_json(&line).expect(payload);
        assert_eq!(
            e.payload.as_json_text(),
            payload,
            "kept exactly, no number rounded"
        );
    }
}

#[test]
fn missing_required_fields_are_named() {
    for field in Field::ALL.iter().filter(|f| f.is_required()) {
        let err = Event::from_json(&without(field.name())).expect_err(field.name());
        assert_eq!(
            err,
            Error::MissingField {
                field: field.name()
            }
        );
    }
    // Optional fields may be absent.
    assert!(Event::from_json(&without("tool")).is_ok());
}

#[test]
fn nulls_in_required_fields_are_refused() {
    for field in ["session_id", "seq", "ts_ms", "ts_exact", "kind", "source"] {
        let err = Event::from_json(&with(field, Value::Null)).expect_err(field);
        assert!(
            matches!(err, Error::WrongType { field: f, found: ref x, .. } if f == field && x == "null"),
            "{err}"
        );
    }
    // A null payload is a JSON value like any other.
    assert_eq!(
        Event::from_json(&with("payload", Value::Null))
            .expect("null payload")
            .payload
            .as_json_text(),
        "null"
    );
}

#[test]
fn wrong_types_are_refused_never_coerced() {
    let cases = [
        ("seq", json!("1")),
        ("seq", json!(1.0)),
        ("ts_ms", json!(1e12)),
        ("ts_exact", json!(1)),
        ("ts_exact", json!("true")),
        ("tokens_in", json!([1])),
        ("session_id", json!(5)),
        ("tool", json!({"a": 1})),
        ("cost_usd_e6", json!(1.5)),
        ("kind", json!(1)),
    ];
    for (field, value) in cases {
        let err = Event::from_json(&with(field, value.clone())).expect_err(field);
        assert!(
            matches!(err, Error::WrongType { field: f, .. } if f == field),
            "{field} {value}: {err}"
        );
        assert!(err.to_string().contains(field));
    }
}

#[test]
fn out_of_range_integers_are_refused() {
    let cases = [
        ("seq", "-1"),
        ("seq", "18446744073709551616"),
        ("tokens_in", "4294967296"),
        ("tokens_out", "-1"),
        ("retry_count", "65536"),
        ("cost_usd_e6", "9223372036854775808"),
        ("cost_usd_e6", "-9223372036854775809"),
        ("ts_ms", "253402300800000"),
        ("latency_ms", "99999999999999999999999999999999999999999999"),
    ];
    for (field, number) in cases {
        // The number goes in as written: serde_json's Value could not even hold some of them.
        let line = with(field, Value::Null).replace(
            &format!("\"{field}\":null"),
            &format!("\"{field}\":{number}"),
        );
        let err = Event::from_json(&line).expect_err(&line);
        assert!(
            matches!(err, Error::OutOfRange { field: f, .. } if f == field),
            "{field}={number}: {err}"
        );
    }
}

#[test]
fn numbers_past_any_integer_type_are_out_of_the_fields_own_range() {
    for (field, number, range) in [
        (
            "seq",
            "689859363009850292770335107883708450675",
            "0..=18446744073709551615",
        ),
        (
            "latency_ms",
            "-99999999999999999999999999999999999999999",
            "0..=4294967295",
        ),
        (
            "cost_usd_e6",
            "99999999999999999999999999999999999999999",
            "-9223372036854775808..=9223372036854775807",
        ),
    ] {
        let line = with(field, Value::Null).replace(
            &format!("\"{field}\":null"),
            &format!("\"{field}\":{number}"),
        );
        let err = Event::from_json(&line).expect_err(&line).to_string();
        assert!(err.contains(range), "{field}={number}: {err}");
    }
}

#[test]
fn unknown_kinds_sources_and_fields_are_refused() {
    let err = Event::from_json(&with("kind", json!("message"))).expect_err("case matters");
    assert!(
        matches!(err, Error::UnknownKind { ref value, .. } if value == "message"),
        "{err}"
    );
    let err = Event::from_json(&with("source", json!("Tails"))).expect_err("source");
    assert!(matches!(err, Error::UnknownSource { .. }), "{err}");
    let err = Event::from_json(&with("model", json!("x"))).expect_err("unknown field");
    assert!(
        matches!(err, Error::UnknownField { ref key, .. } if key == "model"),
        "{err}"
    );
}

#[test]
fn duplicate_keys_and_bad_json_are_refused_with_a_column() {
    let line = r#"{"session_id":"s","seq":1,"seq":2,"ts_ms":0,"ts_exact":true,"kind":"Hook","source":"Hook","payload":1}"#;
    let err = Event::from_json(line).expect_err("duplicate");
    assert_eq!(
        err,
        Error::DuplicateField {
            field: "seq",
            column: 33
        }
    );
    for bad in ["", "{", "[1,2]", "{\"session_id\":\"s\"", "{} {}", "nul"] {
        let err = Event::from_json(bad).expect_err(bad);
        assert!(matches!(err, Error::Syntax { .. }), "{bad}: {err}");
    }
}

#[test]
fn errors_give_the_column_of_the_value() {
    let line = r#"{"session_id":"s","seq":-4,"ts_ms":0,"ts_exact":true,"kind":"Hook","source":"Hook","payload":1}"#;
    let err = Event::from_json(line).expect_err("negative");
    let column = line.find("-4").expect("found") + 1;
    assert!(
        matches!(err, Error::OutOfRange { column: c, .. } if c == column),
        "{err}"
    );
}

#[test]
fn strings_with_escapes_are_decoded_and_plain_ones_kept_as_they_are() {
    let line = with("session_id", json!("a\"b\\c/é\n\u{1F680}"))
        .replace("\"ToolCall\"", r#""Tool\u0043all""#)
        .replace("\"bash\"", r#""b\u00e4sh""#);
    let e = Event::from_json(&line).expect(&line);
    assert_eq!(e.session_id, "a\"b\\c/é\n\u{1F680}");
    assert_eq!(e.kind, EventKind::ToolCall);
    assert_eq!(e.tool.as_deref(), Some("bäsh"));
    let plain = Event::from_json(&with("tool", json!("grep -n 'x' é"))).expect("plain");
    assert_eq!(plain.tool.as_deref(), Some("grep -n 'x' é"));
    // An escape the parser refuses stays refused.
    let bad = valid().to_string().replace("\"bash\"", r#""ba\qsh""#);
    assert!(matches!(Event::from_json(&bad), Err(Error::Syntax { .. })));
}

/// A `\u` escape that is half a surrogate pair is not a character: refused in a string field
/// with the reason and the escape's own column, while a payload keeps it exactly as written.
#[test]
fn lone_surrogates_are_refused_in_fields_with_their_column_and_kept_in_payloads() {
    let cases = [
        ("session_id", r#""s\ud800x""#, r"\ud800"),
        ("session_id", r#""\uDC00""#, r"\uDC00"),
        ("tool", r#""a\n\ud83d\ud83d\ude80""#, r"\ud83d"),
        ("stop_reason", r#""end\ud800""#, r"\ud800"),
        ("kind", r#""\udbff!""#, r"\udbff"),
    ];
    for (field, value, escape) in cases {
        let line = with(field, Value::Null).replace(
            &format!("\"{field}\":null"),
            &format!("\"{field}\":{value}"),
        );
        let err = Event::from_json(&line).expect_err(&line);
        let column = line.find(escape).expect("escape") + 1;
        assert_eq!(
            err,
            Error::InvalidString {
                field: match field {
                    "session_id" => "session_id",
                    "tool" => "tool",
                    "stop_reason" => "stop_reason",
                    _ => "kind",
                },
                column,
                reason: format!("lone surrogate {escape}"),
            },
            "{line}"
        );
        let text = err.to_string();
        assert!(
            text.contains(&format!("`{field}` at column {column}"))
                && text.contains(&format!("not valid Unicode: lone surrogate {escape}")),
            "{text}"
        );
    }
    // A pair is one character, decoded.
    let line = with("session_id", Value::Null)
        .replace("\"session_id\":null", r#""session_id":"\ud83d\ude80""#);
    let e = Event::from_json(&line).expect("a surrogate pair");
    assert_eq!(e.session_id, "\u{1F680}");
    // In the payload the same escapes are JSON text, kept as written.
    for payload in [
        r#"{"text":"s\ud800x"}"#,
        r#"["\uDC00", "\ud83d\ud83d\ude80"]"#,
        r#""\ud800""#,
    ] {
        let line = with("payload", Value::Null)
            .replace("\"payload\":null", &format!("\"payload\":{payload}"));
        let e = Event::from_json(&line).expect(payload);
        assert_eq!(e.payload.as_json_text(), payload);
        assert_eq!(Event::from_json(&e.to_json()).expect("again"), e);
    }
}
