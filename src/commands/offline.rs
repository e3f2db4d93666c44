//! Why this exists: `--dry-run` without credentials: every row validated
//! and written to the results while streaming, so memory holds only the
//! set of emails; nothing is sent.

use std::sync::Arc;
use std::time::Instant;

use crate::commands::{discard_results, output_error};
use crate::config::Config;
use crate::error::Error;
use crate::input::{self, RowReader};
use crate::output::{ResultsWriter, Summary};
use crate::plan::{self, Outcome, Status};
use crate::resource::Resource;

/// An offline row: its line, email, name and the outcome a dry run reports.
type OfflineRow = (u64, Arc<str>, Arc<str>, Outcome);

fn next_offline_user(
    reader: &mut RowReader,
    invite: bool,
) -> Result<Option<OfflineRow>, input::InputError> {
    let Some(row) = reader.next_row()? else {
        return Ok(None);
    };
    let outcome = match &row.validated {
        // Movers and leavers: without credentials nobody is known to exist.
        Ok(user) if user.state == Some(input::UserState::Deleted) => {
            Outcome::new(Status::WouldUpdate)
                .with_changes(&[plan::Change::Field(crate::users::Field::State)])
                .with_message("checked offline: deletes the user if one has this email")
        }
        Ok(user) if user.name.is_empty() => {
            Outcome::new(Status::WouldUpdate).with_message(
                "checked offline: no name, so this row can only update an existing user (a new user needs a name)",
            )
        }
        Ok(user) => {
            let mut outcome = Outcome::new(Status::WouldCreate);
            outcome.changes = plan::offline_changes_cell(user, invite);
            outcome
        }
        Err(problems) => Outcome::new(Status::Invalid).with_message(problems.clone()),
    };
    Ok(Some((row.line, row.email, row.name, outcome)))
}

fn next_offline_queue(reader: &mut RowReader) -> Result<Option<OfflineRow>, input::InputError> {
    let Some(row) = reader.next_queue()? else {
        return Ok(None);
    };
    let outcome = match &row.validated {
        Ok(queue) => {
            let mut changes = vec![plan::Change::Create];
            changes.extend(
                queue
                    .wrapup_codes
                    .iter()
                    .map(|w| plan::Change::AddWrapup(w.clone())),
            );
            Outcome::new(Status::WouldCreate).with_changes(&changes)
        }
        Err(problems) => Outcome::new(Status::Invalid).with_message(problems.clone()),
    };
    Ok(Some((
        row.line,
        Arc::from(""),
        Arc::from(row.name.as_str()),
        outcome,
    )))
}

/// `--dry-run` without credentials: validate and write results while
/// streaming, so memory holds only the set of emails.
pub(crate) async fn offline_dry_run(
    config: &Config,
    mut reader: RowReader,
    mut writer: ResultsWriter,
    started: Instant,
) -> Result<Summary, Error> {
    let output_error = |source| output_error(&config.sink, source);
    let mut invalid = 0u64;
    loop {
        let next = if config.read.resource == Resource::Queues {
            next_offline_queue(&mut reader)
        } else {
            next_offline_user(&mut reader, config.invite)
        };
        let (line, email, name, outcome) = match next {
            Ok(Some(row)) => row,
            Ok(None) => break,
            Err(e) => {
                discard_results(&config.sink);
                return Err(e.into());
            }
        };
        if outcome.status == Status::Invalid {
            invalid += 1;
        }
        writer
            .write(line, &email, &name, &outcome)
            .map_err(output_error)?;
    }
    writer.finish().map_err(output_error)?;
    let expected_rows = writer.tally.total();
    tracing::warn!("no credentials: the preflight against the org was skipped, so existing users and division names were not checked");
    if config.strict && invalid > 0 {
        return Err(Error::StrictInvalid {
            invalid,
            results: config.sink.describe(),
        });
    }
    Ok(Summary {
        tally: writer.tally.clone(),
        elapsed: started.elapsed(),
        requests: 0,
        throttled: 0,
        retries: 0,
        dry_run: true,
        resource: config.read.resource,
        preflight_skipped: true,
        stop: None,
        expected_rows,
        licences: None,
        undo: None,
        missing_permissions: Vec::new(),
    })
}
