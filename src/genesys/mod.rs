//! Why this exists: every Genesys call goes through `Client::call`, which
//! paces it, authenticates it, retries what is safe to retry, and hands back
//! a reply or a classified failure. The endpoints live beside it, one file
//! per resource (see shared/genesys/API.md and PROVISIONING.md); none of them
//! knows about CSV rows.

pub mod authorization;
pub mod catalog;
pub mod checks;
pub mod lists;
pub mod pool;
pub mod provisioning;
pub mod queues;
pub mod token;
pub mod users;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use reqwest::Method;
use serde::Deserialize;
use tokio::time::Instant;

use crate::error::StopReason;
use crate::pacing::{Answer, RetryPolicy};
use crate::stats::Stats;
use crate::stop::Stop;
use pool::TokenPool;
use token::{describe_transport_error, AuthError};

/// Whether a request may be sent again when its outcome is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Safety {
    /// Reads and searches: retry 5xx, timeouts and dropped connections.
    Retryable,
    /// Writes: a request that may have reached the server is never resent
    /// here; the caller reconciles first (see `import`).
    Once,
}

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

pub struct Client {
    http: reqwest::Client,
    api: String,
    pool: TokenPool,
    policy: RetryPolicy,
    stats: Arc<Stats>,
    stop: Stop,
    /// Set once search has refused the state criterion.
    pub(crate) plain_search: AtomicBool,
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
}

impl Client {
    pub fn new(
        http: reqwest::Client,
        api_base: &str,
        pool: TokenPool,
        policy: RetryPolicy,
        stats: Arc<Stats>,
        stop: Stop,
    ) -> Client {
        Client {
            http,
            api: api_base.to_string(),
            pool,
            policy,
            stats,
            stop,
            plain_search: AtomicBool::new(false),
        }
    }

    /// A token, unless the run is stopped first (a renewal may back off
    /// for minutes; Ctrl-C must not wait for it).
    pub async fn authenticate(&self) -> Result<(), CallError> {
        self.bearer(0).await.map(drop)
    }

    async fn bearer(&self, token: usize) -> Result<token::Bearer, CallError> {
        tokio::select! {
            bearer = self.pool.auth(token).bearer() => bearer.map_err(CallError::from),
            _ = self.stop.raised() => Err(CallError::Stopped),
        }
    }

    pub(crate) fn stop(&self) -> &Stop {
        &self.stop
    }

    /// When the pacers would next let a request go.
    pub fn next_grant(&self) -> Instant {
        self.pool.next_grant()
    }

    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// Sends one API request with pacing, auth, and the retries `safety` allows.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&[u8]>,
        safety: Safety,
    ) -> Result<Reply, CallError> {
        let url = format!("{}{}", self.api, path);
        let mut retry: u32 = 0;
        let mut renewed = false;
        // The token that last answered this request 429, and until when.
        let mut refused: Option<(usize, Instant)> = None;
        loop {
            let (token, mut permit) = tokio::select! {
                granted = self.pool.acquire(refused) => granted,
                _ = self.stop.raised() => return Err(CallError::Stopped),
            };
            let pacer = self.pool.pacer(token);
            // Ctrl-C must not wait for a token renewal that is backing off.
            let bearer = match self.bearer(token).await {
                Ok(bearer) => bearer,
                Err(e) => {
                    pacer.answered(permit, Answer::Unknown);
                    self.pool.observed(token, Answer::Unknown);
                    return Err(e);
                }
            };
            let mut request = self
                .http
                .request(method.clone(), &url)
                .header(reqwest::header::AUTHORIZATION, bearer.header_value())
                .header(reqwest::header::ACCEPT, "application/json");
            if !query.is_empty() {
                request = request.query(query);
            }
            if let Some(body) = body {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.to_vec());
            }
            let started = Instant::now();
            self.stats.count_request();
            permit.mark_sent();
            let sent = request.send().await;
            // A 429's wait, read once: for the pacer here, for the retry below.
            let throttled = sent
                .as_ref()
                .ok()
                .filter(|response| response.status().as_u16() == 429)
                .map(|response| {
                    let header = header(response, "retry-after");
                    let whole_seconds = crate::pacing::retry_after_seconds(header.as_deref());
                    (
                        self.policy.retry_after(header.as_deref()),
                        whole_seconds.is_some(),
                    )
                });
            let answer = match (&sent, throttled) {
                (_, Some((Ok(wait), whole_seconds))) => Answer::Throttled {
                    wait: self.policy.scale(wait),
                    whole_seconds,
                },
                (Ok(response), None) if response.status().as_u16() != 401 => Answer::Accepted,
                _ => Answer::Unknown,
            };
            pacer.answered(permit, answer);
            self.pool.observed(token, answer);
            let failure = match sent {
                Err(e) => {
                    let message = describe_transport_error(&e);
                    tracing::debug!(%method, path, error = %message, "request failed");
                    // A refused connection never reached the server.
                    if safety == Safety::Once && !e.is_connect() {
                        return Err(CallError::OutcomeUnknown(message));
                    }
                    (None, None, message)
                }
                Ok(response) => {
                    let status = response.status().as_u16();
                    let correlation_id = header(&response, "inin-correlation-id");
                    let location = header(&response, "location").map(|l| crate::text::cut(&l));
                    let body = match response.bytes().await {
                        Ok(b) => b.to_vec(),
                        Err(e) => {
                            let message = describe_transport_error(&e);
                            if safety == Safety::Once {
                                return Err(CallError::OutcomeUnknown(message));
                            }
                            Vec::new()
                        }
                    };
                    tracing::debug!(
                        %method,
                        path,
                        status,
                        latency_ms = started.elapsed().as_millis() as u64,
                        correlation_id = correlation_id.as_deref().unwrap_or(""),
                        "request"
                    );
                    let reply = Reply { status, body };
                    if (300..400).contains(&status) {
                        return Err(CallError::Redirected {
                            status,
                            location: location.unwrap_or_else(|| "(no Location)".into()),
                        });
                    }
                    match status {
                        401 if !renewed => {
                            renewed = true;
                            self.pool.auth(token).invalidate(bearer.generation).await;
                            continue;
                        }
                        401 => return Err(CallError::Unauthorized(reply.error_message())),
                        429 => {
                            self.stats.count_throttled();
                            let wait = match throttled.map(|(wait, _)| wait) {
                                Some(Ok(wait)) => wait,
                                None => self.policy.retry_after_default,
                                Some(Err(too_long)) => {
                                    // Waiting is refused, and failing row after row
                                    // would only collect more 429s: stop sending.
                                    self.stop.raise(StopReason::RetryAfterTooLong {
                                        seconds: too_long.as_secs(),
                                        limit: self.policy.max_retry_after.as_secs(),
                                    });
                                    return Err(CallError::Stopped);
                                }
                            };
                            tracing::debug!(wait_s = wait.as_secs(), "rate limited");
                            if retry >= self.policy.max_retries {
                                let error = reply.error();
                                return Err(CallError::Exhausted {
                                    status: Some(429),
                                    code: error.code,
                                    message: "still rate limited".into(),
                                    attempts: retry + 1,
                                });
                            }
                            retry += 1;
                            self.stats.count_retry();
                            // This request goes again no sooner than its own
                            // Retry-After; the pacer holds the others.
                            refused = Some((
                                token,
                                crate::pacing::later(Instant::now(), self.policy.scale(wait)),
                            ));
                            continue;
                        }
                        408 | 500 | 502..=504 if safety == Safety::Retryable => {
                            let error = reply.error();
                            (Some(status), error.code, reply.error_message())
                        }
                        _ => {
                            return Ok(reply);
                        }
                    }
                }
            };
            let (status, code, message) = failure;
            if retry >= self.policy.max_retries {
                return Err(CallError::Exhausted {
                    status,
                    code,
                    message,
                    attempts: retry + 1,
                });
            }
            retry += 1;
            self.stats.count_retry();
            let wait = self.policy.backoff(retry);
            tracing::debug!(%method, path, retry, wait_ms = wait.as_millis() as u64, error = %message, "retrying");
            if !self.stop.sleep(wait).await {
                return Err(CallError::Stopped);
            }
        }
    }

    pub(crate) async fn get_json<T: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, CallError> {
        let reply = self
            .call(Method::GET, path, query, None, Safety::Retryable)
            .await?;
        if !reply.is_success() {
            return Err(api_failure(&reply));
        }
        reply.json()
    }
}

pub(crate) fn is_bad_request(error: &CallError) -> bool {
    matches!(error, CallError::Rejected { status: 400, .. })
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// A non-success reply, as an error.
pub fn api_failure(reply: &Reply) -> CallError {
    CallError::Rejected {
        status: reply.status,
        code: reply.error().code,
        message: reply.error_message(),
    }
}
