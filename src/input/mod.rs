//! Why this exists: every row is read and validated offline, with its physical
//! line number, before anything is sent. Reading streams, so memory grows only
//! with the set of emails seen (needed to catch repeats), not with the file.

use std::path::{Path, PathBuf};

mod cells;
mod checks;
mod columns;
mod error;
mod fingerprint;
mod lines;
mod listed;
mod lists;
mod phone;
mod prelude;
pub mod queues;
mod reader;
mod users;
mod workbook;

pub use cells::{Cell, DivisionRef, ManagerRef, Rated, RoleScope, UserState};
pub use columns::is_known_column;
pub use error::{list_some, InputError};
pub use listed::Listed;
pub use phone::normalise_e164;
pub use prelude::SeparatorSource;
pub use reader::RowReader;
pub use users::{Row, UserRow};

/// Where rows come from: a path, or standard input for `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Stdin,
    File(PathBuf),
}

impl Source {
    pub fn from_arg(arg: &Path) -> Source {
        if arg.as_os_str() == "-" {
            Source::Stdin
        } else {
            Source::File(arg.to_path_buf())
        }
    }

    /// The name used in messages.
    pub fn display_path(&self) -> PathBuf {
        match self {
            Source::Stdin => PathBuf::from("<stdin>"),
            Source::File(p) => p.clone(),
        }
    }
}

/// The key that finds an existing user (`--match`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MatchKey {
    #[default]
    Email,
    EmployeeId,
}

/// How to read the input.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// `None`: detect it.
    pub delimiter: Option<u8>,
    pub key: MatchKey,
    /// `--sheet`: the worksheet of a workbook.
    pub sheet: Option<String>,
    /// `--map SOURCE=COLUMN`: source header (as written) -> our column name.
    pub map: Vec<(String, String)>,
    /// Users (the default) or queues: which columns the file has.
    pub resource: crate::resource::Resource,
    /// `--update`: `name` is needed only by rows that create a user.
    pub update: bool,
    /// `--allow-delete`: a `state` of `deleted` deletes the user.
    pub allow_delete: bool,
}
