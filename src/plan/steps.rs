//! Why this exists: what a row's provisioning cells ask for, resolved to
//! ids (`Wanted`), and what a user still lacks of it (`Steps`): plain
//! values, worked out from one read of the user, applied by the engine.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Value};

use crate::genesys::provisioning::Grant;
use crate::genesys::users::User;
use crate::plan::Change;
use crate::users::Field;

/// Who a row's manager is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManagerTarget {
    Clear,
    Id(String),
    /// A user this run creates (lowercased email): its id is known after the barrier.
    Row(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoleGrant {
    pub role_id: String,
    pub division_id: String,
    /// `NAME@DIVISION`, for `changes`.
    pub label: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RatedItem {
    pub id: String,
    pub rating: f64,
    /// `NAME:RATING`.
    pub label: String,
    /// No rating was written: a rating the user has stays (`rating` is
    /// then 0, for a skill or language the user does not have yet).
    pub unrated: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub id: String,
    pub name: String,
}

/// What a row's provisioning cells ask for, resolved to ids.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Wanted {
    pub manager: Option<ManagerTarget>,
    /// `Some(None)`: clear.
    pub location: Option<Option<Member>>,
    pub roles: Vec<RoleGrant>,
    pub skills: Vec<RatedItem>,
    pub languages: Vec<RatedItem>,
    pub queues: Vec<Member>,
    pub groups: Vec<Member>,
}

/// Where a row wants its user placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocationTarget {
    /// `-`: no placement at all.
    Clear,
    /// One place (a location id): the user is moved there.
    At(String),
}

/// The `locations` list to write so the user stands where `target` says,
/// or `None` when it already does. A user already placed at the location
/// is left as is (the placement's notes, floor plan and coordinates kept);
/// otherwise the new placement replaces the others (a move).
pub fn placements(target: &LocationTarget, user: &User) -> Option<Vec<Value>> {
    let placed = user.location_ids();
    match target {
        LocationTarget::Clear if placed.is_empty() => None,
        LocationTarget::Clear => Some(Vec::new()),
        LocationTarget::At(id) if placed.contains(&id.as_str()) => None,
        // The shape Genesys takes in `UpdateUser.locations` (docs/genesys-api.md#updating-users).
        LocationTarget::At(id) => Some(vec![json!({"id": id})]),
    }
}

/// What a user still lacks of its row: the provisioning steps to run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Steps {
    pub manager: Option<ManagerTarget>,
    /// Where the user is to be placed, when that changes.
    pub location: Option<LocationTarget>,
    pub roles: Vec<RoleGrant>,
    pub skills: Vec<RatedItem>,
    pub languages: Vec<RatedItem>,
    pub queues: Vec<Member>,
    pub groups: Vec<Member>,
    pub invite: bool,
    /// `--exact` removals and a deletion (see `removals`).
    pub removals: crate::plan::removals::Removals,
    /// The user's WebRTC phone (see `phones`), set by the preflight.
    pub phone: Option<crate::plan::phones::PhoneStep>,
}

impl Steps {
    pub fn is_empty(&self) -> bool {
        *self == Steps::default()
    }

    /// The `changes` items these steps make.
    pub fn changes(&self) -> Vec<Change> {
        let mut changes = Vec::new();
        if self.manager.is_some() {
            changes.push(Change::Field(Field::Manager));
        }
        if self.location.is_some() {
            changes.push(Change::Field(Field::Location));
        }
        changes.extend(self.roles.iter().map(|r| Change::AddRole(r.label.clone())));
        changes.extend(
            self.skills
                .iter()
                .map(|s| Change::AddSkill(s.label.clone())),
        );
        changes.extend(
            self.languages
                .iter()
                .map(|l| Change::AddLanguage(l.label.clone())),
        );
        changes.extend(self.queues.iter().map(|q| Change::AddQueue(q.name.clone())));
        changes.extend(self.groups.iter().map(|g| Change::AddGroup(g.name.clone())));
        changes.extend(self.removals.changes());
        changes.extend(self.phone.iter().flat_map(|p| p.changes()));
        if self.invite {
            changes.push(Change::Invite);
        }
        changes
    }
}

/// A new user lacks everything its row names.
pub fn steps_for_new(wanted: &Wanted, invite: bool) -> Steps {
    Steps {
        manager: wanted
            .manager
            .clone()
            .filter(|m| *m != ManagerTarget::Clear),
        location: wanted
            .location
            .clone()
            .flatten()
            .map(|l| LocationTarget::At(l.id)),
        roles: wanted.roles.clone(),
        skills: wanted.skills.clone(),
        languages: wanted.languages.clone(),
        queues: wanted.queues.clone(),
        groups: wanted.groups.clone(),
        invite,
        removals: Default::default(),
        phone: None,
    }
}

/// What an existing user lacks: additive, nothing it has is removed. `grants`
/// (when read) tell the division of a role the user already holds, its own
/// grants and its groups' alike: a role the row names that the user holds
/// in that division, directly or only through a group, is not granted
/// (again). `--exact` gives them from role-centric reads rebuilt as the
/// user's own read shows them (a group's grant with its division), or reads
/// the user on its own when they cannot tell;
/// `queue_members` the members of the queues rows name. `invite`: the row
/// asks for the invitation, sent only if none ever was (`dateWelcomeSent`).
pub fn steps_for_existing(
    wanted: &Wanted,
    user: &User,
    grants: Option<&[Grant]>,
    queue_members: &HashMap<String, HashSet<String>>,
    invite: bool,
) -> Steps {
    let current_manager = user.manager.as_ref().map(|m| m.id.as_str());
    let manager = match &wanted.manager {
        Some(ManagerTarget::Clear) if current_manager.is_some() => Some(ManagerTarget::Clear),
        Some(ManagerTarget::Id(id)) if current_manager != Some(id.as_str()) => {
            Some(ManagerTarget::Id(id.clone()))
        }
        Some(target @ ManagerTarget::Row(_)) => Some(target.clone()),
        _ => None,
    };
    let location = match &wanted.location {
        None => None,
        Some(None) => Some(LocationTarget::Clear),
        Some(Some(l)) => Some(LocationTarget::At(l.id.clone())),
    }
    .filter(|target| placements(target, user).is_some());
    let holds: HashSet<&str> = user
        .authorization
        .as_ref()
        .map(|a| a.roles.iter().map(|r| r.id.as_str()).collect())
        .unwrap_or_default();
    let roles = wanted
        .roles
        .iter()
        .filter(|r| match grants {
            // Read: granted unless held in that division (the user's read
            // may show no roles when its expand failed, so it does not decide).
            Some(grants) => !grants
                .iter()
                .any(|g| g.role.id == r.role_id && g.division.id == r.division_id),
            // Not read: the user holds none of the roles its row names.
            None => !holds.contains(r.role_id.as_str()),
        })
        .cloned()
        .collect();
    let rated = |wanted: &[RatedItem], has: &[crate::genesys::users::RatedRef]| -> Vec<RatedItem> {
        wanted
            .iter()
            .filter(|w| {
                !has.iter().any(|h| {
                    h.id == w.id
                        && (w.unrated || h.proficiency.is_some_and(|p| (p - w.rating).abs() < 1e-9))
                })
            })
            .cloned()
            .collect()
    };
    let in_groups: HashSet<&str> = user.groups.iter().map(|g| g.id.as_str()).collect();
    Steps {
        manager,
        location,
        roles,
        skills: rated(&wanted.skills, &user.skills),
        languages: rated(&wanted.languages, &user.languages),
        queues: wanted
            .queues
            .iter()
            .filter(|q| {
                !queue_members
                    .get(&q.id)
                    .is_some_and(|m| m.contains(&user.id))
            })
            .cloned()
            .collect(),
        groups: wanted
            .groups
            .iter()
            .filter(|g| !in_groups.contains(g.id.as_str()))
            .cloned()
            .collect(),
        invite: invite && user.date_welcome_sent.as_deref().unwrap_or("").is_empty(),
        removals: Default::default(),
        phone: None,
    }
}

/// Whether a user holds any of the roles it wants, so its grants must be
/// read to know in which division.
pub fn needs_grants(wanted: &Wanted, user: &User) -> bool {
    let holds: HashSet<&str> = user
        .authorization
        .as_ref()
        .map(|a| a.roles.iter().map(|r| r.id.as_str()).collect())
        .unwrap_or_default();
    wanted
        .roles
        .iter()
        .any(|r| holds.contains(r.role_id.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_existing_user_lacks_only_what_it_has_not() {
        let wanted = Wanted {
            skills: vec![
                RatedItem {
                    id: "s1".into(),
                    rating: 4.0,
                    label: "Sales:4".into(),
                    unrated: false,
                },
                RatedItem {
                    id: "s2".into(),
                    rating: 2.5,
                    label: "Billing:2.5".into(),
                    unrated: false,
                },
            ],
            groups: vec![Member {
                id: "g1".into(),
                name: "Night".into(),
            }],
            queues: vec![Member {
                id: "q1".into(),
                name: "Support".into(),
            }],
            roles: vec![RoleGrant {
                role_id: "r1".into(),
                division_id: "d1".into(),
                label: "Agent@Home".into(),
            }],
            ..Wanted::default()
        };
        let user: User = serde_json::from_value(json!({
            "id": "u1",
            "skills": [{"id": "s1", "proficiency": 4.0}, {"id": "s2", "proficiency": 1.0}],
            "groups": [{"id": "g1"}],
            "authorization": {"roles": [{"id": "r1"}]}
        }))
        .unwrap();
        let members = HashMap::from([("q1".to_string(), HashSet::from(["u1".to_string()]))]);
        let grants: Vec<Grant> = serde_json::from_value(json!([
            {"role": {"id": "r1", "name": "Agent"}, "division": {"id": "d1", "name": "Home"}}
        ]))
        .unwrap();
        let steps = steps_for_existing(&wanted, &user, Some(&grants), &members, false);
        assert_eq!(steps.changes(), [Change::AddSkill("Billing:2.5".into())]);
        let other_division: Vec<Grant> = serde_json::from_value(json!([
            {"role": {"id": "r1", "name": "Agent"}, "division": {"id": "d2", "name": "Sales"}}
        ]))
        .unwrap();
        let steps = steps_for_existing(&wanted, &user, Some(&other_division), &members, false);
        assert_eq!(steps.roles.len(), 1, "held in another division only");
    }
}

#[cfg(test)]
mod location_tests {
    use super::*;

    fn at(placements: Value) -> User {
        serde_json::from_value(json!({"id": "u1", "locations": placements})).unwrap()
    }

    #[test]
    fn a_location_is_kept_moved_or_cleared() {
        let lisbon = LocationTarget::At("lisbon".into());
        let placed = at(json!([{"notes": "desk 4", "locationDefinition": {"id": "lisbon"}}]));
        assert_eq!(placements(&lisbon, &placed), None, "already there");
        let elsewhere = at(json!([{"locationDefinition": {"id": "dublin"}}]));
        assert_eq!(
            placements(&lisbon, &elsewhere),
            Some(vec![json!({"id": "lisbon"})]),
            "a move replaces the other placements"
        );
        assert_eq!(placements(&LocationTarget::Clear, &elsewhere), Some(vec![]));
        assert_eq!(placements(&LocationTarget::Clear, &at(json!([]))), None);
    }
}
