//! Why this exists: the phases of a run after the preflight. Workers carry
//! out each row's own steps under one pacer (ensure the user: create,
//! restore, update); a barrier waits for every row; then the follow-ups
//! that batch across users (division moves) run; every row is written once,
//! as soon as it is final. A worker that dies (a bug) does not lose its row.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::apply::{error_failure, Applied, Applier, PendingMove};
use crate::error::StopReason;
use crate::genesys::authorization::MOVE_BATCH;
use crate::genesys::CallError;
use crate::plan::{Change, Field, Job, Plan, RowLog};
use crate::report::{Outcome, Record, ResultsSender, Status};
use crate::stop::Stop;

/// A row whose last step waits for the barrier.
struct Held {
    index: usize,
    log: RowLog,
    pending: PendingMove,
}

pub struct Engine {
    pub applier: Applier,
    pub results: ResultsSender,
    pub stop: Stop,
    /// Test hook: panic on this line (see `Config::panic_on_line`).
    pub panic_on_line: Option<u64>,
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
        self.move_divisions(&jobs, held).await;
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
                    Plan::Create { user, division_id } => {
                        self.applier.create(job, user, division_id.as_deref()).await
                    }
                    Plan::Update {
                        user,
                        existing,
                        restore,
                        division,
                        ..
                    } => {
                        self.applier
                            .update(user, (**existing).clone(), *restore, division.as_ref())
                            .await
                    }
                }
            };
            let written = match applied {
                Applied::Done(outcome) => self.record(job, outcome),
                Applied::Logged(log, None) => self.record(job, log.outcome()),
                Applied::Logged(log, Some(pending)) => {
                    held.lock().unwrap_or_else(|e| e.into_inner()).push(Held {
                        index,
                        log,
                        pending,
                    });
                    true
                }
            };
            if let Some(done) = recorded.get(index) {
                done.store(true, Ordering::SeqCst);
            }
            if !written {
                return;
            }
        }
    }

    /// Division moves, one request per target division and batch of users.
    async fn move_divisions(&self, jobs: &[Job], held: Vec<Held>) {
        let mut by_division: BTreeMap<String, Vec<Held>> = BTreeMap::new();
        for h in held {
            by_division
                .entry(h.pending.division.id.clone())
                .or_default()
                .push(h);
        }
        for (division_id, rows) in by_division {
            let mut rows = rows;
            while !rows.is_empty() {
                let mut batch: Vec<Held> = rows.drain(..rows.len().min(MOVE_BATCH)).collect();
                let ids: Vec<String> = batch.iter().map(|h| h.pending.user_id.clone()).collect();
                let moved = if self.stop.is_raised() {
                    Err(CallError::Stopped)
                } else {
                    self.applier.client.move_users(&division_id, &ids).await
                };
                for h in &mut batch {
                    match &moved {
                        Ok(()) => h.log.done.push(Change::Field(Field::Division)),
                        Err(CallError::Stopped) => {
                            h.log.stopped_before.push(Change::Field(Field::Division))
                        }
                        Err(e) => h.log.fail(error_failure(
                            e,
                            &format!("moving the user to division `{}`", h.pending.division.name),
                        )),
                    }
                }
                for h in batch {
                    if let Some(job) = jobs.get(h.index) {
                        if !self.record(job, h.log.outcome()) {
                            return;
                        }
                    }
                }
            }
        }
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
