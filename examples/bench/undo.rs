//! Part `undo`: what the undo file costs. Each case runs twice on
//! identical fresh fakes, once with `--undo none` and once leaving the undo
//! file; the difference is the undo's own reads, per user it holds. Counts,
//! not times (no limit or latency; the token request excluded).

use super::fake::{Fake, FakeConfig};
use super::{run_against, seed_team, users_file};

/// One case: the file, the flags, how the org is seeded.
struct Case {
    name: &'static str,
    csv: String,
    args: Vec<&'static str>,
    seed: fn(&Fake, usize),
}

fn team(fake: &Fake, users: usize) {
    seed_team(fake, users, "member");
}

fn none(_: &Fake, _: usize) {}

/// A file of `users` rows, each `member{i}@example.com` and then `cells`.
fn rows(header: &str, users: usize, cells: &str) -> String {
    let mut csv = format!("email,{header}\n");
    for i in 0..users {
        csv.push_str(&format!("member{i}@example.com,{cells}\n"));
    }
    csv
}

pub fn undo(dir: &tempfile::TempDir, users: usize) {
    println!("\nundo: the undo file's own requests, {users} users each (counts; token excluded), concurrency 4");
    println!(
        "{:<58} {:>9} {:>9} {:>7} {:>9}",
        "case", "no undo", "undo", "users", "extra/user"
    );
    let new_users = std::fs::read_to_string(users_file(dir, "undo-new.csv", users, "new", "Agent"))
        .expect("read the new users' file");
    let cases = [
        Case {
            name: "new users (the undo deletes them)",
            csv: new_users,
            args: vec![],
            seed: none,
        },
        Case {
            name: "--update, one profile field changed",
            csv: rows("title", users, "Senior Agent"),
            args: vec!["--update"],
            seed: team,
        },
        Case {
            name: "--update, a role and a queue added",
            csv: rows("roles,queues", users, "Supervisor,Sales"),
            args: vec!["--update"],
            seed: team,
        },
        Case {
            name: "--update --exact, every list changes (movers)",
            csv: rows(
                "roles,skills,languages,queues,groups",
                users,
                "Supervisor,Sales:4;Tech:3,English:5;Spanish:2,Sales,Day Shift",
            ),
            args: vec!["--update", "--exact"],
            seed: team,
        },
        Case {
            name: "leavers: deactivate, out of queues and groups",
            csv: rows("state,queues,groups", users, "inactive,-,-"),
            args: vec!["--update", "--exact"],
            seed: team,
        },
        Case {
            name: "deletions (--allow-delete)",
            csv: rows("state", users, "deleted"),
            args: vec!["--update", "--allow-delete"],
            seed: team,
        },
    ];
    let undo_path = dir.path().join("bench.undo.csv");
    let undo_path = undo_path.to_string_lossy().into_owned();
    for case in cases {
        let input = dir.path().join("undo-case.csv");
        std::fs::write(&input, &case.csv).expect("write input");
        let input = input.to_string_lossy().into_owned();
        let mut counted = Vec::new();
        for undo in ["none", undo_path.as_str()] {
            let fake = Fake::spawn(FakeConfig::default());
            (case.seed)(&fake, users);
            let mut args = case.args.clone();
            args.extend(["--concurrency", "4", "--undo", undo]);
            let summary = run_against(&fake, dir, &input, &args);
            let held = summary.undo.as_ref().map_or(0, |(_, n)| *n);
            counted.push((fake.state().counters.api_requests, held));
        }
        let ((without, _), (with, held)) = (counted[0], counted[1]);
        assert_eq!(held, users, "{}: every user is in the undo", case.name);
        println!(
            "{:<58} {without:>9} {with:>9} {held:>7} {:>9.3}",
            case.name,
            (with - without) as f64 / held as f64
        );
    }
}
