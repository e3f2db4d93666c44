//! Why this exists: movers and leavers (`--update --exact`, `state` =
//! `inactive`/`deleted`). Every removal is planned here, in the read-only
//! preflight, from one read of each user: its grants (`GET
//! /api/v2/authorization/subjects/{id}`, which tells a group's grants from
//! the user's own; or, cheaper for many users, each held role's subject
//! grants, whose `PC_USER` subjects are direct grants), the members of every queue (which tell a group's
//! memberships from the user's own), and the user as the search returned
//! it (skills, languages, groups). The plan is `plan::removals`; nothing
//! is read for a row whose cells leave every kind alone. The grants read
//! here are also those the adds need (a role the row names that the user
//! holds): they are read once, here, before the adds, which take them
//! from `Exact::add_grants`.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use crate::genesys::catalog::{Catalog, Named};
use crate::genesys::provisioning::Grant;
use crate::genesys::removals::{grants_as_read_per_user, grants_from_roles};
use crate::genesys::removals::{memberships_of, HeldGrant, HeldQueue};
use crate::genesys::removals::{QueueMembers, RoleSubjects, Roles, SUBJECT_GRANTS_PAGE};
use crate::genesys::users::User;
use crate::genesys::{CallError, Client};
use crate::input::{Row, UserRow, UserState};
use crate::plan::removals::{self, Holding, Removals};
use crate::plan::{self, failed_outcome, Job, Outcome, Plan, Status, Steps, Wanted};

use super::holdings::{ends_run, ends_run_for_queue};
use super::Settings;

/// Whether the preflight must plan steps even for rows without
/// provisioning cells: `--exact` (a `-` cell removes), or a deletion.
pub(super) fn needed(settings: &Settings, rows: &[Row]) -> bool {
    (settings.update && settings.exact)
        || rows.iter().any(|r| {
            r.validated
                .as_ref()
                .is_ok_and(|u| u.state == Some(UserState::Deleted))
        })
}

/// Rows whose user does not exist: a deletion has nothing to do, and with
/// `--update` a row without a name cannot create its user.
pub(super) fn screen(jobs: &mut [Job]) {
    for job in jobs {
        let Plan::Create { user, .. } = &job.plan else {
            continue;
        };
        if let Some(why) = crate::users::diff::unchecked_change(user, None) {
            job.plan = Plan::Report(Outcome::new(Status::Invalid).with_message(why));
        } else if user.state == Some(UserState::Deleted) {
            job.plan = Plan::Report(
                Outcome::new(Status::Unchanged)
                    .with_message("no user has this email: nothing to delete"),
            );
        } else if user.name.is_empty() {
            job.plan =
                Plan::Report(Outcome::new(Status::Invalid).with_message(
                    "name: missing (a new user needs a name; no user has this email)",
                ));
        }
    }
}

/// A deletion whose user is already deleted: nothing to do.
pub(super) fn already_deleted(row: &UserRow, found: &User) -> Option<Plan> {
    (row.state == Some(UserState::Deleted) && found.is_deleted()).then(|| {
        Plan::Report(
            Outcome::new(Status::Unchanged)
                .with_user_id(&found.id)
                .with_message("the user is already deleted"),
        )
    })
}

/// The user is inactive after its row: Genesys strips an inactive user's
/// roles, so they are not compared.
fn inactive_after(row: &UserRow, user: &User) -> bool {
    match row.state {
        Some(state) => state == UserState::Inactive,
        None => user.state.as_deref() == Some("inactive"),
    }
}

/// What the preflight read for exact rows.
#[derive(Default)]
pub(super) struct Exact {
    /// user id -> its grants (direct and from groups).
    grants: HashMap<String, Vec<HeldGrant>>,
    /// user id -> why its grants could not be read (its row fails alone).
    grant_errors: HashMap<String, CallError>,
    /// user id -> its grants as its adds see them (`steps_for_existing`),
    /// for the users whose row names a role they hold: read here, once,
    /// so the adds do not read them again.
    add_grants: HashMap<String, Vec<Grant>>,
    /// The users whose adds need their grants (read here, or failed here).
    for_adds: HashSet<String>,
    /// user id -> its queues; `None`: no exact queues cell in the file.
    queues: Option<HashMap<String, Vec<HeldQueue>>>,
    defaults: HashSet<String>,
    group_names: HashMap<String, String>,
    /// Queues whose members could not be read (not compared).
    unread_queues: Vec<UnreadQueue>,
    /// The org's roles, when read (the undo file reuses them).
    roles: Option<Roles>,
}

impl Exact {
    /// Reads what the exact rows need: grants per user (also those the
    /// adds need, which are then not read again: see `add_grants`),
    /// default roles, and queue members and group names when a row lists
    /// queues or groups.
    pub(super) async fn read(
        client: &Arc<Client>,
        settings: &Settings,
        jobs: &[Job],
        wanted: &[Option<Wanted>],
    ) -> Result<Exact, CallError> {
        let mut exact = Exact::default();
        if !settings.update {
            return Ok(exact);
        }
        if !settings.exact {
            exact
                .read_add_grants(client, settings, jobs, wanted)
                .await?;
            return Ok(exact);
        }
        // Users whose grants must be read, with the roles the search shows they hold.
        let mut grant_reads: Vec<GrantRead> = Vec::new();
        let (mut roles, mut queues, mut groups) = (false, false, false);
        for (job, wanted) in jobs.iter().zip(wanted) {
            let (Plan::Update { user, existing, .. }, Some(wanted)) = (&job.plan, wanted) else {
                continue;
            };
            let listed = user.listed;
            // A user this run restores gets no role back: its grants are not read (a
            // deleted subject answers 404); its other kinds are compared as read.
            if listed.roles && !inactive_after(user, existing) && !existing.is_deleted() {
                roles = true;
                // No roles at all is what a best-effort expand that failed
                // shows too (every user holds the default role): not trusted,
                // the user's own grants are read then.
                let held: Option<Vec<String>> = existing
                    .authorization
                    .as_ref()
                    .map(|a| a.roles.iter().map(|r| r.id.clone()).collect::<Vec<_>>())
                    .filter(|roles| !roles.is_empty());
                // The roles the row names that the user holds (any, when
                // not known): the adds need their divisions (see
                // `plan::needs_grants`).
                let mut adds: Vec<String> = Vec::new();
                for r in &wanted.roles {
                    let holds = held.as_ref().is_none_or(|h| h.contains(&r.role_id));
                    if holds && !adds.contains(&r.role_id) {
                        adds.push(r.role_id.clone());
                    }
                }
                grant_reads.push(GrantRead {
                    id: existing.id.clone(),
                    held,
                    groups: existing.groups.iter().map(|g| g.id.clone()).collect(),
                    adds,
                });
            }
            queues |= listed.queues;
            groups |= listed.groups && !existing.groups.is_empty();
        }
        if roles {
            let org_roles = client.roles_for_removal().await?;
            let for_adds: Vec<String> = grant_reads
                .iter()
                .filter(|r| !r.adds.is_empty())
                .map(|r| r.id.clone())
                .collect();
            let read = cheapest_grants(client, grant_reads, &org_roles, settings.concurrency);
            let (grants, errors) = read.await?;
            for id in for_adds {
                if let Some(held) = grants.get(&id) {
                    exact.add_grants.insert(id.clone(), as_grants(held));
                }
                exact.for_adds.insert(id);
            }
            exact.grants.extend(grants);
            exact.grant_errors = errors;
            exact.defaults = org_roles.defaults.clone();
            exact.roles = Some(org_roles);
        }
        if queues {
            let (queues, unread) = queue_memberships(client, jobs).await?;
            exact.queues = Some(queues);
            exact.unread_queues = unread;
        }
        if groups {
            exact.group_names = client
                .list_all(Catalog::Groups)
                .await?
                .into_iter()
                .map(|g| (g.id, g.name))
                .collect();
        }
        Ok(exact)
    }

    /// Without `--exact`: the grants the adds need (a role the row names
    /// that the user holds, whose division decides whether it is granted),
    /// read role by role when that costs fewer requests than one read a
    /// user (see `cheapest_grants`). Two users or fewer are left to the
    /// per-user read: the roles listing alone would cost as much.
    async fn read_add_grants(
        &mut self,
        client: &Arc<Client>,
        settings: &Settings,
        jobs: &[Job],
        wanted: &[Option<Wanted>],
    ) -> Result<(), CallError> {
        let mut reads: Vec<GrantRead> = Vec::new();
        for (job, wanted) in jobs.iter().zip(wanted) {
            let (Plan::Update { existing, .. }, Some(wanted)) = (&job.plan, wanted) else {
                continue;
            };
            if existing.is_deleted() || !plan::needs_grants(wanted, existing) {
                continue;
            }
            let held: Vec<String> = existing
                .authorization
                .iter()
                .flat_map(|a| a.roles.iter().map(|r| r.id.clone()))
                .collect();
            let mut adds: Vec<String> = Vec::new();
            for r in &wanted.roles {
                if held.contains(&r.role_id) && !adds.contains(&r.role_id) {
                    adds.push(r.role_id.clone());
                }
            }
            reads.push(GrantRead {
                id: existing.id.clone(),
                held: Some(held),
                groups: existing.groups.iter().map(|g| g.id.clone()).collect(),
                adds,
            });
        }
        if reads.len() <= 2 {
            return Ok(());
        }
        let org_roles = client.roles_for_removal().await?;
        let ids: Vec<String> = reads.iter().map(|r| r.id.clone()).collect();
        let read = cheapest_grants(client, reads, &org_roles, settings.concurrency);
        let (grants, errors) = read.await?;
        for id in ids {
            if let Some(held) = grants.get(&id) {
                self.add_grants.insert(id.clone(), as_grants(held));
            }
            self.for_adds.insert(id);
        }
        self.grant_errors = errors;
        // Also what the undo file takes (`into_reads`): not read again.
        self.grants.extend(grants);
        self.roles = Some(org_roles);
        Ok(())
    }

    /// What the undo file takes from these reads: grants, queues, group
    /// names and the org's roles.
    /// With a queue whose members could not be read, `queues` is no
    /// complete list of anyone's queues: the first such queue, and why.
    pub(super) fn into_reads(self) -> ExactReads {
        let unread = self.unread_queues.first().map(|q| {
            format!(
                "the members of queue {} could not be read ({})",
                q.name, q.why
            )
        });
        (
            self.grants,
            (self.queues, unread),
            self.group_names,
            self.roles,
        )
    }

    /// The row's outcome when what its removals need could not be read:
    /// nothing is removed (nor sent) for a user that was not read.
    pub(super) fn failure(&self, user_id: &str) -> Option<Outcome> {
        self.grant_errors.get(user_id).map(|error| {
            // The adds' words when they needed the read too (as when they read it).
            let what = if self.for_adds.contains(user_id) {
                "reading the user's role grants failed, so nothing was sent for this row"
            } else {
                "reading the user's role grants for --exact failed, so nothing was sent for this row"
            };
            failed_outcome(error, what).with_user_id(user_id)
        })
    }

    /// Whether this user's grants were read here (or their read failed):
    /// `Holdings` then does not read them again.
    pub(super) fn read_grants_of(&self, user_id: &str) -> bool {
        self.add_grants.contains_key(user_id) || self.grant_errors.contains_key(user_id)
    }

    /// The grants the adds need for this user, when read here.
    pub(super) fn add_grants(&self, user_id: &str) -> Option<&[Grant]> {
        self.add_grants.get(user_id).map(Vec::as_slice)
    }

    /// Plans the removals of one existing user's row into its steps, and
    /// fits the adds to them (see `plan::removals`).
    pub(super) fn fit(
        &self,
        settings: &Settings,
        row: &UserRow,
        user: &User,
        wanted: &Wanted,
        steps: &mut Steps,
    ) {
        let inactive = inactive_after(row, user);
        let holding = Holding {
            grants: self.grants.get(&user.id).map(Vec::as_slice),
            queues: self
                .queues
                .as_ref()
                .map(|q| q.get(&user.id).map(Vec::as_slice).unwrap_or(&[])),
            group_names: Some(&self.group_names),
            default_roles: Some(&self.defaults),
        };
        // A user this run restores is planned from its read as a deleted user: what it
        // kept (skills, languages, queues, groups) is compared; its roles are gone.
        let mut planned = if settings.exact {
            removals::plan(wanted, row.listed, user, &holding, inactive)
        } else {
            Removals::default()
        };
        removals::keep_listed(steps, &planned, wanted, &holding);
        if row.listed.queues {
            // A queue the row names fails it (see `Holdings::failure`); another is said.
            for q in &self.unread_queues {
                if !wanted.queues.iter().any(|w| w.id == q.id) {
                    planned.kept.push(format!(
                        "queue {} not compared: reading its members failed ({})",
                        q.name, q.why
                    ));
                }
            }
        }
        if inactive && !steps.roles.is_empty() {
            planned.kept.push(
                "roles: not compared for an inactive user (Genesys removes an inactive user's roles)"
                    .into(),
            );
        }
        planned.delete_user = row.state == Some(UserState::Deleted);
        removals::fit_steps(steps, &mut planned, wanted, user, inactive);
        steps.removals = planned;
    }
}

/// What `Exact` read, for the undo file (see `Exact::into_reads`).
pub(super) type ExactReads = (
    HashMap<String, Vec<HeldGrant>>,
    (Option<HashMap<String, Vec<HeldQueue>>>, Option<String>),
    HashMap<String, String>,
    Option<Roles>,
);

/// Every queue's members (a group's membership told apart), by user: what
/// `--exact` may take a user out of.
/// A queue whose members could not be read (a refusal that concerns that
/// queue alone, such as a 403 in its division) is left out, with why.
async fn queue_memberships(
    client: &Client,
    jobs: &[Job],
) -> Result<(HashMap<String, Vec<HeldQueue>>, Vec<UnreadQueue>), CallError> {
    let mut all = Vec::new();
    let mut unread = Vec::new();
    for q in client.list_all(Catalog::Queues).await? {
        let members = match client.queue_memberships(&q.id).await {
            Ok(members) => members,
            Err(e) if ends_run_for_queue(&e) => return Err(e),
            Err(e) => {
                tracing::warn!(queue = %q.name, error = %e, "preflight: a queue's members could not be read; --exact does not compare it");
                unread.push(UnreadQueue {
                    id: q.id,
                    name: q.name,
                    why: e.to_string(),
                });
                continue;
            }
        };
        all.push(QueueMembers {
            id: q.id,
            name: q.name,
            members,
        });
    }
    let mut by_user: HashMap<String, Vec<HeldQueue>> = HashMap::new();
    for job in jobs {
        if let Plan::Update { existing, .. } = &job.plan {
            by_user.insert(existing.id.clone(), memberships_of(&existing.id, &all));
        }
    }
    Ok((by_user, unread))
}

/// A queue `--exact` could not compare: its members read was refused.
pub(super) struct UnreadQueue {
    id: String,
    name: String,
    why: String,
}

/// The grants of these users, read the cheaper way: one read a user, or
/// (when the roles they hold have few holders in all) each role's subjects
/// a page of 100 at a time. Default roles are not read: never removed.
///
/// The users whose removals alone need the read (no `adds`) are read as
/// they always were: role by role when that costs fewer requests than one
/// a user, else one a user. A user whose adds need its grants too (it
/// holds a role its row names) is read role by role when the roles it
/// holds are read anyway, or when reading the few roles such users hold
/// costs fewer requests than reading each of them; else on its own, as the
/// adds always read it. So no run reads more than before. Its grants are
/// then those its own read would show (`grants_as_read_per_user`: the
/// divisions of a group's grants included); a user for which the role
/// reads cannot tell that (a role held with neither it nor one of its
/// groups among the subjects) is read on its own after all.
async fn cheapest_grants(
    client: &Arc<Client>,
    users: Vec<GrantRead>,
    roles: &Roles,
    concurrency: usize,
) -> Result<GrantReads, CallError> {
    let mut per_user: Vec<String> = Vec::new();
    // Users the roles may tell, with the roles to read for them.
    let mut removals_only: Vec<(GrantRead, BTreeSet<String>)> = Vec::new();
    let mut with_adds: Vec<(GrantRead, BTreeSet<String>)> = Vec::new();
    for user in users {
        let Some(held) = &user.held else {
            per_user.push(user.id);
            continue;
        };
        let mut needed: BTreeSet<String> = held
            .iter()
            .filter(|r| !roles.defaults.contains(*r))
            .cloned()
            .collect();
        if user.adds.is_empty() {
            removals_only.push((user, needed));
        } else {
            // A default role the row names is read like any other: every
            // user holds it, so its pages cost what the org's size says.
            needed.extend(user.adds.iter().cloned());
            with_adds.push((user, needed));
        }
    }
    let pages = |set: &BTreeSet<String>| -> Option<u64> {
        set.iter()
            .map(|r| {
                let holders = roles.counts.get(r).and_then(|(_, count)| *count)?;
                Some(holders.div_ceil(SUBJECT_GRANTS_PAGE).max(1))
            })
            .sum()
    };
    let mut read: BTreeSet<String> = removals_only
        .iter()
        .flat_map(|(_, n)| n.iter().cloned())
        .collect();
    match pages(&read) {
        Some(p) if p < removals_only.len() as u64 => {}
        _ => {
            read.clear();
            per_user.extend(removals_only.drain(..).map(|(u, _)| u.id));
        }
    }
    // The users with adds the roles read so far tell, and the roles the others need.
    let (mut by_role, rest): (Vec<_>, Vec<_>) =
        with_adds.into_iter().partition(|(_, n)| n.is_subset(&read));
    let more: BTreeSet<String> = rest
        .iter()
        .flat_map(|(_, n)| n.difference(&read).cloned())
        .collect();
    match pages(&more) {
        Some(p) if p < rest.len() as u64 => {
            read.extend(more);
            by_role.extend(rest);
        }
        _ => per_user.extend(rest.into_iter().map(|(u, _)| u.id)),
    }
    let mut grants = HashMap::new();
    if !read.is_empty() {
        let subjects = read_role_subjects(client, roles, read, concurrency).await?;
        // The roles held, in the order the search shows them (the adds' are among them).
        let held = |u: &GrantRead| -> Vec<String> {
            u.held
                .iter()
                .flatten()
                .filter(|r| !roles.defaults.contains(*r) || u.adds.contains(r))
                .cloned()
                .collect()
        };
        for (user, _) in removals_only {
            let found = grants_from_roles(&user.id, &held(&user), &user.groups, &subjects);
            grants.insert(user.id, found);
        }
        for (user, _) in by_role {
            match grants_as_read_per_user(&user.id, &held(&user), &user.groups, &subjects) {
                Some(found) => {
                    grants.insert(user.id, found);
                }
                None => per_user.push(user.id),
            }
        }
    }
    let (read, errors) = read_grants(client, per_user, concurrency).await?;
    grants.extend(read);
    Ok((grants, errors))
}

/// Grants as the adds take them (`plan::steps_for_existing`): a group's
/// grant keeps its division, so a role the user holds through a group in
/// the division its row names is not granted again, as with its own read.
fn as_grants(held: &[HeldGrant]) -> Vec<Grant> {
    held.iter()
        .map(|g| Grant {
            role: Named {
                id: g.role_id.clone(),
                name: g.role_name.clone(),
            },
            division: Named {
                id: g.division_id.clone(),
                name: g.division_name.clone(),
            },
        })
        .collect()
}

/// A user whose grants are read.
struct GrantRead {
    id: String,
    /// The roles the search shows it holds (when it shows them).
    held: Option<Vec<String>>,
    /// The groups it is in.
    groups: Vec<String>,
    /// The roles its row names that it holds: its adds need their divisions.
    adds: Vec<String>,
}

/// Grants read per user, and the users whose read failed (and why).
type GrantReads = (HashMap<String, Vec<HeldGrant>>, HashMap<String, CallError>);

/// Reads the grants of these users, `concurrency` at a time. A read that
/// fails for one user fails its row only; a stop, the token or a 403 end
/// the run (see `holdings::ends_run`).
pub(super) async fn read_grants(
    client: &Arc<Client>,
    users: Vec<String>,
    concurrency: usize,
) -> Result<GrantReads, CallError> {
    let queue = Arc::new(std::sync::Mutex::new(users));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (client, queue) = (Arc::clone(client), Arc::clone(&queue));
        set.spawn(async move {
            let (mut read, mut failed) = (HashMap::new(), HashMap::new());
            loop {
                let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop();
                let Some(id) = next else {
                    return Ok((read, failed));
                };
                match client.held_grants(&id).await {
                    Ok(grants) => {
                        read.insert(id, grants);
                    }
                    Err(e) if ends_run(&e) => return Err(e),
                    Err(e) => {
                        tracing::warn!(user = %id, error = %e, "preflight: a user's grants could not be read; its row fails");
                        failed.insert(id, e);
                    }
                }
            }
        });
    }
    let (mut all, mut failed) = (HashMap::new(), HashMap::new());
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(Ok((read, errors))) => {
                all.extend(read);
                failed.extend(errors);
            }
            Ok(Err(e)) => return Err(e),
            Err(e) => return Err(CallError::BadResponse(format!("a grants read failed: {e}"))),
        }
    }
    Ok((all, failed))
}

/// Every subject (users and groups, with their divisions) of each role in
/// `read`, by role id: the role-by-role grant read.
pub(super) async fn read_role_subjects(
    client: &Client,
    roles: &Roles,
    read: impl IntoIterator<Item = String>,
    concurrency: usize,
) -> Result<HashMap<String, RoleSubjects>, CallError> {
    let mut subjects = HashMap::new();
    for role in read {
        let name = roles.counts.get(&role).map(|(n, _)| n.clone());
        let listed = client.role_subject_grants(&role, concurrency).await?;
        subjects.insert(role, RoleSubjects::new(name.unwrap_or_default(), listed));
    }
    Ok(subjects)
}
