//! Bench part `bigorg`: orgs of 25,000 and 100,000 users. Runs the real
//! `genimport` binary (target/release/genimport: build it first) as a
//! child under `/usr/bin/time`, so its peak memory is its own, not the
//! fake's. Counts come from the fake without limit or latency; times from
//! a fake limiting each token to 300 requests per minute.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::fake::{Fake, FakeConfig};

/// What one run of the binary came to.
struct Ran {
    code: i32,
    seconds: f64,
    peak_mib: f64,
    requests: u64,
    writes: u64,
}

fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("genimport"))
        .expect("target dir");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build --release` first",
        bin.display()
    );
    bin
}

/// Runs `genimport ARGS` against the fake; the fake's request and write
/// counts are those of this run only (the token requests excluded).
fn genimport(fake: &Fake, dir: &Path, args: &[&str]) -> Ran {
    let (id, secret, before) = {
        let st = fake.state();
        (
            st.config.client_id.clone(),
            st.config.client_secret.clone(),
            (st.counters.api_requests, st.writes()),
        )
    };
    let timing = dir.join("time.txt");
    let started = Instant::now();
    let status = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&timing)
        .arg(binary())
        .args(args)
        .args(["-q", "--no-progress", "--api-url", &fake.url()])
        .args(["--client-id", &id])
        .env("GENESYS_CLIENT_SECRET", secret)
        .current_dir(dir)
        .status()
        .expect("run genimport under /usr/bin/time");
    let seconds = started.elapsed().as_secs_f64();
    let peak_kib: f64 = std::fs::read_to_string(&timing)
        .ok()
        .and_then(|t| t.lines().last().and_then(|l| l.trim().parse().ok()))
        .unwrap_or(f64::NAN);
    let st = fake.state();
    Ran {
        code: status.code().unwrap_or(-1),
        seconds,
        peak_mib: peak_kib / 1024.0,
        requests: st.counters.api_requests - before.0,
        writes: st.writes() - before.1,
    }
}

/// An org of `users` users, `inactive` of them inactive, each holding
/// Employee and Agent when `roles`.
fn org(config: FakeConfig, users: usize, inactive: usize, roles: bool) -> Fake {
    let fake = Fake::spawn(config);
    {
        let mut st = fake.state();
        st.seed_users(users, inactive, "u");
        if roles {
            st.seed_roles_to_all(&["Employee", "Agent"]);
        }
    }
    fake
}

fn lookup_requests(fake: &Fake) -> u64 {
    let st = fake.state();
    let pages: u64 = st.big.pages_by_state.values().sum();
    pages + st.counters.search_requests
}

pub fn run(dir: &Path, big_users: usize) {
    counts(dir);
    if big_users > 0 {
        timed(dir, big_users);
    }
}

/// The 25,000-user budgets: counts, on a fake without limit or latency.
fn counts(dir: &Path) {
    println!("\nbigorg: 25,000 users (12,000 inactive, Employee and Agent each), counts (no limit or latency; token excluded)");
    println!(
        "{:<52} {:>9} {:>8} {:>9} {:>8}  budget",
        "case", "requests", "per row", "lookup", "writes"
    );
    let fake = org(FakeConfig::default(), 25_000, 12_000, true);
    let export = genimport(&fake, dir, &["export", "users", "-o", "org.csv"]);
    assert_eq!(export.code, 0, "export failed");
    let rows = std::fs::read_to_string(dir.join("org.csv"))
        .expect("export")
        .lines()
        .count()
        - 1;
    assert_eq!(rows, 25_000, "every user exported");
    let line = |case: &str, ran: &Ran, lookup: u64, rows: usize, budget: &str| {
        println!(
            "{case:<52} {:>9} {:>8.4} {lookup:>9} {:>8}  {budget}",
            ran.requests,
            ran.requests as f64 / rows as f64,
            ran.writes
        );
    };
    line("export users", &export, 0, rows, "<= 0.1 per user");
    let before = lookup_requests(&fake);
    let update = genimport(&fake, dir, &["org.csv", "--update", "-o", "r.csv"]);
    assert_eq!(update.code, 0, "update failed");
    let lookup = lookup_requests(&fake) - before;
    line(
        "export re-applied, --update (25,000 rows)",
        &update,
        lookup,
        rows,
        "lookup <= 80, <= 0.1 per row, 0 writes",
    );
    let exported = std::fs::read_to_string(dir.join("org.csv")).expect("export");
    let first: Vec<&str> = exported.lines().take(301).collect();
    // The same 300 rows without their roles (email, name, title), then whole.
    let plain: Vec<String> = first
        .iter()
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            format!("{},{},{}", cells[0], cells[1], cells[4])
        })
        .collect();
    for (case, lines, budget) in [
        (
            "300 rows of it (email, name, title), --update",
            plain,
            "<= 26 requests in all",
        ),
        (
            "300 rows of it, every column (roles too), --update",
            first.iter().map(|l| l.to_string()).collect(),
            "roles: 1 read a row",
        ),
    ] {
        std::fs::write(dir.join("small.csv"), lines.join("\n") + "\n").expect("write");
        let before = lookup_requests(&fake);
        let small = genimport(&fake, dir, &["small.csv", "--update", "-o", "r.csv"]);
        assert_eq!(small.code, 0, "small update failed");
        let lookup = lookup_requests(&fake) - before;
        line(case, &small, lookup, 300, budget);
    }
}

/// Wall times and peak memory for `users` users at 300 requests/min per token.
fn timed(dir: &Path, users: usize) {
    println!("\nbigorg: {users} users (profile fields only), 300 requests/min per token (fixed windows of 50 per 10 s), 150 ms ± 50% latency, --concurrency 6");
    println!(
        "{:<44} {:>7} {:>9} {:>9} {:>10}",
        "case", "tokens", "requests", "seconds", "peak MiB"
    );
    let limited = FakeConfig {
        // 300 a minute as 50 per 10 s, so the limit binds within a run of
        // ~220 requests (a 60 s window would let them all through at once).
        rate_limit: Some((50, Duration::from_secs(10))),
        limit_per_token: true,
        latency: Duration::from_millis(150),
        latency_jitter: 0.5,
        ..FakeConfig::default()
    };
    for tokens in ["1", "3"] {
        let fake = org(limited.clone(), users, users / 20, false);
        let common = ["--concurrency", "6", "--tokens", tokens];
        let export = genimport(
            &fake,
            dir,
            &[&["export", "users", "-o", "big.csv"][..], &common].concat(),
        );
        assert_eq!(export.code, 0, "export failed");
        let report = |case: &str, ran: &Ran| {
            println!(
                "{case:<44} {tokens:>7} {:>9} {:>9.1} {:>10.0}",
                ran.requests, ran.seconds, ran.peak_mib
            );
        };
        report("export users", &export);
        // The fake's windows are per token: a fresh fake for the next run.
        let fake = org(limited.clone(), users, users / 20, false);
        let args = [
            &["big.csv", "--update", "--dry-run", "-o", "r.csv"][..],
            &common,
        ]
        .concat();
        let preflight = genimport(&fake, dir, &args);
        assert_eq!(preflight.code, 0, "preflight failed");
        report(
            "--update preflight (--dry-run), export re-applied",
            &preflight,
        );
    }
    let fake = org(FakeConfig::default(), users, users / 20, false);
    let update = genimport(
        &fake,
        dir,
        &["big.csv", "--update", "-o", "r.csv", "--concurrency", "6"],
    );
    assert_eq!(update.code, 0, "update failed");
    println!(
        "{:<44} {:>7} {:>9} {:>9.1} {:>10.0}  (no limit; {} writes)",
        "--update, export re-applied (memory)",
        1,
        update.requests,
        update.seconds,
        update.peak_mib,
        update.writes
    );
}
