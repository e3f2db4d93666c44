//! Why this exists: callers match on what a call came to, so replies and failures are typed here.

use serde::Deserialize;

use super::token::AuthError;

/// An HTTP answer that was not a 401 or 429.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

/// The Genesys `ErrorBody`, reduced to what we report.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiError {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub entity_id: Option<String>,
}

impl Reply {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn error(&self) -> ApiError {
        serde_json::from_slice(&self.body).unwrap_or_default()
    }

    /// The error message, or a short piece of a non-JSON body.
    pub fn error_message(&self) -> String {
        let error = self.error();
        error.message.unwrap_or_else(|| {
            let text: String = String::from_utf8_lossy(&self.body)
                .trim()
                .chars()
                .take(200)
                .collect();
            if text.is_empty() {
                format!("HTTP {}", self.status)
            } else {
                text
            }
        })
    }

    pub fn json<T: for<'de> Deserialize<'de>>(&self) -> Result<T, CallError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| CallError::BadResponse(format!("unexpected response body: {e}")))
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// 401 even with a freshly renewed token.
    #[error("the API refused the token: {0}")]
    Unauthorized(String),
    /// A `Safety::Once` request may or may not have been applied.
    #[error("{0}")]
    OutcomeUnknown(String),
    /// Retries ran out on 5xx, timeouts or 429s.
    #[error("{message} (gave up after {attempts} attempts)")]
    Exhausted {
        status: Option<u16>,
        code: Option<String>,
        message: String,
        attempts: u32,
    },
    /// The API answered, and said no.
    #[error("{message} (HTTP {status}{})", code.as_deref().map(|c| format!(", {c}")).unwrap_or_default())]
    Rejected {
        status: u16,
        code: Option<String>,
        message: String,
    },
    /// A 3xx. The Genesys API never redirects, and following one would send
    /// the request (a password, a token) to wherever it points.
    #[error("the API answered HTTP {status} redirecting to {location}; genimport follows no redirects (check --api-url)")]
    Redirected { status: u16, location: String },
    #[error("{0}")]
    BadResponse(String),
    #[error("stopped before the request was sent")]
    Stopped,
}

/// A page of a paged listing (`entities`, `pageCount`, `nextUri`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Listing<T> {
    #[serde(default = "Vec::new")]
    pub entities: Vec<T>,
    #[serde(default)]
    pub page_count: Option<u32>,
    #[serde(default)]
    pub next_uri: Option<String>,
    /// How many entities the whole listing holds (when Genesys says).
    #[serde(default)]
    pub total: Option<u64>,
}

pub(crate) fn is_bad_request(error: &CallError) -> bool {
    matches!(error, CallError::Rejected { status: 400, .. })
}

/// A non-success reply, as an error.
pub fn api_failure(reply: &Reply) -> CallError {
    CallError::Rejected {
        status: reply.status,
        code: reply.error().code,
        message: reply.error_message(),
    }
}
