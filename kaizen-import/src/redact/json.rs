//! Replacing parts of JSON text while keeping it JSON: where its strings are, and spans
//! moved to whole escape sequences.
//!
//! A detector matches the raw text of a JSON line (as stored: export writes it back), so a
//! match can start or end inside an escape (`\u002f`, `\n`) or reach over a string's
//! closing quote. Each span is cut to the string it starts in and widened to whole escapes;
//! a span that starts outside every string (a number, the structure) is no secret of a string
//! and is left. The replacement, `[REDACTED:name]`, needs no escaping, so the text stays JSON.

/// The byte ranges of the contents of every string value of `json` (between their
/// quotes), in order; object keys are not among them (a key is the document's structure:
/// redacting two keys alike would make them one, and a reader would keep one value of
/// the two). `json` is valid JSON.
pub(crate) fn string_ranges(json: &str) -> Vec<(usize, usize)> {
    let bytes = json.as_bytes();
    let mut ranges = Vec::new();
    let mut i = 0;
    while let Some(open) = memchr::memchr(b'"', &bytes[i..]) {
        let start = i + open + 1;
        let mut j = start;
        loop {
            match memchr::memchr2(b'"', b'\\', &bytes[j..]) {
                Some(k) if bytes[j + k] == b'\\' => j += k + 2,
                Some(k) => {
                    let after = j + k + 1;
                    // In valid JSON a string followed by `:` is an object's key.
                    let next = bytes[after..].iter().find(|b| !b.is_ascii_whitespace());
                    if next != Some(&b':') {
                        ranges.push((start, j + k));
                    }
                    i = after;
                    break;
                }
                None => return ranges, // not JSON after all: nothing more is a string
            }
        }
    }
    ranges
}

/// The length of the escape sequence starting at `at` (a `\`): 6 for `\uXXXX`, else 2.
fn escape_len(bytes: &[u8], at: usize) -> usize {
    match bytes.get(at + 1) {
        Some(b'u') => 6,
        _ => 2,
    }
}

/// The escape sequences in the contents `json[start..end]` of a string, in order: each as
/// `(at, after)`, its `\\` and one past its last character.
fn escape_spans(json: &str, start: usize, end: usize) -> impl Iterator<Item = (usize, usize)> {
    let bytes = json.as_bytes();
    let mut i = start;
    std::iter::from_fn(move || {
        let at = i + memchr::memchr(b'\\', &bytes[i..end])?;
        i = (at + escape_len(bytes, at)).min(end);
        Some((at, i))
    })
}

/// [`escape_spans`], collected: what [`whole_escapes`] searches.
pub(crate) fn escapes(json: &str, start: usize, end: usize) -> Vec<(usize, usize)> {
    escape_spans(json, start, end).collect()
}

/// `(start, end)` moved so that neither falls inside one of `escapes` (as [`escapes`] gives
/// them for the string both lie in): `start` back to the escape's `\\`, `end` on past its
/// last character. A binary search each: a string's many secrets cost no rescan.
pub(crate) fn whole_escapes(
    escapes: &[(usize, usize)],
    start: usize,
    end: usize,
) -> (usize, usize) {
    let inside = |pos: usize| {
        let i = escapes.partition_point(|&(at, _)| at < pos);
        (i.checked_sub(1).map(|i| escapes[i])).filter(|&(_, after)| pos < after)
    };
    let start = inside(start).map_or(start, |(at, _)| at);
    let end = inside(end).map_or(end, |(_, after)| after);
    (start, end)
}

/// A string's contents as a JSON reader sees them, with where each decoded byte came from:
/// what the detectors also search when the text spells characters as `\uXXXX` escapes
/// (`ghp_\u0041…` is a GitHub token to any reader of the JSON). Serialisers escape only
/// quotes, backslashes and control characters (and non-ASCII, for some), so the common
/// string has no such escape and is never decoded.
pub(crate) struct Decoded {
    /// The decoded contents.
    pub text: String,
    /// For each byte of `text`, and one past its end, the offset in the JSON text of the
    /// character (or escape) it came from.
    pub origin: Vec<usize>,
}

/// Whether the contents `json[start..end]` of a string hold a `\u` escape.
pub(crate) fn has_unicode_escape(json: &str, start: usize, end: usize) -> bool {
    escape_spans(json, start, end).any(|(at, after)| after - at == 6)
}

/// Decodes the contents `json[start..end]` of a string (`json` is valid JSON). A lone
/// surrogate escape, which no character is, decodes as U+FFFD.
pub(crate) fn decode_string(json: &str, start: usize, end: usize) -> Decoded {
    let bytes = json.as_bytes();
    let mut text = String::with_capacity(end - start);
    let mut origin = Vec::with_capacity(end - start + 1);
    let mut push = |c: char, at: usize, text: &mut String| {
        let before = text.len();
        text.push(c);
        origin.extend(std::iter::repeat_n(at, text.len() - before));
    };
    let mut i = start;
    while i < end {
        if bytes[i] != b'\\' {
            // A whole character: valid JSON text is UTF-8 and escapes are ASCII.
            let c = json[i..].chars().next().unwrap_or('\u{FFFD}');
            push(c, i, &mut text);
            i += c.len_utf8();
            continue;
        }
        let at = i;
        let hex =
            |from: usize| (json.get(from..from + 4)).and_then(|h| u32::from_str_radix(h, 16).ok());
        let c = match bytes.get(at + 1) {
            Some(b'u') => {
                let unit = hex(at + 2).unwrap_or(0xFFFD);
                i = at + 6;
                match unit {
                    0xD800..=0xDBFF
                        if bytes.get(i) == Some(&b'\\') && bytes.get(i + 1) == Some(&b'u') =>
                    {
                        match hex(i + 2) {
                            Some(low @ 0xDC00..=0xDFFF) => {
                                i += 6;
                                char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                            }
                            _ => None,
                        }
                    }
                    unit => char::from_u32(unit),
                }
                .unwrap_or('\u{FFFD}')
            }
            other => {
                i = at + 2;
                match other {
                    Some(b'n') => '\n',
                    Some(b't') => '\t',
                    Some(b'r') => '\r',
                    Some(b'b') => '\u{8}',
                    Some(b'f') => '\u{C}',
                    Some(&c) => c as char,
                    None => break,
                }
            }
        };
        push(c, at, &mut text);
    }
    origin.push(end);
    Decoded { text, origin }
}
