//! Why this exists: `genimport export users|queues` writes the org in the
//! import's own columns (docs/export.md), so export → edit →
//! `--update` sends only the edits. It reads in bulk (docs/genesys-api.md#bulk-reads-export: paged
//! users, each role's grants, each queue's and group's members, the name
//! catalogues once), keeps only what users hold directly, and replaces an
//! existing file only when the export is complete.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::config::{ExportConfig, ExportSettings, ExportState};
use crate::error::{exit, StopReason};
use crate::genesys::catalog::{Catalog, Named};
use crate::genesys::directory::UserListing;
use crate::genesys::lists::USER_EXPAND;
use crate::genesys::users::User;
use crate::genesys::{CallError, Client};
use crate::output::export::{self as writer, Table};
use crate::queues::export as queues;
use crate::resource::Resource;
use crate::stats::Stats;
use crate::stop::Stop;
use crate::users::export::{self as users, Holdings, Names};

/// Why an export stopped; no file was written (an existing one is kept).
#[derive(Debug)]
enum Failure {
    /// A read failed; reading `what` needs `permission` (a 403 names it).
    Read {
        what: &'static str,
        permission: &'static str,
        error: CallError,
    },
    /// `--division` names no division of the org.
    UnknownDivision { wanted: String, known: Vec<String> },
    /// The file (`None`: standard output) could not be written.
    Output {
        path: Option<std::path::PathBuf>,
        source: std::io::Error,
    },
}

impl Failure {
    /// Why the export stopped, as the run's stop reasons say it.
    fn reason(&self, stop: &Stop) -> StopReason {
        match self {
            Failure::Read {
                what,
                permission,
                error,
            } => match crate::plan::stop_reason(error, stop) {
                StopReason::PermissionRefused(m) => StopReason::PermissionRefused(format!(
                    "reading {what} needs the permission {permission}: {m}"
                )),
                other => other,
            },
            other => StopReason::OutputFailed(other.to_string()),
        }
    }

    fn exit_code(&self, stop: &Stop) -> u8 {
        match self {
            Failure::Read { .. } => self.reason(stop).exit_code(),
            Failure::UnknownDivision { .. } => exit::USAGE,
            Failure::Output { .. } => exit::CANT_CREATE,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Read { what, error, .. } => write!(f, "cannot read {what}: {error}"),
            Failure::UnknownDivision { wanted, known } => write!(
                f,
                "--division `{}`: no such division (the org has: {})",
                crate::text::cut(wanted),
                known.join(", ")
            ),
            Failure::Output { path: None, source } => {
                write!(f, "cannot write standard output: {source}")
            }
            Failure::Output {
                path: Some(path),
                source,
            } => write!(f, "cannot write {}: {source}", path.display()),
        }
    }
}

/// Runs one export; the exit code.
pub async fn run(config: &ExportConfig, stop: Stop) -> u8 {
    let settings = &config.settings;
    let stats = Arc::new(Stats::default());
    let client = match crate::commands::client::build_client(
        &config.connect,
        Arc::clone(&stats),
        stop.clone(),
    ) {
        Ok(client) => client,
        Err(e) => {
            tracing::error!("{e}");
            return e.exit_code();
        }
    };
    let interrupt = tokio::spawn(crate::commands::watch_ctrl_c(stop.clone()));
    let started = std::time::Instant::now();
    let bar = config.log.progress_bar;
    let table = match settings.resource {
        Resource::Queues => export_queues(&client, settings).await.map(|t| (t, 0)),
        Resource::Users => export_users(&client, settings, bar).await,
    };
    interrupt.abort();
    let written = table.and_then(|(table, unread)| {
        let rows = table.rows.len();
        write(&table, settings).map(|()| (rows, unread))
    });
    let requests = stats.requests();
    match written {
        Ok((rows, unread)) => {
            let per_row = if rows == 0 {
                0.0
            } else {
                requests as f64 / rows as f64
            };
            tracing::info!(
                rows,
                requests,
                requests_per_row = format!("{per_row:.3}"),
                elapsed_s = started.elapsed().as_secs_f64(),
                "export complete"
            );
            if config.log.verbosity > 0 && config.log.format == crate::cli::LogFormat::Text {
                eprintln!(
                    "exported {rows} {} with {requests} requests ({per_row:.3} per row) in {:.1} s",
                    settings.resource.noun(),
                    started.elapsed().as_secs_f64()
                );
            }
            if unread > 0 {
                tracing::error!(
                    unread,
                    "the export is short: {unread} users could not be read (one division holds more of them than Genesys pages through); the file holds every other user"
                );
                return exit::ROWS_NEED_ATTENTION;
            }
            exit::OK
        }
        Err(failure @ Failure::Read { .. }) => {
            tracing::error!(
                "export stopped: {}; no file was written (an existing one is kept)",
                failure.reason(&stop)
            );
            failure.exit_code(&stop)
        }
        Err(failure) => {
            tracing::error!("{failure}");
            failure.exit_code(&stop)
        }
    }
}

fn write(table: &Table, settings: &ExportSettings) -> Result<(), Failure> {
    let sheet = settings.resource.noun();
    match &settings.output {
        None => {
            let stdout = std::io::stdout();
            writer::write_csv(table, stdout.lock())
                .map_err(|source| Failure::Output { path: None, source })
        }
        Some(path) => writer::write_file(table, path, sheet).map_err(|source| Failure::Output {
            path: Some(path.clone()),
            source,
        }),
    }
}

/// Tags a read's error with what was read and the permission it needs.
fn reading(what: &'static str, permission: &'static str) -> impl FnOnce(CallError) -> Failure {
    move |error| Failure::Read {
        what,
        permission,
        error,
    }
}

fn by_id(items: Vec<Named>) -> HashMap<String, String> {
    items.into_iter().map(|n| (n.id, n.name)).collect()
}

/// The division ids `--division` names (by name or id); `None`: all.
fn division_filter(
    wanted: &[String],
    divisions: &HashMap<String, String>,
) -> Result<Option<HashSet<String>>, Failure> {
    if wanted.is_empty() {
        return Ok(None);
    }
    let mut ids = HashSet::new();
    for want in wanted {
        let found = divisions
            .iter()
            .find(|(id, name)| *id == want || *name == want)
            .or_else(|| {
                divisions
                    .iter()
                    .find(|(_, name)| name.eq_ignore_ascii_case(want))
            });
        match found {
            Some((id, _)) => {
                ids.insert(id.clone());
            }
            None => {
                let mut known: Vec<&String> = divisions.values().collect();
                known.sort();
                return Err(Failure::UnknownDivision {
                    wanted: want.clone(),
                    known: known.into_iter().cloned().collect(),
                });
            }
        }
    }
    Ok(Some(ids))
}

async fn divisions(client: &Client) -> Result<(HashMap<String, String>, String), Failure> {
    let divisions = client
        .all_divisions()
        .await
        .map_err(reading("divisions", "authorization:division:view"))?;
    let home = client
        .home_division()
        .await
        .map_err(reading("the home division", "authorization:division:view"))?;
    Ok((
        divisions.into_iter().map(|d| (d.id, d.name)).collect(),
        home.id,
    ))
}

async fn catalog(
    client: &Client,
    catalog: Catalog,
    permission: &'static str,
) -> Result<Vec<Named>, Failure> {
    let what = match catalog {
        Catalog::Roles => "roles",
        Catalog::Skills => "skills",
        Catalog::Languages => "languages",
        Catalog::Queues => "queues",
        Catalog::Groups => "groups",
        Catalog::Locations => "locations",
        Catalog::WrapupCodes => "wrap-up codes",
    };
    client
        .list_all(catalog)
        .await
        .map_err(reading(what, permission))
}

async fn export_users(
    client: &Client,
    settings: &ExportSettings,
    bar: bool,
) -> Result<(Table, u64), Failure> {
    let (divisions, home_division) = divisions(client).await?;
    let only = division_filter(&settings.divisions, &divisions)?;
    let (all, unread) = read_users(client, settings, bar).await?;
    tracing::info!(users = all.len(), "users read");
    let emails: HashMap<String, String> = all
        .iter()
        .filter_map(|u| Some((u.id.clone(), u.email.clone()?)))
        .collect();
    let users: Vec<_> = all
        .into_iter()
        .filter(|u| !u.is_deleted())
        .filter(|u| {
            only.as_ref()
                .is_none_or(|ids| u.division_id().is_some_and(|d| ids.contains(d)))
        })
        .collect();
    let wanted: HashSet<&str> = users.iter().map(|u| u.id.as_str()).collect();

    let names = Names {
        roles: by_id(catalog(client, Catalog::Roles, "authorization:role:view").await?),
        skills: by_id(catalog(client, Catalog::Skills, "routing:skill:view").await?),
        languages: by_id(catalog(client, Catalog::Languages, "routing:language:view").await?),
        locations: by_id(catalog(client, Catalog::Locations, "directory:location:view").await?),
        divisions,
        home_division,
    };
    let held = if users.is_empty() {
        Holdings::default()
    } else {
        read_holdings(client, &names, &wanted, settings.concurrency).await?
    };
    let mut rows: Vec<Vec<String>> = users
        .iter()
        .map(|u| users::user_row(u, &names, &held, &emails))
        .collect();
    rows.sort_by(|a, b| {
        (a[1].to_lowercase(), a[0].to_lowercase()).cmp(&(b[1].to_lowercase(), b[0].to_lowercase()))
    });
    Ok((
        Table {
            header: users::user_columns(),
            rows,
        },
        unread,
    ))
}

/// Every user in the states asked for, in pages (progress on stderr),
/// and how many of them could not be read (past every cap).
async fn read_users(
    client: &Client,
    settings: &ExportSettings,
    bar: bool,
) -> Result<(Vec<User>, u64), Failure> {
    let states: &[&str] = match settings.state {
        ExportState::Active => &["active"],
        ExportState::Inactive => &["inactive"],
        ExportState::All => &["active", "inactive"],
    };
    let progress = bar.then(|| {
        let spinner = indicatif::ProgressBar::new_spinner();
        spinner.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        spinner
    });
    let mut all: Vec<User> = Vec::new();
    let mut unread = 0;
    for state in states {
        let listing = UserListing {
            state,
            expand: &USER_EXPAND,
            concurrency: settings.concurrency,
        };
        unread += client
            .each_user(&listing, |users| {
                all.extend(users);
                match &progress {
                    Some(bar) => bar.set_message(format!("{} users read", all.len())),
                    None => tracing::debug!(read = all.len(), "users read"),
                }
            })
            .await
            .map_err(reading("users", "directory:user:view"))?;
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    // A user a page boundary moved under a concurrent read is kept once.
    let mut seen = HashSet::new();
    all.retain(|u| seen.insert(u.id.clone()));
    Ok((all, unread))
}

/// What the users hold directly: role grants (per role), queue and group
/// memberships (per queue and group), for the users in `wanted` only.
async fn read_holdings(
    client: &Client,
    names: &Names,
    wanted: &HashSet<&str>,
    concurrency: usize,
) -> Result<Holdings, Failure> {
    let mut held = Holdings::default();
    let mut roles: Vec<(&String, &String)> = names.roles.iter().collect();
    roles.sort();
    for (role_id, role) in roles {
        let subjects = client
            .role_subject_grants(role_id, concurrency)
            .await
            .map_err(reading("role grants", "authorization:grant:view"))?;
        for subject in subjects.iter().filter(|s| s.is_direct_user()) {
            if !wanted.contains(subject.id.as_str()) {
                continue;
            }
            for division in &subject.divisions {
                held.grant(names, &subject.id, role, &division.id);
            }
        }
    }
    for queue in catalog(client, Catalog::Queues, "routing:queue:view").await? {
        let members = client
            .queue_user_members(&queue.id)
            .await
            .map_err(reading("queue members", "routing:queue:view"))?;
        for member in members
            .into_iter()
            .filter(|m| wanted.contains(m.id.as_str()))
        {
            held.queues
                .entry(member.id)
                .or_default()
                .push(queue.name.clone());
        }
    }
    for group in catalog(client, Catalog::Groups, "directory:group:view").await? {
        let members = client
            .group_member_ids(&group.id)
            .await
            .map_err(reading("group members", "directory:group:view"))?;
        for member in members.into_iter().filter(|m| wanted.contains(m.as_str())) {
            held.groups
                .entry(member)
                .or_default()
                .push(group.name.clone());
        }
    }
    held.phones = read_phones(client, wanted).await?;
    Ok(held)
}

/// Each user's WebRTC phone, from one paged listing of the org's phones
/// (base settings and sites read only when the listing leaves out their
/// names). A client that may not read phones gets the columns blank (a
/// blank cell leaves a phone as it is), with a warning.
async fn read_phones(
    client: &Client,
    wanted: &HashSet<&str>,
) -> Result<HashMap<String, (String, String)>, Failure> {
    use crate::genesys::phones::{lacks_name, phones_by_user};
    let phones = match client.all_phones().await {
        Err(CallError::Rejected { status: 403, .. }) => {
            tracing::warn!("the phones could not be read (needs telephony:plugin:all): webrtc_phone and site are left blank");
            return Ok(HashMap::new());
        }
        other => other.map_err(reading("phones", "telephony:plugin:all"))?,
    };
    let phones: Vec<_> = phones
        .into_iter()
        .filter(|p| p.user_id().is_some_and(|u| wanted.contains(u)))
        .collect();
    let bases = if phones.iter().any(|p| lacks_name(&p.phone_base_settings)) {
        let bases = client
            .phone_bases()
            .await
            .map_err(reading("phone base settings", "telephony:plugin:all"))?;
        bases
            .into_iter()
            .map(|b| Named {
                id: b.id,
                name: b.name,
            })
            .collect()
    } else {
        Vec::new()
    };
    let sites = if phones.iter().any(|p| lacks_name(&p.site)) {
        client
            .sites()
            .await
            .map_err(reading("sites", "telephony:plugin:all"))?
    } else {
        Vec::new()
    };
    Ok(phones_by_user(&phones, &bases, &sites))
}

async fn export_queues(client: &Client, settings: &ExportSettings) -> Result<Table, Failure> {
    let (divisions, _) = divisions(client).await?;
    let only = division_filter(&settings.divisions, &divisions)?;
    let queues = client
        .whole_queues()
        .await
        .map_err(reading("queues", "routing:queue:view"))?;
    let queues: Vec<_> = queues
        .into_iter()
        .filter(|q| {
            only.as_ref().is_none_or(|ids| {
                q.pointer("/division/id")
                    .and_then(|d| d.as_str())
                    .is_some_and(|d| ids.contains(d))
            })
        })
        .collect();
    let codes = if queues.is_empty() {
        HashMap::new()
    } else {
        by_id(catalog(client, Catalog::WrapupCodes, "routing:wrapupCode:view").await?)
    };
    let mut rows = Vec::with_capacity(queues.len());
    for queue in &queues {
        let id = queue["id"].as_str().unwrap_or_default();
        let wrapups: Vec<String> = client
            .queue_wrapups(id)
            .await
            .map_err(reading("queue wrap-up codes", "routing:queue:view"))?
            .into_iter()
            .filter_map(|code| codes.get(&code).cloned())
            .collect();
        rows.push(queues::queue_row(queue, &divisions, &wrapups));
    }
    rows.sort_by_key(|r| (r[0].to_lowercase(), r[0].clone()));
    Ok(Table {
        header: queues::columns(),
        rows,
    })
}
