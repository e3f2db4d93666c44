//! Why this exists: a run that writes leaves its undo file, complete,
//! before its first write (see docs/undo.md). Between the preflight and
//! the first write: work out the undo rows, write them, and stop the run
//! (nothing sent) when the file cannot be written.

use std::path::PathBuf;
use std::sync::Arc;

use crate::config::Config;
use crate::error::StopReason;
use crate::genesys::{CallError, Client};
use crate::output::undo as file;
use crate::plan::Job;
use crate::resolve::undo::{self, Known};
use crate::stop::Stop;

/// The undo file a run left: where, and how many users it holds.
pub type Left = Option<(PathBuf, usize)>;

/// Leaves the undo file of these plans (none for a dry run, `--undo none`,
/// a queues file, or a run that changes no user). A read the undo needs
/// that fails ends the run as a failed preflight does; a file that cannot
/// be written stops it before its first write (exit 73).
pub(crate) async fn leave(
    config: &Config,
    client: &Arc<Client>,
    planned: Result<(Vec<Job>, Option<Known>), CallError>,
    stop: &Stop,
) -> (Result<Vec<Job>, CallError>, Left) {
    let (mut jobs, known) = match planned {
        Ok(planned) => planned,
        Err(e) => return (Err(e), None),
    };
    let path = match (known, file::choose_path(&config.undo)) {
        (Some(known), Some(path)) if !config.dry_run => (known, path),
        _ => return (Ok(jobs), None),
    };
    let (known, path) = path;
    let undo = match undo::prepare(client, &mut jobs, known, config.concurrency).await {
        Ok(undo) => undo,
        Err(e) => return (Err(e), None),
    };
    if undo.users == 0 {
        return (Ok(jobs), None);
    }
    match file::write(&undo.table, &path) {
        Ok(()) => {
            tracing::info!(users = undo.users, path = %path.display(), "undo file written");
            (Ok(jobs), Some((path, undo.users)))
        }
        Err(e) => {
            let why = format!(
                "cannot write the undo file {}: {e}; nothing was sent (choose another --undo PATH, or --undo none)",
                path.display()
            );
            tracing::error!("{why}");
            stop.raise(StopReason::UndoFailed(why));
            (Ok(jobs), None)
        }
    }
}
