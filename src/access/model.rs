//! Why this exists: "may this client do X in division D?" answered from
//! what Genesys told about the client, as plain values (no I/O). A
//! permission is held in every division, in some, or it is unknown; what
//! is unknown is never reported as missing.

use std::collections::{BTreeSet, HashMap};

use crate::genesys::access::{Policy, RoleDivision, RolePolicies};

/// What one kind of write needs: any one of these permissions (the API
/// description's `x-inin-requires-permissions`, type ANY).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Need {
    /// What genimport does with it, for the doctor's table.
    pub what: &'static str,
    pub any_of: &'static [&'static str],
}

impl Need {
    /// `directory:user:edit (or directory:organization:admin, admin)`.
    pub fn describe(&self) -> String {
        match self.any_of {
            [one] => (*one).to_string(),
            [first, rest @ ..] => format!("{first} (or {})", rest.join(", ")),
            [] => String::new(),
        }
    }
}

/// Where the client holds one permission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holding {
    Everywhere,
    /// These division ids (empty: none).
    In(BTreeSet<String>),
    Unknown,
}

/// Where a write happens: in one division, or on something that is in no
/// division (skills, languages), or in a division the preflight did not read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Place {
    Division(String),
    Anywhere,
    UnknownDivision,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Held,
    Missing,
    Unknown,
}

/// How the client's access was learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The client's roles and their policies.
    Roles,
    /// `divisionspermitted/paged/me`, a permission at a time.
    Permitted,
    /// Nothing told: every verdict is unknown.
    None,
}

/// What the client may do, for the permissions asked about.
#[derive(Debug, Clone)]
pub struct Access {
    pub holdings: HashMap<&'static str, Holding>,
    pub source: Source,
    /// Whether role grants are checked per division (`None`: not told).
    pub grants_division_aware: Option<bool>,
}

impl Access {
    pub fn unknown() -> Access {
        Access {
            holdings: HashMap::new(),
            source: Source::None,
            grants_division_aware: None,
        }
    }

    pub fn holding(&self, permission: &str) -> Holding {
        self.holdings
            .get(permission)
            .cloned()
            .unwrap_or(Holding::Unknown)
    }

    /// Where the client holds `need`: the union over its permissions.
    pub fn need_holding(&self, need: &Need) -> Holding {
        let mut divisions = BTreeSet::new();
        let mut unknown = false;
        for permission in need.any_of {
            match self.holding(permission) {
                Holding::Everywhere => return Holding::Everywhere,
                Holding::In(set) => divisions.extend(set),
                Holding::Unknown => unknown = true,
            }
        }
        if divisions.is_empty() && unknown {
            Holding::Unknown
        } else {
            Holding::In(divisions)
        }
    }

    pub fn verdict(&self, need: &Need, place: &Place) -> Verdict {
        let mut verdict = Verdict::Missing;
        for permission in need.any_of {
            match (self.holding(permission), place) {
                (Holding::Everywhere, _) => return Verdict::Held,
                (Holding::In(set), Place::Division(d)) if set.contains(d) => return Verdict::Held,
                (Holding::In(set), Place::Anywhere) if !set.is_empty() => return Verdict::Held,
                (Holding::In(set), Place::UnknownDivision) if !set.is_empty() => {
                    verdict = Verdict::Unknown
                }
                (Holding::Unknown, _) => verdict = Verdict::Unknown,
                (Holding::In(_), _) => {}
            }
        }
        verdict
    }

    /// Where the client holds each of `wanted`, worked out from its role
    /// grants and the roles' policies. `division_aware`: the catalogue's
    /// flag; a permission it marks not division-aware, held anywhere, is
    /// held everywhere.
    pub fn from_roles(
        grants: &[RoleDivision],
        roles: &[RolePolicies],
        wanted: &[&'static str],
        division_aware: &HashMap<String, bool>,
    ) -> Access {
        let mut holdings = HashMap::new();
        for &permission in wanted {
            let mut divisions = BTreeSet::new();
            let mut everywhere = false;
            let mut undecided = false;
            for grant in grants {
                let Some(role) = roles.iter().find(|r| r.id == grant.role_id) else {
                    // A role the listing did not return may grant it.
                    undecided = true;
                    continue;
                };
                match role_grants(role, permission) {
                    Grants::No => continue,
                    Grants::Conditionally => {
                        undecided = true;
                        continue;
                    }
                    Grants::Yes => {}
                }
                if grant.division_id == "*" {
                    everywhere = true;
                } else {
                    divisions.insert(grant.division_id.clone());
                }
            }
            let aware = division_aware.get(permission).copied().unwrap_or(true);
            let holding = if everywhere || (!aware && !divisions.is_empty()) {
                Holding::Everywhere
            } else if undecided {
                Holding::Unknown
            } else {
                Holding::In(divisions)
            };
            holdings.insert(permission, holding);
        }
        Access {
            holdings,
            source: Source::Roles,
            grants_division_aware: None,
        }
    }
}

enum Grants {
    Yes,
    No,
    /// Only under a condition the policy carries.
    Conditionally,
}

fn role_grants(role: &RolePolicies, permission: &str) -> Grants {
    if role.permissions.iter().any(|p| p == permission || p == "*") {
        return Grants::Yes;
    }
    let mut found = Grants::No;
    for policy in &role.permission_policies {
        if policy_matches(policy, permission) {
            if policy
                .resource_condition_node
                .as_ref()
                .is_none_or(|c| c.is_null())
            {
                return Grants::Yes;
            }
            found = Grants::Conditionally;
        }
    }
    found
}

/// A policy grants `domain:entity:action` when each part matches or is `*`.
fn policy_matches(policy: &Policy, permission: &str) -> bool {
    let mut parts = permission.splitn(3, ':');
    let (Some(domain), Some(entity), Some(action)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let part = |have: &str, want: &str| have == "*" || have.eq_ignore_ascii_case(want);
    part(&policy.domain, domain)
        && part(&policy.entity_name, entity)
        && policy.action_set.iter().any(|a| part(a, action))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ADD: Need = Need {
        what: "create users",
        any_of: &["directory:user:add"],
    };
    const EDIT: Need = Need {
        what: "edit users",
        any_of: &["directory:user:edit", "directory:organization:admin"],
    };

    fn role(id: &str, policies: serde_json::Value) -> RolePolicies {
        serde_json::from_value(json!({"id": id, "permissionPolicies": policies})).unwrap()
    }

    fn grant(role: &str, division: &str) -> RoleDivision {
        RoleDivision {
            role_id: role.into(),
            division_id: division.into(),
        }
    }

    #[test]
    fn wildcards_and_divisions() {
        let roles = [
            role(
                "r1",
                json!([{"domain": "directory", "entityName": "user", "actionSet": ["add", "view"]}]),
            ),
            role(
                "r2",
                json!([{"domain": "directory", "entityName": "*", "actionSet": ["*"]}]),
            ),
            role(
                "r3",
                json!([{"domain": "routing", "entityName": "queue", "actionSet": ["*"],
                        "resourceConditionNode": {"operator": "EQ"}}]),
            ),
        ];
        let wanted = [
            "directory:user:add",
            "directory:user:edit",
            "directory:organization:admin",
            "routing:queue:edit",
            "routing:skill:assign",
        ];
        let access = Access::from_roles(
            &[grant("r1", "sales"), grant("r2", "home"), grant("r3", "*")],
            &roles,
            &wanted,
            &HashMap::new(),
        );
        let sales = Place::Division("sales".into());
        let home = Place::Division("home".into());
        let other = Place::Division("other".into());
        assert_eq!(access.verdict(&ADD, &sales), Verdict::Held);
        assert_eq!(access.verdict(&ADD, &home), Verdict::Held, "directory:*:*");
        assert_eq!(access.verdict(&ADD, &other), Verdict::Missing);
        assert_eq!(access.verdict(&EDIT, &sales), Verdict::Missing);
        assert_eq!(access.verdict(&EDIT, &Place::Anywhere), Verdict::Held);
        assert_eq!(
            access.verdict(&EDIT, &Place::UnknownDivision),
            Verdict::Unknown
        );
        assert_eq!(
            access.holding("routing:queue:edit"),
            Holding::Unknown,
            "a conditional policy cannot be decided"
        );
        assert_eq!(
            access.holding("routing:skill:assign"),
            Holding::In(BTreeSet::new())
        );
    }

    #[test]
    fn a_permission_not_division_aware_held_anywhere_is_held_everywhere() {
        let roles = [role(
            "r1",
            json!([{"domain": "routing", "entityName": "skill", "actionSet": ["assign"]}]),
        )];
        let aware = HashMap::from([("routing:skill:assign".to_string(), false)]);
        let access = Access::from_roles(
            &[grant("r1", "sales")],
            &roles,
            &["routing:skill:assign"],
            &aware,
        );
        assert_eq!(access.holding("routing:skill:assign"), Holding::Everywhere);
        assert_eq!(
            Access::unknown().verdict(&ADD, &Place::Anywhere),
            Verdict::Unknown
        );
        let unlisted = Access::from_roles(
            &[grant("r1", "sales"), grant("r9", "home")],
            &roles,
            &["routing:skill:assign", "directory:user:add"],
            &HashMap::new(),
        );
        assert_eq!(
            unlisted.verdict(&ADD, &Place::Division("home".into())),
            Verdict::Unknown,
            "a role the listing did not return may hold it"
        );
    }
}
