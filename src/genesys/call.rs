//! Why this exists: each request is paced, authenticated, and retried only as `Safety` allows.

use std::time::Duration;

use reqwest::Method;
use tokio::time::Instant;

use crate::error::StopReason;
use crate::pacing::{Answer, Permit};

use super::reply::{CallError, Reply};
use super::token::{describe_transport_error, Bearer};
use super::Client;

/// Whether a request may be sent again when its outcome is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Safety {
    /// Reads and searches: retry 5xx, timeouts and dropped connections.
    Retryable,
    /// Writes: a request that may have reached the server is never resent
    /// here; the caller reconciles first (see `import`).
    Once,
}

/// One request as the caller asked for it, sent as many times as it takes.
struct Request<'a> {
    method: Method,
    url: String,
    path: &'a str,
    query: &'a [(&'a str, String)],
    body: Option<&'a [u8]>,
    safety: Safety,
}

/// What the attempts at one request have used up so far.
#[derive(Default)]
struct Attempts {
    /// Retries spent, on 429s and on retryable failures alike.
    retry: u32,
    /// The token was already renewed after a 401.
    renewed: bool,
    /// The token that last answered this request 429, and until when.
    refused: Option<(usize, Instant)>,
}

/// What one attempt came to.
enum Attempt {
    /// The answer to hand back (a success, or a refusal the caller reads).
    Done(Reply),
    /// Send again without a back-off: the token was renewed after a 401, or
    /// a 429's wait is recorded in `Attempts::refused`.
    Resend,
    /// A failure that may be retried after a back-off.
    Failed(Failure),
}

/// A retryable failure, as `CallError::Exhausted` reports it.
struct Failure {
    status: Option<u16>,
    code: Option<String>,
    message: String,
}

impl Failure {
    fn exhausted(self, attempts: u32) -> CallError {
        CallError::Exhausted {
            status: self.status,
            code: self.code,
            message: self.message,
            attempts,
        }
    }
}

/// A 429's `Retry-After`, read once: for the pacer at once, for the retry after.
#[derive(Clone, Copy)]
struct Throttle {
    /// The wait asked for; `Err` holds one longer than the policy accepts.
    wait: Result<Duration, Duration>,
    /// The header was a whole number of seconds.
    whole_seconds: bool,
}

impl Client {
    /// Sends one API request with pacing, auth, and the retries `safety` allows.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&[u8]>,
        safety: Safety,
    ) -> Result<Reply, CallError> {
        let request = Request {
            url: format!("{}{}", self.api, path),
            method,
            path,
            query,
            body,
            safety,
        };
        let mut attempts = Attempts::default();
        loop {
            match self.attempt(&request, &mut attempts).await? {
                Attempt::Done(reply) => return Ok(reply),
                Attempt::Resend => {}
                Attempt::Failed(failure) => self.back_off(&request, &mut attempts, failure).await?,
            }
        }
    }

    /// Sends the request once, when a token's pacer allows, and reads the answer.
    async fn attempt(
        &self,
        request: &Request<'_>,
        attempts: &mut Attempts,
    ) -> Result<Attempt, CallError> {
        let (token, mut permit) = tokio::select! {
            granted = self.pool.acquire(attempts.refused) => granted,
            _ = self.stop.raised() => return Err(CallError::Stopped),
        };
        // Ctrl-C must not wait for a token renewal that is backing off.
        let bearer = match self.bearer(token).await {
            Ok(bearer) => bearer,
            Err(e) => {
                self.settle(token, permit, Answer::Unknown);
                return Err(e);
            }
        };
        let outgoing = self.build(request, &bearer);
        let started = Instant::now();
        self.stats.count_request();
        permit.mark_sent();
        // A second Ctrl-C abandons the request in flight, so the run can
        // still write every row before it ends (see `commands::execute`).
        let sent = tokio::select! {
            sent = outgoing.send() => sent,
            _ = self.stop.quit_requested() => {
                self.settle(token, permit, Answer::Unknown);
                return Err(abandoned(request));
            }
        };
        let throttle = sent.as_ref().ok().and_then(|r| self.throttle(r));
        self.settle(token, permit, self.pacer_answer(&sent, throttle));
        let response = match sent {
            Ok(response) => response,
            Err(e) => return transport_failure(request, &e),
        };
        let reply = tokio::select! {
            reply = read_reply(request, response, started) => reply?,
            _ = self.stop.quit_requested() => return Err(abandoned(request)),
        };
        self.judge(request, attempts, token, bearer.generation, reply, throttle)
            .await
    }

    /// The HTTP request for one attempt, carrying this attempt's token.
    fn build(&self, request: &Request<'_>, bearer: &Bearer) -> reqwest::RequestBuilder {
        let mut outgoing = self
            .http
            .request(request.method.clone(), &request.url)
            .header(reqwest::header::AUTHORIZATION, bearer.header_value())
            .header(reqwest::header::ACCEPT, "application/json");
        if !request.query.is_empty() {
            outgoing = outgoing.query(request.query);
        }
        if let Some(body) = request.body {
            outgoing = outgoing
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_vec());
        }
        outgoing
    }

    /// A 429's wait, or `None` for any other answer.
    fn throttle(&self, response: &reqwest::Response) -> Option<Throttle> {
        if response.status().as_u16() != 429 {
            return None;
        }
        let header = header(response, "retry-after");
        Some(Throttle {
            wait: self.policy.retry_after(header.as_deref()),
            whole_seconds: crate::pacing::retry_after_seconds(header.as_deref()).is_some(),
        })
    }

    /// What an attempt tells the pacers about the rate limit.
    fn pacer_answer(
        &self,
        sent: &Result<reqwest::Response, reqwest::Error>,
        throttle: Option<Throttle>,
    ) -> Answer {
        match (sent, throttle) {
            (
                _,
                Some(Throttle {
                    wait: Ok(wait),
                    whole_seconds,
                }),
            ) => Answer::Throttled {
                wait: self.policy.scale(wait),
                whole_seconds,
            },
            (Ok(response), None) if response.status().as_u16() != 401 => Answer::Accepted,
            _ => Answer::Unknown,
        }
    }

    /// Hands the permit back to the token's pacer and tells the spread over
    /// tokens how the attempt went.
    fn settle(&self, token: usize, permit: Permit, answer: Answer) {
        self.pool.pacer(token).answered(permit, answer);
        self.pool.observed(token, answer);
    }

    /// What an answer means for the request: the reply to hand back, a
    /// resend, or a failure to retry.
    async fn judge(
        &self,
        request: &Request<'_>,
        attempts: &mut Attempts,
        token: usize,
        generation: u64,
        reply: Reply,
        throttle: Option<Throttle>,
    ) -> Result<Attempt, CallError> {
        match reply.status {
            401 if !attempts.renewed => {
                attempts.renewed = true;
                self.pool.auth(token).invalidate(generation).await;
                Ok(Attempt::Resend)
            }
            401 => Err(CallError::Unauthorized(reply.error_message())),
            429 => self.rate_limited(attempts, token, &reply, throttle),
            408 | 500 | 502..=504 if request.safety == Safety::Retryable => {
                Ok(Attempt::Failed(Failure {
                    status: Some(reply.status),
                    code: reply.error().code,
                    message: reply.error_message(),
                }))
            }
            _ => Ok(Attempt::Done(reply)),
        }
    }

    /// A 429: the request goes again no sooner than its own `Retry-After`
    /// (the pacer holds the others), unless the retries are spent or the
    /// wait is longer than the policy accepts.
    fn rate_limited(
        &self,
        attempts: &mut Attempts,
        token: usize,
        reply: &Reply,
        throttle: Option<Throttle>,
    ) -> Result<Attempt, CallError> {
        self.stats.count_throttled();
        let wait = match throttle.map(|t| t.wait) {
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
        if !self.spend_retry(attempts) {
            let failure = Failure {
                status: Some(429),
                code: reply.error().code,
                message: "still rate limited".into(),
            };
            return Err(failure.exhausted(attempts.retry + 1));
        }
        attempts.refused = Some((
            token,
            crate::pacing::later(Instant::now(), self.policy.scale(wait)),
        ));
        Ok(Attempt::Resend)
    }

    /// A retryable failure: waits the policy's back-off before the next
    /// attempt, unless the retries are spent or the run stops meanwhile.
    async fn back_off(
        &self,
        request: &Request<'_>,
        attempts: &mut Attempts,
        failure: Failure,
    ) -> Result<(), CallError> {
        if !self.spend_retry(attempts) {
            return Err(failure.exhausted(attempts.retry + 1));
        }
        let retry = attempts.retry;
        let wait = self.policy.backoff(retry);
        tracing::debug!(method = %request.method, path = request.path, retry, wait_ms = wait.as_millis() as u64, error = %failure.message, "retrying");
        if !self.stop.sleep(wait).await {
            return Err(CallError::Stopped);
        }
        Ok(())
    }

    /// Counts one more retry; `false` when the policy's retries are spent.
    fn spend_retry(&self, attempts: &mut Attempts) -> bool {
        if attempts.retry >= self.policy.max_retries {
            return false;
        }
        attempts.retry += 1;
        self.stats.count_retry();
        true
    }
}

/// A request that got no answer: its outcome is unknown if it was a write
/// that may have reached the server; otherwise it may be retried.
/// A request given up on a second Ctrl-C: a write that may have reached
/// Genesys has an unknown outcome; anything else was simply not done.
fn abandoned(request: &Request<'_>) -> CallError {
    if request.safety == Safety::Once {
        CallError::OutcomeUnknown("the run quit (second Ctrl-C) while it was in flight".into())
    } else {
        CallError::Stopped
    }
}

fn transport_failure(request: &Request<'_>, error: &reqwest::Error) -> Result<Attempt, CallError> {
    let message = describe_transport_error(error);
    tracing::debug!(method = %request.method, path = request.path, error = %message, "request failed");
    // A refused connection never reached the server.
    if request.safety == Safety::Once && !error.is_connect() {
        return Err(CallError::OutcomeUnknown(message));
    }
    Ok(Attempt::Failed(Failure {
        status: None,
        code: None,
        message,
    }))
}

/// The answer's status and body, logged. A redirect is an error, and so is
/// a write's body lost on the way (its outcome is unknown).
async fn read_reply(
    request: &Request<'_>,
    response: reqwest::Response,
    started: Instant,
) -> Result<Reply, CallError> {
    let status = response.status().as_u16();
    let correlation_id = header(&response, "inin-correlation-id");
    let location = header(&response, "location").map(|l| crate::text::cut(&l));
    let body = match response.bytes().await {
        Ok(b) => b.to_vec(),
        Err(e) if request.safety == Safety::Once => {
            return Err(CallError::OutcomeUnknown(describe_transport_error(&e)));
        }
        Err(_) => Vec::new(),
    };
    tracing::debug!(
        method = %request.method,
        path = request.path,
        status,
        latency_ms = started.elapsed().as_millis() as u64,
        correlation_id = correlation_id.as_deref().unwrap_or(""),
        "request"
    );
    if (300..400).contains(&status) {
        return Err(CallError::Redirected {
            status,
            location: location.unwrap_or_else(|| "(no Location)".into()),
        });
    }
    Ok(Reply { status, body })
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}
