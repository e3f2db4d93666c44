//! Why this exists: what a row asks for, and what became of it. A row's
//! plan is "ensure the user" (create, restore, update or nothing) followed
//! by steps; its `RowLog` records each step as it is done or fails, and
//! `RowLog::outcome` is the one place that turns that record into the
//! results columns (status, `changes`, http status, code, message).
//! The engine knows steps; the report sees only outcomes.

use std::sync::Arc;

use crate::error::StopReason;
use crate::genesys::users::User;
use crate::input::UserRow;
use crate::provision::Steps;
use crate::report::{Outcome, Status};

/// A profile column, in the contract's order for `changes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    Name,
    Email,
    Title,
    Department,
    Phone,
    State,
    Division,
    Manager,
    Location,
    EmployeeId,
    EmployeeType,
    HireDate,
}

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Email => "email",
            Field::Title => "title",
            Field::Department => "department",
            Field::Phone => "phone",
            Field::State => "state",
            Field::Division => "division",
            Field::Manager => "manager",
            Field::Location => "location",
            Field::EmployeeId => "employee_id",
            Field::EmployeeType => "employee_type",
            Field::HireDate => "hire_date",
        }
    }
}

/// One item of the `changes` column; the derived order is the contract's.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Change {
    Create,
    Restore,
    Field(Field),
    /// A changed column of a queues file (`description`, `acw`...), with
    /// its rank in the contract's column order.
    Column(u8, &'static str),
    /// `NAME@DIVISION` (`*` for all divisions).
    AddRole(String),
    /// `NAME:RATING`.
    AddSkill(String),
    AddLanguage(String),
    AddQueue(String),
    AddGroup(String),
    AddWrapup(String),
    Invite,
}

impl Change {
    pub fn text(&self) -> std::borrow::Cow<'static, str> {
        match self {
            Change::Create => "create".into(),
            Change::Restore => "restore".into(),
            Change::Field(f) => f.as_str().into(),
            Change::Column(_, c) => (*c).into(),
            Change::AddWrapup(w) => format!("add wrapup {w}").into(),
            Change::AddRole(r) => format!("add role {r}").into(),
            Change::AddSkill(s) => format!("add skill {s}").into(),
            Change::AddLanguage(l) => format!("add language {l}").into(),
            Change::AddQueue(q) => format!("add queue {q}").into(),
            Change::AddGroup(g) => format!("add group {g}").into(),
            Change::Invite => "invite".into(),
        }
    }
}

/// A rating as the contract writes it: `4`, `2.5`.
pub fn rating_text(rating: f64) -> String {
    if rating.fract() == 0.0 {
        format!("{}", rating as i64)
    } else {
        format!("{rating}")
    }
}

/// The `changes` cell: items in the contract's order, `; `-separated.
pub fn changes_cell(changes: &[Change]) -> std::borrow::Cow<'static, str> {
    match changes {
        [] => return "".into(),
        [one] => return one.text(),
        _ => {}
    }
    let mut sorted = changes.to_vec();
    sorted.sort();
    sorted.dedup();
    sorted
        .iter()
        .map(|c| c.text())
        .collect::<Vec<_>>()
        .join("; ")
        .into()
}

/// A division a row names: its id, and its name for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DivisionTarget {
    pub id: String,
    pub name: String,
}

/// What to do with one row.
#[derive(Debug, Clone)]
pub enum Plan {
    /// Nothing to send: the outcome is already known (invalid, exists...).
    Report(Outcome),
    /// Create the user, in this division, then its follow-up steps.
    Create {
        user: UserRow,
        division_id: Option<String>,
        provision: Box<Steps>,
    },
    /// Create a queue (queues files), then add its wrap-up codes.
    CreateQueue {
        queue: Box<crate::input::queues::QueueRow>,
        body: Box<serde_json::Value>,
        wrapups: Vec<(String, String)>,
    },
    /// `--update`: the whole queue, changed as the row says, and what to add.
    UpdateQueue {
        id: String,
        /// The queue as read, with the row applied (sent whole by PUT).
        body: Box<serde_json::Value>,
        changed: Vec<&'static str>,
        wrapups: Vec<(String, String)>,
        division: Option<DivisionTarget>,
    },
    /// `--update` (or `--restore-deleted`): bring an existing user in line.
    Update {
        user: UserRow,
        existing: Box<User>,
        restore: bool,
        division: Option<DivisionTarget>,
        provision: Box<Steps>,
        /// What a dry run reports: the changes against `existing`.
        preview: Vec<Change>,
    },
}

/// A row and its plan.
#[derive(Debug, Clone)]
pub struct Job {
    pub line: u64,
    pub email: Arc<str>,
    pub name: Arc<str>,
    pub plan: Plan,
}

impl Plan {
    /// The result when the run stops (for `reason`) before this row is tried.
    pub fn not_attempted(&self, reason: Option<&StopReason>) -> Outcome {
        match self {
            Plan::Report(outcome) => outcome.clone(),
            _ => {
                let outcome = Outcome::new(Status::NotAttempted);
                match reason {
                    Some(reason) => outcome
                        .with_message(format!("not sent: the run stopped ({})", reason.describe())),
                    None => outcome,
                }
            }
        }
    }

    /// The result in a dry run: the plan a real run would apply.
    pub fn dry_run(&self) -> Outcome {
        match self {
            Plan::Report(outcome) => outcome.clone(),
            Plan::CreateQueue { wrapups, .. } => {
                let mut changes = vec![Change::Create];
                changes.extend(wrapups.iter().map(|(_, n)| Change::AddWrapup(n.clone())));
                Outcome::new(Status::WouldCreate).with_changes(&changes)
            }
            Plan::UpdateQueue { id, .. } if self.queue_changes().is_empty() => {
                Outcome::new(Status::Unchanged).with_user_id(id)
            }
            Plan::UpdateQueue { id, .. } => Outcome::new(Status::WouldUpdate)
                .with_user_id(id)
                .with_changes(&self.queue_changes()),
            Plan::Create {
                user, provision, ..
            } => {
                let mut changes = create_changes(user);
                changes.extend(provision.changes());
                Outcome::new(Status::WouldCreate).with_changes(&changes)
            }
            Plan::Update {
                existing, preview, ..
            } if preview.is_empty() => Outcome::new(Status::Unchanged).with_user_id(&existing.id),
            Plan::Update {
                existing,
                preview,
                user,
                ..
            } => {
                let outcome = Outcome::new(Status::WouldUpdate)
                    .with_user_id(&existing.id)
                    .with_changes(preview);
                match password_note(user) {
                    Some(note) => outcome.with_message(note),
                    None => outcome,
                }
            }
        }
    }
}

/// The `changes` cell of creating this row's user (no allocation when it
/// is only `create`: this runs once a row offline).
pub fn create_changes_cell(user: &UserRow) -> std::borrow::Cow<'static, str> {
    if follow_up_fields(user).next().is_none() {
        return "create".into();
    }
    changes_cell(&create_changes(user))
}

/// The `changes` of creating this row's user.
pub fn create_changes(user: &UserRow) -> Vec<Change> {
    let mut changes = vec![Change::Create];
    changes.extend(follow_up_fields(user).map(Change::Field));
    changes
}

impl Plan {
    /// What an update of a queue changes.
    pub fn queue_changes(&self) -> Vec<Change> {
        match self {
            Plan::UpdateQueue {
                changed,
                wrapups,
                division,
                ..
            } => {
                let mut changes: Vec<Change> = changed
                    .iter()
                    .map(|c| Change::Column(crate::queues::column_rank(c), c))
                    .collect();
                if division.is_some() {
                    changes.push(Change::Column(0, "division"));
                }
                changes.extend(wrapups.iter().map(|(_, n)| Change::AddWrapup(n.clone())));
                changes
            }
            _ => Vec::new(),
        }
    }
}

/// Fields a new user gets in a PATCH after its create (`CreateUser` has no
/// `employerInfo`).
/// An iterator, so the offline path (once a row) allocates nothing.
pub fn follow_up_fields(user: &UserRow) -> impl Iterator<Item = Field> {
    [
        (user.employee_id.value().is_some(), Field::EmployeeId),
        (user.employee_type.value().is_some(), Field::EmployeeType),
        (user.hire_date.value().is_some(), Field::HireDate),
    ]
    .into_iter()
    .filter_map(|(set, field)| set.then_some(field))
}

pub fn password_note(user: &UserRow) -> Option<&'static str> {
    user.password
        .is_some()
        .then_some("the password cell is not applied to an existing user")
}

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
    /// The first failure; later steps are not tried.
    pub failure: Option<Failure>,
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
            failure: None,
            stopped_before: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn fail(&mut self, failure: Failure) {
        self.failure.get_or_insert(failure);
    }

    /// The results columns for this row: the only place they are derived.
    pub fn outcome(&self) -> Outcome {
        let status = match (&self.failure, self.stopped_before.is_empty()) {
            (None, true) => match self.kind {
                Kind::Create => Status::Created,
                Kind::Update if self.done.is_empty() => Status::Unchanged,
                Kind::Update => Status::Updated,
            },
            // Nothing was written for this row.
            _ if !self.ensured || (self.kind == Kind::Update && self.done.is_empty()) => {
                if self.failure.is_some() {
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
        if let Some(failure) = &self.failure {
            outcome.http_status = failure.http_status;
            outcome.error_code = failure.code.clone();
            message.push(failure.message.clone());
        }
        if !self.stopped_before.is_empty() {
            let steps = changes_cell(&self.stopped_before);
            message.push(format!(
                "the run stopped before: {steps}; a re-run with --update completes it"
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

    #[test]
    fn changes_follow_the_contract_order() {
        let changes = [
            Change::Field(Field::HireDate),
            Change::Field(Field::Phone),
            Change::Create,
            Change::Field(Field::Name),
            Change::Field(Field::Division),
            Change::Field(Field::State),
        ];
        assert_eq!(
            changes_cell(&changes),
            "create; name; phone; state; division; hire_date"
        );
    }

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
        assert!(outcome.message.unwrap().contains("employee_id"));
    }
}
