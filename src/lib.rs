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
pub mod export;
mod followups;
mod genesys;
mod input;
pub mod logging;
mod pacing;
mod plan;
mod preflight;
pub mod progress;
mod provision;
mod queues;
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
    let writer =
        ResultsWriter::open(&config.sink, online, config.read.queues).map_err(output_error)?;

    if !online {
        return offline_dry_run(&config, reader, writer, started).await;
    }

    let inputs = match read_all(&mut reader, config.read.queues) {
        Ok(inputs) => inputs,
        Err(e) => {
            discard_results(&config.sink);
            return Err(e.into());
        }
    };
    drop(reader);
    let listed = inputs.listed();
    let invalid = listed.iter().filter(|r| r.3.is_some()).count();
    tracing::info!(rows = listed.len(), invalid, "input validated");

    if config.strict && invalid > 0 {
        let mut writer = writer;
        let note = format!("not sent: --strict and {invalid} row(s) are invalid");
        for (line, email, name, problems) in &listed {
            let outcome = match problems {
                Some(problems) => Outcome::new(Status::Invalid).with_message((*problems).clone()),
                None => Outcome::new(Status::NotAttempted).with_message(note.clone()),
            };
            writer
                .write(*line, email, name, &outcome)
                .map_err(output_error)?;
        }
        writer.finish().map_err(output_error)?;
        return Err(Error::StrictInvalid {
            invalid: invalid as u64,
            results: config.sink.describe(),
        });
    }

    let expected_rows = listed.len() as u64;
    let stats = Arc::new(Stats::default());
    let client = Arc::new(build_client(&config, Arc::clone(&stats), stop.clone())?);
    let interrupt = tokio::spawn(watch_ctrl_c(stop.clone()));
    progress.set_total(expected_rows);
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
            checks: genesys::checks::EmailChecks::new(
                Arc::clone(&client),
                config.retry.scale(CHECK_GATHER),
            ),
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
    let planned = match &inputs {
        Inputs::Users(rows) => preflight::preflight(&client, &settings, rows).await,
        Inputs::Queues(rows) => {
            queues::preflight(
                &client,
                rows,
                config.default_division.as_deref(),
                config.update,
            )
            .await
        }
    };
    match planned {
        Err(e) => {
            let reason = apply::stop_reason(&e, &stop);
            tracing::error!("preflight failed: {}", reason.describe());
            stop.raise(reason.clone());
            for (line, email, name, problems) in listed {
                let outcome = match problems {
                    Some(problems) => Outcome::new(Status::Invalid).with_message(problems.clone()),
                    None => Outcome::new(Status::NotAttempted)
                        .with_message(format!("not sent: the run stopped ({})", reason.describe())),
                };
                let job = Job {
                    line,
                    email: Arc::from(email),
                    name: Arc::from(name),
                    plan: Plan::Report(outcome.clone()),
                };
                if !workers.record(&job, outcome) {
                    break;
                }
            }
        }
        Ok(jobs) if config.dry_run => {
            drop(listed);
            for job in &jobs {
                if !workers.record(job, job.plan.dry_run()) {
                    break;
                }
            }
        }
        Ok(jobs) => {
            drop(listed);
            let count = |create: bool| {
                jobs.iter()
                    .filter(|j| match j.plan {
                        Plan::Create { .. } | Plan::CreateQueue { .. } => create,
                        Plan::Update { .. } | Plan::UpdateQueue { .. } => !create,
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

/// The rows of the input, read whole (online runs plan against all of them).
enum Inputs {
    Users(Vec<Row>),
    Queues(Vec<input::queues::QueueInput>),
}

impl Inputs {
    /// Each row's line, email (empty for queues), name and problems.
    fn listed(&self) -> Vec<(u64, &str, &str, Option<&String>)> {
        match self {
            Inputs::Users(rows) => rows
                .iter()
                .map(|r| (r.line, &*r.email, &*r.name, r.validated.as_ref().err()))
                .collect(),
            Inputs::Queues(rows) => rows
                .iter()
                .map(|r| (r.line, "", r.name.as_str(), r.validated.as_ref().err()))
                .collect(),
        }
    }
}

fn read_all(reader: &mut RowReader, queues: bool) -> Result<Inputs, input::InputError> {
    if queues {
        let mut rows = Vec::new();
        while let Some(row) = reader.next_queue()? {
            rows.push(row);
        }
        return Ok(Inputs::Queues(rows));
    }
    let mut rows = Vec::new();
    while let Some(row) = reader.next_row()? {
        rows.push(row);
    }
    Ok(Inputs::Users(rows))
}

/// An offline row: its line, email, name and the outcome a dry run reports.
type OfflineRow = (u64, Arc<str>, Arc<str>, Outcome);

fn next_offline_user(reader: &mut RowReader) -> Result<Option<OfflineRow>, input::InputError> {
    let Some(row) = reader.next_row()? else {
        return Ok(None);
    };
    let outcome = match &row.validated {
        Ok(user) => {
            let mut outcome = Outcome::new(Status::WouldCreate);
            outcome.changes = plan::create_changes_cell(user);
            outcome
        }
        Err(problems) => Outcome::new(Status::Invalid).with_message(problems.clone()),
    };
    Ok(Some((row.line, row.email, row.name, outcome)))
}

fn next_offline_queue(reader: &mut RowReader) -> Result<Option<OfflineRow>, input::InputError> {
    let Some(row) = reader.next_queue()? else {
        return Ok(None);
    };
    let outcome = match &row.validated {
        Ok(queue) => {
            let mut changes = vec![plan::Change::Create];
            changes.extend(
                queue
                    .wrapup_codes
                    .iter()
                    .map(|w| plan::Change::AddWrapup(w.clone())),
            );
            Outcome::new(Status::WouldCreate).with_changes(&changes)
        }
        Err(problems) => Outcome::new(Status::Invalid).with_message(problems.clone()),
    };
    Ok(Some((
        row.line,
        Arc::from(""),
        Arc::from(row.name.as_str()),
        outcome,
    )))
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
        let next = if config.read.queues {
            next_offline_queue(&mut reader)
        } else {
            next_offline_user(&mut reader)
        };
        let (line, email, name, outcome) = match next {
            Ok(Some(row)) => row,
            Ok(None) => break,
            Err(e) => {
                discard_results(&config.sink);
                return Err(e.into());
            }
        };
        if outcome.status == Status::Invalid {
            invalid += 1;
        }
        writer
            .write(line, &email, &name, &outcome)
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
    let cap = config
        .rate_per_minute
        .map(|per_minute| Arc::new(pacing::Cap::per_minute(per_minute)));
    let second = config.retry.scale(Duration::from_secs(1));
    let count = usize::from(config.tokens.max(1));
    let auth = (0..count)
        .map(|_| {
            genesys::token::TokenSource::new(
                http.clone(),
                &config.hosts.login,
                credentials.clone(),
                config.retry.clone(),
                Arc::clone(&stats),
            )
        })
        .collect();
    let pacers = (0..count)
        .map(|_| Arc::new(pacing::Pacer::new(cap.clone(), second)))
        .collect();
    Ok(genesys::Client::new(
        http,
        &config.hosts.api,
        genesys::pool::TokenPool::new(auth, pacing::Spread::new(pacers)),
        config.retry.clone(),
        stats,
        stop,
    ))
}

/// How long a check of a lost create waits for others to share its search.
const CHECK_GATHER: Duration = Duration::from_secs(1);

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
