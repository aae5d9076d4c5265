//! Experiments (`argoproj.io/v1alpha1`), as a canary's `experiment` step runs them.
//!
//! The rollouts controller's side ([`step`], [`cancel_others`]) follows Argo's
//! rollout/experiment.go: one Experiment per step, named `<rollout>-<hash>-<revision>-<step>`
//! and owned by the Rollout, its templates taken from the stable or the canary ReplicaSet
//! and its analyses' arguments resolved; the rollout moves past the step when the
//! Experiment succeeds and aborts when it fails. The experiment controller's side
//! ([`ExperimentController`]) follows experiments/experiment.go: a ReplicaSet per template,
//! owned by the Experiment; once they are all available the Experiment is Running
//! (`availableAt`) and starts its analyses' AnalysisRuns, also owned by it; it ends
//! Successful when its `duration` has passed, or Failed (Error) when an analysis or a
//! template does, and its ReplicaSets scale down after `scaleDownDelaySeconds`.
//!
//! Simplified: no Services are made for templates (a template's `weight` reaches the
//! traffic model through the rollout's weights), and the AnalysisRuns measure the success
//! rate of the template named `canary` (or else the last one), whatever their metrics say.

use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use serde_json::{Value, json};

use super::analysis;
use super::api_error::ApiError;
use super::clock::rfc3339;
use super::controller::Versions;
use super::discovery::{ANALYSIS_RUNS, EXPERIMENTS, REPLICASETS, RESOURCES};
use super::events::Recorder;
use super::objects::{
    self, HASH_LABEL, REVISION_ANNOTATION, duration_seconds, int_at, owner_reference, remove,
    set_condition, str_at, truthy,
};
use super::replica_sets::{DEFAULT_SCALE_DOWN_DELAY_SECONDS, Set};
use super::store::{ObjectKey, Store};
use super::traffic::{TrafficModel, VersionKey};

/// Annotations that tie an experiment's ReplicaSet to its Experiment and template.
const NAME_ANNOTATION: &str = "experiment.argoproj.io/name";
const TEMPLATE_ANNOTATION: &str = "experiment.argoproj.io/template-name";
/// Argo's default for an experiment's `progressDeadlineSeconds`.
const DEFAULT_DEADLINE_SECONDS: i64 = 600;

fn completed(phase: &str) -> bool {
    analysis::is_finished(phase)
}

fn template_completed(status: &str) -> bool {
    matches!(status, "Successful" | "Failed" | "Error")
}

/// The experiment step being reconciled: the rollout and its stable and canary ReplicaSets.
pub struct Step<'a> {
    pub rollout: &'a Value,
    pub stable_rs: &'a Value,
    pub new_rs: &'a Value,
    pub revision: u64,
    pub index: usize,
}

/// The step's Experiment as the rollout sees it.
pub struct Current {
    pub name: String,
    pub phase: String,
    pub message: String,
    /// Its templates' weight destinations while it runs (`status.canary.weights.additional`).
    pub weights: Vec<Value>,
    /// (pod-template hash, image) of its templates, for the traffic model.
    pub images: Vec<(String, String)>,
}

/// Argo's `BuildArgumentsForRolloutAnalysisRun`, for the pod-template hashes only
/// (`valueFrom.podTemplateHashValue`); other arguments are passed on as written.
fn resolve_args(args: &Value, stable_hash: &str, new_hash: &str) -> Value {
    let resolved: Vec<Value> = args
        .as_array()
        .into_iter()
        .flatten()
        .map(|arg| match str_at(arg, "valueFrom.podTemplateHashValue") {
            "Stable" => json!({"name": arg["name"], "value": stable_hash}),
            "Latest" => json!({"name": arg["name"], "value": new_hash}),
            _ => arg.clone(),
        })
        .collect();
    json!(resolved)
}

/// Argo's `GetExperimentFromTemplate`: the Experiment for the rollout's experiment step.
fn from_step(s: &Step, name: &str) -> Result<Value, ApiError> {
    let rollout = s.rollout;
    let step = &rollout["spec"]["strategy"]["canary"]["steps"][s.index]["experiment"];
    let hash_of = |rs: &Value| str_at(&rs["metadata"]["labels"], HASH_LABEL).to_string();
    let (stable_hash, new_hash) = (hash_of(s.stable_rs), hash_of(s.new_rs));
    let mut templates = Vec::new();
    for t in step["templates"].as_array().into_iter().flatten() {
        let source = match str_at(t, "specRef") {
            "stable" => s.stable_rs,
            "canary" => s.new_rs,
            _ => {
                return Err(ApiError::bad_request(
                    "Invalid template step SpecRef: must be canary or stable",
                ));
            }
        };
        let mut template = source["spec"]["template"].clone();
        let mut selector = match &t["selector"] {
            Value::Null => source["spec"]["selector"].clone(),
            given => given.clone(),
        };
        for (k, v) in t["metadata"]["labels"].as_object().into_iter().flatten() {
            template["metadata"]["labels"][k] = v.clone();
            selector["matchLabels"][k] = v.clone();
        }
        for (k, v) in t["metadata"]["annotations"]
            .as_object()
            .into_iter()
            .flatten()
        {
            template["metadata"]["annotations"][k] = v.clone();
        }
        let mut spec = json!({"name": t["name"], "selector": selector, "template": template});
        if !t["replicas"].is_null() {
            spec["replicas"] = t["replicas"].clone();
        }
        if !t["weight"].is_null() || !t["service"].is_null() {
            spec["service"] = match str_at(t, "service.name") {
                "" => json!({}),
                service => json!({"name": service}),
            };
        }
        templates.push(spec);
    }
    let analyses: Vec<Value> = step["analyses"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            let mut analysis = json!({"name": a["name"], "templateName": a["templateName"]});
            for flag in ["clusterScope", "requiredForCompletion"] {
                if truthy(&a[flag]) {
                    analysis[flag] = json!(true);
                }
            }
            if a["args"].is_array() {
                analysis["args"] = resolve_args(&a["args"], &stable_hash, &new_hash);
            }
            analysis
        })
        .collect();
    let mut labels = match &rollout["metadata"]["labels"] {
        Value::Object(labels) => Value::Object(labels.clone()),
        _ => json!({}),
    };
    labels[HASH_LABEL] = json!(new_hash);
    let mut spec = json!({"templates": templates});
    for (field, value) in [
        ("duration", &step["duration"]),
        (
            "progressDeadlineSeconds",
            &rollout["spec"]["progressDeadlineSeconds"],
        ),
    ] {
        if !value.is_null() {
            spec[field] = value.clone();
        }
    }
    if !analyses.is_empty() {
        spec["analyses"] = json!(analyses);
    }
    Ok(json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Experiment",
        "metadata": {
            "name": name,
            "namespace": rollout["metadata"]["namespace"],
            "labels": labels,
            "annotations": {REVISION_ANNOTATION: s.revision.to_string()},
            "ownerReferences": [owner_reference(rollout)],
        },
        "spec": spec,
    }))
}

fn owned_by(object: &Value, owner: &Value) -> bool {
    object["metadata"]["ownerReferences"][0]["uid"] == owner["metadata"]["uid"]
}

/// The pod-template hash of a template's ReplicaSet (its own hash label ignored).
fn template_hash(template: &Value) -> String {
    objects::pod_template_hash(&template["template"])
}

/// The experiment for the rollout's current step: the one `status.canary.currentExperiment`
/// names, or a new one (`-1`, `-2`, ... after a name already used, as after a retry).
pub fn step(
    store: &Store,
    events: &mut Recorder,
    s: Step,
    now: Timestamp,
) -> Result<Current, ApiError> {
    let rollout = s.rollout;
    let namespace = str_at(rollout, "metadata.namespace");
    let key = |name: &str| ObjectKey::new(namespace, name);
    let current = str_at(rollout, "status.canary.currentExperiment");
    let experiment = match store
        .get(EXPERIMENTS, &key(current))
        .filter(|_| !current.is_empty())
    {
        Some(stored) => stored.value(),
        None => {
            let base = format!(
                "{}-{}-{}-{}",
                str_at(rollout, "metadata.name"),
                str_at(&s.new_rs["metadata"]["labels"], HASH_LABEL),
                s.revision,
                s.index
            );
            let mut name = base.clone();
            let mut collisions = 0;
            loop {
                match store.get(EXPERIMENTS, &key(&name)).map(|e| e.value()) {
                    None => {
                        let created = store.create(EXPERIMENTS, from_step(&s, &name)?, now)?;
                        let message = format!("Created Experiment '{name}'");
                        events.record(rollout, "Normal", "ExperimentCreated", &message, now);
                        break created.value();
                    }
                    // Ours and still going: written before the status that names it.
                    Some(found)
                        if owned_by(&found, rollout)
                            && !completed(str_at(&found, "status.phase")) =>
                    {
                        break found;
                    }
                    Some(_) => {
                        collisions += 1;
                        name = format!("{base}-{collisions}");
                    }
                }
            }
        }
    };
    let phase = str_at(&experiment, "status.phase").to_string();
    let step_templates =
        &rollout["spec"]["strategy"]["canary"]["steps"][s.index]["experiment"]["templates"];
    let weight_of = |template: &str| {
        step_templates
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| t["name"] == template)
            .and_then(|t| t["weight"].as_i64())
    };
    let weights = experiment["status"]["templateStatuses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|_| phase == "Running")
        .filter_map(|ts| {
            let weight = weight_of(str_at(ts, "name"))?;
            Some(json!({"serviceName": ts["serviceName"], "podTemplateHash": ts["podTemplateHash"], "weight": weight}))
        })
        .collect();
    let images = experiment["spec"]["templates"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            let image = str_at(&t["template"]["spec"]["containers"][0], "image");
            (template_hash(t), image.to_string())
        })
        .collect();
    Ok(Current {
        name: str_at(&experiment, "metadata.name").to_string(),
        message: str_at(&experiment, "status.message").to_string(),
        phase,
        weights,
        images,
    })
}

/// Terminate the rollout's unfinished experiments but `keep` (the current step's), as
/// Argo cancels those of other steps and revisions, and all of an aborted or fully
/// promoted update.
pub fn cancel_others(store: &Store, rollout: &Value, keep: Option<&str>) -> Result<(), ApiError> {
    let namespace = str_at(rollout, "metadata.namespace");
    let prefix = format!("{}-", str_at(rollout, "metadata.name"));
    for stored in store.with_name_prefix(EXPERIMENTS, namespace, &prefix) {
        let experiment = stored.value();
        if !owned_by(&experiment, rollout)
            || Some(stored.key.name.as_str()) == keep
            || completed(str_at(&experiment, "status.phase"))
            || truthy(&experiment["spec"]["terminate"])
        {
            continue;
        }
        store.update(EXPERIMENTS, &stored.key, |current| {
            current["spec"]["terminate"] = json!(true);
            Ok(())
        })?;
    }
    Ok(())
}

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

/// Argo's order of template statuses, best first.
fn template_rank(status: &str) -> usize {
    ["Successful", "Running", "Progressing", "Error", "Failed"]
        .iter()
        .position(|s| *s == status)
        .unwrap_or(2)
}

/// Argo's order of analysis phases, least severe first.
fn analysis_rank(phase: &str) -> usize {
    [
        "Pending",
        "Running",
        "Successful",
        "Inconclusive",
        "Error",
        "Failed",
    ]
    .iter()
    .position(|p| *p == phase)
    .unwrap_or(0)
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
        self.calculate_phase(&experiment, &mut status, &analyses, progressed, now);
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

    /// Argo's `calculateStatus` and `calculateExperimentConditions`.
    fn calculate_phase(
        &self,
        experiment: &Value,
        status: &mut Value,
        analyses: &[Value],
        progressed: bool,
        now: Timestamp,
    ) {
        let name = str_at(experiment, "metadata.name");
        match str_at(status, "phase") {
            "" => status["phase"] = json!("Pending"),
            "Pending" | "Running" => {
                let worst_template = status["templateStatuses"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .max_by_key(|ts| template_rank(str_at(ts, "status")));
                let (template_phase, template_message) = match worst_template {
                    Some(ts) => (
                        match str_at(ts, "status") {
                            "Progressing" | "" => "Pending",
                            other => other,
                        },
                        str_at(ts, "message"),
                    ),
                    None => ("Successful", ""),
                };
                let (mut analyses_phase, mut analyses_message) = ("Successful", "");
                for run in status["analysisRuns"].as_array().into_iter().flatten() {
                    if analysis_rank(str_at(run, "phase")) > analysis_rank(analyses_phase) {
                        analyses_phase = str_at(run, "phase");
                        analyses_message = str_at(run, "message");
                    }
                }
                if analyses_phase == "Pending" {
                    analyses_phase = "Running";
                }
                let required = analyses.iter().any(|a| truthy(&a["requiredForCompletion"]));
                let (phase, message) = if template_completed(template_phase) {
                    if template_phase == "Successful" && (completed(analyses_phase) || required) {
                        (analyses_phase, analyses_message)
                    } else {
                        (template_phase, template_message)
                    }
                } else if completed(analyses_phase) && analyses_phase != "Successful" {
                    (analyses_phase, analyses_message)
                } else {
                    (template_phase, template_message)
                };
                let (phase, message) = (phase.to_string(), message.to_string());
                if template_phase == "Running" && status["availableAt"].is_null() {
                    status["availableAt"] = json!(rfc3339(now));
                }
                status["phase"] = json!(phase);
                if message.is_empty() {
                    remove(status, "message");
                } else {
                    status["message"] = json!(message);
                }
            }
            _ => {}
        }
        let mut conditions: Vec<Value> =
            status["conditions"].as_array().cloned().unwrap_or_default();
        if completed(str_at(status, "phase")) {
            let message = format!("Experiment \"{name}\" has successfully ran and completed.");
            set_condition(
                &mut conditions,
                "Progressing",
                "False",
                "ExperimentCompleted",
                &message,
                now,
            );
        } else if progressed {
            let message = format!("Experiment \"{name}\" is progressing.");
            set_condition(
                &mut conditions,
                "Progressing",
                "True",
                "ReplicaSetUpdated",
                &message,
                now,
            );
        } else if !status["availableAt"].is_null() {
            let message = format!("Experiment \"{name}\" is running.");
            set_condition(
                &mut conditions,
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                &message,
                now,
            );
        }
        if !conditions.is_empty() {
            status["conditions"] = json!(conditions);
        }
    }
}
