//! Why this exists: one file per command; each runs its pipeline from a
//! validated `Config` to a `Summary`.

pub mod import;
