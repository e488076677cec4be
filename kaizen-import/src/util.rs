//! Small helpers shared by the formats: timestamps, hashes, identities, JSON pieces.

use std::borrow::Cow;

use serde_json::value::RawValue;

/// FNV-1a, 64 bits: stable across platforms and releases (identities and cursors depend on it).
pub(crate) fn fnv64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The 24-bit hash of a file's path within its session; 0 is kept for the session's main file.
pub(crate) fn file_hash24(path_in_session: &str) -> u32 {
    let h = fnv64(path_in_session.as_bytes());
    let folded = ((h >> 32) ^ h) as u32 & 0x00FF_FFFF;
    if folded == 0 { 1 } else { folded }
}

/// An event's `seq`: `kind << 56 | file_hash << 32 | line` (see the crate docs).
pub(crate) fn seq(kind: u8, file_hash: u32, line: u64) -> u64 {
    (u64::from(kind) << 56) | (u64::from(file_hash & 0x00FF_FFFF) << 32) | (line & 0xFFFF_FFFF)
}

/// Milliseconds since the epoch of an RFC 3339 time (`2026-10-01T09:15:02.123Z`, any number
/// of fraction digits, `Z` or `±HH:MM`). `None` for anything else, or a time before 1970.
pub(crate) fn parse_rfc3339_ms(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        part.iter().try_fold(0i64, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' {
        return None;
    }
    if b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 60 {
        return None;
    }
    let mut i = 19;
    let mut millis = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 3 {
                millis = millis * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        for _ in (i - start)..3 {
            millis *= 10;
        }
    }
    let offset_min = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
            let m = num(i + 1, 2)? * 60 + num(i + 4, 2)?;
            if *sign == b'-' { -m } else { m }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_min * 60;
    let ms = secs.checked_mul(1000)?.checked_add(millis)?;
    u64::try_from(ms).ok()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A JSON string value's text, borrowed when it has no escapes; `None` when not a string.
pub(crate) fn json_str(raw: &RawValue) -> Option<Cow<'_, str>> {
    let quoted = raw.get();
    let inner = quoted.strip_prefix('"')?.strip_suffix('"')?;
    if !inner.contains('\\') {
        return Some(Cow::Borrowed(inner));
    }
    serde_json::from_str::<String>(quoted).ok().map(Cow::Owned)
}

/// A JSON number as a non-negative whole count (`12`, `12.0`); `None` otherwise.
pub(crate) fn json_count(value: &serde_json::Value) -> Option<u64> {
    value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|f| *f >= 0.0 && f.fract() == 0.0 && *f < 1e18)
            .map(|f| f as u64)
    })
}

/// Appends `s` as a JSON string literal.
pub(crate) fn push_json_str(out: &mut String, s: &str) {
    // Serializing a &str into a String cannot fail.
    out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned()));
}

/// Builds an event payload object `{"agent":…,"path":…,"line":…, derived fields…, record}`
/// as JSON text, keys in a fixed order.
pub(crate) struct PayloadBuilder {
    text: String,
}

impl PayloadBuilder {
    pub(crate) fn new(agent: &str, path: &str, line: u64, capacity: usize) -> Self {
        let mut text = String::with_capacity(capacity + path.len() + 96);
        text.push_str("{\"agent\":");
        push_json_str(&mut text, agent);
        text.push_str(",\"path\":");
        push_json_str(&mut text, path);
        text.push_str(",\"line\":");
        text.push_str(&line.to_string());
        PayloadBuilder { text }
    }

    pub(crate) fn str(&mut self, key: &str, value: &str) -> &mut Self {
        self.key(key);
        push_json_str(&mut self.text, value);
        self
    }

    pub(crate) fn opt_str(&mut self, key: &str, value: Option<&str>) -> &mut Self {
        if let Some(v) = value {
            self.str(key, v);
        }
        self
    }

    pub(crate) fn num(&mut self, key: &str, value: impl std::fmt::Display) -> &mut Self {
        self.key(key);
        self.text.push_str(&value.to_string());
        self
    }

    pub(crate) fn nonzero(&mut self, key: &str, value: u64) -> &mut Self {
        if value != 0 {
            self.num(key, value);
        }
        self
    }

    pub(crate) fn flag(&mut self, key: &str, on: bool) -> &mut Self {
        if on {
            self.key(key);
            self.text.push_str("true");
        }
        self
    }

    /// A value that is already valid JSON text (checked by the caller's parse).
    pub(crate) fn raw(&mut self, key: &str, json: &str) -> &mut Self {
        self.key(key);
        self.text.push_str(json);
        self
    }

    fn key(&mut self, key: &str) {
        self.text.push(',');
        push_json_str(&mut self.text, key);
        self.text.push(':');
    }

    pub(crate) fn finish(mut self) -> String {
        self.text.push('}');
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339() {
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:01.5Z"), Some(1500));
        assert_eq!(
            parse_rfc3339_ms("2026-10-01T09:15:02.123Z"),
            Some(1_790_846_102_123)
        );
        assert_eq!(
            parse_rfc3339_ms("2026-10-01T11:15:02.123+02:00"),
            Some(1_790_846_102_123)
        );
        assert_eq!(
            parse_rfc3339_ms("2026-10-01T09:15:02.123456789Z"),
            Some(1_790_846_102_123)
        );
        assert_eq!(
            parse_rfc3339_ms("2026-10-01 09:15:02Z"),
            Some(1_790_846_102_000)
        );
        assert_eq!(parse_rfc3339_ms("2026-13-01T09:15:02Z"), None);
        assert_eq!(parse_rfc3339_ms("2026-10-01T09:15:02"), None);
        assert_eq!(parse_rfc3339_ms("1969-12-31T23:59:59Z"), None);
        assert_eq!(parse_rfc3339_ms("2026-10-01T09:15:02.Z"), None);
    }

    #[test]
    fn seq_layout() {
        assert_eq!(seq(1, 0, 7), (1 << 56) | 7);
        assert_eq!(seq(2, 0xABCDEF, 1) >> 32, (2 << 24) | 0xABCDEF);
        assert_ne!(file_hash24("subagents/agent-a.jsonl"), 0);
    }
}

/// A set of 64-bit keys (response keys), kept in a cursor compactly: serialized as one
/// base64 string of the sorted keys, 8 big-endian bytes each (about 11 characters a key,
/// against 20 as JSON numbers).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct KeySet(pub std::collections::BTreeSet<u64>);

impl serde::Serialize for KeySet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use base64::Engine as _;
        let bytes: Vec<u8> = self.0.iter().flat_map(|k| k.to_be_bytes()).collect();
        s.serialize_str(&base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes))
    }
}

impl<'de> serde::Deserialize<'de> for KeySet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use base64::Engine as _;
        let text = String::deserialize(d)?;
        let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(text.as_bytes())
            .map_err(serde::de::Error::custom)?;
        if bytes.len() % 8 != 0 {
            return Err(serde::de::Error::custom("a key set of partial keys"));
        }
        Ok(KeySet(
            bytes
                .chunks_exact(8)
                .map(|c| u64::from_be_bytes(c.try_into().unwrap_or_default()))
                .collect(),
        ))
    }
}

/// Whether `text` is empty or only JSON's whitespace (space, tab, CR, LF): a blank line.
/// Other Unicode spaces (NBSP, U+2028, form feed…) are not JSON's, so a line of them is
/// an invalid line, reported, not a blank one skipped.
pub(crate) fn is_blank(text: &str) -> bool {
    text.bytes()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}
