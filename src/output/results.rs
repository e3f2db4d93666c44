//! Why this exists: the results CSV is how admins and pipelines learn what
//! happened to each row, so it is written one row at a time, flushed as rows
//! finish, with cells a spreadsheet would execute defused.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use crate::plan::{Outcome, Tally};
use crate::resource::Resource;
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

/// Writes the results CSV, one flushed row at a time.
pub struct ResultsWriter {
    writer: csv::Writer<Box<dyn Write + Send>>,
    flush_each_row: bool,
    /// A queues file: no email column, `queue_id` for the id.
    resource: Resource,
    pub tally: Tally,
}

impl ResultsWriter {
    /// Opens the sink and writes the header. `flush_each_row` is off only for
    /// offline runs, where nothing is sent and so nothing can be lost.
    pub fn open(
        sink: &Sink,
        flush_each_row: bool,
        resource: Resource,
    ) -> io::Result<ResultsWriter> {
        let out: Box<dyn Write + Send> = match sink {
            Sink::Stdout => Box::new(io::stdout()),
            Sink::File(path) => Box::new(File::create(path)?),
        };
        Self::from_writer(
            Box::new(BufWriter::with_capacity(64 * 1024, out)),
            flush_each_row,
            resource,
        )
    }

    pub fn from_writer(
        out: Box<dyn Write + Send>,
        flush_each_row: bool,
        resource: Resource,
    ) -> io::Result<ResultsWriter> {
        let mut writer = csv::WriterBuilder::new().from_writer(out);
        if resource == Resource::Queues {
            writer.write_record(QUEUE_RESULTS_HEADER)?;
        } else {
            writer.write_record(RESULTS_HEADER)?;
        }
        writer.flush()?;
        Ok(ResultsWriter {
            writer,
            flush_each_row,
            resource,
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
        let skip = usize::from(self.resource == Resource::Queues);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Status;
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
        let mut writer =
            ResultsWriter::from_writer(Box::new(shared.clone()), true, Resource::Users).unwrap();
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
}
