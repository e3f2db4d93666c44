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
