//! Why this exists: `--update --exact` removes what a row no longer lists.
//! Removal is the most dangerous thing genimport does, so what to remove is
//! a plain value (`Removals`) worked out by one pure function from one read
//! of the user, the row's wanted lists and which cells were written: shown
//! in a dry run, applied as is, recorded in `changes`. Never removed: the
//! org's default role, role grants that come from a group, queue
//! memberships that come from a group.

use std::collections::{HashMap, HashSet};

pub use crate::genesys::removals::{HeldGrant, HeldQueue};
use crate::genesys::users::User;
use crate::input::Listed;
use crate::plan::{Change, Member, RatedItem, RoleGrant, Steps, Wanted};

/// What one read of the user shows beyond the user itself.
#[derive(Clone, Default)]
pub struct Holding<'a> {
    /// `None`: not read (the row's roles are not compared).
    pub grants: Option<&'a [HeldGrant]>,
    /// `None`: not read (the row's queues are not compared).
    pub queues: Option<&'a [HeldQueue]>,
    /// Group id -> name, for `changes`.
    pub group_names: Option<&'a HashMap<String, String>>,
    /// The org's default roles (Genesys marks them `default`).
    pub default_roles: Option<&'a HashSet<String>>,
}

/// What a row removes from its user, and what it asked to remove but stays.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Removals {
    /// Direct grants to remove (`label` is `NAME@DIVISION`).
    pub roles: Vec<RoleGrant>,
    /// Skills to remove (id, name).
    pub skills: Vec<Member>,
    /// `Some`: the user's skills are set in one replacing PUT to exactly
    /// this list (the adds travel in it too, see `skill_adds`).
    pub skills_replace: Option<Vec<RatedItem>>,
    /// Skills added or re-rated by the replacing PUT (for `changes`).
    pub skill_adds: Vec<RatedItem>,
    pub languages: Vec<Member>,
    pub queues: Vec<Member>,
    pub groups: Vec<Member>,
    /// `state` = `deleted` with `--allow-delete`: delete the user.
    pub delete_user: bool,
    /// Why something the row asks to remove stays, for the message.
    pub kept: Vec<String>,
    /// Role ids the user holds in no division once `roles` are removed
    /// (a role still granted elsewhere, or through a group, is not lost):
    /// what the licence preview counts as taken.
    pub roles_lost: Vec<String>,
}

impl Removals {
    pub fn is_empty(&self) -> bool {
        *self == Removals::default()
    }

    /// Whether anything is sent for these removals.
    pub fn sends(&self) -> bool {
        let mut sending = self.clone();
        sending.kept.clear();
        !sending.is_empty()
    }

    /// Splits `roles` by how they may be sent: `.0` the grants whose role
    /// the user holds in no division after the row (in `roles_lost`, so
    /// not through a group either, and not added by the row's `adds`),
    /// which one request per role may take from many users whatever it
    /// does with divisions; `.1` the others (the user keeps the role
    /// somewhere), which go by `bulkremove` for this user alone.
    pub fn split_roles(&self, adds: &[RoleGrant]) -> (Vec<RoleGrant>, Vec<RoleGrant>) {
        self.roles.iter().cloned().partition(|r| {
            self.roles_lost.contains(&r.role_id) && !adds.iter().any(|a| a.role_id == r.role_id)
        })
    }

    /// The `changes` items these removals make.
    pub fn changes(&self) -> Vec<Change> {
        let mut changes = Vec::new();
        if self.delete_user {
            changes.push(Change::Field(crate::users::Field::State));
        }
        changes.extend(
            self.skill_adds
                .iter()
                .map(|s| Change::AddSkill(s.label.clone())),
        );
        changes.extend(
            self.roles
                .iter()
                .map(|r| Change::RemoveRole(r.label.clone())),
        );
        changes.extend(
            self.skills
                .iter()
                .map(|s| Change::RemoveSkill(s.name.clone())),
        );
        changes.extend(
            self.languages
                .iter()
                .map(|l| Change::RemoveLanguage(l.name.clone())),
        );
        changes.extend(
            self.queues
                .iter()
                .map(|q| Change::RemoveQueue(q.name.clone())),
        );
        changes.extend(
            self.groups
                .iter()
                .map(|g| Change::RemoveGroup(g.name.clone())),
        );
        changes
    }
}

/// What an exact row removes from `user`. `listed` says which list cells
/// were written (a blank cell leaves its kind alone); `inactive` that the
/// user is inactive after the row (roles are then not compared).
pub fn plan(
    wanted: &Wanted,
    listed: Listed,
    user: &User,
    holding: &Holding,
    inactive: bool,
) -> Removals {
    let mut removals = Removals::default();
    if listed.groups {
        let keep: HashSet<&str> = wanted.groups.iter().map(|g| g.id.as_str()).collect();
        removals.groups = user
            .groups
            .iter()
            .filter(|g| !keep.contains(g.id.as_str()))
            .map(|g| Member {
                id: g.id.clone(),
                name: holding
                    .group_names
                    .and_then(|n| n.get(&g.id).cloned())
                    .unwrap_or_else(|| g.id.clone()),
            })
            .collect();
    }
    if listed.roles && !inactive {
        if let Some(grants) = holding.grants {
            remove_roles(&mut removals, wanted, grants, holding.default_roles);
            removals.roles_lost = lost_roles(grants, &removals.roles);
        }
    }
    removals.skills = rated_removals(listed.skills, &wanted.skills, &user.skills);
    removals.languages = rated_removals(listed.languages, &wanted.languages, &user.languages);
    if listed.queues {
        if let Some(queues) = holding.queues {
            remove_queues(&mut removals, wanted, queues);
        }
    }
    removals
}

/// The skills or languages a written cell no longer lists.
fn rated_removals(
    listed: bool,
    wanted: &[RatedItem],
    held: &[crate::genesys::users::RatedRef],
) -> Vec<Member> {
    if !listed {
        return Vec::new();
    }
    let keep: HashSet<&str> = wanted.iter().map(|s| s.id.as_str()).collect();
    held.iter()
        .filter(|s| !keep.contains(s.id.as_str()))
        .map(|s| Member {
            id: s.id.clone(),
            name: s.name.clone().unwrap_or_else(|| s.id.clone()),
        })
        .collect()
}

/// Whether access a group brings stays after the row: its group is
/// known and the row does not take the user out of it, or no group goes.
fn group_keeps(group: Option<&String>, removals: &Removals) -> bool {
    let leaving = |id: &String| removals.groups.iter().any(|g| &g.id == id);
    match group {
        Some(id) => !leaving(id),
        None => removals.groups.is_empty(),
    }
}

fn remove_queues(removals: &mut Removals, wanted: &Wanted, queues: &[HeldQueue]) {
    let keep: HashSet<&str> = wanted.queues.iter().map(|q| q.id.as_str()).collect();
    let mut stayed = Vec::new();
    for q in queues.iter().filter(|q| !keep.contains(q.id.as_str())) {
        // Which group brings a membership is not read: only when no group goes is it known to stay.
        let stays = group_keeps(None, removals);
        if q.by_group {
            if stays {
                stayed.push(format!(
                    "queue {} stayed: the membership comes from a group (remove the user from that group)",
                    q.name
                ));
            }
            continue;
        }
        removals.queues.push(Member {
            id: q.id.clone(),
            name: q.name.clone(),
        });
        if q.also_by_group && stays {
            removals.kept.push(format!(
                "queue {} stays: the user is also a member through a group",
                q.name
            ));
        }
    }
    // Said only when the file asks to remove queues (`-`, or one taken out).
    if wanted.queues.is_empty() || !removals.queues.is_empty() {
        removals.kept.extend(stayed);
    }
}

/// The roles of `removed` that no other held grant keeps.
fn lost_roles(held: &[HeldGrant], removed: &[RoleGrant]) -> Vec<String> {
    let stays = |g: &HeldGrant| {
        !removed
            .iter()
            .any(|r| r.role_id == g.role_id && r.division_id == g.division_id && !g.inherited)
    };
    let mut lost: Vec<String> = removed
        .iter()
        .map(|r| r.role_id.clone())
        .filter(|id| !held.iter().any(|g| g.role_id == *id && stays(g)))
        .collect();
    lost.sort();
    lost.dedup();
    lost
}

/// `NAME@DIVISION` of a grant (the name alone when its division is not known).
fn label(g: &HeldGrant) -> String {
    if g.division_name.is_empty() {
        g.role_name.clone()
    } else {
        format!("{}@{}", g.role_name, g.division_name)
    }
}

/// Whether `g` is a group's grant of `role` in `division` (or in a division not known).
fn covers(g: &HeldGrant, role: &str, division: &str) -> bool {
    g.inherited && g.role_id == role && (g.division_id == division || g.division_id.is_empty())
}

fn remove_roles(
    removals: &mut Removals,
    wanted: &Wanted,
    grants: &[HeldGrant],
    default_roles: Option<&HashSet<String>>,
) {
    // An inherited grant read role by role has no division: any division the row names keeps it quiet.
    let keep = |g: &HeldGrant| {
        wanted.roles.iter().any(|r| {
            r.role_id == g.role_id && (r.division_id == g.division_id || g.division_id.is_empty())
        })
    };
    let mut direct: HashSet<(&str, &str)> = HashSet::new();
    for g in grants.iter().filter(|g| !g.inherited) {
        // The default role is never removed, and has no note: every user holds it.
        if keep(g)
            || !direct.insert((&g.role_id, &g.division_id))
            || default_roles.is_some_and(|d| d.contains(&g.role_id))
        {
            continue;
        }
        removals.roles.push(RoleGrant {
            role_id: g.role_id.clone(),
            division_id: g.division_id.clone(),
            label: label(g),
        });
        let through = grants
            .iter()
            .filter(|h| covers(h, &g.role_id, &g.division_id));
        if through
            .clone()
            .any(|h| group_keeps(h.group.as_ref(), removals))
        {
            removals.kept.push(format!(
                "role {} stays: it is also granted through a group",
                label(g)
            ));
        }
    }
    // Said only when the file asks to remove roles (`-`, or one taken out).
    if !wanted.roles.is_empty() && removals.roles.is_empty() {
        return;
    }
    let mut noted: HashSet<String> = HashSet::new();
    for g in grants.iter().filter(|g| g.inherited) {
        // Held directly too: the direct grant's removal says it stays.
        if keep(g)
            || direct.contains(&(g.role_id.as_str(), g.division_id.as_str()))
            || !group_keeps(g.group.as_ref(), removals)
            || !noted.insert(label(g))
        {
            continue;
        }
        removals.kept.push(format!(
            "role {} stayed: it is granted through a group (remove the user from that group)",
            label(g)
        ));
    }
}

/// A row that takes its user out of a group keeps what it lists: a role
/// or queue it names that the user holds only through a group the row
/// leaves (or through a group not known) is added as the user's own.
pub fn keep_listed(steps: &mut Steps, removals: &Removals, wanted: &Wanted, holding: &Holding) {
    if removals.groups.is_empty() {
        return;
    }
    if let Some(grants) = holding.grants {
        for r in &wanted.roles {
            let own = grants
                .iter()
                .any(|g| !g.inherited && g.role_id == r.role_id && g.division_id == r.division_id);
            let mut through = grants
                .iter()
                .filter(|g| covers(g, &r.role_id, &r.division_id))
                .peekable();
            let goes = through.peek().is_some()
                && through.all(|g| !group_keeps(g.group.as_ref(), removals));
            let adding = steps.roles.iter().any(|a| a == r);
            if !own && goes && !adding {
                steps.roles.push(r.clone());
            }
        }
    }
    if let Some(queues) = holding.queues {
        for q in &wanted.queues {
            let by_group = queues.iter().any(|h| h.id == q.id && h.by_group);
            if by_group && !steps.queues.iter().any(|a| a.id == q.id) {
                steps.queues.push(q.clone());
            }
        }
    }
}

/// Fits a row's add steps to its removals: skills that change both ways
/// go in one replacing PUT instead of a PATCH plus DELETEs; an inactive
/// user's roles are not compared (Genesys strips them). A skill the row
/// names without a rating keeps the rating `user` has in the PUT.
pub fn fit_steps(
    steps: &mut Steps,
    removals: &mut Removals,
    wanted: &Wanted,
    user: &User,
    inactive: bool,
) {
    if inactive {
        steps.roles.clear();
    }
    if !removals.skills.is_empty() && !wanted.skills.is_empty() {
        removals.skill_adds = std::mem::take(&mut steps.skills);
        let kept = |s: &RatedItem| {
            let held = user.skills.iter().find(|h| h.id == s.id);
            match held.and_then(|h| h.proficiency) {
                Some(rating) if s.unrated => RatedItem {
                    rating,
                    ..s.clone()
                },
                _ => s.clone(),
            }
        };
        removals.skills_replace = Some(wanted.skills.iter().map(kept).collect());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user() -> User {
        serde_json::from_value(json!({
            "id": "u1",
            "skills": [{"id": "s1", "name": "Sales", "proficiency": 4.0},
                       {"id": "s2", "name": "Billing", "proficiency": 2.0}],
            "languages": [{"id": "l1", "name": "English", "proficiency": 5.0},
                          {"id": "l2", "name": "French", "proficiency": 3.0}],
            "groups": [{"id": "g1"}, {"id": "g2"}],
            "authorization": {"roles": [{"id": "r0"}, {"id": "r1"}, {"id": "r2"}]}
        }))
        .unwrap()
    }

    fn grant(role: &str, name: &str, inherited: bool) -> HeldGrant {
        HeldGrant {
            group: None,
            role_id: role.into(),
            role_name: name.into(),
            division_id: "d1".into(),
            division_name: "Home".into(),
            inherited,
        }
    }

    fn all() -> Listed {
        Listed {
            roles: true,
            skills: true,
            languages: true,
            queues: true,
            groups: true,
        }
    }

    fn rated(id: &str, label: &str) -> RatedItem {
        RatedItem {
            id: id.into(),
            rating: 4.0,
            label: label.into(),
            unrated: false,
        }
    }

    #[test]
    fn an_exact_row_removes_what_it_does_not_list_and_keeps_the_rest() {
        let wanted = Wanted {
            roles: vec![RoleGrant {
                role_id: "r1".into(),
                division_id: "d1".into(),
                label: "Agent@Home".into(),
            }],
            skills: vec![rated("s1", "Sales:4")],
            languages: vec![rated("l1", "English:4")],
            queues: vec![Member {
                id: "q1".into(),
                name: "Support".into(),
            }],
            groups: vec![Member {
                id: "g1".into(),
                name: "Night".into(),
            }],
            ..Wanted::default()
        };
        let grants = [
            grant("r0", "Employee", false),
            grant("r1", "Agent", false),
            grant("r2", "Supervisor", false),
            HeldGrant {
                group: Some("g1".into()),
                ..grant("r3", "Quality", true)
            },
        ];
        let queues = [
            HeldQueue {
                id: "q1".into(),
                name: "Support".into(),
                by_group: false,
                also_by_group: false,
            },
            HeldQueue {
                id: "q2".into(),
                name: "Billing".into(),
                by_group: false,
                also_by_group: false,
            },
            HeldQueue {
                id: "q3".into(),
                name: "VIP".into(),
                by_group: true,
                also_by_group: true,
            },
        ];
        let defaults = HashSet::from(["r0".to_string()]);
        let names = HashMap::from([("g2".to_string(), "Day Shift".to_string())]);
        let holding = Holding {
            grants: Some(&grants),
            queues: Some(&queues),
            group_names: Some(&names),
            default_roles: Some(&defaults),
        };
        let removals = plan(&wanted, all(), &user(), &holding, false);
        let cells: Vec<String> = removals
            .changes()
            .iter()
            .map(|c| c.text().into_owned())
            .collect();
        assert_eq!(
            cells,
            [
                "remove role Supervisor@Home",
                "remove skill Billing",
                "remove language French",
                "remove queue Billing",
                "remove group Day Shift"
            ]
        );
        // Quality comes from Night, which stays; VIP from a group not known
        // while Day Shift goes: it may go with it, so nothing is said.
        assert_eq!(removals.kept.len(), 1, "{:?}", removals.kept);
        assert!(removals.kept[0].contains("Quality@Home stayed: it is granted through a group"));
    }

    #[test]
    fn only_a_role_held_nowhere_after_the_row_goes_in_a_per_role_batch() {
        let mut grants = vec![
            grant("r1", "Agent", false),
            grant("r2", "Supervisor", false),
            grant("r4", "Admin", false),
            grant("r5", "Trainer", false),
            grant("r6", "Quality", true),
        ];
        // Supervisor is also held in Sales (kept), Quality directly and through a group.
        grants.push(HeldGrant {
            division_id: "d2".into(),
            division_name: "Sales".into(),
            ..grant("r2", "Supervisor", false)
        });
        grants.push(HeldGrant {
            division_id: "d2".into(),
            division_name: "Sales".into(),
            ..grant("r6", "Quality", false)
        });
        let wanted = Wanted {
            roles: vec![RoleGrant {
                role_id: "r2".into(),
                division_id: "d2".into(),
                label: "Supervisor@Sales".into(),
            }],
            ..Wanted::default()
        };
        let holding = Holding {
            grants: Some(&grants),
            ..Holding::default()
        };
        let removals = plan(&wanted, all(), &user(), &holding, false);
        // The row adds Trainer in another division: not lost after the row.
        let adds = [RoleGrant {
            role_id: "r5".into(),
            division_id: "d2".into(),
            label: "Trainer@Sales".into(),
        }];
        let (batched, per_user) = removals.split_roles(&adds);
        let labels = |g: &[RoleGrant]| g.iter().map(|r| r.label.clone()).collect::<Vec<_>>();
        assert_eq!(labels(&batched), ["Agent@Home", "Admin@Home"]);
        assert_eq!(
            labels(&per_user),
            ["Supervisor@Home", "Trainer@Home", "Quality@Sales"]
        );
    }

    #[test]
    fn a_blank_cell_leaves_its_kind_alone_and_a_dash_removes_all() {
        let grants = [grant("r2", "Supervisor", false)];
        let holding = Holding {
            grants: Some(&grants),
            ..Holding::default()
        };
        let blank = plan(
            &Wanted::default(),
            Listed::default(),
            &user(),
            &holding,
            false,
        );
        assert!(blank.is_empty());
        let dash = plan(&Wanted::default(), all(), &user(), &holding, false);
        assert_eq!(dash.roles.len(), 1);
        assert_eq!(dash.skills.len(), 2);
        assert_eq!(dash.languages.len(), 2);
        assert_eq!(dash.groups.len(), 2);
        assert!(dash.queues.is_empty(), "queues not read: nothing removed");
    }

    #[test]
    fn an_inactive_user_keeps_its_roles_uncompared() {
        let grants = [grant("r2", "Supervisor", false)];
        let holding = Holding {
            grants: Some(&grants),
            ..Holding::default()
        };
        let removals = plan(&Wanted::default(), all(), &user(), &holding, true);
        assert!(removals.roles.is_empty());
        let mut steps = Steps {
            roles: vec![RoleGrant {
                role_id: "r1".into(),
                division_id: "d1".into(),
                label: "Agent@Home".into(),
            }],
            ..Steps::default()
        };
        let mut removals = removals;
        fit_steps(&mut steps, &mut removals, &Wanted::default(), &user(), true);
        assert!(steps.roles.is_empty());
    }

    #[test]
    fn skills_that_change_both_ways_go_in_one_replacing_put() {
        let wanted = Wanted {
            skills: vec![rated("s1", "Sales:4"), rated("s9", "Tech:4")],
            ..Wanted::default()
        };
        let mut removals = plan(&wanted, all(), &user(), &Holding::default(), false);
        let mut steps = Steps {
            skills: vec![rated("s9", "Tech:4")],
            ..Steps::default()
        };
        fit_steps(&mut steps, &mut removals, &wanted, &user(), false);
        assert!(steps.skills.is_empty(), "no PATCH: the PUT carries the add");
        assert_eq!(removals.skills_replace.as_ref().map(Vec::len), Some(2));
        let cells: Vec<String> = removals
            .changes()
            .iter()
            .map(|c| c.text().into_owned())
            .collect();
        assert!(cells.contains(&"add skill Tech:4".to_string()));
        assert!(cells.contains(&"remove skill Billing".to_string()));
    }
}
