//! Why this exists: what became of a row (its status and the columns that
//! explain it) and the run's tally of them, as plain values: the engine
//! makes them, the results writer prints them, and the exit code of a run
//! that was not stopped is worked out from the tally here, in one place.

use std::collections::HashMap;

use crate::error::exit;

/// What happened to a row (the `status` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    Created,
    Updated,
    Unchanged,
    Exists,
    WouldCreate,
    WouldUpdate,
    Incomplete,
    Invalid,
    Failed,
    NotAttempted,
}

impl Status {
    pub const ALL: [Status; 10] = [
        Status::Created,
        Status::Updated,
        Status::Unchanged,
        Status::Exists,
        Status::WouldCreate,
        Status::WouldUpdate,
        Status::Incomplete,
        Status::Invalid,
        Status::Failed,
        Status::NotAttempted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Updated => "updated",
            Status::Unchanged => "unchanged",
            Status::Exists => "exists",
            Status::WouldCreate => "would_create",
            Status::WouldUpdate => "would_update",
            Status::Incomplete => "incomplete",
            Status::Invalid => "invalid",
            Status::Failed => "failed",
            Status::NotAttempted => "not_attempted",
        }
    }

    /// A row that needs an admin's attention (exit 1).
    pub fn needs_attention(self) -> bool {
        matches!(
            self,
            Status::Invalid | Status::Failed | Status::Incomplete | Status::NotAttempted
        )
    }
}

/// The outcome of one row: its status and the columns that explain it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: Status,
    pub user_id: Option<String>,
    pub http_status: Option<u16>,
    pub error_code: Option<String>,
    pub message: Option<String>,
    /// The `changes` cell.
    pub changes: std::borrow::Cow<'static, str>,
}

impl Outcome {
    pub fn new(status: Status) -> Outcome {
        Outcome {
            status,
            user_id: None,
            http_status: None,
            error_code: None,
            message: None,
            changes: "".into(),
        }
    }

    pub fn with_changes(mut self, changes: &[crate::plan::Change]) -> Outcome {
        self.changes = crate::plan::changes_cell(changes);
        self
    }

    pub fn with_user_id(mut self, id: impl Into<String>) -> Outcome {
        self.user_id = Some(id.into());
        self
    }

    pub fn with_message(mut self, message: impl Into<String>) -> Outcome {
        self.message = Some(message.into());
        self
    }

    pub fn with_error(
        mut self,
        http_status: Option<u16>,
        code: Option<String>,
        message: impl Into<String>,
    ) -> Outcome {
        self.http_status = http_status;
        self.error_code = code;
        self.message = Some(message.into());
        self
    }
}

/// Counts per status and the most frequent error codes, for the summary.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub per_status: HashMap<Status, u64>,
    /// error code -> (count, first line)
    pub error_codes: HashMap<String, (u64, u64)>,
}

impl Tally {
    pub fn count(&self, status: Status) -> u64 {
        self.per_status.get(&status).copied().unwrap_or(0)
    }

    pub fn total(&self) -> u64 {
        self.per_status.values().sum()
    }

    pub(crate) fn record(&mut self, line: u64, outcome: &Outcome) {
        *self.per_status.entry(outcome.status).or_default() += 1;
        if matches!(
            outcome.status,
            Status::Failed | Status::Invalid | Status::Incomplete
        ) {
            // Invalid rows have no API code: name the first column at fault.
            let code = outcome.error_code.clone().unwrap_or_else(|| {
                let column = outcome
                    .message
                    .as_deref()
                    .and_then(|m| m.split_once(':'))
                    .map(|(c, _)| c);
                match (outcome.status, column) {
                    (Status::Invalid, Some(column)) if !column.contains(' ') => {
                        format!("invalid {column}")
                    }
                    (status, _) => status.as_str().to_string(),
                }
            });
            self.error_codes.entry(code).or_insert((0, line)).0 += 1;
        }
    }

    /// The three most common error codes, most frequent first.
    pub fn top_errors(&self) -> Vec<(String, u64, u64)> {
        let mut all: Vec<(String, u64, u64)> = self
            .error_codes
            .iter()
            .map(|(code, (count, line))| (code.clone(), *count, *line))
            .collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
        all.truncate(3);
        all
    }
}

impl Tally {
    /// The exit code of a run that was not stopped, from its rows.
    pub fn exit_code(&self, expected_rows: u64) -> u8 {
        // Never 0 (or 1) with a row missing from the results: that is a bug.
        if self.total() != expected_rows {
            return exit::INTERNAL;
        }
        let attention = Status::ALL
            .into_iter()
            .filter(|s| s.needs_attention())
            .map(|s| self.count(s))
            .sum::<u64>();
        if attention > 0 {
            exit::ROWS_NEED_ATTENTION
        } else {
            exit::OK
        }
    }
}
