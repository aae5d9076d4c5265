//! One simulated cluster's rollouts controller: moves Rollouts through their canary steps
//! or blue-green promotion with Argo Rollouts' semantics, creates and scales their
//! ReplicaSets (whose pods become ready over the following ticks), runs analysis and
//! experiment steps, watches the progress deadline, records Events, and hands the
//! resulting traffic split to the traffic model.
//!
//! It reconciles on every tick (one simulated second) and at once when a client writes.
//! Only rollouts with something to do are reconciled: the ones that changed since the last
//! round, the ones still moving (pods starting, analysis), and those whose timed pause
//! ends (as Argo requeues a rollout for the end of its pause rather than polling it).

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use serde_json::{Map, Value, json};

mod phase;
mod progress;
mod traffic_routing;

use crate::analysis;
use crate::api_error::ApiError;
use crate::clock::rfc3339;
use crate::discovery::{ANALYSIS_RUNS, EXPERIMENTS, REPLICASETS, ROLLOUTS};
use crate::events::{self, Recorder};
use crate::experiments::{self, ExperimentController};
use crate::objects::{self, REVISION_ANNOTATION, int_at, remove, set_condition, str_at, truthy};
use crate::replica_sets::Set;
use crate::store::{ChangeKind, ObjectKey, Store};
use crate::traffic::{Behaviour, TrafficModel, VersionKey};
use progress::Assessment;

/// Decides how a version behaves from its namespace, rollout and container image.
pub type BehaviourOf = fn(&str, &str, &str) -> Behaviour;

/// What the scenario says about the versions it runs.
#[derive(Clone, Copy)]
pub struct Versions {
    pub behaviour: BehaviourOf,
    /// Whether a container image can be pulled: pods of one that cannot never become ready.
    pub image_exists: fn(&str) -> bool,
}

pub struct Controller {
    store: Arc<Store>,
    traffic: Arc<Mutex<TrafficModel>>,
    versions: Versions,
    /// The store revision up to which changes have been looked at.
    cursor: u64,
    /// Rollouts to reconcile in the next round.
    active: BTreeSet<ObjectKey>,
    /// Rollouts in a timed pause, by when it ends: active again from then.
    sleeping: BTreeSet<(Timestamp, ObjectKey)>,
    /// Rollouts whose restart has taken a pod down and waits for it to come back.
    restarting: HashSet<ObjectKey>,
    events: Recorder,
    experiments: ExperimentController,
    ticks: u64,
}

/// When a rollout needs reconciling again, if nothing about it changes first.
enum NextLook {
    EveryTick,
    At(Timestamp),
    OnChange,
}

/// The first whole second at which a pause of `seconds` begun at `started` is over.
fn ends(started: Timestamp, seconds: f64) -> Timestamp {
    started
        .checked_add(jiff::SignedDuration::from_secs(seconds.ceil() as i64))
        .unwrap_or(started)
}

/// Status fields that ask something of one revision's rollout (pause,
/// abort, promote): a new revision, or a promotion to stable, clears them.
const ROLLOUT_REQUESTS: [&str; 5] = [
    "pauseConditions",
    "controllerPause",
    "abort",
    "abortedAt",
    "promoteFull",
];

/// `setWeight` in force at step `index` (Argo's `GetCurrentSetWeight`).
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

fn step_name(step: &Value) -> String {
    if let Some(w) = step["setWeight"].as_i64() {
        format!("setWeight: {w}")
    } else if step["pause"].is_object() {
        match step["pause"].get("duration") {
            Some(d) => format!(
                "pause: {}",
                d.as_str().map(str::to_string).unwrap_or(d.to_string())
            ),
            None => "pause".into(),
        }
    } else if step["analysis"].is_object() {
        "analysis".into()
    } else if step["experiment"].is_object() {
        "experiment".into()
    } else {
        "unsupported step".into()
    }
}

impl Controller {
    pub fn new(store: Arc<Store>, traffic: Arc<Mutex<TrafficModel>>, versions: Versions) -> Self {
        let cursor = store.revision();
        let active = store
            .list(ROLLOUTS, None, None, 0, &|_| true)
            .items
            .iter()
            .map(|s| s.key.clone())
            .collect();
        Controller {
            events: Recorder::new(store.clone()),
            experiments: ExperimentController::new(store.clone(), traffic.clone(), versions),
            store,
            traffic,
            versions,
            cursor,
            active,
            sleeping: BTreeSet::new(),
            restarting: HashSet::new(),
            ticks: 0,
        }
    }

    /// One simulated second: pods progress, timers and analysis advance, traffic flows.
    pub fn tick(&mut self, now: Timestamp) {
        self.ticks += 1;
        self.reconcile_active(now, true);
        self.experiments.reconcile(now, true);
        self.traffic
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .step(now);
        if self.ticks.is_multiple_of(60) {
            events::expire(&self.store, now);
        }
    }

    /// React to what clients wrote, without letting time pass.
    pub fn react(&mut self, now: Timestamp) {
        self.reconcile_active(now, false);
        self.experiments.reconcile(now, false);
    }

    fn reconcile_active(&mut self, now: Timestamp, tick: bool) {
        self.collect_changes();
        while self.sleeping.first().is_some_and(|(at, _)| *at <= now) {
            if let Some((_, key)) = self.sleeping.pop_first() {
                self.active.insert(key);
            }
        }
        let keys: Vec<ObjectKey> = self.active.iter().cloned().collect();
        for key in keys {
            match self.reconcile(&key, now, tick) {
                Ok(NextLook::OnChange) => {
                    self.active.remove(&key);
                }
                Ok(NextLook::At(at)) => {
                    self.active.remove(&key);
                    self.sleeping.insert((at, key));
                }
                Ok(NextLook::EveryTick) => {}
                // Someone wrote in between: read again next round.
                Err(e) if e.reason == "Conflict" => {}
                Err(e) => tracing::warn!(
                    "simulated controller: rollout {}/{}: {e}",
                    key.namespace,
                    key.name
                ),
            }
        }
        // Our own writes are changes too, but they need no second look.
        self.cursor = self.store.revision();
    }

    /// Mark the rollouts whose objects changed since the last round.
    fn collect_changes(&mut self) {
        match self.store.changes_after(self.cursor, usize::MAX) {
            Ok(changes) => {
                for change in changes {
                    self.cursor = change.object.revision;
                    match change.resource {
                        ROLLOUTS => {
                            self.active.insert(change.object.key.clone());
                        }
                        REPLICASETS | ANALYSIS_RUNS | EXPERIMENTS
                            if change.kind != ChangeKind::Deleted =>
                        {
                            let object = change.object.value();
                            if let Some(owner) =
                                object["metadata"]["ownerReferences"][0]["name"].as_str()
                            {
                                self.active
                                    .insert(ObjectKey::new(&change.object.key.namespace, owner));
                            }
                        }
                        _ => {}
                    }
                }
            }
            Err(_) => {
                self.active = self
                    .store
                    .list(ROLLOUTS, None, None, 0, &|_| true)
                    .items
                    .iter()
                    .map(|s| s.key.clone())
                    .collect();
                self.cursor = self.store.revision();
            }
        }
    }

    /// The rollout's ReplicaSets: named `<rollout>-<hash>` and owned by it.
    fn replica_sets(&self, key: &ObjectKey, uid: &str) -> Vec<Set> {
        self.store
            .with_name_prefix(REPLICASETS, &key.namespace, &format!("{}-", key.name))
            .into_iter()
            .map(|s| Set::read(&s))
            .filter(|set| set.value["metadata"]["ownerReferences"][0]["uid"] == uid)
            .collect()
    }

    fn record(&mut self, rollout: &Value, kind: &str, reason: &str, message: &str, now: Timestamp) {
        self.events.record(rollout, kind, reason, message, now);
    }

    /// Reconcile one rollout; says when it needs looking at again.
    fn reconcile(
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
        let name = key.name.as_str();
        let replicas = int_at(spec, "replicas").unwrap_or(1);
        let hash = objects::pod_template_hash(&spec["template"]);
        let canary = spec["strategy"]["canary"].is_object();
        let steps: Vec<Value> = spec["strategy"]["canary"]["steps"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let n = steps.len();
        let mut st = if rollout["status"].is_object() {
            rollout["status"].clone()
        } else {
            json!({})
        };
        let mut sets = self.replica_sets(key, str_at(&rollout, "metadata.uid"));
        if tick {
            for set in &mut sets {
                let image_pulls = (self.versions.image_exists)(set.image());
                set.advance_pods(image_pulls);
            }
        }

        // The ReplicaSet for the current template, and its revision.
        let max_revision = sets
            .iter()
            .map(|s| objects::revision_of(&s.value))
            .max()
            .unwrap_or(0);
        let revision = match sets.iter_mut().find(|s| s.hash() == hash) {
            Some(set) => {
                let own = objects::revision_of(&set.value);
                if own < max_revision {
                    set.value["metadata"]["annotations"][REVISION_ANNOTATION] =
                        json!((max_revision + 1).to_string());
                    max_revision + 1
                } else {
                    own
                }
            }
            None => {
                let value = objects::replica_set(&rollout, &hash, max_revision + 1, now);
                sets.push(Set::new(value));
                self.record(
                    &rollout,
                    "Normal",
                    "RolloutUpdated",
                    &format!("Rollout updated to revision {}", max_revision + 1),
                    now,
                );
                max_revision + 1
            }
        };

        // A new template (or an undo) starts the steps over.
        let steps_hash = objects::hash_of(&json!(steps));
        if str_at(&st, "currentPodHash") != hash
            || (canary && str_at(&st, "currentStepHash") != steps_hash)
        {
            for field in ROLLOUT_REQUESTS {
                remove(&mut st, field);
            }
            remove(&mut st["canary"], "currentStepAnalysisRunStatus");
            remove(&mut st["canary"], "currentExperiment");
            st["currentPodHash"] = json!(hash);
            if canary && n > 0 {
                let back_to_stable = str_at(&st, "stableRS") == hash;
                st["currentStepIndex"] = json!(if back_to_stable { n } else { 0 });
            }
            if str_at(&st, "stableRS") != hash {
                st["duration"] = json!({"rolloutStartedAt": rfc3339(now)});
            }
        }
        if canary {
            st["currentStepHash"] = json!(steps_hash);
        }
        let stable_exists = sets.iter().any(|s| s.hash() == str_at(&st, "stableRS"));
        if !stable_exists {
            // Initial deploy: the first ReplicaSet is stable at once, steps skipped.
            st["stableRS"] = json!(hash);
            if canary && n > 0 {
                st["currentStepIndex"] = json!(n);
            }
            if traffic_routing::ping_pong(spec) {
                st["canary"]["stablePingPong"] = json!(traffic_routing::PING);
            }
        }
        if !truthy(&st["abort"]) {
            // Retry: `abort: false` is written as no abort at all, as Argo omits it.
            remove(&mut st, "abort");
            remove(&mut st, "abortedAt");
        }
        if truthy(&st["promoteFull"]) {
            for field in ["pauseConditions", "controllerPause", "abort", "abortedAt"] {
                remove(&mut st, field);
            }
            if canary && n > 0 {
                st["currentStepIndex"] = json!(n);
            }
        }
        let paused_by_user = truthy(&spec["paused"]);
        let mut abort_detail = None;
        // A timed pause wants a look when it ends; an analysis, every tick.
        let mut pause_ends = None;
        let mut analysing = false;
        // A running experiment step's templates: their share of traffic and their images.
        let mut experiment = None;

        let stable = str_at(&st, "stableRS").to_string();
        let available_of = |sets: &[Set], h: &str| {
            sets.iter()
                .find(|s| s.hash() == h)
                .map(|s| s.count("availableReplicas"))
                .unwrap_or(0)
        };
        let mut desired: Vec<(String, i64)>;
        let mut promote_reason = None;
        if canary {
            let mut index = (int_at(&st, "currentStepIndex").unwrap_or(0).max(0) as usize).min(n);
            let traffic_routed = spec["strategy"]["canary"]["trafficRouting"].is_object();
            if stable != hash && !truthy(&st["abort"]) && !paused_by_user && index < n {
                let step = &steps[index];
                let mut pause_conditions = st["pauseConditions"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let completed = if let Some(weight) = step["setWeight"].as_i64() {
                    let canary_count = (replicas * weight + 99) / 100;
                    let stable_count = if traffic_routed {
                        replicas
                    } else {
                        replicas - canary_count
                    };
                    available_of(&sets, &hash) == canary_count
                        && sets
                            .iter()
                            .find(|s| s.hash() == hash)
                            .is_some_and(|s| s.desired() == canary_count)
                        && (stable_count == 0 || available_of(&sets, &stable) >= stable_count)
                } else if step["pause"].is_object() {
                    let condition = pause_conditions
                        .iter()
                        .find(|c| c["reason"] == "CanaryPauseStep");
                    match (
                        condition,
                        step["pause"]
                            .get("duration")
                            .and_then(objects::duration_seconds),
                    ) {
                        (Some(c), Some(seconds)) => {
                            let started =
                                str_at(c, "startTime").parse::<Timestamp>().unwrap_or(now);
                            pause_ends = Some(ends(started, seconds));
                            (now.as_second() - started.as_second()) as f64 >= seconds
                        }
                        (Some(_), None) => false,
                        // Promoted: the pause conditions were cleared while the controller paused.
                        (None, _) if truthy(&st["controllerPause"]) => true,
                        (None, duration) => {
                            pause_ends = duration.map(|seconds| ends(now, seconds));
                            pause_conditions.push(
                                json!({"reason": "CanaryPauseStep", "startTime": rfc3339(now)}),
                            );
                            st["controllerPause"] = json!(true);
                            if duration.is_none() {
                                self.record(
                                    &rollout,
                                    "Normal",
                                    "RolloutPaused",
                                    "Rollout is paused (CanaryPauseStep)",
                                    now,
                                );
                            }
                            false
                        }
                    }
                } else if step["analysis"].is_object() {
                    analysing = true;
                    let phase =
                        self.run_analysis_step(&rollout, &hash, revision, index, step, now, tick)?;
                    match phase.0.as_str() {
                        "Successful" => true,
                        "Failed" | "Error" => {
                            st["abort"] = json!(true);
                            abort_detail = Some(phase.1.clone());
                            self.record(
                                &rollout,
                                "Warning",
                                "AnalysisRunFailed",
                                &format!("Step analysis run failed: {}", phase.1),
                                now,
                            );
                            false
                        }
                        _ => {
                            st["canary"]["currentStepAnalysisRunStatus"] = json!({
                                "name": analysis::run_name(name, &hash, revision, index), "status": phase.0,
                            });
                            false
                        }
                    }
                } else if step["experiment"].is_object() {
                    analysing = true;
                    let current = self.run_experiment_step(
                        &rollout, &sets, &stable, &hash, revision, index, now,
                    )?;
                    match current.phase.as_str() {
                        "Successful" => true,
                        "Failed" | "Error" => {
                            st["abort"] = json!(true);
                            abort_detail = Some(current.message.clone());
                            false
                        }
                        _ => {
                            st["canary"]["currentExperiment"] = json!(current.name);
                            experiment = Some(current);
                            false
                        }
                    }
                } else {
                    true
                };
                if completed {
                    index += 1;
                    remove(&mut st["canary"], "currentExperiment");
                    pause_conditions.retain(|c| c["reason"] != "CanaryPauseStep");
                    remove(&mut st, "controllerPause");
                    remove(&mut st["canary"], "currentStepAnalysisRunStatus");
                    let message =
                        format!("Rollout step {index}/{n} completed ({})", step_name(step));
                    self.record(&rollout, "Normal", "RolloutStepCompleted", &message, now);
                }
                if pause_conditions.is_empty() {
                    remove(&mut st, "pauseConditions");
                } else {
                    st["pauseConditions"] = json!(pause_conditions);
                }
            }
            if truthy(&st["abort"]) {
                for field in ["pauseConditions", "controllerPause"] {
                    remove(&mut st, field);
                }
                remove(&mut st["canary"], "currentExperiment");
                index = if stable == hash { n } else { 0 };
            }
            // Experiments of other steps, revisions, or of an aborted or fully promoted
            // update are terminated, as Argo cancels them.
            experiments::cancel_others(
                &self.store,
                &rollout,
                experiment.as_ref().map(|e| e.name.as_str()),
            )?;
            if n > 0 {
                st["currentStepIndex"] = json!(index);
            }
            let aborted = truthy(&st["abort"]);
            let weight = if stable == hash || aborted {
                0
            } else {
                set_weight(&steps, index)
            };
            let canary_count = (replicas * weight + 99) / 100;
            if stable != hash && !aborted && index >= n && available_of(&sets, &hash) >= replicas {
                promote_reason = Some(format!("Completed all {n} canary steps"));
            }
            desired = if stable == hash || promote_reason.is_some() {
                vec![(hash.clone(), replicas)]
            } else if traffic_routed || aborted {
                vec![(stable.clone(), replicas), (hash.clone(), canary_count)]
            } else {
                vec![
                    (stable.clone(), replicas - canary_count),
                    (hash.clone(), canary_count),
                ]
            };
            if traffic_routed {
                // Argo sends a canary no traffic until one of its pods is available.
                let canary_weight = if stable == hash
                    || promote_reason.is_some()
                    || available_of(&sets, &hash) == 0
                {
                    0
                } else {
                    weight
                };
                let stable_hash = if promote_reason.is_some() {
                    hash.as_str()
                } else {
                    stable.as_str()
                };
                let additional = experiment
                    .as_ref()
                    .map(|e| e.weights.as_slice())
                    .unwrap_or(&[]);
                st["canary"]["weights"] = traffic_routing::weights(
                    spec,
                    &st,
                    traffic_routing::Destination {
                        hash: &hash,
                        weight: canary_weight,
                    },
                    stable_hash,
                    additional,
                );
            }
        } else {
            // Blue-green: the new ReplicaSet comes up beside the active one as the preview.
            let bg = &spec["strategy"]["blueGreen"];
            let aborted = truthy(&st["abort"]);
            if stable == hash {
                desired = vec![(hash.clone(), replicas)];
            } else if aborted {
                desired = vec![(stable.clone(), replicas)];
                remove(&mut st, "pauseConditions");
                remove(&mut st, "controllerPause");
            } else {
                desired = vec![(stable.clone(), replicas), (hash.clone(), replicas)];
                let mut pause_conditions = st["pauseConditions"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                if available_of(&sets, &hash) >= replicas && !paused_by_user {
                    let manual = bg["autoPromotionEnabled"] == json!(false);
                    let waiting = pause_conditions
                        .iter()
                        .any(|c| c["reason"] == "BlueGreenPause");
                    if truthy(&st["promoteFull"])
                        || !manual
                        || (!waiting && truthy(&st["controllerPause"]))
                    {
                        promote_reason = Some("Completed blue-green update".to_string());
                    } else if !waiting {
                        pause_conditions
                            .push(json!({"reason": "BlueGreenPause", "startTime": rfc3339(now)}));
                        st["controllerPause"] = json!(true);
                        self.record(
                            &rollout,
                            "Normal",
                            "RolloutPaused",
                            "Rollout is paused (BlueGreenPause)",
                            now,
                        );
                    }
                }
                if pause_conditions.is_empty() {
                    remove(&mut st, "pauseConditions");
                } else {
                    st["pauseConditions"] = json!(pause_conditions);
                }
                if promote_reason.is_some() {
                    desired = vec![(hash.clone(), replicas)];
                }
            }
            let active = if promote_reason.is_some() || stable == hash {
                hash.as_str()
            } else {
                stable.as_str()
            };
            let preview = if aborted {
                stable.as_str()
            } else {
                hash.as_str()
            };
            st["blueGreen"] = json!({"activeSelector": active, "previewSelector": preview});
        }

        if let Some(reason) = &promote_reason {
            st["stableRS"] = json!(hash);
            if traffic_routing::ping_pong(spec) {
                let stable_service = str_at(&st, "canary.stablePingPong").to_string();
                st["canary"]["stablePingPong"] = json!(traffic_routing::swapped(&stable_service));
            }
            for field in ROLLOUT_REQUESTS {
                remove(&mut st, field);
            }
            st["duration"]["finishedAt"] = json!(rfc3339(now));
            st["duration"]["completionStatus"] = json!("Succeeded");
            let message =
                format!("Rollout completed update to revision {revision} ({hash}): {reason}");
            self.record(&rollout, "Normal", "RolloutCompleted", &message, now);
        }
        let aborted = truthy(&st["abort"]);
        if aborted && st["abortedAt"].is_null() {
            st["abortedAt"] = json!(rfc3339(now));
            st["duration"]["finishedAt"] = json!(rfc3339(now));
            st["duration"]["completionStatus"] = json!("Aborted");
            self.record(
                &rollout,
                "Warning",
                "RolloutAborted",
                &format!("Rollout aborted update to revision {revision}"),
                now,
            );
        }

        // Scale the ReplicaSets. A blue-green's or traffic-routed canary's old ReplicaSet
        // (neither the update nor stable) keeps its pods until its scale-down deadline.
        // Simplified: Argo also delays scaling down an aborted update's pods.
        let current_stable = str_at(&st, "stableRS").to_string();
        let scale_down_delay = traffic_routing::scale_down_delay_seconds(spec);
        let mut scale_down_at: Option<Timestamp> = None;
        for set in &mut sets {
            let want = desired
                .iter()
                .find(|(h, _)| h == set.hash())
                .map(|(_, c)| (*c).max(0))
                .unwrap_or(0);
            let old = set.hash() != hash && set.hash() != current_stable;
            match scale_down_delay {
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
        self.restart(key, &rollout, &mut st, &mut sets, tick, now);
        let history_limit = int_at(spec, "revisionHistoryLimit").unwrap_or(10).max(0) as usize;
        let mut old: Vec<usize> = (0..sets.len())
            .filter(|&i| {
                sets[i].hash() != hash
                    && sets[i].hash() != current_stable
                    && sets[i].desired() == 0
                    && !sets[i].created
            })
            .collect();
        old.sort_by_key(|&i| std::cmp::Reverse(objects::revision_of(&sets[i].value)));
        let expired: Vec<usize> = old.into_iter().skip(history_limit).collect();

        // Status from the ReplicaSets, as the controller computes it.
        let sum = |field: &str| {
            sets.iter()
                .enumerate()
                .filter(|(i, _)| !expired.contains(i))
                .map(|(_, s)| s.count(field))
                .sum::<i64>()
        };
        st["replicas"] = json!(sum("replicas"));
        st["HPAReplicas"] = json!(sum("replicas"));
        st["readyReplicas"] = json!(sum("readyReplicas"));
        st["availableReplicas"] = json!(sum("availableReplicas"));
        st["updatedReplicas"] = json!(
            sets.iter()
                .find(|s| s.hash() == hash)
                .map(|s| s.count("replicas"))
                .unwrap_or(0)
        );
        let selector: Vec<String> = spec["selector"]["matchLabels"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                    .collect()
            })
            .unwrap_or_default();
        st["selector"] = json!(selector.join(","));
        st["observedGeneration"] = json!(
            int_at(&rollout, "metadata.generation")
                .unwrap_or(1)
                .to_string()
        );
        if canary && !st["canary"].is_object() {
            st["canary"] = json!({});
        }
        if !canary && st["blueGreen"].is_null() {
            st["blueGreen"] = json!({});
        }
        self.manual_pause_duration(&mut st, paused_by_user, now);
        self.conditions(&rollout, &mut st, &hash, revision, abort_detail, now);

        // Write what changed: ReplicaSets first, then the rollout.
        for (i, set) in sets.iter().enumerate() {
            if expired.contains(&i) {
                self.store.delete(REPLICASETS, &set.key)?;
                self.traffic
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .forget(&VersionKey {
                        namespace: key.namespace.clone(),
                        rollout: name.to_string(),
                        pod_template_hash: set.hash().to_string(),
                    });
            } else {
                set.write(&self.store, now)?;
            }
        }
        let revision_text = revision.to_string();
        let expected = rollout["metadata"]["resourceVersion"].clone();
        let written = self.store.update(ROLLOUTS, key, |current| {
            if current["metadata"]["resourceVersion"] != expected {
                return Err(ApiError::conflict(
                    &crate::discovery::RESOURCES[ROLLOUTS],
                    &key.name,
                ));
            }
            current["status"] = st.clone();
            current["metadata"]["annotations"][REVISION_ANNOTATION] = json!(revision_text);
            Ok(())
        })?;
        let rollout_changed = written.revision != stored.revision;
        let experiment_images = experiment.map(|e| e.images).unwrap_or_default();
        self.share_traffic(key, &rollout, &st, &sets, &experiment_images);

        let phase = str_at(&st, "phase");
        let settled = !rollout_changed
            && sets.iter().all(Set::converged)
            && !analysing
            && !self.restarting.contains(key)
            && matches!(phase, "Healthy" | "Degraded" | "Paused");
        let wake = match (pause_ends, scale_down_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Ok(match wake {
            _ if !settled => NextLook::EveryTick,
            Some(at) => NextLook::At(at),
            None => NextLook::OnChange,
        })
    }

    /// The phase and message of the step's AnalysisRun, created on first sight and measured
    /// on ticks.
    #[allow(clippy::too_many_arguments)]
    fn run_analysis_step(
        &mut self,
        rollout: &Value,
        hash: &str,
        revision: u64,
        index: usize,
        step: &Value,
        now: Timestamp,
        tick: bool,
    ) -> Result<(String, String), ApiError> {
        let namespace = str_at(rollout, "metadata.namespace");
        let name = str_at(rollout, "metadata.name");
        let key = ObjectKey::new(namespace, &analysis::run_name(name, hash, revision, index));
        let Some(stored) = self.store.get(ANALYSIS_RUNS, &key) else {
            let templates =
                analysis::template_specs(&self.store, namespace, &step["analysis"]["templates"]);
            let run = analysis::new_run(rollout, hash, revision, index, &templates, now);
            let phase = str_at(&run, "status.phase").to_string();
            let message = str_at(&run, "status.message").to_string();
            self.store.create(ANALYSIS_RUNS, run, now)?;
            return Ok((phase, message));
        };
        let mut run = stored.value();
        if tick {
            let version = VersionKey {
                namespace: namespace.into(),
                rollout: name.into(),
                pod_template_hash: hash.into(),
            };
            let traffic = self.traffic.lock().unwrap_or_else(|p| p.into_inner());
            analysis::advance(&mut run, now, |seconds| {
                traffic.success_rate(&version, seconds)
            });
            drop(traffic);
            if run != stored.value() {
                self.store.update(ANALYSIS_RUNS, &key, |current| {
                    *current = run.clone();
                    Ok(())
                })?;
            }
        }
        Ok((
            str_at(&run, "status.phase").to_string(),
            str_at(&run, "status.message").to_string(),
        ))
    }

    /// The step's Experiment, created on first sight from the stable and canary ReplicaSets
    /// (the stable one exists: a rollout without one deploys at once, steps skipped).
    #[allow(clippy::too_many_arguments)]
    fn run_experiment_step(
        &mut self,
        rollout: &Value,
        sets: &[Set],
        stable: &str,
        hash: &str,
        revision: u64,
        index: usize,
        now: Timestamp,
    ) -> Result<experiments::Current, ApiError> {
        let of = |h: &str| sets.iter().find(|s| s.hash() == h).map(|s| &s.value);
        let (Some(stable_rs), Some(new_rs)) = (of(stable), of(hash)) else {
            return Err(ApiError::internal(
                "the experiment step has no stable or canary ReplicaSet",
            ));
        };
        let step = experiments::Step {
            rollout,
            stable_rs,
            new_rs,
            revision,
            index,
        };
        experiments::step(&self.store, &mut self.events, step, now)
    }

    /// `spec.restartAt`: one pod of the stable ReplicaSet restarts, then `status.restartedAt`.
    fn restart(
        &mut self,
        key: &ObjectKey,
        rollout: &Value,
        st: &mut Value,
        sets: &mut [Set],
        tick: bool,
        now: Timestamp,
    ) {
        let wanted = &rollout["spec"]["restartAt"];
        if wanted.is_null() || *wanted == st["restartedAt"] || !tick {
            return;
        }
        let stable = str_at(st, "stableRS").to_string();
        let Some(set) = sets.iter_mut().find(|s| s.hash() == stable) else {
            return;
        };
        if self.restarting.insert(key.clone()) {
            for field in ["readyReplicas", "availableReplicas"] {
                let n = set.count(field);
                set.value["status"][field] = json!((n - 1).max(0));
            }
        } else if set.converged() {
            self.restarting.remove(key);
            st["restartedAt"] = wanted.clone();
            self.record(
                rollout,
                "Normal",
                "RolloutRestarted",
                "Rollout restarted",
                now,
            );
        }
    }

    fn manual_pause_duration(&self, st: &mut Value, paused: bool, now: Timestamp) {
        let duration = &mut st["duration"];
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
            remove(st, "duration");
        }
    }

    fn conditions(
        &mut self,
        rollout: &Value,
        st: &mut Value,
        hash: &str,
        revision: u64,
        abort_detail: Option<String>,
        now: Timestamp,
    ) {
        let name = str_at(rollout, "metadata.name");
        let replicas = int_at(&rollout["spec"], "replicas").unwrap_or(1);
        let mut conditions: Vec<Value> = st["conditions"].as_array().cloned().unwrap_or_default();
        let paused = truthy(&rollout["spec"]["paused"])
            || st["pauseConditions"]
                .as_array()
                .is_some_and(|p| !p.is_empty());
        let promoted = str_at(st, "stableRS") == hash;
        let available = int_at(st, "availableReplicas").unwrap_or(0) >= replicas;
        if available {
            set_condition(
                &mut conditions,
                "Available",
                "True",
                "AvailableReason",
                "Rollout has minimum availability",
                now,
            );
        } else {
            set_condition(
                &mut conditions,
                "Available",
                "False",
                "AvailableReason",
                "Rollout does not have minimum availability",
                now,
            );
        }
        if truthy(&st["abort"]) {
            let existing = conditions
                .iter()
                .find(|c| c["type"] == "Progressing" && c["reason"] == "RolloutAborted")
                .map(|c| str_at(c, "message").to_string());
            let base = format!("Rollout aborted update to revision {revision}");
            let message = match (abort_detail, existing) {
                (Some(detail), _) if !detail.is_empty() => format!("{base}: {detail}"),
                (_, Some(existing)) => existing,
                _ => base,
            };
            set_condition(
                &mut conditions,
                "Progressing",
                "False",
                "RolloutAborted",
                &message,
                now,
            );
        } else if paused {
            set_condition(
                &mut conditions,
                "Progressing",
                "Unknown",
                "RolloutPaused",
                "Rollout is paused",
                now,
            );
        } else if promoted && available {
            set_condition(
                &mut conditions,
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                &format!("Rollout \"{name}\" has successfully progressed."),
                now,
            );
        } else {
            let replica_set = format!("{name}-{hash}");
            let current = conditions.iter().find(|c| c["type"] == "Progressing");
            match progress::assess(
                &rollout["spec"],
                &rollout["status"],
                st,
                current,
                &replica_set,
                now,
            ) {
                Assessment::Progressing => {
                    set_condition(
                        &mut conditions,
                        "Progressing",
                        "True",
                        progress::UPDATED_REASON,
                        &format!("ReplicaSet \"{replica_set}\" is progressing."),
                        now,
                    );
                    // Progress starts the deadline over, even when the words stay the same.
                    if let Some(c) = conditions.iter_mut().find(|c| c["type"] == "Progressing") {
                        c["lastUpdateTime"] = json!(rfc3339(now));
                    }
                }
                Assessment::TimedOut(message) => {
                    set_condition(
                        &mut conditions,
                        "Progressing",
                        "False",
                        progress::TIMED_OUT_REASON,
                        &message,
                        now,
                    );
                    // `progressDeadlineAbort`: Argo aborts the update it gave up on; the
                    // next reconcile scales it down.
                    if truthy(&rollout["spec"]["progressDeadlineAbort"]) {
                        st["abort"] = json!(true);
                        st["abortedAt"] = json!(rfc3339(now));
                        st["duration"]["finishedAt"] = json!(rfc3339(now));
                        st["duration"]["completionStatus"] = json!("Aborted");
                        self.record(rollout, "Warning", "RolloutAborted", &message, now);
                    }
                }
                Assessment::Waiting => {}
            }
        }
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
        if promoted {
            set_condition(
                &mut conditions,
                "Completed",
                "True",
                "RolloutCompleted",
                &format!("Rollout completed update to revision {revision} ({hash})"),
                now,
            );
        } else {
            set_condition(
                &mut conditions,
                "Completed",
                "False",
                "RolloutNotCompleted",
                &format!("Rollout not completed, started update to revision {revision} ({hash})"),
                now,
            );
        }
        st["conditions"] = json!(conditions);
        let (phase, message) = phase::rollout_phase(&rollout["spec"], st);
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
        st["conditions"] = json!(conditions);
        st["phase"] = json!(phase);
        st["message"] = json!(message);
    }

    /// Tell the traffic model how this rollout's requests split across its versions.
    /// `experiment_images`: (pod-template hash, image) of a running experiment's templates.
    fn share_traffic(
        &self,
        key: &ObjectKey,
        rollout: &Value,
        st: &Value,
        sets: &[Set],
        experiment_images: &[(String, String)],
    ) {
        let image_of = |h: &str| {
            sets.iter()
                .find(|s| s.hash() == h)
                .map(|s| s.image().to_string())
                .or_else(|| {
                    experiment_images
                        .iter()
                        .find(|(x, _)| x == h)
                        .map(|(_, image)| image.clone())
                })
                .unwrap_or_default()
        };
        let mut split: Vec<(String, f64)> = Vec::new();
        if rollout["spec"]["strategy"]["blueGreen"].is_object() {
            split.push((str_at(st, "blueGreen.activeSelector").to_string(), 100.0));
        } else if let Some(weights) = st["canary"]["weights"].as_object() {
            let additional = weights.get("additional").and_then(Value::as_array);
            let destinations = [&weights["stable"], &weights["canary"]]
                .into_iter()
                .chain(additional.into_iter().flatten());
            for destination in destinations {
                let h = str_at(destination, "podTemplateHash").to_string();
                let w = destination["weight"].as_f64().unwrap_or(0.0);
                match split.iter_mut().find(|(x, _)| *x == h) {
                    Some(entry) => entry.1 += w,
                    None => split.push((h, w)),
                }
            }
        } else {
            let total: i64 = sets.iter().map(|s| s.count("availableReplicas")).sum();
            for s in sets.iter().filter(|s| s.count("availableReplicas") > 0) {
                split.push((
                    s.hash().to_string(),
                    100.0 * s.count("availableReplicas") as f64 / total as f64,
                ));
            }
        }
        let split: Vec<(String, f64, Behaviour)> = split
            .into_iter()
            .filter(|(h, _)| !h.is_empty())
            .map(|(h, w)| {
                let behaviour = (self.versions.behaviour)(&key.namespace, &key.name, &image_of(&h));
                (h, w, behaviour)
            })
            .collect();
        self.traffic
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .set_split(&key.namespace, &key.name, &split);
    }
}

/// Drive a cluster's controller in simulated time until the task is aborted: a tick per
/// simulated second (catching up if the process fell behind), and a reaction to every
/// client write in between. `liveliness` starts new revisions on its own.
pub async fn run(
    mut controller: Controller,
    store: Arc<Store>,
    clock: crate::clock::SimClock,
    client_wrote: Arc<tokio::sync::Notify>,
    mut liveliness: Option<crate::scenarios::Liveliness>,
) {
    let mut second: i64 = 1;
    loop {
        let deadline = clock.wall_deadline(second as f64);
        tokio::select! {
            _ = tokio::time::sleep_until(deadline.into()) => {
                let now = clock.at(second as f64);
                if let Some(liveliness) = &mut liveliness {
                    liveliness.tick(&store, now);
                }
                controller.tick(now);
                second += 1;
            }
            _ = client_wrote.notified() => controller.react(clock.now()),
        }
    }
}
