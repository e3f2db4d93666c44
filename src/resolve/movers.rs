//! Why this exists: movers and leavers (`--update --exact`, `state` =
//! `inactive`/`deleted`). Every removal is planned here, in the read-only
//! preflight, from one read of each user: its grants (`GET
//! /api/v2/authorization/subjects/{id}`, which tells a group's grants from
//! the user's own; or, cheaper for many users, each held role's subject
//! grants, whose `PC_USER` subjects are direct grants), the members of every queue (which tell a group's
//! memberships from the user's own), and the user as the search returned
//! it (skills, languages, groups). The plan is `plan::removals`; nothing
//! is read for a row whose cells leave every kind alone.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use crate::genesys::catalog::Catalog;
use crate::genesys::removals::{grants_from_roles, memberships_of, HeldGrant, HeldQueue};
use crate::genesys::removals::{QueueMembers, Roles, SUBJECT_GRANTS_PAGE};
use crate::genesys::users::User;
use crate::genesys::{CallError, Client};
use crate::input::{Row, UserRow, UserState};
use crate::plan::removals::{self, Holding, Removals};
use crate::plan::{failed_outcome, Job, Outcome, Plan, Status, Steps, Wanted};

use super::holdings::ends_run;
use super::{Holdings, Settings};

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
        if user.state == Some(UserState::Deleted) {
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
    /// user id -> its queues; `None`: no exact queues cell in the file.
    queues: Option<HashMap<String, Vec<HeldQueue>>>,
    defaults: HashSet<String>,
    group_names: HashMap<String, String>,
}

impl Exact {
    /// Reads what the exact rows need: grants per user (those the adds
    /// already read are reused), default roles, and queue members and
    /// group names when a row lists queues or groups.
    pub(super) async fn read(
        client: &Arc<Client>,
        settings: &Settings,
        jobs: &[Job],
        wanted: &[Option<Wanted>],
        holdings: &Holdings,
    ) -> Result<Exact, CallError> {
        let mut exact = Exact::default();
        if !(settings.update && settings.exact) {
            return Ok(exact);
        }
        // Users whose grants must be read, with the roles the search shows they hold.
        let mut grant_reads: Vec<GrantRead> = Vec::new();
        let (mut roles, mut queues, mut groups) = (false, false, false);
        for (job, wanted) in jobs.iter().zip(wanted) {
            let (Plan::Update { user, existing, .. }, Some(_)) = (&job.plan, wanted) else {
                continue;
            };
            // A user restored by this run is not read before: nothing is removed from it.
            if existing.is_deleted() {
                continue;
            }
            let listed = user.listed;
            if listed.roles && !inactive_after(user, existing) {
                roles = true;
                let holds_none = existing
                    .authorization
                    .as_ref()
                    .is_some_and(|a| a.roles.is_empty());
                if holds_none {
                    exact.grants.insert(existing.id.clone(), Vec::new());
                } else if !holdings.grants.contains_key(&existing.id) {
                    let held = existing
                        .authorization
                        .as_ref()
                        .map(|a| a.roles.iter().map(|r| r.id.clone()).collect());
                    let groups = existing.groups.iter().map(|g| g.id.clone()).collect();
                    grant_reads.push((existing.id.clone(), held, groups));
                }
            }
            queues |= listed.queues;
            groups |= listed.groups && !existing.groups.is_empty();
        }
        for (id, grants) in &holdings.grants {
            exact.grants.insert(
                id.clone(),
                grants
                    .iter()
                    .map(|g| HeldGrant {
                        inherited: g.subject_id.as_deref().is_some_and(|s| s != id),
                        role_id: g.role.id.clone(),
                        role_name: g.role.name.clone(),
                        division_id: g.division.id.clone(),
                        division_name: if g.division.id == "*" {
                            "*".into()
                        } else {
                            g.division.name.clone()
                        },
                    })
                    .collect(),
            );
        }
        if roles {
            let org_roles = client.roles_for_removal().await?;
            let read = cheapest_grants(client, grant_reads, &org_roles, settings.concurrency);
            let (grants, errors) = read.await?;
            exact.grants.extend(grants);
            exact.grant_errors = errors;
            exact.defaults = org_roles.defaults;
        }
        if queues {
            let mut all = Vec::new();
            for q in client.list_all(Catalog::Queues).await? {
                let members = client.queue_memberships(&q.id).await?;
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
            exact.queues = Some(by_user);
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

    /// The row's outcome when what its removals need could not be read:
    /// nothing is removed (nor sent) for a user that was not read.
    pub(super) fn failure(&self, user_id: &str) -> Option<Outcome> {
        self.grant_errors.get(user_id).map(|error| {
            failed_outcome(
                error,
                "reading the user's role grants for --exact failed, so nothing was sent for this row",
            )
            .with_user_id(user_id)
        })
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
        let mut planned = if settings.exact && !user.is_deleted() {
            removals::plan(wanted, row.listed, user, &holding, inactive)
        } else {
            Removals::default()
        };
        if inactive && !steps.roles.is_empty() {
            planned.kept.push(
                "roles: not compared for an inactive user (Genesys removes an inactive user's roles)"
                    .into(),
            );
        }
        planned.delete_user = row.state == Some(UserState::Deleted);
        removals::fit_steps(steps, &mut planned, wanted, inactive);
        steps.removals = planned;
    }
}

/// The grants of these users, read the cheaper way: one read a user, or
/// (when the roles they hold have few holders in all) each role's subjects
/// a page of 100 at a time. Default roles are not read: never removed.
async fn cheapest_grants(
    client: &Arc<Client>,
    users: Vec<GrantRead>,
    roles: &Roles,
    concurrency: usize,
) -> Result<GrantReads, CallError> {
    let (known, unknown): (Vec<_>, Vec<_>) = users.into_iter().partition(|(_, h, _)| h.is_some());
    let mut per_user: Vec<String> = unknown.into_iter().map(|(id, _, _)| id).collect();
    let held = |h: &Option<Vec<String>>| -> Vec<String> {
        h.iter()
            .flatten()
            .filter(|r| !roles.defaults.contains(*r))
            .cloned()
            .collect()
    };
    let needed: BTreeSet<String> = known.iter().flat_map(|(_, h, _)| held(h)).collect();
    let pages: Option<u64> = needed
        .iter()
        .map(|r| {
            let holders = roles.counts.get(r).and_then(|(_, count)| *count)?;
            Some(holders.div_ceil(SUBJECT_GRANTS_PAGE).max(1))
        })
        .sum();
    let mut grants = HashMap::new();
    match pages {
        Some(pages) if pages < known.len() as u64 => {
            let mut subjects = HashMap::new();
            for role in needed {
                let name = roles.counts.get(&role).map(|(n, _)| n.clone());
                let listed = client.role_subject_grants(&role).await?;
                subjects.insert(role, (name.unwrap_or_default(), listed));
            }
            for (id, h, groups) in known {
                let found = grants_from_roles(&id, &held(&h), &groups, &subjects);
                grants.insert(id, found);
            }
        }
        _ => per_user.extend(known.into_iter().map(|(id, _, _)| id)),
    }
    let (read, errors) = read_grants(client, per_user, concurrency).await?;
    grants.extend(read);
    Ok((grants, errors))
}

/// A user whose grants are read: its id, the roles the search shows it
/// holds (when it shows them) and the groups it is in.
type GrantRead = (String, Option<Vec<String>>, Vec<String>);

/// Grants read per user, and the users whose read failed (and why).
type GrantReads = (HashMap<String, Vec<HeldGrant>>, HashMap<String, CallError>);

/// Reads the grants of these users, `concurrency` at a time. A read that
/// fails for one user fails its row only; a stop, the token or a 403 end
/// the run (see `holdings::ends_run`).
async fn read_grants(
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
