//! Why this exists: division names and ids, resolved once in the preflight,
//! for new users, moves, queues and role grants.

use std::collections::HashMap;

use crate::genesys::authorization::Division;
use crate::genesys::{CallError, Client};
use crate::input::{DivisionRef, Row};
use crate::resolve::names;
use crate::text::cut;

/// Division names and ids, resolved once.
pub(crate) struct DivisionResolver {
    by_id: HashMap<String, (String, String)>,
    by_name: HashMap<String, Vec<String>>,
    listed: bool,
    /// The division for new users without one: `--division`, else home.
    default: Result<Option<String>, String>,
    /// The home division (for plain role grants).
    home: Option<(String, String)>,
}

impl names::Divisions for DivisionResolver {
    fn home(&self) -> Option<(String, String)> {
        self.home.clone()
    }

    fn find(&self, name_or_id: &str) -> Result<(String, String), String> {
        let id = self
            .lookup(&DivisionRef::parse(name_or_id))
            .map_err(|e| e.trim_start_matches("division: ").to_string())?;
        Ok((id.clone(), self.name_of(&id)))
    }
}

impl DivisionResolver {
    pub(crate) async fn load(
        client: &Client,
        rows: &[Row],
        default_division: Option<&str>,
    ) -> Result<DivisionResolver, CallError> {
        let valid = || rows.iter().filter_map(|r| r.validated.as_ref().ok());
        let role_scopes = || valid().flat_map(|u| u.roles.iter().map(|r| &r.scope));
        let needs_listing = default_division.is_some()
            || valid().any(|u| u.division.is_some())
            || role_scopes().any(|s| matches!(s, crate::input::RoleScope::Division(_)));
        let needs_default = valid().any(|u| u.division.is_none());
        let needs_home = role_scopes().any(|s| *s == crate::input::RoleScope::Home);
        Self::load_with(
            client,
            needs_listing,
            needs_default,
            needs_home,
            default_division,
        )
        .await
    }

    /// Lists divisions when names must be resolved, and reads the home
    /// division when rows need a default or a plain role grant.
    pub(crate) async fn load_with(
        client: &Client,
        needs_listing: bool,
        needs_default: bool,
        needs_home: bool,
        default_division: Option<&str>,
    ) -> Result<DivisionResolver, CallError> {
        let mut resolver = DivisionResolver {
            by_id: HashMap::new(),
            by_name: HashMap::new(),
            listed: false,
            default: Ok(None),
            home: None,
        };
        if needs_listing {
            let all: Vec<Division> = client.all_divisions().await?;
            tracing::info!(divisions = all.len(), "preflight: divisions listed");
            for division in all {
                resolver
                    .by_name
                    .entry(division.name.to_lowercase())
                    .or_default()
                    .push(division.id.clone());
                resolver
                    .by_id
                    .insert(division.id.to_lowercase(), (division.id, division.name));
            }
            resolver.listed = true;
        }
        if needs_home {
            let home = client.home_division().await?;
            resolver.home = Some((home.id, home.name));
        }
        if needs_default {
            resolver.default = match default_division {
                Some(given) => resolver
                    .lookup(&DivisionRef::parse(given))
                    .map(Some)
                    .map_err(|e| format!("{e} (from --division)")),
                None if resolver.home.is_some() => Ok(resolver.home.clone().map(|(id, _)| id)),
                None => match client.home_division().await {
                    Ok(home) => {
                        tracing::info!(division = %home.name, "rows without a division go to the home division");
                        Ok(Some(home.id))
                    }
                    // Not fatal: Genesys decides where a user without divisionId goes.
                    Err(
                        e @ CallError::Rejected {
                            status: 403 | 404, ..
                        },
                    ) => {
                        tracing::warn!(error = %e, "cannot read the home division; rows without a division are sent without divisionId");
                        Ok(None)
                    }
                    Err(e) => return Err(e),
                },
            };
        }
        Ok(resolver)
    }

    pub(crate) fn lookup(&self, division: &DivisionRef) -> Result<String, String> {
        match division {
            DivisionRef::Id(id) => match self.by_id.get(id) {
                Some((id, _)) => Ok(id.clone()),
                None if !self.listed => Ok(id.clone()),
                None => Err(format!("division: no division with id `{id}`")),
            },
            DivisionRef::Name(name) => {
                match self.by_name.get(&name.to_lowercase()).map(Vec::as_slice) {
                    Some([id]) => Ok(id.clone()),
                    Some([]) | None => Err(format!("division: no division named `{}`", cut(name))),
                    Some(_) => Err(format!(
                        "division: more than one division is named `{}`; use its id",
                        cut(name)
                    )),
                }
            }
        }
    }

    /// Every division listed, by id.
    pub(crate) fn names(&self) -> HashMap<String, String> {
        self.by_id.values().cloned().collect()
    }

    /// The home division's id, when it was read.
    pub(crate) fn home_id(&self) -> Option<String> {
        self.home.as_ref().map(|(id, _)| id.clone())
    }

    pub(crate) fn name_of(&self, id: &str) -> String {
        self.by_id
            .get(&id.to_lowercase())
            .map(|(_, name)| name.clone())
            .unwrap_or_else(|| id.to_string())
    }

    pub(crate) fn resolve(&self, division: Option<&DivisionRef>) -> Result<Option<String>, String> {
        match division {
            Some(d) => self.lookup(d).map(Some),
            None => self.default.clone(),
        }
    }
}
