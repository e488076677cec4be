//! `json_get_text(json, key)`: one top-level key of a JSON object, for SQL over payloads
//! (DataFusion has no JSON functions). Predicates and groupings over payloads use it instead
//! of text search, which also matches the same words nested deeper or inside a string.

use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

/// The SQL name of [`JsonGetText`].
pub const JSON_GET_TEXT: &str = "json_get_text";

/// `json_get_text(json, key)`: the value of the top-level `key` of the JSON object `json`, as
/// text, with Postgres's `->>` meaning: a string gives its contents (unescaped; a lone
/// surrogate escape, which payloads may keep, becomes U+FFFD), any other value its JSON text
/// as written (`false`, `12.50`, `{"a": 1}`). NULL when `json` or `key` is NULL, when `json`
/// is not an object, when the key is absent or its value is `null`; of a key given twice,
/// the last. Keys are compared after unescaping (`"\u006fk"` is `ok`). Nested keys are never
/// looked at: `{"output": {"ok": false}}` has no `ok`.
///
/// Errors: a `json` that is not valid JSON fails the query, naming the row (a store's
/// payloads are valid JSON: the writer checks them).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct JsonGetText {
    signature: Signature,
}

impl JsonGetText {
    /// The function, ready for `SessionContext::register_udf`.
    pub fn udf() -> ScalarUDF {
        ScalarUDF::new_from_impl(JsonGetText {
            signature: Signature::uniform(2, vec![DataType::Utf8], Volatility::Immutable),
        })
    }
}

impl ScalarUDFImpl for JsonGetText {
    fn name(&self) -> &str {
        JSON_GET_TEXT
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let [json, key] = arrays.as_slice() else {
            return Err(DataFusionError::Plan(format!(
                "{JSON_GET_TEXT} takes two arguments (json, key)"
            )));
        };
        let (json, key) = (cast(json, &DataType::Utf8)?, cast(key, &DataType::Utf8)?);
        let (json, key) = (json.as_string::<i32>(), key.as_string::<i32>());
        let mut out = StringBuilder::with_capacity(json.len(), 0);
        for row in 0..json.len() {
            if json.is_null(row) || key.is_null(row) {
                out.append_null();
                continue;
            }
            let value = top_level_text(json.value(row), key.value(row)).map_err(|e| {
                DataFusionError::Execution(format!(
                    "{JSON_GET_TEXT}: row {row}: not valid JSON: {e}"
                ))
            })?;
            out.append_option(value);
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish()) as ArrayRef))
    }
}

/// The text of `json`'s top-level `key`, as [`JsonGetText`] defines it.
fn top_level_text(json: &str, key: &str) -> Result<Option<String>, serde_json::Error> {
    if !json.trim_start().starts_with('{') {
        // Not an object: no key. Checked as JSON without decoding (as payloads are stored:
        // a lone surrogate or a number past f64 is still JSON text).
        serde_json::from_str::<IgnoredAny>(json)?;
        return Ok(None);
    }
    let mut de = serde_json::Deserializer::from_str(json);
    let found = de.deserialize_map(TopLevel { key })?;
    de.end()?;
    let Some(raw) = found else {
        return Ok(None);
    };
    let text = raw.get().trim();
    if text == "null" {
        return Ok(None);
    }
    if !text.starts_with('"') {
        return Ok(Some(text.to_owned()));
    }
    // As bytes: decoding to `String` refuses a lone surrogate, which is kept in payloads.
    let bytes = serde_json::Deserializer::from_str(text).deserialize_bytes(BytesOf)?;
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

/// Walks one JSON object to the raw value of its last `key`; other values are skipped
/// without being decoded.
struct TopLevel<'k> {
    key: &'k str,
}

impl<'de> Visitor<'de> for TopLevel<'_> {
    type Value = Option<&'de RawValue>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(is_key) = map.next_key_seed(IsKey(self.key))? {
            if is_key {
                found = Some(map.next_value::<&'de RawValue>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// Whether an object key, unescaped, is the wanted one. Read as bytes, so that a key with a
/// lone surrogate escape is a key that does not match rather than an error.
struct IsKey<'k>(&'k str);

impl<'de> DeserializeSeed<'de> for IsKey<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_bytes(self)
    }
}

impl Visitor<'_> for IsKey<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_bytes<E: de::Error>(self, key: &[u8]) -> Result<bool, E> {
        Ok(key == self.0.as_bytes())
    }
}

/// A JSON string's unescaped bytes (WTF-8 where it holds a lone surrogate).
struct BytesOf;

impl Visitor<'_> for BytesOf {
    type Value = Vec<u8>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON string")
    }

    fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<Self::Value, E> {
        Ok(bytes.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::top_level_text;

    fn get(json: &str, key: &str) -> Option<String> {
        top_level_text(json, key).expect(json)
    }

    #[test]
    fn reads_only_the_top_level_key() {
        assert_eq!(get(r#"{"ok":false}"#, "ok").as_deref(), Some("false"));
        assert_eq!(
            get(r#"{ "ok" : true , "x":1}"#, "ok").as_deref(),
            Some("true")
        );
        assert_eq!(
            get(r#"{"output":{"ok":false},"ok":true}"#, "ok").as_deref(),
            Some("true")
        );
        assert_eq!(get(r#"{"output":"\"ok\":false"}"#, "ok"), None);
        assert_eq!(get(r#"{"output":{"ok":false}}"#, "ok"), None);
        assert_eq!(get(r#"[{"ok":false}]"#, "ok"), None);
        assert_eq!(get(r#""ok""#, "ok"), None);
        assert_eq!(get(r#" "\ud800" "#, "ok"), None);
        assert_eq!(get("1e400", "ok"), None);
        assert_eq!(get(r#"{"ok":1e400}"#, "ok").as_deref(), Some("1e400"));
        assert_eq!(get("null", "ok"), None);
        assert_eq!(get(r#"{"ok":null}"#, "ok"), None);
        assert_eq!(get(r#"{"\u006fk":false}"#, "ok").as_deref(), Some("false"));
        assert_eq!(get(r#"{"ok":1,"ok":2}"#, "ok").as_deref(), Some("2"));
        assert_eq!(
            get(r#"{"a": {"b": [1, 2]} }"#, "a").as_deref(),
            Some(r#"{"b": [1, 2]}"#)
        );
        assert_eq!(get(r#"{"n":12.50}"#, "n").as_deref(), Some("12.50"));
    }

    #[test]
    fn strings_are_unescaped_and_lone_surrogates_kept_harmless() {
        assert_eq!(
            get(r#"{"model":"claude-\"x\"\n\u00e9"}"#, "model").as_deref(),
            Some("claude-\"x\"\né")
        );
        // Elsewhere in the payload, a lone surrogate is skipped like any text.
        assert_eq!(
            get(r#"{"text":"s\ud800x","model":"m"}"#, "model").as_deref(),
            Some("m")
        );
        let odd = get(r#"{"model":"a\ud800b"}"#, "model").expect("a value");
        assert!(
            odd.starts_with('a') && odd.ends_with('b') && odd.contains('\u{FFFD}'),
            "{odd}"
        );
        assert_eq!(get(r#"{"\ud800":1,"k":2}"#, "k").as_deref(), Some("2"));
    }

    #[test]
    fn invalid_json_is_an_error() {
        for bad in ["", "{", r#"{"ok":false"#, "{} x", "nope"] {
            assert!(top_level_text(bad, "ok").is_err(), "{bad}");
        }
    }
}
