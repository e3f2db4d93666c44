//! Part `spent` of the benchmark (also run by `pacing`): another client
//! spends most of the org's fixed window in the second before the run, so
//! the run's first 429 comes after the few requests left. genimport against
//! the reference SDK-like loop on identical fakes, each measured against the
//! fastest the limit allows from where it starts.

use std::time::{Duration, Instant};

use super::fake::{Fake, FakeConfig, Limiter};
use super::{bearer_token, names_file, reference_client, run_against};

/// Another client's `count` requests on the org's limit, all at once; returns
/// when the first was answered (the fake counts a request as it answers, so
/// that is when the window began) after waiting until `ago` after it.
fn spend(fake: &Fake, count: usize, ago: Duration) -> Instant {
    let runtime = tokio::runtime::Builder::new_current_thread()
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
    // reqwest is built without a crypto provider (see the client).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let began = runtime.block_on(async move {
        let http = reqwest::Client::new();
        let bearer = bearer_token(&http, &url, &id, &secret).await;
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..count {
            let (http, bearer, url) = (http.clone(), bearer.clone(), url.clone());
            set.spawn(async move {
                let _ = http
                    .get(format!("{url}/api/v2/authorization/divisions"))
                    .header("authorization", &bearer)
                    .send()
                    .await;
                Instant::now()
            });
        }
        let mut first: Option<Instant> = None;
        while let Some(answered) = set.join_next().await {
            if let Ok(at) = answered {
                first = Some(first.map_or(at, |f| f.min(at)));
            }
        }
        first.unwrap_or_else(Instant::now)
    });
    std::thread::sleep((began + ago).saturating_duration_since(Instant::now()));
    began
}

/// Requests the server accepted and refused so far.
fn counted(fake: &Fake) -> (u64, u64) {
    let c = &fake.state().counters;
    (c.api_requests - c.throttled - c.unauthorized, c.throttled)
}

/// The least time `requests` take on a fixed window of `limit` per `window`
/// that began at `began` with `left` requests left in it, from `start`, for
/// `workers` clients at `latency` each (as `sim::fastest` reckons): the
/// windows' requests go as each opens, the last window's as fast as the
/// workers send them.
fn fastest(
    (limit, window): (u64, Duration),
    (began, left): (Instant, u64),
    start: Instant,
    requests: u64,
    (workers, latency): (u64, Duration),
) -> f64 {
    let sending = |n: u64| n as f64 * latency.as_secs_f64() / workers as f64;
    if requests <= left {
        return sending(requests);
    }
    let reset = (began + window)
        .saturating_duration_since(start)
        .as_secs_f64();
    let windows = (requests - left).div_ceil(limit);
    let last = requests - left - (windows - 1) * limit;
    reset + (windows - 1) as f64 * window.as_secs_f64() + sending(last)
}

/// One client's run after the spend: users/min, of the fastest, 429s.
fn row(fake: &Fake, began: Instant, start: Instant, users: usize, spent: u64) -> String {
    let elapsed = start.elapsed().as_secs_f64();
    let (limit, window) = fake
        .state()
        .config
        .rate_limit
        .unwrap_or((1, Duration::from_secs(1)));
    let (accepted, throttled) = counted(fake);
    let ours = accepted - spent;
    let latency = fake.state().config.latency;
    let ideal = fastest(
        (u64::from(limit), window),
        (began, u64::from(limit) - spent),
        start,
        ours,
        (4, latency),
    );
    format!(
        "{:>9.1} {:>9.1}% {:>5} ",
        users as f64 * 60.0 / elapsed,
        ideal / elapsed * 100.0,
        throttled
    )
}

pub fn spent(dir: &tempfile::TempDir, users: usize) {
    println!("\nwindow partly spent by another client 1 s before the run: {users} new users. 'of fastest' = the fastest the limit allows from where the run starts (the requests left in the window now, the whole limit from each reset, the last window's as fast as 4 workers at the mean latency send them) over the time taken.");
    println!(
        "{:<44} {:>9} {:>10} {:>5} | {:>9} {:>10} {:>5}",
        "scenario", "users/min", "of fastest", "429s", "users/min", "of fastest", "429s"
    );
    println!("{:<44} {:^26} | {:^26}", "", "genimport", "reference");
    let fixed = |limit: u32, window: u64| FakeConfig {
        rate_limit: Some((limit, Duration::from_secs(window))),
        limiter: Limiter::Fixed,
        latency: Duration::from_millis(300),
        latency_jitter: 0.5,
        ..FakeConfig::default()
    };
    let scenarios = [
        (
            "fixed 100/10 s, 60 spent, 300 ms ±50%, c=4",
            fixed(100, 10),
            60,
        ),
        (
            "fixed 300/60 s, 240 spent, 300 ms ±50%, c=4",
            fixed(300, 60),
            240,
        ),
    ];
    for (name, config, spent) in scenarios {
        let fake = Fake::spawn(config.clone());
        let began = spend(&fake, spent, Duration::from_secs(1));
        let input = names_file(dir, "spent", users);
        let start = Instant::now();
        run_against(&fake, dir, &input, &["--concurrency", "4"]);
        let ours = row(&fake, began, start, users, spent as u64);
        let reference_fake = Fake::spawn(config);
        let began = spend(&reference_fake, spent, Duration::from_secs(1));
        let start = Instant::now();
        reference_client(&reference_fake, users, 4, "ref");
        let theirs = row(&reference_fake, began, start, users, spent as u64);
        println!("{name:<44} {ours}| {theirs}");
    }
}
