//! Why this exists: with `--exact` a written list cell is the complete list
//! and a blank one leaves its kind alone, so a row must say which list
//! cells were written (`-` counts as written: it removes every item).

/// Which list cells of a row were written (not blank).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Listed {
    pub roles: bool,
    pub skills: bool,
    pub languages: bool,
    pub queues: bool,
    pub groups: bool,
}
