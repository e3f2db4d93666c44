//! Big orgs against the fake: the existence lookup lists the org when the
//! file names much of it and searches when it names little (and says
//! which), inactive users past Genesys' paging cap are read (or the
//! shortfall is reported with exit 1), a 400 is reported as a refusal and
//! never as "API unavailable", and pages go out concurrently without 429
//! storms. Caps are lowered with the hidden test flags (`--results-cap`,
//! `--user-page-size`) and the fake's `big.results_cap`, so the orgs stay
//! small; the 100,000-user figures are the benchmark's (`bench bigorg`).

use crate::common::*;

fn org(users: usize, inactive: usize, cap: usize) -> Fake {
    let fake = Fake::spawn(FakeConfig::default());
    {
        let mut st = fake.state();
        st.big.results_cap = cap;
        st.seed_users(users, inactive, "u");
    }
    fake
}

/// A file naming seeded users `from..to` as they are.
fn file_of(from: usize, to: usize) -> String {
    let mut csv = String::from("email,name\n");
    for n in from..to {
        csv.push_str(&format!("u{n:06}@big.example.com,User u{n:06}\n"));
    }
    csv
}

fn import(fake: &Fake, s: &Scratch, csv: &str, extra: &[&str]) -> std::process::Output {
    let input = s.write("users.csv", csv);
    run(genimport_against(s.dir.path(), fake)
        .arg(&input)
        .args(["-o", "out.csv"])
        .args(extra))
}

fn pages(fake: &Fake, state: &str) -> u64 {
    fake.state()
        .big
        .pages_by_state
        .get(state)
        .copied()
        .unwrap_or(0)
}

#[test]
fn a_file_naming_most_of_the_org_lists_it_instead_of_searching() {
    // 300 users, 150 inactive; inactive users page only to 100 here.
    let fake = org(300, 150, 100);
    let s = Scratch::new();
    let out = import(
        &fake,
        &s,
        &file_of(0, 280),
        &[
            "--update",
            "--results-cap",
            "100",
            "--user-page-size",
            "100",
        ],
    );
    let err = stderr(&out);
    assert_eq!(code(&out), 0, "{err}");
    assert!(err.contains("listing the org's users"), "{err}");
    let rows = read_results(&s.path("out.csv"));
    assert_each_line_once(&rows, 280);
    assert!(
        rows.iter().all(|r| r.status == "unchanged"),
        "{:?}",
        statuses(&rows)
    );
    let st = fake.state();
    // The count, 2 pages of active users, and the inactive ones (150 >
    // the cap of 100): a page from the start, the last 50 from the end.
    assert_eq!(st.big.pages_by_state.get("any"), Some(&1));
    assert_eq!(st.big.pages_by_state.get("active"), Some(&2));
    assert_eq!(st.big.pages_by_state.get("inactive"), Some(&2));
    assert_eq!(st.counters.search_requests, 0, "no search at all");
    assert_eq!(st.writes(), 0);
}

#[test]
fn a_file_naming_little_of_the_org_searches() {
    let fake = org(2_000, 0, 10_000);
    let s = Scratch::new();
    let out = import(&fake, &s, &file_of(0, 200), &["--update"]);
    let err = stderr(&out);
    assert_eq!(code(&out), 0, "{err}");
    assert!(err.contains("searching by key"), "{err}");
    let rows = read_results(&s.path("out.csv"));
    assert!(rows.iter().all(|r| r.status == "unchanged"));
    // 4 searches of 50 cost less than the 5 pages a listing would take.
    assert_eq!(fake.state().counters.search_requests, 4);
    assert_eq!(pages(&fake, "any"), 1, "one count");
    assert_eq!(pages(&fake, "active"), 0, "no listing");
}

#[test]
fn a_small_file_asks_for_no_count() {
    let fake = org(50, 0, 10_000);
    let s = Scratch::new();
    let out = import(&fake, &s, &file_of(0, 40), &["--update"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(fake.state().counters.search_requests, 1);
    assert_eq!(pages(&fake, "any"), 0);
}

#[test]
fn a_listing_still_finds_the_deleted_users_a_restore_needs() {
    let fake = org(300, 0, 10_000);
    let deleted = {
        let mut st = fake.state();
        st.users[5].state = "deleted".into();
        st.users[5].id.clone()
    };
    let s = Scratch::new();
    let out = import(
        &fake,
        &s,
        &file_of(0, 280),
        &["--update", "--restore-deleted"],
    );
    let err = stderr(&out);
    assert_eq!(code(&out), 0, "{err}");
    assert!(err.contains("listing the org's users"), "{err}");
    let rows = read_results(&s.path("out.csv"));
    let restored = rows.iter().find(|r| r.line == 7).unwrap();
    assert_eq!(restored.user_id, deleted);
    assert_eq!(restored.status, "updated", "{restored:?}");
    let st = fake.state();
    assert_eq!(st.user_by_id(&deleted).unwrap().state, "active");
    assert_eq!(st.counters.create_requests, 0, "no create tried");
    // The one key the listing missed, searched after it.
    assert_eq!(st.counters.search_requests, 1);
}

#[test]
fn export_reads_inactive_users_past_the_cap_from_both_ends() {
    // 1,200 users, 700 inactive; Genesys pages 500 of them.
    let fake = org(1_200, 700, 500);
    let s = Scratch::new();
    let out = run(genimport_against(s.dir.path(), &fake).args([
        "export",
        "users",
        "-o",
        "org.csv",
        "--results-cap",
        "500",
        "--user-page-size",
        "100",
    ]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = std::fs::read_to_string(s.path("org.csv")).unwrap();
    assert_eq!(text.lines().count(), 1 + 1_200, "every user, once");
    assert_eq!(text.matches(",inactive,").count(), 700);
    let st = fake.state();
    // 5 pages from the start, 2 from the end; no search.
    assert_eq!(st.big.pages_by_state.get("inactive"), Some(&7));
    assert_eq!(st.counters.search_requests, 0);
}

#[test]
fn export_reads_inactive_users_past_twice_the_cap_by_division() {
    // 1,200 users, 1,100 inactive over four divisions; Genesys pages 500.
    let fake = Fake::spawn(FakeConfig::default());
    {
        let mut st = fake.state();
        st.big.results_cap = 500;
        for n in 3..5 {
            st.divisions.push((
                format!("d{n}000000-0000-4000-8000-000000000000"),
                format!("Region {n}"),
            ));
        }
        st.seed_users(1_200, 1_100, "u");
    }
    let s = Scratch::new();
    let out = run(genimport_against(s.dir.path(), &fake).args([
        "export",
        "users",
        "-o",
        "org.csv",
        "--results-cap",
        "500",
        "--user-page-size",
        "100",
    ]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = std::fs::read_to_string(s.path("org.csv")).unwrap();
    assert_eq!(text.lines().count(), 1 + 1_200, "every user, once");
    assert_eq!(text.matches(",inactive,").count(), 1_100);
    let st = fake.state();
    // Inactive: page 1 shows 1,100 > 2 x 500; the four divisions (1,100),
    // two halves (550 each), then each division (275: 3 pages of 100).
    assert_eq!(st.big.pages_by_state.get("inactive"), Some(&1));
    assert_eq!(st.big.division_searches, 1 + 2 + 4 * 3);
}

#[test]
fn export_says_how_many_users_it_could_not_read_and_exits_1() {
    // 350 inactive users in each division, above a cap of 300.
    let fake = org(1_000, 700, 300);
    let s = Scratch::new();
    let out = run(genimport_against(s.dir.path(), &fake).args([
        "export",
        "users",
        "-o",
        "org.csv",
        "--results-cap",
        "300",
    ]));
    let err = stderr(&out);
    assert_eq!(code(&out), 1, "{err}");
    assert!(err.contains("100 users could not be read"), "{err}");
    let text = std::fs::read_to_string(s.path("org.csv")).unwrap();
    assert_eq!(text.lines().count(), 1 + 900);
}

#[test]
fn a_refused_page_is_a_refusal_not_an_outage() {
    // Genesys refuses inactive pages past its cap with 400; a client
    // that pages on regardless is told so, with exit 1 (not 69).
    let fake = org(300, 250, 100);
    let s = Scratch::new();
    let out = run(genimport_against(s.dir.path(), &fake).args([
        "export",
        "users",
        "-o",
        "org.csv",
        "--user-page-size",
        "50",
    ]));
    let err = stderr(&out);
    assert_eq!(code(&out), 1, "{err}");
    assert!(err.contains("Genesys refused a request"), "{err}");
    assert!(err.contains("HTTP 400"), "{err}");
    assert!(!err.contains("unavailable"), "{err}");
    assert!(!s.path("org.csv").exists());
}

#[test]
fn pages_go_out_concurrently_over_tokens_without_429_storms() {
    let fake = Fake::spawn(FakeConfig {
        latency: std::time::Duration::from_millis(20),
        rate_limit: Some((30, std::time::Duration::from_secs(1))),
        limit_per_token: true,
        ..FakeConfig::default()
    });
    fake.state().seed_users(2_000, 0, "u");
    let s = Scratch::new();
    // Real time: the fake's windows are one second, as Retry-After says.
    let out = run(genimport_against(s.dir.path(), &fake)
        .env("GENIMPORT_TIME_SCALE", "1")
        .args([
            "export",
            "users",
            "--state",
            "active",
            "-o",
            "org.csv",
            "--user-page-size",
            "20",
            "--concurrency",
            "6",
            "--tokens",
            "3",
        ]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = std::fs::read_to_string(s.path("org.csv")).unwrap();
    assert_eq!(text.lines().count(), 1 + 2_000);
    let st = fake.state();
    assert_eq!(
        st.big.pages_by_state.get("active"),
        Some(&100),
        "no page twice"
    );
    let most = st
        .big
        .max_in_flight
        .load(std::sync::atomic::Ordering::SeqCst);
    assert!(most >= 3, "at most {most} requests at once");
    assert_eq!(st.api_tokens.len(), 3, "every token used");
    assert!(
        st.counters.throttled <= 6,
        "{} 429s in {} requests",
        st.counters.throttled,
        st.counters.api_requests
    );
}

#[test]
fn an_update_naming_held_roles_reads_them_role_by_role() {
    let fake = org(300, 0, 10_000);
    fake.state().seed_roles_to_all(&["Employee", "Agent"]);
    let mut csv = String::from("email,name,roles\n");
    for n in 0..300 {
        csv.push_str(&format!(
            "u{n:06}@big.example.com,User u{n:06},Employee; Agent\n"
        ));
    }
    let s = Scratch::new();
    let out = import(&fake, &s, &csv, &["--update"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let rows = read_results(&s.path("out.csv"));
    assert!(
        rows.iter().all(|r| r.status == "unchanged"),
        "{:?}",
        rows.iter().find(|r| r.status != "unchanged")
    );
    let st = fake.state();
    assert_eq!(st.counters.subject_requests, 0, "no user read alone");
    // Each role's 300 holders, 100 a page.
    assert_eq!(st.export.subject_grant_pages, 3 + 3);
    assert_eq!(st.writes(), 0);
    assert!(
        st.counters.api_requests <= 20,
        "{} requests",
        st.counters.api_requests
    );
}

#[test]
fn the_listing_finds_users_by_employee_id_too() {
    let fake = org(300, 0, 10_000);
    let mut csv = String::from("email,name,employee_id\n");
    for n in 0..280 {
        csv.push_str(&format!("u{n:06}@big.example.com,User u{n:06},E{n}\n"));
    }
    let s = Scratch::new();
    let out = import(&fake, &s, &csv, &["--update", "--match", "employee_id"]);
    let err = stderr(&out);
    assert_eq!(code(&out), 0, "{err}");
    assert!(err.contains("listing the org's users"), "{err}");
    let rows = read_results(&s.path("out.csv"));
    assert_each_line_once(&rows, 280);
    assert!(
        rows.iter().all(|r| r.status == "unchanged"),
        "{:?}",
        rows.iter().find(|r| r.status != "unchanged")
    );
    let st = fake.state();
    assert_eq!(st.counters.search_requests, 0);
    assert_eq!(st.writes(), 0);
}
