//! Why this exists: the budget and window the pacer learns from its first
//! 429 come from a window that may have begun before the run did, with
//! another client's requests already in it (a run right after another,
//! or beside one): the budget is then too small, the window too short. The
//! window after the first pause is therefore a check: requests go past the
//! budget until a 429 says where this window, ours from its start, really
//! ends; the same every `RECHECK_AFTER` (in windows), in case someone
//! sharing the limit stopped. A check of a right budget costs one 429, timed
//! so that its whole-second `Retry-After` ends just after the reset.

use std::time::Duration;

use tokio::time::Instant;

use super::{later, Bounds, Decision, Permit, Phase, State, ANSWER, MAX_STRIKES, MODELS};

/// A budget is checked again (requests go past it until a 429) this long
/// after it was last measured, in whole windows: someone sharing the limit
/// may have stopped, or the limit been raised. A check costs about the same
/// time whatever the window, so this is a time, not a number of windows.
const RECHECK_AFTER: Duration = Duration::from_secs(100);
/// A check's first request past the budget is timed so that, refused, its
/// whole-second `Retry-After` ends this share of a second after the reset
/// (rather than anywhere up to a second after it).
const PROBE_MARGIN: f64 = 0.05;

impl State {
    /// Rolling over to the next window: a check, if one is due.
    pub(super) fn schedule_check(&mut self) {
        let Some(length) = self.window_length() else {
            return;
        };
        let every = (RECHECK_AFTER.as_secs_f64() / length.as_secs_f64().max(1e-9)).ceil();
        if self.phase == Phase::Window && (self.window + 1 - self.measured_in) as f64 >= every {
            self.check = Some(self.window + 1);
            self.measured_in = self.window + 1;
        }
    }

    /// What holds a request back in a check window.
    pub(super) fn check_hold_up(&self, now: Instant) -> Option<Decision> {
        // Past the budget one request at first, two more for each
        // one accepted (doubling per round trip): a right budget
        // costs one 429, a wrong one is found out within a few
        // round trips. With nothing out, no answer would come.
        let accepted_past = self.accepted.saturating_sub(self.budget);
        let allowed = self.budget + 1 + 2 * accepted_past;
        if self.granted >= allowed && self.in_flight > 0 {
            return Some(Decision::WaitForAnswer);
        }
        match self.probe_at {
            Some(at) if self.granted == self.budget && now < at => Some(Decision::Wait(at)),
            _ => None,
        }
    }

    /// When a check's first request past the budget goes: refused, its
    /// `Retry-After` (whole seconds from when it is counted) should end just
    /// after the estimated reset. Waiting costs nothing if the budget was
    /// right (nothing else could be sent before the reset) and at most a
    /// second of the check if it was not.
    pub(super) fn probe_time(&self, now: Instant) -> Instant {
        let Some(reset) = self.next_window_at().map(|t| later(t, self.lead())) else {
            return now;
        };
        let delay = if self.only(ANSWER) {
            self.fastest.unwrap_or_default()
        } else {
            Duration::ZERO
        };
        let unit = self.second.as_secs_f64();
        let ahead = reset
            .saturating_duration_since(later(now, delay))
            .as_secs_f64()
            / unit;
        let whole = (ahead + PROBE_MARGIN).floor();
        if whole < 1.0 {
            return now;
        }
        later(
            now,
            Duration::from_secs_f64((ahead - whole + PROBE_MARGIN) * unit),
        )
    }

    /// A 429 opening a pause in the window phase: the window began
    /// earlier than thought, a check measured, the budget ran out early
    /// (a strike), or this is no fixed window of ours.
    pub(super) fn window_refused(
        &mut self,
        permit: Permit,
        bounds: [Option<Bounds>; MODELS],
        now: Instant,
        second: Duration,
        checked: bool,
    ) {
        self.measuring = None;
        if self.accepted == 0 && permit.window == self.window {
            // Back too early: the window is longer than thought.
            for m in 0..MODELS {
                if let (Some(start), Some(b), Some((lo, hi))) =
                    (self.previous_start[m], bounds[m], self.length[m])
                {
                    self.length[m] = Some((
                        lo.max(b.lo.saturating_duration_since(start)),
                        hi.max(b.hi.saturating_duration_since(start)),
                    ));
                }
            }
            self.fastest = None;
            self.alive = [true; MODELS];
        } else if checked && 2 * (self.accepted + self.in_flight + 1) >= self.budget {
            // The check's 429: the budget is what this window took
            // (and what was still out), its length measured again
            // from its start, which was ours. Refused well before
            // the budget, the window measured before spanned two of
            // the server's (its reset passed unseen): both replaced.
            let confirmed = self.accepted + self.in_flight + 1 >= self.budget;
            self.budget = self.accepted.max(1);
            self.measuring = Some(self.window + 1);
            self.learning_models = false;
            self.prior_length = if confirmed {
                self.length
            } else {
                [None; MODELS]
            };
            self.measured_in = self.window + 1;
        } else if self.accepted + self.in_flight + 1 >= self.budget
            && self.strikes < MAX_STRIKES
            && self.measured_in != self.window
        {
            // About the budget: a smaller one (shared, or lowered).
            self.unstruck = self.unstruck.max(self.budget);
            self.budget = self.accepted.max(1);
            self.strikes += 1;
        } else {
            self.start_rate(now, second);
        }
    }
}
