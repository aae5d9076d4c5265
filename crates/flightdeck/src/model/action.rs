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
/// plain words when it does not. The rule is the `kubectl argo rollouts`
/// plugin's: what it would send, flightdeck may send. Abort whenever an
/// update is in flight and not already aborted, whatever the phase (a
/// canary Degraded by its progress deadline is exactly when it is needed);
/// promote whenever something holds the rollout or a step is left;
/// promote --full while the new version is not stable; resume only lifts
/// a person's pause (a step's pause or a blue-green's wait is promote's:
/// resume must never switch traffic); retry only an aborted rollout.
pub fn availability(
    rollout: &Rollout,
    action: RolloutAction,
    has_previous_revision: bool,
) -> Result<(), String> {
    if let Some(canary) = &rollout.flagger {
        return super::flagger_actions::availability(canary, action);
    }
    if rollout.workload == super::Workload::Deployment {
        return deployment_availability(rollout, action, has_previous_revision);
    }
    let verb = action.verb();
    let held = rollout.paused_by_user || !rollout.pause_conditions.is_empty();
    let why = match action {
        RolloutAction::Abort if rollout.aborted => Some("the rollout is already aborted".into()),
        RolloutAction::Abort if !rollout.update_in_flight() => {
            Some("no update is in flight: the newest version is the stable one".into())
        }
        RolloutAction::Promote if !held && !rollout.steps_left() => Some(match rollout.strategy {
            Strategy::Canary { .. } if !rollout.steps.is_empty() => {
                "all steps are done: nothing holds the rollout".into()
            }
            _ => "nothing holds the rollout: no pause, no step to move past".into(),
        }),
        RolloutAction::PromoteFull if !rollout.update_in_flight() && !rollout.paused_by_user => {
            Some("the new version is already stable".into())
        }
        RolloutAction::Retry if !rollout.aborted => {
            Some("the rollout is not aborted (retry restarts an aborted rollout)".into())
        }
        RolloutAction::Undo { .. } if !has_previous_revision => {
            Some("there is no previous revision".into())
        }
        RolloutAction::Pause if rollout.paused_by_user => {
            Some("the rollout is already paused".into())
        }
        RolloutAction::Resume if !rollout.paused_by_user => Some(match held_by(rollout) {
            Some(hold) => {
                format!("{hold}; resume only lifts a person's pause, promote moves it on")
            }
            None => "the rollout is not paused".into(),
        }),
        _ => None,
    };
    match why {
        Some(why) => Err(format!("{verb}: {why}")),
        None => Ok(()),
    }
}

/// A plain Deployment's actions, as `kubectl rollout pause|resume|restart` send them.
fn deployment_availability(
    deployment: &Rollout,
    action: RolloutAction,
    has_previous_revision: bool,
) -> Result<(), String> {
    let why = match action {
        RolloutAction::Pause if deployment.paused_by_user => {
            Some("the Deployment is already paused")
        }
        RolloutAction::Resume if !deployment.paused_by_user => Some("the Deployment is not paused"),
        RolloutAction::Pause | RolloutAction::Resume | RolloutAction::Restart => None,
        // `kubectl rollout undo [--to-revision]`: a revision of its ReplicaSets (read again
        // when sent), or without them known, the previous one by the Deployment's number.
        RolloutAction::Undo { revision: Some(_) } if has_previous_revision => None,
        RolloutAction::Undo { revision: None }
            if has_previous_revision || deployment.revision.unwrap_or(0) > 1 =>
        {
            None
        }
        RolloutAction::Undo { .. } => Some("there is no previous revision"),
        RolloutAction::Promote | RolloutAction::PromoteFull => {
            Some("a Deployment has no steps to promote: its rolling update goes on by itself")
        }
        RolloutAction::Abort | RolloutAction::Retry => {
            Some("a Deployment has no abort: pause it, or undo to the previous revision")
        }
    };
    match why {
        Some(why) => Err(format!("{}: {why}", action.verb())),
        None => Ok(()),
    }
}

/// What, other than a person, holds a paused rollout, in words.
fn held_by(rollout: &Rollout) -> Option<&'static str> {
    let reason = rollout.pause_conditions.first()?.reason.as_str();
    Some(match reason {
        "BlueGreenPause" => "the rollout waits for promotion",
        "CanaryPauseStep" => "the rollout is held by its pause step",
        "InconclusiveAnalysisRun" => "the rollout is held by an inconclusive analysis",
        _ => "the rollout is held by its controller",
    })
}

/// Why an action that applies is unusual in this state, for the dialog:
/// the plugin sends it, but a person should know what it will (not) do.
pub fn unusual(rollout: &Rollout, action: RolloutAction) -> Option<String> {
    if let Some(canary) = &rollout.flagger {
        return super::flagger_actions::what_happens(canary, action);
    }
    match action {
        RolloutAction::Promote if rollout.aborted => Some(
            "the rollout is aborted: while the abort stands the controller keeps all traffic \
             on stable and puts the steps back to the start (retry restarts it)"
                .into(),
        ),
        RolloutAction::PromoteFull if rollout.aborted => Some(
            "the rollout is aborted: promote --full lifts the abort and sends all traffic \
             to the new version"
                .into(),
        ),
        RolloutAction::Promote | RolloutAction::PromoteFull if rollout.phase == Phase::Degraded => {
            let why = if rollout.message.is_empty() {
                String::new()
            } else {
                format!(" ({})", rollout.message)
            };
            Some(format!(
                "the rollout is Degraded{why}: promoting moves the new version on regardless"
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::{canary, rollout};
    use crate::model::{PauseCondition, Strategy};

    use RolloutAction::*;

    fn blue_green_waiting() -> Rollout {
        let mut bg = rollout("eu", "shop", "ledger", Phase::Paused);
        bg.strategy = Strategy::BlueGreen;
        bg.current_hash = Some("ledger-preview".into());
        bg.pause_conditions = vec![PauseCondition {
            reason: "BlueGreenPause".into(),
            since: None,
        }];
        bg
    }

    #[test]
    fn a_paused_canary_can_be_promoted_aborted_or_paused_but_not_resumed() {
        let paused = canary("eu", "shop", "checkout", Phase::Paused, 1);
        for action in [Promote, PromoteFull, Abort, Pause] {
            assert_eq!(availability(&paused, action, true), Ok(()), "{action}");
        }
        assert_eq!(
            availability(&paused, Resume, true),
            Err("resume: the rollout is held by its pause step; resume only lifts a person's pause, promote moves it on".into())
        );
        assert_eq!(
            availability(&paused, Retry, true),
            Err("retry: the rollout is not aborted (retry restarts an aborted rollout)".into())
        );
    }

    #[test]
    fn a_degraded_canary_can_be_aborted_and_promoted_as_the_plugin_allows() {
        let mut stuck = canary("eu", "shop", "checkout", Phase::Degraded, 0);
        stuck.message = "ProgressDeadlineExceeded: ReplicaSet has timed out progressing.".into();
        for action in [Abort, Promote, PromoteFull] {
            assert_eq!(availability(&stuck, action, true), Ok(()), "{action}");
        }
        assert_eq!(unusual(&stuck, Abort), None);
        let warning = unusual(&stuck, Promote).unwrap();
        assert!(
            warning.contains("Degraded (ProgressDeadlineExceeded"),
            "{warning}"
        );
    }

    #[test]
    fn an_aborted_rollout_is_retried_or_promoted_with_a_warning_but_not_aborted_again() {
        let aborted = canary("eu", "shop", "checkout", Phase::Aborted, 2);
        assert_eq!(availability(&aborted, Retry, true), Ok(()));
        assert_eq!(
            availability(&aborted, Abort, true),
            Err("abort: the rollout is already aborted".into())
        );
        assert_eq!(availability(&aborted, Promote, true), Ok(()));
        assert!(
            unusual(&aborted, Promote)
                .unwrap()
                .contains("traffic on stable")
        );
        assert!(
            unusual(&aborted, PromoteFull)
                .unwrap()
                .contains("lifts the abort")
        );
    }

    #[test]
    fn resume_only_lifts_a_persons_pause() {
        let bg = blue_green_waiting();
        assert_eq!(
            availability(&bg, Resume, true),
            Err(
                "resume: the rollout waits for promotion; resume only lifts a person's pause, promote moves it on"
                    .into()
            )
        );
        assert_eq!(availability(&bg, Promote, true), Ok(()));
        let mut by_person = canary("eu", "shop", "checkout", Phase::Paused, 2);
        by_person.paused_by_user = true;
        assert_eq!(availability(&by_person, Resume, true), Ok(()));
        assert_eq!(
            availability(&by_person, Pause, true),
            Err("pause: the rollout is already paused".into())
        );
        let healthy = rollout("eu", "shop", "cart", Phase::Healthy);
        assert_eq!(
            availability(&healthy, Resume, true),
            Err("resume: the rollout is not paused".into())
        );
    }

    #[test]
    fn a_settled_rollout_has_nothing_to_abort_or_promote() {
        let healthy = rollout("eu", "shop", "cart", Phase::Healthy);
        assert_eq!(
            availability(&healthy, Abort, true),
            Err("abort: no update is in flight: the newest version is the stable one".into())
        );
        assert_eq!(
            availability(&healthy, Promote, true),
            Err("promote: nothing holds the rollout: no pause, no step to move past".into())
        );
        assert_eq!(
            availability(&healthy, PromoteFull, true),
            Err("promote --full: the new version is already stable".into())
        );
        let mut done = canary("eu", "shop", "cart", Phase::Healthy, 4);
        done.current_hash = done.stable_hash.clone();
        assert_eq!(
            availability(&done, Promote, true),
            Err("promote: all steps are done: nothing holds the rollout".into())
        );
        // A blue-green waiting for promotion has an update in flight.
        assert_eq!(availability(&blue_green_waiting(), Abort, true), Ok(()));
        assert_eq!(
            availability(&healthy, Undo { revision: None }, false),
            Err("undo: there is no previous revision".into())
        );
        assert!(availability(&healthy, Pause, true).is_ok());
        assert!(availability(&healthy, Restart, false).is_ok());
    }
}
