//! The status fields the controller keeps besides conditions and steps: the replica counts
//! from the ReplicaSets, the selector and observed generation, how long the update took and
//! how it ended (`status.duration`), and the marks of a promotion or an abort.

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::rollout::{ROLLOUT_REQUESTS, Round};
use super::traffic_routing;
use crate::clock::rfc3339;
use crate::objects::{int_at, remove, str_at, truthy};

/// The counts Argo's `calculateBaseStatus` sums over the ReplicaSets (the `expired` ones,
/// about to be deleted, left out), the selector and the generation observed.
pub(super) fn count_replicas(round: &mut Round, expired: &[usize]) {
    let sets = &round.sets;
    let sum = |field: &str| {
        sets.iter()
            .enumerate()
            .filter(|(i, _)| !expired.contains(i))
            .map(|(_, s)| s.count(field))
            .sum::<i64>()
    };
    let status = &mut round.status;
    status["replicas"] = json!(sum("replicas"));
    status["HPAReplicas"] = json!(sum("replicas"));
    status["readyReplicas"] = json!(sum("readyReplicas"));
    status["availableReplicas"] = json!(sum("availableReplicas"));
    status["updatedReplicas"] = json!(
        sets.iter()
            .find(|s| s.hash() == round.hash)
            .map(|s| s.count("replicas"))
            .unwrap_or(0)
    );
    let rollout = round.rollout;
    let selector: Vec<String> = rollout["spec"]["selector"]["matchLabels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default();
    status["selector"] = json!(selector.join(","));
    status["observedGeneration"] = json!(
        int_at(rollout, "metadata.generation")
            .unwrap_or(1)
            .to_string()
    );
}

/// `status.duration`'s account of the user's pauses (`spec.paused`): when the current one
/// began, and the seconds of those that ended.
pub(super) fn manual_pause_duration(status: &mut Value, paused: bool, now: Timestamp) {
    let duration = &mut status["duration"];
    if !duration.is_object() {
        *duration = json!({});
    }
    let started = duration["manualPauseStartedAt"]
        .as_str()
        .and_then(|s| s.parse::<Timestamp>().ok());
    match (paused, started) {
        (true, None) => duration["manualPauseStartedAt"] = json!(rfc3339(now)),
        (false, Some(since)) => {
            let total = int_at(duration, "totalManualPauseDurationSeconds").unwrap_or(0)
                + (now.as_second() - since.as_second());
            duration["totalManualPauseDurationSeconds"] = json!(total);
            remove(duration, "manualPauseStartedAt");
        }
        _ => {}
    }
    if duration.as_object().is_some_and(Map::is_empty) {
        remove(status, "duration");
    }
}

/// The update `hash` becomes stable: its requests are done with, a ping-pong canary's
/// services swap roles, and the update's duration ends, Succeeded.
pub(super) fn mark_promoted(status: &mut Value, spec: &Value, hash: &str, now: Timestamp) {
    status["stableRS"] = json!(hash);
    if traffic_routing::ping_pong(spec) {
        let stable_service = str_at(status, "canary.stablePingPong").to_string();
        status["canary"]["stablePingPong"] = json!(traffic_routing::swapped(&stable_service));
    }
    for field in ROLLOUT_REQUESTS {
        remove(status, field);
    }
    status["duration"]["finishedAt"] = json!(rfc3339(now));
    status["duration"]["completionStatus"] = json!("Succeeded");
}

/// An abort seen for the first time is stamped, and ends the update's duration. Says
/// whether it was new.
pub(super) fn mark_aborted(status: &mut Value, now: Timestamp) -> bool {
    if !truthy(&status["abort"]) || !status["abortedAt"].is_null() {
        return false;
    }
    status["abortedAt"] = json!(rfc3339(now));
    status["duration"]["finishedAt"] = json!(rfc3339(now));
    status["duration"]["completionStatus"] = json!("Aborted");
    true
}

#[cfg(test)]
mod tests {
    use super::super::tests::read_set;
    use super::*;

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(second).unwrap()
    }

    #[test]
    fn counts_sum_the_replica_sets_kept_and_the_update_counts_as_updated() {
        let rollout = json!({"metadata": {"generation": 4},
                             "spec": {"selector": {"matchLabels": {"app": "web", "tier": "front"}}}});
        let mut round = Round {
            rollout: &rollout,
            hash: "new".into(),
            revision: 3,
            status: json!({}),
            sets: vec![
                read_set("stable", 2, 8, 8),
                read_set("new", 3, 2, 1),
                read_set("gone", 1, 5, 5),
            ],
        };
        count_replicas(&mut round, &[2]);
        assert_eq!(
            round.status,
            json!({"replicas": 10, "HPAReplicas": 10, "readyReplicas": 9, "availableReplicas": 9,
                   "updatedReplicas": 2, "selector": "app=web,tier=front", "observedGeneration": "4"})
        );
    }

    #[test]
    fn manual_pauses_are_timed_and_their_seconds_added_up() {
        let mut status = json!({});
        manual_pause_duration(&mut status, false, at(0));
        assert_eq!(status, json!({}), "no duration without one to tell");
        manual_pause_duration(&mut status, true, at(100));
        assert_eq!(
            status["duration"],
            json!({"manualPauseStartedAt": "1970-01-01T00:01:40Z"})
        );
        manual_pause_duration(&mut status, true, at(120));
        manual_pause_duration(&mut status, false, at(130));
        assert_eq!(
            status["duration"],
            json!({"totalManualPauseDurationSeconds": 30})
        );
        manual_pause_duration(&mut status, true, at(200));
        manual_pause_duration(&mut status, false, at(210));
        assert_eq!(
            status["duration"],
            json!({"totalManualPauseDurationSeconds": 40})
        );
    }

    #[test]
    fn a_promotion_makes_the_update_stable_and_swaps_ping_pong_services() {
        let spec =
            json!({"strategy": {"canary": {"pingPong": {"pingService": "a", "pongService": "b"}}}});
        let mut status = json!({"stableRS": "old", "pauseConditions": [], "controllerPause": true,
                                "abort": true, "abortedAt": "x", "promoteFull": true,
                                "canary": {"stablePingPong": "ping"},
                                "duration": {"rolloutStartedAt": "1970-01-01T00:00:00Z"}});
        mark_promoted(&mut status, &spec, "new", at(60));
        assert_eq!(
            status,
            json!({"stableRS": "new", "canary": {"stablePingPong": "pong"},
                   "duration": {"rolloutStartedAt": "1970-01-01T00:00:00Z",
                                "finishedAt": "1970-01-01T00:01:00Z", "completionStatus": "Succeeded"}})
        );
    }

    #[test]
    fn an_abort_is_stamped_once() {
        let mut status = json!({"abort": true});
        assert!(mark_aborted(&mut status, at(60)));
        assert_eq!(
            status,
            json!({"abort": true, "abortedAt": "1970-01-01T00:01:00Z",
                   "duration": {"finishedAt": "1970-01-01T00:01:00Z", "completionStatus": "Aborted"}})
        );
        assert!(!mark_aborted(&mut status, at(90)));
        assert_eq!(status["abortedAt"], json!("1970-01-01T00:01:00Z"));
        assert!(!mark_aborted(&mut json!({}), at(90)));
    }
}
