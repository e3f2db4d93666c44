//! Why this exists: what existing users hold that their search result
//! cannot show (the division of a role they hold, queue memberships), read
//! once for every row that needs it. A read that concerns one row fails
//! that row, never the run.

use std::collections::{HashMap, HashSet};

use crate::genesys::provisioning::Grant;
use crate::genesys::{CallError, Client};
use crate::plan::{failed_outcome, Member, Outcome, Wanted};

/// One existing user whose steps are worked out, and what its row wants.
pub(crate) struct Subject {
    pub user_id: String,
    /// Its grants must be read: it holds a role the row names somewhere.
    pub needs_grants: bool,
    pub queues: Vec<String>,
}

impl Subject {
    pub(crate) fn new(user_id: &str, needs_grants: bool, wanted: &Wanted) -> Subject {
        Subject {
            user_id: user_id.to_string(),
            needs_grants,
            queues: wanted.queues.iter().map(|q| q.id.clone()).collect(),
        }
    }
}

/// The reads, each with its own answer.
#[derive(Default)]
pub(crate) struct Holdings {
    pub(crate) grants: HashMap<String, Vec<Grant>>,
    grant_errors: HashMap<String, CallError>,
    pub members: HashMap<String, HashSet<String>>,
    member_errors: HashMap<String, CallError>,
}

/// Errors that concern the run, not a row: a stop, the token, a missing
/// permission (every row would fail the same way; exit 77 says it once).
pub(crate) fn ends_run(error: &CallError) -> bool {
    matches!(
        error,
        CallError::Stopped
            | CallError::Auth(_)
            | CallError::Unauthorized(_)
            | CallError::Rejected { status: 403, .. }
    )
}

/// A refused read of one queue's members concerns that queue (the rows
/// that name it), not the run: only a stop or the token ends it.
pub(crate) fn ends_run_for_queue(error: &CallError) -> bool {
    ends_run(error) && !matches!(error, CallError::Rejected { status: 403, .. })
}

impl Holdings {
    /// Reads the grants of each subject that needs them (one request a
    /// user, as the update path always did; the users `--exact` read are
    /// left out, their subjects saying they need none: see
    /// `movers::Exact::add_grants`) and the members of every queue a
    /// subject's row names (one paged read a queue).
    pub(crate) async fn read(client: &Client, subjects: &[Subject]) -> Result<Holdings, CallError> {
        let mut holdings = Holdings::default();
        let mut queue_ids: Vec<&str> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        for subject in subjects {
            if subject.needs_grants
                && !holdings.grants.contains_key(&subject.user_id)
                && !holdings.grant_errors.contains_key(&subject.user_id)
            {
                match client.grants(&subject.user_id).await {
                    Ok(grants) => {
                        holdings.grants.insert(subject.user_id.clone(), grants);
                    }
                    Err(e) if ends_run(&e) => return Err(e),
                    Err(e) => {
                        tracing::warn!(user = %subject.user_id, error = %e, "preflight: a user's grants could not be read; its row fails");
                        holdings.grant_errors.insert(subject.user_id.clone(), e);
                    }
                }
            }
            for queue in &subject.queues {
                if seen.insert(queue) {
                    queue_ids.push(queue);
                }
            }
        }
        for queue_id in queue_ids {
            match client.queue_members(queue_id).await {
                Ok(ids) => {
                    holdings
                        .members
                        .insert(queue_id.to_string(), ids.into_iter().collect());
                }
                Err(e) if ends_run_for_queue(&e) => return Err(e),
                Err(e) => {
                    tracing::warn!(queue = %queue_id, error = %e, "preflight: a queue's members could not be read; the rows that name it fail");
                    holdings.member_errors.insert(queue_id.to_string(), e);
                }
            }
        }
        Ok(holdings)
    }

    /// The grants read for a user (`None`: not read, as it needed none).
    pub(crate) fn grants(&self, user_id: &str) -> Option<&[Grant]> {
        self.grants.get(user_id).map(Vec::as_slice)
    }

    /// Why this user's steps cannot be worked out (a read its row needs
    /// failed), as the row's outcome.
    pub(crate) fn failure(&self, user_id: &str, queues: &[Member]) -> Option<Outcome> {
        if let Some(error) = self.grant_errors.get(user_id) {
            return Some(failed_outcome(
                error,
                "reading the user's role grants failed, so nothing was sent for this row",
            ));
        }
        queues.iter().find_map(|q| {
            self.member_errors.get(&q.id).map(|error| {
                failed_outcome(
                    error,
                    &format!(
                        "reading the members of queue {} failed, so nothing was sent for this row",
                        q.name
                    ),
                )
            })
        })
    }
}
