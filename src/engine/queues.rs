//! Why this exists: carrying out a queues file's plans: a queue is created
//! once (a lost answer is checked by name, `duplicate.name` means it
//! exists), and under `--update` written back whole, then its wrap-up codes.

use serde_json::Value;

use crate::engine::apply::{Applied, Applier};
use crate::genesys::{CallError, Reply};
use crate::plan::{
    error_failure, failed_outcome, Change, DivisionTarget, Kind, Outcome, RowLog, Status,
};
use crate::queues::column_rank;

impl Applier {
    /// Creates a queue; a lost answer is checked by name before any retry,
    /// and `duplicate.name` means it exists.
    pub async fn create_queue(
        &self,
        name: &str,
        body: &Value,
        wrapups: &[(String, String)],
    ) -> Applied {
        let mut uncertain = None;
        let id = loop {
            match self.client.create_queue(body).await {
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
                Ok(reply) if reply.status >= 500 || reply.status == 408 => {
                    uncertain = Some(format!("HTTP {}", reply.status));
                }
                Ok(reply) => {
                    return Applied::Done(Outcome::new(Status::Failed).with_error(
                        Some(reply.status),
                        reply.error().code,
                        reply.error_message(),
                    ))
                }
                Err(CallError::OutcomeUnknown(why)) => uncertain = Some(why),
                Err(CallError::Stopped) => {
                    return Applied::Done(Outcome::new(Status::NotAttempted))
                }
                Err(e) => return Applied::Done(failed_outcome(&e, "")),
            }
            // Unknown outcome: look by name before sending it again.
            if let Some(id) = self.queue_by_name(name).await {
                break id;
            }
            if !self.stop.sleep(self.client.policy().backoff(1)).await {
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
        if !changed.is_empty() {
            match self.client.put_queue(id, body).await {
                Ok(()) => log
                    .done
                    .extend(changed.iter().map(|c| Change::Column(column_rank(c), c))),
                Err(CallError::Stopped) => {
                    log.stopped_before
                        .extend(changed.iter().map(|c| Change::Column(column_rank(c), c)));
                    return Applied::Logged(log, None);
                }
                Err(e) => {
                    log.fail(error_failure(&e, "updating the queue"));
                    return Applied::Logged(log, None);
                }
            }
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
