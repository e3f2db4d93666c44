//! Why this exists: the few lines an admin reads at the end of a run (counts
//! per status, time, requests, the commonest problems) and the exit code,
//! from the tally and how the run ended.

use std::time::Duration;

use crate::error::StopReason;
use crate::plan::{Status, Tally};
use crate::resource::Resource;

/// Everything the summary and the exit code need.
#[derive(Debug, Clone)]
pub struct Summary {
    pub tally: Tally,
    pub elapsed: Duration,
    pub requests: u64,
    pub throttled: u64,
    pub retries: u64,
    pub dry_run: bool,
    /// What the file held (the rate line says `queues/minute` for queues).
    pub resource: Resource,
    pub preflight_skipped: bool,
    pub stop: Option<StopReason>,
    /// Data rows in the input: the results must hold exactly this many.
    pub expected_rows: u64,
    /// Licences the run gives and takes (None: not asked).
    pub licences: Option<crate::plan::licences::Impact>,
    /// The undo file this run left, and how many users it holds.
    pub undo: Option<(std::path::PathBuf, usize)>,
    /// What the permission preflight found missing (`directory:user:add in
    /// Sales`) and how many rows failed for it.
    pub missing_permissions: Vec<(String, u64)>,
}

impl Summary {
    pub fn exit_code(&self) -> u8 {
        if let Some(stop) = &self.stop {
            return stop.exit_code();
        }
        self.tally.exit_code(self.expected_rows)
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
                if self.resource == Resource::Queues {
                    "queues/minute"
                } else {
                    "users/minute"
                },
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
        if let Some((path, users)) = &self.undo {
            out.push_str(&format!(
                "  {:<14}{:>8}  user(s) in {} (to put them back: genimport {} --update --exact --allow-delete --restore-deleted)\n",
                "undo",
                users,
                path.display(),
                path.display()
            ));
        }
        let top = self.tally.top_errors();
        if !top.is_empty() {
            out.push_str("  most common problems:\n");
            for (code, count, line) in top {
                out.push_str(&format!("    {code:<28}{count:>6}  e.g. line {line}\n"));
            }
        }
        for (i, (what, rows)) in self.missing_permissions.iter().enumerate() {
            let label = if i == 0 { "missing permissions" } else { "" };
            out.push_str(&format!("  {label:<21}{what} ({rows} rows)\n"));
        }
        if self.preflight_skipped {
            out.push_str("  preflight against the org skipped (no credentials): existing users are not detected\n");
        }
        if let Some(stop) = &self.stop {
            out.push_str(&format!("  stopped: {}\n", stop));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::exit;
    use crate::plan::Outcome;

    #[test]
    fn summary_table() {
        let mut summary = Summary {
            tally: Tally::default(),
            elapsed: Duration::from_secs(90),
            requests: 1043,
            throttled: 4,
            retries: 6,
            dry_run: false,
            resource: Resource::Users,
            preflight_skipped: false,
            stop: None,
            expected_rows: 0,
            licences: None,
            undo: None,
            missing_permissions: Vec::new(),
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
            resource: Resource::Users,
            preflight_skipped: false,
            stop: None,
            expected_rows: 0,
            licences: None,
            undo: None,
            missing_permissions: Vec::new(),
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

    #[test]
    fn a_queues_run_counts_queues_per_minute() {
        let summary = Summary {
            tally: Tally::default(),
            elapsed: Duration::from_secs(60),
            requests: 3,
            throttled: 0,
            retries: 0,
            dry_run: false,
            resource: Resource::Queues,
            preflight_skipped: false,
            stop: None,
            expected_rows: 0,
            licences: None,
            undo: None,
            missing_permissions: Vec::new(),
        };
        let text = summary.render();
        assert!(text.contains("queues/minute"), "{text}");
        assert!(!text.contains("users/minute"), "{text}");
    }
}
