//! The rollouts controller's side of an experiment step (Argo's rollout/experiment.go):
//! the step's Experiment made from the rollout's stable and canary ReplicaSets, what the
//! rollout reads of it, and the cancelling of the experiments no step wants any more.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::{completed, template_hash};
use crate::api_error::ApiError;
use crate::discovery::EXPERIMENTS;
use crate::events::Recorder;
use crate::objects::{HASH_LABEL, REVISION_ANNOTATION, owner_reference, str_at, truthy};
use crate::store::{ObjectKey, Store};

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

#[cfg(test)]
mod tests {
    use super::*;

    fn replica_set(hash: &str, image: &str) -> Value {
        json!({"metadata": {"labels": {HASH_LABEL: hash}},
               "spec": {"selector": {"matchLabels": {"app": "web"}},
                        "template": {"metadata": {"labels": {"app": "web"}},
                                     "spec": {"containers": [{"name": "web", "image": image}]}}}})
    }

    fn rollout(templates: Value) -> Value {
        json!({"metadata": {"name": "web", "namespace": "shop", "uid": "u", "labels": {"team": "a"}},
               "kind": "Rollout",
               "spec": {"progressDeadlineSeconds": 120, "strategy": {"canary": {"steps": [
                   {"setWeight": 20},
                   {"experiment": {"duration": "2m", "templates": templates,
                                   "analyses": [{"name": "rate", "templateName": "success-rate",
                                                 "requiredForCompletion": true,
                                                 "args": [{"name": "stable", "valueFrom": {"podTemplateHashValue": "Stable"}},
                                                          {"name": "canary", "valueFrom": {"podTemplateHashValue": "Latest"}},
                                                          {"name": "service", "value": "web"}]}]}}]}}}})
    }

    #[test]
    fn the_experiment_takes_its_templates_from_stable_or_canary_and_resolves_hash_arguments() {
        let rollout = rollout(json!([
            {"name": "baseline", "specRef": "stable", "weight": 5, "metadata": {"labels": {"role": "baseline"}}},
            {"name": "canary", "specRef": "canary", "replicas": 2},
        ]));
        let (stable, canary) = (replica_set("old", "web:1"), replica_set("new", "web:2"));
        let step = Step {
            rollout: &rollout,
            stable_rs: &stable,
            new_rs: &canary,
            revision: 3,
            index: 1,
        };
        let experiment = from_step(&step, "web-new-3-1").unwrap();
        assert_eq!(
            experiment["metadata"]["labels"],
            json!({"team": "a", HASH_LABEL: "new"})
        );
        assert_eq!(
            experiment["metadata"]["annotations"][REVISION_ANNOTATION],
            json!("3")
        );
        let spec = &experiment["spec"];
        assert_eq!(
            (&spec["duration"], &spec["progressDeadlineSeconds"]),
            (&json!("2m"), &json!(120))
        );
        let baseline = &spec["templates"][0];
        assert_eq!(
            baseline["template"]["spec"]["containers"][0]["image"],
            json!("web:1")
        );
        assert_eq!(
            baseline["selector"]["matchLabels"],
            json!({"app": "web", "role": "baseline"})
        );
        assert_eq!(baseline["service"], json!({}), "a weight needs a service");
        let canary_template = &spec["templates"][1];
        assert_eq!(
            canary_template["template"]["spec"]["containers"][0]["image"],
            json!("web:2")
        );
        assert_eq!(canary_template["replicas"], json!(2));
        assert!(canary_template.get("service").is_none());
        assert_eq!(
            spec["analyses"],
            json!([{"name": "rate", "templateName": "success-rate", "requiredForCompletion": true,
                    "args": [{"name": "stable", "value": "old"}, {"name": "canary", "value": "new"},
                             {"name": "service", "value": "web"}]}])
        );
    }

    #[test]
    fn a_template_must_refer_to_stable_or_canary() {
        let rollout = rollout(json!([{"name": "x", "specRef": "preview"}]));
        let rs = replica_set("old", "web:1");
        let step = Step {
            rollout: &rollout,
            stable_rs: &rs,
            new_rs: &rs,
            revision: 1,
            index: 1,
        };
        assert!(from_step(&step, "web-old-1-1").is_err());
    }
}
