//! Why this exists: stderr logs in the two shapes people ask for, readable
//! text at a terminal and one JSON object a line for CI, at the verbosity
//! chosen with -q / -v. Secrets are never passed to a log call.

use tracing::level_filters::LevelFilter;

use crate::cli::LogFormat;
use crate::config::LogSettings;
use crate::progress::SuspendingStderr;

pub fn init(settings: &LogSettings, writer: SuspendingStderr) {
    let level = match settings.verbosity {
        0 => LevelFilter::WARN,
        1 => LevelFilter::INFO,
        2 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    };
    let make_writer = move || writer.clone();
    let builder = tracing_subscriber::fmt()
        .with_writer(make_writer)
        .with_max_level(level)
        .with_target(false);
    // Ignore "already set": tests may call this more than once.
    let _ = match settings.format {
        LogFormat::Text => builder.with_ansi(settings.color).without_time().try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
    };
}
