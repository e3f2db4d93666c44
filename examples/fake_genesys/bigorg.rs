//! Big orgs in the fake: indexes (by id, email, state) so an org of
//! 100,000 users answers searches and listings at full speed, seeding of
//! such an org, and the results cap Genesys applies to inactive listings
//! and to search paging (10,000; tests lower it to stay small).
//!
//! The index is rebuilt when the users list or the writes count changed
//! since it was built (every change through the API is a write); each hit
//! is checked against the user it points to, and `user_by_id` falls back
//! to a scan on a miss, so a stale index can never answer wrongly there.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};

use super::{FakeUser, State};

/// Big-org state of the fake.
#[derive(Debug, Clone)]
pub struct BigOrg {
    /// Results an inactive listing or a search pages through at most.
    pub results_cap: usize,
    /// Searches on `divisionId` (the export's route past the cap).
    pub division_searches: u64,
    /// `GET /api/v2/users` pages by state (`any` included).
    pub pages_by_state: HashMap<String, u64>,
    /// Requests being answered now, and the most there ever were at once.
    in_flight: Arc<AtomicUsize>,
    pub max_in_flight: Arc<AtomicUsize>,
    stamp: (usize, u64),
    by_id: HashMap<String, usize>,
    by_email: HashMap<String, Vec<usize>>,
    by_state: HashMap<String, Vec<usize>>,
}

impl Default for BigOrg {
    fn default() -> Self {
        BigOrg {
            results_cap: 10_000,
            division_searches: 0,
            pages_by_state: HashMap::new(),
            in_flight: Arc::default(),
            max_in_flight: Arc::default(),
            stamp: (usize::MAX, 0),
            by_id: HashMap::new(),
            by_email: HashMap::new(),
            by_state: HashMap::new(),
        }
    }
}

impl State {
    /// Rebuilds the indexes if the users may have changed since.
    pub fn refresh_index(&mut self) {
        let stamp = (self.users.len(), self.writes());
        if self.big.stamp == stamp {
            return;
        }
        let big = &mut self.big;
        big.by_id.clear();
        big.by_email.clear();
        big.by_state.clear();
        for (i, u) in self.users.iter().enumerate() {
            big.by_id.insert(u.id.clone(), i);
            big.by_email
                .entry(u.email.to_lowercase())
                .or_default()
                .push(i);
            big.by_state.entry(u.state.clone()).or_default().push(i);
        }
        big.stamp = stamp;
    }

    /// The user with this id, by the index when it knows it.
    pub(super) fn indexed_user(&self, id: &str) -> Option<&FakeUser> {
        self.big
            .by_id
            .get(id)
            .and_then(|&i| self.users.get(i))
            .filter(|u| u.id == id)
            .or_else(|| self.users.iter().find(|u| u.id == id))
    }

    /// Seeds `count` users: `inactive` of them inactive, spread over the
    /// divisions, each with a title and an employee id (`E<n>`).
    pub fn seed_users(&mut self, count: usize, inactive: usize, prefix: &str) {
        let divisions: Vec<String> = self.divisions.iter().map(|(id, _)| id.clone()).collect();
        for n in 0..count {
            let state = if n < inactive { "inactive" } else { "active" };
            let email = format!("{prefix}{n:06}@big.example.com");
            let id = self.add_user(&email, &format!("User {prefix}{n:06}"), state);
            if let Some(user) = self.users.last_mut() {
                user.division_id = divisions[n % divisions.len()].clone();
                user.profile.insert("title".into(), json!("Agent"));
                user.profile.insert(
                    "employerInfo".into(),
                    json!({"employeeId": format!("E{n}")}),
                );
            }
            let _ = id;
        }
    }
}

impl State {
    /// Grants these roles (by name) in the home division to every user,
    /// as if done before the run (the `authorization` expand shows them).
    pub fn seed_roles_to_all(&mut self, roles: &[&str]) {
        let ids: Vec<String> = roles
            .iter()
            .map(|name| {
                self.roles
                    .iter()
                    .find(|(_, n)| n == name)
                    .map(|(id, _)| id.clone())
                    .expect("a seeded role")
            })
            .collect();
        let home = super::HOME_DIVISION.to_string();
        for user in &mut self.users {
            let grants = self.grants.entry(user.id.clone()).or_default();
            for id in &ids {
                if !grants.iter().any(|(r, d)| r == id && *d == home) {
                    grants.push((id.clone(), home.clone()));
                }
            }
            let mut held: Vec<&String> = grants.iter().map(|(r, _)| r).collect();
            held.sort();
            held.dedup();
            let held: Vec<Value> = held.into_iter().map(|id| json!({"id": id})).collect();
            user.profile
                .insert("authorization".into(), json!({"roles": held}));
        }
    }
}

/// The users a search may match: those holding one of an `email`
/// criterion's values (by the index), else every user.
pub(super) fn candidates<'a>(
    users: &'a [FakeUser],
    big: &BigOrg,
    criteria: &[Value],
) -> Vec<&'a FakeUser> {
    let emails = criteria
        .iter()
        .find(|c| c["fields"][0] == "email" && c["type"] == "EXACT")
        .and_then(|c| c["values"].as_array());
    let Some(emails) = emails else {
        return users.iter().collect();
    };
    let mut found: Vec<usize> = emails
        .iter()
        .filter_map(|v| v.as_str())
        .filter_map(|e| big.by_email.get(&e.to_lowercase()))
        .flatten()
        .copied()
        .collect();
    found.sort_unstable();
    found.dedup();
    found.iter().filter_map(|&i| users.get(i)).collect()
}

/// The users in `state` (`any`: all), in the order they were added.
pub(super) fn in_state<'a>(users: &'a [FakeUser], big: &BigOrg, state: &str) -> Vec<&'a FakeUser> {
    if state == "any" {
        return users.iter().collect();
    }
    big.by_state
        .get(state)
        .into_iter()
        .flatten()
        .filter_map(|&i| users.get(i))
        .filter(|u| u.state == state)
        .collect()
}

/// A search page past the results cap: refused, as Genesys does.
pub(super) fn past_cap(big: &BigOrg, page_number: usize, page_size: usize) -> bool {
    page_number.saturating_sub(1) * page_size >= big.results_cap
}

/// Counts a request in flight while it lives.
pub(super) struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    pub(super) fn enter(big: &BigOrg) -> InFlight {
        let now = big.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        big.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(Arc::clone(&big.in_flight))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
