//! Why this exists: the provisioning cells that hold `;`-separated lists
//! (roles with their scope, rated skills and languages, queue and group
//! names) and the `invite` flag, each parsed into its typed values. Names
//! are read through the export's escaping (`crate::escape`), so a name
//! holding `;`, `@` or `:`, a name `-`, or one with edge spaces reads back
//! as itself.

use std::collections::HashSet;

use super::cells::{Rated, RoleRef, RoleScope};
use super::checks::check_text;
use crate::escape::{rsplit_once, split, trim, unescape};
use crate::text::cut;

/// The items of a list cell (still escaped); `-` or blank is none. Only
/// `-` clears: a cell of separators alone is refused, so a spreadsheet
/// formula over empty cells never removes everything.
fn list_items(cell: &str) -> Result<Vec<&str>, String> {
    if cell == "-" || cell.is_empty() {
        return Ok(Vec::new());
    }
    let items: Vec<&str> = split(cell).into_iter().filter(|i| !i.is_empty()).collect();
    if items.is_empty() {
        return Err(format!(
            "`{}` lists no item; write `-` to clear, or leave the cell blank",
            cut(cell)
        ));
    }
    Ok(items)
}

/// Refuses a name listed twice in one cell (which one would win is a guess).
fn no_repeats<T>(items: &[T], key: impl Fn(&T) -> String) -> Result<(), String> {
    let mut seen = HashSet::new();
    for item in items {
        let k = key(item);
        if !seen.insert(k.to_lowercase()) {
            return Err(format!("`{}` is listed twice", cut(&k)));
        }
    }
    Ok(())
}

/// One name of a list, unescaped and checked.
fn name_of(raw: &str, item: &str) -> Result<String, String> {
    let name = unescape(trim(raw)).into_owned();
    if name.is_empty() {
        return Err(format!("`{}` names nothing", cut(item)));
    }
    check_text(&name).map_err(|why| format!("`{}` {why}", cut(&name)))?;
    Ok(name)
}

pub(super) fn parse_roles(cell: &str) -> Result<Vec<RoleRef>, String> {
    let roles = list_items(cell)?
        .into_iter()
        .map(|item| {
            let (name, scope) = match rsplit_once(item, '@') {
                Some((name, division)) if trim(division) == "*" => (name, RoleScope::All),
                Some((name, division)) if !trim(division).is_empty() => (
                    name,
                    RoleScope::Division(unescape(trim(division)).into_owned()),
                ),
                Some(_) => return Err(format!("`{}` names no division after @", cut(item))),
                None => (item, RoleScope::Home),
            };
            if trim(name).is_empty() {
                return Err(format!("`{}` names no role", cut(item)));
            }
            Ok(RoleRef {
                name: name_of(name, item)?,
                scope,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    no_repeats(&roles, |r| match &r.scope {
        RoleScope::Home => r.name.clone(),
        RoleScope::All => format!("{}@*", r.name),
        RoleScope::Division(d) => format!("{}@{d}", r.name),
    })?;
    Ok(roles)
}

/// Skills or languages: `Name:rating`, or `Name` (a rating kept, or 0 new).
pub(super) fn parse_rated(cell: &str) -> Result<Vec<Rated>, String> {
    let rated = list_items(cell)?
        .into_iter()
        .map(|item| {
            let (name, rating) = match rsplit_once(item, ':') {
                Some((name, rating)) => {
                    let value: f64 = trim(rating).parse().map_err(|_| {
                        format!(
                            "`{}`: the rating after `:` must be a number from 0 to 5",
                            cut(item)
                        )
                    })?;
                    (name, Some(value))
                }
                None => (item, None),
            };
            if rating.is_some_and(|r| !(0.0..=5.0).contains(&r)) {
                return Err(format!("`{}`: the rating must be from 0 to 5", cut(item)));
            }
            Ok(Rated {
                name: name_of(name, item)?,
                rating,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    no_repeats(&rated, |r| r.name.clone())?;
    Ok(rated)
}

pub(super) fn parse_names(cell: &str) -> Result<Vec<String>, String> {
    let names = list_items(cell)?
        .into_iter()
        .map(|item| name_of(item, item))
        .collect::<Result<Vec<_>, String>>()?;
    no_repeats(&names, String::clone)?;
    Ok(names)
}

pub(super) fn parse_invite(cell: &str) -> Result<Option<bool>, String> {
    match cell.to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "yes" | "y" | "true" | "1" => Ok(Some(true)),
        "no" | "n" | "false" | "0" | "-" => Ok(Some(false)),
        other => Err(format!("`{}` is not yes or no", cut(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_names_read_as_one_name() {
        let roles = parse_roles("Team\\@Sales; Quality@Sales\\@EU; Admin@*").unwrap();
        assert_eq!(roles[0].name, "Team@Sales");
        assert_eq!(roles[0].scope, RoleScope::Home);
        assert_eq!(roles[1].scope, RoleScope::Division("Sales@EU".into()));
        assert_eq!(roles[2].scope, RoleScope::All);
        assert_eq!(
            parse_names("Sales\\; EMEA; \\-").unwrap(),
            ["Sales; EMEA", "-"]
        );
        let rated = parse_rated("Billing\\:EU:3; Sales").unwrap();
        assert_eq!(
            (rated[0].name.as_str(), rated[0].rating),
            ("Billing:EU", Some(3.0))
        );
        assert_eq!(rated[1].rating, None);
    }

    #[test]
    fn separators_alone_and_repeats_are_refused() {
        assert!(parse_names(" ; ")
            .unwrap_err()
            .contains("write `-` to clear"));
        assert!(parse_names("-").unwrap().is_empty());
        let twice = parse_rated("Billing:3; Billing:1").unwrap_err();
        assert!(twice.contains("`Billing` is listed twice"), "{twice}");
        assert!(parse_roles("Agent; Agent@Sales").is_ok(), "two divisions");
    }
}
