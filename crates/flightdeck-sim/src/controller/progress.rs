//! Argo's progress deadline: an update that makes no progress for the rollout's
//! `progressDeadlineSeconds` (600 by default) times out, which makes the rollout Degraded
//! with `ProgressDeadlineExceeded`, and aborts it when `progressDeadlineAbort` is set
//! (argo-rollouts `utils/conditions` RolloutProgressing and RolloutTimedOut,
//! `rollout/sync.go` calculateRolloutConditions).

use jiff::Timestamp;
use serde_json::Value;

use crate::objects::{int_at, str_at};

pub const DEFAULT_DEADLINE_SECONDS: i64 = 600;
pub const UPDATED_REASON: &str = "ReplicaSetUpdated";
pub const TIMED_OUT_REASON: &str = "ProgressDeadlineExceeded";

/// What the Progressing condition of an update in flight (not paused, aborted or
/// complete) should say.
#[derive(Debug, PartialEq, Eq)]
pub enum Assessment {
    /// `ReplicaSetUpdated`, its `lastUpdateTime` now: the clock starts over.
    Progressing,
    /// `ProgressDeadlineExceeded`, with this message.
    TimedOut(String),
    /// Nothing moved, but the deadline is not reached: leave the condition as it is.
    Waiting,
}

/// Argo's `RolloutProgressing`: pods were created, became ready or available, old ones
/// went away, or the strategy moved (stable, step, steps, active or preview selector).
fn made_progress(spec: &Value, old: &Value, new: &Value) -> bool {
    let count = |status: &Value, field: &str| int_at(status, field).unwrap_or(0);
    let strategy_moved = if spec["strategy"]["blueGreen"].is_object() {
        ["blueGreen.activeSelector", "blueGreen.previewSelector"]
            .iter()
            .any(|path| str_at(old, path) != str_at(new, path))
    } else {
        let step_moved = match (
            int_at(old, "currentStepIndex"),
            int_at(new, "currentStepIndex"),
        ) {
            (Some(before), Some(after)) => before != after,
            _ => false,
        };
        str_at(old, "stableRS") != str_at(new, "stableRS")
            || str_at(old, "currentStepHash") != str_at(new, "currentStepHash")
            || step_moved
    };
    let old_pods = |status: &Value| count(status, "replicas") - count(status, "updatedReplicas");
    count(new, "updatedReplicas") != count(old, "updatedReplicas")
        || old_pods(new) < old_pods(old)
        || count(new, "readyReplicas") > count(old, "readyReplicas")
        || count(new, "availableReplicas") > count(old, "availableReplicas")
        || strategy_moved
}

/// Argo's `isIndefiniteStep`: waiting at a pause, analysis or experiment step is not a
/// lack of progress.
fn at_indefinite_step(spec: &Value, status: &Value) -> bool {
    let index = int_at(status, "currentStepIndex").unwrap_or(0).max(0) as usize;
    spec["strategy"]["canary"]["steps"]
        .get(index)
        .is_some_and(|step| {
            ["pause", "analysis", "experiment"]
                .iter()
                .any(|k| step.get(*k).is_some())
        })
}

/// Judge an update in flight from the status before (`old`) and after (`new`) this
/// reconcile. `progressing` is the Progressing condition as it stands, `replica_set` the
/// name of the update's ReplicaSet.
pub fn assess(
    spec: &Value,
    old: &Value,
    new: &Value,
    progressing: Option<&Value>,
    replica_set: &str,
    now: Timestamp,
) -> Assessment {
    let updated_message = format!("ReplicaSet \"{replica_set}\" is progressing.");
    let (reason, message) = progressing
        .map(|c| (str_at(c, "reason"), str_at(c, "message")))
        .unwrap_or(("", ""));
    let timed_out_before = reason == TIMED_OUT_REASON;
    // Simplified: Argo leaves other reasons (a resume, a retry) in place until the next
    // progress; the simulator starts the clock at once.
    let counting = (reason == UPDATED_REASON && message == updated_message) || timed_out_before;
    if !counting || made_progress(spec, old, new) {
        return Assessment::Progressing;
    }
    if at_indefinite_step(spec, new) {
        return Assessment::Waiting;
    }
    let deadline = int_at(spec, "progressDeadlineSeconds").unwrap_or(DEFAULT_DEADLINE_SECONDS);
    let last_update = progressing
        .map(|c| str_at(c, "lastUpdateTime"))
        .and_then(|t| t.parse::<Timestamp>().ok())
        .unwrap_or(now);
    if timed_out_before || now.as_second() - last_update.as_second() > deadline {
        Assessment::TimedOut(format!(
            "ReplicaSet \"{replica_set}\" has timed out progressing."
        ))
    } else {
        Assessment::Waiting
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn spec(deadline: i64) -> Value {
        json!({"progressDeadlineSeconds": deadline,
               "strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {}}]}}})
    }

    fn updated(at: &str) -> Value {
        json!({"type": "Progressing", "status": "True", "reason": UPDATED_REASON,
               "message": "ReplicaSet \"web-abc\" is progressing.", "lastUpdateTime": at})
    }

    #[test]
    fn an_update_without_progress_times_out_after_its_deadline() {
        let stuck = json!({"replicas": 11, "updatedReplicas": 1, "readyReplicas": 10, "availableReplicas": 10,
                           "currentStepIndex": 0, "stableRS": "old"});
        let at = |s: &str| s.parse::<Timestamp>().unwrap();
        let condition = updated("2030-01-01T00:00:00Z");
        let assess_at =
            |now: &str, c: &Value| assess(&spec(60), &stuck, &stuck, Some(c), "web-abc", at(now));
        assert_eq!(
            assess_at("2030-01-01T00:01:00Z", &condition),
            Assessment::Waiting
        );
        assert_eq!(
            assess_at("2030-01-01T00:01:01Z", &condition),
            Assessment::TimedOut("ReplicaSet \"web-abc\" has timed out progressing.".into())
        );
        let timed_out = json!({"reason": TIMED_OUT_REASON, "message": "m", "lastUpdateTime": "2030-01-01T00:00:00Z"});
        assert!(matches!(
            assess_at("2030-01-01T00:01:02Z", &timed_out),
            Assessment::TimedOut(_)
        ));
        // A pod becoming ready is progress, and so is a new update's first look.
        let ready = json!({"replicas": 11, "updatedReplicas": 1, "readyReplicas": 11, "availableReplicas": 10,
                           "currentStepIndex": 0, "stableRS": "old"});
        assert_eq!(
            assess(
                &spec(60),
                &stuck,
                &ready,
                Some(&timed_out),
                "web-abc",
                at("2030-01-01T01:00:00Z")
            ),
            Assessment::Progressing
        );
        assert_eq!(
            assess(
                &spec(60),
                &stuck,
                &stuck,
                None,
                "web-abc",
                at("2030-01-01T01:00:00Z")
            ),
            Assessment::Progressing
        );
        // Waiting at a pause step is not a lack of progress.
        let paused =
            json!({"replicas": 11, "updatedReplicas": 1, "currentStepIndex": 1, "stableRS": "old"});
        assert_eq!(
            assess(
                &spec(60),
                &paused,
                &paused,
                Some(&condition),
                "web-abc",
                at("2030-01-01T01:00:00Z")
            ),
            Assessment::Waiting
        );
    }
}
