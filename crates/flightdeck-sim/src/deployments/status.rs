//! A Deployment's status as Kubernetes' controller writes it (`calculateStatus`,
//! `syncRolloutStatus`, `checkPausedConditions`): the counts from its ReplicaSets, the
//! `Available` condition against `maxUnavailable`, and the `Progressing` condition with
//! its reasons and the progress deadline.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::clock::rfc3339;
use crate::objects::{int_at, str_at};
use crate::replica_sets::Set;

pub const PROGRESS_DEADLINE_EXCEEDED: &str = "ProgressDeadlineExceeded";
const NEW_REPLICA_SET_AVAILABLE: &str = "NewReplicaSetAvailable";

/// The status after this round: `new` is the ReplicaSet of the current template (none
/// while paused before one was made), `created` its name if it was made just now.
pub fn next(
    d: &Value,
    sets: &[Set],
    new: Option<&Set>,
    created: Option<&str>,
    max_unavailable: i64,
    now: Timestamp,
) -> Value {
    let before = &d["status"];
    let sum = |field: &str| sets.iter().map(|s| s.count(field)).sum::<i64>();
    let desired: i64 = sets.iter().map(Set::desired).sum();
    let available = sum("availableReplicas");
    let mut status = json!({
        "observedGeneration": d["metadata"]["generation"],
        "replicas": sum("replicas"),
        "updatedReplicas": new.map_or(0, |s| s.count("replicas")),
        "readyReplicas": sum("readyReplicas"),
        "availableReplicas": available,
        "unavailableReplicas": (desired - available).max(0),
    });
    let mut conditions = before["conditions"].as_array().cloned().unwrap_or_default();
    let name = new.map_or("", |s| s.key.name.as_str());
    let at = (rfc3339(now), now);
    update_conditions(
        d,
        &status,
        &mut conditions,
        (name, created),
        max_unavailable,
        at,
    );
    status["conditions"] = json!(conditions);
    status
}

fn update_conditions(
    d: &Value,
    status: &Value,
    conditions: &mut Vec<Value>,
    (name, created): (&str, Option<&str>),
    max_unavailable: i64,
    (time, now): (String, Timestamp),
) {
    let before = &d["status"];
    let replicas = int_at(d, "spec.replicas").unwrap_or(1);
    let available = int_at(status, "availableReplicas").unwrap_or(0);
    let available_now = if available >= replicas - max_unavailable {
        (
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
        )
    } else {
        (
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
        )
    };
    set(conditions, "Available", available_now, &time);
    let progressing = condition(conditions, "Progressing").cloned();
    let reason = progressing.as_ref().map_or("", |c| str_at(c, "reason"));
    if d["spec"]["paused"] == true {
        if reason != "DeploymentPaused" {
            set(
                conditions,
                "Progressing",
                ("Unknown", "DeploymentPaused", "Deployment is paused"),
                &time,
            );
        }
        return;
    }
    if reason == "DeploymentPaused" {
        set(
            conditions,
            "Progressing",
            ("Unknown", "DeploymentResumed", "Deployment is resumed"),
            &time,
        );
    }
    if let Some(created) = created {
        let message = format!("Created new replica set \"{created}\"");
        set(
            conditions,
            "Progressing",
            ("True", "NewReplicaSetCreated", &message),
            &time,
        );
    } else if condition(conditions, "Progressing").is_none() && !name.is_empty() {
        let message = format!("Found new replica set \"{name}\"");
        set(
            conditions,
            "Progressing",
            ("True", "FoundNewReplicaSet", &message),
            &time,
        );
    }
    let progressing = condition(conditions, "Progressing").cloned();
    let reason = progressing.as_ref().map_or("", |c| str_at(c, "reason"));
    let settled =
        status["replicas"] == status["updatedReplicas"] && reason == NEW_REPLICA_SET_AVAILABLE;
    if settled {
        return;
    }
    if complete(d, status) {
        let message = format!("ReplicaSet \"{name}\" has successfully progressed.");
        set(
            conditions,
            "Progressing",
            ("True", NEW_REPLICA_SET_AVAILABLE, &message),
            &time,
        );
    } else if progressed(before, status) {
        // Progress moves the deadline: the condition is written anew, its transition kept.
        let message = format!("ReplicaSet \"{name}\" is progressing.");
        let since = progressing
            .as_ref()
            .filter(|c| c["status"] == "True")
            .map_or(json!(time), |c| c["lastTransitionTime"].clone());
        conditions.retain(|c| c["type"] != "Progressing");
        conditions.push(json!({"type": "Progressing", "status": "True",
            "reason": "ReplicaSetUpdated", "message": message,
            "lastUpdateTime": time, "lastTransitionTime": since}));
    } else if timed_out(d, progressing.as_ref(), now) {
        let message = format!("ReplicaSet \"{name}\" has timed out progressing.");
        set(
            conditions,
            "Progressing",
            ("False", PROGRESS_DEADLINE_EXCEEDED, &message),
            &time,
        );
    }
}

/// `DeploymentComplete`: every pod of the current template there and available, and no
/// other.
pub fn complete(d: &Value, status: &Value) -> bool {
    let replicas = int_at(d, "spec.replicas").unwrap_or(1);
    let count = |f: &str| int_at(status, f).unwrap_or(0);
    count("updatedReplicas") == replicas
        && count("replicas") == replicas
        && count("availableReplicas") == replicas
        && count("observedGeneration") >= int_at(d, "metadata.generation").unwrap_or(0)
}

/// `DeploymentProgressing`: more pods updated, ready or available, or fewer old ones.
fn progressed(before: &Value, after: &Value) -> bool {
    let at = |s: &Value, f: &str| int_at(s, f).unwrap_or(0);
    let old = |s: &Value| at(s, "replicas") - at(s, "updatedReplicas");
    at(after, "updatedReplicas") > at(before, "updatedReplicas")
        || old(after) < old(before)
        || at(after, "readyReplicas") > at(before, "readyReplicas")
        || at(after, "availableReplicas") > at(before, "availableReplicas")
}

/// `DeploymentTimedOut`: no progress for `progressDeadlineSeconds` (the API's default
/// 600) since the condition was last written; once timed out, it stays so.
fn timed_out(d: &Value, progressing: Option<&Value>, now: Timestamp) -> bool {
    let Some(c) = progressing else { return false };
    match str_at(c, "reason") {
        NEW_REPLICA_SET_AVAILABLE => false,
        PROGRESS_DEADLINE_EXCEEDED => true,
        _ => {
            let deadline = int_at(d, "spec.progressDeadlineSeconds").unwrap_or(600);
            str_at(c, "lastUpdateTime")
                .parse::<Timestamp>()
                .is_ok_and(|from| now > from + SignedDuration::from_secs(deadline))
        }
    }
}

fn condition<'a>(conditions: &'a [Value], kind: &str) -> Option<&'a Value> {
    conditions.iter().find(|c| c["type"] == kind)
}

/// `SetDeploymentCondition`: the same status and reason change nothing; the same status
/// keeps its transition time.
fn set(
    conditions: &mut Vec<Value>,
    kind: &str,
    (status, reason, message): (&str, &str, &str),
    time: &str,
) {
    let current = condition(conditions, kind);
    if current.is_some_and(|c| c["status"] == status && c["reason"] == reason) {
        return;
    }
    let since = current
        .filter(|c| c["status"] == status)
        .map_or(json!(time), |c| c["lastTransitionTime"].clone());
    conditions.retain(|c| c["type"] != kind);
    conditions.push(json!({"type": kind, "status": status, "reason": reason,
        "message": message, "lastUpdateTime": time, "lastTransitionTime": since}));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(1_000_000 + second).unwrap()
    }

    /// A ReplicaSet `name` asked for `desired` pods, `running` of them started and
    /// `ready` of those up.
    fn set(name: &str, (desired, running, ready): (i64, i64, i64)) -> Set {
        Set::new(json!({"metadata": {"name": name, "namespace": "shop"},
                        "spec": {"replicas": desired},
                        "status": {"replicas": running, "readyReplicas": ready,
                                   "availableReplicas": ready}}))
    }

    fn web(status: Value) -> Value {
        json!({"metadata": {"name": "web", "generation": 2},
               "spec": {"replicas": 2, "progressDeadlineSeconds": 60},
               "status": status})
    }

    fn reason(status: &Value) -> &str {
        let conditions = status["conditions"].as_array().unwrap();
        let c = conditions
            .iter()
            .find(|c| c["type"] == "Progressing")
            .unwrap();
        str_at(c, "reason")
    }

    #[test]
    fn progressing_moves_through_kubernetes_reasons_to_the_deadline() {
        // A new ReplicaSet made for a new template, no pod of it started yet.
        let sets = [set("web-a", (2, 2, 2)), set("web-b", (1, 0, 0))];
        let settled = json!({"replicas": 2, "updatedReplicas": 2, "readyReplicas": 2,
                             "availableReplicas": 2});
        let s = next(
            &web(settled),
            &sets,
            Some(&sets[1]),
            Some("web-b"),
            0,
            at(0),
        );
        assert_eq!(reason(&s), "NewReplicaSetCreated");
        assert_eq!(
            (&s["replicas"], &s["updatedReplicas"]),
            (&json!(2), &json!(0))
        );
        assert_eq!(s["unavailableReplicas"], json!(1));
        // Its pod started: progress, ReplicaSetUpdated.
        let sets = [set("web-a", (2, 2, 2)), set("web-b", (1, 1, 0))];
        let s = next(&web(s), &sets, Some(&sets[1]), None, 0, at(10));
        assert_eq!(reason(&s), "ReplicaSetUpdated");
        // No progress for longer than the deadline: ProgressDeadlineExceeded, and it stays.
        let stuck = next(&web(s.clone()), &sets, Some(&sets[1]), None, 0, at(30));
        assert_eq!(reason(&stuck), "ReplicaSetUpdated");
        let stuck = next(&web(stuck), &sets, Some(&sets[1]), None, 0, at(71));
        assert_eq!(reason(&stuck), PROGRESS_DEADLINE_EXCEEDED);
        let still = next(&web(stuck), &sets, Some(&sets[1]), None, 0, at(80));
        assert_eq!(reason(&still), PROGRESS_DEADLINE_EXCEEDED);
        // Every pod on the new ReplicaSet and available: NewReplicaSetAvailable.
        let sets = [set("web-a", (0, 0, 0)), set("web-b", (2, 2, 2))];
        let s = next(&web(s), &sets, Some(&sets[1]), None, 0, at(20));
        assert_eq!(reason(&s), NEW_REPLICA_SET_AVAILABLE);
        assert!(complete(&web(s.clone()), &s));
    }

    #[test]
    fn a_paused_deployment_says_so_and_resumed_says_that() {
        let sets = [set("web-a", (2, 2, 2))];
        let mut paused = web(json!({}));
        paused["spec"]["paused"] = json!(true);
        let s = next(&paused, &sets, Some(&sets[0]), None, 0, at(0));
        assert_eq!(reason(&s), "DeploymentPaused");
        let s = next(&web(s), &sets, Some(&sets[0]), None, 0, at(5));
        assert_ne!(reason(&s), "DeploymentPaused");
        let conditions = s["conditions"].as_array().unwrap();
        let available = conditions.iter().find(|c| c["type"] == "Available");
        assert_eq!(available.unwrap()["status"], "True");
    }
}
