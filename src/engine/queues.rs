//! Why this exists: carrying out a queues file's plans: a queue is created
//! once (a lost answer is checked by name, `duplicate.name` means it
//! exists), and under `--update` written back whole, then its wrap-up codes.

use serde_json::Value;

use crate::engine::apply::{Applied, Applier};
use crate::genesys::{CallError, Reply};
use crate::plan::{
    error_failure, failed_outcome, Change, DivisionTarget, Kind, Outcome, RowLog, Status,
};
use crate::queues::{column_rank, reapply};

impl Applier {
    /// Creates a queue; a lost answer is checked by name before any retry,
    /// and `duplicate.name` means it exists. Retries follow the client's
    /// policy (`max_retries`, `backoff`): a persistent 5xx, 408 or lost
    /// answer ends the row `failed`, naming the last answer.
    pub async fn create_queue(
        &self,
        name: &str,
        body: &Value,
        wrapups: &[(String, String)],
    ) -> Applied {
        let policy = self.client.policy().clone();
        let mut uncertain = None;
        let mut retry = 0;
        let id = loop {
            let last = match self.client.create_queue(body).await {
                Ok(reply) if reply.is_success() => match created_id(&reply) {
                    Some(id) => break id,
                    None => match self.queue_by_name(name).await {
                        Some(id) => break id,
                        None => {
                            return Applied::Done(
                                Outcome::new(Status::Failed)
                                    .with_message("created, but its id was not in the answer"),
                            )
                        }
                    },
                },
                Ok(reply) if reply.error().code.as_deref() == Some("duplicate.name") => {
                    let id = self.queue_by_name(name).await;
                    return Applied::Done(match (uncertain, id) {
                        (Some(why), Some(id)) => Outcome::new(Status::Created)
                            .with_user_id(id)
                            .with_changes(&[Change::Create])
                            .with_message(format!("created; an earlier answer was lost ({why}) and the queue was found by name")),
                        (None, Some(id)) => Outcome::new(Status::Exists)
                            .with_user_id(id)
                            .with_message("already exists (created meanwhile)"),
                        (_, None) => Outcome::new(Status::Failed).with_error(
                            Some(reply.status),
                            reply.error().code,
                            "Genesys says a queue with this name exists, but it cannot be found by name",
                        ),
                    });
                }
                Ok(reply) if reply.status >= 500 || reply.status == 408 => LastAnswer {
                    status: Some(reply.status),
                    code: reply.error().code,
                    message: reply.error_message(),
                },
                Ok(reply) => {
                    return Applied::Done(Outcome::new(Status::Failed).with_error(
                        Some(reply.status),
                        reply.error().code,
                        reply.error_message(),
                    ))
                }
                Err(CallError::OutcomeUnknown(why)) => LastAnswer {
                    status: None,
                    code: None,
                    message: why,
                },
                Err(CallError::Stopped) => {
                    return Applied::Done(Outcome::new(Status::NotAttempted))
                }
                Err(e) => return Applied::Done(failed_outcome(&e, "")),
            };
            uncertain = Some(last.short());
            // Unknown outcome: look by name before sending it again.
            if let Some(id) = self.queue_by_name(name).await {
                break id;
            }
            if retry >= policy.max_retries {
                return Applied::Done(last.gave_up(retry + 1));
            }
            retry += 1;
            if !self.stop.sleep(policy.backoff(retry)).await {
                return Applied::Done(Outcome::new(Status::NotAttempted));
            }
        };
        let mut log = RowLog::new(Kind::Create);
        log.ensured = true;
        log.user_id = Some(id.clone());
        log.done.push(Change::Create);
        self.add_wrapups(&mut log, &id, wrapups).await;
        Applied::Logged(log, None)
    }

    /// Sends the whole queue back with the row applied, adds the missing
    /// wrap-up codes, and moves it to the row's division.
    pub async fn update_queue(
        &self,
        id: &str,
        body: &Value,
        changed: &[&'static str],
        wrapups: &[(String, String)],
        division: Option<&DivisionTarget>,
    ) -> Applied {
        let mut log = RowLog::new(Kind::Update);
        log.user_id = Some(id.to_string());
        if !changed.is_empty() && !self.replace_queue(&mut log, id, body, changed).await {
            return Applied::Logged(log, None);
        }
        if !self.add_wrapups(&mut log, id, wrapups).await {
            return Applied::Logged(log, None);
        }
        if let Some(d) = division {
            match self.client.move_queue(&d.id, id).await {
                Ok(()) => log.done.push(Change::Column(0, "division")),
                Err(CallError::Stopped) => log.stopped_before.push(Change::Column(0, "division")),
                Err(e) => log.fail(error_failure(
                    &e,
                    &format!("moving the queue to division `{}`", d.name),
                )),
            }
        }
        Applied::Logged(log, None)
    }

    /// Re-reads the queue right before the PUT (a queue carries no version
    /// Genesys checks, and the preflight's copy may be minutes old), writes
    /// the row's changed columns into it, and sends it whole. A 409 answer
    /// reads it again, within the client's retry policy. False when the
    /// row must stop here (failed or stopped; logged).
    async fn replace_queue(
        &self,
        log: &mut RowLog,
        id: &str,
        planned: &Value,
        changed: &[&'static str],
    ) -> bool {
        let columns = |cs: &[&'static str]| -> Vec<Change> {
            cs.iter()
                .map(|c| Change::Column(column_rank(c), c))
                .collect()
        };
        let policy = self.client.policy().clone();
        let mut retry = 0;
        loop {
            let mut fresh = match self.client.get_queue(id).await {
                Ok(queue) => queue,
                Err(CallError::Stopped) => {
                    log.stopped_before.extend(columns(changed));
                    return false;
                }
                Err(e) => {
                    log.fail(error_failure(&e, "reading the queue before writing it"));
                    return false;
                }
            };
            let now = reapply(planned, changed, &mut fresh);
            if now.is_empty() {
                // Someone already set what the row says.
                return true;
            }
            match self.client.put_queue(id, &fresh).await {
                Ok(()) => {
                    log.done.extend(columns(&now));
                    return true;
                }
                Err(CallError::Rejected { status: 409, .. }) if retry < policy.max_retries => {
                    retry += 1;
                    tracing::debug!(
                        queue = id,
                        retry,
                        "queue changed meanwhile (409): reading it again"
                    );
                    if !self.stop.sleep(policy.backoff(retry)).await {
                        log.stopped_before.extend(columns(&now));
                        return false;
                    }
                }
                Err(CallError::Stopped) => {
                    log.stopped_before.extend(columns(&now));
                    return false;
                }
                Err(e) => {
                    let context = match &e {
                        CallError::Rejected { status: 409, .. } => format!(
                            "updating the queue (still conflicting after {} attempts)",
                            retry + 1
                        ),
                        _ => "updating the queue".to_string(),
                    };
                    log.fail(error_failure(&e, &context));
                    return false;
                }
            }
        }
    }

    async fn add_wrapups(&self, log: &mut RowLog, id: &str, wrapups: &[(String, String)]) -> bool {
        if wrapups.is_empty() {
            return true;
        }
        let changes: Vec<Change> = wrapups
            .iter()
            .map(|(_, n)| Change::AddWrapup(n.clone()))
            .collect();
        let ids: Vec<String> = wrapups.iter().map(|(i, _)| i.clone()).collect();
        match self.client.add_queue_wrapups(id, &ids).await {
            Ok(()) => {
                log.done.extend(changes);
                true
            }
            Err(CallError::Stopped) => {
                log.stopped_before.extend(changes);
                false
            }
            Err(e) => {
                log.fail(error_failure(&e, "adding wrap-up codes"));
                false
            }
        }
    }

    async fn queue_by_name(&self, name: &str) -> Option<String> {
        match self.client.queues_named(name).await {
            Ok(found) => found.into_iter().next().map(|q| q.id),
            Err(e) => {
                tracing::warn!(error = %e, "cannot look the queue up by name");
                None
            }
        }
    }
}

fn created_id(reply: &Reply) -> Option<String> {
    reply.json::<Value>().ok()?["id"]
        .as_str()
        .map(str::to_string)
}

/// The last answer of a create that may be retried (5xx, 408, lost).
struct LastAnswer {
    status: Option<u16>,
    code: Option<String>,
    message: String,
}

impl LastAnswer {
    fn short(&self) -> String {
        match self.status {
            Some(status) => format!("HTTP {status}"),
            None => self.message.clone(),
        }
    }

    /// The row's result once the retries are spent (no queue was found by name).
    fn gave_up(self, attempts: u32) -> Outcome {
        Outcome::new(Status::Failed).with_error(
            self.status,
            self.code,
            format!(
                "{} (gave up after {attempts} attempts; no queue by this name was found)",
                self.message
            ),
        )
    }
}
