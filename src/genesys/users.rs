//! Why this exists: users are what a run imports; here they are found, created, read and patched.
//!
//! Search (by email or employee id, every state), create, read and PATCH,
//! as docs/genesys-api.md describes them.

use std::sync::atomic::Ordering;

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::{api_failure, is_bad_request, CallError, Client, Reply, Safety};

/// A user as Genesys returns it, reduced to what genimport reads. The
/// objects it may write back whole (`addresses`, `employerInfo`) are kept
/// raw, so nothing it does not know about is lost in the round trip.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub version: Option<i64>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub addresses: Vec<Value>,
    #[serde(default)]
    pub division: Option<IdRef>,
    #[serde(default)]
    pub employer_info: Option<Map<String, Value>>,
    #[serde(default)]
    pub manager: Option<IdRef>,
    /// Raw, to write back whole (`locationDefinition.id` names the location).
    #[serde(default)]
    pub locations: Vec<Value>,
    #[serde(default)]
    pub skills: Vec<RatedRef>,
    #[serde(default)]
    pub languages: Vec<RatedRef>,
    #[serde(default)]
    pub groups: Vec<IdRef>,
    #[serde(default)]
    pub authorization: Option<Authorization>,
    /// When the invitation was sent (`dateWelcomeSent` expand); empty: never.
    #[serde(default)]
    pub date_welcome_sent: Option<String>,
}

/// A skill or language of a user.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct RatedRef {
    pub id: String,
    /// As the expand shows it (for `changes` of a removal).
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub proficiency: Option<f64>,
}

/// The roles a user holds (in some division; `authorization` expand).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct Authorization {
    #[serde(default)]
    pub roles: Vec<IdRef>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct IdRef {
    pub id: String,
}

impl User {
    /// The location ids the user is placed at.
    pub fn location_ids(&self) -> Vec<&str> {
        self.locations
            .iter()
            .filter_map(|l| l["locationDefinition"]["id"].as_str().or(l["id"].as_str()))
            .collect()
    }

    pub fn is_deleted(&self) -> bool {
        self.state.as_deref() == Some("deleted")
    }

    pub fn division_id(&self) -> Option<&str> {
        self.division.as_ref().map(|d| d.id.as_str())
    }

    /// An `employerInfo` field (`employeeId`, `employeeType`, `dateHire`).
    pub fn employer(&self, field: &str) -> Option<&str> {
        self.employer_info.as_ref()?.get(field)?.as_str()
    }
}

/// The field a search matches on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchKey {
    Email,
    EmployeeId,
    /// The users whose manager is one of these ids (never a match key).
    ManagerId,
}

impl SearchKey {
    fn field(self) -> &'static str {
        match self {
            SearchKey::Email => "email",
            SearchKey::EmployeeId => "hr.employeeId",
            SearchKey::ManagerId => "manager.id",
        }
    }

    /// The key of a found user, lowercased (both are compared case-insensitively).
    pub fn of(self, user: &User) -> Option<String> {
        match self {
            SearchKey::Email => user.email.as_deref(),
            SearchKey::EmployeeId => user.employer("employeeId"),
            SearchKey::ManagerId => user.manager.as_ref().map(|m| m.id.as_str()),
        }
        .map(str::to_lowercase)
    }
}

/// What a search found, and the values search refused outright.
#[derive(Debug, Default)]
pub struct Search {
    pub found: Vec<User>,
    pub refused: Vec<(String, CallError)>,
}

impl Search {
    /// What it says of one email: the user with it (a live one wins over a
    /// deleted one), none, or the server's refusal of that value.
    pub fn answer_for(&self, email: &str) -> Result<Option<User>, CallError> {
        match self
            .refused
            .iter()
            .find(|(value, _)| value.eq_ignore_ascii_case(email))
        {
            Some((_, refused)) => Err(refused.clone()),
            None => Ok(self
                .found
                .iter()
                .filter(|u| {
                    u.email
                        .as_deref()
                        .is_none_or(|e| e.eq_ignore_ascii_case(email))
                })
                .min_by_key(|u| u.is_deleted())
                .cloned()),
        }
    }
}

/// One page of `POST /api/v2/users/search`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SearchPage {
    #[serde(default)]
    pub(super) results: Vec<User>,
    #[serde(default)]
    pub(super) total: Option<u64>,
    #[serde(default)]
    pub(super) page_count: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SearchRequest<'a> {
    page_size: u32,
    page_number: u32,
    query: &'a [Value],
    expand: &'a [&'a str],
}

/// What a read of a user asks for beyond the basics: everything `--update`
/// compares, so the search that finds users is the only read.
pub const EXPAND: [&str; 7] = [
    "employerInfo",
    "skills",
    "languages",
    "groups",
    "authorization",
    "locations",
    "dateWelcomeSent",
];

/// Values per search criterion: Genesys' users search takes at most 50
/// (developer.genesys.cloud/organization/search/search-limits). A refusal
/// still splits the batch (see `search_users`).
pub const SEARCH_BATCH: usize = 50;
const SEARCH_PAGE_SIZE: u32 = 100;

/// `expand` as Genesys reads it on a GET (`collectionFormat: multi`): the
/// parameter repeated once per value, never one comma-joined value.
fn expand_query() -> Vec<(&'static str, String)> {
    EXPAND
        .iter()
        .map(|e| ("expand", (*e).to_string()))
        .collect()
}

impl Client {
    /// Users whose `key` is one of `values` (EXACT match). Plain search
    /// leaves deleted users out, and they still hold their email, so every
    /// state is asked for by name. The search limits are undocumented: a 400
    /// splits the batch, and a 400 for a single value drops the state
    /// criterion (deleted users are then found when a create conflicts). A
    /// 400 for one value even then is that value's own answer (`refused`),
    /// not the end of the search.
    pub async fn search_users(
        &self,
        key: SearchKey,
        values: &[String],
    ) -> Result<Search, CallError> {
        let with_states = !self.plain_search.load(Ordering::Relaxed);
        match self.search_pages(key, values, with_states).await {
            Ok(found) => Ok(Search {
                found,
                refused: Vec::new(),
            }),
            Err(e) if is_bad_request(&e) && values.len() > 1 => {
                let (left, right) = values.split_at(values.len() / 2);
                let mut result = Box::pin(self.search_users(key, left)).await?;
                let more = Box::pin(self.search_users(key, right)).await?;
                result.found.extend(more.found);
                result.refused.extend(more.refused);
                Ok(result)
            }
            Err(e) if is_bad_request(&e) && with_states => {
                tracing::warn!(error = %e, "users search refused the state criterion; searching without it");
                self.plain_search.store(true, Ordering::Relaxed);
                Box::pin(self.search_users(key, values)).await
            }
            Err(e) if is_bad_request(&e) => Ok(Search {
                found: Vec::new(),
                refused: values.iter().map(|v| (v.clone(), e.clone())).collect(),
            }),
            Err(e) => Err(e),
        }
    }

    /// Whether search shows deleted users (it does unless it refused the
    /// state criterion).
    pub fn search_sees_deleted(&self) -> bool {
        !self.plain_search.load(Ordering::Relaxed)
    }

    async fn search_pages(
        &self,
        key: SearchKey,
        values: &[String],
        with_states: bool,
    ) -> Result<Vec<User>, CallError> {
        let mut query = vec![json!({"type": "EXACT", "fields": [key.field()], "values": values})];
        if with_states {
            query.push(json!({"type": "EXACT", "fields": ["state"], "values": ["active", "inactive", "deleted"]}));
        }
        let mut found = Vec::new();
        for page in 1u32.. {
            let page_data = self
                .search_page(&query, &EXPAND, SEARCH_PAGE_SIZE, page)
                .await?;
            let last = page_data.results.is_empty()
                || page_data.page_count.is_none_or(|count| page >= count);
            found.extend(page_data.results);
            if last || page >= 1000 {
                break;
            }
        }
        Ok(found)
    }

    /// One page of a user search: `query` as Genesys takes it, `expand`ed.
    pub(super) async fn search_page(
        &self,
        query: &[Value],
        expand: &[&str],
        page_size: u32,
        number: u32,
    ) -> Result<SearchPage, CallError> {
        let body = serde_json::to_vec(&SearchRequest {
            page_size,
            page_number: number,
            query,
            expand,
        })
        .map_err(|e| CallError::BadResponse(e.to_string()))?;
        let reply = self
            .call(
                Method::POST,
                "/api/v2/users/search",
                &[],
                Some(&body),
                Safety::Retryable,
            )
            .await?;
        if !reply.is_success() {
            return Err(api_failure(&reply));
        }
        reply.json()
    }

    /// The user with this email; a live one wins over a deleted one.
    pub async fn find_by_email(&self, email: &str) -> Result<Option<User>, CallError> {
        self.search_users(SearchKey::Email, &[email.to_string()])
            .await?
            .answer_for(email)
    }

    /// `POST /api/v2/users`. Never retried here once it may have been sent.
    pub async fn create_user(&self, body: &[u8]) -> Result<Reply, CallError> {
        self.call(Method::POST, "/api/v2/users", &[], Some(body), Safety::Once)
            .await
    }

    /// `PATCH /api/v2/users/{id}` with a body that carries `version`. Sent
    /// once: a lost answer is settled by re-reading the user's version.
    pub async fn patch_user(&self, id: &str, body: &Value) -> Result<Reply, CallError> {
        let body = serde_json::to_vec(body).map_err(|e| CallError::BadResponse(e.to_string()))?;
        self.call(
            Method::PATCH,
            &format!("/api/v2/users/{id}"),
            &[],
            Some(&body),
            Safety::Once,
        )
        .await
    }

    /// One user, fresh (after a version conflict), deleted ones included.
    pub async fn get_user(&self, id: &str) -> Result<User, CallError> {
        self.get_json(&format!("/api/v2/users/{id}"), &expand_query())
            .await
    }

    /// A deleted user, fresh (a restore's version conflict): `GET` finds a
    /// deleted user only when asked with `state=deleted`
    /// (docs/genesys-api.md#finding-users-search).
    pub async fn get_deleted_user(&self, id: &str) -> Result<User, CallError> {
        let mut query = expand_query();
        query.push(("state", "deleted".into()));
        self.get_json(&format!("/api/v2/users/{id}"), &query).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expand_is_one_parameter_per_value() {
        let query = expand_query();
        assert_eq!(query.len(), EXPAND.len());
        assert!(query
            .iter()
            .all(|(k, v)| *k == "expand" && !v.contains(',')));
    }
}
