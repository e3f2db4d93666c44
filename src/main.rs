//! The `genimport` binary: parse, set up logging and the runtime, run, and
//! turn the outcome into an exit code.

use std::process::ExitCode;
use std::sync::Arc;

use genimport::cli::{Cli, Command};
use genimport::config::{self, Config, ParseFailure};
use genimport::output::Summary;
use genimport::progress::Progress;
use genimport::stop::Stop;

fn main() -> ExitCode {
    let cli = match config::parse_args() {
        Ok(cli) => cli,
        Err(ParseFailure::Clap(e)) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                genimport::error::exit::USAGE
            } else {
                0
            });
        }
        Err(ParseFailure::Config(e)) => {
            eprintln!("genimport: error: {e}");
            return ExitCode::from(e.exit_code());
        }
    };
    if let Some(Command::Export(args)) = &cli.command {
        return genimport::export::main(args, cli.queues);
    }
    if let Some(command) = &cli.command {
        return print_extra(command);
    }
    let log = config::LogSettings::from_cli(&cli);
    let progress = Arc::new(Progress::new(log.progress_bar, log.color));
    genimport::logging::init(&log, progress.stderr_writer());

    let config = match Config::from_cli(cli) {
        Ok(config) => config,
        Err(e) => return fail(&e),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("cannot start the async runtime: {e}");
            return ExitCode::from(genimport::error::exit::UNAVAILABLE);
        }
    };
    let stop = Stop::default();
    let result = runtime.block_on(async {
        tokio::select! {
            result = genimport::run(config.clone(), stop.clone(), Arc::clone(&progress)) => Some(result),
            // A second Ctrl-C: rows written so far are already flushed.
            _ = stop.quit_requested() => None,
        }
    });
    progress.finish();
    let Some(result) = result else {
        eprintln!("genimport: quit at once (second Ctrl-C); rows in flight are missing from the results, a re-run will check them");
        return ExitCode::from(genimport::error::exit::INTERRUPTED);
    };
    match result {
        Ok(summary) => {
            report_summary(&config, &summary);
            ExitCode::from(summary.exit_code())
        }
        Err(e) => fail(&e),
    }
}

fn fail(error: &genimport::error::Error) -> ExitCode {
    tracing::error!("{error}");
    ExitCode::from(error.exit_code())
}

fn report_summary(config: &Config, summary: &Summary) {
    if config.log.verbosity == 0 {
        return;
    }
    match config.log.format {
        genimport::cli::LogFormat::Text => eprint!("{}", summary.render()),
        genimport::cli::LogFormat::Json => {
            use genimport::output::Status;
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
                stopped = summary.stop.as_ref().map(|s| s.describe()),
                exit_code = summary.exit_code(),
                "summary"
            );
            if let Some(licences) = &summary.licences {
                licences.log();
            }
        }
    }
}

fn print_extra(command: &Command) -> ExitCode {
    let mut cmd = <Cli as clap::CommandFactory>::command();
    match command {
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut cmd, "genimport", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
        Command::Export(_) => ExitCode::from(genimport::error::exit::USAGE),
        Command::Man => match clap_mangen::Man::new(cmd).render(&mut std::io::stdout()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("genimport: error: {e}");
                ExitCode::from(genimport::error::exit::CANT_CREATE)
            }
        },
    }
}
