//! Why this exists: an online run plans against every row, so the input is
//! read whole first; this holds the rows of either kind of file.

use crate::input::{self, Row, RowReader};
use crate::resource::Resource;

/// The rows of the input, read whole (online runs plan against all of them).
pub(crate) enum Inputs {
    Users(Vec<Row>),
    Queues(Vec<input::queues::QueueInput>),
}

impl Inputs {
    /// Drops the rows once every one has its plan (the plans own what
    /// they need); `listed` is then empty.
    pub(crate) fn release(&mut self) {
        match self {
            Inputs::Users(rows) => *rows = Vec::new(),
            Inputs::Queues(rows) => *rows = Vec::new(),
        }
    }

    /// Each row's line, email (empty for queues), name and problems.
    pub(crate) fn listed(&self) -> Vec<(u64, &str, &str, Option<&String>)> {
        match self {
            Inputs::Users(rows) => rows
                .iter()
                .map(|r| (r.line, &*r.email, &*r.name, r.validated.as_ref().err()))
                .collect(),
            Inputs::Queues(rows) => rows
                .iter()
                .map(|r| (r.line, "", r.name.as_str(), r.validated.as_ref().err()))
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
