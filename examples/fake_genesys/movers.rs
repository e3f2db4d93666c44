//! The fake's movers and leavers routes (docs/genesys-api.md#movers-and-leavers): removing queue
//! and group members, role grants (`bulkremove`, one grant), skills (the
//! replacing PUT, one DELETE) and languages, deleting a user; and what
//! tells a user's own holdings from a group's: the default role flag in
//! the roles listing, group grants in a subject's grants, and queue
//! memberships of type `group`; and one role from many users
//! (`roles/{id}/users/remove`, taken in every division: the pessimistic
//! reading). A child of `fake`, so it shares its helpers.

use std::collections::HashMap;

use hyper::Method;
use serde_json::{json, Value};

use super::{empty, error, page_values, respond, Reply, State, EMPLOYEE_ROLE};

/// What the movers routes keep beyond the fake's base state.
#[derive(Debug, Default, Clone)]
pub struct Movers {
    /// group id -> (role id, division id) granted to the group: its
    /// members hold them, inherited.
    pub group_grants: HashMap<String, Vec<(String, String)>>,
    /// queue id -> users that are members through a group (`memberBy` group).
    pub group_queue_members: HashMap<String, Vec<String>>,
    pub grant_removals: u64,
    /// `PUT /api/v2/authorization/roles/{id}/users/remove` requests.
    pub role_user_removals: u64,
    pub deletes: u64,
    /// Pages of `GET /api/v2/authorization/roles/{id}/subjectgrants` answered.
    pub subject_grant_reads: u64,
    /// Refuse `bulkremove` and `roles/{id}/users/remove` with 403 (the
    /// client lacks authorization:grant:delete).
    pub refuse_grant_removals: bool,
}

impl State {
    /// Every write that reached the API (any method but GET; searches and
    /// the licence inference only read), counted as it arrives.
    pub fn writes(&self) -> u64 {
        self.write_faults.writes_by_method.values().sum()
    }

    /// Grants `role` to a group in a division; its members inherit it.
    pub fn grant_group(&mut self, group: &str, role: &str, division: &str) {
        self.movers
            .group_grants
            .entry(group.to_string())
            .or_default()
            .push((role.to_string(), division.to_string()));
        let members: Vec<String> = self
            .groups
            .iter()
            .filter(|g| g.id == group)
            .flat_map(|g| g.members.clone())
            .collect();
        for user in members {
            refresh_roles(self, &user);
        }
    }

    /// Makes `user` a member of `group` (as if before the run).
    pub fn join_group(&mut self, group: &str, user: &str) {
        if let Some(g) = self.groups.iter_mut().find(|g| g.id == group) {
            if !g.members.iter().any(|m| m == user) {
                g.members.push(user.to_string());
            }
        }
        set_user_groups(self, user);
        refresh_roles(self, user);
    }

    /// Makes `user` a member of `queue` through a group.
    pub fn join_queue_by_group(&mut self, queue: &str, user: &str) {
        self.movers
            .group_queue_members
            .entry(queue.to_string())
            .or_default()
            .push(user.to_string());
    }

    /// Gives `user` a direct grant (as if before the run).
    pub fn grant_user(&mut self, user: &str, role: &str, division: &str) {
        let grants = self.grants.entry(user.to_string()).or_default();
        if !grants.iter().any(|(r, d)| r == role && d == division) {
            grants.push((role.to_string(), division.to_string()));
        }
        refresh_roles(self, user);
    }

    /// The (role, division) grants `user` holds directly.
    pub fn direct_grants(&self, user: &str) -> Vec<(String, String)> {
        self.grants.get(user).cloned().unwrap_or_default()
    }

    /// The groups `user` is a member of.
    pub fn groups_of(&self, user: &str) -> Vec<String> {
        self.groups
            .iter()
            .filter(|g| g.members.iter().any(|m| m == user))
            .map(|g| g.name.clone())
            .collect()
    }

    /// The queues `user` is a direct member of, by name.
    pub fn queues_of(&self, user: &str) -> Vec<String> {
        self.queues
            .iter()
            .filter(|(id, _)| {
                self.queue_members
                    .get(id)
                    .is_some_and(|m| m.iter().any(|u| u == user))
            })
            .map(|(_, n)| n.clone())
            .collect()
    }

    /// The names of a user's skills or languages (`skills`, `languages`).
    pub fn rated_of(&self, user: &str, field: &str) -> Vec<String> {
        self.user_by_id(user)
            .and_then(|u| u.profile.get(field))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s["name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The user's `authorization.roles`: its own grants and its groups'.
pub(super) fn refresh_roles(st: &mut State, user: &str) {
    let mut ids: Vec<String> = st
        .grants
        .get(user)
        .map(|g| g.iter().map(|(r, _)| r.clone()).collect())
        .unwrap_or_default();
    for g in st
        .groups
        .iter()
        .filter(|g| g.members.iter().any(|m| m == user))
    {
        if let Some(grants) = st.movers.group_grants.get(&g.id) {
            ids.extend(grants.iter().map(|(r, _)| r.clone()));
        }
    }
    ids.sort();
    ids.dedup();
    let roles: Vec<Value> = ids.iter().map(|id| json!({"id": id})).collect();
    if let Some(u) = st.users.iter_mut().find(|u| u.id == user) {
        u.profile
            .insert("authorization".into(), json!({"roles": roles}));
    }
}

fn set_user_groups(st: &mut State, user: &str) {
    let groups: Vec<Value> = st
        .groups
        .iter()
        .filter(|g| g.members.iter().any(|m| m == user))
        .map(|g| json!({"id": g.id}))
        .collect();
    if let Some(u) = st.users.iter_mut().find(|u| u.id == user) {
        u.profile.insert("groups".into(), Value::Array(groups));
    }
}

/// The movers routes; `None` for any other request.
pub(super) fn route(
    st: &mut State,
    method: &Method,
    segments: &[&str],
    query: &HashMap<String, String>,
    body: &[u8],
) -> Option<Reply> {
    Some(match (method, segments) {
        (&Method::GET, ["api", "v2", "authorization", "roles"]) => {
            st.counters.catalog_requests += 1;
            roles(st, query)
        }
        // A deleted user (or one a test refuses) is no subject: the fake's 404.
        (&Method::GET, ["api", "v2", "authorization", "subjects", id]) => {
            super::subject_refusal(st, id).unwrap_or_else(|| subject(st, id))
        }
        (&Method::POST, ["api", "v2", "authorization", "subjects", id, "bulkremove"]) => {
            bulk_remove(st, id, body)
        }
        (&Method::PUT, ["api", "v2", "authorization", "roles", role, "users", "remove"]) => {
            remove_role_users(st, role, body)
        }
        (
            &Method::DELETE,
            ["api", "v2", "authorization", "subjects", id, "divisions", division, "roles", role],
        ) => {
            st.movers.grant_removals += 1;
            let grants = st.grants.entry(id.to_string()).or_default();
            let before = grants.len();
            grants.retain(|(r, d)| !(r == role && d == division));
            if grants.len() == before {
                return Some(error(404, "general.resource.not.found", "grant not found"));
            }
            refresh_roles(st, id);
            empty(204)
        }
        (&Method::POST, ["api", "v2", "routing", "queues", queue, "members"])
            if query.get("delete").map(String::as_str) == Some("true") =>
        {
            remove_queue_members(st, queue, body)
        }
        (&Method::DELETE, ["api", "v2", "groups", group, "members"]) => {
            remove_group_members(st, group, query)
        }
        (&Method::PUT, ["api", "v2", "users", id, "routingskills", "bulk"]) => {
            replace_skills(st, id, body)
        }
        (
            &Method::DELETE,
            ["api", "v2", "users", id, kind @ ("routingskills" | "routinglanguages"), item],
        ) => remove_rated(st, id, kind, item),
        (&Method::DELETE, ["api", "v2", "users", id]) => {
            st.movers.deletes += 1;
            match st
                .users
                .iter_mut()
                .find(|u| u.id == *id && u.state != "deleted")
            {
                Some(u) => {
                    let before = std::mem::replace(&mut u.state, "deleted".into());
                    u.version += 1;
                    super::leavers::state_changed(st, id, &before);
                    empty(200)
                }
                None => error(404, "general.resource.not.found", "user not found"),
            }
        }
        _ => return None,
    })
}

/// The roles listing, with Genesys' `default` flag on the Employee role
/// and each role's `userCount` (its direct holders).
fn roles(st: &State, query: &HashMap<String, String>) -> Reply {
    let items: Vec<Value> = st
        .roles
        .iter()
        .map(|(id, name)| {
            let users = st
                .grants
                .values()
                .filter(|g| g.iter().any(|(r, _)| r == id))
                .count();
            json!({"id": id, "name": name, "default": id == EMPLOYEE_ROLE, "userCount": users})
        })
        .collect();
    page_values(&items, query)
}

/// Grants as Genesys shows them: the user's own (`subjectId` the user) and
/// its groups' (`subjectId` the group).
fn subject(st: &mut State, id: &str) -> Reply {
    st.counters.subject_requests += 1;
    let name = |list: &[(String, String)], id: &str| {
        list.iter()
            .find(|(i, _)| i == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| "*".into())
    };
    let one = |subject: &str, r: &str, d: &str| json!({"subjectId": subject, "role": {"id": r, "name": name(&st.roles, r)}, "division": {"id": d, "name": name(&st.divisions, d)}});
    let mut grants: Vec<Value> = st
        .grants
        .get(id)
        .map(|g| g.iter().map(|(r, d)| one(id, r, d)).collect())
        .unwrap_or_default();
    for g in st
        .groups
        .iter()
        .filter(|g| g.members.iter().any(|m| m == id))
    {
        if let Some(list) = st.movers.group_grants.get(&g.id) {
            grants.extend(list.iter().map(|(r, d)| one(&g.id, r, d)));
        }
    }
    respond(200, json!({"id": id, "grants": grants}))
}

/// Fails whole when a role or division no longer exists (as Terraform warns).
fn bulk_remove(st: &mut State, id: &str, body: &[u8]) -> Reply {
    st.movers.grant_removals += 1;
    if st.movers.refuse_grant_removals {
        return error(
            403,
            "missing.division.permissions",
            "You are missing the following permission(s): authorization:grant:delete",
        );
    }
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return error(400, "bad.request", "malformed body");
    };
    let pairs: Vec<(String, String)> = body["grants"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|g| {
                    (
                        g["roleId"].as_str().unwrap_or("").to_string(),
                        g["divisionId"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    for (role, division) in &pairs {
        let division_known = division == "*" || st.divisions.iter().any(|(d, _)| d == division);
        if !st.roles.iter().any(|(r, _)| r == role) || !division_known {
            return error(400, "bad.request", "role or division not found");
        }
    }
    let grants = st.grants.entry(id.to_string()).or_default();
    grants.retain(|g| !pairs.contains(g));
    refresh_roles(st, id);
    empty(204)
}

/// Takes a role from many users. Whether Genesys removes it in every
/// division is unverified: the fake takes the pessimistic reading and
/// removes every direct grant of the role the users hold, whatever the
/// division. A batch holding a poisoned member is refused whole (400), as
/// the adds' batches are; a role that no longer exists is 404.
fn remove_role_users(st: &mut State, role: &str, body: &[u8]) -> Reply {
    st.movers.role_user_removals += 1;
    if st.movers.refuse_grant_removals {
        return error(
            403,
            "missing.division.permissions",
            "You are missing the following permission(s): authorization:grant:delete",
        );
    }
    let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(body) else {
        return error(400, "bad.request", "malformed body");
    };
    let ids: Vec<String> = items
        .iter()
        .filter_map(|i| i.as_str().map(str::to_string))
        .collect();
    if !st.roles.iter().any(|(r, _)| r == role) {
        return error(404, "general.resource.not.found", "role not found");
    }
    if let Some(bad) = super::write_faults::poisoned(&st.write_faults, &ids) {
        return error(
            400,
            "invalid.subject",
            &format!("subject {bad} cannot be removed from the role"),
        );
    }
    for id in &ids {
        if let Some(grants) = st.grants.get_mut(id) {
            grants.retain(|(r, _)| r != role);
        }
        refresh_roles(st, id);
    }
    respond(200, Value::Array(items))
}

fn remove_queue_members(st: &mut State, queue: &str, body: &[u8]) -> Reply {
    st.counters.queue_member_requests += 1;
    let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(body) else {
        return error(400, "bad.request", "malformed body");
    };
    if items.len() > 100 {
        return error(
            400,
            "bad.request",
            "Bulk add or delete up to 100 queue members",
        );
    }
    let ids: Vec<String> = items
        .iter()
        .filter_map(|i| i["id"].as_str().map(str::to_string))
        .collect();
    let direct = st.queue_members.get(queue).cloned().unwrap_or_default();
    let by_group = st
        .movers
        .group_queue_members
        .get(queue)
        .cloned()
        .unwrap_or_default();
    if ids
        .iter()
        .any(|id| by_group.contains(id) && !direct.contains(id))
    {
        return error(
            400,
            "invalid.type",
            "Group-type queue members cannot be individually deleted.",
        );
    }
    if let Some(members) = st.queue_members.get_mut(queue) {
        members.retain(|m| !ids.contains(m));
    }
    empty(200)
}

fn remove_group_members(st: &mut State, group: &str, query: &HashMap<String, String>) -> Reply {
    st.counters.group_member_requests += 1;
    let ids: Vec<String> = query
        .get("ids")
        .map(|s| {
            s.split(',')
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if ids.is_empty() || ids.len() > 50 {
        return error(
            400,
            "bad.request",
            "A maximum of 50 members are allowed per request",
        );
    }
    let Some(g) = st.groups.iter_mut().find(|g| g.id == group) else {
        return error(404, "general.resource.not.found", "group not found");
    };
    g.members.retain(|m| !ids.contains(m));
    g.version += 1;
    for id in &ids {
        set_user_groups(st, id);
        refresh_roles(st, id);
        st.left_group(group, id);
    }
    respond(202, json!({}))
}

fn replace_skills(st: &mut State, id: &str, body: &[u8]) -> Reply {
    st.counters.skill_requests += 1;
    let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(body) else {
        return error(400, "bad.request", "malformed body");
    };
    let catalog = st.skills.clone();
    let mut skills = Vec::new();
    for item in items {
        let item_id = item["id"].as_str().unwrap_or("");
        let Some((_, name)) = catalog.iter().find(|(i, _)| i == item_id) else {
            return error(
                404,
                "general.resource.not.found",
                "One or more route skill(s) not found",
            );
        };
        skills.push(json!({"id": item_id, "name": name, "proficiency": item["proficiency"]}));
    }
    let Some(user) = st.users.iter_mut().find(|u| u.id == id) else {
        return error(404, "general.resource.not.found", "user not found");
    };
    user.profile
        .insert("skills".into(), Value::Array(skills.clone()));
    respond(200, json!({"entities": skills}))
}

fn remove_rated(st: &mut State, id: &str, kind: &str, item: &str) -> Reply {
    let field = if kind == "routingskills" {
        st.counters.skill_requests += 1;
        "skills"
    } else {
        st.counters.language_requests += 1;
        "languages"
    };
    let Some(user) = st.users.iter_mut().find(|u| u.id == id) else {
        return error(404, "general.resource.not.found", "user not found");
    };
    let mut list: Vec<Value> = user
        .profile
        .get(field)
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default();
    let before = list.len();
    list.retain(|s| s["id"] != item);
    if list.len() == before {
        return error(
            404,
            "general.resource.not.found",
            "Routing language was not found",
        );
    }
    user.profile.insert(field.into(), Value::Array(list));
    empty(204)
}
