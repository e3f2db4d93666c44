//! Why this exists: a created user is not yet a working agent; these writes make it one.
//!
//! docs/genesys-api.md#provisioning: role grants across users, skills and languages per
//! user, queue and group members across users, and the invitation. Batch
//! sizes are the documented caps; where a cap is not documented, a refused
//! batch is split.

use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{api_failure, CallError, Client, Safety};

/// Users per role grant (`POST /api/v2/authorization/roles/{id}`); the cap
/// is undocumented, so 100, and the engine splits a refused batch (400/413).
pub const ROLE_BATCH: usize = 100;
/// Skills or languages per bulk PATCH (documented: 50).
pub const RATED_BATCH: usize = 50;
/// Users per queue-members POST (documented: 100).
pub const QUEUE_BATCH: usize = 100;
/// Users per group-members POST (documented: 50).
pub const GROUP_BATCH: usize = 50;

/// A role grant as `GET /api/v2/authorization/subjects/{id}` shows it
/// (the user's own or a group's: the adds tell them apart by neither), or
/// as `--exact` rebuilds it from role-centric reads.
#[derive(Debug, Clone, Deserialize)]
pub struct Grant {
    pub role: super::catalog::Named,
    pub division: super::catalog::Named,
}

#[derive(Debug, Deserialize)]
struct Subject {
    #[serde(default)]
    grants: Vec<Grant>,
}

#[derive(Debug, Deserialize)]
struct GroupVersion {
    version: i64,
}

impl Client {
    /// Sends a JSON body; a non-success answer is the error.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: &Value,
        safety: Safety,
    ) -> Result<(), CallError> {
        let bytes = serde_json::to_vec(body).map_err(|e| CallError::BadResponse(e.to_string()))?;
        let reply = self.call(method, path, query, Some(&bytes), safety).await?;
        if reply.is_success() {
            Ok(())
        } else {
            Err(api_failure(&reply))
        }
    }

    /// Grants one role in one division to many users. Granting what a user
    /// already has changes nothing, so the request may be retried. A
    /// refused batch is split by the engine (`engine::isolating`), not here.
    pub async fn grant_role(
        &self,
        role_id: &str,
        division_id: &str,
        user_ids: &[String],
    ) -> Result<(), CallError> {
        self.send(
            Method::POST,
            &format!("/api/v2/authorization/roles/{role_id}"),
            &[("subjectType", "PC_USER".into())],
            &json!({"subjectIds": user_ids, "divisionIds": [division_id]}),
            Safety::Retryable,
        )
        .await
    }

    /// A user's role grants (role and division).
    pub async fn grants(&self, user_id: &str) -> Result<Vec<Grant>, CallError> {
        let subject: Subject = self
            .get_json(&format!("/api/v2/authorization/subjects/{user_id}"), &[])
            .await?;
        Ok(subject.grants)
    }

    /// Adds or re-rates skills (`routingskills`) or languages
    /// (`routinglanguages`) of one user: an upsert by id, so it may be retried.
    pub async fn rate(
        &self,
        user_id: &str,
        kind: RatedKind,
        items: &[(String, f64)],
    ) -> Result<(), CallError> {
        for chunk in items.chunks(RATED_BATCH) {
            let body: Vec<Value> = chunk
                .iter()
                .map(|(id, rating)| json!({"id": id, "proficiency": rating}))
                .collect();
            self.send(
                Method::PATCH,
                &format!("/api/v2/users/{user_id}/{}/bulk", kind.path()),
                &[],
                &Value::Array(body),
                Safety::Retryable,
            )
            .await?;
        }
        Ok(())
    }

    /// Adds members to a queue (at most `QUEUE_BATCH`); adding a member
    /// twice changes nothing.
    pub async fn add_queue_members(
        &self,
        queue_id: &str,
        user_ids: &[String],
    ) -> Result<(), CallError> {
        self.send(
            Method::POST,
            &format!("/api/v2/routing/queues/{queue_id}/members"),
            &[],
            &id_objects(user_ids),
            Safety::Retryable,
        )
        .await
    }

    /// The user ids that are members of a queue.
    pub async fn queue_members(&self, queue_id: &str) -> Result<Vec<String>, CallError> {
        self.paged_ids(&format!("/api/v2/routing/queues/{queue_id}/members"))
            .await
    }

    /// A group's current version (needed to add members).
    pub async fn group_version(&self, group_id: &str) -> Result<i64, CallError> {
        let group: GroupVersion = self
            .get_json(&format!("/api/v2/groups/{group_id}"), &[])
            .await?;
        Ok(group.version)
    }

    /// Adds members to a group (at most `GROUP_BATCH`) at `version`.
    pub async fn add_group_members(
        &self,
        group_id: &str,
        version: i64,
        user_ids: &[String],
    ) -> Result<(), CallError> {
        self.send(
            Method::POST,
            &format!("/api/v2/groups/{group_id}/members"),
            &[],
            &json!({"memberIds": user_ids, "version": version}),
            Safety::Retryable,
        )
        .await
    }

    /// Sends the invitation email (not forced: an outstanding one is kept).
    pub async fn invite(&self, user_id: &str) -> Result<(), CallError> {
        let reply = self
            .call(
                Method::POST,
                &format!("/api/v2/users/{user_id}/invite"),
                &[("force", "false".into())],
                None,
                Safety::Once,
            )
            .await?;
        if reply.is_success() {
            Ok(())
        } else {
            Err(api_failure(&reply))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RatedKind {
    Skills,
    Languages,
}

impl RatedKind {
    fn path(self) -> &'static str {
        match self {
            RatedKind::Skills => "routingskills",
            RatedKind::Languages => "routinglanguages",
        }
    }
}

/// `[{"id": …}, …]`, the body that adds members or wrap-up codes.
pub(crate) fn id_objects(ids: &[String]) -> Value {
    Value::Array(ids.iter().map(|id| json!({"id": id})).collect())
}
