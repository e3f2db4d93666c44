//! The export -> edit -> `--update --exact` loop with the data real orgs
//! hold: names holding `;`, `@` or `:`, values that are `-`, edge spaces,
//! group-held access; each defect of the round trip has a test here that
//! failed before its fix (see docs/round-trip.md).

use crate::common::fake::roundtrip::Kind;
use crate::common::fake::HOME_DIVISION;
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
