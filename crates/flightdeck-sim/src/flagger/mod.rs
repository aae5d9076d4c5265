//! A simulated Flagger: moves each Canary (flagger.app/v1beta1) through Flagger's phases
//! with [`step`], on its target Deployment and the `-primary` it creates, checks the
//! canary's success rate in the traffic model every `analysis.interval`, reads the load
//! tester's gates (served at the API server's service proxy), and hands the split of
//! requests between primary and canary to the traffic model.
//!
//! Its Deployments have their pods at once: the Deployment controller leaves them to it.

mod step;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::controller::Versions;
use crate::discovery::{CANARIES, DEPLOYMENTS};
use crate::events::Recorder;
use crate::objects::pod_template_hash;
use crate::store::{ObjectKey, Store};
use crate::traffic::{TrafficModel, VersionKey};
use step::{Effect, Plan, Seen, Status};

/// The share of requests an A/B test's `match` rules send to the canary in the
/// simulation (the users with the header or cookie), and the load tester's share of a
/// blue/green canary's during its checks.
const MATCHED_SHARE: f64 = 10.0;

pub struct FlaggerController {
    store: Arc<Store>,
    traffic: Arc<Mutex<TrafficModel>>,
    versions: Versions,
    events: Recorder,
    /// When each Canary's next check is due.
    next_check: HashMap<ObjectKey, Timestamp>,
}

impl FlaggerController {
    pub fn new(store: Arc<Store>, traffic: Arc<Mutex<TrafficModel>>, versions: Versions) -> Self {
        FlaggerController {
            events: Recorder::new(store.clone()),
            store,
            traffic,
            versions,
            next_check: HashMap::new(),
        }
    }

    /// A round over every Canary; `tick`: a simulated second has passed (checks are due
    /// only then).
    pub fn reconcile(&mut self, now: Timestamp, tick: bool) {
        let canaries = self.store.list(CANARIES, None, None, 0, &|_| true).items;
        for stored in canaries {
            let canary = stored.value();
            if let Err(e) = self.reconcile_one(&stored.key, &canary, now, tick) {
                tracing::warn!(
                    "simulated Flagger: canary {}/{}: {e}",
                    stored.key.namespace,
                    stored.key.name
                );
            }
        }
    }

    fn reconcile_one(
        &mut self,
        key: &ObjectKey,
        canary: &Value,
        now: Timestamp,
        tick: bool,
    ) -> Result<(), crate::api_error::ApiError> {
        let target_name = canary["spec"]["targetRef"]["name"]
            .as_str()
            .unwrap_or_default();
        let target_key = ObjectKey::new(&key.namespace, target_name);
        let Some(target) = self.store.get(DEPLOYMENTS, &target_key) else {
            return Ok(());
        };
        let target = target.value();
        let plan = Plan::read(canary);
        let status = Status::read(canary);
        let target_hash = pod_template_hash(&target["spec"]["template"]);
        let check = match status.phase.as_str() {
            "Progressing" if tick && !plan.suspend => {
                let due = *self
                    .next_check
                    .entry(key.clone())
                    .or_insert_with(|| after(now, plan.interval));
                (now >= due).then(|| {
                    self.next_check
                        .insert(key.clone(), after(now, plan.interval));
                    self.check(key, &target_hash, &plan)
                })
            }
            _ => None,
        };
        let gate = |name: &str| self.store.gate_open(&key.namespace, &key.name, name);
        let seen = Seen {
            target_hash: target_hash.clone(),
            check,
            rollout_gate_open: gate("gate"),
            promotion_gate_open: gate("gate"),
            rollback_gate_open: gate("rollback"),
        };
        let (next, effects, message) = step::step(&plan, &status, &seen);
        let primary_key = ObjectKey::new(&key.namespace, &format!("{target_name}-primary"));
        for effect in &effects {
            match effect {
                Effect::Promote => self.promote(&target, &primary_key, now)?,
                Effect::ScaleCanaryUp => {
                    let replicas = self
                        .store
                        .get(DEPLOYMENTS, &primary_key)
                        .and_then(|p| p.value()["spec"]["replicas"].as_i64())
                        .unwrap_or(1);
                    scale(&self.store, &target_key, replicas)?;
                }
                Effect::ScaleCanaryDown => scale(&self.store, &target_key, 0)?,
                Effect::CloseRollbackGate => {
                    self.store
                        .set_gate(&key.namespace, &key.name, "rollback", false)
                }
                Effect::ClosePromotionGate => {
                    self.store
                        .set_gate(&key.namespace, &key.name, "gate", false)
                }
            }
        }
        if next != status {
            if next.phase != status.phase || next.canary_weight != status.canary_weight {
                self.next_check
                    .insert(key.clone(), after(now, plan.interval));
            }
            let time = crate::clock::rfc3339(now);
            self.store.update(CANARIES, key, |object| {
                write_status(object, &next, &time);
                Ok(())
            })?;
            if let Some(message) = message {
                let kind = if next.phase == "Failed" {
                    "Warning"
                } else {
                    "Normal"
                };
                self.events.record(canary, kind, "Synced", &message, now);
            }
        }
        self.share_traffic(key, &next, &plan, &target, &primary_key, &target_hash);
        Ok(())
    }

    /// The canary passes while its success rate over the interval is at least the
    /// `request-success-rate` threshold; without requests yet, it passes.
    fn check(&self, key: &ObjectKey, target_hash: &str, plan: &Plan) -> bool {
        let version = VersionKey {
            namespace: key.namespace.clone(),
            rollout: key.name.clone(),
            pod_template_hash: target_hash.to_string(),
        };
        let traffic = self.traffic.lock().unwrap_or_else(|p| p.into_inner());
        traffic
            .success_rate(&version, plan.interval as usize)
            .is_none_or(|rate| rate * 100.0 >= plan.min_success)
    }

    /// Promotion: the primary gets the target's pod template (created on first sight).
    fn promote(
        &self,
        target: &Value,
        primary_key: &ObjectKey,
        now: Timestamp,
    ) -> Result<(), crate::api_error::ApiError> {
        let template = target["spec"]["template"].clone();
        if self.store.get(DEPLOYMENTS, primary_key).is_some() {
            self.store.update(DEPLOYMENTS, primary_key, |primary| {
                primary["spec"]["template"] = template;
                Ok(())
            })?;
            return Ok(());
        }
        let replicas = target["spec"]["replicas"].as_i64().unwrap_or(1).max(1);
        let mut primary = json!({
            "metadata": {
                "name": primary_key.name,
                "namespace": primary_key.namespace,
                "labels": {"app": primary_key.name},
            },
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": primary_key.name}},
                "template": template,
            },
        });
        primary["spec"]["template"]["metadata"]["labels"]["app"] = json!(primary_key.name);
        ready(&mut primary, replicas);
        self.store.create(DEPLOYMENTS, primary, now)?;
        Ok(())
    }

    fn share_traffic(
        &self,
        key: &ObjectKey,
        status: &Status,
        plan: &Plan,
        target: &Value,
        primary_key: &ObjectKey,
        target_hash: &str,
    ) {
        let Some(primary) = self.store.get(DEPLOYMENTS, primary_key) else {
            return;
        };
        let primary = primary.value();
        let image = |d: &Value| {
            d["spec"]["template"]["spec"]["containers"][0]["image"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        };
        let analysing = matches!(status.phase.as_str(), "Progressing" | "WaitingPromotion");
        let canary_share = match () {
            _ if !analysing => 0.0,
            _ if status.canary_weight > 0 => f64::from(status.canary_weight),
            _ if plan.iterations > 0 => MATCHED_SHARE,
            _ => 0.0,
        };
        let behaviour = |image: &str| (self.versions.behaviour)(&key.namespace, &key.name, image);
        // The primary's version is the last promoted spec (its own template differs by
        // the `-primary` labels), as the Canary's status names it.
        let primary_hash = if status.last_promoted.is_empty() {
            pod_template_hash(&primary["spec"]["template"])
        } else {
            status.last_promoted.clone()
        };
        let mut split = vec![(
            primary_hash.clone(),
            100.0 - canary_share,
            behaviour(&image(&primary)),
        )];
        if canary_share > 0.0 && primary_hash != target_hash {
            split.push((
                target_hash.to_string(),
                canary_share,
                behaviour(&image(target)),
            ));
        }
        self.traffic
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .set_split(&key.namespace, &key.name, &split);
    }
}

fn after(now: Timestamp, seconds: u64) -> Timestamp {
    now.checked_add(SignedDuration::from_secs(seconds as i64))
        .unwrap_or(now)
}

/// A Deployment's pods, all there at once.
fn ready(deployment: &mut Value, replicas: i64) {
    deployment["status"] = json!({
        "observedGeneration": deployment["metadata"]["generation"].as_i64().unwrap_or(1),
        "replicas": replicas, "updatedReplicas": replicas,
        "readyReplicas": replicas, "availableReplicas": replicas,
    });
}

fn scale(store: &Store, key: &ObjectKey, replicas: i64) -> Result<(), crate::api_error::ApiError> {
    store.update(DEPLOYMENTS, key, |d| {
        d["spec"]["replicas"] = json!(replicas);
        ready(d, replicas);
        Ok(())
    })?;
    Ok(())
}

fn write_status(canary: &mut Value, s: &Status, time: &str) {
    let generation = canary["metadata"]["generation"].clone();
    let promoted = match s.phase.as_str() {
        "Succeeded" | "Initialized" => (
            "True",
            "Succeeded",
            "Canary analysis completed successfully, promotion finished.",
        ),
        "Failed" => (
            "False",
            "Failed",
            "Canary analysis failed, Deployment scaled to zero.",
        ),
        "WaitingPromotion" => ("Unknown", "WaitingPromotion", "Waiting for approval."),
        "Waiting" => ("Unknown", "Waiting", "Waiting for approval."),
        _ => (
            "Unknown",
            "Progressing",
            "New revision detected, progressing canary analysis.",
        ),
    };
    // As Flagger's MakeStatusConditions: the transition time stays while the status
    // and reason do.
    let condition = &canary["status"]["conditions"][0];
    let since = match (condition["status"].as_str(), condition["reason"].as_str()) {
        (Some(status), Some(reason)) if (status, reason) == (promoted.0, promoted.1) => {
            condition["lastTransitionTime"]
                .as_str()
                .unwrap_or(time)
                .to_string()
        }
        _ => time.to_string(),
    };
    canary["status"] = json!({
        "observedGeneration": generation,
        "phase": s.phase,
        "canaryWeight": s.canary_weight,
        "iterations": s.iterations,
        "failedChecks": s.failed_checks,
        "lastAppliedSpec": s.last_applied,
        "lastPromotedSpec": s.last_promoted,
        "lastTransitionTime": time,
        "conditions": [{
            "type": "Promoted", "status": promoted.0, "reason": promoted.1,
            "message": promoted.2, "lastUpdateTime": time, "lastTransitionTime": since,
        }],
    });
}
