//! The fake's rate limiters, in a file of their own so that the pacer's
//! simulated server (src/pacing/sim.rs) counts exactly as the fake does.
//! `Instant` is the includer's: std's in the fake, tokio's (a clock that
//! tests can pause) in the simulation.

use std::collections::VecDeque;
use std::time::Duration;

use super::Instant;

/// The kinds of rate limiter the fake can apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limiter {
    /// `limit` per window, the window starting at the first request after
    /// the previous one ended; Retry-After = the rest of the window.
    Fixed,
    /// At most `limit` in any `window`; Retry-After = until the oldest leaves.
    Sliding,
    /// A bucket of `limit` tokens refilled at `limit/window`.
    Bucket,
}

/// One limiter's state (per client, or per token).
#[derive(Debug, Default, Clone)]
pub struct LimitState {
    window_start: Option<Instant>,
    window_count: u32,
    recent: VecDeque<Instant>,
    tokens: f64,
    refilled: Option<Instant>,
}

impl LimitState {
    /// `None` if the request may pass, else the seconds to wait.
    pub fn check(
        &mut self,
        kind: Limiter,
        limit: u32,
        window: Duration,
        now: Instant,
    ) -> Option<u64> {
        let wait = |d: Duration| d.as_secs_f64().ceil().max(1.0) as u64;
        match kind {
            Limiter::Fixed => {
                let start = match self.window_start {
                    Some(s) if now.duration_since(s) < window => s,
                    _ => {
                        self.window_start = Some(now);
                        self.window_count = 0;
                        now
                    }
                };
                if self.window_count >= limit {
                    return Some(wait(window.saturating_sub(now.duration_since(start))));
                }
                self.window_count += 1;
                None
            }
            Limiter::Sliding => {
                while self
                    .recent
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= window)
                {
                    self.recent.pop_front();
                }
                if self.recent.len() >= limit as usize {
                    let oldest = self.recent.front().copied().unwrap_or(now);
                    return Some(wait(window.saturating_sub(now.duration_since(oldest))));
                }
                self.recent.push_back(now);
                None
            }
            Limiter::Bucket => {
                let rate = f64::from(limit) / window.as_secs_f64();
                let last = *self.refilled.get_or_insert_with(|| {
                    self.tokens = f64::from(limit);
                    now
                });
                self.tokens = (self.tokens + now.duration_since(last).as_secs_f64() * rate)
                    .min(f64::from(limit));
                self.refilled = Some(now);
                if self.tokens < 1.0 {
                    return Some(wait(Duration::from_secs_f64((1.0 - self.tokens) / rate)));
                }
                self.tokens -= 1.0;
                None
            }
        }
    }
}
