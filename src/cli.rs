//! Why this exists: the clap types, and only them. Doc comments here are the
//! `--help` text; nothing outside `config.rs` sees these types.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

const EXAMPLES: &str = "\
Examples:
  Check a file offline, creating nothing:
    genimport users.csv --dry-run

  Queues from a file (`genimport users FILE` is the explicit form of the default):
    genimport queues queues.csv --update

  Import into an EU org, credentials from the environment (or .env):
    export GENESYS_CLIENT_ID=... GENESYS_CLIENT_SECRET=...
    genimport users.csv --region eu-west-1

  Four requests in flight, capped at the org's known limit, results to a path:
    genimport users.csv --concurrency 4 --rate 300 -o results.csv

  From a pipe, results to stdout, JSON logs for CI:
    cat users.csv | genimport - --log-format json --no-progress > results.csv

Exit codes: 0 all rows created/exist, 1 some rows need attention, 2 usage,
65 unusable CSV, 66 unreadable input, 69 API unavailable, 70 internal error,
73 results not writable, 77 auth/permission refused, 78 credentials missing,
130 Ctrl-C.

The manual: README.md and docs/ in the genimport source repository.";

const SHORT_AFTER_HELP: &str =
    "Run with --help for examples and exit codes. The manual: docs/ in the source repository.";

/// Bulk-create Genesys Cloud users (or, with `genimport queues FILE`, queues) from a CSV file.
///
/// Validates every row offline, checks which users already exist, then creates
/// the rest at the org's rate limit. Writes one results row per input row.
/// The client secret is read only from GENESYS_CLIENT_SECRET (or a .env file).
#[derive(Debug, Parser)]
#[command(
    name = "genimport",
    version,
    override_usage = "genimport [users|queues] [OPTIONS] <FILE>",
    after_long_help = EXAMPLES,
    after_help = SHORT_AFTER_HELP,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub connection: Connection,

    /// `genimport FILE`: the users import, the default command.
    #[command(flatten)]
    pub import: ImportArgs,

    #[command(flatten)]
    pub logging: Logging,
}

/// An import's own flags: the same for users and queues.
#[derive(Debug, Clone, clap::Args)]
pub struct ImportArgs {
    /// Users (or queues) file: CSV or .xlsx, or `-` for standard input
    #[arg(value_name = "FILE", required = true)]
    pub input: Option<PathBuf>,

    /// Division (id or exact name) for rows whose division cell is empty [default: the org's home division]
    #[arg(long, env = "GENESYS_DIVISION", value_name = "ID or NAME")]
    pub division: Option<String>,

    /// Results CSV; `-` for stdout [default: <input stem>.results.csv beside the input; stdout for stdin]
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// The CSV separator: `,` `;` `tab` or one other character [default: detected from the header line]
    #[arg(long, value_name = "C")]
    pub delimiter: Option<String>,

    /// The worksheet of an .xlsx file [default: the first]
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,

    /// Read the source column SOURCE as COLUMN (repeatable), e.g. --map "Work Email=email"
    #[arg(long, value_name = "SOURCE=COLUMN")]
    pub map: Vec<String>,

    /// Validate, and with credentials run the read-only preflight; create nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Stop before any create if any row is invalid
    #[arg(long)]
    pub strict: bool,

    /// Create requests in flight at once (1-64)
    #[arg(long, env = "GENESYS_CONCURRENCY", value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,

    /// Spread requests over N access tokens of the client, each paced on its own
    /// (Genesys limits each token); 1-10
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u8).range(1..=10))]
    pub tokens: u8,

    /// Also bring existing users in line with their row (only what differs is sent)
    #[arg(long)]
    pub update: bool,

    /// With --update: a written roles, skills, languages, queues or groups cell is the complete list; what it does not list is removed
    #[arg(long, requires = "update")]
    pub exact: bool,

    /// With --update: let a `state` cell of `deleted` delete the user (without it such a row is invalid)
    #[arg(long, requires = "update")]
    pub allow_delete: bool,

    /// Send the invitation email to each user this run creates (a row's `invite` cell wins)
    #[arg(long)]
    pub invite: bool,

    /// The key that finds an existing user
    #[arg(long = "match", value_enum, value_name = "KEY", default_value_t = MatchArg::Email)]
    pub match_key: MatchArg,

    /// Restore users that were deleted (their email is still reserved) instead of reporting them
    #[arg(long)]
    pub restore_deleted: bool,

    /// Where the undo file goes (`none`: no undo file) [default: <input stem>.undo.csv beside the results, the next free name when it exists]
    #[arg(long, value_name = "PATH")]
    pub undo: Option<PathBuf>,

    /// Test hook: a worker panics on this input line (checks that a bug
    /// still leaves every row in the results, exit 70)
    #[arg(
        long,
        hide = true,
        env = "GENIMPORT_PANIC_ON_LINE",
        value_name = "LINE"
    )]
    pub panic_on_line: Option<u64>,

    /// Test hook: seconds between looks for a new WebRTC phone's station
    /// (Genesys indexes it asynchronously); 30 looks at most [default: 2]
    #[arg(long, hide = true, value_name = "SECS")]
    pub station_wait: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MatchArg {
    Email,
    #[value(name = "employee_id")]
    EmployeeId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import users from FILE (the default: `genimport FILE` does the same)
    #[command(hide = true)]
    Users(ImportArgs),
    /// Import queues from FILE
    #[command(hide = true)]
    Queues(ImportArgs),
    /// Write the org's users (or queues) as a file in the import's columns
    Export(Box<ExportArgs>),
    /// Show what this client may do (and, with FILE, what the file needs); writes nothing
    Doctor(Box<DoctorArgs>),
    /// Print a shell completion script
    #[command(hide = true)]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff)
    #[command(hide = true)]
    Man,
}

/// What a file (or an export) holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ResourceArg {
    #[default]
    Users,
    Queues,
}

const EXPORT_EXAMPLES: &str = "\
Examples:
  The org's users as a spreadsheet, edited, and only the edits sent back:
    genimport export users -o org.xlsx
    genimport org.xlsx --update

  Active users of two divisions, to stdout:
    genimport export users --state active --division Sales --division Support

  Queues, and back:
    genimport export queues -o q.csv
    genimport queues q.csv --update";

/// The org's users (or queues) in exactly the import's columns, one row each.
///
/// Reads in bulk (paged user lists, each role's grants, each queue's and
/// group's members); exports only what users hold directly. An existing
/// FILE is replaced only when the export completes.
#[derive(Debug, Clone, clap::Args)]
#[command(
    override_usage = "genimport export [users|queues] [OPTIONS]",
    after_long_help = EXPORT_EXAMPLES
)]
pub struct ExportArgs {
    /// What to export
    #[arg(value_enum, value_name = "users|queues", default_value_t = ResourceArg::Users, hide_possible_values = true, hide_default_value = true)]
    pub resource: ResourceArg,

    /// Output file: .csv, or .xlsx for a workbook; `-` for stdout [default: stdout]
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Only users (or queues) of this division, by name or id (repeatable)
    #[arg(long, value_name = "NAME")]
    pub division: Vec<String>,

    /// Which users: active, inactive, or all (deleted users never)
    #[arg(long, value_enum, value_name = "STATE", default_value_t = ExportStateArg::All)]
    pub state: ExportStateArg,

    /// Pages read at once (1-64)
    #[arg(long, env = "GENESYS_CONCURRENCY", value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,

    /// Spread requests over N access tokens of the client, each paced on its own
    /// (Genesys limits each token); 1-10
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u8).range(1..=10))]
    pub tokens: u8,
}

const DOCTOR_EXAMPLES: &str = "\
Examples:
  Where this client holds each permission genimport uses, and the org's limits:
    genimport doctor

  Only what this file's plan needs, for CI (exit 77 when something is missing):
    genimport doctor users.csv --update --log-format json

Exit codes: 0 nothing needed is missing, 1 the file has invalid rows,
65 unusable file, 66 unreadable file, 69 API unavailable,
77 a needed permission is missing (or the credentials are refused),
78 credentials missing.";

/// Who this OAuth client is, where it holds each permission genimport uses
/// (with FILE: each one that file's plan needs), and the org's limits.
///
/// Reads only (the file's preflight included); writes nothing.
#[derive(Debug, Clone, clap::Args)]
#[command(
    override_usage = "genimport doctor [OPTIONS] [FILE]",
    after_long_help = DOCTOR_EXAMPLES
)]
pub struct DoctorArgs {
    /// A users file (or, with --queues, a queues file): check what its plan needs (as a dry run would plan it)
    #[arg(value_name = "FILE")]
    pub input: Option<PathBuf>,

    /// FILE is a queues file (`genimport queues FILE`)
    #[arg(long, requires = "input")]
    pub queues: bool,

    /// Plan the file as `--update` would
    #[arg(long)]
    pub update: bool,

    /// Plan the file as `--update --exact` would
    #[arg(long, requires = "update")]
    pub exact: bool,

    /// Plan the file as `--update --allow-delete` would
    #[arg(long, requires = "update")]
    pub allow_delete: bool,

    /// Plan the file as `--invite` would
    #[arg(long)]
    pub invite: bool,

    /// Division (id or exact name) for rows whose division cell is empty [default: the org's home division]
    #[arg(long, env = "GENESYS_DIVISION", value_name = "ID or NAME")]
    pub division: Option<String>,

    /// The key that finds an existing user
    #[arg(long = "match", value_enum, value_name = "KEY", default_value_t = MatchArg::Email)]
    pub match_key: MatchArg,

    /// The worksheet of an .xlsx file [default: the first]
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,

    /// The CSV separator [default: detected from the header line]
    #[arg(long, value_name = "C")]
    pub delimiter: Option<String>,

    /// Read the source column SOURCE as COLUMN (repeatable)
    #[arg(long, value_name = "SOURCE=COLUMN")]
    pub map: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportStateArg {
    Active,
    Inactive,
    All,
}

/// How to reach the org and how patiently: the same flags for imports and
/// exports.
#[derive(Debug, Clone, clap::Args)]
pub struct Connection {
    /// OAuth client-credentials client id
    #[arg(
        global = true,
        long,
        env = "GENESYS_CLIENT_ID",
        value_name = "ID",
        hide_env_values = true
    )]
    pub client_id: Option<String>,

    /// Region name (eu-west-1) or domain (mypurecloud.ie) [default: mypurecloud.com]
    #[arg(global = true, long, env = "GENESYS_REGION", value_name = "REGION")]
    pub region: Option<String>,

    /// API base URL, overriding the region (proxies, tests)
    #[arg(global = true, long, env = "GENESYS_API_URL", value_name = "URL")]
    pub api_url: Option<String>,

    /// Login base URL [default: the API URL with `api.` replaced by `login.`]
    #[arg(global = true, long, env = "GENESYS_LOGIN_URL", value_name = "URL")]
    pub login_url: Option<String>,

    /// Never send more than this many requests per minute (the org's known limit)
    #[arg(global = true, long, value_name = "PER_MINUTE", value_parser = clap::value_parser!(u32).range(1..))]
    pub rate: Option<u32>,

    /// Retries per request (after the first attempt) before the row (or the export) fails
    #[arg(global = true, long, value_name = "N", default_value_t = 5)]
    pub max_retries: u32,

    /// A Retry-After longer than this stops sending instead of waiting (at most 3600)
    #[arg(global = true, long, value_name = "SECS", default_value_t = 180,
          value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub max_retry_after: u64,

    /// Give up on a single HTTP request after this long
    #[arg(global = true, long, value_name = "SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout: u64,

    /// Multiplies every wait (Retry-After, backoff); for tests and benchmarks
    #[arg(
        global = true,
        long,
        hide = true,
        env = "GENIMPORT_TIME_SCALE",
        default_value_t = 1.0,
        value_name = "FACTOR"
    )]
    pub time_scale: f64,

    /// Test hook: users per page of the user listings [default: 500]
    #[arg(global = true, long, hide = true, value_name = "N", default_value_t = 500,
          value_parser = clap::value_parser!(u32).range(1..=500))]
    pub user_page_size: u32,

    /// Test hook: results Genesys pages through at most (inactive users, search) [default: 10000]
    #[arg(global = true, long, hide = true, value_name = "N", default_value_t = 10_000,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub results_cap: u32,
}

/// What goes to stderr: the same flags for imports and exports.
#[derive(Debug, Clone, clap::Args)]
pub struct Logging {
    /// Log format on stderr
    #[arg(global = true, long, env = "GENESYS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Only warnings and errors on stderr, no summary
    #[arg(global = true, short, long, conflicts_with = "verbose")]
    pub quiet: bool,

    /// More detail on stderr (-v: each row and request, -vv: everything)
    #[arg(global = true, short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// No progress bar (it is also off when stderr is not a terminal)
    #[arg(global = true, long)]
    pub no_progress: bool,
}
