//! Why this exists: the import pipeline of a users or queues file: read,
//! resolve against the org, plan, apply, write the results.

use std::sync::Arc;
use std::time::Instant;

use crate::commands::client::{build_client, CHECK_GATHER};
use crate::commands::inputs::{read_all, Inputs, Listed};
use crate::commands::offline::offline_dry_run;
use crate::commands::{discard_results, log_progress, output_error, watch_ctrl_c};
use crate::config::Config;
use crate::engine::Engine;
use crate::error::{Error, StopReason};
use crate::genesys::{CallError, Client};
use crate::input::{self, RowReader};
use crate::output::{ResultsThread, ResultsWriter, Summary};
use crate::plan::{self, Job, Outcome, Plan, Status};
use crate::progress::Progress;
use crate::resource::Resource;
use crate::stats::Stats;
use crate::stop::Stop;
use crate::{access, engine, genesys, resolve};

/// Runs one import (or dry run) to the end and returns its summary. An
/// `Err` means the input or the configuration could not be used at all.
pub async fn run(config: Config, stop: Stop, progress: Arc<Progress>) -> Result<Summary, Error> {
    let started = Instant::now();
    let mut reader = RowReader::open(&config.source, &config.read)?;
    announce(&reader);
    if let Some(missing) = config.missing_credentials.clone() {
        return Err(Error::Config(missing));
    }
    let online = config.connect.credentials.is_some();
    // Nothing is sent offline, so rows need not be flushed one by one.
    let writer = ResultsWriter::open(&config.sink, online, config.read.resource)
        .map_err(|e| output_error(&config.sink, e))?;
    if !online {
        return offline_dry_run(&config, reader, writer, started).await;
    }
    let inputs = match read_all(&mut reader, config.read.resource) {
        Ok(inputs) => inputs,
        Err(e) => {
            discard_results(&config.sink);
            return Err(e.into());
        }
    };
    drop(reader);
    let listed = inputs.listed();
    let invalid = listed.iter().filter(|r| r.problems.is_some()).count();
    tracing::info!(rows = listed.len(), invalid, "input validated");
    if config.strict && invalid > 0 {
        return refuse_strict(&config, writer, &listed, invalid);
    }
    let expected_rows = listed.len() as u64;
    drop(listed);
    let stats = Arc::new(Stats::default());
    let client = Arc::new(build_client(
        &config.connect,
        Arc::clone(&stats),
        stop.clone(),
    )?);
    let interrupt = tokio::spawn(watch_ctrl_c(stop.clone()));
    progress.set_total(expected_rows);
    progress.count_requests(Arc::clone(&stats));
    let ticker = (!progress.has_bar() && config.log.verbosity >= 1)
        .then(|| tokio::spawn(log_progress(Arc::clone(&progress))));
    let redraw = progress
        .has_bar()
        .then(|| tokio::spawn(Arc::clone(&progress).keep_drawn()));
    let results = start_results(&config, writer, &progress, &stop)?;
    let engine = Arc::new(build_engine(&config, &client, &results, &stop, &progress));

    let mut planned = plan_rows(&config, &client, &inputs).await;
    let permissions = check_permissions(&config, &client, &mut planned).await;
    // What the planned role changes do to licences (read-only, before any write).
    let licences = match (&planned, &inputs) {
        (Ok((jobs, _)), Inputs::Users(_)) => resolve::licences::preview(&client, jobs).await,
        _ => None,
    };
    // The undo file, complete, before the first write.
    let (planned, undo) = super::undo::leave(&config, &client, planned, &stop).await;
    apply(&config, &engine, &inputs, planned, &stop).await;

    interrupt.abort();
    let logged = ticker.map(|ticker| ticker.abort()).is_some();
    if let Some(redraw) = redraw {
        redraw.abort();
    }
    drop(engine);
    let (tally, written) = results.finish();
    if logged {
        // The log ends with where the last phase got to, every row counted.
        progress.log_line();
    }
    if let Err(e) = written {
        stop.raise(StopReason::OutputFailed(e.to_string()));
    }
    let top: Vec<(String, u64)> = tally
        .error_codes
        .iter()
        .map(|(code, (rows, _))| (code.clone(), *rows))
        .collect();
    access::preflight::after_run(&permissions, &top);
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
        resource: config.read.resource,
        preflight_skipped: false,
        stop: stop.reason(),
        expected_rows,
        licences,
        undo,
        missing_permissions: permissions.check.missing.into_iter().collect(),
    })
}

/// The permission preflight: after the plan, before the first write.
async fn check_permissions(
    config: &Config,
    client: &Client,
    planned: &mut Result<(Vec<Job>, Option<resolve::undo::Known>), CallError>,
) -> access::preflight::Preflight {
    let (Ok((jobs, _)), Some(credentials)) = (planned, &config.connect.credentials) else {
        return Default::default();
    };
    access::preflight::run(client, &credentials.client_id, jobs).await
}

/// Logs how the file is read: its separator and the columns it ignores.
fn announce(reader: &RowReader) {
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
        // A comma is what everyone expects: worth saying only when asked.
        if separator == b',' {
            tracing::debug!("reading CSV separated by {shown} ({why})");
        } else {
            tracing::info!("reading CSV separated by {shown} ({why})");
        }
    }
    if !reader.ignored_columns.is_empty() {
        tracing::warn!(
            "ignoring unknown column(s): {}",
            input::list_some(&reader.ignored_columns)
        );
    }
}

/// `--strict` with invalid rows: every row is written, nothing is sent.
fn refuse_strict(
    config: &Config,
    mut writer: ResultsWriter,
    listed: &[Listed],
    invalid: usize,
) -> Result<Summary, Error> {
    let output_error = |source| output_error(&config.sink, source);
    let note = format!("not sent: --strict and {invalid} row(s) are invalid");
    for row in listed {
        let outcome = match row.problems {
            Some(problems) => Outcome::new(Status::Invalid).with_message(problems.clone()),
            None => Outcome::new(Status::NotAttempted).with_message(note.clone()),
        };
        writer
            .write(row.line, row.email, row.name, &outcome)
            .map_err(output_error)?;
    }
    writer.finish().map_err(output_error)?;
    Err(Error::StrictInvalid {
        invalid: invalid as u64,
        results: config.sink.describe(),
    })
}

/// The results file on a thread of its own; a write failure stops the run.
fn start_results(
    config: &Config,
    writer: ResultsWriter,
    progress: &Arc<Progress>,
    stop: &Stop,
) -> Result<ResultsThread, Error> {
    let progress = Arc::clone(progress);
    let stop = stop.clone();
    ResultsThread::start(
        writer,
        move |outcome| progress.row_done(outcome),
        move |e| {
            tracing::error!(error = %e, "cannot write the results file; stopping");
            stop.raise(StopReason::OutputFailed(e.to_string()));
        },
    )
    .map_err(|e| output_error(&config.sink, e))
}

fn build_engine(
    config: &Config,
    client: &Arc<Client>,
    results: &ResultsThread,
    stop: &Stop,
    progress: &Arc<Progress>,
) -> Engine {
    Engine {
        applier: engine::apply::Applier {
            client: Arc::clone(client),
            checks: genesys::checks::EmailChecks::new(
                Arc::clone(client),
                config.connect.retry.scale(CHECK_GATHER),
            ),
            stop: stop.clone(),
            restore_deleted: config.restore_deleted,
            key: config.read.key,
            employee: Default::default(),
        },
        results: results.sender(),
        stop: stop.clone(),
        panic_on_line: config.panic_on_line,
        station_wait: config.station_wait,
        concurrency: config.concurrency,
        ids: std::sync::Mutex::default(),
        progress: Arc::clone(progress),
    }
}

/// The read-only preflight: one plan per row, in input order (and, for
/// users, what it read that the undo file takes its values from).
pub(crate) async fn plan_rows(
    config: &Config,
    client: &Arc<Client>,
    inputs: &Inputs,
) -> Result<(Vec<Job>, Option<resolve::undo::Known>), CallError> {
    match inputs {
        Inputs::Users(rows) => {
            let settings = resolve::Settings {
                concurrency: config.concurrency,
                default_division: config.default_division.clone(),
                restore_deleted: config.restore_deleted,
                update: config.update,
                exact: config.exact,
                key: config.read.key,
                invite: config.invite,
            };
            let (jobs, known) = resolve::preflight(client, &settings, rows).await?;
            Ok((jobs, Some(known)))
        }
        Inputs::Queues(rows) => resolve::queues::preflight(
            client,
            rows,
            config.default_division.as_deref(),
            config.update,
        )
        .await
        .map(|jobs| (jobs, None)),
    }
}

/// Applies the plans (or reports them in a dry run); a failed preflight
/// writes every row as invalid or not attempted.
async fn apply(
    config: &Config,
    engine: &Arc<Engine>,
    inputs: &Inputs,
    planned: Result<Vec<Job>, CallError>,
    stop: &Stop,
) {
    match planned {
        Err(e) => {
            let reason = plan::stop_reason(&e, stop);
            tracing::error!("preflight failed: {}", reason);
            stop.raise(reason.clone());
            for Listed {
                line,
                email,
                name,
                problems,
            } in inputs.listed()
            {
                let outcome = match problems {
                    Some(problems) => Outcome::new(Status::Invalid).with_message(problems.clone()),
                    None => Outcome::new(Status::NotAttempted)
                        .with_message(format!("not sent: the run stopped ({})", reason)),
                };
                let job = Job {
                    line,
                    email: Arc::from(email),
                    name: Arc::from(name),
                    plan: Plan::Report(outcome.clone()),
                };
                if !engine.record(&job, outcome) {
                    break;
                }
            }
        }
        Ok(jobs) if config.dry_run => {
            for job in &jobs {
                if !engine.record(job, job.plan.dry_run()) {
                    break;
                }
            }
        }
        Ok(jobs) => {
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
            let rows = if config.read.resource == Resource::Queues {
                "queues"
            } else {
                "users"
            };
            engine.progress.phase(rows, jobs.len() as u64);
            Arc::clone(engine).run(jobs, config.concurrency).await;
        }
    }
}
