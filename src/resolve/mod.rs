//! Why this exists: nothing is written before every name is resolved and
//! every existing user is known. The preflight is read-only: token,
//! divisions, then existing users in batched searches (by email or employee
//! id). Its answer is one plan per row, in input order.

pub mod divisions;
mod holdings;
pub mod licences;
mod lookup;
mod movers;
pub mod names;
mod phones;
pub mod queues;
mod reports;
pub mod undo;

use std::collections::HashMap;
use std::sync::Arc;

use crate::genesys::users::{SearchKey, User};
use crate::genesys::{CallError, Client};
use crate::users::diff;
use std::collections::HashSet;

use crate::input::{Cell, ManagerRef, MatchKey, Row, UserRow};
use crate::plan;
use crate::plan::{exists_outcome, Change, DivisionTarget, Job, Plan};
use crate::plan::{ManagerTarget, Wanted};
use crate::plan::{Outcome, Status};
use crate::resolve::divisions::DivisionResolver;
use crate::users::Field;
use holdings::{Holdings, Subject};
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

/// One plan per row, in input order, and what the preflight read that the
/// undo file takes its values from.
pub async fn preflight(
    client: &Arc<Client>,
    settings: &Settings,
    rows: &[Row],
) -> Result<(Vec<Job>, undo::Known), CallError> {
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
    let checked = wanted.len();
    let lookup = lookup::Lookup {
        key,
        concurrency: settings.concurrency,
        deleted_matter: settings.restore_deleted,
    };
    let search = lookup::existing(client, &lookup, wanted).await?;
    tracing::info!(checked, "preflight: existing users looked up");
    let held = match_existing(&mut jobs, search, key, settings, &divisions);
    movers::screen(&mut jobs);
    let mut known = provision_plans(client, settings, rows, &mut jobs, &divisions, held).await?;
    known.divisions = divisions.names();
    known.home_division = divisions.home_id();
    for job in &jobs {
        if let Plan::Update { existing, .. } = &job.plan {
            if let Some(email) = &existing.email {
                known.emails.insert(existing.id.clone(), email.clone());
            }
        }
    }
    Ok((jobs, known))
}

/// Each row's user among what the search found: a row whose key the search
/// refused fails, a key several users hold fails its row, an existing
/// user's row gets its plan. The users left as they are, for their
/// `exists` message.
fn match_existing(
    jobs: &mut [Job],
    search: lookup::Found,
    key: SearchKey,
    settings: &Settings,
    divisions: &DivisionResolver,
) -> Vec<Held> {
    let mut refused: HashMap<String, CallError> = search
        .refused
        .into_iter()
        .map(|(v, e)| (v.to_lowercase(), e))
        .collect();
    // Every user each key finds (keys compared case-insensitively).
    let mut existing: HashMap<String, Vec<Box<User>>> = HashMap::new();
    for user in search.users {
        let Some(value) = key.of(&user) else { continue };
        let holders = existing.entry(value).or_default();
        if !holders.iter().any(|u| u.id == user.id) {
            holders.push(user);
        }
    }

    let mut held: Vec<Held> = Vec::new();
    for (index, job) in jobs.iter_mut().enumerate() {
        let Plan::Create { user, .. } = &job.plan else {
            continue;
        };
        let Some(value) = match_value(user, settings.key) else {
            continue;
        };
        let value = value.to_lowercase();
        if let Some(error) = refused.remove(&value) {
            job.plan = Plan::Report(crate::plan::failed_outcome(
                &error,
                "the users search refused this row's key, so nothing was sent",
            ));
            continue;
        }
        let Some(holders) = existing.remove(&value) else {
            continue;
        };
        let found = match the_one(holders) {
            Ok(found) => found,
            Err(ambiguous) => {
                job.plan = Plan::Report(ambiguous_outcome(settings.key, &ambiguous));
                continue;
            }
        };
        let user = user.clone();
        if let Some(plan) = movers::already_deleted(&user, &found) {
            job.plan = plan;
            continue;
        }
        job.plan = match plan_for_existing(user, found, settings, divisions) {
            Existing::Plan(plan) => *plan,
            Existing::Left(left) => {
                let plan = Plan::Report(exists_outcome(&left.found, Some(&left.preview)));
                held.push(Held { index, ..*left });
                plan
            }
        };
    }
    held
}

/// The user a key finds: a live one before a deleted one. More than one
/// (live, or deleted when none is live) is ambiguous: the users, for the
/// row's message.
#[allow(clippy::vec_box)] // the boxes the lookup made, moved into the plan
fn the_one(holders: Vec<Box<User>>) -> Result<Box<User>, Vec<Box<User>>> {
    let any_live = holders.iter().any(|u| !u.is_deleted());
    let mut candidates: Vec<Box<User>> = holders
        .into_iter()
        .filter(|u| u.is_deleted() != any_live)
        .collect();
    match candidates.len() {
        1 => Ok(candidates.remove(0)),
        _ => Err(candidates),
    }
}

/// A key held by several users: the row fails naming them, and nothing is
/// written to any of them.
fn ambiguous_outcome(key: MatchKey, users: &[Box<User>]) -> Outcome {
    let what = match key {
        MatchKey::Email => "email",
        MatchKey::EmployeeId => "employee id",
    };
    let named: Vec<String> = users
        .iter()
        .map(|u| match u.email.as_deref() {
            Some(email) => format!("{} ({email})", u.id),
            None => u.id.clone(),
        })
        .collect();
    Outcome::new(Status::Failed).with_message(format!(
        "{} org users hold this {what}: {}; nothing was written to any of them",
        users.len(),
        named.join(", ")
    ))
}

/// An existing user left as it is (no `--update`): its `exists` message
/// says what `--update` would change, steps included once they are known.
struct Held {
    index: usize,
    row: UserRow,
    found: Box<User>,
    preview: Vec<Change>,
}

/// Resolves every provisioning name, then works out each row's steps:
/// everything for a new user, what it lacks for an existing one (reading
/// the grants and queue members that tell), and for a user left as it is,
/// what `--update` would add.
async fn provision_plans(
    client: &Arc<Client>,
    settings: &Settings,
    rows: &[Row],
    jobs: &mut [Job],
    divisions: &DivisionResolver,
    held: Vec<Held>,
) -> Result<undo::Known, CallError> {
    let provisions = |u: &UserRow| {
        !u.roles.is_empty()
            || !u.skills.is_empty()
            || !u.languages.is_empty()
            || !u.queues.is_empty()
            || !u.groups.is_empty()
            || u.location != Cell::Blank
            || u.manager != Cell::Blank
            || u.invite == Some(true)
            || u.webrtc_phone != Cell::Blank
    };
    if !settings.invite
        && !movers::needed(settings, rows)
        && !rows
            .iter()
            .any(|r| r.validated.as_ref().is_ok_and(provisions))
    {
        return Ok(undo::Known::default());
    }
    let catalogs = Catalogs::load(client, rows).await?;
    let managers = Managers::resolve(client, jobs, &held, settings.concurrency).await?;
    let wanted = resolve_wanted(jobs, &catalogs, divisions, &managers);
    // A user left as it is keeps its plain `exists` when a name does not
    // resolve: nothing is sent for it either way.
    let held_wanted: Vec<Option<Wanted>> = held
        .iter()
        .map(|h| names::resolve(&h.row, &catalogs, divisions, &|e| managers.find(e)).ok())
        .collect();
    // `--exact` reads the grants of its users first, the cheapest way, and
    // the adds take theirs from that read: no user's grants are read twice.
    let exact = movers::Exact::read(client, settings, jobs, &wanted).await?;
    let mut subjects = subjects(jobs, &wanted, &held, &held_wanted);
    for subject in &mut subjects {
        subject.needs_grants &= !exact.read_grants_of(&subject.user_id);
    }
    let holdings = Holdings::read(client, &subjects).await?;
    assign_steps(jobs, wanted, &holdings, settings, &exact);
    reports::name_reports(client, jobs).await?;
    phones::plan(client, jobs).await?;
    for (h, wanted) in held.into_iter().zip(held_wanted) {
        if let Some(wanted) = wanted {
            let index = h.index;
            let invite = h.row.invite.unwrap_or(settings.invite);
            jobs[index].plan = Plan::Report(left_as_is(h, &wanted, &holdings, invite));
        }
    }
    let (grants, (queues, queues_unread), group_names, roles) = exact.into_reads();
    let mut known = undo::Known {
        grants,
        queues,
        queues_unread,
        group_names,
        roles,
        ..undo::Known::default()
    };
    if let Some(locations) = &catalogs.locations {
        known.locations = locations.by_id();
    }
    for (email, id) in managers.in_org {
        known.emails.insert(id, email);
    }
    Ok(known)
}

/// The users whose holdings (grants, queue members) their steps need.
fn subjects(
    jobs: &[Job],
    wanted: &[Option<Wanted>],
    held: &[Held],
    held_wanted: &[Option<Wanted>],
) -> Vec<Subject> {
    let mut subjects: Vec<Subject> = Vec::new();
    for (job, wanted) in jobs.iter().zip(wanted) {
        if let (
            Plan::Update {
                existing, restore, ..
            },
            Some(w),
        ) = (&job.plan, wanted)
        {
            // A restored user gets no roles back (docs/genesys-api.md#restored-users), so
            // its grants are not read (a deleted subject answers 404).
            let needs_grants = !restore && plan::needs_grants(w, existing);
            subjects.push(Subject::new(&existing.id, needs_grants, w));
        }
    }
    for (h, wanted) in held.iter().zip(held_wanted) {
        if let Some(w) = wanted {
            subjects.push(Subject::new(
                &h.found.id,
                plan::needs_grants(w, &h.found),
                w,
            ));
        }
    }
    subjects
}

/// Each planned row's steps: everything for a new user, what an existing
/// one lacks (a row whose holdings could not be read fails, alone).
fn assign_steps(
    jobs: &mut [Job],
    wanted: Vec<Option<Wanted>>,
    holdings: &Holdings,
    settings: &Settings,
    exact: &movers::Exact,
) {
    let invite = settings.invite;
    for (job, wanted) in jobs.iter_mut().zip(wanted) {
        let Some(wanted) = wanted else { continue };
        match &mut job.plan {
            Plan::Create {
                user, provision, ..
            } => {
                let invite = user.invite.unwrap_or(invite);
                **provision = plan::steps_for_new(&wanted, invite);
            }
            Plan::Update {
                user,
                existing,
                provision,
                preview,
                restore,
                ..
            } => {
                if let Some(failure) = holdings.failure(&existing.id, &wanted.queues) {
                    job.plan = Plan::Report(failure.with_user_id(&existing.id));
                    continue;
                }
                if let Some(failure) = exact.failure(&existing.id) {
                    job.plan = Plan::Report(failure);
                    continue;
                }
                let grants = if *restore {
                    Some(&[][..])
                } else {
                    holdings
                        .grants(&existing.id)
                        .or_else(|| exact.add_grants(&existing.id))
                };
                let mut steps = plan::steps_for_existing(
                    &wanted,
                    existing,
                    grants,
                    &holdings.members,
                    user.invite.unwrap_or(invite),
                );
                exact.fit(settings, user, existing, &wanted, &mut steps);
                preview.extend(steps.changes());
                **provision = steps;
            }
            _ => {}
        }
    }
}

/// An existing user left as it is: `exists`, saying what `--update` would
/// change and add. A read its steps need that failed leaves the message
/// at the profile fields (nothing is sent for the row either way).
fn left_as_is(held: Held, wanted: &Wanted, holdings: &Holdings, invite: bool) -> Outcome {
    let mut changes = held.preview;
    if holdings.failure(&held.found.id, &wanted.queues).is_none() {
        let steps = plan::steps_for_existing(
            wanted,
            &held.found,
            holdings.grants(&held.found.id),
            &holdings.members,
            invite,
        );
        changes.extend(steps.changes());
    }
    exists_outcome(&held.found, Some(&changes))
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
        held: &[Held],
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
                Plan::Create { user, .. } | Plan::Update { user, .. } => Some(user),
                _ => None,
            })
            .chain(held.iter().map(|h| &h.row))
            .filter_map(|user| match &user.manager {
                Cell::Set(ManagerRef::Email(e)) if !in_file.contains_key(&e.to_lowercase()) => {
                    Some(e.to_lowercase())
                }
                _ => None,
            })
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let mut in_org: HashMap<String, String> = HashMap::new();
        if !outside.is_empty() {
            let found = lookup::search_all(client, SearchKey::Email, outside, concurrency).await?;
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

/// The value a row's user is searched for: the email (lowercased; emails
/// ignore case), or the employee id as written (whether Genesys' EXACT
/// match on `hr.employeeId` ignores case is not documented).
fn match_value(user: &UserRow, key: MatchKey) -> Option<String> {
    match key {
        MatchKey::Email => Some(user.email.to_lowercase()),
        MatchKey::EmployeeId => user.employee_id.value().cloned(),
    }
}

/// What becomes of an existing user: a plan, or left as it is (no
/// `--update`), its `exists` message still to say what `--update` would add.
enum Existing {
    Plan(Box<Plan>),
    Left(Box<Held>),
}

/// An existing user: leave it (`exists`), or plan its update.
fn plan_for_existing(
    row: UserRow,
    found: Box<User>,
    settings: &Settings,
    divisions: &DivisionResolver,
) -> Existing {
    if let Some(why) = diff::unchecked_change(&row, Some(&found)) {
        let invalid = Outcome::new(Status::Invalid).with_user_id(&found.id);
        return Existing::Plan(Box::new(Plan::Report(invalid.with_message(why))));
    }
    let restore = found.is_deleted() && settings.restore_deleted;
    if found.is_deleted() && !restore {
        return Existing::Plan(Box::new(Plan::Report(exists_outcome(&found, None))));
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
        return Existing::Left(Box::new(Held {
            index: 0,
            row,
            found,
            preview,
        }));
    }
    Existing::Plan(Box::new(Plan::Update {
        user: row,
        existing: found,
        restore,
        division,
        provision: Box::default(),
        preview,
    }))
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
