//! Licences (docs/genesys-api.md#licences): which licences a set of
//! roles implies (`POST /api/v2/license/infer`, the same inference the
//! admin UI runs), the licence catalogue for their names
//! (`GET /api/v2/license/definitions`), and which role is the org's default
//! (a role Genesys marks `default`, normally `Employee`: every new user gets
//! it). All three are reads; nothing here writes.

use reqwest::Method;
use serde::Deserialize;

use super::{api_failure, CallError, Client, Safety};

/// A licence refused or failed: the preview says so and the run goes on.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LicenceError {
    /// A 403: the client lacks the permission (or scope) named here.
    #[error("{endpoint} answered 403 ({message}); the OAuth client needs {permission}")]
    Forbidden {
        endpoint: &'static str,
        permission: &'static str,
        message: String,
    },
    #[error("{endpoint} failed: {error}")]
    Failed {
        endpoint: &'static str,
        error: CallError,
    },
}

pub const INFER: &str = "POST /api/v2/license/infer";
pub const DEFINITIONS: &str = "GET /api/v2/license/definitions";
/// `infer` lists no permission, only the OAuth scope.
pub const INFER_PERMISSION: &str = "the `license:readonly` (or `license`) scope";
pub const DEFINITIONS_PERMISSION: &str =
    "the permission `authorization:license:view` (or `authorization:grant:add`)";

/// A licence as the catalogue lists it (`LicenseDefinition`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct LicenceDefinition {
    pub id: String,
    #[serde(default)]
    pub description: Option<String>,
}

/// A role with its `default` flag.
#[derive(Debug, Clone, Deserialize)]
struct RoleEntry {
    id: String,
    #[serde(default)]
    default: bool,
}

fn classify(endpoint: &'static str, permission: &'static str, error: CallError) -> LicenceError {
    match error {
        CallError::Rejected {
            status: 403,
            message,
            ..
        } => LicenceError::Forbidden {
            endpoint,
            permission,
            message,
        },
        error => LicenceError::Failed { endpoint, error },
    }
}

impl Client {
    /// The licence ids these roles imply. A read, so it may be retried.
    pub async fn infer_licences(&self, role_ids: &[String]) -> Result<Vec<String>, LicenceError> {
        let fail = |e| classify(INFER, INFER_PERMISSION, e);
        let body = serde_json::to_vec(role_ids)
            .map_err(|e| fail(CallError::BadResponse(e.to_string())))?;
        let reply = self
            .call(
                Method::POST,
                "/api/v2/license/infer",
                &[],
                Some(&body),
                Safety::Retryable,
            )
            .await
            .map_err(fail)?;
        if !reply.is_success() {
            return Err(fail(api_failure(&reply)));
        }
        reply.json().map_err(fail)
    }

    /// The org's licence catalogue.
    pub async fn licence_definitions(&self) -> Result<Vec<LicenceDefinition>, LicenceError> {
        self.get_json("/api/v2/license/definitions", &[])
            .await
            .map_err(|e| classify(DEFINITIONS, DEFINITIONS_PERMISSION, e))
    }

    /// The ids of the roles Genesys marks `default` (given to every new user).
    pub async fn default_role_ids(&self) -> Result<Vec<String>, CallError> {
        let roles: Vec<RoleEntry> = self.paged("/api/v2/authorization/roles", 100).await?;
        Ok(roles
            .into_iter()
            .filter(|r| r.default)
            .map(|r| r.id)
            .collect())
    }
}
