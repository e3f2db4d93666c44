//! Why this exists: the steps that wait for the barrier, because they batch
//! across users or need every user to exist. In order: division moves (one
//! request per division and 50 users), the profile PATCH of new users
//! (employer info, manager, location; one versioned PATCH using the version
//! the create returned), skills and languages (one bulk PATCH each per
//! user), role grants (one request per role, division and 100 users), queue
//! members (per queue and 100 users), group members (per group and 50
//! users, with the group's version), and invitations. Steps are
//! independent: a failed one is recorded and the row's other steps are
//! still done (`incomplete`, every failure named); a re-run with `--update`
//! completes it. A batch that one member poisons is split in halves until
//! the refusal is that member's alone.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Value};

use crate::engine::stages::{planned_steps, Stage};
use crate::engine::{isolating, Engine, Held};
use crate::genesys::authorization::MOVE_BATCH;
use crate::genesys::provisioning::{RatedKind, GROUP_BATCH, QUEUE_BATCH, ROLE_BATCH};
use crate::genesys::users::User;
use crate::genesys::CallError;
use crate::input::UserRow;
use crate::plan::error_failure;
use crate::plan::{placements, ManagerTarget, RatedItem};
use crate::plan::{Change, Failure, Job, Plan};
use crate::users::diff::{self, Patch};
use crate::users::Field;

/// Tries of a queue or group member add that answers 404 (a user created
/// seconds ago is not visible there yet).
const LAG_TRIES: u32 = 6;
/// Tries of a group member add that meets a newer group version.
const GROUP_VERSION_TRIES: u32 = 4;

/// The cross-user batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Batch {
    Move,
    Role,
    Queue,
    Group,
}

impl Batch {
    fn size(self) -> usize {
        match self {
            Batch::Move => MOVE_BATCH,
            Batch::Role => ROLE_BATCH,
            Batch::Queue => QUEUE_BATCH,
            Batch::Group => GROUP_BATCH,
        }
    }

    /// What Genesys wants for this step (docs/genesys-api.md#provisioning), for 403s.
    fn permission(self) -> &'static str {
        match self {
            Batch::Move => "directory:user:edit in the divisions moved from and to",
            Batch::Role => "authorization:grant:add",
            Batch::Queue => "routing:queue:edit or routing:queueMember:manage",
            Batch::Group => "the groups scope and Directory > Group > Edit",
        }
    }
}

/// Whether the row's steps can be tried: its user is known. A failed
/// step does not make the others pointless.
fn usable(h: &Held) -> bool {
    !h.follow.user.id.is_empty()
}

/// A refusal that may be one member's doing (a user that does not exist, or
/// cannot be added), so splitting the batch can isolate it. A 403, a 429 or
/// a 5xx concerns every member alike.
fn member_specific(error: &CallError) -> bool {
    // 413: a batch too large for an undocumented cap; its halves may pass.
    matches!(
        error,
        CallError::Rejected {
            status: 400 | 404 | 409 | 413 | 422,
            ..
        }
    )
}

/// A failure, naming the permission when Genesys refused one.
fn step_failure(error: &CallError, context: &str, permission: &str) -> Failure {
    let mut failure = error_failure(error, context);
    if failure.http_status == Some(403) {
        failure.message = format!("{} (needs {permission})", failure.message);
    }
    failure
}

impl Engine {
    pub(crate) async fn follow_ups(self: Arc<Self>, jobs: Arc<Vec<Job>>, held: Vec<Held>) {
        if held.is_empty() {
            return;
        }
        let mut held = held;
        let steps = held.iter().map(|h| planned_steps(&h.follow)).sum();
        self.progress.phase("steps", steps);
        self.batched(&mut held, Batch::Move).await;
        self.progress
            .stage_done(Stage::Move, held.iter().map(|h| &h.follow));
        let mut held = Arc::clone(&self).per_user(&jobs, held, false).await;
        for (batch, stage) in [
            (Batch::Role, Stage::Roles),
            (Batch::Queue, Stage::Queues),
            (Batch::Group, Stage::Groups),
        ] {
            self.batched(&mut held, batch).await;
            self.progress
                .stage_done(stage, held.iter().map(|h| &h.follow));
        }
        // WebRTC phones (engine/phones.rs): before a deletion takes the user.
        held = Arc::clone(&self).phones(held).await;
        self.progress
            .stage_done(Stage::Phones, held.iter().map(|h| &h.follow));
        // Movers and leavers: what `--exact` takes away, and deletions (engine/removals.rs).
        held = Arc::clone(&self).removals(held).await;
        let mut held = Arc::clone(&self).per_user(&jobs, held, true).await;
        held.sort_by_key(|h| h.index);
        for h in held {
            if let Some(job) = jobs.get(h.index) {
                if !self.record(job, h.log.outcome()) {
                    return;
                }
            }
        }
    }

    /// Runs the per-user steps (profile PATCH, skills, languages; or the
    /// invitation) with `concurrency` users at a time.
    async fn per_user(
        self: Arc<Self>,
        jobs: &Arc<Vec<Job>>,
        held: Vec<Held>,
        invite: bool,
    ) -> Vec<Held> {
        let jobs = Arc::clone(jobs);
        self.each_held(held, "follow-up", move |this, mut h| {
            let jobs = Arc::clone(&jobs);
            async move {
                if invite {
                    this.invite(&mut h).await;
                    this.progress.stage_done(Stage::Invite, [&h.follow]);
                } else {
                    this.user_steps(&jobs, &mut h).await;
                    this.progress.stage_done(Stage::Profile, [&h.follow]);
                }
                h
            }
        })
        .await
    }

    async fn user_steps(&self, jobs: &[Job], h: &mut Held) {
        if !usable(h) {
            return;
        }
        let Some(job) = jobs.get(h.index) else { return };
        let (Plan::Create { user: row, .. } | Plan::Update { user: row, .. }) = &job.plan else {
            return;
        };
        // Independent steps: a failed profile PATCH does not hold back skills.
        self.profile_step(row, h).await;
        self.rated_steps(h).await;
    }

    /// Employer info, manager, location: one versioned PATCH, built from
    /// (and merged into) the row's one snapshot of its user.
    async fn profile_step(&self, row: &UserRow, h: &mut Held) {
        let manager = match &h.follow.steps.manager {
            None => None,
            Some(ManagerTarget::Clear) => Some(String::new()),
            Some(ManagerTarget::Id(id)) => Some(id.clone()),
            Some(ManagerTarget::Row(email)) => {
                match self
                    .ids
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(email)
                {
                    Some(id) => Some(id.clone()),
                    None => {
                        h.log.fail(Failure::message(format!(
                            "manager: {email} was not created by this run, so it cannot be this user's manager yet; a re-run with --update sets it"
                        )));
                        None
                    }
                }
            }
        };
        let location = h.follow.steps.location.clone();
        let employer = h.follow.employer;
        if employer || manager.is_some() || location.is_some() {
            let build = |u: &User| -> Patch {
                let mut patch = if employer {
                    diff::follow_up_patch(row, u)
                } else {
                    Patch::default()
                };
                if let Some(id) = &manager {
                    if u.manager.as_ref().map(|m| m.id.as_str()).unwrap_or("") != id {
                        patch.body.insert("manager".into(), json!(id));
                        patch.fields.push(Field::Manager);
                    }
                }
                // Rebuilt from the snapshot on every try: a user already
                // placed there is left as is (its placement details kept).
                if let Some(list) = location.as_ref().and_then(|l| placements(l, u)) {
                    patch.body.insert("locations".into(), Value::Array(list));
                    patch.fields.push(Field::Location);
                }
                patch
            };
            let mut user = h.follow.user.clone();
            self.applier.patch(&mut h.log, &mut user, &build).await;
            h.follow.user = user;
        }
    }

    /// Skills and languages: one bulk PATCH each.
    async fn rated_steps(&self, h: &mut Held) {
        for (kind, items) in [
            (RatedKind::Skills, h.follow.steps.skills.clone()),
            (RatedKind::Languages, h.follow.steps.languages.clone()),
        ] {
            if items.is_empty() {
                continue;
            }
            let change = |i: &RatedItem| match kind {
                RatedKind::Skills => Change::AddSkill(i.label.clone()),
                RatedKind::Languages => Change::AddLanguage(i.label.clone()),
            };
            if self.stop.is_raised() {
                h.log.stopped_before.extend(items.iter().map(change));
                return;
            }
            let pairs: Vec<(String, f64)> =
                items.iter().map(|i| (i.id.clone(), i.rating)).collect();
            match self
                .applier
                .client
                .rate(&h.follow.user.id, kind, &pairs)
                .await
            {
                Ok(()) => h.log.done.extend(items.iter().map(change)),
                Err(CallError::Stopped) => {
                    h.log.stopped_before.extend(items.iter().map(change));
                    return;
                }
                // Recorded; the other kind is still tried.
                Err(e) => {
                    let (what, permission) = match kind {
                        RatedKind::Skills => ("adding skills", "routing:skill:assign"),
                        RatedKind::Languages => (
                            "adding languages",
                            "routing:skill:assign or routing:language:assign",
                        ),
                    };
                    h.log.fail(step_failure(&e, what, permission));
                }
            }
        }
    }

    /// Independent of the other steps: an invitation is sent even when
    /// another step of the row failed.
    async fn invite(&self, h: &mut Held) {
        if !h.follow.steps.invite || !usable(h) {
            return;
        }
        if self.stop.is_raised() {
            h.log.stopped_before.push(Change::Invite);
            return;
        }
        match self.applier.client.invite(&h.follow.user.id).await {
            Ok(()) => h.log.done.push(Change::Invite),
            Err(CallError::Stopped) => h.log.stopped_before.push(Change::Invite),
            Err(e) => h.log.fail(step_failure(
                &e,
                "sending the invitation",
                "directory:user:setPassword (or admin)",
            )),
        }
    }

    /// One kind of cross-user batch: rows grouped by target, in batches of
    /// the documented size; each row's item is done or failed with its batch.
    async fn batched(&self, held: &mut [Held], batch: Batch) {
        // target -> (rows, their change, a name for messages)
        let mut by_target: BTreeMap<String, Vec<(usize, Change, String)>> = BTreeMap::new();
        for (i, h) in held.iter().enumerate() {
            if !usable(h) {
                continue;
            }
            let steps = &h.follow.steps;
            let items: Vec<(String, Change, String)> = match batch {
                Batch::Move => h
                    .follow
                    .move_to
                    .iter()
                    .map(|d| {
                        (
                            d.id.clone(),
                            Change::Field(Field::Division),
                            format!("division `{}`", d.name),
                        )
                    })
                    .collect(),
                Batch::Role => steps
                    .roles
                    .iter()
                    .map(|r| {
                        (
                            format!("{}|{}", r.role_id, r.division_id),
                            Change::AddRole(r.label.clone()),
                            format!("role {}", r.label),
                        )
                    })
                    .collect(),
                Batch::Queue => steps
                    .queues
                    .iter()
                    .map(|q| {
                        (
                            q.id.clone(),
                            Change::AddQueue(q.name.clone()),
                            format!("queue `{}`", q.name),
                        )
                    })
                    .collect(),
                Batch::Group => steps
                    .groups
                    .iter()
                    .map(|g| {
                        (
                            g.id.clone(),
                            Change::AddGroup(g.name.clone()),
                            format!("group `{}`", g.name),
                        )
                    })
                    .collect(),
            };
            for (target, change, name) in items {
                by_target.entry(target).or_default().push((i, change, name));
            }
        }
        for (target, rows) in by_target {
            for chunk in rows.chunks(batch.size()) {
                let ids: Vec<String> = chunk
                    .iter()
                    .map(|(i, _, _)| held[*i].follow.user.id.clone())
                    .collect();
                let target = &target;
                let answers = isolating(&ids, member_specific, &self.stop, |part| async move {
                    self.send_batch(batch, target, &part).await
                })
                .await;
                for ((i, change, name), sent) in chunk.iter().zip(answers) {
                    let log = &mut held[*i].log;
                    match &sent {
                        Ok(()) => log.done.push(change.clone()),
                        Err(CallError::Stopped) => log.stopped_before.push(change.clone()),
                        Err(e) => log.fail(step_failure(
                            e,
                            &format!("adding the user to {name}"),
                            batch.permission(),
                        )),
                    }
                }
            }
        }
    }

    async fn send_batch(
        &self,
        batch: Batch,
        target: &str,
        ids: &[String],
    ) -> Result<(), CallError> {
        let client = &self.applier.client;
        match batch {
            Batch::Move => client.move_users(target, ids).await,
            Batch::Role => {
                let (role, division) = target.split_once('|').unwrap_or((target, "*"));
                client.grant_role(role, division, ids).await
            }
            Batch::Queue => self.lagging(|| client.add_queue_members(target, ids)).await,
            Batch::Group => {
                let mut tries = 0;
                loop {
                    let version = client.group_version(target).await?;
                    match self
                        .lagging(|| client.add_group_members(target, version, ids))
                        .await
                    {
                        // Someone changed the group meanwhile: read its version again.
                        Err(CallError::Rejected { status: 409, .. })
                            if tries + 1 < GROUP_VERSION_TRIES =>
                        {
                            tries += 1
                        }
                        other => return other,
                    }
                }
            }
        }
    }

    /// Retries a 404 with backoff: members added seconds after their
    /// create may not be visible to the queue or group yet.
    async fn lagging<F, Fut>(&self, send: F) -> Result<(), CallError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<(), CallError>>,
    {
        let mut tries = 0;
        loop {
            match send().await {
                Err(CallError::Rejected { status: 404, .. }) if tries + 1 < LAG_TRIES => {
                    tries += 1;
                    let wait = self.applier.client.policy().backoff(tries);
                    tracing::info!(
                        tries,
                        wait_ms = wait.as_millis() as u64,
                        "new members not visible yet (404); retrying"
                    );
                    if !self
                        .stop
                        .sleep(
                            wait.max(
                                self.applier
                                    .client
                                    .policy()
                                    .scale(std::time::Duration::from_millis(500)),
                            ),
                        )
                        .await
                    {
                        return Err(CallError::Stopped);
                    }
                }
                other => return other,
            }
        }
    }
}
