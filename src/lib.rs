//! genimport: bulk-create Genesys Cloud users from a CSV file.
//!
//! Data flows one way: argv/env -> `Config` -> rows -> plans -> client ->
//! outcomes -> results file -> `Summary` -> exit code. `run` is the whole
//! program minus argument parsing, so tests and benchmarks can call it.

mod apply;
pub mod cli;
pub mod config;
mod diff;
mod engine;
pub mod error;
mod followups;
mod genesys;
mod input;
pub mod logging;
mod pacing;
mod plan;
mod preflight;
pub mod progress;
mod provision;
mod region;
pub mod report;
mod stats;
pub mod stop;
mod text;
mod user;

use std::sync::Arc;
use std::time::{Duration, Instant};

use config::Config;
use engine::Engine;
use error::{ConfigError, Error, StopReason};
use input::{Row, RowReader};
use plan::{Job, Plan};
use progress::Progress;
use report::{Outcome, ResultsThread, ResultsWriter, Sink, Status, Summary};
use stats::Stats;
use stop::Stop;

/// Runs one import (or dry run) to the end and returns its summary. An
/// `Err` means the input or the configuration could not be used at all.
pub async fn run(config: Config, stop: Stop, progress: Arc<Progress>) -> Result<Summary, Error> {
    let started = Instant::now();
    let mut reader = RowReader::open(&config.source, &config.read)?;
    if let Some((separator, source)) = reader.separator {
        let shown = match separator {
            b'\t' => "tab".to_string(),
            other => format!("`{}`", char::from(other)),
        };
        let why = match source {
            input::SeparatorSource::Flag => "--delimiter",
            input::SeparatorSource::SepLine => "the file's sep= line",
            input::SeparatorSource::Detected => "detected from the header line",
        };
        tracing::info!("reading CSV separated by {shown} ({why})");
    }
    if !reader.ignored_columns.is_empty() {
        tracing::warn!(
            "ignoring unknown column(s): {}",
            input::list_some(&reader.ignored_columns)
        );
    }
    if let Some(missing) = config.missing_credentials.clone() {
        return Err(Error::Config(missing));
    }
    let online = config.credentials.is_some();
    let output_error = |source| output_error(&config.sink, source);
    // Nothing is sent offline, so rows need not be flushed one by one.
    let writer = ResultsWriter::open(&config.sink, online).map_err(output_error)?;

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
        let mut writer = writer;
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
        return Err(Error::StrictInvalid {
            invalid: invalid as u64,
            results: config.sink.describe(),
        });
    }

    let expected_rows = rows.len() as u64;
    let stats = Arc::new(Stats::default());
    let client = Arc::new(build_client(&config, Arc::clone(&stats), stop.clone())?);
    let interrupt = tokio::spawn(watch_ctrl_c(stop.clone()));
    progress.set_total(rows.len() as u64);
    let ticker = (!progress.has_bar() && config.log.verbosity >= 1)
        .then(|| tokio::spawn(log_progress(Arc::clone(&progress))));

    let results = {
        let progress = Arc::clone(&progress);
        let stop = stop.clone();
        ResultsThread::start(
            writer,
            move |outcome| progress.row_done(outcome),
            move |e| {
                tracing::error!(error = %e, "cannot write the results file; stopping");
                stop.raise(StopReason::OutputFailed(e.to_string()));
            },
        )
        .map_err(output_error)?
    };
    let workers = Arc::new(Engine {
        applier: apply::Applier {
            client: Arc::clone(&client),
            stop: stop.clone(),
            restore_deleted: config.restore_deleted,
            key: config.read.key,
        },
        results: results.sender(),
        stop: stop.clone(),
        panic_on_line: config.panic_on_line,
        concurrency: config.concurrency,
        ids: std::sync::Mutex::default(),
    });

    let settings = preflight::Settings {
        concurrency: config.concurrency,
        default_division: config.default_division.clone(),
        restore_deleted: config.restore_deleted,
        update: config.update,
        key: config.read.key,
        invite: config.invite,
    };
    match preflight::preflight(&client, &settings, &rows).await {
        Err(e) => {
            let reason = apply::stop_reason(&e, &stop);
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
                        provision: Box::default(),
                    },
                };
                let job = Job {
                    line: row.line,
                    email: row.email,
                    name: row.name,
                    plan,
                };
                if !workers.record(&job, job.plan.not_attempted(Some(&reason))) {
                    break;
                }
            }
        }
        Ok(jobs) if config.dry_run => {
            drop(rows);
            for job in &jobs {
                if !workers.record(job, job.plan.dry_run()) {
                    break;
                }
            }
        }
        Ok(jobs) => {
            drop(rows);
            let count = |create: bool| {
                jobs.iter()
                    .filter(|j| match j.plan {
                        Plan::Create { .. } => create,
                        Plan::Update { .. } => !create,
                        Plan::Report(_) => false,
                    })
                    .count()
            };
            tracing::info!(
                to_create = count(true),
                to_update = count(false),
                concurrency = config.concurrency,
                "applying the rows"
            );
            Arc::clone(&workers).run(jobs, config.concurrency).await;
        }
    }
    interrupt.abort();
    if let Some(ticker) = ticker {
        ticker.abort();
    }
    drop(workers);

    let (tally, written) = results.finish();
    if let Err(e) = written {
        stop.raise(StopReason::OutputFailed(e.to_string()));
    }
    if tally.total() != expected_rows && stop.reason().is_none() {
        stop.raise(StopReason::Internal(format!(
            "{} of {expected_rows} rows reached the results file",
            tally.total()
        )));
    }
    Ok(Summary {
        tally,
        elapsed: started.elapsed(),
        requests: stats.requests(),
        throttled: stats.throttled(),
        retries: stats.retries(),
        dry_run: config.dry_run,
        preflight_skipped: false,
        stop: stop.reason(),
        expected_rows,
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
            Ok(user) => {
                let mut outcome = Outcome::new(Status::WouldCreate);
                outcome.changes = plan::create_changes_cell(user);
                outcome
            }
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
    let expected_rows = writer.tally.total();
    tracing::warn!("no credentials: the preflight against the org was skipped, so existing users and division names were not checked");
    if config.strict && invalid > 0 {
        return Err(Error::StrictInvalid {
            invalid,
            results: config.sink.describe(),
        });
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
        expected_rows,
    })
}

fn build_client(config: &Config, stats: Arc<Stats>, stop: Stop) -> Result<genesys::Client, Error> {
    // reqwest is built without a bundled crypto provider; ring is ours.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        // The Genesys API never redirects; following one would carry the
        // request (a password, the credentials) to another host.
        .redirect(reqwest::redirect::Policy::none())
        .timeout(config.request_timeout)
        .connect_timeout(Duration::from_secs(10).min(config.request_timeout))
        .user_agent(concat!("genimport/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Config(ConfigError::HttpClient(e.to_string())))?;
    let credentials = config.credentials.clone().ok_or_else(|| {
        Error::Config(ConfigError::MissingCredentials {
            missing: vec!["GENESYS_CLIENT_ID", "GENESYS_CLIENT_SECRET"],
            dry_run: config.dry_run,
        })
    })?;
    let auth = genesys::token::TokenSource::new(
        http.clone(),
        &config.hosts.login,
        credentials,
        config.retry.clone(),
        Arc::clone(&stats),
    );
    let pacer = Arc::new(pacing::Pacer::new(config.rate_per_minute));
    Ok(genesys::Client::new(
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
/// Second Ctrl-C: ask the caller to quit at once (`Stop::quit_now`).
async fn watch_ctrl_c(stop: Stop) {
    if tokio::signal::ctrl_c().await.is_err() {
        return;
    }
    tracing::warn!("interrupted: finishing requests in flight; the rest will be not_attempted (Ctrl-C again to quit now)");
    stop.raise(StopReason::Interrupted);
    if tokio::signal::ctrl_c().await.is_ok() {
        stop.quit_now();
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
