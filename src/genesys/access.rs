//! Why this exists: before its first write a run asks Genesys what the
//! client itself may do. These are the read-only endpoints that describe
//! the calling client and the org's limits (developer.genesys.cloud,
//! "Use client credentials"; the API description's Tokens, OAuth,
//! Authorization and Organization groups). Several of them may refuse a
//! client-credentials token; the caller decides what a refusal means.

use serde::Deserialize;

use super::{CallError, Client, Listing};

/// `GET /api/v2/tokens/me`: who the token belongs to.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TokenInfo {
    #[serde(default)]
    pub organization: Option<IdName>,
    #[serde(default, rename = "OAuthClient")]
    pub oauth_client: Option<ClientRecord>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct IdName {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: String,
}

/// The OAuth client as `tokens/me` or `oauth/clients/{id}` describe it.
/// Only these fields are read: the record may carry the client's secret,
/// which is never deserialized.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientRecord {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub authorized_grant_type: Option<String>,
    #[serde(default)]
    pub role_divisions: Vec<RoleDivision>,
}

/// One of the client's role grants; `division_id` `*` is every division.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RoleDivision {
    pub role_id: String,
    #[serde(default)]
    pub division_id: String,
}

/// A role with its permission policies (`GET /api/v2/authorization/roles`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RolePolicies {
    pub id: String,
    /// Plain permission strings (`admin`, `directory:user:add`).
    #[serde(default)]
    pub permissions: Vec<String>,
    #[serde(default)]
    pub permission_policies: Vec<Policy>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    #[serde(default)]
    pub domain: String,
    #[serde(default)]
    pub entity_name: String,
    #[serde(default)]
    pub action_set: Vec<String>,
    /// A condition on the policy: whether it applies cannot be told here.
    #[serde(default)]
    pub resource_condition_node: Option<serde_json::Value>,
}

/// `divisionspermitted/paged/me`: where the caller holds one permission.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Permitted {
    #[serde(default)]
    entities: Vec<IdName>,
    #[serde(default)]
    all_divs_permitted: bool,
    #[serde(default)]
    page_count: Option<u32>,
}

/// Where the caller holds a permission: every division, or these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PermittedIn {
    All,
    Divisions(Vec<String>),
}

/// One permission of the org's catalogue.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Catalogued {
    #[serde(default)]
    permission_map: std::collections::HashMap<String, Vec<CataloguedAction>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CataloguedAction {
    #[serde(default)]
    domain: String,
    #[serde(default)]
    entity_type: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    division_aware: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoleSettings {
    #[serde(default)]
    authorization_grant_division_aware: Option<bool>,
}

/// One org limit (`GET /api/v2/organizations/limits/namespaces/{ns}`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Limit {
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub value: serde_json::Value,
}

impl Client {
    pub async fn token_info(&self) -> Result<TokenInfo, CallError> {
        self.get_json("/api/v2/tokens/me", &[]).await
    }

    /// The client's own record (needs `oauth:client:view`).
    pub async fn oauth_client(&self, id: &str) -> Result<ClientRecord, CallError> {
        self.get_json(&format!("/api/v2/oauth/clients/{id}"), &[])
            .await
    }

    /// These roles with their policies, 100 ids a request, without the
    /// (slow) user counts.
    pub async fn roles_by_id(&self, ids: &[String]) -> Result<Vec<RolePolicies>, CallError> {
        let mut all = Vec::new();
        for chunk in ids.chunks(100) {
            let mut query: Vec<(&str, String)> = vec![
                ("pageSize", "100".to_string()),
                ("userCount", "false".to_string()),
            ];
            query.extend(chunk.iter().map(|id| ("id", id.clone())));
            let page: Listing<RolePolicies> =
                self.get_json("/api/v2/authorization/roles", &query).await?;
            all.extend(page.entities);
        }
        Ok(all)
    }

    /// Where the caller holds `permission` (every page).
    pub async fn divisions_permitted(&self, permission: &str) -> Result<PermittedIn, CallError> {
        let mut divisions = Vec::new();
        for page in 1u32..=100 {
            let reply: Permitted = self
                .get_json(
                    "/api/v2/authorization/divisionspermitted/paged/me",
                    &[
                        ("permission", permission.to_string()),
                        ("pageSize", "100".to_string()),
                        ("pageNumber", page.to_string()),
                    ],
                )
                .await?;
            if reply.all_divs_permitted {
                return Ok(PermittedIn::All);
            }
            let empty = reply.entities.is_empty();
            divisions.extend(reply.entities.into_iter().map(|d| d.id));
            if empty || reply.page_count.is_none_or(|count| page >= count) {
                break;
            }
        }
        Ok(PermittedIn::Divisions(divisions))
    }

    /// Which of `permissions` the org's catalogue marks division-aware (a
    /// permission the catalogue does not list is left out).
    pub async fn division_aware(
        &self,
        permissions: &[&str],
    ) -> Result<Vec<(String, bool)>, CallError> {
        let page: Listing<Catalogued> = self
            .get_json(
                "/api/v2/authorization/permissions",
                &[
                    ("queryType", "permission".to_string()),
                    ("query", permissions.join(",")),
                    ("pageSize", "100".to_string()),
                ],
            )
            .await?;
        Ok(page
            .entities
            .into_iter()
            .flat_map(|c| c.permission_map.into_values().flatten())
            .map(|a| {
                (
                    format!("{}:{}:{}", a.domain, a.entity_type, a.action),
                    a.division_aware,
                )
            })
            .collect())
    }

    /// Whether role grants are checked per division in this org.
    pub async fn grants_division_aware(&self) -> Result<Option<bool>, CallError> {
        let settings: RoleSettings = self
            .get_json("/api/v2/authorization/roles/settings", &[])
            .await?;
        Ok(settings.authorization_grant_division_aware)
    }

    /// The effective limits of one namespace.
    pub async fn limits(&self, namespace: &str) -> Result<Vec<Limit>, CallError> {
        let page: Listing<Limit> = self
            .get_json(
                &format!("/api/v2/organizations/limits/namespaces/{namespace}"),
                &[],
            )
            .await?;
        Ok(page.entities)
    }
}

#[derive(Debug, Clone, Deserialize)]
struct QueueView {
    id: String,
    #[serde(default)]
    division: Option<IdName>,
}

impl Client {
    /// Every queue's division (queue id, division id).
    pub async fn queue_divisions(&self) -> Result<Vec<(String, String)>, CallError> {
        let all: Vec<QueueView> = self
            .paged("/api/v2/routing/queues/divisionviews/all", 500)
            .await?;
        Ok(all
            .into_iter()
            .filter_map(|q| Some((q.id, q.division?.id)))
            .collect())
    }
}
