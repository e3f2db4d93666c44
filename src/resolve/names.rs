//! Why this exists: a user without roles, skills and queues cannot take a
//! call. This resolves a row's provisioning cells (roles, skills, languages,
//! queues, groups, location, manager) to ids, by the names admins know,
//! before anything is written, and works out which of them a user still
//! lacks. Matching is exact (a unique case-insensitive match is accepted);
//! an unknown or ambiguous name makes the row invalid and names the closest
//! existing names. Pure but for `Catalogs::load`.

use crate::genesys::catalog::{Catalog, Named};
use crate::genesys::{CallError, Client};
use crate::input::{Cell, ManagerRef, Rated, RoleScope, Row, UserRow};
use crate::plan::{ManagerTarget, Member, RatedItem, RoleGrant, Wanted};
use crate::text::cut;
use crate::users::rating_text;
use std::collections::HashMap;

/// Names of one catalog to ids.
pub struct NameIndex {
    noun: &'static str,
    exact: HashMap<String, Vec<String>>,
    folded: HashMap<String, Vec<(String, String)>>,
    names: Vec<String>,
}

impl NameIndex {
    pub fn new(noun: &'static str, items: Vec<Named>) -> NameIndex {
        let mut index = NameIndex {
            noun,
            exact: HashMap::new(),
            folded: HashMap::new(),
            names: Vec::new(),
        };
        for item in items {
            index
                .exact
                .entry(item.name.clone())
                .or_default()
                .push(item.id.clone());
            index
                .folded
                .entry(item.name.trim().to_lowercase())
                .or_default()
                .push((item.id, item.name.clone()));
            index.names.push(item.name);
        }
        index
    }

    /// Every name by its id.
    pub fn by_id(&self) -> HashMap<String, String> {
        self.exact
            .iter()
            .flat_map(|(name, ids)| ids.iter().map(move |id| (id.clone(), name.clone())))
            .collect()
    }

    /// The id and the name as Genesys writes it.
    pub fn resolve(&self, name: &str) -> Result<(String, String), String> {
        match self.exact.get(name).map(Vec::as_slice) {
            Some([id]) => return Ok((id.clone(), name.to_string())),
            Some([_, _, ..]) => {
                return Err(format!(
                    "more than one {} is named `{}`",
                    self.noun,
                    cut(name)
                ))
            }
            _ => {}
        }
        match self
            .folded
            .get(&name.trim().to_lowercase())
            .map(Vec::as_slice)
        {
            Some([(id, real)]) => Ok((id.clone(), real.clone())),
            Some([_, _, ..]) => Err(format!(
                "`{}` matches more than one {} when case is ignored; write it exactly",
                cut(name),
                self.noun
            )),
            _ => Err(format!(
                "no {} named `{}`{}",
                self.noun,
                cut(name),
                self.suggest(name)
            )),
        }
    }

    /// " (closest: A, B)": up to three names a short edit away.
    fn suggest(&self, name: &str) -> String {
        let wanted = name.to_lowercase();
        let limit = (wanted.chars().count() / 3).max(2);
        let mut close: Vec<(usize, &String)> = self
            .names
            .iter()
            .map(|n| (distance(&wanted, &n.to_lowercase()), n))
            .filter(|(d, n)| *d <= limit || n.to_lowercase().starts_with(&wanted))
            .collect();
        close.sort();
        close.dedup_by(|a, b| a.1 == b.1);
        match close.len() {
            0 => String::new(),
            _ => format!(
                " (closest: {})",
                close
                    .iter()
                    .take(3)
                    .map(|(_, n)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// Levenshtein distance, on characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(previous + 1).min(row[j] + 1);
        }
    }
    row[b.len()]
}

/// The catalogs the rows use, each listed once.
#[derive(Default)]
pub struct Catalogs {
    pub roles: Option<NameIndex>,
    pub skills: Option<NameIndex>,
    pub languages: Option<NameIndex>,
    pub queues: Option<NameIndex>,
    pub groups: Option<NameIndex>,
    pub locations: Option<NameIndex>,
}

impl Catalogs {
    pub async fn load(client: &Client, rows: &[Row]) -> Result<Catalogs, CallError> {
        let valid: Vec<&UserRow> = rows
            .iter()
            .filter_map(|r| r.validated.as_ref().ok())
            .collect();
        let uses = |f: &dyn Fn(&UserRow) -> bool| valid.iter().any(|u| f(u));
        let mut catalogs = Catalogs::default();
        for (catalog, used, slot) in [
            (
                Catalog::Roles,
                uses(&|u| !u.roles.is_empty()),
                &mut catalogs.roles,
            ),
            (
                Catalog::Skills,
                uses(&|u| !u.skills.is_empty()),
                &mut catalogs.skills,
            ),
            (
                Catalog::Languages,
                uses(&|u| !u.languages.is_empty()),
                &mut catalogs.languages,
            ),
            (
                Catalog::Queues,
                uses(&|u| !u.queues.is_empty()),
                &mut catalogs.queues,
            ),
            (
                Catalog::Groups,
                uses(&|u| !u.groups.is_empty()),
                &mut catalogs.groups,
            ),
            (
                Catalog::Locations,
                uses(&|u| matches!(u.location, Cell::Set(_))),
                &mut catalogs.locations,
            ),
        ] {
            if used {
                let items = client.list_all(catalog).await?;
                tracing::info!(count = items.len(), "preflight: {}s listed", catalog.noun());
                *slot = Some(NameIndex::new(catalog.noun(), items));
            }
        }
        Ok(catalogs)
    }
}

/// How the preflight resolves divisions for role grants.
pub trait Divisions {
    fn home(&self) -> Option<(String, String)>;
    fn find(&self, name_or_id: &str) -> Result<(String, String), String>;
}

/// Everything a row names, resolved; `Err` is the row's `invalid` message.
pub fn resolve(
    row: &UserRow,
    catalogs: &Catalogs,
    divisions: &dyn Divisions,
    managers: &dyn Fn(&str) -> Option<ManagerTarget>,
) -> Result<Wanted, String> {
    let mut problems: Vec<String> = Vec::new();
    let mut wanted = Wanted::default();
    for role in &row.roles {
        let Some((role_id, role_name)) = find(&catalogs.roles, "roles", &role.name, &mut problems)
        else {
            continue;
        };
        let division = match &role.scope {
            RoleScope::All => Ok(("*".to_string(), "*".to_string())),
            RoleScope::Home => divisions
                .home()
                .ok_or_else(|| "the home division could not be read".to_string()),
            RoleScope::Division(d) => divisions.find(d),
        };
        match division {
            Ok((division_id, division_name)) => wanted.roles.push(RoleGrant {
                role_id,
                label: format!("{role_name}@{division_name}"),
                division_id,
            }),
            Err(why) => problems.push(format!("roles: `{}`: {why}", cut(&role.name))),
        }
    }
    let rated = |items: &[Rated],
                 index: &Option<NameIndex>,
                 column: &str,
                 problems: &mut Vec<String>|
     -> Vec<RatedItem> {
        items
            .iter()
            .filter_map(|item| {
                let (id, name) = find(index, column, &item.name, problems)?;
                Some(RatedItem {
                    id,
                    rating: item.rating.unwrap_or(0.0),
                    label: format!("{name}:{}", rating_text(item.rating.unwrap_or(0.0))),
                    unrated: item.rating.is_none(),
                })
            })
            .collect()
    };
    wanted.skills = rated(&row.skills, &catalogs.skills, "skills", &mut problems);
    wanted.languages = rated(
        &row.languages,
        &catalogs.languages,
        "languages",
        &mut problems,
    );
    let members = |names: &[String],
                   index: &Option<NameIndex>,
                   column: &str,
                   problems: &mut Vec<String>|
     -> Vec<Member> {
        names
            .iter()
            .filter_map(|name| {
                find(index, column, name, problems).map(|(id, name)| Member { id, name })
            })
            .collect()
    };
    wanted.queues = members(&row.queues, &catalogs.queues, "queues", &mut problems);
    wanted.groups = members(&row.groups, &catalogs.groups, "groups", &mut problems);
    wanted.location = match &row.location {
        Cell::Blank => None,
        Cell::Clear => Some(None),
        Cell::Set(name) => find(&catalogs.locations, "location", name, &mut problems)
            .map(|(id, name)| Some(Member { id, name })),
    };
    wanted.manager = match &row.manager {
        Cell::Blank => None,
        Cell::Clear => Some(ManagerTarget::Clear),
        Cell::Set(ManagerRef::Id(id)) => Some(ManagerTarget::Id(id.clone())),
        Cell::Set(ManagerRef::Email(email)) => match managers(email) {
            Some(target) => Some(target),
            None => {
                problems.push(format!(
                    "manager: no user with the email `{}` in the org or in this file",
                    cut(email)
                ));
                None
            }
        },
    };
    if problems.is_empty() {
        Ok(wanted)
    } else {
        Err(problems.join("; "))
    }
}

/// A name of `column` looked up in `index`; a miss is noted in `problems`.
fn find(
    index: &Option<NameIndex>,
    column: &str,
    name: &str,
    problems: &mut Vec<String>,
) -> Option<(String, String)> {
    match index.as_ref()?.resolve(name) {
        Ok(found) => Some(found),
        Err(why) => {
            problems.push(format!("{column}: {why}"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(pairs: &[(&str, &str)]) -> Vec<Named> {
        pairs
            .iter()
            .map(|(id, name)| Named {
                id: id.to_string(),
                name: name.to_string(),
            })
            .collect()
    }

    #[test]
    fn names_match_exactly_then_without_case_and_suggest_the_closest() {
        let index = NameIndex::new(
            "skill",
            named(&[
                ("1", "Sales"),
                ("2", "Sales Advanced"),
                ("3", "Billing"),
                ("4", "billing "),
            ]),
        );
        assert_eq!(index.resolve("Sales").unwrap().0, "1");
        assert_eq!(
            index.resolve("sales").unwrap(),
            ("1".into(), "Sales".into())
        );
        assert!(
            index.resolve("Billing").is_ok(),
            "exact wins over folded duplicates"
        );
        assert!(index
            .resolve("BILLING")
            .unwrap_err()
            .contains("more than one"));
        let missing = index.resolve("Sal").unwrap_err();
        assert_eq!(
            missing,
            "no skill named `Sal` (closest: Sales, Sales Advanced)"
        );
        assert_eq!(
            index.resolve("Sals").unwrap_err(),
            "no skill named `Sals` (closest: Sales)"
        );
        assert_eq!(
            index.resolve("Zzzzzzzz").unwrap_err(),
            "no skill named `Zzzzzzzz`"
        );
    }
}
