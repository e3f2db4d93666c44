//! Why this exists: input that cannot be used at all (as opposed to a row
//! that is invalid) stops the run with one message that says what to fix.

use std::io;
use std::path::PathBuf;

use crate::text::cut;

/// Input that cannot be used at all (as opposed to a row that is invalid).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("cannot read {}: {source}", path.display())]
    Unreadable { path: PathBuf, source: io::Error },
    #[error("{}: the file is empty: a header row with at least `email` and `name` is required", path.display())]
    Empty { path: PathBuf },
    #[error("{}: missing required column(s): {}; the header has: {}{}", path.display(), missing.join(", "), list_some(found), hint.as_deref().map(|h| format!("; {h}")).unwrap_or_default())]
    MissingColumns {
        path: PathBuf,
        missing: Vec<&'static str>,
        found: Vec<String>,
        /// Why, when it can be guessed (another separator).
        hint: Option<String>,
    },
    #[error("{}: line {line}: column `{column}` appears more than once in the header", path.display())]
    RepeatedColumn {
        path: PathBuf,
        line: u64,
        column: String,
    },
    #[error("{}: line {line}: not valid UTF-8 (save the file as UTF-8 and try again)", path.display())]
    BadEncoding { path: PathBuf, line: u64 },
    #[error("{}: {message}", path.display())]
    Workbook { path: PathBuf, message: String },
    #[error("{}: no worksheet named `{sheet}`; the workbook has: {}", path.display(), list_some(available))]
    NoSheet {
        path: PathBuf,
        sheet: String,
        available: Vec<String>,
    },
    #[error("{}: --map names the column `{source_column}`, which the file does not have; its columns are: {}", path.display(), list_some(columns))]
    BadMap {
        path: PathBuf,
        source_column: String,
        columns: Vec<String>,
    },
    #[error("{}: not valid UTF-16 (the file starts with a UTF-16 byte order mark); save it as UTF-8 and try again", path.display())]
    BadUtf16 { path: PathBuf },
    #[error("{}: this is a workbook (zip), not CSV; name it .xlsx, or save it as CSV", path.display())]
    LooksLikeWorkbook { path: PathBuf },
    #[error("{}: line {line}: not valid CSV: {message}", path.display())]
    Malformed {
        path: PathBuf,
        line: u64,
        message: String,
    },
}

/// At most ten names, then how many more: a wide sheet must not flood a message.
pub fn list_some(names: &[String]) -> String {
    const SHOWN: usize = 10;
    let shown: Vec<String> = names.iter().take(SHOWN).map(|n| cut(n)).collect();
    match names.len().saturating_sub(SHOWN) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}
