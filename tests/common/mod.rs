//! Shared helpers: run the real binary in a scratch directory, against the
//! fake Genesys server, and read back its results file.

#[path = "../../examples/fake_genesys/fake.rs"]
pub mod fake;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub use fake::{Fake, FakeConfig, Fault};

/// The documented exit codes, named, for assertions.
pub mod exit {
    use genimport::exit;

    pub const OK: i32 = exit::OK as i32;
    pub const ROWS_NEED_ATTENTION: i32 = exit::ROWS_NEED_ATTENTION as i32;
    pub const USAGE: i32 = exit::USAGE as i32;
    pub const DATA_ERR: i32 = exit::DATA_ERR as i32;
    pub const NO_INPUT: i32 = exit::NO_INPUT as i32;
    pub const UNAVAILABLE: i32 = exit::UNAVAILABLE as i32;
    pub const INTERNAL: i32 = exit::INTERNAL as i32;
    pub const CANT_CREATE: i32 = exit::CANT_CREATE as i32;
    pub const NO_PERM: i32 = exit::NO_PERM as i32;
    pub const CONFIG: i32 = exit::CONFIG as i32;
    pub const INTERRUPTED: i32 = exit::INTERRUPTED as i32;
}

pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, content).expect("write input");
        path
    }
}

/// A `genimport` command that sees no GENESYS_* variables from the outside
/// and runs in `dir` (so no stray .env is read).
pub fn genimport(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_genimport"));
    for (key, _) in std::env::vars() {
        if key.starts_with("GENESYS_") || key.starts_with("GENIMPORT_") || key == "NO_COLOR" {
            cmd.env_remove(key);
        }
    }
    cmd.current_dir(dir).stdin(Stdio::null());
    cmd
}

/// The same, pointed at the fake with valid credentials and fast waits.
pub fn genimport_against(dir: &Path, fake: &Fake) -> Command {
    let mut cmd = genimport(dir);
    let state = fake.state();
    cmd.env("GENESYS_API_URL", fake.url())
        .env("GENESYS_CLIENT_ID", &state.config.client_id)
        .env("GENESYS_CLIENT_SECRET", &state.config.client_secret)
        .env("GENIMPORT_TIME_SCALE", "0.001")
        .arg("--no-progress");
    cmd
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run genimport")
}

pub fn run_with_stdin(cmd: &mut Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

pub fn code(output: &Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// One results row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultRow {
    pub line: u64,
    pub email: String,
    pub name: String,
    pub status: String,
    pub user_id: String,
    pub http_status: String,
    pub error_code: String,
    pub message: String,
    pub changes: String,
}

pub fn parse_results(text: &[u8]) -> Vec<ResultRow> {
    let mut reader = csv::Reader::from_reader(text);
    let headers = reader.headers().expect("results header").clone();
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        [
            "line",
            "email",
            "name",
            "status",
            "user_id",
            "http_status",
            "error_code",
            "message",
            "changes"
        ]
    );
    reader
        .records()
        .map(|r| {
            let r = r.expect("results row");
            ResultRow {
                line: r[0].parse().expect("line number"),
                email: r[1].to_string(),
                name: r[2].to_string(),
                status: r[3].to_string(),
                user_id: r[4].to_string(),
                http_status: r[5].to_string(),
                error_code: r[6].to_string(),
                message: r[7].to_string(),
                changes: r[8].to_string(),
            }
        })
        .collect()
}

pub fn read_results(path: &Path) -> Vec<ResultRow> {
    parse_results(&std::fs::read(path).expect("results file"))
}

/// A CSV of `n` valid users (lines 2..=n+1).
pub fn users_csv(n: usize) -> String {
    let mut csv = String::from("email,name\n");
    for i in 0..n {
        csv.push_str(&format!("user{i}@example.com,User {i}\n"));
    }
    csv
}

/// Asserts every data line 2..=n+1 appears exactly once.
pub fn assert_each_line_once(rows: &[ResultRow], n: usize) {
    let mut lines: Vec<u64> = rows.iter().map(|r| r.line).collect();
    lines.sort_unstable();
    let expected: Vec<u64> = (2..=(n as u64 + 1)).collect();
    assert_eq!(
        lines, expected,
        "every input row exactly once in the results"
    );
}

pub fn statuses(rows: &[ResultRow]) -> Vec<&str> {
    rows.iter().map(|r| r.status.as_str()).collect()
}

/// Every write the fake answered (any method but GET; searches and the
/// licence inference only read).
pub fn writes(fake: &Fake) -> u64 {
    fake.state().writes()
}

/// One import run: its exit code, its results (in input order) and stderr.
pub struct Ran {
    pub code: i32,
    pub rows: Vec<ResultRow>,
    pub stderr: String,
}

/// Runs the import on `csv` with `args` against `fake`, in a scratch folder.
pub fn import_csv(fake: &Fake, csv: &str, args: &[&str]) -> Ran {
    let s = Scratch::new();
    let input = s.write("u.csv", csv);
    let out = run(genimport_against(s.dir.path(), fake).arg(&input).args(args));
    let mut rows = read_results(&s.path("u.results.csv"));
    // Rows waiting for the batched steps are written after the others.
    rows.sort_by_key(|r| r.line);
    Ran {
        code: code(&out),
        rows,
        stderr: stderr(&out),
    }
}
