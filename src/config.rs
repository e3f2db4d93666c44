//! Why this exists: the only place that reads the environment. Flags, env
//! variables and `.env` become one validated `Config`, which is all the rest
//! of the program sees.

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use secrecy::SecretString;

use crate::cli::{
    Cli, Command as CliCommand, Connection, DoctorArgs, ExportArgs, ExportStateArg, ImportArgs,
    LogFormat, Logging, ResourceArg,
};
use crate::error::{ConfigError, Error, UsageError};
use crate::input::{MatchKey, ReadOptions, Source};
use crate::output::undo::UndoTarget;
use crate::output::Sink;
use crate::pacing::RetryPolicy;
use crate::region::{self, Hosts};
use crate::resource::Resource;

pub use crate::genesys::token::Credentials;

#[derive(Debug, Clone)]
pub struct LogSettings {
    pub format: LogFormat,
    /// 0 quiet, 1 normal, 2 per row, 3 per request.
    pub verbosity: u8,
    pub color: bool,
    pub progress_bar: bool,
}

/// What the command line asks for, each command with its own settings: the
/// rest of the program never sees clap's types.
#[derive(Debug)]
pub enum Command {
    /// `genimport [users|queues] FILE`: an import (or a dry run).
    Import(Box<Config>),
    /// `genimport export [users|queues]`.
    Export(Box<ExportConfig>),
    /// `genimport doctor [FILE]`.
    Doctor(Box<DoctorConfig>),
    /// `genimport completions SHELL` (hidden).
    Completions(clap_complete::Shell),
    /// `genimport man` (hidden).
    Man,
}

/// How to reach the org and how patiently: what every online command needs.
#[derive(Debug, Clone)]
pub struct Connect {
    pub hosts: Hosts,
    /// `None` when not configured (a dry run then stays offline).
    pub credentials: Option<Credentials>,
    pub rate_per_minute: Option<u32>,
    /// Access tokens to spread requests over (`--tokens`).
    pub tokens: u8,
    pub retry: RetryPolicy,
    pub request_timeout: Duration,
    /// Page sizes and caps of the user listings (hidden test flags).
    pub paging: crate::genesys::pages::Paging,
}

/// An import's settings: `genimport [users|queues] FILE`.
#[derive(Debug, Clone)]
pub struct Config {
    pub source: Source,
    /// What the file holds, and how to read it (`--delimiter`, `--match`).
    pub read: ReadOptions,
    /// `--update`: bring existing users in line.
    pub update: bool,
    /// `--exact`: list cells are complete; what they do not list is removed.
    pub exact: bool,
    /// `--invite`: invite created users (a row's `invite` cell wins).
    pub invite: bool,
    pub sink: Sink,
    pub dry_run: bool,
    pub strict: bool,
    pub connect: Connect,
    /// Why the credentials a run needs are missing (exit 78).
    pub missing_credentials: Option<ConfigError>,
    /// `--division` as given (id or name).
    pub default_division: Option<String>,
    pub concurrency: usize,
    pub restore_deleted: bool,
    /// Where the undo file of a run that writes goes.
    pub undo: UndoTarget,
    pub log: LogSettings,
    /// Test hook (hidden flag): panic while working on this line.
    pub panic_on_line: Option<u64>,
    /// Between looks for a new phone's station (hidden flag; default 2 s).
    pub station_wait: std::time::Duration,
}

/// `genimport doctor [FILE]`: the connection, and the file's plan settings
/// (a dry run's) when a FILE is given.
#[derive(Debug, Clone)]
pub struct DoctorConfig {
    pub connect: Connect,
    pub log: LogSettings,
    pub file: Option<Config>,
}

/// An export's settings: `genimport export [users|queues]`.
#[derive(Debug, Clone)]
pub struct ExportConfig {
    pub connect: Connect,
    pub log: LogSettings,
    pub settings: ExportSettings,
}

impl LogSettings {
    pub fn from_logging(logging: &Logging) -> LogSettings {
        let stderr_is_terminal = std::io::stderr().is_terminal();
        LogSettings {
            format: logging.log_format,
            verbosity: if logging.quiet {
                0
            } else {
                1 + logging.verbose.min(2)
            },
            color: stderr_is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
            progress_bar: stderr_is_terminal
                && !logging.no_progress
                && !logging.quiet
                && logging.log_format == LogFormat::Text,
        }
    }
}

/// Where the org is, who we are, and how patiently we ask: what imports
/// and exports read alike from `Connection`.
struct Reach {
    hosts: Hosts,
    /// `Err`: the names of what is missing.
    credentials: Result<Credentials, Vec<&'static str>>,
    retry: RetryPolicy,
}

impl Reach {
    fn from_connection(connection: &Connection) -> Result<Reach, Error> {
        let hosts = resolve_hosts(
            connection.region.as_deref(),
            connection.api_url.as_deref(),
            connection.login_url.as_deref(),
        )?;
        let secret = std::env::var("GENESYS_CLIENT_SECRET")
            .ok()
            .filter(|s| !s.is_empty());
        let client_id = connection
            .client_id
            .clone()
            .filter(|s| !s.trim().is_empty());
        let credentials = match (client_id, secret) {
            (Some(client_id), Some(secret)) => Ok(Credentials {
                client_id: client_id.trim().to_string(),
                secret: SecretString::from(secret),
            }),
            (id, secret) => {
                let mut missing = Vec::new();
                if id.is_none() {
                    missing.push("GENESYS_CLIENT_ID (or --client-id)");
                }
                if secret.is_none() {
                    missing.push("GENESYS_CLIENT_SECRET");
                }
                Err(missing)
            }
        };
        if !(connection.time_scale >= 0.0 && connection.time_scale.is_finite()) {
            return Err(Error::Usage(UsageError::BadTimeScale));
        }
        let retry = RetryPolicy {
            max_retries: connection.max_retries,
            max_retry_after: Duration::from_secs(connection.max_retry_after),
            time_scale: connection.time_scale,
            ..RetryPolicy::default()
        };
        Ok(Reach {
            hosts,
            credentials,
            retry,
        })
    }
}

/// Loads `./.env` (real environment variables win) and parses the arguments.
/// `.env` is read first so that clap's `env` fallbacks see its values.
pub fn parse_args() -> Result<Cli, ParseFailure> {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(usage) = secret_given_as_flag(&args) {
        return Err(ParseFailure::Config(usage));
    }
    load_dotenv(Path::new(".env")).map_err(ParseFailure::Config)?;
    let mut command = <Cli as clap::CommandFactory>::command();
    let matches = command
        .try_get_matches_from_mut(args)
        .map_err(ParseFailure::Clap)?;
    if let Some(misplaced) = import_flag_before_subcommand(&matches) {
        return Err(ParseFailure::Clap(misplaced.format(&mut command)));
    }
    <Cli as clap::FromArgMatches>::from_arg_matches(&matches).map_err(ParseFailure::Clap)
}

/// `genimport --update queues q.csv`: an import's own flag before the
/// subcommand would belong to the default (users) import and be lost, so
/// it is refused; the connection and logging flags go anywhere.
fn import_flag_before_subcommand(matches: &clap::ArgMatches) -> Option<clap::Error> {
    let (subcommand, _) = matches.subcommand()?;
    let own = <ImportArgs as clap::Args>::augment_args(clap::Command::new("import"));
    let given = own.get_arguments().find(|arg| {
        matches.value_source(arg.get_id().as_str()) == Some(clap::parser::ValueSource::CommandLine)
    })?;
    let name = match given.get_long() {
        Some(long) => format!("--{long}"),
        None => format!("<{}>", given.get_id()),
    };
    Some(clap::Error::raw(
        clap::error::ErrorKind::ArgumentConflict,
        format!("{name} must come after `{subcommand}` (genimport {subcommand} [OPTIONS] ...)"),
    ))
}

/// Reads this one file only: never a `.env` of a parent directory, which
/// could point a run at another org. A parse error names the line, never
/// its text (it may hold the secret).
fn load_dotenv(path: &Path) -> Result<(), Error> {
    match dotenvy::from_path(path) {
        Ok(()) => Ok(()),
        Err(e) if e.not_found() => Ok(()),
        Err(dotenvy::Error::LineParse(text, _)) => {
            let line = std::fs::read_to_string(path)
                .ok()
                .and_then(|all| line_of(&all, &text));
            Err(Error::Config(ConfigError::EnvFileSyntax {
                path: path.to_path_buf(),
                line,
            }))
        }
        Err(e) => Err(Error::Config(ConfigError::EnvFileUnreadable {
            path: path.to_path_buf(),
            reason: match e {
                dotenvy::Error::Io(io) => io.kind().to_string(),
                _ => "not valid UTF-8".to_string(),
            },
        })),
    }
}

/// The 1-based line of `file` where `fragment` (its first line) starts.
fn line_of(file: &str, fragment: &str) -> Option<usize> {
    let first = fragment.lines().next().filter(|l| !l.trim().is_empty())?;
    file.lines().position(|l| l.contains(first)).map(|i| i + 1)
}

/// `--client-secret` is not a flag (a flag would show in `ps` and shell
/// history); say where the secret goes instead of clap's "did you mean
/// --client-id". The value is never echoed.
fn secret_given_as_flag(args: &[std::ffi::OsString]) -> Option<Error> {
    args.iter().skip(1).find_map(|arg| {
        let arg = arg.to_string_lossy();
        let name = arg.split('=').next().unwrap_or("");
        matches!(name, "--client-secret" | "--secret" | "--client_secret").then(|| {
            Error::Usage(UsageError::SecretFlag {
                flag: name.to_string(),
            })
        })
    })
}

pub enum ParseFailure {
    Clap(clap::Error),
    Config(Error),
}

impl Command {
    /// The validated settings of what `cli` asks for.
    pub fn from_cli(cli: Cli) -> Result<Command, Error> {
        let log = LogSettings::from_logging(&cli.logging);
        match cli.command {
            None => Config::from_args(cli.import, Resource::Users, &cli.connection, log)
                .map(|c| Command::Import(Box::new(c))),
            Some(CliCommand::Users(args)) => {
                Config::from_args(args, Resource::Users, &cli.connection, log)
                    .map(|c| Command::Import(Box::new(c)))
            }
            Some(CliCommand::Queues(args)) => {
                Config::from_args(args, Resource::Queues, &cli.connection, log)
                    .map(|c| Command::Import(Box::new(c)))
            }
            Some(CliCommand::Export(args)) => ExportConfig::from_args(&args, &cli.connection, log)
                .map(|c| Command::Export(Box::new(c))),
            Some(CliCommand::Doctor(args)) => DoctorConfig::from_args(*args, &cli.connection, log)
                .map(|c| Command::Doctor(Box::new(c))),
            Some(CliCommand::Completions { shell }) => Ok(Command::Completions(shell)),
            Some(CliCommand::Man) => Ok(Command::Man),
        }
    }

    /// How this command logs (the settings it was given, or the defaults).
    pub fn log(&self) -> Option<&LogSettings> {
        match self {
            Command::Import(config) => Some(&config.log),
            Command::Export(export) => Some(&export.log),
            Command::Doctor(doctor) => Some(&doctor.log),
            Command::Completions(_) | Command::Man => None,
        }
    }
}

impl Connect {
    /// One token's connection for a command with no offline mode (an
    /// export, the doctor): missing credentials are an error, without the
    /// `--dry-run` hint.
    fn online(connection: &Connection, tokens: u8) -> Result<Connect, Error> {
        let reach = Reach::from_connection(connection)?;
        let (connect, missing) = Connect::from_reach(reach, connection, tokens);
        missing.map_err(|missing| {
            Error::Config(ConfigError::MissingCredentials {
                missing,
                suggest_dry_run: false,
            })
        })?;
        Ok(connect)
    }

    fn from_reach(
        reach: Reach,
        connection: &Connection,
        tokens: u8,
    ) -> (Connect, Result<(), Vec<&'static str>>) {
        let (credentials, missing) = match reach.credentials {
            Ok(credentials) => (Some(credentials), Ok(())),
            Err(missing) => (None, Err(missing)),
        };
        let connect = Connect {
            hosts: reach.hosts,
            credentials,
            rate_per_minute: connection.rate,
            tokens,
            retry: reach.retry,
            request_timeout: Duration::from_secs(connection.request_timeout),
            paging: crate::genesys::pages::Paging {
                user_page: connection.user_page_size,
                results_cap: connection.results_cap,
            },
        };
        (connect, missing)
    }
}

impl Config {
    fn from_args(
        args: ImportArgs,
        resource: Resource,
        connection: &Connection,
        log: LogSettings,
    ) -> Result<Config, Error> {
        let input = args.input.ok_or(Error::Usage(UsageError::MissingInput))?;
        let source = Source::from_arg(&input);
        let sink = output_sink(&source, args.output.as_deref())?;
        let undo = undo_target(&source, &sink, args.undo.as_deref());

        let reach = Reach::from_connection(connection)?;
        let (connect, missing) = Connect::from_reach(reach, connection, args.tokens);
        let missing_credentials = match missing {
            Ok(()) => None,
            // Nothing missing that a dry run needs: it runs offline.
            Err(missing) if args.dry_run && missing.len() == 2 => None,
            // Reported by `run` once the input is known to be readable,
            // so a mistyped path is named before the environment is.
            Err(missing) => Some(ConfigError::MissingCredentials {
                missing,
                suggest_dry_run: !args.dry_run,
            }),
        };

        let delimiter = args.delimiter.as_deref().map(parse_delimiter).transpose()?;
        let key = match args.match_key {
            crate::cli::MatchArg::Email => MatchKey::Email,
            crate::cli::MatchArg::EmployeeId => MatchKey::EmployeeId,
        };
        Ok(Config {
            source,
            read: ReadOptions {
                delimiter,
                key,
                sheet: args.sheet.clone().filter(|s| !s.trim().is_empty()),
                map: args
                    .map
                    .iter()
                    .map(|m| parse_map(m))
                    .collect::<Result<_, _>>()?,
                resource,
                update: args.update,
                allow_delete: args.allow_delete,
            },
            update: args.update,
            exact: args.exact,
            invite: args.invite,
            sink,
            dry_run: args.dry_run,
            strict: args.strict,
            connect,
            missing_credentials,
            default_division: args
                .division
                .map(|d| d.trim().to_string())
                .filter(|d| !d.is_empty()),
            concurrency: usize::from(args.concurrency),
            restore_deleted: args.restore_deleted,
            undo,
            log,
            panic_on_line: args.panic_on_line,
            station_wait: args
                .station_wait
                .filter(|s| s.is_finite() && *s >= 0.0 && *s <= 60.0)
                .map(std::time::Duration::from_secs_f64)
                .unwrap_or(crate::engine::STATION_WAIT),
        })
    }
}

impl DoctorConfig {
    fn from_args(
        args: DoctorArgs,
        connection: &Connection,
        log: LogSettings,
    ) -> Result<DoctorConfig, Error> {
        let connect = Connect::online(connection, 1)?;
        // The file is planned as a dry run would plan it; nothing is written.
        let file = args
            .input
            .map(|input| {
                let import = ImportArgs {
                    input: Some(input),
                    division: args.division,
                    output: Some(std::path::PathBuf::from("-")),
                    delimiter: args.delimiter,
                    sheet: args.sheet,
                    map: args.map,
                    dry_run: true,
                    strict: false,
                    concurrency: 1,
                    tokens: 1,
                    update: args.update,
                    exact: args.exact,
                    allow_delete: args.allow_delete,
                    invite: args.invite,
                    match_key: args.match_key,
                    restore_deleted: false,
                    undo: None,
                    panic_on_line: None,
                    station_wait: None,
                };
                let resource = if args.queues {
                    Resource::Queues
                } else {
                    Resource::Users
                };
                Config::from_args(import, resource, connection, log.clone())
            })
            .transpose()?;
        Ok(DoctorConfig { connect, log, file })
    }
}

/// Which users an export writes (`--state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportState {
    Active,
    Inactive,
    All,
}

/// What `genimport export` writes, and where.
#[derive(Debug, Clone)]
pub struct ExportSettings {
    pub resource: Resource,
    /// `None`: standard output.
    pub output: Option<std::path::PathBuf>,
    /// `--division` names or ids; empty: every division.
    pub divisions: Vec<String>,
    pub state: ExportState,
    /// Pages read at once (`--concurrency`).
    pub concurrency: usize,
}

impl ExportConfig {
    fn from_args(
        args: &ExportArgs,
        connection: &Connection,
        log: LogSettings,
    ) -> Result<ExportConfig, Error> {
        let connect = Connect::online(connection, args.tokens)?;
        let settings = ExportSettings {
            resource: match args.resource {
                ResourceArg::Users => Resource::Users,
                ResourceArg::Queues => Resource::Queues,
            },
            output: args.output.clone().filter(|p| p.as_os_str() != "-"),
            divisions: args
                .division
                .iter()
                .map(|d| d.trim().to_string())
                .filter(|d| !d.is_empty())
                .collect(),
            state: match args.state {
                ExportStateArg::Active => ExportState::Active,
                ExportStateArg::Inactive => ExportState::Inactive,
                ExportStateArg::All => ExportState::All,
            },
            concurrency: usize::from(args.concurrency),
        };
        Ok(ExportConfig {
            connect,
            log,
            settings,
        })
    }
}

/// `SOURCE=COLUMN`; the last `=` splits (column names hold none).
fn parse_map(raw: &str) -> Result<(String, String), Error> {
    let bad = |reason: String| {
        Error::Usage(UsageError::BadMap {
            raw: raw.to_string(),
            reason,
        })
    };
    let Some((source, column)) = raw.rsplit_once('=') else {
        return Err(bad(
            "write it as SOURCE=COLUMN, e.g. \"Work Email=email\"".into()
        ));
    };
    if source.trim().is_empty() {
        return Err(bad("the source column name is empty".into()));
    }
    if !crate::input::is_known_column(column) {
        return Err(bad(format!(
            "`{}` is not a column genimport reads ({})",
            crate::text::cut(column.trim()),
            crate::users::columns::column_names()
        )));
    }
    Ok((source.trim().to_string(), column.trim().to_lowercase()))
}

fn parse_delimiter(raw: &str) -> Result<u8, Error> {
    match raw {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        one if one.len() == 1 && one.is_ascii() && !matches!(one, "\"" | "\n" | "\r") => {
            Ok(one.as_bytes()[0])
        }
        _ => Err(Error::Usage(UsageError::BadDelimiter {
            raw: raw.to_string(),
        })),
    }
}

/// Default: `<stem>.results.csv` beside the input; stdout for stdin.
fn output_sink(source: &Source, output: Option<&Path>) -> Result<Sink, Error> {
    let sink = match (output, source) {
        (Some(p), _) if p.as_os_str() == "-" => Sink::Stdout,
        (Some(p), _) => Sink::File(p.to_path_buf()),
        (None, Source::Stdin) => Sink::Stdout,
        (None, Source::File(input)) => {
            let stem = input
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "genimport".into());
            Sink::File(input.with_file_name(format!("{stem}.results.csv")))
        }
    };
    if let (Sink::File(out), Source::File(input)) = (&sink, source) {
        if same_file(out, input) {
            return Err(Error::Usage(UsageError::OutputIsInput {
                path: out.clone(),
            }));
        }
    }
    Ok(sink)
}

/// `--undo`, else `<input stem>.undo.csv` in the results file's folder
/// (the input's when results go to standard output).
fn undo_target(source: &Source, sink: &Sink, undo: Option<&Path>) -> UndoTarget {
    match undo {
        Some(p) if p.as_os_str().eq_ignore_ascii_case("none") => UndoTarget::None,
        Some(p) => UndoTarget::Path(p.to_path_buf()),
        None => {
            let stem = match source {
                Source::File(input) => input
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "genimport".into()),
                Source::Stdin => "genimport".into(),
            };
            let folder = match (sink, source) {
                (Sink::File(out), _) => out.parent().map(Path::to_path_buf),
                (Sink::Stdout, Source::File(input)) => input.parent().map(Path::to_path_buf),
                (Sink::Stdout, Source::Stdin) => None,
            }
            .unwrap_or_default();
            UndoTarget::Default(folder.join(format!("{stem}.undo.csv")))
        }
    }
}

/// The same file on disk, whatever the path: hard links, symlinks and
/// `..` all lead to one device and inode.
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(a), Ok(b)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return a.dev() == b.dev() && a.ino() == b.ino();
        }
    }
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

fn resolve_hosts(
    region: Option<&str>,
    api_url: Option<&str>,
    login_url: Option<&str>,
) -> Result<Hosts, Error> {
    let from_region = match region.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => region::resolve(r).map_err(|e| Error::Usage(UsageError::UnknownRegion(e)))?,
        None => region::hosts_for_domain(region::DEFAULT_DOMAIN),
    };
    let api = match api_url {
        Some(url) => checked_url("--api-url", url)?,
        None => from_region.api.clone(),
    };
    let login = match (login_url, api_url) {
        (Some(url), _) => checked_url("--login-url", url)?,
        (None, Some(_)) => region::login_from_api(&api),
        (None, None) => from_region.login,
    };
    Ok(Hosts { api, login })
}

/// HTTPS only, except plain HTTP to loopback (local fakes, tests).
fn checked_url(flag: &str, raw: &str) -> Result<String, Error> {
    let bad = |reason: String| {
        Error::Usage(UsageError::BadUrl {
            flag: flag.to_string(),
            reason,
        })
    };
    // The URL is not echoed in errors: it might carry a password.
    let url = reqwest::Url::parse(raw.trim()).map_err(|e| bad(e.to_string()))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "credentials inside a URL are refused; give the client id with --client-id and the secret in GENESYS_CLIENT_SECRET".into(),
        ));
    }
    let host = url.host_str().unwrap_or("");
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(bad(format!(
                "plain http to `{host}` is refused except for loopback hosts; use https"
            )))
        }
        other => return Err(bad(format!("unsupported scheme `{other}`"))),
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn http_only_for_loopback() {
        assert!(checked_url("--api-url", "http://127.0.0.1:9999").is_ok());
        assert!(checked_url("--api-url", "http://localhost:9999/").is_ok());
        assert!(checked_url("--api-url", "http://[::1]:9999").is_ok());
        assert!(checked_url("--api-url", "https://api.example.com").is_ok());
        assert!(checked_url("--api-url", "http://api.example.com").is_err());
        assert!(checked_url("--api-url", "http://10.0.0.1").is_err());
        assert!(checked_url("--api-url", "ftp://x").is_err());
    }

    #[test]
    fn login_url_follows_the_api_url_unless_given() {
        let hosts = resolve_hosts(None, Some("https://api.mypurecloud.de"), None).unwrap();
        assert_eq!(hosts.login, "https://login.mypurecloud.de");
        let hosts = resolve_hosts(Some("eu-west-1"), None, None).unwrap();
        assert_eq!(hosts.api, "https://api.mypurecloud.ie");
        let hosts = resolve_hosts(None, None, None).unwrap();
        assert_eq!(hosts.login, "https://login.mypurecloud.com");
        let hosts =
            resolve_hosts(None, Some("http://127.0.0.1:1"), Some("http://127.0.0.1:2")).unwrap();
        assert_eq!(hosts.login, "http://127.0.0.1:2");
    }

    #[test]
    fn default_output_is_beside_the_input() {
        let sink = output_sink(&Source::File(PathBuf::from("dir/users.csv")), None).unwrap();
        assert_eq!(sink, Sink::File(PathBuf::from("dir/users.results.csv")));
        assert_eq!(output_sink(&Source::Stdin, None).unwrap(), Sink::Stdout);
        assert_eq!(
            output_sink(&Source::Stdin, Some(Path::new("-"))).unwrap(),
            Sink::Stdout
        );
    }
}
