//! WebRTC phones against the stateful fake: a new user gets a phone made
//! from the named base settings at the named (or the org's default) site,
//! its station (indexed late) becomes the user's default; never two phones
//! for a user, also under a lost answer and re-runs; a name conflict fails
//! the row naming the phone; unknown names are invalid before anything is
//! sent; `-` removes the phone for leavers and before a deletion; a station
//! that never appears leaves the row incomplete and a re-run finishes it.

use crate::common::*;

use std::time::Duration;

/// Fast station looks for tests (the fake's lag is real time).
const WAIT: &[&str] = &["--station-wait", "0.02"];

/// The import with the short station wait.
fn run_file(fake: &Fake, csv: &str, args: &[&str]) -> Ran {
    let args: Vec<&str> = WAIT.iter().chain(args).copied().collect();
    import_csv(fake, csv, &args)
}

fn phone_summary(fake: &Fake, email: &str) -> Vec<(String, String, String, bool)> {
    let st = fake.state();
    let Some(user) = st.user(email).map(|u| u.id.clone()) else {
        return Vec::new();
    };
    let t = &st.telephony;
    t.phones_of(&user)
        .into_iter()
        .map(|p| {
            (
                p.name.clone(),
                p.base.clone(),
                p.site.clone(),
                t.defaults.get(&user) == Some(&p.station),
            )
        })
        .collect()
}

#[test]
fn a_new_user_gets_a_webrtc_phone_and_its_late_station_as_default() {
    let fake = Fake::spawn(FakeConfig::default());
    fake.state().telephony.station_lag = Duration::from_millis(150);
    let csv = "email,name,webrtc_phone,site\nana@example.com,Ana,WebRTC Agents,\nbo@example.com,Bo,WebRTC Agents,Dublin\n";
    let Ran {
        code,
        rows,
        stderr: err,
    } = run_file(&fake, csv, &[]);
    assert_eq!(code, 0, "{err}\n{rows:?}");
    assert_eq!(statuses(&rows), ["created", "created"]);
    assert_eq!(rows[0].changes, "create; add phone WebRTC Agents");
    assert_eq!(
        phone_summary(&fake, "ana@example.com"),
        [(
            "WebRTC ana@example.com".to_string(),
            "pb-agents".to_string(),
            "site-lisbon".to_string(),
            true
        )]
    );
    assert_eq!(phone_summary(&fake, "bo@example.com")[0].2, "site-dublin");
    let st = fake.state();
    let c = &st.telephony.counters;
    // Preflight: base settings and the default site and the sites; per phone
    // one create and one default, and a few looks while the station lags.
    assert_eq!((c.base_reads, c.org_reads, c.site_reads), (1, 1, 1));
    assert_eq!((c.creates, c.default_puts), (2, 2));
    assert!(c.station_reads >= 2, "{c:?}");
    assert_eq!(
        c.phone_reads, 1,
        "one check of the new names, no phones looked for"
    );
}

#[test]
fn a_rerun_sends_no_writes_and_never_a_second_phone() {
    let fake = Fake::spawn(FakeConfig::default());
    let csv = "email,name,webrtc_phone\nana@example.com,Ana,WebRTC Agents\nbo@example.com,Bo,WebRTC Agents\n";
    let Ran {
        code, stderr: err, ..
    } = run_file(&fake, csv, &[]);
    assert_eq!(code, 0, "{err}");
    let before = writes(&fake);
    let Ran {
        code,
        rows,
        stderr: err,
    } = run_file(&fake, csv, &["--update"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(statuses(&rows), ["unchanged", "unchanged"]);
    assert_eq!(writes(&fake), before, "an applied file sends no writes");
    assert_eq!(fake.state().telephony.phones.len(), 2);
    // Two users' phones: one page of the org's phones, not one read each.
    // The first run's name check, then one page of the org's phones.
    assert_eq!(fake.state().telephony.counters.phone_reads, 2);
}

#[test]
fn a_lost_create_answer_is_checked_before_sending_again() {
    let fake = Fake::spawn(FakeConfig::default());
    fake.state().telephony.lost_creates = 1;
    let csv = "email,name,webrtc_phone\nana@example.com,Ana,WebRTC Agents\n";
    let Ran {
        code,
        rows,
        stderr: err,
    } = run_file(&fake, csv, &[]);
    assert_eq!(code, 0, "{err}\n{rows:?}");
    assert_eq!(rows[0].changes, "create; add phone WebRTC Agents");
    let st = fake.state();
    assert_eq!(st.telephony.phones.len(), 1, "never two phones");
    assert_eq!(st.telephony.counters.creates, 1);
    assert_eq!(
        st.telephony.counters.phone_reads, 2,
        "the name check, then a look before resending"
    );
}

#[test]
fn unknown_ambiguous_and_non_webrtc_names_are_invalid_before_anything_is_sent() {
    let fake = Fake::spawn(FakeConfig::default());
    let csv = "email,name,webrtc_phone,site\na@example.com,A,WebRTC Agentz,\nb@example.com,B,Twin,\nc@example.com,C,Desk Phones,\nd@example.com,D,WebRTC Agents,Lisbn\n";
    let Ran { code, rows, .. } = run_file(&fake, csv, &[]);
    assert_eq!(code, 1);
    assert_eq!(statuses(&rows), ["invalid"; 4]);
    assert!(
        rows[0].message.contains("closest: WebRTC Agents"),
        "{}",
        rows[0].message
    );
    assert!(
        rows[1].message.contains("more than one"),
        "{}",
        rows[1].message
    );
    assert!(
        rows[2].message.contains("does not make WebRTC phones"),
        "{}",
        rows[2].message
    );
    assert!(
        rows[3].message.starts_with("site: no site named `Lisbn`"),
        "{}",
        rows[3].message
    );
    assert_eq!(writes(&fake), 0);
}

#[test]
fn a_phone_name_another_holds_fails_the_row_naming_it() {
    let fake = Fake::spawn(FakeConfig::default());
    {
        let mut st = fake.state();
        let other = st.add_user("zoe@example.com", "Zoe", "active");
        st.telephony.add_phone(
            "WebRTC ana@example.com",
            "pb-agents",
            "site-lisbon",
            Some(&other),
        );
    }
    let csv = "email,name,webrtc_phone\nana@example.com,Ana,WebRTC Agents\n";
    let Ran { code, rows, .. } = run_file(&fake, csv, &[]);
    assert_eq!(code, 1);
    assert_eq!(rows[0].status, "failed");
    assert_eq!(rows[0].error_code, "phone.name.taken");
    assert!(rows[0].message.contains("of user "), "{}", rows[0].message);
    assert!(
        fake.state().user("ana@example.com").is_none(),
        "nothing half made: not even the user"
    );
    assert!(
        rows[0]
            .message
            .contains("already has a phone named `WebRTC ana@example.com`"),
        "{}",
        rows[0].message
    );
    assert_eq!(fake.state().telephony.phones.len(), 1);
}

#[test]
fn a_station_that_never_appears_is_incomplete_and_a_rerun_finishes_it() {
    let fake = Fake::spawn(FakeConfig::default());
    fake.state().telephony.station_lag = Duration::from_secs(3600);
    let csv = "email,name,webrtc_phone\nana@example.com,Ana,WebRTC Agents\n";
    let Ran { code, rows, .. } = run_file(&fake, csv, &[]);
    assert_eq!(code, 1);
    assert_eq!(rows[0].status, "incomplete");
    assert!(
        rows[0].message.contains("its station did not appear"),
        "{}",
        rows[0].message
    );
    assert_eq!(fake.state().telephony.counters.station_reads, 30, "bounded");
    for s in fake.state().telephony.stations.iter_mut() {
        s.visible_at = std::time::Instant::now();
    }
    let Ran {
        code,
        rows,
        stderr: err,
    } = run_file(&fake, csv, &["--update"]);
    assert_eq!(code, 0, "{err}\n{rows:?}");
    assert_eq!(rows[0].status, "updated");
    assert_eq!(rows[0].changes, "add phone WebRTC Agents");
    let phones = phone_summary(&fake, "ana@example.com");
    assert_eq!(phones.len(), 1);
    assert!(phones[0].3, "the station is the default now");
}

/// Ana exists with a WebRTC phone of `base` whose station is her default.
fn with_phone(fake: &Fake, base: &str) -> (String, String) {
    let mut st = fake.state();
    let ana = st.add_user("ana@example.com", "Ana", "active");
    let phone = st
        .telephony
        .add_phone("WebRTC ana@example.com", base, "site-lisbon", Some(&ana));
    st.telephony.make_default(&phone);
    (ana, phone)
}

#[test]
fn a_leaver_row_removes_the_phone_and_its_default_station() {
    let fake = Fake::spawn(FakeConfig::default());
    let (ana, _) = with_phone(&fake, "pb-agents");
    let csv = "email,state,webrtc_phone\nana@example.com,inactive,-\n";
    let Ran { code, rows, .. } = run_file(&fake, csv, &["--update", "--dry-run"]);
    assert_eq!(code, 0);
    assert_eq!(rows[0].status, "would_update");
    assert_eq!(rows[0].changes, "state; remove phone WebRTC Agents");
    assert_eq!(writes(&fake), 0);
    let Ran {
        code,
        rows,
        stderr: err,
    } = run_file(&fake, csv, &["--update"]);
    assert_eq!(code, 0, "{err}\n{rows:?}");
    assert_eq!(rows[0].changes, "state; remove phone WebRTC Agents");
    let st = fake.state();
    assert!(st.telephony.phones.is_empty());
    assert!(!st.telephony.defaults.contains_key(&ana));
    drop(st);
    let before = writes(&fake);
    let Ran { rows, .. } = run_file(&fake, csv, &["--update"]);
    assert_eq!(rows[0].status, "unchanged");
    assert_eq!(writes(&fake), before);
}

#[test]
fn a_deletion_removes_the_phone_before_the_user() {
    let fake = Fake::spawn(FakeConfig::default());
    with_phone(&fake, "pb-agents");
    let csv = "email,state,webrtc_phone\nana@example.com,deleted,-\n";
    let Ran {
        code,
        rows,
        stderr: err,
    } = run_file(&fake, csv, &["--update", "--allow-delete"]);
    assert_eq!(code, 0, "{err}\n{rows:?}");
    assert_eq!(rows[0].changes, "state; remove phone WebRTC Agents");
    let st = fake.state();
    assert!(st.telephony.phones.is_empty(), "no orphan phone");
    assert_eq!(
        st.user("ana@example.com").map(|u| u.state.as_str()),
        Some("deleted")
    );
}

#[test]
fn update_replaces_a_phone_of_another_base_settings_and_keeps_one_of_the_same() {
    let fake = Fake::spawn(FakeConfig::default());
    let (ana, old) = with_phone(&fake, "pb-supervisors");
    let csv = "email,name,webrtc_phone\nana@example.com,Ana,WebRTC Agents\n";
    let Ran { code, rows, .. } = run_file(&fake, csv, &[]);
    assert_eq!((code, rows[0].status.as_str()), (0, "exists"));
    assert_eq!(writes(&fake), 0, "no --update: left as it is");
    let Ran {
        code,
        rows,
        stderr: err,
    } = run_file(&fake, csv, &["--update"]);
    assert_eq!(code, 0, "{err}\n{rows:?}");
    assert_eq!(
        rows[0].changes,
        "add phone WebRTC Agents; remove phone WebRTC Supervisors"
    );
    let st = fake.state();
    let phones = st.telephony.phones_of(&ana);
    assert_eq!(phones.len(), 1, "never two phones");
    assert_ne!(phones[0].id, old);
    assert_eq!(phones[0].base, "pb-agents");
    assert_eq!(st.telephony.defaults.get(&ana), Some(&phones[0].station));
}

#[test]
fn a_dash_for_a_new_user_or_a_user_without_a_phone_sends_nothing_for_phones() {
    let fake = Fake::spawn(FakeConfig::default());
    fake.state().add_user("bo@example.com", "Bo", "active");
    let csv = "email,name,webrtc_phone\nana@example.com,Ana,-\nbo@example.com,Bo,-\n";
    let Ran {
        code,
        rows,
        stderr: err,
    } = run_file(&fake, csv, &["--update"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(statuses(&rows), ["created", "unchanged"]);
    assert_eq!(rows[0].changes, "create");
    let c = &fake.state().telephony.counters;
    assert_eq!((c.creates, c.deletes, c.base_reads), (0, 0, 0));
}

#[test]
fn doctor_names_the_telephony_permissions_a_phone_file_needs() {
    use crate::common::fake::access::AccessModel;
    let fake = Fake::spawn(FakeConfig::default());
    fake.state().access = AccessModel::with_roles(&[(
        "No phones",
        &["directory:*:*", "authorization:*:*", "routing:*:*"],
        &["*"],
    )]);
    let s = Scratch::new();
    let input = s.write(
        "p.csv",
        "email,name,webrtc_phone\nana@example.com,Ana,WebRTC Agents\n",
    );
    let out = run(genimport_against(s.dir.path(), &fake)
        .args(["doctor", "--log-format", "json"])
        .arg(&input));
    assert_eq!(code(&out), exit::NO_PERM, "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let held = |what: &str| {
        report["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["needed_to"] == what)
            .map(|p| p["held_in"].as_str().unwrap_or("").to_string())
    };
    assert_eq!(
        held("create and delete WebRTC phones").as_deref(),
        Some("none")
    );
    assert_eq!(
        held("set and clear users' default stations").as_deref(),
        Some("none")
    );
    assert_eq!(held("create users").as_deref(), Some("all divisions"));
    assert_eq!(writes(&fake), 0);
}

#[test]
fn export_writes_the_phone_and_the_round_trip_sends_no_writes() {
    let fake = Fake::spawn(FakeConfig::default());
    with_phone(&fake, "pb-agents");
    fake.state().add_user("bo@example.com", "Bo", "active");
    let s = Scratch::new();
    let out =
        run(genimport_against(s.dir.path(), &fake).args(["export", "users", "-o", "org.csv"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = std::fs::read_to_string(s.path("org.csv")).unwrap();
    let mut lines = text.lines();
    assert!(lines
        .next()
        .unwrap()
        .ends_with(",hire_date,webrtc_phone,site"));
    let ana = text.lines().find(|l| l.starts_with("ana@")).unwrap();
    assert!(ana.ends_with(",WebRTC Agents,Lisbon"), "{ana}");
    let bo = text.lines().find(|l| l.starts_with("bo@")).unwrap();
    assert!(bo.ends_with(",,"), "{bo}");
    let before = writes(&fake);
    let out = run(genimport_against(s.dir.path(), &fake)
        .args(["org.csv", "--update", "--exact"])
        .args(WAIT));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let rows = read_results(&s.path("org.results.csv"));
    assert_eq!(statuses(&rows), ["unchanged", "unchanged"]);
    assert_eq!(writes(&fake), before, "the round trip sends no writes");
}

#[test]
fn a_station_that_is_another_users_default_leaves_the_row_incomplete() {
    let fake = Fake::spawn(FakeConfig::default());
    {
        let mut st = fake.state();
        let zoe = st.add_user("zoe@example.com", "Zoe", "active");
        st.telephony.station_taken_by = Some(zoe);
    }
    let csv = "email,name,webrtc_phone\nana@example.com,Ana,WebRTC Agents\n";
    let Ran { code, rows, .. } = run_file(&fake, csv, &[]);
    assert_eq!(code, 1);
    assert_eq!(rows[0].status, "incomplete");
    assert_eq!(rows[0].http_status, "409");
    assert_eq!(
        rows[0].error_code,
        "userservice.stationalreadyhasdefaultuser"
    );
    assert!(
        rows[0].message.contains("default station"),
        "{}",
        rows[0].message
    );
    assert_eq!(rows[0].changes, "create");
    assert_eq!(fake.state().telephony.phones.len(), 1, "one phone, kept");
}

#[test]
fn a_client_that_may_not_read_phones_fails_only_the_phone_rows() {
    let fake = Fake::spawn(FakeConfig::default());
    fake.state().telephony.forbid_reads = true;
    let csv = "email,name,webrtc_phone\nana@example.com,Ana,WebRTC Agents\nbo@example.com,Bo,\n";
    let Ran {
        code,
        rows,
        stderr: err,
    } = run_file(&fake, csv, &[]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(statuses(&rows), ["failed", "created"]);
    assert_eq!(rows[0].http_status, "403");
    assert!(
        rows[0].message.contains("telephony:plugin:all"),
        "{}",
        rows[0].message
    );
    assert!(
        fake.state().user("ana@example.com").is_none(),
        "nothing sent for it"
    );
    let s = Scratch::new();
    let out = run(genimport_against(s.dir.path(), &fake).args(["export", "users"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("webrtc_phone and site are left blank"));
}

#[test]
fn a_name_taken_after_the_preflight_leaves_the_row_incomplete_naming_the_phone() {
    let fake = Fake::spawn(FakeConfig::default());
    {
        let mut st = fake.state();
        let zoe = st.add_user("zoe@example.com", "Zoe", "active");
        st.telephony.name_race_by = Some(zoe);
    }
    let csv = "email,name,webrtc_phone\nana@example.com,Ana,WebRTC Agents\n";
    let Ran { code, rows, .. } = run_file(&fake, csv, &[]);
    assert_eq!(code, 1);
    assert_eq!(rows[0].status, "incomplete");
    assert_eq!(rows[0].error_code, "phone.name.taken");
    assert!(
        rows[0]
            .message
            .contains("already has a phone named `WebRTC ana@example.com`"),
        "{}",
        rows[0].message
    );
    let st = fake.state();
    let ana = st.user("ana@example.com").map(|u| u.id.clone()).unwrap();
    assert!(
        st.telephony.phones_of(&ana).is_empty(),
        "no phone made for her"
    );
    assert_eq!(st.telephony.phones.len(), 1);
}
