//! Why this exists: the org's rate limit, not latency, is what bounds an
//! import. Genesys no longer announces the limit in headers, so it is learned
//! from 429s by a `Pacer` (one per access token, shared by every worker).
//! `RetryPolicy` decides how long to wait and how often to try again.

mod pacer;
#[cfg(test)]
mod sim;
mod spread;

pub use pacer::{Answer, Cap, Pacer, Permit};
pub use spread::Spread;

use std::time::Duration;

use rand::RngExt;
use tokio::time::Instant;

/// How failed requests are retried. Hand-written on purpose: the rules come
/// from the Genesys SDKs (integer `Retry-After`, 3 s default, 180 s ceiling).
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff ceiling for 5xx and transport errors; doubles per retry.
    pub base_delay: Duration,
    /// Largest backoff ceiling.
    pub max_delay: Duration,
    /// Wait for a 429 without `Retry-After`.
    pub retry_after_default: Duration,
    /// A longer `Retry-After` fails the request instead of waiting.
    pub max_retry_after: Duration,
    /// Multiplies every wait; 1.0 in real runs, small in tests.
    pub time_scale: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            retry_after_default: Duration::from_secs(3),
            max_retry_after: Duration::from_secs(180),
            time_scale: 1.0,
        }
    }
}

impl RetryPolicy {
    /// Exponential backoff with full jitter: a random wait in
    /// `[0, min(max_delay, base_delay * 2^(retry-1))]`, scaled.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exponent = retry.saturating_sub(1).min(20);
        let ceiling = self
            .base_delay
            .saturating_mul(1u32 << exponent)
            .min(self.max_delay);
        let jittered = rand::rng().random_range(0.0..=1.0) * ceiling.as_secs_f64();
        self.scale(Duration::from_secs_f64(jittered))
    }

    /// The server's `Retry-After` (integer seconds), or the default. `Err`
    /// carries the requested wait when it exceeds `max_retry_after`.
    pub fn retry_after(&self, header: Option<&str>) -> Result<Duration, Duration> {
        let wait = retry_after_seconds(header)
            .map(Duration::from_secs)
            .unwrap_or(self.retry_after_default);
        if wait > self.max_retry_after {
            Err(wait)
        } else {
            Ok(wait)
        }
    }

    /// Saturates instead of panicking on a huge wait or factor.
    pub fn scale(&self, wait: Duration) -> Duration {
        Duration::try_from_secs_f64(wait.as_secs_f64() * self.time_scale).unwrap_or(FAR_FUTURE)
    }
}

/// The whole seconds a `Retry-After` header gives, if it gives any.
pub fn retry_after_seconds(header: Option<&str>) -> Option<u64> {
    header.and_then(|v| v.trim().parse::<u64>().ok())
}

/// Longest wait anything here computes: a month. Durations set by input or
/// the network are clamped to it, so `Instant + Duration` cannot overflow.
pub const FAR_FUTURE: Duration = Duration::from_secs(30 * 86_400);

/// `now + wait`, clamped (see `FAR_FUTURE`).
pub fn later(now: Instant, wait: Duration) -> Instant {
    now + wait.min(FAR_FUTURE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn huge_waits_saturate_instead_of_panicking() {
        let policy = RetryPolicy {
            time_scale: 1e300,
            ..RetryPolicy::default()
        };
        assert_eq!(policy.scale(Duration::from_secs(1)), FAR_FUTURE);
        assert_eq!(policy.scale(Duration::MAX), FAR_FUTURE);
        let now = Instant::now();
        assert_eq!(later(now, Duration::MAX), now + FAR_FUTURE);
    }

    #[test]
    fn backoff_is_jittered_and_capped() {
        let policy = RetryPolicy::default();
        for retry in 1..30 {
            let wait = policy.backoff(retry);
            let ceiling = (Duration::from_millis(500) * 2u32.pow(retry.min(20) - 1))
                .min(Duration::from_secs(30));
            assert!(wait <= ceiling, "retry {retry}: {wait:?} > {ceiling:?}");
        }
        let scaled = RetryPolicy {
            time_scale: 0.0,
            ..RetryPolicy::default()
        };
        assert_eq!(scaled.backoff(5), Duration::ZERO);
    }

    #[test]
    fn retry_after_defaults_and_ceiling() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.retry_after(Some("42")), Ok(Duration::from_secs(42)));
        assert_eq!(policy.retry_after(None), Ok(Duration::from_secs(3)));
        assert_eq!(policy.retry_after(Some("soon")), Ok(Duration::from_secs(3)));
        assert_eq!(
            policy.retry_after(Some("181")),
            Err(Duration::from_secs(181))
        );
    }
}
