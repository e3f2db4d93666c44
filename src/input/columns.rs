//! Why this exists: the header row decides which field holds which column
//! (aliases, `--map`), once per file; a header that cannot be used is
//! reported with a guess at why (another separator, HR's own names).

use std::path::Path;

use super::queues::{QueueColumn, QUEUE_COLUMN_COUNT};
use super::{InputError, MatchKey, ReadOptions};
use crate::resource::Resource;
use crate::text::cut;
pub(super) use crate::users::columns::{Column, COLUMN_COUNT};

/// Whether `name` is a column genimport reads (for `--map` targets).
pub fn is_known_column(name: &str) -> bool {
    let name = name.trim().to_lowercase();
    Column::from_header(&name).is_some() || QueueColumn::from_header(&name).is_some()
}

/// The provisioning columns that hold lists (or, for `invite`, a flag) and
/// are parsed together; with `manager`, their presence makes a file a
/// provisioning one.
pub(super) const LIST_COLUMNS: [Column; 6] = [
    Column::Roles,
    Column::Skills,
    Column::Languages,
    Column::Queues,
    Column::Groups,
    Column::Invite,
];

/// Which field holds each known column, read from the header row.
pub(super) struct Header {
    /// Field index of each known column, by `Column as usize`.
    pub(super) columns: [Option<usize>; COLUMN_COUNT],
    /// The same for a queues file.
    pub(super) queue_columns: [Option<usize>; QUEUE_COLUMN_COUNT],
    /// Columns the header has that we do not use (for the one warning).
    pub(super) ignored_columns: Vec<String>,
}

impl Header {
    /// Maps the header `record` (on `line`), then checks `--map` and the
    /// required columns.
    pub(super) fn map(
        path: &Path,
        line: u64,
        record: &csv::ByteRecord,
        delimiter: u8,
        options: &ReadOptions,
    ) -> Result<Header, InputError> {
        let mut header = Header {
            columns: [None; COLUMN_COUNT],
            queue_columns: [None; QUEUE_COLUMN_COUNT],
            ignored_columns: Vec::new(),
        };
        let mut found = Vec::new();
        for (index, raw) in record.iter().enumerate() {
            let raw = std::str::from_utf8(raw)
                .map_err(|_| InputError::BadEncoding {
                    path: path.to_path_buf(),
                    line,
                })?
                // A BOM is stripped by the csv crate only at the very start;
                // strip it here too in case it survived.
                .trim_start_matches('\u{feff}')
                .trim();
            found.push(raw.to_string());
            header.place(index, raw, path, line, options)?;
        }
        check_map(path, &found, options)?;
        header.check_required(path, found, delimiter, options)?;
        Ok(header)
    }

    /// Records the field `index` named `raw` (after `--map`) under its column.
    fn place(
        &mut self,
        index: usize,
        raw: &str,
        path: &Path,
        line: u64,
        options: &ReadOptions,
    ) -> Result<(), InputError> {
        let mut normalised = raw.to_lowercase();
        if let Some((_, column)) = options
            .map
            .iter()
            .find(|(source, _)| source.trim().eq_ignore_ascii_case(raw))
        {
            normalised = column.trim().to_lowercase();
        }
        let known = if options.resource == Resource::Queues {
            QueueColumn::from_header(&normalised)
                .map(|c| (&mut self.queue_columns[c as usize], c.name()))
        } else {
            Column::from_header(&normalised).map(|c| (&mut self.columns[c as usize], c.name()))
        };
        match known {
            Some((slot, canonical)) => {
                if slot.is_some() {
                    return Err(InputError::RepeatedColumn {
                        path: path.to_path_buf(),
                        line,
                        column: canonical.to_string(),
                    });
                }
                *slot = Some(index);
            }
            None if raw.is_empty() => {}
            None => self.ignored_columns.push(raw.to_string()),
        }
        Ok(())
    }

    /// The columns the file must have: `name` for queues; `email` and
    /// `name` (and `employee_id` with `--match employee_id`) for users.
    fn check_required(
        &self,
        path: &Path,
        found: Vec<String>,
        delimiter: u8,
        options: &ReadOptions,
    ) -> Result<(), InputError> {
        if options.resource == Resource::Queues
            && self.queue_columns[QueueColumn::Name as usize].is_none()
        {
            return Err(InputError::MissingColumns {
                path: path.to_path_buf(),
                missing: vec!["name"],
                hint: separator_hint(&found, delimiter),
                found,
            });
        }
        let required: &[Column] = match (options.resource == Resource::Queues, options.key) {
            (true, _) => &[],
            // Movers and leavers: only a row that creates a user needs a name.
            (false, MatchKey::Email) if options.update => &[Column::Email],
            (false, MatchKey::EmployeeId) if options.update => &[Column::Email, Column::EmployeeId],
            (false, MatchKey::Email) => &[Column::Email, Column::Name],
            (false, MatchKey::EmployeeId) => &[Column::Email, Column::Name, Column::EmployeeId],
        };
        let missing: Vec<&'static str> = required
            .iter()
            .copied()
            .filter(|c| self.columns[*c as usize].is_none())
            .map(Column::name)
            .collect();
        if !missing.is_empty() {
            let hint = separator_hint(&found, delimiter).or_else(|| map_hint(&found, &missing));
            return Err(InputError::MissingColumns {
                path: path.to_path_buf(),
                missing,
                hint,
                found,
            });
        }
        Ok(())
    }

    /// The header has a provisioning column (else their checks are skipped).
    pub(super) fn provisioning(&self) -> bool {
        std::iter::once(&Column::Manager)
            .chain(&LIST_COLUMNS)
            .any(|c| self.columns[*c as usize].is_some())
    }
}

/// Every `--map` source must name a column the file has.
fn check_map(path: &Path, found: &[String], options: &ReadOptions) -> Result<(), InputError> {
    match options
        .map
        .iter()
        .find(|(source, _)| !found.iter().any(|f| f.eq_ignore_ascii_case(source.trim())))
    {
        Some((source, _)) => Err(InputError::BadMap {
            path: path.to_path_buf(),
            source_column: source.clone(),
            columns: found.to_vec(),
        }),
        None => Ok(()),
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
