//! A rollout's conditions (Available, Progressing, Paused, Completed, Healthy), phase and
//! message, as Argo's `calculateRolloutConditions` (rollout/sync.go) and
//! `CalculateRolloutPhase` set them; an update that times out with
//! `progressDeadlineAbort` set is aborted here.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::phase;
use super::progress::{self, Assessment};
use super::status::mark_aborted;
use crate::clock::rfc3339;
use crate::objects::{int_at, set_condition, str_at, truthy};

/// What the conditions are worked out from, besides the status.
pub(super) struct Inputs<'a> {
    pub rollout: &'a Value,
    /// The pod-template hash of the rollout's template.
    pub hash: &'a str,
    pub revision: u64,
    /// Why a step aborted the update in this round.
    pub abort_detail: Option<&'a str>,
}

/// Set the conditions, phase and message of `status`. Returns the message of an abort the
/// progress deadline made, for its event.
pub(super) fn set(inputs: Inputs, status: &mut Value, now: Timestamp) -> Option<String> {
    let spec = &inputs.rollout["spec"];
    let replicas = int_at(spec, "replicas").unwrap_or(1);
    let mut conditions: Vec<Value> = status["conditions"].as_array().cloned().unwrap_or_default();
    let paused = truthy(&spec["paused"])
        || status["pauseConditions"]
            .as_array()
            .is_some_and(|p| !p.is_empty());
    let promoted = str_at(status, "stableRS") == inputs.hash;
    let available = int_at(status, "availableReplicas").unwrap_or(0) >= replicas;
    let (truth, message) = if available {
        ("True", "Rollout has minimum availability")
    } else {
        ("False", "Rollout does not have minimum availability")
    };
    set_condition(
        &mut conditions,
        "Available",
        truth,
        "AvailableReason",
        message,
        now,
    );
    let deadline_abort = if truthy(&status["abort"]) {
        let message = abort_message(inputs.revision, inputs.abort_detail, &conditions);
        set_condition(
            &mut conditions,
            "Progressing",
            "False",
            "RolloutAborted",
            &message,
            now,
        );
        None
    } else if paused {
        set_condition(
            &mut conditions,
            "Progressing",
            "Unknown",
            "RolloutPaused",
            "Rollout is paused",
            now,
        );
        None
    } else if promoted && available {
        let name = str_at(inputs.rollout, "metadata.name");
        let message = format!("Rollout \"{name}\" has successfully progressed.");
        set_condition(
            &mut conditions,
            "Progressing",
            "True",
            "NewReplicaSetAvailable",
            &message,
            now,
        );
        None
    } else {
        update_in_flight(&inputs, status, &mut conditions, now)
    };
    if paused {
        set_condition(
            &mut conditions,
            "Paused",
            "True",
            "RolloutPaused",
            "Rollout is paused",
            now,
        );
    } else {
        conditions.retain(|c| c["type"] != "Paused");
    }
    let (revision, hash) = (inputs.revision, inputs.hash);
    if promoted {
        let message = format!("Rollout completed update to revision {revision} ({hash})");
        set_condition(
            &mut conditions,
            "Completed",
            "True",
            "RolloutCompleted",
            &message,
            now,
        );
    } else {
        let message =
            format!("Rollout not completed, started update to revision {revision} ({hash})");
        set_condition(
            &mut conditions,
            "Completed",
            "False",
            "RolloutNotCompleted",
            &message,
            now,
        );
    }
    // The phase is read from the conditions so far.
    status["conditions"] = json!(conditions);
    let (phase, message) = phase::rollout_phase(spec, status);
    if phase == "Healthy" {
        set_condition(
            &mut conditions,
            "Healthy",
            "True",
            "RolloutHealthy",
            "Rollout is healthy",
            now,
        );
    } else {
        set_condition(
            &mut conditions,
            "Healthy",
            "False",
            "RolloutHealthy",
            "Rollout is not healthy",
            now,
        );
    }
    status["conditions"] = json!(conditions);
    status["phase"] = json!(phase);
    status["message"] = json!(message);
    deadline_abort
}

/// The Progressing message of an aborted update: why a step aborted it in this round, or
/// else the message it already had.
fn abort_message(revision: u64, detail: Option<&str>, conditions: &[Value]) -> String {
    let base = format!("Rollout aborted update to revision {revision}");
    let existing = conditions
        .iter()
        .find(|c| c["type"] == "Progressing" && c["reason"] == "RolloutAborted")
        .map(|c| str_at(c, "message"));
    match (detail, existing) {
        (Some(detail), _) if !detail.is_empty() => format!("{base}: {detail}"),
        (_, Some(existing)) => existing.to_string(),
        _ => base,
    }
}

/// The Progressing condition of an update in flight, judged against its progress deadline;
/// a timed-out update with `progressDeadlineAbort` is aborted (the next round scales it
/// down), and the abort's message returned.
fn update_in_flight(
    inputs: &Inputs,
    status: &mut Value,
    conditions: &mut Vec<Value>,
    now: Timestamp,
) -> Option<String> {
    let rollout = inputs.rollout;
    let replica_set = format!("{}-{}", str_at(rollout, "metadata.name"), inputs.hash);
    let current = conditions.iter().find(|c| c["type"] == "Progressing");
    let assessment = progress::assess(
        &rollout["spec"],
        &rollout["status"],
        status,
        current,
        &replica_set,
        now,
    );
    match assessment {
        Assessment::Progressing => {
            let message = format!("ReplicaSet \"{replica_set}\" is progressing.");
            set_condition(
                conditions,
                "Progressing",
                "True",
                progress::UPDATED_REASON,
                &message,
                now,
            );
            // Progress starts the deadline over, even when the words stay the same.
            if let Some(c) = conditions.iter_mut().find(|c| c["type"] == "Progressing") {
                c["lastUpdateTime"] = json!(rfc3339(now));
            }
            None
        }
        Assessment::TimedOut(message) => {
            set_condition(
                conditions,
                "Progressing",
                "False",
                progress::TIMED_OUT_REASON,
                &message,
                now,
            );
            if !truthy(&rollout["spec"]["progressDeadlineAbort"]) {
                return None;
            }
            status["abort"] = json!(true);
            mark_aborted(status, now);
            Some(message)
        }
        Assessment::Waiting => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(second).unwrap()
    }

    fn rollout(spec: Value, status: Value) -> Value {
        json!({"metadata": {"name": "web"}, "spec": spec, "status": status})
    }

    fn condition<'a>(status: &'a Value, kind: &str) -> Option<(&'a str, &'a str, &'a str)> {
        status["conditions"]
            .as_array()?
            .iter()
            .find(|c| c["type"] == kind)
            .map(|c| {
                (
                    str_at(c, "status"),
                    str_at(c, "reason"),
                    str_at(c, "message"),
                )
            })
    }

    fn set_for(rollout: &Value, status: &mut Value, detail: Option<&str>) -> Option<String> {
        let inputs = Inputs {
            rollout,
            hash: "new",
            revision: 3,
            abort_detail: detail,
        };
        set(inputs, status, at(100))
    }

    #[test]
    fn a_completed_update_is_available_progressed_completed_and_healthy() {
        let spec = json!({"replicas": 2, "strategy": {"canary": {}}});
        let r = rollout(spec, json!({}));
        let mut status = json!({"stableRS": "new", "currentPodHash": "new", "replicas": 2,
                                "updatedReplicas": 2, "availableReplicas": 2});
        assert_eq!(set_for(&r, &mut status, None), None);
        assert_eq!(
            condition(&status, "Available"),
            Some((
                "True",
                "AvailableReason",
                "Rollout has minimum availability"
            ))
        );
        assert_eq!(
            condition(&status, "Progressing"),
            Some((
                "True",
                "NewReplicaSetAvailable",
                "Rollout \"web\" has successfully progressed."
            ))
        );
        assert_eq!(condition(&status, "Paused"), None);
        assert_eq!(
            condition(&status, "Completed"),
            Some((
                "True",
                "RolloutCompleted",
                "Rollout completed update to revision 3 (new)"
            ))
        );
        assert_eq!(
            condition(&status, "Healthy"),
            Some(("True", "RolloutHealthy", "Rollout is healthy"))
        );
        assert_eq!(
            (&status["phase"], &status["message"]),
            (&json!("Healthy"), &json!(""))
        );
    }

    #[test]
    fn a_paused_update_is_progressing_unknown_and_paused() {
        let spec = json!({"replicas": 2, "strategy": {"canary": {}}});
        let r = rollout(spec, json!({}));
        let mut status = json!({"stableRS": "old", "availableReplicas": 2,
                                "pauseConditions": [{"reason": "CanaryPauseStep"}]});
        set_for(&r, &mut status, None);
        assert_eq!(
            condition(&status, "Progressing"),
            Some(("Unknown", "RolloutPaused", "Rollout is paused"))
        );
        assert_eq!(
            condition(&status, "Paused"),
            Some(("True", "RolloutPaused", "Rollout is paused"))
        );
        assert_eq!(
            condition(&status, "Completed"),
            Some((
                "False",
                "RolloutNotCompleted",
                "Rollout not completed, started update to revision 3 (new)"
            ))
        );
        assert_eq!(status["phase"], json!("Paused"));
        assert_eq!(
            condition(&status, "Healthy"),
            Some(("False", "RolloutHealthy", "Rollout is not healthy"))
        );
        // Resumed: the Paused condition goes.
        status["pauseConditions"] = json!([]);
        set_for(&r, &mut status, None);
        assert_eq!(condition(&status, "Paused"), None);
    }

    #[test]
    fn an_abort_says_why_and_keeps_saying_it() {
        let r = rollout(
            json!({"replicas": 2, "strategy": {"canary": {}}}),
            json!({}),
        );
        let mut status = json!({"stableRS": "old", "abort": true, "availableReplicas": 1});
        set_for(
            &r,
            &mut status,
            Some("Metric \"success-rate\" assessed Failed"),
        );
        let aborted = (
            "False",
            "RolloutAborted",
            "Rollout aborted update to revision 3: Metric \"success-rate\" assessed Failed",
        );
        assert_eq!(condition(&status, "Progressing"), Some(aborted));
        assert_eq!(
            condition(&status, "Available"),
            Some((
                "False",
                "AvailableReason",
                "Rollout does not have minimum availability"
            ))
        );
        set_for(&r, &mut status, None);
        assert_eq!(condition(&status, "Progressing"), Some(aborted));
        assert_eq!(status["phase"], json!("Degraded"));
        assert_eq!(
            abort_message(3, Some(""), &[]),
            "Rollout aborted update to revision 3"
        );
    }

    #[test]
    fn an_update_past_its_deadline_times_out_and_aborts_when_asked_to() {
        let spec = json!({"replicas": 2, "progressDeadlineSeconds": 30, "progressDeadlineAbort": true,
                          "strategy": {"canary": {"steps": [{"setWeight": 50}]}}});
        let stuck = json!({"stableRS": "old", "currentStepIndex": 0, "replicas": 3,
                           "updatedReplicas": 1, "availableReplicas": 2,
                           "conditions": [{"type": "Progressing", "status": "True",
                                           "reason": "ReplicaSetUpdated",
                                           "message": "ReplicaSet \"web-new\" is progressing.",
                                           "lastUpdateTime": "1970-01-01T00:01:00Z"}]});
        let r = rollout(spec.clone(), stuck.clone());
        let mut status = stuck.clone();
        let timed_out = "ReplicaSet \"web-new\" has timed out progressing.";
        assert_eq!(set_for(&r, &mut status, None).as_deref(), Some(timed_out));
        assert_eq!(
            condition(&status, "Progressing"),
            Some(("False", "ProgressDeadlineExceeded", timed_out))
        );
        assert_eq!(status["abort"], json!(true));
        assert_eq!(status["abortedAt"], json!("1970-01-01T00:01:40Z"));
        assert_eq!(status["duration"]["completionStatus"], json!("Aborted"));
        // Without progressDeadlineAbort it only times out.
        let mut spec = spec;
        spec["progressDeadlineAbort"] = json!(false);
        let r = rollout(spec, stuck.clone());
        let mut status = stuck;
        assert_eq!(set_for(&r, &mut status, None), None);
        assert!(status["abort"].is_null());
        assert_eq!(status["phase"], json!("Degraded"));
    }
}
