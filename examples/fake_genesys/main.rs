//! Runs the fake Genesys Cloud server on loopback so you can try a full
//! import without an org:
//!
//!   cargo run --example fake_genesys -- --port 8089 --limit 300 --window 60
//!
//! then, in another terminal, the environment it prints and `genimport`.

mod fake;

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use fake::{Fake, FakeConfig};

/// A stateful fake of the Genesys Cloud endpoints genimport uses.
#[derive(Parser)]
struct Args {
    /// Port on 127.0.0.1
    #[arg(long, default_value_t = 8089)]
    port: u16,
    /// Requests allowed per window (0 = no limit)
    #[arg(long, default_value_t = 300)]
    limit: u32,
    /// Rate-limit window in seconds
    #[arg(long, default_value_t = 60)]
    window: u64,
    /// Latency per request in milliseconds
    #[arg(long, default_value_t = 150)]
    latency_ms: u64,
    /// Latency varies by this fraction either way
    #[arg(long, default_value_t = 0.5)]
    jitter: f64,
    /// Probability of a fault on a create (5xx, dropped connection before or after storing)
    #[arg(long, default_value_t = 0.0)]
    fault_rate: f64,
    /// How the limit counts: fixed (Genesys), sliding, bucket
    #[arg(long, default_value = "fixed", value_parser = ["fixed", "sliding", "bucket"])]
    limiter: String,
    /// Apply the limit to each access token rather than to the client
    #[arg(long)]
    per_token: bool,
    /// Token lifetime in seconds
    #[arg(long, default_value_t = 86_400)]
    token_lifetime: u64,
    /// Search shows new users only after this many milliseconds
    #[arg(long, default_value_t = 0)]
    search_lag_ms: u64,
    /// Pre-existing users (emails), to see `exists` in the results
    #[arg(long, value_delimiter = ',')]
    existing: Vec<String>,
    /// The client's access: every permission everywhere (all), everything
    /// in Home but only reading users in Sales (home-only), or roles it
    /// cannot read (unreadable)
    #[arg(long, default_value = "all", value_parser = ["all", "home-only", "unreadable"])]
    access: String,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let config = FakeConfig {
        rate_limit: (args.limit > 0).then(|| (args.limit, Duration::from_secs(args.window))),
        latency: Duration::from_millis(args.latency_ms),
        latency_jitter: args.jitter,
        fault_rate: args.fault_rate,
        limiter: match args.limiter.as_str() {
            "sliding" => fake::Limiter::Sliding,
            "bucket" => fake::Limiter::Bucket,
            _ => fake::Limiter::Fixed,
        },
        limit_per_token: args.per_token,
        token_lifetime_s: args.token_lifetime,
        search_lag: Duration::from_millis(args.search_lag_ms),
        ..FakeConfig::default()
    };
    let (id, secret) = (config.client_id.clone(), config.client_secret.clone());
    let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
    let fake = match Fake::start_on(addr, config).await {
        Ok(fake) => fake,
        Err(e) => {
            eprintln!("cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    };
    fake.state().access = match args.access.as_str() {
        "home-only" => fake::access::AccessModel::with_roles(&[
            ("Admin Home", &["*:*:*"], &[fake::HOME_DIVISION]),
            (
                "Viewer Sales",
                &["directory:user:view"],
                &[fake::SALES_DIVISION],
            ),
        ]),
        "unreadable" => fake::access::AccessModel {
            token_lists_roles: false,
            permitted_route: false,
            ..fake::access::AccessModel::with_roles(&[(
                "Directory",
                &["directory:*:*", "routing:*:*", "authorization:grant:*"],
                &["*"],
            )])
        },
        _ => fake::access::AccessModel::default(),
    };
    for email in &args.existing {
        fake.state().add_user(email, "Existing User", "active");
    }
    println!("fake Genesys Cloud listening on {}", fake.url());
    println!(
        "divisions: Home (home) {}, Sales {}",
        fake::HOME_DIVISION,
        fake::SALES_DIVISION
    );
    println!(
        "try:\n  export GENESYS_API_URL={} GENESYS_CLIENT_ID={id} GENESYS_CLIENT_SECRET={secret}",
        fake.url()
    );
    println!("  cargo run --release -- examples/users.csv");
    let _ = tokio::signal::ctrl_c().await;
    let state = fake.state();
    println!(
        "\nusers: {}  creates: {}  searches: {}  429s: {}  duplicates: {}",
        state.users.len(),
        state.counters.create_requests,
        state.counters.search_requests,
        state.counters.throttled,
        state.duplicates().len()
    );
}
