//! A rollout's ReplicaSets: the one of its pod template and that template's revision, the
//! sizes the strategy wants (old ReplicaSets of a blue-green or traffic-routed canary kept
//! up until their scale-down deadline), the revision history limit, and restarts.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::Controller;
use super::rollout::Round;
use super::traffic_routing;
use crate::objects::{self, REVISION_ANNOTATION, str_at};
use crate::replica_sets::Set;
use crate::store::ObjectKey;

/// The revision of the pod template's ReplicaSet, `own` when it has one, given the highest
/// of the rollout's: an older ReplicaSet wanted again (an undo) becomes the newest.
fn next_revision(own: Option<u64>, max: u64) -> u64 {
    match own {
        Some(own) if own >= max => own,
        _ => max + 1,
    }
}

/// Size the ReplicaSets as `desired` (by pod-template hash; the others to 0). An old
/// ReplicaSet (neither the update nor stable) of a blue-green or traffic-routed canary keeps
/// its pods until its scale-down deadline; returns the earliest deadline still ahead.
/// Simplified: Argo also delays scaling down an aborted update's pods.
pub(super) fn scale(
    round: &mut Round,
    desired: &[(String, i64)],
    now: Timestamp,
) -> Option<Timestamp> {
    let stable = round.stable();
    let delay = traffic_routing::scale_down_delay_seconds(&round.rollout["spec"]);
    let mut scale_down_at: Option<Timestamp> = None;
    for set in &mut round.sets {
        let want = desired
            .iter()
            .find(|(h, _)| h == set.hash())
            .map(|(_, c)| (*c).max(0))
            .unwrap_or(0);
        let old = set.hash() != round.hash && set.hash() != stable;
        match delay {
            Some(delay) if want == 0 && old => {
                if let Some(at) = set.scale_down_after(delay, now) {
                    scale_down_at = Some(scale_down_at.map_or(at, |earliest| earliest.min(at)));
                }
            }
            _ => {
                set.drop_scale_down_deadline();
                if set.desired() != want {
                    set.scale(want);
                }
            }
        }
    }
    scale_down_at
}

/// The old ReplicaSets (scaled down, neither the update nor stable) past the newest
/// `history_limit`, by index: they are deleted (`revisionHistoryLimit`).
pub(super) fn expired_revisions(round: &Round, history_limit: usize) -> Vec<usize> {
    let stable = round.stable();
    let sets = &round.sets;
    let mut old: Vec<usize> = (0..sets.len())
        .filter(|&i| {
            sets[i].hash() != round.hash
                && sets[i].hash() != stable
                && sets[i].desired() == 0
                && !sets[i].created
        })
        .collect();
    old.sort_by_key(|&i| std::cmp::Reverse(objects::revision_of(&sets[i].value)));
    old.into_iter().skip(history_limit).collect()
}

impl Controller {
    /// The revision of the ReplicaSet for the pod template `hash`, which is created (with
    /// an event) when missing.
    pub(super) fn current_revision(
        &mut self,
        rollout: &Value,
        hash: &str,
        sets: &mut Vec<Set>,
        now: Timestamp,
    ) -> u64 {
        let max = sets
            .iter()
            .map(|s| objects::revision_of(&s.value))
            .max()
            .unwrap_or(0);
        match sets.iter_mut().find(|s| s.hash() == hash) {
            Some(set) => {
                let own = objects::revision_of(&set.value);
                let revision = next_revision(Some(own), max);
                if revision != own {
                    set.value["metadata"]["annotations"][REVISION_ANNOTATION] =
                        json!(revision.to_string());
                    // As Argo keeps it: the revisions this template held before.
                    let annotations = &mut set.value["metadata"]["annotations"];
                    let held = str_at(annotations, objects::REVISION_HISTORY_ANNOTATION);
                    let held = if held.is_empty() {
                        own.to_string()
                    } else {
                        format!("{held},{own}")
                    };
                    annotations[objects::REVISION_HISTORY_ANNOTATION] = json!(held);
                }
                revision
            }
            None => {
                let revision = next_revision(None, max);
                sets.push(Set::new(objects::replica_set(rollout, hash, revision, now)));
                let message = format!("Rollout updated to revision {revision}");
                self.record(rollout, "Normal", "RolloutUpdated", &message, now);
                revision
            }
        }
    }

    /// `spec.restartAt`: one pod of the stable ReplicaSet restarts, then `status.restartedAt`.
    pub(super) fn restart(
        &mut self,
        key: &ObjectKey,
        round: &mut Round,
        tick: bool,
        now: Timestamp,
    ) {
        let rollout = round.rollout;
        let wanted = &rollout["spec"]["restartAt"];
        if wanted.is_null() || *wanted == round.status["restartedAt"] || !tick {
            return;
        }
        let stable = str_at(&round.status, "stableRS").to_string();
        let Some(set) = round.sets.iter_mut().find(|s| s.hash() == stable) else {
            return;
        };
        if self.restarting.insert(key.clone()) {
            for field in ["readyReplicas", "availableReplicas"] {
                let n = set.count(field);
                set.value["status"][field] = json!((n - 1).max(0));
            }
        } else if set.converged() {
            self.restarting.remove(key);
            round.status["restartedAt"] = wanted.clone();
            self.record(
                rollout,
                "Normal",
                "RolloutRestarted",
                "Rollout restarted",
                now,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::read_set;
    use super::*;

    fn round<'a>(rollout: &'a Value, stable: &str, sets: Vec<Set>) -> Round<'a> {
        Round {
            rollout,
            hash: "new".into(),
            revision: 3,
            status: json!({"stableRS": stable}),
            sets,
        }
    }

    #[test]
    fn the_template_keeps_its_revision_unless_an_undo_makes_it_the_newest() {
        assert_eq!(next_revision(Some(4), 4), 4);
        assert_eq!(next_revision(Some(2), 4), 5);
        assert_eq!(next_revision(None, 4), 5);
        assert_eq!(next_revision(None, 0), 1);
    }

    #[test]
    fn a_basic_canary_scales_at_once_and_old_sets_of_a_routed_one_wait_their_delay() {
        let at = |s: i64| Timestamp::from_second(s).unwrap();
        let basic = json!({"spec": {"strategy": {"canary": {}}}});
        let mut r = round(
            &basic,
            "stable",
            vec![
                read_set("older", 1, 2, 2),
                read_set("stable", 2, 10, 10),
                read_set("new", 3, 0, 0),
            ],
        );
        let desired = [("stable".to_string(), 8), ("new".to_string(), 2)];
        assert_eq!(scale(&mut r, &desired, at(100)), None);
        let sizes: Vec<i64> = r.sets.iter().map(Set::desired).collect();
        assert_eq!(sizes, [0, 8, 2]);

        let routed = json!({"spec": {"strategy": {"canary": {"trafficRouting": {"istio": {}},
                                                            "scaleDownDelaySeconds": 20}}}});
        let mut r = round(
            &routed,
            "stable",
            vec![
                read_set("older", 1, 2, 2),
                read_set("stable", 2, 10, 10),
                read_set("new", 3, 0, 0),
            ],
        );
        let desired = [("stable".to_string(), 10), ("new".to_string(), 2)];
        assert_eq!(scale(&mut r, &desired, at(100)), Some(at(120)));
        let sizes: Vec<i64> = r.sets.iter().map(Set::desired).collect();
        assert_eq!(sizes, [2, 10, 2]);
        assert_eq!(scale(&mut r, &desired, at(120)), None);
        assert_eq!(r.sets[0].desired(), 0);
    }

    #[test]
    fn only_the_newest_old_revisions_up_to_the_limit_are_kept() {
        let rollout = json!({"spec": {}});
        let mut sets = vec![
            read_set("r1", 1, 0, 0),
            read_set("r4", 4, 0, 0),
            read_set("stable", 5, 10, 10),
            read_set("r2", 2, 0, 0),
            read_set("r3", 3, 0, 0),
            read_set("new", 6, 0, 0),
            read_set("up", 0, 1, 1),
        ];
        // Not yet written: never expired.
        sets.push(Set::new(read_set("fresh", 0, 0, 0).value));
        let r = round(&rollout, "stable", sets);
        assert_eq!(expired_revisions(&r, 2), [3, 0]);
        assert!(expired_revisions(&r, 10).is_empty());
        assert_eq!(expired_revisions(&r, 0), [1, 4, 3, 0]);
    }
}
