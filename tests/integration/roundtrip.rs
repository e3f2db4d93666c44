//! The export -> edit -> `--update --exact` loop with the data real orgs
//! hold: names holding `;`, `@` or `:`, values that are `-`, edge spaces,
//! group-held access; each defect of the round trip has a test here that
//! failed before its fix (see docs/round-trip.md).

use crate::common::fake::roundtrip::Kind;
use crate::common::fake::{EMPLOYEE_ROLE, HOME_DIVISION, SALES_DIVISION};
use crate::common::*;
use serde_json::json;

const EXACT: &[&str] = &["--update", "--exact"];

fn id_of(items: &[(String, String)], name: &str) -> String {
    items.iter().find(|(_, n)| n == name).expect(name).0.clone()
}

/// Exports the org's users to `org.csv` in `s`; the file's rows.
fn export(fake: &Fake, s: &Scratch) -> Vec<Vec<String>> {
    let out = run(genimport_against(s.dir.path(), fake).args(["export", "users", "-o", "org.csv"]));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(s.path("org.csv"))
        .expect("export file");
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// The cell of `column` in the row of `email`.
fn cell(rows: &[Vec<String>], email: &str, column: &str) -> String {
    let at = rows[0].iter().position(|c| c == column).expect(column);
    rows.iter().find(|r| r[0] == email).expect(email)[at].clone()
}

/// Runs genimport on `file` in `s` with `args`; (exit code, results by line, stderr).
fn apply(fake: &Fake, s: &Scratch, file: &str, args: &[&str]) -> (i32, Vec<ResultRow>, String) {
    let out = run(genimport_against(s.dir.path(), fake)
        .arg(file)
        .args(args)
        .args(["-o", "results.csv"]));
    let mut rows = read_results(&s.path("results.csv"));
    rows.sort_by_key(|r| r.line);
    (code(&out), rows, stderr(&out))
}

/// Exports, re-applies the untouched file with `--update --exact` and
/// asserts nothing was written and every row is `unchanged`; the export.
fn round_trip_sends_nothing(fake: &Fake) -> Vec<Vec<String>> {
    let s = Scratch::new();
    let rows = export(fake, &s);
    let before = writes(fake);
    let (code, results, err) = apply(fake, &s, "org.csv", EXACT);
    assert_eq!(code, exit::OK, "{err}\n{results:?}");
    for r in &results {
        assert_eq!(
            (r.status.as_str(), r.changes.as_str()),
            ("unchanged", ""),
            "{r:?}\nexported: {rows:?}"
        );
    }
    assert_eq!(writes(fake), before, "an untouched export sends no writes");
    rows
}

#[test]
fn a_name_holding_a_semicolon_comes_back_as_one_name() {
    let fake = Fake::spawn(FakeConfig::default());
    let ana = {
        let mut st = fake.state();
        let queue = st.add_named(Kind::Queue, "Sales; EMEA");
        st.add_named(Kind::Queue, "EMEA");
        let group = st.add_named(Kind::Group, "Ops; Night");
        let skill = st.add_named(Kind::Skill, "Phones; Chat");
        let ana = st.add_user_with(
            "ana@example.com",
            "Ana",
            json!({"skills": [{"id": skill, "name": "Phones; Chat", "proficiency": 3.0}]}),
        );
        st.queue_members.entry(queue).or_default().push(ana.clone());
        st.join_group(&group, &ana);
        ana
    };
    let rows = round_trip_sends_nothing(&fake);
    assert_eq!(cell(&rows, "ana@example.com", "queues"), "Sales\\; EMEA");
    assert_eq!(cell(&rows, "ana@example.com", "groups"), "Ops\\; Night");
    assert_eq!(cell(&rows, "ana@example.com", "skills"), "Phones\\; Chat:3");
    let st = fake.state();
    assert_eq!(st.queues_of(&ana), ["Sales; EMEA"]);
    assert_eq!(st.groups_of(&ana), ["Ops; Night"]);
}

#[test]
fn a_value_of_a_single_dash_is_kept_not_cleared() {
    let fake = Fake::spawn(FakeConfig::default());
    let ana = {
        let mut st = fake.state();
        let queue = st.add_named(Kind::Queue, "-");
        let location = st.add_named(Kind::Location, "-");
        let ana = st.add_user_with(
            "ana@example.com",
            "Ana",
            json!({
                "title": "-", "department": "-",
                "employerInfo": {"employeeId": "-"},
                "locations": [{"id": location, "locationDefinition": {"id": location}}]
            }),
        );
        st.queue_members.entry(queue).or_default().push(ana.clone());
        ana
    };
    let rows = round_trip_sends_nothing(&fake);
    for column in ["title", "department", "employee_id", "location", "queues"] {
        assert_eq!(cell(&rows, "ana@example.com", column), "\\-", "{column}");
    }
    let st = fake.state();
    assert_eq!(st.queues_of(&ana), ["-"]);
    let user = st.user_by_id(&ana).unwrap();
    assert_eq!(user.profile["title"], "-");
}

#[test]
fn role_and_division_names_holding_at_come_back_as_themselves() {
    let fake = Fake::spawn(FakeConfig::default());
    let ana = {
        let mut st = fake.state();
        let team = st.add_named(Kind::Role, "Team@Sales");
        let west = st.add_named(Kind::Division, "EU@West");
        let ana = st.add_user_with(
            "ana@example.com",
            "Ana",
            json!({"division": {"id": west, "name": "EU@West"}}),
        );
        st.grant_user(&ana, &team, HOME_DIVISION);
        st.grant_user(&ana, &team, &west);
        ana
    };
    let rows = round_trip_sends_nothing(&fake);
    assert_eq!(
        cell(&rows, "ana@example.com", "roles"),
        "Team\\@Sales; Team\\@Sales@EU\\@West"
    );
    assert_eq!(cell(&rows, "ana@example.com", "division"), "EU@West");
    assert_eq!(fake.state().direct_grants(&ana).len(), 2);
}

#[test]
fn edge_spaces_are_kept_and_names_differing_by_them_are_not_swapped() {
    let fake = Fake::spawn(FakeConfig::default());
    {
        let mut st = fake.state();
        // The fake holds both `Billing` and `billing ` (a trailing space).
        let spaced = id_of(&st.skills, "billing ");
        let queue = st.add_named(Kind::Queue, " VIP ");
        let ana = st.add_user_with(
            "ana@example.com",
            " Ana ",
            json!({
                "title": "  Lead", "department": "Ops ",
                "skills": [{"id": spaced, "name": "billing ", "proficiency": 3.0}]
            }),
        );
        st.queue_members.entry(queue).or_default().push(ana);
    }
    let rows = round_trip_sends_nothing(&fake);
    assert_eq!(cell(&rows, "ana@example.com", "title"), "\\ \\ Lead");
    assert_eq!(cell(&rows, "ana@example.com", "skills"), "billing\\ :3");
    assert_eq!(cell(&rows, "ana@example.com", "queues"), "\\ VIP\\ ");
}

#[test]
fn an_xlsx_export_writes_text_without_the_csv_apostrophe() {
    use calamine::{Data, Reader, Xlsx};
    let fake = Fake::spawn(FakeConfig::default());
    fake.state().add_user_with(
        "ana@example.com",
        "Ana",
        json!({
            "department": "=SUM(A1)",
            "addresses": [{"address": "+5511955550101", "mediaType": "PHONE", "type": "WORK"}]
        }),
    );
    let s = Scratch::new();
    let out =
        run(genimport_against(s.dir.path(), &fake).args(["export", "users", "-o", "org.xlsx"]));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let mut book: Xlsx<_> = calamine::open_workbook(s.path("org.xlsx")).expect("workbook");
    let sheet = book
        .worksheet_range_at(0)
        .expect("a sheet")
        .expect("readable");
    let row: Vec<&Data> = sheet.rows().nth(1).expect("Ana's row").iter().collect();
    assert_eq!(row[5], &Data::String("+5511955550101".into()), "{row:?}");
    assert_eq!(
        row[3],
        &Data::String("=SUM(A1)".into()),
        "a string cell, never a formula"
    );
    // And it reads back unchanged.
    let before = writes(&fake);
    let (code, results, err) = apply(&fake, &s, "org.xlsx", EXACT);
    assert_eq!(
        (code, results[0].status.as_str()),
        (exit::OK, "unchanged"),
        "{err}"
    );
    assert_eq!(writes(&fake), before);
}

/// Ana holds Billing at 3 and Sales at 4.
fn rated_user(fake: &Fake) -> String {
    let mut st = fake.state();
    let (billing, sales) = (id_of(&st.skills, "Billing"), id_of(&st.skills, "Sales"));
    st.add_user_with(
        "ana@example.com",
        "Ana",
        json!({"skills": [
            {"id": billing, "name": "Billing", "proficiency": 3.0},
            {"id": sales, "name": "Sales", "proficiency": 4.0}
        ]}),
    )
}

#[test]
fn a_name_listed_twice_in_one_cell_makes_the_row_invalid() {
    let fake = Fake::spawn(FakeConfig::default());
    let ana = rated_user(&fake);
    let s = Scratch::new();
    s.write(
        "m.csv",
        "email,skills\nana@example.com,Billing:3; Billing:1\n",
    );
    let before = writes(&fake);
    let (code, rows, err) = apply(&fake, &s, "m.csv", &["--update"]);
    assert_eq!(
        (code, rows[0].status.as_str()),
        (exit::ROWS_NEED_ATTENTION, "invalid"),
        "{err}"
    );
    assert!(
        rows[0].message.contains("`Billing` is listed twice"),
        "{:?}",
        rows[0]
    );
    assert_eq!(writes(&fake), before);
    assert_eq!(fake.state().rated_of(&ana, "skills"), ["Billing", "Sales"]);
}

#[test]
fn a_list_cell_of_separators_alone_removes_nothing() {
    let fake = Fake::spawn(FakeConfig::default());
    let ana = rated_user(&fake);
    let s = Scratch::new();
    s.write("m.csv", "email,skills\nana@example.com, ; \n");
    let before = writes(&fake);
    let (code, rows, err) = apply(&fake, &s, "m.csv", EXACT);
    assert_eq!(
        (code, rows[0].status.as_str()),
        (exit::ROWS_NEED_ATTENTION, "invalid"),
        "{err}"
    );
    assert!(
        rows[0].message.contains("write `-` to clear"),
        "{:?}",
        rows[0]
    );
    assert_eq!(writes(&fake), before, "nothing removed");
    assert_eq!(fake.state().rated_of(&ana, "skills"), ["Billing", "Sales"]);
}

#[test]
fn a_skill_named_without_a_rating_keeps_the_rating_it_has() {
    let fake = Fake::spawn(FakeConfig::default());
    let ana = rated_user(&fake);
    let s = Scratch::new();
    s.write(
        "m.csv",
        "email,skills\nana@example.com,Billing; Sales; Tech\n",
    );
    let (code, rows, err) = apply(&fake, &s, "m.csv", EXACT);
    assert_eq!(
        (code, rows[0].status.as_str()),
        (exit::OK, "updated"),
        "{err}"
    );
    assert_eq!(rows[0].changes, "add skill Tech:0", "{:?}", rows[0]);
    let st = fake.state();
    let skills = &st.user_by_id(&ana).unwrap().profile["skills"];
    let rating = |name: &str| {
        skills
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap()["proficiency"]
            .as_f64()
    };
    assert_eq!((rating("Billing"), rating("Sales")), (Some(3.0), Some(4.0)));
}

/// Ana holds Agent in Home and is in Support Tier 1, both her own; she is
/// in group G2, which grants Quality Evaluator in Sales and brings queue
/// VIP. With `also`, G2 also grants Agent in Home and brings Support Tier 1.
fn grouped(fake: &Fake, also: bool) -> String {
    let mut st = fake.state();
    let (agent, quality) = (
        id_of(&st.roles, "Agent"),
        id_of(&st.roles, "Quality Evaluator"),
    );
    let (support, vip) = (
        id_of(&st.queues, "Support Tier 1"),
        id_of(&st.queues, "VIP"),
    );
    let g2 = st.add_named(Kind::Group, "G2");
    let ana = st.add_user("ana@example.com", "Ana", "active");
    st.grant_user(&ana, &agent, HOME_DIVISION);
    st.queue_members
        .entry(support.clone())
        .or_default()
        .push(ana.clone());
    st.grant_group(&g2, &quality, SALES_DIVISION);
    st.join_group(&g2, &ana);
    st.add_queue_through_group(&vip, &g2);
    if also {
        st.grant_group(&g2, &agent, HOME_DIVISION);
        st.add_queue_through_group(&support, &g2);
    }
    ana
}

/// The role names `user` holds directly, with their divisions' names.
fn own_roles(fake: &Fake, user: &str) -> Vec<String> {
    let st = fake.state();
    let mut roles: Vec<String> = st
        .direct_grants(user)
        .iter()
        .map(|(r, d)| {
            let name = |list: &[(String, String)], id: &str| {
                list.iter()
                    .find(|(i, _)| i == id)
                    .map(|(_, n)| n.clone())
                    .unwrap_or_default()
            };
            format!("{}@{}", name(&st.roles, r), name(&st.divisions, d))
        })
        .collect();
    roles.sort();
    roles
}

#[test]
fn a_row_leaving_a_group_keeps_what_it_lists_through_that_group() {
    let fake = Fake::spawn(FakeConfig::default());
    let ana = grouped(&fake, false);
    let csv = "email,roles,queues,groups\n\
               ana@example.com,Agent; Quality Evaluator@Sales,Support Tier 1; VIP,-\n";
    let ran = import_csv(&fake, csv, EXACT);
    assert_eq!(
        (ran.code, ran.rows[0].status.as_str()),
        (exit::OK, "updated"),
        "{}",
        ran.stderr
    );
    assert_eq!(
        ran.rows[0].changes,
        "add role Quality Evaluator@Sales; add queue VIP; remove group G2"
    );
    assert_eq!(
        own_roles(&fake, &ana),
        ["Agent@Home", "Quality Evaluator@Sales"]
    );
    assert_eq!(fake.state().queues_of(&ana), ["Support Tier 1", "VIP"]);
    assert!(fake.state().groups_of(&ana).is_empty());
    let before = writes(&fake);
    let again = import_csv(&fake, csv, EXACT);
    assert_eq!(again.rows[0].status, "unchanged", "{:?}", again.rows[0]);
    assert_eq!(
        writes(&fake),
        before,
        "the second run has nothing to add back"
    );
}

#[test]
fn removing_access_also_held_through_a_group_says_it_stays() {
    let fake = Fake::spawn(FakeConfig::default());
    grouped(&fake, true);
    let csv = "email,roles,queues\nana@example.com,-,-\n";
    let ran = import_csv(&fake, csv, EXACT);
    let row = &ran.rows[0];
    assert_eq!(
        (ran.code, row.status.as_str()),
        (exit::OK, "updated"),
        "{}",
        ran.stderr
    );
    assert_eq!(
        row.changes,
        "remove role Agent@Home; remove queue Support Tier 1"
    );
    assert!(
        row.message
            .contains("role Agent@Home stays: it is also granted through a group"),
        "{row:?}"
    );
    assert!(
        row.message
            .contains("queue Support Tier 1 stays: the user is also a member through a group"),
        "{row:?}"
    );
}

#[test]
fn exact_names_the_group_held_role_and_queue_it_cannot_remove() {
    let fake = Fake::spawn(FakeConfig::default());
    {
        // Three users, so their grants are read role by role.
        let mut st = fake.state();
        let (agent, quality) = (
            id_of(&st.roles, "Agent"),
            id_of(&st.roles, "Quality Evaluator"),
        );
        let vip = id_of(&st.queues, "VIP");
        let g2 = st.add_named(Kind::Group, "G2");
        for name in ["ana", "bob", "cy"] {
            let user = st.add_user(&format!("{name}@example.com"), name, "active");
            st.grant_user(&user, &agent, HOME_DIVISION);
            st.join_group(&g2, &user);
        }
        st.grant_group(&g2, &quality, SALES_DIVISION);
        st.add_queue_through_group(&vip, &g2);
    }
    let csv = "email,roles,queues\n\
               ana@example.com,-,-\nbob@example.com,-,-\ncy@example.com,-,-\n";
    let ran = import_csv(&fake, csv, EXACT);
    assert!(
        fake.state().movers.subject_grant_reads > 0,
        "read role by role"
    );
    for row in &ran.rows {
        assert_eq!(
            (row.status.as_str(), row.changes.as_str()),
            ("updated", "remove role Agent@Home"),
            "{row:?}"
        );
        assert!(
            row.message.contains("role Quality Evaluator@Sales stayed"),
            "{row:?}"
        );
        assert!(row.message.contains("queue VIP stayed"), "{row:?}");
    }
}

#[test]
fn stayed_notes_only_when_the_file_asks_to_remove_what_stays() {
    let fake = Fake::spawn(FakeConfig::default());
    let ana = grouped(&fake, false);
    // An unedited export: the group's access is not the user's own, not asked away.
    let s = Scratch::new();
    export(&fake, &s);
    let (code, rows, err) = apply(&fake, &s, "org.csv", EXACT);
    assert_eq!(
        (code, rows[0].status.as_str()),
        (exit::OK, "unchanged"),
        "{err}"
    );
    assert_eq!(rows[0].message, "", "{:?}", rows[0]);
    // Leaving the group takes its access along: nothing "stays".
    let csv = "email,roles,queues,groups\nana@example.com,Agent,Support Tier 1,-\n";
    let ran = import_csv(&fake, csv, EXACT);
    let row = &ran.rows[0];
    assert_eq!(
        (row.status.as_str(), row.changes.as_str()),
        ("updated", "remove group G2"),
        "{row:?}"
    );
    assert!(!row.message.contains("stayed"), "{row:?}");
    assert_eq!(own_roles(&fake, &ana), ["Agent@Home"]);
    assert_eq!(fake.state().queues_of(&ana), ["Support Tier 1"]);
}

#[test]
fn a_poisoned_role_batch_is_split_once_over_not_twice() {
    let fake = Fake::spawn(FakeConfig::default());
    let ids: Vec<String> = {
        let mut st = fake.state();
        (0..30)
            .map(|i| st.add_user(&format!("u{i}@example.com"), &format!("U {i}"), "active"))
            .collect()
    };
    fake.state().write_faults.poison_members = vec![ids[7].clone()];
    let mut csv = String::from("email,roles\n");
    for i in 0..30 {
        csv.push_str(&format!("u{i}@example.com,Agent\n"));
    }
    let ran = import_csv(&fake, &csv, &["--update"]);
    assert_eq!(ran.code, exit::ROWS_NEED_ATTENTION, "{}", ran.stderr);
    let failed: Vec<u64> = ran
        .rows
        .iter()
        .filter(|r| r.status != "updated")
        .map(|r| r.line)
        .collect();
    assert_eq!(failed, [9], "only the poisoned user's row");
    // 30 -> 15 -> 8 -> 4 -> 2 -> 1: the batch, then both halves at each of five levels.
    let requests = fake.state().counters.grant_requests;
    assert!(
        requests <= 11,
        "{requests} grant POSTs for one poisoned member of 30"
    );
}

#[test]
fn a_restored_user_gets_its_whole_row_removals_included() {
    let fake = Fake::spawn(FakeConfig::default());
    let ana = {
        let mut st = fake.state();
        let languages = st.languages.clone();
        let language = |n: &str| json!({"id": id_of(&languages, n), "name": n, "proficiency": 3.0});
        let profile = json!({"languages": [language("English"), language("French")]});
        let ana = st.add_user_with("ana@example.com", "Ana", profile);
        for group in ["Night Shift", "Day Shift"] {
            let id = st
                .groups
                .iter()
                .find(|g| g.name == group)
                .unwrap()
                .id
                .clone();
            st.join_group(&id, &ana);
        }
        st.users.iter_mut().find(|u| u.id == ana).unwrap().state = "deleted".into();
        ana
    };
    let csv = "email,name,groups,languages\nana@example.com,Ana,Night Shift,English:3\n";
    let args = ["--update", "--exact", "--restore-deleted"];
    let ran = import_csv(&fake, csv, &args);
    assert_eq!(ran.code, exit::OK, "{}", ran.stderr);
    assert_eq!(ran.rows[0].status, "updated", "{:?}", ran.rows[0]);
    assert_eq!(
        ran.rows[0].changes,
        "restore; add role Employee@Home; remove language French; remove group Day Shift"
    );
    let st = fake.state();
    assert_eq!(st.groups_of(&ana), ["Night Shift"]);
    assert_eq!(st.rated_of(&ana, "languages"), ["English"]);
    drop(st);
    let before = writes(&fake);
    let again = import_csv(&fake, csv, &args);
    assert_eq!(again.rows[0].status, "unchanged", "{:?}", again.rows[0]);
    assert_eq!(writes(&fake), before, "the first run did it all");
}

#[test]
fn a_refused_queue_read_fails_only_the_rows_that_name_the_queue() {
    let fake = Fake::spawn(FakeConfig::default());
    let (ana, bob) = {
        let mut st = fake.state();
        let (support, billing, vip) = (
            id_of(&st.queues, "Support Tier 1"),
            id_of(&st.queues, "Billing"),
            id_of(&st.queues, "VIP"),
        );
        let ana = st.add_user("ana@example.com", "Ana", "active");
        let bob = st.add_user("bob@example.com", "Bob", "active");
        for user in [&ana, &bob] {
            st.queue_members
                .entry(support.clone())
                .or_default()
                .push(user.clone());
            st.queue_members
                .entry(billing.clone())
                .or_default()
                .push(user.clone());
        }
        st.roundtrip.forbid_member_reads.insert(vip);
        (ana, bob)
    };
    let csv = "email,queues\nana@example.com,Support Tier 1\nbob@example.com,Support Tier 1; VIP\n";
    // Without an undo file: the undo could not tell whether Ana is in VIP,
    // so it would fail her row too (see undo.rs); this is about the run's reads.
    let ran = import_csv(&fake, csv, &["--update", "--exact", "--undo", "none"]);
    assert_eq!(ran.code, exit::ROWS_NEED_ATTENTION, "{}", ran.stderr);
    let (a, b) = (&ran.rows[0], &ran.rows[1]);
    assert_eq!(
        (a.status.as_str(), a.changes.as_str()),
        ("updated", "remove queue Billing"),
        "{a:?}"
    );
    assert!(a.message.contains("queue VIP not compared"), "{a:?}");
    assert_eq!(b.status, "failed", "{b:?}");
    assert!(
        b.message.contains("queue VIP"),
        "the refused queue is named: {b:?}"
    );
    let st = fake.state();
    assert_eq!(st.queues_of(&ana), ["Support Tier 1"]);
    assert_eq!(
        st.queues_of(&bob),
        ["Support Tier 1", "Billing"],
        "nothing sent for Bob"
    );
}

#[test]
fn the_licence_preview_counts_what_deleted_users_lose() {
    let fake = Fake::spawn(FakeConfig::default());
    {
        let mut st = fake.state();
        let agent = id_of(&st.roles, "Agent");
        st.licences.map(&agent, &[("lic-cx2", "cloudCX2")]);
        st.add_user_with(
            "gone@example.com",
            "Gone",
            json!({"authorization": {"roles": [{"id": agent}]}}),
        );
    }
    let s = Scratch::new();
    s.write("m.csv", "email,state\ngone@example.com,deleted\n");
    let out = run(genimport_against(s.dir.path(), &fake).args([
        "m.csv",
        "--update",
        "--allow-delete",
        "--dry-run",
    ]));
    let err = stderr(&out);
    assert_eq!(code(&out), exit::OK, "{err}");
    let line = err
        .lines()
        .find(|l| l.trim_start().starts_with("licences "))
        .map(str::trim);
    assert_eq!(line, Some("licences       -1 cloudCX2"), "{err}");
}

#[test]
fn deleting_a_manager_names_the_users_left_with_a_deleted_manager() {
    let fake = Fake::spawn(FakeConfig::default());
    {
        let mut st = fake.state();
        let boss = st.add_user("boss@example.com", "Boss", "active");
        st.add_user("new.boss@example.com", "New Boss", "active");
        for who in ["ana", "bob", "cy"] {
            st.add_user_with(
                &format!("{who}@example.com"),
                who,
                json!({"manager": {"id": boss}}),
            );
        }
    }
    // Cy gets a new manager in the same file: nothing to say about Cy.
    let csv =
        "email,state,manager\nboss@example.com,deleted,\ncy@example.com,,new.boss@example.com\n";
    let ran = import_csv(&fake, csv, &["--update", "--allow-delete"]);
    assert_eq!(ran.code, exit::OK, "{}", ran.stderr);
    let row = &ran.rows[0];
    assert_eq!(
        (row.status.as_str(), row.changes.as_str()),
        ("updated", "state"),
        "{row:?}"
    );
    assert_eq!(
        row.message,
        "the manager of ana@example.com, bob@example.com: they keep a deleted manager until given another"
    );
}

#[test]
fn a_restored_user_gets_the_role_genesys_marks_default_whatever_its_name() {
    let fake = Fake::spawn(FakeConfig::default());
    let ana = {
        let mut st = fake.state();
        let default = st.roles.iter_mut().find(|(id, _)| id == EMPLOYEE_ROLE);
        default.unwrap().1 = "Staff".into();
        st.add_named(Kind::Role, "Employee");
        let ana = st.add_user("ana@example.com", "Ana", "active");
        st.users.iter_mut().find(|u| u.id == ana).unwrap().state = "deleted".into();
        ana
    };
    let ran = import_csv(
        &fake,
        "email,name\nana@example.com,Ana\n",
        &["--restore-deleted"],
    );
    assert_eq!(ran.code, exit::OK, "{}", ran.stderr);
    assert_eq!(
        ran.rows[0].changes, "restore; add role Staff@Home",
        "{:?}",
        ran.rows[0]
    );
    assert_eq!(own_roles(&fake, &ana), ["Staff@Home"]);
}

#[test]
fn a_skill_the_catalogue_cannot_name_is_exported_not_dropped() {
    let fake = Fake::spawn(FakeConfig::default());
    let ana = {
        let mut st = fake.state();
        let sales = id_of(&st.skills, "Sales");
        // A skill the catalogue no longer lists (deleted since it was given).
        let gone = json!({"id": "5k111111-0000-4000-8000-000000000000", "name": "Legacy", "proficiency": 2.0});
        st.add_user_with(
            "ana@example.com",
            "Ana",
            json!({"skills": [{"id": sales, "name": "Sales", "proficiency": 4.0}, gone]}),
        )
    };
    let s = Scratch::new();
    let rows = export(&fake, &s);
    assert_eq!(
        cell(&rows, "ana@example.com", "skills"),
        "Legacy:2; Sales:4"
    );
    let before = writes(&fake);
    let (_, results, err) = apply(&fake, &s, "org.csv", EXACT);
    assert_eq!(results[0].status, "invalid", "{err}\n{:?}", results[0]);
    assert!(results[0].message.contains("Legacy"), "{:?}", results[0]);
    assert_eq!(writes(&fake), before, "nothing removed");
    assert_eq!(fake.state().rated_of(&ana, "skills").len(), 2);
}

#[test]
fn values_genimport_would_not_write_come_back_unchanged_and_are_refused_only_as_changes() {
    let fake = Fake::spawn(FakeConfig::default());
    fake.state().add_user_with(
        "ana@example.com",
        "Ana",
        json!({
            "employerInfo": {"employeeType": "Intern", "dateHire": "2024-02-01T00:00:00.000Z"},
            "addresses": [{"address": "3175550123", "mediaType": "PHONE", "type": "WORK"}]
        }),
    );
    fake.state().add_user("bob@example.com", "Bob", "active");
    let rows = round_trip_sends_nothing(&fake);
    assert_eq!(cell(&rows, "ana@example.com", "employee_type"), "Intern");
    assert_eq!(cell(&rows, "ana@example.com", "phone"), "3175550123");
    // A value the user does not hold yet must be one genimport would write.
    let csv = "email,name,employee_type,hire_date\n\
               bob@example.com,Bob,full-time,2024-02-01\n\
               ana@example.com,Ana,Seasonal,\n\
               new@example.com,New,Intern,\n";
    let before = writes(&fake);
    let ran = import_csv(&fake, csv, &["--update", "--dry-run"]);
    assert_eq!(ran.rows[0].status, "would_update", "{:?}", ran.rows[0]);
    assert_eq!(
        ran.rows[0].changes, "employee_type; hire_date",
        "canonical Full-time"
    );
    for row in &ran.rows[1..] {
        assert_eq!(row.status, "invalid", "{row:?}");
        assert!(row.message.starts_with("employee_type: `"), "{row:?}");
    }
    assert_eq!(writes(&fake), before);
}

#[test]
fn a_search_showing_no_roles_does_not_skip_removals() {
    let fake = Fake::spawn(FakeConfig::default());
    let ana = {
        let mut st = fake.state();
        let (agent, supervisor) = (id_of(&st.roles, "Agent"), id_of(&st.roles, "Supervisor"));
        let ana = st.add_user("ana@example.com", "Ana", "active");
        st.grant_user(&ana, &agent, HOME_DIVISION);
        st.grant_user(&ana, &supervisor, HOME_DIVISION);
        // The search's best-effort expand came back empty.
        let user = st.users.iter_mut().find(|u| u.id == ana).unwrap();
        user.profile
            .insert("authorization".into(), json!({"roles": []}));
        ana
    };
    let ran = import_csv(&fake, "email,roles\nana@example.com,Agent\n", EXACT);
    assert_eq!(ran.code, exit::OK, "{}", ran.stderr);
    assert_eq!(
        ran.rows[0].changes, "remove role Supervisor@Home",
        "{:?}",
        ran.rows[0]
    );
    assert_eq!(own_roles(&fake, &ana), ["Agent@Home"]);
}

/// What the fake's org holds: every user's profile and state, direct
/// grants, queue members (own and through groups) and group members.
fn org(fake: &Fake) -> String {
    let st = fake.state();
    let mut users: Vec<String> = st
        .users
        .iter()
        .map(|u| {
            format!(
                "{} {} {:?} {:?}",
                u.email,
                u.state,
                u.profile,
                st.direct_grants(&u.id)
            )
        })
        .collect();
    users.sort();
    let mut queues: Vec<String> = st
        .queues
        .iter()
        .map(|(id, name)| {
            let mut own = st.queue_members.get(id).cloned().unwrap_or_default();
            let mut through = st
                .movers
                .group_queue_members
                .get(id)
                .cloned()
                .unwrap_or_default();
            own.sort();
            through.sort();
            format!("{name}: {own:?} {through:?}")
        })
        .collect();
    queues.sort();
    let groups: Vec<String> = st
        .groups
        .iter()
        .map(|g| format!("{}: {:?}", g.name, g.members))
        .collect();
    format!("{users:#?}\n{queues:#?}\n{groups:#?}")
}

#[test]
fn an_org_holding_all_of_the_above_round_trips_with_zero_writes() {
    let fake = Fake::spawn(FakeConfig::default());
    {
        let mut st = fake.state();
        let emea = st.add_named(Kind::Queue, "Sales; EMEA");
        let dash = st.add_named(Kind::Queue, "-");
        let spaced = st.add_named(Kind::Queue, " VIP ");
        let team = st.add_named(Kind::Role, "Team@Sales");
        let west = st.add_named(Kind::Division, "EU@West");
        let skill = st.add_named(Kind::Skill, "Billing:EU");
        let lisbon = st.add_named(Kind::Location, "-");
        let group = st.add_named(Kind::Group, "Ops; Night");
        let quality = id_of(&st.roles, "Quality Evaluator");
        let vip = id_of(&st.queues, "VIP");
        let ana = st.add_user_with(
            "ana@example.com",
            " Ana ",
            json!({
                "title": "-", "department": "  Ops", "division": {"id": west, "name": "EU@West"},
                "employerInfo": {"employeeId": "DOMAIN\\ana", "employeeType": "Intern", "dateHire": "2024-02-01T00:00:00Z"},
                "addresses": [{"address": "3175550123", "mediaType": "PHONE", "type": "WORK"}],
                "skills": [{"id": skill, "name": "Billing:EU", "proficiency": 2.5}],
                "locations": [{"id": lisbon, "locationDefinition": {"id": lisbon}}]
            }),
        );
        let bob = st.add_user_with(
            "bob@example.com",
            "Bob",
            json!({"employerInfo": {"employeeType": "full-time"}}),
        );
        for user in [&ana, &bob] {
            for queue in [&emea, &dash, &spaced] {
                st.queue_members
                    .entry(queue.clone())
                    .or_default()
                    .push(user.clone());
            }
            st.grant_user(user, &team, HOME_DIVISION);
            st.grant_user(user, &team, &west);
            st.join_group(&group, user);
        }
        st.grant_group(&group, &quality, SALES_DIVISION);
        st.add_queue_through_group(&vip, &group);
    }
    let before = org(&fake);
    let rows = round_trip_sends_nothing(&fake);
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(org(&fake), before, "the org is as it was");
}

#[test]
fn a_removal_found_already_gone_is_said_not_reported_as_done() {
    let fake = Fake::spawn(FakeConfig::default());
    {
        let mut st = fake.state();
        let (english, french) = (
            id_of(&st.languages, "English"),
            id_of(&st.languages, "French"),
        );
        let languages = json!([
            {"id": english, "name": "English", "proficiency": 4.0},
            {"id": french, "name": "French", "proficiency": 2.0}
        ]);
        st.add_user_with("ana@example.com", "Ana", json!({"languages": languages}));
        let bob = st.add_user("bob@example.com", "Bob", "active");
        st.roundtrip.gone_since_read.insert(french);
        st.roundtrip.gone_since_read.insert(bob);
    }
    let csv = "email,state,languages\nana@example.com,,English:4\nbob@example.com,deleted,\n";
    let ran = import_csv(&fake, csv, &["--update", "--exact", "--allow-delete"]);
    assert_eq!(ran.code, exit::OK, "{}", ran.stderr);
    let (ana, bob) = (&ran.rows[0], &ran.rows[1]);
    assert_eq!(
        (ana.status.as_str(), ana.changes.as_str()),
        ("unchanged", ""),
        "{ana:?}"
    );
    assert_eq!(ana.message, "language French was already gone (404)");
    assert_eq!(
        (bob.status.as_str(), bob.changes.as_str()),
        ("unchanged", ""),
        "{bob:?}"
    );
    assert_eq!(bob.message, "the user was already deleted (404)");
}

#[test]
fn a_second_ctrl_c_still_writes_every_row() {
    use std::time::Duration;
    let fake = Fake::spawn(FakeConfig::default());
    fake.state().roundtrip.slow_creates = Duration::from_millis(3000);
    let s = Scratch::new();
    let input = s.write("u.csv", users_csv(5));
    let child = genimport_against(s.dir.path(), &fake)
        .arg(&input)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let interrupt = || {
        let sent = std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(sent.success());
    };
    // Both while the first create is in flight.
    let started = std::time::Instant::now();
    while fake.state().roundtrip.creates_arrived == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no create arrived"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    interrupt();
    std::thread::sleep(Duration::from_millis(400));
    interrupt();
    let out = child.wait_with_output().expect("wait");
    assert_eq!(code(&out), exit::INTERRUPTED, "{}", stderr(&out));
    let rows = read_results(&s.path("u.results.csv"));
    assert_each_line_once(&rows, 5);
    // The create in flight was abandoned: its row says so.
    let abandoned: Vec<&ResultRow> = rows
        .iter()
        .filter(|r| r.message.contains("second Ctrl-C"))
        .collect();
    assert_eq!(abandoned.len(), 1, "{rows:?}");
}

#[test]
fn a_run_stopped_before_removals_says_a_re_run_needs_exact() {
    use std::time::Duration;
    let fake = Fake::spawn(FakeConfig::default());
    {
        let mut st = fake.state();
        let languages = st.languages.clone();
        let language = |n: &str| json!({"id": id_of(&languages, n), "name": n, "proficiency": 3.0});
        let profile = json!({"languages": [language("English"), language("French")]});
        st.add_user_with("ana@example.com", "Ana", profile);
        st.roundtrip.slow_language_removals = Duration::from_millis(1000);
    }
    let s = Scratch::new();
    let input = s.write("m.csv", "email,languages\nana@example.com,-\n");
    let child = genimport_against(s.dir.path(), &fake)
        .arg(&input)
        .args(EXACT)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let started = std::time::Instant::now();
    while fake.state().roundtrip.language_removals_arrived == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no removal arrived"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    let out = child.wait_with_output().expect("wait");
    assert_eq!(code(&out), exit::INTERRUPTED, "{}", stderr(&out));
    let rows = read_results(&s.path("m.results.csv"));
    assert_eq!(
        rows[0].changes, "remove language English",
        "the one in flight finished"
    );
    assert!(
        rows[0].message.ends_with("the run stopped before: remove language French; a re-run with --update --exact completes it"),
        "{:?}",
        rows[0]
    );
}

#[test]
fn a_role_grant_found_already_gone_is_said_not_reported_as_done() {
    let fake = Fake::spawn(FakeConfig::default());
    {
        let mut st = fake.state();
        let (agent, supervisor) = (id_of(&st.roles, "Agent"), id_of(&st.roles, "Supervisor"));
        let ana = st.add_user("ana@example.com", "Ana", "active");
        st.grant_user(&ana, &agent, HOME_DIVISION);
        st.grant_user(&ana, &supervisor, HOME_DIVISION);
        st.roundtrip.gone_since_read.insert(supervisor);
    }
    let ran = import_csv(&fake, "email,roles\nana@example.com,Agent\n", EXACT);
    assert_eq!(ran.code, exit::OK, "{}", ran.stderr);
    let row = &ran.rows[0];
    assert_eq!(
        (row.status.as_str(), row.changes.as_str()),
        ("unchanged", ""),
        "{row:?}"
    );
    assert_eq!(row.message, "role Supervisor@Home was already gone (404)");
}
