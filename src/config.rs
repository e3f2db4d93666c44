//! Why this exists: the only place that reads the environment. Flags, env
//! variables and `.env` become one validated `Config`, which is all the rest
//! of the program sees.

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use secrecy::SecretString;

use crate::cli::{Cli, LogFormat};
use crate::error::Error;
use crate::input::Source;
use crate::pacing::RetryPolicy;
use crate::region::{self, Hosts};
use crate::report::Sink;

/// Client-credentials grant. `Debug` never shows the secret.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub client_id: String,
    pub secret: SecretString,
}

#[derive(Debug, Clone)]
pub struct LogSettings {
    pub format: LogFormat,
    /// 0 quiet, 1 normal, 2 per row, 3 per request.
    pub verbosity: u8,
    pub color: bool,
    pub progress_bar: bool,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub source: Source,
    pub sink: Sink,
    pub dry_run: bool,
    pub strict: bool,
    /// `None` when not configured (a dry run then stays offline).
    pub credentials: Option<Credentials>,
    /// Why the credentials a run needs are missing (exit 78).
    pub missing_credentials: Option<String>,
    pub hosts: Hosts,
    /// `--division` as given (id or name).
    pub default_division: Option<String>,
    pub concurrency: usize,
    pub rate_per_minute: Option<u32>,
    pub retry: RetryPolicy,
    pub request_timeout: Duration,
    pub restore_deleted: bool,
    pub log: LogSettings,
}

impl LogSettings {
    pub fn from_cli(cli: &Cli) -> LogSettings {
        let stderr_is_terminal = std::io::stderr().is_terminal();
        LogSettings {
            format: cli.log_format,
            verbosity: if cli.quiet { 0 } else { 1 + cli.verbose.min(2) },
            color: stderr_is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
            progress_bar: stderr_is_terminal
                && !cli.no_progress
                && !cli.quiet
                && cli.log_format == LogFormat::Text,
        }
    }
}

/// Loads `.env` (real environment variables win) and parses the arguments.
/// `.env` is read first so that clap's `env` fallbacks see its values.
pub fn parse_args() -> Result<Cli, ParseFailure> {
    match dotenvy::dotenv() {
        Ok(_) => {}
        Err(e) if e.not_found() => {}
        Err(e) => {
            return Err(ParseFailure::Config(Error::Config(format!(
                "cannot read .env: {e}"
            ))))
        }
    }
    <Cli as clap::Parser>::try_parse().map_err(ParseFailure::Clap)
}

pub enum ParseFailure {
    Clap(clap::Error),
    Config(Error),
}

impl Config {
    pub fn from_cli(cli: Cli) -> Result<Config, Error> {
        let log = LogSettings::from_cli(&cli);
        let input = cli
            .input
            .ok_or_else(|| Error::Usage("the CSV argument is required".into()))?;
        let source = Source::from_arg(&input);
        let sink = output_sink(&source, cli.output.as_deref())?;

        let hosts = resolve_hosts(
            cli.region.as_deref(),
            cli.api_url.as_deref(),
            cli.login_url.as_deref(),
        )?;

        let secret = std::env::var("GENESYS_CLIENT_SECRET")
            .ok()
            .filter(|s| !s.is_empty());
        let client_id = cli.client_id.filter(|s| !s.trim().is_empty());
        let mut missing_credentials = None;
        let credentials = match (client_id, secret) {
            (Some(client_id), Some(secret)) => Some(Credentials {
                client_id: client_id.trim().to_string(),
                secret: SecretString::from(secret),
            }),
            (None, None) if cli.dry_run => None,
            (id, secret) => {
                let mut missing = Vec::new();
                if id.is_none() {
                    missing.push("GENESYS_CLIENT_ID (or --client-id)");
                }
                if secret.is_none() {
                    missing.push("GENESYS_CLIENT_SECRET");
                }
                // Reported by `run` once the input is known to be readable,
                // so a mistyped path is named before the environment is.
                missing_credentials = Some(format!(
                    "missing credentials: set {} in the environment or a .env file{}",
                    missing.join(" and "),
                    if cli.dry_run {
                        ""
                    } else {
                        " (or use --dry-run to validate offline)"
                    }
                ));
                None
            }
        };

        if !(cli.time_scale >= 0.0 && cli.time_scale.is_finite()) {
            return Err(Error::Usage(
                "--time-scale must be a non-negative number".into(),
            ));
        }
        let retry = RetryPolicy {
            max_retries: cli.max_retries,
            max_retry_after: Duration::from_secs(cli.max_retry_after),
            time_scale: cli.time_scale,
            ..RetryPolicy::default()
        };

        Ok(Config {
            source,
            sink,
            dry_run: cli.dry_run,
            strict: cli.strict,
            credentials,
            missing_credentials,
            hosts,
            default_division: cli
                .division
                .map(|d| d.trim().to_string())
                .filter(|d| !d.is_empty()),
            concurrency: usize::from(cli.concurrency),
            rate_per_minute: cli.rate,
            retry,
            request_timeout: Duration::from_secs(cli.request_timeout),
            restore_deleted: cli.restore_deleted,
            log,
        })
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
            return Err(Error::Usage(format!(
                "the results file {} is the input file; choose another --output",
                out.display()
            )));
        }
    }
    Ok(sink)
}

fn same_file(a: &Path, b: &Path) -> bool {
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
        Some(r) => region::resolve(r).map_err(Error::Usage)?,
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
    let url = reqwest::Url::parse(raw.trim())
        .map_err(|e| Error::Usage(format!("{flag} `{raw}`: {e}")))?;
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
            return Err(Error::Usage(format!(
                "{flag} `{raw}`: plain http is refused except for loopback hosts; use https"
            )))
        }
        other => {
            return Err(Error::Usage(format!(
                "{flag} `{raw}`: unsupported scheme `{other}`"
            )))
        }
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
