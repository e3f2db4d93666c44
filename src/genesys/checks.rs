//! Why this exists: a create whose answer was lost is checked by email, never blindly resent.
//!
//! Lost answers come in bursts (a flaky minute, a dropped connection pool),
//! and each check is a search that costs the org's rate limit, so checks
//! that come close together share one search: the first waits a moment for
//! others, then one request answers them all.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{oneshot, Notify};

use super::users::{SearchKey, User, SEARCH_BATCH};
use super::{CallError, Client};

type Reply = oneshot::Sender<Result<Option<User>, CallError>>;

pub struct EmailChecks {
    client: Arc<Client>,
    /// How long the first check waits for others.
    gather: Duration,
    pending: Mutex<Vec<(String, Reply)>>,
    full: Notify,
}

impl EmailChecks {
    pub fn new(client: Arc<Client>, gather: Duration) -> Arc<EmailChecks> {
        Arc::new(EmailChecks {
            client,
            gather,
            pending: Mutex::new(Vec::new()),
            full: Notify::new(),
        })
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, Vec<(String, Reply)>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The user with this email (a live one before a deleted one), found
    /// by a search shared with the checks that arrive meanwhile.
    pub async fn find(self: &Arc<Self>, email: &str) -> Result<Option<User>, CallError> {
        let (reply, answer) = oneshot::channel();
        let (first, full) = {
            let mut pending = self.pending();
            pending.push((email.to_string(), reply));
            (pending.len() == 1, pending.len() >= SEARCH_BATCH)
        };
        if full {
            self.full.notify_one();
        }
        if first {
            // A task of its own, so that a caller that gives up (Ctrl-C)
            // does not strand the others.
            let checks = Arc::clone(self);
            tokio::spawn(async move { checks.search_after_gathering().await });
        }
        answer.await.unwrap_or(Err(CallError::Stopped))
    }

    async fn search_after_gathering(&self) {
        // While the rate limit holds every request back anyway, waiting
        // costs nothing: gather until then, or for `gather` at least.
        let until = (tokio::time::Instant::now() + self.gather).max(self.client.next_grant());
        tokio::select! {
            _ = tokio::time::sleep_until(until) => {}
            _ = self.full.notified() => {}
            // The search then answers `Stopped` to everyone at once.
            _ = self.client.stop().raised() => {}
        }
        loop {
            let batch: Vec<(String, Reply)> = {
                let mut pending = self.pending();
                let take = pending.len().min(SEARCH_BATCH);
                pending.drain(..take).collect()
            };
            if batch.is_empty() {
                return;
            }
            let mut emails: Vec<String> = batch.iter().map(|(e, _)| e.to_lowercase()).collect();
            emails.sort();
            emails.dedup();
            tracing::debug!(emails = emails.len(), "checking lost creates by email");
            let search = self.client.search_users(SearchKey::Email, &emails).await;
            for (email, reply) in batch {
                let answer = match &search {
                    Ok(search) => search.answer_for(&email),
                    Err(e) => Err(e.clone()),
                };
                let _ = reply.send(answer);
            }
        }
    }
}
