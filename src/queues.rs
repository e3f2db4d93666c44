//! Why this exists: the second resource kind, through the same engine. A
//! queues file becomes plans in a read-only preflight (every queue listed
//! once, divisions, wrap-up codes, `copy_from` resolved by name); a queue
//! is created once (`duplicate.name` means it exists), and under `--update`
//! read whole, changed as the row says, and `PUT` back whole (Genesys
//! replaces a queue on PUT, so a sparse body would wipe its settings).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{json, Map, Value};

use crate::apply::{error_failure, failed_outcome, Applied, Applier};
use crate::genesys::catalog::{Catalog, Named};
use crate::genesys::{CallError, Client, Reply};
use crate::input::queues::{QueueInput, QueueRow};
use crate::input::DivisionRef;
use crate::plan::{Change, DivisionTarget, Job, Kind, Plan, RowLog};
use crate::preflight::DivisionResolver;
use crate::provision::NameIndex;
use crate::report::{Outcome, Status};

/// The read-only preflight of a queues file; one plan per row.
pub async fn preflight(
    client: &Arc<Client>,
    inputs: &[QueueInput],
    default_division: Option<&str>,
    update: bool,
) -> Result<Vec<Job>, CallError> {
    client.authenticate().await?;
    let valid = || inputs.iter().filter_map(|i| i.validated.as_ref().ok());
    let divisions = DivisionResolver::load_with(
        client,
        default_division.is_some() || valid().any(|q| q.division.is_some()),
        valid().any(|q| q.division.is_none()),
        false,
        default_division,
    )
    .await?;
    let all = client.list_all(Catalog::Queues).await?;
    tracing::info!(queues = all.len(), "preflight: queues listed");
    let by_name: HashMap<String, Named> = all
        .into_iter()
        .map(|q| (q.name.to_lowercase(), q))
        .collect();
    let wrapups = if valid().any(|q| !q.wrapup_codes.is_empty()) {
        Some(NameIndex::new(
            "wrap-up code",
            client.list_all(Catalog::WrapupCodes).await?,
        ))
    } else {
        None
    };

    let mut jobs = Vec::with_capacity(inputs.len());
    for input in inputs {
        let plan = match &input.validated {
            Err(problems) => {
                Plan::Report(Outcome::new(Status::Invalid).with_message(problems.clone()))
            }
            Ok(row) => match resolve(row, &divisions, &by_name, wrapups.as_ref()) {
                Err(problem) => Plan::Report(Outcome::new(Status::Invalid).with_message(problem)),
                Ok(resolved) => match by_name.get(&row.name.to_lowercase()) {
                    Some(existing) if !update => Plan::Report(
                        Outcome::new(Status::Exists)
                            .with_user_id(&existing.id)
                            .with_message(
                                "already exists; --update would bring it in line with the row",
                            ),
                    ),
                    Some(existing) => plan_update(client, row, existing, resolved).await?,
                    None => Plan::CreateQueue {
                        body: Box::new(create_body(row, &resolved)),
                        queue: Box::new(row.clone()),
                        wrapups: resolved.wrapups,
                    },
                },
            },
        };
        jobs.push(Job {
            line: input.line,
            email: Arc::from(""),
            name: Arc::from(input.name.as_str()),
            plan,
        });
    }
    Ok(jobs)
}

/// A row's names, resolved.
struct Resolved {
    division: Option<DivisionTarget>,
    copy_from: Option<String>,
    wrapups: Vec<(String, String)>,
}

fn resolve(
    row: &QueueRow,
    divisions: &DivisionResolver,
    queues: &HashMap<String, Named>,
    wrapups: Option<&NameIndex>,
) -> Result<Resolved, String> {
    let mut problems = Vec::new();
    let division = match divisions.resolve(row.division.as_deref().map(DivisionRef::parse).as_ref())
    {
        Ok(Some(id)) => Some(DivisionTarget {
            name: divisions.name_of(&id),
            id,
        }),
        Ok(None) => None,
        Err(problem) => {
            problems.push(problem);
            None
        }
    };
    let copy_from =
        row.copy_from
            .as_ref()
            .and_then(|name| match queues.get(&name.to_lowercase()) {
                Some(q) => Some(q.id.clone()),
                None => {
                    problems.push(format!(
                        "copy_from: no queue named `{}`",
                        crate::text::cut(name)
                    ));
                    None
                }
            });
    let mut codes = Vec::new();
    for name in &row.wrapup_codes {
        match wrapups.map(|w| w.resolve(name)) {
            Some(Ok(found)) => codes.push(found),
            Some(Err(why)) => problems.push(format!("wrapup_codes: {why}")),
            None => {}
        }
    }
    if problems.is_empty() {
        Ok(Resolved {
            division,
            copy_from,
            wrapups: codes,
        })
    } else {
        Err(problems.join("; "))
    }
}

/// The `CreateQueueRequest` of a row.
fn create_body(row: &QueueRow, resolved: &Resolved) -> Value {
    let mut body = Value::Object(Map::new());
    body["name"] = json!(row.name);
    if let Some(d) = &resolved.division {
        body["division"] = json!({"id": d.id});
    }
    if let Some(source) = &resolved.copy_from {
        body["sourceQueueId"] = json!(source);
    }
    apply_row(row, &mut body);
    body
}

/// Writes the row's non-blank cells into a queue body; the columns whose
/// value changed. Everything else in the body is kept as it is.
pub fn apply_row(row: &QueueRow, queue: &mut Value) -> Vec<&'static str> {
    let mut changed = Vec::new();
    let mut set = |pointer: &str, value: Value, column: &'static str| {
        if queue.pointer(pointer) != Some(&value) {
            ensure_path(queue, pointer);
            if let Some(slot) = queue.pointer_mut(pointer) {
                *slot = value;
            }
            if !changed.contains(&column) {
                changed.push(column);
            }
        }
    };
    if let Some(v) = &row.description {
        set("/description", json!(v), "description");
    }
    if let Some(v) = &row.skill_evaluation {
        set("/skillEvaluationMethod", json!(v), "skill_evaluation");
    }
    if let Some(v) = &row.acw {
        set("/acwSettings/wrapupPrompt", json!(v), "acw");
    }
    if let Some(s) = row.acw_timeout_s {
        set(
            "/acwSettings/timeoutMs",
            json!(u64::from(s) * 1000),
            "acw_timeout_s",
        );
    }
    if let Some(s) = row.alerting_timeout_s {
        set(
            "/mediaSettings/call/alertingTimeoutSeconds",
            json!(s),
            "alerting_timeout_s",
        );
    }
    if let Some(v) = &row.calling_party_name {
        set("/callingPartyName", json!(v), "calling_party_name");
    }
    if let Some(v) = &row.calling_party_number {
        set("/callingPartyNumber", json!(v), "calling_party_number");
    }
    changed
}

/// Creates the objects along a JSON pointer (the leaf as null) so it can be set.
fn ensure_path(value: &mut Value, pointer: &str) {
    let mut at = value;
    for part in pointer.trim_start_matches('/').split('/') {
        if !at.is_object() {
            *at = Value::Object(Map::new());
        }
        let Value::Object(map) = at else { return };
        at = map.entry(part.to_string()).or_insert(Value::Null);
    }
}

/// The contract's order of queue columns, for `changes`.
pub fn column_rank(column: &str) -> u8 {
    const ORDER: [&str; 8] = [
        "division",
        "description",
        "skill_evaluation",
        "acw",
        "acw_timeout_s",
        "alerting_timeout_s",
        "calling_party_name",
        "calling_party_number",
    ];
    ORDER
        .iter()
        .position(|c| *c == column)
        .unwrap_or(ORDER.len()) as u8
}

async fn plan_update(
    client: &Client,
    row: &QueueRow,
    existing: &Named,
    resolved: Resolved,
) -> Result<Plan, CallError> {
    let mut body = client.get_queue(&existing.id).await?;
    let changed = apply_row(row, &mut body);
    let has = client.queue_wrapups(&existing.id).await?;
    let wrapups = resolved
        .wrapups
        .into_iter()
        .filter(|(id, _)| !has.contains(id))
        .collect();
    // Only a division the row names moves the queue (blank: leave it).
    let division = match (&row.division, resolved.division) {
        (Some(_), Some(d)) if body["division"]["id"].as_str() != Some(d.id.as_str()) => Some(d),
        _ => None,
    };
    Ok(Plan::UpdateQueue {
        id: existing.id.clone(),
        body: Box::new(body),
        changed,
        wrapups,
        division,
    })
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_row_changes_only_its_cells_and_keeps_the_rest() {
        let row = QueueRow {
            name: "Support".into(),
            description: Some("Tier 1".into()),
            acw: Some("MANDATORY_TIMEOUT".into()),
            acw_timeout_s: Some(30),
            alerting_timeout_s: Some(8),
            ..QueueRow::default()
        };
        let mut queue = json!({
            "id": "q1", "name": "Support", "description": "Tier 1",
            "acwSettings": {"wrapupPrompt": "OPTIONAL"},
            "mediaSettings": {"call": {"alertingTimeoutSeconds": 8, "serviceLevel": {"percentage": 0.8}}},
            "bullseye": {"rings": [{"expansionTimeoutSeconds": 15}]}
        });
        let changed = apply_row(&row, &mut queue);
        assert_eq!(changed, ["acw", "acw_timeout_s"]);
        assert_eq!(
            queue["acwSettings"],
            json!({"wrapupPrompt": "MANDATORY_TIMEOUT", "timeoutMs": 30000})
        );
        assert_eq!(queue["bullseye"]["rings"][0]["expansionTimeoutSeconds"], 15);
        assert_eq!(
            queue["mediaSettings"]["call"]["serviceLevel"]["percentage"],
            0.8
        );
        assert!(
            apply_row(&row, &mut queue).is_empty(),
            "applied: nothing more to change"
        );
    }
}
