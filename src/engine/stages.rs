//! Why this exists: the `steps` phase of the progress bar counts the
//! follow-up steps planned for held rows; this says how many each stage
//! of the follow-ups covers, so the engine can report them as it goes.

use crate::engine::apply::Followup;
use crate::progress::Progress;

/// The follow-up steps planned for a held row, as the `steps` phase counts
/// them: a division move, the employer info, and every `changes` item of
/// its steps (manager, location, each role, skill, language, queue and
/// group, the invitation).
pub(crate) fn planned_steps(follow: &Followup) -> u64 {
    follow.steps.changes().len() as u64
        + u64::from(follow.move_to.is_some())
        + u64::from(follow.employer)
}

/// The steps of one stage of the follow-ups, for a held row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The division move.
    Move,
    /// The per-user steps before the batches: employer info, manager,
    /// location, skills, languages.
    Profile,
    Roles,
    Queues,
    Groups,
    /// The WebRTC phone: removed, made, its station the default.
    Phones,
    Invite,
}

impl Stage {
    /// How many of the row's planned steps this stage covers.
    pub(crate) fn steps(self, follow: &Followup) -> u64 {
        let s = &follow.steps;
        let n = match self {
            Stage::Move => usize::from(follow.move_to.is_some()),
            Stage::Profile => {
                usize::from(follow.employer)
                    + usize::from(s.manager.is_some())
                    + usize::from(s.location.is_some())
                    + s.skills.len()
                    + s.languages.len()
            }
            Stage::Roles => s.roles.len(),
            Stage::Queues => s.queues.len(),
            Stage::Groups => s.groups.len(),
            Stage::Phones => s.phone.as_ref().map_or(0, |p| p.changes().len()),
            Stage::Invite => usize::from(s.invite),
        };
        n as u64
    }
}

impl Progress {
    /// `stage` is over for these rows: count their steps of it as done.
    pub(crate) fn stage_done<'a>(
        &self,
        stage: Stage,
        follows: impl IntoIterator<Item = &'a Followup>,
    ) {
        self.step_done(follows.into_iter().map(|f| stage.steps(f)).sum());
    }
}
