//! Why this exists: `--tokens N` needs N tokens of one client, each obtained and renewed alone.
//!
//! See `pacing::Spread` for how requests are spread over them.

use tokio::time::Instant;

use crate::pacing::{Answer, Pacer, Permit, Spread};

use super::token::TokenSource;

pub struct TokenPool {
    auth: Vec<TokenSource>,
    spread: Spread,
}

impl TokenPool {
    /// One token source per pacer; at least one of each.
    pub fn new(auth: Vec<TokenSource>, spread: Spread) -> TokenPool {
        TokenPool { auth, spread }
    }

    pub fn auth(&self, index: usize) -> &TokenSource {
        &self.auth[index.min(self.auth.len() - 1)]
    }

    pub fn pacer(&self, index: usize) -> &Pacer {
        self.spread.pacer(index)
    }

    /// Waits until a token may send; returns its index and permit (see
    /// `Spread::acquire` for `refused`).
    pub async fn acquire(&self, refused: Option<(usize, Instant)>) -> (usize, Permit) {
        self.spread.acquire(refused).await
    }

    pub fn next_grant(&self) -> Instant {
        self.spread.next_grant()
    }

    pub fn observed(&self, index: usize, answer: Answer) {
        self.spread.observed(index, answer)
    }
}
