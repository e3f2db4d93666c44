//! The genimport benchmark. Run it with
//!
//!   cargo run --release --example bench
//!
//! Part 1, offline: validates 100,000- and 1,000,000-row files (dry run, no
//! credentials) and prints rows per second and the process's peak memory.
//! Part 2, online: for each concurrency, starts a fresh fake Genesys with a
//! fixed-window rate limit (scaled down: by default 100 requests per 10 s)
//! and a latency (300 ms ± 50%), imports users (250 per unit of concurrency,
//! at most --users), and prints users per
//! minute, that as a fraction of the server's limit, the 429s received, and
//! requests per created user.
//! Part 4, provision: 1,000 new users with a typical provisioning row
//! (manager, 2 roles, 3 skills, 1 language, 1 of 5 queues, 1 of 3 groups,
//! location, employer info, invite): requests per user and per step, then
//! users fully provisioned per minute at a 300/min limit (fewer users).
//! Part 5, pacing: genimport against a reference client that behaves like
//! the official SDK loop (back-to-back requests, sleep exactly Retry-After on
//! each 429), on the same fake limits: fixed window, sliding window, token
//! bucket, and faults (genimport only); then part `spent` (alone with
//! `--parts spent`): the same against a window another client partly spent
//! in the second before the run (`--spent-users`, 600 by default).
//! Part 6, movers: request counts of `--update --exact` for 200 movers
//! whose every list changes (a role, a skill, a language, a queue and a
//! group each swapped for another), 200 leavers (`inactive`, out of every
//! queue and group), and each file applied again (zero writes).
//! Part 3, update: request counts of `--update` against 1,000 existing users
//! (file unchanged, one field changed on each, only new users), on a fake
//! without limit or latency: the figures are counts, not times.
//! Part 7, permissions (`--parts permissions`, see bench/permissions.rs):
//! the permission preflight's requests per run, each way of learning the
//! client's access.
//! Part 8, undo (`--parts undo`, see bench/undo.rs): the undo file's own
//! requests per user it holds, for new users, profile updates, adds,
//! movers, leavers and deletions (each case with and without `--undo none`).
//! Part 6, export (`--parts export`): requests per user of `genimport export
//! users` for 1,200 users holding roles, skills, queues and groups (20 roles,
//! 20 queues, 10 groups) and for 10,500 users with profile fields only.
//! Part `bigorg` (`cargo build --release` first: it runs the binary under
//! /usr/bin/time): the 25,000-user request budgets, then export and
//! `--update` preflight times at 300 requests/min with 1 and 3 tokens and
//! the peak memory of a 100,000-row `--update` (`--big-users`).
//! Part 8, phones (`--parts phones`, see bench/phones.rs): 200 new users with a WebRTC phone
//! each, the fake's station lag 1 s; the file again; the users as leavers.

#[path = "fake_genesys/fake.rs"]
mod fake;
#[path = "bench/permissions.rs"]
mod permissions;
#[path = "bench/phones.rs"]
mod phones;
#[path = "bench/spent.rs"]
mod spent;
#[path = "bench/undo.rs"]
mod undo;

#[path = "bench/bigorg.rs"]
mod bigorg;

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use fake::{Fake, FakeConfig};
use genimport::Cli;
use genimport::Progress;
use genimport::Status;
use genimport::Stop;
use genimport::{Command, Config};

#[derive(Parser)]
struct Args {
    /// Requests the fake allows per window
    #[arg(long, default_value_t = 100)]
    limit: u32,
    /// Window length in seconds
    #[arg(long, default_value_t = 10)]
    window: u64,
    /// Mean latency per request in milliseconds
    #[arg(long, default_value_t = 300)]
    latency_ms: u64,
    /// Latency varies uniformly by this fraction either way
    #[arg(long, default_value_t = 0.5)]
    jitter: f64,
    /// Users to import at most per concurrency level (250 x concurrency below that)
    #[arg(long, default_value_t = 1000)]
    users: usize,
    /// Concurrency levels to measure
    #[arg(long, value_delimiter = ',', default_value = "1,2,4,8")]
    concurrency: Vec<u16>,
    /// Rows for the offline part (0 skips it)
    #[arg(long, default_value_t = 1_000_000)]
    offline_rows: usize,
    /// Parts to run
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "offline,online,update,provision,movers,permissions,phones,undo"
    )]
    parts: Vec<String>,
    /// Users for the update and provision parts
    #[arg(long, default_value_t = 1000)]
    update_users: usize,
    /// Users per pacing scenario
    #[arg(long, default_value_t = 1000)]
    pacing_users: usize,
    /// Users per scenario of a window partly spent before the run
    #[arg(long, default_value_t = 600)]
    spent_users: usize,
    /// Users for the timed provisioning run (at 300 requests/min)
    #[arg(long, default_value_t = 200)]
    provision_timed_users: usize,
    /// Users of the big org in the timed `bigorg` part
    #[arg(long, default_value_t = 100_000)]
    big_users: usize,
}

fn main() {
    let args = Args::parse();
    let dir = tempfile::tempdir().expect("tempdir");
    let part = |name: &str| args.parts.iter().any(|p| p == name);
    if part("offline") && args.offline_rows > 0 {
        workbook(&dir, 100_000.min(args.offline_rows));
        offline(&dir, 100_000.min(args.offline_rows));
        offline(&dir, args.offline_rows);
    }
    if part("online") {
        online(&args, &dir);
    }
    if part("update") {
        update(&dir, args.update_users);
    }
    if part("provision") {
        provision(&dir, args.update_users, args.provision_timed_users);
    }
    if part("pacing") {
        pacing(&dir, &args);
    }
    if part("pacing") || part("spent") {
        spent::spent(&dir, args.spent_users);
    }
    if part("export") {
        export(&dir);
    }
    if part("movers") {
        movers(&dir, 200);
    }
    if part("bigorg") {
        bigorg::run(dir.path(), args.big_users);
    }
    if part("permissions") {
        permissions::permissions(&dir, args.update_users);
    }
    if part("phones") {
        phones::phones(&dir, 200);
    }
    if part("undo") {
        undo::undo(&dir, 200);
    }
}

/// A fake org of `users` users; with `provisioned`, 20 roles, 20 queues and
/// 10 groups, each user holding 2 roles, 2 skills, 1 language, 2 queues and
/// 1 group.
fn export_org(users: usize, provisioned: bool) -> Fake {
    let fake = Fake::spawn(FakeConfig::default());
    let mut st = fake.state();
    if provisioned {
        let id = |kind: char, i: usize| format!("{kind}9{i:06}-0000-4000-8000-000000000000");
        st.roles = (0..20)
            .map(|i| (id('r', i), format!("Role {i:02}")))
            .collect();
        st.queues = (0..20)
            .map(|i| (id('q', i), format!("Queue {i:02}")))
            .collect();
        st.groups = (0..10)
            .map(|i| fake::FakeGroup {
                id: id('g', i),
                name: format!("Group {i:02}"),
                version: 1,
                members: Vec::new(),
            })
            .collect();
    }
    let skills = st.skills.clone();
    let languages = st.languages.clone();
    for i in 0..users {
        let mut profile = serde_json::json!({
            "title": "Agent", "department": "Support",
            "addresses": [{"address": format!("+1317555{:04}", i % 10_000), "mediaType": "PHONE", "type": "WORK"}],
            "employerInfo": {"employeeId": format!("E-{i}")}
        });
        if provisioned {
            profile["skills"] = serde_json::json!([
                {"id": skills[i % 3].0, "proficiency": 4.0},
                {"id": skills[3 + i % 3].0, "proficiency": 2.5}
            ]);
            profile["languages"] =
                serde_json::json!([{"id": languages[i % 4].0, "proficiency": 5.0}]);
        }
        let user = st.add_user_with(
            &format!("exp{i}@example.com"),
            &format!("Export User {i}"),
            profile,
        );
        if provisioned {
            for r in [i % 20, (i + 7) % 20] {
                let role = st.roles[r].0.clone();
                st.grant_user(&user, &role, fake::HOME_DIVISION);
            }
            for q in [i % 20, (i + 3) % 20] {
                let queue = st.queues[q].0.clone();
                st.queue_members
                    .entry(queue)
                    .or_default()
                    .push(user.clone());
            }
            st.groups[i % 10].members.push(user);
        }
    }
    drop(st);
    fake
}

fn export(dir: &tempfile::TempDir) {
    println!("\nexport: requests per user of `genimport export users` (token request excluded)");
    println!(
        "{:<44} {:>8} {:>9} {:>12} {:>8}",
        "org", "users", "requests", "req per user", "target"
    );
    for (case, users, provisioned, target) in [
        (
            "20 roles, 20 queues, 10 groups, all held",
            1_200,
            true,
            0.15,
        ),
        ("profile fields only", 10_500, false, 0.1),
    ] {
        let fake = export_org(users, provisioned);
        let (id, secret) = {
            let st = fake.state();
            (st.config.client_id.clone(), st.config.client_secret.clone())
        };
        std::env::set_var("GENESYS_CLIENT_SECRET", secret);
        let output = dir.path().join("export.csv").to_string_lossy().into_owned();
        let url = fake.url();
        let argv = [
            "genimport",
            "export",
            "-q",
            "-o",
            &output,
            "--api-url",
            &url,
            "--client-id",
            &id,
        ];
        let cli = <Cli as clap::Parser>::try_parse_from(argv).expect("arguments");
        let Ok(Command::Export(config)) = Command::from_cli(cli) else {
            panic!("not an export");
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let code = runtime.block_on(genimport::export::run(&config, Stop::default()));
        assert_eq!(code, 0, "export failed");
        let rows = std::fs::read_to_string(&output)
            .expect("export")
            .lines()
            .count()
            - 1;
        assert_eq!(rows, users);
        let requests = fake.state().counters.api_requests;
        println!(
            "{case:<44} {users:>8} {requests:>9} {:>12.3} {target:>8}",
            requests as f64 / users as f64
        );
    }
}

fn named_id(list: &[(String, String)], name: &str) -> String {
    list.iter()
        .find(|(_, n)| n == name)
        .map(|(i, _)| i.clone())
        .expect("seeded name")
}

/// `users` existing users as a team leaves them: Employee and Agent in
/// Home, Sales:4 and Billing:2, English:5 and French:3, queue Support Tier
/// 1, group Night Shift. Their emails: `{prefix}{i}@example.com`.
fn seed_team(fake: &Fake, users: usize, prefix: &str) {
    let mut st = fake.state();
    let home = fake::HOME_DIVISION.to_string();
    let (employee, agent) = (
        named_id(&st.roles, "Employee"),
        named_id(&st.roles, "Agent"),
    );
    let rated = |list: &[(String, String)], name: &str, p: f64| serde_json::json!({"id": named_id(list, name), "name": name, "proficiency": p});
    let profile = serde_json::json!({
        "skills": [rated(&st.skills, "Sales", 4.0), rated(&st.skills, "Billing", 2.0)],
        "languages": [rated(&st.languages, "English", 5.0), rated(&st.languages, "French", 3.0)],
    });
    let queue = named_id(&st.queues, "Support Tier 1");
    let group = st.groups[0].id.clone();
    for i in 0..users {
        let id = st.add_user_with(
            &format!("{prefix}{i}@example.com"),
            "Team Member",
            profile.clone(),
        );
        st.grant_user(&id, &employee, &home);
        st.grant_user(&id, &agent, &home);
        st.queue_members
            .entry(queue.clone())
            .or_default()
            .push(id.clone());
        st.join_group(&group, &id);
    }
}

fn movers(dir: &tempfile::TempDir, users: usize) {
    println!("\nmovers: --update --exact, {users} users each (no limit or latency: counts, not times; token excluded), concurrency 4");
    println!(
        "{:<58} {:>8} {:>9} {:>12}",
        "case", "writes", "requests", "req per user"
    );
    let report = |case: &str, fake: &Fake, before: (u64, u64)| {
        let st = fake.state();
        let (writes, requests) = (st.writes() - before.0, st.counters.api_requests - before.1);
        println!(
            "{case:<58} {writes:>8} {requests:>9} {:>12.3}",
            requests as f64 / users as f64
        );
        (writes, requests)
    };
    let counts = |fake: &Fake| {
        let st = fake.state();
        (st.writes(), st.counters.api_requests)
    };
    let exact = ["--update", "--exact", "--concurrency", "4"];

    let fake = Fake::spawn(FakeConfig::default());
    seed_team(&fake, users, "mover");
    let input = dir.path().join("movers.csv");
    let mut csv = String::from("email,roles,skills,languages,queues,groups\n");
    for i in 0..users {
        csv.push_str(&format!(
            "mover{i}@example.com,Supervisor,Sales:4;Tech:3,English:5;Spanish:2,Sales,Day Shift\n"
        ));
    }
    std::fs::write(&input, csv).expect("write input");
    let input = input.to_string_lossy().into_owned();
    let before = counts(&fake);
    let summary = run_against(&fake, dir, &input, &exact);
    assert_eq!(summary.tally.count(Status::Updated) as usize, users);
    report(
        "movers, every list changes (one item out, one in)",
        &fake,
        before,
    );
    {
        let c = fake.state().counters.clone();
        let m = fake.state().movers.clone();
        for (step, count) in [
            (
                "  grants read per user (authorization/subjects)",
                c.subject_requests,
            ),
            (
                "  grants read per role (subjectgrants pages)",
                m.subject_grant_reads,
            ),
            (
                "  roles lost everywhere removed (per role, 100 users)",
                m.role_user_removals,
            ),
            (
                "  grants kept elsewhere removed (bulkremove per user)",
                m.grant_removals,
            ),
            (
                "  role grants added (per role, 100 users)",
                c.grant_requests,
            ),
            ("  skills (one replacing PUT per user)", c.skill_requests),
            (
                "  languages (one DELETE + one PATCH per user)",
                c.language_requests,
            ),
            (
                "  queue members (per queue, 100 users; in and out)",
                c.queue_member_requests,
            ),
            (
                "  group members (per group, 50 users; in and out)",
                c.group_member_requests + c.group_reads,
            ),
        ] {
            println!(
                "{step:<58} {:>8} {:>9} {:>12.3}",
                "",
                count,
                count as f64 / users as f64
            );
        }
    }
    let before = counts(&fake);
    let summary = run_against(&fake, dir, &input, &exact);
    assert_eq!(summary.tally.count(Status::Unchanged) as usize, users);
    let (writes, _) = report("movers, the same file again", &fake, before);
    assert_eq!(writes, 0, "an applied file sends no writes");

    let fake = Fake::spawn(FakeConfig::default());
    seed_team(&fake, users, "leaver");
    let input = dir.path().join("leavers.csv");
    let mut csv = String::from("email,state,queues,groups\n");
    for i in 0..users {
        csv.push_str(&format!("leaver{i}@example.com,inactive,-,-\n"));
    }
    std::fs::write(&input, csv).expect("write input");
    let input = input.to_string_lossy().into_owned();
    let before = counts(&fake);
    let summary = run_against(&fake, dir, &input, &exact);
    assert_eq!(summary.tally.count(Status::Updated) as usize, users);
    report(
        "leavers: deactivate, out of queues and groups",
        &fake,
        before,
    );
    let before = counts(&fake);
    let summary = run_against(&fake, dir, &input, &exact);
    assert_eq!(summary.tally.count(Status::Unchanged) as usize, users);
    let (writes, _) = report("leavers, the same file again", &fake, before);
    assert_eq!(writes, 0, "an applied file sends no writes");
}

/// What the SDK loop does: each worker takes the next user, POSTs it, and
/// on a 429 sleeps exactly Retry-After and sends it again. Returns the
/// wall time and the requests it sent.
fn reference_client(fake: &Fake, users: usize, workers: usize, prefix: &str) -> (f64, u64) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (id, secret, url) = {
        let st = fake.state();
        (
            st.config.client_id.clone(),
            st.config.client_secret.clone(),
            fake.url(),
        )
    };
    runtime.block_on(async move {
        // Timed from the start, token included, as genimport's runs are.
        let started = Instant::now();
        let http = reqwest::Client::new();
        let bearer = bearer_token(&http, &url, &id, &secret).await;
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let sent = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..workers {
            let (http, bearer, url, next, sent, prefix) = (
                http.clone(),
                bearer.clone(),
                url.clone(),
                Arc::clone(&next),
                Arc::clone(&sent),
                prefix.to_string(),
            );
            set.spawn(async move {
                use std::sync::atomic::Ordering;
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= users {
                        return;
                    }
                    let body = serde_json::json!({"name": format!("Ref {i}"), "email": format!("{prefix}{i}@example.com")});
                    loop {
                        sent.fetch_add(1, Ordering::SeqCst);
                        let Ok(response) = http
                            .post(format!("{url}/api/v2/users"))
                            .header("authorization", &bearer)
                            .json(&body)
                            .send()
                            .await
                        else {
                            continue;
                        };
                        if response.status().as_u16() != 429 {
                            break;
                        }
                        let wait = response
                            .headers()
                            .get("retry-after")
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| v.parse::<u64>().ok())
                            .unwrap_or(3);
                        tokio::time::sleep(Duration::from_secs(wait)).await;
                    }
                }
            });
        }
        while set.join_next().await.is_some() {}
        (started.elapsed().as_secs_f64(), sent.load(std::sync::atomic::Ordering::SeqCst))
    })
}

/// One measured run: users, seconds, requests the server let through, 429s.
struct Measured {
    users: usize,
    elapsed: f64,
    accepted: u64,
    throttled: u64,
}

impl Measured {
    fn of(fake: &Fake, users: usize, elapsed: f64) -> Measured {
        let c = &fake.state().counters;
        Measured {
            users,
            elapsed,
            accepted: c.api_requests - c.throttled - c.unauthorized,
            throttled: c.throttled,
        }
    }

    fn users_per_min(&self) -> f64 {
        self.users as f64 * 60.0 / self.elapsed
    }

    /// Requests the server let through per minute, over its limit per minute.
    fn share(&self, limit_per_min: f64) -> f64 {
        self.accepted as f64 * 60.0 / self.elapsed / limit_per_min * 100.0
    }

    fn throttled_share(&self) -> f64 {
        self.throttled as f64 / (self.accepted + self.throttled).max(1) as f64 * 100.0
    }

    fn cells(&self, limit_per_min: f64) -> String {
        format!(
            "{:>9.1} {:>8.1}% {:>5} {:>5.2}%",
            self.users_per_min(),
            self.share(limit_per_min),
            self.throttled,
            self.throttled_share()
        )
    }
}

/// `email,name` rows for `users` new users named after `name`.
fn names_file(dir: &tempfile::TempDir, name: &str, users: usize) -> String {
    let input = dir.path().join(format!("{name}.csv"));
    let mut csv = String::from("email,name\n");
    for i in 0..users {
        csv.push_str(&format!("{name}{i}@example.com,{name} {i}\n"));
    }
    std::fs::write(&input, csv).expect("write input");
    input.to_string_lossy().into_owned()
}

/// Rows whose status disagrees with the server: `created`/`exists` without
/// a live user of that email, or any other status with one.
fn misreported(dir: &tempfile::TempDir, fake: &Fake) -> usize {
    let path = dir.path().join("update.results.csv");
    let mut reader = csv::Reader::from_path(&path).expect("results");
    let headers = reader.headers().expect("header").clone();
    let column = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let (email, status) = (column("email"), column("status"));
    let state = fake.state();
    reader
        .records()
        .filter_map(Result::ok)
        .filter(|r| {
            let exists = state.user(&r[email]).is_some_and(|u| u.state != "deleted");
            let claims = matches!(&r[status], "created" | "exists");
            exists != claims
        })
        .count()
}

fn pacing(dir: &tempfile::TempDir, args: &Args) {
    use fake::Limiter;
    let users = args.pacing_users;
    println!("\npacing: {users} new users per scenario. 'of limit' = requests the server let through per minute over its limit (genimport's include its preflight searches); 429 % = of all requests. The reference is an SDK-like loop: back-to-back creates, sleeping exactly Retry-After on a 429.");
    println!(
        "{:<40} {:>9} {:>9} {:>5} {:>6} | {:>9} {:>9} {:>5} {:>6}",
        "scenario",
        "users/min",
        "of limit",
        "429s",
        "429 %",
        "users/min",
        "of limit",
        "429s",
        "429 %"
    );
    println!("{:<40} {:^39} | {:^39}", "", "genimport", "reference");
    let fixed = |limit: u32, window: u64, latency: u64, jitter: f64, limiter: Limiter| FakeConfig {
        rate_limit: Some((limit, Duration::from_secs(window))),
        limiter,
        latency: Duration::from_millis(latency),
        latency_jitter: jitter,
        ..FakeConfig::default()
    };
    let scenarios = [
        (
            "fixed 100/10 s, 300 ms ±50%, c=4",
            fixed(100, 10, 300, 0.5, Limiter::Fixed),
            4,
        ),
        (
            "fixed 300/60 s, 150 ms, c=1",
            fixed(300, 60, 150, 0.0, Limiter::Fixed),
            1,
        ),
        (
            "sliding 100/10 s, 300 ms ±50%, c=4",
            fixed(100, 10, 300, 0.5, Limiter::Sliding),
            4,
        ),
        (
            "token bucket 100/10 s, 300 ms ±50%, c=4",
            fixed(100, 10, 300, 0.5, Limiter::Bucket),
            4,
        ),
    ];
    for (name, config, concurrency) in scenarios {
        let (limit, window) = config.rate_limit.unwrap_or((1, Duration::from_secs(1)));
        let per_minute = f64::from(limit) * 60.0 / window.as_secs_f64();
        let fake = Fake::spawn(config.clone());
        let input = names_file(dir, "pace", users);
        let started = Instant::now();
        run_against(
            &fake,
            dir,
            &input,
            &["--concurrency", &concurrency.to_string()],
        );
        let ours = Measured::of(&fake, users, started.elapsed().as_secs_f64());
        let reference_fake = Fake::spawn(config);
        let (elapsed, _) = reference_client(&reference_fake, users, concurrency, "ref");
        let theirs = Measured::of(&reference_fake, users, elapsed);
        println!(
            "{name:<40} {} | {}   genimport/reference users/min {:.3}x",
            ours.cells(per_minute),
            theirs.cells(per_minute),
            ours.users_per_min() / theirs.users_per_min()
        );
    }

    // A pool of three tokens, the limit per token or per client.
    for per_token in [true, false] {
        let fake = Fake::spawn(FakeConfig {
            limit_per_token: per_token,
            ..fixed(100, 10, 300, 0.5, Limiter::Fixed)
        });
        let input = names_file(dir, "pool", users);
        let started = Instant::now();
        run_against(
            &fake,
            dir,
            &input,
            &["--tokens", "3", "--concurrency", "12"],
        );
        let ours = Measured::of(&fake, users, started.elapsed().as_secs_f64());
        let name = if per_token {
            "--tokens 3, per-token 100/10 s, c=12"
        } else {
            "--tokens 3, per-client 100/10 s, c=12"
        };
        println!(
            "{name:<40} {}   = {:.2}x one token's limit; tokens used {}",
            ours.cells(600.0),
            ours.share(600.0) / 100.0,
            fake.state().api_tokens.len()
        );
    }

    // Faults: genimport only (the reference loop resends blindly).
    let fake = Fake::spawn(FakeConfig {
        fault_mix: Some((0.05, 0.02)),
        ..fixed(100, 10, 300, 0.5, Limiter::Fixed)
    });
    let input = names_file(dir, "fault", users);
    let started = Instant::now();
    let summary = run_against(&fake, dir, &input, &["--concurrency", "4"]);
    let ours = Measured::of(&fake, users, started.elapsed().as_secs_f64());
    let wrong = misreported(dir, &fake);
    let state = fake.state();
    println!(
        "{:<40} {}   created {}, on the server {}, duplicates {}, misreported {wrong}, searches {}",
        "faults 5% 503 + 2% drop after commit, c=4",
        ours.cells(600.0),
        summary.tally.count(Status::Created),
        state.users.len(),
        state.duplicates().len(),
        state.counters.search_requests
    );
}

fn provision_file(dir: &tempfile::TempDir, users: usize) -> String {
    let input = dir.path().join(format!("provision-{users}.csv"));
    let mut csv = String::from("email,name,manager,roles,skills,languages,queues,groups,location,employee_id,employee_type,hire_date,invite\n");
    let queues = ["Support Tier 1", "Billing", "Sales", "Tech", "VIP"];
    let groups = ["Night Shift", "Day Shift", "Weekend"];
    for i in 0..users {
        csv.push_str(&format!(
            "agent{i}@example.com,Agent {i},boss@example.com,Agent; Quality Evaluator@Sales,Sales:4; Billing:2.5; Tech:1,English:5,{},{},Lisbon Office,E-{i},Full-time,2026-12-01,yes\n",
            queues[i % 5],
            groups[i % 3]
        ));
    }
    std::fs::write(&input, csv).expect("write input");
    input.to_string_lossy().into_owned()
}

fn provision(dir: &tempfile::TempDir, users: usize, timed_users: usize) {
    println!("\nprovision: {users} new users, a typical row each (manager, 2 roles, 3 skills, 1 language, 1 of 5 queues, 1 of 3 groups, location, employer info, invite)");
    let fake = Fake::spawn(FakeConfig::default());
    fake.state().add_user("boss@example.com", "Boss", "active");
    let input = provision_file(dir, users);
    let summary = run_against(&fake, dir, &input, &["--concurrency", "4"]);
    assert_eq!(
        summary.tally.count(Status::Created) as usize,
        users,
        "every row created"
    );
    let c = fake.state().counters.clone();
    let steps = [
        (
            "preflight (divisions, catalogs, searches)",
            c.search_requests + c.catalog_requests + 2,
        ),
        ("create (POST /users)", c.create_requests),
        (
            "profile PATCH (manager, location, employer)",
            c.patch_requests,
        ),
        ("skills (bulk PATCH)", c.skill_requests),
        ("languages (bulk PATCH)", c.language_requests),
        (
            "roles (one per role, division, 100 users)",
            c.grant_requests,
        ),
        (
            "queue members (per queue, 100 users)",
            c.queue_member_requests,
        ),
        (
            "group versions + members (per group, 50 users)",
            c.group_reads + c.group_member_requests,
        ),
        ("invitations", c.invite_requests),
    ];
    for (step, count) in steps {
        println!(
            "  {step:<48} {count:>6}  {:>6.3} per user",
            count as f64 / users as f64
        );
    }
    println!(
        "  {:<48} {:>6}  {:>6.3} per user (token excluded)",
        "total",
        c.api_requests,
        c.api_requests as f64 / users as f64
    );

    // Timed: a 300/min limit (as a fixed window of 50 per 10 s), latency 150 ms.
    let fake = Fake::spawn(FakeConfig {
        rate_limit: Some((50, Duration::from_secs(10))),
        latency: Duration::from_millis(150),
        latency_jitter: 0.5,
        ..FakeConfig::default()
    });
    fake.state().add_user("boss@example.com", "Boss", "active");
    let input = provision_file(dir, timed_users);
    let started = Instant::now();
    let summary = run_against(&fake, dir, &input, &["--concurrency", "4"]);
    let elapsed = started.elapsed().as_secs_f64();
    assert_eq!(summary.tally.count(Status::Created) as usize, timed_users);
    let requests = fake.state().counters.api_requests;
    println!(
        "  timed: {timed_users} users fully provisioned in {elapsed:.1} s = {:.1} users/min at 300 requests/min ({requests} requests, {} 429s, {:.1}% of the limit used)",
        timed_users as f64 * 60.0 / elapsed,
        fake.state().counters.throttled,
        requests as f64 * 60.0 / elapsed / 300.0 * 100.0
    );
}

/// Runs genimport against `fake` with `extra` flags; returns the summary.
fn run_against(
    fake: &Fake,
    dir: &tempfile::TempDir,
    input: &str,
    extra: &[&str],
) -> genimport::Summary {
    let (id, secret) = {
        let st = fake.state();
        (st.config.client_id.clone(), st.config.client_secret.clone())
    };
    std::env::set_var("GENESYS_CLIENT_SECRET", secret);
    let output = dir.path().join("update.results.csv");
    let (output_s, url) = (output.to_string_lossy().into_owned(), fake.url());
    let mut argv = vec![
        input,
        "-q",
        "-o",
        &output_s,
        "--api-url",
        &url,
        "--client-id",
        &id,
    ];
    argv.extend_from_slice(extra);
    import(config(&argv)).0
}

fn users_file(
    dir: &tempfile::TempDir,
    name: &str,
    users: usize,
    prefix: &str,
    title: &str,
) -> String {
    let input = dir.path().join(name);
    let mut csv = String::from("email,name,title,phone\n");
    for i in 0..users {
        csv.push_str(&format!(
            "{prefix}{i}@example.com,Bench User {i},{title},+1317555{:04}\n",
            i % 10_000
        ));
    }
    std::fs::write(&input, csv).expect("write input");
    input.to_string_lossy().into_owned()
}

fn update(dir: &tempfile::TempDir, users: usize) {
    println!("\nupdate: request counts for {users} rows (token request excluded), concurrency 4");
    println!(
        "{:<44} {:>8} {:>8} {:>9} {:>12}",
        "case", "rows", "writes", "requests", "req per row"
    );
    let fake = Fake::spawn(FakeConfig::default());
    let same = users_file(dir, "update-same.csv", users, "upd", "Agent");
    let changed = users_file(dir, "update-changed.csv", users, "upd", "Senior Agent");
    let counts = |fake: &Fake| {
        let c = &fake.state().counters;
        (
            c.create_requests + c.patch_requests + c.division_moves,
            c.api_requests,
        )
    };
    let report = |case: &str, fake: &Fake, before: (u64, u64)| {
        let after = counts(fake);
        let (writes, requests) = (after.0 - before.0, after.1 - before.1);
        println!(
            "{case:<44} {users:>8} {writes:>8} {requests:>9} {:>12.3}",
            requests as f64 / users as f64
        );
    };
    // The users exist first (created by genimport itself).
    let summary = run_against(&fake, dir, &same, &["--concurrency", "4"]);
    assert_eq!(summary.tally.count(Status::Created) as usize, users);
    let before = counts(&fake);
    let summary = run_against(&fake, dir, &same, &["--update", "--concurrency", "4"]);
    assert_eq!(summary.tally.count(Status::Unchanged) as usize, users);
    report("--update, file unchanged", &fake, before);
    let before = counts(&fake);
    let summary = run_against(&fake, dir, &changed, &["--update", "--concurrency", "4"]);
    assert_eq!(summary.tally.count(Status::Updated) as usize, users);
    report("--update, one field changed on each row", &fake, before);

    let fresh = Fake::spawn(FakeConfig::default());
    let new_a = users_file(dir, "update-new-a.csv", users, "new", "Agent");
    let before = counts(&fresh);
    run_against(&fresh, dir, &new_a, &["--concurrency", "4"]);
    report("only new users, without --update", &fresh, before);
    let other = Fake::spawn(FakeConfig::default());
    let before = counts(&other);
    let summary = run_against(&other, dir, &new_a, &["--update", "--concurrency", "4"]);
    assert_eq!(summary.tally.count(Status::Created) as usize, users);
    report("only new users, with --update", &other, before);
}

/// Runs one import as `main` does; returns its summary and wall time in seconds.
fn import(config: Config) -> (genimport::Summary, f64) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let started = Instant::now();
    let summary = runtime
        .block_on(genimport::run(
            config,
            Stop::default(),
            Arc::new(Progress::new(false, false)),
        ))
        .expect("import");
    (summary, started.elapsed().as_secs_f64())
}

fn config(args: &[&str]) -> Config {
    let mut argv = vec!["genimport"];
    argv.extend_from_slice(args);
    let cli = <Cli as clap::Parser>::try_parse_from(argv).expect("arguments");
    match Command::from_cli(cli) {
        Ok(Command::Import(config)) => *config,
        _ => panic!("not an import"),
    }
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn offline(dir: &tempfile::TempDir, rows: usize) {
    let input = dir.path().join(format!("offline-{rows}.csv"));
    {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&input).expect("create"));
        writeln!(file, "email,name,department,title,phone,state").expect("write");
        for i in 0..rows {
            writeln!(
                file,
                "user.{i}+tag@example{}.com,Zoë Lefèvre {i},Support,Agent,+1317555{:04},active",
                i % 97,
                i % 10_000
            )
            .expect("write");
        }
    }
    let size_mib = std::fs::metadata(&input).map_or(0.0, |m| m.len() as f64 / 1_048_576.0);
    let output = dir.path().join("offline.results.csv");
    let (input_s, output_s) = (
        input.to_string_lossy().into_owned(),
        output.to_string_lossy().into_owned(),
    );
    let config = config(&[&input_s, "--dry-run", "-q", "-o", &output_s]);
    let (summary, elapsed) = import(config);
    assert_eq!(summary.tally.count(Status::WouldCreate) as usize, rows);
    println!(
        "offline: {rows:>9} rows ({size_mib:.0} MiB) validated in {elapsed:.2} s = {:.0} rows/s; peak memory so far {:.0} MiB",
        rows as f64 / elapsed,
        peak_rss_mib()
    );
}

/// Writes a one-sheet .xlsx of `rows` users (inline strings, a date column).
fn write_workbook(path: &std::path::Path, rows: usize) {
    use zip::write::SimpleFileOptions;
    let file = std::fs::File::create(path).expect("create workbook");
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    let options = SimpleFileOptions::default();
    let parts: [(&str, String); 5] = [
        ("[Content_Types].xml", r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>"#.into()),
        ("_rels/.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.into()),
        ("xl/workbook.xml", r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Users" sheetId="1" r:id="rId1"/></sheets></workbook>"#.into()),
        ("xl/_rels/workbook.xml.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#.into()),
        ("xl/styles.xml", r#"<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/></cellXfs></styleSheet>"#.into()),
    ];
    for (name, text) in parts {
        zip.start_file(name, options).expect("zip entry");
        zip.write_all(text.as_bytes()).expect("zip write");
    }
    zip.start_file("xl/worksheets/sheet1.xml", options)
        .expect("zip entry");
    let inline = |r: &str, t: &str| format!(r#"<c r="{r}" t="inlineStr"><is><t>{t}</t></is></c>"#);
    let mut put = |text: &str| zip.write_all(text.as_bytes()).expect("zip write");
    put(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
    );
    put(&format!(
        r#"<row r="1">{}{}{}{}</row>"#,
        inline("A1", "email"),
        inline("B1", "name"),
        inline("C1", "title"),
        inline("D1", "hire_date")
    ));
    for i in 0..rows {
        let r = i + 2;
        put(&format!(
            r#"<row r="{r}">{}{}{}<c r="D{r}" s="1"><v>{}</v></c></row>"#,
            inline(&format!("A{r}"), &format!("user.{i}@example.com")),
            inline(&format!("B{r}"), &format!("User {i}")),
            inline(&format!("C{r}"), "Agent"),
            46000 + i % 300
        ));
    }
    put("</sheetData></worksheet>");
    zip.finish().expect("zip finish");
}

fn workbook(dir: &tempfile::TempDir, rows: usize) {
    let input = dir.path().join(format!("offline-{rows}.xlsx"));
    write_workbook(&input, rows);
    let size_mib = std::fs::metadata(&input).map_or(0.0, |m| m.len() as f64 / 1_048_576.0);
    let output = dir.path().join("workbook.results.csv");
    let (input_s, output_s) = (
        input.to_string_lossy().into_owned(),
        output.to_string_lossy().into_owned(),
    );
    let before = peak_rss_mib();
    let (summary, elapsed) = import(config(&[&input_s, "--dry-run", "-q", "-o", &output_s]));
    assert_eq!(summary.tally.count(Status::WouldCreate) as usize, rows);
    println!(
        "offline: {rows:>9} rows (.xlsx, {size_mib:.1} MiB) validated in {elapsed:.2} s = {:.0} rows/s; peak memory {:.0} MiB (was {before:.0} MiB before)",
        rows as f64 / elapsed,
        peak_rss_mib()
    );
}

fn online(args: &Args, dir: &tempfile::TempDir) {
    let limit_per_minute = f64::from(args.limit) * 60.0 / args.window as f64;
    let latency_allows = 60_000.0 / args.latency_ms as f64;
    println!(
        "\nonline: fake limit {} per {} s ({limit_per_minute:.0}/min), latency {} ms ± {:.0}%",
        args.limit,
        args.window,
        args.latency_ms,
        args.jitter * 100.0
    );
    println!(
        "{:>5} {:>6} {:>9} {:>9} {:>9} {:>11} {:>12} {:>6} {:>7} {:>12}",
        "conc",
        "users",
        "elapsed",
        "users/min",
        "of limit",
        "latency cap",
        "req/lat.cap",
        "429s",
        "429 %",
        "req per user"
    );
    for &concurrency in &args.concurrency {
        // Enough users per level that the run lasts several windows.
        let users = args.users.min(250 * usize::from(concurrency));
        let input = names_file(dir, "bench", users);
        let fake = Fake::spawn(FakeConfig {
            rate_limit: Some((args.limit, Duration::from_secs(args.window))),
            latency: Duration::from_millis(args.latency_ms),
            latency_jitter: args.jitter,
            ..FakeConfig::default()
        });
        let started = Instant::now();
        let summary = run_against(
            &fake,
            dir,
            &input,
            &["--concurrency", &concurrency.to_string()],
        );
        let elapsed = started.elapsed().as_secs_f64();
        let state = fake.state();
        let created = summary.tally.count(Status::Created) as f64;
        assert_eq!(state.users.len(), users, "every user created once");
        assert!(state.duplicates().is_empty());
        let per_minute = created * 60.0 / elapsed;
        let requests = state.counters.api_requests as f64;
        let latency_cap = latency_allows * f64::from(concurrency);
        println!(
            "{:>5} {:>6} {:>8.1}s {:>9.0} {:>8.1}% {:>11.0} {:>11.1}% {:>6} {:>6.2}% {:>12.3}",
            concurrency,
            users,
            elapsed,
            per_minute,
            per_minute / limit_per_minute * 100.0,
            latency_cap,
            requests * 60.0 / elapsed / latency_cap * 100.0,
            state.counters.throttled,
            state.counters.throttled as f64 / requests * 100.0,
            requests / created
        );
    }
    println!("\n'of limit': users/min over the fake's limit/min. 'latency cap': concurrency x 60 s / mean latency,");
    println!("the requests per minute the latency alone allows; 'req/lat.cap': requests/min made over that cap.");
    println!(
        "Requests include the preflight (token excluded; divisions, one search per 100 emails)."
    );
}

/// A client-credentials token from the fake, as an `Authorization` value
/// (the reference clients' own, outside genimport's pacing).
async fn bearer_token(http: &reqwest::Client, url: &str, id: &str, secret: &str) -> String {
    let token: serde_json::Value = http
        .post(format!("{url}/oauth/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token json");
    format!("Bearer {}", token["access_token"].as_str().unwrap_or(""))
}
