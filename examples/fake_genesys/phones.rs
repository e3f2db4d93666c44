//! The fake's telephony (WebRTC phones): sites and the org's default site
//! (`GET /api/v2/organizations/me`), phone base settings (WebRTC and a
//! desk phone), phones with unique names, the station Genesys makes for a
//! WebRTC phone, shown by `GET /api/v2/stations` only after an indexing
//! lag, and users' default stations (409 when the station is another
//! user's default). A switch answers a phone create 503 after storing it
//! (a lost answer).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use hyper::Method;
use serde_json::{json, Value};

use super::{error, page_values, respond, Reply, State};

pub const WEBRTC_META: &str = "inin_webrtc_softphone.json";

#[derive(Debug, Clone)]
pub struct FakeBase {
    pub id: String,
    pub name: String,
    pub meta: String,
    pub line_base: String,
}

#[derive(Debug, Clone)]
pub struct FakePhone {
    pub id: String,
    pub name: String,
    pub site: String,
    pub base: String,
    pub user: Option<String>,
    pub station: String,
}

#[derive(Debug, Clone)]
pub struct FakeStation {
    pub id: String,
    pub user: String,
    /// Shown by the stations listing from then on (asynchronous indexing).
    pub visible_at: Instant,
}

/// Requests of each telephony endpoint.
#[derive(Debug, Clone, Default)]
pub struct PhoneCounters {
    pub org_reads: u64,
    pub base_reads: u64,
    pub site_reads: u64,
    pub phone_reads: u64,
    pub creates: u64,
    pub deletes: u64,
    pub station_reads: u64,
    pub default_puts: u64,
    pub default_deletes: u64,
}

#[derive(Debug, Clone)]
pub struct Telephony {
    pub sites: Vec<(String, String)>,
    pub default_site: Option<String>,
    pub bases: Vec<FakeBase>,
    pub phones: Vec<FakePhone>,
    pub stations: Vec<FakeStation>,
    /// User id -> its default station id.
    pub defaults: HashMap<String, String>,
    /// How long a new phone's station stays out of the stations listing.
    pub station_lag: Duration,
    /// The next this-many phone creates are stored, then answered 503.
    pub lost_creates: u32,
    /// The next new station is already this user's default (a station
    /// shared by mistake: setting it as another's default answers 409).
    pub station_taken_by: Option<String>,
    /// Just before the next phone create, this user's own phone takes the
    /// new phone's name (another admin at work: a race the preflight missed).
    pub name_race_by: Option<String>,
    /// Answer 403 to the telephony reads (a client without the permission).
    pub forbid_reads: bool,
    pub counters: PhoneCounters,
    next: u64,
}

impl Default for Telephony {
    fn default() -> Self {
        let base = |id: &str, name: &str, meta: &str| FakeBase {
            id: id.into(),
            name: name.into(),
            meta: meta.into(),
            line_base: format!("{id}-line"),
        };
        Telephony {
            sites: vec![
                ("site-lisbon".into(), "Lisbon".into()),
                ("site-dublin".into(), "Dublin".into()),
            ],
            default_site: Some("site-lisbon".into()),
            bases: vec![
                base("pb-agents", "WebRTC Agents", WEBRTC_META),
                base("pb-supervisors", "WebRTC Supervisors", WEBRTC_META),
                base("pb-desk", "Desk Phones", "polycom_vvx_300.json"),
                base("pb-twin-1", "Twin", WEBRTC_META),
                base("pb-twin-2", "Twin", WEBRTC_META),
            ],
            phones: Vec::new(),
            stations: Vec::new(),
            defaults: HashMap::new(),
            station_lag: Duration::ZERO,
            lost_creates: 0,
            station_taken_by: None,
            forbid_reads: false,
            name_race_by: None,
            counters: PhoneCounters::default(),
            next: 1,
        }
    }
}

impl Telephony {
    fn new_id(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}-{:04}", self.next)
    }

    /// Stores a WebRTC phone for `user` (its station indexed after the lag).
    pub fn add_phone(&mut self, name: &str, base: &str, site: &str, user: Option<&str>) -> String {
        let id = self.new_id("phone");
        let station = self.new_id("station");
        if let Some(user) = user {
            self.stations.push(FakeStation {
                id: station.clone(),
                user: user.to_string(),
                visible_at: Instant::now() + self.station_lag,
            });
        }
        self.phones.push(FakePhone {
            id: id.clone(),
            name: name.to_string(),
            site: site.to_string(),
            base: base.to_string(),
            user: user.map(str::to_string),
            station,
        });
        id
    }

    /// The WebRTC phones of a user.
    pub fn phones_of(&self, user: &str) -> Vec<&FakePhone> {
        self.phones
            .iter()
            .filter(|p| p.user.as_deref() == Some(user))
            .collect()
    }

    /// Makes a phone's station its user's default (as if before the run).
    pub fn make_default(&mut self, phone_id: &str) {
        if let Some(p) = self.phones.iter().find(|p| p.id == phone_id) {
            if let Some(user) = &p.user {
                self.defaults.insert(user.clone(), p.station.clone());
            }
        }
    }

    fn phone_json(&self, p: &FakePhone) -> Value {
        let named = |list: &[(String, String)], id: &str| {
            list.iter()
                .find(|(i, _)| i == id)
                .map(|(_, n)| n.clone())
                .unwrap_or_default()
        };
        let base_name = self
            .bases
            .iter()
            .find(|b| b.id == p.base)
            .map(|b| b.name.clone())
            .unwrap_or_default();
        let mut line = json!({"id": format!("{}-line", p.id), "name": p.name});
        if let Some(user) = &p.user {
            if self.defaults.get(user) == Some(&p.station) {
                line["defaultForUser"] = json!({"id": user});
            }
        }
        let mut phone = json!({
            "id": p.id, "name": p.name, "state": "active",
            "site": {"id": p.site, "name": named(&self.sites, &p.site)},
            "phoneBaseSettings": {"id": p.base, "name": base_name},
            "lines": [line],
        });
        if let Some(user) = &p.user {
            phone["webRtcUser"] = json!({"id": user});
        }
        phone
    }

    fn base_json(&self, b: &FakeBase, lines: bool) -> Value {
        let mut base =
            json!({"id": b.id, "name": b.name, "phoneMetaBase": {"id": b.meta, "name": b.meta}});
        if lines {
            base["lines"] = json!([{"id": b.line_base, "name": format!("{} line", b.name)}]);
        }
        base
    }
}

/// The telephony routes, or `None` for another path.
pub(super) fn route(
    st: &mut State,
    method: &Method,
    segments: &[&str],
    query: &HashMap<String, String>,
    body: &[u8],
) -> Option<Reply> {
    let users: Vec<String> = st.users.iter().map(|u| u.id.clone()).collect();
    let t = &mut st.telephony;
    Some(match (method, segments) {
        (&Method::GET, ["api", "v2", "organizations", "me"]) => {
            t.counters.org_reads += 1;
            respond(
                200,
                json!({"id": "org-fake", "name": "Fake Org", "defaultSiteId": t.default_site}),
            )
        }
        (&Method::GET, ["api", "v2", "telephony", "providers", "edges", _, ..])
            if t.forbid_reads =>
        {
            error(
                403,
                "missing.any.permissions",
                "Unable to perform the requested action. You must have at least one of the following permissions assigned: [telephony:plugin:all]",
            )
        }
        (&Method::GET, ["api", "v2", "telephony", "providers", "edges", rest @ ..]) => {
            get_edges(t, rest, query)?
        }
        (&Method::POST, ["api", "v2", "telephony", "providers", "edges", "phones"]) => {
            create_phone(t, &users, body)
        }
        (&Method::DELETE, ["api", "v2", "telephony", "providers", "edges", "phones", id]) => {
            t.counters.deletes += 1;
            match t.phones.iter().position(|p| p.id == *id) {
                Some(at) => {
                    let phone = t.phones.remove(at);
                    t.stations.retain(|s| s.id != phone.station);
                    t.defaults.retain(|_, s| *s != phone.station);
                    respond(200, Value::Null)
                }
                None => error(404, "not.found", "The requested resource was not found."),
            }
        }
        (&Method::GET, ["api", "v2", "stations"]) => {
            t.counters.station_reads += 1;
            let now = Instant::now();
            let user = query.get("webRtcUserId").cloned().unwrap_or_default();
            let found: Vec<Value> = t
                .stations
                .iter()
                .filter(|s| s.visible_at <= now && (user.is_empty() || s.user == user))
                .map(|s| json!({"id": s.id, "name": s.id, "webRtcUserId": s.user, "type": WEBRTC_META}))
                .collect();
            page_values(&found, query)
        }
        (&Method::PUT, ["api", "v2", "users", user, "station", "defaultstation", station]) => {
            t.counters.default_puts += 1;
            let now = Instant::now();
            if !t
                .stations
                .iter()
                .any(|s| s.id == *station && s.visible_at <= now)
            {
                return Some(error(
                    404,
                    "userservice.station.notfound",
                    "The Station could not be found.",
                ));
            }
            if t.defaults.iter().any(|(u, s)| s == station && u != user) {
                return Some(error(
                    409,
                    "userservice.stationalreadyhasdefaultuser",
                    "Station is already associated",
                ));
            }
            t.defaults.insert(user.to_string(), station.to_string());
            respond(202, Value::Null)
        }
        (&Method::DELETE, ["api", "v2", "users", user, "station", "defaultstation"]) => {
            t.counters.default_deletes += 1;
            t.defaults.remove(*user);
            respond(202, Value::Null)
        }
        _ => return None,
    })
}

/// `GET …/edges/phonebasesettings[/{id}]`, `…/sites`, `…/phones`.
fn get_edges(t: &mut Telephony, rest: &[&str], query: &HashMap<String, String>) -> Option<Reply> {
    let name = query.get("name");
    Some(match rest {
        ["phonebasesettings"] => {
            t.counters.base_reads += 1;
            let lines = query.get("expand").is_some_and(|e| e.contains("lines"));
            let all: Vec<Value> = t
                .bases
                .iter()
                .filter(|b| name.is_none_or(|n| *n == b.name))
                .map(|b| t.base_json(b, lines))
                .collect();
            page_values(&all, query)
        }
        ["phonebasesettings", id] => {
            t.counters.base_reads += 1;
            match t.bases.iter().find(|b| b.id == *id) {
                Some(b) => respond(200, t.base_json(b, true)),
                None => error(404, "not.found", "The requested resource was not found."),
            }
        }
        ["sites"] => {
            t.counters.site_reads += 1;
            let all: Vec<Value> = t
                .sites
                .iter()
                .filter(|(_, n)| name.is_none_or(|w| w == n))
                .map(|(id, n)| json!({"id": id, "name": n}))
                .collect();
            page_values(&all, query)
        }
        ["phones"] => {
            t.counters.phone_reads += 1;
            let user = query.get("webRtcUser.id");
            let all: Vec<Value> = t
                .phones
                .iter()
                .filter(|p| user.is_none_or(|u| p.user.as_ref() == Some(u)))
                .filter(|p| name.is_none_or(|n| n.split(',').any(|n| n == p.name)))
                .map(|p| t.phone_json(p))
                .collect();
            page_values(&all, query)
        }
        _ => return None,
    })
}

/// `POST …/edges/phones`: a WebRTC phone needs a name no other phone has,
/// a site, base settings, lines and an existing user.
fn create_phone(t: &mut Telephony, users: &[String], body: &[u8]) -> Reply {
    t.counters.creates += 1;
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return error(400, "bad.request", "The request could not be understood");
    };
    let name = body["name"].as_str().unwrap_or("");
    let site = body["site"]["id"].as_str().unwrap_or("");
    let base = body["phoneBaseSettings"]["id"].as_str().unwrap_or("");
    let user = body["webRtcUser"]["id"].as_str().unwrap_or("");
    if name.is_empty() || !t.sites.iter().any(|(id, _)| id == site) {
        return error(
            400,
            "bad.request",
            "a phone needs a name and an existing site",
        );
    }
    if !t.bases.iter().any(|b| b.id == base) {
        return error(
            400,
            "base.settings.required",
            "phone base settings are required",
        );
    }
    if body["lines"].as_array().is_none_or(|l| l.is_empty()) {
        return error(400, "lines.required", "lines are required");
    }
    if !users.iter().any(|u| u == user) {
        return error(400, "bad.request", "the WebRTC user does not exist");
    }
    if let Some(other) = t.name_race_by.take() {
        t.add_phone(name, base, site, Some(&other));
    }
    if t.phones.iter().any(|p| p.name == name) {
        return error(
            409,
            "general.conflict",
            "A phone with that name already exists",
        );
    }
    let id = t.add_phone(name, base, site, Some(user));
    if let Some(owner) = t.station_taken_by.take() {
        let station = t
            .phones
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.station.clone());
        t.defaults.insert(owner, station.unwrap_or_default());
    }
    if t.lost_creates > 0 {
        t.lost_creates -= 1;
        return error(503, "service.unavailable", "injected: stored, answer lost");
    }
    let phone = t
        .phones
        .iter()
        .find(|p| p.id == id)
        .map(|p| t.phone_json(p));
    respond(200, phone.unwrap_or(Value::Null))
}
