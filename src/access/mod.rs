//! Why this exists: a 403 half-way through a run leaves rows half done.
//! Before its first write a run learns what the client may do (`discover`),
//! works out what each row's plan needs and where (`needs`), and fails the
//! rows it cannot finish before anything is sent for them. `genimport
//! doctor` shows the same answers as a table.

pub mod discover;
pub mod model;
pub mod needs;
pub mod preflight;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::genesys::Client;
use crate::plan::{Job, Outcome, Plan, Status};
pub use discover::Discovery;
use model::{Holding, Need, Place, Verdict};

/// The error code of a row failed by the permission preflight.
pub const MISSING_PERMISSION: &str = "missing.permission";

/// What the check of a run's rows found.
#[derive(Debug, Clone, Default)]
pub struct Check {
    /// `directory:user:add in Sales` -> rows failed for it.
    pub missing: BTreeMap<String, u64>,
    /// What could not be told (`routing:queue:edit in an unread division`).
    pub unknown: BTreeSet<String>,
    pub rows_failed: u64,
}

/// The needs of every row's plan, for the discovery.
pub fn needs_of(jobs: &[Job]) -> Vec<Need> {
    let places = needs::Places {
        home: None,
        grants_division_aware: None,
        queue_division: &|_| None,
    };
    let mut all: Vec<Need> = jobs
        .iter()
        .flat_map(|j| needs::plan_needs(&j.plan, &places))
        .map(|(need, _)| need)
        .collect();
    all.sort();
    all.dedup();
    all
}

/// Queue ids -> division ids, read only when a queue need is held in some
/// divisions but not all (otherwise the division does not matter).
pub async fn queue_divisions(
    client: &Client,
    jobs: &[Job],
    discovery: &Discovery,
) -> HashMap<String, String> {
    let wanted = needs_of(jobs).contains(&needs::QUEUE_MEMBERS)
        || needs_of(jobs).contains(&needs::QUEUE_EDIT);
    let partial = [needs::QUEUE_MEMBERS, needs::QUEUE_EDIT]
        .iter()
        .any(|n| matches!(discovery.access.need_holding(n), Holding::In(set) if !set.is_empty()));
    if !(wanted && partial) {
        return HashMap::new();
    }
    match client.queue_divisions().await {
        Ok(all) => all.into_iter().collect(),
        Err(e) => {
            tracing::warn!("permission preflight: cannot read the queues' divisions ({e}); queue members are not checked");
            HashMap::new()
        }
    }
}

/// Fails, before anything is sent, each row whose plan needs a permission
/// the client lacks where the row needs it.
pub fn check(
    jobs: &mut [Job],
    discovery: &Discovery,
    queue_division: &HashMap<String, String>,
) -> Check {
    let lookup = |id: &str| queue_division.get(id).cloned();
    let places = needs::Places {
        home: discovery.home(),
        grants_division_aware: discovery.access.grants_division_aware,
        queue_division: &lookup,
    };
    let mut report = Check::default();
    for job in jobs.iter_mut() {
        let mut lacking: Vec<String> = Vec::new();
        for (need, place) in needs::plan_needs(&job.plan, &places) {
            match discovery.access.verdict(&need, &place) {
                Verdict::Held => {}
                // Missing in a division not read: held in none.
                Verdict::Missing if place == Place::UnknownDivision => {
                    lacking.push(label(&need, &Place::Anywhere, discovery))
                }
                Verdict::Missing => lacking.push(label(&need, &place, discovery)),
                Verdict::Unknown => {
                    report.unknown.insert(label(&need, &place, discovery));
                }
            }
        }
        if lacking.is_empty() {
            continue;
        }
        for missing in &lacking {
            *report.missing.entry(missing.clone()).or_default() += 1;
        }
        report.rows_failed += 1;
        let mut outcome = Outcome::new(Status::Failed).with_error(
            None,
            Some(MISSING_PERMISSION.to_string()),
            format!(
                "not sent: the client lacks {} (genimport doctor shows where it holds each permission)",
                lacking.join("; ")
            ),
        );
        if let Some(id) = existing_id(&job.plan) {
            outcome = outcome.with_user_id(id);
        }
        job.plan = Plan::Report(outcome);
    }
    report
}

fn existing_id(plan: &Plan) -> Option<&str> {
    match plan {
        Plan::Update { existing, .. } => Some(&existing.id),
        Plan::UpdateQueue { id, .. } => Some(id),
        _ => None,
    }
}

/// `directory:user:add in Sales`.
pub fn label(need: &Need, place: &Place, discovery: &Discovery) -> String {
    match place {
        Place::Division(id) => format!("{} in {}", need.describe(), discovery.division_name(id)),
        Place::Anywhere => format!("{} in any division", need.describe()),
        Place::UnknownDivision => format!("{} in a division not read", need.describe()),
    }
}

/// Where `holding` is, in words: `all divisions`, the names, `none`, `unknown`.
pub fn where_held(holding: &Holding, discovery: &Discovery) -> String {
    match holding {
        Holding::Everywhere => "all divisions".into(),
        Holding::Unknown => "unknown".into(),
        Holding::In(set) if set.is_empty() => "none".into(),
        Holding::In(set) => {
            let mut names: Vec<String> = set.iter().map(|d| discovery.division_name(d)).collect();
            names.sort();
            names.join(", ")
        }
    }
}
