//! Why this exists: the licence preview's questions to Genesys (the default
//! role, `infer` once per distinct role set, the licences' names), asked
//! read-only after the preflight; the counting itself is `plan::licences`.

use std::collections::{BTreeSet, HashMap};

use crate::genesys::licences::LicenceError;
use crate::genesys::Client;
use crate::plan::licences::{changes_of, distinct_sets, tally, Impact, RoleChange, RoleSet};
use crate::plan::{Job, Plan};

/// Asks Genesys what the planned role changes do to licences: the default
/// role (when users are created), `infer` once per distinct role set, and
/// the names. Nothing is asked when no user's roles change. A refusal is a
/// warning naming the permission; the run goes on.
pub async fn preview(client: &Client, jobs: &[Job]) -> Option<Impact> {
    let creates = jobs.iter().any(|j| matches!(j.plan, Plan::Create { .. }));
    let default_roles: RoleSet = if creates {
        match client.default_role_ids().await {
            Ok(ids) => ids.into_iter().collect(),
            Err(e) => {
                tracing::warn!(error = %e, "licences: the org's default role could not be read (the OAuth client needs the permission `authorization:role:view`); new users are counted with their rows' roles only");
                RoleSet::new()
            }
        }
    } else {
        RoleSet::new()
    };
    let changes = changes_of(jobs, &default_roles);
    if !changes.iter().any(RoleChange::changes) {
        return None;
    }
    let sets = distinct_sets(&changes);
    let mut inferred: HashMap<RoleSet, BTreeSet<String>> = HashMap::new();
    for set in &sets {
        let roles: Vec<String> = set.iter().cloned().collect();
        match client.infer_licences(&roles).await {
            Ok(licences) => {
                inferred.insert(set.clone(), licences.into_iter().collect());
            }
            Err(e) => {
                warn(&e, "the licence preview was skipped");
                return None;
            }
        }
    }
    let mut impact = tally(&changes, &inferred);
    impact.role_sets = sets.len() as u64;
    if !impact.gained.is_empty() || !impact.lost.is_empty() {
        match client.licence_definitions().await {
            Ok(definitions) => {
                impact.names = definitions
                    .into_iter()
                    .filter_map(|d| {
                        let name = d.description.filter(|n| !n.trim().is_empty())?;
                        Some((d.id, name.trim().to_string()))
                    })
                    .collect();
            }
            Err(e) => warn(&e, "licences are shown by id"),
        }
    }
    tracing::info!(
        users = impact.users,
        role_sets = impact.role_sets,
        "preflight: licences inferred"
    );
    Some(impact)
}

fn warn(error: &LicenceError, consequence: &str) {
    // Ctrl-C: the run says so itself.
    if let LicenceError::Failed {
        error: crate::genesys::CallError::Stopped,
        ..
    } = error
    {
        return;
    }
    tracing::warn!("licences: {error}; {consequence}");
}
