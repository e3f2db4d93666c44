//! The read-only preflight: a key held by several users fails
//! its row, employee ids are searched as written, one row's read failing
//! fails that row only, `exists` says what `--update` would add, reads
//! speak Genesys' wire format (`expand` repeated, 50 values a search), and
//! an offline dry run lists a new user's whole plan.

use crate::common::fake::HOME_DIVISION;
use crate::common::*;

use serde_json::json;

#[test]
fn an_employee_id_two_users_hold_fails_the_row_and_writes_nothing() {
    let fake = Fake::spawn(FakeConfig::default());
    let first = fake.state().add_user_with(
        "ana@example.com",
        "Ana",
        json!({"title": "Agent", "employerInfo": {"employeeId": "E-7"}}),
    );
    let second = fake.state().add_user_with(
        "bea@example.com",
        "Bea",
        json!({"title": "Agent", "employerInfo": {"employeeId": "E-7"}}),
    );
    let before = fake.state().users.clone();
    let Ran {
        code,
        stderr: err,
        rows,
    } = import_csv(
        &fake,
        "email,name,employee_id,title\ncleo@example.com,Cleo,E-7,Boss\n",
        &["--update", "--match", "employee_id"],
    );
    assert_eq!(code, exit::ROWS_NEED_ATTENTION, "{err}");
    assert_eq!(statuses(&rows), ["failed"]);
    for named in [&first, &second] {
        assert!(
            rows[0].message.contains(named.as_str()),
            "{}",
            rows[0].message
        );
    }
    assert!(rows[0].message.contains("ana@example.com"));
    assert!(rows[0].message.contains("bea@example.com"));
    assert_eq!(writes(&fake), 0);
    assert_eq!(fake.state().users, before, "neither user changed");
}

#[test]
fn employee_ids_are_searched_as_written() {
    // The fake's EXACT match on hr.employeeId is case-sensitive.
    let fake = Fake::spawn(FakeConfig::default());
    let id = fake.state().add_user_with(
        "ana@example.com",
        "Ana",
        json!({"title": "Agent", "employerInfo": {"employeeId": "E-3026"}}),
    );
    let Ran {
        code,
        stderr: err,
        rows,
    } = import_csv(
        &fake,
        "email,name,employee_id,title\nana@example.com,Ana,E-3026,Lead\n",
        &["--update", "--match", "employee_id"],
    );
    assert_eq!(code, exit::OK, "{err}");
    assert_eq!(statuses(&rows), ["updated"], "{rows:?}");
    assert_eq!(rows[0].user_id, id);
    assert_eq!(rows[0].changes, "title");
    let state = fake.state();
    assert_eq!(state.users.len(), 1, "no second user created");
    assert_eq!(state.counters.create_requests, 0);
}

#[test]
fn restoring_a_user_that_held_a_named_role_does_not_abort_the_run() {
    // A deleted subject's grants answer 404 (the fake does as Genesys).
    let fake = Fake::spawn(FakeConfig::default());
    let gone = fake.state().add_user("gone@example.com", "Gone", "deleted");
    fake.state().seed_grant(&gone, "Agent", HOME_DIVISION);
    let Ran {
        code,
        stderr: err,
        rows,
    } = import_csv(
        &fake,
        "email,name,roles\ngone@example.com,Gone,Agent\nnew@example.com,New,Agent\n",
        &["--restore-deleted"],
    );
    assert_eq!(code, exit::OK, "{err}");
    assert_eq!(statuses(&rows), ["updated", "created"], "{rows:?}");
    assert!(
        rows[0].changes.starts_with("restore") && rows[0].changes.contains("add role Agent@Home"),
        "a restored user gets its roles back from the row: {}",
        rows[0].changes
    );
    let state = fake.state();
    assert_eq!(state.user("gone@example.com").unwrap().state, "active");
}

#[test]
fn one_users_failed_grants_read_fails_only_its_row() {
    let fake = Fake::spawn(FakeConfig::default());
    let ana = fake.state().add_user("ana@example.com", "Ana", "active");
    let bea = fake.state().add_user("bea@example.com", "Bea", "active");
    fake.state()
        .seed_grant(&ana, "Agent", crate::common::fake::SALES_DIVISION);
    fake.state()
        .seed_grant(&bea, "Agent", crate::common::fake::SALES_DIVISION);
    fake.state().refuse_subject_reads.insert(ana.clone());
    let Ran {
        code,
        stderr: err,
        rows,
    } = import_csv(
        &fake,
        "email,name,roles\nana@example.com,Ana,Agent\nbea@example.com,Bea,Agent\n",
        &["--update"],
    );
    assert_eq!(code, exit::ROWS_NEED_ATTENTION, "{err}");
    assert_eq!(statuses(&rows), ["failed", "updated"], "{rows:?}");
    assert!(rows[0].message.contains("grants"), "{}", rows[0].message);
    assert_eq!(rows[0].user_id, ana);
    assert_eq!(rows[1].changes, "add role Agent@Home");
    let state = fake.state();
    assert!(
        !state.grants[&ana].iter().any(|(_, d)| d == HOME_DIVISION),
        "nothing sent for the failed row"
    );
    assert!(state.grants[&bea].iter().any(|(_, d)| d == HOME_DIVISION));
}

#[test]
fn an_existing_user_says_what_update_would_add() {
    let fake = Fake::spawn(FakeConfig::default());
    let ana = fake
        .state()
        .add_user_with("ana@example.com", "Ana", json!({"title": "Agent"}));
    fake.state()
        .seed_grant(&ana, "Agent", crate::common::fake::SALES_DIVISION);
    let Ran {
        code,
        stderr: err,
        rows,
    } = import_csv(
        &fake,
        "email,name,title,roles,queues\nana@example.com,Ana,Lead,Agent,Billing\n",
        &[],
    );
    assert_eq!(code, exit::OK, "{err}");
    assert_eq!(statuses(&rows), ["exists"]);
    assert_eq!(
        rows[0].message,
        "already exists; --update would change: title; \
         --update would add: role Agent@Home; queue Billing"
    );
    assert_eq!(rows[0].changes, "");
    assert_eq!(writes(&fake), 0);

    // Once everything is there, it says so.
    let billing = fake.state().queues[1].0.clone();
    fake.state()
        .queue_members
        .insert(billing, vec![ana.clone()]);
    fake.state().seed_grant(&ana, "Agent", HOME_DIVISION);
    let Ran {
        code: _,
        stderr: _,
        rows,
    } = import_csv(
        &fake,
        "email,name,title,roles,queues\nana@example.com,Ana,Agent,Agent,Billing\n",
        &[],
    );
    assert_eq!(rows[0].message, "already exists and matches the row");
}

#[test]
fn a_user_reread_after_a_version_conflict_asks_expand_repeated() {
    // The fake refuses a comma-joined `expand` (it is collectionFormat multi).
    let fake = Fake::spawn(FakeConfig::default());
    fake.state()
        .add_user_with("ana@example.com", "Ana", json!({"title": "Agent"}));
    fake.state().concurrent_edits = 1;
    let Ran {
        code,
        stderr: err,
        rows,
    } = import_csv(
        &fake,
        "email,name,title\nana@example.com,Ana,Lead\n",
        &["--update"],
    );
    assert_eq!(code, exit::OK, "{err}");
    assert_eq!(statuses(&rows), ["updated"], "{rows:?}");
    let state = fake.state();
    assert_eq!(
        state.user("ana@example.com").unwrap().profile["title"],
        "Lead"
    );
    assert!(
        state.counters.get_requests >= 1,
        "re-read after the conflict"
    );
}

#[test]
fn searches_send_at_most_fifty_values() {
    // The fake refuses more than 50 values per criterion, as Genesys does.
    let fake = Fake::spawn(FakeConfig::default());
    let Ran {
        code,
        stderr: err,
        rows,
    } = import_csv(&fake, &users_csv(120), &["--dry-run"]);
    assert_eq!(code, exit::OK, "{err}");
    assert_each_line_once(&rows, 120);
    // 50 + 50 + 20, none refused and split.
    assert_eq!(fake.state().counters.search_requests, 3);
}

#[test]
fn an_offline_dry_run_lists_a_new_users_plan() {
    let s = Scratch::new();
    let input = s.write(
        "u.csv",
        "email,name,manager,location,roles,skills,languages,queues,groups,employee_id,hire_date,invite\n\
         ana@example.com,Ana,maria@example.com,Lisbon Office,Agent; Supervisor@Sales EMEA; Admin@*,\
         Sales:4; Billing:2.5,English:5,Billing; Support Tier 1,Night Shift,E-1,2026-12-01,yes\n\
         bea@example.com,Bea,,,,,,,,,,\n",
    );
    let out = run(genimport(s.dir.path()).arg(&input).arg("--dry-run"));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(statuses(&rows), ["would_create", "would_create"]);
    assert_eq!(
        rows[0].changes,
        "create; manager; location; employee_id; hire_date; add role Admin@*; \
         add role Agent; add role Supervisor@Sales EMEA; add skill Billing:2.5; \
         add skill Sales:4; add language English:5; add queue Billing; \
         add queue Support Tier 1; add group Night Shift; invite"
    );
    assert_eq!(rows[1].changes, "create");

    // `--invite` plans the invitation for every new user.
    let out = run(genimport(s.dir.path())
        .arg(&input)
        .args(["--dry-run", "--invite"]));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(rows[1].changes, "create; invite");
}

#[test]
fn a_failed_queue_members_read_fails_only_the_rows_that_name_the_queue() {
    let fake = Fake::spawn(FakeConfig::default());
    fake.state().add_user("ana@example.com", "Ana", "active");
    fake.state().add_user("bea@example.com", "Bea", "active");
    let billing = fake.state().queues[1].0.clone();
    fake.state().refuse_member_reads.insert(billing);
    let Ran {
        code,
        stderr: err,
        rows,
    } = import_csv(
        &fake,
        "email,name,queues\nana@example.com,Ana,Billing\nbea@example.com,Bea,Sales\n",
        // The undo file would need Billing's members for Bea too (her
        // queues before the run): this test is about the run's own reads.
        &["--update", "--max-retries", "2", "--undo", "none"],
    );
    assert_eq!(code, exit::ROWS_NEED_ATTENTION, "{err}");
    assert_eq!(statuses(&rows), ["failed", "updated"], "{rows:?}");
    assert!(
        rows[0].message.contains("members of queue Billing"),
        "{}",
        rows[0].message
    );
    assert_eq!(rows[1].changes, "add queue Sales");
    let state = fake.state();
    assert_eq!(
        state.counters.queue_member_requests, 1,
        "only Sales was written"
    );
}
