//! Why this exists: `--update --exact` takes away what a row no longer lists,
//! and a leaver is deleted; these are the reads that tell what a user holds
//! directly and the writes that remove it.
//!
//! docs/genesys-api.md#movers-and-leavers (the API description unless noted): role grants with
//! `POST /api/v2/authorization/subjects/{id}/bulkremove` (falling back to
//! one `DELETE …/subjects/{id}/divisions/{d}/roles/{r}` a grant, 404s
//! ignored, when a role or division no longer exists, as Terraform does);
//! skills with the replacing `PUT /api/v2/users/{id}/routingskills/bulk` or
//! one `DELETE …/routingskills/{skillId}` each; languages with one
//! `DELETE …/routinglanguages/{languageId}` each (there is no bulk);
//! queue members with `POST /api/v2/routing/queues/{id}/members?delete=true`
//! (100 a request); group members with `DELETE /api/v2/groups/{id}/members?ids=`
//! (50 a request); the user with `DELETE /api/v2/users/{id}`; one role
//! from many users with `PUT /api/v2/authorization/roles/{id}/users/remove`
//! (only for users who keep the role in no division).

use std::collections::{HashMap, HashSet};

use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use super::catalog::Named;
use super::lists::SubjectGrants;
use super::provisioning::{id_objects, RatedKind};
use super::{api_failure, CallError, Client, Safety};

/// Users per queue-members delete (documented: 100).
pub const QUEUE_REMOVE_BATCH: usize = 100;
/// Users per group-members delete (documented: 50).
pub const GROUP_REMOVE_BATCH: usize = 50;
/// Users per `roles/{id}/users/remove` (the cap is not documented; the
/// size of the other cross-user batches, as role adds use).
pub const ROLE_REMOVE_BATCH: usize = 100;
/// Tries of a skill or language DELETE that meets a version conflict.
const RATED_CONFLICT_TRIES: u32 = 3;

/// What a removal did: removed it, or found it already gone (404: someone
/// else removed it since the preflight, so this run changed nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    Done,
    AlreadyGone,
}

/// A role grant the user holds, as its grants read shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldGrant {
    pub role_id: String,
    pub role_name: String,
    pub division_id: String,
    /// `*` for all divisions.
    pub division_name: String,
    /// Granted to a group the user is in, not to the user.
    pub inherited: bool,
    /// That group, when the read tells it.
    pub group: Option<String>,
}

impl HeldGrant {
    /// A grant of `role` in division `d` as a role's subject list shows it:
    /// the user's own, or inherited from `group`.
    fn in_division(role: &str, name: &str, d: &Named, group: Option<&str>) -> HeldGrant {
        HeldGrant {
            role_id: role.to_string(),
            role_name: name.to_string(),
            division_id: d.id.clone(),
            division_name: if d.id == "*" {
                "*".into()
            } else {
                d.name.clone()
            },
            inherited: group.is_some(),
            group: group.map(str::to_string),
        }
    }
}

/// A queue the user is a member of.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldQueue {
    pub id: String,
    pub name: String,
    /// The membership comes from a group (Genesys refuses to remove it alone).
    pub by_group: bool,
    /// The user is a member through a group too (its own membership aside).
    pub also_by_group: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubjectGrant {
    #[serde(default)]
    subject_id: Option<String>,
    role: Named,
    division: Named,
}

#[derive(Debug, Deserialize)]
struct Subject {
    #[serde(default)]
    grants: Vec<SubjectGrant>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Role {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    default: bool,
    /// `employee` for the Employee role, whatever the org renamed it to.
    #[serde(default)]
    default_role_id: Option<String>,
    #[serde(default)]
    user_count: Option<u64>,
}

/// The org's roles as the preflight needs them for removals.
#[derive(Debug, Clone, Default)]
pub struct Roles {
    /// The roles Genesys marks `default` (never removed).
    pub defaults: HashSet<String>,
    /// Role id -> (name, how many users hold it, when Genesys says).
    pub counts: HashMap<String, (String, Option<u64>)>,
}

/// Subjects per page of a role's subject grants (the cap is not
/// documented; 100, as for queue members).
pub const SUBJECT_GRANTS_PAGE: u64 = super::lists::MEMBER_PAGE as u64;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct QueueMember {
    id: String,
    /// `user` or `group`.
    #[serde(default)]
    member_by: Option<String>,
}

impl Client {
    /// A user's role grants, each marked inherited when it is the grant of
    /// a group the user is in (`subjectId` is then not the user).
    pub async fn held_grants(&self, user_id: &str) -> Result<Vec<HeldGrant>, CallError> {
        let subject: Subject = self
            .get_json(&format!("/api/v2/authorization/subjects/{user_id}"), &[])
            .await?;
        Ok(subject
            .grants
            .into_iter()
            .map(|g| HeldGrant {
                inherited: g.subject_id.as_deref().is_some_and(|s| s != user_id),
                group: g.subject_id.filter(|s| s != user_id),
                role_name: if g.role.name.is_empty() {
                    g.role.id.clone()
                } else {
                    g.role.name
                },
                role_id: g.role.id,
                division_name: if g.division.id == "*" {
                    "*".into()
                } else {
                    g.division.name
                },
                division_id: g.division.id,
            })
            .collect())
    }

    /// The org's roles: which Genesys marks `default` (normally
    /// `Employee`), and how many users hold each.
    pub async fn roles_for_removal(&self) -> Result<Roles, CallError> {
        let listed: Vec<Role> = self.paged("/api/v2/authorization/roles", 100).await?;
        let mut roles = Roles::default();
        for r in listed {
            if r.default || r.default_role_id.as_deref() == Some("employee") {
                roles.defaults.insert(r.id.clone());
            }
            roles.counts.insert(r.id, (r.name, r.user_count));
        }
        Ok(roles)
    }

    /// A queue's user members, each with whether a group brings it.
    pub async fn queue_memberships(
        &self,
        queue_id: &str,
    ) -> Result<Vec<(String, bool)>, CallError> {
        let members: Vec<QueueMember> = self
            .paged(&format!("/api/v2/routing/queues/{queue_id}/members"), 100)
            .await?;
        Ok(members
            .into_iter()
            .map(|m| (m.id, m.member_by.as_deref() == Some("group")))
            .collect())
    }

    /// Takes role grants from one user. `bulkremove` fails whole when a
    /// role or division no longer exists; then each grant is removed on
    /// its own and a 404 (already gone) counts as done.
    pub async fn remove_grants(
        &self,
        user_id: &str,
        grants: &[(String, String)],
    ) -> Result<Removal, CallError> {
        let body = json!({"grants": grants
            .iter()
            .map(|(role, division)| json!({"roleId": role, "divisionId": division}))
            .collect::<Vec<_>>()});
        let bulk = self
            .send(
                Method::POST,
                &format!("/api/v2/authorization/subjects/{user_id}/bulkremove"),
                &[],
                &body,
                Safety::Retryable,
            )
            .await;
        match bulk {
            Err(CallError::Rejected {
                status: 400 | 404, ..
            }) => {}
            other => return other.map(|()| Removal::Done),
        }
        let mut removed = false;
        for (role, division) in grants {
            let one = self
                .delete(
                    &format!("/api/v2/authorization/subjects/{user_id}/divisions/{division}/roles/{role}"),
                    &[],
                )
                .await;
            match one {
                Ok(()) => removed = true,
                Err(CallError::Rejected { status: 404, .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(if removed {
            Removal::Done
        } else {
            Removal::AlreadyGone
        })
    }

    /// Takes one role from many users (at most `ROLE_REMOVE_BATCH`):
    /// `PUT /api/v2/authorization/roles/{roleId}/users/remove`. Whether it
    /// removes the role in every division is unverified (docs/genesys-api.md),
    /// so it is sent only for users who hold the role in no division after
    /// their row, where either reading does the same.
    pub async fn remove_role_users(
        &self,
        role_id: &str,
        user_ids: &[String],
    ) -> Result<(), CallError> {
        let body = Value::Array(user_ids.iter().map(|id| json!(id)).collect());
        self.send(
            Method::PUT,
            &format!("/api/v2/authorization/roles/{role_id}/users/remove"),
            &[],
            &body,
            Safety::Retryable,
        )
        .await
    }

    /// Sets a user's skills to exactly `items` (id, rating): one replacing PUT.
    pub async fn replace_skills(
        &self,
        user_id: &str,
        items: &[(String, f64)],
    ) -> Result<(), CallError> {
        let body: Vec<Value> = items
            .iter()
            .map(|(id, rating)| json!({"id": id, "proficiency": rating}))
            .collect();
        self.send(
            Method::PUT,
            &format!("/api/v2/users/{user_id}/routingskills/bulk"),
            &[],
            &Value::Array(body),
            Safety::Retryable,
        )
        .await
    }

    /// Takes one skill or language from a user; already gone (404) is
    /// said as such (nothing was removed by this run).
    pub async fn remove_rated(
        &self,
        user_id: &str,
        kind: RatedKind,
        id: &str,
    ) -> Result<Removal, CallError> {
        let path = match kind {
            RatedKind::Skills => format!("/api/v2/users/{user_id}/routingskills/{id}"),
            RatedKind::Languages => format!("/api/v2/users/{user_id}/routinglanguages/{id}"),
        };
        // Genesys answers 409 when the user changed meanwhile (Terraform retries it).
        let mut tries = 0;
        loop {
            match self.delete(&path, &[]).await {
                Err(CallError::Rejected { status: 404, .. }) => return Ok(Removal::AlreadyGone),
                Err(CallError::Rejected { status: 409, .. })
                    if tries + 1 < RATED_CONFLICT_TRIES =>
                {
                    tries += 1
                }
                other => return other.map(|()| Removal::Done),
            }
        }
    }

    /// Takes users out of a queue (at most `QUEUE_REMOVE_BATCH`).
    pub async fn remove_queue_members(
        &self,
        queue_id: &str,
        user_ids: &[String],
    ) -> Result<(), CallError> {
        self.send(
            Method::POST,
            &format!("/api/v2/routing/queues/{queue_id}/members"),
            &[("delete", "true".into())],
            &id_objects(user_ids),
            Safety::Retryable,
        )
        .await
    }

    /// Takes users out of a group (at most `GROUP_REMOVE_BATCH`; no version needed).
    pub async fn remove_group_members(
        &self,
        group_id: &str,
        user_ids: &[String],
    ) -> Result<(), CallError> {
        self.delete(
            &format!("/api/v2/groups/{group_id}/members"),
            &[("ids", user_ids.join(","))],
        )
        .await
    }

    /// Deletes a user; one already deleted (404) is done.
    pub async fn delete_user(&self, user_id: &str) -> Result<Removal, CallError> {
        match self.delete(&format!("/api/v2/users/{user_id}"), &[]).await {
            Err(CallError::Rejected { status: 404, .. }) => Ok(Removal::AlreadyGone),
            other => other.map(|()| Removal::Done),
        }
    }

    /// A DELETE: removing what is gone changes nothing, so it may be retried.
    async fn delete(&self, path: &str, query: &[(&str, String)]) -> Result<(), CallError> {
        let reply = self
            .call(Method::DELETE, path, query, None, Safety::Retryable)
            .await?;
        if reply.is_success() {
            Ok(())
        } else {
            Err(api_failure(&reply))
        }
    }
}

/// A queue and its user members, each with whether a group brings it.
pub struct QueueMembers {
    pub id: String,
    pub name: String,
    pub members: Vec<(String, bool)>,
}

/// A user's queues from the members of every queue.
pub fn memberships_of(user_id: &str, queues: &[QueueMembers]) -> Vec<HeldQueue> {
    queues
        .iter()
        .filter_map(|QueueMembers { id, name, members }| {
            let mine: Vec<bool> = members
                .iter()
                .filter(|(m, _)| m == user_id)
                .map(|(_, by_group)| *by_group)
                .collect();
            // Held directly if any of its memberships is the user's own.
            (!mine.is_empty()).then(|| HeldQueue {
                id: id.clone(),
                name: name.clone(),
                by_group: mine.iter().all(|g| *g),
                also_by_group: mine.iter().any(|g| *g),
            })
        })
        .collect()
}

/// A role's subjects as read (`GET .../roles/{id}/subjectgrants`), with
/// an index by subject id: a role every user holds lists the whole org,
/// and each user's grants are looked up in it, not scanned for.
#[derive(Debug, Clone, Default)]
pub struct RoleSubjects {
    pub name: String,
    listed: Vec<SubjectGrants>,
    by_id: HashMap<String, Vec<usize>>,
}

impl RoleSubjects {
    pub fn new(name: String, listed: Vec<SubjectGrants>) -> RoleSubjects {
        let mut by_id: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, s) in listed.iter().enumerate() {
            by_id.entry(s.id.clone()).or_default().push(i);
        }
        RoleSubjects {
            name,
            listed,
            by_id,
        }
    }

    /// The subjects with these ids, in the order the listing gave them.
    fn of<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Vec<&SubjectGrants> {
        let mut at: Vec<usize> = ids
            .into_iter()
            .filter_map(|id| self.by_id.get(id))
            .flatten()
            .copied()
            .collect();
        at.sort_unstable();
        at.dedup();
        at.into_iter().map(|i| &self.listed[i]).collect()
    }
}

/// One user's grants from role-centric reads (`subjects`: role id -> its
/// name and subjects): a `PC_USER` subject that is the user is a direct
/// grant in each of its divisions; a role the user holds (`held`, from the
/// user's `authorization`) without being its subject, or whose subjects
/// include one of the user's `groups`, comes (also) from a group (its
/// division is then not known), so removing the direct grants does not
/// take the role away.
pub fn grants_from_roles(
    user_id: &str,
    held: &[String],
    groups: &[String],
    subjects: &HashMap<String, RoleSubjects>,
) -> Vec<HeldGrant> {
    let mut grants = Vec::new();
    for role in held {
        let Some(listed) = subjects.get(role) else {
            continue;
        };
        let name = if listed.name.is_empty() {
            role
        } else {
            &listed.name
        };
        let direct: Vec<&SubjectGrants> = listed
            .of([user_id])
            .into_iter()
            .filter(|s| s.is_direct_user())
            .collect();
        for d in direct.iter().flat_map(|s| &s.divisions) {
            grants.push(HeldGrant::in_division(role, name, d, None));
        }
        let by_groups: Vec<&SubjectGrants> = listed
            .of(groups.iter().map(String::as_str))
            .into_iter()
            .filter(|s| !s.is_direct_user())
            .collect();
        for s in &by_groups {
            if s.divisions.is_empty() {
                grants.push(HeldGrant {
                    role_id: role.clone(),
                    role_name: name.clone(),
                    division_id: String::new(),
                    division_name: String::new(),
                    inherited: true,
                    group: Some(s.id.clone()),
                });
            }
            for d in &s.divisions {
                grants.push(HeldGrant::in_division(role, name, d, Some(&s.id)));
            }
        }
        if direct.is_empty() && by_groups.is_empty() {
            // Held, yet neither the user nor one of its groups is listed: from a group, division unknown.
            grants.push(HeldGrant {
                role_id: role.clone(),
                role_name: name.clone(),
                division_id: String::new(),
                division_name: String::new(),
                inherited: true,
                group: None,
            });
        }
    }
    grants
}

/// One user's grants from role-centric reads, as its own read (`GET
/// /api/v2/authorization/subjects/{id}`) would show them: each direct grant
/// in its division, and each grant of a group the user is in (`groups`) in
/// each of the group's divisions, marked inherited. `None` when a role the
/// user holds (`held`) lists neither the user nor one of its groups among
/// its subjects: where that role is granted is then not known, and only
/// the user's own read tells.
pub fn grants_as_read_per_user(
    user_id: &str,
    held: &[String],
    groups: &[String],
    subjects: &HashMap<String, RoleSubjects>,
) -> Option<Vec<HeldGrant>> {
    let mut grants = Vec::new();
    for role in held {
        let listed = subjects.get(role)?;
        let name = if listed.name.is_empty() {
            role
        } else {
            &listed.name
        };
        let ids = std::iter::once(user_id).chain(groups.iter().map(String::as_str));
        let mine: Vec<&SubjectGrants> = listed
            .of(ids)
            .into_iter()
            .filter(|s| {
                (s.id == user_id && s.is_direct_user())
                    || (!s.is_direct_user() && groups.contains(&s.id))
            })
            .collect();
        let before = grants.len();
        for s in mine {
            for d in &s.divisions {
                let group = (!s.is_direct_user()).then_some(s.id.as_str());
                grants.push(HeldGrant::in_division(role, name, d, group));
            }
        }
        if grants.len() == before {
            return None;
        }
    }
    Some(grants)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn role_centric_reads_tell_direct_grants_from_a_groups() {
        let agent: Vec<SubjectGrants> = serde_json::from_value(json!([
            {"id": "u1", "type": "PC_USER", "divisions": [{"id": "d1", "name": "Home"}, {"id": "*", "name": ""}]},
            {"id": "u2", "type": "PC_USER", "divisions": [{"id": "d1", "name": "Home"}]}
        ]))
        .unwrap();
        let quality: Vec<SubjectGrants> = serde_json::from_value(json!([
            {"id": "g1", "type": "PC_GROUP", "divisions": [{"id": "d1", "name": "Home"}]}
        ]))
        .unwrap();
        let subjects = HashMap::from([
            (
                "r1".to_string(),
                RoleSubjects::new("Agent".into(), agent.clone()),
            ),
            (
                "r2".to_string(),
                RoleSubjects::new("Quality".into(), quality),
            ),
        ]);
        let grants = grants_from_roles("u1", &["r1".into(), "r2".into()], &[], &subjects);
        let seen: Vec<(String, String, bool)> = grants
            .iter()
            .map(|g| (g.role_name.clone(), g.division_name.clone(), g.inherited))
            .collect();
        assert_eq!(
            seen,
            [
                ("Agent".into(), "Home".into(), false),
                ("Agent".into(), "*".into(), false),
                ("Quality".into(), String::new(), true)
            ]
        );
        // Held directly and through a group it is in: the group's grant shows too.
        let grants = grants_from_roles("u2", &["r1".into()], &["g1".into()], &{
            let mut s = subjects.clone();
            let mut with_group = agent.clone();
            with_group.push(
                serde_json::from_value(json!({"id": "g1", "type": "PC_GROUP", "divisions": []}))
                    .unwrap(),
            );
            s.insert("r1".into(), RoleSubjects::new("Agent".into(), with_group));
            s
        });
        assert_eq!(grants.len(), 2);
        assert!(grants[1].inherited, "{grants:?}");
    }

    #[test]
    fn role_centric_reads_rebuild_a_users_own_read_or_say_they_cannot() {
        let agent: Vec<SubjectGrants> = serde_json::from_value(json!([
            {"id": "u1", "type": "PC_USER", "divisions": [{"id": "d1", "name": "Home"}]},
            {"id": "g1", "type": "PC_GROUP", "divisions": [{"id": "d2", "name": "Sales"}]},
            {"id": "g2", "type": "PC_GROUP", "divisions": [{"id": "d3", "name": "Other"}]}
        ]))
        .unwrap();
        let subjects =
            HashMap::from([("r1".to_string(), RoleSubjects::new("Agent".into(), agent))]);
        let grants =
            grants_as_read_per_user("u1", &["r1".into()], &["g1".into()], &subjects).unwrap();
        let seen: Vec<(&str, bool)> = grants
            .iter()
            .map(|g| (g.division_name.as_str(), g.inherited))
            .collect();
        assert_eq!(seen, [("Home", false), ("Sales", true)], "g2 is not u1's");
        // Held through a group the user is not shown in: where is not known.
        assert_eq!(
            grants_as_read_per_user("u2", &["r1".into()], &[], &subjects),
            None
        );
    }
}
