//! The fake's bulk reads for `genimport export` (docs/genesys-api.md#bulk-reads-export): paged
//! `GET /api/v2/users` with `state` and repeated `expand`, each role's
//! subject grants (users `PC_USER`, groups `PC_GROUP` whose members inherit
//! the role), queue members by user or through a group (`memberBy`), group
//! members, whole queues, and a switch answering 403 to one list.

use hyper::Method;
use serde_json::{json, Value};

use super::{error, respond, user_json, Reply, State};

/// Export-only state of the fake.
#[derive(Debug, Default, Clone)]
pub struct ExportState {
    /// Answer 403 to any GET whose path ends with this (e.g. `subjectgrants`).
    pub refuse_path_suffix: Option<String>,
    /// Requests of each export list.
    pub user_pages: u64,
    pub subject_grant_pages: u64,
    pub queue_member_pages: u64,
    pub group_member_pages: u64,
    pub queue_pages: u64,
}

impl State {
    /// Makes a group a member of a queue: its members are in the queue
    /// through the group (`memberBy: group`), as the movers routes keep it.
    pub fn add_queue_group(&mut self, queue_id: &str, group_id: &str) {
        let members: Vec<String> = self
            .groups
            .iter()
            .filter(|g| g.id == group_id)
            .flat_map(|g| g.members.clone())
            .collect();
        for user in members {
            self.join_queue_by_group(queue_id, &user);
        }
    }
}

fn number(query: &[(String, String)], key: &str, default: usize) -> usize {
    query
        .iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(default)
        .max(1)
}

fn page(items: Vec<Value>, query: &[(String, String)], max: usize) -> Reply {
    let size = number(query, "pageSize", 25);
    if size > max {
        return error(
            400,
            "bad.request",
            &format!("pageSize must be at most {max}"),
        );
    }
    let number = number(query, "pageNumber", 1);
    let total = items.len();
    let entities: Vec<Value> = items
        .into_iter()
        .skip((number - 1) * size)
        .take(size)
        .collect();
    respond(
        200,
        json!({"entities": entities, "pageSize": size, "pageNumber": number, "total": total, "pageCount": total.div_ceil(size)}),
    )
}

/// The export routes; `None` for a request they do not serve.
pub(super) fn route(
    st: &mut State,
    method: &Method,
    segments: &[&str],
    query: &[(String, String)],
) -> Option<Reply> {
    if method != Method::GET {
        return None;
    }
    let has = |key: &str| query.iter().any(|(k, _)| k == key);
    let served = matches!(
        segments,
        ["api", "v2", "users"]
            | ["api", "v2", "authorization", "roles", _, "subjectgrants"]
            | ["api", "v2", "routing", "queues", _, "members"]
            | ["api", "v2", "groups", _, "members"]
            | ["api", "v2", "routing", "queues"]
    );
    // The bulk-by-id user read and the by-name queue look-up stay the fake's own.
    if !served
        || (segments.len() == 3 && has("id"))
        || (segments == ["api", "v2", "routing", "queues"] && has("name"))
    {
        return None;
    }
    // A queue whose members read is made to fail: the fake's own route answers.
    if let ["api", "v2", "routing", "queues", queue, "members"] = segments {
        if st.refuse_member_reads.contains(*queue) {
            return None;
        }
    }
    if let Some(suffix) = &st.export.refuse_path_suffix {
        if segments.last().is_some_and(|last| last == suffix) {
            return Some(error(
                403,
                "missing.permissions",
                "Unable to perform the requested action. You are missing the following permission(s): [authorization:grant:view]",
            ));
        }
    }
    let reply = match segments {
        ["api", "v2", "users"] => users(st, query),
        ["api", "v2", "authorization", "roles", role, "subjectgrants"] => {
            st.export.subject_grant_pages += 1;
            st.movers.subject_grant_reads += 1;
            subject_grants(st, role, query)
        }
        ["api", "v2", "routing", "queues", queue, "members"] => {
            st.counters.queue_member_reads += 1;
            st.export.queue_member_pages += 1;
            queue_members(st, queue, query)
        }
        ["api", "v2", "groups", group, "members"] => {
            st.export.group_member_pages += 1;
            let Some(g) = st.groups.iter().find(|g| g.id == *group) else {
                return Some(error(404, "general.resource.not.found", "group not found"));
            };
            let members = g
                .members
                .iter()
                .filter_map(|id| st.user_by_id(id))
                .map(|u| json!({"id": u.id, "name": u.name}))
                .collect();
            page(members, query, 100)
        }
        _ => {
            st.export.queue_pages += 1;
            let mut queues: Vec<Value> = st.queue_bodies.values().cloned().collect();
            queues.sort_by_key(|q| q["name"].as_str().unwrap_or("").to_lowercase());
            page(queues, query, 500)
        }
    };
    Some(reply)
}

fn users(st: &mut State, query: &[(String, String)]) -> Reply {
    st.export.user_pages += 1;
    st.counters.get_requests += 1;
    let state = query
        .iter()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.as_str())
        .unwrap_or("active");
    let size = number(query, "pageSize", 25);
    let number = number(query, "pageNumber", 1);
    // Genesys pages inactive users only up to 10,000 (DEVTOOLING-862).
    if state == "inactive" && super::bigorg::past_cap(&st.big, number, size) {
        return error(400, "bad.request", "paging beyond 10,000 users");
    }
    if size > 500 {
        return error(400, "bad.request", "pageSize must be at most 500");
    }
    *st.big.pages_by_state.entry(state.to_string()).or_default() += 1;
    st.refresh_index();
    let mut matching = super::bigorg::in_state(&st.users, &st.big, state);
    if query
        .iter()
        .any(|(k, v)| k == "sortOrder" && v == "descending")
    {
        matching.reverse();
    }
    let total = matching.len();
    let entities: Vec<Value> = matching
        .into_iter()
        .skip((number - 1) * size)
        .take(size)
        .map(user_json)
        .collect();
    respond(
        200,
        json!({"entities": entities, "pageSize": size, "pageNumber": number, "total": total, "pageCount": total.div_ceil(size)}),
    )
}

fn subject_grants(st: &State, role: &str, query: &[(String, String)]) -> Reply {
    let division = |id: &str| {
        let name = st
            .divisions
            .iter()
            .find(|(d, _)| d == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| "All divisions".into());
        json!({"id": id, "name": name})
    };
    let mut subjects: Vec<Value> = Vec::new();
    let mut user_ids: Vec<&String> = st.grants.keys().collect();
    user_ids.sort();
    for user_id in user_ids {
        let divisions: Vec<Value> = st.grants[user_id]
            .iter()
            .filter(|(r, _)| r == role)
            .map(|(_, d)| division(d))
            .collect();
        if !divisions.is_empty() {
            let name = st
                .user_by_id(user_id)
                .map(|u| u.name.clone())
                .unwrap_or_default();
            subjects.push(
                json!({"id": user_id, "name": name, "type": "PC_USER", "divisions": divisions}),
            );
        }
    }
    let mut groups: Vec<(&String, &Vec<(String, String)>)> =
        st.movers.group_grants.iter().collect();
    groups.sort();
    for (group, grants) in groups {
        let divisions: Vec<Value> = grants
            .iter()
            .filter(|(r, _)| r == role)
            .map(|(_, d)| division(d))
            .collect();
        if !divisions.is_empty() {
            subjects
                .push(json!({"id": group, "name": "", "type": "PC_GROUP", "divisions": divisions}));
        }
    }
    page(subjects, query, 100)
}

fn queue_members(st: &State, queue: &str, query: &[(String, String)]) -> Reply {
    let by = query
        .iter()
        .find(|(k, _)| k == "memberBy")
        .map(|(_, v)| v.as_str());
    let mut members: Vec<Value> = Vec::new();
    if by != Some("group") {
        for id in st.queue_members.get(queue).into_iter().flatten() {
            members.push(json!({"id": id, "name": "", "memberBy": "user", "joined": true}));
        }
    }
    if by != Some("user") {
        for id in st
            .movers
            .group_queue_members
            .get(queue)
            .into_iter()
            .flatten()
        {
            members.push(json!({"id": id, "name": "", "memberBy": "group", "joined": true}));
        }
    }
    page(members, query, 100)
}
