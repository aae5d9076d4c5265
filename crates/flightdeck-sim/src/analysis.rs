//! AnalysisRuns for canary `analysis` steps: created from the step's AnalysisTemplates,
//! measured on their `interval` until `count`, judged by `successCondition` /
//! `failureCondition` and `failureLimit` as Argo judges them.
//!
//! Whatever the provider (Prometheus, Datadog, ...), the simulator measures one thing: the
//! canary's success rate (0-1) over the metric's interval, from the traffic model.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::clock::rfc3339;
use super::discovery::{ANALYSIS_TEMPLATES, CLUSTER_ANALYSIS_TEMPLATES};
use super::objects::{
    HASH_LABEL, REVISION_ANNOTATION, duration_seconds, int_at, owner_reference, str_at, truthy,
};
use super::store::{ObjectKey, Store};

/// Measurements kept per metric, as Argo's default retention.
const KEEP_MEASUREMENTS: usize = 10;

pub fn run_name(rollout: &str, hash: &str, revision: u64, step: usize) -> String {
    format!("{rollout}-{hash}-{revision}-{step}")
}

/// The specs of the AnalysisTemplates that `refs` (`[{templateName, clusterScope}]`) name,
/// or the names of those that do not exist.
pub fn template_specs(store: &Store, namespace: &str, refs: &Value) -> Vec<Result<Value, String>> {
    refs.as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            let name = str_at(t, "templateName");
            let found = if truthy(&t["clusterScope"]) {
                store.get(CLUSTER_ANALYSIS_TEMPLATES, &ObjectKey::new("", name))
            } else {
                store.get(ANALYSIS_TEMPLATES, &ObjectKey::new(namespace, name))
            };
            found
                .map(|s| s.value()["spec"].clone())
                .ok_or_else(|| name.to_string())
        })
        .collect()
}

/// A new AnalysisRun for step `step` of the rollout's revision. `templates` are the
/// referenced templates' specs; a missing template makes a run that errors at once.
pub fn new_run(
    rollout: &Value,
    hash: &str,
    revision: u64,
    step: usize,
    templates: &[Result<Value, String>],
    now: Timestamp,
) -> Value {
    let name = str_at(rollout, "metadata.name");
    let labels = json!({HASH_LABEL: hash, "rollout-type": "Step", "step-index": step.to_string()});
    let annotations = json!({REVISION_ANNOTATION: revision.to_string()});
    let name = run_name(name, hash, revision, step);
    new_owned_run(rollout, &name, labels, annotations, templates, now)
}

/// A new AnalysisRun named `name`, owned by `owner` (a Rollout or an Experiment).
pub fn new_owned_run(
    owner: &Value,
    name: &str,
    labels: Value,
    annotations: Value,
    templates: &[Result<Value, String>],
    now: Timestamp,
) -> Value {
    let mut metrics = Vec::new();
    let mut missing = Vec::new();
    for template in templates {
        match template {
            Ok(spec) => metrics.extend(spec["metrics"].as_array().cloned().unwrap_or_default()),
            Err(name) => missing.push(name.clone()),
        }
    }
    let mut run = json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisRun",
        "metadata": {
            "name": name,
            "namespace": owner["metadata"]["namespace"],
            "labels": labels,
            "annotations": annotations,
            "ownerReferences": [owner_reference(owner)],
        },
        "spec": {"metrics": metrics},
        "status": {"phase": "Pending", "startedAt": rfc3339(now)},
    });
    if !missing.is_empty() {
        run["status"]["phase"] = json!("Error");
        run["status"]["message"] = json!(format!(
            "AnalysisTemplate not found: {}",
            missing.join(", ")
        ));
    }
    run
}

pub fn is_finished(phase: &str) -> bool {
    matches!(phase, "Successful" | "Failed" | "Error" | "Inconclusive")
}

/// `spec.terminate`: the run stops where it is, and Argo counts a terminated run as
/// Successful.
pub fn terminate(run: &mut Value, now: Timestamp) {
    if is_finished(str_at(run, "status.phase")) {
        return;
    }
    run["spec"]["terminate"] = json!(true);
    run["status"]["phase"] = json!("Successful");
    run["status"]["message"] = json!("Run Terminated");
    run["status"]["completedAt"] = json!(rfc3339(now));
}

/// `result[0] >= 0.95`, `result < 0.9 && len(result) > 0`: what the simulator can evaluate.
fn evaluate(condition: &str, value: f64) -> Result<bool, String> {
    let mut verdict = true;
    for clause in condition.split("&&").map(str::trim) {
        if clause.starts_with("len(result)") {
            continue;
        }
        let op = [">=", "<=", "==", "!=", ">", "<"]
            .into_iter()
            .find(|op| clause.contains(op))
            .ok_or_else(|| format!("cannot evaluate {clause:?}"))?;
        let (lhs, rhs) = clause.split_once(op).expect("op was found in clause");
        if !matches!(
            lhs.trim(),
            "result" | "result[0]" | "asFloat(result)" | "asFloat(result[0])"
        ) {
            return Err(format!(
                "cannot evaluate {clause:?}: only result and result[0] are known"
            ));
        }
        let rhs: f64 = rhs
            .trim()
            .parse()
            .map_err(|_| format!("cannot evaluate {clause:?}: {rhs:?} is not a number"))?;
        verdict &= match op {
            ">=" => value >= rhs,
            "<=" => value <= rhs,
            "==" => value == rhs,
            "!=" => value != rhs,
            ">" => value > rhs,
            _ => value < rhs,
        };
    }
    Ok(verdict)
}

fn count_of(metric: &Value, key: &str) -> Option<i64> {
    metric
        .get(key)
        .and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()))
}

/// Take the measurements that are due and judge the run. `success_rate(seconds)` is the
/// canary's success rate over the last `seconds`, `None` while it has had no requests.
pub fn advance(run: &mut Value, now: Timestamp, success_rate: impl Fn(usize) -> Option<f64>) {
    if is_finished(str_at(run, "status.phase")) {
        return;
    }
    let metrics = run["spec"]["metrics"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut results: Vec<Value> = run["status"]["metricResults"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for metric in &metrics {
        let name = str_at(metric, "name");
        let position = match results.iter().position(|r| r["name"] == name) {
            Some(p) => p,
            None => {
                results.push(json!({"name": name, "phase": "Running", "count": 0, "successful": 0, "failed": 0,
                                    "inconclusive": 0, "error": 0, "consecutiveError": 0, "measurements": []}));
                results.len() - 1
            }
        };
        let result = &mut results[position];
        if is_finished(str_at(result, "phase")) {
            continue;
        }
        let interval = metric.get("interval").and_then(duration_seconds);
        let count = count_of(metric, "count").or(if interval.is_none() { Some(1) } else { None });
        let failure_limit = count_of(metric, "failureLimit").unwrap_or(0);
        let last_finished = result["measurements"]
            .as_array()
            .and_then(|m| m.last())
            .and_then(|m| m["finishedAt"].as_str()?.parse::<Timestamp>().ok());
        let due = match (last_finished, interval) {
            (None, _) => true,
            (Some(last), Some(every)) => now.as_second() - last.as_second() >= every as i64,
            (Some(_), None) => false,
        };
        if !due {
            continue;
        }
        let Some(value) = success_rate(interval.unwrap_or(60.0) as usize) else {
            continue;
        };
        let failed = metric["failureCondition"]
            .as_str()
            .map(|c| evaluate(c, value))
            .transpose();
        let succeeded = metric["successCondition"]
            .as_str()
            .map(|c| evaluate(c, value))
            .transpose();
        let (phase, message) = match (failed, succeeded) {
            (Err(e), _) | (_, Err(e)) => ("Error", Some(e)),
            (Ok(Some(true)), _) | (_, Ok(Some(false))) => ("Failed", None),
            _ => ("Successful", None),
        };
        let counter = match phase {
            "Successful" => "successful",
            "Failed" => "failed",
            _ => "error",
        };
        result[counter] = json!(result[counter].as_i64().unwrap_or(0) + 1);
        result["count"] = json!(result["count"].as_i64().unwrap_or(0) + 1);
        let mut measurement = json!({"phase": phase, "value": format!("{value:.4}"), "startedAt": rfc3339(now), "finishedAt": rfc3339(now)});
        if let Some(message) = message {
            measurement["message"] = json!(message);
        }
        let measurements = result["measurements"]
            .as_array_mut()
            .expect("measurements is a list");
        measurements.push(measurement);
        if measurements.len() > KEEP_MEASUREMENTS {
            measurements.remove(0);
        }
        let failed = result["failed"].as_i64().unwrap_or(0);
        let errors = result["error"].as_i64().unwrap_or(0);
        let taken = result["count"].as_i64().unwrap_or(0);
        if errors > 0 {
            result["phase"] = json!("Error");
            result["message"] = result["measurements"]
                .as_array()
                .and_then(|m| m.last())
                .map(|m| m["message"].clone())
                .unwrap_or(Value::Null);
        } else if failed > failure_limit {
            result["phase"] = json!("Failed");
            result["message"] = json!(format!(
                "Metric \"{name}\" assessed Failed due to failed ({failed}) > failureLimit ({failure_limit})"
            ));
        } else if count.is_some_and(|c| taken >= c) {
            result["phase"] = json!("Successful");
        }
    }
    let phases: Vec<&str> = results.iter().map(|r| str_at(r, "phase")).collect();
    let (phase, message) = if let Some(bad) = results
        .iter()
        .find(|r| matches!(str_at(r, "phase"), "Failed" | "Error"))
    {
        (str_at(bad, "phase").to_string(), bad["message"].clone())
    } else if !phases.is_empty()
        && phases.iter().all(|p| *p == "Successful")
        && results.len() == metrics.len()
    {
        ("Successful".to_string(), Value::Null)
    } else {
        ("Running".to_string(), Value::Null)
    };
    let total = |key: &str| {
        results
            .iter()
            .map(|r| int_at(r, key).unwrap_or(0))
            .sum::<i64>()
    };
    run["status"]["runSummary"] = json!({
        "count": metrics.len(),
        "successful": phases.iter().filter(|p| **p == "Successful").count(),
        "failed": phases.iter().filter(|p| **p == "Failed").count(),
        "inconclusive": 0,
        "error": phases.iter().filter(|p| **p == "Error").count(),
    });
    let measured = total("count");
    run["status"]["phase"] = json!(phase);
    if !message.is_null() {
        run["status"]["message"] = message;
    }
    if is_finished(&phase) {
        run["status"]["completedAt"] = json!(rfc3339(now));
    }
    if measured > 0 || !results.is_empty() {
        run["status"]["metricResults"] = json!(results);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_with(metric: Value) -> Value {
        let rollout =
            json!({"metadata": {"name": "checkout", "namespace": "shop", "uid": "u"}, "spec": {}});
        new_run(
            &rollout,
            "abc",
            3,
            2,
            &[Ok(json!({"metrics": [metric]}))],
            Timestamp::UNIX_EPOCH,
        )
    }

    #[test]
    fn a_failing_canary_fails_its_analysis_after_the_failure_limit() {
        let mut run = run_with(
            json!({"name": "success-rate", "interval": "10s", "count": 5, "failureLimit": 1,
                                      "successCondition": "result[0] >= 0.95"}),
        );
        assert_eq!(run["metadata"]["name"], json!("checkout-abc-3-2"));
        for s in [0, 10, 20] {
            advance(&mut run, Timestamp::from_second(s).unwrap(), |_| Some(0.6));
        }
        assert_eq!(run["status"]["phase"], json!("Failed"));
        assert_eq!(
            run["status"]["message"],
            json!("Metric \"success-rate\" assessed Failed due to failed (2) > failureLimit (1)")
        );
    }

    #[test]
    fn a_healthy_canary_passes_after_count_measurements() {
        let mut run = run_with(
            json!({"name": "success-rate", "interval": "10s", "count": 3, "successCondition": "result >= 0.95"}),
        );
        for s in [0, 5, 10, 20] {
            advance(&mut run, Timestamp::from_second(s).unwrap(), |_| {
                Some(0.999)
            });
        }
        assert_eq!(run["status"]["phase"], json!("Successful"));
        assert_eq!(run["status"]["metricResults"][0]["count"], json!(3));
    }

    #[test]
    fn conditions_it_cannot_read_are_errors_that_say_why() {
        let mut run = run_with(json!({"name": "m", "successCondition": "result.p99 < 1"}));
        advance(&mut run, Timestamp::UNIX_EPOCH, |_| Some(1.0));
        assert_eq!(run["status"]["phase"], json!("Error"));
        assert!(
            run["status"]["message"]
                .as_str()
                .unwrap()
                .contains("result.p99")
        );
    }
}
