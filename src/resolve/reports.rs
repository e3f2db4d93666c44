//! Why this exists: deleting a user that others have as their manager
//! leaves them with a deleted manager, and Genesys says nothing. The
//! preflight finds them (a users search on `manager.id`, 50 ids a request:
//! developer.genesys.cloud/organization/search/search-limits) and the
//! deletion row's message names them, unless this file deletes them too or
//! gives them a manager.

use std::collections::{HashMap, HashSet};

use crate::genesys::users::{SearchKey, SEARCH_BATCH};
use crate::genesys::{CallError, Client};
use crate::input::Cell;
use crate::plan::{Job, Plan};

/// Adds to each deletion row's notes the users whose manager it deletes.
pub(super) async fn name_reports(client: &Client, jobs: &mut [Job]) -> Result<(), CallError> {
    let mut deleted: HashMap<String, usize> = HashMap::new();
    // Users this file deletes or gives a manager (or none): their rows see to them.
    let mut seen_to: HashSet<String> = HashSet::new();
    for (index, job) in jobs.iter().enumerate() {
        if let Plan::Update {
            existing,
            provision,
            user,
            ..
        } = &job.plan
        {
            if provision.removals.delete_user {
                deleted.insert(existing.id.clone(), index);
                seen_to.insert(existing.id.clone());
            } else if user.manager != Cell::Blank {
                seen_to.insert(existing.id.clone());
            }
        }
    }
    if deleted.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = deleted.keys().cloned().collect();
    let mut reports: HashMap<usize, Vec<String>> = HashMap::new();
    for batch in ids.chunks(SEARCH_BATCH) {
        let search = client.search_users(SearchKey::ManagerId, batch).await?;
        for report in search.found {
            let manager = report.manager.as_ref().map(|m| m.id.as_str());
            let Some(&index) = manager.and_then(|m| deleted.get(m)) else {
                continue;
            };
            if report.is_deleted() || seen_to.contains(&report.id) {
                continue;
            }
            let who = report.email.clone().unwrap_or_else(|| report.id.clone());
            reports.entry(index).or_default().push(who);
        }
    }
    for (index, mut who) in reports {
        who.sort();
        who.dedup();
        if let Plan::Update { provision, .. } = &mut jobs[index].plan {
            provision.removals.kept.push(format!(
                "the manager of {}: they keep a deleted manager until given another",
                who.join(", ")
            ));
        }
    }
    Ok(())
}
