//! Why this exists: the typed values a cell becomes (a blank-or-clear
//! `Cell`, a division, a manager, a role's scope, a rated skill, a secret
//! password), so the rest of the crate never looks at raw text again.

use std::fmt;

use super::checks::is_uuid;

/// A division as written in the CSV: an id (UUID) or a name to resolve.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DivisionRef {
    Id(String),
    Name(String),
}

impl DivisionRef {
    pub fn parse(value: &str) -> DivisionRef {
        if is_uuid(value) {
            DivisionRef::Id(value.to_ascii_lowercase())
        } else {
            DivisionRef::Name(value.to_string())
        }
    }
}

/// `active` or `inactive`, as accepted by `CreateUser.state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserState {
    Active,
    Inactive,
    /// `--update --allow-delete`: delete the user.
    Deleted,
}

impl UserState {
    pub fn as_api_str(self) -> &'static str {
        match self {
            UserState::Active => "active",
            UserState::Inactive => "inactive",
            UserState::Deleted => "deleted",
        }
    }
}

/// A password from the CSV. Never printed, not even by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(pub(super) String);

impl Password {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([REDACTED])")
    }
}

/// An optional cell: blank leaves the value as it is, a single `-` clears it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Cell<T> {
    #[default]
    Blank,
    Clear,
    Set(T),
}

impl<T> Cell<T> {
    /// The value to create a user with (`-` and blank both mean none).
    pub fn value(&self) -> Option<&T> {
        match self {
            Cell::Set(v) => Some(v),
            _ => None,
        }
    }
}

/// A manager: an email (in the org or in this file) or a user id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManagerRef {
    Email(String),
    Id(String),
}

/// Where a role is granted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RoleScope {
    /// Plain `Role`: the home division.
    Home,
    /// `Role@*`: every division, present and future.
    All,
    /// `Role@Division`: a division by name or id.
    Division(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRef {
    pub name: String,
    pub scope: RoleScope,
}

/// A skill or language and its rating (0 to 5; `None`: none written, so a
/// rating the user has stays and a new one is 0).
#[derive(Debug, Clone, PartialEq)]
pub struct Rated {
    pub name: String,
    pub rating: Option<f64>,
}

impl Eq for Rated {}
