//! Why this exists: the phases of a run after the preflight. Workers carry
//! out each row's own steps under one pacer (ensure the user: create,
//! restore, update); a barrier waits for every row; then the follow-ups
//! that batch across users (division moves) run; every row is written once,
//! as soon as it is final. A worker that dies (a bug) does not lose its row.

pub mod apply;
mod followups;
mod phones;
mod queues;
mod removals;
mod stages;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::engine::apply::{Applied, Applier, Followup};
use crate::error::StopReason;
use crate::output::{Record, ResultsSender};
use crate::plan::{Job, Plan, RowLog};
use crate::plan::{Outcome, Status};
use crate::stop::Stop;
pub use phones::STATION_WAIT;

/// A row whose last steps wait for the barrier.
pub(crate) struct Held {
    pub index: usize,
    pub log: RowLog,
    pub follow: Followup,
}

pub struct Engine {
    pub applier: Applier,
    pub results: ResultsSender,
    pub stop: Stop,
    /// Test hook: panic on this line (see `Config::panic_on_line`).
    pub panic_on_line: Option<u64>,
    /// Between looks for a new WebRTC phone's station (see `phones`).
    pub station_wait: std::time::Duration,
    /// Requests in flight at once (follow-ups run per user too).
    pub concurrency: usize,
    /// Lowercased email -> user id of every row whose user is known: a
    /// manager created in this run is found here (search lags).
    pub ids: Mutex<HashMap<String, String>>,
    /// The progress bar: each row's own steps, then the follow-up steps.
    pub progress: Arc<crate::progress::Progress>,
}

impl Engine {
    /// Carries out every job with `concurrency` workers, then the batched
    /// follow-ups; returns when every row has its result (or the results
    /// file broke).
    pub async fn run(self: Arc<Self>, jobs: Vec<Job>, concurrency: usize) {
        let jobs = Arc::new(jobs);
        let recorded: Arc<Vec<AtomicBool>> =
            Arc::new(jobs.iter().map(|_| AtomicBool::new(false)).collect());
        let held: Arc<Mutex<Vec<Held>>> = Arc::default();
        let next = Arc::new(AtomicUsize::new(0));
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..concurrency.max(1) {
            let this = Arc::clone(&self);
            let (jobs, next, recorded, held) = (
                Arc::clone(&jobs),
                Arc::clone(&next),
                Arc::clone(&recorded),
                Arc::clone(&held),
            );
            set.spawn(async move { this.work(&jobs, &next, &recorded, &held).await });
        }
        let mut died = None;
        while let Some(joined) = set.join_next().await {
            if let Err(e) = joined {
                tracing::error!(error = %e, "a worker failed (a bug)");
                died.get_or_insert_with(|| e.to_string());
            }
        }
        if let Some(why) = died {
            self.stop
                .raise(StopReason::Internal(format!("a worker failed: {why}")));
            for (job, done) in jobs.iter().zip(recorded.iter()) {
                if !done.load(Ordering::SeqCst) {
                    let outcome = Outcome::new(Status::Failed).with_message(
                        "internal error while working on this row (a bug); it may or may not have been changed: a re-run will check",
                    );
                    if !self.record(job, outcome) {
                        return;
                    }
                }
            }
        }
        // The barrier: every row's own steps are done.
        let held = std::mem::take(&mut *held.lock().unwrap_or_else(|e| e.into_inner()));
        Arc::clone(&self).follow_ups(Arc::clone(&jobs), held).await;
    }

    async fn work(
        &self,
        jobs: &[Job],
        next: &AtomicUsize,
        recorded: &[AtomicBool],
        held: &Mutex<Vec<Held>>,
    ) {
        loop {
            let index = next.fetch_add(1, Ordering::SeqCst);
            let Some(job) = jobs.get(index) else { return };
            if self.panic_on_line == Some(job.line) {
                panic!("test hook: panic on line {}", job.line);
            }
            let applied = if self.stop.is_raised() {
                Applied::Done(job.plan.not_attempted(self.stop.reason().as_ref()))
            } else {
                match &job.plan {
                    Plan::Report(outcome) => Applied::Done(outcome.clone()),
                    Plan::CreateQueue {
                        queue,
                        body,
                        wrapups,
                    } => self.applier.create_queue(&queue.name, body, wrapups).await,
                    Plan::UpdateQueue {
                        id,
                        body,
                        changed,
                        wrapups,
                        division,
                    } => {
                        self.applier
                            .update_queue(id, body, changed, wrapups, division.as_ref())
                            .await
                    }
                    Plan::Create {
                        user,
                        division_id,
                        provision,
                    } => {
                        self.applier
                            .create(job, user, division_id.as_deref(), provision)
                            .await
                    }
                    Plan::Update {
                        user,
                        existing,
                        restore,
                        division,
                        provision,
                        ..
                    } => {
                        self.applier
                            .update(
                                user,
                                (**existing).clone(),
                                *restore,
                                division.as_ref(),
                                provision,
                            )
                            .await
                    }
                }
            };
            let user_id = match &applied {
                Applied::Done(outcome) => outcome.user_id.clone(),
                Applied::Logged(log, _) => log.user_id.clone(),
            };
            if let Some(id) = user_id {
                self.ids
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(job.email.to_lowercase(), id);
            }
            let written = match applied {
                Applied::Done(outcome) => self.record(job, outcome),
                Applied::Logged(log, None) => self.record(job, log.outcome()),
                Applied::Logged(log, Some(follow)) => {
                    held.lock().unwrap_or_else(|e| e.into_inner()).push(Held {
                        index,
                        log,
                        follow: *follow,
                    });
                    true
                }
            };
            if let Some(done) = recorded.get(index) {
                done.store(true, Ordering::SeqCst);
            }
            self.progress.step_done(1);
            if !written {
                return;
            }
        }
    }

    /// Runs `step` on every held user, `concurrency` users at a time, taking
    /// them from the end of `held`; the users come back in the order they
    /// finished. A worker that panics (a bug) is logged as a `what` worker
    /// and its user is not given back.
    async fn each_held<F, Fut>(self: &Arc<Self>, held: Vec<Held>, what: &str, step: F) -> Vec<Held>
    where
        F: Fn(Arc<Engine>, Held) -> Fut + Clone + Send + 'static,
        Fut: std::future::Future<Output = Held> + Send + 'static,
    {
        let queue = Arc::new(Mutex::new(held));
        let done = Arc::new(Mutex::new(Vec::new()));
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..self.concurrency.max(1) {
            let (this, queue, done, step) = (
                Arc::clone(self),
                Arc::clone(&queue),
                Arc::clone(&done),
                step.clone(),
            );
            set.spawn(async move {
                loop {
                    let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop();
                    let Some(h) = next else { return };
                    let h = step(Arc::clone(&this), h).await;
                    done.lock().unwrap_or_else(|e| e.into_inner()).push(h);
                }
            });
        }
        while let Some(joined) = set.join_next().await {
            if let Err(e) = joined {
                tracing::error!(error = %e, "a {what} worker failed (a bug)");
            }
        }
        let mut done = done.lock().unwrap_or_else(|e| e.into_inner());
        std::mem::take(&mut *done)
    }

    /// Queues one result; false when the results file broke (the run stops).
    pub fn record(&self, job: &Job, outcome: Outcome) -> bool {
        tracing::debug!(
            line = job.line,
            email = %job.email,
            outcome = outcome.status.as_str(),
            status = outcome.http_status,
            code = outcome.error_code.as_deref().unwrap_or(""),
            user_id = outcome.user_id.as_deref().unwrap_or(""),
            changes = %outcome.changes,
            "row"
        );
        self.results.send(Record {
            line: job.line,
            email: job.email.clone(),
            name: job.name.clone(),
            outcome,
        })
    }
}

/// Sends a batch across users; when it is refused in a way one member may
/// cause (`splits`), sends each half again until the refusal is pinned on
/// the members at fault, so only their rows fail. One answer per id, in
/// order; nothing more is sent once the run is stopping. A batch of n costs
/// at most about 2·log2(n) extra requests per member at fault.
pub(crate) async fn isolating<S, F, Fut>(
    ids: &[String],
    splits: S,
    stop: &Stop,
    send: F,
) -> Vec<Result<(), crate::genesys::CallError>>
where
    S: Fn(&crate::genesys::CallError) -> bool,
    F: Fn(Vec<String>) -> Fut,
    Fut: std::future::Future<Output = Result<(), crate::genesys::CallError>>,
{
    use crate::genesys::CallError;
    let mut answers: Vec<Result<(), CallError>> = vec![Err(CallError::Stopped); ids.len()];
    let mut pending: Vec<std::ops::Range<usize>> = Vec::new();
    pending.push(0..ids.len());
    while let Some(range) = pending.pop() {
        if range.is_empty() || stop.is_raised() {
            continue;
        }
        match send(ids[range.clone()].to_vec()).await {
            Err(e) if range.len() > 1 && splits(&e) && !stop.is_raised() => {
                tracing::info!(members = range.len(), error = %e, "a batch was refused; splitting it to find the member at fault");
                let middle = range.start + range.len() / 2;
                // Popped last-in first: the first half goes first.
                pending.push(middle..range.end);
                pending.push(range.start..middle);
            }
            sent => {
                for answer in &mut answers[range] {
                    *answer = sent.clone();
                }
            }
        }
    }
    answers
}
