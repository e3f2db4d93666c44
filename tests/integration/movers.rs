//! Movers and leavers against the stateful fake: `--update --exact` removes
//! what a written list cell no longer names (and only that), `-` removes a
//! whole kind, a blank cell leaves it alone; the default role, group grants
//! and group queue memberships stay; `inactive` deactivates; `deleted`
//! deletes only with `--allow-delete`; a dry run shows every removal; an
//! applied file sends no writes.

use crate::common::*;

use serde_json::json;

fn id_of(list: &[(String, String)], name: &str) -> String {
    list.iter()
        .find(|(_, n)| n == name)
        .map(|(i, _)| i.clone())
        .unwrap_or_else(|| panic!("no {name} in the fake"))
}

/// Ana holds Employee (default), Agent and Supervisor in Home; skills
/// Sales:4 and Billing:2; English:5 and French:3; queues Support Tier 1 and
/// Billing; groups Night Shift and Day Shift.
fn mover(fake: &Fake) -> String {
    mover_named(fake, "ana@example.com")
}

fn mover_named(fake: &Fake, email: &str) -> String {
    let mut st = fake.state();
    let skill = |n: &str, p: f64| json!({"id": id_of(&st.skills, n), "name": n, "proficiency": p});
    let language =
        |n: &str, p: f64| json!({"id": id_of(&st.languages, n), "name": n, "proficiency": p});
    let profile = json!({
        "skills": [skill("Sales", 4.0), skill("Billing", 2.0)],
        "languages": [language("English", 5.0), language("French", 3.0)],
    });
    let ana = st.add_user_with(email, "Ana", profile);
    let home = fake::HOME_DIVISION.to_string();
    for role in ["Employee", "Agent", "Supervisor"] {
        let role = id_of(&st.roles, role);
        st.grant_user(&ana, &role, &home);
    }
    for queue in ["Support Tier 1", "Billing"] {
        let queue = id_of(&st.queues, queue);
        st.queue_members.entry(queue).or_default().push(ana.clone());
    }
    for group in ["Night Shift", "Day Shift"] {
        let group = st
            .groups
            .iter()
            .find(|g| g.name == group)
            .map(|g| g.id.clone())
            .unwrap();
        st.join_group(&group, &ana);
    }
    ana
}

fn role_names(fake: &Fake, user: &str) -> Vec<String> {
    let st = fake.state();
    let mut names: Vec<String> = st
        .direct_grants(user)
        .iter()
        .map(|(r, _)| {
            st.roles
                .iter()
                .find(|(i, _)| i == r)
                .map(|(_, n)| n.clone())
                .unwrap_or_default()
        })
        .collect();
    names.sort();
    names
}

const EXACT: &[&str] = &["--update", "--exact"];

#[test]
fn exact_adds_the_missing_and_removes_the_rest_of_every_kind() {
    let fake = Fake::spawn(FakeConfig::default());
    let ana = mover(&fake);
    let csv = "email,roles,skills,languages,queues,groups\n\
               ana@example.com,Agent;Admin,Sales:4;Tech:3,English:5,Support Tier 1;Sales,Night Shift;Weekend\n";
    let Ran {
        code,
        rows,
        stderr: err,
    } = import_csv(&fake, csv, EXACT);
    assert_eq!(code, exit::OK, "{err}");
    assert_eq!(rows[0].status, "updated", "{:?}", rows[0]);
    assert_eq!(
        rows[0].changes,
        "add role Admin@Home; add skill Tech:3; add queue Sales; add group Weekend; \
         remove role Supervisor@Home; remove skill Billing; remove language French; \
         remove queue Billing; remove group Day Shift"
    );
    assert_eq!(role_names(&fake, &ana), ["Admin", "Agent", "Employee"]);
    let st = fake.state();
    assert_eq!(st.rated_of(&ana, "skills"), ["Sales", "Tech"]);
    assert_eq!(st.rated_of(&ana, "languages"), ["English"]);
    assert_eq!(st.queues_of(&ana), ["Support Tier 1", "Sales"]);
    assert_eq!(st.groups_of(&ana), ["Night Shift", "Weekend"]);
}

#[test]
fn an_applied_file_sends_no_writes_the_second_time() {
    let fake = Fake::spawn(FakeConfig::default());
    mover(&fake);
    let csv = "email,state,roles,skills,languages,queues,groups\n\
               ana@example.com,active,Agent,Sales:4,-,Sales,Weekend\n";
    let Ran {
        code,
        rows,
        stderr: err,
    } = import_csv(&fake, csv, EXACT);
    assert_eq!((code, rows[0].status.as_str()), (0, "updated"), "{err}");
    let before = fake.state().writes();
    let Ran {
        code,
        rows,
        stderr: err,
    } = import_csv(&fake, csv, EXACT);
    assert_eq!(code, exit::OK, "{err}");
    assert_eq!(rows[0].status, "unchanged", "{:?}", rows[0]);
    assert_eq!(rows[0].changes, "");
    assert_eq!(fake.state().writes(), before, "a re-run sends no writes");
}

#[test]
fn without_exact_nothing_is_removed() {
    let fake = Fake::spawn(FakeConfig::default());
    let ana = mover(&fake);
    let csv = "email,roles,skills,languages,queues,groups\n\
               ana@example.com,Admin,Tech:3,-,Sales,-\n";
    let Ran {
        code,
        rows,
        stderr: err,
    } = import_csv(&fake, csv, &["--update"]);
    assert_eq!(code, exit::OK, "{err}");
    assert_eq!(
        rows[0].changes,
        "add role Admin@Home; add skill Tech:3; add queue Sales"
    );
    assert_eq!(
        role_names(&fake, &ana),
        ["Admin", "Agent", "Employee", "Supervisor"]
    );
    let st = fake.state();
    assert_eq!(st.rated_of(&ana, "languages"), ["English", "French"]);
    assert_eq!(st.groups_of(&ana), ["Night Shift", "Day Shift"]);
}

#[test]
fn a_dash_removes_every_item_and_a_blank_cell_leaves_its_kind_alone() {
    let fake = Fake::spawn(FakeConfig::default());
    let ana = mover(&fake);
    let csv = "email,roles,skills,languages,queues,groups\n\
               ana@example.com,-,,-,,-\n";
    let Ran {
        code,
        rows,
        stderr: err,
    } = import_csv(&fake, csv, EXACT);
    assert_eq!(code, exit::OK, "{err}");
    assert_eq!(
        rows[0].changes,
        "remove role Agent@Home; remove role Supervisor@Home; remove language English; \
         remove language French; remove group Day Shift; remove group Night Shift"
    );
    assert_eq!(role_names(&fake, &ana), ["Employee"]);
    let st = fake.state();
    assert_eq!(
        st.rated_of(&ana, "skills"),
        ["Sales", "Billing"],
        "blank: kept"
    );
    assert!(st.rated_of(&ana, "languages").is_empty());
    assert_eq!(
        st.queues_of(&ana),
        ["Support Tier 1", "Billing"],
        "blank: kept"
    );
    assert!(st.groups_of(&ana).is_empty());
}

#[test]
fn the_default_role_is_never_removed() {
    let fake = Fake::spawn(FakeConfig::default());
    let ana = mover(&fake);
    let Ran {
        code,
        rows,
        stderr: err,
    } = import_csv(&fake, "email,roles\nana@example.com,Agent\n", EXACT);
    assert_eq!(code, exit::OK, "{err}");
    assert_eq!(rows[0].changes, "remove role Supervisor@Home");
    assert_eq!(role_names(&fake, &ana), ["Agent", "Employee"]);
}

#[test]
fn grants_and_queue_memberships_from_a_group_stay_and_the_message_says_why() {
    let fake = Fake::spawn(FakeConfig::default());
    let ana = mover(&fake);
    {
        let mut st = fake.state();
        let night = st.groups[0].id.clone();
        let quality = id_of(&st.roles, "Quality Evaluator");
        st.grant_group(&night, &quality, fake::HOME_DIVISION);
        let vip = id_of(&st.queues, "VIP");
        st.join_queue_by_group(&vip, &ana);
    }
    let csv = "email,roles,queues,groups\n\
               ana@example.com,Agent,Support Tier 1,Night Shift;Day Shift\n";
    let Ran {
        code,
        rows,
        stderr: err,
    } = import_csv(&fake, csv, &["--update", "--exact", "--dry-run"]);
    assert_eq!(code, exit::OK, "{err}");
    assert_eq!(rows[0].status, "would_update");
    assert!(
        rows[0].message.contains("queue VIP stayed"),
        "the dry run says why: {:?}",
        rows[0]
    );
    let Ran {
        code,
        rows,
        stderr: err,
    } = import_csv(&fake, csv, EXACT);
    assert_eq!(code, exit::OK, "{err}");
    assert_eq!(rows[0].status, "updated", "{:?}", rows[0]);
    assert_eq!(
        rows[0].changes,
        "remove role Supervisor@Home; remove queue Billing"
    );
    assert!(
        rows[0]
            .message
            .contains("role Quality Evaluator@Home stayed: it is granted through a group"),
        "{:?}",
        rows[0].message
    );
    assert!(
        rows[0]
            .message
            .contains("queue VIP stayed: the membership comes from a group"),
        "{:?}",
        rows[0].message
    );
    let st = fake.state();
    assert!(st.movers.group_queue_members[&id_of(&st.queues, "VIP")].contains(&ana));
}

#[test]
fn a_leaver_is_deactivated_and_taken_out_of_queues_and_groups_with_roles_uncompared() {
    let fake = Fake::spawn(FakeConfig::default());
    let ana = mover(&fake);
    let csv = "email,state,roles,queues,groups\nana@example.com,inactive,-,-,-\n";
    let Ran {
        code,
        rows,
        stderr: err,
    } = import_csv(&fake, csv, EXACT);
    assert_eq!(code, exit::OK, "{err}");
    assert_eq!(
        rows[0].changes,
        "state; remove queue Billing; remove queue Support Tier 1; remove group Day Shift; remove group Night Shift"
    );
    let st = fake.state();
    assert_eq!(st.user_by_id(&ana).unwrap().state, "inactive");
    assert!(st.queues_of(&ana).is_empty());
    assert!(st.groups_of(&ana).is_empty());
    assert_eq!(st.movers.grant_removals, 0, "roles are not compared");
    // Read once, for the undo file only: Genesys takes a deactivated
    // user's roles, so the undo must know them to give them back.
    assert_eq!(st.counters.subject_requests, 1, "read once, for the undo");
}

#[test]
fn deleted_without_allow_delete_is_invalid_and_sends_nothing() {
    let fake = Fake::spawn(FakeConfig::default());
    let ana = mover(&fake);
    let Ran {
        code,
        rows,
        stderr: _,
    } = import_csv(&fake, "email,state\nana@example.com,deleted\n", EXACT);
    assert_eq!(code, exit::ROWS_NEED_ATTENTION);
    assert_eq!(rows[0].status, "invalid");
    assert!(rows[0].message.contains("--allow-delete"), "{:?}", rows[0]);
    let st = fake.state();
    assert_eq!(st.writes(), 0);
    assert_eq!(st.user_by_id(&ana).unwrap().state, "active");
}

#[test]
fn deleted_with_allow_delete_deletes_the_user_once() {
    let fake = Fake::spawn(FakeConfig::default());
    let ana = mover(&fake);
    let csv = "email,state,queues\nana@example.com,deleted,Sales\nnobody@example.com,deleted,\n";
    let args = ["--update", "--allow-delete"];
    let Ran {
        code,
        rows,
        stderr: err,
    } = import_csv(&fake, csv, &args);
    assert_eq!(code, exit::OK, "{err}");
    assert_eq!(rows[0].status, "updated", "{:?}", rows[0]);
    assert_eq!(rows[0].changes, "state");
    assert_eq!(rows[1].status, "unchanged", "{:?}", rows[1]);
    {
        let st = fake.state();
        assert_eq!(st.user_by_id(&ana).unwrap().state, "deleted");
        assert_eq!(st.writes(), 1, "one DELETE; the other cells are ignored");
    }
    let Ran {
        code,
        rows,
        stderr: err,
    } = import_csv(&fake, csv, &args);
    assert_eq!(code, exit::OK, "{err}");
    assert_eq!(rows[0].status, "unchanged", "{:?}", rows[0]);
    assert_eq!(fake.state().writes(), 1, "already deleted: nothing sent");
}

#[test]
fn a_dry_run_shows_every_removal_and_writes_nothing() {
    let fake = Fake::spawn(FakeConfig::default());
    mover(&fake);
    let csv = "email,roles,skills,languages,queues,groups\n\
               ana@example.com,Agent,Sales:4,English:5,Support Tier 1,Night Shift\n";
    let mut args = EXACT.to_vec();
    args.push("--dry-run");
    let Ran {
        code,
        rows,
        stderr: err,
    } = import_csv(&fake, csv, &args);
    assert_eq!(code, exit::OK, "{err}");
    assert_eq!(rows[0].status, "would_update");
    assert_eq!(
        rows[0].changes,
        "remove role Supervisor@Home; remove skill Billing; remove language French; \
         remove queue Billing; remove group Day Shift"
    );
    assert_eq!(fake.state().writes(), 0);
}

#[test]
fn with_update_only_a_row_that_creates_a_user_needs_a_name() {
    let fake = Fake::spawn(FakeConfig::default());
    mover(&fake);
    let csv = "email,groups\nana@example.com,Night Shift\nnew@example.com,Night Shift\n";
    let Ran {
        code,
        rows,
        stderr: _,
    } = import_csv(&fake, csv, EXACT);
    assert_eq!(code, exit::ROWS_NEED_ATTENTION);
    assert_eq!(rows[0].status, "updated", "{:?}", rows[0]);
    assert_eq!(rows[0].changes, "remove group Day Shift");
    assert_eq!(rows[1].status, "invalid");
    assert!(
        rows[1].message.contains("a new user needs a name"),
        "{:?}",
        rows[1]
    );
    assert!(fake.state().user("new@example.com").is_none());
}

#[test]
fn a_failed_removal_leaves_the_row_incomplete_with_the_others_done() {
    let fake = Fake::spawn(FakeConfig::default());
    let ana = mover(&fake);
    fake.state().movers.refuse_grant_removals = true;
    let csv = "email,roles,groups\nana@example.com,Agent,Night Shift\n";
    let Ran {
        code,
        rows,
        stderr: _,
    } = import_csv(&fake, csv, EXACT);
    assert_eq!(code, exit::ROWS_NEED_ATTENTION);
    assert_eq!(rows[0].status, "incomplete", "{:?}", rows[0]);
    assert_eq!(rows[0].http_status, "403");
    assert!(
        rows[0].message.contains("authorization:grant:delete"),
        "{:?}",
        rows[0]
    );
    assert_eq!(rows[0].changes, "remove group Day Shift");
    assert_eq!(fake.state().groups_of(&ana), ["Night Shift"]);
}

#[test]
fn a_grant_whose_role_is_gone_is_removed_one_at_a_time() {
    let fake = Fake::spawn(FakeConfig::default());
    let ana = mover(&fake);
    {
        let mut st = fake.state();
        st.grant_user(&ana, "r9999999-0000-4000-8000-000000000000", "*");
    }
    let Ran {
        code,
        rows,
        stderr: err,
    } = import_csv(&fake, "email,roles\nana@example.com,Agent\n", EXACT);
    assert_eq!(code, exit::OK, "{err}");
    assert_eq!(rows[0].status, "updated", "{:?}", rows[0]);
    assert_eq!(role_names(&fake, &ana), ["Agent", "Employee"]);
    let st = fake.state();
    assert_eq!(
        st.movers.role_user_removals, 2,
        "one request per role lost: Supervisor's answered, the gone role's 404"
    );
    assert_eq!(
        st.movers.grant_removals, 2,
        "the gone role the per-user way: one refused bulkremove, then one DELETE"
    );
}

/// The (role name, division name) grants `user` holds directly, sorted.
fn grants_named(fake: &Fake, user: &str) -> Vec<(String, String)> {
    let st = fake.state();
    let name = |list: &[(String, String)], id: &str| {
        list.iter()
            .find(|(i, _)| i == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| id.to_string())
    };
    let mut grants: Vec<(String, String)> = st
        .direct_grants(user)
        .iter()
        .map(|(r, d)| (name(&st.roles, r), name(&st.divisions, d)))
        .collect();
    grants.sort();
    grants
}

#[test]
fn a_role_many_movers_lose_everywhere_costs_one_request_and_a_role_kept_elsewhere_goes_per_user() {
    let fake = Fake::spawn(FakeConfig::default());
    let movers: Vec<String> = (0..5)
        .map(|i| mover_named(&fake, &format!("m{i}@example.com")))
        .collect();
    // Kim holds Supervisor in Sales too; Lee gets it in Sales by his row.
    let kim = mover_named(&fake, "kim@example.com");
    let lee = mover_named(&fake, "lee@example.com");
    {
        let mut st = fake.state();
        let supervisor = id_of(&st.roles, "Supervisor");
        st.grant_user(&kim, &supervisor, fake::SALES_DIVISION);
    }
    let mut csv = String::from(
        "email,roles
",
    );
    for i in 0..5 {
        csv.push_str(&format!(
            "m{i}@example.com,Agent
"
        ));
    }
    csv.push_str(
        "kim@example.com,Agent; Supervisor@Sales
lee@example.com,Agent; Supervisor@Sales
",
    );
    let Ran {
        code,
        rows,
        stderr: err,
    } = import_csv(&fake, &csv, EXACT);
    assert_eq!(code, exit::OK, "{err}");
    for row in &rows[..6] {
        assert_eq!(row.status, "updated", "{row:?}");
        assert_eq!(row.changes, "remove role Supervisor@Home", "{row:?}");
    }
    assert_eq!(
        rows[6].changes,
        "add role Supervisor@Sales; remove role Supervisor@Home"
    );
    for id in &movers {
        assert_eq!(role_names(&fake, id), ["Agent", "Employee"]);
    }
    for id in [&kim, &lee] {
        assert_eq!(
            grants_named(&fake, id),
            [
                ("Agent".to_string(), "Home".to_string()),
                ("Employee".into(), "Home".into()),
                ("Supervisor".into(), "Sales".into())
            ],
            "the grant in Sales stays"
        );
    }
    let st = fake.state();
    assert_eq!(
        st.movers.role_user_removals, 1,
        "five movers lose Supervisor everywhere: one request for the role"
    );
    assert_eq!(
        st.movers.grant_removals, 2,
        "Kim and Lee keep Supervisor in Sales: one bulkremove each"
    );
}

#[test]
fn a_refused_role_batch_fails_only_the_poisoned_users_row() {
    let fake = Fake::spawn(FakeConfig::default());
    let ids: Vec<String> = (0..4)
        .map(|i| mover_named(&fake, &format!("m{i}@example.com")))
        .collect();
    fake.state().write_faults.poison_members = vec![ids[2].clone()];
    let mut csv = String::from(
        "email,roles,groups
",
    );
    for i in 0..4 {
        csv.push_str(&format!(
            "m{i}@example.com,Agent,Night Shift
"
        ));
    }
    let Ran {
        code,
        rows,
        stderr: err,
    } = import_csv(&fake, &csv, EXACT);
    assert_eq!(code, exit::ROWS_NEED_ATTENTION, "{err}");
    for (i, row) in rows.iter().enumerate() {
        if i == 2 {
            assert_eq!(row.status, "incomplete", "{row:?}");
            assert_eq!(row.http_status, "400");
            assert_eq!(
                row.changes, "remove group Day Shift",
                "its other removals are done"
            );
            assert_eq!(
                role_names(&fake, &ids[i]),
                ["Agent", "Employee", "Supervisor"]
            );
        } else {
            assert_eq!(row.status, "updated", "{row:?}");
            assert_eq!(
                row.changes,
                "remove role Supervisor@Home; remove group Day Shift"
            );
            assert_eq!(role_names(&fake, &ids[i]), ["Agent", "Employee"]);
        }
    }
    let st = fake.state();
    assert_eq!(
        st.movers.role_user_removals, 5,
        "the batch of 4, its halves, then the poisoned half's halves"
    );
    assert_eq!(st.movers.grant_removals, 0);
}

#[test]
fn exact_and_allow_delete_need_update() {
    let fake = Fake::spawn(FakeConfig::default());
    let s = Scratch::new();
    let input = s.write("m.csv", "email,name\na@example.com,A\n");
    for flag in ["--exact", "--allow-delete"] {
        let out = run(genimport_against(s.dir.path(), &fake).arg(&input).arg(flag));
        assert_eq!(code(&out), exit::USAGE, "{flag}: {}", stderr(&out));
    }
}

#[test]
fn many_movers_read_grants_role_by_role_with_the_same_plan() {
    let fake = Fake::spawn(FakeConfig::default());
    let ids: Vec<String> = (0..4)
        .map(|i| mover_named(&fake, &format!("m{i}@example.com")))
        .collect();
    {
        let mut st = fake.state();
        let night = st.groups[0].id.clone();
        let quality = id_of(&st.roles, "Quality Evaluator");
        st.grant_group(&night, &quality, fake::HOME_DIVISION);
    }
    let mut csv = String::from("email,roles,groups\n");
    for i in 0..4 {
        // Admin: a role none holds, so the adds read no grants either.
        csv.push_str(&format!("m{i}@example.com,Admin,Night Shift\n"));
    }
    let Ran {
        code,
        rows,
        stderr: err,
    } = import_csv(&fake, &csv, EXACT);
    assert_eq!(code, exit::OK, "{err}");
    for row in &rows {
        assert_eq!(row.status, "updated", "{row:?}");
        assert_eq!(
            row.changes,
            "add role Admin@Home; remove role Agent@Home; remove role Supervisor@Home; remove group Day Shift"
        );
        assert!(
            row.message
                .contains("role Quality Evaluator@Home stayed: it is granted through a group"),
            "{row:?}"
        );
    }
    for id in &ids {
        assert_eq!(role_names(&fake, id), ["Admin", "Employee"]);
    }
    let st = fake.state();
    assert_eq!(st.counters.subject_requests, 0, "no read a user");
    assert_eq!(st.movers.subject_grant_reads, 3, "one page a role held");
}

#[test]
fn an_offline_dry_run_does_not_offer_to_create_a_leaver() {
    let s = Scratch::new();
    let input = s.write(
        "m.csv",
        "email,state,queues\nana@example.com,deleted,\nben@example.com,inactive,-\n",
    );
    let out = run(genimport(s.dir.path()).arg(&input).args([
        "--update",
        "--exact",
        "--allow-delete",
        "--dry-run",
    ]));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = read_results(&s.path("m.results.csv"));
    assert_eq!(statuses(&rows), ["would_update", "would_update"]);
    assert_eq!(rows[0].changes, "state");
    assert!(
        rows[1].message.contains("a new user needs a name"),
        "{rows:?}"
    );
}

#[test]
fn a_user_whose_grants_cannot_be_read_fails_alone_and_nothing_is_removed() {
    let fake = Fake::spawn(FakeConfig::default());
    let ana = mover_named(&fake, "ana@example.com");
    let bea = mover_named(&fake, "bea@example.com");
    fake.state().refuse_subject_reads.insert(ana.clone());
    let csv = "email,roles\nana@example.com,Agent\nbea@example.com,Agent\n";
    let Ran {
        code,
        rows,
        stderr: err,
    } = import_csv(&fake, csv, &["--update", "--exact"]);
    assert_eq!(code, exit::ROWS_NEED_ATTENTION, "{err}");
    assert_eq!(rows[0].status, "failed", "{:?}", rows[0]);
    assert!(rows[0].message.contains("grants"), "{}", rows[0].message);
    assert_eq!(rows[1].status, "updated", "{:?}", rows[1]);
    assert_eq!(rows[1].changes, "remove role Supervisor@Home");
    assert_eq!(role_names(&fake, &ana), ["Agent", "Employee", "Supervisor"]);
    assert_eq!(role_names(&fake, &bea), ["Agent", "Employee"]);
}

#[test]
fn a_rerun_of_an_applied_file_reads_grants_in_a_few_requests_and_writes_nothing() {
    const N: usize = 30;
    let fake = Fake::spawn(FakeConfig::default());
    for i in 0..N {
        mover_named(&fake, &format!("m{i}@example.com"));
    }
    // Every row names a role its user holds: the adds need its grants, and
    // so do the removals.
    let mut csv = String::from("email,roles,groups\n");
    for i in 0..N {
        csv.push_str(&format!("m{i}@example.com,Agent,Night Shift\n"));
    }
    let Ran {
        code,
        rows,
        stderr: err,
    } = import_csv(&fake, &csv, EXACT);
    assert_eq!(code, exit::OK, "{err}");
    for row in &rows {
        assert_eq!(row.status, "updated", "{row:?}");
        assert_eq!(
            row.changes,
            "remove role Supervisor@Home; remove group Day Shift"
        );
    }
    let (before, subjects, pages) = {
        let st = fake.state();
        (
            st.writes(),
            st.counters.subject_requests,
            st.movers.subject_grant_reads,
        )
    };
    assert_eq!(subjects, 0, "the first run reads no user on its own either");
    let Ran {
        code,
        rows,
        stderr: err,
    } = import_csv(&fake, &csv, EXACT);
    assert_eq!(code, exit::OK, "{err}");
    for row in &rows {
        assert_eq!(row.status, "unchanged", "{row:?}");
        assert_eq!(row.changes, "");
    }
    let st = fake.state();
    assert_eq!(st.writes(), before, "a re-run sends no writes");
    assert_eq!(st.counters.subject_requests, subjects, "no read a user");
    assert!(
        st.movers.subject_grant_reads - pages <= 2,
        "one page a role held: {}",
        st.movers.subject_grant_reads - pages
    );
}

#[test]
fn a_role_held_through_a_group_is_not_granted_again_whichever_way_grants_are_read() {
    // One user: its grants are read on its own; four: role by role. The
    // plans are the same: a role the row names that a group grants in that
    // division is not granted directly; another division is.
    for users in [1, 4] {
        let fake = Fake::spawn(FakeConfig::default());
        for i in 0..users {
            mover_named(&fake, &format!("m{i}@example.com"));
        }
        {
            let mut st = fake.state();
            let night = st.groups[0].id.clone();
            let quality = id_of(&st.roles, "Quality Evaluator");
            st.grant_group(&night, &quality, fake::HOME_DIVISION);
        }
        let mut csv = String::from("email,roles\n");
        for i in 0..users {
            csv.push_str(&format!("m{i}@example.com,Agent;Quality Evaluator\n"));
        }
        let Ran {
            code,
            rows,
            stderr: err,
        } = import_csv(&fake, &csv, &["--update", "--exact", "--dry-run"]);
        assert_eq!(code, exit::OK, "{err}");
        for row in &rows {
            assert_eq!(row.status, "would_update", "{users}: {row:?}");
            assert_eq!(row.changes, "remove role Supervisor@Home", "{users}");
        }
        let st = fake.state();
        let per_user = if users == 1 { 1 } else { 0 };
        assert_eq!(st.counters.subject_requests, per_user, "{users}");
    }
}
