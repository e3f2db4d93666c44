//! Online behaviour against the stateful fake: creates, existing users,
//! rate limiting, token renewal, refused credentials and permissions,
//! password warnings, and faults after the server stored the user.

use crate::common::*;

use std::time::Duration;

#[test]
fn happy_path_creates_every_user_with_the_spec_body() {
    let fake = Fake::spawn(FakeConfig::default());
    let s = Scratch::new();
    let input = s.write(
        "u.csv",
        "email,name,division,department,title,phone,state\n\
         ana@example.com,Ana,,Support,Agent,+1 317 555 0123,inactive\n\
         bo@example.com,Bo,sales,,,,\n\
         cy@example.com,Cy,22222222-2222-4222-8222-222222222222,,,,\n",
    );
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(statuses(&rows), ["created"; 3]);
    let state = fake.state();
    assert_eq!(state.users.len(), 3);
    let ana = state.user("ana@example.com").unwrap();
    assert_eq!(rows[0].user_id, ana.id);
    assert_eq!(
        ana.body,
        serde_json::json!({
            "name": "Ana", "email": "ana@example.com", "divisionId": crate::common::fake::HOME_DIVISION,
            "department": "Support", "title": "Agent", "state": "inactive",
            "addresses": [{"address": "+13175550123", "mediaType": "PHONE", "type": "WORK"}]
        })
    );
    assert_eq!(
        state.user("bo@example.com").unwrap().division_id,
        crate::common::fake::SALES_DIVISION
    );
    let summary = stderr(&out);
    let counted = |status: &str| -> Option<u64> {
        summary.lines().find_map(|l| {
            let mut parts = l.split_whitespace();
            (parts.next() == Some(status))
                .then(|| parts.next()?.parse().ok())
                .flatten()
        })
    };
    assert_eq!(counted("created"), Some(3), "{summary}");
    assert_eq!(counted("exists"), Some(0), "{summary}");
    assert_eq!(counted("rows"), Some(3), "{summary}");
}

#[test]
fn existing_users_are_reported_not_recreated() {
    let fake = Fake::spawn(FakeConfig::default());
    let id = fake.state().add_user("User1@Example.com", "Old", "active");
    let s = Scratch::new();
    let input = s.write("u.csv", users_csv(3));
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(statuses(&rows), ["created", "exists", "created"]);
    assert_eq!(rows[1].user_id, id);
    let state = fake.state();
    assert_eq!(state.users.len(), 3);
    assert_eq!(
        state.counters.create_requests, 2,
        "no create for the existing user"
    );
}

#[test]
fn conflict_on_create_is_exists_even_when_search_lags() {
    // The user exists but search does not show it yet; the create conflicts.
    let fake = Fake::spawn(FakeConfig {
        search_lag: Duration::from_secs(3600),
        conflict_status: 400,
        ..FakeConfig::default()
    });
    fake.state().add_user("user0@example.com", "Old", "active");
    // add_user backdates creation by an hour; make this one invisible too.
    fake.state().config.search_lag = Duration::from_secs(7200);
    let s = Scratch::new();
    let input = s.write("u.csv", users_csv(2));
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(statuses(&rows), ["exists", "created"]);
    assert!(
        rows[0].message.contains("general.conflict"),
        "{}",
        rows[0].message
    );
    assert_eq!(fake.state().users.len(), 2);
}

#[test]
fn retry_after_429_then_success_pauses_and_retries() {
    let fake = Fake::spawn(FakeConfig::default());
    let s = Scratch::new();
    let input = s.write("u.csv", users_csv(4));
    {
        let mut state = fake.state();
        state.throttle_retry_after = 2;
    }
    // Throttle only once the preflight is done: the first create's attempts.
    fake.state()
        .create_faults
        .extend([Fault::Status(429, "too.many.requests.retry.after")]);
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(statuses(&rows), ["created"; 4]);
    assert_eq!(fake.state().users.len(), 4);
    assert!(stderr(&out).contains("429s: 1"), "{}", stderr(&out));
}

#[test]
fn rate_limits_of_every_kind_are_honoured_without_losing_rows() {
    use crate::common::fake::Limiter;
    for limiter in [Limiter::Fixed, Limiter::Sliding, Limiter::Bucket] {
        let fake = Fake::spawn(FakeConfig {
            rate_limit: Some((5, Duration::from_millis(300))),
            limiter,
            ..FakeConfig::default()
        });
        let s = Scratch::new();
        let input = s.write("u.csv", users_csv(12));
        // Real waits here: Retry-After is whole seconds, so use a small scale.
        let out = run(genimport_against(s.dir.path(), &fake).arg(&input).args([
            "--time-scale",
            "0.3",
            "--concurrency",
            "3",
        ]));
        assert_eq!(code(&out), exit::OK, "{limiter:?}: {}", stderr(&out));
        let rows = read_results(&s.path("u.results.csv"));
        assert_each_line_once(&rows, 12);
        assert!(rows.iter().all(|r| r.status == "created"), "{limiter:?}");
        let state = fake.state();
        assert_eq!(state.users.len(), 12, "{limiter:?}");
        assert!(state.duplicates().is_empty(), "{limiter:?}");
        assert!(
            state.counters.throttled > 0,
            "{limiter:?}: the limit was hit at least once"
        );
    }
}

#[test]
fn tokens_spread_a_per_token_limit_and_keep_to_one_when_it_is_shared() {
    for per_token in [true, false] {
        let fake = Fake::spawn(FakeConfig {
            rate_limit: Some((10, Duration::from_secs(1))),
            limit_per_token: per_token,
            ..FakeConfig::default()
        });
        let s = Scratch::new();
        let input = s.write("u.csv", users_csv(40));
        // Real time: the fake's windows are one second, as Retry-After says.
        let out = run(genimport_against(s.dir.path(), &fake)
            .env("GENIMPORT_TIME_SCALE", "1")
            .args(["--tokens", "3", "--concurrency", "6"])
            .arg(&input));
        assert_eq!(
            code(&out),
            exit::OK,
            "per token {per_token}: {}",
            stderr(&out)
        );
        let rows = read_results(&s.path("u.results.csv"));
        assert_each_line_once(&rows, 40);
        assert!(rows.iter().all(|r| r.status == "created"));
        let state = fake.state();
        assert_eq!(state.users.len(), 40);
        assert!(state.duplicates().is_empty());
        if per_token {
            assert_eq!(state.api_tokens.len(), 3, "every token used");
            assert_eq!(state.counters.token_requests, 3);
        } else {
            // One request on a second token tested the sharing and was
            // refused; the third token was never even fetched.
            assert_eq!(state.api_tokens.len(), 1, "only the first got through");
            assert_eq!(state.counters.token_requests, 2);
            assert!(
                state.counters.throttled <= 6 + 4,
                "{} 429s",
                state.counters.throttled
            );
        }
    }
}

#[test]
fn retry_after_above_the_ceiling_stops_sending_and_exits_69() {
    let fake = Fake::spawn(FakeConfig::default());
    fake.state().throttle_retry_after = 600;
    fake.state()
        .create_faults
        .extend([Fault::Status(429, "too.many.requests.retry.after")]);
    let s = Scratch::new();
    let input = s.write("u.csv", users_csv(3));
    let out = run(genimport_against(s.dir.path(), &fake)
        .arg(&input)
        .args(["--max-retry-after", "60"]));
    assert_eq!(code(&out), exit::UNAVAILABLE, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(statuses(&rows), ["not_attempted"; 3]);
    for row in &rows {
        assert!(
            row.message.contains("wait 600 s") && row.message.contains("--max-retry-after"),
            "{}",
            row.message
        );
    }
    assert_eq!(
        fake.state().counters.create_requests,
        1,
        "one 429, then nothing more was sent"
    );
}

#[test]
fn token_expiry_mid_run_renews_once_and_continues() {
    // The fake revokes every token as the third user is stored: the next
    // call gets a 401, deterministically.
    let fake = Fake::spawn(FakeConfig {
        expire_tokens_at_users: Some(3),
        ..FakeConfig::default()
    });
    let s = Scratch::new();
    let input = s.write("u.csv", users_csv(6));
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    assert_eq!(
        fake.state().counters.unauthorized,
        1,
        "one 401 after the revocation"
    );
    assert_eq!(
        statuses(&read_results(&s.path("u.results.csv"))),
        ["created"; 6]
    );
    let state = fake.state();
    assert_eq!(state.users.len(), 6);
    assert_eq!(state.counters.token_requests, 2, "one renewal");
}

#[test]
fn short_lived_tokens_are_renewed_before_they_expire() {
    let fake = Fake::spawn(FakeConfig {
        token_lifetime_s: 1,
        latency: Duration::from_millis(150),
        ..FakeConfig::default()
    });
    let s = Scratch::new();
    let input = s.write("u.csv", users_csv(8));
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let state = fake.state();
    assert_eq!(state.users.len(), 8);
    assert!(state.counters.token_requests >= 2);
    assert_eq!(
        state.counters.unauthorized, 0,
        "renewed before expiry, never a 401"
    );
}

#[test]
fn wrong_secret_exits_77_and_never_prints_the_secret() {
    let fake = Fake::spawn(FakeConfig::default());
    let s = Scratch::new();
    let input = s.write("u.csv", users_csv(3));
    let out = run(genimport_against(s.dir.path(), &fake)
        .arg(&input)
        .args(["-vv", "--log-format", "json"])
        .env("GENESYS_CLIENT_SECRET", "wrong-secret-xyz"));
    assert_eq!(code(&out), exit::NO_PERM, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("invalid_client"), "the server's words: {err}");
    assert!(!err.contains("wrong-secret-xyz"));
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(statuses(&rows), ["not_attempted"; 3]);
    assert!(
        rows[0].message.contains("authentication refused"),
        "{}",
        rows[0].message
    );
    assert!(fake.state().users.is_empty());
}

#[test]
fn secret_and_token_never_appear_in_verbose_logs_or_results() {
    let fake = Fake::spawn(FakeConfig::default());
    let s = Scratch::new();
    let input = s.write("u.csv", "email,name,password\na@example.com,A,short\n");
    let out = run(genimport_against(s.dir.path(), &fake)
        .arg(&input)
        .arg("-vv"));
    let err = stderr(&out);
    let results = std::fs::read_to_string(s.path("u.results.csv")).unwrap();
    for text in [&err, &results] {
        assert!(!text.contains("test-secret-do-not-print"));
        assert!(!text.contains("tok-"), "no token in output");
        assert!(
            !text.contains("short,") && !text.contains(",short"),
            "no password"
        );
    }
    assert!(
        err.contains("POST") && err.contains("/api/v2/users"),
        "-v shows requests: {err}"
    );
}

#[test]
fn forbidden_create_stops_the_run_with_77() {
    let fake = Fake::spawn(FakeConfig {
        forbid_create: true,
        ..FakeConfig::default()
    });
    let s = Scratch::new();
    let input = s.write("u.csv", users_csv(4));
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input));
    assert_eq!(code(&out), exit::NO_PERM, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(
        statuses(&rows),
        ["failed", "not_attempted", "not_attempted", "not_attempted"]
    );
    assert_eq!(rows[0].http_status, "403");
    assert_eq!(rows[0].error_code, "missing.permissions");
    assert_eq!(
        fake.state().counters.create_requests,
        1,
        "stopped after the first 403"
    );
}

#[test]
fn invalid_password_makes_the_created_user_incomplete() {
    let fake = Fake::spawn(FakeConfig::default());
    let s = Scratch::new();
    let input = s.write(
        "u.csv",
        "email,name,password\na@example.com,A,short\nb@example.com,B,long-enough-pass\n",
    );
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input));
    assert_eq!(
        code(&out),
        exit::ROWS_NEED_ATTENTION,
        "incomplete needs attention: {}",
        stderr(&out)
    );
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(statuses(&rows), ["incomplete", "created"]);
    assert_eq!(rows[0].changes, "create");
    assert_eq!(rows[0].error_code, "invalid.password");
    assert_eq!(rows[0].http_status, "400");
    assert_eq!(
        rows[0].user_id,
        fake.state().user("a@example.com").unwrap().id
    );
    assert!(rows[1].error_code.is_empty());
    assert_eq!(fake.state().counters.create_requests, 2, "never retried");
}

#[test]
fn dropped_connection_after_commit_creates_no_duplicate() {
    let fake = Fake::spawn(FakeConfig::default());
    fake.state()
        .faults_by_email
        .insert("user1@example.com".into(), [Fault::DropAfterCommit].into());
    fake.state()
        .faults_by_email
        .insert("user2@example.com".into(), [Fault::ErrorAfterCommit].into());
    let s = Scratch::new();
    let input = s.write("u.csv", users_csv(4));
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(statuses(&rows), ["created"; 4]);
    assert!(
        rows[1].message.contains("found by email"),
        "{}",
        rows[1].message
    );
    let state = fake.state();
    assert_eq!(state.users.len(), 4);
    assert!(state.duplicates().is_empty());
    assert_eq!(state.counters.create_requests, 4, "reconciled, not resent");
}

#[test]
fn lost_creates_close_together_are_checked_by_one_search() {
    let fake = Fake::spawn(FakeConfig::default());
    for i in 0..8 {
        fake.state().faults_by_email.insert(
            format!("user{i}@example.com"),
            [Fault::DropAfterCommit].into(),
        );
    }
    let s = Scratch::new();
    let input = s.write("u.csv", users_csv(8));
    // A gather of 50 ms (1 s scaled): the eight drops come within it.
    let out = run(genimport_against(s.dir.path(), &fake)
        .env("GENIMPORT_TIME_SCALE", "0.05")
        .args(["--concurrency", "8"])
        .arg(&input));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(statuses(&rows), ["created"; 8]);
    assert!(rows.iter().all(|r| r.message.contains("found by email")));
    let state = fake.state();
    assert_eq!(state.users.len(), 8);
    assert!(state.duplicates().is_empty());
    assert_eq!(state.counters.create_requests, 8, "reconciled, not resent");
    // One search in the preflight, then one (at most two) for eight checks.
    assert!(
        state.counters.search_requests <= 3,
        "{} searches",
        state.counters.search_requests
    );
}

#[test]
fn failures_before_commit_are_retried_after_checking() {
    let fake = Fake::spawn(FakeConfig::default());
    fake.state().faults_by_email.insert(
        "user0@example.com".into(),
        [
            Fault::DropBeforeCommit,
            Fault::Status(503, "service.unavailable"),
        ]
        .into(),
    );
    let s = Scratch::new();
    let input = s.write("u.csv", users_csv(2));
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    assert_eq!(
        statuses(&read_results(&s.path("u.results.csv"))),
        ["created", "created"]
    );
    let state = fake.state();
    assert_eq!(state.counters.create_requests, 4, "user0 tried 3 times");
    assert_eq!(state.users.len(), 2);
}

#[test]
fn lost_response_with_lagging_search_is_never_duplicated_nor_called_created() {
    let fake = Fake::spawn(FakeConfig {
        search_lag: Duration::from_secs(3600),
        ..FakeConfig::default()
    });
    fake.state()
        .faults_by_email
        .insert("user0@example.com".into(), [Fault::DropAfterCommit].into());
    let s = Scratch::new();
    let input = s.write("u.csv", users_csv(1));
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input));
    // Search cannot show the user, so `created` cannot be proven.
    assert_eq!(code(&out), exit::ROWS_NEED_ATTENTION, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(statuses(&rows), ["failed"]);
    assert!(
        rows[0].message.contains("email taken") && rows[0].message.contains("a re-run will check"),
        "{}",
        rows[0].message
    );
    assert_eq!(fake.state().users.len(), 1);
}

#[test]
fn unknown_division_is_invalid_before_any_create() {
    let fake = Fake::spawn(FakeConfig::default());
    let s = Scratch::new();
    let input = s.write(
        "u.csv",
        "email,name,division\na@example.com,A,Marketing\nb@example.com,B,99999999-9999-4999-8999-999999999999\nc@example.com,C,\n",
    );
    let out = run(genimport_against(s.dir.path(), &fake)
        .arg(&input)
        .args(["--division", "Sales"]));
    assert_eq!(code(&out), exit::ROWS_NEED_ATTENTION, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(statuses(&rows), ["invalid", "invalid", "created"]);
    assert!(rows[0].message.contains("no division named `Marketing`"));
    assert_eq!(
        fake.state().user("c@example.com").unwrap().division_id,
        crate::common::fake::SALES_DIVISION
    );
    assert_eq!(fake.state().counters.create_requests, 1);
}

#[test]
fn dry_run_with_credentials_runs_the_preflight_and_writes_nothing() {
    let fake = Fake::spawn(FakeConfig::default());
    fake.state().add_user("user0@example.com", "Old", "active");
    fake.state()
        .add_user("user1@example.com", "Gone", "deleted");
    let s = Scratch::new();
    let input = s.write("u.csv", format!("{}bad,X\n", users_csv(3)));
    let out = run(genimport_against(s.dir.path(), &fake)
        .arg(&input)
        .arg("--dry-run"));
    assert_eq!(code(&out), exit::ROWS_NEED_ATTENTION, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(
        statuses(&rows),
        ["exists", "exists", "would_create", "invalid"]
    );
    assert!(rows[1].message.contains("deleted"));
    let state = fake.state();
    assert_eq!(
        state.counters.create_requests + state.counters.patch_requests,
        0
    );
}

#[test]
fn deleted_users_are_reported_or_restored() {
    let fake = Fake::spawn(FakeConfig::default());
    let id = fake
        .state()
        .add_user("user0@example.com", "Gone", "deleted");
    let s = Scratch::new();
    let input = s.write("u.csv", users_csv(1));
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input));
    assert_eq!(code(&out), exit::OK);
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(statuses(&rows), ["exists"]);
    assert!(rows[0].message.contains("--restore-deleted"));

    let out = run(genimport_against(s.dir.path(), &fake)
        .arg(&input)
        .arg("--restore-deleted"));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    // Restored, then the row applied to it like an update; Genesys gives
    // a restored user no role back, so Employee is granted again.
    assert_eq!(statuses(&rows), ["updated"]);
    assert_eq!(rows[0].user_id, id);
    assert_eq!(rows[0].changes, "restore; name; add role Employee@Home");
    let state = fake.state();
    assert_eq!(state.user("user0@example.com").unwrap().state, "active");
    assert_eq!(state.users.len(), 1);
}

#[test]
fn json_logs_are_json_and_the_summary_matches_the_results() {
    let fake = Fake::spawn(FakeConfig::default());
    fake.state().add_user("user1@example.com", "Old", "active");
    fake.state()
        .faults_by_email
        .insert("user2@example.com".into(), [Fault::DropAfterCommit].into());
    let s = Scratch::new();
    let input = s.write("u.csv", format!("{}bad,X\n", users_csv(4)));
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input).args([
        "--log-format",
        "json",
        "-v",
    ]));
    assert_eq!(code(&out), exit::ROWS_NEED_ATTENTION, "{}", stderr(&out));
    let mut summary = None;
    let mut requests_logged = 0;
    for line in stderr(&out).lines() {
        let event: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(!line.contains("test-secret-do-not-print") && !line.contains("tok-"));
        match event["message"].as_str() {
            Some("summary") => summary = Some(event),
            Some("request") => {
                requests_logged += 1;
                assert!(
                    event["status"].is_u64() && event["latency_ms"].is_u64(),
                    "{line}"
                );
            }
            Some("row") => assert!(
                event["line"].is_u64() && event["outcome"].is_string(),
                "{line}"
            ),
            _ => {}
        }
    }
    assert!(requests_logged > 0, "-v logs requests");
    let summary = summary.expect("a summary event");
    let rows = read_results(&s.path("u.results.csv"));
    for status in ["created", "exists", "invalid", "failed", "not_attempted"] {
        let in_file = rows.iter().filter(|r| r.status == status).count() as u64;
        assert_eq!(summary[status].as_u64(), Some(in_file), "{status}");
    }
    assert_eq!(summary["exit_code"].as_u64(), Some(1));
}

#[test]
fn preflight_adapts_to_stricter_search_limits() {
    // Search takes at most 7 values and refuses the state criterion.
    let fake = Fake::spawn(FakeConfig {
        max_search_values: 7,
        reject_state_search: true,
        ..FakeConfig::default()
    });
    let live = fake.state().add_user("user3@example.com", "Old", "active");
    let deleted = fake
        .state()
        .add_user("user11@example.com", "Gone", "deleted");
    let s = Scratch::new();
    let input = s.write("u.csv", users_csv(20));
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_each_line_once(&rows, 20);
    assert_eq!(rows[3].status, "exists");
    assert_eq!(rows[3].user_id, live);
    // Plain search cannot see the deleted user: the create conflicts instead.
    assert_eq!(rows[11].status, "exists");
    assert!(
        rows[11].message.contains("general.conflict"),
        "{}",
        rows[11].message
    );
    assert_eq!(rows.iter().filter(|r| r.status == "created").count(), 18);
    let state = fake.state();
    assert_eq!(state.users.len(), 20);
    assert_eq!(state.user("user11@example.com").unwrap().id, deleted);
}

#[test]
fn missing_home_division_sends_rows_without_division_id() {
    let fake = Fake::spawn(FakeConfig {
        no_home_division: true,
        ..FakeConfig::default()
    });
    let s = Scratch::new();
    let input = s.write("u.csv", users_csv(2));
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot read the home division"));
    let state = fake.state();
    assert_eq!(state.users.len(), 2);
    assert!(state
        .user("user0@example.com")
        .unwrap()
        .body
        .get("divisionId")
        .is_none());
}
