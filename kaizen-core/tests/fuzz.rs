//! Fuzzing the JSON decoder with proptest: no input makes it panic, and whatever it
//! accepts it writes back to the same event.

use kaizen_core::Event;
use proptest::prelude::*;

const VALID: &str = r#"{"session_id":"s-1/é","seq":7,"ts_ms":1790812800000,"ts_exact":true,"kind":"ToolCall","source":"Tail","tool":"bash","tool_call_id":null,"tokens_in":12,"cost_usd_e6":-5,"retry_count":3,"payload":{"a":[1,"two",null,{"b":1.5e3}],"c":"\u0000ü"}}"#;

fn check(text: &str) {
    if let Ok(event) = Event::from_json(text) {
        let again =
            Event::from_json(&event.to_json()).expect("what was accepted is written back valid");
        assert_eq!(again, event);
    }
}

proptest! {
    // A fixed seed: the same cases on every run and in CI, so a failure can be replayed.
    #![proptest_config(ProptestConfig {
        cases: 3000,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x6b61_697a_656e),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_text_never_panics(text in any::<String>()) {
        check(&text);
    }

    #[test]
    fn json_shaped_text_never_panics(text in r#"\{("[a-z_]{1,12}":(-?[0-9]{1,25}(\.[0-9]+)?|"[^"]{0,8}"|true|null|\[\]|\{\}),?){0,24}\}"#) {
        check(&text);
    }

    #[test]
    fn mutated_valid_lines_never_panic(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 1..6)
    ) {
        let mut bytes = VALID.as_bytes().to_vec();
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
            check(text);
        }
    }
}

#[test]
fn the_seed_line_is_valid() {
    assert!(Event::from_json(VALID).is_ok());
}
