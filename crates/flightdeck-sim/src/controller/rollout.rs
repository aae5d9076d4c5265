//! One rollout's reconcile, whatever its strategy (Argo's rollout/sync.go): the ReplicaSet
//! of its pod template, an update that starts over when the template or the steps change,
//! the first deploy, the requests clients write into its status (retry, full promotion),
//! the strategy's decision carried out (promotion, abort, ReplicaSet sizes), and the
//! status, ReplicaSets and traffic split written back.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::{Controller, NextLook, canary, conditions, scaling, status, traffic_routing};
use crate::api_error::ApiError;
use crate::clock::rfc3339;
use crate::discovery::{REPLICASETS, RESOURCES, ROLLOUTS};
use crate::experiments;
use crate::objects::{self, REVISION_ANNOTATION, int_at, remove, str_at, truthy};
use crate::replica_sets::Set;
use crate::store::{ObjectKey, Stored};
use crate::traffic::VersionKey;

/// Status fields that ask something of one revision's rollout (pause,
/// abort, promote): a new revision, or a promotion to stable, clears them.
pub(super) const ROLLOUT_REQUESTS: [&str; 5] = [
    "pauseConditions",
    "controllerPause",
    "abort",
    "abortedAt",
    "promoteFull",
];

/// A rollout being reconciled: as read, with the status and ReplicaSets being worked out.
pub(super) struct Round<'a> {
    pub rollout: &'a Value,
    /// The pod-template hash of its template: the update's (or stable's) ReplicaSet.
    pub hash: String,
    /// The revision of that ReplicaSet.
    pub revision: u64,
    pub status: Value,
    pub sets: Vec<Set>,
}

impl Round<'_> {
    pub fn replicas(&self) -> i64 {
        int_at(&self.rollout["spec"], "replicas").unwrap_or(1)
    }

    pub fn stable(&self) -> String {
        str_at(&self.status, "stableRS").to_string()
    }

    /// Available pods of the ReplicaSet with pod-template hash `hash`.
    pub fn available(&self, hash: &str) -> i64 {
        self.sets
            .iter()
            .find(|s| s.hash() == hash)
            .map(|s| s.count("availableReplicas"))
            .unwrap_or(0)
    }
}

/// What a strategy decided in one round.
#[derive(Default)]
pub(super) struct Decision {
    /// ReplicaSet sizes by pod-template hash; ReplicaSets not listed are not wanted.
    pub desired: Vec<(String, i64)>,
    /// Why the update becomes stable in this round, when it does.
    pub promote_reason: Option<String>,
    /// Why a step aborted the update, for the Progressing condition.
    pub abort_detail: Option<String>,
    /// When the timed pause the rollout waits at ends.
    pub pause_ends: Option<Timestamp>,
    /// An analysis or experiment step runs, to be measured every tick.
    pub analysing: bool,
    /// The experiment the current step runs.
    pub experiment: Option<experiments::Current>,
}

pub(super) fn is_canary(spec: &Value) -> bool {
    spec["strategy"]["canary"].is_object()
}

/// A new pod template (or an undo), or new canary steps, start the update over: the
/// previous update's requests and step state go, and the steps start at the first, or are
/// skipped when the template is stable's again (an undo). Only an update away from stable
/// starts the update's clock.
pub(super) fn start_over_on_change(status: &mut Value, spec: &Value, hash: &str, now: Timestamp) {
    let canary = is_canary(spec);
    let steps = canary::steps(spec);
    let steps_hash = objects::hash_of(&json!(steps));
    if str_at(status, "currentPodHash") != hash
        || (canary && str_at(status, "currentStepHash") != steps_hash)
    {
        for field in ROLLOUT_REQUESTS {
            remove(status, field);
        }
        remove(&mut status["canary"], "currentStepAnalysisRunStatus");
        remove(&mut status["canary"], "currentExperiment");
        status["currentPodHash"] = json!(hash);
        if canary && !steps.is_empty() {
            let back_to_stable = str_at(status, "stableRS") == hash;
            status["currentStepIndex"] = json!(if back_to_stable { steps.len() } else { 0 });
        }
        if str_at(status, "stableRS") != hash {
            status["duration"] = json!({"rolloutStartedAt": rfc3339(now)});
        }
    }
    if canary {
        status["currentStepHash"] = json!(steps_hash);
    }
}

/// The initial deploy (no stable ReplicaSet): the first ReplicaSet is stable at once, its
/// steps skipped, and a ping-pong canary's stable side is the ping service.
pub(super) fn deploy_at_once(status: &mut Value, spec: &Value, hash: &str) {
    status["stableRS"] = json!(hash);
    let steps = canary::steps(spec).len();
    if is_canary(spec) && steps > 0 {
        status["currentStepIndex"] = json!(steps);
    }
    if traffic_routing::ping_pong(spec) {
        status["canary"]["stablePingPong"] = json!(traffic_routing::PING);
    }
}

/// What clients wrote into the status: `abort: false` (a retry) is written as no abort at
/// all, as Argo omits it; `promoteFull` lifts pauses and an abort and skips the steps left.
pub(super) fn apply_retry_and_full_promotion(status: &mut Value, spec: &Value) {
    if !truthy(&status["abort"]) {
        remove(status, "abort");
        remove(status, "abortedAt");
    }
    if truthy(&status["promoteFull"]) {
        for field in ["pauseConditions", "controllerPause", "abort", "abortedAt"] {
            remove(status, field);
        }
        let steps = canary::steps(spec).len();
        if is_canary(spec) && steps > 0 {
            status["currentStepIndex"] = json!(steps);
        }
    }
}

/// The pause conditions in the status, to be changed and written back with
/// [`write_pause_conditions`].
pub(super) fn pause_conditions(status: &Value) -> Vec<Value> {
    status["pauseConditions"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Put the pause conditions back, leaving none as no field at all.
pub(super) fn write_pause_conditions(status: &mut Value, conditions: Vec<Value>) {
    if conditions.is_empty() {
        remove(status, "pauseConditions");
    } else {
        status["pauseConditions"] = json!(conditions);
    }
}

impl Controller {
    /// Reconcile one rollout; says when it needs looking at again.
    pub(super) fn reconcile(
        &mut self,
        key: &ObjectKey,
        now: Timestamp,
        tick: bool,
    ) -> Result<NextLook, ApiError> {
        let Some(stored) = self.store.get(ROLLOUTS, key) else {
            return Ok(NextLook::OnChange);
        };
        let rollout = stored.value();
        let spec = &rollout["spec"];
        let mut round = self.begin_round(key, &rollout, now, tick);
        start_over_on_change(&mut round.status, spec, &round.hash, now);
        let stable = round.stable();
        if !round.sets.iter().any(|s| s.hash() == stable) {
            deploy_at_once(&mut round.status, spec, &round.hash);
        }
        apply_retry_and_full_promotion(&mut round.status, spec);
        let decision = if is_canary(spec) {
            self.reconcile_canary(&mut round, now, tick)?
        } else {
            self.reconcile_blue_green(&mut round, now)
        };
        self.conclude(&mut round, &decision, now);
        let scale_down_at = scaling::scale(&mut round, &decision.desired, now);
        self.restart(key, &mut round, tick, now);
        let history_limit = int_at(spec, "revisionHistoryLimit").unwrap_or(10).max(0) as usize;
        let expired = scaling::expired_revisions(&round, history_limit);
        status::count_replicas(&mut round, &expired);
        if is_canary(spec) && !round.status["canary"].is_object() {
            round.status["canary"] = json!({});
        }
        status::manual_pause_duration(&mut round.status, truthy(&spec["paused"]), now);
        let conditions = conditions::Inputs {
            rollout: &rollout,
            hash: &round.hash,
            revision: round.revision,
            abort_detail: decision.abort_detail.as_deref(),
        };
        if let Some(message) = conditions::set(conditions, &mut round.status, now) {
            self.record(&rollout, "Warning", "RolloutAborted", &message, now);
        }

        let rollout_changed = self.write(key, &stored, &round, &expired, now)?;
        let experiment_images = decision
            .experiment
            .as_ref()
            .map(|e| e.images.as_slice())
            .unwrap_or_default();
        self.share_traffic(key, &round, experiment_images);
        let settled = !rollout_changed
            && round.sets.iter().all(Set::converged)
            && !decision.analysing
            && !self.restarting.contains(key)
            && matches!(
                str_at(&round.status, "phase"),
                "Healthy" | "Degraded" | "Paused"
            );
        Ok(NextLook::after(settled, decision.pause_ends, scale_down_at))
    }

    /// The rollout as read, its ReplicaSets' pods moved on a tick, and the ReplicaSet of
    /// its pod template with that template's revision.
    fn begin_round<'a>(
        &mut self,
        key: &ObjectKey,
        rollout: &'a Value,
        now: Timestamp,
        tick: bool,
    ) -> Round<'a> {
        let hash = objects::pod_template_hash(&rollout["spec"]["template"]);
        let status = if rollout["status"].is_object() {
            rollout["status"].clone()
        } else {
            json!({})
        };
        let mut sets = self.replica_sets(key, str_at(rollout, "metadata.uid"));
        if tick {
            for set in &mut sets {
                let image_pulls = (self.versions.image_exists)(set.image());
                set.advance_pods(image_pulls);
            }
        }
        let revision = self.current_revision(rollout, &hash, &mut sets, now);
        Round {
            rollout,
            hash,
            revision,
            status,
            sets,
        }
    }

    /// Carry out a promotion or a new abort the strategy decided on, with their events.
    fn conclude(&mut self, round: &mut Round, decision: &Decision, now: Timestamp) {
        let rollout = round.rollout;
        if let Some(reason) = &decision.promote_reason {
            status::mark_promoted(&mut round.status, &rollout["spec"], &round.hash, now);
            let message = format!(
                "Rollout completed update to revision {} ({}): {reason}",
                round.revision, round.hash
            );
            self.record(rollout, "Normal", "RolloutCompleted", &message, now);
        }
        if status::mark_aborted(&mut round.status, now) {
            let message = format!("Rollout aborted update to revision {}", round.revision);
            self.record(rollout, "Warning", "RolloutAborted", &message, now);
        }
    }

    /// Write what changed: ReplicaSets first (the expired ones deleted, and their traffic
    /// forgotten), then the rollout's status and revision unless someone wrote it since it
    /// was read. Says whether the rollout changed.
    fn write(
        &mut self,
        key: &ObjectKey,
        stored: &Stored,
        round: &Round,
        expired: &[usize],
        now: Timestamp,
    ) -> Result<bool, ApiError> {
        for (i, set) in round.sets.iter().enumerate() {
            if expired.contains(&i) {
                self.store.delete(REPLICASETS, &set.key)?;
                self.traffic
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .forget(&VersionKey {
                        namespace: key.namespace.clone(),
                        rollout: key.name.clone(),
                        pod_template_hash: set.hash().to_string(),
                    });
            } else {
                set.write(&self.store, now)?;
            }
        }
        let revision_text = round.revision.to_string();
        let expected = round.rollout["metadata"]["resourceVersion"].clone();
        let written = self.store.update(ROLLOUTS, key, |current| {
            if current["metadata"]["resourceVersion"] != expected {
                return Err(ApiError::conflict(&RESOURCES[ROLLOUTS], &key.name));
            }
            current["status"] = round.status.clone();
            current["metadata"]["annotations"][REVISION_ANNOTATION] = json!(revision_text);
            Ok(())
        })?;
        Ok(written.revision != stored.revision)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(second).unwrap()
    }

    fn canary_spec() -> Value {
        json!({"strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {}}, {"setWeight": 60}]}}})
    }

    #[test]
    fn a_new_template_starts_the_steps_over_and_clears_the_last_updates_requests() {
        let spec = canary_spec();
        let steps_hash = objects::hash_of(&spec["strategy"]["canary"]["steps"]);
        let mut status = json!({
            "currentPodHash": "old", "stableRS": "old", "currentStepHash": steps_hash,
            "currentStepIndex": 3, "abort": true, "abortedAt": "x", "promoteFull": true,
            "pauseConditions": [{"reason": "CanaryPauseStep"}], "controllerPause": true,
            "canary": {"currentExperiment": "e", "currentStepAnalysisRunStatus": {}},
        });
        start_over_on_change(&mut status, &spec, "new", at(60));
        assert_eq!(
            status,
            json!({
                "currentPodHash": "new", "stableRS": "old", "currentStepHash": steps_hash,
                "currentStepIndex": 0, "canary": {},
                "duration": {"rolloutStartedAt": "1970-01-01T00:01:00Z"},
            })
        );
        // Nothing changed: nothing moves.
        let before = status.clone();
        start_over_on_change(&mut status, &spec, "new", at(90));
        assert_eq!(status, before);
    }

    #[test]
    fn an_undo_to_the_stable_template_skips_the_steps_and_keeps_the_clock() {
        let spec = canary_spec();
        let mut status = json!({"currentPodHash": "new", "stableRS": "old", "currentStepIndex": 1,
                                "duration": {"rolloutStartedAt": "1970-01-01T00:01:00Z"}});
        start_over_on_change(&mut status, &spec, "old", at(120));
        assert_eq!(status["currentStepIndex"], json!(3));
        assert_eq!(
            status["duration"],
            json!({"rolloutStartedAt": "1970-01-01T00:01:00Z"})
        );
    }

    #[test]
    fn new_steps_for_the_same_template_start_them_over() {
        let spec = canary_spec();
        let mut status = json!({"currentPodHash": "new", "stableRS": "old", "currentStepIndex": 2,
                                "currentStepHash": "other-steps"});
        start_over_on_change(&mut status, &spec, "new", at(0));
        assert_eq!(status["currentStepIndex"], json!(0));
        assert_eq!(
            status["currentStepHash"],
            json!(objects::hash_of(&spec["strategy"]["canary"]["steps"]))
        );
        // A blue-green has no steps to hash or take.
        let mut blue_green = json!({"currentPodHash": "old", "stableRS": "old"});
        start_over_on_change(
            &mut blue_green,
            &json!({"strategy": {"blueGreen": {}}}),
            "new",
            at(0),
        );
        assert_eq!(blue_green["currentPodHash"], json!("new"));
        assert!(blue_green.get("currentStepHash").is_none());
        assert!(blue_green.get("currentStepIndex").is_none());
    }

    #[test]
    fn the_first_deploy_is_stable_at_once_with_its_steps_skipped() {
        let mut status = json!({});
        deploy_at_once(&mut status, &canary_spec(), "abc");
        assert_eq!(status, json!({"stableRS": "abc", "currentStepIndex": 3}));
        let ping_pong = json!({"strategy": {"canary": {
            "pingPong": {"pingService": "web-ping", "pongService": "web-pong"}}}});
        let mut status = json!({});
        deploy_at_once(&mut status, &ping_pong, "abc");
        assert_eq!(
            status,
            json!({"stableRS": "abc", "canary": {"stablePingPong": "ping"}})
        );
    }

    #[test]
    fn a_retry_clears_the_abort_and_a_full_promotion_skips_the_steps_left() {
        let spec = canary_spec();
        let mut retried = json!({"abort": false, "abortedAt": "x", "currentStepIndex": 0});
        apply_retry_and_full_promotion(&mut retried, &spec);
        assert_eq!(retried, json!({"currentStepIndex": 0}));
        let mut promoted = json!({"promoteFull": true, "abort": true, "currentStepIndex": 1,
                                  "pauseConditions": [{"reason": "CanaryPauseStep"}], "controllerPause": true});
        apply_retry_and_full_promotion(&mut promoted, &spec);
        assert_eq!(
            promoted,
            json!({"promoteFull": true, "currentStepIndex": 3})
        );
    }

    #[test]
    fn no_pause_conditions_are_written_as_no_field() {
        let mut status = json!({"pauseConditions": [{"reason": "BlueGreenPause"}]});
        let mut conditions = pause_conditions(&status);
        assert_eq!(conditions.len(), 1);
        conditions.clear();
        write_pause_conditions(&mut status, conditions);
        assert_eq!(status, json!({}));
        assert!(pause_conditions(&status).is_empty());
    }
}
