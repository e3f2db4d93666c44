//! Why this exists: the read-only preflight of a queues file. A
//! queues file becomes plans in a read-only preflight (every queue listed
//! once, divisions, wrap-up codes, `copy_from` resolved by name); a queue
//! is created once (`duplicate.name` means it exists), and under `--update`
//! read whole, changed as the row says, and `PUT` back whole (Genesys
//! replaces a queue on PUT, so a sparse body would wipe its settings).

use std::collections::HashMap;
use std::sync::Arc;

use crate::genesys::catalog::{Catalog, Named};
use crate::genesys::{CallError, Client};
use crate::input::queues::{QueueInput, QueueRow};
use crate::input::DivisionRef;
use crate::plan::{DivisionTarget, Job, Outcome, Plan, Status};
use crate::queues::{apply_row, create_body};
use crate::resolve::divisions::DivisionResolver;
use crate::resolve::names::NameIndex;

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
                        body: Box::new(create_body(
                            row,
                            resolved.division.as_ref().map(|d| d.id.as_str()),
                            resolved.copy_from.as_deref(),
                        )),
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
