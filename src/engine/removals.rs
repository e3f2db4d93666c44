//! Why this exists: the removals `--update --exact` planned in the
//! preflight, and deletions, applied after the adds. Per user: the
//! deletion (`DELETE /api/v2/users/{id}`), role grants the user keeps the
//! role elsewhere after (one `bulkremove`), skills (one replacing PUT, or a
//! DELETE each) and languages (a DELETE each). Across users, the way adds
//! are batched: a role the user holds in no division after its row per
//! role and 100 users (`roles/{id}/users/remove`: whether it removes the
//! role in every division is unverified, and for those users it does not
//! matter), queue members per queue and 100 users, group members per group
//! and 50 users. Only the users rows name are ever sent; a refused batch is
//! split until the refusal is pinned on one row, so a failed removal fails
//! that row alone (`incomplete`), and the row's other removals are still
//! done.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::engine::{isolating, Engine, Held};
use crate::genesys::provisioning::RatedKind;
use crate::genesys::removals::{
    Removal, GROUP_REMOVE_BATCH, QUEUE_REMOVE_BATCH, ROLE_REMOVE_BATCH,
};
use crate::genesys::CallError;
use crate::plan::removals::Removals;
use crate::plan::{error_failure, Change, Failure, Member, RoleGrant, RowLog};
use crate::users::Field;

/// A row whose removals may be sent: its user is its own, and the run goes on.
fn ready(h: &Held) -> bool {
    h.log.ensured && !h.log.user_id.as_deref().unwrap_or("").is_empty()
}

/// A failure, naming the permission when Genesys refused one.
fn removal_failure(error: &CallError, context: &str, permission: &str) -> Failure {
    let mut failure = error_failure(error, context);
    if failure.http_status == Some(403) {
        failure.message = format!("{} (needs {permission})", failure.message);
    }
    failure
}

/// Records one step's answer for these changes.
fn settle(
    log: &mut RowLog,
    result: &Result<(), CallError>,
    changes: Vec<Change>,
    context: &str,
    permission: &str,
) {
    match result {
        Ok(()) => log.done.extend(changes),
        Err(CallError::Stopped) => log.stopped_before.extend(changes),
        Err(e) => log.fail(removal_failure(e, context, permission)),
    }
}

/// A removal found already gone is said in the row's message, not listed
/// as done (this run changed nothing); `None` then, else the answer.
fn gone(
    log: &mut RowLog,
    sent: Result<Removal, CallError>,
    note: &str,
) -> Option<Result<(), CallError>> {
    match sent {
        Ok(Removal::AlreadyGone) => {
            log.notes.push(format!("{note} (404)"));
            None
        }
        other => Some(other.map(|_| ())),
    }
}

/// The note for role grants found already gone.
fn roles_gone(grants: &[RoleGrant]) -> String {
    let labels: Vec<&str> = grants.iter().map(|g| g.label.as_str()).collect();
    format!("role {} was already gone", labels.join(", "))
}

/// Records the answer for the removal of these role grants.
fn settle_roles(
    log: &mut RowLog,
    result: &Result<(), CallError>,
    grants: &[RoleGrant],
    context: &str,
) {
    let changes = grants
        .iter()
        .map(|r| Change::RemoveRole(r.label.clone()))
        .collect();
    settle(log, result, changes, context, "authorization:grant:delete");
}

/// The cross-user removal batches.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Leave {
    Queue,
    Group,
}

impl Engine {
    /// Every held row's planned removals; returns the rows for the steps after.
    pub(crate) async fn removals(self: Arc<Self>, mut held: Vec<Held>) -> Vec<Held> {
        for h in held.iter_mut() {
            let kept = h.follow.steps.removals.kept.clone();
            h.log.notes.extend(kept);
        }
        if !held.iter().any(|h| h.follow.steps.removals.sends()) {
            return held;
        }
        let mut held = Arc::clone(&self).each_user(held).await;
        self.leave_roles(&mut held).await;
        self.leave(&mut held, Leave::Queue).await;
        self.leave(&mut held, Leave::Group).await;
        held
    }

    /// The per-user removals, `concurrency` users at a time.
    async fn each_user(self: Arc<Self>, held: Vec<Held>) -> Vec<Held> {
        self.each_held(held, "removal", |this, mut h| async move {
            if ready(&h) {
                this.user_removals(&mut h).await;
            }
            h
        })
        .await
    }

    async fn user_removals(&self, h: &mut Held) {
        let removals = h.follow.steps.removals.clone();
        let client = &self.applier.client;
        let user_id = h.follow.user.id.clone();
        let stopped = || {
            if self.stop.is_raised() {
                Err(CallError::Stopped)
            } else {
                Ok(())
            }
        };
        if removals.delete_user {
            let sent = match stopped() {
                Ok(()) => client.delete_user(&user_id).await,
                Err(e) => Err(e),
            };
            let Some(sent) = gone(&mut h.log, sent, "the user was already deleted") else {
                return;
            };
            let permission = "directory:user:delete (or admin)";
            settle(
                &mut h.log,
                &sent,
                vec![Change::Field(Field::State)],
                "deleting the user",
                permission,
            );
            return;
        }
        // A role the user keeps in another division: this user's grants alone.
        let (_, own) = removals.split_roles(&h.follow.steps.roles);
        if !own.is_empty() {
            let sent = match stopped() {
                Ok(()) => self.remove_grants(&user_id, &own).await,
                Err(e) => Err(e),
            };
            if let Some(sent) = gone(&mut h.log, sent, &roles_gone(&own)) {
                settle_roles(&mut h.log, &sent, &own, "removing roles");
            }
        }
        self.rated_removals(h, &removals).await;
    }

    /// `bulkremove` of these grants from one user (one grant at a time
    /// when Genesys refuses the bulk).
    async fn remove_grants(
        &self,
        user_id: &str,
        grants: &[RoleGrant],
    ) -> Result<Removal, CallError> {
        let pairs: Vec<(String, String)> = grants
            .iter()
            .map(|r| (r.role_id.clone(), r.division_id.clone()))
            .collect();
        self.applier.client.remove_grants(user_id, &pairs).await
    }

    /// Roles users hold in no division after their rows, across users: one
    /// `roles/{id}/users/remove` per role and `ROLE_REMOVE_BATCH` users. A
    /// batch refused with 400 (or 413: the cap is undocumented) is split until the refusal is pinned on one
    /// row; a 404 (the role is gone) sends those users' grants of it the
    /// per-user way (`bulkremove`, then one grant at a time, 404s ignored).
    async fn leave_roles(&self, held: &mut [Held]) {
        let mut by_role: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, h) in held.iter().enumerate() {
            if !ready(h) || h.follow.steps.removals.delete_user {
                continue;
            }
            let (batched, _) = h.follow.steps.removals.split_roles(&h.follow.steps.roles);
            let roles: BTreeSet<String> = batched.into_iter().map(|r| r.role_id).collect();
            for role in roles {
                by_role.entry(role).or_default().push(i);
            }
        }
        // The row's grants of `role` (one a division it held the role in).
        let grants_of = |h: &Held, role: &str| -> Vec<RoleGrant> {
            let (batched, _) = h.follow.steps.removals.split_roles(&h.follow.steps.roles);
            batched.into_iter().filter(|r| r.role_id == role).collect()
        };
        for (role, rows) in by_role {
            for chunk in rows.chunks(ROLE_REMOVE_BATCH) {
                let ids: Vec<String> = chunk
                    .iter()
                    .map(|i| held[*i].follow.user.id.clone())
                    .collect();
                let client = &self.applier.client;
                // A refused batch (400, or 413: the cap is undocumented) is split.
                let splits = |e: &CallError| {
                    matches!(
                        e,
                        CallError::Rejected {
                            status: 400 | 413,
                            ..
                        }
                    )
                };
                let role = &role;
                let answers = isolating(&ids, splits, &self.stop, |part| async move {
                    client.remove_role_users(role, &part).await
                })
                .await;
                for (&i, sent) in chunk.iter().zip(answers) {
                    let grants = grants_of(&held[i], role);
                    if let Err(CallError::Rejected { status: 404, .. }) = sent {
                        // The role is gone: the per-user way, 404s ignored.
                        let user_id = held[i].follow.user.id.clone();
                        let sent = if self.stop.is_raised() {
                            Err(CallError::Stopped)
                        } else {
                            self.remove_grants(&user_id, &grants).await
                        };
                        let log = &mut held[i].log;
                        if let Some(sent) = gone(log, sent, &roles_gone(&grants)) {
                            settle_roles(log, &sent, &grants, "removing roles");
                        }
                        continue;
                    }
                    let name = grants
                        .first()
                        .map(|g| {
                            g.label
                                .rsplit_once('@')
                                .map_or(&*g.label, |(n, _)| n)
                                .to_string()
                        })
                        .unwrap_or_default();
                    let context = format!("removing role `{name}`");
                    settle_roles(&mut held[i].log, &sent, &grants, &context);
                }
            }
        }
    }

    /// Skills (the replacing PUT, or a DELETE each) and languages (a DELETE each).
    async fn rated_removals(&self, h: &mut Held, removals: &Removals) {
        let client = &self.applier.client;
        let user_id = h.follow.user.id.clone();
        let stopped = || {
            if self.stop.is_raised() {
                Err(CallError::Stopped)
            } else {
                Ok(())
            }
        };
        let skill_permission = "routing:skill:assign";
        if let Some(all) = &removals.skills_replace {
            let pairs: Vec<(String, f64)> = all.iter().map(|s| (s.id.clone(), s.rating)).collect();
            let sent = match stopped() {
                Ok(()) => client.replace_skills(&user_id, &pairs).await,
                e => e,
            };
            let mut changes: Vec<Change> = removals
                .skill_adds
                .iter()
                .map(|s| Change::AddSkill(s.label.clone()))
                .collect();
            changes.extend(
                removals
                    .skills
                    .iter()
                    .map(|s| Change::RemoveSkill(s.name.clone())),
            );
            settle(
                &mut h.log,
                &sent,
                changes,
                "setting skills",
                skill_permission,
            );
        }
        // A DELETE each: the skills the replacing PUT did not cover, and languages.
        let skills: &[Member] = if removals.skills_replace.is_some() {
            &[]
        } else {
            &removals.skills
        };
        let each: [(RatedKind, &[Member], &str, &str); 2] = [
            (RatedKind::Skills, skills, "skill", skill_permission),
            (
                RatedKind::Languages,
                &removals.languages,
                "language",
                "routing:skill:assign or routing:language:assign",
            ),
        ];
        for (kind, items, noun, permission) in each {
            for item in items {
                let sent = match stopped() {
                    Ok(()) => client.remove_rated(&user_id, kind, &item.id).await,
                    Err(e) => Err(e),
                };
                let already = format!("{noun} {} was already gone", item.name);
                let Some(sent) = gone(&mut h.log, sent, &already) else {
                    continue;
                };
                let change = match kind {
                    RatedKind::Skills => Change::RemoveSkill(item.name.clone()),
                    RatedKind::Languages => Change::RemoveLanguage(item.name.clone()),
                };
                settle(
                    &mut h.log,
                    &sent,
                    vec![change],
                    &format!("removing {noun} {}", item.name),
                    permission,
                );
            }
        }
    }

    /// Queue or group removals across users: grouped by queue (group), in
    /// batches of the documented size. A refused batch is split until the
    /// refusal is pinned on one row, so it fails that row alone.
    async fn leave(&self, held: &mut [Held], kind: Leave) {
        let mut by_target: BTreeMap<String, (String, Vec<usize>)> = BTreeMap::new();
        for (i, h) in held.iter().enumerate() {
            if !ready(h) {
                continue;
            }
            let removals = &h.follow.steps.removals;
            let items = match kind {
                Leave::Queue => &removals.queues,
                Leave::Group => &removals.groups,
            };
            for item in items {
                by_target
                    .entry(item.id.clone())
                    .or_insert_with(|| (item.name.clone(), Vec::new()))
                    .1
                    .push(i);
            }
        }
        let size = match kind {
            Leave::Queue => QUEUE_REMOVE_BATCH,
            Leave::Group => GROUP_REMOVE_BATCH,
        };
        let (change_of, context_of, permission): (fn(String) -> Change, &str, &str) = match kind {
            Leave::Queue => (
                Change::RemoveQueue,
                "queue",
                "routing:queue:edit or routing:queueMember:manage",
            ),
            Leave::Group => (
                Change::RemoveGroup,
                "group",
                "the groups scope and Directory > Group > Edit",
            ),
        };
        let client = &self.applier.client;
        for (target, (name, rows)) in by_target {
            for chunk in rows.chunks(size) {
                let ids: Vec<String> = chunk
                    .iter()
                    .map(|i| held[*i].follow.user.id.clone())
                    .collect();
                let splits = |e: &CallError| {
                    matches!(
                        e,
                        CallError::Rejected {
                            status: 400 | 404,
                            ..
                        }
                    )
                };
                let target = &target;
                let answers = isolating(&ids, splits, &self.stop, |part| async move {
                    match kind {
                        Leave::Queue => client.remove_queue_members(target, &part).await,
                        Leave::Group => client.remove_group_members(target, &part).await,
                    }
                })
                .await;
                let context = format!("removing the user from {context_of} `{name}`");
                for (&i, sent) in chunk.iter().zip(answers) {
                    settle(
                        &mut held[i].log,
                        &sent,
                        vec![change_of(name.clone())],
                        &context,
                        permission,
                    );
                }
            }
        }
    }
}
