//! Why this exists: a users file's rules, row by row: every cell checked,
//! every problem of a row collected (in column order) into one message, and
//! repeated emails and employee ids caught across the whole file.

use std::collections::hash_map::Entry;
use std::sync::Arc;

use super::cells::{Cell, DivisionRef, ManagerRef, Password, Rated, RoleRef, UserState};
use super::checks::{check_date, check_email, check_employee_type, check_text, is_uuid};
use super::columns::{Column, LIST_COLUMNS};
use super::fingerprint::email_fingerprint;
use super::lines::has_lone_cr;
use super::lists::{parse_invite, parse_names, parse_rated, parse_roles};
use super::{normalise_e164, InputError, MatchKey, RowReader};
use crate::escape::unescape;
use crate::text::cut;

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
    /// Which list cells were written (`--exact` compares only those).
    pub listed: super::Listed,
    /// `webrtc_phone`: a phone base settings name; `-` removes the phone.
    pub webrtc_phone: Cell<String>,
    /// `site`: the phone's site; `None`: the org's default site.
    pub site: Option<String>,
    /// `--update`: values taken as written though genimport would not
    /// write them itself (a free-text employee type, a hire date not
    /// `YYYY-MM-DD`, a phone not E.164), as an org may hold them, with why
    /// they fail the strict check: refused only where the row changes the
    /// value (see `users::diff::unchecked_change`).
    pub unchecked: Vec<(Column, String)>,
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

/// The list-valued provisioning cells of one row.
#[derive(Default)]
struct Lists {
    roles: Vec<RoleRef>,
    skills: Vec<Rated>,
    languages: Vec<Rated>,
    queues: Vec<String>,
    groups: Vec<String>,
    invite: Option<bool>,
    listed: super::Listed,
}

/// The optional text-like cells of one row, in the order they are checked.
struct Optionals {
    department: Cell<String>,
    title: Cell<String>,
    phone: Cell<String>,
    employee_id: Cell<String>,
    employee_type: Cell<String>,
    hire_date: Cell<String>,
    location: Cell<String>,
    unchecked: Vec<(Column, String)>,
}

impl RowReader {
    /// The next data row, or `None` at the end of input.
    pub fn next_row(&mut self) -> Result<Option<Row>, InputError> {
        match self.next_record()? {
            Some(line) => self.validate(line).map(Some),
            None => Ok(None),
        }
    }

    fn validate(&mut self, line: u64) -> Result<Row, InputError> {
        let email: Arc<str> = Arc::from(self.cell(Column::Email, line)?);
        let raw_name = self.cell(Column::Name, line)?;
        // `\-` is a name `-`, not the clearing marker (see `crate::escape`).
        let name_is_dash = raw_name == "-";
        let name: Arc<str> = Arc::from(unescape(raw_name).as_ref());
        let mut problems: Vec<String> = Vec::new();
        if self.line_break == b'\n' && has_lone_cr(self.record.as_slice()) {
            problems.push(
                "row: a cell holds a stray carriage return (CR) where the file's lines end with LF; remove it (the row was not split)".to_string(),
            );
        }
        problems.extend(self.field_count_problem());
        self.check_email_cell(&email, line, &mut problems);
        if name.is_empty() {
            // With --update only a row that creates a user needs one (the preflight tells).
            if !self.update {
                problems.push("name: missing".to_string());
            }
        } else if name_is_dash {
            // `-` means "none", and a user always has a name.
            problems.push(
                "name: `-` cannot clear a name (a user always has one); leave the cell blank to keep it"
                    .to_string(),
            );
        } else if let Err(why) = check_text(&name) {
            problems.push(format!("name: {why}"));
        }
        let division = self.cell(Column::Division, line)?;
        let division = (!division.is_empty()).then(|| DivisionRef::parse(&unescape(division)));
        let optionals = self.optionals(line, &mut problems)?;
        let manager = self.manager(line, &email, &mut problems)?;
        let lists = self.lists(line, &mut problems)?;
        self.check_employee_id(&optionals.employee_id, line, &mut problems);
        let state = self.state(line, &mut problems)?;
        let password = self.password(line)?;
        let (webrtc_phone, site) = self.phone_cells(line, &mut problems)?;
        let validated = if problems.is_empty() && state == Some(UserState::Deleted) {
            // A deletion ignores the row's other cells, but a phone's `-`
            // removes the phone first.
            Ok(UserRow {
                email: email.clone(),
                state,
                webrtc_phone: match webrtc_phone {
                    Cell::Clear => Cell::Clear,
                    _ => Cell::Blank,
                },
                ..UserRow::default()
            })
        } else if problems.is_empty() {
            Ok(UserRow {
                email: email.clone(),
                name: name.clone(),
                division,
                department: optionals.department,
                title: optionals.title,
                phone: optionals.phone,
                state,
                password,
                employee_id: optionals.employee_id,
                employee_type: optionals.employee_type,
                hire_date: optionals.hire_date,
                manager,
                location: optionals.location,
                roles: lists.roles,
                skills: lists.skills,
                languages: lists.languages,
                queues: lists.queues,
                groups: lists.groups,
                invite: lists.invite,
                listed: lists.listed,
                unchecked: optionals.unchecked,
                webrtc_phone,
                site,
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

    /// The email must be present, valid and not seen on an earlier line.
    fn check_email_cell(&mut self, email: &str, line: u64, problems: &mut Vec<String>) {
        if email.is_empty() {
            problems.push("email: missing".to_string());
        } else if let Err(why) = check_email(email) {
            problems.push(format!("email: {why}"));
        } else {
            match self.seen_emails.entry(email_fingerprint(email)) {
                Entry::Occupied(first) => {
                    problems.push(format!("email: repeats line {}", first.get()))
                }
                Entry::Vacant(slot) => {
                    slot.insert(line);
                }
            }
        }
    }

    /// An optional cell: blank, `-` (clear), or a value `check` accepts.
    fn optional(
        &self,
        column: Column,
        line: u64,
        check: &dyn Fn(&str) -> Result<String, String>,
        problems: &mut Vec<String>,
    ) -> Result<Cell<String>, InputError> {
        Ok(match self.cell(column, line)? {
            "" => Cell::Blank,
            "-" => Cell::Clear,
            value => match check(&unescape(value)) {
                Ok(v) => Cell::Set(v),
                Err(why) => {
                    problems.push(format!("{}: {why}", column.name()));
                    Cell::Blank
                }
            },
        })
    }

    fn optionals(&self, line: u64, problems: &mut Vec<String>) -> Result<Optionals, InputError> {
        let text = |v: &str| check_text(v).map(|()| v.to_string());
        let phone = |raw: &str| {
            normalise_e164(raw).ok_or_else(|| {
                format!("`{}` is not an E.164 number such as +13175550123", cut(raw))
            })
        };
        let unchecked = std::cell::RefCell::new(Vec::new());
        // With --update a value the org may hold is taken as written; the
        // preflight refuses it only where the row changes it.
        let loose = |column: Column,
                     strict: &dyn Fn(&str) -> Result<String, String>,
                     problems: &mut Vec<String>| {
            let lenient = |v: &str| {
                strict(v).or_else(|why| match check_text(v) {
                    Ok(()) if self.update => {
                        unchecked.borrow_mut().push((column, why));
                        Ok(v.to_string())
                    }
                    _ => Err(why),
                })
            };
            self.optional(column, line, &lenient, problems)
        };
        Ok(Optionals {
            department: self.optional(Column::Department, line, &text, problems)?,
            title: self.optional(Column::Title, line, &text, problems)?,
            phone: loose(Column::Phone, &phone, problems)?,
            employee_id: self.optional(Column::EmployeeId, line, &text, problems)?,
            employee_type: loose(Column::EmployeeType, &check_employee_type, problems)?,
            hire_date: loose(Column::HireDate, &check_date, problems)?,
            location: self.optional(Column::Location, line, &text, problems)?,
            unchecked: unchecked.into_inner(),
        })
    }

    /// The `manager` cell (read only in a provisioning file).
    fn manager(
        &self,
        line: u64,
        email: &str,
        problems: &mut Vec<String>,
    ) -> Result<Cell<ManagerRef>, InputError> {
        let value = if self.provisioning {
            self.cell(Column::Manager, line)?
        } else {
            ""
        };
        Ok(match value {
            "" => Cell::Blank,
            "-" => Cell::Clear,
            value if is_uuid(value) => Cell::Set(ManagerRef::Id(value.to_ascii_lowercase())),
            value => match check_email(value) {
                Ok(()) if value.eq_ignore_ascii_case(email) => {
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
        })
    }

    /// The list cells (read only in a provisioning file).
    fn lists(&self, line: u64, problems: &mut Vec<String>) -> Result<Lists, InputError> {
        let mut lists = Lists::default();
        let columns: &[Column] = if self.provisioning {
            &LIST_COLUMNS
        } else {
            &[]
        };
        for &column in columns {
            let value = self.cell(column, line)?;
            if value.is_empty() {
                continue;
            }
            match column {
                Column::Roles => lists.listed.roles = true,
                Column::Skills => lists.listed.skills = true,
                Column::Languages => lists.listed.languages = true,
                Column::Queues => lists.listed.queues = true,
                Column::Groups => lists.listed.groups = true,
                _ => {}
            }
            let parsed = match column {
                Column::Roles => parse_roles(value).map(|v| lists.roles = v),
                Column::Skills => parse_rated(value).map(|v| lists.skills = v),
                Column::Languages => parse_rated(value).map(|v| lists.languages = v),
                Column::Queues => parse_names(value).map(|v| lists.queues = v),
                Column::Groups => parse_names(value).map(|v| lists.groups = v),
                _ => parse_invite(value).map(|v| lists.invite = v),
            };
            if let Err(why) = parsed {
                problems.push(format!("{}: {why}", column.name()));
            }
        }
        Ok(lists)
    }

    /// The `webrtc_phone` and `site` cells: a base settings name (or `-`),
    /// and the site of that phone.
    fn phone_cells(
        &self,
        line: u64,
        problems: &mut Vec<String>,
    ) -> Result<(Cell<String>, Option<String>), InputError> {
        let text = |v: &str| check_text(v).map(|()| v.to_string());
        let phone = self.optional(Column::WebrtcPhone, line, &text, problems)?;
        let site = match self.optional(Column::Site, line, &text, problems)? {
            Cell::Blank => None,
            Cell::Clear => {
                problems.push(
                    "site: `-` is not a site; leave the cell blank for the org's default site"
                        .to_string(),
                );
                None
            }
            Cell::Set(name) if phone == Cell::Blank => {
                problems.push(format!(
                    "site: `{}` names the site of a webrtc_phone, and this row names none",
                    cut(&name)
                ));
                None
            }
            Cell::Set(name) => Some(name),
        };
        Ok((phone, site))
    }

    /// An employee id must not repeat; `--match employee_id` needs one.
    fn check_employee_id(
        &mut self,
        employee_id: &Cell<String>,
        line: u64,
        problems: &mut Vec<String>,
    ) {
        if let Cell::Set(id) = employee_id {
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
    }

    fn state(
        &self,
        line: u64,
        problems: &mut Vec<String>,
    ) -> Result<Option<UserState>, InputError> {
        Ok(
            match self
                .cell(Column::State, line)?
                .to_ascii_lowercase()
                .as_str()
            {
                "" => None,
                "active" => Some(UserState::Active),
                "inactive" => Some(UserState::Inactive),
                "deleted" if self.update && self.allow_delete => Some(UserState::Deleted),
                "deleted" => {
                    problems.push(
                        "state: `deleted` deletes the user only with --update --allow-delete; nothing was sent"
                            .to_string(),
                    );
                    None
                }
                other => {
                    problems.push(format!(
                        "state: `{}` is not `active` or `inactive`",
                        cut(other)
                    ));
                    None
                }
            },
        )
    }

    fn password(&self, line: u64) -> Result<Option<Password>, InputError> {
        let Some(index) = self.index_of(Column::Password) else {
            return Ok(None);
        };
        // Passwords keep their spaces: they are the user's exact secret.
        let raw = self.record.get(index).unwrap_or(b"");
        let raw = std::str::from_utf8(raw).map_err(|_| InputError::BadEncoding {
            path: self.path.clone(),
            line,
        })?;
        Ok((!raw.is_empty()).then(|| Password(raw.to_string())))
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::path::PathBuf;

    use super::*;
    use crate::input::ReadOptions;

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
    fn a_dash_name_is_invalid_not_a_name() {
        let rows = read_all(b"email,name\nana@example.com,-\n").unwrap();
        let problems = rows[0].validated.as_ref().unwrap_err();
        assert!(
            problems.starts_with("name: `-` cannot clear a name"),
            "{problems}"
        );
    }

    #[test]
    fn neutralised_cells_read_back_to_their_value() {
        use crate::input::reader::unneutralise;
        for cell in ["=1+2", "+13175550123", "-x", "@sum", "\tx"] {
            let written = crate::output::neutralise(cell);
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
    fn a_quote_never_closed_is_on_the_line_where_it_opens() {
        // The cell runs to the end of the file, its last line break included.
        let rows = read_all(b"email,name,title\n\"a@x.com,A,T\nb@x.com,B,T\n").unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].line, 2);
        let rows =
            read_all(b"email,name,title\na@x.com,A,T\n\nb@x.com,\"B,T\nc@x.com,C,T\n").unwrap();
        assert_eq!((rows[0].line, rows[1].line), (2, 4));
        let rows = read_all(b"email,name\r\na@x.com,A\r\n\r\nb@x.com,\"B\r\nc,C\r\n").unwrap();
        assert_eq!((rows[0].line, rows[1].line), (2, 4));
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
    fn password_is_redacted_in_debug() {
        let rows = read_all(b"email,name,password\na@x.com,A,hunter2secret\n").unwrap();
        let debug = format!("{:?}", rows[0]);
        assert!(!debug.contains("hunter2secret"));
    }
}
