//! genimport: bulk-create Genesys Cloud users from a CSV file.
//!
//! Data flows one way: argv/env -> `Config` -> rows -> plans -> client ->
//! outcomes -> results file -> `Summary` -> exit code. `run` is the whole
//! program minus argument parsing, so tests and benchmarks can call it.

pub mod auth;
pub mod cli;
pub mod client;
pub mod config;
pub mod error;
pub mod import;
pub mod input;
pub mod logging;
pub mod pacing;
pub mod progress;
pub mod region;
pub mod report;
pub mod stats;
pub mod stop;
pub mod user;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use config::Config;
use error::{Error, StopReason};
use import::{Job, Plan, Workers};
use input::{Row, RowReader};
use progress::Progress;
use report::{Outcome, ResultsWriter, Sink, Status, Summary};
use stats::Stats;
use stop::Stop;

/// Runs one import (or dry run) to the end and returns its summary. An
/// `Err` means the input or the configuration could not be used at all.
pub async fn run(config: Config, stop: Stop, progress: Arc<Progress>) -> Result<Summary, Error> {
    let started = Instant::now();
    let mut reader = RowReader::open(&config.source)?;
    if !reader.ignored_columns.is_empty() {
        tracing::warn!(
            "ignoring unknown column(s): {}",
            reader.ignored_columns.join(", ")
        );
    }
    if let Some(missing) = &config.missing_credentials {
        return Err(Error::Config(missing.clone()));
    }
    let online = config.credentials.is_some();
    let output_error = |source| output_error(&config.sink, source);
    // Nothing is sent offline, so rows need not be flushed one by one.
    let mut writer = ResultsWriter::open(&config.sink, online).map_err(output_error)?;

    if !online {
        return offline_dry_run(&config, reader, writer, started).await;
    }

    let mut rows: Vec<Row> = Vec::new();
    loop {
        match reader.next_row() {
            Ok(Some(row)) => rows.push(row),
            Ok(None) => break,
            Err(e) => {
                discard_results(&config.sink);
                return Err(e.into());
            }
        }
    }
    drop(reader);
    let invalid = rows.iter().filter(|r| r.validated.is_err()).count();
    tracing::info!(rows = rows.len(), invalid, "input validated");

    if config.strict && invalid > 0 {
        let note = format!("not sent: --strict and {invalid} row(s) are invalid");
        for row in &rows {
            let outcome = match &row.validated {
                Err(problems) => Outcome::new(Status::Invalid).with_message(problems.clone()),
                Ok(_) => Outcome::new(Status::NotAttempted).with_message(note.clone()),
            };
            writer
                .write(row.line, &row.email, &row.name, &outcome)
                .map_err(output_error)?;
        }
        writer.finish().map_err(output_error)?;
        return Err(Error::StrictInvalid(format!(
            "{invalid} row(s) are invalid and --strict is set; nothing was sent (see {})",
            config.sink.describe()
        )));
    }

    let stats = Arc::new(Stats::default());
    let client = Arc::new(build_client(&config, Arc::clone(&stats), stop.clone())?);
    let interrupt = tokio::spawn(watch_ctrl_c(stop.clone()));
    progress.set_total(rows.len() as u64);
    let ticker = (!progress.has_bar() && config.log.verbosity >= 1)
        .then(|| tokio::spawn(log_progress(Arc::clone(&progress))));

    let workers = Arc::new(Workers {
        client: Arc::clone(&client),
        writer: Arc::new(Mutex::new(writer)),
        stop: stop.clone(),
        progress: Arc::clone(&progress),
        restore_deleted: config.restore_deleted,
    });

    let default_division = config.default_division.as_deref();
    match import::preflight(
        &client,
        config.concurrency,
        &rows,
        default_division,
        config.restore_deleted,
    )
    .await
    {
        Err(e) => {
            let reason = import::stop_reason(&e, &stop);
            tracing::error!("preflight failed: {}", reason.describe());
            stop.raise(reason.clone());
            for row in rows {
                let plan = match row.validated {
                    Err(problems) => {
                        Plan::Report(Outcome::new(Status::Invalid).with_message(problems))
                    }
                    // Not created: `not_attempted` below says why.
                    Ok(user) => Plan::Create {
                        user,
                        division_id: None,
                    },
                };
                let job = Job {
                    line: row.line,
                    email: row.email,
                    name: row.name,
                    plan,
                };
                if !workers.record(&job, &job.plan.not_attempted(Some(&reason))) {
                    break;
                }
            }
        }
        Ok(jobs) if config.dry_run => {
            drop(rows);
            for job in &jobs {
                if !workers.record(job, &job.plan.dry_run()) {
                    break;
                }
            }
        }
        Ok(jobs) => {
            drop(rows);
            let to_create = jobs
                .iter()
                .filter(|j| !matches!(j.plan, Plan::Report(_)))
                .count();
            tracing::info!(
                to_create,
                concurrency = config.concurrency,
                "creating users"
            );
            Arc::clone(&workers).run(jobs, config.concurrency).await;
        }
    }
    interrupt.abort();
    if let Some(ticker) = ticker {
        ticker.abort();
    }

    let tally = {
        let mut writer = workers.writer.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = writer.finish() {
            stop.raise(StopReason::OutputFailed(e.to_string()));
        }
        writer.tally.clone()
    };
    Ok(Summary {
        tally,
        elapsed: started.elapsed(),
        requests: stats.requests(),
        throttled: stats.throttled(),
        retries: stats.retries(),
        dry_run: config.dry_run,
        preflight_skipped: false,
        stop: stop.reason(),
    })
}

/// `--dry-run` without credentials: validate and write results while
/// streaming, so memory holds only the set of emails.
async fn offline_dry_run(
    config: &Config,
    mut reader: RowReader,
    mut writer: ResultsWriter,
    started: Instant,
) -> Result<Summary, Error> {
    let output_error = |source| output_error(&config.sink, source);
    let mut invalid = 0u64;
    loop {
        let row = match reader.next_row() {
            Ok(Some(row)) => row,
            Ok(None) => break,
            Err(e) => {
                discard_results(&config.sink);
                return Err(e.into());
            }
        };
        let outcome = match &row.validated {
            Ok(_) => Outcome::new(Status::WouldCreate),
            Err(problems) => {
                invalid += 1;
                Outcome::new(Status::Invalid).with_message(problems.clone())
            }
        };
        writer
            .write(row.line, &row.email, &row.name, &outcome)
            .map_err(output_error)?;
    }
    writer.finish().map_err(output_error)?;
    tracing::warn!("no credentials: the preflight against the org was skipped, so existing users and division names were not checked");
    if config.strict && invalid > 0 {
        return Err(Error::StrictInvalid(format!(
            "{invalid} row(s) are invalid and --strict is set (see {})",
            config.sink.describe()
        )));
    }
    Ok(Summary {
        tally: writer.tally.clone(),
        elapsed: started.elapsed(),
        requests: 0,
        throttled: 0,
        retries: 0,
        dry_run: true,
        preflight_skipped: true,
        stop: None,
    })
}

fn build_client(config: &Config, stats: Arc<Stats>, stop: Stop) -> Result<client::Client, Error> {
    // reqwest is built without a bundled crypto provider; ring is ours.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .timeout(config.request_timeout)
        .connect_timeout(Duration::from_secs(10).min(config.request_timeout))
        .user_agent(concat!("genimport/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Config(format!("cannot set up the HTTPS client: {e}")))?;
    let credentials = config
        .credentials
        .clone()
        .ok_or_else(|| Error::Config("missing credentials".into()))?;
    let auth = auth::TokenSource::new(
        http.clone(),
        &config.hosts.login,
        credentials,
        config.retry.clone(),
        Arc::clone(&stats),
    );
    let pacer = Arc::new(pacing::Pacer::new(config.rate_per_minute));
    Ok(client::Client::new(
        http,
        &config.hosts.api,
        auth,
        pacer,
        config.retry.clone(),
        stats,
        stop,
    ))
}

/// First Ctrl-C: finish what is in flight, mark the rest `not_attempted`.
/// Second Ctrl-C: quit at once.
async fn watch_ctrl_c(stop: Stop) {
    if tokio::signal::ctrl_c().await.is_err() {
        return;
    }
    tracing::warn!("interrupted: finishing requests in flight; the rest will be not_attempted (Ctrl-C again to quit now)");
    stop.raise(StopReason::Interrupted);
    if tokio::signal::ctrl_c().await.is_ok() {
        std::process::exit(i32::from(error::exit::INTERRUPTED));
    }
}

async fn log_progress(progress: Arc<Progress>) {
    let mut interval = tokio::time::interval(Progress::LOG_EVERY);
    interval.tick().await;
    loop {
        interval.tick().await;
        progress.log_line();
    }
}

fn output_error(sink: &Sink, source: std::io::Error) -> Error {
    Error::Output {
        path: match sink {
            Sink::Stdout => "standard output".into(),
            Sink::File(p) => p.clone(),
        },
        source,
    }
}

/// A fatal input error mid-file leaves no half-written results behind.
fn discard_results(sink: &Sink) {
    if let Sink::File(path) = sink {
        let _ = std::fs::remove_file(path);
    }
}
