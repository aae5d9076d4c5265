//! The experiment controller's side (Argo's experiments/experiment.go): a ReplicaSet per
//! template, owned by the Experiment; once they are all available the Experiment is
//! Running and starts its analyses' AnalysisRuns; it ends when its duration has passed or
//! a template or an analysis fails, and its ReplicaSets scale down after
//! `scaleDownDelaySeconds`.

use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use serde_json::{Value, json};

use super::{completed, status, template_completed, template_hash};
use crate::analysis;
use crate::api_error::ApiError;
use crate::clock::rfc3339;
use crate::controller::Versions;
use crate::discovery::{ANALYSIS_RUNS, EXPERIMENTS, REPLICASETS, RESOURCES};
use crate::events::Recorder;
use crate::objects::{
    HASH_LABEL, duration_seconds, int_at, owner_reference, remove, str_at, truthy,
};
use crate::replica_sets::{DEFAULT_SCALE_DOWN_DELAY_SECONDS, Set};
use crate::store::{ObjectKey, Store};
use crate::traffic::{TrafficModel, VersionKey};

/// Annotations that tie an experiment's ReplicaSet to its Experiment and template.
const NAME_ANNOTATION: &str = "experiment.argoproj.io/name";
const TEMPLATE_ANNOTATION: &str = "experiment.argoproj.io/template-name";
/// Argo's default for an experiment's `progressDeadlineSeconds`.
const DEFAULT_DEADLINE_SECONDS: i64 = 600;

/// A template's ReplicaSet, as Argo's `newReplicaSetFromTemplate` makes it.
fn template_replica_set(
    experiment: &Value,
    template: &Value,
    replicas: i64,
    now: Timestamp,
) -> Value {
    let experiment_name = str_at(experiment, "metadata.name");
    let template_name = str_at(template, "name");
    let hash = template_hash(template);
    let mut pod_template = template["template"].clone();
    pod_template["metadata"]["labels"][HASH_LABEL] = json!(hash);
    let mut selector = template["selector"].clone();
    selector["matchLabels"][HASH_LABEL] = json!(hash);
    json!({
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": format!("{experiment_name}-{template_name}"),
            "namespace": experiment["metadata"]["namespace"],
            "creationTimestamp": rfc3339(now),
            "labels": {HASH_LABEL: hash},
            "annotations": {NAME_ANNOTATION: experiment_name, TEMPLATE_ANNOTATION: template_name},
            "ownerReferences": [owner_reference(experiment)],
        },
        "spec": {"replicas": replicas, "selector": selector, "template": pod_template},
        "status": {"replicas": 0, "observedGeneration": 1},
    })
}

/// Runs the experiments of one simulated cluster.
pub struct ExperimentController {
    store: Arc<Store>,
    traffic: Arc<Mutex<TrafficModel>>,
    versions: Versions,
    events: Recorder,
}

impl ExperimentController {
    pub fn new(store: Arc<Store>, traffic: Arc<Mutex<TrafficModel>>, versions: Versions) -> Self {
        ExperimentController {
            events: Recorder::new(store.clone()),
            store,
            traffic,
            versions,
        }
    }

    /// Reconcile every experiment not yet over (finished, its ReplicaSets scaled down);
    /// pods and analyses advance on ticks only.
    pub fn reconcile(&mut self, now: Timestamp, tick: bool) {
        for stored in self.store.list(EXPERIMENTS, None, None, 0, &|_| true).items {
            let experiment = stored.value();
            let pods_left = experiment["status"]["templateStatuses"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|ts| int_at(ts, "replicas").unwrap_or(0) > 0);
            if completed(str_at(&experiment, "status.phase")) && !pods_left {
                continue;
            }
            match self.reconcile_one(&stored.key, experiment, now, tick) {
                Ok(()) => {}
                Err(e) if e.reason == "Conflict" => {}
                Err(e) => tracing::warn!(
                    "simulated controller: experiment {}/{}: {e}",
                    stored.key.namespace,
                    stored.key.name
                ),
            }
        }
    }

    fn reconcile_one(
        &mut self,
        key: &ObjectKey,
        experiment: Value,
        now: Timestamp,
        tick: bool,
    ) -> Result<(), ApiError> {
        let spec = &experiment["spec"];
        let mut status = match &experiment["status"] {
            Value::Object(status) => Value::Object(status.clone()),
            _ => json!({}),
        };
        let terminating = truthy(&spec["terminate"]) || completed(str_at(&status, "phase"));
        let available_at = str_at(&status, "availableAt").parse::<Timestamp>().ok();
        let duration_passed = match (
            available_at,
            spec.get("duration").and_then(duration_seconds),
        ) {
            (Some(at), Some(seconds)) => (now.as_second() - at.as_second()) as f64 >= seconds,
            _ => false,
        };
        let templates = spec["templates"].as_array().cloned().unwrap_or_default();
        let mut progressed = false;
        let mut template_statuses = Vec::new();
        for template in &templates {
            let (template_status, moved) = self.reconcile_template(
                &experiment,
                template,
                terminating,
                duration_passed,
                now,
                tick,
            )?;
            progressed |= moved;
            template_statuses.push(template_status);
        }
        status["templateStatuses"] = json!(template_statuses);
        let analyses = spec["analyses"].as_array().cloned().unwrap_or_default();
        let mut run_statuses = Vec::new();
        for a in &analyses {
            run_statuses.push(self.reconcile_analysis(
                &experiment,
                a,
                &templates,
                terminating,
                now,
                tick,
            )?);
        }
        if run_statuses.is_empty() {
            remove(&mut status, "analysisRuns");
        } else {
            status["analysisRuns"] = json!(run_statuses);
        }
        status::calculate_status(&experiment, &mut status, &analyses, progressed, now);
        if status == experiment["status"] {
            return Ok(());
        }
        let expected = experiment["metadata"]["resourceVersion"].clone();
        self.store.update(EXPERIMENTS, key, |current| {
            if current["metadata"]["resourceVersion"] != expected {
                return Err(ApiError::conflict(&RESOURCES[EXPERIMENTS], &key.name));
            }
            current["status"] = status.clone();
            Ok(())
        })?;
        Ok(())
    }

    /// One template: its ReplicaSet created, scaled and written, and its status. Says
    /// whether its pods moved (progress, for the Progressing condition).
    fn reconcile_template(
        &mut self,
        experiment: &Value,
        template: &Value,
        terminating: bool,
        duration_passed: bool,
        now: Timestamp,
        tick: bool,
    ) -> Result<(Value, bool), ApiError> {
        let name = str_at(template, "name");
        let previous = experiment["status"]["templateStatuses"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|ts| ts["name"] == name)
            .cloned()
            .unwrap_or_else(|| json!({"name": name}));
        let mut ts = previous.clone();
        let desired = if terminating || template_completed(str_at(&ts, "status")) {
            0
        } else {
            int_at(template, "replicas").unwrap_or(1)
        };
        let rs_key = ObjectKey::new(
            str_at(experiment, "metadata.namespace"),
            &format!("{}-{name}", str_at(experiment, "metadata.name")),
        );
        let mut set = match self.store.get(REPLICASETS, &rs_key) {
            Some(stored) => Set::read(&stored),
            None => {
                ts["lastTransitionTime"] = json!(rfc3339(now));
                let set = Set::new(template_replica_set(experiment, template, desired, now));
                if desired > 0 {
                    let message = format!("Created ReplicaSet {} with size {desired}", rs_key.name);
                    self.events
                        .record(experiment, "Normal", "NewReplicaSetCreated", &message, now);
                }
                set
            }
        };
        if !set.created {
            if tick {
                let image_pulls = (self.versions.image_exists)(set.image());
                set.advance_pods(image_pulls);
            }
            if desired == 0 {
                let delay = int_at(&experiment["spec"], "scaleDownDelaySeconds")
                    .unwrap_or(DEFAULT_SCALE_DOWN_DELAY_SECONDS);
                set.scale_down_after(delay, now);
            } else if set.desired() != desired {
                set.drop_scale_down_deadline();
                set.scale(desired);
                ts["lastTransitionTime"] = json!(rfc3339(now));
            }
        }
        let mut moved = false;
        for (field, count) in [
            ("replicas", set.count("replicas")),
            ("updatedReplicas", set.count("replicas")),
            ("readyReplicas", set.count("readyReplicas")),
            ("availableReplicas", set.count("availableReplicas")),
        ] {
            moved |= int_at(&ts, field) != Some(count);
            ts[field] = json!(count);
        }
        if moved {
            ts["lastTransitionTime"] = json!(rfc3339(now));
        }
        if template["service"].is_object() {
            let service = match str_at(template, "service.name") {
                "" => rs_key.name.clone(),
                named => named.to_string(),
            };
            ts["serviceName"] = json!(service);
            ts["podTemplateHash"] = json!(set.hash());
        }
        if !template_completed(str_at(&ts, "status")) {
            let available = set.count("availableReplicas");
            let deadline = int_at(&experiment["spec"], "progressDeadlineSeconds")
                .unwrap_or(DEFAULT_DEADLINE_SECONDS);
            let since = str_at(&ts, "lastTransitionTime")
                .parse::<Timestamp>()
                .unwrap_or(now);
            let next = if desired == available {
                if duration_passed || terminating {
                    "Successful"
                } else {
                    "Running"
                }
            } else if now.as_second() - since.as_second() > deadline {
                ts["message"] = json!(format!(
                    "Template '{name}' exceeded its progressDeadlineSeconds ({deadline})"
                ));
                "Failed"
            } else if terminating {
                "Successful"
            } else {
                "Progressing"
            };
            ts["status"] = json!(next);
        }
        let (before, after) = (str_at(&previous, "status"), str_at(&ts, "status"));
        if before != after {
            let mut message = format!("Template '{name}' transitioned from {before} -> {after}");
            if !str_at(&ts, "message").is_empty() {
                message = format!("{message}: {}", str_at(&ts, "message"));
            }
            let kind = if matches!(after, "Failed" | "Error") {
                "Warning"
            } else {
                "Normal"
            };
            self.events
                .record(experiment, kind, &format!("Template{after}"), &message, now);
        }
        set.write(&self.store, now)?;
        Ok((ts, moved))
    }

    /// One analysis: its AnalysisRun created once the experiment is available, measured on
    /// ticks, terminated with the experiment; its status.
    fn reconcile_analysis(
        &mut self,
        experiment: &Value,
        a: &Value,
        templates: &[Value],
        terminating: bool,
        now: Timestamp,
        tick: bool,
    ) -> Result<Value, ApiError> {
        let namespace = str_at(experiment, "metadata.namespace");
        let name = str_at(a, "name");
        let previous = experiment["status"]["analysisRuns"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["name"] == name)
            .cloned()
            .unwrap_or_else(|| json!({"name": name}));
        let mut rs = previous.clone();
        let templates_of = || analysis::template_specs(&self.store, namespace, &json!([a]));
        if experiment["status"]["availableAt"].is_null() {
            if let Some(Err(missing)) = templates_of().into_iter().find(Result::is_err) {
                rs["phase"] = json!("Error");
                rs["message"] = json!(format!(
                    "AnalysisTemplate verification failed for analysis '{name}': analysistemplates.argoproj.io \"{missing}\" not found"
                ));
            }
        } else if str_at(&rs, "analysisRun").is_empty() {
            if !terminating {
                let run_name = format!("{}-{name}", str_at(experiment, "metadata.name"));
                let run = analysis::new_owned_run(
                    experiment,
                    &run_name,
                    json!({}),
                    json!({}),
                    &templates_of(),
                    now,
                );
                self.store.create(ANALYSIS_RUNS, run, now)?;
                rs["analysisRun"] = json!(run_name);
                rs["phase"] = json!("Pending");
            }
        } else if !completed(str_at(&rs, "phase")) {
            let key = ObjectKey::new(namespace, str_at(&rs, "analysisRun"));
            match self.store.get(ANALYSIS_RUNS, &key) {
                None => {
                    rs["phase"] = json!("Error");
                    rs["message"] = json!(format!(
                        "analysisruns.argoproj.io \"{}\" not found",
                        key.name
                    ));
                }
                Some(stored) => {
                    let read = stored.value();
                    let mut run = read.clone();
                    if terminating {
                        analysis::terminate(&mut run, now);
                    } else {
                        if tick {
                            let version = self.measured_version(experiment, templates);
                            let traffic = self.traffic.lock().unwrap_or_else(|p| p.into_inner());
                            analysis::advance(&mut run, now, |seconds| {
                                traffic.success_rate(&version, seconds)
                            });
                        }
                        rs["phase"] = run["status"]["phase"].clone();
                        match str_at(&run, "status.message") {
                            "" => remove(&mut rs, "message"),
                            message => rs["message"] = json!(message),
                        }
                    }
                    if run != read {
                        self.store.update(ANALYSIS_RUNS, &key, |current| {
                            *current = run.clone();
                            Ok(())
                        })?;
                    }
                }
            }
        }
        let (before, after) = (str_at(&previous, "phase"), str_at(&rs, "phase"));
        if before != after && !after.is_empty() {
            let mut message = format!("AnalysisRun '{name}' transitioned from {before} -> {after}");
            if !str_at(&rs, "message").is_empty() {
                message = format!("{message}: {}", str_at(&rs, "message"));
            }
            let kind = if matches!(after, "Failed" | "Error" | "Inconclusive") {
                "Warning"
            } else {
                "Normal"
            };
            self.events.record(
                experiment,
                kind,
                &format!("AnalysisRun{after}"),
                &message,
                now,
            );
        }
        Ok(rs)
    }

    /// The version an experiment's analysis measures: the `canary` template's pods (or the
    /// last template's), as one of its rollout's versions.
    fn measured_version(&self, experiment: &Value, templates: &[Value]) -> VersionKey {
        let measured = templates
            .iter()
            .find(|t| t["name"] == "canary")
            .or(templates.last());
        let owner = &experiment["metadata"]["ownerReferences"][0];
        let rollout = if owner["kind"] == "Rollout" {
            str_at(owner, "name")
        } else {
            str_at(experiment, "metadata.name")
        };
        VersionKey {
            namespace: str_at(experiment, "metadata.namespace").to_string(),
            rollout: rollout.to_string(),
            pod_template_hash: measured.map(template_hash).unwrap_or_default(),
        }
    }
}
