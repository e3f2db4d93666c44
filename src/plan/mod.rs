//! Why this exists: what a row asks for, and what became of it, as plain
//! values (no I/O). A row's plan is "ensure the user" (create, restore,
//! update or nothing) followed by steps; its `RowLog` records each step as
//! it is done or fails. The engine knows steps; the report sees only outcomes.

mod change;
mod failures;
pub mod licences;
mod outcome;
pub mod phones;
pub mod removals;
mod rowlog;
mod steps;

use std::sync::Arc;

pub use change::*;
pub use failures::*;
pub use outcome::*;
pub use rowlog::*;
pub use steps::*;

use crate::error::StopReason;
use crate::genesys::users::User;
use crate::input::{RoleScope, UserRow};
use crate::users::{follow_up_fields, rating_text};

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
                    Some(reason) => {
                        outcome.with_message(format!("not sent: the run stopped ({})", reason))
                    }
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
                provision,
                ..
            } => {
                let outcome = Outcome::new(Status::WouldUpdate)
                    .with_user_id(&existing.id)
                    .with_changes(preview);
                // What `--exact` would leave, and why (see `removals`).
                let notes: Vec<&str> = password_note(user)
                    .into_iter()
                    .chain(provision.removals.kept.iter().map(String::as_str))
                    .collect();
                if notes.is_empty() {
                    outcome
                } else {
                    outcome.with_message(notes.join("; "))
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

/// The `changes` cell of an offline dry run (no credentials): the plan a
/// new user would get, with the names as written in the row (nothing is
/// resolved offline). No allocation when it is only `create`: this runs
/// once a row.
pub fn offline_changes_cell(user: &UserRow, invite: bool) -> std::borrow::Cow<'static, str> {
    let invite = user.invite.unwrap_or(invite);
    let plain = user.manager.value().is_none()
        && user.location.value().is_none()
        && user.roles.is_empty()
        && user.skills.is_empty()
        && user.languages.is_empty()
        && user.queues.is_empty()
        && user.groups.is_empty()
        && user.webrtc_phone.value().is_none()
        && !invite;
    if plain {
        return create_changes_cell(user);
    }
    let mut changes = create_changes(user);
    if user.manager.value().is_some() {
        changes.push(Change::Field(crate::users::Field::Manager));
    }
    if user.location.value().is_some() {
        changes.push(Change::Field(crate::users::Field::Location));
    }
    changes.extend(user.roles.iter().map(|r| {
        Change::AddRole(match &r.scope {
            RoleScope::Home => r.name.clone(),
            RoleScope::All => format!("{}@*", r.name),
            RoleScope::Division(d) => format!("{}@{d}", r.name),
        })
    }));
    let rated =
        |r: &crate::input::Rated| format!("{}:{}", r.name, rating_text(r.rating.unwrap_or(0.0)));
    changes.extend(user.skills.iter().map(|s| Change::AddSkill(rated(s))));
    changes.extend(user.languages.iter().map(|l| Change::AddLanguage(rated(l))));
    changes.extend(user.queues.iter().map(|q| Change::AddQueue(q.clone())));
    changes.extend(user.groups.iter().map(|g| Change::AddGroup(g.clone())));
    changes.extend(user.webrtc_phone.value().cloned().map(Change::AddPhone));
    if invite {
        changes.push(Change::Invite);
    }
    changes_cell(&changes)
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

pub fn password_note(user: &UserRow) -> Option<&'static str> {
    user.password
        .is_some()
        .then_some("the password cell is not applied to an existing user")
}
