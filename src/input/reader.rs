//! Why this exists: one streaming reader for every input file (a path,
//! standard input or a workbook's sheet): it opens the source, maps the
//! header, and hands out non-blank records with their physical line.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::columns::{Column, Header, COLUMN_COUNT};
use super::fingerprint::Seen;
use super::lines::{start_line, strip_trailing_cr, LineCountingReader, Newlines};
use super::prelude::{self, Prelude};
use super::queues::{QueueColumn, QUEUE_COLUMN_COUNT};
use super::{workbook, InputError, MatchKey, ReadOptions, SeparatorSource, Source};

/// Streams validated rows out of a CSV source.
pub struct RowReader {
    pub(super) path: PathBuf,
    reader: csv::Reader<LineCountingReader>,
    newlines: Rc<RefCell<Newlines>>,
    pub(super) line_break: u8,
    utf16: bool,
    /// The CSV separator and where it came from (`None` for a workbook).
    pub separator: Option<(u8, SeparatorSource)>,
    /// Field index of each known column, by `Column as usize`.
    columns: [Option<usize>; COLUMN_COUNT],
    /// The same for a queues file.
    queue_columns: [Option<usize>; QUEUE_COLUMN_COUNT],
    /// The header has a provisioning column (else their checks are skipped).
    pub(super) provisioning: bool,
    /// Lowercased queue name -> line of its first appearance.
    pub(super) seen_queue_names: HashMap<String, u64>,
    pub(super) header_len: usize,
    /// Columns the header has that we do not use (for the one warning).
    pub ignored_columns: Vec<String>,
    /// Fingerprint of each lowercased email -> line of its first appearance.
    /// 24 bytes an email instead of the email itself: a million-row file
    /// needs tens of megabytes, not hundreds.
    pub(super) seen_emails: Seen,
    /// The same for employee ids.
    pub(super) seen_employee_ids: Seen,
    pub(super) key: MatchKey,
    /// `--update`: a blank `name` waits for the preflight (only a create needs one).
    pub(super) update: bool,
    /// `--allow-delete`.
    pub(super) allow_delete: bool,
    pub(super) record: csv::ByteRecord,
}

impl RowReader {
    pub fn open(source: &Source, options: &ReadOptions) -> Result<RowReader, InputError> {
        let path = source.display_path();
        if let Source::File(p) = source {
            if workbook::is_workbook(p) {
                let csv = workbook::to_csv(p, options.sheet.as_deref())?;
                let options = ReadOptions {
                    delimiter: Some(b','),
                    ..options.clone()
                };
                let mut reader = Self::from_reader(path, Box::new(io::Cursor::new(csv)), &options)?;
                reader.separator = None;
                return Ok(reader);
            }
        }
        let inner: Box<dyn Read> = match source {
            Source::Stdin => Box::new(io::stdin()),
            Source::File(p) => open_file(p)?,
        };
        Self::from_reader(path, inner, options)
    }

    pub fn from_reader(
        path: PathBuf,
        inner: Box<dyn Read>,
        options: &ReadOptions,
    ) -> Result<RowReader, InputError> {
        let prelude = prepare(&path, inner, options.delimiter)?;
        let (delimiter, line_break) = (prelude.delimiter, prelude.line_break);
        let newlines = Rc::new(RefCell::new(Newlines::after(prelude.lines_before)));
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .terminator(csv::Terminator::Any(line_break))
            .delimiter(delimiter)
            .from_reader(LineCountingReader::new(
                Box::new(prelude.reader),
                Rc::clone(&newlines),
                line_break,
            ));
        let mut header = csv::ByteRecord::new();
        let got = reader
            .read_byte_record(&mut header)
            .map_err(|e| csv_error(&path, e, prelude.utf16))?;
        if !got {
            return Err(InputError::Empty { path });
        }
        strip_trailing_cr(&mut header);
        let line = start_line(&newlines, record_start(&header));
        let mapped = Header::map(&path, line, &header, delimiter, options)?;
        Ok(RowReader {
            path,
            reader,
            newlines,
            columns: mapped.columns,
            header_len: header.len(),
            queue_columns: mapped.queue_columns,
            provisioning: mapped.provisioning(),
            seen_queue_names: HashMap::new(),
            line_break,
            utf16: prelude.utf16,
            separator: Some((delimiter, prelude.source)),
            ignored_columns: mapped.ignored_columns,
            seen_emails: HashMap::default(),
            seen_employee_ids: HashMap::default(),
            key: options.key,
            update: options.update,
            allow_delete: options.allow_delete,
            record: csv::ByteRecord::new(),
        })
    }

    /// Reads the next non-blank record; its physical line.
    pub(super) fn next_record(&mut self) -> Result<Option<u64>, InputError> {
        loop {
            let got = self
                .reader
                .read_byte_record(&mut self.record)
                .map_err(|e| csv_error(&self.path, e, self.utf16))?;
            if !got {
                return Ok(None);
            }
            if self.line_break == b'\n' {
                strip_trailing_cr(&mut self.record);
            }
            // A line of only commas (a blank spreadsheet row) is blank too.
            if self
                .record
                .iter()
                .all(|f| f.iter().all(u8::is_ascii_whitespace))
            {
                continue;
            }
            let line = start_line(&self.newlines, record_start(&self.record));
            return Ok(Some(line));
        }
    }

    /// The problem with the current record's field count, if it has one.
    pub(super) fn field_count_problem(&self) -> Option<String> {
        (self.record.len() != self.header_len).then(|| {
            format!(
                "row: has {} fields but the header has {}",
                self.record.len(),
                self.header_len
            )
        })
    }

    /// A cell of the current record, trimmed (queues file).
    pub(super) fn queue_cell(&self, column: QueueColumn, line: u64) -> Result<&str, InputError> {
        self.field(self.queue_columns[column as usize], line)
    }

    pub(super) fn cell(&self, column: Column, line: u64) -> Result<&str, InputError> {
        self.field(self.columns[column as usize], line)
    }

    /// The field index of `column`, if the file has it.
    pub(super) fn index_of(&self, column: Column) -> Option<usize> {
        self.columns[column as usize]
    }

    /// The field at `index` of the current record, trimmed (a space a
    /// backslash escapes stays, see `crate::escape`); "" for a column the
    /// file does not have.
    fn field(&self, index: Option<usize>, line: u64) -> Result<&str, InputError> {
        let Some(index) = index else {
            return Ok("");
        };
        let bytes = self.record.get(index).unwrap_or(b"");
        std::str::from_utf8(bytes)
            .map(|cell| unneutralise(crate::escape::trim(cell)))
            .map_err(|_| InputError::BadEncoding {
                path: self.path.clone(),
                line,
            })
    }
}

/// The inverse of the results' and the export's `neutralise`: a `'` before
/// a character a spreadsheet would evaluate (`= + - @`, tab, CR) is
/// dropped, so an exported `'+13175550123` reads back as `+13175550123`.
pub fn unneutralise(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => cell,
    }
}

/// A file to read as CSV (a directory is refused here, not mid-read).
fn open_file(p: &Path) -> Result<Box<dyn Read>, InputError> {
    let file = File::open(p).map_err(|e| InputError::Unreadable {
        path: p.to_path_buf(),
        source: e,
    })?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(InputError::Unreadable {
            path: p.to_path_buf(),
            source: io::Error::other("is a directory"),
        });
    }
    Ok(Box::new(file))
}

/// The decoded stream with its separator and line ending; a workbook given
/// as CSV is refused.
fn prepare(
    path: &Path,
    inner: Box<dyn Read>,
    delimiter: Option<u8>,
) -> Result<Prelude, InputError> {
    let mut prelude = prelude::prepare(inner, delimiter).map_err(|e| match e.kind() {
        io::ErrorKind::InvalidData => InputError::BadUtf16 {
            path: path.to_path_buf(),
        },
        _ => InputError::Unreadable {
            path: path.to_path_buf(),
            source: e,
        },
    })?;
    if prelude
        .reader
        .fill_buf()
        .is_ok_and(|b| b.starts_with(b"PK\x03\x04"))
    {
        return Err(InputError::LooksLikeWorkbook {
            path: path.to_path_buf(),
        });
    }
    Ok(prelude)
}

/// Where the csv reader began reading `record` (before any blank lines).
fn record_start(record: &csv::ByteRecord) -> u64 {
    record.position().map_or(0, csv::Position::byte)
}

fn csv_error(path: &Path, error: csv::Error, utf16: bool) -> InputError {
    let line = error.position().map(|p| p.line()).unwrap_or(0);
    match error.kind() {
        csv::ErrorKind::Io(e) if utf16 && e.kind() == io::ErrorKind::InvalidData => {
            InputError::BadUtf16 {
                path: path.to_path_buf(),
            }
        }
        csv::ErrorKind::Io(e) => InputError::Unreadable {
            path: path.to_path_buf(),
            source: io::Error::new(e.kind(), e.to_string()),
        },
        csv::ErrorKind::Utf8 { .. } => InputError::BadEncoding {
            path: path.to_path_buf(),
            line,
        },
        _ => InputError::Malformed {
            path: path.to_path_buf(),
            line,
            message: error.to_string(),
        },
    }
}
