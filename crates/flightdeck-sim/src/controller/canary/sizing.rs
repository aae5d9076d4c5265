//! The ReplicaSet sizes and traffic weights a canary's step in force implies (Argo's
//! utils/replicaset/canary.go), whether a `setWeight` step has reached them, and when the
//! update is promoted past its last step.

use serde_json::Value;

use super::super::rollout::{Decision, Round};
use super::super::traffic_routing;
use super::{steps, traffic_routed};
use crate::objects::truthy;
use crate::replica_sets::Set;

/// `setWeight` in force at step `index` (Argo's `GetCurrentSetWeight`): the last one at or
/// before it, 0 before the first, 100 past the last step.
fn set_weight(steps: &[Value], index: usize) -> i64 {
    if index >= steps.len() {
        return 100;
    }
    steps[..=index]
        .iter()
        .rev()
        .find_map(|s| s["setWeight"].as_i64())
        .unwrap_or(0)
}

/// (stable, canary) ReplicaSet sizes for a canary at `weight` percent (Argo's
/// `DesiredReplicaCountsForCanary`). Both round up, so that each side keeps a pod at any
/// weight between 0 and 100; a traffic-routed canary keeps stable at full size until the
/// update is promoted.
fn replica_counts(replicas: i64, weight: i64, traffic_routed: bool) -> (i64, i64) {
    let share = |percent: i64| (replicas * percent + 99) / 100;
    let stable = if traffic_routed {
        replicas
    } else {
        share(100 - weight)
    };
    (stable, share(weight))
}

/// Whether a `setWeight` step has reached its sizes: the canary's ReplicaSet asks for
/// `canary` pods and has them all available, and stable has its `stable` available.
fn weight_reached(
    sets: &[Set],
    stable_hash: &str,
    canary_hash: &str,
    (stable, canary): (i64, i64),
) -> bool {
    let available = |hash: &str| {
        sets.iter()
            .find(|s| s.hash() == hash)
            .map(|s| s.count("availableReplicas"))
            .unwrap_or(0)
    };
    available(canary_hash) == canary
        && sets
            .iter()
            .find(|s| s.hash() == canary_hash)
            .is_some_and(|s| s.desired() == canary)
        && (stable == 0 || available(stable_hash) >= stable)
}

/// Whether the canary's ReplicaSets have reached the sizes of its `setWeight: weight` step.
pub(super) fn at_weight(round: &Round, weight: i64) -> bool {
    let spec = &round.rollout["spec"];
    let counts = replica_counts(round.replicas(), weight, traffic_routed(spec));
    weight_reached(&round.sets, &round.stable(), &round.hash, counts)
}

/// Argo's `shouldFullPromote` for a canary: the update is past its last step, not aborted,
/// and all of its pods are available.
fn all_steps_complete(
    index: usize,
    n: usize,
    aborted: bool,
    available: i64,
    replicas: i64,
) -> bool {
    !aborted && index >= n && available >= replicas
}

/// ReplicaSet sizes by pod-template hash: all for the update once it is stable or
/// promoted, else split between stable and the update at `weight`.
fn desired(
    stable: &str,
    hash: &str,
    replicas: i64,
    weight: i64,
    traffic_routed: bool,
    promoted: bool,
) -> Vec<(String, i64)> {
    if stable == hash || promoted {
        return vec![(hash.to_string(), replicas)];
    }
    let (stable_count, canary_count) = replica_counts(replicas, weight, traffic_routed);
    vec![
        (stable.to_string(), stable_count),
        (hash.to_string(), canary_count),
    ]
}

/// The weight a traffic-routed canary serves: Argo sends it no traffic until one of its
/// pods is available, nor once it is promoted (it is stable's then).
fn routed_weight(weight: i64, promoted: bool, available: i64) -> i64 {
    if promoted || available == 0 {
        0
    } else {
        weight
    }
}

/// Size the ReplicaSets and set the traffic weights for step `index`, and promote the
/// update once it is past its last step with all of its pods available.
pub(super) fn size_for_step(round: &mut Round, decision: &mut Decision, index: usize) {
    let spec = &round.rollout["spec"];
    let steps = steps(spec);
    let n = steps.len();
    let (hash, stable) = (round.hash.clone(), round.stable());
    let aborted = truthy(&round.status["abort"]);
    let weight = if stable == hash || aborted {
        0
    } else {
        set_weight(steps, index)
    };
    let replicas = round.replicas();
    let available = round.available(&hash);
    if stable != hash && all_steps_complete(index, n, aborted, available, replicas) {
        decision.promote_reason = Some(format!("Completed all {n} canary steps"));
    }
    let promoted = decision.promote_reason.is_some();
    let routed = traffic_routed(spec);
    decision.desired = desired(&stable, &hash, replicas, weight, routed, promoted);
    if routed {
        let canary = traffic_routing::Destination {
            hash: &hash,
            weight: routed_weight(weight, promoted, available),
        };
        let stable_hash = if promoted { &hash } else { &stable };
        let additional = decision
            .experiment
            .as_ref()
            .map(|e| e.weights.as_slice())
            .unwrap_or(&[]);
        round.status["canary"]["weights"] =
            traffic_routing::weights(spec, &round.status, canary, stable_hash, additional);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::super::tests::read_set;
    use super::*;
    use crate::experiments;

    fn steps_of(steps: Value) -> Vec<Value> {
        steps.as_array().unwrap().clone()
    }

    #[test]
    fn the_weight_in_force_is_the_last_set_weight_at_or_before_the_step() {
        let steps = steps_of(
            json!([{"pause": {}}, {"setWeight": 20}, {"pause": {"duration": "1m"}},
                                    {"analysis": {}}, {"setWeight": 60}]),
        );
        let weights: Vec<i64> = (0..=5).map(|i| set_weight(&steps, i)).collect();
        assert_eq!(weights, [0, 20, 20, 20, 60, 100]);
        assert_eq!(set_weight(&[], 0), 100);
    }

    #[test]
    fn a_weight_rounds_the_canary_up_and_a_routed_canary_keeps_stable_whole() {
        assert_eq!(replica_counts(10, 20, false), (8, 2));
        assert_eq!(replica_counts(5, 20, false), (4, 1));
        // Both sides round up (Argo's DesiredReplicaCountsForCanary): between 0 and 100
        // each keeps a pod, one more than `replicas` when the weight does not divide them.
        assert_eq!(replica_counts(10, 1, false), (10, 1));
        assert_eq!(replica_counts(5, 50, false), (3, 3));
        assert_eq!(replica_counts(3, 80, false), (1, 3));
        assert_eq!(replica_counts(12, 20, false), (10, 3));
        assert_eq!(replica_counts(10, 0, false), (10, 0));
        assert_eq!(replica_counts(10, 100, false), (0, 10));
        assert_eq!(replica_counts(10, 20, true), (10, 2));
        assert_eq!(replica_counts(4, 50, true), (4, 2));
    }

    #[test]
    fn a_weight_step_completes_when_both_sides_have_their_pods_available() {
        let counts = replica_counts(10, 20, false);
        let at_weight = [read_set("old", 1, 8, 8), read_set("new", 2, 2, 2)];
        assert!(weight_reached(&at_weight, "old", "new", counts));
        let canary_starting = [read_set("old", 1, 8, 8), read_set("new", 2, 2, 1)];
        assert!(!weight_reached(&canary_starting, "old", "new", counts));
        let not_yet_scaled = [read_set("old", 1, 10, 10), read_set("new", 2, 1, 1)];
        assert!(!weight_reached(&not_yet_scaled, "old", "new", counts));
        let stable_short = [read_set("old", 1, 8, 7), read_set("new", 2, 2, 2)];
        assert!(!weight_reached(&stable_short, "old", "new", counts));
        // Stable with nothing left to serve is not waited for.
        let all_canary = [read_set("new", 2, 10, 10)];
        assert!(weight_reached(
            &all_canary,
            "old",
            "new",
            replica_counts(10, 100, false)
        ));
    }

    #[test]
    fn the_update_is_promoted_past_its_last_step_once_all_its_pods_are_available() {
        assert!(all_steps_complete(4, 4, false, 10, 10));
        assert!(!all_steps_complete(3, 4, false, 10, 10));
        assert!(!all_steps_complete(4, 4, false, 9, 10));
        assert!(!all_steps_complete(4, 4, true, 10, 10));
        assert!(all_steps_complete(0, 0, false, 3, 3), "no steps at all");
    }

    #[test]
    fn sizes_split_at_the_weight_until_the_update_is_stable_or_promoted() {
        let sizes = |weight, routed, promoted| desired("old", "new", 10, weight, routed, promoted);
        let pair = |s: i64, c: i64| vec![("old".to_string(), s), ("new".to_string(), c)];
        assert_eq!(sizes(30, false, false), pair(7, 3));
        assert_eq!(sizes(30, true, false), pair(10, 3));
        // Aborted: the weight is 0.
        assert_eq!(sizes(0, false, false), pair(10, 0));
        assert_eq!(sizes(100, true, true), vec![("new".to_string(), 10)]);
        assert_eq!(
            desired("new", "new", 10, 0, true, false),
            vec![("new".to_string(), 10)]
        );
    }

    fn round_at<'a>(rollout: &'a Value, status: Value, sets: Vec<Set>) -> Round<'a> {
        Round {
            rollout,
            hash: "new".into(),
            revision: 2,
            status,
            sets,
        }
    }

    #[test]
    fn a_basic_canary_is_sized_for_the_weight_in_force_and_promoted_past_its_steps() {
        let rollout = json!({"spec": {"replicas": 10, "strategy": {"canary": {
            "steps": [{"setWeight": 20}, {"pause": {}}, {"setWeight": 60}]}}}});
        let sets = || vec![read_set("old", 1, 8, 8), read_set("new", 2, 2, 2)];
        let mut round = round_at(&rollout, json!({"stableRS": "old"}), sets());
        let mut decision = Decision::default();
        size_for_step(&mut round, &mut decision, 1);
        assert_eq!(
            decision.desired,
            [("old".to_string(), 8), ("new".to_string(), 2)]
        );
        assert_eq!(decision.promote_reason, None);
        assert!(round.status["canary"]["weights"].is_null());
        // Past the last step, but the canary still has pods to bring up.
        size_for_step(&mut round, &mut decision, 3);
        assert_eq!(decision.promote_reason, None);
        let sets = vec![read_set("old", 1, 0, 0), read_set("new", 2, 10, 10)];
        let mut round = round_at(&rollout, json!({"stableRS": "old"}), sets);
        size_for_step(&mut round, &mut decision, 3);
        assert_eq!(
            decision.promote_reason.as_deref(),
            Some("Completed all 3 canary steps")
        );
        assert_eq!(decision.desired, [("new".to_string(), 10)]);
    }

    #[test]
    fn a_routed_canary_shares_its_weight_with_a_running_experiment_and_none_once_aborted() {
        let rollout = json!({"spec": {"replicas": 4, "strategy": {"canary": {
            "stableService": "web-stable", "canaryService": "web-canary",
            "trafficRouting": {"istio": {}},
            "steps": [{"setWeight": 20}, {"experiment": {}}]}}}});
        let sets = || vec![read_set("old", 1, 4, 4), read_set("new", 2, 1, 1)];
        let mut round = round_at(&rollout, json!({"stableRS": "old"}), sets());
        let mut decision = Decision {
            experiment: Some(experiments::Current {
                name: "web-new-2-1".into(),
                phase: "Running".into(),
                message: String::new(),
                weights: vec![json!({"podTemplateHash": "base", "weight": 5})],
                images: Vec::new(),
            }),
            ..Decision::default()
        };
        size_for_step(&mut round, &mut decision, 1);
        assert_eq!(
            decision.desired,
            [("old".to_string(), 4), ("new".to_string(), 1)]
        );
        let weights = &round.status["canary"]["weights"];
        assert_eq!(
            (
                &weights["stable"]["weight"],
                &weights["canary"]["weight"],
                &weights["additional"][0]["weight"]
            ),
            (&json!(75), &json!(20), &json!(5))
        );
        let mut round = round_at(&rollout, json!({"stableRS": "old", "abort": true}), sets());
        let mut decision = Decision::default();
        size_for_step(&mut round, &mut decision, 0);
        assert_eq!(
            decision.desired,
            [("old".to_string(), 4), ("new".to_string(), 0)]
        );
        let weights = &round.status["canary"]["weights"];
        assert_eq!(
            (&weights["stable"]["weight"], &weights["canary"]["weight"]),
            (&json!(100), &json!(0))
        );
    }

    #[test]
    fn a_routed_canary_gets_traffic_once_a_pod_is_available_and_until_promoted() {
        assert_eq!(routed_weight(20, false, 0), 0);
        assert_eq!(routed_weight(20, false, 1), 20);
        assert_eq!(routed_weight(100, true, 10), 0);
    }
}
