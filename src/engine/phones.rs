//! Why this exists: the WebRTC phone of each held row, after the adds and
//! before the removals (a deleted user's phone goes first). Two passes
//! across users: first the phones (a replaced or removed phone deleted,
//! its default station cleared; a new phone created, looked for before it
//! is sent again when an answer is lost, so a user never gets two), then
//! the stations Genesys makes for new phones, which it indexes
//! asynchronously: each is looked for a while after its phone was made
//! (the phones made meanwhile absorb most of the wait), again at
//! intervals up to a bound (Terraform waits up to 60 s), then made the
//! user's default. A station that never appears leaves the row
//! `incomplete`, naming the step; a re-run with `--update` finishes it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::engine::{Engine, Held};
use crate::genesys::phones::{NewPhone, Phone};
use crate::genesys::CallError;
use crate::plan::phones::PhoneStep;
use crate::plan::{error_failure, Change, Failure};

/// Between looks for a new phone's station (the official guide: 1 s).
pub const STATION_WAIT: Duration = Duration::from_secs(2);
/// Looks for a station before the row gives up on it (60 s at the default).
const STATION_LOOKS: u32 = 30;
const PERMISSION: &str = "telephony:plugin:all (or telephony:phone:assign for the default station)";

/// The two passes over the held rows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    Phones,
    Stations,
}

fn step_of(h: &Held) -> Option<&PhoneStep> {
    h.follow
        .steps
        .phone
        .as_ref()
        .filter(|p| !p.is_empty() && !h.follow.user.id.is_empty())
}

impl Engine {
    /// Every held row's phone step; returns the rows for the steps after.
    pub(crate) async fn phones(self: Arc<Self>, held: Vec<Held>) -> Vec<Held> {
        if !held.iter().any(|h| step_of(h).is_some()) {
            return held;
        }
        // Row index -> when its phone was made (its station is looked for after).
        let made: Arc<Mutex<HashMap<usize, Instant>>> = Arc::default();
        let held = Arc::clone(&self)
            .each_phone(held, Pass::Phones, Arc::clone(&made))
            .await;
        let mut held = Arc::clone(&self)
            .each_phone(held, Pass::Stations, made)
            .await;
        held.sort_by_key(|h| h.index);
        held
    }

    /// One pass, `concurrency` users at a time, in the rows' order.
    async fn each_phone(
        self: Arc<Self>,
        mut held: Vec<Held>,
        pass: Pass,
        made: Arc<Mutex<HashMap<usize, Instant>>>,
    ) -> Vec<Held> {
        // Popped from the end: the first rows (the first phones made) go first.
        held.sort_by_key(|h| std::cmp::Reverse(h.index));
        self.each_held(held, "phone", move |this, mut h| {
            let made = Arc::clone(&made);
            async move {
                if let Some(step) = step_of(&h).cloned() {
                    let since = made
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get(&h.index)
                        .copied();
                    match (pass, since) {
                        (Pass::Phones, _) => {
                            if let Some(at) = this.phone_pass(&mut h, &step).await {
                                made.lock()
                                    .unwrap_or_else(|e| e.into_inner())
                                    .insert(h.index, at);
                            }
                        }
                        (Pass::Stations, Some(at)) => this.station_pass(&mut h, &step, at).await,
                        (Pass::Stations, None) => {}
                    }
                }
                h
            }
        })
        .await
    }

    /// Removes the phones the row replaces or removes, then creates its
    /// new one. `Some`: a station is to become the default (when the
    /// phone was made). A phone that could not be removed blocks its
    /// successor: never two phones for one user.
    async fn phone_pass(&self, h: &mut Held, step: &PhoneStep) -> Option<Instant> {
        let client = &self.applier.client;
        let user_id = h.follow.user.id.clone();
        for old in &step.remove {
            let change = Change::RemovePhone(old.label.clone());
            if self.stop.is_raised() {
                h.log.stopped_before.push(change);
                h.log
                    .stopped_before
                    .extend(step.add.iter().cloned().map(Change::AddPhone));
                return None;
            }
            let mut sent = Ok(());
            if old.default_station {
                sent = client.clear_default_station(&user_id).await;
            }
            if sent.is_ok() {
                sent = client.delete_phone(&old.id).await;
            }
            match sent {
                Ok(()) => h.log.done.push(change),
                Err(CallError::Stopped) => {
                    h.log.stopped_before.push(change);
                    return None;
                }
                Err(e) => {
                    h.log
                        .fail(phone_failure(&e, "removing the user's WebRTC phone"));
                    if step.add.is_some() {
                        h.log.fail(Failure::message(
                            "phone: the new WebRTC phone was not made while the old one stays (never two phones for one user); a re-run with --update tries again",
                        ));
                    }
                    return None;
                }
            }
        }
        let add = step.add.as_ref()?;
        let Some(new) = &step.create else {
            // The user has the phone; its station is not the default yet.
            let now = Instant::now();
            return Some(now.checked_sub(self.station_wait).unwrap_or(now));
        };
        if self.stop.is_raised() {
            h.log.stopped_before.push(Change::AddPhone(add.clone()));
            return None;
        }
        match self.make_phone(&user_id, new).await {
            Ok(()) => Some(Instant::now()),
            Err(CallError::Stopped) => {
                h.log.stopped_before.push(Change::AddPhone(add.clone()));
                None
            }
            Err(e) => {
                h.log
                    .fail(phone_failure(&e, "creating the user's WebRTC phone"));
                None
            }
        }
    }

    /// Creates the phone until its outcome is known. An answer lost is
    /// checked by the user's phones before the phone is sent again; a
    /// refusal is checked by name: a phone of that name that is this
    /// user's is the one made earlier, one that is not fails the row,
    /// naming it.
    async fn make_phone(&self, user_id: &str, new: &NewPhone) -> Result<(), CallError> {
        let client = &self.applier.client;
        let body = new.body(user_id);
        let policy = client.policy();
        let mut retry = 0;
        loop {
            match client.create_phone(&body).await {
                Ok(_) => return Ok(()),
                Err(CallError::OutcomeUnknown(why)) => {
                    tracing::warn!(user = %user_id, error = %why, "phone create outcome unknown; looking for it");
                    let mine = client.phones_of(user_id).await?;
                    if mine.iter().any(|p| p.base_id() == new.base_id) {
                        return Ok(());
                    }
                    if retry >= policy.max_retries {
                        return Err(CallError::Exhausted {
                            status: None,
                            code: None,
                            message: format!("creating the phone: outcome unknown ({why}) and no phone found for the user"),
                            attempts: retry + 1,
                        });
                    }
                    retry += 1;
                    if !self.stop.sleep(policy.backoff(retry)).await {
                        return Err(CallError::Stopped);
                    }
                }
                Err(
                    refused @ CallError::Rejected {
                        status: 400 | 409, ..
                    },
                ) => {
                    let named = client.phones_named(&new.name).await?;
                    return match named.iter().find(|p| p.user_id() == Some(user_id)) {
                        Some(_) => Ok(()),
                        None => match named.first() {
                            Some(other) => Err(name_taken(other)),
                            None => Err(refused),
                        },
                    };
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Finds the new phone's station (looked for `station_wait` after the
    /// phone was made, then at that interval, `STATION_LOOKS` times at
    /// most) and makes it the user's default station.
    async fn station_pass(&self, h: &mut Held, step: &PhoneStep, made: Instant) {
        let Some(add) = &step.add else { return };
        let change = Change::AddPhone(add.clone());
        let client = &self.applier.client;
        let user_id = h.follow.user.id.clone();
        let mut station = None;
        for look in 0..STATION_LOOKS {
            let at = made + self.station_wait * (look + 1);
            if !self
                .stop
                .sleep(at.saturating_duration_since(Instant::now()))
                .await
            {
                h.log.stopped_before.push(change);
                return;
            }
            match client.webrtc_station(&user_id).await {
                Ok(Some(found)) => {
                    station = Some(found);
                    break;
                }
                Ok(None) => {}
                Err(CallError::Stopped) => {
                    h.log.stopped_before.push(change);
                    return;
                }
                Err(e) => {
                    h.log
                        .fail(phone_failure(&e, "looking for the new phone's station"));
                    return;
                }
            }
        }
        let Some(station) = station else {
            h.log.fail(Failure::message(format!(
                "phone: the new WebRTC phone was made, but its station did not appear within {} s (Genesys indexes it asynchronously), so it is not the user's default station yet; a re-run with --update finishes it",
                (self.station_wait * STATION_LOOKS).as_secs_f64().round()
            )));
            return;
        };
        match client.set_default_station(&user_id, &station).await {
            Ok(()) => h.log.done.push(change),
            Err(CallError::Stopped) => h.log.stopped_before.push(change),
            Err(e) => h.log.fail(phone_failure(
                &e,
                "making the new phone's station the user's default station",
            )),
        }
    }
}

/// A phone of that name exists and is not this user's: the row fails.
fn name_taken(other: &Phone) -> CallError {
    CallError::Rejected {
        status: 409,
        code: Some("phone.name.taken".into()),
        message: format!(
            "the org already has a phone {}; no phone was made",
            other.describe()
        ),
    }
}

/// A failure, naming the permission when Genesys refused one.
fn phone_failure(error: &CallError, context: &str) -> Failure {
    let mut failure = error_failure(error, context);
    if failure.http_status == Some(403) {
        failure.message = format!("{} (needs {PERMISSION})", failure.message);
    }
    failure
}
