//! Why this exists: Genesys' answers turned into what a row's results say
//! (failed, exists) and into the reason a whole run stops, in one place so
//! every path words a refusal the same way.

use crate::error::StopReason;
use crate::genesys::users::User;
use crate::genesys::{CallError, Reply};
use crate::plan::{changes_cell, Change, Failure, Outcome, Status};
use crate::stop::Stop;

/// Maps a failed preflight or auth call to the reason the run stops.
pub fn stop_reason(error: &CallError, stop: &Stop) -> StopReason {
    use crate::genesys::token::AuthError;
    match error {
        CallError::Auth(e @ AuthError::Refused(_)) => StopReason::AuthRefused(e.to_string()),
        CallError::Auth(e @ AuthError::Unavailable { .. }) => {
            StopReason::Unavailable(e.to_string())
        }
        CallError::Unauthorized(m) => StopReason::AuthRefused(m.clone()),
        CallError::Rejected {
            status: 403,
            code,
            message,
        } => StopReason::PermissionRefused(format!(
            "{} ({})",
            message,
            code.as_deref().unwrap_or("403")
        )),
        CallError::Rejected { status, .. } if (400..500).contains(status) => {
            StopReason::Refused(error.to_string())
        }
        CallError::Stopped => stop.reason().unwrap_or(StopReason::Interrupted),
        other => StopReason::Unavailable(other.to_string()),
    }
}

pub fn reply_failure(reply: &Reply, context: &str) -> Failure {
    Failure {
        http_status: Some(reply.status),
        code: reply.error().code,
        message: format!("{context}: {}", reply.error_message()),
    }
}

pub fn reply_outcome(reply: &Reply) -> Outcome {
    Outcome::new(Status::Failed).with_error(
        Some(reply.status),
        reply.error().code,
        reply.error_message(),
    )
}

pub fn error_failure(error: &CallError, context: &str) -> Failure {
    let outcome = failed_outcome(error, context);
    Failure {
        http_status: outcome.http_status,
        code: outcome.error_code,
        message: outcome.message.unwrap_or_default(),
    }
}

/// A row that got a final answer other than success, as its outcome.
pub fn failed_outcome(error: &CallError, context: &str) -> Outcome {
    let outcome = Outcome::new(Status::Failed);
    let with_context = |m: String| {
        if context.is_empty() {
            m
        } else {
            format!("{context}: {m}")
        }
    };
    match error {
        CallError::Rejected {
            status,
            code,
            message,
        } => outcome.with_error(Some(*status), code.clone(), with_context(message.clone())),
        CallError::Exhausted {
            status,
            code,
            message,
            attempts,
        } => outcome.with_error(
            *status,
            code.clone(),
            with_context(format!("{message} (gave up after {attempts} attempts)")),
        ),
        CallError::Redirected { status, .. } => {
            outcome.with_error(Some(*status), None, with_context(error.to_string()))
        }
        other => outcome.with_message(with_context(other.to_string())),
    }
}

/// `exists`: the user is left as it is. `preview` (live users) says what
/// `--update` would do: the fields it would change, then what it would add
/// (`--update would add: role Agent@Home; queue Billing`).
pub fn exists_outcome(found: &User, preview: Option<&[Change]>) -> Outcome {
    let message = if found.is_deleted() {
        "a deleted user has this email (Genesys keeps it reserved); use --restore-deleted to restore it".to_string()
    } else {
        let base = match found.state.as_deref() {
            Some("inactive") => "already exists (inactive)",
            _ => "already exists",
        };
        match preview {
            Some([]) => format!("{base} and matches the row"),
            Some(changes) => format!("{base}; {}", would_do(changes)),
            None => base.to_string(),
        }
    };
    Outcome::new(Status::Exists)
        .with_user_id(&found.id)
        .with_message(message)
}

/// `--update would change: …; --update would add: …` for `changes`.
fn would_do(changes: &[Change]) -> String {
    let (fields, adds): (Vec<Change>, Vec<Change>) = changes
        .iter()
        .cloned()
        .partition(|c| matches!(c, Change::Restore | Change::Field(_)));
    let mut parts: Vec<String> = Vec::new();
    if !fields.is_empty() {
        parts.push(format!("--update would change: {}", changes_cell(&fields)));
    }
    if !adds.is_empty() {
        let adds = changes_cell(&adds);
        let items: Vec<&str> = adds
            .split("; ")
            .map(|item| item.strip_prefix("add ").unwrap_or(item))
            .collect();
        parts.push(format!("--update would add: {}", items.join("; ")));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::users::Field;

    #[test]
    fn exists_names_what_update_would_change_and_add() {
        let user = User {
            id: "u1".into(),
            state: Some("active".into()),
            ..User::default()
        };
        let changes = [
            Change::AddQueue("Billing".into()),
            Change::Field(Field::Title),
            Change::AddRole("Agent@Home".into()),
        ];
        let outcome = exists_outcome(&user, Some(&changes));
        assert_eq!(
            outcome.message.as_deref(),
            Some("already exists; --update would change: title; --update would add: role Agent@Home; queue Billing")
        );
        let outcome = exists_outcome(&user, Some(&changes[..1]));
        assert_eq!(
            outcome.message.as_deref(),
            Some("already exists; --update would add: queue Billing")
        );
    }
}
