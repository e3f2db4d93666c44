//! Offline behaviour: bad input gets one clear line and a documented exit
//! code; the results file accounts for every row; cells are defused.

use crate::common::*;

#[test]
fn dry_run_without_credentials_validates_offline() {
    let s = Scratch::new();
    let input = s.write(
        "users.csv",
        "email,name,phone,state,password\na@example.com,Ann,+13175550123,active,S3cret!pass\nbad-email,,12,gone,\n",
    );
    let out = run(genimport(s.dir.path()).arg(&input).arg("--dry-run"));
    assert_eq!(code(&out), exit::ROWS_NEED_ATTENTION, "{}", stderr(&out));
    assert!(stderr(&out).contains("preflight against the org was skipped"));
    let rows = read_results(&s.path("users.results.csv"));
    assert_eq!(statuses(&rows), ["would_create", "invalid"]);
    for column in ["email:", "name:", "phone:", "state:"] {
        assert!(rows[1].message.contains(column), "{}", rows[1].message);
    }
    assert!(
        !String::from_utf8_lossy(&std::fs::read(s.path("users.results.csv")).unwrap())
            .contains("S3cret")
    );
}

#[test]
fn valid_file_dry_run_exits_zero() {
    let s = Scratch::new();
    let input = s.write("u.csv", users_csv(3));
    let out = run(genimport(s.dir.path()).arg(&input).arg("--dry-run"));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    assert_eq!(
        statuses(&read_results(&s.path("u.results.csv"))),
        ["would_create"; 3]
    );
}

#[test]
fn stdin_input_writes_results_to_stdout() {
    let s = Scratch::new();
    let out = run_with_stdin(
        genimport(s.dir.path()).args(["-", "--dry-run"]),
        b"\xef\xbb\xbfEMAIL , Name\r\nx@example.com,X\r\n\r\ny@example.com,Y\r\n",
    );
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = parse_results(&out.stdout);
    assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 4]);
}

#[test]
fn missing_file_exits_66() {
    let s = Scratch::new();
    let out = run(genimport(s.dir.path()).args(["nope.csv", "--dry-run"]));
    assert_eq!(code(&out), exit::NO_INPUT);
    assert!(stderr(&out).contains("nope.csv"), "{}", stderr(&out));
}

#[test]
fn unusable_csv_exits_65_with_one_clear_line() {
    let cases: [(&str, &[u8], &str); 4] = [
        (
            "missing",
            b"mail,fullname\na@x.com,A\n",
            "missing required column(s): email, name",
        ),
        ("empty", b"", "empty"),
        (
            "latin1",
            b"email,name\na@x.com,Jos\xe9\n",
            "line 2: not valid UTF-8",
        ),
        ("repeated", b"email,name,EMAIL\n", "appears more than once"),
    ];
    for (name, content, expected) in cases {
        let s = Scratch::new();
        let input = s.write(&format!("{name}.csv"), content);
        let out = run(genimport(s.dir.path()).arg(&input).arg("--dry-run"));
        assert_eq!(code(&out), exit::DATA_ERR, "{name}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(expected), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
        assert!(
            !s.path(&format!("{name}.results.csv")).exists(),
            "{name}: no half results"
        );
    }
}

#[test]
fn ragged_rows_duplicates_and_formulas() {
    let s = Scratch::new();
    let input = s.write(
        "u.csv",
        "email,name,notes\na@example.com,=HYPERLINK(\"http://x\"),n\nb@example.com,B\nA@EXAMPLE.COM,Again,n\n@evil.com,+cmd,n\n",
    );
    let out = run(genimport(s.dir.path()).arg(&input).arg("--dry-run"));
    assert_eq!(code(&out), exit::ROWS_NEED_ATTENTION);
    assert!(
        stderr(&out).contains("ignoring unknown column(s): notes"),
        "{}",
        stderr(&out)
    );
    let text = std::fs::read_to_string(s.path("u.results.csv")).unwrap();
    let rows = parse_results(text.as_bytes());
    assert_eq!(
        statuses(&rows),
        ["would_create", "invalid", "invalid", "invalid"]
    );
    assert_eq!(rows[0].name, "'=HYPERLINK(\"http://x\")");
    assert!(rows[1].message.contains("2 fields but the header has 3"));
    assert_eq!(rows[2].message, "email: repeats line 2");
    assert_eq!(rows[3].email, "'@evil.com");
    assert_eq!(rows[3].name, "'+cmd");
}

#[test]
fn strict_refuses_invalid_rows_with_65() {
    let s = Scratch::new();
    let input = s.write("u.csv", "email,name\na@example.com,A\nbad,B\n");
    let out = run(genimport(s.dir.path())
        .arg(&input)
        .args(["--dry-run", "--strict"]));
    assert_eq!(code(&out), exit::DATA_ERR);
    assert_eq!(
        statuses(&read_results(&s.path("u.results.csv"))),
        ["would_create", "invalid"]
    );
}

#[test]
fn unwritable_results_exit_73_before_anything_else() {
    let s = Scratch::new();
    let input = s.write("u.csv", users_csv(2));
    let out = run(genimport(s.dir.path()).arg(&input).args([
        "--dry-run",
        "-o",
        "/nonexistent-dir/r.csv",
    ]));
    assert_eq!(code(&out), exit::CANT_CREATE, "{}", stderr(&out));
    assert!(stderr(&out).contains("/nonexistent-dir/r.csv"));
}

#[test]
fn configuration_and_usage_errors() {
    let s = Scratch::new();
    let input = s.write("u.csv", users_csv(1));
    let out = run(genimport(s.dir.path()).arg(&input));
    assert_eq!(code(&out), exit::CONFIG, "no credentials for a real run");
    assert!(stderr(&out).contains("GENESYS_CLIENT_SECRET"));
    assert!(!s.path("u.results.csv").exists(), "nothing written");

    let out = run(genimport(s.dir.path()).arg("missing.csv"));
    assert_eq!(
        code(&out),
        exit::NO_INPUT,
        "the input is checked before the credentials"
    );

    let out = run(genimport(s.dir.path()).arg(&input).args([
        "--api-url",
        "http://api.example.com",
        "--dry-run",
    ]));
    assert_eq!(code(&out), exit::USAGE, "plain http to a remote host");

    let out = run(genimport(s.dir.path())
        .arg(&input)
        .args(["--region", "mars-1", "--dry-run"]));
    assert_eq!(code(&out), exit::USAGE);

    let out = run(genimport(s.dir.path())
        .arg(&input)
        .args(["--concurrency", "0"]));
    assert_eq!(code(&out), exit::USAGE);

    let out = run(genimport(s.dir.path()).args(["--dry-run"]));
    assert_eq!(code(&out), exit::USAGE, "CSV argument required");

    let out = run(genimport(s.dir.path())
        .arg(&input)
        .args(["-o"])
        .arg(&input)
        .arg("--dry-run"));
    assert_eq!(code(&out), exit::USAGE, "results over the input");
}

#[test]
fn dotenv_is_read_but_the_environment_wins() {
    let s = Scratch::new();
    let input = s.write("u.csv", users_csv(1));
    s.write(".env", "GENESYS_CLIENT_ID=from-dotenv\nGENESYS_CLIENT_SECRET=dotenv-secret\nGENESYS_API_URL=http://127.0.0.1:9\n");
    // Credentials from .env make a dry run try the preflight (port 9: refused).
    let out = run(genimport(s.dir.path()).arg(&input).args([
        "--dry-run",
        "--max-retries",
        "0",
        "--time-scale",
        "0",
    ]));
    assert_eq!(code(&out), exit::UNAVAILABLE, "{}", stderr(&out));
    assert!(!stderr(&out).contains("dotenv-secret"));
    // A real environment variable wins over .env.
    let out = run(genimport(s.dir.path())
        .arg(&input)
        .args(["--dry-run"])
        .env("GENESYS_API_URL", "http://api.example.com"));
    assert_eq!(code(&out), exit::USAGE, "{}", stderr(&out));
}

#[test]
fn help_has_examples_and_completions_work() {
    let s = Scratch::new();
    let out = run(genimport(s.dir.path()).arg("--help"));
    assert_eq!(code(&out), exit::OK);
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "--dry-run",
        "--concurrency",
        "GENESYS_CLIENT_ID",
        "Examples:",
        "Exit codes:",
    ] {
        assert!(help.contains(needle), "{needle}");
    }
    let out = run(genimport(s.dir.path()).args(["completions", "bash"]));
    assert_eq!(code(&out), exit::OK);
    assert!(String::from_utf8_lossy(&out.stdout).contains("genimport"));
    let out = run(genimport(s.dir.path()).arg("man"));
    assert_eq!(code(&out), exit::OK);
    assert!(String::from_utf8_lossy(&out.stdout).contains(".TH"));
}
