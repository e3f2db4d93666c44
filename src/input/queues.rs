//! A queues file (`genimport queues FILE`): the same reading, encodings and
//! line numbers as users, its own columns and rules.

use super::{check_text, cut, InputError, RowReader};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueColumn {
    Name,
    Division,
    Description,
    SkillEvaluation,
    Acw,
    AcwTimeout,
    AlertingTimeout,
    WrapupCodes,
    CopyFrom,
    CallingPartyName,
    CallingPartyNumber,
}

pub const QUEUE_COLUMN_COUNT: usize = 11;

impl QueueColumn {
    pub fn from_header(header: &str) -> Option<QueueColumn> {
        Some(match header {
            "name" | "queue" | "queue_name" => QueueColumn::Name,
            "division" | "division_id" | "divisionid" => QueueColumn::Division,
            "description" => QueueColumn::Description,
            "skill_evaluation" => QueueColumn::SkillEvaluation,
            "acw" => QueueColumn::Acw,
            "acw_timeout_s" => QueueColumn::AcwTimeout,
            "alerting_timeout_s" => QueueColumn::AlertingTimeout,
            "wrapup_codes" | "wrapup_code" => QueueColumn::WrapupCodes,
            "copy_from" => QueueColumn::CopyFrom,
            "calling_party_name" => QueueColumn::CallingPartyName,
            "calling_party_number" => QueueColumn::CallingPartyNumber,
            _ => return None,
        })
    }

    pub fn canonical(self) -> &'static str {
        match self {
            QueueColumn::Name => "name",
            QueueColumn::Division => "division",
            QueueColumn::Description => "description",
            QueueColumn::SkillEvaluation => "skill_evaluation",
            QueueColumn::Acw => "acw",
            QueueColumn::AcwTimeout => "acw_timeout_s",
            QueueColumn::AlertingTimeout => "alerting_timeout_s",
            QueueColumn::WrapupCodes => "wrapup_codes",
            QueueColumn::CopyFrom => "copy_from",
            QueueColumn::CallingPartyName => "calling_party_name",
            QueueColumn::CallingPartyNumber => "calling_party_number",
        }
    }
}

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

impl RowReader {
    /// The next row of a queues file, or `None` at the end.
    pub fn next_queue(&mut self) -> Result<Option<QueueInput>, InputError> {
        let Some(line) = self.next_record()? else {
            return Ok(None);
        };
        let mut problems: Vec<String> = Vec::new();
        if self.record.len() != self.header_len {
            problems.push(format!(
                "row: has {} fields but the header has {}",
                self.record.len(),
                self.header_len
            ));
        }
        let name = self.queue_cell(QueueColumn::Name, line)?.to_string();
        if name.is_empty() {
            problems.push("name: missing".into());
        } else if let Err(why) = check_text(&name) {
            problems.push(format!("name: {why}"));
        } else if name.contains('*') {
            problems.push(
                "name: `*` is a wildcard in Genesys' queue filter; not allowed in a name here"
                    .into(),
            );
        } else {
            // Genesys refuses a second queue whose name differs only in case.
            match self.seen_queue_names.entry(name.to_lowercase()) {
                std::collections::hash_map::Entry::Occupied(first) => {
                    problems.push(format!("name: repeats line {}", first.get()))
                }
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(line);
                }
            }
        }
        let mut text = |column: QueueColumn,
                        check: &dyn Fn(&str) -> Result<String, String>|
         -> Result<Option<String>, InputError> {
            let value = self.queue_cell(column, line)?;
            if value.is_empty() {
                return Ok(None);
            }
            match check(value) {
                Ok(v) => Ok(Some(v)),
                Err(why) => {
                    problems.push(format!("{}: {why}", column.canonical()));
                    Ok(None)
                }
            }
        };
        let plain = |v: &str| check_text(v).map(|()| v.to_string());
        let division = text(QueueColumn::Division, &plain)?;
        let description = text(QueueColumn::Description, &plain)?;
        let skill_evaluation = text(QueueColumn::SkillEvaluation, &|v| {
            one_of(v, &["NONE", "BEST", "ALL"])
        })?;
        let acw = text(QueueColumn::Acw, &|v| one_of(v, &ACW))?;
        let acw_timeout_s = text(QueueColumn::AcwTimeout, &|v| {
            seconds(v, 3600).map(|s| s.to_string())
        })?
        .and_then(|s| s.parse().ok());
        let alerting_timeout_s = text(QueueColumn::AlertingTimeout, &|v| {
            seconds(v, 3600).map(|s| s.to_string())
        })?
        .and_then(|s| s.parse().ok());
        let wrapups = text(QueueColumn::WrapupCodes, &plain)?;
        let copy_from = text(QueueColumn::CopyFrom, &plain)?;
        let calling_party_name = text(QueueColumn::CallingPartyName, &plain)?;
        let calling_party_number = text(QueueColumn::CallingPartyNumber, &|v| {
            super::normalise_e164(v)
                .ok_or_else(|| format!("`{}` is not an E.164 number such as +13175550123", cut(v)))
        })?;
        if acw_timeout_s.is_some()
            && !matches!(
                acw.as_deref(),
                None | Some("MANDATORY_TIMEOUT" | "MANDATORY_FORCED_TIMEOUT" | "AGENT_REQUESTED")
            )
        {
            problems.push("acw_timeout_s: only for acw MANDATORY_TIMEOUT, MANDATORY_FORCED_TIMEOUT or AGENT_REQUESTED".into());
        }
        let wrapup_codes: Vec<String> = wrapups
            .as_deref()
            .unwrap_or("")
            .split(';')
            .map(str::trim)
            .filter(|w| !w.is_empty() && *w != "-")
            .map(str::to_string)
            .collect();
        let validated = if problems.is_empty() {
            Ok(QueueRow {
                name: name.clone(),
                division,
                description,
                skill_evaluation,
                acw,
                acw_timeout_s,
                alerting_timeout_s,
                wrapup_codes,
                copy_from,
                calling_party_name,
                calling_party_number,
            })
        } else {
            Err(problems.join("; "))
        };
        Ok(Some(QueueInput {
            line,
            name,
            validated,
        }))
    }
}
