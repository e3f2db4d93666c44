//! Why this exists: the run's side of the permission check. After the
//! read-only preflight and before the first write, it learns what the
//! client may do (a handful of requests, never one per row), fails the rows
//! it cannot finish, and says once what it could not check.

use crate::access::model::Source;
use crate::access::{self, Check};
use crate::genesys::Client;
use crate::plan::Job;

/// What the permission preflight found, for the summary and the log.
#[derive(Debug, Clone, Default)]
pub struct Preflight {
    pub check: Check,
    /// Whether the client's access was read at all.
    pub known: bool,
}

/// Checks every row's plan against what the client holds; `client_id`
/// is the fallback when `tokens/me` does not name the client.
pub async fn run(client: &Client, client_id: &str, jobs: &mut [Job]) -> Preflight {
    let wanted = access::needs_of(jobs);
    if wanted.is_empty() {
        return Preflight::default();
    }
    let discovery = access::discover::discover(client, client_id, &wanted, false).await;
    if discovery.access.source == Source::None {
        tracing::warn!(
            reasons = %discovery.gaps.join("; "),
            "permission preflight: Genesys would not say what this client may do, so nothing was checked; the run goes on as before (a 403 fails only what it refuses)"
        );
        return Preflight::default();
    }
    let queues = access::queue_divisions(client, jobs, &discovery).await;
    let check = access::check(jobs, &discovery, &queues);
    if !check.unknown.is_empty() {
        tracing::info!(
            not_checked = %check.unknown.iter().cloned().collect::<Vec<_>>().join("; "),
            "permission preflight: some permissions could not be checked"
        );
    }
    if !check.missing.is_empty() {
        let missing: Vec<String> = check
            .missing
            .iter()
            .map(|(what, rows)| format!("{what} ({rows} rows)"))
            .collect();
        tracing::warn!(
            missing = %missing.join("; "),
            rows = check.rows_failed,
            "permission preflight: rows failed before any write"
        );
    } else {
        tracing::info!("permission preflight: the client holds what every row needs");
    }
    Preflight { check, known: true }
}

/// Genesys' 403 codes for a permission the caller lacks.
const REFUSED: &[&str] = &[
    "missing.permissions",
    "missing.any.permissions",
    "missing.division.permission",
    "missing.division.permissions",
    "missing.any.division.permissions",
    "missing.division.permission.implied",
    "bulk.move.no.permission.division",
    "insufficient.permissions",
    "not.authorized",
    "authz.policy.denied",
];

/// After the run: rows refused with 403 although the preflight found the
/// permissions held are said once (deny policies, a recent change, or a
/// rule the API description does not list).
pub fn after_run(preflight: &Preflight, error_codes: &[(String, u64)]) {
    if !preflight.known {
        return;
    }
    let refused: Vec<String> = error_codes
        .iter()
        .filter(|(code, _)| REFUSED.contains(&code.as_str()))
        .map(|(code, rows)| format!("{code} ({rows} rows)"))
        .collect();
    if !refused.is_empty() {
        tracing::warn!(
            refused = %refused.join(", "),
            "Genesys refused writes the permission preflight thought the client could make (a deny policy, a permission changed in the last minutes, or a rule the API description does not list)"
        );
    }
}
