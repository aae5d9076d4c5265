//! A canary's `pause` step: begun by the controller (a CanaryPauseStep condition and
//! `controllerPause`), held until its duration has passed or a promote removes the
//! condition, then over.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::super::Controller;
use super::super::rollout::{Decision, Round};
use crate::clock::rfc3339;
use crate::objects::{self, str_at, truthy};

/// The first whole second at which a pause of `seconds` begun at `started` is over.
fn pause_end(started: Timestamp, seconds: f64) -> Timestamp {
    started
        .checked_add(SignedDuration::from_secs(seconds.ceil() as i64))
        .unwrap_or(started)
}

/// Where a `pause` step stands in this round.
#[derive(Debug, PartialEq)]
enum PauseStep {
    /// The pause begins now: the CanaryPauseStep condition is added. A timed one ends then.
    Begins { ends: Option<Timestamp> },
    /// Paused: until `ends` when timed, else until promoted.
    Holds { ends: Option<Timestamp> },
    /// Over: its time has passed, or a promote removed its condition.
    Over,
}

/// Argo's `CompletedCanaryPauseStep` and `reconcileCanaryPause`. `paused_since`: the start
/// of the step's CanaryPauseStep condition, when there is one; `controller_paused`: the
/// controller paused the rollout before (so a missing condition was removed by a promote).
fn pause_step(
    paused_since: Option<Timestamp>,
    duration: Option<f64>,
    controller_paused: bool,
    now: Timestamp,
) -> PauseStep {
    match (paused_since, duration) {
        (Some(since), Some(seconds)) if (now.as_second() - since.as_second()) as f64 >= seconds => {
            PauseStep::Over
        }
        (Some(since), Some(seconds)) => PauseStep::Holds {
            ends: Some(pause_end(since, seconds)),
        },
        (Some(_), None) => PauseStep::Holds { ends: None },
        (None, _) if controller_paused => PauseStep::Over,
        (None, duration) => PauseStep::Begins {
            ends: duration.map(|seconds| pause_end(now, seconds)),
        },
    }
}

impl Controller {
    /// A `pause` step: begun (the rollout paused by the controller), held, or over.
    pub(super) fn pause(
        &mut self,
        round: &mut Round,
        decision: &mut Decision,
        pauses: &mut Vec<Value>,
        step: &Value,
        now: Timestamp,
    ) -> bool {
        let paused_since = pauses
            .iter()
            .find(|c| c["reason"] == "CanaryPauseStep")
            .map(|c| str_at(c, "startTime").parse::<Timestamp>().unwrap_or(now));
        let duration = step["pause"]
            .get("duration")
            .and_then(objects::duration_seconds);
        let controller_paused = truthy(&round.status["controllerPause"]);
        match pause_step(paused_since, duration, controller_paused, now) {
            PauseStep::Over => true,
            PauseStep::Holds { ends } => {
                decision.pause_ends = ends;
                false
            }
            PauseStep::Begins { ends } => {
                decision.pause_ends = ends;
                pauses.push(json!({"reason": "CanaryPauseStep", "startTime": rfc3339(now)}));
                round.status["controllerPause"] = json!(true);
                if ends.is_none() {
                    let message = "Rollout is paused (CanaryPauseStep)";
                    self.record(round.rollout, "Normal", "RolloutPaused", message, now);
                }
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(second).unwrap()
    }

    #[test]
    fn a_timed_pause_holds_until_its_duration_has_passed() {
        assert_eq!(
            pause_step(None, Some(30.0), false, at(100)),
            PauseStep::Begins {
                ends: Some(at(130))
            }
        );
        assert_eq!(
            pause_step(Some(at(100)), Some(30.0), true, at(129)),
            PauseStep::Holds {
                ends: Some(at(130))
            }
        );
        assert_eq!(
            pause_step(Some(at(100)), Some(30.0), true, at(130)),
            PauseStep::Over
        );
        // A fraction of a second ends at the next whole one.
        assert_eq!(
            pause_step(Some(at(100)), Some(1.5), true, at(101)),
            PauseStep::Holds {
                ends: Some(at(102))
            }
        );
        assert_eq!(
            pause_step(Some(at(100)), Some(1.5), true, at(102)),
            PauseStep::Over
        );
    }

    #[test]
    fn a_pause_without_duration_holds_until_a_promote_removes_its_condition() {
        assert_eq!(
            pause_step(None, None, false, at(100)),
            PauseStep::Begins { ends: None }
        );
        assert_eq!(
            pause_step(Some(at(100)), None, true, at(100_000)),
            PauseStep::Holds { ends: None }
        );
        // Promoted: the condition is gone while the controller's pause stays.
        assert_eq!(pause_step(None, None, true, at(100_001)), PauseStep::Over);
        assert_eq!(pause_step(None, Some(60.0), true, at(101)), PauseStep::Over);
    }
}
