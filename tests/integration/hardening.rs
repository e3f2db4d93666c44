//! The holes found when genimport was attacked and fed careless input:
//! each test here failed before the fix.

use crate::common::*;

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

// 1. `-o` through a hard link must not overwrite the input.
#[test]
fn output_hard_linked_to_the_input_is_refused() {
    let s = Scratch::new();
    let input = s.write("users.csv", users_csv(2));
    let link = s.path("h.csv");
    std::fs::hard_link(&input, &link).unwrap();
    let out = run(genimport(s.dir.path())
        .arg(&input)
        .args(["--dry-run", "-o"])
        .arg(&link));
    assert_eq!(code(&out), exit::USAGE, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is the input file"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&input).unwrap(), users_csv(2));
}

// 2. A redirect is never followed: the create body (password) stays here.
#[test]
fn a_redirected_create_is_failed_and_names_the_location() {
    let elsewhere = Fake::spawn(FakeConfig::default());
    let fake = Fake::spawn(FakeConfig::default());
    let s = Scratch::new();
    let input = s.write(
        "u.csv",
        "email,name,password\nb@example.com,B,Secret-pass-123\n",
    );
    fake.state().config.redirect_api_to = Some(elsewhere.url());
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input));
    // The preflight's search is redirected first: the run stops (69) and
    // nothing reaches the other host.
    assert_eq!(code(&out), exit::UNAVAILABLE, "{}", stderr(&out));
    assert!(stderr(&out).contains(&elsewhere.url()), "{}", stderr(&out));
    assert_eq!(elsewhere.state().counters.api_requests, 0);
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(statuses(&rows), ["not_attempted"]);
}

#[test]
fn a_redirect_on_the_create_itself_fails_the_row() {
    let elsewhere = Fake::spawn(FakeConfig::default());
    // Search works; the create is answered with a redirect.
    let fake = Fake::spawn(FakeConfig::default());
    fake.state().redirect_creates_to = Some(elsewhere.url());
    let s = Scratch::new();
    let input = s.write(
        "u.csv",
        "email,name,password\na@example.com,A,Secret-pass-123\n",
    );
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input));
    assert_eq!(code(&out), exit::ROWS_NEED_ATTENTION, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(statuses(&rows), ["failed"]);
    assert_eq!(rows[0].http_status, "307");
    assert!(
        rows[0].message.contains(&elsewhere.url()),
        "{}",
        rows[0].message
    );
    assert_eq!(
        elsewhere.state().counters.api_requests,
        0,
        "the body was not sent on"
    );
    assert!(fake.state().users.is_empty());
}

#[test]
fn a_redirected_token_request_stops_the_run() {
    let fake = Fake::spawn(FakeConfig {
        redirect_token_to: Some("https://evil.example/oauth/token".into()),
        ..FakeConfig::default()
    });
    let s = Scratch::new();
    let input = s.write("u.csv", users_csv(1));
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input));
    assert_eq!(code(&out), exit::UNAVAILABLE, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("https://evil.example/oauth/token"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("follows no redirects"),
        "{}",
        stderr(&out)
    );
}

// 3. Credentials inside a URL are refused without being echoed.
#[test]
fn credentials_inside_the_api_url_are_refused_without_echo() {
    let s = Scratch::new();
    let input = s.write("u.csv", users_csv(1));
    let out = run(genimport(s.dir.path()).arg(&input).args([
        "--dry-run",
        "--api-url",
        "https://admin:hunter2pw@api.example.com",
    ]));
    assert_eq!(code(&out), exit::USAGE, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("credentials inside a URL"), "{err}");
    assert!(
        !err.contains("hunter2pw") && !err.contains("admin:"),
        "{err}"
    );
}

// 4. A `.env` syntax error names the line, never its text.
#[test]
fn a_broken_env_file_names_the_line_not_the_secret() {
    let s = Scratch::new();
    let input = s.write("u.csv", users_csv(1));
    s.write(
        ".env",
        "GENESYS_CLIENT_ID=abc\nGENESYS_CLIENT_SECRET=\"TopSecretValue42\nGENESYS_REGION=eu-west-1\n",
    );
    let out = run(genimport(s.dir.path()).arg(&input).arg("--dry-run"));
    assert_eq!(code(&out), exit::CONFIG, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(".env") && err.contains("line 2"), "{err}");
    assert!(!err.contains("TopSecretValue42"), "{err}");
}

// 5. Only `./.env` is read, never one in a parent directory.
#[test]
fn a_parent_directory_env_file_is_not_read() {
    let fake = Fake::spawn(FakeConfig::default());
    let s = Scratch::new();
    let state = fake.state();
    s.write(
        ".env",
        format!(
            "GENESYS_API_URL={}\nGENESYS_CLIENT_ID={}\nGENESYS_CLIENT_SECRET={}\n",
            fake.url(),
            state.config.client_id,
            state.config.client_secret
        ),
    );
    drop(state);
    let sub = s.path("sub");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(sub.join("u.csv"), users_csv(2)).unwrap();
    let out = run(genimport(&sub).args(["u.csv", "--dry-run"]));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    assert!(stderr(&out).contains("no credentials"), "{}", stderr(&out));
    assert_eq!(fake.state().counters.token_requests, 0);
}

// 6. Durations from flags and the network cannot overflow; a worker that
// dies still leaves every row in the results, and the run exits 70.
#[test]
fn an_absurd_max_retry_after_is_a_usage_error() {
    let s = Scratch::new();
    let input = s.write("u.csv", users_csv(1));
    let out = run(genimport(s.dir.path()).arg(&input).args([
        "--dry-run",
        "--max-retry-after",
        "18446744073709551615",
    ]));
    assert_eq!(code(&out), exit::USAGE, "{}", stderr(&out));
}

#[test]
fn a_huge_token_lifetime_does_not_panic() {
    let fake = Fake::spawn(FakeConfig {
        token_lifetime_s: u64::MAX,
        ..FakeConfig::default()
    });
    let s = Scratch::new();
    let input = s.write("u.csv", users_csv(3));
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    assert_eq!(
        statuses(&read_results(&s.path("u.results.csv"))),
        ["created"; 3]
    );
}

#[test]
fn a_worker_that_dies_leaves_every_row_written_and_exits_70() {
    let fake = Fake::spawn(FakeConfig::default());
    let s = Scratch::new();
    let input = s.write("u.csv", users_csv(5));
    let out = run(genimport_against(s.dir.path(), &fake)
        .arg(&input)
        .env("GENIMPORT_PANIC_ON_LINE", "3"));
    assert_eq!(code(&out), exit::INTERNAL, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_each_line_once(&rows, 5);
    let line3 = rows.iter().find(|r| r.line == 3).unwrap();
    assert_eq!(line3.status, "failed");
    assert!(
        line3.message.contains("internal error"),
        "{}",
        line3.message
    );
    assert!(stderr(&out).contains("internal error"), "{}", stderr(&out));
}

// 7. `created` only when a live user is found after an unknown outcome.
#[test]
fn a_conflict_after_an_unknown_outcome_is_not_called_created_without_a_user() {
    // Search cannot see deleted users here; a deleted user holds the email.
    let fake = Fake::spawn(FakeConfig {
        reject_state_search: true,
        ..FakeConfig::default()
    });
    fake.state()
        .add_user("user0@example.com", "Gone", "deleted");
    fake.state().faults_by_email.insert(
        "user0@example.com".into(),
        [Fault::Status(503, "service.unavailable")].into(),
    );
    let s = Scratch::new();
    let input = s.write("u.csv", users_csv(1));
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input));
    assert_eq!(code(&out), exit::ROWS_NEED_ATTENTION, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(statuses(&rows), ["failed"]);
    assert_eq!(rows[0].user_id, "");
    assert!(
        rows[0].message.contains("deleted users"),
        "{}",
        rows[0].message
    );
}

#[test]
fn a_conflict_after_an_unknown_outcome_with_a_deleted_user_is_exists() {
    // Search sees deleted users, but the user was deleted after the preflight.
    let fake = Fake::spawn(FakeConfig::default());
    fake.state().faults_by_email.insert(
        "user0@example.com".into(),
        [Fault::Status(503, "service.unavailable")].into(),
    );
    fake.state().delete_on_first_create = Some("user0@example.com".into());
    let s = Scratch::new();
    let input = s.write("u.csv", users_csv(1));
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input));
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(statuses(&rows), ["exists"], "{}", stderr(&out));
    assert!(rows[0].message.contains("deleted"), "{}", rows[0].message);
    assert_eq!(code(&out), exit::OK);
}

// 8. A search refused for one email fails that row only.
#[test]
fn a_search_refused_for_one_email_fails_only_that_row() {
    let fake = Fake::spawn(FakeConfig {
        refuse_search_email: Some("user1@example.com".into()),
        ..FakeConfig::default()
    });
    let s = Scratch::new();
    let input = s.write("u.csv", users_csv(3));
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input));
    assert_eq!(code(&out), exit::ROWS_NEED_ATTENTION, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(statuses(&rows), ["created", "failed", "created"]);
    assert_eq!(rows[1].http_status, "400");
    assert!(
        rows[1].message.contains("Value [email] is not valid"),
        "{}",
        rows[1].message
    );
    assert!(fake.state().user("user1@example.com").is_none());
}

// 9. CR-only files and stray CRs.
#[test]
fn cr_only_files_get_physical_line_numbers_and_stray_crs_do_not_split_rows() {
    let s = Scratch::new();
    let input = s.write("cr.csv", "email,name\ra@x.com,A\rb@x.com,B\r");
    let out = run(genimport(s.dir.path()).arg(&input).arg("--dry-run"));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = read_results(&s.path("cr.results.csv"));
    assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 3]);

    let input = s.write("lf.csv", "email,name\na@x.com,Ann\rLee\nb@x.com,B\n");
    let out = run(genimport(s.dir.path()).arg(&input).arg("--dry-run"));
    assert_eq!(code(&out), exit::ROWS_NEED_ATTENTION, "{}", stderr(&out));
    let rows = read_results(&s.path("lf.results.csv"));
    assert_eq!(rows.len(), 2, "not split into an extra row");
    assert_eq!((rows[0].line, rows[0].status.as_str()), (2, "invalid"));
    assert!(
        rows[0].message.contains("carriage return"),
        "{}",
        rows[0].message
    );
    assert_eq!((rows[1].line, rows[1].status.as_str()), (3, "would_create"));
}

// 11. Ctrl-C takes effect while the token request backs off.
#[test]
fn ctrl_c_is_prompt_while_the_login_server_is_down() {
    let fake = Fake::spawn(FakeConfig {
        token_status: Some(503),
        ..FakeConfig::default()
    });
    let s = Scratch::new();
    let input = s.write("u.csv", users_csv(3));
    let child = genimport_against(s.dir.path(), &fake)
        .arg(&input)
        // Real backoff waits (seconds), so only Ctrl-C can end this soon.
        .env("GENIMPORT_TIME_SCALE", "1")
        .args(["--max-retries", "10"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while fake.state().counters.token_requests < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let sent = Instant::now();
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        sent.elapsed() < Duration::from_secs(1),
        "took {:?}",
        sent.elapsed()
    );
    assert_eq!(code(&out), exit::INTERRUPTED, "{}", stderr(&out));
    assert_each_line_once(&read_results(&s.path("u.results.csv")), 3);
}

// 12. A slow reader of `-o -` does not hold up the workers.
#[test]
fn a_stalled_stdout_reader_does_not_stall_the_creates() {
    let fake = Fake::spawn(FakeConfig::default());
    let s = Scratch::new();
    // Far more results than a pipe buffer holds.
    let n = 1500;
    let input = s.write("u.csv", users_csv(n));
    let mut child = genimport_against(s.dir.path(), &fake)
        .arg(&input)
        .args(["-o", "-", "--concurrency", "4"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while fake.state().users.len() < n && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        fake.state().users.len(),
        n,
        "every create was sent while nobody read stdout"
    );
    let mut results = Vec::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut results)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    assert_each_line_once(&parse_results(&results), n);
}

// 13. A `;` file is named as such.
#[test]
fn a_semicolon_file_read_as_commas_says_so() {
    let s = Scratch::new();
    let input = s.write("u.csv", "email;name\na@x.com;A\n");
    let out = run(genimport(s.dir.path())
        .arg(&input)
        .args(["--dry-run", "--delimiter", ","]));
    assert_eq!(code(&out), exit::DATA_ERR, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("looks separated by `;`"),
        "{}",
        stderr(&out)
    );
}

// 14. The secret as a flag: the hint names the variable.
#[test]
fn client_secret_as_a_flag_names_the_variable() {
    let s = Scratch::new();
    let out = run(genimport(s.dir.path()).args(["u.csv", "--client-secret", "sekrit-value"]));
    assert_eq!(code(&out), exit::USAGE, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("GENESYS_CLIENT_SECRET"), "{err}");
    assert!(
        !err.contains("--client-id") && !err.contains("sekrit-value"),
        "{err}"
    );
}

// 15. A refused login says what to check.
#[test]
fn a_refused_login_says_what_to_check() {
    let fake = Fake::spawn(FakeConfig::default());
    let s = Scratch::new();
    let input = s.write("u.csv", users_csv(1));
    let out = run(genimport_against(s.dir.path(), &fake)
        .arg(&input)
        .env("GENESYS_CLIENT_SECRET", "wrong"));
    assert_eq!(code(&out), exit::NO_PERM, "{}", stderr(&out));
    let err = stderr(&out);
    for hint in [
        "client id",
        "GENESYS_CLIENT_SECRET",
        "region",
        "Client Credentials",
    ] {
        assert!(err.contains(hint), "{hint}: {err}");
    }
}

// 16. TLS failures are sentences.
#[test]
fn a_tls_failure_is_a_sentence() {
    let fake = Fake::spawn(FakeConfig::default());
    let s = Scratch::new();
    let input = s.write("u.csv", users_csv(1));
    let https = fake.url().replace("http://", "https://");
    let out = run(genimport_against(s.dir.path(), &fake)
        .arg(&input)
        .env("GENESYS_API_URL", &https)
        .args(["--max-retries", "0"]));
    assert_eq!(code(&out), exit::UNAVAILABLE, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("the TLS handshake failed: the server did not answer with TLS"),
        "{err}"
    );
    assert!(
        !err.contains("InvalidContentType") && !err.contains("Other("),
        "{err}"
    );
}

// 17, 18, 19. Control characters, long cells, invisible characters.
#[test]
fn control_characters_are_named_and_never_copied_raw() {
    let s = Scratch::new();
    let input = s.write("u.csv", "email,name\na@x.com,A\0B\nb@x.com,C\x1b[31mD\n");
    let out = run(genimport(s.dir.path()).arg(&input).arg("--dry-run"));
    assert_eq!(code(&out), exit::ROWS_NEED_ATTENTION, "{}", stderr(&out));
    let raw = std::fs::read(s.path("u.results.csv")).unwrap();
    assert!(
        !raw.contains(&0) && !raw.contains(&0x1b),
        "no raw control bytes"
    );
    let rows = parse_results(&raw);
    assert!(
        rows[0].message.contains("a NUL character"),
        "{}",
        rows[0].message
    );
    assert!(rows[1].message.contains("U+001B"), "{}", rows[1].message);
    assert!(
        !rows[0].message.contains("line break"),
        "{}",
        rows[0].message
    );
}

#[test]
fn long_cells_are_cut_and_many_ignored_columns_are_summarised() {
    let s = Scratch::new();
    let long_email = format!("{}@x.com", "a".repeat(300));
    let extra: Vec<String> = (1..=15).map(|i| format!("extra{i}")).collect();
    let input = s.write(
        "u.csv",
        format!(
            "email,name,{}\n{long_email},A{}\n",
            extra.join(","),
            ",".repeat(15)
        ),
    );
    let out = run(genimport(s.dir.path()).arg(&input).arg("--dry-run"));
    let rows = read_results(&s.path("u.results.csv"));
    assert!(rows[0].message.contains('…'), "{}", rows[0].message);
    assert!(rows[0].message.len() < 200, "{}", rows[0].message);
    let err = stderr(&out);
    assert!(err.contains("extra10 and 5 more"), "{err}");
    assert!(!err.contains("extra11"), "{err}");
}

#[test]
fn invisible_characters_in_an_email_make_the_row_invalid() {
    let s = Scratch::new();
    let input = s.write(
        "u.csv",
        "email,name\nann\u{200B}@x.com,Ann\nbo@x\u{202E}.com,Bo\nok@x.com,Ok\n",
    );
    let out = run(genimport(s.dir.path()).arg(&input).arg("--dry-run"));
    assert_eq!(code(&out), exit::ROWS_NEED_ATTENTION, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(statuses(&rows), ["invalid", "invalid", "would_create"]);
    assert!(
        rows[0].message.contains("invisible character (U+200B)"),
        "{}",
        rows[0].message
    );
    assert!(rows[1].message.contains("U+202E"), "{}", rows[1].message);
}

// 24. The README's first command succeeds; the validation sample shows errors.
#[test]
fn the_readme_samples_behave_as_documented() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let s = Scratch::new();
    let out = run(genimport(s.dir.path())
        .arg(root.join("examples/users.csv"))
        .args(["--dry-run", "-o"])
        .arg(s.path("a.csv")));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let out = run(genimport(s.dir.path())
        .arg(root.join("examples/invalid-rows.csv"))
        .args(["--dry-run", "-o"])
        .arg(s.path("b.csv")));
    assert_eq!(code(&out), exit::ROWS_NEED_ATTENTION, "{}", stderr(&out));
    let rows = read_results(&s.path("b.csv"));
    assert!(rows.iter().filter(|r| r.status == "invalid").count() >= 3);
}
