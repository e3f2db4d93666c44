//! Why this exists: results name rows by their physical line, and the csv
//! crate's own line numbers miscount CRLF, lone-CR and blank lines; this
//! counts line breaks as the bytes stream past and maps records to lines.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, Read};
use std::rc::Rc;

/// Byte offsets of the newlines read but not yet passed by a record.
/// The csv crate's own line numbers miscount CRLF and blank lines, so
/// physical lines are counted here from record byte offsets.
#[derive(Default)]
pub(super) struct Newlines {
    pending: VecDeque<u64>,
    passed: u64,
}

impl Newlines {
    /// No line break seen yet; `lines_before` lines already consumed.
    pub(super) fn after(lines_before: u64) -> Newlines {
        Newlines {
            pending: VecDeque::new(),
            passed: lines_before,
        }
    }

    /// The 1-based line holding byte `offset` (offsets only grow).
    fn line_of(&mut self, offset: u64) -> u64 {
        while self.pending.front().is_some_and(|&at| at < offset) {
            self.pending.pop_front();
            self.passed += 1;
        }
        self.passed + 1
    }
}

/// The line a record starts on, from the offset where the csv reader began
/// it: the line of that byte, past the blank lines the reader skipped there
/// (only line breaks). Counting back from the record's end instead went
/// wrong for a quote never closed: its cell swallows the file's last line
/// break too, and the row was put one line early (on the header's line for
/// the first row).
pub(super) fn start_line(newlines: &RefCell<Newlines>, start: u64) -> u64 {
    let mut newlines = newlines.borrow_mut();
    let mut line = newlines.line_of(start);
    let mut first = start;
    while newlines.pending.front() == Some(&first) {
        first += 1;
        line = newlines.line_of(first);
    }
    line
}

pub(super) struct LineCountingReader {
    inner: Box<dyn Read>,
    offset: u64,
    newlines: Rc<RefCell<Newlines>>,
    /// `\n`, or `\r` for files whose lines end with a lone CR (old Mac,
    /// some exports): the byte that ends a physical line.
    line_break: u8,
}

impl LineCountingReader {
    pub(super) fn new(
        inner: Box<dyn Read>,
        newlines: Rc<RefCell<Newlines>>,
        line_break: u8,
    ) -> LineCountingReader {
        LineCountingReader {
            inner,
            offset: 0,
            newlines,
            line_break,
        }
    }
}

impl Read for LineCountingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut newlines = self.newlines.borrow_mut();
        let offset = self.offset;
        newlines
            .pending
            .extend(memchr::memchr_iter(self.line_break, &buf[..n]).map(|i| offset + i as u64));
        self.offset += n as u64;
        Ok(n)
    }
}

pub(super) fn has_lone_cr(bytes: &[u8]) -> bool {
    memchr::memchr_iter(b'\r', bytes).any(|at| bytes.get(at + 1) != Some(&b'\n'))
}

/// CRLF lines read with LF as the terminator leave the CR on the last cell.
pub(super) fn strip_trailing_cr(record: &mut csv::ByteRecord) {
    let Some(last) = record.len().checked_sub(1) else {
        return;
    };
    if let Some(field) = record.get(last).and_then(|f| f.strip_suffix(b"\r")) {
        let field = field.to_vec();
        record.truncate(last);
        record.push_field(&field);
    }
}
