//! Why this exists: Genesys counts requests in fixed windows (per token, see
//! docs/genesys-api.md#rate-limits-and-429) and, on a 429, says in whole seconds when the
//! window resets. Spacing requests at a smooth rate leaves the end of every
//! window unused, so this pacer learns the window instead: how many requests
//! it admits (the budget) and how long it lasts. It spends each window's
//! budget, then waits for the next reset. A server that is not a fixed window
//! (a sliding window, a token bucket) shows itself by where its 429s land: a
//! 429 long before the budget is spent. Such servers are paced at a rate.
//!
//! When the server counts a request is not visible: somewhere between the
//! send and the answer. Two models are kept, "counted on arrival" and
//! "counted when answered", and the first 429s usually rule one out (which
//! requests were refused, and whether the `Retry-After`s agree). Until then
//! every estimate takes the later of the two, which is safe but slower.

// Per-model arrays are walked in step, by model index.
#![allow(clippy::needless_range_loop)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::later;

mod check;

/// What the server said about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Anything but a 429: the request counted against the limit.
    Accepted,
    /// A 429 asking to wait `wait` (already scaled); `whole_seconds` when
    /// that came from the server's `Retry-After`, which is rounded up.
    Throttled { wait: Duration, whole_seconds: bool },
    /// No answer, or one that says nothing about the limit.
    Unknown,
}

/// Leave to send one request, from `Pacer::acquire`.
#[derive(Debug, Clone, Copy)]
pub struct Permit {
    window: u64,
    sent: Instant,
}

impl Permit {
    /// Call just before the request leaves (after any token renewal).
    pub fn mark_sent(&mut self) {
        self.sent = Instant::now();
    }
}

/// Model 0: the server counts a request when it arrives (our send time).
/// Model 1: when it answers (our receive time).
const MODELS: usize = 2;
const ARRIVAL: usize = 0;
const ANSWER: usize = 1;

/// Share of a measured rate we pace at (sliding windows, buckets).
const RATE_MARGIN: f64 = 0.985;
/// A 429 while paced at a rate: the rate was too high.
const RATE_STEP_DOWN: f64 = 0.95;
/// Upward probe of a rate after this many quiet windows, in case the limit
/// was raised or another client stopped sharing it.
const RATE_PROBE_AFTER_WINDOWS: u32 = 10;
const RATE_PROBE_STEP: f64 = 1.01;
/// How far ahead of a reset a request is sent when the server counts on
/// answering: this share of the fastest round trip seen.
const LEAD_SHARE: f64 = 0.9;
/// Windows whose budget ran out early (a smaller limit, a shared one)
/// before the pacer stops trusting the window and paces at a rate.
const MAX_STRIKES: u32 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No 429 yet: nothing is known, requests go as fast as they come.
    Learning,
    /// A fixed window: `budget` requests, then wait for the reset.
    Window,
    /// A token bucket (or a limit shared with others): spaced at `rate`.
    Rate,
    /// A sliding window: a request goes when fewer than `budget` of ours
    /// were counted in the last window length, as the server reckons.
    Sliding,
}

/// The reset lies in `(lo, hi]`.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    lo: Instant,
    hi: Instant,
}

impl Bounds {
    fn intersect(self, other: Bounds) -> Option<Bounds> {
        let b = Bounds {
            lo: self.lo.max(other.lo),
            hi: self.hi.min(other.hi),
        };
        (b.lo < b.hi).then_some(b)
    }
}

struct State {
    phase: Phase,
    alive: [bool; MODELS],
    /// Requests one window admits.
    budget: u32,
    /// Window length bounds, per model.
    length: [Option<(Duration, Duration)>; MODELS],
    /// The current window: its number, what was granted and accepted in
    /// it, and the earliest moment a request of it was counted, per model
    /// (an upper bound of when it began).
    window: u64,
    granted: u32,
    accepted: u32,
    start: [Option<Instant>; MODELS],
    previous_start: [Option<Instant>; MODELS],
    /// When the current window began by time (not after a 429): the reset
    /// as estimated; a request counted after it is in this window.
    rolled_at: Option<Instant>,
    /// No request before this (a 429 pause).
    paused_until: Instant,
    /// When the reset the pause waits for happens, per model.
    reset: [Option<Bounds>; MODELS],
    /// The window the first 429 (or a check's) opened, while the budget
    /// and length are still being measured.
    measuring: Option<u64>,
    /// Only while the first 429 is measured: when the server counts a
    /// request is being learned too.
    learning_models: bool,
    /// The window whose budget is checked: requests go past the budget
    /// until a 429 shows where it really ends (see `new_event`).
    check: Option<u64>,
    /// The window of the latest measurement (first pause or check).
    measured_in: u64,
    /// The window length before a check measured it again.
    prior_length: [Option<(Duration, Duration)>; MODELS],
    /// When the check's first request past the budget goes.
    probe_at: Option<Instant>,
    /// The budget before a strike lowered it.
    unstruck: u32,
    /// The window the latest pause opened.
    paused_window: Option<u64>,
    /// Latest/earliest counting moment of accepted/refused requests before
    /// the first pause, per model (a model under which a refused request
    /// was counted before an accepted one is wrong).
    last_accepted: [Option<Instant>; MODELS],
    first_refused: [Option<Instant>; MODELS],
    first_wait: Duration,
    in_flight: u32,
    fastest: Option<Duration>,
    /// One second of `Retry-After`, scaled.
    second: Duration,
    accepted_total: u64,
    strikes: u32,
    /// Rate phase.
    rate: f64,
    next_slot: Instant,
    rate_changed: Instant,
    last_event: Option<Instant>,
    accepted_since_event: u64,
    /// When our recent accepted requests were counted (the later model's
    /// moment), for the sliding-window reckoning.
    history: VecDeque<Instant>,
    throttle_events: u64,
    /// Bumped whenever what is known of the server changes (for `adopt`).
    version: u64,
    adopted: Option<u64>,
}

/// What a pacer has learned of the server, as another token's pacer
/// adopts it (same limit): never its own window.
struct Learned {
    phase: Phase,
    budget: u32,
    length: [Option<(Duration, Duration)>; MODELS],
    alive: [bool; MODELS],
    rate: f64,
    fastest: Option<Duration>,
    version: u64,
}

impl State {
    fn learned(&self) -> Learned {
        Learned {
            phase: self.phase,
            budget: self.budget,
            length: self.length,
            alive: self.alive,
            rate: self.rate,
            fastest: self.fastest,
            version: self.version,
        }
    }
}

/// `--rate`: at most one request per `gap`, over every token.
pub struct Cap {
    gap: Duration,
    next: Mutex<Instant>,
}

impl Cap {
    pub fn per_minute(per_minute: u32) -> Cap {
        Cap {
            gap: Duration::from_secs_f64(60.0 / f64::from(per_minute.max(1))),
            next: Mutex::new(Instant::now()),
        }
    }

    fn busy_until(&self, now: Instant) -> Option<Instant> {
        let next = *self.next.lock().unwrap_or_else(|e| e.into_inner());
        (next > now).then_some(next)
    }

    fn take(&self, now: Instant) {
        *self.next.lock().unwrap_or_else(|e| e.into_inner()) = later(now, self.gap);
    }
}

/// Paces the requests sent with one token (see the module comment).
pub struct Pacer {
    state: Mutex<State>,
    changed: Notify,
    /// `--rate`, shared by every token's pacer.
    cap: Option<Arc<Cap>>,
}

enum Decision {
    Grant(Permit),
    Wait(Instant),
    /// Until an answer tells when the current window began.
    WaitForAnswer,
}

impl Pacer {
    /// `second` is one second as scaled by `--time-scale` (1 s in real runs).
    pub fn new(cap: Option<Arc<Cap>>, second: Duration) -> Pacer {
        let now = Instant::now();
        Pacer {
            state: Mutex::new(State {
                phase: Phase::Learning,
                alive: [true; MODELS],
                budget: 0,
                length: [None; MODELS],
                window: 0,
                granted: 0,
                accepted: 0,
                start: [None; MODELS],
                previous_start: [None; MODELS],
                rolled_at: None,
                paused_until: now,
                reset: [None; MODELS],
                measuring: None,
                learning_models: false,
                check: None,
                measured_in: 0,
                prior_length: [None; MODELS],
                probe_at: None,
                unstruck: 0,
                paused_window: None,
                last_accepted: [None; MODELS],
                first_refused: [None; MODELS],
                first_wait: Duration::ZERO,
                in_flight: 0,
                fastest: None,
                second: if second.is_zero() {
                    Duration::from_nanos(1)
                } else {
                    second
                },
                accepted_total: 0,
                strikes: 0,
                rate: 0.0,
                next_slot: now,
                rate_changed: now,
                last_event: None,
                accepted_since_event: 0,
                history: VecDeque::new(),
                throttle_events: 0,
                version: 0,
                adopted: None,
            }),
            changed: Notify::new(),
            cap,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the numbers unusable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What the pacer believes the server allows, in requests per second.
    pub fn current_rate(&self) -> Option<f64> {
        let st = self.lock();
        let learned = match st.phase {
            Phase::Learning => None,
            Phase::Window | Phase::Sliding => st
                .window_length()
                .map(|w| f64::from(st.budget) / w.as_secs_f64().max(1e-9)),
            Phase::Rate => Some(st.rate),
        };
        let cap = self
            .cap
            .as_ref()
            .map(|c| 1.0 / c.gap.as_secs_f64().max(1e-9));
        match (learned, cap) {
            (Some(l), Some(c)) => Some(l.min(c)),
            (l, c) => l.or(c),
        }
    }

    /// Waits until a request may be sent.
    pub async fn acquire(&self) -> Permit {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let decision = self.lock().decide(Instant::now(), self);
            match decision {
                Decision::Grant(permit) => return permit,
                Decision::Wait(until) => {
                    tokio::select! {
                        _ = tokio::time::sleep_until(until) => {}
                        _ = notified => {}
                    }
                }
                Decision::WaitForAnswer => notified.await,
            }
        }
    }

    /// Reports the answer to a request sent under `permit`.
    pub fn answered(&self, permit: Permit, answer: Answer) {
        let now = Instant::now();
        let new_event = self.lock().answered(permit, answer, now);
        self.changed.notify_waiters();
        if new_event {
            tracing::info!(
                allowed_per_min = self.current_rate().map(|r| (r * 60.0).round()),
                "rate limited; all workers pause"
            );
        }
    }

    /// Another token's 429 on a limit this one shares: nothing before its time.
    pub fn hold(&self, wait: Duration) {
        {
            let mut st = self.lock();
            st.paused_until = st.paused_until.max(later(Instant::now(), wait));
        }
        self.changed.notify_waiters();
    }

    /// Whether no 429 has been seen yet.
    pub fn is_learning(&self) -> bool {
        self.lock().phase == Phase::Learning
    }

    /// Takes what `other` learned of the server (same limit, another
    /// token): its kind, budget, window length and timing model. Keeps this
    /// pacer's own window (its token's requests).
    pub fn adopt(&self, other: &Pacer) {
        let theirs = other.lock().learned();
        let mut st = self.lock();
        if theirs.phase == Phase::Learning || st.adopted == Some(theirs.version) {
            return;
        }
        st.adopted = Some(theirs.version);
        if st.phase == Phase::Learning {
            st.phase = theirs.phase;
        }
        st.budget = theirs.budget;
        st.length = theirs.length;
        st.alive = theirs.alive;
        st.rate = theirs.rate;
        st.fastest = st.fastest.or(theirs.fastest);
        drop(st);
        self.changed.notify_waiters();
    }

    /// When `acquire` would next grant, without granting (to pick a token).
    pub fn next_grant(&self) -> Instant {
        let now = Instant::now();
        let cap = self.cap.as_ref().and_then(|c| c.busy_until(now));
        let own = match self.lock().hold_up(now) {
            None | Some(Decision::Grant(_)) => now,
            Some(Decision::Wait(at)) => at,
            Some(Decision::WaitForAnswer) => later(now, Duration::from_secs(1)),
        };
        cap.map_or(own, |c| c.max(own))
    }

    /// Pauses so far (429s that were not part of an earlier pause).
    #[cfg(test)]
    pub fn throttle_events(&self) -> u64 {
        self.lock().throttle_events
    }

    #[cfg(test)]
    pub(crate) fn phase_name(&self) -> &'static str {
        match self.lock().phase {
            Phase::Learning => "learning",
            Phase::Window => "window",
            Phase::Rate => "rate",
            Phase::Sliding => "sliding",
        }
    }
}

impl State {
    fn only(&self, model: usize) -> bool {
        (0..MODELS).all(|m| self.alive[m] == (m == model))
    }

    fn alive_models(&self) -> impl Iterator<Item = usize> + '_ {
        (0..MODELS).filter(|m| self.alive[*m])
    }

    /// Sent this long before a reset, a request is counted after it.
    fn lead(&self) -> Duration {
        if self.only(ANSWER) {
            self.fastest.unwrap_or_default().mul_f64(LEAD_SHARE)
        } else {
            Duration::ZERO
        }
    }

    /// The longest window length any live model allows.
    fn window_length(&self) -> Option<Duration> {
        self.alive_models()
            .filter_map(|m| self.length_bounds(m).map(|(_, hi)| hi))
            .max()
    }

    /// The window length's bounds under model `m`. Rate limits are set per
    /// minute (or per whole number of seconds), so when exactly one whole
    /// number of seconds fits the bounds, that is the length. If the server
    /// thinks otherwise, the next window's first request is refused, which
    /// raises the lower bound past it (see `new_event`).
    fn length_bounds(&self, m: usize) -> Option<(Duration, Duration)> {
        let (lo, hi) = self.length[m]?;
        let unit = self.second.as_secs_f64();
        let whole = (hi.as_secs_f64() / unit).floor();
        let snapped = Duration::try_from_secs_f64(whole * unit).ok()?;
        if whole >= 1.0 && snapped > lo && snapped.saturating_sub(self.second) <= lo {
            Some((snapped.saturating_sub(Duration::from_micros(1)), snapped))
        } else {
            Some((lo, hi))
        }
    }

    /// When the next window may be used, once the current one's start is known.
    fn next_window_at(&self) -> Option<Instant> {
        let mut at: Option<Instant> = None;
        for m in self.alive_models() {
            let (start, (_, length)) = (self.start[m]?, self.length_bounds(m)?);
            let end = later(start, length);
            at = Some(at.map_or(end, |a| a.max(end)));
        }
        at.map(|t| t.checked_sub(self.lead()).unwrap_or(t))
    }

    /// What stands between now and the next request, if anything; without
    /// changing anything (so `next_grant` can ask too).
    fn hold_up(&self, now: Instant) -> Option<Decision> {
        // A 429's Retry-After holds every request back, whatever the
        // estimates say: nothing is sent before the time it gave.
        if now < self.paused_until {
            return Some(Decision::Wait(self.paused_until));
        }
        match self.phase {
            Phase::Learning => None,
            Phase::Window if self.check == Some(self.window) => self.check_hold_up(now),
            Phase::Window => {
                let next = self.next_window_at();
                if self.granted < self.budget || next.is_some_and(|t| now >= t) {
                    None
                } else {
                    Some(next.map_or(Decision::WaitForAnswer, Decision::Wait))
                }
            }
            Phase::Rate | Phase::Sliding if now < self.next_slot => {
                Some(Decision::Wait(self.next_slot))
            }
            Phase::Rate => None,
            Phase::Sliding => {
                // Reckoned at the moment this request will be counted (a
                // round trip away if the server counts on answering).
                let lead = self.lead();
                let length = self.window_length().unwrap_or_default();
                let horizon = later(now, lead);
                let mut recent = self
                    .history
                    .iter()
                    .filter(|t| horizon.saturating_duration_since(**t) < length);
                let taken = recent.clone().count() + self.in_flight as usize;
                if taken < self.budget as usize {
                    return None;
                }
                Some(match recent.next() {
                    Some(oldest) => {
                        let free = later(*oldest, length);
                        Decision::Wait(free.checked_sub(lead).unwrap_or(free).max(now))
                    }
                    None => Decision::WaitForAnswer,
                })
            }
        }
    }

    fn decide(&mut self, now: Instant, pacer: &Pacer) -> Decision {
        if let Some(at) = pacer.cap.as_ref().and_then(|c| c.busy_until(now)) {
            return Decision::Wait(at);
        }
        // A check window ends with its 429, not by the clock: the length
        // is as suspect as the budget.
        let window_over = self.phase == Phase::Window
            && self.check != Some(self.window)
            && now >= self.paused_until
            && self.next_window_at().is_some_and(|t| now >= t);
        if window_over {
            tracing::debug!(
                window = self.window,
                granted = self.granted,
                accepted = self.accepted,
                "window reset; next window"
            );
            self.roll_over();
            // Requests still out will be counted after the reset if the
            // server counts on answering: in this window.
            if self.alive[ANSWER] {
                self.granted = self.in_flight;
                self.rolled_at = Some(now + self.lead());
            }
        }
        if self.check == Some(self.window) && self.granted == self.budget && self.probe_at.is_none()
        {
            self.probe_at = Some(self.probe_time(now));
        }
        if let Some(wait) = self.hold_up(now) {
            return wait;
        }
        match self.phase {
            Phase::Sliding => {
                let length = self.window_length().unwrap_or_default();
                self.forget_before(later(now, self.lead()), length);
            }
            Phase::Rate => {
                let gap = Duration::try_from_secs_f64(1.0 / self.rate.max(1e-6))
                    .unwrap_or(super::FAR_FUTURE);
                self.next_slot = later(self.next_slot.max(now), gap);
            }
            Phase::Learning | Phase::Window => {}
        }
        if let Some(cap) = &pacer.cap {
            cap.take(now);
        }
        self.granted += 1;
        self.in_flight += 1;
        Decision::Grant(Permit {
            window: self.window,
            sent: now,
        })
    }

    /// Drops history entries counted more than `length` ago.
    fn forget_before(&mut self, now: Instant, length: Duration) {
        while self
            .history
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= length)
        {
            self.history.pop_front();
        }
    }

    fn roll_over(&mut self) {
        self.schedule_check();
        self.rolled_at = None;
        self.probe_at = None;
        self.window += 1;
        self.granted = 0;
        self.accepted = 0;
        self.previous_start = self.start;
        self.start = [None; MODELS];
    }

    fn answered(&mut self, permit: Permit, answer: Answer, now: Instant) -> bool {
        let second = self.second;
        self.in_flight = self.in_flight.saturating_sub(1);
        let counted = [permit.sent, now];
        match answer {
            Answer::Unknown => false,
            Answer::Accepted => {
                self.accepted(permit, counted, now);
                false
            }
            Answer::Throttled {
                wait,
                whole_seconds,
            } => {
                self.version += 1;
                let rounding = if whole_seconds {
                    second.min(wait)
                } else {
                    wait
                };
                let mut bounds = [None; MODELS];
                for (m, at) in counted.iter().enumerate() {
                    let hi = later(*at, wait);
                    bounds[m] = Some(Bounds {
                        lo: hi.checked_sub(rounding).unwrap_or(*at),
                        hi,
                    });
                }
                if permit.window < self.window && self.paused_window == Some(self.window) {
                    // Every 429 of a pause bounds the same reset: the
                    // earliest time one of them gave is when the reset has
                    // surely passed. (The refused requests themselves each
                    // wait their own, see `Client::call`.)
                    self.paused_until = self.paused_until.min(later(now, wait));
                    self.refine(bounds, counted);
                    false
                } else {
                    self.new_event(permit, bounds, counted, now, wait, second);
                    true
                }
            }
        }
    }

    fn accepted(&mut self, permit: Permit, counted: [Instant; MODELS], now: Instant) {
        if self.measuring == Some(permit.window + 1) {
            // Counted in the window the first 429 ended.
            self.budget += 1;
            self.version += 1;
        }
        self.accepted_total += 1;
        self.accepted_since_event += 1;
        let rtt = now.saturating_duration_since(permit.sent);
        self.fastest = Some(self.fastest.map_or(rtt, |f| f.min(rtt)));
        let carried = permit.window + 1 == self.window
            && self.rolled_at.is_some_and(|at| counted[ANSWER] >= at);
        if permit.window == self.window || carried {
            self.accepted += 1;
            for m in 0..MODELS {
                self.start[m] = Some(self.start[m].map_or(counted[m], |s| s.min(counted[m])));
            }
        }
        // Before the first pause: which requests the window took and which
        // it refused tells when the server counts them.
        if self.phase == Phase::Learning
            || (self.learning_models && self.measuring == Some(permit.window + 1))
        {
            for m in 0..MODELS {
                self.last_accepted[m] =
                    Some(self.last_accepted[m].map_or(counted[m], |l| l.max(counted[m])));
                if self.first_refused[m].is_some_and(|r| counted[m] > r) {
                    self.kill(m);
                }
            }
        }
        let latest = if self.alive[ANSWER] {
            counted[ANSWER]
        } else {
            counted[ARRIVAL]
        };
        self.history.push_back(latest);
        let keep = self.window_length().unwrap_or(Duration::from_secs(3600));
        self.forget_before(now, keep);
        if self.phase == Phase::Rate {
            let quiet =
                self.window_length().unwrap_or(Duration::from_secs(60)) * RATE_PROBE_AFTER_WINDOWS;
            if now.saturating_duration_since(self.rate_changed) >= quiet {
                self.rate *= RATE_PROBE_STEP;
                self.rate_changed = now;
            }
        }
    }

    /// A model the answers contradict is dropped; if none is left, the
    /// server is not what either describes, and both start again.
    fn kill(&mut self, model: usize) {
        self.alive[model] = false;
        if !self.alive.iter().any(|a| *a) {
            self.alive = [true; MODELS];
        }
    }

    /// Another 429 of the current pause: narrows the reset.
    fn refine(&mut self, bounds: [Option<Bounds>; MODELS], counted: [Instant; MODELS]) {
        let first = self.measuring == Some(self.window);
        for m in 0..MODELS {
            if first && self.learning_models {
                self.first_refused[m] =
                    Some(self.first_refused[m].map_or(counted[m], |r| r.min(counted[m])));
                if self.last_accepted[m].is_some_and(|a| counted[m] < a) {
                    self.kill(m);
                }
            }
            let (Some(known), Some(new)) = (self.reset[m], bounds[m]) else {
                continue;
            };
            match known.intersect(new) {
                Some(b) => self.reset[m] = Some(b),
                None if self.alive[m] => {
                    self.kill(m);
                    if self.alive[m] {
                        // Both contradicted: keep the newest word.
                        self.reset = bounds;
                    }
                }
                None => {}
            }
        }
        if first {
            self.measure_length();
        }
    }

    /// During the first pause: the window is from the first counted
    /// request to the reset.
    fn measure_length(&mut self) {
        if self.measuring != Some(self.window) {
            return;
        }
        for m in 0..MODELS {
            if let (Some(start), Some(reset)) = (self.previous_start[m], self.reset[m]) {
                let (lo, hi) = (
                    reset.lo.saturating_duration_since(start),
                    reset.hi.saturating_duration_since(start),
                );
                // A check agreeing with what was known narrows it; a longer
                // one replaces it (the first window may have begun before
                // our first request, so it measured too short). A shorter
                // one is no fixed window's: kept as it was.
                self.length[m] = Some(match self.prior_length[m] {
                    Some((plo, phi)) if plo.max(lo) < phi.min(hi) => (plo.max(lo), phi.min(hi)),
                    Some(prior) if lo < prior.1 => prior,
                    _ => (lo, hi),
                });
            }
        }
    }

    /// A 429 for a request sent after the last pause: a new pause for all.
    fn new_event(
        &mut self,
        permit: Permit,
        bounds: [Option<Bounds>; MODELS],
        counted: [Instant; MODELS],
        now: Instant,
        wait: Duration,
        second: Duration,
    ) {
        self.throttle_events += 1;
        tracing::debug!(
            phase = ?self.phase,
            window = self.window,
            accepted = self.accepted,
            budget = self.budget,
            wait_ms = wait.as_millis() as u64,
            "429 opens a pause"
        );
        // The window after this pause checks the budget learned in a
        // window that may have begun before ours (someone else's requests
        // in it): the first pause's.
        let mut check_next = false;
        let checked = self.check == Some(self.window) && permit.window == self.window;
        self.check = None;
        match self.phase {
            // Refused before anything was accepted: someone else spent the
            // window, and it teaches neither a budget nor a length. The
            // Retry-After holds every request; from the reset on, learn
            // from a window that is ours.
            Phase::Learning if self.accepted_total == 0 => {}
            Phase::Learning => {
                self.budget = u32::try_from(self.accepted_total)
                    .unwrap_or(u32::MAX)
                    .max(1);
                self.phase = Phase::Window;
                self.first_wait = wait;
                self.measuring = Some(self.window + 1);
                self.learning_models = true;
                check_next = true;
                for m in 0..MODELS {
                    self.first_refused[m] = Some(counted[m]);
                    if self.last_accepted[m].is_some_and(|a| counted[m] < a) {
                        self.kill(m);
                    }
                }
            }
            Phase::Window => self.window_refused(permit, bounds, now, second, checked),
            Phase::Sliding => {
                // Sliding, and still refused: the window is shared, or
                // smaller than it looked.
                let settling = now.saturating_duration_since(self.rate_changed)
                    < self.window_length().unwrap_or_default();
                if !settling {
                    self.budget = (f64::from(self.budget) * RATE_STEP_DOWN) as u32;
                    self.budget = self.budget.max(1);
                }
                self.rate_changed = now;
            }
            Phase::Rate => {
                let settling = now.saturating_duration_since(self.rate_changed)
                    < self.window_length().unwrap_or_default();
                match self.measured_rate(now, second) {
                    Some(r) => self.rate = self.rate.min(r * RATE_MARGIN),
                    // Within a window of a change, a sliding window still
                    // holds the requests sent before it: not the rate's fault.
                    None if settling => {}
                    None => self.rate *= RATE_STEP_DOWN,
                }
                self.rate_changed = now;
            }
        }
        self.last_event = Some(now);
        self.accepted_since_event = 0;
        self.roll_over();
        if check_next {
            self.check = Some(self.window);
            self.measured_in = self.window;
        }
        self.paused_window = Some(self.window);
        self.reset = bounds;
        self.paused_until = self.paused_until.max(later(now, wait));
        self.next_slot = self.next_slot.max(self.paused_until);
        self.measure_length();
    }

    /// Requests accepted between the last two pauses over the time between
    /// them: what a token bucket refills. Only for bucket-like servers, whose
    /// first `Retry-After` was the shortest possible.
    fn measured_rate(&self, now: Instant, second: Duration) -> Option<f64> {
        let last = self.last_event?;
        let span = now.saturating_duration_since(last);
        (self.first_wait <= second && span >= second)
            .then(|| self.accepted_since_event as f64 / span.as_secs_f64())
    }

    /// The window refused requests long before its budget was spent: not a
    /// fixed window of our own. A sliding window admits the budget per
    /// window length; a token bucket (its first 429 asked for the shortest
    /// wait) what it refilled since the last 429.
    fn start_rate(&mut self, now: Instant, second: Duration) {
        match self.measured_rate(now, second) {
            Some(rate) => {
                self.rate = rate * RATE_MARGIN;
                self.phase = Phase::Rate;
            }
            None => {
                // What looked like a smaller budget was the window sliding.
                self.budget = self.budget.max(self.unstruck);
                self.phase = Phase::Sliding;
            }
        }
        self.rate_changed = now;
        self.next_slot = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn cap_limits_the_rate() {
        let pacer = Pacer::new(Some(Arc::new(Cap::per_minute(120))), Duration::from_secs(1));
        let start = Instant::now();
        for _ in 0..5 {
            let permit = pacer.acquire().await;
            pacer.answered(permit, Answer::Accepted);
        }
        assert_eq!(Instant::now().duration_since(start), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_ends_when_the_first_of_its_429s_says() {
        let pacer = Pacer::new(None, Duration::from_secs(1));
        let (a, b, c) = (
            pacer.acquire().await,
            pacer.acquire().await,
            pacer.acquire().await,
        );
        pacer.answered(a, Answer::Accepted);
        let throttled = |s| Answer::Throttled {
            wait: Duration::from_secs(s),
            whole_seconds: true,
        };
        pacer.answered(b, throttled(2));
        tokio::time::advance(Duration::from_millis(100)).await;
        pacer.answered(c, throttled(3));
        assert_eq!(pacer.throttle_events(), 1, "one pause, not two");
        // Both bound the same reset: by 2 s after the first, it has passed
        // (the refused requests themselves wait their own, in Client::call).
        let start = Instant::now();
        let d = pacer.acquire().await;
        assert_eq!(Instant::now() - start, Duration::from_millis(1900));
        // The window admitted one request: the budget is one, and the next
        // window begins a window length after the first was counted.
        pacer.answered(d, Answer::Accepted);
        assert_eq!(pacer.phase_name(), "window");
        assert_eq!(pacer.lock().budget, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn the_next_window_checks_a_budget_learned_in_a_spent_one() {
        let pacer = Pacer::new(None, Duration::from_secs(1));
        let throttled = |s| Answer::Throttled {
            wait: Duration::from_secs(s),
            whole_seconds: true,
        };
        // Someone else left two requests of the window for us.
        for _ in 0..2 {
            let permit = pacer.acquire().await;
            pacer.answered(permit, Answer::Accepted);
        }
        let permit = pacer.acquire().await;
        pacer.answered(permit, throttled(5));
        assert_eq!(pacer.lock().budget, 2);
        // The next window is ours and takes five: the check goes past two.
        for _ in 0..5 {
            let permit = pacer.acquire().await;
            pacer.answered(permit, Answer::Accepted);
        }
        let permit = pacer.acquire().await;
        pacer.answered(permit, throttled(9));
        assert_eq!(pacer.lock().budget, 5);
        assert_eq!(pacer.phase_name(), "window");
        assert_eq!(pacer.throttle_events(), 2, "one 429 per window");
    }

    #[tokio::test(start_paused = true)]
    async fn huge_waits_saturate_instead_of_panicking() {
        let pacer = Pacer::new(None, Duration::from_secs(1));
        let permit = pacer.acquire().await;
        pacer.answered(permit, Answer::Accepted);
        let permit = pacer.acquire().await;
        pacer.answered(
            permit,
            Answer::Throttled {
                wait: Duration::MAX,
                whole_seconds: true,
            },
        );
        assert_eq!(pacer.throttle_events(), 1);
    }
}
