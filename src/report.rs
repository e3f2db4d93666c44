//! Why this exists: the results CSV is how admins and pipelines learn what
//! happened to each row, so it is written one row at a time, flushed as rows
//! finish, with cells a spreadsheet would execute defused. The tally it keeps
//! feeds the summary and the exit code.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::time::Duration;

use crate::error::{exit, StopReason};
use crate::text::visible;

/// The header of the results file (a public contract).
pub const RESULTS_HEADER: [&str; 9] = [
    "line",
    "email",
    "name",
    "status",
    "user_id",
    "http_status",
    "error_code",
    "message",
    "changes",
];

/// The header of a queues results file.
pub const QUEUE_RESULTS_HEADER: [&str; 8] = [
    "line",
    "name",
    "status",
    "queue_id",
    "http_status",
    "error_code",
    "message",
    "changes",
];

/// What happened to a row (the `status` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    Created,
    Updated,
    Unchanged,
    Exists,
    WouldCreate,
    WouldUpdate,
    Incomplete,
    Invalid,
    Failed,
    NotAttempted,
}

impl Status {
    pub const ALL: [Status; 10] = [
        Status::Created,
        Status::Updated,
        Status::Unchanged,
        Status::Exists,
        Status::WouldCreate,
        Status::WouldUpdate,
        Status::Incomplete,
        Status::Invalid,
        Status::Failed,
        Status::NotAttempted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Updated => "updated",
            Status::Unchanged => "unchanged",
            Status::Exists => "exists",
            Status::WouldCreate => "would_create",
            Status::WouldUpdate => "would_update",
            Status::Incomplete => "incomplete",
            Status::Invalid => "invalid",
            Status::Failed => "failed",
            Status::NotAttempted => "not_attempted",
        }
    }

    /// A row that needs an admin's attention (exit 1).
    pub fn needs_attention(self) -> bool {
        matches!(
            self,
            Status::Invalid | Status::Failed | Status::Incomplete | Status::NotAttempted
        )
    }
}

/// The outcome of one row: its status and the columns that explain it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: Status,
    pub user_id: Option<String>,
    pub http_status: Option<u16>,
    pub error_code: Option<String>,
    pub message: Option<String>,
    /// The `changes` cell.
    pub changes: std::borrow::Cow<'static, str>,
}

impl Outcome {
    pub fn new(status: Status) -> Outcome {
        Outcome {
            status,
            user_id: None,
            http_status: None,
            error_code: None,
            message: None,
            changes: "".into(),
        }
    }

    pub fn with_changes(mut self, changes: &[crate::plan::Change]) -> Outcome {
        self.changes = crate::plan::changes_cell(changes);
        self
    }

    pub fn with_user_id(mut self, id: impl Into<String>) -> Outcome {
        self.user_id = Some(id.into());
        self
    }

    pub fn with_message(mut self, message: impl Into<String>) -> Outcome {
        self.message = Some(message.into());
        self
    }

    pub fn with_error(
        mut self,
        http_status: Option<u16>,
        code: Option<String>,
        message: impl Into<String>,
    ) -> Outcome {
        self.http_status = http_status;
        self.error_code = code;
        self.message = Some(message.into());
        self
    }
}

/// Where results go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sink {
    Stdout,
    File(PathBuf),
}

impl Sink {
    pub fn describe(&self) -> String {
        match self {
            Sink::Stdout => "standard output".to_string(),
            Sink::File(p) => p.display().to_string(),
        }
    }
}

/// Counts per status and the most frequent error codes, for the summary.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub per_status: HashMap<Status, u64>,
    /// error code -> (count, first line)
    pub error_codes: HashMap<String, (u64, u64)>,
}

impl Tally {
    pub fn count(&self, status: Status) -> u64 {
        self.per_status.get(&status).copied().unwrap_or(0)
    }

    pub fn total(&self) -> u64 {
        self.per_status.values().sum()
    }

    fn record(&mut self, line: u64, outcome: &Outcome) {
        *self.per_status.entry(outcome.status).or_default() += 1;
        if matches!(
            outcome.status,
            Status::Failed | Status::Invalid | Status::Incomplete
        ) {
            // Invalid rows have no API code: name the first column at fault.
            let code = outcome.error_code.clone().unwrap_or_else(|| {
                let column = outcome
                    .message
                    .as_deref()
                    .and_then(|m| m.split_once(':'))
                    .map(|(c, _)| c);
                match (outcome.status, column) {
                    (Status::Invalid, Some(column)) if !column.contains(' ') => {
                        format!("invalid {column}")
                    }
                    (status, _) => status.as_str().to_string(),
                }
            });
            self.error_codes.entry(code).or_insert((0, line)).0 += 1;
        }
    }

    /// The three most common error codes, most frequent first.
    pub fn top_errors(&self) -> Vec<(String, u64, u64)> {
        let mut all: Vec<(String, u64, u64)> = self
            .error_codes
            .iter()
            .map(|(code, (count, line))| (code.clone(), *count, *line))
            .collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
        all.truncate(3);
        all
    }
}

/// Writes the results CSV, one flushed row at a time.
pub struct ResultsWriter {
    writer: csv::Writer<Box<dyn Write + Send>>,
    flush_each_row: bool,
    /// A queues file: no email column, `queue_id` for the id.
    queues: bool,
    pub tally: Tally,
}

impl ResultsWriter {
    /// Opens the sink and writes the header. `flush_each_row` is off only for
    /// offline runs, where nothing is sent and so nothing can be lost.
    pub fn open(sink: &Sink, flush_each_row: bool, queues: bool) -> io::Result<ResultsWriter> {
        let out: Box<dyn Write + Send> = match sink {
            Sink::Stdout => Box::new(io::stdout()),
            Sink::File(path) => Box::new(File::create(path)?),
        };
        Self::from_writer(
            Box::new(BufWriter::with_capacity(64 * 1024, out)),
            flush_each_row,
            queues,
        )
    }

    pub fn from_writer(
        out: Box<dyn Write + Send>,
        flush_each_row: bool,
        queues: bool,
    ) -> io::Result<ResultsWriter> {
        let mut writer = csv::WriterBuilder::new().from_writer(out);
        if queues {
            writer.write_record(QUEUE_RESULTS_HEADER)?;
        } else {
            writer.write_record(RESULTS_HEADER)?;
        }
        writer.flush()?;
        Ok(ResultsWriter {
            writer,
            flush_each_row,
            queues,
            tally: Tally::default(),
        })
    }

    pub fn write(
        &mut self,
        line: u64,
        email: &str,
        name: &str,
        outcome: &Outcome,
    ) -> io::Result<()> {
        let line_buf = line.to_string();
        let http = outcome
            .http_status
            .map(|s| s.to_string())
            .unwrap_or_default();
        let cells = [
            std::borrow::Cow::Owned(line_buf),
            safe(email),
            safe(name),
            outcome.status.as_str().into(),
            safe(outcome.user_id.as_deref().unwrap_or("")),
            http.into(),
            safe(outcome.error_code.as_deref().unwrap_or("")),
            safe(outcome.message.as_deref().unwrap_or("")),
            safe(&outcome.changes),
        ];
        // A queues file has no email column.
        let skip = usize::from(self.queues);
        self.writer.write_record(
            cells
                .iter()
                .enumerate()
                .filter(|(i, _)| skip == 0 || *i != 1)
                .map(|(_, c)| c.as_bytes()),
        )?;
        if self.flush_each_row {
            self.writer.flush()?;
        }
        self.tally.record(line, outcome);
        Ok(())
    }

    pub fn finish(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

/// A cell ready for the results file: visible and inert. Borrows when
/// the cell needs nothing (nearly always): no allocation per cell.
fn safe(cell: &str) -> std::borrow::Cow<'_, str> {
    match visible(cell) {
        std::borrow::Cow::Borrowed(b) => neutralise(b),
        std::borrow::Cow::Owned(o) => neutralise(&o).into_owned().into(),
    }
}

/// One row for the writer thread.
pub struct Record {
    pub line: u64,
    pub email: std::sync::Arc<str>,
    pub name: std::sync::Arc<str>,
    pub outcome: Outcome,
}

/// The results file written from a thread of its own, fed by a channel: a
/// slow reader of `-o -` or a slow disk never blocks a worker, and rows are
/// still written and flushed one at a time, in the order they finish.
pub struct ResultsThread {
    sender: ResultsSender,
    thread: std::thread::JoinHandle<(Tally, io::Result<()>)>,
}

/// Where workers send their rows. Every clone must be dropped before
/// `ResultsThread::finish` can return.
#[derive(Clone)]
pub struct ResultsSender {
    sender: std::sync::mpsc::Sender<Record>,
    failed: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl ResultsSender {
    /// Queues one row; false once the file has failed.
    pub fn send(&self, record: Record) -> bool {
        use std::sync::atomic::Ordering;
        !self.failed.load(Ordering::SeqCst) && self.sender.send(record).is_ok()
    }
}

impl ResultsThread {
    /// `on_row` runs after each row is written; `on_error` once, at the
    /// first write error (later rows are dropped).
    pub fn start(
        mut writer: ResultsWriter,
        on_row: impl Fn(&Outcome) + Send + 'static,
        on_error: impl Fn(&io::Error) + Send + 'static,
    ) -> io::Result<ResultsThread> {
        use std::sync::atomic::{AtomicBool, Ordering};
        let (sender, receiver) = std::sync::mpsc::channel::<Record>();
        let failed = std::sync::Arc::new(AtomicBool::new(false));
        let flag = std::sync::Arc::clone(&failed);
        let thread = std::thread::Builder::new()
            .name("results".into())
            .spawn(move || {
                let mut result = Ok(());
                for record in receiver {
                    if result.is_err() {
                        continue;
                    }
                    match writer.write(record.line, &record.email, &record.name, &record.outcome) {
                        Ok(()) => on_row(&record.outcome),
                        Err(e) => {
                            flag.store(true, Ordering::SeqCst);
                            on_error(&e);
                            result = Err(e);
                        }
                    }
                }
                if result.is_ok() {
                    result = writer.finish();
                }
                (writer.tally, result)
            })?;
        Ok(ResultsThread {
            sender: ResultsSender { sender, failed },
            thread,
        })
    }

    pub fn sender(&self) -> ResultsSender {
        self.sender.clone()
    }

    /// Waits for every queued row to be written; the tally and the first error.
    pub fn finish(self) -> (Tally, io::Result<()>) {
        drop(self.sender);
        match self.thread.join() {
            Ok(done) => done,
            Err(_) => (
                Tally::default(),
                Err(io::Error::other("the results writer thread failed")),
            ),
        }
    }
}

/// Prefixes a `'` to cells a spreadsheet would evaluate as a formula.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// Everything the summary and the exit code need.
#[derive(Debug, Clone)]
pub struct Summary {
    pub tally: Tally,
    pub elapsed: Duration,
    pub requests: u64,
    pub throttled: u64,
    pub retries: u64,
    pub dry_run: bool,
    pub preflight_skipped: bool,
    pub stop: Option<StopReason>,
    /// Data rows in the input: the results must hold exactly this many.
    pub expected_rows: u64,
    /// Licences the run gives and takes (None: not asked).
    pub licences: Option<crate::licences::Impact>,
}

impl Summary {
    pub fn exit_code(&self) -> u8 {
        if let Some(stop) = &self.stop {
            return stop.exit_code();
        }
        exit::for_rows(&self.tally, self.expected_rows)
    }

    /// Users created or updated per minute of wall time.
    pub fn created_per_minute(&self) -> f64 {
        let minutes = self.elapsed.as_secs_f64() / 60.0;
        if minutes <= 0.0 {
            0.0
        } else {
            (self.tally.count(Status::Created) + self.tally.count(Status::Updated)) as f64 / minutes
        }
    }

    /// A small table for stderr.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let title = if self.dry_run {
            "genimport dry run"
        } else {
            "genimport summary"
        };
        out.push_str(&format!("{title}\n"));
        for status in Status::ALL {
            let n = self.tally.count(status);
            if n == 0
                && !matches!(
                    status,
                    Status::Created | Status::Exists | Status::Invalid | Status::Failed
                )
            {
                continue;
            }
            if self.dry_run && status == Status::Created {
                continue;
            }
            out.push_str(&format!("  {:<14}{:>8}\n", status.as_str(), n));
        }
        out.push_str(&format!("  {:<14}{:>8}\n", "rows", self.tally.total()));
        out.push_str(&format!(
            "  {:<14}{:>8.1}s\n",
            "elapsed",
            self.elapsed.as_secs_f64()
        ));
        if !self.dry_run {
            out.push_str(&format!(
                "  {:<14}{:>8.1}\n",
                "users/minute",
                self.created_per_minute()
            ));
        }
        out.push_str(&format!(
            "  {:<14}{:>8}  (429s: {}, retries: {})\n",
            "requests", self.requests, self.throttled, self.retries
        ));
        if let Some(licences) = &self.licences {
            out.push_str(&licences.render());
        }
        let top = self.tally.top_errors();
        if !top.is_empty() {
            out.push_str("  most common problems:\n");
            for (code, count, line) in top {
                out.push_str(&format!("    {code:<28}{count:>6}  e.g. line {line}\n"));
            }
        }
        if self.preflight_skipped {
            out.push_str("  preflight against the org skipped (no credentials): existing users are not detected\n");
        }
        if let Some(stop) = &self.stop {
            out.push_str(&format!("  stopped: {}\n", stop.describe()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn formula_cells_are_neutralised() {
        for cell in ["=SUM(A1)", "+1", "-2", "@cmd", "\tx", "\rx"] {
            assert_eq!(neutralise(cell), format!("'{cell}"));
        }
        assert_eq!(neutralise("plain"), "plain");
        assert_eq!(neutralise(""), "");
    }

    #[test]
    fn writes_header_rows_and_tally() {
        let shared = Shared::default();
        let mut writer = ResultsWriter::from_writer(Box::new(shared.clone()), true, false).unwrap();
        writer
            .write(
                2,
                "a@x.com",
                "=HYPERLINK(\"x\")",
                &Outcome::new(Status::Created)
                    .with_user_id("u1")
                    .with_changes(&[crate::plan::Change::Create]),
            )
            .unwrap();
        let failed = Outcome::new(Status::Failed).with_error(
            Some(400),
            Some("bad.request".into()),
            "nope, \"quoted\"",
        );
        writer.write(3, "b@x.com", "B", &failed).unwrap();
        let text = String::from_utf8(shared.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "line,email,name,status,user_id,http_status,error_code,message,changes"
        );
        assert_eq!(
            lines[1],
            "2,a@x.com,\"'=HYPERLINK(\"\"x\"\")\",created,u1,,,,create"
        );
        assert_eq!(
            lines[2],
            "3,b@x.com,B,failed,,400,bad.request,\"nope, \"\"quoted\"\"\","
        );
        assert_eq!(writer.tally.count(Status::Created), 1);
        assert_eq!(
            writer.tally.top_errors(),
            vec![("bad.request".to_string(), 1, 3)]
        );
    }

    #[test]
    fn summary_table() {
        let mut summary = Summary {
            tally: Tally::default(),
            elapsed: Duration::from_secs(90),
            requests: 1043,
            throttled: 4,
            retries: 6,
            dry_run: false,
            preflight_skipped: false,
            stop: None,
            expected_rows: 0,
            licences: None,
        };
        for line in 2..1002 {
            summary
                .tally
                .record(line, &Outcome::new(Status::Created).with_user_id("u"));
        }
        for line in 1002..1010 {
            summary.tally.record(line, &Outcome::new(Status::Exists));
        }
        summary.tally.record(
            1010,
            &Outcome::new(Status::Invalid).with_message("email: `x` is not a valid address (no @)"),
        );
        summary.tally.record(
            1011,
            &Outcome::new(Status::Invalid).with_message("phone: `1` is not an E.164 number"),
        );
        summary.tally.record(
            1012,
            &Outcome::new(Status::Invalid).with_message("email: repeats line 2"),
        );
        summary.tally.record(
            1013,
            &Outcome::new(Status::Failed).with_error(
                Some(400),
                Some("invalid.value".into()),
                "Value [title] is not valid",
            ),
        );
        summary.tally.record(
            1014,
            &Outcome::new(Status::Incomplete).with_error(
                Some(400),
                Some("invalid.password".into()),
                "the user was created, but: weak",
            ),
        );
        insta::assert_snapshot!(summary.render());
        summary.stop = Some(StopReason::Interrupted);
        summary
            .tally
            .record(1015, &Outcome::new(Status::NotAttempted));
        insta::assert_snapshot!("summary_interrupted", summary.render());
    }

    #[test]
    fn exit_codes_follow_the_outcomes() {
        let mut summary = Summary {
            tally: Tally::default(),
            elapsed: Duration::from_secs(1),
            requests: 0,
            throttled: 0,
            retries: 0,
            dry_run: false,
            preflight_skipped: false,
            stop: None,
            expected_rows: 0,
            licences: None,
        };
        summary.tally.record(2, &Outcome::new(Status::Exists));
        assert_eq!(summary.exit_code(), exit::INTERNAL, "a row is missing");
        summary.expected_rows = 1;
        assert_eq!(summary.exit_code(), exit::OK);
        summary.expected_rows = 2;
        summary.tally.record(
            3,
            &Outcome::new(Status::Incomplete).with_error(
                Some(400),
                Some("invalid.password".into()),
                "x",
            ),
        );
        assert_eq!(summary.exit_code(), exit::ROWS_NEED_ATTENTION);
        summary.stop = Some(StopReason::Interrupted);
        assert_eq!(summary.exit_code(), exit::INTERRUPTED);
    }
}
