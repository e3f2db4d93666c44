//! Why this exists: every run that writes leaves an undo file, an import
//! file in the export's columns that puts back each user the run touches
//! (see docs/undo.md). It is worked out here, before the first write, from
//! what the preflight read: a user's row holds only the columns the run
//! changes for it (a blank cell leaves a column alone), so nothing more is
//! read, except where the run changes what it did not read in full: the
//! direct grants of a user whose roles change, is deactivated (Genesys
//! strips its roles) or deleted, and the queues of a user whose queues
//! change. Those are read in bulk (each role's subjects, each queue's
//! members) when that costs fewer requests than one read per user.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use crate::genesys::catalog::Catalog;
use crate::genesys::removals::{grants_from_roles, memberships_of, HeldGrant, HeldQueue};
use crate::genesys::removals::{QueueMembers, Roles, SUBJECT_GRANTS_PAGE};
use crate::genesys::users::User;
use crate::genesys::{CallError, Client};
use crate::input::{UserRow, UserState};
use crate::output::export::Table;
use crate::plan::{failed_outcome, Change, Job, Outcome, Plan, Status};
use crate::users::export::{user_columns, user_row, Holdings, Names};
use crate::users::Field;

use super::holdings::ends_run_for_queue;
use super::movers::read_role_subjects;

/// What the preflight read that the undo file takes its values from
/// (nothing is read twice for it).
#[derive(Default)]
pub struct Known {
    /// User id -> its grants, direct and from groups (`--exact`'s read).
    pub(super) grants: HashMap<String, Vec<HeldGrant>>,
    /// User id -> its queues (`--exact`'s read of every queue's members).
    pub(super) queues: Option<HashMap<String, Vec<HeldQueue>>>,
    /// Why `queues` is not complete: a queue whose members were not read.
    pub(super) queues_unread: Option<String>,
    pub(super) group_names: HashMap<String, String>,
    /// The org's roles with their holder counts (`--exact`'s read).
    pub(super) roles: Option<Roles>,
    pub(super) locations: HashMap<String, String>,
    pub(super) divisions: HashMap<String, String>,
    pub(super) home_division: Option<String>,
    /// User id -> email (managers).
    pub(super) emails: HashMap<String, String>,
}

/// The undo file's rows, and how many users they hold.
pub struct Undo {
    pub table: Table,
    pub users: usize,
}

/// What a planned row changes that its undo row must put back.
#[derive(Debug, Default, PartialEq)]
struct Touched {
    fields: Vec<Field>,
    roles: bool,
    /// Deactivated by the run: Genesys strips its roles, the default one too.
    strip: bool,
    skills: bool,
    languages: bool,
    queues: bool,
    groups: bool,
    /// Deleted by the run: everything.
    whole: bool,
    /// Created or restored by the run: the undo deletes it.
    gone: bool,
}

impl Touched {
    fn is_empty(&self) -> bool {
        *self == Touched::default()
    }
}

/// What the undo row of this plan's user must hold (`None`: the run
/// changes nothing the undo can put back, an invitation say).
fn touched(plan: &Plan) -> Option<Touched> {
    let touched = match plan {
        Plan::Create { .. } => Touched {
            gone: true,
            ..Touched::default()
        },
        Plan::Update { restore: true, .. } => Touched {
            gone: true,
            ..Touched::default()
        },
        Plan::Update { provision, .. } if provision.removals.delete_user => Touched {
            whole: true,
            ..Touched::default()
        },
        Plan::Update {
            user,
            existing,
            preview,
            ..
        } => {
            let mut t = Touched::default();
            for change in preview {
                match change {
                    Change::Field(field) => t.fields.push(*field),
                    Change::AddRole(_) | Change::RemoveRole(_) => t.roles = true,
                    Change::AddSkill(_) | Change::RemoveSkill(_) => t.skills = true,
                    Change::AddLanguage(_) | Change::RemoveLanguage(_) => t.languages = true,
                    Change::AddQueue(_) | Change::RemoveQueue(_) => t.queues = true,
                    Change::AddGroup(_) | Change::RemoveGroup(_) => t.groups = true,
                    _ => {}
                }
            }
            t.strip = deactivates(user, existing);
            t.roles |= t.strip;
            t
        }
        _ => return None,
    };
    (!touched.is_empty()).then_some(touched)
}

fn deactivates(row: &UserRow, user: &User) -> bool {
    row.state == Some(UserState::Inactive) && user.state.as_deref() != Some("inactive")
}

/// Works out the undo file of these plans: reads what it needs that the
/// preflight did not (in bulk where cheaper), and fails alone the row of
/// a user whose grants cannot be read (nothing is sent for it: the run
/// could not be undone for it).
pub async fn prepare(
    client: &Arc<Client>,
    jobs: &mut [Job],
    mut known: Known,
    concurrency: usize,
) -> Result<Undo, CallError> {
    let touched: Vec<Option<Touched>> = jobs.iter().map(|j| touched(&j.plan)).collect();
    let users: Vec<(&User, &Touched)> = jobs
        .iter()
        .zip(&touched)
        .filter_map(|(job, t)| match (&job.plan, t) {
            (Plan::Update { existing, .. }, Some(t)) if !t.gone => Some((&**existing, t)),
            _ => None,
        })
        .collect();
    let (grants, mut failed) = read_grants(client, &mut known, &users, concurrency).await?;
    let mut held = holdings(&mut known, grants);
    if let Some(why) = read_queues(client, &mut known, &users, &mut held).await? {
        let message = format!(
            "{why}, so the undo file cannot tell the user's queues: nothing was sent for this row"
        );
        for (user, touched) in &users {
            if touched.queues || touched.whole {
                let outcome = Outcome::new(Status::Failed).with_message(message.clone());
                failed.entry(user.id.clone()).or_insert(outcome);
            }
        }
    }
    read_groups(client, &mut known, &users, &mut held).await?;
    let names = read_names(client, &mut known, &users).await?;
    for job in jobs.iter_mut() {
        if let Plan::Update { existing, .. } = &job.plan {
            if let Some(outcome) = failed.remove(&existing.id) {
                job.plan = Plan::Report(outcome.with_user_id(&existing.id));
            }
        }
    }
    let mut rows = Vec::new();
    for (job, touched) in jobs.iter().zip(&touched) {
        let Some(touched) = touched else { continue };
        let row = match &job.plan {
            Plan::Create { user, .. } => created_row(user),
            Plan::Update { existing, .. } => {
                let full = user_row(existing, &names, &held, &known.emails);
                undo_row(full, touched)
            }
            _ => continue,
        };
        rows.push(row);
    }
    Ok(Undo {
        users: rows.len(),
        table: Table {
            header: user_columns(),
            rows,
        },
    })
}

/// A user the run creates: deleted by the undo.
fn created_row(user: &UserRow) -> Vec<String> {
    user_columns()
        .iter()
        .map(|column| match *column {
            "email" => user.email.to_string(),
            "name" => user.name.to_string(),
            "state" => "deleted".to_string(),
            _ => String::new(),
        })
        .collect()
}

/// The export's row of the user before the run, with only the columns the
/// run changes: the others blank (left alone), a changed column that was
/// empty `-` (cleared again).
fn undo_row(full: Vec<String>, touched: &Touched) -> Vec<String> {
    user_columns()
        .iter()
        .zip(full)
        .map(|(column, value)| {
            let field = |f: Field| touched.fields.contains(&f);
            let (changed, may_clear) = match *column {
                "email" => (true, false),
                "state" => (field(Field::State), false),
                "name" => (field(Field::Name), false),
                "division" => (field(Field::Division), false),
                "department" => (field(Field::Department), true),
                "title" => (field(Field::Title), true),
                "phone" => (field(Field::Phone), true),
                "manager" => (field(Field::Manager), true),
                "location" => (field(Field::Location), true),
                // The key that finds the user again when the run changed
                // its email (`--match employee_id`).
                "employee_id" => (field(Field::EmployeeId) || field(Field::Email), true),
                "employee_type" => (field(Field::EmployeeType), true),
                "hire_date" => (field(Field::HireDate), true),
                "roles" => (touched.roles, true),
                "skills" => (touched.skills, true),
                "languages" => (touched.languages, true),
                "queues" => (touched.queues, true),
                "groups" => (touched.groups, true),
                // A column the export does not read back (phones): blank.
                _ => return String::new(),
            };
            let keep = match *column {
                "email" => true,
                "state" => changed || touched.whole || touched.gone,
                _ => !touched.gone && (changed || touched.whole),
            };
            match (keep, value.is_empty() && may_clear) {
                (false, _) => String::new(),
                (true, true) => "-".to_string(),
                (true, false) => value,
            }
        })
        .collect()
}

/// User id -> why what its undo row needs could not be read.
type Failed = HashMap<String, Outcome>;

/// Grants read per user, and the users whose read failed (and why).
type Grants = (HashMap<String, Vec<HeldGrant>>, Failed);

/// The direct grants of every user whose roles the run changes: `--exact`'s
/// read where it made one (the default role, never removed, may be left
/// out of it), else read here; a deactivated or deleted user's are always
/// read here, the default role included (Genesys strips it too).
async fn read_grants(
    client: &Arc<Client>,
    known: &mut Known,
    users: &[(&User, &Touched)],
    concurrency: usize,
) -> Result<Grants, CallError> {
    let mut grants: HashMap<String, Vec<HeldGrant>> = HashMap::new();
    let mut wanted: Vec<GrantWant> = Vec::new();
    for (user, touched) in users {
        let all = touched.strip || touched.whole;
        if !(touched.roles || all) {
            continue;
        }
        if !all {
            if let Some(read) = known.grants.get(&user.id) {
                grants.insert(user.id.clone(), read.clone());
                continue;
            }
        }
        let held: Option<Vec<String>> = user
            .authorization
            .as_ref()
            .map(|a| a.roles.iter().map(|r| r.id.clone()).collect());
        if held.as_ref().is_some_and(Vec::is_empty) {
            grants.insert(user.id.clone(), Vec::new());
            continue;
        }
        wanted.push(GrantWant {
            id: user.id.clone(),
            held,
            groups: user.groups.iter().map(|g| g.id.clone()).collect(),
            defaults: all,
        });
    }
    let (read, failed) = cheapest_grants(client, known, wanted, concurrency).await?;
    grants.extend(read);
    Ok((grants, failed))
}

/// A user whose grants the undo reads.
struct GrantWant {
    id: String,
    /// The roles the search shows it holds (when it shows them).
    held: Option<Vec<String>>,
    groups: Vec<String>,
    /// The default role matters (a deactivation or deletion strips it).
    defaults: bool,
}

/// Reads these users' grants role by role (each role's subjects, 100 a
/// page) when that costs fewer requests than one read per user, else one
/// read per user. A user the search shows no roles of is read on its own.
async fn cheapest_grants(
    client: &Arc<Client>,
    known: &mut Known,
    wanted: Vec<GrantWant>,
    concurrency: usize,
) -> Result<Grants, CallError> {
    let (mut per_user, by_role): (Vec<GrantWant>, Vec<GrantWant>) =
        wanted.into_iter().partition(|w| w.held.is_none());
    let mut by_role = by_role;
    // Deciding needs the roles' holder counts: not worth a read for two users.
    if known.roles.is_none() && by_role.len() > 2 {
        known.roles = Some(client.roles_for_removal().await?);
    }
    let roles = known.roles.clone().unwrap_or_default();
    let needed = |w: &GrantWant| -> Vec<String> {
        w.held
            .iter()
            .flatten()
            .filter(|r| w.defaults || !roles.defaults.contains(*r))
            .cloned()
            .collect()
    };
    let read: BTreeSet<String> = by_role.iter().flat_map(needed).collect();
    let pages: Option<u64> = read
        .iter()
        .map(|r| {
            let holders = roles.counts.get(r).and_then(|(_, count)| *count)?;
            Some(holders.div_ceil(SUBJECT_GRANTS_PAGE).max(1))
        })
        .sum();
    if known.roles.is_none() || pages.is_none_or(|p| p >= by_role.len() as u64) {
        per_user.append(&mut by_role);
    }
    let mut grants = HashMap::new();
    if !by_role.is_empty() {
        let subjects = read_role_subjects(client, &roles, read, concurrency).await?;
        for want in by_role {
            let found = grants_from_roles(&want.id, &needed(&want), &want.groups, &subjects);
            grants.insert(want.id, found);
        }
    }
    let ids = per_user.into_iter().map(|w| w.id).collect();
    let (read, failed) = super::movers::read_grants(client, ids, concurrency).await?;
    grants.extend(read);
    let what =
        "reading the user's role grants for the undo file failed, so nothing was sent for this row";
    let failed = failed
        .into_iter()
        .map(|(id, e)| (id, failed_outcome(&e, what)))
        .collect();
    Ok((grants, failed))
}

/// The direct grants read, as the export writes them.
fn holdings(known: &mut Known, grants: HashMap<String, Vec<HeldGrant>>) -> Holdings {
    let mut held = Holdings::default();
    for grant in grants.values().flatten() {
        if grant.division_id != "*" && !grant.inherited {
            known
                .divisions
                .entry(grant.division_id.clone())
                .or_insert_with(|| grant.division_name.clone());
        }
    }
    let names = Names {
        divisions: known.divisions.clone(),
        home_division: known.home_division.clone().unwrap_or_default(),
        ..Names::default()
    };
    for (user_id, user_grants) in grants {
        for grant in user_grants.iter().filter(|g| !g.inherited) {
            held.grant(&names, &user_id, &grant.role_name, &grant.division_id);
        }
        // An empty list is written `-` (every grant removed).
        held.roles.entry(user_id).or_default();
    }
    held
}

/// The direct queues of the users whose queues change or who are deleted:
/// `--exact`'s read of every queue's members, else that read made here.
/// A queue whose members cannot be read: why (those users' rows fail).
async fn read_queues(
    client: &Client,
    known: &mut Known,
    users: &[(&User, &Touched)],
    held: &mut Holdings,
) -> Result<Option<String>, CallError> {
    let concerned: Vec<&User> = users
        .iter()
        .filter(|(_, t)| t.queues || t.whole)
        .map(|(u, _)| *u)
        .collect();
    if concerned.is_empty() {
        return Ok(None);
    }
    let mut refused = known.queues_unread.clone();
    if known.queues.is_none() {
        let mut all = Vec::new();
        for q in client.list_all(Catalog::Queues).await? {
            match client.queue_memberships(&q.id).await {
                Ok(members) => all.push(QueueMembers {
                    id: q.id,
                    name: q.name,
                    members,
                }),
                Err(e) if ends_run_for_queue(&e) => return Err(e),
                Err(e) => {
                    tracing::warn!(queue = %q.name, error = %e, "a queue's members could not be read for the undo file; the rows whose queues change fail");
                    refused.get_or_insert(format!(
                        "the members of queue {} could not be read ({e})",
                        q.name
                    ));
                }
            }
        }
        let by_user = concerned
            .iter()
            .map(|u| (u.id.clone(), memberships_of(&u.id, &all)))
            .collect();
        known.queues = Some(by_user);
    }
    for user in concerned {
        let queues = known.queues.as_ref().and_then(|q| q.get(&user.id));
        let direct = queues.into_iter().flatten().filter(|q| !q.by_group);
        held.queues
            .insert(user.id.clone(), direct.map(|q| q.name.clone()).collect());
    }
    Ok(refused)
}

/// The group names of the users whose groups change or who are deleted.
async fn read_groups(
    client: &Client,
    known: &mut Known,
    users: &[(&User, &Touched)],
    held: &mut Holdings,
) -> Result<(), CallError> {
    let group_users = users
        .iter()
        .filter(|(u, t)| (t.groups || t.whole) && !u.groups.is_empty());
    let missing = group_users.clone().any(|(u, _)| {
        u.groups
            .iter()
            .any(|g| !known.group_names.contains_key(&g.id))
    });
    if missing {
        for group in client.list_all(Catalog::Groups).await? {
            known.group_names.insert(group.id, group.name);
        }
    }
    for (user, _) in group_users {
        let names = user.groups.iter().map(|g| {
            known
                .group_names
                .get(&g.id)
                .cloned()
                .unwrap_or(g.id.clone())
        });
        held.groups.insert(user.id.clone(), names.collect());
    }
    Ok(())
}

/// The names the rows are written with: skills and languages as the
/// users' reads show them (their catalogue only if a name is missing),
/// locations, and divisions (listed only for a deleted user whose
/// division the preflight did not name).
async fn read_names(
    client: &Arc<Client>,
    known: &mut Known,
    users: &[(&User, &Touched)],
) -> Result<Names, CallError> {
    let mut names = Names {
        home_division: known.home_division.clone().unwrap_or_default(),
        ..Names::default()
    };
    for (kind, catalog, slot) in [
        (true, Catalog::Skills, &mut names.skills),
        (false, Catalog::Languages, &mut names.languages),
    ] {
        let items = |u: &User| {
            if kind {
                u.skills.clone()
            } else {
                u.languages.clone()
            }
        };
        let concerned = |t: &Touched| t.whole || if kind { t.skills } else { t.languages };
        let mut missing = false;
        for (user, _) in users.iter().filter(|(_, t)| concerned(t)) {
            for item in items(user) {
                match item.name {
                    Some(name) => {
                        slot.insert(item.id, name);
                    }
                    None => missing = true,
                }
            }
        }
        if missing {
            for item in client.list_all(catalog).await? {
                slot.entry(item.id).or_insert(item.name);
            }
        }
    }
    let placed = |(u, t): &&(&User, &Touched)| {
        (t.whole || t.fields.contains(&Field::Location))
            && u.location_ids()
                .iter()
                .any(|id| !known.locations.contains_key(*id))
    };
    if users.iter().any(|u| placed(&u)) {
        for item in client.list_all(Catalog::Locations).await? {
            known.locations.insert(item.id, item.name);
        }
    }
    let unnamed = |(u, t): &&(&User, &Touched)| {
        (t.whole || t.fields.contains(&Field::Division))
            && u.division_id()
                .is_some_and(|d| !known.divisions.contains_key(d))
    };
    if users.iter().any(|u| unnamed(&u)) {
        for division in client.all_divisions().await? {
            known.divisions.insert(division.id, division.name);
        }
    }
    names.locations = known.locations.clone();
    names.divisions = known.divisions.clone();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> Vec<String> {
        [
            "ana@example.com",
            "Ana",
            "Sales",
            "",
            "Agent",
            "",
            "active",
            "",
            "Agent",
            "",
            "English:5",
            "",
            "",
            "",
            "E-1",
            "",
            "",
        ]
        .map(String::from)
        .to_vec()
    }

    #[test]
    fn only_the_changed_columns_are_written_and_an_empty_one_is_cleared() {
        let touched = Touched {
            fields: vec![Field::Title, Field::Department, Field::Division],
            skills: true,
            languages: true,
            ..Touched::default()
        };
        let row = undo_row(full(), &touched);
        assert_eq!(
            row,
            [
                "ana@example.com",
                "",
                "Sales",
                "-",
                "Agent",
                "",
                "",
                "",
                "",
                "-",
                "English:5",
                "",
                "",
                "",
                "",
                "",
                ""
            ]
        );
    }

    #[test]
    fn a_changed_email_keeps_the_employee_id_to_find_the_user_by() {
        let touched = Touched {
            fields: vec![Field::Email],
            ..Touched::default()
        };
        let row = undo_row(full(), &touched);
        assert_eq!(row[0], "ana@example.com", "the email before the run");
        assert_eq!(row[14], "E-1");
        assert_eq!(row.iter().filter(|c| !c.is_empty()).count(), 2);
    }

    #[test]
    fn a_deleted_user_gets_its_whole_row_and_a_created_one_is_deleted() {
        let whole = Touched {
            whole: true,
            ..Touched::default()
        };
        let row = undo_row(full(), &whole);
        assert_eq!(row[1], "Ana");
        assert_eq!(row[3], "-", "an empty department is cleared");
        assert_eq!(row[6], "active");
        assert_eq!(row[8], "Agent");
        assert_eq!(row[11], "-", "no queues");
        let gone = Touched {
            gone: true,
            ..Touched::default()
        };
        let mut before = full();
        before[6] = "deleted".into();
        let row = undo_row(before, &gone);
        assert_eq!(row.iter().filter(|c| !c.is_empty()).count(), 2);
        assert_eq!(
            (row[0].as_str(), row[6].as_str()),
            ("ana@example.com", "deleted")
        );
    }
}
