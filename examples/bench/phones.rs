//! The benchmark's phones part (`--parts phones`): 200 new users each with
//! a WebRTC phone, against the fake with a 1 s station lag, a 300/min limit
//! and 150 ms latency; requests per phone beyond the user's own steps, the
//! preflight's, the wall time; the same file again (no writes); then the
//! same users as leavers (`inactive`, `-`).

use std::time::{Duration, Instant};

use super::fake::{Fake, FakeConfig};
use super::run_against;
use genimport::Status;

fn phones_file(dir: &tempfile::TempDir, name: &str, users: usize, leavers: bool) -> String {
    let input = dir.path().join(name);
    let mut csv = String::from(if leavers {
        "email,state,webrtc_phone\n"
    } else {
        "email,name,webrtc_phone\n"
    });
    for i in 0..users {
        if leavers {
            csv.push_str(&format!("agent{i}@example.com,inactive,-\n"));
        } else {
            csv.push_str(&format!("agent{i}@example.com,Agent {i},WebRTC Agents\n"));
        }
    }
    std::fs::write(&input, csv).expect("write input");
    input.to_string_lossy().into_owned()
}

/// (preflight telephony reads, phone reads, creates, station looks, default
/// puts, deletes + default deletes, every API request, writes).
fn counts(fake: &Fake) -> [u64; 8] {
    let st = fake.state();
    let t = &st.telephony.counters;
    [
        t.org_reads + t.base_reads + t.site_reads,
        t.phone_reads,
        t.creates,
        t.station_reads,
        t.default_puts,
        t.deletes + t.default_deletes,
        st.counters.api_requests,
        st.writes(),
    ]
}

fn report(case: &str, users: usize, before: [u64; 8], after: [u64; 8], seconds: f64) {
    let d: Vec<u64> = after.iter().zip(before).map(|(a, b)| a - b).collect();
    let phone_requests = d[1] + d[2] + d[3] + d[4] + d[5];
    println!(
        "  {case:<28} preflight {:>2}  phones read {:>3}  creates {:>3}  station looks {:>3}  defaults {:>3}  deletes {:>3}  = {:.2} per user beyond the preflight; all requests {:>4}, writes {:>4}, {seconds:.1} s",
        d[0],
        d[1],
        d[2],
        d[3],
        d[4],
        d[5],
        phone_requests as f64 / users as f64,
        d[6],
        d[7],
    );
}

pub fn phones(dir: &tempfile::TempDir, users: usize) {
    println!("\nphones: {users} new users with a WebRTC phone each; the fake indexes a station 1 s after its phone, allows 300 requests/min (50 per 10 s), answers in 150 ms ± 50%; concurrency 4");
    let fake = Fake::spawn(FakeConfig {
        rate_limit: Some((50, Duration::from_secs(10))),
        latency: Duration::from_millis(150),
        latency_jitter: 0.5,
        ..FakeConfig::default()
    });
    fake.state().telephony.station_lag = Duration::from_secs(1);
    let input = phones_file(dir, "phones.csv", users, false);
    let runs: [(&str, &str, &[&str], Status); 3] = [
        (
            "new users",
            "phones.csv",
            &["--concurrency", "4"],
            Status::Created,
        ),
        (
            "the same file again",
            "phones.csv",
            &["--update", "--concurrency", "4"],
            Status::Unchanged,
        ),
        (
            "leavers (inactive, -)",
            "leavers.csv",
            &["--update", "--concurrency", "4"],
            Status::Updated,
        ),
    ];
    let leavers = phones_file(dir, "leavers.csv", users, true);
    for (case, file, flags, status) in runs {
        let input = if file == "phones.csv" {
            &input
        } else {
            &leavers
        };
        let before = counts(&fake);
        let started = Instant::now();
        let summary = run_against(&fake, dir, input, flags);
        let seconds = started.elapsed().as_secs_f64();
        assert_eq!(summary.tally.count(status) as usize, users, "{case}");
        report(case, users, before, counts(&fake), seconds);
    }
    assert!(
        fake.state().telephony.phones.is_empty(),
        "leavers' phones removed"
    );
}
