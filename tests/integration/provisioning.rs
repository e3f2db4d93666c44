//! A created user is a working agent: manager, roles, skills, languages,
//! queues, groups, location, employer info and the invitation, by name,
//! batched across users, additive, and complete on a re-run.

use crate::common::*;

use serde_json::json;

const HEADER: &str = "email,name,manager,roles,skills,languages,queues,groups,location,employee_id,employee_type,hire_date,invite";

fn id_of(
    fake: &Fake,
    list: fn(&crate::common::fake::State) -> &Vec<(String, String)>,
    name: &str,
) -> String {
    let state = fake.state();
    list(&state)
        .iter()
        .find(|(_, n)| n == name)
        .unwrap()
        .0
        .clone()
}

#[test]
fn a_full_row_makes_a_working_agent_and_a_re_run_sends_nothing() {
    let fake = Fake::spawn(FakeConfig::default());
    let s = Scratch::new();
    let input = s.write(
        "u.csv",
        format!(
            "{HEADER}\n\
             ana@example.com,Ana,maria@example.com,Agent; Supervisor@Sales,Sales:4; Billing:2.5,English:5,Support Tier 1,Night Shift,Lisbon Office,E-1,Full-time,2026-12-01,yes\n\
             maria@example.com,Maria,,Supervisor,,,,,,,,,no\n"
        ),
    );
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let mut rows = read_results(&s.path("u.results.csv"));
    rows.sort_by_key(|r| r.line);
    assert_eq!(statuses(&rows), ["created", "created"]);
    assert_eq!(
        rows[0].changes,
        "create; manager; location; employee_id; employee_type; hire_date; add role Agent@Home; \
         add role Supervisor@Sales; add skill Billing:2.5; add skill Sales:4; add language English:5; \
         add queue Support Tier 1; add group Night Shift; invite"
    );
    assert_eq!(rows[1].changes, "create; add role Supervisor@Home");

    let state = fake.state();
    let ana = state.user("ana@example.com").unwrap();
    let maria = state.user("maria@example.com").unwrap();
    assert_eq!(
        ana.profile["manager"]["id"],
        maria.id.as_str(),
        "a manager created in the same run"
    );
    assert_eq!(
        ana.profile["employerInfo"],
        json!({"employeeId": "E-1", "employeeType": "Full-time", "dateHire": "2026-12-01"})
    );
    let lisbon = state
        .locations
        .iter()
        .find(|(_, n)| n == "Lisbon Office")
        .unwrap()
        .0
        .clone();
    assert_eq!(
        ana.profile["locations"],
        json!([{"id": lisbon, "locationDefinition": {"id": lisbon}}])
    );
    let skills: Vec<(String, f64)> = ana.profile["skills"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["proficiency"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        skills,
        [("Sales".to_string(), 4.0), ("Billing".to_string(), 2.5)]
    );
    let grants = &state.grants[&ana.id];
    assert_eq!(
        grants.len(),
        3,
        "Employee, Agent@Home, Supervisor@Sales: {grants:?}"
    );
    assert!(grants.contains(&(
        state.roles[2].0.clone(),
        crate::common::fake::SALES_DIVISION.to_string()
    )));
    let queue = &state.queues[0].0;
    assert_eq!(state.queue_members[queue], std::slice::from_ref(&ana.id));
    assert_eq!(state.groups[0].members, std::slice::from_ref(&ana.id));
    assert_eq!(
        state.invited,
        std::slice::from_ref(&ana.id),
        "invite: no for Maria"
    );
    // One PATCH for Ana (employer, manager, location together), none for Maria.
    assert_eq!(state.counters.patch_requests, 1);
    drop(state);

    let before = writes(&fake);
    let out = run(genimport_against(s.dir.path(), &fake)
        .arg(&input)
        .arg("--update"));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(statuses(&rows), ["unchanged", "unchanged"], "{rows:?}");
    assert_eq!(writes(&fake), before, "an applied file sends no writes");
}

#[test]
fn unknown_or_ambiguous_names_make_the_row_invalid_before_any_write() {
    let fake = Fake::spawn(FakeConfig::default());
    let s = Scratch::new();
    let input = s.write(
        "u.csv",
        format!(
            "{HEADER}\n\
             a@example.com,A,,Agnet,,,,,,,,,\n\
             b@example.com,B,,,billing,,,,,,,,\n\
             c@example.com,C,nobody@example.com,,,,Suport Tier 1,,,,,,\n\
             d@example.com,D,,Agent@Nowhere,,Klingon,,,Mars Office,,,,\n\
             e@example.com,E,,agent,sales:3,,,night shift,,,,,\n\
             f@example.com,F,,,,,,Nite Shift,,,,,\n"
        ),
    );
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input));
    assert_eq!(code(&out), exit::ROWS_NEED_ATTENTION, "{}", stderr(&out));
    let mut rows = read_results(&s.path("u.results.csv"));
    rows.sort_by_key(|r| r.line);
    assert_eq!(
        statuses(&rows),
        ["invalid", "invalid", "invalid", "invalid", "created", "invalid"]
    );
    assert_eq!(
        rows[5].message,
        "groups: no group named `Nite Shift` (closest: Night Shift)"
    );
    assert_eq!(
        rows[0].message,
        "roles: no role named `Agnet` (closest: Agent)"
    );
    assert!(
        rows[1]
            .message
            .contains("matches more than one skill when case is ignored"),
        "{}",
        rows[1].message
    );
    assert!(
        rows[2]
            .message
            .contains("manager: no user with the email `nobody@example.com`"),
        "{}",
        rows[2].message
    );
    assert!(
        rows[2]
            .message
            .contains("queues: no queue named `Suport Tier 1` (closest: Support Tier 1)"),
        "{}",
        rows[2].message
    );
    assert!(
        rows[3]
            .message
            .contains("roles: `Agent`: no division named `Nowhere`"),
        "{}",
        rows[3].message
    );
    assert!(
        rows[3]
            .message
            .contains("languages: no language named `Klingon`"),
        "{}",
        rows[3].message
    );
    assert!(
        rows[3]
            .message
            .contains("location: no location named `Mars Office`"),
        "{}",
        rows[3].message
    );
    // A unique case-insensitive match is accepted, written as Genesys has it.
    assert_eq!(
        rows[4].changes,
        "create; add role Agent@Home; add skill Sales:3; add group Night Shift"
    );
    assert_eq!(
        fake.state().counters.create_requests,
        1,
        "only the valid row was sent"
    );
}

#[test]
fn batches_are_split_on_the_documented_caps() {
    let fake = Fake::spawn(FakeConfig::default());
    // The role grant cap is undocumented: a refused batch is split.
    fake.state().max_role_subjects = 40;
    let s = Scratch::new();
    let mut csv = format!("{HEADER}\n");
    for i in 0..120 {
        csv.push_str(&format!(
            "u{i}@example.com,User {i},,Agent,,,Billing,Day Shift,,,,,\n"
        ));
    }
    let input = s.write("u.csv", csv);
    let out = run(genimport_against(s.dir.path(), &fake)
        .arg(&input)
        .args(["--concurrency", "4"]));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let state = fake.state();
    assert_eq!(state.counters.queue_member_requests, 2, "100 + 20");
    assert_eq!(state.counters.group_member_requests, 3, "50 + 50 + 20");
    assert_eq!(
        state.counters.group_reads, 3,
        "the group's version before each"
    );
    let agent = state.roles[1].0.clone();
    assert!(state
        .users
        .iter()
        .all(|u| state.grants[&u.id].iter().any(|(r, _)| *r == agent)));
    // 100 and 20 refused above 40: 100 -> 50 -> 25s, 20 at once.
    assert!(
        state.counters.grant_requests > 2,
        "split after the refusals"
    );
    assert_eq!(state.queue_members[&state.queues[1].0].len(), 120);
}

#[test]
fn members_not_visible_yet_are_retried() {
    let fake = Fake::spawn(FakeConfig::default());
    fake.state().member_lag = 2;
    let s = Scratch::new();
    let input = s.write(
        "u.csv",
        format!("{HEADER}\na@example.com,A,,,,,Sales,Weekend,,,,,\n"),
    );
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(
        rows[0].changes,
        "create; add queue Sales; add group Weekend"
    );
    let state = fake.state();
    assert_eq!(
        state.counters.queue_member_requests, 3,
        "two 404s, then added"
    );
    assert_eq!(state.groups[2].members.len(), 1);
}

#[test]
fn a_group_changed_meanwhile_is_read_again() {
    let fake = Fake::spawn(FakeConfig::default());
    fake.state().group_edits = 1;
    let s = Scratch::new();
    let input = s.write(
        "u.csv",
        format!("{HEADER}\na@example.com,A,,,,,,Weekend,,,,,\n"),
    );
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let state = fake.state();
    assert_eq!(
        (
            state.counters.group_reads,
            state.counters.group_member_requests
        ),
        (2, 2)
    );
    assert_eq!(state.groups[2].members.len(), 1);
}

#[test]
fn a_refused_step_is_incomplete_names_the_permission_and_update_completes_it() {
    let fake = Fake::spawn(FakeConfig::default());
    fake.state().refuse_grants = true;
    let s = Scratch::new();
    let input = s.write(
        "u.csv",
        format!("{HEADER}\na@example.com,A,,Quality Evaluator,Tech:1,,,,,,,,\n"),
    );
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input));
    assert_eq!(code(&out), exit::ROWS_NEED_ATTENTION, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(statuses(&rows), ["incomplete"]);
    assert_eq!(rows[0].changes, "create; add skill Tech:1");
    assert_eq!(rows[0].http_status, "403");
    assert!(
        rows[0].message.contains("needs authorization:grant:add"),
        "{}",
        rows[0].message
    );

    fake.state().refuse_grants = false;
    let out = run(genimport_against(s.dir.path(), &fake)
        .arg(&input)
        .arg("--update"));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(
        (rows[0].status.as_str(), rows[0].changes.as_str()),
        ("updated", "add role Quality Evaluator@Home")
    );
    assert_eq!(
        fake.state().counters.skill_requests,
        1,
        "the skill was not sent again"
    );
}

#[test]
fn existing_users_are_not_provisioned_without_update() {
    let fake = Fake::spawn(FakeConfig::default());
    fake.state().add_user("a@example.com", "A", "active");
    let s = Scratch::new();
    let input = s.write(
        "u.csv",
        format!("{HEADER}\na@example.com,A,,Admin,,,,,,,,,\n"),
    );
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    assert_eq!(
        statuses(&read_results(&s.path("u.results.csv"))),
        ["exists"]
    );
    assert_eq!(
        writes(&fake),
        0,
        "no role for someone the row did not create"
    );
}

#[test]
fn an_existing_user_gets_only_what_it_lacks() {
    let fake = Fake::spawn(FakeConfig::default());
    let manager = fake.state().add_user("boss@example.com", "Boss", "active");
    let sales = id_of(&fake, |s| &s.skills, "Sales");
    let id = fake.state().add_user_with(
        "a@example.com",
        "A",
        json!({"skills": [{"id": sales, "name": "Sales", "proficiency": 4.0}]}),
    );
    let s = Scratch::new();
    let input = s.write(
        "u.csv",
        format!("{HEADER}\na@example.com,A,boss@example.com,,Sales:4; Tech:2,,,,,,,,\n"),
    );
    let out = run(genimport_against(s.dir.path(), &fake)
        .arg(&input)
        .args(["--update", "--dry-run"]));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(
        (rows[0].status.as_str(), rows[0].changes.as_str()),
        ("would_update", "manager; add skill Tech:2")
    );
    assert_eq!(writes(&fake), 0);

    let out = run(genimport_against(s.dir.path(), &fake)
        .arg(&input)
        .arg("--update"));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(
        (rows[0].status.as_str(), rows[0].changes.as_str()),
        ("updated", "manager; add skill Tech:2")
    );
    let state = fake.state();
    let user = state.user_by_id(&id).unwrap();
    assert_eq!(user.profile["manager"]["id"], manager.as_str());
    assert_eq!(
        user.profile["skills"].as_array().unwrap().len(),
        2,
        "Sales kept, Tech added"
    );
}

#[test]
fn dry_run_shows_every_step_and_sends_nothing() {
    let fake = Fake::spawn(FakeConfig::default());
    let s = Scratch::new();
    let input = s.write(
        "u.csv",
        format!("{HEADER}\na@example.com,A,,Agent@*,,French:3,,,,,,,\n"),
    );
    let out = run(genimport_against(s.dir.path(), &fake)
        .arg(&input)
        .args(["--dry-run", "--invite"]));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(
        (rows[0].status.as_str(), rows[0].changes.as_str()),
        (
            "would_create",
            "create; add role Agent@*; add language French:3; invite"
        )
    );
    assert_eq!(writes(&fake), 0);
}

#[test]
fn provisioning_cells_are_checked_offline() {
    let s = Scratch::new();
    let input = s.write(
        "u.csv",
        format!(
            "{HEADER}\n\
             a@example.com,A,,Agent@,Sales:7,English:x,,,,,Intern,2026-02-30,maybe\n\
             b@example.com,B,b@example.com,,,,,,,,,,\n"
        ),
    );
    let out = run(genimport(s.dir.path()).arg(&input).arg("--dry-run"));
    assert_eq!(code(&out), exit::ROWS_NEED_ATTENTION, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    let m = &rows[0].message;
    for expected in [
        "roles: `Agent@` names no division after @",
        "skills: `Sales:7`: the rating must be from 0 to 5",
        "languages: `English:x`: the rating after `:` must be a number",
        "employee_type: `Intern` is not",
        "hire_date: `2026-02-30` is not a date",
        "invite: `maybe` is not yes or no",
    ] {
        assert!(m.contains(expected), "{expected}: {m}");
    }
    assert!(
        rows[1].message.contains("cannot be their own manager"),
        "{}",
        rows[1].message
    );
}
