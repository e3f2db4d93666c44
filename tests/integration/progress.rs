//! The plain progress line (CI, no terminal) names the phase and its
//! progress: `users n/N` while rows take their own steps, then `steps n/N`
//! for the follow-ups after the barrier.

use crate::common::*;

const HEADER: &str = "email,name,manager,roles,skills,languages,queues,groups,location,employee_id,employee_type,hire_date,invite";

/// The `done/total` of the last `progress: PHASE` line.
fn last_phase(log: &str, phase: &str) -> Option<(u64, u64)> {
    let at = log.rfind(&format!("progress: {phase} "))?;
    let counts = log[at..].split_whitespace().nth(2)?;
    let (done, total) = counts.split_once('/')?;
    Some((done.parse().ok()?, total.parse().ok()?))
}

#[test]
fn the_log_line_shows_the_steps_phase_and_its_progress() {
    let fake = Fake::spawn(FakeConfig::default());
    let s = Scratch::new();
    let input = s.write(
        "u.csv",
        format!(
            "{HEADER}\n\
             ana@example.com,Ana,,Agent; Supervisor@Sales,Sales:4,English:5,Support Tier 1,Night Shift,,,,,\n\
             bo@example.com,Bo,,Agent,,,Billing,,,,,,\n"
        ),
    );
    let out = run(genimport_against(s.dir.path(), &fake).arg(&input));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let log = stderr(&out);
    // Ana: 2 roles, a skill, a language, a queue, a group; Bo: a role, a queue.
    assert_eq!(last_phase(&log, "steps"), Some((8, 8)), "{log}");
    let line = &log[log.rfind("progress: steps").expect("a steps line")..];
    let line = line.lines().next().unwrap_or_default();
    assert!(line.contains(" req/s  eta "), "{line}");
    assert!(line.contains("created 2"), "{line}");
}

#[test]
fn a_queues_file_has_a_queues_phase() {
    let fake = Fake::spawn(FakeConfig::default());
    let s = Scratch::new();
    let input = s.write(
        "q.csv",
        "name,description\nNew One,First\nNew Two,Second\nBilling,\n",
    );
    let out = run(genimport_against(s.dir.path(), &fake)
        .args(["queues"])
        .arg(&input));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let log = stderr(&out);
    assert_eq!(last_phase(&log, "queues"), Some((3, 3)), "{log}");
}
