//! Reading a file line by line from a byte offset, in bounded memory.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Take};
use std::path::{Path, PathBuf};

use crate::import::Out;
use crate::{Error, Result};

/// What [`LineReader::next_line`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// A complete line (its `\n` removed) is in the buffer.
    Line,
    /// Bytes after the last `\n` that are not a complete JSON record: a line still being
    /// written. Not consumed.
    Tail,
    /// Nothing more.
    Eof,
}

pub(crate) struct LineReader {
    input: BufReader<Take<File>>,
    /// The same file, for reading ahead at an offset (`pread`: its position stays).
    ahead: File,
    path: PathBuf,
    /// Offset just after the last complete line returned.
    offset: u64,
    /// Line number of the last complete line returned (1-based numbering of the whole file).
    line_no: u64,
    max_line: usize,
    /// The last line returned had no `\n`: the file ends in a complete record without one.
    unterminated: bool,
}

impl LineReader {
    /// Reads the file `handle` (opened once from `path`, which names it in errors) from
    /// byte `start` (the start of line `first_line_no + 1`) up to `end` (or the end of the
    /// file). Every read of one import goes through that one handle (its duplicates share
    /// its offset, so readers take turns, never interleave): a file deleted or replaced
    /// meanwhile is still the one opened.
    pub(crate) fn open(
        handle: &File,
        path: &Path,
        start: u64,
        first_line_no: u64,
        end: Option<u64>,
        max_line: usize,
    ) -> Result<Self> {
        let mut file = handle.try_clone().map_err(|e| Error::io(path, e))?;
        file.seek(SeekFrom::Start(start))
            .map_err(|e| Error::io(path, e))?;
        let limit = end.map_or(u64::MAX, |e| e.saturating_sub(start));
        Ok(LineReader {
            ahead: file.try_clone().map_err(|e| Error::io(path, e))?,
            input: BufReader::with_capacity(1 << 20, file.take(limit)),
            path: path.to_owned(),
            offset: start,
            line_no: first_line_no,
            max_line,
            unterminated: false,
        })
    }

    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    pub(crate) fn line_no(&self) -> u64 {
        self.line_no
    }

    /// Whether the last line returned ended the file without a `\n` (see [`Next::Line`]).
    pub(crate) fn unterminated(&self) -> bool {
        self.unterminated
    }

    /// The next line into `buf` (cleared first), without its `\n`. The bytes after the last
    /// `\n` are a line too when they are a complete JSON record (ccusage and the agents'
    /// own readers count such a last line; an agent writes a line and its `\n` in one
    /// write, so it is as good as terminated); otherwise they are [`Next::Tail`].
    pub(crate) fn next_line(&mut self, buf: &mut Vec<u8>) -> Result<Next> {
        buf.clear();
        loop {
            let chunk = match self.input.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io(&self.path, e)),
            };
            if chunk.is_empty() {
                if buf.is_empty() {
                    return Ok(Next::Eof);
                }
                if !complete_record(buf) {
                    return Ok(Next::Tail);
                }
                self.offset += buf.len() as u64;
                self.line_no += 1;
                self.unterminated = true;
                return Ok(Next::Line);
            }
            let (take, done) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i, true),
                None => (chunk.len(), false),
            };
            if !done && buf.is_empty() {
                // A line longer than the read buffer: sized once from where its `\n` is,
                // not doubled as it grows (a 50 MB line held 96 MB while it was copied
                // into a buffer of 64).
                let length = line_length(&self.ahead, &self.path, self.offset, self.max_line)?;
                buf.reserve_exact(length);
            }
            if buf.len() + take > self.max_line {
                return Err(Error::LineTooLong {
                    path: self.path.clone(),
                    line: self.line_no + 1,
                    limit: self.max_line,
                });
            }
            buf.extend_from_slice(&chunk[..take]);
            self.input.consume(take + usize::from(done));
            if done {
                self.offset += buf.len() as u64 + 1;
                self.line_no += 1;
                return Ok(Next::Line);
            }
        }
    }
}

/// Bytes from `offset` to the next `\n` (or the end of the file) of `file`, at most
/// `max_line + 1`: read ahead at an offset, without moving the file's position (only for
/// lines longer than the read buffer).
fn line_length(file: &File, path: &Path, offset: u64, max_line: usize) -> Result<usize> {
    let mut block = vec![0u8; 1 << 20];
    let mut length = 0usize;
    while length <= max_line {
        let read =
            read_at(file, &mut block, offset + length as u64).map_err(|e| Error::io(path, e))?;
        if read == 0 {
            break;
        }
        if let Some(i) = memchr::memchr(b'\n', &block[..read]) {
            return Ok(length + i);
        }
        length += read;
    }
    Ok(length.min(max_line + 1))
}

/// Reads at `offset` without moving the file's position.
#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}

/// Whether the bytes after a file's last `\n` are a whole record: a JSON object (every
/// format's records are objects; a number or a literal might still grow) that parses.
fn complete_record(bytes: &[u8]) -> bool {
    bytes.trim_ascii_start().first() == Some(&b'{')
        && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok()
}

/// Where an import's reading of a file stopped: the next import starts there.
pub(crate) struct LinesRead {
    /// Offset just after the last line (its `\n` included, when it has one).
    pub consumed: u64,
    /// Number of the last complete line (1-based, of the whole file).
    pub lines: u64,
    /// The file ends in a line still being written (left for the next import).
    pub tail: bool,
}

/// The capacity of the line buffer kept from one line to the next, bytes.
const LINE_BUFFER_KEPT: usize = 4 << 20;

/// The one loop every line-based source runs: reads the complete lines of `out`'s file
/// after byte `start` (the start of line `start_line + 1`) up to `end` (or the file's end),
/// counts each in `out.report` (lines, and bytes with its `\n`) and hands it to `each`
/// with its line number. A last line without `\n` that is a complete record is handed
/// over with `out.unterminated` set (its event says so, for export, and the cursor
/// remembers that its `\n` is still to come).
pub(crate) fn each_line(
    out: &mut Out<'_>,
    (start, start_line): (u64, u64),
    end: Option<u64>,
    mut each: impl FnMut(&mut Out<'_>, u64, &[u8]) -> Result<()>,
) -> Result<LinesRead> {
    let max = out.options.max_line_bytes;
    let mut reader = LineReader::open(out.file, out.path, start, start_line, end, max)?;
    let mut buf = Vec::new();
    let tail = loop {
        match reader.next_line(&mut buf)? {
            Next::Line => {}
            Next::Eof => break false,
            Next::Tail => break true,
        }
        out.unterminated = reader.unterminated();
        out.report.lines += 1;
        out.report.bytes += buf.len() as u64 + u64::from(!out.unterminated);
        out.in_line = true;
        each(out, reader.line_no(), &buf)?;
        // A huge line (a tool result holding an image) leaves a buffer of its size: freed
        // before its events are handed over, not kept while the writer encodes them.
        if buf.capacity() > LINE_BUFFER_KEPT {
            buf = Vec::new();
        }
        out.line_done()?;
    };
    Ok(LinesRead {
        consumed: reader.offset(),
        lines: reader.line_no(),
        tail,
    })
}

/// The byte at `offset` of a file, `None` past its end.
pub(crate) fn byte_at(file: &File, path: &Path, offset: u64) -> Result<Option<u8>> {
    let mut byte = [0u8; 1];
    match read_at(file, &mut byte, offset).map_err(|e| Error::io(path, e))? {
        0 => Ok(None),
        _ => Ok(Some(byte[0])),
    }
}

/// FNV-1a hash of the first `len` bytes of a file (its "head"): a changed head means the
/// file was replaced, not appended to.
pub(crate) fn head_hash(file: &File, path: &Path, len: u64) -> Result<u64> {
    let mut head = vec![0u8; len as usize];
    let mut filled = 0;
    while filled < head.len() {
        match read_at(file, &mut head[filled..], filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(path, e)),
        }
    }
    head.truncate(filled);
    if (head.len() as u64) < len {
        // Shorter than before: certainly not the same head.
        return Ok(crate::util::fnv64(&head) ^ 1);
    }
    Ok(crate::util::fnv64(&head))
}
