//! The fake's licences (docs/provisioning.md#licences): a role -> licence mapping tests set,
//! `POST /api/v2/license/infer`, `GET /api/v2/license/definitions`, the
//! roles listing with the default role marked `default`, and switches that
//! answer 403 like a client without the permission or scope.

use std::collections::{BTreeSet, HashMap};

use hyper::Method;
use serde_json::{json, Value};

use super::{error, respond, Reply, State};

#[derive(Debug, Clone, Default)]
pub struct Licences {
    /// Role id -> the licence ids it implies.
    pub by_role: HashMap<String, Vec<String>>,
    /// The catalogue: licence id -> description (its name).
    pub definitions: Vec<(String, String)>,
    /// Answer 403 to `infer` (no `license` scope).
    pub forbid_infer: bool,
    /// Answer 403 to `definitions` (no `authorization:license:view`).
    pub forbid_definitions: bool,
    pub infer_requests: u64,
    /// The role ids of each `infer`, as received.
    pub infer_bodies: Vec<Vec<String>>,
    pub definition_requests: u64,
    /// Users created before each `infer` (a preview comes before any write).
    pub creates_before_infer: Vec<u64>,
}

impl Licences {
    /// Maps a role (by id) to licences, and names each licence.
    pub fn map(&mut self, role_id: &str, licences: &[(&str, &str)]) {
        let ids = self.by_role.entry(role_id.to_string()).or_default();
        for (id, name) in licences {
            ids.push(id.to_string());
            if !self.definitions.iter().any(|(d, _)| d == id) {
                self.definitions.push((id.to_string(), name.to_string()));
            }
        }
    }
}

/// The licence endpoints, or `None` for another path.
pub(super) fn route(
    st: &mut State,
    method: &Method,
    segments: &[&str],
    body: &[u8],
) -> Option<Reply> {
    let creates = st.counters.create_requests;
    let licences = &mut st.licences;
    match (method, segments) {
        (&Method::POST, ["api", "v2", "license", "infer"]) => {
            licences.infer_requests += 1;
            licences.creates_before_infer.push(creates);
            if licences.forbid_infer {
                return Some(error(
                    403,
                    "app.not.authorized.for.scope",
                    "App not authorized to use scope license:readonly",
                ));
            }
            let roles: Vec<String> = match serde_json::from_slice(body) {
                Ok(roles) => roles,
                Err(_) => return Some(error(400, "bad.request", "a list of role ids")),
            };
            let inferred: BTreeSet<&String> = roles
                .iter()
                .flat_map(|r| licences.by_role.get(r).into_iter().flatten())
                .collect();
            let answer = json!(inferred);
            licences.infer_bodies.push(roles);
            Some(respond(200, answer))
        }
        (&Method::GET, ["api", "v2", "license", "definitions"]) => {
            licences.definition_requests += 1;
            if licences.forbid_definitions {
                return Some(error(
                    403,
                    "missing.any.permissions",
                    "Unable to perform the requested action. You must have at least one of the following permissions assigned: [authorization:license:view, authorization:grant:add]",
                ));
            }
            let all: Vec<Value> = licences
                .definitions
                .iter()
                .map(|(id, name)| json!({"id": id, "description": name, "permissions": {}, "prerequisites": [], "comprises": []}))
                .collect();
            Some(respond(200, Value::Array(all)))
        }
        _ => None,
    }
}
