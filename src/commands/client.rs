//! Why this exists: the one place the connection settings become a Genesys
//! client (HTTP settings, token sources, pacers); the Genesys layer never
//! sees the configuration.

use std::sync::Arc;
use std::time::Duration;

use crate::config::Connect;
use crate::error::{ConfigError, Error};
use crate::stats::Stats;
use crate::stop::Stop;
use crate::{genesys, pacing};

pub(crate) fn build_client(
    config: &Connect,
    stats: Arc<Stats>,
    stop: Stop,
) -> Result<genesys::Client, Error> {
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
            suggest_dry_run: false,
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
    )
    .with_paging(config.paging))
}

/// How long a check of a lost create waits for others to share its search.
pub(crate) const CHECK_GATHER: Duration = Duration::from_secs(1);
