//! Why this exists: the exit code is a public contract (see README), so every
//! way a run can end is one variant here, and each variant knows its code.

use std::path::PathBuf;

use crate::input::InputError;

/// Exit codes, as documented in the README. Scripts depend on these numbers.
pub mod exit {
    /// Every row is `created` (without warning), `exists` or `would_create`.
    pub const OK: u8 = 0;
    /// The run finished, but some rows are `invalid`, `failed` or created with a warning.
    pub const ROWS_NEED_ATTENTION: u8 = 1;
    /// Usage error: bad flags or flag values.
    pub const USAGE: u8 = 2;
    /// The input CSV cannot be used; nothing was sent.
    pub const DATA_ERR: u8 = 65;
    /// The input file does not exist or cannot be read.
    pub const NO_INPUT: u8 = 66;
    /// The API is unavailable (retries exhausted on the token or the preflight).
    pub const UNAVAILABLE: u8 = 69;
    /// The results file cannot be written.
    pub const CANT_CREATE: u8 = 73;
    /// Authentication or permission refused.
    pub const NO_PERM: u8 = 77;
    /// Configuration missing (client id or secret).
    pub const CONFIG: u8 = 78;
    /// Interrupted by Ctrl-C.
    pub const INTERRUPTED: u8 = 130;
}

/// A run that could not produce (complete) results.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("{0}")]
    StrictInvalid(String),
    #[error("cannot write results to {}: {source}", path.display())]
    Output {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => exit::USAGE,
            Error::Config(_) => exit::CONFIG,
            Error::Input(e) => e.exit_code(),
            Error::StrictInvalid(_) => exit::DATA_ERR,
            Error::Output { .. } => exit::CANT_CREATE,
        }
    }
}

/// Why a run stopped before every row was tried. The results file is still
/// complete: rows after the stop are `not_attempted`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// The token was refused, or a 401 persisted after a renewal.
    AuthRefused(String),
    /// 403 on create: the client lacks a permission.
    PermissionRefused(String),
    /// Token or preflight calls ran out of retries.
    Unavailable(String),
    /// The results file could not be written.
    OutputFailed(String),
    /// Ctrl-C.
    Interrupted,
}

impl StopReason {
    pub fn exit_code(&self) -> u8 {
        match self {
            StopReason::AuthRefused(_) | StopReason::PermissionRefused(_) => exit::NO_PERM,
            StopReason::Unavailable(_) => exit::UNAVAILABLE,
            StopReason::OutputFailed(_) => exit::CANT_CREATE,
            StopReason::Interrupted => exit::INTERRUPTED,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            StopReason::AuthRefused(m) => format!("authentication refused: {m}"),
            StopReason::PermissionRefused(m) => format!("permission refused: {m}"),
            StopReason::Unavailable(m) => format!("Genesys Cloud API unavailable: {m}"),
            StopReason::OutputFailed(m) => format!("cannot write results: {m}"),
            StopReason::Interrupted => "interrupted".to_string(),
        }
    }
}
