//! Why this exists: the files admins have are not all tidy UTF-8 comma
//! files. Before the CSV parser sees a byte, this decodes UTF-16 (Excel's
//! "Unicode text"), drops a UTF-8 BOM, honours Excel's `sep=X` first line,
//! and picks the separator from the header line (`,` `;` or tab) unless
//! `--delimiter` says. It reads only the start of the stream: the rest
//! streams through untouched.

use std::io::{self, BufRead, BufReader, Read};

/// Bytes the reader buffers (and the most the detection looks at).
const BUFFER: usize = 256 * 1024;

/// Where the separator came from, for the one info line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeparatorSource {
    Flag,
    SepLine,
    Detected,
}

pub struct Prelude {
    pub reader: BufReader<Box<dyn Read>>,
    pub delimiter: u8,
    pub source: SeparatorSource,
    /// Physical lines consumed before the header (the `sep=` line).
    pub lines_before: u64,
    /// The byte that ends a line: `\n`, or `\r` for CR-only files.
    pub line_break: u8,
    /// The input was UTF-16 and is decoded on the fly.
    pub utf16: bool,
}

pub fn prepare(inner: Box<dyn Read>, delimiter: Option<u8>) -> io::Result<Prelude> {
    let mut reader = BufReader::with_capacity(BUFFER, inner);
    let encoding = match reader.fill_buf()? {
        [0xFF, 0xFE, ..] => Some(encoding_rs::UTF_16LE),
        [0xFE, 0xFF, ..] => Some(encoding_rs::UTF_16BE),
        _ => None,
    };
    if let Some(encoding) = encoding {
        let decoded: Box<dyn Read> = Box::new(Utf16Reader {
            inner: reader,
            decoder: encoding.new_decoder_with_bom_removal(),
            out: Vec::new(),
            at: 0,
            finished: false,
        });
        reader = BufReader::with_capacity(BUFFER, decoded);
    }
    if reader.fill_buf()?.starts_with(b"\xEF\xBB\xBF") {
        reader.consume(3);
    }
    let mut lines_before = 0;
    let mut from_sep = None;
    if let Some((sep, length)) = sep_line(reader.fill_buf()?) {
        from_sep = Some(sep);
        reader.consume(length);
        lines_before = 1;
    }
    let start = reader.fill_buf()?;
    let line_break = if lines_end_with_cr(start) {
        b'\r'
    } else {
        b'\n'
    };
    let (delimiter, source) = match (delimiter, from_sep) {
        (Some(d), _) => (d, SeparatorSource::Flag),
        (None, Some(d)) => (d, SeparatorSource::SepLine),
        (None, None) => (detect(header_line(start)), SeparatorSource::Detected),
    };
    Ok(Prelude {
        reader,
        delimiter,
        source,
        lines_before,
        line_break,
        utf16: encoding.is_some(),
    })
}

/// Excel's `sep=;` first line: the separator and the line's length with its end.
fn sep_line(start: &[u8]) -> Option<(u8, usize)> {
    let head = start.get(..4)?;
    if !head.eq_ignore_ascii_case(b"sep=") {
        return None;
    }
    let sep = *start.get(4)?;
    let rest = &start[5..];
    let end = match rest {
        [b'\r', b'\n', ..] => 2,
        [b'\n', ..] | [b'\r', ..] => 1,
        [] => 0,
        _ => return None,
    };
    Some((sep, 5 + end))
}

fn header_line(start: &[u8]) -> &[u8] {
    let end = memchr::memchr2(b'\n', b'\r', start).unwrap_or(start.len());
    &start[..end]
}

/// The separator of a header line: the most frequent of `,` `;` and tab
/// outside quotes; a comma when there is none (a one-column file).
fn detect(header: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in header {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let candidates = [b',', b';', b'\t'];
    let best = (0..3).max_by_key(|&i| (counts[i], 3 - i)).unwrap_or(0);
    if counts[best] == 0 {
        b','
    } else {
        candidates[best]
    }
}

/// Whether the first line ends with a lone CR: then CR ends every line.
/// Otherwise only LF does (CRLF's CR is dropped from the last cell), so a
/// stray CR inside an unquoted cell cannot silently split a row in two.
pub fn lines_end_with_cr(start: &[u8]) -> bool {
    match memchr::memchr2(b'\r', b'\n', start) {
        Some(at) if start[at] == b'\r' => start.get(at + 1).is_some_and(|&b| b != b'\n'),
        _ => false,
    }
}

/// UTF-16 in, UTF-8 out, streaming. Malformed input is an `InvalidData`
/// error, never a replacement character.
struct Utf16Reader {
    inner: BufReader<Box<dyn Read>>,
    decoder: encoding_rs::Decoder,
    out: Vec<u8>,
    at: usize,
    finished: bool,
}

impl Read for Utf16Reader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at >= self.out.len() && !self.finished {
            let input = self.inner.fill_buf()?;
            let last = input.is_empty();
            let capacity = self
                .decoder
                .max_utf8_buffer_length_without_replacement(input.len())
                .unwrap_or(input.len() * 3 + 16);
            self.out.resize(capacity.max(16), 0);
            let (result, read, written) =
                self.decoder
                    .decode_to_utf8_without_replacement(input, &mut self.out, last);
            self.out.truncate(written);
            self.at = 0;
            self.inner.consume(read);
            if let encoding_rs::DecoderResult::Malformed(..) = result {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "not valid UTF-16",
                ));
            }
            self.finished = last && matches!(result, encoding_rs::DecoderResult::InputEmpty);
        }
        let n = buf.len().min(self.out.len() - self.at);
        buf[..n].copy_from_slice(&self.out[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prepared(bytes: &[u8], delimiter: Option<u8>) -> (Prelude, String) {
        let mut prelude = prepare(Box::new(io::Cursor::new(bytes.to_vec())), delimiter).unwrap();
        let mut text = String::new();
        prelude.reader.read_to_string(&mut text).unwrap();
        (prelude, text)
    }

    #[test]
    fn the_separator_is_detected_from_the_header_line() {
        assert_eq!(detect(b"email;name;title"), b';');
        assert_eq!(detect(b"email\tname"), b'\t');
        assert_eq!(detect(b"email,name"), b',');
        assert_eq!(detect(b"\"a;b\",c"), b',', "quoted separators do not count");
        assert_eq!(detect(b"email"), b',');
    }

    #[test]
    fn a_sep_line_is_honoured_and_counted() {
        let (p, text) = prepared(b"sep=;\r\nemail;name\r\n", None);
        assert_eq!(
            (p.delimiter, p.source, p.lines_before),
            (b';', SeparatorSource::SepLine, 1)
        );
        assert_eq!(text, "email;name\r\n");
        let (p, _) = prepared(b"SEP=|\nemail|name\n", Some(b','));
        assert_eq!((p.delimiter, p.source), (b',', SeparatorSource::Flag));
    }

    #[test]
    fn utf16_with_a_bom_is_decoded() {
        let text = "email\tname\r\nzoë@x.com\tZoë\r\n";
        let mut le = vec![0xFF, 0xFE];
        le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let (p, decoded) = prepared(&le, None);
        assert!(p.utf16);
        assert_eq!(p.delimiter, b'\t');
        assert_eq!(decoded, text);
        let mut be = vec![0xFE, 0xFF];
        be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(prepared(&be, None).1, text);
        let broken = [0xFF, 0xFE, 0x00, 0xD8, b'a', 0x00];
        let mut out = String::new();
        let read = prepare(Box::new(io::Cursor::new(broken.to_vec())), None)
            .and_then(|mut p| p.reader.read_to_string(&mut out));
        assert_eq!(read.unwrap_err().kind(), io::ErrorKind::InvalidData);
    }
}
