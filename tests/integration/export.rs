//! `genimport export users|queues` against the stateful fake: the import's
//! columns, only direct grants and memberships, neutralised cells that read
//! back, the round trip (an untouched export re-applied with `--update`
//! sends no writes; five edited cells send exactly five changes), xlsx,
//! paging, and a refused read (exit 77, the old file kept).

use crate::common::*;

use crate::common::fake::{HOME_DIVISION, SALES_DIVISION};
use serde_json::json;

fn id_of(items: &[(String, String)], name: &str) -> String {
    items.iter().find(|(_, n)| n == name).expect(name).0.clone()
}

fn join_group(fake: &Fake, user: &str, group: &str) {
    let mut st = fake.state();
    let gid = st
        .groups
        .iter()
        .find(|g| g.name == group)
        .unwrap()
        .id
        .clone();
    st.groups
        .iter_mut()
        .find(|g| g.id == gid)
        .unwrap()
        .members
        .push(user.into());
    let u = st.users.iter_mut().find(|u| u.id == user).unwrap();
    let mut groups = u.profile.get("groups").cloned().unwrap_or(json!([]));
    groups.as_array_mut().unwrap().push(json!({"id": gid}));
    u.profile.insert("groups".into(), groups);
}

/// Ana and Bob with everything a row can say, plus what they inherit
/// through the Night Shift group (a role and a queue).
fn seeded() -> Fake {
    let fake = Fake::spawn(FakeConfig::default());
    let (bob, ana) = {
        let mut st = fake.state();
        let skills = st.skills.clone();
        let languages = st.languages.clone();
        let skill = |n: &str| id_of(&skills, n);
        let lang = |n: &str| id_of(&languages, n);
        let lisbon = id_of(&st.locations, "Lisbon Office");
        let bob = st.add_user_with(
            "bob@example.com",
            "Bob Boss",
            json!({"title": "Lead", "skills": [{"id": skill("Tech"), "name": "Tech", "proficiency": 3.0}]}),
        );
        let ana = st.add_user_with(
            "ana@example.com",
            "Ana Souza",
            json!({
                "title": "Agent", "department": "=SUM(A1)",
                "addresses": [
                    {"address": "+13175550123", "display": "+1 317-555-0123", "mediaType": "PHONE", "type": "WORK"},
                    {"address": "+13175550999", "mediaType": "PHONE", "type": "MOBILE"}
                ],
                "employerInfo": {"officialName": "Ana Q. Souza", "employeeId": "E-1", "employeeType": "Full-time", "dateHire": "2024-02-01"},
                "manager": {"id": bob},
                "skills": [
                    {"id": skill("Sales"), "name": "Sales", "proficiency": 4.0},
                    {"id": skill("Billing"), "name": "Billing", "proficiency": 2.5}
                ],
                "languages": [{"id": lang("English"), "name": "English", "proficiency": 5.0}],
                "locations": [{"id": lisbon, "locationDefinition": {"id": lisbon}}]
            }),
        );
        st.add_user("cy@example.com", "Cy Gone", "inactive");
        let roles = st.roles.clone();
        let role = |n: &str| id_of(&roles, n);
        let (agent, sup, admin, qe) = (
            role("Agent"),
            role("Supervisor"),
            role("Admin"),
            role("Quality Evaluator"),
        );
        st.grant_user(&ana, &agent, HOME_DIVISION);
        st.grant_user(&ana, &sup, SALES_DIVISION);
        st.grant_user(&bob, &admin, "*");
        let night = st
            .groups
            .iter()
            .find(|g| g.name == "Night Shift")
            .unwrap()
            .id
            .clone();
        st.grant_group(&night, &qe, HOME_DIVISION);
        let support = id_of(&st.queues, "Support Tier 1");
        let vip = id_of(&st.queues, "VIP");
        st.queue_members
            .entry(support)
            .or_default()
            .push(ana.clone());
        st.add_queue_group(&vip, &night);
        (bob, ana)
    };
    join_group(&fake, &ana, "Night Shift");
    let _ = bob;
    fake
}

fn export(fake: &Fake, dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    run(genimport_against(dir, fake).arg("export").args(args))
}

fn read_csv(path: &std::path::Path) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .expect("export file");
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn users_are_exported_in_the_import_columns_with_only_direct_holdings() {
    let fake = seeded();
    let s = Scratch::new();
    let out = export(&fake, s.dir.path(), &["users", "-o", "org.csv"]);
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = read_csv(&s.path("org.csv"));
    assert_eq!(
        rows[0],
        [
            "email",
            "name",
            "division",
            "department",
            "title",
            "phone",
            "state",
            "manager",
            "roles",
            "skills",
            "languages",
            "queues",
            "groups",
            "location",
            "employee_id",
            "employee_type",
            "hire_date",
            "webrtc_phone",
            "site"
        ]
    );
    assert_eq!(
        rows.len(),
        4,
        "active and inactive, sorted by name: {rows:?}"
    );
    assert_eq!(
        rows[1],
        [
            "ana@example.com",
            "Ana Souza",
            "Home",
            "'=SUM(A1)",
            "Agent",
            "'+13175550123",
            "active",
            "bob@example.com",
            "Agent; Supervisor@Sales",
            "Billing:2.5; Sales:4",
            "English:5",
            "Support Tier 1",
            "Night Shift",
            "Lisbon Office",
            "E-1",
            "Full-time",
            "2024-02-01",
            "",
            ""
        ],
        "the group's role (Quality Evaluator) and queue (VIP) are not Ana's own"
    );
    assert_eq!(rows[2][0], "bob@example.com");
    assert_eq!(rows[2][8], "Admin@*");
    assert_eq!(rows[2][9], "Tech:3");
    assert_eq!(
        (rows[3][0].as_str(), rows[3][6].as_str()),
        ("cy@example.com", "inactive")
    );
    // Bulk reads: a handful of requests, not several per user.
    let st = fake.state();
    assert_eq!(st.export.user_pages, 2, "one page per state");
    assert_eq!(st.export.subject_grant_pages, 5, "one per role");
    assert_eq!(st.export.queue_member_pages, 5, "one per queue");
    assert_eq!(st.export.group_member_pages, 3, "one per group");
    assert_eq!(st.counters.search_requests, 0);
}

#[test]
fn state_and_division_filters_and_stdout() {
    let fake = seeded();
    let s = Scratch::new();
    let out = export(&fake, s.dir.path(), &["users", "--state", "inactive"]);
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("email,name,division,"), "{text}");
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.contains("cy@example.com"));
    let out = export(
        &fake,
        s.dir.path(),
        &["users", "--division", "Sales", "-o", "-"],
    );
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().lines().count(),
        1,
        "nobody in Sales"
    );
    let out = export(&fake, s.dir.path(), &["users", "--division", "Nowhere"]);
    assert_eq!(code(&out), exit::USAGE, "{}", stderr(&out));
    assert!(stderr(&out).contains("Nowhere"));
}

/// Runs `--update` on `file`; its results (users' columns, or for queues
/// `name` in `name` and `email` empty), sorted by line.
fn update(fake: &Fake, dir: &std::path::Path, file: &str, queues: bool) -> Vec<ResultRow> {
    let mut cmd = genimport_against(dir, fake);
    if queues {
        cmd.arg("queues");
    }
    let out = run(cmd.arg(file).arg("--update").arg("-o").arg("results.csv"));
    assert!(matches!(code(&out), exit::OK | 1), "{}", stderr(&out));
    let mut rows = if queues {
        read_csv(&dir.join("results.csv"))
            .into_iter()
            .skip(1)
            .map(|r| ResultRow {
                line: r[0].parse().unwrap(),
                email: String::new(),
                name: r[1].clone(),
                status: r[2].clone(),
                user_id: r[3].clone(),
                http_status: r[4].clone(),
                error_code: r[5].clone(),
                message: r[6].clone(),
                changes: r[7].clone(),
            })
            .collect()
    } else {
        read_results(&dir.join("results.csv"))
    };
    rows.sort_by_key(|r| r.line);
    rows
}

#[test]
fn users_round_trip_sends_nothing_and_then_exactly_the_edits() {
    let fake = seeded();
    let s = Scratch::new();
    let out = export(&fake, s.dir.path(), &["users", "-o", "org.csv"]);
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let before = writes(&fake);
    let rows = update(&fake, s.dir.path(), "org.csv", false);
    assert_eq!(
        statuses(&rows),
        ["unchanged", "unchanged", "unchanged"],
        "{rows:?}"
    );
    assert_eq!(writes(&fake), before, "an untouched export sends no writes");

    // Five cells edited: Ana's title, phone and a skill rating; Bob's queues and groups.
    let text = std::fs::read_to_string(s.path("org.csv")).unwrap();
    let edited = text
        .replace(",Agent,'+13175550123,", ",Senior Agent,'+13175550100,")
        .replace("Billing:2.5; Sales:4", "Billing:2.5; Sales:5")
        .replace("Admin@*,Tech:3,,,,", "Admin@*,Tech:3,,Billing,Day Shift,");
    assert_ne!(edited, text);
    s.write("org.csv", edited);
    let rows = update(&fake, s.dir.path(), "org.csv", false);
    assert_eq!(
        statuses(&rows),
        ["updated", "updated", "unchanged"],
        "{rows:?}"
    );
    let mut changes: Vec<&str> = rows
        .iter()
        .flat_map(|r| r.changes.split("; "))
        .filter(|c| !c.is_empty())
        .collect();
    changes.sort_unstable();
    assert_eq!(
        changes,
        [
            "add group Day Shift",
            "add queue Billing",
            "add skill Sales:5",
            "phone",
            "title"
        ]
    );
    let st = fake.state();
    let ana = st.user("ana@example.com").unwrap();
    assert_eq!(
        ana.profile["department"], "=SUM(A1)",
        "the neutralised cell read back as it was"
    );
}

#[test]
fn users_round_trip_with_exact_sends_nothing_and_then_exactly_the_removal() {
    let fake = seeded();
    let s = Scratch::new();
    let out = export(&fake, s.dir.path(), &["users", "-o", "org.csv"]);
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let exact = |fake: &Fake| {
        let out = run(genimport_against(s.dir.path(), fake).args([
            "org.csv",
            "--update",
            "--exact",
            "-o",
            "results.csv",
        ]));
        assert!(matches!(code(&out), exit::OK | 1), "{}", stderr(&out));
        let mut rows = read_results(&s.path("results.csv"));
        rows.sort_by_key(|r| r.line);
        rows
    };
    let before = writes(&fake);
    let rows = exact(&fake);
    assert_eq!(
        statuses(&rows),
        ["unchanged", "unchanged", "unchanged"],
        "{rows:?}"
    );
    assert_eq!(
        writes(&fake),
        before,
        "an untouched export re-applied with --exact sends no writes (inherited access stays)"
    );

    // One skill taken out of Ana's list: exactly that removal is sent.
    let text = std::fs::read_to_string(s.path("org.csv")).unwrap();
    let edited = text.replace("Billing:2.5; Sales:4", "Sales:4");
    assert_ne!(edited, text);
    s.write("org.csv", edited);
    let rows = exact(&fake);
    assert_eq!(
        statuses(&rows),
        ["updated", "unchanged", "unchanged"],
        "{rows:?}"
    );
    assert_eq!(rows[0].changes, "remove skill Billing");
}

#[test]
fn queues_round_trip_sends_nothing_and_then_exactly_the_edit() {
    let fake = Fake::spawn(FakeConfig::default());
    {
        let mut st = fake.state();
        let vip = id_of(&st.queues, "VIP");
        let sale = id_of(&st.wrapups, "Sale");
        let callback = id_of(&st.wrapups, "Callback");
        st.queue_wrapups.insert(vip.clone(), vec![sale, callback]);
        let body = st.queue_bodies.get_mut(&vip).unwrap();
        body["description"] = json!("+VIP line");
        body["acwSettings"] = json!({"wrapupPrompt": "MANDATORY_TIMEOUT", "timeoutMs": 30000});
        body["division"] = json!({"id": SALES_DIVISION});
        body["callingPartyNumber"] = json!("+13175550100");
    }
    let s = Scratch::new();
    let out = export(&fake, s.dir.path(), &["queues", "-o", "q.csv"]);
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = read_csv(&s.path("q.csv"));
    assert_eq!(
        rows[0],
        [
            "name",
            "division",
            "description",
            "skill_evaluation",
            "acw",
            "acw_timeout_s",
            "alerting_timeout_s",
            "wrapup_codes",
            "calling_party_name",
            "calling_party_number"
        ]
    );
    let vip = rows.iter().find(|r| r[0] == "VIP").unwrap();
    assert_eq!(
        vip,
        &[
            "VIP",
            "Sales",
            "'+VIP line",
            "BEST",
            "MANDATORY_TIMEOUT",
            "30",
            "8",
            "Callback; Sale",
            "",
            "'+13175550100"
        ]
    );
    assert_eq!(rows.len(), 6);
    let before = writes(&fake);
    let results = update(&fake, s.dir.path(), "q.csv", true);
    assert_eq!(results.len(), 5);
    assert!(
        results.iter().all(|r| r.status == "unchanged"),
        "{results:?}"
    );
    assert_eq!(writes(&fake), before, "an untouched export sends no writes");

    let text = std::fs::read_to_string(s.path("q.csv")).unwrap();
    s.write("q.csv", text.replace("'+VIP line", "VIP line"));
    let results = update(&fake, s.dir.path(), "q.csv", true);
    let changed: Vec<(&str, &str)> = results
        .iter()
        .filter(|r| r.status != "unchanged")
        .map(|r| (r.name.as_str(), r.changes.as_str()))
        .collect();
    assert_eq!(changed, [("VIP", "description")]);
    assert_eq!(fake.state().counters.queue_puts, 1);
}

#[test]
fn xlsx_export_reads_back_unchanged() {
    let fake = seeded();
    let s = Scratch::new();
    let out = export(&fake, s.dir.path(), &["users", "-o", "org.xlsx"]);
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let bytes = std::fs::read(s.path("org.xlsx")).unwrap();
    assert!(bytes.starts_with(b"PK"), "a zip workbook");
    let before = writes(&fake);
    let rows = update(&fake, s.dir.path(), "org.xlsx", false);
    assert_eq!(
        statuses(&rows),
        ["unchanged", "unchanged", "unchanged"],
        "{rows:?}"
    );
    assert_eq!(writes(&fake), before);

    let out = export(&fake, s.dir.path(), &["queues", "-o", "q.xlsx"]);
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let results = update(&fake, s.dir.path(), "q.xlsx", true);
    assert!(
        results.iter().all(|r| r.status == "unchanged"),
        "{results:?}"
    );
}

#[test]
fn a_refused_read_exits_77_and_keeps_the_old_file() {
    let fake = seeded();
    fake.state().export.refuse_path_suffix = Some("subjectgrants".into());
    let s = Scratch::new();
    s.write("org.csv", "old");
    let out = export(&fake, s.dir.path(), &["users", "-o", "org.csv"]);
    assert_eq!(code(&out), exit::NO_PERM, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("authorization:grant:view"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(s.path("org.csv")).unwrap(), "old");
    assert_eq!(
        std::fs::read_dir(s.dir.path()).unwrap().count(),
        1,
        "no temporary left"
    );
}

#[test]
fn pages_through_every_user() {
    let fake = Fake::spawn(FakeConfig::default());
    {
        let mut st = fake.state();
        for i in 0..23 {
            st.add_user(
                &format!("u{i:02}@example.com"),
                &format!("User {i:02}"),
                "active",
            );
        }
    }
    let s = Scratch::new();
    let out = run(genimport_against(s.dir.path(), &fake)
        .args(["--user-page-size", "5"])
        .args(["export", "users", "--state", "active", "-o", "org.csv"]));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = read_csv(&s.path("org.csv"));
    assert_eq!(rows.len(), 24);
    assert_eq!(fake.state().export.user_pages, 5);
}

#[test]
fn pages_past_ten_thousand_users() {
    let fake = Fake::spawn(FakeConfig::default());
    {
        let mut st = fake.state();
        for i in 0..10_050 {
            st.add_user(
                &format!("u{i:05}@example.com"),
                &format!("User {i:05}"),
                "active",
            );
        }
    }
    let s = Scratch::new();
    let out = export(&fake, s.dir.path(), &["users", "-o", "org.csv"]);
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    assert_eq!(read_csv(&s.path("org.csv")).len(), 10_051);
    let st = fake.state();
    assert_eq!(st.export.user_pages, 21 + 1);
    assert!(
        st.counters.api_requests < 60,
        "{} requests",
        st.counters.api_requests
    );
}

#[test]
fn an_export_without_a_secret_exits_78_and_offers_no_dry_run() {
    let fake = Fake::spawn(FakeConfig::default());
    let s = Scratch::new();
    let out = run(genimport_against(s.dir.path(), &fake)
        .env_remove("GENESYS_CLIENT_SECRET")
        .args(["export", "users"]));
    let err = stderr(&out);
    assert_eq!(code(&out), exit::CONFIG, "{err}");
    assert!(err.contains("GENESYS_CLIENT_SECRET"), "{err}");
    assert!(!err.contains("--dry-run"), "export has no dry run: {err}");
}
