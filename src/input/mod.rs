//! Why this exists: every row is read and validated offline, with its physical
//! line number, before anything is sent. Reading streams, so memory grows only
//! with the set of emails seen (needed to catch repeats), not with the file.

use std::cell::RefCell;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::fs::File;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{self, BufRead, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use crate::text::{control_name, cut, is_invisible};

mod prelude;
pub mod queues;
mod workbook;

pub use prelude::SeparatorSource;

/// Input that cannot be used at all (as opposed to a row that is invalid).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("cannot read {}: {source}", path.display())]
    Unreadable { path: PathBuf, source: io::Error },
    #[error("{}: the file is empty: a header row with at least `email` and `name` is required", path.display())]
    Empty { path: PathBuf },
    #[error("{}: missing required column(s): {}; the header has: {}{}", path.display(), missing.join(", "), list_some(found), hint.as_deref().map(|h| format!("; {h}")).unwrap_or_default())]
    MissingColumns {
        path: PathBuf,
        missing: Vec<&'static str>,
        found: Vec<String>,
        /// Why, when it can be guessed (another separator).
        hint: Option<String>,
    },
    #[error("{}: line {line}: column `{column}` appears more than once in the header", path.display())]
    RepeatedColumn {
        path: PathBuf,
        line: u64,
        column: String,
    },
    #[error("{}: line {line}: not valid UTF-8 (save the file as UTF-8 and try again)", path.display())]
    BadEncoding { path: PathBuf, line: u64 },
    #[error("{}: {message}", path.display())]
    Workbook { path: PathBuf, message: String },
    #[error("{}: no worksheet named `{sheet}`; the workbook has: {}", path.display(), list_some(available))]
    NoSheet {
        path: PathBuf,
        sheet: String,
        available: Vec<String>,
    },
    #[error("{}: --map names the column `{source_column}`, which the file does not have; its columns are: {}", path.display(), list_some(columns))]
    BadMap {
        path: PathBuf,
        source_column: String,
        columns: Vec<String>,
    },
    #[error("{}: not valid UTF-16 (the file starts with a UTF-16 byte order mark); save it as UTF-8 and try again", path.display())]
    BadUtf16 { path: PathBuf },
    #[error("{}: this is a workbook (zip), not CSV; name it .xlsx, or save it as CSV", path.display())]
    LooksLikeWorkbook { path: PathBuf },
    #[error("{}: line {line}: not valid CSV: {message}", path.display())]
    Malformed {
        path: PathBuf,
        line: u64,
        message: String,
    },
}

/// At most ten names, then how many more: a wide sheet must not flood a message.
pub fn list_some(names: &[String]) -> String {
    const SHOWN: usize = 10;
    let shown: Vec<String> = names.iter().take(SHOWN).map(|n| cut(n)).collect();
    match names.len().saturating_sub(SHOWN) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

/// HR exports say "Work Email" and "Full Name": suggest the `--map`.
fn map_hint(found: &[String], missing: &[&'static str]) -> Option<String> {
    let maps: Vec<String> = missing
        .iter()
        .filter_map(|column| {
            let word = column.replace('_', " ");
            found
                .iter()
                .find(|f| f.to_lowercase().contains(&word))
                .map(|f| format!("--map \"{}={column}\"", cut(f)))
        })
        .collect();
    (!maps.is_empty()).then(|| {
        format!(
            "to read the file's own column names, use {}",
            maps.join(" ")
        )
    })
}

/// A header read as one column that holds another separator.
fn separator_hint(found: &[String], delimiter: u8) -> Option<String> {
    let [only] = found else { return None };
    [(b';', "`;`"), (b'\t', "tabs"), (b',', "`,`")]
        .into_iter()
        .find(|(sep, _)| *sep != delimiter && only.as_bytes().contains(sep))
        .map(|(_, name)| {
            format!("this file looks separated by {name}, not `{}`: save it as comma-separated CSV, or give --delimiter", char::from(delimiter).escape_default())
        })
}

/// Where rows come from: a path, or standard input for `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Stdin,
    File(PathBuf),
}

impl Source {
    pub fn from_arg(arg: &Path) -> Source {
        if arg.as_os_str() == "-" {
            Source::Stdin
        } else {
            Source::File(arg.to_path_buf())
        }
    }

    /// The name used in messages.
    pub fn display_path(&self) -> PathBuf {
        match self {
            Source::Stdin => PathBuf::from("<stdin>"),
            Source::File(p) => p.clone(),
        }
    }
}

/// A division as written in the CSV: an id (UUID) or a name to resolve.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DivisionRef {
    Id(String),
    Name(String),
}

impl DivisionRef {
    pub fn parse(value: &str) -> DivisionRef {
        if is_uuid(value) {
            DivisionRef::Id(value.to_ascii_lowercase())
        } else {
            DivisionRef::Name(value.to_string())
        }
    }
}

/// `active` or `inactive`, as accepted by `CreateUser.state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserState {
    Active,
    Inactive,
}

impl UserState {
    pub fn as_api_str(self) -> &'static str {
        match self {
            UserState::Active => "active",
            UserState::Inactive => "inactive",
        }
    }
}

/// A password from the CSV. Never printed, not even by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([REDACTED])")
    }
}

/// An optional cell: blank leaves the value as it is, a single `-` clears it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Cell<T> {
    #[default]
    Blank,
    Clear,
    Set(T),
}

impl<T> Cell<T> {
    /// The value to create a user with (`-` and blank both mean none).
    pub fn value(&self) -> Option<&T> {
        match self {
            Cell::Set(v) => Some(v),
            _ => None,
        }
    }
}

/// The key that finds an existing user (`--match`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MatchKey {
    #[default]
    Email,
    EmployeeId,
}

/// How to read the input.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// `None`: detect it.
    pub delimiter: Option<u8>,
    pub key: MatchKey,
    /// `--sheet`: the worksheet of a workbook.
    pub sheet: Option<String>,
    /// `--map SOURCE=COLUMN`: source header (as written) -> our column name.
    pub map: Vec<(String, String)>,
    /// Users (the default) or queues: which columns the file has.
    pub queues: bool,
}

/// Whether `name` is a column genimport reads (for `--map` targets).
pub fn is_known_column(name: &str) -> bool {
    let name = name.trim().to_lowercase();
    Column::from_header(&name).is_some() || queues::QueueColumn::from_header(&name).is_some()
}

/// A row that passed validation: everything needed to create or update a user.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserRow {
    pub email: Arc<str>,
    pub name: Arc<str>,
    pub division: Option<DivisionRef>,
    pub department: Cell<String>,
    pub title: Cell<String>,
    /// E.164, normalised (spaces, dashes, dots and brackets removed).
    pub phone: Cell<String>,
    pub state: Option<UserState>,
    pub password: Option<Password>,
    pub employee_id: Cell<String>,
    /// `Full-time`, `Part-time` or `Contractor`.
    pub employee_type: Cell<String>,
    /// `YYYY-MM-DD`.
    pub hire_date: Cell<String>,
    pub manager: Cell<ManagerRef>,
    pub location: Cell<String>,
    pub roles: Vec<RoleRef>,
    pub skills: Vec<Rated>,
    pub languages: Vec<Rated>,
    pub queues: Vec<String>,
    pub groups: Vec<String>,
    /// `invite` cell: `None` = blank (then `--invite` decides).
    pub invite: Option<bool>,
}

/// A manager: an email (in the org or in this file) or a user id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManagerRef {
    Email(String),
    Id(String),
}

/// Where a role is granted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RoleScope {
    /// Plain `Role`: the home division.
    Home,
    /// `Role@*`: every division, present and future.
    All,
    /// `Role@Division`: a division by name or id.
    Division(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRef {
    pub name: String,
    pub scope: RoleScope,
}

/// A skill or language and its rating (0 to 5).
#[derive(Debug, Clone, PartialEq)]
pub struct Rated {
    pub name: String,
    pub rating: f64,
}

impl Eq for Rated {}

/// The items of a `;`-separated list cell; `-` or blank is none.
fn list_items(cell: &str) -> impl Iterator<Item = &str> {
    let none = cell == "-";
    cell.split(';')
        .map(str::trim)
        .filter(move |item| !none && !item.is_empty())
}

fn parse_roles(cell: &str) -> Result<Vec<RoleRef>, String> {
    list_items(cell)
        .map(|item| {
            let (name, scope) = match item.rsplit_once('@') {
                Some((name, "*")) => (name.trim(), RoleScope::All),
                Some((name, division)) if !division.trim().is_empty() => (
                    name.trim(),
                    RoleScope::Division(division.trim().to_string()),
                ),
                Some(_) => return Err(format!("`{}` names no division after @", cut(item))),
                None => (item, RoleScope::Home),
            };
            check_text(name).map_err(|why| format!("`{}` {why}", cut(name)))?;
            if name.is_empty() {
                return Err(format!("`{}` names no role", cut(item)));
            }
            Ok(RoleRef {
                name: name.to_string(),
                scope,
            })
        })
        .collect()
}

fn parse_rated(cell: &str) -> Result<Vec<Rated>, String> {
    list_items(cell)
        .map(|item| {
            let (name, rating) = match item.rsplit_once(':') {
                Some((name, rating)) => {
                    let value: f64 = rating.trim().parse().map_err(|_| {
                        format!(
                            "`{}`: the rating after `:` must be a number from 0 to 5",
                            cut(item)
                        )
                    })?;
                    (name.trim(), value)
                }
                None => (item, 0.0),
            };
            if !(0.0..=5.0).contains(&rating) {
                return Err(format!("`{}`: the rating must be from 0 to 5", cut(item)));
            }
            if name.is_empty() {
                return Err(format!("`{}` names nothing before `:`", cut(item)));
            }
            check_text(name).map_err(|why| format!("`{}` {why}", cut(name)))?;
            Ok(Rated {
                name: name.to_string(),
                rating,
            })
        })
        .collect()
}

fn parse_names(cell: &str) -> Result<Vec<String>, String> {
    list_items(cell)
        .map(|item| {
            check_text(item)
                .map(|()| item.to_string())
                .map_err(|why| format!("`{}` {why}", cut(item)))
        })
        .collect()
}

fn parse_invite(cell: &str) -> Result<Option<bool>, String> {
    match cell.to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "yes" | "y" | "true" | "1" => Ok(Some(true)),
        "no" | "n" | "false" | "0" | "-" => Ok(Some(false)),
        other => Err(format!("`{}` is not yes or no", cut(other))),
    }
}

/// One data row of the input, valid or not.
#[derive(Debug, Clone)]
pub struct Row {
    /// 1-based physical line where the row starts (the header is line 1).
    pub line: u64,
    /// The email cell as written (trimmed), for the results file.
    pub email: Arc<str>,
    /// The name cell as written (trimmed), for the results file.
    pub name: Arc<str>,
    pub validated: Result<UserRow, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Email,
    Name,
    Division,
    Department,
    Title,
    Phone,
    State,
    Password,
    EmployeeId,
    EmployeeType,
    HireDate,
    Manager,
    Location,
    Roles,
    Skills,
    Languages,
    Queues,
    Groups,
    Invite,
}

impl Column {
    fn from_header(header: &str) -> Option<Column> {
        Some(match header {
            "email" => Column::Email,
            "name" => Column::Name,
            "division" | "division_id" | "divisionid" => Column::Division,
            "department" => Column::Department,
            "title" => Column::Title,
            "phone" | "phone_work" => Column::Phone,
            "state" => Column::State,
            "password" => Column::Password,
            "employee_id" | "employeeid" => Column::EmployeeId,
            "employee_type" | "employeetype" => Column::EmployeeType,
            "hire_date" | "hiredate" | "date_hire" => Column::HireDate,
            "manager" | "manager_email" => Column::Manager,
            "location" => Column::Location,
            "roles" | "role" => Column::Roles,
            "skills" | "skill" => Column::Skills,
            "languages" | "language" => Column::Languages,
            "queues" | "queue" => Column::Queues,
            "groups" | "group" => Column::Groups,
            "invite" => Column::Invite,
            _ => return None,
        })
    }

    fn canonical(self) -> &'static str {
        match self {
            Column::Email => "email",
            Column::Name => "name",
            Column::Division => "division",
            Column::Department => "department",
            Column::Title => "title",
            Column::Phone => "phone",
            Column::State => "state",
            Column::Password => "password",
            Column::EmployeeId => "employee_id",
            Column::EmployeeType => "employee_type",
            Column::HireDate => "hire_date",
            Column::Manager => "manager",
            Column::Location => "location",
            Column::Roles => "roles",
            Column::Skills => "skills",
            Column::Languages => "languages",
            Column::Queues => "queues",
            Column::Groups => "groups",
            Column::Invite => "invite",
        }
    }
}

const COLUMN_COUNT: usize = 19;

/// Maximum length we accept for free-text cells; Genesys does not document
/// one, and anything longer is almost certainly a shifted or pasted cell.
const MAX_TEXT_LEN: usize = 255;

/// Byte offsets of the newlines read but not yet passed by a record.
/// The csv crate's own line numbers miscount CRLF and blank lines, so
/// physical lines are counted here from record byte offsets.
#[derive(Default)]
struct Newlines {
    pending: VecDeque<u64>,
    passed: u64,
}

impl Newlines {
    /// The 1-based line holding byte `offset` (offsets only grow).
    fn line_of(&mut self, offset: u64) -> u64 {
        while self.pending.front().is_some_and(|&at| at < offset) {
            self.pending.pop_front();
            self.passed += 1;
        }
        self.passed + 1
    }
}

/// The line a record starts on, from the offset just past its end: the line
/// of its last byte, less the line breaks inside its quoted cells.
fn start_line(
    newlines: &RefCell<Newlines>,
    end: u64,
    record: &csv::ByteRecord,
    line_break: u8,
) -> u64 {
    let last = newlines.borrow_mut().line_of(end.saturating_sub(1));
    let inside = memchr::memchr_iter(line_break, record.as_slice()).count() as u64;
    last.saturating_sub(inside).max(1)
}

struct LineCountingReader {
    inner: Box<dyn Read>,
    offset: u64,
    newlines: Rc<RefCell<Newlines>>,
    /// `\n`, or `\r` for files whose lines end with a lone CR (old Mac,
    /// some exports): the byte that ends a physical line.
    line_break: u8,
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

/// The provisioning columns that hold lists (or, for `invite`, a flag) and
/// are parsed together; with `manager`, their presence makes a file a
/// provisioning one.
const LIST_COLUMNS: [Column; 6] = [
    Column::Roles,
    Column::Skills,
    Column::Languages,
    Column::Queues,
    Column::Groups,
    Column::Invite,
];

/// Streams validated rows out of a CSV source.
pub struct RowReader {
    path: PathBuf,
    reader: csv::Reader<LineCountingReader>,
    newlines: Rc<RefCell<Newlines>>,
    line_break: u8,
    utf16: bool,
    /// The CSV separator and where it came from (`None` for a workbook).
    pub separator: Option<(u8, SeparatorSource)>,
    /// Field index of each known column, by `Column as usize`.
    columns: [Option<usize>; COLUMN_COUNT],
    /// The same for a queues file.
    queue_columns: [Option<usize>; queues::QUEUE_COLUMN_COUNT],
    /// The header has a provisioning column (else their checks are skipped).
    provisioning: bool,
    /// Lowercased queue name -> line of its first appearance.
    seen_queue_names: HashMap<String, u64>,
    header_len: usize,
    /// Columns the header has that we do not use (for the one warning).
    pub ignored_columns: Vec<String>,
    /// Lowercased email -> line of its first appearance.
    /// Fingerprint of each lowercased email -> line of its first appearance.
    /// 24 bytes an email instead of the email itself: a million-row file
    /// needs tens of megabytes, not hundreds.
    seen_emails: HashMap<u128, u64, BuildHasherDefault<FingerprintHasher>>,
    /// The same for employee ids.
    seen_employee_ids: HashMap<u128, u64, BuildHasherDefault<FingerprintHasher>>,
    key: MatchKey,
    record: csv::ByteRecord,
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
            Source::File(p) => {
                let file = File::open(p).map_err(|e| InputError::Unreadable {
                    path: p.clone(),
                    source: e,
                })?;
                if file.metadata().is_ok_and(|m| m.is_dir()) {
                    return Err(InputError::Unreadable {
                        path: p.clone(),
                        source: io::Error::other("is a directory"),
                    });
                }
                Box::new(file)
            }
        };
        Self::from_reader(path, inner, options)
    }

    pub fn from_reader(
        path: PathBuf,
        inner: Box<dyn Read>,
        options: &ReadOptions,
    ) -> Result<RowReader, InputError> {
        let prelude = prelude::prepare(inner, options.delimiter).map_err(|e| match e.kind() {
            io::ErrorKind::InvalidData => InputError::BadUtf16 { path: path.clone() },
            _ => InputError::Unreadable {
                path: path.clone(),
                source: e,
            },
        })?;
        let mut reader_in = prelude.reader;
        if reader_in
            .fill_buf()
            .is_ok_and(|b| b.starts_with(b"PK\x03\x04"))
        {
            return Err(InputError::LooksLikeWorkbook { path });
        }
        let (delimiter, line_break) = (prelude.delimiter, prelude.line_break);
        let newlines = Rc::new(RefCell::new(Newlines {
            pending: VecDeque::new(),
            passed: prelude.lines_before,
        }));
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .terminator(csv::Terminator::Any(line_break))
            .delimiter(delimiter)
            .from_reader(LineCountingReader {
                inner: Box::new(reader_in),
                offset: 0,
                newlines: Rc::clone(&newlines),
                line_break,
            });
        let mut header = csv::ByteRecord::new();
        let got = reader
            .read_byte_record(&mut header)
            .map_err(|e| csv_error(&path, e, prelude.utf16))?;
        if !got {
            return Err(InputError::Empty { path });
        }
        strip_trailing_cr(&mut header);
        let line = start_line(&newlines, reader.position().byte(), &header, line_break);
        let mut columns = [None; COLUMN_COUNT];
        let mut queue_columns = [None; queues::QUEUE_COLUMN_COUNT];
        let mut ignored_columns = Vec::new();
        let mut found = Vec::new();
        for (index, raw) in header.iter().enumerate() {
            let raw = std::str::from_utf8(raw)
                .map_err(|_| InputError::BadEncoding {
                    path: path.clone(),
                    line,
                })?
                // A BOM is stripped by the csv crate only at the very start;
                // strip it here too in case it survived.
                .trim_start_matches('\u{feff}')
                .trim();
            let mut normalised = raw.to_lowercase();
            if let Some((_, column)) = options
                .map
                .iter()
                .find(|(source, _)| source.trim().eq_ignore_ascii_case(raw))
            {
                normalised = column.trim().to_lowercase();
            }
            found.push(raw.to_string());
            let known = if options.queues {
                queues::QueueColumn::from_header(&normalised)
                    .map(|c| (&mut queue_columns[c as usize], c.canonical()))
            } else {
                Column::from_header(&normalised).map(|c| (&mut columns[c as usize], c.canonical()))
            };
            match known {
                Some((slot, canonical)) => {
                    if slot.is_some() {
                        return Err(InputError::RepeatedColumn {
                            path,
                            line,
                            column: canonical.to_string(),
                        });
                    }
                    *slot = Some(index);
                }
                None if raw.is_empty() => {}
                None => ignored_columns.push(raw.to_string()),
            }
        }
        if let Some((source, _)) = options
            .map
            .iter()
            .find(|(source, _)| !found.iter().any(|f| f.eq_ignore_ascii_case(source.trim())))
        {
            return Err(InputError::BadMap {
                path,
                source_column: source.clone(),
                columns: found,
            });
        }
        if options.queues && queue_columns[queues::QueueColumn::Name as usize].is_none() {
            return Err(InputError::MissingColumns {
                path,
                missing: vec!["name"],
                hint: separator_hint(&found, delimiter),
                found,
            });
        }
        let required: &[Column] = match (options.queues, options.key) {
            (true, _) => &[],
            (false, MatchKey::Email) => &[Column::Email, Column::Name],
            (false, MatchKey::EmployeeId) => &[Column::Email, Column::Name, Column::EmployeeId],
        };
        let missing: Vec<&'static str> = required
            .iter()
            .copied()
            .filter(|c| columns[*c as usize].is_none())
            .map(Column::canonical)
            .collect();
        if !missing.is_empty() {
            let hint = separator_hint(&found, delimiter).or_else(|| map_hint(&found, &missing));
            return Err(InputError::MissingColumns {
                path,
                missing,
                hint,
                found,
            });
        }
        Ok(RowReader {
            path,
            reader,
            newlines,
            columns,
            header_len: header.len(),
            queue_columns,
            provisioning: std::iter::once(&Column::Manager)
                .chain(&LIST_COLUMNS)
                .any(|c| columns[*c as usize].is_some()),
            seen_queue_names: HashMap::new(),
            line_break,
            utf16: prelude.utf16,
            separator: Some((delimiter, prelude.source)),
            ignored_columns,
            seen_emails: HashMap::default(),
            seen_employee_ids: HashMap::default(),
            key: options.key,
            record: csv::ByteRecord::new(),
        })
    }

    /// The next data row, or `None` at the end of input.
    pub fn next_row(&mut self) -> Result<Option<Row>, InputError> {
        match self.next_record()? {
            Some(line) => self.validate(line).map(Some),
            None => Ok(None),
        }
    }

    /// Reads the next non-blank record; its physical line.
    fn next_record(&mut self) -> Result<Option<u64>, InputError> {
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
            let line = start_line(
                &self.newlines,
                self.reader.position().byte(),
                &self.record,
                self.line_break,
            );
            return Ok(Some(line));
        }
    }

    /// A cell of the current record, trimmed (queues file).
    fn queue_cell(&self, column: queues::QueueColumn, line: u64) -> Result<&str, InputError> {
        self.field(self.queue_columns[column as usize], line)
    }

    fn cell(&self, column: Column, line: u64) -> Result<&str, InputError> {
        self.field(self.columns[column as usize], line)
    }

    /// The field at `index` of the current record, trimmed; "" for a column
    /// the file does not have.
    fn field(&self, index: Option<usize>, line: u64) -> Result<&str, InputError> {
        let Some(index) = index else {
            return Ok("");
        };
        let bytes = self.record.get(index).unwrap_or(b"");
        std::str::from_utf8(bytes)
            .map(|cell| unneutralise(cell.trim()))
            .map_err(|_| InputError::BadEncoding {
                path: self.path.clone(),
                line,
            })
    }

    fn validate(&mut self, line: u64) -> Result<Row, InputError> {
        let email: Arc<str> = Arc::from(self.cell(Column::Email, line)?);
        let name: Arc<str> = Arc::from(self.cell(Column::Name, line)?);
        let mut problems: Vec<String> = Vec::new();

        if self.line_break == b'\n' && has_lone_cr(self.record.as_slice()) {
            problems.push(
                "row: a cell holds a stray carriage return (CR) where the file's lines end with LF; remove it (the row was not split)".to_string(),
            );
        }
        if self.record.len() != self.header_len {
            problems.push(format!(
                "row: has {} fields but the header has {}",
                self.record.len(),
                self.header_len
            ));
        }

        if email.is_empty() {
            problems.push("email: missing".to_string());
        } else if let Err(why) = check_email(&email) {
            problems.push(format!("email: {why}"));
        } else {
            match self.seen_emails.entry(email_fingerprint(&email)) {
                Entry::Occupied(first) => {
                    problems.push(format!("email: repeats line {}", first.get()))
                }
                Entry::Vacant(slot) => {
                    slot.insert(line);
                }
            }
        }

        if name.is_empty() {
            problems.push("name: missing".to_string());
        } else if let Err(why) = check_text(&name) {
            problems.push(format!("name: {why}"));
        }

        let division = self.cell(Column::Division, line)?;
        let division = (!division.is_empty()).then(|| DivisionRef::parse(division));

        let mut optional = |column: Column,
                            check: &dyn Fn(&str) -> Result<String, String>|
         -> Result<Cell<String>, InputError> {
            Ok(match self.cell(column, line)? {
                "" => Cell::Blank,
                "-" => Cell::Clear,
                value => match check(value) {
                    Ok(v) => Cell::Set(v),
                    Err(why) => {
                        problems.push(format!("{}: {why}", column.canonical()));
                        Cell::Blank
                    }
                },
            })
        };
        let text = |v: &str| check_text(v).map(|()| v.to_string());
        let department = optional(Column::Department, &text)?;
        let title = optional(Column::Title, &text)?;
        let phone = optional(Column::Phone, &|raw| {
            normalise_e164(raw).ok_or_else(|| {
                format!("`{}` is not an E.164 number such as +13175550123", cut(raw))
            })
        })?;
        let employee_id = optional(Column::EmployeeId, &text)?;
        let employee_type = optional(Column::EmployeeType, &check_employee_type)?;
        let hire_date = optional(Column::HireDate, &check_date)?;
        let location = optional(Column::Location, &text)?;
        let provisioning = self.provisioning;
        let manager = match if provisioning {
            self.cell(Column::Manager, line)?
        } else {
            ""
        } {
            "" => Cell::Blank,
            "-" => Cell::Clear,
            value if is_uuid(value) => Cell::Set(ManagerRef::Id(value.to_ascii_lowercase())),
            value => match check_email(value) {
                Ok(()) if value.eq_ignore_ascii_case(&email) => {
                    problems.push("manager: a user cannot be their own manager".to_string());
                    Cell::Blank
                }
                Ok(()) => Cell::Set(ManagerRef::Email(value.to_string())),
                Err(why) => {
                    problems.push(format!(
                        "manager: {why} (give the manager's email or user id)"
                    ));
                    Cell::Blank
                }
            },
        };
        let mut roles = Vec::new();
        let mut skills = Vec::new();
        let mut languages = Vec::new();
        let mut queues = Vec::new();
        let mut groups = Vec::new();
        let mut invite = None;
        let lists: &[Column] = if provisioning { &LIST_COLUMNS } else { &[] };
        for &column in lists {
            let value = self.cell(column, line)?;
            if value.is_empty() {
                continue;
            }
            let parsed = match column {
                Column::Roles => parse_roles(value).map(|v| roles = v),
                Column::Skills => parse_rated(value).map(|v| skills = v),
                Column::Languages => parse_rated(value).map(|v| languages = v),
                Column::Queues => parse_names(value).map(|v| queues = v),
                Column::Groups => parse_names(value).map(|v| groups = v),
                _ => parse_invite(value).map(|v| invite = v),
            };
            if let Err(why) = parsed {
                problems.push(format!("{}: {why}", column.canonical()));
            }
        }
        if let Cell::Set(id) = &employee_id {
            match self.seen_employee_ids.entry(email_fingerprint(id)) {
                Entry::Occupied(first) => {
                    problems.push(format!("employee_id: repeats line {}", first.get()))
                }
                Entry::Vacant(slot) => {
                    slot.insert(line);
                }
            }
        } else if self.key == MatchKey::EmployeeId {
            problems.push("employee_id: missing (--match employee_id needs it)".to_string());
        }

        let state = match self
            .cell(Column::State, line)?
            .to_ascii_lowercase()
            .as_str()
        {
            "" => None,
            "active" => Some(UserState::Active),
            "inactive" => Some(UserState::Inactive),
            other => {
                problems.push(format!(
                    "state: `{}` is not `active` or `inactive`",
                    cut(other)
                ));
                None
            }
        };

        let password = match self.columns[Column::Password as usize] {
            None => None,
            Some(index) => {
                // Passwords keep their spaces: they are the user's exact secret.
                let raw = self.record.get(index).unwrap_or(b"");
                let raw = std::str::from_utf8(raw).map_err(|_| InputError::BadEncoding {
                    path: self.path.clone(),
                    line,
                })?;
                (!raw.is_empty()).then(|| Password(raw.to_string()))
            }
        };

        let validated = if problems.is_empty() {
            Ok(UserRow {
                email: email.clone(),
                name: name.clone(),
                division,
                department,
                title,
                phone,
                state,
                password,
                employee_id,
                employee_type,
                hire_date,
                manager,
                location,
                roles,
                skills,
                languages,
                queues,
                groups,
                invite,
            })
        } else {
            Err(problems.join("; "))
        };
        Ok(Row {
            line,
            email,
            name,
            validated,
        })
    }
}

fn has_lone_cr(bytes: &[u8]) -> bool {
    memchr::memchr_iter(b'\r', bytes).any(|at| bytes.get(at + 1) != Some(&b'\n'))
}

/// CRLF lines read with LF as the terminator leave the CR on the last cell.
fn strip_trailing_cr(record: &mut csv::ByteRecord) {
    let Some(last) = record.len().checked_sub(1) else {
        return;
    };
    if let Some(field) = record.get(last).and_then(|f| f.strip_suffix(b"\r")) {
        let field = field.to_vec();
        record.truncate(last);
        record.push_field(&field);
    }
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

/// FNV-1a over the lowercased email, 128 bits: distinct emails in one file
/// collide with a probability far below that of a disk error.
fn email_fingerprint(email: &str) -> u128 {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    let mut hash = OFFSET;
    let mut feed = |byte: u8| {
        hash ^= u128::from(byte);
        hash = hash.wrapping_mul(PRIME);
    };
    if email.is_ascii() {
        email.bytes().for_each(|b| feed(b.to_ascii_lowercase()));
    } else {
        let mut buf = [0u8; 4];
        for c in email.chars().flat_map(char::to_lowercase) {
            c.encode_utf8(&mut buf).bytes().for_each(&mut feed);
        }
    }
    hash
}

/// The map key is already a hash; use its low bits as they are.
#[derive(Default)]
struct FingerprintHasher(u64);

impl Hasher for FingerprintHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_u128(&mut self, value: u128) {
        self.0 = value as u64 ^ (value >> 64) as u64;
    }
}

/// `8-4-4-4-12` hex digits.
/// The inverse of the results' and the export's `neutralise`: a `'` before
/// a character a spreadsheet would evaluate (`= + - @`, tab, CR) is
/// dropped, so an exported `'+13175550123` reads back as `+13175550123`.
pub fn unneutralise(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => cell,
    }
}

pub fn is_uuid(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// A practical address check: one `@`, a dot-atom local part, and a domain of
/// dot-separated labels. Non-ASCII letters are allowed (internationalised mail).
fn check_email(email: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("`{}` is not a valid address ({why})", cut(email)));
    // ASCII (nearly every address) holds no invisible character: skip the scan.
    let control = if email.is_ascii() {
        email.bytes().find(u8::is_ascii_control).map(char::from)
    } else {
        if let Some(c) = email.chars().find(|&c| is_invisible(c)) {
            return Err(format!(
                "contains an invisible character (U+{:04X}); retype the address",
                u32::from(c)
            ));
        }
        email.chars().find(|c| c.is_control())
    };
    if let Some(c) = control {
        return Err(format!("contains {}", control_name(c)));
    }
    if email.len() > 254 {
        return bad("longer than 254 characters");
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return bad("no @");
    };
    if local.is_empty() || local.len() > 64 {
        return bad("the part before @ must be 1 to 64 characters");
    }
    let local_ok = local.chars().all(|c| match c {
        'a'..='z' | 'A'..='Z' | '0'..='9' => true,
        '!' | '#' | '$' | '%' | '&' | '\'' | '*' | '+' | '/' | '=' | '?' | '^' | '_' | '`'
        | '{' | '|' | '}' | '~' | '.' | '-' => true,
        c => !c.is_ascii() && !c.is_whitespace() && !c.is_control(),
    });
    if !local_ok || local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return bad("unexpected character before @");
    }
    if !domain.contains('.') {
        return bad("the domain needs a dot");
    }
    for label in domain.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| {
                c.is_ascii_alphanumeric() || c == '-' || (!c.is_ascii() && c.is_alphanumeric())
            });
        if !ok {
            return bad("invalid domain");
        }
    }
    Ok(())
}

fn check_text(value: &str) -> Result<(), String> {
    // Byte length bounds the character count: count only when it could matter.
    if value.len() > MAX_TEXT_LEN && value.chars().count() > MAX_TEXT_LEN {
        return Err(format!("longer than {MAX_TEXT_LEN} characters"));
    }
    let control = if value.is_ascii() {
        value.bytes().find(u8::is_ascii_control).map(char::from)
    } else {
        value.chars().find(|c| c.is_control())
    };
    match control {
        Some(c) => Err(format!(
            "contains {}, which is not allowed here",
            control_name(c)
        )),
        None => Ok(()),
    }
}

fn check_employee_type(value: &str) -> Result<String, String> {
    ["Full-time", "Part-time", "Contractor"]
        .into_iter()
        .find(|t| t.eq_ignore_ascii_case(value))
        .map(str::to_string)
        .ok_or_else(|| {
            format!(
                "`{}` is not `Full-time`, `Part-time` or `Contractor`",
                cut(value)
            )
        })
}

/// `YYYY-MM-DD`, a real calendar date.
pub fn check_date(value: &str) -> Result<String, String> {
    let bad = || Err(format!("`{}` is not a date written YYYY-MM-DD", cut(value)));
    let parts: Vec<&str> = value.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return bad();
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return bad();
    }
    let (Ok(year), Ok(month), Ok(day)) = (y.parse::<u32>(), m.parse::<u32>(), d.parse::<u32>())
    else {
        return bad();
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return bad(),
    };
    if !(1..=days).contains(&day) || year < 1900 {
        return bad();
    }
    Ok(value.to_string())
}

/// Accepts `+` and 7 to 15 digits (the first not 0); spaces, dashes, dots and
/// brackets are dropped first because spreadsheets are full of them.
pub fn normalise_e164(raw: &str) -> Option<String> {
    let compact: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let digits = compact.strip_prefix('+')?;
    let ok = (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    ok.then_some(compact)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(text: &[u8]) -> Result<Vec<Row>, InputError> {
        let mut reader = RowReader::from_reader(
            PathBuf::from("t.csv"),
            Box::new(io::Cursor::new(text.to_vec())),
            &ReadOptions::default(),
        )?;
        let mut rows = Vec::new();
        while let Some(row) = reader.next_row()? {
            rows.push(row);
        }
        Ok(rows)
    }

    #[test]
    fn reads_bom_crlf_aliases_and_blank_lines() {
        let rows = read_all(
            b"\xef\xbb\xbf Email ,NAME,Division_Id,Phone_Work\r\n\r\na@x.com,Ann,,+1 317 555 0123\r\n,,,\r\nb@x.com,Bo,Sales,\r\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 3);
        assert_eq!(rows[1].line, 5);
        let first = rows[0].validated.as_ref().unwrap();
        assert_eq!(first.phone, Cell::Set("+13175550123".to_string()));
        let second = rows[1].validated.as_ref().unwrap();
        assert_eq!(second.division, Some(DivisionRef::Name("Sales".into())));
    }

    #[test]
    fn collects_every_problem_of_a_row() {
        let rows = read_all(b"email,name,phone,state\nnot-an-email,,12345,gone\n").unwrap();
        let err = rows[0].validated.as_ref().unwrap_err();
        for column in ["email:", "name:", "phone:", "state:"] {
            assert!(err.contains(column), "{err} lacks {column}");
        }
    }

    #[test]
    fn repeated_email_names_the_earlier_line_case_insensitively() {
        let rows = read_all(b"email,name\nA@X.com,A\nb@x.com,B\na@x.COM,A2\n").unwrap();
        assert!(rows[0].validated.is_ok());
        assert_eq!(
            rows[2].validated.as_ref().unwrap_err(),
            "email: repeats line 2"
        );
    }

    #[test]
    fn ragged_row_is_invalid_not_fatal() {
        let rows = read_all(b"email,name\na@x.com,A,extra\nb@x.com,B\n").unwrap();
        assert!(rows[0].validated.as_ref().unwrap_err().contains("3 fields"));
        assert!(rows[1].validated.is_ok());
    }

    #[test]
    fn line_numbers_count_physical_lines_of_quoted_cells() {
        let rows = read_all(b"email,name\n\"a@x.com\",\"Two\nLines\"\nb@x.com,B\n").unwrap();
        assert_eq!(rows[1].line, 4);
        assert!(rows[0]
            .validated
            .as_ref()
            .unwrap_err()
            .contains("name: contains a line break"));
    }

    #[test]
    fn missing_columns_empty_file_and_bad_utf8_are_fatal() {
        assert!(matches!(
            read_all(b"mail,name\n"),
            Err(InputError::MissingColumns { .. })
        ));
        assert!(matches!(read_all(b""), Err(InputError::Empty { .. })));
        assert!(matches!(
            read_all(b"email,name\na@x.com,Jos\xe9\n"),
            Err(InputError::BadEncoding { line: 2, .. })
        ));
        assert!(matches!(
            read_all(b"email,name,Email\n"),
            Err(InputError::RepeatedColumn { .. })
        ));
    }

    #[test]
    fn fingerprints_ignore_case_and_tell_emails_apart() {
        assert_eq!(
            email_fingerprint("Zoë@Example.COM"),
            email_fingerprint("zoë@example.com")
        );
        assert_ne!(
            email_fingerprint("a@example.com"),
            email_fingerprint("b@example.com")
        );
        let distinct: std::collections::HashSet<u128> = (0..100_000)
            .map(|i| email_fingerprint(&format!("user{i}@x.com")))
            .collect();
        assert_eq!(distinct.len(), 100_000);
    }

    #[test]
    fn email_rules() {
        for good in [
            "a@x.com",
            "first.last+tag@sub.example.co.uk",
            "josé@exämple.com",
        ] {
            assert!(check_email(good).is_ok(), "{good}");
        }
        for bad in [
            "a@x",
            "@x.com",
            "a@@x.com",
            "a b@x.com",
            "a..b@x.com",
            "a@-x.com",
            "a@x..com",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn uuid_and_phone_rules() {
        assert!(is_uuid("0d1c4f2e-8a6b-4c3d-9e0f-1a2b3c4d5e6f"));
        assert!(!is_uuid("Sales"));
        assert_eq!(
            normalise_e164("+44 (20) 7946-0958").as_deref(),
            Some("+442079460958")
        );
        assert_eq!(normalise_e164("3175550123"), None);
        assert_eq!(normalise_e164("+0123456789"), None);
    }

    #[test]
    fn neutralised_cells_read_back_to_their_value() {
        for cell in ["=1+2", "+13175550123", "-x", "@sum", "\tx"] {
            let written = crate::report::neutralise(cell);
            assert_eq!(unneutralise(&written), cell);
        }
        assert_eq!(unneutralise("'plain"), "'plain");
        assert_eq!(unneutralise("O'Brien"), "O'Brien");
        let rows = read_all(b"email,name,phone\nana@example.com,'=Ana,'+13175550123\n").unwrap();
        let user = rows[0].validated.as_ref().unwrap();
        assert_eq!(&*user.name, "=Ana");
        assert_eq!(user.phone, Cell::Set("+13175550123".to_string()));
    }

    #[test]
    fn password_is_redacted_in_debug() {
        let rows = read_all(b"email,name,password\na@x.com,A,hunter2secret\n").unwrap();
        let debug = format!("{:?}", rows[0]);
        assert!(!debug.contains("hunter2secret"));
    }
}
