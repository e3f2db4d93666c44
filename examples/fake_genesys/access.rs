//! The client's access, modelled: the OAuth client's roles (permission
//! policies, wildcards allowed) granted in divisions (`*`: all). The fake
//! serves the routes a client can learn its own access from (tokens/me,
//! its own record, roles with policies, divisionspermitted, the permission
//! catalogue, role settings, org limits) and refuses with Genesys' 403 codes
//! each write the model does not allow. The default client holds
//! everything everywhere, so other tests see no difference.

use std::collections::HashMap;

use hyper::Method;
use serde_json::{json, Value};

use super::{error, page_values, respond, Reply, State, HOME_DIVISION};

#[derive(Debug, Clone)]
pub struct ClientRole {
    pub id: String,
    pub name: String,
    /// `domain:entity:action` patterns (`*` in any part).
    pub permissions: Vec<String>,
    /// Division ids the role is granted in (`*`: every division).
    pub divisions: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct AccessModel {
    pub roles: Vec<ClientRole>,
    /// `tokens/me` fills `OAuthClient.roleDivisions` (unverified at Genesys).
    pub token_lists_roles: bool,
    /// `divisionspermitted/paged/me` works for a client (unverified).
    pub permitted_route: bool,
    /// The org's `authorizationGrantDivisionAware` setting.
    pub grants_division_aware: bool,
    /// Requests to the discovery routes.
    pub discovery_requests: u64,
    /// `GET /api/v2/authorization/divisions` requests (served by fake.rs).
    pub division_listings: u64,
    /// Writes refused with 403, as `METHOD path`.
    pub refused: Vec<String>,
}

impl Default for AccessModel {
    fn default() -> Self {
        AccessModel {
            roles: vec![role(0, "Everything", &["*:*:*"], &["*"])],
            token_lists_roles: true,
            permitted_route: true,
            grants_division_aware: false,
            discovery_requests: 0,
            division_listings: 0,
            refused: Vec::new(),
        }
    }
}

fn role(i: usize, name: &str, permissions: &[&str], divisions: &[&str]) -> ClientRole {
    ClientRole {
        id: format!("a{i:07}-0000-4000-8000-000000000000"),
        name: name.into(),
        permissions: permissions.iter().map(|p| p.to_string()).collect(),
        divisions: divisions.iter().map(|d| d.to_string()).collect(),
    }
}

impl AccessModel {
    /// The client's roles: (name, permission patterns, divisions).
    pub fn with_roles(roles: &[(&str, &[&str], &[&str])]) -> AccessModel {
        AccessModel {
            roles: roles
                .iter()
                .enumerate()
                .map(|(i, (name, perms, divs))| role(i, name, perms, divs))
                .collect(),
            ..AccessModel::default()
        }
    }

    /// Whether the client holds `permission` in `division` (`None`: anywhere).
    pub fn holds(&self, permission: &str, division: Option<&str>) -> bool {
        self.roles.iter().any(|r| {
            r.permissions.iter().any(|p| matches(p, permission))
                && division.is_none_or(|d| r.divisions.iter().any(|g| g == "*" || g == d))
        })
    }

    fn holds_any(&self, permissions: &[&str], division: Option<&str>) -> bool {
        permissions.iter().any(|p| self.holds(p, division))
    }
}

fn matches(pattern: &str, permission: &str) -> bool {
    let have: Vec<&str> = pattern.split(':').collect();
    let want: Vec<&str> = permission.split(':').collect();
    have.len() == want.len() && have.iter().zip(&want).all(|(h, w)| *h == "*" || h == w)
}

const EDIT: &[&str] = &[
    "directory:user:edit",
    "directory:organization:admin",
    "admin",
];

/// The discovery routes, and a 403 for a write the model does not allow.
pub(super) fn route(
    st: &mut State,
    method: &Method,
    segments: &[&str],
    query: &[(String, String)],
    body: &[u8],
) -> Option<Reply> {
    if *method != Method::GET {
        return refusal(st, method, segments, body);
    }
    let one = |key: &str| query.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let reply = match segments {
        ["api", "v2", "authorization", "divisions"] => {
            st.access.division_listings += 1;
            return None;
        }
        ["api", "v2", "tokens", "me"] => tokens_me(st),
        ["api", "v2", "oauth", "clients", id] => {
            if !st.access.holds("oauth:client:view", None) {
                forbidden("missing.any.permissions", "oauth:client:view")
            } else if *id != st.config.client_id {
                error(404, "client.not.found", "client not found")
            } else {
                respond(200, client_record(st, true))
            }
        }
        ["api", "v2", "authorization", "roles"] if one("id").is_some() => {
            if !st.access.holds("authorization:role:view", None) {
                forbidden("missing.any.permissions", "authorization:role:view")
            } else {
                let ids: Vec<&String> = query
                    .iter()
                    .filter(|(k, _)| k == "id")
                    .map(|(_, v)| v)
                    .collect();
                let roles: Vec<Value> = st
                    .access
                    .roles
                    .iter()
                    .filter(|r| ids.contains(&&r.id))
                    .map(role_json)
                    .collect();
                respond(
                    200,
                    json!({"entities": roles, "pageSize": 100, "pageNumber": 1, "pageCount": 1}),
                )
            }
        }
        ["api", "v2", "authorization", "divisionspermitted", "paged", "me"] => {
            permitted(st, &one("permission").unwrap_or_default())
        }
        ["api", "v2", "authorization", "permissions"] => {
            catalogue(&one("query").unwrap_or_default())
        }
        ["api", "v2", "authorization", "roles", "settings"] => {
            if !st.access.holds_any(
                &[
                    "authorization:settings:view",
                    "directory:organization:admin",
                ],
                None,
            ) {
                forbidden("missing.any.permissions", "authorization:settings:view")
            } else {
                respond(
                    200,
                    json!({"id": "settings", "backfillEnabled": false, "authorizationGrantDivisionAware": st.access.grants_division_aware}),
                )
            }
        }
        ["api", "v2", "organizations", "limits", "namespaces", namespace] => limits(st, namespace),
        ["api", "v2", "routing", "queues", "divisionviews", "all"] => {
            // Genesys' queue digest carries each queue's division.
            st.counters.catalog_requests += 1;
            let items: Vec<Value> = st
                .queues
                .iter()
                .map(|(id, name)| {
                    let division = st
                        .queue_bodies
                        .get(id)
                        .map(|b| b["division"].clone())
                        .unwrap_or(json!({"id": HOME_DIVISION}));
                    json!({"id": id, "name": name, "division": division})
                })
                .collect();
            let query: HashMap<String, String> = query.iter().cloned().collect();
            return Some(page_values(&items, &query));
        }
        _ => return None,
    };
    st.access.discovery_requests += 1;
    Some(reply)
}

fn tokens_me(st: &State) -> Reply {
    respond(
        200,
        json!({
            "organization": {"id": "f0000000-0000-4000-8000-000000000000", "name": "Fake Org"},
            "homeOrganization": {"id": "f0000000-0000-4000-8000-000000000000", "name": "Fake Org"},
            "authorizedScope": [],
            "OAuthClient": client_record(st, st.access.token_lists_roles),
        }),
    )
}

fn client_record(st: &State, with_roles: bool) -> Value {
    let role_divisions: Vec<Value> = if with_roles {
        st.access
            .roles
            .iter()
            .flat_map(|r| {
                r.divisions
                    .iter()
                    .map(move |d| json!({"roleId": r.id, "divisionId": d}))
            })
            .collect()
    } else {
        Vec::new()
    };
    json!({
        "id": st.config.client_id, "name": "genimport (fake)",
        "authorizedGrantType": "CLIENT-CREDENTIALS", "state": "active",
        "roleDivisions": role_divisions,
        "organization": {"id": "f0000000-0000-4000-8000-000000000000", "name": "Fake Org"}
    })
}

fn role_json(role: &ClientRole) -> Value {
    let policies: Vec<Value> = role
        .permissions
        .iter()
        .map(|p| {
            let parts: Vec<&str> = p.split(':').collect();
            json!({"domain": parts[0], "entityName": parts.get(1).copied().unwrap_or("*"), "actionSet": [parts.get(2).copied().unwrap_or("*")]})
        })
        .collect();
    json!({"id": role.id, "name": role.name, "permissionPolicies": policies, "base": false, "default": false})
}

fn permitted(st: &State, permission: &str) -> Reply {
    if !st.access.permitted_route {
        return error(
            400,
            "not.a.user",
            "This request is not valid when using the Client Credentials OAuth grant",
        );
    }
    if permission.is_empty() {
        return error(400, "missing.permission.param", "permission is required");
    }
    let all = st.access.roles.iter().any(|r| {
        r.divisions.iter().any(|d| d == "*") && r.permissions.iter().any(|p| matches(p, permission))
    });
    let divisions: Vec<Value> = st
        .divisions
        .iter()
        .filter(|(id, _)| st.access.holds(permission, Some(id)))
        .map(|(id, name)| json!({"id": id, "name": name}))
        .collect();
    let total = divisions.len();
    respond(
        200,
        json!({"entities": divisions, "allDivsPermitted": all, "pageSize": 100, "pageNumber": 1, "total": total, "pageCount": 1}),
    )
}

/// Skills, languages and telephony are in no division; the rest is division-aware.
fn catalogue(query: &str) -> Reply {
    let entities: Vec<Value> = query
        .split(',')
        .filter(|p| p.split(':').count() == 3)
        .map(|p| {
            let parts: Vec<&str> = p.split(':').collect();
            let aware = !matches!((parts[0], parts[1]), ("routing", "skill" | "language") | ("telephony", _));
            json!({"id": parts[0], "domain": parts[0], "permissionMap": {parts[1]: [
                {"domain": parts[0], "entityType": parts[1], "action": parts[2], "label": p, "divisionAware": aware}
            ]}})
        })
        .collect();
    respond(
        200,
        json!({"entities": entities, "pageSize": 100, "pageNumber": 1, "pageCount": 1}),
    )
}

fn limits(st: &State, namespace: &str) -> Reply {
    let per_minute = st.config.rate_limit.map(|(limit, _)| limit).unwrap_or(300);
    let entities = match namespace {
        "platform.api" => json!([
            {"key": "client.credentials.token.rate.per.minute", "namespace": "platform.api", "value": per_minute},
            {"key": "token.rate.per.minute", "namespace": "platform.api", "value": 300}
        ]),
        _ => json!([]),
    };
    respond(200, json!({"entities": entities}))
}

fn forbidden(code: &str, permission: &str) -> Reply {
    error(
        403,
        code,
        &format!("You are missing the following permission(s): {permission}"),
    )
}

/// 403 for a write the client may not make, with Genesys' code: a
/// division code when it holds the permission elsewhere.
fn refusal(st: &mut State, method: &Method, segments: &[&str], body: &[u8]) -> Option<Reply> {
    let (needs, divisions) = required(st, method, segments, body)?;
    for division in &divisions {
        if st.access.holds_any(needs, division.as_deref()) {
            continue;
        }
        let code = if st.access.holds_any(needs, None) {
            "missing.division.permission"
        } else if needs.len() > 1 {
            "missing.any.permissions"
        } else {
            "missing.permissions"
        };
        st.access
            .refused
            .push(format!("{method} /{}", segments.join("/")));
        return Some(forbidden(code, &needs.join(", ")));
    }
    None
}

type Required = (&'static [&'static str], Vec<Option<String>>);

/// What a write needs (any of), and in which divisions (`None`: anywhere).
fn required(st: &State, method: &Method, segments: &[&str], body: &[u8]) -> Option<Required> {
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let user_division = |id: &str| {
        Some(
            st.user_by_id(id)
                .map(|u| u.division_id.clone())
                .unwrap_or_else(|| HOME_DIVISION.to_string()),
        )
    };
    let queue_division = |id: &str| {
        Some(
            st.queue_bodies
                .get(id)
                .and_then(|b| b["division"]["id"].as_str())
                .unwrap_or(HOME_DIVISION)
                .to_string(),
        )
    };
    let in_body = || {
        Some(
            body["divisionId"]
                .as_str()
                .unwrap_or(HOME_DIVISION)
                .to_string(),
        )
    };
    Some(match (method, segments) {
        (&Method::POST, ["api", "v2", "users"]) => (&["directory:user:add"], vec![in_body()]),
        (&Method::PATCH, ["api", "v2", "users", id]) => (EDIT, vec![user_division(id)]),
        (&Method::DELETE, ["api", "v2", "users", id]) => (
            &[
                "directory:user:delete",
                "directory:organization:admin",
                "admin",
            ],
            vec![user_division(id)],
        ),
        (&Method::POST, ["api", "v2", "users", id, "invite"]) => (
            &[
                "directory:user:setPassword",
                "directory:organization:admin",
                "admin",
            ],
            vec![user_division(id)],
        ),
        (
            &Method::POST,
            ["api", "v2", "authorization", "divisions", division, "objects", "USER"],
        ) => {
            let mut divisions = vec![Some(division.to_string())];
            if let Some(ids) = body.as_array() {
                divisions.extend(ids.iter().filter_map(|id| id.as_str()).map(user_division));
            }
            (&["directory:user:edit"], divisions)
        }
        (&Method::POST, ["api", "v2", "authorization", "roles", _]) => {
            let divisions = match (
                st.access.grants_division_aware,
                body["divisionIds"].as_array(),
            ) {
                (true, Some(ids)) => ids.iter().map(|d| d.as_str().map(String::from)).collect(),
                _ => vec![None],
            };
            (&["authorization:grant:add"], divisions)
        }
        (&Method::POST, ["api", "v2", "authorization", "subjects", _, "bulkremove"])
        | (&Method::PUT, ["api", "v2", "authorization", "roles", _, "users", "remove"])
        | (&Method::DELETE, ["api", "v2", "authorization", "subjects", ..]) => {
            (&["authorization:grant:delete"], vec![None])
        }
        (_, ["api", "v2", "users", _, "routingskills", ..]) => {
            (&["routing:skill:assign"], vec![None])
        }
        (_, ["api", "v2", "users", _, "routinglanguages", ..]) => (
            &["routing:skill:assign", "routing:language:assign"],
            vec![None],
        ),
        (&Method::POST, ["api", "v2", "routing", "queues", queue, "members"]) => (
            &["routing:queue:edit", "routing:queueMember:manage"],
            vec![queue_division(queue)],
        ),
        (&Method::POST, ["api", "v2", "routing", "queues"]) => (
            &["routing:queue:add"],
            vec![Some(
                body["division"]["id"]
                    .as_str()
                    .unwrap_or(HOME_DIVISION)
                    .to_string(),
            )],
        ),
        (&Method::PUT, ["api", "v2", "routing", "queues", queue]) => {
            (&["routing:queue:edit"], vec![queue_division(queue)])
        }
        _ => return None,
    })
}
