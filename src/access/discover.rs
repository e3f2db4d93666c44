//! Why this exists: what a client-credentials token can learn about its
//! own access is partly undocumented, so the routes are tried in order of
//! cost and a route that refuses is skipped: `tokens/me` (who, and perhaps
//! the role grants), the client's own record, its roles' policies with the
//! catalogue's `divisionAware`, then `divisionspermitted` a permission at a
//! time. What no route tells stays unknown.

use std::collections::HashMap;

use crate::access::model::{Access, Holding, Need, Source};
use crate::access::needs;
use crate::genesys::access::{PermittedIn, RoleDivision, TokenInfo};
use crate::genesys::{CallError, Client};

/// What the discovery learned.
#[derive(Debug, Clone)]
pub struct Discovery {
    pub identity: Option<TokenInfo>,
    pub access: Access,
    /// Every division: id, name, home.
    pub divisions: Vec<(String, String, bool)>,
    /// Why some of the access is unknown, each route once.
    pub gaps: Vec<String>,
}

impl Discovery {
    pub fn home(&self) -> Option<&str> {
        self.divisions.iter().find(|d| d.2).map(|d| d.0.as_str())
    }

    pub fn division_name(&self, id: &str) -> String {
        self.divisions
            .iter()
            .find(|d| d.0 == id)
            .map(|d| d.1.clone())
            .unwrap_or_else(|| id.to_string())
    }
}

/// Learns where the client holds each permission of `wanted`.
/// `always_read_setting`: read whether role grants are division-aware even
/// when no verdict depends on it (the doctor shows it).
pub async fn discover(
    client: &Client,
    client_id: &str,
    wanted: &[Need],
    always_read_setting: bool,
) -> Discovery {
    let mut gaps = Vec::new();
    let identity = match client.token_info().await {
        Ok(info) => Some(info),
        Err(e) => {
            gaps.push(format!("GET /api/v2/tokens/me: {e}"));
            None
        }
    };
    let permissions = needs::permissions(wanted);
    let grants = role_divisions(client, client_id, identity.as_ref(), &mut gaps).await;
    let mut access = match grants {
        Some(grants) => from_roles(client, &grants, &permissions, &mut gaps).await,
        None => None,
    };
    if access.is_none() {
        access = permitted(client, wanted, &mut gaps).await;
    }
    let mut access = access.unwrap_or_else(Access::unknown);
    // Whether grants are division-aware matters only when a grant
    // permission is held in some divisions but not all.
    let grants = [needs::GRANT_ADD, needs::GRANT_DELETE];
    let grants_partial = wanted
        .iter()
        .any(|n| grants.contains(n) && partial(&access.need_holding(n)));
    if always_read_setting || grants_partial {
        access.grants_division_aware = match client.grants_division_aware().await {
            Ok(aware) => aware,
            Err(e) => {
                gaps.push(format!(
                    "whether role grants are checked per division (GET /api/v2/authorization/roles/settings): {e}"
                ));
                None
            }
        };
    }
    // Division names (and the home division) are needed only for what is
    // not held everywhere.
    let everywhere = wanted
        .iter()
        .all(|n| access.need_holding(n) == Holding::Everywhere);
    let divisions = if access.source == Source::None || everywhere {
        Vec::new()
    } else {
        match client.all_divisions().await {
            Ok(all) => all
                .into_iter()
                .map(|d| (d.id, d.name, d.home_division))
                .collect(),
            Err(e) => {
                gaps.push(format!("GET /api/v2/authorization/divisions: {e}"));
                Vec::new()
            }
        }
    };
    Discovery {
        identity,
        access,
        divisions,
        gaps,
    }
}

/// The client's role grants: from `tokens/me` when it fills them, else
/// from the client's own record (which needs `oauth:client:view`).
async fn role_divisions(
    client: &Client,
    client_id: &str,
    identity: Option<&TokenInfo>,
    gaps: &mut Vec<String>,
) -> Option<Vec<RoleDivision>> {
    let record = identity.and_then(|i| i.oauth_client.as_ref());
    if let Some(record) = record.filter(|r| !r.role_divisions.is_empty()) {
        return Some(record.role_divisions.clone());
    }
    let id = record
        .map(|r| r.id.as_str())
        .filter(|id| !id.is_empty())
        .unwrap_or(client_id);
    match client.oauth_client(id).await {
        Ok(record) if !record.role_divisions.is_empty() => Some(record.role_divisions),
        Ok(_) => {
            gaps.push("the client's own record lists no roles".into());
            None
        }
        Err(e) => {
            gaps.push(format!(
                "the client's roles (GET /api/v2/oauth/clients/{{id}}): {e}"
            ));
            None
        }
    }
}

async fn from_roles(
    client: &Client,
    grants: &[RoleDivision],
    permissions: &[&'static str],
    gaps: &mut Vec<String>,
) -> Option<Access> {
    let mut ids: Vec<String> = grants.iter().map(|g| g.role_id.clone()).collect();
    ids.sort();
    ids.dedup();
    let roles = match client.roles_by_id(&ids).await {
        Ok(roles) => roles,
        Err(e) => {
            gaps.push(format!(
                "the client's roles' permissions (GET /api/v2/authorization/roles): {e}"
            ));
            return None;
        }
    };
    let aware: HashMap<String, bool> = match client.division_aware(permissions).await {
        Ok(flags) => flags.into_iter().collect(),
        Err(e) => {
            gaps.push(format!(
                "which permissions are division-aware (GET /api/v2/authorization/permissions): {e}; all taken as division-aware"
            ));
            HashMap::new()
        }
    };
    Some(Access::from_roles(grants, &roles, permissions, &aware))
}

/// A permission at a time, stopping at the first of a need's permissions
/// held everywhere. The route's behaviour for a client is not documented:
/// a refusal, or no division for anything, makes it unusable.
async fn permitted(client: &Client, wanted: &[Need], gaps: &mut Vec<String>) -> Option<Access> {
    let mut holdings: HashMap<&'static str, Holding> = HashMap::new();
    for need in wanted {
        for &permission in need.any_of {
            if permission.split(':').count() != 3 {
                continue;
            }
            if !holdings.contains_key(permission) {
                let holding = match client.divisions_permitted(permission).await {
                    Ok(PermittedIn::All) => Holding::Everywhere,
                    Ok(PermittedIn::Divisions(ids)) => Holding::In(ids.into_iter().collect()),
                    Err(e) => {
                        gaps.push(unusable(&e));
                        return None;
                    }
                };
                holdings.insert(permission, holding);
            }
            if holdings.get(permission) == Some(&Holding::Everywhere) {
                break;
            }
        }
    }
    let nothing = holdings
        .values()
        .all(|h| matches!(h, Holding::In(set) if set.is_empty()));
    if nothing && !holdings.is_empty() {
        gaps.push("divisionspermitted/paged/me answered no division for any permission (taken as not telling)".into());
        return None;
    }
    Some(Access {
        holdings,
        source: Source::Permitted,
        grants_division_aware: None,
    })
}

fn partial(holding: &Holding) -> bool {
    matches!(holding, Holding::In(set) if !set.is_empty())
}

fn unusable(e: &CallError) -> String {
    format!("where the client holds each permission (GET /api/v2/authorization/divisionspermitted/paged/me): {e}")
}
