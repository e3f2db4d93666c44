//! `genimport queues FILE`: create queues, keep them in line without losing
//! a setting (Genesys replaces a queue on PUT), and send nothing on re-runs.

use crate::common::*;

use serde_json::json;

const HEADER: &str = "name,division,description,skill_evaluation,acw,acw_timeout_s,alerting_timeout_s,wrapup_codes,copy_from,calling_party_name,calling_party_number";

fn queue_writes(fake: &Fake) -> u64 {
    let c = &fake.state().counters;
    c.queue_creates + c.queue_puts + c.wrapup_adds + c.division_moves
}

fn results(path: &std::path::Path) -> Vec<Vec<String>> {
    let mut reader = csv::Reader::from_path(path).expect("results");
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "line",
            "name",
            "status",
            "queue_id",
            "http_status",
            "error_code",
            "message",
            "changes"
        ]
    );
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

fn queue_named(fake: &Fake, name: &str) -> serde_json::Value {
    let state = fake.state();
    let id = &state
        .queues
        .iter()
        .find(|(_, n)| n == name)
        .expect("queue")
        .0;
    state.queue_bodies[id].clone()
}

#[test]
fn queues_are_created_copied_and_given_wrapup_codes() {
    let fake = Fake::spawn(FakeConfig::default());
    let s = Scratch::new();
    let input = s.write(
        "q.csv",
        format!(
            "{HEADER}\n\
             Escalations,Sales,Second line,ALL,MANDATORY_TIMEOUT,30,10,Sale; Callback,,Acme Support,+1 317 555 0100\n\
             VIP Copy,,,,,,,,VIP,,\n\
             billing,,,,,,,,,,\n"
        ),
    );
    let out = run(genimport_against(s.dir.path(), &fake)
        .args(["queues"])
        .arg(&input));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = results(&s.path("q.results.csv"));
    let status: Vec<&str> = rows.iter().map(|r| r[2].as_str()).collect();
    assert_eq!(status, ["created", "created", "exists"]);
    assert_eq!(rows[0][7], "create; add wrapup Callback; add wrapup Sale");
    let escalations = queue_named(&fake, "Escalations");
    assert_eq!(
        escalations["division"]["id"],
        crate::common::fake::SALES_DIVISION
    );
    assert_eq!(
        escalations["acwSettings"],
        json!({"wrapupPrompt": "MANDATORY_TIMEOUT", "timeoutMs": 30000})
    );
    assert_eq!(
        escalations["mediaSettings"]["call"]["alertingTimeoutSeconds"],
        10
    );
    assert_eq!(escalations["callingPartyNumber"], "+13175550100");
    assert_eq!(escalations["skillEvaluationMethod"], "ALL");
    // copy_from: the new queue starts from VIP's settings.
    let copy = queue_named(&fake, "VIP Copy");
    assert_eq!(copy["bullseye"]["rings"][0]["expansionTimeoutSeconds"], 15);
    let state = fake.state();
    assert_eq!(state.queue_wrapups[&rows[0][3]].len(), 2);
    assert_eq!(
        state.counters.queue_creates, 2,
        "the existing queue (any case) is not created again"
    );
}

#[test]
fn unknown_names_and_repeats_are_invalid_before_any_write() {
    let fake = Fake::spawn(FakeConfig::default());
    let s = Scratch::new();
    let input = s.write(
        "q.csv",
        format!(
            "{HEADER}\n\
             New One,,,,,,,Sael,,,\n\
             New Two,,,,,,,,Nope Queue,,\n\
             Dup,,,,,,,,,,\n\
             DUP,,,,,,,,,,\n\
             Bad,,,SOMETIMES,LATER,5,,,,,\n"
        ),
    );
    let out = run(genimport_against(s.dir.path(), &fake)
        .args(["queues"])
        .arg(&input));
    assert_eq!(code(&out), exit::ROWS_NEED_ATTENTION, "{}", stderr(&out));
    let rows = results(&s.path("q.results.csv"));
    let status: Vec<&str> = rows.iter().map(|r| r[2].as_str()).collect();
    assert_eq!(
        status,
        ["invalid", "invalid", "created", "invalid", "invalid"]
    );
    assert_eq!(
        rows[0][6],
        "wrapup_codes: no wrap-up code named `Sael` (closest: Sale)"
    );
    assert_eq!(rows[1][6], "copy_from: no queue named `Nope Queue`");
    assert_eq!(rows[3][6], "name: repeats line 4");
    assert!(
        rows[4][6].contains("skill_evaluation: `SOMETIMES` is not one of NONE, BEST, ALL"),
        "{}",
        rows[4][6]
    );
    assert!(rows[4][6].contains("acw: `LATER`"), "{}", rows[4][6]);
    assert_eq!(fake.state().counters.queue_creates, 1);
}

#[test]
fn update_changes_only_the_row_keeps_every_other_setting_and_re_runs_send_nothing() {
    let fake = Fake::spawn(FakeConfig::default());
    let s = Scratch::new();
    let input = s.write(
        "q.csv",
        format!("{HEADER}\nBilling,,Billing questions,,,,12,Sale,,,\nSales,,,,,,,,,,\n"),
    );
    // Dry run first: the plan, no writes.
    let out = run(genimport_against(s.dir.path(), &fake)
        .args(["queues"])
        .arg(&input)
        .args(["--update", "--dry-run"]));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = results(&s.path("q.results.csv"));
    assert_eq!(
        (rows[0][2].as_str(), rows[0][7].as_str()),
        (
            "would_update",
            "description; alerting_timeout_s; add wrapup Sale"
        )
    );
    assert_eq!(rows[1][2], "unchanged");
    assert_eq!(queue_writes(&fake), 0);

    let out = run(genimport_against(s.dir.path(), &fake)
        .args(["queues"])
        .arg(&input)
        .arg("--update"));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = results(&s.path("q.results.csv"));
    assert_eq!(
        (rows[0][2].as_str(), rows[0][7].as_str()),
        (
            "updated",
            "description; alerting_timeout_s; add wrapup Sale"
        )
    );
    let billing = queue_named(&fake, "Billing");
    assert_eq!(billing["description"], "Billing questions");
    assert_eq!(
        billing["mediaSettings"]["call"]["alertingTimeoutSeconds"],
        12
    );
    // What the row does not name survived the PUT.
    assert_eq!(
        billing["mediaSettings"]["call"]["serviceLevel"]["durationMs"],
        20000
    );
    assert_eq!(
        billing["bullseye"]["rings"][0]["expansionTimeoutSeconds"],
        15
    );
    assert_eq!(billing["enableTranscription"], true);
    assert_eq!(billing["skillEvaluationMethod"], "BEST");

    let before = queue_writes(&fake);
    let out = run(genimport_against(s.dir.path(), &fake)
        .args(["queues"])
        .arg(&input)
        .arg("--update"));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = results(&s.path("q.results.csv"));
    assert_eq!(
        (rows[0][2].as_str(), rows[1][2].as_str()),
        ("unchanged", "unchanged")
    );
    assert_eq!(
        queue_writes(&fake),
        before,
        "an applied file sends no writes"
    );
}

#[test]
fn a_different_division_moves_an_existing_queue() {
    let fake = Fake::spawn(FakeConfig::default());
    let s = Scratch::new();
    let input = s.write("q.csv", format!("{HEADER}\nTech,Sales,,,,,,,,,\n"));
    let out = run(genimport_against(s.dir.path(), &fake)
        .args(["queues"])
        .arg(&input)
        .arg("--update"));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = results(&s.path("q.results.csv"));
    assert_eq!(
        (rows[0][2].as_str(), rows[0][7].as_str()),
        ("updated", "division")
    );
    assert_eq!(
        queue_named(&fake, "Tech")["division"]["id"],
        crate::common::fake::SALES_DIVISION
    );
    assert_eq!(fake.state().counters.queue_puts, 0, "a move is not a PUT");
}

#[test]
fn queues_are_checked_offline_and_users_is_the_explicit_default() {
    let s = Scratch::new();
    let input = s.write(
        "q.csv",
        format!("{HEADER}\nNew,,,,,,,Sale,,,\nStar*,,,,,,,,,,\n"),
    );
    let out = run(genimport(s.dir.path())
        .args(["queues"])
        .arg(&input)
        .arg("--dry-run"));
    assert_eq!(code(&out), exit::ROWS_NEED_ATTENTION, "{}", stderr(&out));
    let rows = results(&s.path("q.results.csv"));
    assert_eq!(
        (rows[0][2].as_str(), rows[0][7].as_str()),
        ("would_create", "create; add wrapup Sale")
    );
    assert!(rows[1][6].contains("wildcard"), "{}", rows[1][6]);

    let users = s.write("u.csv", users_csv(1));
    let out = run(genimport(s.dir.path())
        .args(["users"])
        .arg(&users)
        .arg("--dry-run"));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    assert_eq!(
        statuses(&read_results(&s.path("u.results.csv"))),
        ["would_create"]
    );
}

/// Runs genimport, killing it (and failing the test) if it has not ended
/// within `limit`: a retry loop without a cap must fail the test, not hang it.
fn run_within(cmd: &mut std::process::Command, limit: std::time::Duration) -> std::process::Output {
    use std::process::Stdio;
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn genimport");
    let deadline = std::time::Instant::now() + limit;
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("genimport still running after {limit:?}: a retry loop without a cap");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

fn queue_id(fake: &Fake, name: &str) -> String {
    let state = fake.state();
    state
        .queues
        .iter()
        .find(|(_, n)| n == name)
        .expect("queue")
        .0
        .clone()
}

#[test]
fn a_dash_clears_description_and_caller_id_and_is_never_written_as_text() {
    let fake = Fake::spawn(FakeConfig::default());
    let billing = queue_id(&fake, "Billing");
    {
        let mut state = fake.state();
        let body = state.queue_bodies.get_mut(&billing).expect("Billing");
        body["description"] = json!("Old text");
        body["callingPartyName"] = json!("Acme Billing");
        body["callingPartyNumber"] = json!("+13175550100");
    }
    let s = Scratch::new();
    let input = s.write(
        "q.csv",
        format!("{HEADER}\nBilling,,-,,,,,,,-,-\nFresh,,-,,,,,,,-,-\n"),
    );
    let out = run(genimport_against(s.dir.path(), &fake)
        .args(["queues"])
        .arg(&input)
        .arg("--update"));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = results(&s.path("q.results.csv"));
    assert_eq!(
        (rows[0][2].as_str(), rows[0][7].as_str()),
        (
            "updated",
            "description; calling_party_name; calling_party_number"
        )
    );
    assert_eq!(
        (rows[1][2].as_str(), rows[1][7].as_str()),
        ("created", "create")
    );
    for name in ["Billing", "Fresh"] {
        let queue = queue_named(&fake, name);
        for field in ["description", "callingPartyName", "callingPartyNumber"] {
            assert!(queue.get(field).is_none(), "{name}: {field} in {queue}");
        }
    }
    // The other settings survived the PUT.
    assert_eq!(queue_named(&fake, "Billing")["enableTranscription"], true);

    let before = queue_writes(&fake);
    let out = run(genimport_against(s.dir.path(), &fake)
        .args(["queues"])
        .arg(&input)
        .arg("--update"));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = results(&s.path("q.results.csv"));
    assert_eq!(
        (rows[0][2].as_str(), rows[1][2].as_str()),
        ("unchanged", "unchanged")
    );
    assert_eq!(queue_writes(&fake), before, "a cleared field stays cleared");
}

#[test]
fn a_persistent_5xx_or_408_on_create_fails_the_row_after_the_retry_cap() {
    for (status, error_code) in [(503, "service.unavailable"), (408, "client.timeout")] {
        let fake = Fake::spawn(FakeConfig::default());
        fake.state().queue_create_status = Some(status);
        let s = Scratch::new();
        let input = s.write("q.csv", format!("{HEADER}\nNever,,,,,,,,,,\n"));
        let out = run_within(
            genimport_against(s.dir.path(), &fake)
                .args(["queues"])
                .arg(&input)
                .args(["--max-retries", "3"]),
            std::time::Duration::from_secs(60),
        );
        assert_eq!(code(&out), exit::ROWS_NEED_ATTENTION, "{}", stderr(&out));
        let rows = results(&s.path("q.results.csv"));
        assert_eq!(rows.len(), 1, "the row has its result");
        assert_eq!(
            (
                rows[0][2].as_str(),
                rows[0][4].as_str(),
                rows[0][5].as_str()
            ),
            ("failed", status.to_string().as_str(), error_code)
        );
        assert!(
            rows[0][6].contains("gave up after 4 attempts"),
            "{}",
            rows[0][6]
        );
        assert_eq!(
            fake.state().counters.queue_creates,
            4,
            "HTTP {status}: the first attempt and 3 retries"
        );
    }
}

#[test]
fn update_reads_the_queue_again_before_the_put_and_keeps_a_setting_changed_meanwhile() {
    let fake = Fake::spawn(FakeConfig::default());
    let billing = queue_id(&fake, "Billing");
    // Someone turns transcription off after the preflight read the queue.
    fake.state().queue_edit_after_read =
        Some((billing.clone(), "enableTranscription".into(), json!(false)));
    let s = Scratch::new();
    let input = s.write(
        "q.csv",
        format!("{HEADER}\nBilling,,Billing questions,,,,,,,,\n"),
    );
    let out = run(genimport_against(s.dir.path(), &fake)
        .args(["queues"])
        .arg(&input)
        .arg("--update"));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = results(&s.path("q.results.csv"));
    assert_eq!(
        (rows[0][2].as_str(), rows[0][7].as_str()),
        ("updated", "description")
    );
    let queue = queue_named(&fake, "Billing");
    assert_eq!(queue["description"], "Billing questions");
    assert_eq!(
        queue["enableTranscription"], false,
        "the change made during the run is kept"
    );
}

#[test]
fn a_queue_put_conflict_reads_again_and_retries_within_the_cap() {
    let fake = Fake::spawn(FakeConfig::default());
    fake.state().queue_put_conflicts = 2;
    let s = Scratch::new();
    let input = s.write(
        "q.csv",
        format!("{HEADER}\nBilling,,Billing questions,,,,,,,,\nTech,,Tech questions,,,,,,,,\n"),
    );
    let out = run(genimport_against(s.dir.path(), &fake)
        .args(["queues"])
        .arg(&input)
        .args(["--update", "--concurrency", "1"]));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = results(&s.path("q.results.csv"));
    assert_eq!(
        (rows[0][2].as_str(), rows[1][2].as_str()),
        ("updated", "updated")
    );
    assert_eq!(
        queue_named(&fake, "Billing")["description"],
        "Billing questions"
    );
    assert_eq!(
        fake.state().counters.queue_puts,
        4,
        "two conflicts, two PUTs that landed"
    );

    // A conflict that never ends: the row fails naming it, after the cap.
    fake.state().queue_put_conflicts = 1000;
    let puts = fake.state().counters.queue_puts;
    let input = s.write(
        "q.csv",
        format!("{HEADER}\nSales,,Sales questions,,,,,,,,\n"),
    );
    let out = run_within(
        genimport_against(s.dir.path(), &fake)
            .args(["queues"])
            .arg(&input)
            .args(["--update", "--max-retries", "2"]),
        std::time::Duration::from_secs(60),
    );
    assert_eq!(code(&out), exit::ROWS_NEED_ATTENTION, "{}", stderr(&out));
    let rows = results(&s.path("q.results.csv"));
    assert_eq!(
        (
            rows[0][2].as_str(),
            rows[0][4].as_str(),
            rows[0][5].as_str()
        ),
        ("failed", "409", "request.conflict")
    );
    assert_eq!(fake.state().counters.queue_puts - puts, 3);
}
