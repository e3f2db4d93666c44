//! Why this exists: a row's `webrtc_phone` and `site` are names; they are
//! resolved before anything is written (an unknown or ambiguous name, or a
//! base settings that makes no WebRTC phone, makes the row `invalid`), and
//! the phones the row's existing users already have are read in bulk, the
//! cheapest way: one user's phones by a filter, many users' by paging the
//! org's phones when that takes fewer requests. A run without phone cells
//! reads nothing here.

use std::collections::HashMap;

use crate::genesys::catalog::Named;
use crate::genesys::phones::{NewPhone, Phone, PhoneBase};
use crate::genesys::{CallError, Client};
use crate::input::{Cell, UserRow};
use crate::plan::phones::{phone_name, OldPhone, PhoneStep};
use crate::plan::{failed_outcome, Job, Outcome, Plan, Status};
use crate::resolve::names::NameIndex;

/// What the rows' phone names resolve against, read once a run.
struct Telephony {
    bases: Vec<PhoneBase>,
    base_names: NameIndex,
    sites: Option<NameIndex>,
    default_site: Option<String>,
    /// The WebRTC phones of the rows' existing users, by user id.
    phones: HashMap<String, Vec<Phone>>,
}

/// The row's user and phone cell, for rows that may be sent.
fn phone_row(job: &Job) -> Option<(&UserRow, Option<&str>)> {
    match &job.plan {
        Plan::Create { user, .. } => Some((user, None)),
        Plan::Update { user, existing, .. } => Some((user, Some(existing.id.as_str()))),
        _ => None,
    }
    .filter(|(user, _)| user.webrtc_phone != Cell::Blank)
}

/// Plans every row's phone step; a name that does not resolve makes its
/// row invalid.
pub(super) async fn plan(client: &Client, jobs: &mut [Job]) -> Result<(), CallError> {
    let telephony = match Telephony::read(client, jobs).await {
        Ok(Some(telephony)) => telephony,
        Ok(None) => return Ok(()),
        // A client that may not read phones: its phone rows fail, the others go on.
        Err(refused @ CallError::Rejected { status: 403, .. }) => {
            for job in jobs.iter_mut().filter(|j| phone_row(j).is_some()) {
                job.plan = Plan::Report(failed_outcome(
                    &refused,
                    "reading the phones (needs telephony:plugin:all); nothing was sent for this row",
                ));
            }
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    for job in jobs.iter_mut() {
        let Some((user, existing)) = phone_row(job) else {
            continue;
        };
        let held = existing
            .and_then(|id| telephony.phones.get(id))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let step = match telephony.step(user, held) {
            Ok(step) => step,
            Err(problem) => {
                job.plan = Plan::Report(Outcome::new(Status::Invalid).with_message(problem));
                continue;
            }
        };
        if step.is_empty() {
            continue;
        }
        match &mut job.plan {
            Plan::Create { provision, .. } => provision.phone = Some(step),
            Plan::Update {
                provision, preview, ..
            } => {
                preview.extend(step.changes());
                provision.phone = Some(step);
            }
            _ => {}
        }
    }
    names_taken(client, jobs).await
}

/// Phone names per request of the name check (they travel in the URL).
const NAME_BATCH: usize = 50;

/// A phone the run would make whose name another phone of the org holds
/// fails its row before anything is sent for it, naming that phone (the
/// create would be refused, the user already made). One read per 50 names.
async fn names_taken(client: &Client, jobs: &mut [Job]) -> Result<(), CallError> {
    let made: Vec<(usize, String)> = jobs
        .iter()
        .enumerate()
        .filter_map(|(i, job)| match &job.plan {
            Plan::Create { provision, .. } | Plan::Update { provision, .. } => provision
                .phone
                .as_ref()
                .and_then(|p| p.create.as_ref())
                .map(|c| (i, c.name.clone())),
            _ => None,
        })
        .collect();
    let mut taken: HashMap<String, Phone> = HashMap::new();
    for chunk in made.chunks(NAME_BATCH) {
        let names: Vec<String> = chunk.iter().map(|(_, n)| n.clone()).collect();
        for phone in client.phones_named_any(&names).await? {
            taken.insert(phone.name.clone(), phone);
        }
    }
    for (index, name) in made {
        let Some(other) = taken.get(&name) else {
            continue;
        };
        let job = &mut jobs[index];
        let own = match &job.plan {
            Plan::Update { existing, .. } => Some(existing.id.as_str()),
            _ => None,
        };
        // The user's own phone (of another base settings) goes first: no conflict.
        if own.is_some() && other.user_id() == own {
            continue;
        }
        job.plan = Plan::Report(
            Outcome::new(Status::Failed)
                .with_error(Some(409), Some("phone.name.taken".to_string()), format!(
                    "webrtc_phone: the org already has a phone {}; nothing was sent for this row (delete or rename that phone, then run again)",
                    other.describe()
                )),
        );
    }
    Ok(())
}

impl Telephony {
    /// Reads what the rows need: base settings when a row names one, sites
    /// when a row names a site, the default site when a row leaves it
    /// blank, the existing users' phones. `None`: no row has a phone cell.
    async fn read(client: &Client, jobs: &[Job]) -> Result<Option<Telephony>, CallError> {
        let rows: Vec<(&UserRow, Option<&str>)> = jobs.iter().filter_map(phone_row).collect();
        if rows.is_empty() {
            return Ok(None);
        }
        let adds = || {
            rows.iter()
                .filter(|(u, _)| matches!(u.webrtc_phone, Cell::Set(_)))
        };
        let mut bases = if adds().next().is_some() {
            client.phone_bases().await?
        } else {
            Vec::new()
        };
        complete_lines(
            client,
            &mut bases,
            adds().filter_map(|(u, _)| u.webrtc_phone.value()),
        )
        .await?;
        let sites = if adds().any(|(u, _)| u.site.is_some()) {
            Some(NameIndex::new("site", client.sites().await?))
        } else {
            None
        };
        let default_site = if adds().any(|(u, _)| u.site.is_none()) {
            client.default_site().await?
        } else {
            None
        };
        let users: Vec<&str> = rows.iter().filter_map(|(_, id)| *id).collect();
        let phones = existing_phones(client, &users).await?;
        let named: Vec<Named> = bases
            .iter()
            .map(|b| Named {
                id: b.id.clone(),
                name: b.name.clone(),
            })
            .collect();
        Ok(Some(Telephony {
            base_names: NameIndex::new("phone base settings", named),
            bases,
            sites,
            default_site,
            phones,
        }))
    }

    /// The row's phone step, given the user's WebRTC phones (`held`).
    fn step(&self, user: &UserRow, held: &[Phone]) -> Result<PhoneStep, String> {
        let remove = |phones: &mut dyn Iterator<Item = &Phone>| -> Vec<OldPhone> {
            phones.map(|p| self.old_phone(p)).collect()
        };
        let name = match &user.webrtc_phone {
            Cell::Set(name) => name,
            _ => {
                return Ok(PhoneStep {
                    remove: remove(&mut held.iter()),
                    ..PhoneStep::default()
                })
            }
        };
        let (base_id, base_name) = self
            .base_names
            .resolve(name)
            .map_err(|e| format!("webrtc_phone: {e}"))?;
        let base = self
            .bases
            .iter()
            .find(|b| b.id == base_id)
            .ok_or_else(|| format!("webrtc_phone: `{base_name}` could not be read"))?;
        if !base.is_webrtc() {
            return Err(format!(
                "webrtc_phone: `{base_name}` does not make WebRTC phones (its phone meta base is not the WebRTC softphone)"
            ));
        }
        if let Some(phone) = held.iter().find(|p| p.base_id() == base_id) {
            // The user has it: only a station not yet its default is left to do.
            let finish = !phone.is_default_station();
            return Ok(PhoneStep {
                add: finish.then_some(base_name),
                ..PhoneStep::default()
            });
        }
        let site_id = self.site_id(user.site.as_deref())?;
        let line_base_id = base
            .lines
            .first()
            .map(|l| l.id.clone())
            .ok_or_else(|| format!("webrtc_phone: `{base_name}` has no line settings"))?;
        Ok(PhoneStep {
            remove: remove(&mut held.iter()),
            create: Some(NewPhone {
                name: phone_name(&user.email),
                base_id,
                line_base_id,
                site_id,
                capabilities: base.capabilities.clone(),
            }),
            add: Some(base_name),
        })
    }

    fn site_id(&self, site: Option<&str>) -> Result<String, String> {
        match (site, &self.sites) {
            (Some(name), Some(sites)) => sites
                .resolve(name)
                .map(|(id, _)| id)
                .map_err(|e| format!("site: {e}")),
            (Some(_), None) => Err("site: the sites were not read".to_string()),
            (None, _) => self.default_site.clone().ok_or_else(|| {
                "site: the org has no default site; name the phone's site in `site`".to_string()
            }),
        }
    }

    fn old_phone(&self, phone: &Phone) -> OldPhone {
        let base_name = phone
            .phone_base_settings
            .as_ref()
            .and_then(|b| b.name.clone())
            .or_else(|| {
                self.bases
                    .iter()
                    .find(|b| b.id == phone.base_id())
                    .map(|b| b.name.clone())
            })
            .unwrap_or_else(|| phone.name.clone());
        OldPhone {
            id: phone.id.clone(),
            label: base_name,
            default_station: phone.is_default_station(),
        }
    }
}

/// The base settings rows name whose listing left out their lines are
/// read whole (the line settings a phone is made with).
async fn complete_lines<'a>(
    client: &Client,
    bases: &mut [PhoneBase],
    named: impl Iterator<Item = &'a String>,
) -> Result<(), CallError> {
    let named: Vec<&String> = named.collect();
    for base in bases.iter_mut() {
        if base.lines.is_empty()
            && named
                .iter()
                .any(|n| n.trim().eq_ignore_ascii_case(base.name.trim()))
        {
            *base = client.phone_base(&base.id).await?;
        }
    }
    Ok(())
}

/// The WebRTC phones of these users: a filtered read each, or the org's
/// phones paged when that takes fewer requests (the first page tells).
async fn existing_phones(
    client: &Client,
    users: &[&str],
) -> Result<HashMap<String, Vec<Phone>>, CallError> {
    let mut phones: Vec<Phone> = Vec::new();
    match users {
        [] => {}
        [one] => phones = client.phones_of(one).await?,
        _ => {
            let (first, pages) = client.phones_first_page().await?;
            if (pages.saturating_sub(1) as usize) < users.len() {
                phones = first;
                phones.extend(client.phones_from(2, pages).await?);
            } else {
                for user in users {
                    phones.extend(client.phones_of(user).await?);
                }
            }
        }
    }
    tracing::info!(
        users = users.len(),
        phones = phones.len(),
        "preflight: existing WebRTC phones read"
    );
    let mut by_user: HashMap<String, Vec<Phone>> = HashMap::new();
    for phone in phones {
        if let Some(user) = phone.user_id() {
            by_user.entry(user.to_string()).or_default().push(phone);
        }
    }
    Ok(by_user)
}
