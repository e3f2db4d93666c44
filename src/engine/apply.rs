//! Why this exists: carrying out one row's plan against Genesys. Creates are
//! never resent blindly: an unknown outcome is checked by email first, so a
//! fault can never produce a duplicate. Updates are versioned PATCHes that
//! re-read the user on a version conflict instead of overwriting a newer
//! edit. Every step lands in the row's `RowLog`.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use crate::error::StopReason;
use crate::genesys::users::User;
use crate::genesys::{CallError, Client, Reply};
use crate::input::{MatchKey, UserRow};
use crate::plan::{
    error_failure, exists_outcome, failed_outcome, password_note, reply_failure, reply_outcome,
    stop_reason, Change, DivisionTarget, Failure, Job, Kind, Outcome, RoleGrant, RowLog, Status,
    Steps,
};
use crate::stop::Stop;
use crate::users::create_user_body;
use crate::users::diff::{self, Patch};
use crate::users::follow_up_fields;

/// Version conflicts tolerated per PATCH before the row gives up.
const MAX_VERSION_RETRIES: u32 = 3;

/// What a row still has to do after the barrier: steps that batch across
/// users or need every user to exist (a manager created in this run).
#[derive(Debug, Clone)]
pub struct Followup {
    /// The user as the row's own steps left it (id, version).
    pub user: User,
    pub steps: Steps,
    pub move_to: Option<DivisionTarget>,
    /// A new user's employer info (not in `CreateUser`).
    pub employer: bool,
}

impl Followup {
    fn is_empty(&self) -> bool {
        !self.employer && self.move_to.is_none() && self.steps.is_empty()
    }
}

/// What a row came to after its own steps.
pub enum Applied {
    /// Final: write it.
    Done(Outcome),
    /// Final unless follow-ups remain (after the barrier).
    Logged(RowLog, Option<Box<Followup>>),
}

impl Applied {
    /// The row's log, held for the barrier only if something follows.
    fn logged(log: RowLog, follow: Followup) -> Applied {
        let follow = (!follow.is_empty()).then(|| Box::new(follow));
        Applied::Logged(log, follow)
    }
}

pub struct Applier {
    pub client: Arc<Client>,
    /// Lost creates are checked by email through this (shared searches).
    pub checks: Arc<crate::genesys::checks::EmailChecks>,
    pub stop: Stop,
    pub restore_deleted: bool,
    pub key: MatchKey,
    /// The Employee role in the home division, read once when a restore
    /// needs it (Genesys does not give a restored user its roles back).
    pub employee: tokio::sync::OnceCell<Option<RoleGrant>>,
}

impl Applier {
    /// Creates the user; what follows (employer info, manager, roles...)
    /// waits for the barrier.
    pub async fn create(
        &self,
        job: &Job,
        row: &UserRow,
        division_id: Option<&str>,
        steps: &Steps,
    ) -> Applied {
        let Made {
            user,
            warning,
            note,
        } = match self.create_user(job, row, division_id, steps).await {
            Ensured::Made(made) => *made,
            Ensured::Finished(applied) => return applied,
        };
        let mut log = RowLog::new(Kind::Create);
        log.notes.extend(note);
        log.ensured = true;
        log.user_id = (!user.id.is_empty()).then(|| user.id.clone());
        log.done.push(Change::Create);
        // A part of the create failed (the password): recorded, and the
        // row's other steps are still done.
        log.failures.extend(warning);
        if user.id.is_empty() {
            let lost = crate::plan::changes_cell(&steps.changes());
            log.fail(Failure::message(format!(
                "the user's id is unknown (not in the answer, not yet visible to search), so its other steps were not done{}; a re-run with --update completes it",
                if lost.is_empty() { String::new() } else { format!(" ({lost})") }
            )));
            return Applied::Logged(log, None);
        }
        Applied::logged(
            log,
            Followup {
                user,
                steps: steps.clone(),
                move_to: None,
                employer: follow_up_fields(row).next().is_some(),
            },
        )
    }

    /// Brings an existing (or deleted, with `restore`) user in line with the
    /// row. Each write is a step of its own: a refused state change does not
    /// hold back the profile or the follow-ups. Only a failed restore ends
    /// the row (a deleted user takes no other change).
    pub async fn update(
        &self,
        row: &UserRow,
        existing: User,
        restore: bool,
        division: Option<&DivisionTarget>,
        steps: &Steps,
    ) -> Applied {
        let mut user = existing;
        let mut log = RowLog::new(Kind::Update);
        log.user_id = Some(user.id.clone());
        log.notes.extend(password_note(row).map(str::to_string));
        let mut steps = steps.clone();
        if restore {
            let body = diff::restore_patch(row);
            let restored = self
                .patch(&mut log, &mut user, &|u: &User| {
                    let mut patch = Patch::default();
                    if u.is_deleted() {
                        patch.body = body.clone();
                    }
                    patch
                })
                .await;
            if !restored {
                return Applied::Logged(log, None);
            }
            log.done.insert(0, Change::Restore);
            // A restored user gets no role back (docs/genesys-api.md#restored-users).
            match self.employee_grant().await {
                Some(grant) if !steps.roles.iter().any(|r| r.role_id == grant.role_id) => {
                    steps.roles.insert(0, grant)
                }
                Some(_) => {}
                None => log.fail(Failure::message(
                    "restored, but the org's default role could not be found to grant it again",
                )),
            }
        }
        if !restore {
            self.patch(&mut log, &mut user, &|u| diff::state_patch(row, u))
                .await;
        }
        if log.stopped_before.is_empty() {
            self.patch(&mut log, &mut user, &|u| {
                diff::profile_patch(row, u, self.key)
            })
            .await;
        }
        if !log.stopped_before.is_empty() {
            log.stopped_before.extend(steps.changes());
            return Applied::Logged(log, None);
        }
        let move_to = division
            .filter(|d| user.division_id() != Some(d.id.as_str()))
            .cloned();
        Applied::logged(
            log,
            Followup {
                user,
                steps,
                move_to,
                employer: false,
            },
        )
    }

    /// The org's default role (the one Genesys marks `default`, normally
    /// Employee, whatever it is named) in the home division, as a grant
    /// (read once a run).
    async fn employee_grant(&self) -> Option<RoleGrant> {
        self.employee
            .get_or_init(|| async {
                let roles = self.client.roles_for_removal().await.ok()?;
                let id = roles.defaults.iter().min()?.clone();
                let name = roles
                    .counts
                    .get(&id)
                    .map(|(name, _)| name.clone())
                    .unwrap_or_else(|| id.clone());
                let home = self.client.home_division().await.ok()?;
                Some(RoleGrant {
                    role_id: id,
                    label: format!("{name}@{}", home.name),
                    division_id: home.id,
                })
            })
            .await
            .clone()
    }

    /// Sends `build(user)` as a versioned PATCH until it is applied. On a
    /// version conflict, or an answer that is lost or timed out (408: the
    /// PATCH may have landed), the user is read again and the patch rebuilt
    /// from what it holds now: a newer edit is never overwritten blindly,
    /// and what the re-read shows done is reported done. The answer of a
    /// PATCH is merged into `user` (the row's one snapshot), never put in
    /// its place. False when the step failed (the failure is in `log`).
    pub async fn patch(
        &self,
        log: &mut RowLog,
        user: &mut User,
        build: &(dyn Fn(&User) -> Patch + Sync),
    ) -> bool {
        // Fields of a PATCH whose outcome is unknown: done if a re-read shows them.
        let mut unknown: Vec<Change> = Vec::new();
        let tries = MAX_VERSION_RETRIES;
        for attempt in 0..=tries {
            let patch = build(user);
            let changes: Vec<Change> = patch.fields.iter().copied().map(Change::Field).collect();
            if patch.body.is_empty() {
                log.done.append(&mut unknown);
                return true;
            }
            if user.version.is_none() {
                // A user known only from a partial answer: read it whole first.
                if let Ok(fresh) = self.reread(user).await {
                    *user = fresh;
                    continue;
                }
            }
            let Some(version) = user.version else {
                log.fail(Failure::message(
                    "the user's version is unknown, so it cannot be changed safely",
                ));
                return false;
            };
            let mut body: Map<String, Value> = patch.body;
            body.insert("version".into(), json!(version));
            match self.client.patch_user(&user.id, &Value::Object(body)).await {
                Ok(reply) if reply.is_success() => {
                    crate::users::snapshot::merge_answer(user, &reply.body, true);
                    // What an earlier, unknown attempt did and this one did not resend.
                    unknown.retain(|c| !changes.contains(c));
                    log.done.append(&mut unknown);
                    log.done.extend(changes);
                    return true;
                }
                Ok(reply) if reply.status == 408 => {
                    tracing::warn!(user = %user.id, "update timed out (408); reading the user again");
                    merge_unknown(&mut unknown, changes);
                }
                Ok(reply) if is_version_conflict(&reply) => {}
                Ok(reply) => {
                    if reply.status == 403 {
                        self.stop_for_permission(&reply);
                    }
                    log.fail(reply_failure(&reply, "updating the user"));
                    return false;
                }
                Err(CallError::OutcomeUnknown(why)) => {
                    tracing::warn!(user = %user.id, error = %why, "update outcome unknown; reading the user again");
                    merge_unknown(&mut unknown, changes);
                }
                Err(CallError::Stopped) => {
                    log.stopped_before.extend(changes);
                    return false;
                }
                Err(e @ (CallError::Auth(_) | CallError::Unauthorized(_))) => {
                    self.halt(&e);
                    log.stopped_before.extend(changes);
                    return false;
                }
                Err(e) => {
                    log.fail(error_failure(&e, "updating the user"));
                    return false;
                }
            }
            if attempt == tries {
                break;
            }
            if !self
                .reread_for_patch(log, user, build, unknown.is_empty())
                .await
            {
                return false;
            }
        }
        log.fail(gave_up(&unknown, tries));
        false
    }

    /// The user read again after a conflict or an unknown outcome, into
    /// `user`. False when the step ends here (the failure is in `log`).
    async fn reread_for_patch(
        &self,
        log: &mut RowLog,
        user: &mut User,
        build: &(dyn Fn(&User) -> Patch + Sync),
        nothing_unknown: bool,
    ) -> bool {
        match self.reread(user).await {
            // The version did not move: not a version conflict after all
            // (an email already in use answers 409 too).
            Ok(fresh) if fresh.version == user.version && nothing_unknown => {
                log.fail(Failure {
                    http_status: Some(409),
                    code: Some("general.conflict".into()),
                    message: "Genesys refused the change as a conflict (an email already in use?)"
                        .into(),
                });
                false
            }
            Ok(fresh) => {
                *user = fresh;
                true
            }
            Err(CallError::Stopped) => {
                log.stopped_before
                    .extend(build(user).fields.into_iter().map(Change::Field));
                false
            }
            Err(e) => {
                log.fail(error_failure(
                    &e,
                    "reading the user again after a version conflict",
                ));
                false
            }
        }
    }

    /// The user read again, whole. A deleted user (a restore in progress)
    /// is read with `state=deleted`, else Genesys answers 404; if it was
    /// restored meanwhile, the plain read finds it.
    async fn reread(&self, user: &User) -> Result<User, CallError> {
        if user.is_deleted() {
            match self.client.get_deleted_user(&user.id).await {
                Err(CallError::Rejected { status: 404, .. }) => {}
                other => return other,
            }
        }
        self.client.get_user(&user.id).await
    }

    /// `POST /api/v2/users` until its outcome is known. `Ok`: the user
    /// (id and version) and a warning when a part of the create failed
    /// (the password). `Err`: the row's final answer.
    async fn create_user(
        &self,
        job: &Job,
        row: &UserRow,
        division_id: Option<&str>,
        steps: &Steps,
    ) -> Ensured {
        let done = |outcome: Outcome| Ensured::finished(Applied::Done(outcome));
        let body = match serde_json::to_vec(&create_user_body(row, division_id)) {
            Ok(b) => b,
            Err(e) => {
                return done(
                    Outcome::new(Status::Failed)
                        .with_message(format!("cannot encode the request: {e}")),
                )
            }
        };
        let mut retry: u32 = 0;
        // Why an earlier attempt's outcome is unknown, if one is.
        let mut uncertain: Option<String> = None;
        loop {
            let unknown = match self.client.create_user(&body).await {
                Ok(reply) => match classify_create(&reply) {
                    Verdict::Created { id, version } => {
                        return self
                            .created(job, row, id, version, uncertain.as_deref())
                            .await
                    }
                    Verdict::CreatedWithWarning => {
                        return self.created_with_warning(job, row, &reply).await
                    }
                    Verdict::Conflict => {
                        let taken = Taken {
                            reply: &reply,
                            uncertain: uncertain.as_deref(),
                            division_id,
                            steps,
                        };
                        return self.conflict(job, row, taken).await;
                    }
                    Verdict::Forbidden => {
                        self.stop_for_permission(&reply);
                        return done(reply_outcome(&reply));
                    }
                    Verdict::Failed => return done(reply_outcome(&reply)),
                    Verdict::Unknown => format!("HTTP {}: {}", reply.status, reply.error_message()),
                },
                Err(CallError::OutcomeUnknown(message)) => message,
                Err(e) => return done(self.create_error(&e, uncertain.as_deref())),
            };
            uncertain = Some(unknown.clone());
            if let Some(ended) = self.check_lost_create(job, &unknown, &mut retry).await {
                return ended;
            }
        }
    }

    /// A 2xx to the create: the new user, or (no id in the answer) the
    /// user search shows.
    async fn created(
        &self,
        job: &Job,
        row: &UserRow,
        id: Option<String>,
        version: Option<i64>,
        uncertain: Option<&str>,
    ) -> Ensured {
        let id = match id {
            Some(id) => id,
            // The user exists: its steps need its id, which search shows
            // (after a lag). An empty id ends the row `incomplete`.
            None => {
                return match self.look_up_created(&job.email).await {
                    Some(found) => Ensured::made(found, None, None),
                    None => Ensured::made(fresh_user(row, String::new(), version), None, None),
                };
            }
        };
        let note = uncertain.map(|why| {
            format!("created on a later attempt; an earlier one's answer was lost ({why}) and search did not show it")
        });
        Ensured::made(fresh_user(row, id, version), None, note)
    }

    /// The user exists but a part of the create (the password) failed.
    async fn created_with_warning(&self, job: &Job, row: &UserRow, reply: &Reply) -> Ensured {
        let error = reply.error();
        let warning = Failure {
            http_status: Some(reply.status),
            code: error.code.clone(),
            message: format!("the user was created, but: {}", reply.error_message()),
        };
        let user = match error.entity_id {
            Some(id) => fresh_user(row, id, None),
            None => self
                .look_up_created(&job.email)
                .await
                .unwrap_or_else(|| fresh_user(row, String::new(), None)),
        };
        Ensured::made(user, Some(warning), None)
    }

    /// A create that ended in an error with a known outcome (not sent, or refused).
    fn create_error(&self, error: &CallError, uncertain: Option<&str>) -> Outcome {
        match error {
            CallError::Stopped => self.stopped(uncertain),
            CallError::Auth(_) | CallError::Unauthorized(_) => {
                self.halt(error);
                let outcome = Outcome::new(Status::NotAttempted);
                match uncertain {
                    Some(why) => outcome.with_message(format!(
                        "an earlier attempt's outcome is unknown ({why}); a re-run will check"
                    )),
                    None => outcome,
                }
            }
            other => failed_outcome(other, ""),
        }
    }

    /// The create may have happened: look by email before sending it again.
    /// `None`: not found, send again.
    async fn check_lost_create(
        &self,
        job: &Job,
        unknown: &str,
        retry: &mut u32,
    ) -> Option<Ensured> {
        let done = |outcome: Outcome| Some(Ensured::finished(Applied::Done(outcome)));
        tracing::warn!(line = job.line, email = %job.email, error = %unknown, "create outcome unknown; checking by email");
        match self.checks.find(&job.email).await {
            Ok(Some(found)) if !found.is_deleted() => {
                let note = format!("created; the response was lost ({unknown}) and the user was found by email");
                Some(Ensured::made(found, None, Some(note)))
            }
            Ok(_) if *retry < self.client.policy().max_retries => {
                *retry += 1;
                let wait = self.client.policy().backoff(*retry);
                tracing::info!(line = job.line, retry = *retry, wait_ms = wait.as_millis() as u64, "not found by email; creating again");
                if !self.stop.sleep(wait).await {
                    return done(self.stopped(Some(unknown)));
                }
                None
            }
            Ok(_) => done(Outcome::new(Status::Failed).with_message(format!(
                "outcome unknown after {} attempts ({unknown}); not found by email, so not created as far as search shows; a re-run will check again",
                *retry + 1
            ))),
            Err(CallError::Stopped) => done(self.stopped(Some(unknown))),
            Err(e) => done(Outcome::new(Status::Failed).with_message(format!(
                "outcome unknown ({unknown}) and the check by email failed ({e}); a re-run will check again"
            ))),
        }
    }

    /// `general.conflict`: the email is taken. By this run's own earlier
    /// attempt (the user is then this row's, and gets its steps), by a live
    /// user, or by a deleted one (restored with `--restore-deleted`, and
    /// the whole row applied to it).
    async fn conflict(&self, job: &Job, row: &UserRow, taken: Taken<'_>) -> Ensured {
        let Taken {
            reply,
            uncertain,
            division_id,
            steps,
        } = taken;
        let done = Ensured::finished;
        let error = reply.error();
        let found = match self.client.find_by_email(&job.email).await {
            Ok(found) => found,
            Err(CallError::Stopped) => None,
            Err(e) => {
                tracing::warn!(line = job.line, error = %e, "cannot look up the existing user");
                None
            }
        };
        if let Some(why) = uncertain {
            return match found {
                Some(user) if !user.is_deleted() => {
                    let note = format!(
                        "created; an earlier response was lost ({why}), the retry found the email taken and search shows the user"
                    );
                    Ensured::made(user, None, Some(note))
                }
                Some(user) => done(Applied::Done(exists_outcome(&user, None))),
                None => done(Applied::Done(Outcome::new(Status::Failed).with_error(
                    Some(reply.status),
                    error.code,
                    format!(
                        "outcome unknown: an earlier response was lost ({why}) and the retry found the email taken, but no user with it is visible to search{}; a re-run will check",
                        if self.client.search_sees_deleted() {
                            ""
                        } else {
                            " (search here cannot show deleted users, which keep their email)"
                        }
                    ),
                ))),
            };
        }
        match found {
            Some(user) if user.is_deleted() && self.restore_deleted => {
                let division = division_id.map(|id| DivisionTarget {
                    id: id.to_string(),
                    name: match &row.division {
                        Some(crate::input::DivisionRef::Name(name)) => name.clone(),
                        _ => id.to_string(),
                    },
                });
                let mut applied =
                    Box::pin(self.update(row, user, true, division.as_ref(), steps)).await;
                if let Applied::Logged(log, _) = &mut applied {
                    log.notes.push(
                        "the email belonged to a deleted user that search did not show; it was restored and the whole row applied to it".into(),
                    );
                }
                done(applied)
            }
            Some(user) => done(Applied::Done(exists_outcome(&user, None))),
            None => done(Applied::Done(Outcome::new(Status::Exists).with_error(
                Some(reply.status),
                None,
                format!(
                    "email already in use ({}); the user is not visible to search yet",
                    error.code.as_deref().unwrap_or("conflict")
                ),
            ))),
        }
    }

    /// A user this run created, by email: search lags behind a create, so
    /// it is asked again with the client's back-off, at most its retries.
    async fn look_up_created(&self, email: &str) -> Option<User> {
        let policy = self.client.policy();
        for retry in 0..=policy.max_retries {
            if retry > 0 && !self.stop.sleep(policy.backoff(retry)).await {
                return None;
            }
            match self.client.find_by_email(email).await {
                Ok(Some(found)) if !found.is_deleted() => return Some(found),
                Err(CallError::Stopped) => return None,
                _ => {}
            }
        }
        None
    }

    fn stop_for_permission(&self, reply: &Reply) {
        let error = reply.error();
        self.stop.raise(StopReason::PermissionRefused(format!(
            "{} ({})",
            reply.error_message(),
            error.code.as_deref().unwrap_or("403")
        )));
    }

    fn halt(&self, error: &CallError) {
        let reason = stop_reason(error, &self.stop);
        tracing::error!(reason = %reason, "stopping the run");
        self.stop.raise(reason);
    }

    /// The row was not (or not knowingly) sent because the run stopped.
    fn stopped(&self, uncertain: Option<&str>) -> Outcome {
        let outcome = Outcome::new(Status::NotAttempted);
        match (uncertain, self.stop.reason()) {
            (Some(why), _) => outcome.with_message(format!(
                "stopped; an earlier attempt's outcome was unknown ({why}) and the user was not found by email; a re-run will check"
            )),
            (None, Some(reason)) => {
                outcome.with_message(format!("not sent: the run stopped ({})", reason))
            }
            (None, None) => outcome,
        }
    }
}

/// A create refused because the email is taken, and what the row needs
/// to carry on with whoever holds it.
struct Taken<'a> {
    reply: &'a Reply,
    uncertain: Option<&'a str>,
    division_id: Option<&'a str>,
    steps: &'a Steps,
}

/// What ensuring a new user gives.
enum Ensured {
    /// The user exists: its steps follow.
    Made(Box<Made>),
    /// The row's final answer (failed, exists, stopped...).
    Finished(Applied),
}

/// A user the create made (or found made), and what the row says of it.
struct Made {
    user: User,
    /// The create succeeded only in part (the password).
    warning: Option<Failure>,
    /// How the user was found, when the create's answer was lost.
    note: Option<String>,
}

impl Ensured {
    fn made(user: User, warning: Option<Failure>, note: Option<String>) -> Ensured {
        Ensured::Made(Box::new(Made {
            user,
            warning,
            note,
        }))
    }

    fn finished(applied: Applied) -> Ensured {
        Ensured::Finished(applied)
    }
}

/// The user a create made, as far as the row and the answer tell.
fn fresh_user(row: &UserRow, id: String, version: Option<i64>) -> User {
    User {
        id,
        name: Some(row.name.to_string()),
        email: Some(row.email.to_string()),
        version,
        title: row.title.value().cloned(),
        department: row.department.value().cloned(),
        ..User::default()
    }
}

/// Why a PATCH gave up after `tries` re-reads: its outcome stayed unknown,
/// or the user kept changing.
fn gave_up(unknown: &[Change], tries: u32) -> Failure {
    if !unknown.is_empty() {
        return Failure::message(format!(
            "updating the user: the outcome of changing {} stayed unknown; a re-run with --update will check",
            crate::plan::changes_cell(unknown)
        ));
    }
    Failure {
        http_status: Some(409),
        code: Some("general.conflict".into()),
        message: format!(
            "the user kept changing while it was updated (version conflict {} times); a re-run will try again",
            tries + 1
        ),
    }
}

/// Adds a PATCH's fields to those whose outcome is unknown.
fn merge_unknown(unknown: &mut Vec<Change>, changes: Vec<Change>) {
    for change in changes {
        if !unknown.contains(&change) {
            unknown.push(change);
        }
    }
}

/// Genesys' version-mismatch answers (the Terraform provider's rule: 409,
/// or 400 "does not match the current version"). A 408 is not one: the
/// PATCH may have landed, so its outcome is unknown (see `Applier::patch`).
fn is_version_conflict(reply: &Reply) -> bool {
    match reply.status {
        409 => true,
        400 => reply
            .error_message()
            .contains("does not match the current version"),
        _ => false,
    }
}

/// What a reply to `POST /api/v2/users` means.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Created {
        id: Option<String>,
        version: Option<i64>,
    },
    /// The user exists but a part of the create (the password) failed.
    CreatedWithWarning,
    Conflict,
    Forbidden,
    /// The request may or may not have been applied.
    Unknown,
    Failed,
}

pub fn classify_create(reply: &Reply) -> Verdict {
    #[derive(serde::Deserialize)]
    struct Created {
        id: Option<String>,
        version: Option<i64>,
    }
    let code = reply.error().code;
    match (reply.status, code.as_deref()) {
        (200..=299, _) => match serde_json::from_slice::<Created>(&reply.body) {
            Ok(c) => Verdict::Created {
                id: c.id,
                version: c.version,
            },
            Err(_) => Verdict::Created {
                id: None,
                version: None,
            },
        },
        (400, Some("invalid.password")) | (500, Some("unable.to.set.password")) => {
            Verdict::CreatedWithWarning
        }
        (400 | 409, Some("general.conflict")) | (409, _) => Verdict::Conflict,
        (403, _) => Verdict::Forbidden,
        (408 | 500..=599, _) => Verdict::Unknown,
        _ => Verdict::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, body: &str) -> Reply {
        Reply {
            status,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn create_replies_are_classified_by_the_documented_codes() {
        let cases = [
            (
                200,
                r#"{"id":"u1","version":1}"#,
                Verdict::Created {
                    id: Some("u1".into()),
                    version: Some(1),
                },
            ),
            (409, r#"{"code":"general.conflict"}"#, Verdict::Conflict),
            (400, r#"{"code":"general.conflict"}"#, Verdict::Conflict),
            (
                400,
                r#"{"code":"invalid.password"}"#,
                Verdict::CreatedWithWarning,
            ),
            (
                500,
                r#"{"code":"unable.to.set.password"}"#,
                Verdict::CreatedWithWarning,
            ),
            (500, r#"{"code":"internal.server.error"}"#, Verdict::Unknown),
            (503, "", Verdict::Unknown),
            (403, r#"{"code":"missing.permissions"}"#, Verdict::Forbidden),
            (400, r#"{"code":"invalid.value"}"#, Verdict::Failed),
        ];
        for (status, body, expected) in cases {
            assert_eq!(
                classify_create(&reply(status, body)),
                expected,
                "{status} {body}"
            );
        }
    }

    #[test]
    fn version_conflicts_follow_the_terraform_rule() {
        assert!(is_version_conflict(&reply(
            409,
            r#"{"code":"general.conflict"}"#
        )));
        assert!(is_version_conflict(&reply(
            400,
            r#"{"code":"general.conflict","message":"The version supplied does not match the current version of the user"}"#
        )));
        assert!(!is_version_conflict(&reply(
            400,
            r#"{"code":"invalid.value"}"#
        )));
    }
}
