//! Why this exists: nothing is written before every name is resolved and
//! every existing user is known. The preflight is read-only: token,
//! divisions, then existing users in batched searches (by email or employee
//! id). Its answer is one plan per row, in input order.

pub mod divisions;
mod movers;
pub mod names;
pub mod queues;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::genesys::users::{Search, SearchKey, User, SEARCH_BATCH};
use crate::genesys::{CallError, Client};
use crate::users::diff;
use std::collections::HashSet;

use crate::genesys::provisioning::Grant;
use crate::input::{Cell, ManagerRef, MatchKey, Row, UserRow};
use crate::plan;
use crate::plan::{exists_outcome, Change, DivisionTarget, Job, Plan};
use crate::plan::{ManagerTarget, Wanted};
use crate::plan::{Outcome, Status};
use crate::resolve::divisions::DivisionResolver;
use crate::users::Field;
use names::Catalogs;

/// What the preflight needs to know of the run.
#[derive(Debug, Clone)]
pub struct Settings {
    pub concurrency: usize,
    pub default_division: Option<String>,
    pub restore_deleted: bool,
    pub update: bool,
    /// `--exact`: list cells are complete (see `movers`).
    pub exact: bool,
    pub key: MatchKey,
    pub invite: bool,
}

pub async fn preflight(
    client: &Arc<Client>,
    settings: &Settings,
    rows: &[Row],
) -> Result<Vec<Job>, CallError> {
    client.authenticate().await?;
    let divisions =
        DivisionResolver::load(client, rows, settings.default_division.as_deref()).await?;

    // Rows that may be sent, with the division a create would use.
    let mut jobs: Vec<Job> = Vec::with_capacity(rows.len());
    for row in rows {
        let plan = match &row.validated {
            Err(problems) => {
                Plan::Report(Outcome::new(Status::Invalid).with_message(problems.clone()))
            }
            Ok(user) => match divisions.resolve(user.division.as_ref()) {
                Err(problem) => Plan::Report(Outcome::new(Status::Invalid).with_message(problem)),
                Ok(division_id) => Plan::Create {
                    user: user.clone(),
                    division_id,
                    provision: Box::default(),
                },
            },
        };
        jobs.push(Job {
            line: row.line,
            email: row.email.clone(),
            name: row.name.clone(),
            plan,
        });
    }

    let key = match settings.key {
        MatchKey::Email => SearchKey::Email,
        MatchKey::EmployeeId => SearchKey::EmployeeId,
    };
    let wanted: Vec<String> = jobs
        .iter()
        .filter_map(|j| match &j.plan {
            Plan::Create { user, .. } => match_value(user, settings.key),
            _ => None,
        })
        .collect();
    let batches = wanted
        .chunks(SEARCH_BATCH)
        .map(<[String]>::to_vec)
        .collect();
    let search = search_all(client, key, batches, settings.concurrency).await?;
    let mut refused: HashMap<String, CallError> = search
        .refused
        .into_iter()
        .map(|(v, e)| (v.to_lowercase(), e))
        .collect();
    let mut existing: HashMap<String, User> = HashMap::new();
    for user in search.found {
        let Some(value) = key.of(&user) else { continue };
        // A live user wins over a deleted one with the same key.
        if existing.get(&value).is_none_or(User::is_deleted) {
            existing.insert(value, user);
        }
    }
    tracing::info!(
        checked = wanted.len(),
        existing = existing.len(),
        "preflight: existing users looked up"
    );

    for job in &mut jobs {
        let Plan::Create { user, .. } = &job.plan else {
            continue;
        };
        let Some(value) = match_value(user, settings.key) else {
            continue;
        };
        if let Some(error) = refused.remove(&value) {
            job.plan = Plan::Report(crate::plan::failed_outcome(
                &error,
                "the users search refused this row's key, so nothing was sent",
            ));
            continue;
        }
        let Some(found) = existing.remove(&value) else {
            continue;
        };
        let user = user.clone();
        if let Some(plan) = movers::already_deleted(&user, &found) {
            job.plan = plan;
            continue;
        }
        job.plan = plan_for_existing(user, found, settings, &divisions);
    }
    movers::screen(&mut jobs);
    provision_plans(client, settings, rows, &mut jobs, &divisions).await?;
    Ok(jobs)
}
/// Resolves every provisioning name, then works out each row's steps:
/// everything for a new user, what it lacks for an existing one (reading
/// the grants and queue members that tell).
async fn provision_plans(
    client: &Arc<Client>,
    settings: &Settings,
    rows: &[Row],
    jobs: &mut [Job],
    divisions: &DivisionResolver,
) -> Result<(), CallError> {
    let provisions = |u: &UserRow| {
        !u.roles.is_empty()
            || !u.skills.is_empty()
            || !u.languages.is_empty()
            || !u.queues.is_empty()
            || !u.groups.is_empty()
            || u.location != Cell::Blank
            || u.manager != Cell::Blank
            || u.invite == Some(true)
    };
    if !settings.invite
        && !movers::needed(settings, rows)
        && !rows
            .iter()
            .any(|r| r.validated.as_ref().is_ok_and(provisions))
    {
        return Ok(());
    }
    let catalogs = Catalogs::load(client, rows).await?;
    let managers = Managers::resolve(client, jobs, settings.concurrency).await?;
    let wanted = resolve_wanted(jobs, &catalogs, divisions, &managers);
    let holdings = Holdings::read(client, jobs, &wanted).await?;
    let exact = movers::Exact::read(client, settings, jobs, &wanted, &holdings).await?;
    for (job, wanted) in jobs.iter_mut().zip(wanted) {
        let Some(wanted) = wanted else { continue };
        match &mut job.plan {
            Plan::Create {
                user, provision, ..
            } => {
                let invite = user.invite.unwrap_or(settings.invite);
                **provision = plan::steps_for_new(&wanted, invite);
            }
            Plan::Update {
                user,
                existing,
                provision,
                preview,
                ..
            } => {
                let mut steps = plan::steps_for_existing(
                    &wanted,
                    existing,
                    holdings.grants.get(&existing.id).map(Vec::as_slice),
                    &holdings.members,
                );
                exact.fit(settings, user, existing, &wanted, &mut steps);
                preview.extend(steps.changes());
                **provision = steps;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Managers: a row of this file (its id known now, or after its create),
/// else a user of the org, found by email in batched searches.
struct Managers {
    in_file: HashMap<String, ManagerTarget>,
    in_org: HashMap<String, String>,
}

impl Managers {
    async fn resolve(
        client: &Arc<Client>,
        jobs: &[Job],
        concurrency: usize,
    ) -> Result<Managers, CallError> {
        let mut in_file: HashMap<String, ManagerTarget> = HashMap::new();
        for job in jobs {
            let target = match &job.plan {
                Plan::Create { .. } => ManagerTarget::Row(job.email.to_lowercase()),
                Plan::Update { existing, .. } => ManagerTarget::Id(existing.id.clone()),
                Plan::Report(o) if o.status == Status::Exists => match &o.user_id {
                    Some(id) => ManagerTarget::Id(id.clone()),
                    None => continue,
                },
                _ => continue,
            };
            in_file.insert(job.email.to_lowercase(), target);
        }
        let outside: Vec<String> = jobs
            .iter()
            .filter_map(|j| match &j.plan {
                Plan::Create { user, .. } | Plan::Update { user, .. } => match &user.manager {
                    Cell::Set(ManagerRef::Email(e)) if !in_file.contains_key(&e.to_lowercase()) => {
                        Some(e.to_lowercase())
                    }
                    _ => None,
                },
                _ => None,
            })
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let mut in_org: HashMap<String, String> = HashMap::new();
        if !outside.is_empty() {
            let batches = outside
                .chunks(SEARCH_BATCH)
                .map(<[String]>::to_vec)
                .collect();
            let found = search_all(client, SearchKey::Email, batches, concurrency).await?;
            for user in found.found {
                if let (false, Some(email)) = (user.is_deleted(), user.email.as_deref()) {
                    in_org.insert(email.to_lowercase(), user.id.clone());
                }
            }
        }
        Ok(Managers { in_file, in_org })
    }

    fn find(&self, email: &str) -> Option<ManagerTarget> {
        let email = email.to_lowercase();
        self.in_file.get(&email).cloned().or_else(|| {
            self.in_org
                .get(&email)
                .map(|id| ManagerTarget::Id(id.clone()))
        })
    }
}

/// Each row's provisioning names resolved to ids; a name that does not
/// resolve makes its row invalid.
fn resolve_wanted(
    jobs: &mut [Job],
    catalogs: &Catalogs,
    divisions: &DivisionResolver,
    managers: &Managers,
) -> Vec<Option<Wanted>> {
    let managers = |email: &str| managers.find(email);
    let mut wanted: Vec<Option<Wanted>> = Vec::with_capacity(jobs.len());
    for job in jobs.iter_mut() {
        let row = match &job.plan {
            Plan::Create { user, .. } | Plan::Update { user, .. } => user,
            _ => {
                wanted.push(None);
                continue;
            }
        };
        match names::resolve(row, catalogs, divisions, &managers) {
            Ok(w) => wanted.push(Some(w)),
            Err(problem) => {
                job.plan = Plan::Report(Outcome::new(Status::Invalid).with_message(problem));
                wanted.push(None);
            }
        }
    }
    wanted
}

/// What existing users hold that their search result cannot show: the
/// division of a role they hold, and queue memberships.
struct Holdings {
    grants: HashMap<String, Vec<Grant>>,
    members: HashMap<String, HashSet<String>>,
}

impl Holdings {
    async fn read(
        client: &Client,
        jobs: &[Job],
        wanted: &[Option<Wanted>],
    ) -> Result<Holdings, CallError> {
        let mut grants: HashMap<String, Vec<Grant>> = HashMap::new();
        let mut queue_ids: HashSet<String> = HashSet::new();
        for (job, wanted) in jobs.iter().zip(wanted) {
            if let (Plan::Update { existing, .. }, Some(w)) = (&job.plan, wanted) {
                if plan::needs_grants(w, existing) {
                    grants.insert(existing.id.clone(), Vec::new());
                }
                queue_ids.extend(w.queues.iter().map(|q| q.id.clone()));
            }
        }
        for (user_id, slot) in grants.iter_mut() {
            *slot = client.grants(user_id).await?;
        }
        let mut members: HashMap<String, HashSet<String>> = HashMap::new();
        for queue_id in queue_ids {
            let ids = client.queue_members(&queue_id).await?;
            members.insert(queue_id, ids.into_iter().collect());
        }
        Ok(Holdings { grants, members })
    }
}

fn match_value(user: &UserRow, key: MatchKey) -> Option<String> {
    match key {
        MatchKey::Email => Some(user.email.to_lowercase()),
        MatchKey::EmployeeId => user.employee_id.value().map(|id| id.to_lowercase()),
    }
}

/// An existing user: leave it (`exists`), or plan its update.
fn plan_for_existing(
    row: UserRow,
    found: User,
    settings: &Settings,
    divisions: &DivisionResolver,
) -> Plan {
    let restore = found.is_deleted() && settings.restore_deleted;
    if found.is_deleted() && !restore {
        return Plan::Report(exists_outcome(&found, None));
    }
    let division = row
        .division
        .as_ref()
        .and_then(|d| divisions.lookup(d).ok())
        .map(|id| DivisionTarget {
            name: divisions.name_of(&id),
            id,
        });
    let preview = preview(&row, &found, restore, division.as_ref(), settings.key);
    if !settings.update && !restore {
        return Plan::Report(exists_outcome(&found, Some(&preview)));
    }
    Plan::Update {
        user: row,
        existing: Box::new(found),
        restore,
        division,
        provision: Box::default(),
        preview,
    }
}

/// What applying the row to `user` would change, as `changes` items.
pub fn preview(
    row: &UserRow,
    user: &User,
    restore: bool,
    division: Option<&DivisionTarget>,
    key: MatchKey,
) -> Vec<Change> {
    let mut changes = Vec::new();
    if restore {
        changes.push(Change::Restore);
    }
    let state = if restore {
        // A restored user gets the row's state (or active) in the restore itself.
        diff::Patch::default()
    } else {
        diff::state_patch(row, user)
    };
    changes.extend(state.fields.into_iter().map(Change::Field));
    changes.extend(
        diff::profile_patch(row, user, key)
            .fields
            .into_iter()
            .map(Change::Field),
    );
    if division.is_some_and(|d| user.division_id() != Some(d.id.as_str())) {
        changes.push(Change::Field(Field::Division));
    }
    changes
}

/// Runs the searches with up to `concurrency` in flight, like the writes
/// after them: a big file's preflight then takes seconds, not minutes.
async fn search_all(
    client: &Arc<Client>,
    key: SearchKey,
    batches: Vec<Vec<String>>,
    concurrency: usize,
) -> Result<Search, CallError> {
    let queue = Arc::new(Mutex::new(batches));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (client, queue) = (Arc::clone(client), Arc::clone(&queue));
        set.spawn(async move {
            let mut all = Search::default();
            loop {
                let batch = queue.lock().unwrap_or_else(|e| e.into_inner()).pop();
                let Some(batch) = batch else { return Ok(all) };
                let search = client.search_users(key, &batch).await?;
                all.found.extend(search.found);
                all.refused.extend(search.refused);
            }
        });
    }
    let mut all = Search::default();
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
