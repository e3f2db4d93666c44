//! Why this exists: Genesys assigns licences from roles, and an admin
//! importing 300 agents wants to see, before anything is written, which
//! licences the file gives and takes (docs/provisioning.md#licences).
//!
//! Each planned user has a role set before its row and one after (before,
//! minus what the row removes, plus what it adds). Genesys is asked which
//! licences a role set implies once per distinct set, and the summary says
//! per licence how many users gain it (`+N`) and lose it (`-N`). These are
//! licences assigned, not a bill: Genesys bills logins (docs/genesys-api.md#licences).
//!
//! Pure: the questions to Genesys are asked by `resolve::licences`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::plan::{Job, Plan};

/// Role ids (sorted, so equal sets compare and hash equal).
pub type RoleSet = BTreeSet<String>;

/// One user's roles before its row, and what the row does to them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleChange {
    pub before: RoleSet,
    pub added: RoleSet,
    /// `--exact` removals, or every role of a user the row deactivates.
    pub removed: RoleSet,
}

impl RoleChange {
    /// Before, minus what is removed, plus what is added.
    pub fn after(&self) -> RoleSet {
        self.before
            .difference(&self.removed)
            .chain(&self.added)
            .cloned()
            .collect()
    }

    pub fn changes(&self) -> bool {
        self.after() != self.before
    }
}

/// The role sets Genesys must be asked about, each once, in a stable order.
/// The empty set implies no licence and is never asked.
pub fn distinct_sets(changes: &[RoleChange]) -> Vec<RoleSet> {
    let mut sets: BTreeSet<RoleSet> = BTreeSet::new();
    for change in changes.iter().filter(|c| c.changes()) {
        sets.insert(change.before.clone());
        sets.insert(change.after());
    }
    sets.remove(&RoleSet::new());
    sets.into_iter().collect()
}

/// What the planned role changes do to licences.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Impact {
    /// Licence id -> users who gain it.
    pub gained: BTreeMap<String, u64>,
    /// Licence id -> users who lose it.
    pub lost: BTreeMap<String, u64>,
    /// Licence id -> name, when the catalogue was readable.
    pub names: HashMap<String, String>,
    /// Users whose roles change.
    pub users: u64,
    /// Distinct role sets Genesys was asked about.
    pub role_sets: u64,
}

/// Counts, per licence, the users who gain and lose it. `inferred` holds the
/// licences of every set `distinct_sets` named (a missing set counts as none).
pub fn tally(changes: &[RoleChange], inferred: &HashMap<RoleSet, BTreeSet<String>>) -> Impact {
    let none = BTreeSet::new();
    let licences = |set: &RoleSet| inferred.get(set).unwrap_or(&none);
    let mut impact = Impact::default();
    for change in changes.iter().filter(|c| c.changes()) {
        impact.users += 1;
        let (before, after) = (licences(&change.before), licences(&change.after()));
        for id in after.difference(before) {
            *impact.gained.entry(id.clone()).or_default() += 1;
        }
        for id in before.difference(after) {
            *impact.lost.entry(id.clone()).or_default() += 1;
        }
    }
    impact
}

impl Impact {
    /// The name shown for a licence: its catalogue name, else its id.
    pub fn name<'a>(&'a self, id: &'a str) -> &'a str {
        self.names.get(id).map(String::as_str).unwrap_or(id)
    }

    /// `(name, count)` pairs, most users first, then by name.
    fn sorted<'a>(&'a self, counts: &'a BTreeMap<String, u64>) -> Vec<(&'a str, u64)> {
        let mut all: Vec<(&str, u64)> = counts.iter().map(|(id, n)| (self.name(id), *n)).collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        all
    }

    /// `+42 cloudCX2   +5 wem   -3 cloudCX3`, or `no change`.
    pub fn line(&self) -> String {
        let items: Vec<String> = self
            .sorted(&self.gained)
            .into_iter()
            .map(|(name, n)| format!("+{n} {name}"))
            .chain(
                self.sorted(&self.lost)
                    .into_iter()
                    .map(|(name, n)| format!("-{n} {name}")),
            )
            .collect();
        if items.is_empty() {
            "no change".to_string()
        } else {
            items.join("   ")
        }
    }

    /// The summary's line.
    pub fn render(&self) -> String {
        format!("  {:<14} {}\n", "licences", self.line())
    }

    /// `{"cloudCX2":42,"wem":5}`: counts by name, for the JSON log.
    fn counts_json(&self, counts: &BTreeMap<String, u64>) -> String {
        let map: serde_json::Map<String, serde_json::Value> = counts
            .iter()
            .map(|(id, n)| (self.name(id).to_string(), (*n).into()))
            .collect();
        serde_json::Value::Object(map).to_string()
    }

    /// The `licences` JSON log line, for CI.
    pub fn log(&self) {
        tracing::info!(
            gained = %self.counts_json(&self.gained),
            lost = %self.counts_json(&self.lost),
            users = self.users,
            role_sets = self.role_sets,
            line = %self.line(),
            "licences"
        );
    }
}

/// Each planned user's role change. `default_roles`: the org's default role,
/// which every new user gets.
pub fn changes_of(jobs: &[Job], default_roles: &RoleSet) -> Vec<RoleChange> {
    let ids = |grants: &[crate::plan::RoleGrant]| -> RoleSet {
        grants.iter().map(|g| g.role_id.clone()).collect()
    };
    let mut changes = Vec::new();
    for job in jobs {
        match &job.plan {
            Plan::Create { provision, .. } => changes.push(RoleChange {
                before: RoleSet::new(),
                added: default_roles
                    .iter()
                    .cloned()
                    .chain(ids(&provision.roles))
                    .collect(),
                removed: RoleSet::new(),
            }),
            Plan::Update {
                user,
                existing,
                restore,
                provision,
                ..
            } => {
                let held: RoleSet = existing
                    .authorization
                    .as_ref()
                    .map(|a| a.roles.iter().map(|r| r.id.clone()).collect())
                    .unwrap_or_default();
                let added = ids(&provision.roles);
                let inactive_now = existing.state.as_deref() == Some("inactive");
                let wanted = user.state.map(|s| s.as_api_str());
                let change = if *restore {
                    // A deleted user holds nothing; a restored one gets its row's roles.
                    RoleChange {
                        added,
                        ..RoleChange::default()
                    }
                } else if wanted == Some("deleted") || (wanted == Some("inactive") && !inactive_now)
                {
                    // A deleted or deactivated user loses its roles in Genesys.
                    RoleChange {
                        removed: held.clone(),
                        before: held,
                        added: RoleSet::new(),
                    }
                } else if inactive_now {
                    if wanted != Some("active") {
                        continue; // roles are not compared for inactive users
                    }
                    RoleChange {
                        added: held.into_iter().chain(added).collect(),
                        ..RoleChange::default()
                    }
                } else {
                    RoleChange {
                        before: held,
                        added,
                        // `--exact`: the roles it will hold in no division.
                        removed: provision.removals.roles_lost.iter().cloned().collect(),
                    }
                };
                changes.push(change);
            }
            _ => {}
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ids: &[&str]) -> RoleSet {
        ids.iter().map(|s| s.to_string()).collect()
    }

    fn new_user(roles: &[&str]) -> RoleChange {
        RoleChange {
            added: set(roles),
            ..RoleChange::default()
        }
    }

    /// Agent -> cx2, Supervisor -> cx3, Quality -> wem; cx3 comprises cx2
    /// in Genesys, so Agent + Supervisor infers only cx3.
    fn infer(roles: &RoleSet) -> BTreeSet<String> {
        let has = |r: &str| roles.contains(r);
        let mut out = BTreeSet::new();
        if has("supervisor") {
            out.insert("cx3".to_string());
        } else if has("agent") {
            out.insert("cx2".to_string());
        }
        if has("quality") {
            out.insert("wem".to_string());
        }
        out
    }

    fn inferred(changes: &[RoleChange]) -> HashMap<RoleSet, BTreeSet<String>> {
        distinct_sets(changes)
            .into_iter()
            .map(|s| {
                let l = infer(&s);
                (s, l)
            })
            .collect()
    }

    #[test]
    fn after_is_before_minus_removed_plus_added() {
        let change = RoleChange {
            before: set(&["employee", "agent", "quality"]),
            added: set(&["supervisor"]),
            removed: set(&["quality"]),
        };
        assert_eq!(change.after(), set(&["employee", "agent", "supervisor"]));
        assert!(change.changes());
        let same = RoleChange {
            before: set(&["agent"]),
            added: set(&["agent"]),
            removed: RoleSet::new(),
        };
        assert!(!same.changes(), "adding a held role changes nothing");
    }

    #[test]
    fn new_users_gain_the_licences_of_their_roles() {
        let mut changes = vec![new_user(&["employee", "agent"]); 42];
        changes.extend(vec![new_user(&["employee", "agent", "quality"]); 5]);
        let impact = tally(&changes, &inferred(&changes));
        assert_eq!(impact.users, 47);
        assert_eq!(
            impact.gained,
            BTreeMap::from([("cx2".to_string(), 47), ("wem".to_string(), 5)])
        );
        assert!(impact.lost.is_empty());
        assert_eq!(impact.line(), "+47 cx2   +5 wem");
    }

    #[test]
    fn each_distinct_role_set_is_asked_once_and_the_empty_set_never() {
        let mut changes = vec![new_user(&["employee", "agent"]); 300];
        changes.push(new_user(&["agent", "employee"]));
        changes.push(RoleChange {
            before: set(&["employee"]),
            added: set(&["agent"]),
            removed: RoleSet::new(),
        });
        // Unchanged users are not asked about.
        changes.push(RoleChange {
            before: set(&["admin"]),
            added: set(&["admin"]),
            removed: RoleSet::new(),
        });
        let sets = distinct_sets(&changes);
        assert_eq!(sets, [set(&["agent", "employee"]), set(&["employee"])]);
    }

    #[test]
    fn removing_a_licensed_role_loses_its_licence_and_a_promotion_swaps() {
        let changes = vec![
            // --exact removes Supervisor: cx3 lost, cx2 gained (Agent remains).
            RoleChange {
                before: set(&["employee", "agent", "supervisor"]),
                added: RoleSet::new(),
                removed: set(&["supervisor"]),
            },
            // Quality removed: wem lost, cx2 kept.
            RoleChange {
                before: set(&["employee", "agent", "quality"]),
                added: RoleSet::new(),
                removed: set(&["quality"]),
            },
            // Deactivated: every role removed.
            RoleChange {
                before: set(&["employee", "supervisor"]),
                removed: set(&["employee", "supervisor"]),
                added: RoleSet::new(),
            },
            // Promoted: cx2 -> cx3.
            RoleChange {
                before: set(&["employee", "agent"]),
                added: set(&["supervisor"]),
                removed: RoleSet::new(),
            },
        ];
        let impact = tally(&changes, &inferred(&changes));
        assert_eq!(
            impact.lost,
            BTreeMap::from([
                ("cx2".to_string(), 1),
                ("cx3".to_string(), 2),
                ("wem".to_string(), 1)
            ])
        );
        assert_eq!(
            impact.gained,
            BTreeMap::from([("cx2".to_string(), 1), ("cx3".to_string(), 1)])
        );
        assert_eq!(impact.users, 4);
    }

    #[test]
    fn the_line_uses_names_sorts_by_count_and_lists_gains_first() {
        let impact = Impact {
            gained: BTreeMap::from([("id-wem".to_string(), 5), ("id-cx2".to_string(), 42)]),
            lost: BTreeMap::from([("id-cx3".to_string(), 3)]),
            names: HashMap::from([
                ("id-cx2".to_string(), "cloudCX2".to_string()),
                ("id-cx3".to_string(), "cloudCX3".to_string()),
            ]),
            users: 50,
            role_sets: 3,
        };
        assert_eq!(
            impact.render(),
            "  licences       +42 cloudCX2   +5 id-wem   -3 cloudCX3\n"
        );
        assert_eq!(
            impact.counts_json(&impact.gained),
            r#"{"cloudCX2":42,"id-wem":5}"#
        );
        assert_eq!(Impact::default().line(), "no change");
    }
}
