//! The fake's objects for the export round trip: names a real org holds
//! that the CSV syntax uses (`;`, `@`, `:`, `-`, edge spaces), added as any
//! other object of their kind; and a queue membership that a group brings
//! and that goes with the group (a user taken out of the group leaves the
//! queue, as Genesys keeps a group's queue members); and a queue whose
//! member list the client may not read (403). A child of `fake`.

use std::collections::{HashMap, HashSet};

use hyper::Method;
use serde_json::Value;

use super::{error, seeded_queue, FakeGroup, Reply, State};

/// A kind of named object the fake lists.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Role,
    Skill,
    Language,
    Queue,
    Group,
    Location,
    Division,
}

/// What the round-trip helpers keep beyond the fake's base state.
#[derive(Debug, Default, Clone)]
pub struct Roundtrip {
    /// queue id -> the groups whose members are in it through the group.
    pub queue_groups: HashMap<String, Vec<String>>,
    /// Queue ids whose members read answers 403 (a division the client
    /// may not see).
    pub forbid_member_reads: HashSet<String>,
    /// Users, skills or languages (ids) someone else removed after the
    /// preflight read them: their DELETE answers 404 (the user deleted, the
    /// item taken off every user).
    pub gone_since_read: HashSet<String>,
    /// Creates (`POST /api/v2/users`) are answered only after this long: a
    /// run can be interrupted while one is in flight.
    pub slow_creates: std::time::Duration,
    /// Creates that arrived (counted before their wait).
    pub creates_arrived: u64,
    /// Language removals (`DELETE …/routinglanguages/{id}`) are answered
    /// only after this long, and counted as they arrive.
    pub slow_language_removals: std::time::Duration,
    pub language_removals_arrived: u64,
}

impl Roundtrip {
    /// The extra time this request waits before its answer.
    pub(super) fn slow_answer(&mut self, method: &Method, path: &str) -> std::time::Duration {
        if method == Method::POST && path == "/api/v2/users" {
            self.creates_arrived += 1;
            self.slow_creates
        } else if method == Method::DELETE && path.contains("/routinglanguages/") {
            self.language_removals_arrived += 1;
            self.slow_language_removals
        } else {
            std::time::Duration::ZERO
        }
    }
}

/// The round-trip routes; `None` for a request they do not serve.
pub(super) fn route(
    st: &mut State,
    method: &Method,
    segments: &[&str],
    body: &[u8],
) -> Option<Reply> {
    let gone = |id: &str| st.roundtrip.gone_since_read.contains(id);
    let role_gone = || error(404, "general.resource.not.found", "role not found");
    match (method, segments) {
        // A role deleted since the read: every removal of it answers 404.
        (&Method::PUT, ["api", "v2", "authorization", "roles", role, "users", "remove"])
            if gone(role) =>
        {
            Some(role_gone())
        }
        (
            &Method::DELETE,
            ["api", "v2", "authorization", "subjects", _, "divisions", _, "roles", role],
        ) if gone(role) => Some(role_gone()),
        (&Method::POST, ["api", "v2", "authorization", "subjects", _, "bulkremove"])
            if serde_json::from_slice::<Value>(body).is_ok_and(|b| {
                b["grants"]
                    .as_array()
                    .is_some_and(|gs| gs.iter().any(|g| g["roleId"].as_str().is_some_and(gone)))
            }) =>
        {
            Some(role_gone())
        }
        (&Method::GET, ["api", "v2", "routing", "queues", queue, "members"])
            if st.roundtrip.forbid_member_reads.contains(*queue) =>
        {
            Some(error(
                403,
                "missing.division.permission",
                "You are missing the following permission: routing:queue:view",
            ))
        }
        (&Method::DELETE, ["api", "v2", "users", id])
            if st.roundtrip.gone_since_read.contains(*id) =>
        {
            if let Some(user) = st.users.iter_mut().find(|u| u.id == *id) {
                user.state = "deleted".into();
            }
            Some(error(404, "general.resource.not.found", "user not found"))
        }
        (&Method::DELETE, ["api", "v2", "users", _, kind, item])
            if st.roundtrip.gone_since_read.contains(*item) =>
        {
            let field = if *kind == "routingskills" {
                "skills"
            } else {
                "languages"
            };
            for user in &mut st.users {
                if let Some(Value::Array(items)) = user.profile.get_mut(field) {
                    items.retain(|i| i["id"] != *item);
                }
            }
            Some(error(404, "general.resource.not.found", "not found"))
        }
        _ => None,
    }
}

impl State {
    /// Adds an object of `kind` named `name` (any text); its id.
    pub fn add_named(&mut self, kind: Kind, name: &str) -> String {
        let id = self.new_id();
        let entry = (id.clone(), name.to_string());
        match kind {
            Kind::Role => self.roles.push(entry),
            Kind::Skill => self.skills.push(entry),
            Kind::Language => self.languages.push(entry),
            Kind::Location => self.locations.push(entry),
            Kind::Division => self.divisions.push(entry),
            Kind::Queue => {
                self.queue_bodies
                    .insert(id.clone(), seeded_queue(&id, name));
                self.queues.push(entry);
            }
            Kind::Group => self.groups.push(FakeGroup {
                id: id.clone(),
                name: name.to_string(),
                version: 1,
                members: Vec::new(),
            }),
        }
        id
    }

    /// Makes `group` a member of `queue`: the group's members are in the
    /// queue through it, and leave it when they leave the group.
    pub fn add_queue_through_group(&mut self, queue: &str, group: &str) {
        self.roundtrip
            .queue_groups
            .entry(queue.to_string())
            .or_default()
            .push(group.to_string());
        self.add_queue_group(queue, group);
    }

    /// `user` left `group`: the queue memberships only that group brought go.
    pub(super) fn left_group(&mut self, group: &str, user: &str) {
        let in_groups: Vec<String> = self
            .groups
            .iter()
            .filter(|g| g.members.iter().any(|m| m == user))
            .map(|g| g.id.clone())
            .collect();
        for (queue, groups) in &self.roundtrip.queue_groups {
            let still = groups.iter().any(|g| in_groups.contains(g));
            if groups.iter().any(|g| g == group) && !still {
                if let Some(members) = self.movers.group_queue_members.get_mut(queue) {
                    members.retain(|m| m != user);
                }
            }
        }
    }
}
