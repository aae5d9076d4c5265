//! A blue-green update, as Argo's rollout/bluegreen.go runs it: the new ReplicaSet comes up
//! beside the active one as the preview; once the preview is available the update is
//! promoted, at once or (`autoPromotionEnabled: false`) after a pause a promote ends; the
//! active selector switches at promotion, and an abort sends the preview back to stable.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::Controller;
use super::rollout::{Decision, Round, pause_conditions, write_pause_conditions};
use crate::clock::rfc3339;
use crate::objects::{remove, truthy};

/// What a blue-green does once its preview is available and the user has not paused it.
#[derive(Debug, PartialEq)]
enum PreviewReady {
    Promote,
    /// Wait for a promote: add the BlueGreenPause condition.
    Pause,
    /// Paused, waiting for a promote.
    Wait,
}

/// `waiting`: the BlueGreenPause condition is there; `controller_paused`: the controller
/// paused the rollout before (so a missing condition was removed by a promote).
fn when_preview_ready(
    promote_full: bool,
    auto_promotion: bool,
    waiting: bool,
    controller_paused: bool,
) -> PreviewReady {
    if promote_full || auto_promotion || (!waiting && controller_paused) {
        PreviewReady::Promote
    } else if !waiting {
        PreviewReady::Pause
    } else {
        PreviewReady::Wait
    }
}

/// ReplicaSet sizes: the preview beside the active one while the update runs; one of them
/// once it is stable, promoted or aborted.
fn desired(
    stable: &str,
    hash: &str,
    replicas: i64,
    aborted: bool,
    promoted: bool,
) -> Vec<(String, i64)> {
    if stable == hash || promoted {
        vec![(hash.to_string(), replicas)]
    } else if aborted {
        vec![(stable.to_string(), replicas)]
    } else {
        vec![(stable.to_string(), replicas), (hash.to_string(), replicas)]
    }
}

/// `status.blueGreen`: the active service selects stable until the update is promoted; the
/// preview selects the update, or stable again once it is aborted.
fn selectors(stable: &str, hash: &str, promoted: bool, aborted: bool) -> Value {
    let active = if promoted || stable == hash {
        hash
    } else {
        stable
    };
    let preview = if aborted { stable } else { hash };
    json!({"activeSelector": active, "previewSelector": preview})
}

impl Controller {
    pub(super) fn reconcile_blue_green(&mut self, round: &mut Round, now: Timestamp) -> Decision {
        let spec = &round.rollout["spec"];
        let hash = round.hash.clone();
        let stable = round.stable();
        let replicas = round.replicas();
        let aborted = truthy(&round.status["abort"]);
        let mut decision = Decision::default();
        if stable != hash && aborted {
            remove(&mut round.status, "pauseConditions");
            remove(&mut round.status, "controllerPause");
        } else if stable != hash {
            let mut pauses = pause_conditions(&round.status);
            if round.available(&hash) >= replicas && !truthy(&spec["paused"]) {
                let waiting = pauses.iter().any(|c| c["reason"] == "BlueGreenPause");
                let next = when_preview_ready(
                    truthy(&round.status["promoteFull"]),
                    spec["strategy"]["blueGreen"]["autoPromotionEnabled"] != json!(false),
                    waiting,
                    truthy(&round.status["controllerPause"]),
                );
                match next {
                    PreviewReady::Promote => {
                        decision.promote_reason = Some("Completed blue-green update".into());
                    }
                    PreviewReady::Pause => {
                        pauses.push(json!({"reason": "BlueGreenPause", "startTime": rfc3339(now)}));
                        round.status["controllerPause"] = json!(true);
                        let message = "Rollout is paused (BlueGreenPause)";
                        self.record(round.rollout, "Normal", "RolloutPaused", message, now);
                    }
                    PreviewReady::Wait => {}
                }
            }
            write_pause_conditions(&mut round.status, pauses);
        }
        let promoted = decision.promote_reason.is_some();
        decision.desired = desired(&stable, &hash, replicas, aborted, promoted);
        round.status["blueGreen"] = selectors(&stable, &hash, promoted, aborted);
        decision
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_available_preview_is_promoted_at_once_unless_auto_promotion_is_off() {
        assert_eq!(
            when_preview_ready(false, true, false, false),
            PreviewReady::Promote
        );
        assert_eq!(
            when_preview_ready(false, false, false, false),
            PreviewReady::Pause
        );
        assert_eq!(
            when_preview_ready(false, false, true, true),
            PreviewReady::Wait
        );
        // A promote removes the condition and leaves the controller's pause.
        assert_eq!(
            when_preview_ready(false, false, false, true),
            PreviewReady::Promote
        );
        assert_eq!(
            when_preview_ready(true, false, true, true),
            PreviewReady::Promote
        );
    }

    #[test]
    fn the_preview_runs_beside_the_active_until_promoted_or_aborted() {
        let sized = |pairs: &[(&str, i64)]| -> Vec<(String, i64)> {
            pairs.iter().map(|(h, n)| (h.to_string(), *n)).collect()
        };
        assert_eq!(
            desired("blue", "green", 4, false, false),
            sized(&[("blue", 4), ("green", 4)])
        );
        assert_eq!(
            desired("blue", "green", 4, false, true),
            sized(&[("green", 4)])
        );
        assert_eq!(
            desired("blue", "green", 4, true, false),
            sized(&[("blue", 4)])
        );
        assert_eq!(
            desired("green", "green", 4, false, false),
            sized(&[("green", 4)])
        );
    }

    #[test]
    fn the_active_selector_switches_at_promotion_and_an_abort_takes_the_preview_back() {
        assert_eq!(
            selectors("blue", "green", false, false),
            json!({"activeSelector": "blue", "previewSelector": "green"})
        );
        assert_eq!(
            selectors("blue", "green", true, false),
            json!({"activeSelector": "green", "previewSelector": "green"})
        );
        assert_eq!(
            selectors("blue", "green", false, true),
            json!({"activeSelector": "blue", "previewSelector": "blue"})
        );
        assert_eq!(
            selectors("green", "green", false, false),
            json!({"activeSelector": "green", "previewSelector": "green"})
        );
    }
}
