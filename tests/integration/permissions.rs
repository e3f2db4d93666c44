//! The permission preflight and `genimport doctor`, against the fake's
//! model of the client's access (roles with policies in divisions).

use crate::common::fake::access::AccessModel;
use crate::common::fake::{HOME_DIVISION, SALES_DIVISION};
use crate::common::*;

/// Everything in Home; only `directory:user:view` in Sales.
fn home_only() -> AccessModel {
    AccessModel::with_roles(&[
        ("Admin Home", &["*:*:*"], &[HOME_DIVISION]),
        ("Viewer Sales", &["directory:user:view"], &[SALES_DIVISION]),
    ])
}

fn fake_with(access: AccessModel) -> Fake {
    let fake = Fake::spawn(FakeConfig::default());
    fake.state().access = access;
    fake
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

const MIXED: &str = "email,name,division\n\
a@example.com,A,Home\n\
b@example.com,B,Sales\n\
c@example.com,C,\n\
d@example.com,D,Sales\n";

#[test]
fn doctor_with_every_permission_everywhere_says_so_and_exits_0() {
    let fake = fake_with(AccessModel::default());
    let scratch = Scratch::new();
    let out = run(genimport_against(scratch.dir.path(), &fake).arg("doctor"));
    let text = stdout(&out);
    assert_eq!(code(&out), exit::OK, "{text}{}", stderr(&out));
    assert!(text.contains("genimport (fake) (test-client"), "{text}");
    assert!(text.contains("Fake Org"), "{text}");
    for line in text
        .lines()
        .filter(|l| l.contains(':') && l.contains("directory"))
    {
        assert!(line.ends_with("all divisions"), "{line}");
    }
    assert!(!text.contains(" none"), "{text}");
    assert!(
        text.contains("client.credentials.token.rate.per.minute"),
        "{text}"
    );
    assert_eq!(writes(&fake), 0);
}

#[test]
fn doctor_names_the_divisions_and_fails_on_what_the_file_needs() {
    let fake = fake_with(home_only());
    let scratch = Scratch::new();
    let input = scratch.write("users.csv", MIXED);
    let out = run(genimport_against(scratch.dir.path(), &fake)
        .arg("doctor")
        .arg(&input));
    let text = stdout(&out);
    assert_eq!(code(&out), exit::NO_PERM, "{text}{}", stderr(&out));
    let add = text
        .lines()
        .find(|l| l.starts_with("create users"))
        .expect("the create line");
    assert!(add.ends_with("  Home"), "{add}");
    assert!(
        text.contains("directory:user:add in Sales (2 rows)"),
        "{text}"
    );
    assert_eq!(writes(&fake), 0);
    assert!(
        !scratch.path("users.results.csv").exists(),
        "doctor writes nothing"
    );
}

#[test]
fn doctor_without_a_file_exits_77_for_a_permission_held_nowhere() {
    let fake = fake_with(AccessModel::with_roles(&[(
        "Directory",
        &[
            "directory:*:*",
            "authorization:*:*",
            "routing:skill:*",
            "routing:language:*",
        ],
        &["*"],
    )]));
    let scratch = Scratch::new();
    let out =
        run(genimport_against(scratch.dir.path(), &fake).args(["doctor", "--log-format", "json"]));
    assert_eq!(code(&out), exit::NO_PERM, "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let held = |what: &str| {
        report["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["needed_to"] == what)
            .map(|p| p["held_in"].as_str().unwrap_or("").to_string())
            .unwrap()
    };
    assert_eq!(held("add and remove queue members"), "none");
    assert_eq!(held("create users"), "all divisions");
    assert_eq!(report["client"]["id"], "test-client");
}

#[test]
fn doctor_says_unknown_when_the_access_cannot_be_read() {
    let mut access = AccessModel::with_roles(&[("Users only", &["directory:*:*"], &["*"])]);
    access.token_lists_roles = false;
    access.permitted_route = false;
    let fake = fake_with(access);
    let scratch = Scratch::new();
    let out = run(genimport_against(scratch.dir.path(), &fake).arg("doctor"));
    let text = stdout(&out);
    assert_eq!(code(&out), exit::OK, "unknown is never missing: {text}");
    assert!(text.contains("not readable"), "{text}");
    assert!(text.contains("could not read"), "{text}");
    let add = text
        .lines()
        .find(|l| l.starts_with("create users"))
        .unwrap();
    assert!(add.ends_with("unknown"), "{add}");
}

#[test]
fn doctor_falls_back_to_divisions_permitted() {
    let mut access = home_only();
    access.token_lists_roles = false;
    // No oauth:client:view: the client's own record is refused.
    access.roles[0].permissions = vec!["directory:*:*".into(), "routing:*:*".into()];
    let fake = fake_with(access);
    let scratch = Scratch::new();
    let out = run(genimport_against(scratch.dir.path(), &fake).arg("doctor"));
    let text = stdout(&out);
    assert!(text.contains("divisionspermitted"), "{text}");
    let add = text
        .lines()
        .find(|l| l.starts_with("create users"))
        .unwrap();
    assert!(add.ends_with("  Home"), "{add}");
    let grant = text.lines().find(|l| l.starts_with("grant roles")).unwrap();
    assert!(grant.ends_with("none"), "{grant}");
    assert_eq!(code(&out), exit::NO_PERM);
}

#[test]
fn doctor_with_an_unreadable_file_still_prints_the_table() {
    let fake = fake_with(AccessModel::default());
    let scratch = Scratch::new();
    let out = run(genimport_against(scratch.dir.path(), &fake).args(["doctor", "missing.csv"]));
    assert_eq!(code(&out), exit::NO_INPUT, "{}", stderr(&out));
    assert!(stderr(&out).contains("missing.csv"));
    assert!(stdout(&out).contains("create users"));
}

#[test]
fn doctor_without_credentials_exits_78() {
    let scratch = Scratch::new();
    let out = run(genimport(scratch.dir.path()).arg("doctor"));
    assert_eq!(code(&out), exit::CONFIG, "{}", stderr(&out));
}

const FULL: &str = "email,name,division,roles,skills,languages,queues,groups,invite\n\
a@example.com,A,Home,Agent,Sales:4,English:5,Support Tier 1,Night Shift,yes\n\
b@example.com,B,Sales,Agent,Sales:4,English:5,Support Tier 1,Night Shift,yes\n\
c@example.com,C,,Agent,Billing:3,,Billing,,\n\
d@example.com,D,Sales,,,,,,\n";

fn by_line(path: &std::path::Path) -> Vec<ResultRow> {
    let mut rows = read_results(path);
    rows.sort_by_key(|r| r.line);
    rows
}

#[test]
fn rows_in_a_division_without_user_add_fail_before_any_write() {
    let fake = fake_with(home_only());
    let scratch = Scratch::new();
    let input = scratch.write("users.csv", FULL);
    let out = run(genimport_against(scratch.dir.path(), &fake).arg(&input));
    let err = stderr(&out);
    assert_eq!(code(&out), exit::ROWS_NEED_ATTENTION, "{err}");
    let rows = by_line(&scratch.path("users.results.csv"));
    assert_eq!(statuses(&rows), ["created", "failed", "created", "failed"]);
    for row in [&rows[1], &rows[3]] {
        assert_eq!(row.error_code, "missing.permission");
        assert!(
            row.message.contains("directory:user:add in Sales"),
            "{}",
            row.message
        );
        assert_eq!(row.http_status, "");
    }
    assert!(
        rows[0].changes.contains("add queue Support Tier 1") && rows[0].changes.contains("invite"),
        "the others get everything: {}",
        rows[0].changes
    );
    let st = fake.state();
    assert!(
        st.access.refused.is_empty(),
        "no 403: {:?}",
        st.access.refused
    );
    assert!(st.user("b@example.com").is_none() && st.user("d@example.com").is_none());
    assert_eq!(st.counters.create_requests, 2, "no POST for the Sales rows");
    assert_eq!(st.invited.len(), 1);
    drop(st);
    assert!(
        err.contains("missing permissions  directory:user:add in Sales (2 rows)"),
        "{err}"
    );
}

#[test]
fn a_client_that_cannot_manage_queue_members_fails_only_the_rows_naming_queues() {
    let fake = fake_with(AccessModel::with_roles(&[(
        "No queues",
        &[
            "directory:*:*",
            "authorization:*:*",
            "routing:skill:*",
            "routing:language:*",
        ],
        &["*"],
    )]));
    let scratch = Scratch::new();
    let input = scratch.write(
        "users.csv",
        "email,name,skills,queues\n\
         a@example.com,A,Sales:4,Support Tier 1\n\
         b@example.com,B,Sales:4,\n\
         c@example.com,C,,Billing; VIP\n",
    );
    let out = run(genimport_against(scratch.dir.path(), &fake).arg(&input));
    assert_eq!(code(&out), exit::ROWS_NEED_ATTENTION, "{}", stderr(&out));
    let rows = by_line(&scratch.path("users.results.csv"));
    assert_eq!(statuses(&rows), ["failed", "created", "failed"]);
    assert!(
        rows[0]
            .message
            .contains("routing:queue:edit (or routing:queueMember:manage) in any division"),
        "{}",
        rows[0].message
    );
    let st = fake.state();
    assert_eq!(st.counters.queue_member_requests, 0);
    assert!(st.access.refused.is_empty());
    assert!(st.user("a@example.com").is_none(), "nothing half done");
    assert!(st.user("b@example.com").is_some());
}

#[test]
fn update_without_user_edit_in_one_division_fails_only_its_users() {
    let fake = fake_with(AccessModel::with_roles(&[
        ("Admin Home", &["*:*:*"], &[HOME_DIVISION]),
        (
            "Add Sales",
            &["directory:user:add", "directory:user:view"],
            &[SALES_DIVISION],
        ),
    ]));
    let (home, sales) = {
        let mut st = fake.state();
        let home = st.add_user("h@example.com", "Old Name", "active");
        let sales = st.add_user("s@example.com", "Old Name", "active");
        st.users.last_mut().unwrap().division_id = SALES_DIVISION.into();
        (home, sales)
    };
    let scratch = Scratch::new();
    let input = scratch.write(
        "users.csv",
        "email,name\nh@example.com,New Name\ns@example.com,New Name\nn@example.com,New User\n",
    );
    let out = run(genimport_against(scratch.dir.path(), &fake)
        .arg(&input)
        .args(["--update", "--division", "Sales"]));
    assert_eq!(code(&out), exit::ROWS_NEED_ATTENTION, "{}", stderr(&out));
    let rows = by_line(&scratch.path("users.results.csv"));
    assert_eq!(statuses(&rows), ["updated", "failed", "created"]);
    assert_eq!(rows[1].user_id, sales);
    assert!(
        rows[1].message.contains("directory:user:edit"),
        "{}",
        rows[1].message
    );
    assert!(rows[1].message.contains("in Sales"), "{}", rows[1].message);
    let st = fake.state();
    assert_eq!(st.user_by_id(&home).unwrap().name, "New Name");
    assert_eq!(st.user_by_id(&sales).unwrap().name, "Old Name");
    assert!(st.access.refused.is_empty(), "{:?}", st.access.refused);
}

#[test]
fn a_dry_run_reports_the_rows_a_run_would_fail() {
    let fake = fake_with(home_only());
    let scratch = Scratch::new();
    let input = scratch.write("users.csv", MIXED);
    let out = run(genimport_against(scratch.dir.path(), &fake)
        .arg(&input)
        .arg("--dry-run"));
    assert_eq!(code(&out), exit::ROWS_NEED_ATTENTION, "{}", stderr(&out));
    let rows = by_line(&scratch.path("users.results.csv"));
    assert_eq!(
        statuses(&rows),
        ["would_create", "failed", "would_create", "failed"]
    );
    assert_eq!(writes(&fake), 0);
}

#[test]
fn a_client_whose_access_cannot_be_read_runs_as_before_saying_so_once() {
    let mut access = home_only();
    access.token_lists_roles = false;
    access.permitted_route = false;
    access.roles[0].permissions = vec!["directory:*:*".into()];
    let fake = fake_with(access);
    let scratch = Scratch::new();
    let input = scratch.write("users.csv", MIXED);
    let out = run(genimport_against(scratch.dir.path(), &fake).arg(&input));
    let err = stderr(&out);
    assert_eq!(
        err.matches("would not say what this client may do").count(),
        1,
        "{err}"
    );
    let rows = by_line(&scratch.path("users.results.csv"));
    // As today: the first refused create fails its row and stops the run.
    assert_eq!(
        statuses(&rows),
        ["created", "failed", "not_attempted", "not_attempted"]
    );
    assert_eq!(rows[1].http_status, "403");
    assert_eq!(code(&out), exit::NO_PERM);
    assert_eq!(fake.state().access.refused.len(), 1);
}

#[test]
fn a_403_the_preflight_did_not_expect_is_said_once() {
    let fake = Fake::spawn(FakeConfig {
        forbid_create: true,
        ..FakeConfig::default()
    });
    let scratch = Scratch::new();
    let input = scratch.write("users.csv", users_csv(3));
    let out = run(genimport_against(scratch.dir.path(), &fake).arg(&input));
    let err = stderr(&out);
    assert_eq!(
        err.matches("the permission preflight thought the client could make")
            .count(),
        1,
        "{err}"
    );
}

#[test]
fn the_discovery_costs_a_handful_of_requests_whatever_the_file() {
    let fake = fake_with(home_only());
    let scratch = Scratch::new();
    let mut csv = String::from("email,name,division,skills\n");
    for i in 0..300 {
        let division = if i % 2 == 0 { "Home" } else { "Sales" };
        csv.push_str(&format!("u{i}@example.com,U {i},{division},Sales:4\n"));
    }
    let input = scratch.write("users.csv", csv);
    let out = run(genimport_against(scratch.dir.path(), &fake)
        .arg(&input)
        .arg("--dry-run"));
    assert_eq!(code(&out), exit::ROWS_NEED_ATTENTION, "{}", stderr(&out));
    let st = fake.state();
    assert!(
        st.access.discovery_requests <= 10,
        "{} discovery requests",
        st.access.discovery_requests
    );
}

#[test]
fn queue_members_are_checked_in_each_queues_division() {
    let fake = fake_with(AccessModel::with_roles(&[
        (
            "Everything",
            &["directory:*:*", "authorization:*:*", "routing:skill:*"],
            &["*"],
        ),
        ("Queues Home", &["routing:queue:*"], &[HOME_DIVISION]),
    ]));
    let vip = {
        let mut st = fake.state();
        let vip = st
            .queues
            .iter()
            .find(|(_, n)| n == "VIP")
            .unwrap()
            .0
            .clone();
        st.queue_bodies.get_mut(&vip).unwrap()["division"] =
            serde_json::json!({"id": SALES_DIVISION, "name": "Sales"});
        vip
    };
    let scratch = Scratch::new();
    let input = scratch.write(
        "users.csv",
        "email,name,queues\na@example.com,A,Billing\nb@example.com,B,VIP\n",
    );
    let out = run(genimport_against(scratch.dir.path(), &fake).arg(&input));
    assert_eq!(code(&out), exit::ROWS_NEED_ATTENTION, "{}", stderr(&out));
    let rows = by_line(&scratch.path("users.results.csv"));
    assert_eq!(statuses(&rows), ["created", "failed"]);
    assert!(rows[1].message.contains("in Sales"), "{}", rows[1].message);
    let st = fake.state();
    assert!(st.access.refused.is_empty(), "{:?}", st.access.refused);
    assert!(st.queue_members.get(&vip).is_none_or(|m| m.is_empty()));
}

#[test]
fn role_grants_are_checked_in_their_division_when_the_org_says_so() {
    let mut access = AccessModel::with_roles(&[
        ("Everything", &["directory:*:*", "routing:*:*"], &["*"]),
        ("Grants Home", &["authorization:*:*"], &[HOME_DIVISION]),
    ]);
    access.grants_division_aware = true;
    let fake = fake_with(access);
    let scratch = Scratch::new();
    let input = scratch.write(
        "users.csv",
        "email,name,roles\na@example.com,A,Agent\nb@example.com,B,Agent@Sales\n",
    );
    let out = run(genimport_against(scratch.dir.path(), &fake).arg(&input));
    assert_eq!(code(&out), exit::ROWS_NEED_ATTENTION, "{}", stderr(&out));
    let rows = by_line(&scratch.path("users.results.csv"));
    assert_eq!(statuses(&rows), ["created", "failed"]);
    assert!(
        rows[1].message.contains("authorization:grant:add in Sales"),
        "{}",
        rows[1].message
    );
    assert!(fake.state().access.refused.is_empty());

    // The same client in an org whose grants are not division-aware.
    let mut access = AccessModel::with_roles(&[
        ("Everything", &["directory:*:*", "routing:*:*"], &["*"]),
        ("Grants Home", &["authorization:*:*"], &[HOME_DIVISION]),
    ]);
    access.grants_division_aware = false;
    let fake = fake_with(access);
    let scratch = Scratch::new();
    let input = scratch.write(
        "users.csv",
        "email,name,roles\nb@example.com,B,Agent@Sales\n",
    );
    let out = run(genimport_against(scratch.dir.path(), &fake).arg(&input));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
}

#[test]
fn a_move_needs_user_edit_in_both_divisions() {
    let fake = fake_with(AccessModel::with_roles(&[
        ("Admin Home", &["*:*:*"], &[HOME_DIVISION]),
        ("View Sales", &["directory:user:view"], &[SALES_DIVISION]),
    ]));
    let id = fake.state().add_user("m@example.com", "Mover", "active");
    let scratch = Scratch::new();
    let input = scratch.write(
        "users.csv",
        "email,name,division\nm@example.com,Mover,Sales\n",
    );
    let out = run(genimport_against(scratch.dir.path(), &fake)
        .arg(&input)
        .arg("--update"));
    assert_eq!(code(&out), exit::ROWS_NEED_ATTENTION, "{}", stderr(&out));
    let rows = by_line(&scratch.path("users.results.csv"));
    assert_eq!(rows[0].status, "failed");
    assert!(
        rows[0].message.contains("directory:user:edit in Sales"),
        "{}",
        rows[0].message
    );
    let st = fake.state();
    assert_eq!(st.counters.division_moves, 0);
    assert_eq!(st.user_by_id(&id).unwrap().division_id, HOME_DIVISION);
}

#[test]
fn doctor_checks_a_queues_file_and_a_run_fails_only_the_queue_it_cannot_create() {
    let access = || {
        AccessModel::with_roles(&[
            (
                "Everything",
                &["directory:*:*", "authorization:*:*"],
                &["*"],
            ),
            ("Queues Home", &["routing:*:*"], &[HOME_DIVISION]),
        ])
    };
    let fake = fake_with(access());
    let scratch = Scratch::new();
    let input = scratch.write(
        "queues.csv",
        "name,division\nHome Queue,Home\nSales Queue,Sales\n",
    );
    let out = run(genimport_against(scratch.dir.path(), &fake)
        .args(["doctor", "--queues"])
        .arg(&input));
    let text = stdout(&out);
    assert_eq!(code(&out), exit::NO_PERM, "{text}{}", stderr(&out));
    assert!(
        text.contains("routing:queue:add in Sales (1 rows)"),
        "{text}"
    );

    let out = run(genimport_against(scratch.dir.path(), &fake)
        .arg("queues")
        .arg(&input));
    assert_eq!(code(&out), exit::ROWS_NEED_ATTENTION, "{}", stderr(&out));
    let mut reader = csv::Reader::from_path(scratch.path("queues.results.csv")).expect("results");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    // line, name, status, queue_id, http_status, error_code, message, changes
    assert_eq!((&rows[0][1], &rows[0][2]), ("Home Queue", "created"));
    assert_eq!((&rows[1][1], &rows[1][2]), ("Sales Queue", "failed"));
    assert_eq!(&rows[1][5], "missing.permission");
    let st = fake.state();
    assert_eq!(st.counters.queue_creates, 1);
    assert!(st.access.refused.is_empty(), "{:?}", st.access.refused);
}
