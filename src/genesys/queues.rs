//! Why this exists: queues are imported too, and Genesys only replaces a queue whole.
//!
//! Queues (docs/genesys-api.md#queues): create, read whole, replace whole (`PUT`
//! replaces a queue: a sparse body would wipe every setting it does not
//! carry), wrap-up codes, and the division of a queue.

use reqwest::Method;
use serde_json::{json, Value};

use super::{CallError, Client, Listing, Reply, Safety};

impl Client {
    /// `POST /api/v2/routing/queues`; sent once (a lost answer is checked by name).
    pub async fn create_queue(&self, body: &Value) -> Result<Reply, CallError> {
        let bytes = serde_json::to_vec(body).map_err(|e| CallError::BadResponse(e.to_string()))?;
        self.call(
            Method::POST,
            "/api/v2/routing/queues",
            &[],
            Some(&bytes),
            Safety::Once,
        )
        .await
    }

    /// The whole queue, as `PUT` must send it back.
    pub async fn get_queue(&self, id: &str) -> Result<Value, CallError> {
        self.get_json(&format!("/api/v2/routing/queues/{id}"), &[])
            .await
    }

    /// Queues whose name is exactly `name` (the filter takes `*` as a
    /// wildcard; names with `*` are refused before this).
    pub async fn queues_named(&self, name: &str) -> Result<Vec<super::catalog::Named>, CallError> {
        let listing: Listing<super::catalog::Named> = self
            .get_json(
                "/api/v2/routing/queues",
                &[("name", name.to_string()), ("pageSize", "100".into())],
            )
            .await?;
        Ok(listing
            .entities
            .into_iter()
            .filter(|q| q.name.eq_ignore_ascii_case(name))
            .collect())
    }

    /// Replaces the queue with `body` (the whole queue). Idempotent.
    pub async fn put_queue(&self, id: &str, body: &Value) -> Result<(), CallError> {
        self.send(
            Method::PUT,
            &format!("/api/v2/routing/queues/{id}"),
            &[],
            body,
            Safety::Retryable,
        )
        .await
    }

    /// The wrap-up code ids of a queue.
    pub async fn queue_wrapups(&self, id: &str) -> Result<Vec<String>, CallError> {
        self.paged_ids(&format!("/api/v2/routing/queues/{id}/wrapupcodes"))
            .await
    }

    /// Adds wrap-up codes to a queue (adding one it has changes nothing).
    pub async fn add_queue_wrapups(&self, id: &str, codes: &[String]) -> Result<(), CallError> {
        self.send(
            Method::POST,
            &format!("/api/v2/routing/queues/{id}/wrapupcodes"),
            &[],
            &super::provisioning::id_objects(codes),
            Safety::Retryable,
        )
        .await
    }

    /// Moves a queue to another division.
    pub async fn move_queue(&self, division_id: &str, queue_id: &str) -> Result<(), CallError> {
        self.send(
            Method::POST,
            &format!("/api/v2/authorization/divisions/{division_id}/objects/QUEUE"),
            &[],
            &json!([queue_id]),
            Safety::Retryable,
        )
        .await
    }
}
