//! Why this exists: people at a terminal get a live bar, CI logs get a
//! plain line every few seconds; both show the same text. A run goes
//! through phases (`preflight`, then `users` or `queues`: each row's own
//! steps, then `steps`: the follow-ups after the barrier), so the bar shows
//! the current phase and its progress (`users 120/200`, `steps 340/900`)
//! with an ETA from the requests still to send at the rate learned so far,
//! not finished rows (rows wait for the barrier and finish together).

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::plan::{Outcome, Status};
use crate::stats::Stats;

pub struct Progress {
    bar: Option<ProgressBar>,
    total: AtomicU64,
    done: AtomicU64,
    created: AtomicU64,
    updated: AtomicU64,
    exists: AtomicU64,
    failed: AtomicU64,
    started: Instant,
    /// The request counter of the run (set once the client exists).
    stats: OnceLock<Arc<Stats>>,
    phase: Mutex<Phase>,
}

/// The phase a run is in, and how far it got.
#[derive(Debug, Clone)]
struct Phase {
    name: &'static str,
    total: u64,
    done: u64,
    /// Requests sent before the phase began.
    requests_before: u64,
}

/// Everything the progress text is made of, read at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    pub phase: &'static str,
    /// Units of the phase (rows, steps) done and planned; 0 planned: unknown.
    pub done: u64,
    pub total: u64,
    /// Requests sent in the whole run, and in this phase.
    pub requests: u64,
    pub phase_requests: u64,
    /// Since the run began.
    pub elapsed: Duration,
    pub created: u64,
    pub updated: u64,
    pub exists: u64,
    pub failed: u64,
}

impl View {
    /// The phase's remaining requests (its units still to do, at the
    /// requests per unit seen so far in the phase) at the run's learned
    /// rate (requests sent / time elapsed). `None` until both are known.
    pub fn eta(&self) -> Option<Duration> {
        if self.done == 0 || self.phase_requests == 0 || self.requests == 0 {
            return None;
        }
        let left = self.total.saturating_sub(self.done) as f64;
        let per_unit = self.phase_requests as f64 / self.done as f64;
        let rate = self.requests as f64 / self.elapsed.as_secs_f64().max(0.001);
        Duration::try_from_secs_f64(left * per_unit / rate).ok()
    }

    /// The progress text, the same on the bar and in the log.
    pub fn render(&self) -> String {
        let mut text = String::from(self.phase);
        if self.total > 0 {
            text.push_str(&format!(" {}/{}", self.done.min(self.total), self.total));
        }
        let rate = self.requests as f64 / self.elapsed.as_secs_f64().max(0.001);
        text.push_str(&format!("  {rate:.1} req/s"));
        if self.total > 0 {
            match self.eta() {
                Some(eta) => text.push_str(&format!("  eta {}", short_duration(eta))),
                None => text.push_str("  eta ?"),
            }
        }
        text.push_str(&format!(
            "  created {}  updated {}  unchanged/exists {}  need attention {}",
            self.created, self.updated, self.exists, self.failed
        ));
        text
    }
}

/// `42s`, `3m05s`, `1h02m`.
pub fn short_duration(d: Duration) -> String {
    let s = d.as_secs_f64().ceil() as u64;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

impl Progress {
    /// `bar` only when stderr is a terminal and the user did not opt out;
    /// `color` false for `NO_COLOR`.
    pub fn new(bar: bool, color: bool) -> Progress {
        let bar = bar.then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            let template = if color {
                "{bar:30.cyan/blue} {msg}"
            } else {
                "{bar:30} {msg}"
            };
            bar.set_style(
                ProgressStyle::with_template(template)
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        Progress {
            bar,
            total: AtomicU64::new(0),
            done: AtomicU64::new(0),
            created: AtomicU64::new(0),
            updated: AtomicU64::new(0),
            exists: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            started: Instant::now(),
            stats: OnceLock::new(),
            phase: Mutex::new(Phase {
                name: "preflight",
                total: 0,
                done: 0,
                requests_before: 0,
            }),
        }
    }

    pub fn has_bar(&self) -> bool {
        self.bar.is_some()
    }

    /// The rows of the file (the results to come).
    pub fn set_total(&self, total: u64) {
        self.total.store(total, Ordering::Relaxed);
        self.redraw();
    }

    /// Counts the run's requests (for the rate and the ETA).
    pub fn count_requests(&self, stats: Arc<Stats>) {
        let _ = self.stats.set(stats);
    }

    fn requests(&self) -> u64 {
        self.stats.get().map_or(0, |s| s.requests())
    }

    /// A new phase begins: `total` units (rows, steps) to do.
    pub fn phase(&self, name: &'static str, total: u64) {
        let requests_before = self.requests();
        *self.phase.lock().unwrap_or_else(|e| e.into_inner()) = Phase {
            name,
            total,
            done: 0,
            requests_before,
        };
        self.redraw();
    }

    /// `n` more units of the phase are done.
    pub fn step_done(&self, n: u64) {
        if n == 0 {
            return;
        }
        self.phase.lock().unwrap_or_else(|e| e.into_inner()).done += n;
        self.redraw();
    }

    /// A follow-up stage ended for these rows: their steps of it are done
    /// (or settled: a failed step is not waited for).
    pub fn row_done(&self, outcome: &Outcome) {
        self.done.fetch_add(1, Ordering::Relaxed);
        let counter = match outcome.status {
            Status::Created => &self.created,
            Status::Updated => &self.updated,
            Status::Exists | Status::Unchanged => &self.exists,
            Status::Failed | Status::Invalid | Status::Incomplete => &self.failed,
            _ => return self.redraw(),
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.redraw();
    }

    /// What the bar and the log line show now.
    pub fn view(&self) -> View {
        let phase = self.phase.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let requests = self.requests();
        View {
            phase: phase.name,
            done: phase.done,
            total: phase.total,
            requests,
            phase_requests: requests.saturating_sub(phase.requests_before),
            elapsed: self.started.elapsed(),
            created: self.created.load(Ordering::Relaxed),
            updated: self.updated.load(Ordering::Relaxed),
            exists: self.exists.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
        }
    }

    fn redraw(&self) {
        if let Some(bar) = &self.bar {
            let view = self.view();
            // The message first: the position update draws it with the bar.
            bar.set_message(view.render());
            bar.set_length(view.total.max(1));
            bar.set_position(view.done.min(view.total));
        }
    }

    /// Redraws the bar every second, so the rate and the ETA stay current
    /// while no unit finishes (a long batch, a 429 wait). Runs until aborted.
    pub async fn keep_drawn(self: Arc<Self>) {
        let mut interval = tokio::time::interval(Duration::from_secs(1));
        loop {
            interval.tick().await;
            self.redraw();
        }
    }

    /// One plain progress line, for logs when there is no bar.
    pub fn log_line(&self) {
        let view = self.view();
        tracing::info!(
            phase = view.phase,
            phase_done = view.done,
            phase_total = view.total,
            rows_done = self.done.load(Ordering::Relaxed),
            rows = self.total.load(Ordering::Relaxed),
            requests = view.requests,
            "progress: {}",
            view.render()
        );
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    /// Interval of the plain progress lines.
    pub const LOG_EVERY: Duration = Duration::from_secs(10);

    /// A stderr writer that hides the bar while a log line is printed.
    pub fn stderr_writer(&self) -> SuspendingStderr {
        SuspendingStderr {
            bar: self.bar.clone(),
        }
    }
}

/// Writes to stderr without tearing the progress bar.
#[derive(Clone)]
pub struct SuspendingStderr {
    bar: Option<ProgressBar>,
}

impl Write for SuspendingStderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &self.bar {
            Some(bar) => bar
                .suspend(|| io::stderr().write_all(buf))
                .map(|()| buf.len()),
            None => io::stderr().write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(phase: &'static str, done: u64, total: u64) -> View {
        View {
            phase,
            done,
            total,
            requests: 0,
            phase_requests: 0,
            elapsed: Duration::from_secs(10),
            created: 0,
            updated: 0,
            exists: 0,
            failed: 0,
        }
    }

    #[test]
    fn the_users_phase_shows_rows_done_before_any_row_is_final() {
        // 120 of 200 rows through their own steps, none written yet (they
        // wait for the barrier): 240 requests in 40 s, 2 per row.
        let v = View {
            requests: 250,
            phase_requests: 240,
            elapsed: Duration::from_secs(40),
            ..view("users", 120, 200)
        };
        // 80 rows left * 2 requests / (250 / 40 s) = 25.6 s.
        assert_eq!(v.eta().map(short_duration).as_deref(), Some("26s"));
        assert_eq!(
            v.render(),
            "users 120/200  6.2 req/s  eta 26s  created 0  updated 0  unchanged/exists 0  need attention 0"
        );
    }

    #[test]
    fn the_steps_phase_has_its_own_counts_and_eta() {
        let v = View {
            requests: 1200,
            phase_requests: 340,
            elapsed: Duration::from_secs(100),
            created: 3,
            ..view("steps", 340, 900)
        };
        // 560 steps left * 1 request / 12 per s = 46.7 s.
        assert_eq!(
            v.render(),
            "steps 340/900  12.0 req/s  eta 47s  created 3  updated 0  unchanged/exists 0  need attention 0"
        );
    }

    #[test]
    fn nothing_learned_yet_shows_no_guess_and_the_preflight_has_no_count() {
        assert_eq!(view("users", 0, 200).eta(), None);
        assert!(view("users", 0, 200)
            .render()
            .starts_with("users 0/200  0.0 req/s  eta ?  "));
        let preflight = View {
            requests: 30,
            ..view("preflight", 0, 0)
        };
        assert!(
            preflight
                .render()
                .starts_with("preflight  3.0 req/s  created 0"),
            "{}",
            preflight.render()
        );
    }

    #[test]
    fn durations_are_short() {
        assert_eq!(short_duration(Duration::from_millis(200)), "1s");
        assert_eq!(short_duration(Duration::from_secs(185)), "3m05s");
        assert_eq!(short_duration(Duration::from_secs(3720)), "1h02m");
    }

    #[test]
    fn phases_count_their_own_units_and_requests() {
        let progress = Progress::new(false, false);
        let stats = Arc::new(Stats::default());
        progress.count_requests(Arc::clone(&stats));
        stats.count_request();
        progress.phase("users", 2);
        stats.count_request();
        stats.count_request();
        progress.step_done(1);
        let v = progress.view();
        assert_eq!(
            (v.phase, v.done, v.total, v.requests, v.phase_requests),
            ("users", 1, 2, 3, 2)
        );
        progress.phase("steps", 5);
        progress.step_done(0);
        let v = progress.view();
        assert_eq!(
            (v.phase, v.done, v.total, v.phase_requests),
            ("steps", 0, 5, 0)
        );
    }
}
