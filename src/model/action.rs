//! What a person can do to a rollout, and when each action applies.

use std::fmt;

use super::{Phase, Rollout, Strategy};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RolloutAction {
    Promote,
    PromoteFull,
    Pause,
    Resume,
    Abort,
    Retry,
    /// Roll back to this revision (`None`: the previous one).
    Undo {
        revision: Option<u64>,
    },
    Restart,
}

impl RolloutAction {
    /// The word a person types: `promote`, `abort`, ...
    pub fn verb(self) -> &'static str {
        match self {
            Self::Promote => "promote",
            Self::PromoteFull => "promote --full",
            Self::Pause => "pause",
            Self::Resume => "resume",
            Self::Abort => "abort",
            Self::Retry => "retry",
            Self::Undo { .. } => "undo",
            Self::Restart => "restart",
        }
    }

    /// The `reason` of the Kubernetes Event flightdeck records.
    pub fn event_reason(self) -> &'static str {
        match self {
            Self::Promote => "FlightdeckPromote",
            Self::PromoteFull => "FlightdeckPromoteFull",
            Self::Pause => "FlightdeckPause",
            Self::Resume => "FlightdeckResume",
            Self::Abort => "FlightdeckAbort",
            Self::Retry => "FlightdeckRetry",
            Self::Undo { .. } => "FlightdeckUndo",
            Self::Restart => "FlightdeckRestart",
        }
    }

    /// Actions whose mistakes cost most: on a production context the person
    /// types the rollout's name to confirm them.
    pub fn needs_typed_confirmation(self) -> bool {
        matches!(self, Self::Abort | Self::Undo { .. } | Self::PromoteFull)
    }

    /// Pause is the one action that is always safe to take at once.
    pub fn needs_confirmation(self) -> bool {
        self != Self::Pause
    }
}

impl fmt::Display for RolloutAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Undo { revision: Some(r) } => write!(f, "undo to revision {r}"),
            other => f.write_str(other.verb()),
        }
    }
}

/// Whether `action` applies to the rollout as it is now; the reason in
/// plain words when it does not. The Argo dashboard's rule: promote and
/// abort while Progressing or Paused and not aborted; retry only when
/// aborted or Degraded; undo when a previous revision exists.
pub fn availability(
    rollout: &Rollout,
    action: RolloutAction,
    has_previous_revision: bool,
) -> Result<(), String> {
    let verb = action.verb();
    let moving = matches!(rollout.phase, Phase::Progressing | Phase::Paused) && !rollout.aborted;
    let paused = rollout.paused_by_user || rollout.phase == Phase::Paused;
    let why = match action {
        RolloutAction::Promote | RolloutAction::Abort if !moving => Some(format!(
            "the rollout is {}, not progressing or paused",
            rollout.phase.label()
        )),
        RolloutAction::PromoteFull if !moving => Some(format!(
            "the rollout is {}, not progressing or paused",
            rollout.phase.label()
        )),
        RolloutAction::PromoteFull
            if rollout.strategy != Strategy::BlueGreen
                && rollout.current_hash == rollout.stable_hash =>
        {
            Some("the new version is already stable".into())
        }
        RolloutAction::Retry if !(rollout.aborted || rollout.phase == Phase::Degraded) => {
            Some("the rollout is not aborted".into())
        }
        RolloutAction::Undo { .. } if !has_previous_revision => {
            Some("there is no previous revision".into())
        }
        RolloutAction::Pause if rollout.paused_by_user => {
            Some("the rollout is already paused".into())
        }
        RolloutAction::Resume if !paused => Some("the rollout is not paused".into()),
        _ => None,
    };
    match why {
        Some(why) => Err(format!("{verb}: {why}")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::{canary, rollout};

    #[test]
    fn actions_follow_the_dashboard_rules() {
        let healthy = rollout("eu", "shop", "cart", Phase::Healthy);
        let paused = canary("eu", "shop", "checkout", Phase::Paused, 1);
        let aborted = canary("eu", "shop", "checkout", Phase::Aborted, 2);
        use RolloutAction::*;
        assert!(availability(&paused, Promote, true).is_ok());
        assert!(availability(&paused, Abort, true).is_ok());
        assert!(availability(&paused, PromoteFull, true).is_ok());
        assert!(availability(&paused, Resume, true).is_ok());
        assert_eq!(
            availability(&healthy, Abort, true),
            Err("abort: the rollout is Healthy, not progressing or paused".into())
        );
        assert_eq!(
            availability(&paused, Retry, true),
            Err("retry: the rollout is not aborted".into())
        );
        assert!(availability(&aborted, Retry, true).is_ok());
        assert!(availability(&aborted, Promote, true).is_err());
        assert_eq!(
            availability(&healthy, Undo { revision: None }, false),
            Err("undo: there is no previous revision".into())
        );
        assert_eq!(
            availability(&healthy, Resume, true),
            Err("resume: the rollout is not paused".into())
        );
        assert!(availability(&healthy, Pause, true).is_ok());
        assert!(availability(&healthy, Restart, false).is_ok());
    }
}
