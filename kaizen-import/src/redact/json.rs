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

/// `(start, end)` moved so that neither falls inside an escape sequence of the string whose
/// contents start at `from` (a position known to be at an escape boundary): `start` back to
/// the escape's `\`, `end` on past its last character.
pub(crate) fn whole_escapes(json: &str, from: usize, start: usize, end: usize) -> (usize, usize) {
    let bytes = json.as_bytes();
    let (mut start, mut end) = (start, end);
    let mut i = from;
    while i < end {
        match memchr::memchr(b'\\', &bytes[i..end]) {
            None => break,
            Some(k) => {
                let at = i + k;
                let after = at + escape_len(bytes, at);
                if at < start && after > start {
                    start = at;
                }
                if after > end {
                    end = after.min(bytes.len());
                }
                i = after;
            }
        }
    }
    (start, end)
}
