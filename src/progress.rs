//! Why this exists: people at a terminal get a live bar (done/total, rate,
//! ETA, counts); CI logs get a plain line every few seconds instead. Both
//! read the same counters, which the workers bump as rows finish.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::plan::{Outcome, Status};

pub struct Progress {
    bar: Option<ProgressBar>,
    total: AtomicU64,
    done: AtomicU64,
    created: AtomicU64,
    updated: AtomicU64,
    exists: AtomicU64,
    failed: AtomicU64,
    started: Instant,
}

impl Progress {
    /// `bar` only when stderr is a terminal and the user did not opt out;
    /// `color` false for `NO_COLOR`.
    pub fn new(bar: bool, color: bool) -> Progress {
        let bar = bar.then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            let template = if color {
                "{bar:30.cyan/blue} {pos}/{len} rows  {msg}  eta {eta}"
            } else {
                "{bar:30} {pos}/{len} rows  {msg}  eta {eta}"
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
        }
    }

    pub fn has_bar(&self) -> bool {
        self.bar.is_some()
    }

    pub fn set_total(&self, total: u64) {
        self.total.store(total, Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.set_length(total);
            bar.reset_eta();
        }
    }

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

    fn redraw(&self) {
        if let Some(bar) = &self.bar {
            bar.set_position(self.done.load(Ordering::Relaxed));
            bar.set_message(self.counts());
        }
    }

    fn counts(&self) -> String {
        let elapsed = self.started.elapsed().as_secs_f64().max(0.001);
        let changed = self.created.load(Ordering::Relaxed) + self.updated.load(Ordering::Relaxed);
        let per_minute = changed as f64 * 60.0 / elapsed;
        format!(
            "{:.0}/min  created {}  updated {}  unchanged/exists {}  need attention {}",
            per_minute,
            self.created.load(Ordering::Relaxed),
            self.updated.load(Ordering::Relaxed),
            self.exists.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed)
        )
    }

    /// One plain progress line, for logs when there is no bar.
    pub fn log_line(&self) {
        tracing::info!(
            done = self.done.load(Ordering::Relaxed),
            total = self.total.load(Ordering::Relaxed),
            "progress: {}",
            self.counts()
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
