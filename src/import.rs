//! Why this exists: the import itself. Rows become plans (report as-is,
//! create, restore) after a read-only preflight; workers carry out the plans
//! under one pacer and write one result per row. A create whose outcome is
//! unknown is reconciled by email before anything is sent again, so a fault
//! can never produce a duplicate user.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::auth::AuthError;
use crate::client::{CallError, Client, Division, EmailSearch, FoundUser, Reply, SEARCH_BATCH};
use crate::error::StopReason;
use crate::input::{DivisionRef, Row, UserRow};
use crate::report::{Outcome, Record, ResultsSender, Status};
use crate::stop::Stop;
use crate::user::create_user_body;

/// What to do with one row.
#[derive(Debug, Clone)]
pub enum Plan {
    /// Nothing to send: the outcome is already known (invalid, exists).
    Report(Outcome),
    /// Create the user, in this division.
    Create {
        user: UserRow,
        division_id: Option<String>,
    },
    /// The email belongs to a deleted user; restore it (`--restore-deleted`).
    Restore { user: FoundUser },
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

    /// The result in a dry run.
    pub fn dry_run(&self) -> Outcome {
        match self {
            Plan::Report(outcome) => outcome.clone(),
            Plan::Create { .. } => Outcome::new(Status::WouldCreate),
            Plan::Restore { user } => Outcome::new(Status::WouldCreate)
                .with_user_id(&user.id)
                .with_message("would restore the deleted user with this email"),
        }
    }
}

/// A row and its plan.
#[derive(Debug, Clone)]
pub struct Job {
    pub line: u64,
    pub email: Arc<str>,
    pub name: Arc<str>,
    pub plan: Plan,
}

/// Maps a failed preflight or auth call to the reason the run stops.
pub fn stop_reason(error: &CallError, stop: &Stop) -> StopReason {
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
        CallError::Stopped => stop.reason().unwrap_or(StopReason::Interrupted),
        other => StopReason::Unavailable(other.to_string()),
    }
}

/// The read-only preflight: token, divisions, existing users. Returns one
/// plan per row, in input order.
pub async fn preflight(
    client: &Arc<Client>,
    concurrency: usize,
    rows: &[Row],
    default_division: Option<&str>,
    restore_deleted: bool,
) -> Result<Vec<Job>, CallError> {
    client.authenticate().await?;

    let divisions = DivisionResolver::load(client, rows, default_division).await?;
    let mut jobs: Vec<Job> = rows
        .iter()
        .map(|row| {
            let plan = match &row.validated {
                Err(problems) => {
                    Plan::Report(Outcome::new(Status::Invalid).with_message(problems.clone()))
                }
                Ok(user) => match divisions.resolve(user.division.as_ref()) {
                    Err(problem) => {
                        Plan::Report(Outcome::new(Status::Invalid).with_message(problem))
                    }
                    Ok(division_id) => Plan::Create {
                        user: user.clone(),
                        division_id,
                    },
                },
            };
            Job {
                line: row.line,
                email: row.email.clone(),
                name: row.name.clone(),
                plan,
            }
        })
        .collect();

    let to_check: Vec<String> = jobs
        .iter()
        .filter(|j| matches!(j.plan, Plan::Create { .. }))
        .map(|j| j.email.to_lowercase())
        .collect();
    let mut existing: HashMap<String, FoundUser> = HashMap::new();
    let batches = to_check
        .chunks(SEARCH_BATCH)
        .map(<[String]>::to_vec)
        .collect();
    let search = search_all(client, batches, concurrency).await?;
    let mut refused: HashMap<String, CallError> = search.refused.into_iter().collect();
    for user in search.found {
        let Some(email) = user.email.as_deref().map(str::to_lowercase) else {
            continue;
        };
        // A live user wins over a deleted one with the same email.
        if existing.get(&email).is_none_or(FoundUser::is_deleted) {
            existing.insert(email, user);
        }
    }
    tracing::info!(
        checked = to_check.len(),
        existing = existing.len(),
        "preflight: existing users looked up"
    );

    for job in &mut jobs {
        if !matches!(job.plan, Plan::Create { .. }) {
            continue;
        }
        if let Some(error) = refused.remove(&job.email.to_lowercase()) {
            job.plan = Plan::Report(failed_outcome(
                &error,
                "the users search refused this email, so it was not created",
            ));
            continue;
        }
        if let Some(found) = existing.remove(&job.email.to_lowercase()) {
            job.plan = match (found.is_deleted(), restore_deleted) {
                (true, true) => Plan::Restore { user: found },
                _ => Plan::Report(exists_outcome(found)),
            };
        }
    }
    Ok(jobs)
}

/// Runs the existence searches with up to `concurrency` in flight, like the
/// creates after them: a big file's preflight then takes seconds, not minutes.
async fn search_all(
    client: &Arc<Client>,
    batches: Vec<Vec<String>>,
    concurrency: usize,
) -> Result<EmailSearch, CallError> {
    let queue = Arc::new(Mutex::new(batches));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (client, queue) = (Arc::clone(client), Arc::clone(&queue));
        set.spawn(async move {
            let mut all = EmailSearch::default();
            loop {
                let batch = queue.lock().unwrap_or_else(|e| e.into_inner()).pop();
                let Some(batch) = batch else { return Ok(all) };
                let search = client.search_by_emails(&batch).await?;
                all.found.extend(search.found);
                all.refused.extend(search.refused);
            }
        });
    }
    let mut all = EmailSearch::default();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(Ok(search)) => {
                all.found.extend(search.found);
                all.refused.extend(search.refused);
            }
            Ok(Err(e)) => return Err(e),
            Err(e) => return Err(CallError::BadResponse(format!("a search task failed: {e}"))),
        }
    }
    Ok(all)
}

fn exists_outcome(found: FoundUser) -> Outcome {
    let message = if found.is_deleted() {
        "a deleted user has this email (Genesys keeps it reserved); use --restore-deleted to restore it"
    } else {
        match found.state.as_deref() {
            Some("inactive") => "already exists (inactive)",
            _ => "already exists",
        }
    };
    Outcome::new(Status::Exists)
        .with_user_id(found.id)
        .with_message(message)
}

/// Division names and ids, resolved once.
struct DivisionResolver {
    by_id: HashMap<String, String>,
    by_name: HashMap<String, Vec<String>>,
    listed: bool,
    /// The division for rows without one: `--division`, else the home division.
    default: Result<Option<String>, String>,
}

impl DivisionResolver {
    async fn load(
        client: &Client,
        rows: &[Row],
        default_division: Option<&str>,
    ) -> Result<DivisionResolver, CallError> {
        let valid = || rows.iter().filter_map(|r| r.validated.as_ref().ok());
        let needs_listing = default_division.is_some() || valid().any(|u| u.division.is_some());
        let needs_default = valid().any(|u| u.division.is_none());
        let mut resolver = DivisionResolver {
            by_id: HashMap::new(),
            by_name: HashMap::new(),
            listed: false,
            default: Ok(None),
        };
        if needs_listing {
            let all: Vec<Division> = client.all_divisions().await?;
            tracing::info!(divisions = all.len(), "preflight: divisions listed");
            for division in all {
                resolver
                    .by_name
                    .entry(division.name.to_lowercase())
                    .or_default()
                    .push(division.id.clone());
                resolver
                    .by_id
                    .insert(division.id.to_lowercase(), division.id);
            }
            resolver.listed = true;
        }
        if needs_default {
            resolver.default = match default_division {
                Some(given) => resolver
                    .lookup(&DivisionRef::parse(given))
                    .map(Some)
                    .map_err(|e| format!("{e} (from --division)")),
                None => match client.home_division().await {
                    Ok(home) => {
                        tracing::info!(division = %home.name, "rows without a division go to the home division");
                        Ok(Some(home.id))
                    }
                    // Not fatal: Genesys decides where a user without divisionId goes.
                    Err(
                        e @ CallError::Rejected {
                            status: 403 | 404, ..
                        },
                    ) => {
                        tracing::warn!(error = %e, "cannot read the home division; rows without a division are sent without divisionId");
                        Ok(None)
                    }
                    Err(e) => return Err(e),
                },
            };
        }
        Ok(resolver)
    }

    fn lookup(&self, division: &DivisionRef) -> Result<String, String> {
        match division {
            DivisionRef::Id(id) => match self.by_id.get(id) {
                Some(id) => Ok(id.clone()),
                None if !self.listed => Ok(id.clone()),
                None => Err(format!("division: no division with id `{id}`")),
            },
            DivisionRef::Name(name) => {
                match self.by_name.get(&name.to_lowercase()).map(Vec::as_slice) {
                    Some([id]) => Ok(id.clone()),
                    Some([]) | None => Err(format!("division: no division named `{name}`")),
                    Some(_) => Err(format!(
                        "division: more than one division is named `{name}`; use its id"
                    )),
                }
            }
        }
    }

    fn resolve(&self, division: Option<&DivisionRef>) -> Result<Option<String>, String> {
        match division {
            Some(d) => self.lookup(d).map(Some),
            None => self.default.clone(),
        }
    }
}

/// Everything a worker shares with the others.
pub struct Workers {
    pub client: Arc<Client>,
    pub results: ResultsSender,
    pub stop: Stop,
    pub restore_deleted: bool,
    /// Test hook: panic on this line (see `Config::panic_on_line`).
    pub panic_on_line: Option<u64>,
}

impl Workers {
    /// Carries out every job with `concurrency` workers; returns when every
    /// row has its result (or the results file broke). A worker that dies
    /// (a bug) does not lose its row: it is written `failed`, and the run
    /// stops with an internal error.
    pub async fn run(self: Arc<Self>, jobs: Vec<Job>, concurrency: usize) {
        let recorded: Arc<Vec<AtomicBool>> =
            Arc::new(jobs.iter().map(|_| AtomicBool::new(false)).collect());
        let jobs = Arc::new(jobs);
        let next = Arc::new(AtomicUsize::new(0));
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..concurrency.max(1) {
            let this = Arc::clone(&self);
            let jobs = Arc::clone(&jobs);
            let next = Arc::clone(&next);
            let recorded = Arc::clone(&recorded);
            set.spawn(async move { this.work(&jobs, &next, &recorded).await });
        }
        let mut died = None;
        while let Some(joined) = set.join_next().await {
            if let Err(e) = joined {
                tracing::error!(error = %e, "a worker failed (a bug)");
                died.get_or_insert_with(|| e.to_string());
            }
        }
        let Some(why) = died else { return };
        self.stop
            .raise(StopReason::Internal(format!("a worker failed: {why}")));
        for (job, done) in jobs.iter().zip(recorded.iter()) {
            if done.load(Ordering::SeqCst) {
                continue;
            }
            let outcome = Outcome::new(Status::Failed).with_message(
                "internal error while working on this row (a bug); it may or may not have been created: a re-run will check",
            );
            if !self.record(job, outcome) {
                return;
            }
        }
    }

    async fn work(&self, jobs: &[Job], next: &AtomicUsize, recorded: &[AtomicBool]) {
        loop {
            let index = next.fetch_add(1, Ordering::SeqCst);
            let Some(job) = jobs.get(index) else { return };
            if self.panic_on_line == Some(job.line) {
                panic!("test hook: panic on line {}", job.line);
            }
            let outcome = if self.stop.is_raised() {
                job.plan.not_attempted(self.stop.reason().as_ref())
            } else {
                match &job.plan {
                    Plan::Report(outcome) => outcome.clone(),
                    Plan::Create { user, division_id } => {
                        self.create(job, user, division_id.as_deref()).await
                    }
                    Plan::Restore { user } => self.restore(user).await,
                }
            };
            let written = self.record(job, outcome);
            if let Some(done) = recorded.get(index) {
                done.store(true, Ordering::SeqCst);
            }
            if !written {
                return;
            }
        }
    }

    /// Queues one result; false when the results file broke (the run stops).
    pub fn record(&self, job: &Job, outcome: Outcome) -> bool {
        tracing::debug!(
            line = job.line,
            email = %job.email,
            outcome = outcome.status.as_str(),
            status = outcome.http_status,
            code = outcome.error_code.as_deref().unwrap_or(""),
            user_id = outcome.user_id.as_deref().unwrap_or(""),
            "row"
        );
        self.results.send(Record {
            line: job.line,
            email: job.email.clone(),
            name: job.name.clone(),
            outcome,
        })
    }

    fn halt(&self, error: &CallError) -> Outcome {
        let reason = stop_reason(error, &self.stop);
        tracing::error!(reason = %reason.describe(), "stopping the run");
        self.stop.raise(reason);
        Outcome::new(Status::NotAttempted)
    }

    async fn create(&self, job: &Job, user: &UserRow, division_id: Option<&str>) -> Outcome {
        let body = match serde_json::to_vec(&create_user_body(user, division_id)) {
            Ok(b) => b,
            Err(e) => {
                return Outcome::new(Status::Failed)
                    .with_message(format!("cannot encode the request: {e}"))
            }
        };
        let max_retries = self.client.policy().max_retries;
        let mut retry: u32 = 0;
        // Why an earlier attempt's outcome is unknown, if one is.
        let mut uncertain: Option<String> = None;
        loop {
            let unknown = match self.client.create_user(&body).await {
                Ok(reply) => match classify_create(&reply) {
                    Verdict::Created(id) => {
                        let outcome = Outcome::new(Status::Created);
                        return match id {
                            Some(id) => outcome.with_user_id(id),
                            None => self.with_looked_up_id(outcome, &job.email).await,
                        };
                    }
                    Verdict::CreatedWithWarning => {
                        let error = reply.error();
                        let outcome = Outcome::new(Status::Created).with_error(
                            Some(reply.status),
                            error.code.clone(),
                            format!("user created, but: {}", reply.error_message()),
                        );
                        return match error.entity_id {
                            Some(id) => outcome.with_user_id(id),
                            None => self.with_looked_up_id(outcome, &job.email).await,
                        };
                    }
                    Verdict::Conflict => {
                        return self.conflict(job, &reply, uncertain.as_deref()).await
                    }
                    Verdict::Forbidden => {
                        let error = reply.error();
                        let message = reply.error_message();
                        self.stop.raise(StopReason::PermissionRefused(format!(
                            "{message} ({})",
                            error.code.as_deref().unwrap_or("403")
                        )));
                        return Outcome::new(Status::Failed).with_error(
                            Some(403),
                            error.code,
                            message,
                        );
                    }
                    Verdict::Failed => {
                        let error = reply.error();
                        return Outcome::new(Status::Failed).with_error(
                            Some(reply.status),
                            error.code,
                            reply.error_message(),
                        );
                    }
                    Verdict::Unknown => format!("HTTP {}: {}", reply.status, reply.error_message()),
                },
                Err(CallError::OutcomeUnknown(message)) => message,
                Err(CallError::Stopped) => return self.stopped(uncertain.as_deref()),
                Err(e @ (CallError::Auth(_) | CallError::Unauthorized(_))) => {
                    let outcome = self.halt(&e);
                    return match uncertain {
                        Some(why) => outcome.with_message(format!(
                            "an earlier attempt's outcome is unknown ({why}); a re-run will check"
                        )),
                        None => outcome,
                    };
                }
                Err(e) => return failed_outcome(&e, ""),
            };

            // The create may have happened. Look before sending it again.
            tracing::warn!(line = job.line, email = %job.email, error = %unknown, "create outcome unknown; checking by email");
            uncertain = Some(unknown.clone());
            match self.client.find_by_email(&job.email).await {
                Ok(Some(found)) if !found.is_deleted() => {
                    return Outcome::new(Status::Created)
                        .with_user_id(found.id)
                        .with_message(format!("created; the response was lost ({unknown}) and the user was found by email"));
                }
                Ok(_) if retry < max_retries => {
                    retry += 1;
                    let wait = self.client.policy().backoff(retry);
                    tracing::info!(line = job.line, retry, wait_ms = wait.as_millis() as u64, "not found by email; creating again");
                    if !self.stop.sleep(wait).await {
                        return self.stopped(uncertain.as_deref());
                    }
                }
                Ok(_) => {
                    return Outcome::new(Status::Failed).with_message(format!(
                        "outcome unknown after {} attempts ({unknown}); not found by email, so not created as far as search shows; a re-run will check again",
                        retry + 1
                    ))
                }
                Err(CallError::Stopped) => return self.stopped(uncertain.as_deref()),
                Err(e) => {
                    return Outcome::new(Status::Failed)
                        .with_message(format!("outcome unknown ({unknown}) and the check by email failed ({e}); a re-run will check again"))
                }
            }
        }
    }

    /// `general.conflict`: the email is taken. By this run's own earlier
    /// attempt (then it is `created`), by a live user, or by a deleted one.
    async fn conflict(&self, job: &Job, reply: &Reply, uncertain: Option<&str>) -> Outcome {
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
            // `created` only when a live user with this email is there to show
            // for it; anything else is said as it is known.
            return match found {
                Some(user) if !user.is_deleted() => Outcome::new(Status::Created)
                    .with_user_id(user.id)
                    .with_message(format!(
                        "created; an earlier response was lost ({why}), the retry found the email taken and search shows the user"
                    )),
                Some(user) => exists_outcome(user),
                None => Outcome::new(Status::Failed).with_error(
                    Some(reply.status),
                    error.code,
                    format!(
                        "outcome unknown: an earlier response was lost ({why}) and the retry found the email taken, but no user with it is visible to search{}; a re-run will check",
                        if self.client.search_sees_deleted() { "" } else { " (search here cannot show deleted users, which keep their email)" }
                    ),
                ),
            };
        }
        match found {
            Some(user) if user.is_deleted() && self.restore_deleted => self.restore(&user).await,
            Some(user) => exists_outcome(user),
            None => Outcome::new(Status::Exists).with_error(
                Some(reply.status),
                None,
                format!(
                    "email already in use ({}); the user is not visible to search yet",
                    error.code.as_deref().unwrap_or("conflict")
                ),
            ),
        }
    }

    async fn restore(&self, user: &FoundUser) -> Outcome {
        let Some(version) = user.version else {
            return Outcome::new(Status::Failed)
                .with_user_id(&user.id)
                .with_message("cannot restore the deleted user: its version is unknown");
        };
        match self.client.restore_user(&user.id, version).await {
            Ok(reply) if reply.is_success() => Outcome::new(Status::Created)
                .with_user_id(&user.id)
                .with_message("restored the deleted user with this email"),
            Ok(reply) => {
                let error = reply.error();
                Outcome::new(Status::Failed)
                    .with_user_id(&user.id)
                    .with_error(
                        Some(reply.status),
                        error.code,
                        format!("cannot restore the deleted user: {}", reply.error_message()),
                    )
            }
            Err(CallError::Stopped) => Outcome::new(Status::NotAttempted),
            Err(e @ (CallError::Auth(_) | CallError::Unauthorized(_))) => self.halt(&e),
            Err(e) => Outcome::new(Status::Failed)
                .with_user_id(&user.id)
                .with_message(format!(
                    "restoring the deleted user: {e}; a re-run will check"
                )),
        }
    }

    /// The row was not (or not knowingly) sent because the run stopped.
    fn stopped(&self, uncertain: Option<&str>) -> Outcome {
        let outcome = Outcome::new(Status::NotAttempted);
        match (uncertain, self.stop.reason()) {
            (Some(why), _) => outcome.with_message(format!(
                "stopped; an earlier attempt's outcome was unknown ({why}) and the user was not found by email; a re-run will check"
            )),
            (None, Some(reason)) => {
                outcome.with_message(format!("not sent: the run stopped ({})", reason.describe()))
            }
            (None, None) => outcome,
        }
    }

    async fn with_looked_up_id(&self, outcome: Outcome, email: &str) -> Outcome {
        match self.client.find_by_email(email).await {
            Ok(Some(user)) => outcome.with_user_id(user.id),
            _ => outcome,
        }
    }
}

/// A row that got a final answer other than success, as its outcome.
fn failed_outcome(error: &CallError, context: &str) -> Outcome {
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

/// What a reply to `POST /api/v2/users` means.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Created(Option<String>),
    /// The user exists but a follow-up (the password) failed.
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
    }
    let code = reply.error().code;
    match (reply.status, code.as_deref()) {
        (200..=299, _) => Verdict::Created(
            serde_json::from_slice::<Created>(&reply.body)
                .ok()
                .and_then(|c| c.id),
        ),
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
                Verdict::Created(Some("u1".into())),
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
}
