//! The undo file against the stateful fake: a run that writes leaves one,
//! complete, before its first write; applying it with `--update --exact
//! --allow-delete --restore-deleted` puts every touched user back and
//! deletes the users the run created; applied again it writes nothing and
//! leaves no new undo file; an undo path that cannot be written stops the
//! run before anything is sent (exit 73).

use crate::common::*;

use std::collections::BTreeMap;

use serde_json::{json, Value};

fn id_of(list: &[(String, String)], name: &str) -> String {
    list.iter()
        .find(|(_, n)| n == name)
        .map(|(i, _)| i.clone())
        .unwrap_or_else(|| panic!("no {name} in the fake"))
}

/// Adds an active user holding `roles` (Home), `queues` and `groups`.
fn member(
    fake: &Fake,
    email: &str,
    profile: Value,
    roles: &[&str],
    queues: &[&str],
    groups: &[&str],
) -> String {
    let mut st = fake.state();
    let id = st.add_user_with(email, email.split('@').next().unwrap_or(email), profile);
    for role in roles {
        let role = id_of(&st.roles, role);
        st.grant_user(&id, &role, fake::HOME_DIVISION);
    }
    for queue in queues {
        let queue = id_of(&st.queues, queue);
        st.queue_members.entry(queue).or_default().push(id.clone());
    }
    for group in groups {
        let group = id_of(
            &st.groups
                .iter()
                .map(|g| (g.id.clone(), g.name.clone()))
                .collect::<Vec<_>>(),
            group,
        );
        st.join_group(&group, &id);
    }
    id
}

/// An org of five users: Ana (a mover), Bob (her manager), Cid (a
/// leaver), Dan (in Sales, deleted by the run) and Eve (moved, retitled,
/// placed, given an employee id).
fn org(fake: &Fake) {
    let (skills, languages) = {
        let st = fake.state();
        (st.skills.clone(), st.languages.clone())
    };
    let rated = |list: &[(String, String)], n: &str, p: f64| json!({"id": id_of(list, n), "name": n, "proficiency": p});
    let bob = member(fake, "bob@example.com", json!({}), &["Employee"], &[], &[]);
    member(
        fake,
        "ana@example.com",
        json!({
            "title": "Agent", "department": "Support", "manager": {"id": bob},
            "skills": [rated(&skills, "Sales", 4.0), rated(&skills, "Billing", 2.0)],
            "languages": [rated(&languages, "English", 5.0), rated(&languages, "French", 3.0)],
        }),
        &["Employee", "Agent", "Supervisor"],
        &["Support Tier 1", "Billing"],
        &["Night Shift", "Day Shift"],
    );
    member(
        fake,
        "cid@example.com",
        json!({"title": "Agent"}),
        &["Employee", "Agent"],
        &["Sales"],
        &["Weekend"],
    );
    let dan = member(
        fake,
        "dan@example.com",
        json!({"skills": [rated(&skills, "Tech", 3.0)]}),
        &["Employee", "Agent"],
        &["Tech"],
        &["Day Shift"],
    );
    member(fake, "eve@example.com", json!({}), &["Employee"], &[], &[]);
    let mut st = fake.state();
    if let Some(u) = st.users.iter_mut().find(|u| u.id == dan) {
        u.division_id = fake::SALES_DIVISION.into();
    }
}

const RUN: &str = "email,name,division,title,department,manager,location,employee_id,state,roles,skills,languages,queues,groups\n\
    ana@example.com,,,Team Lead,-,eve@example.com,,,,Agent;Admin,Sales:5;Tech:3,English:5,Support Tier 1;Sales,Night Shift;Weekend\n\
    cid@example.com,,,,,,,,inactive,,,,-,-\n\
    dan@example.com,,,,,,,,deleted,,,,,\n\
    eve@example.com,,Sales,Senior,,,Lisbon Office,E-9,,,,,,\n\
    fay@example.com,Fay New,,,,,,,,Agent,,,Sales,\n\
    bob@example.com,,,,,,,,,,,,,\n";

/// Drops what says "nothing" (null, "", [], {}): a field cleared is one
/// never set.
fn normal(value: &Value) -> Option<Value> {
    match value {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::Array(items) => {
            let mut items: Vec<Value> = items.iter().filter_map(normal).collect();
            items.sort_by_key(|v| v.to_string());
            (!items.is_empty()).then_some(Value::Array(items))
        }
        Value::Object(fields) => {
            let fields: serde_json::Map<String, Value> = fields
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), normal(v)?)))
                .collect();
            (!fields.is_empty()).then_some(Value::Object(fields))
        }
        other => Some(other.clone()),
    }
}

/// What a user is, as the undo promises to put it back: profile, division,
/// state, manager, location, employer info, direct grants, skills and
/// languages with ratings, direct queues, groups.
fn snapshot(fake: &Fake) -> BTreeMap<String, Value> {
    let st = fake.state();
    st.users
        .iter()
        .map(|u| {
            let profile = |k: &str| u.profile.get(k).cloned().unwrap_or(Value::Null);
            let rated = |k: &str| -> Value {
                profile(k)
                    .as_array()
                    .map(|items| {
                        items
                            .iter()
                            .map(|i| json!([i["id"], i["proficiency"]]))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let locations: Vec<Value> = profile("locations")
                .as_array()
                .map(|l| {
                    l.iter()
                        .map(|p| p["locationDefinition"]["id"].clone())
                        .collect()
                })
                .unwrap_or_default();
            let mut grants = st.direct_grants(&u.id);
            grants.sort();
            let state = json!({
                "name": u.name, "state": u.state, "division": u.division_id,
                "title": profile("title"), "department": profile("department"),
                "manager": profile("manager"), "locations": locations,
                "employerInfo": profile("employerInfo"), "addresses": profile("addresses"),
                "grants": grants, "skills": rated("skills"), "languages": rated("languages"),
                "queues": st.queues_of(&u.id), "groups": st.groups_of(&u.id),
            });
            (u.email.clone(), normal(&state).unwrap_or_default())
        })
        .collect()
}

fn leavers_fake() -> Fake {
    Fake::spawn(FakeConfig {
        leavers_lose_roles: true,
        ..FakeConfig::default()
    })
}

const APPLY: &[&str] = &["--update", "--exact", "--allow-delete", "--restore-deleted"];

#[test]
fn applying_the_undo_file_puts_every_touched_user_back_and_deletes_the_created() {
    let fake = leavers_fake();
    org(&fake);
    let before = snapshot(&fake);
    let s = Scratch::new();
    let input = s.write("m.csv", RUN);
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input).args([
        "--update",
        "--exact",
        "--allow-delete",
    ]));
    let err = stderr(&out);
    assert_eq!(code(&out), 0, "{err}");
    let changed = snapshot(&fake);
    for email in ["ana", "cid", "dan", "eve"] {
        let email = format!("{email}@example.com");
        assert_ne!(before[&email], changed[&email], "the run changed {email}");
    }
    {
        let st = fake.state();
        let cid = st.user("cid@example.com").map(|u| u.id.clone()).unwrap();
        assert!(
            st.direct_grants(&cid).is_empty(),
            "a deactivated user loses its roles"
        );
    }
    let undo = std::fs::read_to_string(s.path("m.undo.csv")).expect("the undo file");
    assert!(err.contains("m.undo.csv"), "the summary names it: {err}");
    assert!(
        err.contains("5  user(s)") || err.contains(" 5  user"),
        "{err}"
    );
    let lines: Vec<&str> = undo.lines().collect();
    assert_eq!(
        lines.len(),
        6,
        "a header and the five users the run touches (not Bob): {undo}"
    );
    assert!(lines[0].starts_with("email,name,division,"), "{undo}");
    assert!(
        undo.contains("fay@example.com,Fay New,,,,,deleted,"),
        "the created user is deleted: {undo}"
    );

    let writes_before_undo = writes(&fake);
    let out = run(genimport_against(s.dir.path(), &fake)
        .arg(s.path("m.undo.csv"))
        .args(APPLY));
    let err = stderr(&out);
    assert_eq!(code(&out), 0, "{err}\n{undo}");
    assert!(writes(&fake) > writes_before_undo);
    let after = snapshot(&fake);
    for (email, was) in &before {
        assert_eq!(&after[email], was, "{email} is back as it was\n{undo}");
    }
    assert_eq!(after["fay@example.com"]["state"], "deleted");
    assert!(
        s.path("m.undo.undo.csv").exists(),
        "applying the undo leaves its own undo (a redo)"
    );

    // Applied again: nothing to do, nothing written, no new undo file.
    let writes_after_undo = writes(&fake);
    let out = run(genimport_against(s.dir.path(), &fake)
        .arg(s.path("m.undo.csv"))
        .args(APPLY));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let rows = read_results(&s.path("m.undo.results.csv"));
    assert!(
        rows.iter().all(|r| r.status == "unchanged"),
        "{rows:?}\n{undo}"
    );
    assert_eq!(
        writes(&fake),
        writes_after_undo,
        "no writes the second time"
    );
    assert!(
        !s.path("m.undo.undo.1.csv").exists(),
        "and no new undo file"
    );
}

#[test]
fn an_undo_path_that_cannot_be_written_stops_the_run_before_anything_is_sent() {
    let fake = leavers_fake();
    org(&fake);
    let s = Scratch::new();
    let input = s.write("m.csv", RUN);
    for undo in [s.path("missing/m.undo.csv"), s.dir.path().to_path_buf()] {
        let out = run(genimport_against(s.dir.path(), &fake)
            .arg(&input)
            .args(["--update", "--exact", "--allow-delete", "--undo"])
            .arg(&undo));
        let err = stderr(&out);
        assert_eq!(code(&out), exit::CANT_CREATE, "{err}");
        assert!(err.contains("undo file"), "{err}");
        assert_eq!(writes(&fake), 0, "nothing sent");
        let rows = read_results(&s.path("m.results.csv"));
        assert_eq!(rows.len(), 6);
        assert!(
            rows.iter()
                .all(|r| r.status == "not_attempted" || r.status == "unchanged"),
            "{rows:?}"
        );
    }
}

#[test]
fn an_earlier_undo_is_never_replaced_and_none_writes_none() {
    let fake = Fake::spawn(FakeConfig::default());
    let s = Scratch::new();
    let first = s.write("u.csv", "email,name\nana@example.com,Ana\n");
    let out = run(genimport_against(s.dir.path(), &fake).arg(&first));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let earlier = std::fs::read_to_string(s.path("u.undo.csv")).unwrap();
    assert_eq!(
        earlier,
        "email,name,division,department,title,phone,state,manager,roles,skills,languages,queues,groups,location,employee_id,employee_type,hire_date,webrtc_phone,site\n\
         ana@example.com,Ana,,,,,deleted,,,,,,,,,,,,\n"
    );
    s.write("u.csv", "email,name\nbob@example.com,Bob\n");
    let out = run(genimport_against(s.dir.path(), &fake).arg(&first));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(s.path("u.undo.csv")).unwrap(),
        earlier
    );
    assert!(std::fs::read_to_string(s.path("u.undo.1.csv"))
        .unwrap()
        .contains("bob@example.com"));
    // A dry run, `--undo none`, and a run with nothing to do write none.
    s.write("u.csv", "email,name\ncid@example.com,Cid\n");
    for args in [&["--dry-run"][..], &["--undo", "none"]] {
        let out = run(genimport_against(s.dir.path(), &fake)
            .arg(&first)
            .args(args));
        assert_eq!(code(&out), 0, "{}", stderr(&out));
    }
    s.write("u.csv", "email,name\nana@example.com,Ana\n");
    let out = run(genimport_against(s.dir.path(), &fake).arg(&first));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(!s.path("u.undo.2.csv").exists());
    // `--undo PATH` replaces.
    let out = run(genimport_against(s.dir.path(), &fake)
        .arg(&first)
        .args(["--update", "--undo"])
        .arg(s.path("u.undo.csv")));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(!s.path("u.undo.2.csv").exists());
}

#[test]
fn a_kill_after_the_first_write_leaves_a_complete_undo_file() {
    let fake = Fake::spawn(FakeConfig {
        latency: std::time::Duration::from_millis(50),
        ..FakeConfig::default()
    });
    let s = Scratch::new();
    let mut csv = String::from("email,name\n");
    for i in 0..40 {
        csv.push_str(&format!("user{i}@example.com,User {i}\n"));
    }
    let input = s.write("k.csv", csv);
    let mut child = genimport_against(s.dir.path(), &fake)
        .arg(&input)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while fake.state().counters.create_requests == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no create within 30 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().expect("kill");
    child.wait().expect("wait");
    assert!(
        fake.state().counters.create_requests < 40,
        "killed part-way"
    );
    let undo = std::fs::read_to_string(s.path("k.undo.csv")).expect("the undo file is there");
    assert_eq!(undo.lines().count(), 41, "every planned user: {undo}");
    assert!(
        undo.ends_with("user39@example.com,User 39,,,,,deleted,,,,,,,,,,,,\n"),
        "{undo}"
    );
    let partials = std::fs::read_dir(s.dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        })
        .count();
    assert_eq!(partials, 0, "no temporary file left");
}

#[test]
fn a_user_whose_queues_before_cannot_be_read_is_left_alone() {
    let fake = Fake::spawn(FakeConfig::default());
    let ana = member(&fake, "ana@example.com", json!({}), &[], &["Billing"], &[]);
    let bob = member(&fake, "bob@example.com", json!({}), &[], &[], &[]);
    {
        let mut st = fake.state();
        let vip = id_of(&st.queues, "VIP");
        st.roundtrip.forbid_member_reads.insert(vip);
    }
    // Ana's queues change (her undo must list them all, VIP unreadable);
    // Bob's title changes only: his undo needs no queue.
    let ran = import_csv(
        &fake,
        "email,title,queues\nana@example.com,,Sales\nbob@example.com,Lead,\n",
        &["--update"],
    );
    assert_eq!(ran.code, exit::ROWS_NEED_ATTENTION, "{}", ran.stderr);
    assert_eq!(statuses(&ran.rows), ["failed", "updated"], "{:?}", ran.rows);
    assert!(
        ran.rows[0].message.contains("queue VIP") && ran.rows[0].message.contains("undo"),
        "{:?}",
        ran.rows[0]
    );
    let st = fake.state();
    assert_eq!(st.queues_of(&ana), ["Billing"], "nothing sent for Ana");
    assert_eq!(st.user_by_id(&bob).unwrap().profile["title"], json!("Lead"));
}

#[test]
fn adds_without_exact_are_taken_back_reading_grants_role_by_role_for_many_users() {
    let fake = leavers_fake();
    for email in ["ana", "bob", "cid"] {
        member(
            &fake,
            &format!("{email}@example.com"),
            json!({}),
            &["Employee", "Agent"],
            &["Billing"],
            &["Night Shift"],
        );
    }
    let before = snapshot(&fake);
    let s = Scratch::new();
    let mut csv = String::from("email,roles,skills,queues,groups\n");
    for email in ["ana", "bob", "cid"] {
        csv.push_str(&format!(
            "{email}@example.com,Supervisor@Sales,Tech:3,Sales,Weekend\n"
        ));
    }
    let input = s.write("a.csv", csv);
    let out = run(genimport_against(s.dir.path(), &fake)
        .arg(&input)
        .arg("--update"));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    {
        let st = fake.state();
        assert_eq!(st.counters.subject_requests, 0, "no grants read a user");
        assert!(st.movers.subject_grant_reads >= 1, "read role by role");
    }
    assert_ne!(snapshot(&fake), before);
    let undo = std::fs::read_to_string(s.path("a.undo.csv")).unwrap();
    assert!(
        // The default role is not read (never removed); `-` is written `'-`.
        undo.contains("ana@example.com,,,,,,,,Agent@Home,'-,,Billing,Night Shift,"),
        "{undo}"
    );
    let out = run(genimport_against(s.dir.path(), &fake)
        .arg(s.path("a.undo.csv"))
        .args(APPLY));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    assert_eq!(snapshot(&fake), before, "{undo}");
}

#[test]
fn ctrl_c_after_the_first_write_leaves_the_complete_undo_file_and_names_it() {
    let fake = Fake::spawn(FakeConfig {
        latency: std::time::Duration::from_millis(50),
        ..FakeConfig::default()
    });
    let s = Scratch::new();
    let mut csv = String::from("email,name\n");
    for i in 0..40 {
        csv.push_str(&format!("user{i}@example.com,User {i}\n"));
    }
    let input = s.write("c.csv", csv);
    let child = genimport_against(s.dir.path(), &fake)
        .arg(&input)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while fake.state().counters.create_requests == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no create within 30 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(interrupted.success());
    let out = child.wait_with_output().expect("wait");
    let err = stderr(&out);
    assert_eq!(code(&out), exit::INTERRUPTED, "{err}");
    assert!(err.contains("c.undo.csv"), "the summary names it: {err}");
    let undo = std::fs::read_to_string(s.path("c.undo.csv")).expect("the undo file");
    assert_eq!(undo.lines().count(), 41, "every planned user: {undo}");
}
