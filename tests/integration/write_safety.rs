//! An org's data is safe in every write path: one snapshot per
//! user merged by every answer, location moves, independent steps with
//! every failure named, invitations completed, restores that apply the
//! whole row, poisoned batches isolated, created users that always get
//! their steps, timeouts settled by a re-read, and a re-run that writes
//! nothing.

use crate::common::*;

use serde_json::{json, Value};

fn location(fake: &Fake, name: &str) -> String {
    let state = fake.state();
    let found = state.locations.iter().find(|(_, n)| n == name).unwrap();
    found.0.clone()
}

fn profile(fake: &Fake, email: &str, key: &str) -> Value {
    let state = fake.state();
    let user = state.user(email).unwrap();
    user.profile.get(key).cloned().unwrap_or(Value::Null)
}

#[test]
fn a_state_change_keeps_employer_info_the_patch_answer_lacks() {
    let fake = Fake::spawn(FakeConfig::default());
    fake.state().add_user_with(
        "ana@example.com",
        "Ana",
        json!({"title": "Agent", "employerInfo": {"officialName": "Ana Q. Souza", "employeeId": "E-1", "employeeType": "Full-time", "dateHire": "2020-01-02"}}),
    );
    let Ran {
        code,
        rows,
        stderr: err,
    } = import_csv(
        &fake,
        "email,name,title,state,employee_id\nana@example.com,Ana,Lead,inactive,E-1\n",
        &["--update"],
    );
    assert_eq!(code, exit::OK, "{err}");
    assert_eq!(statuses(&rows), ["updated"]);
    assert!(
        !rows[0].changes.contains("employee_id"),
        "{}",
        rows[0].changes
    );
    assert!(rows[0].changes.contains("state") && rows[0].changes.contains("title"));
    assert_eq!(
        profile(&fake, "ana@example.com", "employerInfo"),
        json!({"officialName": "Ana Q. Souza", "employeeId": "E-1", "employeeType": "Full-time", "dateHire": "2020-01-02"})
    );
}

#[test]
fn a_location_is_kept_with_its_details_moved_or_cleared() {
    let fake = Fake::spawn(FakeConfig::default());
    let (lisbon, dublin) = (
        location(&fake, "Lisbon Office"),
        location(&fake, "Dublin Office"),
    );
    let kept = json!([{"id": lisbon, "notes": "desk 4", "floorplanId": "fp1", "coordinates": {"x": 1.5, "y": 2.0}, "locationDefinition": {"id": lisbon}}]);
    {
        let mut state = fake.state();
        state.add_user_with(
            "stay@example.com",
            "Stay",
            json!({"title": "Agent", "locations": kept}),
        );
        state.add_user_with(
            "move@example.com",
            "Move",
            json!({"locations": [{"id": dublin, "notes": "desk 7", "locationDefinition": {"id": dublin}}]}),
        );
        state.add_user_with(
            "clear@example.com",
            "Clear",
            json!({"locations": [{"locationDefinition": {"id": dublin}}]}),
        );
    }
    let csv = "email,name,title,location\n\
               stay@example.com,Stay,Lead,Lisbon Office\n\
               move@example.com,Move,,Lisbon Office\n\
               clear@example.com,Clear,,-\n";
    let Ran {
        code,
        rows,
        stderr: err,
    } = import_csv(&fake, csv, &["--update"]);
    assert_eq!(code, exit::OK, "{err}");
    assert_eq!(statuses(&rows), ["updated", "updated", "updated"]);
    assert_eq!(rows[0].changes, "title");
    assert_eq!(rows[1].changes, "location");
    assert_eq!(rows[2].changes, "location");
    assert_eq!(profile(&fake, "stay@example.com", "locations"), kept);
    assert_eq!(
        profile(&fake, "move@example.com", "locations"),
        json!([{"id": lisbon, "locationDefinition": {"id": lisbon}}]),
        "a move replaces the other placement"
    );
    assert_eq!(profile(&fake, "clear@example.com", "locations"), json!([]));
}

/// Three existing users that each lack a role, a queue and a group.
fn three_existing(fake: &Fake) -> [String; 3] {
    let mut state = fake.state();
    ["ana", "bob", "cid"]
        .map(|n| state.add_user_with(&format!("{n}@example.com"), n, json!({"title": "Agent"})))
}

// The invitation is independent of the failed steps too.
#[test]
fn one_poisoned_member_fails_only_its_row_and_its_other_steps_are_done() {
    let fake = Fake::spawn(FakeConfig::default());
    let [ana, bob, cid] = three_existing(&fake);
    fake.state().write_faults.poison_members = vec![bob.clone()];
    let csv = "email,name,title,roles,queues,groups,invite\n\
               ana@example.com,ana,Lead,Agent,Billing,Night Shift,yes\n\
               bob@example.com,bob,Lead,Agent,Billing,Night Shift,yes\n\
               cid@example.com,cid,Lead,Agent,Billing,Night Shift,yes\n";
    let Ran {
        code,
        rows,
        stderr: err,
    } = import_csv(&fake, csv, &["--update"]);
    assert_eq!(code, exit::ROWS_NEED_ATTENTION, "{err}");
    assert_eq!(statuses(&rows), ["updated", "incomplete", "updated"]);
    let bob_row = &rows[1];
    for step in ["role Agent", "queue `Billing`", "group `Night Shift`"] {
        assert!(
            bob_row.message.contains(step),
            "{step}: {}",
            bob_row.message
        );
    }
    assert_eq!(
        bob_row.changes, "title; invite",
        "done despite the failures"
    );
    assert_eq!(bob_row.http_status, "400");
    let state = fake.state();
    let billing = &state.queues.iter().find(|(_, n)| n == "Billing").unwrap().0;
    let mut members = state.queue_members[billing].clone();
    members.sort();
    assert_eq!(members, [ana.clone(), cid.clone()]);
    assert_eq!(state.groups[0].members.len(), 2);
    assert!(
        state.grants.get(&bob).is_none_or(Vec::is_empty),
        "no role for bob"
    );
    assert_eq!(state.invited.len(), 3, "every invitation sent");
}

#[test]
fn update_invites_an_existing_user_only_if_it_never_was() {
    let fake = Fake::spawn(FakeConfig::default());
    let (never, welcomed, flag) = {
        let mut state = fake.state();
        (
            state.add_user("never@example.com", "Never", "active"),
            state.add_user_with(
                "welcomed@example.com",
                "Welcomed",
                json!({"dateWelcomeSent": "2025-01-01T00:00:00.000Z"}),
            ),
            state.add_user("flag@example.com", "Flag", "active"),
        )
    };
    let csv = "email,name,invite\n\
               never@example.com,Never,yes\n\
               welcomed@example.com,Welcomed,yes\n\
               flag@example.com,Flag,\n";
    let Ran {
        code,
        rows,
        stderr: err,
    } = import_csv(&fake, csv, &["--update", "--invite"]);
    assert_eq!(code, exit::OK, "{err}");
    assert_eq!(statuses(&rows), ["updated", "unchanged", "updated"]);
    assert_eq!(rows[0].changes, "invite");
    let mut invited = fake.state().invited.clone();
    invited.sort();
    let mut expected = vec![never, flag];
    expected.sort();
    assert_eq!(invited, expected);
    assert!(!fake.state().invited.contains(&welcomed));
    // A second run: every invitation is on record, nothing is sent.
    let Ran {
        code: _,
        rows,
        stderr: _,
    } = import_csv(&fake, csv, &["--update", "--invite"]);
    assert_eq!(statuses(&rows), ["unchanged", "unchanged", "unchanged"]);
}

#[test]
fn a_deleted_user_found_by_the_create_conflict_gets_the_whole_row() {
    let fake = Fake::spawn(FakeConfig::default());
    let maria = fake
        .state()
        .add_user("maria@example.com", "Maria", "active");
    fake.state().delete_on_first_create = Some("gone@example.com".into());
    let csv = "email,name,title,division,roles,queues,location,manager\n\
               gone@example.com,Gone Back,Agent,Sales,Agent,Billing,Lisbon Office,maria@example.com\n";
    let Ran {
        code,
        rows,
        stderr: err,
    } = import_csv(&fake, csv, &["--restore-deleted"]);
    assert_eq!(code, exit::OK, "{err}\n{rows:?}");
    assert_eq!(statuses(&rows), ["updated"]);
    let changes = &rows[0].changes;
    assert!(changes.starts_with("restore;"), "{changes}");
    for item in [
        "division",
        "location",
        "manager",
        "add role Employee@Home",
        "add role Agent@Home",
        "add queue Billing",
    ] {
        assert!(changes.contains(item), "{item}: {changes}");
    }
    assert!(rows[0].message.contains("restored"), "{}", rows[0].message);
    let lisbon = location(&fake, "Lisbon Office");
    let state = fake.state();
    let user = state.user("gone@example.com").unwrap();
    assert_eq!(user.state, "active");
    assert_eq!(user.division_id, crate::common::fake::SALES_DIVISION);
    assert_eq!(user.profile["manager"]["id"], maria.as_str());
    assert_eq!(
        user.profile["locations"][0]["locationDefinition"]["id"],
        lisbon.as_str()
    );
    let grants = &state.grants[&user.id];
    assert!(
        grants
            .iter()
            .any(|(r, _)| r == crate::common::fake::EMPLOYEE_ROLE),
        "{grants:?}"
    );
    assert_eq!(grants.len(), 2, "{grants:?}");
}

// A lost answer, a search that misses, then a conflict.
#[test]
fn a_create_found_after_a_lost_answer_and_a_conflict_gets_its_steps() {
    let fake = Fake::spawn(FakeConfig::default());
    {
        let mut state = fake.state();
        state
            .faults_by_email
            .insert("ana@example.com".into(), [Fault::DropAfterCommit].into());
        // The preflight's search, then the check after the create.
        state.write_faults.blind_searches = 2;
    }
    let Ran {
        code,
        rows,
        stderr: err,
    } = import_csv(
        &fake,
        "email,name,queues,employee_id\nana@example.com,Ana,Billing,E-5\n",
        &[],
    );
    assert_eq!(code, exit::OK, "{err}\n{rows:?}");
    assert_eq!(statuses(&rows), ["created"]);
    assert_eq!(rows[0].changes, "create; employee_id; add queue Billing");
    assert_eq!(
        profile(&fake, "ana@example.com", "employerInfo")["employeeId"],
        "E-5"
    );
}

// A 2xx without an id.
#[test]
fn a_create_answered_without_an_id_gets_its_steps() {
    let fake = Fake::spawn(FakeConfig::default());
    {
        let mut state = fake.state();
        state.write_faults.creates_without_id = 1;
        // The preflight's search, then the check after the create.
        state.write_faults.blind_searches = 2;
    }
    let Ran {
        code,
        rows,
        stderr: err,
    } = import_csv(
        &fake,
        "email,name,queues\nana@example.com,Ana,Billing\n",
        &[],
    );
    assert_eq!(code, exit::OK, "{err}\n{rows:?}");
    assert_eq!(statuses(&rows), ["created"]);
    assert_eq!(rows[0].changes, "create; add queue Billing");
    assert!(!rows[0].user_id.is_empty());
}

#[test]
fn a_patch_that_landed_but_timed_out_is_reported_done() {
    let fake = Fake::spawn(FakeConfig::default());
    fake.state()
        .add_user_with("ana@example.com", "Ana", json!({"title": "Agent"}));
    fake.state().write_faults.patch_timeouts = 1;
    let Ran {
        code,
        rows,
        stderr: err,
    } = import_csv(
        &fake,
        "email,name,title\nana@example.com,Ana,Lead\n",
        &["--update"],
    );
    assert_eq!(code, exit::OK, "{err}");
    assert_eq!(statuses(&rows), ["updated"]);
    assert_eq!(rows[0].changes, "title");
    assert_eq!(fake.state().counters.patch_requests, 1, "not sent twice");
}

#[test]
fn a_version_conflict_during_a_restore_rereads_the_deleted_user() {
    let fake = Fake::spawn(FakeConfig::default());
    fake.state().add_user("gone@example.com", "Gone", "deleted");
    fake.state().concurrent_edits = 1;
    let Ran {
        code,
        rows,
        stderr: err,
    } = import_csv(
        &fake,
        "email,name\ngone@example.com,Gone\n",
        &["--restore-deleted"],
    );
    assert_eq!(code, exit::OK, "{err}\n{rows:?}");
    assert_eq!(statuses(&rows), ["updated"]);
    assert!(
        rows[0].changes.starts_with("restore"),
        "{}",
        rows[0].changes
    );
    assert_eq!(
        fake.state().user("gone@example.com").unwrap().state,
        "active"
    );
}

// The README's provisioning example, applied twice: the second run writes nothing.
#[test]
fn the_readme_provisioning_example_twice_writes_nothing_the_second_time() {
    let fake = Fake::spawn(FakeConfig::default());
    fake.state()
        .add_user("maria.lopez@example.com", "Maria Lopez", "active");
    let csv = "email,name,manager,roles,skills,languages,queues,groups,location,employee_id,employee_type,hire_date,invite\n\
ana.souza@example.com,Ana Souza,maria.lopez@example.com,Agent; Quality Evaluator@Sales,Sales:4; Billing:2.5,English:4; French:3,Sales; Billing,Night Shift,Lisbon Office,E-10442,Full-time,2026-12-01,yes\n";
    let Ran {
        code,
        rows,
        stderr: err,
    } = import_csv(&fake, csv, &["--update"]);
    assert_eq!(code, exit::OK, "{err}");
    assert_eq!(statuses(&rows), ["created"]);
    let first = fake.state().write_faults.writes_by_method.clone();
    assert!(writes(&fake) > 0);
    let Ran {
        code,
        rows,
        stderr: err,
    } = import_csv(&fake, csv, &["--update"]);
    assert_eq!(code, exit::OK, "{err}");
    assert_eq!(statuses(&rows), ["unchanged"], "{rows:?}");
    assert_eq!(
        fake.state().write_faults.writes_by_method,
        first,
        "no POST, PATCH, PUT or DELETE on the second run"
    );
}
