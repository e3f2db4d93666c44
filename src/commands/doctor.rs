//! Why this exists: `genimport doctor [FILE]` answers, before any run, who
//! the client is, where it holds each permission genimport uses (with
//! FILE: each one that file's plan needs, rows checked as a run checks
//! them) and the org's limits. It reads only.

use std::sync::Arc;

use serde_json::json;

use crate::access::model::{Holding, Need, Source};
use crate::access::{self, needs, Check, Discovery};
use crate::cli::LogFormat;
use crate::commands::client::build_client;
use crate::commands::import::plan_rows;
use crate::commands::inputs::{read_all, Listed};
use crate::config::DoctorConfig;
use crate::error::{exit, Error};
use crate::genesys::access::Limit;
use crate::genesys::Client;
use crate::input::RowReader;
use crate::plan::Job;
use crate::stats::Stats;
use crate::stop::Stop;

/// The namespaces whose limits bear on a run (the API description's
/// `Limit.namespace` values genimport's requests fall under).
const NAMESPACES: &[&str] = &["platform.api", "directory", "authorization", "routing"];

/// What planning FILE gave: its rows' plans, or the exit code of a file
/// that could not be used.
struct FilePlan {
    jobs: Vec<Job>,
    invalid: usize,
    unusable: Option<u8>,
}

pub async fn run(config: &DoctorConfig, stop: Stop) -> u8 {
    let stats = Arc::new(Stats::default());
    let client = match build_client(&config.connect, Arc::clone(&stats), stop.clone()) {
        Ok(client) => Arc::new(client),
        Err(e) => {
            tracing::error!("{e}");
            return e.exit_code();
        }
    };
    if let Err(e) = client.authenticate().await {
        let reason = crate::plan::stop_reason(&e, &stop);
        tracing::error!("{}", reason);
        return reason.exit_code();
    }
    let file = match &config.file {
        Some(import) => Some(plan_file(import, &client, &stop).await),
        None => None,
    };
    let wanted: Vec<Need> = match &file {
        Some(plan) if plan.unusable.is_none() => access::needs_of(&plan.jobs),
        _ => needs::ALL.to_vec(),
    };
    let client_id = config
        .connect
        .credentials
        .as_ref()
        .map(|c| c.client_id.clone())
        .unwrap_or_default();
    let before = stats.requests();
    let discovery = access::discover::discover(&client, &client_id, &wanted, true).await;
    let mut check = None;
    if let Some(plan) = file.as_ref().filter(|p| p.unusable.is_none()) {
        let mut jobs = plan.jobs.clone();
        let queues = access::queue_divisions(&client, &jobs, &discovery).await;
        check = Some(access::check(&mut jobs, &discovery, &queues));
    }
    let discovery_requests = stats.requests() - before;
    let limits = read_limits(&client).await;
    let report = Report {
        discovery: &discovery,
        wanted: &wanted,
        check: check.as_ref(),
        limits: &limits,
        discovery_requests,
    };
    let text = match config.log.format {
        LogFormat::Text => report.render(),
        LogFormat::Json => format!("{}\n", report.json()),
    };
    // A closed pipe (`| head`) is not an error of the doctor's.
    let _ = std::io::Write::write_all(&mut std::io::stdout(), text.as_bytes());
    let missing = match &check {
        Some(check) => !check.missing.is_empty(),
        None => wanted
            .iter()
            .any(|n| discovery.access.need_holding(n) == Holding::In(Default::default())),
    };
    match file {
        Some(FilePlan {
            unusable: Some(code),
            ..
        }) => code,
        _ if missing => exit::NO_PERM,
        Some(plan) if plan.invalid > 0 => exit::ROWS_NEED_ATTENTION,
        _ => exit::OK,
    }
}

/// FILE read and planned as a dry run plans it; its problems are logged
/// (line by line) as a dry run reports them.
async fn plan_file(import: &crate::config::Config, client: &Arc<Client>, stop: &Stop) -> FilePlan {
    let unusable = |message: String, code: u8| {
        tracing::error!("{message}");
        FilePlan {
            jobs: Vec::new(),
            invalid: 0,
            unusable: Some(code),
        }
    };
    let unusable_input = |e: crate::input::InputError| {
        let e = Error::from(e);
        unusable(e.to_string(), e.exit_code())
    };
    let mut reader = match RowReader::open(&import.source, &import.read) {
        Ok(reader) => reader,
        Err(e) => return unusable_input(e),
    };
    let inputs = match read_all(&mut reader, import.read.resource) {
        Ok(inputs) => inputs,
        Err(e) => return unusable_input(e),
    };
    let mut invalid = 0;
    for Listed { line, problems, .. } in inputs.listed() {
        if let Some(problems) = problems {
            invalid += 1;
            tracing::warn!(line, "line {line}: {problems}");
        }
    }
    match plan_rows(import, client, &inputs).await {
        Ok((jobs, _)) => FilePlan {
            jobs,
            invalid,
            unusable: None,
        },
        Err(e) => {
            let reason = crate::plan::stop_reason(&e, stop);
            unusable(format!("preflight failed: {}", reason), reason.exit_code())
        }
    }
}

async fn read_limits(client: &Client) -> Vec<Limit> {
    let mut all = Vec::new();
    for namespace in NAMESPACES {
        match client.limits(namespace).await {
            Ok(limits) => all.extend(limits),
            Err(e) => tracing::debug!(namespace, "limits not read: {e}"),
        }
    }
    all
}

struct Report<'a> {
    discovery: &'a Discovery,
    wanted: &'a [Need],
    check: Option<&'a Check>,
    limits: &'a [Limit],
    discovery_requests: u64,
}

impl Report<'_> {
    fn how(&self) -> &'static str {
        match self.discovery.access.source {
            Source::Roles => "read from the client's roles and their permission policies",
            Source::Permitted => "read a permission at a time (divisionspermitted)",
            Source::None => "not readable: Genesys would not say what this client holds",
        }
    }

    fn render(&self) -> String {
        let d = self.discovery;
        let mut out = String::new();
        let client = d.identity.as_ref().and_then(|i| i.oauth_client.as_ref());
        let org = d.identity.as_ref().and_then(|i| i.organization.as_ref());
        out.push_str(&format!(
            "client        {}\norg           {}\naccess        {} ({} requests)\n\n",
            client.map_or("unknown".into(), |c| format!(
                "{} ({}, {})",
                c.name,
                c.id,
                c.authorized_grant_type
                    .as_deref()
                    .unwrap_or("grant type not told")
            )),
            org.map_or("unknown".into(), |o| format!("{} ({})", o.name, o.id)),
            self.how(),
            self.discovery_requests
        ));
        out.push_str(&format!(
            "{:<30}  {:<68}  held in\n",
            "needed to", "permission"
        ));
        for need in self.wanted {
            let held = access::where_held(&d.access.need_holding(need), d);
            out.push_str(&format!(
                "{:<30}  {:<68}  {held}\n",
                need.what,
                need.describe()
            ));
        }
        if let Some(aware) = d.access.grants_division_aware {
            out.push_str(&format!(
                "role grants are checked {}\n",
                if aware {
                    "per division (division-aware role management)"
                } else {
                    "org-wide"
                }
            ));
        }
        if let Some(check) = self.check {
            if check.missing.is_empty() {
                out.push_str(
                    "\nevery row of the file can be done with this client's permissions\n",
                );
            } else {
                out.push_str(&format!(
                    "\nmissing ({} rows would fail)\n",
                    check.rows_failed
                ));
                for (what, rows) in &check.missing {
                    out.push_str(&format!("  {what} ({rows} rows)\n"));
                }
            }
            for what in &check.unknown {
                out.push_str(&format!("  not checked: {what}\n"));
            }
        }
        if !self.limits.is_empty() {
            out.push_str("\nlimits\n");
            for limit in self.limits {
                out.push_str(&format!(
                    "  {:<56}  {}\n",
                    format!("{} {}", limit.namespace, limit.key),
                    limit.value
                ));
            }
        }
        for gap in &d.gaps {
            out.push_str(&format!("could not read: {gap}\n"));
        }
        out.push_str("a 403 can still come: deny (ABAC) policies, changes in the last minutes, rules the API description does not list\n");
        out
    }

    fn json(&self) -> serde_json::Value {
        let d = self.discovery;
        let client = d.identity.as_ref().and_then(|i| i.oauth_client.as_ref());
        let org = d.identity.as_ref().and_then(|i| i.organization.as_ref());
        let permissions: Vec<serde_json::Value> = self
            .wanted
            .iter()
            .map(|need| {
                json!({
                    "needed_to": need.what,
                    "any_of": need.any_of,
                    "held_in": access::where_held(&d.access.need_holding(need), d),
                })
            })
            .collect();
        json!({
            "client": client.map(|c| json!({"id": c.id, "name": c.name})),
            "org": org.map(|o| json!({"id": o.id, "name": o.name})),
            "access": self.how(),
            "requests": self.discovery_requests,
            "permissions": permissions,
            "grants_division_aware": d.access.grants_division_aware,
            "missing": self.check.map(|c| c.missing.iter().map(|(what, rows)| json!({"permission": what, "rows": rows})).collect::<Vec<_>>()),
            "not_checked": self.check.map(|c| c.unknown.iter().collect::<Vec<_>>()),
            "limits": self.limits.iter().map(|l| json!({"namespace": l.namespace, "key": l.key, "value": l.value})).collect::<Vec<_>>(),
            "could_not_read": d.gaps,
        })
    }
}
