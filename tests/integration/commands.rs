//! The command line is parsed by clap alone: `users`, `queues` and
//! `export` are subcommands only where a subcommand can stand, so a flag's
//! value that happens to be one of those words stays a value.

use crate::common::*;

#[test]
fn a_sheet_named_users_or_queues_is_the_flags_value() {
    let s = Scratch::new();
    let input = s.write("u.csv", "email,name\nana@example.com,Ana\n");
    for sheet in ["users", "queues"] {
        let out = run(genimport(s.dir.path()).arg(&input).args([
            "--sheet",
            sheet,
            "--dry-run",
            "-o",
            "-",
        ]));
        assert_eq!(code(&out), exit::OK, "--sheet {sheet}: {}", stderr(&out));
        let results = String::from_utf8_lossy(&out.stdout);
        assert!(
            results.starts_with("line,email,"),
            "a users file: {results}"
        );
        assert!(results.contains("would_create"), "{results}");
    }
}

#[test]
fn an_import_flag_before_the_subcommand_is_refused_not_lost() {
    let s = Scratch::new();
    let input = s.write("q.csv", "name\nBilling\n");
    let out = run(genimport(s.dir.path())
        .args(["--update", "queues"])
        .arg(&input));
    assert_eq!(code(&out), exit::USAGE, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--update must come after `queues`"),
        "{}",
        stderr(&out)
    );

    // Connection and logging flags may stand anywhere.
    let out = run(genimport(s.dir.path())
        .args(["--no-progress", "queues"])
        .arg(&input)
        .args(["--dry-run", "-o", "-"]));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("line,name,status,queue_id"));
}
