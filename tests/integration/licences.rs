//! The licence preview (docs/provisioning.md#licences): before anything is written, the run and
//! the dry run say which licences the file gives and takes, asking Genesys
//! once per distinct role set; a refusal only warns.

use crate::common::*;

use serde_json::{json, Value};

/// The fake's roles (see fake.rs `State::bare`): Employee is the default.
fn role(fake: &Fake, name: &str) -> String {
    let state = fake.state();
    state
        .roles
        .iter()
        .find(|(_, n)| n == name)
        .unwrap_or_else(|| panic!("role {name}"))
        .0
        .clone()
}

/// Employee -> communicate, Agent -> cloudCX2, Supervisor -> cloudCX3,
/// Quality Evaluator -> wem (licence ids differ from their names).
fn licensed_fake() -> Fake {
    let fake = Fake::spawn(FakeConfig::default());
    let pairs = [
        ("Employee", ("lic-comm", "communicate")),
        ("Agent", ("lic-cx2", "cloudCX2")),
        ("Supervisor", ("lic-cx3", "cloudCX3")),
        ("Quality Evaluator", ("lic-wem", "wem")),
    ];
    for (name, licence) in pairs {
        let id = role(&fake, name);
        fake.state().licences.map(&id, &[licence]);
    }
    fake
}

fn licences_line(err: &str) -> Option<&str> {
    err.lines()
        .find(|l| l.trim_start().starts_with("licences "))
        .map(str::trim)
}

/// 4 Agents, 2 Agents who evaluate quality, 1 Supervisor, 1 without roles.
fn new_users_csv() -> String {
    let mut csv = String::from("email,name,roles\n");
    for i in 0..4 {
        csv.push_str(&format!("agent{i}@example.com,Agent {i},Agent\n"));
    }
    for i in 0..2 {
        csv.push_str(&format!(
            "qa{i}@example.com,QA {i},Quality Evaluator; Agent\n"
        ));
    }
    csv.push_str("sup@example.com,Sup,Supervisor\n");
    csv.push_str("plain@example.com,Plain,\n");
    csv
}

#[test]
fn a_dry_run_of_new_users_prints_what_each_licence_gains_and_writes_nothing() {
    let fake = licensed_fake();
    let s = Scratch::new();
    let input = s.write("u.csv", new_users_csv());
    let out = run(genimport_against(s.dir.path(), &fake)
        .arg(&input)
        .arg("--dry-run"));
    let err = stderr(&out);
    assert_eq!(code(&out), exit::OK, "{err}");
    assert_eq!(
        statuses(&read_results(&s.path("u.results.csv"))),
        ["would_create"; 8]
    );
    assert_eq!(
        licences_line(&err),
        Some("licences       +8 communicate   +6 cloudCX2   +2 wem   +1 cloudCX3"),
        "{err}"
    );
    assert_eq!(writes(&fake), 0, "a dry run writes nothing");
    let state = fake.state();
    // {Employee}, {Employee, Agent}, {Employee, Agent, QE}, {Employee, Supervisor}
    assert_eq!(state.licences.infer_requests, 4);
    let employee = fake::EMPLOYEE_ROLE.to_string();
    assert!(
        state
            .licences
            .infer_bodies
            .iter()
            .all(|roles| roles.contains(&employee)),
        "a new user's roles include the org's default role: {:?}",
        state.licences.infer_bodies
    );
    assert_eq!(state.licences.definition_requests, 1);
}

#[test]
fn a_real_run_previews_before_the_first_write_and_prints_the_line() {
    let fake = licensed_fake();
    let s = Scratch::new();
    let input = s.write("u.csv", new_users_csv());
    let out = run(genimport_against(s.dir.path(), &fake)
        .arg(&input)
        .args(["--concurrency", "4"]));
    let err = stderr(&out);
    assert_eq!(code(&out), exit::OK, "{err}");
    assert_eq!(
        statuses(&read_results(&s.path("u.results.csv"))),
        ["created"; 8]
    );
    assert_eq!(
        licences_line(&err),
        Some("licences       +8 communicate   +6 cloudCX2   +2 wem   +1 cloudCX3"),
        "{err}"
    );
    let state = fake.state();
    assert_eq!(state.licences.creates_before_infer, [0, 0, 0, 0]);
    assert_eq!(state.counters.create_requests, 8);
}

#[test]
fn infer_is_asked_once_per_distinct_role_set() {
    let fake = licensed_fake();
    let s = Scratch::new();
    let mut csv = String::from("email,name,roles\n");
    for i in 0..60 {
        // Two distinct sets, written in different orders and cases.
        let roles = match i % 3 {
            0 => "Agent",
            1 => "agent; Supervisor",
            _ => "Supervisor; Agent",
        };
        csv.push_str(&format!("u{i}@example.com,User {i},{roles}\n"));
    }
    let input = s.write("u.csv", csv);
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input).args([
        "--dry-run",
        "--concurrency",
        "4",
    ]));
    let err = stderr(&out);
    assert_eq!(code(&out), exit::OK, "{err}");
    assert!(
        fake.state().licences.infer_requests <= 2,
        "{} infer requests for 2 distinct role sets",
        fake.state().licences.infer_requests
    );
    assert_eq!(
        licences_line(&err),
        Some("licences       +60 cloudCX2   +60 communicate   +40 cloudCX3"),
        "{err}"
    );
}

#[test]
fn a_refused_infer_only_warns_and_names_the_scope() {
    let fake = licensed_fake();
    fake.state().licences.forbid_infer = true;
    let s = Scratch::new();
    let input = s.write("u.csv", new_users_csv());
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input));
    let err = stderr(&out);
    assert_eq!(code(&out), exit::OK, "the run goes on: {err}");
    assert_eq!(
        statuses(&read_results(&s.path("u.results.csv"))),
        ["created"; 8]
    );
    assert!(err.contains("license:readonly"), "{err}");
    assert!(err.contains("/api/v2/license/infer"), "{err}");
    assert_eq!(licences_line(&err), None, "{err}");
    assert_eq!(
        fake.state().licences.infer_requests,
        1,
        "asked once, then no more"
    );
}

#[test]
fn unreadable_licence_names_warn_and_show_the_ids() {
    let fake = licensed_fake();
    fake.state().licences.forbid_definitions = true;
    let s = Scratch::new();
    let input = s.write(
        "u.csv",
        "email,name,roles\nana@example.com,Ana,Supervisor\n",
    );
    let out = run(genimport_against(s.dir.path(), &fake)
        .arg(&input)
        .arg("--dry-run"));
    let err = stderr(&out);
    assert_eq!(code(&out), exit::OK, "{err}");
    assert!(err.contains("authorization:license:view"), "{err}");
    assert_eq!(
        licences_line(&err),
        Some("licences       +1 lic-comm   +1 lic-cx3"),
        "{err}"
    );
}

#[test]
fn the_json_log_carries_the_counts() {
    let fake = licensed_fake();
    let s = Scratch::new();
    let input = s.write("u.csv", new_users_csv());
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input).args([
        "--dry-run",
        "--log-format",
        "json",
    ]));
    let err = stderr(&out);
    assert_eq!(code(&out), exit::OK, "{err}");
    let line: Value = err
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["message"] == "licences")
        .unwrap_or_else(|| panic!("no licences log line in {err}"));
    let gained: Value = serde_json::from_str(line["gained"].as_str().unwrap()).unwrap();
    assert_eq!(
        gained,
        json!({"communicate": 8, "cloudCX2": 6, "wem": 2, "cloudCX3": 1})
    );
    let lost: Value = serde_json::from_str(line["lost"].as_str().unwrap()).unwrap();
    assert_eq!(lost, json!({}));
    assert_eq!(line["users"], 8);
    assert_eq!(line["role_sets"], 4);
}

#[test]
fn deactivating_users_with_update_loses_their_licences() {
    let fake = licensed_fake();
    let (employee, supervisor, agent) = (
        role(&fake, "Employee"),
        role(&fake, "Supervisor"),
        role(&fake, "Agent"),
    );
    for (email, roles) in [
        ("sup@example.com", vec![&employee, &supervisor]),
        ("agent@example.com", vec![&employee, &agent]),
        ("stays@example.com", vec![&employee, &agent]),
    ] {
        let roles: Vec<Value> = roles.iter().map(|id| json!({"id": id})).collect();
        fake.state()
            .add_user_with(email, "Someone", json!({"authorization": {"roles": roles}}));
    }
    let s = Scratch::new();
    let input = s.write(
        "u.csv",
        "email,name,state,roles\n\
         sup@example.com,Someone,inactive,\n\
         agent@example.com,Someone,inactive,\n\
         stays@example.com,Someone,active,Agent\n",
    );
    let out = run(genimport_against(s.dir.path(), &fake)
        .arg(&input)
        .args(["--update", "--dry-run"]));
    let err = stderr(&out);
    assert_eq!(code(&out), exit::OK, "{err}");
    assert_eq!(
        licences_line(&err),
        Some("licences       -2 communicate   -1 cloudCX2   -1 cloudCX3"),
        "{err}"
    );
    assert_eq!(writes(&fake), 0);
}

#[test]
fn exact_removing_a_licensed_role_counts_the_licence_lost() {
    let fake = licensed_fake();
    let (agent, supervisor) = (role(&fake, "Agent"), role(&fake, "Supervisor"));
    {
        let mut st = fake.state();
        let sup = st.add_user("sup@example.com", "Sup", "active");
        let lead = st.add_user("lead@example.com", "Lead", "active");
        for user in [&sup, &lead] {
            st.grant_user(user, fake::EMPLOYEE_ROLE, fake::HOME_DIVISION);
            st.grant_user(user, &supervisor, fake::HOME_DIVISION);
        }
        // Lead also holds Supervisor in Sales: removing the Home grant keeps the role.
        st.grant_user(&lead, &supervisor, fake::SALES_DIVISION);
        st.grant_user(&lead, &agent, fake::HOME_DIVISION);
    }
    let s = Scratch::new();
    let input = s.write(
        "u.csv",
        "email,roles\n\
         sup@example.com,Agent\n\
         lead@example.com,Agent; Supervisor@Sales\n",
    );
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input).args([
        "--update",
        "--exact",
        "--dry-run",
    ]));
    let err = stderr(&out);
    assert_eq!(code(&out), exit::OK, "{err}");
    let rows = read_results(&s.path("u.results.csv"));
    assert_eq!(
        rows[0].changes, "add role Agent@Home; remove role Supervisor@Home",
        "{rows:?}"
    );
    assert_eq!(rows[1].changes, "remove role Supervisor@Home", "{rows:?}");
    // Sup swaps cloudCX3 for cloudCX2; Lead keeps Supervisor in Sales.
    assert_eq!(
        licences_line(&err),
        Some("licences       +1 cloudCX2   -1 cloudCX3"),
        "{err}"
    );
    assert_eq!(fake.state().writes(), 0);
}

#[test]
fn an_already_applied_file_asks_nothing_about_licences() {
    let fake = licensed_fake();
    let agent = role(&fake, "Agent");
    fake.state().add_user_with(
        "ana@example.com",
        "Ana",
        json!({"authorization": {"roles": [{"id": fake::EMPLOYEE_ROLE}, {"id": agent}]}}),
    );
    let s = Scratch::new();
    let input = s.write("u.csv", "email,name,roles\nana@example.com,Ana,Agent\n");
    let out = run(genimport_against(s.dir.path(), &fake)
        .arg(&input)
        .args(["--update", "--dry-run"]));
    let err = stderr(&out);
    assert_eq!(code(&out), exit::OK, "{err}");
    assert_eq!(licences_line(&err), None, "{err}");
    assert_eq!(fake.state().licences.infer_requests, 0);
}

#[test]
fn an_offline_dry_run_asks_nothing() {
    let s = Scratch::new();
    let input = s.write("u.csv", new_users_csv());
    let out = run(genimport(s.dir.path()).arg(&input).arg("--dry-run"));
    let err = stderr(&out);
    assert_eq!(code(&out), exit::OK, "{err}");
    assert_eq!(licences_line(&err), None, "{err}");
}
