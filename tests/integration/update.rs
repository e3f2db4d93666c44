//! `--update` and `--match employee_id` against the stateful fake: only
//! what differs is sent, versions are respected, nothing the row does not
//! name is lost, and an applied file sends no writes at all.

use crate::common::*;

use serde_json::json;

fn existing_ana(fake: &Fake) -> String {
    fake.state().add_user_with(
        "ana@example.com",
        "Ana",
        json!({
            "title": "Agent", "department": "Support",
            "addresses": [
                {"address": "+13175550123", "display": "+1 317-555-0123", "mediaType": "PHONE", "type": "WORK"},
                {"address": "+13175550999", "mediaType": "PHONE", "type": "MOBILE"}
            ],
            "employerInfo": {"officialName": "Ana Q. Souza", "employeeId": "E-1"}
        }),
    )
}

/// Runs `--update` on `csv` against `fake`; it must exit 0. Its results.
fn run_update(fake: &Fake, csv: &str) -> Vec<ResultRow> {
    let s = Scratch::new();
    let input = s.write("u.csv", csv);
    let out = run(genimport_against(s.dir.path(), fake)
        .arg(&input)
        .arg("--update"));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    read_results(&s.path("u.results.csv"))
}

#[test]
fn blank_leaves_and_dash_clears() {
    let fake = Fake::spawn(FakeConfig::default());
    existing_ana(&fake);
    let rows = run_update(
        &fake,
        "email,name,title,department,phone\nana@example.com,Ana,,-,\n",
    );
    assert_eq!(statuses(&rows), ["updated"]);
    assert_eq!(rows[0].changes, "department");
    let state = fake.state();
    let ana = state.user("ana@example.com").unwrap();
    assert_eq!(ana.profile["department"], "");
    assert_eq!(ana.profile["title"], "Agent");
    assert_eq!(
        ana.profile["addresses"].as_array().unwrap().len(),
        2,
        "phone untouched"
    );
    assert_eq!(state.counters.patch_requests, 1);
}

#[test]
fn a_state_change_goes_in_a_patch_of_its_own() {
    // The fake refuses `state` with any other field, as Genesys documents.
    let fake = Fake::spawn(FakeConfig::default());
    existing_ana(&fake);
    let rows = run_update(
        &fake,
        "email,name,title,state\nana@example.com,Ana,Team Lead,inactive\n",
    );
    assert_eq!(statuses(&rows), ["updated"]);
    assert_eq!(rows[0].changes, "title; state");
    let state = fake.state();
    let ana = state.user("ana@example.com").unwrap();
    assert_eq!(
        (ana.state.as_str(), ana.profile["title"].as_str()),
        ("inactive", Some("Team Lead"))
    );
    assert_eq!(state.counters.patch_requests, 2);
}

#[test]
fn the_work_phone_and_employer_info_are_merged_not_replaced() {
    let fake = Fake::spawn(FakeConfig::default());
    existing_ana(&fake);
    let rows = run_update(&fake, "email,name,phone,hire_date,employee_type\nana@example.com,Ana,+44 20 7946 0958,2026-12-01,full-time\n");
    assert_eq!(rows[0].changes, "phone; employee_type; hire_date");
    let state = fake.state();
    let ana = state.user("ana@example.com").unwrap();
    assert_eq!(
        ana.profile["addresses"],
        json!([
            {"address": "+13175550999", "mediaType": "PHONE", "type": "MOBILE"},
            {"address": "+442079460958", "mediaType": "PHONE", "type": "WORK"}
        ])
    );
    assert_eq!(
        ana.profile["employerInfo"],
        json!({"officialName": "Ana Q. Souza", "employeeId": "E-1", "employeeType": "Full-time", "dateHire": "2026-12-01"})
    );
    assert_eq!(
        state.counters.patch_requests, 1,
        "one PATCH for every profile field"
    );
}

#[test]
fn a_different_division_moves_users_in_one_batch() {
    let fake = Fake::spawn(FakeConfig::default());
    for i in 0..3 {
        fake.state().add_user(
            &format!("user{i}@example.com"),
            &format!("User {i}"),
            "active",
        );
    }
    let s = Scratch::new();
    let mut csv = String::from("email,name,division\n");
    for i in 0..3 {
        csv.push_str(&format!("user{i}@example.com,User {i},Sales\n"));
    }
    let input = s.write("u.csv", csv);
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input).args([
        "--update",
        "--concurrency",
        "2",
    ]));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(statuses(&rows), ["updated"; 3]);
    assert!(rows.iter().all(|r| r.changes == "division"));
    let state = fake.state();
    assert!(state
        .users
        .iter()
        .all(|u| u.division_id == crate::common::fake::SALES_DIVISION));
    assert_eq!(
        state.counters.division_moves, 1,
        "one request for three users"
    );
    assert_eq!(state.counters.patch_requests, 0);
}

#[test]
fn a_refused_step_is_incomplete_and_a_re_run_completes_only_it() {
    let fake = Fake::spawn(FakeConfig::default());
    existing_ana(&fake);
    fake.state().refuse_division_moves = true;
    let s = Scratch::new();
    let input = s.write(
        "u.csv",
        "email,name,title,division\nana@example.com,Ana,Lead,Sales\n",
    );
    let out = run(genimport_against(s.dir.path(), &fake)
        .arg(&input)
        .arg("--update"));
    assert_eq!(code(&out), exit::ROWS_NEED_ATTENTION, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(statuses(&rows), ["incomplete"]);
    assert_eq!(rows[0].changes, "title");
    assert_eq!(rows[0].http_status, "403");
    assert_eq!(rows[0].error_code, "bulk.move.no.permission.division");
    assert!(
        rows[0].message.contains("division `Sales`"),
        "{}",
        rows[0].message
    );

    fake.state().refuse_division_moves = false;
    let patches = fake.state().counters.patch_requests;
    let out = run(genimport_against(s.dir.path(), &fake)
        .arg(&input)
        .arg("--update"));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(
        (rows[0].status.as_str(), rows[0].changes.as_str()),
        ("updated", "division")
    );
    assert_eq!(
        fake.state().counters.patch_requests,
        patches,
        "the title was not sent again"
    );
}

#[test]
fn a_version_conflict_rereads_and_keeps_the_other_edit() {
    let fake = Fake::spawn(FakeConfig::default());
    let id = existing_ana(&fake);
    fake.state().concurrent_edits = 1;
    let rows = run_update(&fake, "email,name,title\nana@example.com,Ana,Lead\n");
    assert_eq!(statuses(&rows), ["updated"]);
    let state = fake.state();
    let ana = state.user_by_id(&id).unwrap();
    assert_eq!(ana.profile["title"], "Lead");
    assert_eq!(
        ana.profile["preferredName"], "Edited Elsewhere",
        "the other edit survives"
    );
    assert_eq!(
        state.counters.patch_requests, 2,
        "refused once, then applied"
    );
    assert_eq!(state.counters.get_requests, 1, "one re-read");
}

#[test]
fn endless_version_conflicts_give_up_without_overwriting() {
    let fake = Fake::spawn(FakeConfig::default());
    existing_ana(&fake);
    fake.state().concurrent_edits = 100;
    let s = Scratch::new();
    let input = s.write("u.csv", "email,name,title\nana@example.com,Ana,Lead\n");
    let out = run(genimport_against(s.dir.path(), &fake)
        .arg(&input)
        .arg("--update"));
    assert_eq!(code(&out), exit::ROWS_NEED_ATTENTION, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(statuses(&rows), ["failed"]);
    assert!(
        rows[0].message.contains("version conflict"),
        "{}",
        rows[0].message
    );
    assert_eq!(
        fake.state().user("ana@example.com").unwrap().profile["title"],
        "Agent"
    );
}

#[test]
fn a_password_cell_is_not_applied_to_an_existing_user() {
    let fake = Fake::spawn(FakeConfig::default());
    existing_ana(&fake);
    let rows = run_update(
        &fake,
        "email,name,title,password\nana@example.com,Ana,Agent,New-Secret-123\n",
    );
    assert_eq!(statuses(&rows), ["unchanged"]);
    assert!(
        rows[0].message.contains("password cell is not applied"),
        "{}",
        rows[0].message
    );
    assert_eq!(writes(&fake), 0);
}

#[test]
fn match_employee_id_finds_the_user_and_changes_its_email() {
    let fake = Fake::spawn(FakeConfig::default());
    let id = existing_ana(&fake);
    let s = Scratch::new();
    let input = s.write(
        "u.csv",
        "employee_id,email,name\nE-1,ana.souza@example.com,Ana\nE-2,bo@example.com,Bo\n",
    );
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input).args([
        "--update",
        "--match",
        "employee_id",
    ]));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(statuses(&rows), ["updated", "created"]);
    assert_eq!(rows[0].changes, "email");
    assert_eq!(rows[0].user_id, id);
    assert_eq!(rows[1].changes, "create; employee_id");
    let state = fake.state();
    assert_eq!(
        state.user_by_id(&id).unwrap().email,
        "ana.souza@example.com"
    );
    assert_eq!(
        state.user("bo@example.com").unwrap().profile["employerInfo"]["employeeId"],
        "E-2"
    );
    drop(state);

    // The same file again: found by employee id, nothing to send.
    let before = writes(&fake);
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input).args([
        "--update",
        "--match",
        "employee_id",
    ]));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    assert_eq!(
        statuses(&read_results(&s.path("u.results.csv"))),
        ["unchanged"; 2]
    );
    assert_eq!(writes(&fake), before);
}

#[test]
fn match_employee_id_needs_the_column_and_unique_ids() {
    let s = Scratch::new();
    let input = s.write("u.csv", users_csv(2));
    let out =
        run(genimport(s.dir.path())
            .arg(&input)
            .args(["--dry-run", "--match", "employee_id"]));
    assert_eq!(code(&out), exit::DATA_ERR, "{}", stderr(&out));
    assert!(stderr(&out).contains("employee_id"), "{}", stderr(&out));

    let input = s.write(
        "dup.csv",
        "email,name,employee_id\na@x.com,A,E-7\nb@x.com,B,e-7\nc@x.com,C,\n",
    );
    let out =
        run(genimport(s.dir.path())
            .arg(&input)
            .args(["--dry-run", "--match", "employee_id"]));
    assert_eq!(code(&out), exit::ROWS_NEED_ATTENTION, "{}", stderr(&out));
    let rows = read_results(&s.path("dup.results.csv"));
    assert_eq!(statuses(&rows), ["would_create", "invalid", "invalid"]);
    assert_eq!(rows[1].message, "employee_id: repeats line 2");
    assert!(
        rows[2].message.contains("employee_id: missing"),
        "{}",
        rows[2].message
    );
}

#[test]
fn dry_run_update_prints_the_plan_and_sends_no_write() {
    let fake = Fake::spawn(FakeConfig::default());
    existing_ana(&fake);
    fake.state().add_user("same@example.com", "Same", "active");
    let s = Scratch::new();
    let input = s.write(
        "u.csv",
        "email,name,title,division\nana@example.com,Ana,Lead,Sales\nsame@example.com,Same,,\nnew@example.com,New,,\n",
    );
    let out = run(genimport_against(s.dir.path(), &fake)
        .arg(&input)
        .args(["--update", "--dry-run"]));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(
        statuses(&rows),
        ["would_update", "unchanged", "would_create"]
    );
    assert_eq!(rows[0].changes, "title; division");
    assert_eq!(rows[2].changes, "create");
    assert_eq!(writes(&fake), 0);

    // The plan printed is the plan applied.
    let out = run(genimport_against(s.dir.path(), &fake)
        .arg(&input)
        .arg("--update"));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let mut applied = read_results(&s.path("u.results.csv"));
    // A row waiting for a (batched) division move is written last.
    applied.sort_by_key(|r| r.line);
    assert_eq!(statuses(&applied), ["updated", "unchanged", "created"]);
    let changes: Vec<&str> = applied.iter().map(|r| r.changes.as_str()).collect();
    assert_eq!(changes, [rows[0].changes.as_str(), "", "create"]);
}

#[test]
fn an_applied_file_sends_no_writes_on_a_re_run() {
    let fake = Fake::spawn(FakeConfig::default());
    let s = Scratch::new();
    let mut csv = String::from("email,name,title,phone,division,employee_id\n");
    for i in 0..20 {
        csv.push_str(&format!(
            "u{i}@example.com,User {i},Agent,+1317555{i:04},Sales,E-{i}\n"
        ));
    }
    let input = s.write("u.csv", csv);
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input).args([
        "--update",
        "--concurrency",
        "4",
    ]));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    assert_eq!(
        statuses(&read_results(&s.path("u.results.csv"))),
        ["created"; 20]
    );

    let before = (writes(&fake), fake.state().counters.api_requests);
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input).args([
        "--update",
        "--concurrency",
        "4",
    ]));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(statuses(&rows), ["unchanged"; 20]);
    assert!(rows.iter().all(|r| r.changes.is_empty()));
    let after = (writes(&fake), fake.state().counters.api_requests);
    assert_eq!(after.0, before.0, "no writes");
    assert!(
        after.1 - before.1 <= 3,
        "reads only: divisions and one search ({})",
        after.1 - before.1
    );
}

#[test]
fn without_update_existing_users_are_left_alone_and_the_message_says_why() {
    let fake = Fake::spawn(FakeConfig::default());
    existing_ana(&fake);
    let s = Scratch::new();
    let input = s.write("u.csv", "email,name,title\nana@example.com,Ana,Lead\n");
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(statuses(&rows), ["exists"]);
    assert!(
        rows[0].message.contains("--update would change: title"),
        "{}",
        rows[0].message
    );
    assert_eq!(rows[0].changes, "");
    assert_eq!(writes(&fake), 0);
}

#[test]
fn a_restored_user_gets_its_row_applied() {
    let fake = Fake::spawn(FakeConfig::default());
    fake.state().add_user("gone@example.com", "Gone", "deleted");
    let s = Scratch::new();
    let input = s.write(
        "u.csv",
        "email,name,title,division\ngone@example.com,Back Again,Agent,Sales\n",
    );
    let out = run(genimport_against(s.dir.path(), &fake)
        .arg(&input)
        .arg("--restore-deleted"));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(statuses(&rows), ["updated"]);
    // Genesys gives a restored user no role back: Employee is granted again.
    assert_eq!(
        rows[0].changes,
        "restore; name; title; division; add role Employee@Home"
    );
    let state = fake.state();
    let user = state.user("gone@example.com").unwrap();
    assert_eq!(
        (user.state.as_str(), user.name.as_str()),
        ("active", "Back Again")
    );
    assert_eq!(user.division_id, crate::common::fake::SALES_DIVISION);
}
