//! Why this exists: Genesys applies its rate limit per access token
//! (`client.credentials.token.rate.per.minute`, docs/genesys-api.md#rate-limits-and-429),
//! so `--tokens N` spreads requests over N tokens of the same client, each
//! paced by its own `Pacer`; this picks the token for each request. Whether
//! the limit really is per token is not documented for every org, so it is
//! tested once: when
//! the first token is first refused (429), one request goes out on a second
//! token. Accepted: the limit is per token, and every token is used, each
//! starting from what the first learned. Refused: the limit is the client's,
//! and only the first token is used from then on, so the pool never
//! multiplies 429s.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::{Answer, Pacer, Permit};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sharing {
    /// No 429 yet on the first token: only it is used.
    Unknown,
    /// The test request is out on the second token.
    Testing,
    PerToken,
    PerClient,
}

pub struct Spread {
    pacers: Vec<Arc<Pacer>>,
    sharing: Mutex<Sharing>,
    /// Where the next search for a free token starts (round robin).
    turn: AtomicUsize,
    /// Fired when the sharing is settled: waiting requests choose again.
    changed: Notify,
}

/// How often a request waiting on one token looks again at the others.
const RECHOOSE: Duration = Duration::from_millis(100);

impl Spread {
    /// One pacer per token; at least one.
    pub fn new(pacers: Vec<Arc<Pacer>>) -> Spread {
        Spread {
            pacers,
            sharing: Mutex::new(Sharing::Unknown),
            turn: AtomicUsize::new(0),
            changed: Notify::new(),
        }
    }

    /// Waits until some token may send; returns it and its permit. A
    /// request waiting on one token moves to another that frees up first.
    /// `refused`: this request's last 429, on that token, until then: it
    /// goes again no sooner on that token (nor on any, unless the limit is
    /// known to be per token).
    pub async fn acquire(&self, refused: Option<(usize, Instant)>) -> (usize, Permit) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let spread = *self.sharing() == Sharing::PerToken;
            let now = Instant::now();
            let held = refused.filter(|(_, until)| *until > now);
            let token = match held {
                Some((avoid, until)) => match self.choose_except(Some(avoid)) {
                    // No other token may take it (yet): wait out the 429.
                    token if token == avoid => {
                        tokio::select! {
                            _ = tokio::time::sleep_until(until) => {}
                            _ = changed => {}
                        }
                        continue;
                    }
                    token => token,
                },
                None => self.choose(),
            };
            tokio::select! {
                permit = self.pacer(token).acquire() => return (token, permit),
                _ = changed => {}
                _ = tokio::time::sleep(RECHOOSE), if spread => {}
            }
        }
    }

    fn sharing(&self) -> std::sync::MutexGuard<'_, Sharing> {
        self.sharing.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn pacer(&self, index: usize) -> &Arc<Pacer> {
        &self.pacers[index.min(self.pacers.len() - 1)]
    }

    /// The token the next request goes out with.
    fn choose(&self) -> usize {
        self.choose_except(None)
    }

    fn choose_except(&self, avoid: Option<usize>) -> usize {
        if self.pacers.len() < 2 {
            return 0;
        }
        let mut sharing = self.sharing();
        match *sharing {
            Sharing::Unknown if !self.pacers[0].is_learning() => {
                *sharing = Sharing::Testing;
                1
            }
            Sharing::Unknown | Sharing::Testing | Sharing::PerClient => 0,
            Sharing::PerToken => {
                drop(sharing);
                let first = &self.pacers[0];
                for pacer in &self.pacers[1..] {
                    pacer.adopt(first);
                }
                // The token that can send soonest, starting from the next
                // in turn so that ties spread evenly.
                let start = self.turn.fetch_add(1, Ordering::Relaxed);
                let n = self.pacers.len();
                (0..n)
                    .map(|k| (start + k) % n)
                    .filter(|i| Some(*i) != avoid || n < 2)
                    .min_by_key(|i| self.pacers[*i].next_grant())
                    .unwrap_or(0)
            }
        }
    }

    /// When the soonest token may send again (a search can wait that long
    /// for company at no cost).
    pub fn next_grant(&self) -> Instant {
        let in_use = if *self.sharing() == Sharing::PerToken {
            self.pacers.len()
        } else {
            1
        };
        self.pacers[..in_use]
            .iter()
            .map(|p| p.next_grant())
            .min()
            .unwrap_or_else(Instant::now)
    }

    /// What the answer to a request on token `index` says of the sharing.
    pub fn observed(&self, index: usize, answer: Answer) {
        let mut sharing = self.sharing();
        if *sharing != Sharing::Testing || index != 1 {
            return;
        }
        self.changed.notify_waiters();
        *sharing = match answer {
            Answer::Accepted => {
                tracing::info!(
                    tokens = self.pacers.len(),
                    "the rate limit is per token: spreading requests over the tokens"
                );
                Sharing::PerToken
            }
            Answer::Throttled { wait, .. } => {
                // The first token shares that window: it waits as long.
                self.pacers[0].hold(wait);
                tracing::info!("the rate limit is shared by the client's tokens: using one token");
                Sharing::PerClient
            }
            Answer::Unknown => Sharing::Unknown,
        };
    }
}
