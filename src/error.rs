//! Why this exists: the exit code is a public contract (see README), so every
//! way a run can end is a variant here, and `exit_code` below is the one place
//! that maps them to numbers.

use std::path::PathBuf;

use crate::input::InputError;

/// Exit codes, as documented in the README. Scripts depend on these numbers.
pub mod exit {
    /// Every row is `created`, `updated`, `unchanged`, `exists` or a dry-run plan.
    pub const OK: u8 = 0;
    /// The run finished, but some rows are `invalid`, `failed` or `incomplete`.
    pub const ROWS_NEED_ATTENTION: u8 = 1;
    /// Usage error: bad flags or flag values.
    pub const USAGE: u8 = 2;
    /// The input CSV cannot be used; nothing was sent.
    pub const DATA_ERR: u8 = 65;
    /// The input file does not exist or cannot be read.
    pub const NO_INPUT: u8 = 66;
    /// The API is unavailable (retries exhausted on the token or the preflight).
    pub const UNAVAILABLE: u8 = 69;
    /// Internal error (a bug); every row is still in the results.
    pub const INTERNAL: u8 = 70;
    /// The results file (or the undo file) cannot be written.
    pub const CANT_CREATE: u8 = 73;
    /// Authentication or permission refused.
    pub const NO_PERM: u8 = 77;
    /// Configuration missing (client id or secret).
    pub const CONFIG: u8 = 78;
    /// Interrupted by Ctrl-C.
    pub const INTERRUPTED: u8 = 130;
}

/// Bad flags or flag values (exit 2). Never echoes a value that may hold a
/// secret (URLs, the secret flag).
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    #[error("the input file argument is required")]
    MissingInput,
    #[error("{0}")]
    UnknownRegion(String),
    #[error("{flag}: {reason}")]
    BadUrl { flag: String, reason: String },
    #[error("the results file {} is the input file (the same file on disk); choose another --output", path.display())]
    OutputIsInput { path: PathBuf },
    #[error("{flag} is not accepted as a flag (it would show in the process list and shell history); set GENESYS_CLIENT_SECRET in the environment or in ./.env")]
    SecretFlag { flag: String },
    #[error("--time-scale must be a non-negative number")]
    BadTimeScale,
    #[error("--map `{}`: {reason}", crate::text::cut(raw))]
    BadMap { raw: String, reason: String },
    #[error(
        "--delimiter `{}`: give one character such as `,` `;` `|`, or `tab`",
        crate::text::cut(raw)
    )]
    BadDelimiter { raw: String },
}

/// Configuration that is missing or unreadable (exit 78).
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConfigError {
    MissingCredentials {
        missing: Vec<&'static str>,
        /// An import that is not a dry run could validate offline instead.
        suggest_dry_run: bool,
    },
    /// Never shows the line itself: it may hold the secret.
    EnvFileSyntax {
        path: PathBuf,
        line: Option<usize>,
    },
    EnvFileUnreadable {
        path: PathBuf,
        reason: String,
    },
    HttpClient(String),
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::MissingCredentials {
                missing,
                suggest_dry_run,
            } => {
                write!(
                    f,
                    "missing credentials: set {} in the environment or a .env file",
                    missing.join(" and ")
                )?;
                if *suggest_dry_run {
                    f.write_str(" (or use --dry-run to validate offline)")?;
                }
                Ok(())
            }
            ConfigError::EnvFileSyntax { path, line } => {
                write!(f, "cannot read {}: ", path.display())?;
                match line {
                    Some(l) => write!(f, "line {l} is not")?,
                    None => f.write_str("a line is not")?,
                }
                f.write_str(" a valid KEY=VALUE line (an unterminated quote?); values are not shown because they may be secret")
            }
            ConfigError::EnvFileUnreadable { path, reason } => {
                write!(f, "cannot read {}: {reason}", path.display())
            }
            ConfigError::HttpClient(m) => write!(f, "cannot set up the HTTPS client: {m}"),
        }
    }
}

/// A run that could not produce (complete) results.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Usage(#[from] UsageError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("{invalid} row(s) are invalid and --strict is set; nothing was sent (see {results})")]
    StrictInvalid { invalid: u64, results: String },
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
            Error::Input(InputError::Unreadable { .. }) => exit::NO_INPUT,
            Error::Input(InputError::BadMap { .. } | InputError::NoSheet { .. }) => exit::USAGE,
            Error::Input(_) => exit::DATA_ERR,
            Error::StrictInvalid { .. } => exit::DATA_ERR,
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
    /// Genesys refused a read or a request outright (a 4xx other than 401,
    /// 403 and 429): not an outage, and no retry would change it.
    Refused(String),
    /// Genesys asked to wait longer than `--max-retry-after` allows.
    RetryAfterTooLong { seconds: u64, limit: u64 },
    /// The results file could not be written.
    OutputFailed(String),
    /// The undo file could not be written: nothing was sent.
    UndoFailed(String),
    /// A bug: a worker died. Its rows are still written.
    Internal(String),
    /// Ctrl-C.
    Interrupted,
}

impl StopReason {
    pub fn exit_code(&self) -> u8 {
        match self {
            StopReason::AuthRefused(_) | StopReason::PermissionRefused(_) => exit::NO_PERM,
            StopReason::Unavailable(_) | StopReason::RetryAfterTooLong { .. } => exit::UNAVAILABLE,
            StopReason::Refused(_) => exit::ROWS_NEED_ATTENTION,
            StopReason::OutputFailed(_) | StopReason::UndoFailed(_) => exit::CANT_CREATE,
            StopReason::Internal(_) => exit::INTERNAL,
            StopReason::Interrupted => exit::INTERRUPTED,
        }
    }
}

/// The message says what stopped the run, for the log, the summary and the
/// rows it did not send.
impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::AuthRefused(m) => write!(f, "authentication refused: {m}"),
            StopReason::PermissionRefused(m) => write!(f, "permission refused: {m}"),
            StopReason::Unavailable(m) => write!(f, "Genesys Cloud API unavailable: {m}"),
            StopReason::Refused(m) => write!(f, "Genesys refused a request: {m}"),
            StopReason::RetryAfterTooLong { seconds, limit } => write!(
                f,
                "Genesys asked to wait {seconds} s before the next request, more than --max-retry-after {limit}; re-run later, or raise --max-retry-after"
            ),
            StopReason::OutputFailed(m) => write!(f, "cannot write results: {m}"),
            StopReason::UndoFailed(m) => f.write_str(m),
            StopReason::Internal(m) => write!(f, "internal error (a bug; please report it): {m}"),
            StopReason::Interrupted => f.write_str("interrupted"),
        }
    }
}
