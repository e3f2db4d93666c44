//! The files admins actually have: `.xlsx` workbooks, `;` and tab
//! separators, Excel's `sep=` line, UTF-16, and HR column names (`--map`).

use crate::common::*;

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

const HR_MAP: [&str; 4] = ["--map", "Work Email=email", "--map", "Full Name=name"];

#[test]
fn a_workbook_is_read_cell_by_cell_with_worksheet_row_numbers() {
    let fake = Fake::spawn(FakeConfig::default());
    let s = Scratch::new();
    let out = run(genimport_against(s.dir.path(), &fake)
        .arg(fixture("users.xlsx"))
        .args(HR_MAP)
        .args(["-o"])
        .arg(s.path("r.csv")));
    assert_eq!(code(&out), exit::ROWS_NEED_ATTENTION, "{}", stderr(&out));
    let mut rows = read_results(&s.path("r.csv"));
    rows.sort_by_key(|r| r.line);
    // The header is on row 2 (row 1 is empty): data rows are 3 and 4.
    assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), [3, 4]);
    assert_eq!(statuses(&rows), ["created", "invalid"]);
    assert_eq!(rows[0].changes, "create; hire_date");
    // A phone Excel stored as a number keeps its digits and is not guessed.
    assert_eq!(
        rows[1].message,
        "phone: `13175550123` is not an E.164 number such as +13175550123"
    );
    let state = fake.state();
    let ana = state.user("ana@example.com").unwrap();
    assert_eq!(ana.body["title"], "AGENT", "a formula cell gives its value");
    assert_eq!(ana.body["addresses"][0]["address"], "+442079460958");
    assert_eq!(
        ana.profile["employerInfo"]["dateHire"], "2026-12-01",
        "a date cell"
    );
}

#[test]
fn sheet_picks_another_worksheet_and_a_wrong_name_lists_them() {
    let s = Scratch::new();
    let out = run(genimport(s.dir.path())
        .arg(fixture("users.xlsx"))
        .args(["--dry-run", "--sheet", "Other", "-o"])
        .arg(s.path("r.csv")));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = read_results(&s.path("r.csv"));
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].line, rows[0].email.as_str()),
        (2, "zed@example.com")
    );

    let out = run(genimport(s.dir.path())
        .arg(fixture("users.xlsx"))
        .args(["--dry-run", "--sheet", "Nope", "-o"])
        .arg(s.path("r.csv")));
    assert_eq!(code(&out), exit::USAGE, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the workbook has: Users, Other"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_file_that_is_not_a_workbook_is_a_clear_error() {
    let s = Scratch::new();
    let input = s.write("users.xlsx", "email,name\na@x.com,A\n");
    let out = run(genimport(s.dir.path()).arg(&input).arg("--dry-run"));
    assert_eq!(code(&out), exit::DATA_ERR, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not a readable .xlsx workbook"),
        "{}",
        stderr(&out)
    );
    assert!(!s.path("users.results.csv").exists());

    // A workbook saved under a .csv name is named for what it is.
    let input = s.write("book.csv", std::fs::read(fixture("users.xlsx")).unwrap());
    let out = run(genimport(s.dir.path()).arg(&input).arg("--dry-run"));
    assert_eq!(code(&out), exit::DATA_ERR, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("this is a workbook"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_comma_is_announced_only_when_asked() {
    let s = Scratch::new();
    let input = s.write("comma.csv", "email,name\nana@x.com,Ana\n");
    let out = run(genimport(s.dir.path()).arg(&input).arg("--dry-run"));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(!stderr(&out).contains("separated by"), "{}", stderr(&out));
    let out = run(genimport(s.dir.path())
        .arg(&input)
        .args(["--dry-run", "-v"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("separated by `,` (detected from the header line)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn semicolon_files_with_and_without_a_sep_line() {
    let s = Scratch::new();
    let input = s.write(
        "semi.csv",
        "email;name;title\r\nana@x.com;Ana;\"Agent; Tier 2\"\r\n",
    );
    let out = run(genimport(s.dir.path()).arg(&input).arg("--dry-run"));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("separated by `;` (detected from the header line)"),
        "{}",
        stderr(&out)
    );
    let rows = read_results(&s.path("semi.results.csv"));
    assert_eq!((rows[0].line, rows[0].status.as_str()), (2, "would_create"));

    let input = s.write(
        "sep.csv",
        "sep=;\r\nemail;name\r\nana@x.com;Ana\r\nbad;Bo\r\n",
    );
    let out = run(genimport(s.dir.path()).arg(&input).arg("--dry-run"));
    assert_eq!(code(&out), exit::ROWS_NEED_ATTENTION, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the file's sep= line"),
        "{}",
        stderr(&out)
    );
    let rows = read_results(&s.path("sep.results.csv"));
    // The sep= line counts: the header is line 2.
    assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), [3, 4]);
    assert_eq!(statuses(&rows), ["would_create", "invalid"]);
}

#[test]
fn a_utf16le_tab_file_is_decoded() {
    let s = Scratch::new();
    let text = "email\tname\ttitle\r\nzoë@example.com\tZoë Lefèvre\tAgent\r\nnot-an-email\tX\t\r\n";
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let input = s.write("unicode.txt", bytes);
    let out = run(genimport(s.dir.path()).arg(&input).arg("--dry-run"));
    assert_eq!(code(&out), exit::ROWS_NEED_ATTENTION, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("separated by tab"),
        "{}",
        stderr(&out)
    );
    let rows = read_results(&s.path("unicode.results.csv"));
    assert_eq!(rows[0].name, "Zoë Lefèvre");
    assert_eq!((rows[0].line, rows[0].status.as_str()), (2, "would_create"));
    assert_eq!((rows[1].line, rows[1].status.as_str()), (3, "invalid"));
}

#[test]
fn other_encodings_are_refused_with_the_line_and_a_hint() {
    let s = Scratch::new();
    let input = s.write("latin1.csv", b"email,name\na@x.com,A\nb@x.com,Jos\xe9\n");
    let out = run(genimport(s.dir.path()).arg(&input).arg("--dry-run"));
    assert_eq!(code(&out), exit::DATA_ERR, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("line 3: not valid UTF-8 (save the file as UTF-8"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_hr_export_is_read_with_map() {
    let s = Scratch::new();
    let input = s.write(
        "hr.csv",
        "Employee Number,Work Email,Full Name,Job Title\nE-1,ana@x.com,Ana,Agent\n",
    );
    // Without --map: the error suggests it.
    let out = run(genimport(s.dir.path()).arg(&input).arg("--dry-run"));
    assert_eq!(code(&out), exit::DATA_ERR, "{}", stderr(&out));
    assert!(
        stderr(&out).contains(r#"--map "Work Email=email" --map "Full Name=name""#),
        "{}",
        stderr(&out)
    );
    let out = run(genimport(s.dir.path())
        .arg(&input)
        .arg("--dry-run")
        .args(HR_MAP)
        .args([
            "--map",
            "Job Title=title",
            "--map",
            "employee number=employee_id",
        ]));
    assert_eq!(code(&out), exit::OK, "{}", stderr(&out));
    let rows = read_results(&s.path("hr.results.csv"));
    assert_eq!(statuses(&rows), ["would_create"]);
    assert_eq!(rows[0].changes, "create; employee_id");
}

#[test]
fn a_map_naming_a_missing_column_is_a_usage_error_listing_the_columns() {
    let s = Scratch::new();
    let input = s.write("hr.csv", "Work Email,Full Name\nana@x.com,Ana\n");
    let out = run(genimport(s.dir.path())
        .arg(&input)
        .args(["--dry-run", "--map", "E-mail=email"]));
    assert_eq!(code(&out), exit::USAGE, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("its columns are: Work Email, Full Name"),
        "{}",
        stderr(&out)
    );
    let out =
        run(genimport(s.dir.path())
            .arg(&input)
            .args(["--dry-run", "--map", "Work Email=mail"]));
    assert_eq!(code(&out), exit::USAGE, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not a column genimport reads"),
        "{}",
        stderr(&out)
    );
}
