//! Why this exists: every Genesys call goes through `Client::call`, which
//! paces it, authenticates it, retries what is safe to retry, and hands back
//! a reply or a classified failure. The typed helpers below it are the few
//! endpoints genimport uses (see shared/genesys/API.md).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::time::Instant;

use crate::auth::{describe_transport_error, AuthError, TokenSource};
use crate::error::StopReason;
use crate::pacing::{Pacer, RetryPolicy};
use crate::stats::Stats;
use crate::stop::Stop;

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
    auth: TokenSource,
    pacer: Arc<Pacer>,
    policy: RetryPolicy,
    stats: Arc<Stats>,
    stop: Stop,
    /// Set once search has refused the state criterion.
    plain_search: AtomicBool,
}

/// A division as listed by `GET /api/v2/authorization/divisions`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Division {
    pub id: String,
    #[serde(default)]
    pub name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Listing<T> {
    #[serde(default = "Vec::new")]
    entities: Vec<T>,
    #[serde(default)]
    page_count: Option<u32>,
    #[serde(default)]
    next_uri: Option<String>,
}

/// A user found by search.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct FoundUser {
    pub id: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub version: Option<i64>,
}

impl FoundUser {
    pub fn is_deleted(&self) -> bool {
        self.state.as_deref() == Some("deleted")
    }
}

/// What a search by emails found, and the emails search refused outright.
#[derive(Debug, Default)]
pub struct EmailSearch {
    pub found: Vec<FoundUser>,
    pub refused: Vec<(String, CallError)>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SearchPage {
    #[serde(default)]
    results: Vec<FoundUser>,
    #[serde(default)]
    page_count: Option<u32>,
}

/// Emails per search request; the server's limit is undocumented, so small.
pub const SEARCH_BATCH: usize = 50;
const SEARCH_PAGE_SIZE: u32 = 100;

impl Client {
    pub fn new(
        http: reqwest::Client,
        api_base: &str,
        auth: TokenSource,
        pacer: Arc<Pacer>,
        policy: RetryPolicy,
        stats: Arc<Stats>,
        stop: Stop,
    ) -> Client {
        Client {
            http,
            api: api_base.to_string(),
            auth,
            pacer,
            policy,
            stats,
            stop,
            plain_search: AtomicBool::new(false),
        }
    }

    /// A token, unless the run is stopped first (a renewal may back off
    /// for minutes; Ctrl-C must not wait for it).
    pub async fn authenticate(&self) -> Result<(), CallError> {
        tokio::select! {
            bearer = self.auth.bearer() => bearer.map(drop).map_err(CallError::from),
            _ = self.stop.raised() => Err(CallError::Stopped),
        }
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
        loop {
            tokio::select! {
                _ = self.pacer.acquire() => {}
                _ = self.stop.raised() => return Err(CallError::Stopped),
            }
            // Ctrl-C must not wait for a token renewal that is backing off.
            let bearer = tokio::select! {
                bearer = self.auth.bearer() => bearer?,
                _ = self.stop.raised() => return Err(CallError::Stopped),
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
            let failure = match request.send().await {
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
                    let retry_after = header(&response, "retry-after");
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
                            self.auth.invalidate(bearer.generation).await;
                            continue;
                        }
                        401 => return Err(CallError::Unauthorized(reply.error_message())),
                        429 => {
                            self.stats.count_throttled();
                            let wait = match self.policy.retry_after(retry_after.as_deref()) {
                                Ok(wait) => wait,
                                Err(too_long) => {
                                    // Waiting is refused, and failing row after row
                                    // would only collect more 429s: stop sending.
                                    self.stop.raise(StopReason::RetryAfterTooLong {
                                        seconds: too_long.as_secs(),
                                        limit: self.policy.max_retry_after.as_secs(),
                                    });
                                    return Err(CallError::Stopped);
                                }
                            };
                            let new_event = self.pacer.on_throttled(self.policy.scale(wait));
                            if new_event {
                                tracing::info!(
                                    wait_s = wait.as_secs(),
                                    rate_per_min =
                                        self.pacer.current_rate().map(|r| (r * 60.0).round()),
                                    "rate limited; all workers pause"
                                );
                            }
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
                            // The pacer holds everyone until the pause ends.
                            continue;
                        }
                        408 | 500 | 502..=504 if safety == Safety::Retryable => {
                            self.pacer.on_accepted();
                            let error = reply.error();
                            (Some(status), error.code, reply.error_message())
                        }
                        _ => {
                            self.pacer.on_accepted();
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

    async fn get_json<T: for<'de> Deserialize<'de>>(
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

    pub async fn home_division(&self) -> Result<Division, CallError> {
        self.get_json("/api/v2/authorization/divisions/home", &[])
            .await
    }

    /// Every division the client can see (division counts are small).
    pub async fn all_divisions(&self) -> Result<Vec<Division>, CallError> {
        let mut all = Vec::new();
        for page in 1u32.. {
            let listing: Listing<Division> = self
                .get_json(
                    "/api/v2/authorization/divisions",
                    &[("pageSize", "100".into()), ("pageNumber", page.to_string())],
                )
                .await?;
            let empty = listing.entities.is_empty();
            all.extend(listing.entities);
            let more = match listing.page_count {
                Some(count) => page < count,
                None => listing.next_uri.is_some(),
            };
            if empty || !more || page >= 1000 {
                break;
            }
        }
        Ok(all)
    }

    /// Users whose email is one of `emails` (EXACT match). Plain search
    /// leaves deleted users out, and they still hold their email, so every
    /// state is asked for by name. The search limits are undocumented: a 400
    /// splits the batch, and a 400 for a single email drops the state
    /// criterion (deleted users are then found when a create conflicts). A
    /// 400 for one email even then is that email's own answer (`refused`),
    /// not the end of the search.
    pub async fn search_by_emails(&self, emails: &[String]) -> Result<EmailSearch, CallError> {
        let with_states = !self.plain_search.load(Ordering::Relaxed);
        match self.search_pages(emails, with_states).await {
            Ok(found) => Ok(EmailSearch {
                found,
                refused: Vec::new(),
            }),
            Err(e) if is_bad_request(&e) && emails.len() > 1 => {
                let (left, right) = emails.split_at(emails.len() / 2);
                let mut result = Box::pin(self.search_by_emails(left)).await?;
                let more = Box::pin(self.search_by_emails(right)).await?;
                result.found.extend(more.found);
                result.refused.extend(more.refused);
                Ok(result)
            }
            Err(e) if is_bad_request(&e) && with_states => {
                tracing::warn!(error = %e, "users search refused the state criterion; searching by email only");
                self.plain_search.store(true, Ordering::Relaxed);
                Box::pin(self.search_by_emails(emails)).await
            }
            Err(e) if is_bad_request(&e) => Ok(EmailSearch {
                found: Vec::new(),
                refused: emails.iter().map(|m| (m.clone(), e.clone())).collect(),
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
        emails: &[String],
        with_states: bool,
    ) -> Result<Vec<FoundUser>, CallError> {
        let mut query = vec![json!({"type": "EXACT", "fields": ["email"], "values": emails})];
        if with_states {
            query.push(json!({"type": "EXACT", "fields": ["state"], "values": ["active", "inactive", "deleted"]}));
        }
        let mut found = Vec::new();
        for page in 1u32.. {
            let body = serde_json::to_vec(&SearchRequest {
                page_size: SEARCH_PAGE_SIZE,
                page_number: page,
                query: &query,
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
            let page_data: SearchPage = reply.json()?;
            let last = page_data.results.is_empty()
                || page_data.page_count.is_none_or(|count| page >= count);
            found.extend(page_data.results);
            if last || page >= 1000 {
                break;
            }
        }
        Ok(found)
    }

    /// The user with this email; a live one wins over a deleted one.
    pub async fn find_by_email(&self, email: &str) -> Result<Option<FoundUser>, CallError> {
        let search = self.search_by_emails(&[email.to_string()]).await?;
        if let Some((_, refused)) = search.refused.into_iter().next() {
            return Err(refused);
        }
        Ok(search
            .found
            .into_iter()
            .filter(|u| {
                u.email
                    .as_deref()
                    .is_none_or(|e| e.eq_ignore_ascii_case(email))
            })
            .min_by_key(FoundUser::is_deleted))
    }

    /// `POST /api/v2/users`. Never retried here once it may have been sent.
    pub async fn create_user(&self, body: &[u8]) -> Result<Reply, CallError> {
        self.call(Method::POST, "/api/v2/users", &[], Some(body), Safety::Once)
            .await
    }

    /// Restores a deleted user: `PATCH` with only `state` (the spec says a
    /// state change must be alone) and the current `version`.
    pub async fn restore_user(&self, id: &str, version: i64) -> Result<Reply, CallError> {
        let body = serde_json::to_vec(&json!({"state": "active", "version": version}))
            .map_err(|e| CallError::BadResponse(e.to_string()))?;
        self.call(
            Method::PATCH,
            &format!("/api/v2/users/{id}"),
            &[],
            Some(&body),
            Safety::Once,
        )
        .await
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SearchRequest<'a> {
    page_size: u32,
    page_number: u32,
    query: &'a [serde_json::Value],
}

fn is_bad_request(error: &CallError) -> bool {
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
