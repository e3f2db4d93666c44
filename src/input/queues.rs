//! A queues file (`genimport queues FILE`): the same reading, encodings and
//! line numbers as users, its own columns and rules.

use std::collections::hash_map::Entry;

use super::checks::check_text;
use super::{normalise_e164, InputError, RowReader};
use crate::text::cut;

pub use crate::queues::columns::{QueueColumn, QUEUE_COLUMN_COUNT};

/// A valid queues row. `None` fields were blank: left as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueRow {
    pub name: String,
    pub division: Option<String>,
    pub description: Option<String>,
    /// `NONE`, `BEST` or `ALL`.
    pub skill_evaluation: Option<String>,
    /// `OPTIONAL`, `MANDATORY`, `MANDATORY_TIMEOUT`, `MANDATORY_FORCED_TIMEOUT`, `AGENT_REQUESTED`.
    pub acw: Option<String>,
    pub acw_timeout_s: Option<u32>,
    pub alerting_timeout_s: Option<u32>,
    pub wrapup_codes: Vec<String>,
    pub copy_from: Option<String>,
    pub calling_party_name: Option<String>,
    pub calling_party_number: Option<String>,
}

/// One data row of a queues file, valid or not.
#[derive(Debug, Clone)]
pub struct QueueInput {
    pub line: u64,
    pub name: String,
    pub validated: Result<QueueRow, String>,
}

const ACW: [&str; 5] = [
    "OPTIONAL",
    "MANDATORY",
    "MANDATORY_TIMEOUT",
    "MANDATORY_FORCED_TIMEOUT",
    "AGENT_REQUESTED",
];

fn one_of(value: &str, allowed: &[&str]) -> Result<String, String> {
    allowed
        .iter()
        .find(|a| a.eq_ignore_ascii_case(value))
        .map(|a| a.to_string())
        .ok_or_else(|| format!("`{}` is not one of {}", cut(value), allowed.join(", ")))
}

fn seconds(value: &str, max: u32) -> Result<u32, String> {
    value
        .parse::<u32>()
        .ok()
        .filter(|s| (1..=max).contains(s))
        .ok_or_else(|| {
            format!(
                "`{}` is not a whole number of seconds from 1 to {max}",
                cut(value)
            )
        })
}

/// A check of one cell's text: the value to keep, or why not.
type Check<'a> = &'a dyn Fn(&str) -> Result<String, String>;

impl RowReader {
    /// The next row of a queues file, or `None` at the end.
    pub fn next_queue(&mut self) -> Result<Option<QueueInput>, InputError> {
        let Some(line) = self.next_record()? else {
            return Ok(None);
        };
        let mut problems: Vec<String> = Vec::new();
        problems.extend(self.field_count_problem());
        let name = self.queue_cell(QueueColumn::Name, line)?.to_string();
        self.check_queue_name(&name, line, &mut problems);
        let row = self.queue_row(name.clone(), line, &mut problems)?;
        let validated = if problems.is_empty() {
            Ok(row)
        } else {
            Err(problems.join("; "))
        };
        Ok(Some(QueueInput {
            line,
            name,
            validated,
        }))
    }

    /// The name must be present, plain, free of `*` and not seen before.
    fn check_queue_name(&mut self, name: &str, line: u64, problems: &mut Vec<String>) {
        if name.is_empty() {
            problems.push("name: missing".into());
        } else if let Err(why) = check_text(name) {
            problems.push(format!("name: {why}"));
        } else if name.contains('*') {
            problems.push(
                "name: `*` is a wildcard in Genesys' queue filter; not allowed in a name here"
                    .into(),
            );
        } else {
            // Genesys refuses a second queue whose name differs only in case.
            match self.seen_queue_names.entry(name.to_lowercase()) {
                Entry::Occupied(first) => {
                    problems.push(format!("name: repeats line {}", first.get()))
                }
                Entry::Vacant(slot) => {
                    slot.insert(line);
                }
            }
        }
    }

    /// An optional queues cell: `None` when blank or when `check` refuses it.
    fn queue_text(
        &self,
        column: QueueColumn,
        line: u64,
        check: Check<'_>,
        problems: &mut Vec<String>,
    ) -> Result<Option<String>, InputError> {
        let value = self.queue_cell(column, line)?;
        if value.is_empty() {
            return Ok(None);
        }
        match check(value) {
            Ok(v) => Ok(Some(v)),
            Err(why) => {
                problems.push(format!("{}: {why}", column.name()));
                Ok(None)
            }
        }
    }

    /// A timeout cell: whole seconds from 1 to 3600.
    fn queue_seconds(
        &self,
        column: QueueColumn,
        line: u64,
        problems: &mut Vec<String>,
    ) -> Result<Option<u32>, InputError> {
        let check = |v: &str| seconds(v, 3600).map(|s| s.to_string());
        Ok(self
            .queue_text(column, line, &check, problems)?
            .and_then(|s| s.parse().ok()))
    }

    /// The current record's cells as a queue (kept only if no problems).
    fn queue_row(
        &self,
        name: String,
        line: u64,
        problems: &mut Vec<String>,
    ) -> Result<QueueRow, InputError> {
        let plain = |v: &str| check_text(v).map(|()| v.to_string());
        let evaluation = |v: &str| one_of(v, &["NONE", "BEST", "ALL"]);
        let acw_mode = |v: &str| one_of(v, &ACW);
        // A `-` clears the caller id (src/queues writes it as no field).
        let number = |v: &str| {
            if v.trim() == "-" {
                return Ok("-".to_string());
            }
            normalise_e164(v)
                .ok_or_else(|| format!("`{}` is not an E.164 number such as +13175550123", cut(v)))
        };
        let division = self.queue_text(QueueColumn::Division, line, &plain, problems)?;
        let description = self.queue_text(QueueColumn::Description, line, &plain, problems)?;
        let skill_evaluation =
            self.queue_text(QueueColumn::SkillEvaluation, line, &evaluation, problems)?;
        let acw = self.queue_text(QueueColumn::Acw, line, &acw_mode, problems)?;
        let acw_timeout_s = self.queue_seconds(QueueColumn::AcwTimeout, line, problems)?;
        let alerting_timeout_s =
            self.queue_seconds(QueueColumn::AlertingTimeout, line, problems)?;
        let wrapups = self.queue_text(QueueColumn::WrapupCodes, line, &plain, problems)?;
        let copy_from = self.queue_text(QueueColumn::CopyFrom, line, &plain, problems)?;
        let calling_party_name =
            self.queue_text(QueueColumn::CallingPartyName, line, &plain, problems)?;
        let calling_party_number =
            self.queue_text(QueueColumn::CallingPartyNumber, line, &number, problems)?;
        if acw_timeout_s.is_some()
            && !matches!(
                acw.as_deref(),
                None | Some("MANDATORY_TIMEOUT" | "MANDATORY_FORCED_TIMEOUT" | "AGENT_REQUESTED")
            )
        {
            problems.push("acw_timeout_s: only for acw MANDATORY_TIMEOUT, MANDATORY_FORCED_TIMEOUT or AGENT_REQUESTED".into());
        }
        Ok(QueueRow {
            name,
            division,
            description,
            skill_evaluation,
            acw,
            acw_timeout_s,
            alerting_timeout_s,
            wrapup_codes: wrapup_codes(wrapups.as_deref()),
            copy_from,
            calling_party_name,
            calling_party_number,
        })
    }
}

/// The `;`-separated wrap-up codes; blank and `-` items dropped.
fn wrapup_codes(cell: Option<&str>) -> Vec<String> {
    cell.unwrap_or("")
        .split(';')
        .map(str::trim)
        .filter(|w| !w.is_empty() && *w != "-")
        .map(str::to_string)
        .collect()
}
