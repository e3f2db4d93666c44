//! Why this exists: the org's rate limit, not latency, is what bounds an
//! import. Genesys no longer announces the limit in headers, so it is learned:
//! every worker shares one `Pacer` that spaces requests at a rate measured
//! from 429 responses, pauses everyone for `Retry-After`, and probes upward
//! slowly while requests succeed. `RetryPolicy` decides how long to wait and
//! how often to try again.

use std::sync::Mutex;
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
        let wait = header
            .and_then(|v| v.trim().parse::<u64>().ok())
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

/// Longest wait anything here computes: a month. Durations set by input or
/// the network are clamped to it, so `Instant + Duration` cannot overflow.
pub const FAR_FUTURE: Duration = Duration::from_secs(30 * 86_400);

/// `now + wait`, clamped (see `FAR_FUTURE`).
pub fn later(now: Instant, wait: Duration) -> Instant {
    now + wait.min(FAR_FUTURE)
}

/// Fraction of the measured limit we aim for: close enough to use the limit,
/// far enough to absorb Retry-After's one-second rounding.
const TARGET_FRACTION: f64 = 0.95;
/// Step down after a 429 while already paced (the limit was crossed).
const BACKOFF_STEP: f64 = 0.97;
/// Upward probe per quiet window while the rate is provisional. The first
/// measurement can be low (the first window may not have been used from its
/// start); the probe ends at the next 429, whose window is measured exactly.
const PROVISIONAL_PROBE_STEP: f64 = 1.03;
/// Upward probe once confirmed, after a long quiet spell, in case the
/// server's limit was raised.
const CONFIRMED_PROBE_STEP: f64 = 1.01;
const CONFIRMED_PROBE_AFTER_WINDOWS: u32 = 10;
/// A first measurement whose rounding error can exceed this is provisional.
const MAX_ROUNDING_ERROR: f64 = 0.02;
/// `Retry-After` is whole seconds rounded up: the real reset is on average
/// half a second earlier, which matters when measuring the rate.
const RETRY_AFTER_ROUNDING: Duration = Duration::from_millis(500);

/// Shared request pacing for every worker.
pub struct Pacer {
    state: Mutex<PacerState>,
    /// `--rate`, in requests per second.
    cap: Option<f64>,
}

struct PacerState {
    /// Learned rate in requests per second; `None` until the first 429.
    learned: Option<f64>,
    next_slot: Instant,
    paused_until: Instant,
    /// When the first answer came; `None` until then.
    first_answer: Option<Instant>,
    /// Answers other than 429 before the first 429.
    accepted_before_throttle: u64,
    /// About one rate-limit window: from the first answer to the first reset.
    window_estimate: Duration,
    last_change: Instant,
    throttle_events: u64,
    /// The rate needs no upward probing: the first window was long enough
    /// to measure it well, or a 429 came while already paced.
    confirmed: bool,
}

enum Step {
    Go,
    WaitThenGo(Instant),
    WaitPaused(Instant),
}

impl Pacer {
    pub fn new(cap_per_minute: Option<u32>) -> Pacer {
        let now = Instant::now();
        Pacer {
            state: Mutex::new(PacerState {
                learned: None,
                next_slot: now,
                paused_until: now,
                first_answer: None,
                accepted_before_throttle: 0,
                window_estimate: Duration::from_secs(60),
                last_change: now,
                throttle_events: 0,
                confirmed: false,
            }),
            cap: cap_per_minute.map(|per_minute| f64::from(per_minute) / 60.0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PacerState> {
        // A panic while holding this lock cannot leave the numbers unusable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The rate requests are spaced at now, in requests per second.
    pub fn current_rate(&self) -> Option<f64> {
        let state = self.lock();
        self.effective_rate(&state)
    }

    fn effective_rate(&self, state: &PacerState) -> Option<f64> {
        match (state.learned, self.cap) {
            (Some(l), Some(c)) => Some(l.min(c)),
            (l, c) => l.or(c),
        }
    }

    /// Waits until this worker may send its next request.
    pub async fn acquire(&self) {
        loop {
            let step = {
                let mut state = self.lock();
                let now = Instant::now();
                if state.paused_until > now {
                    Step::WaitPaused(state.paused_until)
                } else if let Some(rate) = self.effective_rate(&state) {
                    let slot = state.next_slot.max(now);
                    state.next_slot = later(
                        slot,
                        Duration::try_from_secs_f64(1.0 / rate).unwrap_or(FAR_FUTURE),
                    );
                    if slot <= now {
                        Step::Go
                    } else {
                        Step::WaitThenGo(slot)
                    }
                } else {
                    Step::Go
                }
            };
            match step {
                Step::Go => return,
                Step::WaitPaused(until) => tokio::time::sleep_until(until).await,
                Step::WaitThenGo(slot) => {
                    tokio::time::sleep_until(slot).await;
                    // A 429 may have paused everyone while we waited.
                    if self.lock().paused_until <= Instant::now() {
                        return;
                    }
                }
            }
        }
    }

    /// A request got a non-429 answer.
    pub fn on_accepted(&self) {
        let mut state = self.lock();
        let now = Instant::now();
        // The server's window starts when our first request reaches it; the
        // first answer is the closest we can see of that moment.
        state.first_answer.get_or_insert(now);
        if let Some(rate) = state.learned {
            let (after, step) = if state.confirmed {
                (
                    state.window_estimate * CONFIRMED_PROBE_AFTER_WINDOWS,
                    CONFIRMED_PROBE_STEP,
                )
            } else {
                (state.window_estimate, PROVISIONAL_PROBE_STEP)
            };
            if now.duration_since(state.last_change) >= after {
                state.learned = Some(rate * step);
                state.last_change = now;
            }
        } else {
            state.accepted_before_throttle += 1;
        }
    }

    /// A request got a 429 asking to wait `wait` (already scaled). Pauses
    /// every worker; the first such event measures the rate, later ones step
    /// it down. Returns true when this 429 started a new event.
    pub fn on_throttled(&self, wait: Duration) -> bool {
        let mut state = self.lock();
        let now = Instant::now();
        let resume = later(now, wait);
        let new_event = state.paused_until <= now;
        if new_event {
            match state.learned {
                // Paced and still throttled: the limit was crossed. A new
                // measurement here would carry Retry-After's rounding twice
                // (start and end), so only step down.
                Some(previous) => {
                    state.learned = Some(previous * BACKOFF_STEP);
                    state.confirmed = true;
                }
                // The first 429: the requests accepted from the first answer
                // to the reset are one window's worth of the limit, and their
                // count over that time is the rate the server allows.
                None => {
                    let start = *state.first_answer.get_or_insert(now);
                    let reset = (resume - RETRY_AFTER_ROUNDING.min(wait / 2)).max(now);
                    let span = reset.saturating_duration_since(start);
                    if span >= Duration::from_millis(200) && state.accepted_before_throttle > 0 {
                        let measured = state.accepted_before_throttle as f64 / span.as_secs_f64();
                        state.learned = Some(measured * TARGET_FRACTION);
                        state.window_estimate = span;
                        // Over a long window Retry-After's rounding is a small
                        // error: no need to probe for a better figure.
                        state.confirmed = RETRY_AFTER_ROUNDING.as_secs_f64() / span.as_secs_f64()
                            <= MAX_ROUNDING_ERROR;
                    }
                }
            }
            state.last_change = now;
            state.throttle_events += 1;
        }
        state.paused_until = state.paused_until.max(resume);
        state.next_slot = state.next_slot.max(state.paused_until);
        new_event
    }

    #[cfg(test)]
    pub fn throttle_events(&self) -> u64 {
        self.lock().throttle_events
    }
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
        let pacer = Pacer::new(None);
        pacer.on_accepted();
        assert!(pacer.on_throttled(Duration::MAX));
        assert!(pacer.on_throttled(Duration::from_secs(u64::MAX)) || pacer.throttle_events() == 1);
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

    #[tokio::test(start_paused = true)]
    async fn learns_the_rate_from_429s_and_pauses_everyone() {
        let pacer = Pacer::new(None);
        assert_eq!(pacer.current_rate(), None);
        // 100 requests accepted in the first 2 s, then a 429 asking for 8 s
        // (really 7.5 s on average, as Retry-After rounds up): the window is
        // 9.5 s and the limit 100, so 10.5 req/s.
        pacer.on_accepted();
        tokio::time::advance(Duration::from_secs(2)).await;
        for _ in 0..99 {
            pacer.on_accepted();
        }
        assert!(pacer.on_throttled(Duration::from_secs(8)));
        // A second 429 from a request already in flight is the same event.
        assert!(!pacer.on_throttled(Duration::from_secs(8)));
        assert_eq!(pacer.throttle_events(), 1);
        let rate = pacer.current_rate().unwrap();
        let expected = 100.0 / 9.5 * TARGET_FRACTION;
        assert!((rate - expected).abs() < 0.01, "{rate}");

        let start = Instant::now();
        pacer.acquire().await;
        assert_eq!(Instant::now().duration_since(start), Duration::from_secs(8));
        for _ in 0..19 {
            pacer.acquire().await;
        }
        let spent = Instant::now().duration_since(start).as_secs_f64();
        assert!((spent - (8.0 + 19.0 / expected)).abs() < 0.01, "{spent}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_while_paced_steps_the_rate_down() {
        let pacer = Pacer::new(None);
        tokio::time::advance(Duration::from_secs(5)).await;
        for _ in 0..50 {
            pacer.on_accepted();
        }
        pacer.on_throttled(Duration::from_secs(6));
        let first = pacer.current_rate().unwrap();
        // Quiet windows: the provisional rate is probed upward.
        tokio::time::advance(Duration::from_secs(16)).await;
        for _ in 0..40 {
            pacer.on_accepted();
        }
        let probed = pacer.current_rate().unwrap();
        assert!(probed > first, "{probed} > {first}");
        // Throttled while paced: step down, and the rate is now confirmed.
        pacer.on_throttled(Duration::from_secs(1));
        let second = pacer.current_rate().unwrap();
        assert!(second < probed, "{second} < {probed}");
        assert!(second >= probed * 0.5);
        // Once confirmed, a few quiet windows do not probe again.
        tokio::time::advance(Duration::from_secs(20)).await;
        pacer.on_accepted();
        assert_eq!(pacer.current_rate().unwrap(), second);
    }

    #[tokio::test(start_paused = true)]
    async fn a_long_first_window_is_trusted_without_probing() {
        let pacer = Pacer::new(None);
        pacer.on_accepted();
        tokio::time::advance(Duration::from_secs(40)).await;
        for _ in 0..299 {
            pacer.on_accepted();
        }
        // 300 accepted, then Retry-After 21 (a reset about 20.5 s later):
        // a 60.5 s window.
        pacer.on_throttled(Duration::from_secs(21));
        let learned = pacer.current_rate().unwrap();
        assert!(
            (learned - 300.0 / 60.5 * TARGET_FRACTION).abs() < 0.01,
            "{learned}"
        );
        tokio::time::advance(Duration::from_secs(150)).await;
        pacer.on_accepted();
        assert_eq!(
            pacer.current_rate().unwrap(),
            learned,
            "no provisional probe"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn cap_limits_the_rate() {
        let pacer = Pacer::new(Some(120));
        let start = Instant::now();
        for _ in 0..5 {
            pacer.acquire().await;
        }
        assert_eq!(Instant::now().duration_since(start), Duration::from_secs(2));
    }
}
