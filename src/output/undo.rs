//! Why this exists: the undo file must be there, whole, before a run's
//! first write, and must never take the place of an earlier run's undo
//! by accident. It is written like an export (a temporary file beside it,
//! renamed into place once complete), in the export's own writer, so its
//! cells read back to the same values.

use std::io;
use std::path::{Path, PathBuf};

use crate::output::export::{write_file, Table};

/// Where the undo file goes (`--undo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UndoTarget {
    /// `--undo none`.
    None,
    /// `--undo PATH`: this file, replaced if it exists.
    Path(PathBuf),
    /// The default name: this file, or the next free name beside it
    /// (`users.undo.1.csv`, ...) so an earlier run's undo is never lost.
    Default(PathBuf),
}

/// Where this run's undo file goes: `--undo PATH` as given (replaced if it
/// exists); the default name, or when that exists the next free one
/// (`users.undo.1.csv`, `users.undo.2.csv`, ...). `None`: `--undo none`.
pub fn choose_path(target: &UndoTarget) -> Option<PathBuf> {
    match target {
        UndoTarget::None => None,
        UndoTarget::Path(path) => Some(path.clone()),
        UndoTarget::Default(path) => Some(next_free(path)),
    }
}

fn next_free(path: &Path) -> PathBuf {
    if !exists(path) {
        return path.to_path_buf();
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (stem, extension) = match name.strip_suffix(".csv") {
        Some(stem) => (stem.to_string(), ".csv"),
        None => (name.clone(), ""),
    };
    (1u32..)
        .map(|n| path.with_file_name(format!("{stem}.{n}{extension}")))
        .find(|candidate| !exists(candidate))
        .unwrap_or_else(|| path.to_path_buf())
}

/// A dangling link counts as taken too: nothing that is there is replaced.
fn exists(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// Writes the undo file: complete, or not at all (an existing file at
/// `path` is kept when the write fails).
pub fn write(table: &Table, path: &Path) -> io::Result<()> {
    if path.is_dir() {
        return Err(io::Error::other("it is a directory"));
    }
    write_file(table, path, "users")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_name_never_replaces_an_earlier_undo() {
        let dir = tempfile::tempdir().unwrap();
        let default = dir.path().join("users.undo.csv");
        let target = UndoTarget::Default(default.clone());
        assert_eq!(choose_path(&target), Some(default.clone()));
        std::fs::write(&default, "earlier").unwrap();
        let first = dir.path().join("users.undo.1.csv");
        assert_eq!(choose_path(&target), Some(first.clone()));
        std::fs::write(&first, "earlier too").unwrap();
        assert_eq!(
            choose_path(&target),
            Some(dir.path().join("users.undo.2.csv"))
        );
        // `--undo PATH` is taken as given; `none` writes none.
        assert_eq!(
            choose_path(&UndoTarget::Path(default.clone())),
            Some(default)
        );
        assert_eq!(choose_path(&UndoTarget::None), None);
    }

    #[test]
    fn a_directory_or_a_missing_folder_is_refused_and_nothing_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let table = Table {
            header: vec!["email", "state"],
            rows: vec![vec!["ana@example.com".into(), "deleted".into()]],
        };
        assert!(write(&table, dir.path()).is_err());
        assert!(write(&table, &dir.path().join("missing").join("u.csv")).is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let path = dir.path().join("u.undo.csv");
        write(&table, &path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "email,state\nana@example.com,deleted\n"
        );
    }
}
