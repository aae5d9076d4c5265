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
//!
//! This module holds the loop and the requeue; [`rollout`] reconciles one rollout, with
//! the strategies in [`canary`] and [`blue_green`].

mod analysis;
mod blue_green;
mod canary;
mod conditions;
mod phase;
mod progress;
mod rollout;
mod scaling;
mod status;
mod traffic_routing;
mod traffic_split;

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use serde_json::Value;

use crate::clock::SimClock;
use crate::discovery::{ANALYSIS_RUNS, EXPERIMENTS, REPLICASETS, ROLLOUTS};
use crate::events::{self, Recorder};
use crate::experiments::ExperimentController;
use crate::replica_sets::Set;
use crate::scenarios::Liveliness;
use crate::store::{ChangeKind, ObjectKey, Store};
use crate::traffic::{Behaviour, TrafficModel};

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
    /// Flagger's Canaries, moved beside Argo's rollouts.
    flagger: crate::flagger::FlaggerController,
    /// Plain Deployments, rolled as Kubernetes rolls them.
    deployments: crate::deployments::DeploymentController,
    ticks: u64,
}

/// When a rollout needs reconciling again, if nothing about it changes first.
#[derive(Debug, PartialEq)]
enum NextLook {
    EveryTick,
    At(Timestamp),
    OnChange,
}

impl NextLook {
    /// A rollout still moving is looked at every tick; a settled one when its timed pause
    /// or an old ReplicaSet's scale-down delay ends, whichever comes first, or else only
    /// when something about it changes.
    fn after(
        settled: bool,
        pause_ends: Option<Timestamp>,
        scale_down_at: Option<Timestamp>,
    ) -> NextLook {
        let wake = match (pause_ends, scale_down_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match wake {
            _ if !settled => NextLook::EveryTick,
            Some(at) => NextLook::At(at),
            None => NextLook::OnChange,
        }
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
            flagger: crate::flagger::FlaggerController::new(
                store.clone(),
                traffic.clone(),
                versions,
            ),
            deployments: crate::deployments::DeploymentController::new(store.clone(), versions),
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
        self.flagger.reconcile(now, true);
        self.deployments.reconcile(now, true);
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
        self.flagger.reconcile(now, false);
        self.deployments.reconcile(now, false);
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
}

/// Drive a cluster's controller in simulated time until the task is aborted: a tick per
/// simulated second (catching up if the process fell behind), and a reaction to every
/// client write in between. `liveliness` starts new revisions on its own.
pub async fn run(
    mut controller: Controller,
    store: Arc<Store>,
    clock: SimClock,
    client_wrote: Arc<tokio::sync::Notify>,
    mut liveliness: Option<Liveliness>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_settled_rollout_waits_for_the_first_of_its_timers_or_a_change() {
        let at = |s: i64| Timestamp::from_second(s).unwrap();
        assert_eq!(
            NextLook::after(false, Some(at(10)), None),
            NextLook::EveryTick
        );
        assert_eq!(
            NextLook::after(true, Some(at(30)), Some(at(20))),
            NextLook::At(at(20))
        );
        assert_eq!(
            NextLook::after(true, Some(at(30)), None),
            NextLook::At(at(30))
        );
        assert_eq!(
            NextLook::after(true, None, Some(at(5))),
            NextLook::At(at(5))
        );
        assert_eq!(NextLook::after(true, None, None), NextLook::OnChange);
    }

    /// A ReplicaSet of revision `revision` as read from the store, for the tests of the
    /// controller's decisions.
    pub(super) fn read_set(hash: &str, revision: u64, desired: i64, available: i64) -> Set {
        use crate::objects::{HASH_LABEL, REVISION_ANNOTATION};
        let value = serde_json::json!({
            "metadata": {"name": format!("web-{hash}"), "namespace": "shop",
                         "labels": {HASH_LABEL: hash},
                         "annotations": {REVISION_ANNOTATION: revision.to_string()}},
            "spec": {"replicas": desired},
            "status": {"replicas": desired, "readyReplicas": available, "availableReplicas": available},
        });
        Set::read(&crate::store::Stored {
            key: ObjectKey::of(&value),
            json: serde_json::to_vec(&value).unwrap().into(),
            labels: Default::default(),
            revision: 1,
        })
    }
}
