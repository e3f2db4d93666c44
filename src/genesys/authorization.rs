//! Why this exists: users live in divisions, and a row may name the one its user belongs in.
//!
//! Divisions: listing them, the home division, and moving users between them
//! (`POST /api/v2/authorization/divisions/{id}/objects/USER`).

use reqwest::Method;
use serde::Deserialize;

use super::{api_failure, CallError, Client, Safety};

/// A division as listed by `GET /api/v2/authorization/divisions`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Division {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub home_division: bool,
}

/// Users per division move. The cap is undocumented
/// (`too.many.bulk.division.updates`), so a refused batch is split.
pub const MOVE_BATCH: usize = 50;

impl Client {
    pub async fn home_division(&self) -> Result<Division, CallError> {
        self.get_json("/api/v2/authorization/divisions/home", &[])
            .await
    }

    /// Every division the client can see (division counts are small).
    pub async fn all_divisions(&self) -> Result<Vec<Division>, CallError> {
        self.paged("/api/v2/authorization/divisions", 100).await
    }

    /// Moves these users into `division_id`, one request per batch. A move
    /// is idempotent (moving a user where it already is changes nothing), so
    /// it may be retried.
    pub async fn move_users(
        &self,
        division_id: &str,
        user_ids: &[String],
    ) -> Result<(), CallError> {
        let body =
            serde_json::to_vec(user_ids).map_err(|e| CallError::BadResponse(e.to_string()))?;
        let reply = self
            .call(
                Method::POST,
                &format!("/api/v2/authorization/divisions/{division_id}/objects/USER"),
                &[],
                Some(&body),
                Safety::Retryable,
            )
            .await?;
        if reply.is_success() {
            return Ok(());
        }
        let error = api_failure(&reply);
        let too_many = reply.error().code.as_deref() == Some("too.many.bulk.division.updates");
        if too_many && user_ids.len() > 1 {
            let (left, right) = user_ids.split_at(user_ids.len() / 2);
            Box::pin(self.move_users(division_id, left)).await?;
            return Box::pin(self.move_users(division_id, right)).await;
        }
        Err(error)
    }
}
