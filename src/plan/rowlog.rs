//! Why this exists: what happened to one row, step by step. `RowLog::outcome`
//! is the one place that turns that record into the results columns, so a
//! row's status is derived from its steps, never assigned around them.

use crate::plan::{changes_cell, Change, Outcome, Status};

/// Why a step failed, as the results file shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub http_status: Option<u16>,
    pub code: Option<String>,
    pub message: String,
}

impl Failure {
    pub fn message(message: impl Into<String>) -> Failure {
        Failure {
            http_status: None,
            code: None,
            message: message.into(),
        }
    }
}

/// Whether the row creates a user or works on an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Create,
    Update,
}

/// What happened to one row, step by step.
#[derive(Debug, Clone)]
pub struct RowLog {
    pub kind: Kind,
    pub user_id: Option<String>,
    /// The user exists (created, or found) as the row's own.
    pub ensured: bool,
    pub done: Vec<Change>,
    /// Every failed step, in the order they failed. A failure does not stop
    /// the row: every step that can still be done is done.
    pub failures: Vec<Failure>,
    /// The run stopped before these steps.
    pub stopped_before: Vec<Change>,
    pub notes: Vec<String>,
}

impl RowLog {
    pub fn new(kind: Kind) -> RowLog {
        RowLog {
            kind,
            user_id: None,
            ensured: kind == Kind::Update,
            done: Vec::new(),
            failures: Vec::new(),
            stopped_before: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Records a failed step; the row goes on with its other steps.
    pub fn fail(&mut self, failure: Failure) {
        self.failures.push(failure);
    }

    pub fn has_failed(&self) -> bool {
        !self.failures.is_empty()
    }

    /// The results columns for this row: the only place they are derived.
    pub fn outcome(&self) -> Outcome {
        let status = match (self.failures.is_empty(), self.stopped_before.is_empty()) {
            (true, true) => match self.kind {
                Kind::Create => Status::Created,
                Kind::Update if self.done.is_empty() => Status::Unchanged,
                Kind::Update => Status::Updated,
            },
            // Nothing was written for this row.
            _ if !self.ensured || (self.kind == Kind::Update && self.done.is_empty()) => {
                if self.has_failed() {
                    Status::Failed
                } else {
                    Status::NotAttempted
                }
            }
            _ => Status::Incomplete,
        };
        let mut outcome = Outcome::new(status).with_changes(&self.done);
        if let Some(id) = &self.user_id {
            outcome = outcome.with_user_id(id);
        }
        let mut message: Vec<String> = Vec::new();
        // The columns name the first failure; the message names each one.
        if let Some(first) = self.failures.first() {
            outcome.http_status = first.http_status;
            outcome.error_code = first.code.clone();
        }
        message.extend(self.failures.iter().map(|f| f.message.clone()));
        if !self.stopped_before.is_empty() {
            let steps = changes_cell(&self.stopped_before);
            // Only `--exact` removes: a re-run without it would not finish a removal.
            let removes = self.stopped_before.iter().any(|c| {
                matches!(
                    c,
                    Change::RemoveRole(_)
                        | Change::RemoveSkill(_)
                        | Change::RemoveLanguage(_)
                        | Change::RemoveQueue(_)
                        | Change::RemoveGroup(_)
                )
            });
            let flags = if removes {
                "--update --exact"
            } else {
                "--update"
            };
            message.push(format!(
                "the run stopped before: {steps}; a re-run with {flags} completes it"
            ));
        }
        message.extend(self.notes.iter().cloned());
        if !message.is_empty() {
            outcome = outcome.with_message(message.join("; "));
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::users::Field;

    #[test]
    fn status_is_derived_from_the_steps() {
        let mut log = RowLog::new(Kind::Update);
        assert_eq!(log.outcome().status, Status::Unchanged);
        log.done.push(Change::Field(Field::Title));
        assert_eq!(log.outcome().status, Status::Updated);
        assert_eq!(log.outcome().changes, "title");
        log.fail(Failure::message("division move refused"));
        assert_eq!(log.outcome().status, Status::Incomplete);

        let mut first_write_failed = RowLog::new(Kind::Update);
        first_write_failed.fail(Failure::message("no"));
        assert_eq!(first_write_failed.outcome().status, Status::Failed);

        let mut create = RowLog::new(Kind::Create);
        create.fail(Failure::message("refused"));
        assert_eq!(create.outcome().status, Status::Failed);
        create.ensured = true;
        create.done.push(Change::Create);
        assert_eq!(create.outcome().status, Status::Incomplete);

        let mut stopped = RowLog::new(Kind::Create);
        stopped.ensured = true;
        stopped.done.push(Change::Create);
        stopped
            .stopped_before
            .push(Change::Field(Field::EmployeeId));
        let outcome = stopped.outcome();
        assert_eq!(outcome.status, Status::Incomplete);
        let message = outcome.message.unwrap();
        assert!(message.contains("employee_id"));
        assert!(
            message.ends_with("a re-run with --update completes it"),
            "{message}"
        );
        stopped
            .stopped_before
            .push(Change::RemoveGroup("Night".into()));
        let message = stopped.outcome().message.unwrap();
        assert!(
            message.ends_with("re-run with --update --exact completes it"),
            "{message}"
        );
    }

    #[test]
    fn every_failed_step_is_named() {
        let mut log = RowLog::new(Kind::Update);
        log.done.push(Change::Field(Field::Title));
        log.fail(Failure {
            http_status: Some(400),
            code: Some("bad.member".into()),
            message: "adding the user to queue `Billing`: refused".into(),
        });
        log.fail(Failure::message("sending the invitation: refused"));
        let outcome = log.outcome();
        assert_eq!(outcome.status, Status::Incomplete);
        assert_eq!(outcome.http_status, Some(400));
        let message = outcome.message.unwrap();
        assert!(message.contains("queue `Billing`") && message.contains("invitation"));
    }
}
