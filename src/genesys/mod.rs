//! Why this exists: all Genesys traffic goes through one `Client`; it sees no rows, no `Config`.
//!
//! `Client::call` (in `call.rs`) paces each request, authenticates it,
//! retries what is safe to retry, and hands back a reply or a classified
//! failure (`reply.rs`). The endpoints live beside it, one file per resource
//! (see docs/genesys-api.md); none of them knows about
//! CSV rows.

pub mod access;
pub mod authorization;
mod call;
pub mod catalog;
pub mod checks;
pub mod directory;
pub mod licences;
pub mod lists;
pub mod pages;
pub mod phones;
pub mod pool;
pub mod provisioning;
pub mod queues;
pub mod removals;
mod reply;
pub mod token;
pub mod users;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use reqwest::Method;
use serde::Deserialize;
use tokio::time::Instant;

use crate::pacing::RetryPolicy;
use crate::stats::Stats;
use crate::stop::Stop;
use pool::TokenPool;

pub use call::Safety;
pub use reply::{api_failure, CallError, Reply};
pub(crate) use reply::{is_bad_request, Listing};

pub struct Client {
    http: reqwest::Client,
    api: String,
    pool: TokenPool,
    policy: RetryPolicy,
    stats: Arc<Stats>,
    stop: Stop,
    /// Set once search has refused the state criterion.
    pub(crate) plain_search: AtomicBool,
    paging: pages::Paging,
}

impl Client {
    pub fn new(
        http: reqwest::Client,
        api_base: &str,
        pool: TokenPool,
        policy: RetryPolicy,
        stats: Arc<Stats>,
        stop: Stop,
    ) -> Client {
        Client {
            http,
            api: api_base.to_string(),
            pool,
            policy,
            stats,
            stop,
            plain_search: AtomicBool::new(false),
            paging: pages::Paging::default(),
        }
    }

    /// The same client with other page sizes and caps (tests, benchmarks).
    pub fn with_paging(mut self, paging: pages::Paging) -> Client {
        self.paging = paging;
        self
    }

    pub fn paging(&self) -> pages::Paging {
        self.paging
    }

    /// A token, unless the run is stopped first (a renewal may back off
    /// for minutes; Ctrl-C must not wait for it).
    pub async fn authenticate(&self) -> Result<(), CallError> {
        self.bearer(0).await.map(drop)
    }

    async fn bearer(&self, token: usize) -> Result<token::Bearer, CallError> {
        tokio::select! {
            bearer = self.pool.auth(token).bearer() => bearer.map_err(CallError::from),
            _ = self.stop.raised() => Err(CallError::Stopped),
        }
    }

    pub(crate) fn stop(&self) -> &Stop {
        &self.stop
    }

    /// When the pacers would next let a request go.
    pub fn next_grant(&self) -> Instant {
        self.pool.next_grant()
    }

    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    pub(crate) async fn get_json<T: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, CallError> {
        let reply = self
            .call(Method::GET, path, query, None, Safety::Retryable)
            .await?;
        if !reply.is_success() {
            return Err(api_failure(&reply));
        }
        reply.json()
    }
}
