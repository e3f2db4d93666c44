//! Why this exists: every request needs a bearer token, and neither it nor the secret may leak.
//!
//! One client-credentials token shared by every request, renewed before it
//! expires and after a 401, with only one renewal in flight at a time. The
//! secret and the token never reach a log or `Debug`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::pacing::RetryPolicy;
use crate::stats::Stats;

/// Client-credentials grant. `Debug` never shows the secret.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub client_id: String,
    pub secret: SecretString,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    /// The login server said no (bad id or secret, disabled client...).
    #[error("the login server refused the client credentials: {0}; check the client id (GENESYS_CLIENT_ID or --client-id), the secret (GENESYS_CLIENT_SECRET), the region (--region, or --api-url/--login-url), and that the OAuth client's grant type is Client Credentials")]
    Refused(String),
    /// The login server could not be reached or kept failing.
    #[error("cannot get a token from {url}: {message}")]
    Unavailable { url: String, message: String },
}

/// A bearer token and the renewal it came from. `Debug` hides the value.
#[derive(Clone)]
pub struct Bearer {
    value: Arc<SecretString>,
    pub generation: u64,
}

impl Bearer {
    pub fn header_value(&self) -> String {
        format!("Bearer {}", self.value.expose_secret())
    }
}

impl fmt::Debug for Bearer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bearer([REDACTED], generation {})", self.generation)
    }
}

struct Cached {
    bearer: Bearer,
    renew_at: Instant,
}

pub struct TokenSource {
    http: reqwest::Client,
    token_url: String,
    credentials: Credentials,
    policy: RetryPolicy,
    stats: Arc<Stats>,
    // Held across the renewal request so that only one renewal runs at a time;
    // other callers wait and then reuse the new token.
    cached: Mutex<Option<Cached>>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Deserialize, Default)]
struct TokenErrorResponse {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// Default lifetime when the server does not say (Genesys' default is 24 h).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(86_400);

impl TokenSource {
    pub fn new(
        http: reqwest::Client,
        login_base: &str,
        credentials: Credentials,
        policy: RetryPolicy,
        stats: Arc<Stats>,
    ) -> TokenSource {
        TokenSource {
            http,
            token_url: format!("{login_base}/oauth/token"),
            credentials,
            policy,
            stats,
            cached: Mutex::new(None),
        }
    }

    /// A valid token, renewing it first if it is about to expire.
    pub async fn bearer(&self) -> Result<Bearer, AuthError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref() {
            if Instant::now() < c.renew_at {
                return Ok(c.bearer.clone());
            }
        }
        let generation = cached.as_ref().map_or(1, |c| c.bearer.generation + 1);
        let (value, lifetime) = self.fetch().await?;
        // Renew a little early: a tenth of the lifetime, at most a minute.
        let margin = (lifetime / 10).min(Duration::from_secs(60));
        let bearer = Bearer {
            value: Arc::new(value),
            generation,
        };
        *cached = Some(Cached {
            bearer: bearer.clone(),
            renew_at: crate::pacing::later(Instant::now(), lifetime - margin),
        });
        tracing::debug!(
            generation,
            lifetime_s = lifetime.as_secs(),
            "token obtained"
        );
        Ok(bearer)
    }

    /// A request with this token got a 401: forget it, unless another worker
    /// already replaced it.
    pub async fn invalidate(&self, generation: u64) {
        let mut cached = self.cached.lock().await;
        if cached
            .as_ref()
            .is_some_and(|c| c.bearer.generation == generation)
        {
            if let Some(c) = cached.as_mut() {
                c.renew_at = Instant::now();
            }
        }
    }

    async fn fetch(&self) -> Result<(SecretString, Duration), AuthError> {
        let unavailable = |message: String| AuthError::Unavailable {
            url: self.token_url.clone(),
            message,
        };
        let mut retry = 0;
        loop {
            self.stats.count_request();
            let sent = self
                .http
                .post(&self.token_url)
                .basic_auth(
                    &self.credentials.client_id,
                    Some(self.credentials.secret.expose_secret()),
                )
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await;
            let failure = match sent {
                Err(e) => describe_transport_error(&e),
                Ok(response) => {
                    let status = response.status().as_u16();
                    let retry_after = response
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string);
                    let response_location = response
                        .headers()
                        .get(reqwest::header::LOCATION)
                        .and_then(|v| v.to_str().ok())
                        .map(crate::text::cut);
                    let body = response.bytes().await.unwrap_or_default();
                    match status {
                        200 => {
                            let parsed: TokenResponse =
                                serde_json::from_slice(&body).map_err(|e| {
                                    unavailable(format!("unexpected token response: {e}"))
                                })?;
                            let lifetime = parsed
                                .expires_in
                                .map(Duration::from_secs)
                                .unwrap_or(DEFAULT_LIFETIME)
                                .min(crate::pacing::FAR_FUTURE);
                            return Ok((SecretString::from(parsed.access_token), lifetime));
                        }
                        429 => {
                            self.stats.count_throttled();
                            let wait =
                                self.policy
                                    .retry_after(retry_after.as_deref())
                                    .map_err(|w| {
                                        unavailable(format!("rate limited for {} s", w.as_secs()))
                                    })?;
                            if retry >= self.policy.max_retries {
                                return Err(unavailable("still rate limited after retries".into()));
                            }
                            retry += 1;
                            self.stats.count_retry();
                            tokio::time::sleep(self.policy.scale(wait)).await;
                            continue;
                        }
                        300..=399 => {
                            let location =
                                response_location.unwrap_or_else(|| "(no Location)".into());
                            return Err(unavailable(format!(
                                "the login server answered HTTP {status} redirecting to {location}; genimport follows no redirects (check --region or --login-url)"
                            )));
                        }
                        500..=599 => format!("HTTP {status}"),
                        _ => return Err(AuthError::Refused(describe_token_error(status, &body))),
                    }
                }
            };
            if retry >= self.policy.max_retries {
                return Err(unavailable(failure));
            }
            retry += 1;
            self.stats.count_retry();
            tracing::warn!(retry, error = %failure, "token request failed; retrying");
            tokio::time::sleep(self.policy.backoff(retry)).await;
        }
    }
}

fn describe_token_error(status: u16, body: &[u8]) -> String {
    let parsed: TokenErrorResponse = serde_json::from_slice(body).unwrap_or_default();
    let detail = parsed
        .error_description
        .or(parsed.description)
        .or(parsed.message);
    match (parsed.error, detail) {
        (Some(e), Some(d)) => format!("{e}: {d} (HTTP {status})"),
        (Some(e), None) => format!("{e} (HTTP {status})"),
        (None, Some(d)) => format!("{d} (HTTP {status})"),
        (None, None) => {
            let text = String::from_utf8_lossy(body);
            let text: String = text.trim().chars().take(200).collect();
            if text.is_empty() {
                format!("HTTP {status}")
            } else {
                format!("{text} (HTTP {status})")
            }
        }
    }
}

/// A transport error in one line, without the URL's query or any header.
pub fn describe_transport_error(error: &reqwest::Error) -> String {
    if let Some(tls) = find_tls_error(error) {
        return describe_tls_error(tls);
    }
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else if error.is_body() || error.is_decode() {
        "response interrupted"
    } else {
        "request failed"
    };
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(error);
    let mut root = String::new();
    while let Some(s) = source {
        root = s.to_string();
        source = s.source();
    }
    if root.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {root}")
    }
}

/// The rustls error somewhere in a chain; `io::Error` hides its inner
/// error from `source()`, so it is opened by hand.
fn find_tls_error<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = next {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            if let Some(tls) = find_tls_error(inner) {
                return Some(tls);
            }
        }
        next = e.source();
    }
    None
}

/// A TLS failure as a sentence an admin can act on.
pub fn describe_tls_error(error: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match error {
        rustls::Error::InvalidCertificate(cert) => {
            let why = match cert {
                C::UnknownIssuer => {
                    "it is signed by an authority this machine does not trust".to_string()
                }
                C::Expired | C::ExpiredContext { .. } => "it has expired".to_string(),
                C::NotValidYet | C::NotValidYetContext { .. } => {
                    "it is not valid yet (check the clock)".to_string()
                }
                C::NotValidForName | C::NotValidForNameContext { .. } => {
                    "it was issued for another host name".to_string()
                }
                C::Revoked => "it has been revoked".to_string(),
                C::BadSignature => "its signature is invalid".to_string(),
                C::BadEncoding => "it cannot be decoded".to_string(),
                other => format!("{other:?}").to_lowercase(),
            };
            format!("the server's certificate is not trusted: {why} (a proxy that intercepts TLS? check --api-url)")
        }
        // webpki's verdicts arrive wrapped as `Other`; their names are all we get.
        rustls::Error::Other(other) => {
            let name = other.to_string();
            let why = if name.contains("CaUsedAsEndEntity") {
                "it is a certificate authority's certificate, not a server's"
            } else if name.contains("UnknownIssuer") {
                "it is signed by an authority this machine does not trust"
            } else if name.contains("Expired") {
                "it has expired"
            } else if name.contains("NotValidForName") {
                "it was issued for another host name"
            } else {
                "it was rejected by the certificate check"
            };
            format!("the server's certificate is not trusted: {why} (a proxy that intercepts TLS? check --api-url)")
        }
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
            "the TLS handshake failed: the server did not answer with TLS (is it plain http?)"
                .to_string()
        }
        other => format!("the TLS handshake failed: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_failures_read_as_sentences() {
        #[derive(Debug)]
        struct WebPki;
        impl std::fmt::Display for WebPki {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("CaUsedAsEndEntity")
            }
        }
        impl std::error::Error for WebPki {}
        let error = rustls::Error::Other(rustls::OtherError(Arc::new(WebPki)));
        let wrapped = std::io::Error::other(error);
        let found = find_tls_error(&wrapped).expect("found inside io::Error");
        let text = describe_tls_error(found);
        assert!(
            text.starts_with(
                "the server's certificate is not trusted: it is a certificate authority's"
            ),
            "{text}"
        );
        assert!(!text.contains("CaUsedAsEndEntity"), "{text}");
        let expired = rustls::Error::InvalidCertificate(rustls::CertificateError::Expired);
        assert!(describe_tls_error(&expired).contains("it has expired"));
    }

    #[test]
    fn credentials_debug_hides_the_secret() {
        let credentials = Credentials {
            client_id: "client-id".into(),
            secret: SecretString::from("very-secret"),
        };
        assert!(!format!("{credentials:?}").contains("very-secret"));
    }

    #[test]
    fn bearer_debug_hides_the_token() {
        let bearer = Bearer {
            value: Arc::new(SecretString::from("tok-very-secret")),
            generation: 3,
        };
        assert!(!format!("{bearer:?}").contains("very-secret"));
        assert_eq!(bearer.header_value(), "Bearer tok-very-secret");
    }

    #[test]
    fn token_errors_read_like_the_server_said_them() {
        let body = br#"{"error":"invalid_client","description":"client not found"}"#;
        assert_eq!(
            describe_token_error(401, body),
            "invalid_client: client not found (HTTP 401)"
        );
        assert_eq!(describe_token_error(400, b""), "HTTP 400");
    }
}
