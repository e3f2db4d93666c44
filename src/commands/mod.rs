//! Why this exists: one file per command; each runs its pipeline from a
//! validated `Config` to a `Summary`. Shared here: what every online run
//! sets up around its pipeline (Ctrl-C, progress lines, results errors).

mod client;
mod doctor;
mod execute;
pub mod export;
pub mod import;
mod inputs;
mod offline;
mod undo;

pub use execute::execute;

use std::sync::Arc;

use crate::error::{Error, StopReason};
use crate::output::Sink;
use crate::progress::Progress;
use crate::stop::Stop;

/// First Ctrl-C: finish what is in flight, mark the rest `not_attempted`.
/// Second Ctrl-C: ask the caller to quit at once (`Stop::quit_now`).
pub(crate) async fn watch_ctrl_c(stop: Stop) {
    if tokio::signal::ctrl_c().await.is_err() {
        return;
    }
    tracing::warn!("interrupted: finishing requests in flight; the rest will be not_attempted (Ctrl-C again to quit now)");
    stop.raise(StopReason::Interrupted);
    if tokio::signal::ctrl_c().await.is_ok() {
        stop.quit_now();
    }
}

pub(crate) async fn log_progress(progress: Arc<Progress>) {
    let mut interval = tokio::time::interval(Progress::LOG_EVERY);
    interval.tick().await;
    loop {
        interval.tick().await;
        progress.log_line();
    }
}

pub(crate) fn output_error(sink: &Sink, source: std::io::Error) -> Error {
    Error::Output {
        path: match sink {
            Sink::Stdout => "standard output".into(),
            Sink::File(p) => p.clone(),
        },
        source,
    }
}

/// A fatal input error mid-file leaves no half-written results behind.
pub(crate) fn discard_results(sink: &Sink) {
    if let Sink::File(path) = sink {
        let _ = std::fs::remove_file(path);
    }
}
