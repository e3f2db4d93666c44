//! Why this exists: what the program writes for people and pipelines: the
//! results file, row by row, and the summary at the end.

pub mod export;
pub mod results;
pub mod summary;
pub mod undo;

pub use results::*;
pub use summary::Summary;

// Callers outside the crate (the binary, the benchmark) read statuses here.
pub use crate::plan::Status;
