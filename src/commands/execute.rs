//! Why this exists: one way in and one way out for every command. The
//! command line becomes a `Command`; logging, the one async runtime, a
//! second Ctrl-C and the summary are set up here once, and every command
//! ends in an exit code.

use std::future::Future;
use std::sync::Arc;

use crate::cli::{Cli, LogFormat};
use crate::config::{Command, Config, LogSettings};
use crate::error::exit;
use crate::output::{Status, Summary};
use crate::progress::Progress;
use crate::stop::Stop;

/// Runs what `cli` asks for; the process exit code.
pub fn execute(cli: Cli) -> u8 {
    let log = LogSettings::from_logging(&cli.logging);
    // Only imports draw a bar; an export has its own spinner.
    let imports = !matches!(
        cli.command,
        Some(crate::cli::Command::Export(_))
            | Some(crate::cli::Command::Doctor(_))
            | Some(crate::cli::Command::Completions { .. })
            | Some(crate::cli::Command::Man)
    );
    let progress = Arc::new(Progress::new(log.progress_bar && imports, log.color));
    crate::logging::init(&log, progress.stderr_writer());
    let command = match Command::from_cli(cli) {
        Ok(command) => command,
        Err(e) => {
            tracing::error!("{e}");
            return e.exit_code();
        }
    };
    match command {
        Command::Completions(shell) => {
            let mut cli = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cli, "genimport", &mut std::io::stdout());
            exit::OK
        }
        Command::Man => {
            let cli = <Cli as clap::CommandFactory>::command();
            match clap_mangen::Man::new(cli).render(&mut std::io::stdout()) {
                Ok(()) => exit::OK,
                Err(e) => {
                    tracing::error!("cannot write the man page: {e}");
                    exit::CANT_CREATE
                }
            }
        }
        Command::Import(config) => {
            let stop = Stop::default();
            let code = on_runtime(&stop, import(*config, stop.clone(), Arc::clone(&progress)));
            progress.finish();
            code.unwrap_or_else(|| {
                eprintln!("genimport: quit at once (second Ctrl-C); rows in flight are missing from the results, a re-run will check them");
                exit::INTERRUPTED
            })
        }
        Command::Doctor(config) => {
            let stop = Stop::default();
            let code = on_runtime(&stop, crate::commands::doctor::run(&config, stop.clone()));
            code.unwrap_or(exit::INTERRUPTED)
        }
        Command::Export(config) => {
            let stop = Stop::default();
            let code = on_runtime(&stop, crate::commands::export::run(&config, stop.clone()));
            code.unwrap_or(exit::INTERRUPTED)
        }
    }
}

/// Runs `work` on the one (single-threaded) runtime; `None` when a second
/// Ctrl-C asked to quit at once.
fn on_runtime(stop: &Stop, work: impl Future<Output = u8>) -> Option<u8> {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("cannot start the async runtime: {e}");
            return Some(exit::UNAVAILABLE);
        }
    };
    runtime.block_on(async {
        let mut work = std::pin::pin!(work);
        tokio::select! {
            code = &mut work => return Some(code),
            _ = stop.quit_requested() => {}
        }
        // A second Ctrl-C: requests in flight are abandoned (their rows say
        // so) and the rows still waiting are written; only a run that does
        // not end within the grace is dropped (rows written so far are
        // already flushed).
        tokio::time::timeout(QUIT_GRACE, work).await.ok()
    })
}

/// How long a run may take to write its rows after a second Ctrl-C.
const QUIT_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

async fn import(config: Config, stop: Stop, progress: Arc<Progress>) -> u8 {
    let log = config.log.clone();
    match crate::commands::import::run(config, stop, Arc::clone(&progress)).await {
        Ok(summary) => {
            // The bar is gone before the summary is printed.
            progress.finish();
            report_summary(&log, &summary);
            summary.exit_code()
        }
        Err(e) => {
            tracing::error!("{e}");
            e.exit_code()
        }
    }
}

fn report_summary(log: &LogSettings, summary: &Summary) {
    if log.verbosity == 0 {
        return;
    }
    match log.format {
        LogFormat::Text => eprint!("{}", summary.render()),
        LogFormat::Json => {
            let t = &summary.tally;
            tracing::info!(
                created = t.count(Status::Created),
                updated = t.count(Status::Updated),
                unchanged = t.count(Status::Unchanged),
                exists = t.count(Status::Exists),
                would_create = t.count(Status::WouldCreate),
                would_update = t.count(Status::WouldUpdate),
                incomplete = t.count(Status::Incomplete),
                invalid = t.count(Status::Invalid),
                failed = t.count(Status::Failed),
                not_attempted = t.count(Status::NotAttempted),
                rows = t.total(),
                elapsed_s = summary.elapsed.as_secs_f64(),
                users_per_minute = summary.created_per_minute(),
                requests = summary.requests,
                throttled = summary.throttled,
                retries = summary.retries,
                stopped = summary.stop.as_ref().map(|s| s.to_string()),
                exit_code = summary.exit_code(),
                "summary"
            );
            if !summary.missing_permissions.is_empty() {
                let missing: Vec<String> = summary
                    .missing_permissions
                    .iter()
                    .map(|(what, rows)| format!("{what} ({rows} rows)"))
                    .collect();
                tracing::warn!(missing = %missing.join("; "), "missing permissions");
            }
            if let Some(licences) = &summary.licences {
                licences.log();
            }
        }
    }
}
