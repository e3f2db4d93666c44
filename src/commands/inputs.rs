//! Why this exists: an online run plans against every row, so the input is
//! read whole first; this holds the rows of either kind of file.

use crate::input::{self, Row, RowReader};
use crate::resource::Resource;

/// The rows of the input, read whole (online runs plan against all of them).
pub(crate) enum Inputs {
    Users(Vec<Row>),
    Queues(Vec<input::queues::QueueInput>),
}

/// One input row, as the results file and the log name it.
pub(crate) struct Listed<'a> {
    pub(crate) line: u64,
    /// Empty for a queue.
    pub(crate) email: &'a str,
    pub(crate) name: &'a str,
    /// Why the row is invalid, if it is.
    pub(crate) problems: Option<&'a String>,
}

impl Inputs {
    /// Every row, in input order.
    pub(crate) fn listed(&self) -> Vec<Listed<'_>> {
        match self {
            Inputs::Users(rows) => rows
                .iter()
                .map(|r| Listed {
                    line: r.line,
                    email: &r.email,
                    name: &r.name,
                    problems: r.validated.as_ref().err(),
                })
                .collect(),
            Inputs::Queues(rows) => rows
                .iter()
                .map(|r| Listed {
                    line: r.line,
                    email: "",
                    name: &r.name,
                    problems: r.validated.as_ref().err(),
                })
                .collect(),
        }
    }
}

pub(crate) fn read_all(
    reader: &mut RowReader,
    resource: Resource,
) -> Result<Inputs, input::InputError> {
    if resource == Resource::Queues {
        let mut rows = Vec::new();
        while let Some(row) = reader.next_queue()? {
            rows.push(row);
        }
        return Ok(Inputs::Queues(rows));
    }
    let mut rows = Vec::new();
    while let Some(row) = reader.next_row()? {
        rows.push(row);
    }
    Ok(Inputs::Users(rows))
}
