//! A stateful fake of the Genesys Cloud endpoints genimport uses, speaking
//! the wire format docs/genesys-api.md describes: client-credentials tokens that
//! expire, users with duplicate-email detection (deleted users keep their
//! email), divisions, users search (optionally lagging, like the real index),
//! a fixed-window rate limit answering the normalised 429 with Retry-After,
//! latency, and injectable faults (5xx, dropped connections before or after
//! the user is stored). Used by the integration tests, the benchmark, and
//! `cargo run --example fake_genesys`.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use rand::RngExt;
use serde_json::{json, Value};

pub const HOME_DIVISION: &str = "11111111-1111-4111-8111-111111111111";
pub const SALES_DIVISION: &str = "22222222-2222-4222-8222-222222222222";

/// A fault injected into one `POST /api/v2/users`.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Store the user, then drop the connection without answering.
    DropAfterCommit,
    /// Drop the connection without storing anything.
    DropBeforeCommit,
    /// Answer this status and code without storing anything.
    Status(u16, &'static str),
    /// Store the user, then answer 500 (a lost success, as seen by the client).
    ErrorAfterCommit,
}

#[path = "export.rs"]
pub mod export;
#[path = "limiter.rs"]
mod limiter;
use limiter::LimitState;

#[path = "movers.rs"]
pub mod movers;
pub use limiter::Limiter;
#[path = "licences.rs"]
pub mod licences;
#[path = "phones.rs"]
pub mod phones;

#[path = "access.rs"]
pub mod access;
#[path = "bigorg.rs"]
pub mod bigorg;
#[path = "roundtrip.rs"]
pub mod roundtrip;

#[path = "leavers.rs"]
mod leavers;
#[path = "write_faults.rs"]
mod write_faults;
pub use write_faults::WriteFaults;

#[derive(Debug, Clone)]
pub struct FakeConfig {
    pub client_id: String,
    pub client_secret: String,
    /// `expires_in` of issued tokens, in seconds.
    pub token_lifetime_s: u64,
    /// At most `limit` API requests per `window` (fixed window by default).
    pub rate_limit: Option<(u32, Duration)>,
    /// How `rate_limit` counts: fixed window (Genesys), sliding window, or
    /// token bucket; per client (shared) or per access token.
    pub limiter: Limiter,
    pub limit_per_token: bool,
    pub latency: Duration,
    /// Latency varies uniformly by this fraction either way (0.5 = ±50%).
    pub latency_jitter: f64,
    /// Probability that a create gets a random fault.
    pub fault_rate: f64,
    /// Shares of API requests answered 503 without acting, and of creates
    /// stored and then dropped without an answer (the benchmark's fault mix, docs/performance.md).
    pub fault_mix: Option<(f64, f64)>,
    /// Status used for a duplicate email (409; Genesys may also use 400).
    pub conflict_status: u16,
    /// Answer 403 to every create.
    pub forbid_create: bool,
    /// Users are visible to search only this long after creation.
    pub search_lag: Duration,
    /// Largest `values` list a search criterion may have (0: no limit;
    /// default 50, Genesys' documented limit).
    pub max_search_values: usize,
    /// Refuse search criteria on `state` with 400.
    pub reject_state_search: bool,
    /// Answer 404 to `GET /api/v2/authorization/divisions/home`.
    pub no_home_division: bool,
    /// Seed of every random choice (faults, latency jitter): runs repeat.
    pub seed: u64,
    /// Answer every API request with 307 to this base URL (+ the path).
    pub redirect_api_to: Option<String>,
    /// Answer the token request with 302 to this URL.
    pub redirect_token_to: Option<String>,
    /// Answer every token request with this status (503: the login server is down).
    pub token_status: Option<u16>,
    /// Answer 400 to any search whose values hold this email.
    pub refuse_search_email: Option<String>,
    /// Revoke every token once this many users exist.
    pub expire_tokens_at_users: Option<usize>,
    /// A deactivated or deleted user loses its roles, a restored one lands
    /// in the home division, as in Genesys (see `leavers`).
    pub leavers_lose_roles: bool,
}

impl Default for FakeConfig {
    fn default() -> Self {
        FakeConfig {
            client_id: "test-client".into(),
            client_secret: "test-secret-do-not-print".into(),
            token_lifetime_s: 86_400,
            rate_limit: None,
            limiter: Limiter::Fixed,
            limit_per_token: false,
            latency: Duration::ZERO,
            latency_jitter: 0.0,
            fault_rate: 0.0,
            fault_mix: None,
            conflict_status: 409,
            forbid_create: false,
            search_lag: Duration::ZERO,
            max_search_values: 50,
            reject_state_search: false,
            no_home_division: false,
            seed: 1,
            redirect_api_to: None,
            redirect_token_to: None,
            token_status: None,
            refuse_search_email: None,
            expire_tokens_at_users: None,
            leavers_lose_roles: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FakeUser {
    pub id: String,
    pub email: String,
    pub name: String,
    pub state: String,
    pub version: i64,
    pub division_id: String,
    /// The create body as received.
    pub body: Value,
    /// Other stored fields: title, department, addresses, employerInfo,
    /// preferredName... (what PATCH writes and GET returns).
    pub profile: serde_json::Map<String, Value>,
    created_at: Instant,
}

#[derive(Debug, Default, Clone)]
pub struct Counters {
    pub token_requests: u64,
    pub api_requests: u64,
    pub create_requests: u64,
    pub search_requests: u64,
    pub patch_requests: u64,
    pub get_requests: u64,
    pub division_moves: u64,
    pub catalog_requests: u64,
    pub grant_requests: u64,
    pub subject_requests: u64,
    pub skill_requests: u64,
    pub language_requests: u64,
    pub queue_member_requests: u64,
    pub queue_member_reads: u64,
    pub group_reads: u64,
    pub group_member_requests: u64,
    pub invite_requests: u64,
    pub queue_creates: u64,
    pub queue_puts: u64,
    pub queue_reads: u64,
    pub wrapup_adds: u64,
    pub throttled: u64,
    pub unauthorized: u64,
}

pub struct State {
    pub config: FakeConfig,
    tokens: HashMap<String, Instant>,
    pub users: Vec<FakeUser>,
    pub divisions: Vec<(String, String)>,
    /// Limiter state per client ("") or per bearer token.
    limits: HashMap<String, LimitState>,
    /// Every bearer token an API request was let through with.
    pub api_tokens: HashSet<String>,
    pub counters: Counters,
    /// Faults for the next creates, in order.
    pub create_faults: VecDeque<Fault>,
    /// Faults for the creates of one email (lowercased), in order.
    pub faults_by_email: HashMap<String, VecDeque<Fault>>,
    /// Answer this many API requests with 429 first.
    pub throttle_next: u32,
    pub throttle_retry_after: u64,
    next_id: u64,
    started: Instant,
    /// (seconds since start, created users) at each create, for benchmarks.
    pub create_times: Vec<f64>,
    rng: rand::rngs::StdRng,
    /// Answer creates with 307 to this base URL.
    pub redirect_creates_to: Option<String>,
    /// On the first create for this email, a deleted user with it appears
    /// (deleted between the preflight and the create).
    pub delete_on_first_create: Option<String>,
    /// The next this-many PATCHes find the user edited by someone else
    /// first (version bumped, `preferredName` changed): a version conflict.
    pub concurrent_edits: u32,
    /// Largest list a division move accepts (0: no limit).
    pub max_division_move: usize,
    /// Refuse division moves with 403 (the client lacks the permission).
    pub refuse_division_moves: bool,
    pub roles: Vec<(String, String)>,
    /// user id -> (role id, division id) grants.
    pub grants: HashMap<String, Vec<(String, String)>>,
    pub skills: Vec<(String, String)>,
    pub languages: Vec<(String, String)>,
    pub queues: Vec<(String, String)>,
    /// queue id -> member user ids.
    pub queue_members: HashMap<String, Vec<String>>,
    pub groups: Vec<FakeGroup>,
    pub locations: Vec<(String, String)>,
    /// Users invited, in order.
    pub invited: Vec<String>,
    /// Refuse role grants with 403 (the client lacks the permission).
    pub refuse_grants: bool,
    /// Largest `subjectIds` a role grant accepts (undocumented at Genesys).
    pub max_role_subjects: usize,
    /// The next this-many group member adds find the group changed (409).
    pub group_edits: u32,
    /// The next this-many queue or group member adds answer 404, as the real
    /// API does for users created seconds earlier (counted, not timed, so
    /// tests need no clock).
    pub member_lag: u32,
    /// Every queue's settings, as GET returns them and PUT replaces them.
    pub queue_bodies: HashMap<String, Value>,
    pub wrapups: Vec<(String, String)>,
    /// queue id -> wrap-up code ids.
    pub queue_wrapups: HashMap<String, Vec<String>>,
    /// Role -> licence mapping, the licence endpoints and their counters.
    pub licences: licences::Licences,
    /// The export's lists (export.rs).
    pub export: export::ExportState,
    /// Round-trip objects: a group's queue memberships (roundtrip.rs).
    pub roundtrip: roundtrip::Roundtrip,
    /// Write-safety faults (see write_faults.rs).
    pub write_faults: WriteFaults,

    // ---- Queue faults ----
    /// Answer every queue create with this status, creating nothing (a
    /// persistent 5xx or 408).
    pub queue_create_status: Option<u16>,
    /// Someone edits a queue during the run: after the first GET of queue
    /// `.0`, its field `.1` becomes `.2` (once).
    pub queue_edit_after_read: Option<(String, String, Value)>,
    /// The next this-many queue PUTs answer 409 `request.conflict`.
    pub queue_put_conflicts: u32,
    // ---- end of queue faults ----
    /// Preflight safety: user ids whose grants read answers 404
    /// (deleted users always do).
    pub refuse_subject_reads: HashSet<String>,
    /// Queue ids whose members read answers 500 (every attempt).
    pub refuse_member_reads: HashSet<String>,
    /// Movers and leavers: group grants and memberships, removal counts (movers.rs).
    pub movers: movers::Movers,
    /// Indexes and caps of big orgs (bigorg.rs).
    pub big: bigorg::BigOrg,
    /// WebRTC phones, sites, stations (phones.rs).
    pub telephony: phones::Telephony,
    /// The client's roles and what they allow (access.rs).
    pub access: access::AccessModel,
}

#[derive(Debug, Clone)]
pub struct FakeGroup {
    pub id: String,
    pub name: String,
    pub version: i64,
    pub members: Vec<String>,
}

pub const EMPLOYEE_ROLE: &str = "r0000000-0000-4000-8000-000000000000";

fn named(prefix: &str, names: &[&str]) -> Vec<(String, String)> {
    names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            (
                format!("{prefix}{i:07}-0000-4000-8000-000000000000"),
                n.to_string(),
            )
        })
        .collect()
}

impl State {
    fn new(config: FakeConfig) -> State {
        let mut state = State::bare(config);
        for (id, name) in state.queues.clone() {
            state
                .queue_bodies
                .insert(id.clone(), seeded_queue(&id, &name));
        }
        state
    }

    fn bare(config: FakeConfig) -> State {
        let rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(config.seed);
        State {
            rng,
            redirect_creates_to: None,
            delete_on_first_create: None,
            concurrent_edits: 0,
            max_division_move: 0,
            refuse_division_moves: false,
            roles: named(
                "r",
                &[
                    "Employee",
                    "Agent",
                    "Supervisor",
                    "Admin",
                    "Quality Evaluator",
                ],
            ),
            grants: HashMap::new(),
            skills: named(
                "s",
                &[
                    "Sales",
                    "Sales Advanced",
                    "Billing",
                    "Support",
                    "Tech",
                    "billing ",
                ],
            ),
            languages: named("l", &["English", "French", "Spanish", "German"]),
            queues: named("q", &["Support Tier 1", "Billing", "Sales", "Tech", "VIP"]),
            queue_members: HashMap::new(),
            groups: named("g", &["Night Shift", "Day Shift", "Weekend"])
                .into_iter()
                .map(|(id, name)| FakeGroup {
                    id,
                    name,
                    version: 1,
                    members: Vec::new(),
                })
                .collect(),
            locations: named("c", &["Lisbon Office", "Dublin Office"]),
            invited: Vec::new(),
            refuse_grants: false,
            max_role_subjects: 100,
            group_edits: 0,
            member_lag: 0,
            queue_bodies: HashMap::new(),
            wrapups: named("w", &["Sale", "No Sale", "Callback", "Escalated"]),
            queue_wrapups: HashMap::new(),
            licences: licences::Licences::default(),
            export: export::ExportState::default(),
            roundtrip: roundtrip::Roundtrip::default(),
            write_faults: WriteFaults::default(),
            queue_create_status: None,
            queue_edit_after_read: None,
            queue_put_conflicts: 0,
            refuse_subject_reads: HashSet::new(),
            refuse_member_reads: HashSet::new(),
            movers: movers::Movers::default(),
            big: bigorg::BigOrg::default(),
            telephony: phones::Telephony::default(),
            access: access::AccessModel::default(),
            config,
            tokens: HashMap::new(),
            users: Vec::new(),
            divisions: vec![
                (HOME_DIVISION.into(), "Home".into()),
                (SALES_DIVISION.into(), "Sales".into()),
            ],
            limits: HashMap::new(),
            api_tokens: HashSet::new(),
            counters: Counters::default(),
            create_faults: VecDeque::new(),
            faults_by_email: HashMap::new(),
            throttle_next: 0,
            throttle_retry_after: 1,
            next_id: 1,
            started: Instant::now(),
            create_times: Vec::new(),
        }
    }

    /// Adds a user directly, as if it existed before the run.
    pub fn add_user(&mut self, email: &str, name: &str, state: &str) -> String {
        let id = self.new_id();
        self.users.push(FakeUser {
            id: id.clone(),
            email: email.into(),
            name: name.into(),
            state: state.into(),
            version: 3,
            division_id: HOME_DIVISION.into(),
            body: json!({}),
            profile: serde_json::Map::new(),
            created_at: Instant::now() - Duration::from_secs(3600),
        });
        id
    }

    /// Adds an existing user with profile fields (`title`, `addresses`,
    /// `employerInfo`...), as if it existed before the run.
    pub fn add_user_with(&mut self, email: &str, name: &str, profile: Value) -> String {
        let id = self.add_user(email, name, "active");
        if let (Some(user), Value::Object(fields)) = (self.users.last_mut(), profile) {
            user.profile = fields;
        }
        id
    }

    fn config_max_division_move(&self) -> usize {
        self.max_division_move
    }

    pub fn user_by_id(&self, id: &str) -> Option<&FakeUser> {
        self.indexed_user(id)
    }

    pub fn user(&self, email: &str) -> Option<&FakeUser> {
        self.users
            .iter()
            .find(|u| u.email.eq_ignore_ascii_case(email))
    }

    /// Emails that appear more than once (must always be empty).
    pub fn duplicates(&self) -> Vec<String> {
        let mut seen = HashMap::new();
        for u in &self.users {
            *seen.entry(u.email.to_lowercase()).or_insert(0) += 1;
        }
        seen.into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|(e, _)| e)
            .collect()
    }

    /// Makes every issued token invalid (as if it had expired).
    pub fn expire_tokens(&mut self) {
        self.tokens.clear();
    }

    fn new_id(&mut self) -> String {
        let n = self.next_id;
        self.next_id += 1;
        format!("{:08x}-0000-4000-8000-{:012x}", n, n)
    }
}

pub struct Fake {
    pub addr: SocketAddr,
    pub state: Arc<Mutex<State>>,
}

impl Fake {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts the fake on a loopback port, inside the current runtime.
    pub async fn start(config: FakeConfig) -> Fake {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        Self::serve(listener, config)
    }

    pub async fn start_on(addr: SocketAddr, config: FakeConfig) -> std::io::Result<Fake> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        Ok(Self::serve(listener, config))
    }

    fn serve(listener: tokio::net::TcpListener, config: FakeConfig) -> Fake {
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(State::new(config)));
        let shared = Arc::clone(&state);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = Arc::clone(&shared);
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(Arc::clone(&state), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Fake { addr, state }
    }

    /// Starts the fake on its own runtime thread, for synchronous tests.
    pub fn spawn(config: FakeConfig) -> Fake {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let fake = Fake::start(config).await;
                let _ = tx.send((fake.addr, Arc::clone(&fake.state)));
                std::future::pending::<()>().await;
            });
        });
        let (addr, state) = rx.recv().expect("fake started");
        Fake { addr, state }
    }
}

/// The connection is dropped without a response.
#[derive(Debug)]
struct Dropped;
impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("dropped on purpose")
    }
}
impl std::error::Error for Dropped {}

type Reply = Result<Response<Full<Bytes>>, Dropped>;

fn respond(status: u16, body: Value) -> Reply {
    Ok(Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header(
            "inin-correlation-id",
            format!("corr-{}", rand::rng().random_range(0..u32::MAX)),
        )
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))))
}

fn error(status: u16, code: &str, message: &str) -> Reply {
    respond(
        status,
        json!({"message": message, "code": code, "status": status, "contextId": "ctx-fake", "details": [], "errors": []}),
    )
}

fn redirect(status: u16, location: &str) -> Reply {
    let mut reply = respond(status, json!({}))?;
    if let Ok(value) = location.parse() {
        reply.headers_mut().insert("location", value);
    }
    Ok(reply)
}

fn throttled(seconds: u64) -> Reply {
    let mut reply = error(
        429,
        "too.many.requests.retry.after",
        &format!("Rate limit exceeded the maximum. Retry the request in [{seconds}] seconds"),
    )?;
    if let Ok(value) = seconds.to_string().parse() {
        reply.headers_mut().insert("retry-after", value);
    }
    Ok(reply)
}

async fn handle(state: Arc<Mutex<State>>, req: Request<Incoming>) -> Reply {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let raw_query = req.uri().query().unwrap_or("").to_string();
    let query = parse_query(&raw_query);
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();

    // The token is checked as the request arrives, like a real server does;
    // the latency is the time spent before answering.
    let arrived = Instant::now();
    let (latency, _in_flight) = {
        let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
        let in_flight = bigorg::InFlight::enter(&st.big);
        let jitter = st.config.latency_jitter;
        let factor = if jitter > 0.0 {
            st.rng.random_range(1.0 - jitter..=1.0 + jitter)
        } else {
            1.0
        };
        let slow = st.roundtrip.slow_answer(&method, &path);
        (st.config.latency.mul_f64(factor.max(0.0)) + slow, in_flight)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
    if path == "/oauth/token" && method == Method::POST {
        if let Some(to) = st.config.redirect_token_to.clone() {
            return redirect(302, &to);
        }
        if let Some(status) = st.config.token_status {
            st.counters.token_requests += 1;
            return error(status, "service.unavailable", "login is down");
        }
        return token(&mut st, &auth, &body);
    }
    if let Some(to) = st.config.redirect_api_to.clone() {
        return redirect(307, &format!("{to}{path}"));
    }
    st.counters.api_requests += 1;
    let now = Instant::now();
    let valid = auth
        .strip_prefix("Bearer ")
        .and_then(|t| st.tokens.get(t))
        .is_some_and(|expires| *expires > arrived);
    if !valid {
        st.counters.unauthorized += 1;
        return error(
            401,
            "authentication.required",
            "No authentication bearer token specified in authorization header.",
        );
    }
    if st.throttle_next > 0 {
        st.throttle_next -= 1;
        st.counters.throttled += 1;
        let wait = st.throttle_retry_after;
        return throttled(wait);
    }
    if let Some((limit, window)) = st.config.rate_limit {
        let key = if st.config.limit_per_token {
            auth.clone()
        } else {
            String::new()
        };
        let kind = st.config.limiter;
        let verdict = st
            .limits
            .entry(key)
            .or_default()
            .check(kind, limit, window, now);
        if let Some(seconds) = verdict {
            st.counters.throttled += 1;
            return throttled(seconds);
        }
    }

    st.api_tokens.insert(auth.clone());
    if let Some((unavailable, _)) = st.config.fault_mix {
        // Creates draw their own faults (see create_user).
        let is_create = method == Method::POST && path.trim_end_matches('/') == "/api/v2/users";
        if !is_create && st.rng.random_range(0.0..1.0) < unavailable {
            return error(503, "service.unavailable", "injected fault");
        }
    }
    write_faults::count_write(&mut st.write_faults, method.as_str(), &path);
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    if let Some(reply) = access::route(
        &mut st,
        &method,
        &segments,
        &req_query_all(&raw_query),
        &body,
    ) {
        return reply;
    }
    if let Some(reply) = roundtrip::route(&mut st, &method, &segments, &body) {
        return reply;
    }
    if let Some(reply) = movers::route(&mut st, &method, &segments, &query, &body) {
        return reply;
    }
    if let Some(reply) = licences::route(&mut st, &method, &segments, &body) {
        return reply;
    }
    if let Some(reply) = phones::route(&mut st, &method, &segments, &query, &body) {
        return reply;
    }
    if let Some(reply) = export::route(&mut st, &method, &segments, &req_query_all(&raw_query)) {
        return reply;
    }
    match (&method, segments.as_slice()) {
        (&Method::POST, ["api", "v2", "users"]) => create_user(&mut st, &body),
        (&Method::POST, ["api", "v2", "users", "search"]) => search(&mut st, &body),
        (&Method::PATCH, ["api", "v2", "users", id]) => patch_user(&mut st, id, &body),
        (&Method::GET, ["api", "v2", "users", id]) => {
            match expand_refusal(&req_query_all(&raw_query)) {
                Some(refusal) => refusal,
                None => get_user(&mut st, id, &query),
            }
        }
        (&Method::GET, ["api", "v2", "users"]) => get_users(&mut st, req_query_all(&raw_query)),
        (
            &Method::POST,
            ["api", "v2", "authorization", "divisions", division, "objects", "USER"],
        ) => move_users(&mut st, division, &body),
        (&Method::GET, ["api", "v2", "authorization", "divisions", "home"])
            if st.config.no_home_division =>
        {
            error(404, "not.found", "The requested resource was not found.")
        }
        (&Method::GET, ["api", "v2", "authorization", "divisions", "home"]) => {
            let (id, name) = st.divisions[0].clone();
            respond(
                200,
                json!({"id": id, "name": name, "homeDivision": true, "selfUri": format!("/api/v2/authorization/divisions/{id}")}),
            )
        }
        (&Method::GET, ["api", "v2", "authorization", "divisions"]) => divisions(&st, &query),
        (&Method::GET, ["api", "v2", "routing", "skills"]) => {
            let items = st.skills.clone();
            catalog(&mut st, &items, &query)
        }
        (&Method::GET, ["api", "v2", "routing", "languages"]) => {
            let items = st.languages.clone();
            catalog(&mut st, &items, &query)
        }
        (&Method::GET, ["api", "v2", "routing", "queues", "divisionviews", "all"]) => {
            let items = st.queues.clone();
            catalog(&mut st, &items, &query)
        }
        (&Method::GET, ["api", "v2", "groups"]) => {
            let items: Vec<(String, String)> = st
                .groups
                .iter()
                .map(|g| (g.id.clone(), g.name.clone()))
                .collect();
            catalog(&mut st, &items, &query)
        }
        (&Method::GET, ["api", "v2", "locations"]) => {
            let items = st.locations.clone();
            catalog(&mut st, &items, &query)
        }
        (&Method::POST, ["api", "v2", "authorization", "roles", role]) => {
            grant_role(&mut st, role, &body)
        }
        (&Method::GET, ["api", "v2", "authorization", "subjects", id]) => {
            match subject_refusal(&mut st, id) {
                Some(refusal) => refusal,
                None => subject(&mut st, id),
            }
        }
        (
            &Method::PATCH,
            ["api", "v2", "users", id, kind @ ("routingskills" | "routinglanguages"), "bulk"],
        ) => rate(&mut st, id, kind, &body),
        (&Method::POST, ["api", "v2", "routing", "queues", queue, "members"]) => {
            add_queue_members(&mut st, queue, &body)
        }
        (&Method::GET, ["api", "v2", "routing", "queues", queue, "members"])
            if st.refuse_member_reads.contains(*queue) =>
        {
            st.counters.queue_member_reads += 1;
            error(
                500,
                "internal.server.error",
                "injected: queue members unreadable",
            )
        }
        (&Method::GET, ["api", "v2", "routing", "queues", queue, "members"]) => {
            st.counters.queue_member_reads += 1;
            let members: Vec<(String, String)> = st
                .queue_members
                .get(*queue)
                .map(|m| m.iter().map(|id| (id.clone(), String::new())).collect())
                .unwrap_or_default();
            page_of(&members, &query)
        }
        (&Method::GET, ["api", "v2", "groups", group]) => {
            st.counters.group_reads += 1;
            match st.groups.iter().find(|g| g.id == *group) {
                Some(g) => respond(
                    200,
                    json!({"id": g.id, "name": g.name, "version": g.version, "memberCount": g.members.len()}),
                ),
                None => error(404, "general.resource.not.found", "group not found"),
            }
        }
        (&Method::POST, ["api", "v2", "groups", group, "members"]) => {
            add_group_members(&mut st, group, &body)
        }
        (&Method::POST, ["api", "v2", "users", id, "invite"]) => {
            st.counters.invite_requests += 1;
            if st.user_by_id(id).is_none() {
                return error(404, "general.resource.not.found", "user not found");
            }
            st.invited.push(id.to_string());
            if let Some(user) = st.users.iter_mut().find(|u| u.id == *id) {
                user.profile
                    .insert("dateWelcomeSent".into(), json!("2026-01-01T00:00:00.000Z"));
            }
            empty(204)
        }
        (&Method::POST, ["api", "v2", "routing", "queues"]) => match st.queue_create_status {
            // Queue faults: a persistent failure, nothing created.
            Some(status) => {
                st.counters.queue_creates += 1;
                let code = if status == 408 {
                    "client.timeout"
                } else {
                    "service.unavailable"
                };
                error(status, code, "Service Unavailable (injected)")
            }
            None => create_queue(&mut st, &body),
        },
        (&Method::GET, ["api", "v2", "routing", "queues"]) => {
            let name = query.get("name").cloned().unwrap_or_default();
            let items: Vec<(String, String)> = st
                .queues
                .iter()
                .filter(|(_, n)| name.is_empty() || n.eq_ignore_ascii_case(&name))
                .cloned()
                .collect();
            page_of(&items, &query)
        }
        (&Method::GET, ["api", "v2", "routing", "queues", id]) => {
            st.counters.queue_reads += 1;
            let reply = match st.queue_bodies.get(*id) {
                Some(q) => respond(200, q.clone()),
                None => error(404, "not.found", "queue not found"),
            };
            // Queue faults: someone edits the queue after this read.
            if st
                .queue_edit_after_read
                .as_ref()
                .is_some_and(|(q, _, _)| q == id)
            {
                if let Some((q, field, value)) = st.queue_edit_after_read.take() {
                    if let Some(Value::Object(body)) = st.queue_bodies.get_mut(&q) {
                        body.insert(field, value);
                    }
                }
            }
            reply
        }
        (&Method::PUT, ["api", "v2", "routing", "queues", id]) => {
            st.counters.queue_puts += 1;
            // Queue faults: the queue changed meanwhile.
            if st.queue_put_conflicts > 0 {
                st.queue_put_conflicts -= 1;
                return error(
                    409,
                    "request.conflict",
                    "The request conflicts with the current state of the target resource.",
                );
            }
            let Ok(mut replacement) = serde_json::from_slice::<Value>(&body) else {
                return error(400, "bad.request", "malformed body");
            };
            if !st.queue_bodies.contains_key(*id) {
                return error(404, "not.found", "queue not found");
            }
            // A full replacement: what the body lacks is gone.
            replacement["id"] = json!(id);
            st.queue_bodies.insert(id.to_string(), replacement.clone());
            respond(200, replacement)
        }
        (&Method::GET, ["api", "v2", "routing", "wrapupcodes"]) => {
            let items = st.wrapups.clone();
            catalog(&mut st, &items, &query)
        }
        (&Method::GET, ["api", "v2", "routing", "queues", id, "wrapupcodes"]) => {
            let items: Vec<(String, String)> = st
                .queue_wrapups
                .get(*id)
                .map(|w| w.iter().map(|c| (c.clone(), String::new())).collect())
                .unwrap_or_default();
            page_of(&items, &query)
        }
        (&Method::POST, ["api", "v2", "routing", "queues", id, "wrapupcodes"]) => {
            st.counters.wrapup_adds += 1;
            let Ok(Value::Array(codes)) = serde_json::from_slice::<Value>(&body) else {
                return error(400, "bad.request", "malformed body");
            };
            let known: Vec<String> = st.wrapups.iter().map(|(i, _)| i.clone()).collect();
            let list = st.queue_wrapups.entry(id.to_string()).or_default();
            for code in codes.iter().filter_map(|c| c["id"].as_str()) {
                if !known.iter().any(|k| k == code) {
                    return error(400, "invalid.id", "wrap-up code not found");
                }
                if !list.iter().any(|c| c == code) {
                    list.push(code.to_string());
                }
            }
            empty(200)
        }
        (
            &Method::POST,
            ["api", "v2", "authorization", "divisions", division, "objects", "QUEUE"],
        ) => {
            st.counters.division_moves += 1;
            let ids: Vec<String> = serde_json::from_slice(&body).unwrap_or_default();
            for id in ids {
                if let Some(q) = st.queue_bodies.get_mut(&id) {
                    q["division"] = json!({"id": division});
                }
            }
            empty(204)
        }
        _ => error(404, "not.found", "The requested resource was not found."),
    }
}

fn token(st: &mut State, auth: &str, body: &[u8]) -> Reply {
    st.counters.token_requests += 1;
    let expected = format!(
        "Basic {}",
        base64(format!("{}:{}", st.config.client_id, st.config.client_secret).as_bytes())
    );
    let form = String::from_utf8_lossy(body);
    if !form
        .split('&')
        .any(|kv| kv == "grant_type=client_credentials")
    {
        return respond(
            400,
            json!({"error": "unsupported_grant_type", "description": "grant type is not supported", "error_description": "grant type is not supported"}),
        );
    }
    if auth != expected {
        return respond(
            401,
            json!({"error": "invalid_client", "description": "client not found or secret does not match", "error_description": "client not found or secret does not match"}),
        );
    }
    let token = format!("tok-{:016x}", rand::rng().random_range(0..u64::MAX));
    let lifetime = st.config.token_lifetime_s;
    let now = Instant::now();
    let expires = now
        .checked_add(Duration::from_secs(lifetime))
        .unwrap_or(now + Duration::from_secs(10 * 365 * 86_400));
    st.tokens.insert(token.clone(), expires);
    respond(
        200,
        json!({"access_token": token, "token_type": "bearer", "expires_in": lifetime}),
    )
}

fn user_json(u: &FakeUser) -> Value {
    let mut user = json!({
        "id": u.id, "name": u.name, "email": u.email, "username": u.email, "state": u.state,
        "version": u.version, "division": {"id": u.division_id},
        "primaryContactInfo": [{"address": u.email, "mediaType": "EMAIL", "type": "PRIMARY"}],
        "selfUri": format!("/api/v2/users/{}", u.id)
    });
    if let Value::Object(fields) = &mut user {
        for (key, value) in &u.profile {
            fields.insert(key.clone(), value.clone());
        }
    }
    user
}

fn create_user(st: &mut State, body: &[u8]) -> Reply {
    st.counters.create_requests += 1;
    if let Some(to) = st.redirect_creates_to.clone() {
        return redirect(307, &format!("{to}/api/v2/users"));
    }
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return error(
            400,
            "bad.request",
            "The request could not be understood by the server due to malformed syntax.",
        );
    };
    let email = body["email"].as_str().unwrap_or("").to_string();
    let name = body["name"].as_str().unwrap_or("").to_string();
    if email.is_empty() || name.is_empty() {
        return error(400, "constraint.validation", "name and email are required");
    }
    let division_id = body["divisionId"]
        .as_str()
        .unwrap_or(HOME_DIVISION)
        .to_string();
    if !st.divisions.iter().any(|(id, _)| *id == division_id) {
        return error(400, "invalid.value", "Value [divisionId] is not valid");
    }
    if st.config.forbid_create {
        return error(403, "missing.permissions", "Unable to perform the requested action. You are missing the following permission(s): [directory:user:add]");
    }
    if st.delete_on_first_create.as_deref() == Some(email.as_str()) {
        st.delete_on_first_create = None;
        st.add_user(&email, &name, "deleted");
    }
    let mut fault = st
        .faults_by_email
        .get_mut(&email.to_lowercase())
        .and_then(VecDeque::pop_front)
        .or_else(|| st.create_faults.pop_front());
    if let (None, Some((unavailable, dropped))) = (&fault, st.config.fault_mix) {
        let draw = st.rng.random_range(0.0..1.0);
        if draw < unavailable {
            fault = Some(Fault::Status(503, "service.unavailable"));
        } else if draw < unavailable + dropped {
            fault = Some(Fault::DropAfterCommit);
        }
    }
    if fault.is_none()
        && st.config.fault_rate > 0.0
        && st.rng.random_range(0.0..1.0) < st.config.fault_rate
    {
        fault = Some(match st.rng.random_range(0..4) {
            0 => Fault::DropAfterCommit,
            1 => Fault::DropBeforeCommit,
            2 => Fault::ErrorAfterCommit,
            _ => Fault::Status(503, "service.unavailable"),
        });
    }
    match fault {
        Some(Fault::DropBeforeCommit) => return Err(Dropped),
        Some(Fault::Status(429, _)) => {
            st.counters.throttled += 1;
            return throttled(st.throttle_retry_after);
        }
        Some(Fault::Status(status, code)) => return error(status, code, "injected fault"),
        _ => {}
    }
    if st.user(&email).is_some() {
        let status = st.config.conflict_status;
        return error(
            status,
            "general.conflict",
            "The request could not be completed by the server due to a conflict.",
        );
    }
    let id = st.new_id();
    let user = FakeUser {
        id,
        email,
        name,
        state: body["state"].as_str().unwrap_or("active").to_string(),
        version: 1,
        division_id,
        body: body.clone(),
        profile: ["title", "department", "addresses"]
            .iter()
            .filter_map(|k| body.get(*k).map(|v| (k.to_string(), v.clone())))
            .collect(),
        created_at: Instant::now(),
    };
    let reply = user_json(&user);
    let (user_id, home) = (user.id.clone(), HOME_DIVISION.to_string());
    st.users.push(user);
    // Every new user gets the Employee role in the home division.
    grant(st, &user_id, EMPLOYEE_ROLE, &home);
    if st.config.expire_tokens_at_users == Some(st.users.len()) {
        st.expire_tokens();
    }
    let t = st.started.elapsed().as_secs_f64();
    st.create_times.push(t);
    match fault {
        Some(Fault::DropAfterCommit) => return Err(Dropped),
        Some(Fault::ErrorAfterCommit) => {
            return error(
                500,
                "internal.server.error",
                "The server encountered an unexpected condition.",
            )
        }
        _ => {}
    }
    let password = body["password"].as_str().unwrap_or("");
    if !password.is_empty() && password.len() < 8 {
        return error(400, "invalid.password", "The user was created successfully but the provided password does not meet the password policy requirements");
    }
    if st.write_faults.creates_without_id > 0 {
        st.write_faults.creates_without_id -= 1;
        let mut bare = reply;
        if let Value::Object(fields) = &mut bare {
            fields.remove("id");
        }
        return respond(200, bare);
    }
    respond(200, reply)
}

fn search(st: &mut State, body: &[u8]) -> Reply {
    st.counters.search_requests += 1;
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return error(400, "bad.request", "malformed search");
    };
    let criteria = request["query"].as_array().cloned().unwrap_or_default();
    let max_values = st.config.max_search_values;
    if max_values > 0
        && criteria
            .iter()
            .any(|c| c["values"].as_array().is_some_and(|v| v.len() > max_values))
    {
        return error(
            400,
            "search.criteria.values.exceed.limit",
            "Too many values in a search criterion",
        );
    }
    if let Some(refused) = st.config.refuse_search_email.clone() {
        let holds = criteria.iter().any(|c| {
            c["values"]
                .as_array()
                .is_some_and(|vs| vs.iter().any(|v| v.as_str() == Some(refused.as_str())))
        });
        if holds {
            return error(
                400,
                "invalid.value",
                "Value [email] is not valid for the search",
            );
        }
    }
    if st.config.reject_state_search && criteria.iter().any(|c| c["fields"][0] == "state") {
        return error(
            400,
            "invalid.value",
            "Value [state] is not valid for field type [fields]",
        );
    }
    let page_size = request["pageSize"].as_u64().unwrap_or(25).max(1) as usize;
    let page_number = request["pageNumber"].as_u64().unwrap_or(1).max(1) as usize;
    if bigorg::past_cap(&st.big, page_number, page_size) {
        return error(
            400,
            "too.many.requested.results",
            "You can page through a maximum of 10,000 results",
        );
    }
    st.refresh_index();
    if criteria.iter().any(|c| c["fields"][0] == "divisionId") {
        st.big.division_searches += 1;
    }
    let lag = st.config.search_lag;
    let now = Instant::now();
    let matches: Vec<&FakeUser> = bigorg::candidates(&st.users, &st.big, &criteria)
        .into_iter()
        .filter(|u| now.saturating_duration_since(u.created_at) >= lag)
        .filter(|u| {
            criteria.iter().all(|c| {
                let field = c["fields"][0].as_str().unwrap_or("");
                let mut values: Vec<String> = c["values"]
                    .as_array()
                    .map(|vs| {
                        vs.iter()
                            .filter_map(|v| v.as_str().map(str::to_lowercase))
                            .collect()
                    })
                    .unwrap_or_default();
                if let Some(v) = c["value"].as_str() {
                    values.push(v.to_lowercase());
                }
                match field {
                    "email" => values.contains(&u.email.to_lowercase()),
                    "state" => values.contains(&u.state),
                    "divisionId" => values.contains(&u.division_id),
                    "hr.employeeId" => employee_id_matches(c, u),
                    "manager.id" => u
                        .profile
                        .get("manager")
                        .and_then(|m| m["id"].as_str())
                        .is_some_and(|m| values.contains(&m.to_lowercase())),
                    _ => false,
                }
            })
        })
        .collect();
    // Like the real search: deleted users only when asked for by state.
    let has_state = criteria.iter().any(|c| c["fields"][0] == "state");
    let matches: Vec<&FakeUser> = matches
        .into_iter()
        .filter(|u| has_state || u.state != "deleted")
        .collect();
    let mut matches = matches;
    if st.write_faults.blind_searches > 0 {
        st.write_faults.blind_searches -= 1;
        matches.clear();
    }
    let total = matches.len();
    let page: Vec<Value> = matches
        .iter()
        .skip((page_number - 1) * page_size)
        .take(page_size)
        .map(|u| write_faults::search_result(user_json(u), &request))
        .collect();
    let page_count = total.div_ceil(page_size);
    respond(
        200,
        json!({"total": total, "pageCount": page_count, "pageSize": page_size, "pageNumber": page_number, "types": ["users"], "results": page}),
    )
}

/// `PATCH /api/v2/users/{id}` as Genesys documents it: `version` required
/// and current; `state`, when present, the only field; `addresses` and
/// `employerInfo` replaced whole; a taken email is a conflict.
fn patch_user(st: &mut State, id: &str, body: &[u8]) -> Reply {
    st.counters.patch_requests += 1;
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(body) else {
        return error(400, "bad.request", "malformed body");
    };
    let Some(index) = st.users.iter().position(|u| u.id == id) else {
        return error(
            404,
            "general.resource.not.found",
            "Unable to find a user with that userId.",
        );
    };
    if st.concurrent_edits > 0 {
        st.concurrent_edits -= 1;
        let user = &mut st.users[index];
        user.version += 1;
        user.profile
            .insert("preferredName".into(), json!("Edited Elsewhere"));
    }
    let user = &st.users[index];
    if body.get("version").and_then(Value::as_i64) != Some(user.version) {
        return error(
            409,
            "general.conflict",
            "Resource conflict - Unexpected version was provided",
        );
    }
    let fields: Vec<&String> = body.keys().filter(|k| *k != "version").collect();
    if body.contains_key("state") && fields.len() > 1 {
        return error(
            400,
            "bad.request",
            "state must be the only modifiable field when specified",
        );
    }
    if let Some(email) = body.get("email").and_then(Value::as_str) {
        if st
            .users
            .iter()
            .any(|u| u.id != id && u.email.eq_ignore_ascii_case(email))
        {
            return error(
                409,
                "general.conflict",
                "The email address is already in use.",
            );
        }
    }
    let before = st.users[index].state.clone();
    let user = &mut st.users[index];
    for (key, value) in body {
        match key.as_str() {
            "version" => {}
            "state" => user.state = value.as_str().unwrap_or("active").to_string(),
            "name" => user.name = value.as_str().unwrap_or("").to_string(),
            "email" => user.email = value.as_str().unwrap_or("").to_string(),
            "manager" => {
                let id = value.as_str().unwrap_or("");
                if id.is_empty() {
                    user.profile.remove("manager");
                } else {
                    user.profile.insert("manager".into(), json!({"id": id}));
                }
            }
            "locations" => {
                user.profile
                    .insert("locations".into(), write_faults::placements(&value));
            }
            _ => {
                user.profile.insert(key, value);
            }
        }
    }
    user.version += 1;
    leavers::state_changed(st, id, &before);
    let reply = write_faults::patch_answer(user_json(&st.users[index]));
    if st.write_faults.patch_timeouts > 0 {
        st.write_faults.patch_timeouts -= 1;
        return error(408, "request.timeout", "The request timed out.");
    }
    respond(200, reply)
}

fn get_user(st: &mut State, id: &str, query: &HashMap<String, String>) -> Reply {
    st.counters.get_requests += 1;
    // Like Genesys: a deleted user is read only with `state=deleted`.
    let asks_deleted = query.get("state").map(String::as_str) == Some("deleted");
    match st.user_by_id(id) {
        Some(u) if u.state == "deleted" && !asks_deleted => error(
            404,
            "general.resource.not.found",
            "Unable to find a user with that userId.",
        ),
        Some(u) => respond(200, user_json(u)),
        None => error(
            404,
            "general.resource.not.found",
            "Unable to find a user with that userId.",
        ),
    }
}

/// `GET /api/v2/users?id=..&id=..`: at most 100 ids.
fn get_users(st: &mut State, query: Vec<(String, String)>) -> Reply {
    st.counters.get_requests += 1;
    let ids: Vec<&str> = query
        .iter()
        .filter(|(k, _)| k == "id")
        .map(|(_, v)| v.as_str())
        .collect();
    if ids.len() > 100 {
        return error(
            400,
            "max.user.ids",
            "Only 100 users can be requested at a time.",
        );
    }
    st.refresh_index();
    let entities: Vec<Value> = ids
        .iter()
        .filter_map(|id| st.user_by_id(id))
        .map(user_json)
        .collect();
    let total = entities.len();
    respond(
        200,
        json!({"entities": entities, "pageSize": 100, "pageNumber": 1, "total": total, "pageCount": 1}),
    )
}

/// `POST /api/v2/authorization/divisions/{id}/objects/USER` with `[userId...]`.
fn move_users(st: &mut State, division: &str, body: &[u8]) -> Reply {
    st.counters.division_moves += 1;
    let Ok(ids) = serde_json::from_slice::<Vec<String>>(body) else {
        return error(400, "bad.request", "malformed body");
    };
    if ids.is_empty() {
        return error(400, "empty.bulk.division.update", "No objects to move");
    }
    if st.refuse_division_moves {
        return error(
            403,
            "bulk.move.no.permission.division",
            "You do not have permission to move objects to this division",
        );
    }
    let cap = st.config_max_division_move();
    if cap > 0 && ids.len() > cap {
        return error(
            400,
            "too.many.bulk.division.updates",
            "Too many objects in one move",
        );
    }
    if !st.divisions.iter().any(|(id, _)| id == division) {
        return error(404, "general.resource.not.found", "division not found");
    }
    for id in &ids {
        if !st.users.iter().any(|u| &u.id == id) {
            return error(
                409,
                "bulk.move.unable.to.move",
                "Unable to move one or more objects",
            );
        }
    }
    for user in st.users.iter_mut().filter(|u| ids.contains(&u.id)) {
        user.division_id = division.to_string();
        user.version += 1;
    }
    empty(204)
}

/// A queue with settings genimport never sends: a sparse PUT would lose them.
fn seeded_queue(id: &str, name: &str) -> Value {
    json!({
        "id": id, "name": name, "division": {"id": HOME_DIVISION, "name": "Home"},
        "description": "", "skillEvaluationMethod": "BEST",
        "acwSettings": {"wrapupPrompt": "OPTIONAL"},
        "mediaSettings": {"call": {"alertingTimeoutSeconds": 8, "serviceLevel": {"percentage": 0.8, "durationMs": 20000}}},
        "bullseye": {"rings": [{"expansionTimeoutSeconds": 15}]},
        "enableTranscription": true,
        "selfUri": format!("/api/v2/routing/queues/{id}")
    })
}

fn create_queue(st: &mut State, body: &[u8]) -> Reply {
    st.counters.queue_creates += 1;
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return error(400, "bad.request", "malformed body");
    };
    let name = body["name"].as_str().unwrap_or("").to_string();
    if name.is_empty() {
        return error(400, "invalid.name", "A queue needs a name");
    }
    if st.queues.iter().any(|(_, n)| n.eq_ignore_ascii_case(&name)) {
        return error(
            400,
            "duplicate.name",
            "A queue with this name already exists.",
        );
    }
    let mut queue = match body["sourceQueueId"].as_str() {
        Some(source) => match st.queue_bodies.get(source) {
            Some(copied) => copied.clone(),
            None => {
                return error(
                    400,
                    "source.queue.not.found",
                    "The source queue was not found",
                )
            }
        },
        None => json!({"division": {"id": HOME_DIVISION}}),
    };
    let id = format!("q{:07}-1111-4000-8000-000000000000", st.queue_bodies.len());
    if let (Value::Object(q), Value::Object(b)) = (&mut queue, &body) {
        for (k, v) in b {
            if k != "sourceQueueId" {
                q.insert(k.clone(), v.clone());
            }
        }
        q.insert("id".into(), json!(id));
    }
    st.queues.push((id.clone(), name));
    st.queue_bodies.insert(id, queue.clone());
    respond(200, queue)
}

/// The strings of a JSON array (none when it is not one).
fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn empty(status: u16) -> Reply {
    Ok(Response::builder()
        .status(status)
        .body(Full::new(Bytes::new()))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))))
}

/// One page of (id, name) pairs, as Genesys pages entity listings.
fn page_of(items: &[(String, String)], query: &HashMap<String, String>) -> Reply {
    let size = query
        .get("pageSize")
        .and_then(|v| v.parse().ok())
        .unwrap_or(25usize)
        .max(1);
    let number = query
        .get("pageNumber")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1usize)
        .max(1);
    let entities: Vec<Value> = items
        .iter()
        .skip((number - 1) * size)
        .take(size)
        .map(|(id, name)| json!({"id": id, "name": name}))
        .collect();
    respond(
        200,
        json!({"entities": entities, "pageSize": size, "pageNumber": number, "total": items.len(), "pageCount": items.len().div_ceil(size)}),
    )
}

fn catalog(st: &mut State, items: &[(String, String)], query: &HashMap<String, String>) -> Reply {
    st.counters.catalog_requests += 1;
    page_of(items, query)
}

fn grant(st: &mut State, user_id: &str, role_id: &str, division_id: &str) {
    let grants = st.grants.entry(user_id.to_string()).or_default();
    if !grants.iter().any(|(r, d)| r == role_id && d == division_id) {
        grants.push((role_id.to_string(), division_id.to_string()));
    }
    let roles: Vec<Value> = {
        let mut ids: Vec<&String> = grants.iter().map(|(r, _)| r).collect();
        ids.sort();
        ids.dedup();
        ids.into_iter().map(|id| json!({"id": id})).collect()
    };
    if let Some(user) = st.users.iter_mut().find(|u| u.id == user_id) {
        user.profile
            .insert("authorization".into(), json!({"roles": roles}));
    }
}

fn grant_role(st: &mut State, role: &str, body: &[u8]) -> Reply {
    st.counters.grant_requests += 1;
    if st.refuse_grants {
        return error(
            403,
            "missing.division.permissions",
            "You are missing the following permission(s): authorization:grant:add",
        );
    }
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return error(400, "bad.request", "malformed body");
    };
    if !st.roles.iter().any(|(id, _)| id == role) {
        return error(404, "general.resource.not.found", "role not found");
    }
    let subjects: Vec<String> = strings(&body["subjectIds"]);
    let divisions: Vec<String> = strings(&body["divisionIds"]);
    if let Some(bad) = write_faults::poisoned(&st.write_faults, &subjects) {
        return error(
            400,
            "invalid.subject",
            &format!("subject {bad} cannot be granted"),
        );
    }
    if subjects.len() > st.max_role_subjects {
        return error(400, "max.role.assignments.exceeded", "Too many subjects");
    }
    for subject in &subjects {
        if st.user_by_id(subject).is_none() {
            return error(400, "invalid.subject", "subject not found");
        }
    }
    for subject in &subjects {
        for division in &divisions {
            grant(st, subject, role, division);
        }
    }
    empty(204)
}

fn subject(st: &mut State, id: &str) -> Reply {
    st.counters.subject_requests += 1;
    let name = |list: &[(String, String)], id: &str| {
        list.iter()
            .find(|(i, _)| i == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| "*".into())
    };
    let grants: Vec<Value> = st
        .grants
        .get(id)
        .map(|g| {
            g.iter()
                .map(|(r, d)| json!({"role": {"id": r, "name": name(&st.roles, r)}, "division": {"id": d, "name": name(&st.divisions, d)}}))
                .collect()
        })
        .unwrap_or_default();
    respond(200, json!({"id": id, "grants": grants}))
}

fn rate(st: &mut State, id: &str, kind: &str, body: &[u8]) -> Reply {
    let (field, catalog) = if kind == "routingskills" {
        st.counters.skill_requests += 1;
        ("skills", st.skills.clone())
    } else {
        st.counters.language_requests += 1;
        ("languages", st.languages.clone())
    };
    let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(body) else {
        return error(400, "bad.request", "malformed body");
    };
    if items.len() > 50 {
        return error(400, "bad.request", "Max 50 per request");
    }
    let Some(user) = st.users.iter_mut().find(|u| u.id == id) else {
        return error(404, "general.resource.not.found", "user not found");
    };
    let mut current: Vec<Value> = user
        .profile
        .get(field)
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default();
    for item in items {
        let Some(item_id) = item["id"].as_str() else {
            continue;
        };
        let Some((_, name)) = catalog.iter().find(|(i, _)| i == item_id) else {
            return error(
                404,
                "general.resource.not.found",
                "One or more route skill(s) not found",
            );
        };
        current.retain(|c| c["id"] != item_id);
        current.push(json!({"id": item_id, "name": name, "proficiency": item["proficiency"]}));
    }
    user.profile
        .insert(field.into(), Value::Array(current.clone()));
    respond(200, json!({"entities": current}))
}

/// The user exists and is visible to member operations (after the lag).
fn visible_member(st: &mut State, id: &str) -> bool {
    if st.member_lag > 0 {
        st.member_lag -= 1;
        return false;
    }
    st.users.iter().any(|u| u.id == id)
}

fn add_queue_members(st: &mut State, queue: &str, body: &[u8]) -> Reply {
    st.counters.queue_member_requests += 1;
    let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(body) else {
        return error(400, "bad.request", "malformed body");
    };
    if items.len() > 100 {
        return error(
            400,
            "bad.request",
            "Bulk add or delete up to 100 queue members",
        );
    }
    if !st.queues.iter().any(|(id, _)| id == queue) {
        return error(
            404,
            "resource.not.found",
            "Specified queue could not be found.",
        );
    }
    let ids: Vec<String> = items
        .iter()
        .filter_map(|i| i["id"].as_str().map(str::to_string))
        .collect();
    if let Some(bad) = write_faults::poisoned(&st.write_faults, &ids) {
        return error(
            400,
            "bad.request",
            &format!("user {bad} cannot be a member"),
        );
    }
    if let Some(missing) = ids.iter().find(|id| !visible_member(st, id)).cloned() {
        return error(
            404,
            "resource.not.found",
            &format!("Specified user {missing} could not be found."),
        );
    }
    let members = st.queue_members.entry(queue.to_string()).or_default();
    for id in ids {
        if !members.contains(&id) {
            members.push(id);
        }
    }
    empty(200)
}

fn add_group_members(st: &mut State, group: &str, body: &[u8]) -> Reply {
    st.counters.group_member_requests += 1;
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return error(400, "bad.request", "malformed body");
    };
    let ids: Vec<String> = strings(&body["memberIds"]);
    if let Some(bad) = write_faults::poisoned(&st.write_faults, &ids) {
        return error(
            400,
            "bad.request",
            &format!("user {bad} cannot be a member"),
        );
    }
    if ids.len() > 50 {
        return error(
            400,
            "bad.request",
            "A maximum of 50 members are allowed per request",
        );
    }
    if st.group_edits > 0 {
        st.group_edits -= 1;
        if let Some(g) = st.groups.iter_mut().find(|g| g.id == group) {
            g.version += 1;
        }
    }
    if let Some(missing) = ids.iter().find(|id| !visible_member(st, id)).cloned() {
        return error(
            404,
            "general.resource.not.found",
            &format!("Group members were not found: {missing}"),
        );
    }
    let Some(g) = st.groups.iter_mut().find(|g| g.id == group) else {
        return error(404, "general.resource.not.found", "group not found");
    };
    if body["version"].as_i64() != Some(g.version) {
        return error(409, "general.conflict", "The group version does not match");
    }
    g.version += 1;
    for id in &ids {
        if !g.members.contains(id) {
            g.members.push(id.clone());
        }
    }
    let group_id = g.id.clone();
    for user in st.users.iter_mut().filter(|u| ids.contains(&u.id)) {
        let mut groups = user
            .profile
            .get("groups")
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default();
        if !groups.iter().any(|x| x["id"] == group_id.as_str()) {
            groups.push(json!({"id": group_id}));
        }
        user.profile.insert("groups".into(), Value::Array(groups));
    }
    empty(202)
}

fn req_query_all(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (percent_decode(k), percent_decode(v)))
        .collect()
}

fn divisions(st: &State, query: &HashMap<String, String>) -> Reply {
    let items: Vec<Value> = st
        .divisions
        .iter()
        .enumerate()
        .map(|(i, (id, name))| json!({"id": id, "name": name, "description": "", "homeDivision": i == 0}))
        .collect();
    page_values(&items, query)
}

/// One page of `items` as Genesys pages its listings (`pageSize`,
/// `pageNumber`; 25 and 1 by default).
fn page_values(items: &[Value], query: &HashMap<String, String>) -> Reply {
    let number = |key: &str, default: usize| {
        query
            .get(key)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
            .max(1)
    };
    let (size, page) = (number("pageSize", 25), number("pageNumber", 1));
    let entities: Vec<Value> = items
        .iter()
        .skip((page - 1) * size)
        .take(size)
        .cloned()
        .collect();
    respond(
        200,
        json!({"entities": entities, "pageSize": size, "pageNumber": page, "total": items.len(), "pageCount": items.len().div_ceil(size)}),
    )
}

fn parse_query(query: &str) -> HashMap<String, String> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (percent_decode(k), percent_decode(v)))
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

// ---- Preflight safety: wire fidelity of reads -----------------------------
// Kept apart from the rest so other changes to the fake merge cleanly.

/// The `expand` values Genesys knows for a user read.
const USER_EXPANDS: [&str; 10] = [
    "routingStatus",
    "presence",
    "skills",
    "languages",
    "groups",
    "team",
    "locations",
    "authorization",
    "employerInfo",
    "dateWelcomeSent",
];

/// `expand` is `collectionFormat: multi`: one parameter per value. A
/// comma-joined value names no field Genesys knows, so it is refused (400).
fn expand_refusal(query: &[(String, String)]) -> Option<Reply> {
    let unknown = query
        .iter()
        .filter(|(k, _)| k == "expand")
        .find(|(_, v)| !USER_EXPANDS.contains(&v.as_str()))?;
    Some(error(
        400,
        "bad.request",
        &format!("Invalid expand value [{}]", unknown.1),
    ))
}

/// `hr.employeeId` EXACT: the value as stored, case and all (Genesys does
/// not document that it ignores case, so the fake does not).
fn employee_id_matches(criterion: &Value, user: &FakeUser) -> bool {
    // `profile` is a Map: index it only through `get` (a user may have no employerInfo).
    let Some(held) = user
        .profile
        .get("employerInfo")
        .and_then(|e| e["employeeId"].as_str())
    else {
        return false;
    };
    let listed = criterion["values"]
        .as_array()
        .is_some_and(|vs| vs.iter().any(|v| v.as_str() == Some(held)));
    listed || criterion["value"].as_str() == Some(held)
}

/// A deleted user is no authorization subject (404), nor is one a test
/// names in `refuse_subject_reads`.
fn subject_refusal(st: &mut State, id: &str) -> Option<Reply> {
    let deleted = st.user_by_id(id).is_some_and(|u| u.state == "deleted");
    if !deleted && !st.refuse_subject_reads.contains(id) {
        return None;
    }
    st.counters.subject_requests += 1;
    Some(error(
        404,
        "general.resource.not.found",
        "Unable to find the authorization subject.",
    ))
}

impl State {
    /// Grants a role (by name) in a division to a user, as if done before
    /// the run (the user's `authorization` expand shows it).
    pub fn seed_grant(&mut self, user_id: &str, role: &str, division_id: &str) {
        let role_id = self
            .roles
            .iter()
            .find(|(_, n)| n == role)
            .map(|(id, _)| id.clone())
            .expect("a seeded role");
        grant(self, user_id, &role_id, division_id);
    }
}
