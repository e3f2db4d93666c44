//! Why this exists: the provisioning cells that hold `;`-separated lists
//! (roles with their scope, rated skills and languages, queue and group
//! names) and the `invite` flag, each parsed into its typed values.

use super::cells::{Rated, RoleRef, RoleScope};
use super::checks::check_text;
use crate::text::cut;

/// The items of a `;`-separated list cell; `-` or blank is none.
fn list_items(cell: &str) -> impl Iterator<Item = &str> {
    let none = cell == "-";
    cell.split(';')
        .map(str::trim)
        .filter(move |item| !none && !item.is_empty())
}

pub(super) fn parse_roles(cell: &str) -> Result<Vec<RoleRef>, String> {
    list_items(cell)
        .map(|item| {
            let (name, scope) = match item.rsplit_once('@') {
                Some((name, "*")) => (name.trim(), RoleScope::All),
                Some((name, division)) if !division.trim().is_empty() => (
                    name.trim(),
                    RoleScope::Division(division.trim().to_string()),
                ),
                Some(_) => return Err(format!("`{}` names no division after @", cut(item))),
                None => (item, RoleScope::Home),
            };
            check_text(name).map_err(|why| format!("`{}` {why}", cut(name)))?;
            if name.is_empty() {
                return Err(format!("`{}` names no role", cut(item)));
            }
            Ok(RoleRef {
                name: name.to_string(),
                scope,
            })
        })
        .collect()
}

pub(super) fn parse_rated(cell: &str) -> Result<Vec<Rated>, String> {
    list_items(cell)
        .map(|item| {
            let (name, rating) = match item.rsplit_once(':') {
                Some((name, rating)) => {
                    let value: f64 = rating.trim().parse().map_err(|_| {
                        format!(
                            "`{}`: the rating after `:` must be a number from 0 to 5",
                            cut(item)
                        )
                    })?;
                    (name.trim(), value)
                }
                None => (item, 0.0),
            };
            if !(0.0..=5.0).contains(&rating) {
                return Err(format!("`{}`: the rating must be from 0 to 5", cut(item)));
            }
            if name.is_empty() {
                return Err(format!("`{}` names nothing before `:`", cut(item)));
            }
            check_text(name).map_err(|why| format!("`{}` {why}", cut(name)))?;
            Ok(Rated {
                name: name.to_string(),
                rating,
            })
        })
        .collect()
}

pub(super) fn parse_names(cell: &str) -> Result<Vec<String>, String> {
    list_items(cell)
        .map(|item| {
            check_text(item)
                .map(|()| item.to_string())
                .map_err(|why| format!("`{}` {why}", cut(item)))
        })
        .collect()
}

pub(super) fn parse_invite(cell: &str) -> Result<Option<bool>, String> {
    match cell.to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "yes" | "y" | "true" | "1" => Ok(Some(true)),
        "no" | "n" | "false" | "0" | "-" => Ok(Some(false)),
        other => Err(format!("`{}` is not yes or no", cut(other))),
    }
}
