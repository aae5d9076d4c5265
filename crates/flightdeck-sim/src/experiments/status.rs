//! An Experiment's phase and Progressing condition, from its templates' and analyses'
//! statuses (Argo's `calculateStatus` and `calculateExperimentConditions`).

use jiff::Timestamp;
use serde_json::{Value, json};

use super::{completed, template_completed};
use crate::clock::rfc3339;
use crate::objects::{remove, set_condition, str_at, truthy};

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

/// The worst template status, as an experiment phase, with its message.
fn templates_phase(status: &Value) -> (&str, &str) {
    let worst = status["templateStatuses"]
        .as_array()
        .into_iter()
        .flatten()
        .max_by_key(|ts| template_rank(str_at(ts, "status")));
    match worst {
        Some(ts) => (
            match str_at(ts, "status") {
                "Progressing" | "" => "Pending",
                other => other,
            },
            str_at(ts, "message"),
        ),
        None => ("Successful", ""),
    }
}

/// The most severe analysis phase, with its message. As in Argo's `assessAnalysisRuns`,
/// it starts from Successful, which Pending and Running rank below: analyses still going
/// count as Successful until one fails.
fn analyses_phase(status: &Value) -> (&str, &str) {
    let (mut phase, mut message) = ("Successful", "");
    for run in status["analysisRuns"].as_array().into_iter().flatten() {
        if analysis_rank(str_at(run, "phase")) > analysis_rank(phase) {
            phase = str_at(run, "phase");
            message = str_at(run, "message");
        }
    }
    (phase, message)
}

/// Where the analyses `requiredForCompletion` stand (Argo's `HasRequiredAnalysisRuns` and
/// `RequiredAnalysisRunsSuccessful`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Required {
    None,
    Running,
    /// All of them Successful: the experiment is done, its templates running or not.
    Passed,
}

fn required(status: &Value, analyses: &[Value]) -> Required {
    let mut required = analyses
        .iter()
        .filter(|a| truthy(&a["requiredForCompletion"]))
        .peekable();
    if required.peek().is_none() {
        return Required::None;
    }
    let passed = |a: &Value| {
        status["analysisRuns"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|run| run["name"] == a["name"])
            .is_some_and(|run| run["phase"] == "Successful")
    };
    if required.all(passed) {
        Required::Passed
    } else {
        Required::Running
    }
}

/// How the templates' and the analyses' phases make the experiment's (Argo's
/// `calculateStatus`): finished templates decide unless they succeeded and the analyses
/// are finished too (or some are required); running templates give way to a failed
/// analysis, or to the required analyses all passed.
fn combined<'a>(
    templates: (&'a str, &'a str),
    analyses: (&'a str, &'a str),
    required: Required,
) -> (&'a str, &'a str) {
    if template_completed(templates.0) {
        if templates.0 == "Successful" && (completed(analyses.0) || required != Required::None) {
            analyses
        } else {
            templates
        }
    } else if (completed(analyses.0) && analyses.0 != "Successful") || required == Required::Passed
    {
        analyses
    } else {
        templates
    }
}

/// Argo's `calculateStatus` and `calculateExperimentConditions`: the phase (and message)
/// of an experiment not yet finished, `availableAt` once its templates run, and its
/// Progressing condition. `progressed`: its templates' pods moved in this round.
pub(super) fn calculate_status(
    experiment: &Value,
    status: &mut Value,
    analyses: &[Value],
    progressed: bool,
    now: Timestamp,
) {
    match str_at(status, "phase") {
        "" => status["phase"] = json!("Pending"),
        "Pending" | "Running" => {
            let templates = templates_phase(status);
            let required = required(status, analyses);
            let (phase, message) = combined(templates, analyses_phase(status), required);
            let (phase, message) = (phase.to_string(), message.to_string());
            if templates.0 == "Running" && status["availableAt"].is_null() {
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
    let name = str_at(experiment, "metadata.name");
    let mut conditions: Vec<Value> = status["conditions"].as_array().cloned().unwrap_or_default();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(second).unwrap()
    }

    #[test]
    fn the_worst_template_and_the_most_severe_analysis_stand_for_them_all() {
        let status = json!({
            "templateStatuses": [{"name": "baseline", "status": "Running"},
                                 {"name": "canary", "status": "Progressing"}],
            "analysisRuns": [{"name": "a", "phase": "Successful"},
                             {"name": "b", "phase": "Failed", "message": "failed (2) > failureLimit (1)"}],
        });
        assert_eq!(templates_phase(&status), ("Pending", ""));
        assert_eq!(
            analyses_phase(&status),
            ("Failed", "failed (2) > failureLimit (1)")
        );
        let none = json!({});
        assert_eq!(templates_phase(&none), ("Successful", ""));
        assert_eq!(analyses_phase(&none), ("Successful", ""));
        let going = json!({"analysisRuns": [{"phase": "Pending"}, {"phase": "Running"}]});
        assert_eq!(analyses_phase(&going), ("Successful", ""));
    }

    #[test]
    fn running_templates_give_way_only_to_a_failed_analysis() {
        let running = ("Running", "");
        assert_eq!(combined(running, ("Running", ""), Required::None), running);
        assert_eq!(
            combined(running, ("Successful", ""), Required::Running),
            running
        );
        assert_eq!(
            combined(running, ("Failed", "too many errors"), Required::None),
            ("Failed", "too many errors")
        );
    }

    #[test]
    fn an_experiment_ends_once_its_required_analyses_have_passed() {
        let analyses = [
            json!({"name": "rate", "templateName": "success-rate", "requiredForCompletion": true}),
            json!({"name": "latency", "templateName": "p99"}),
        ];
        let runs = |rate: &str| json!({"analysisRuns": [{"name": "rate", "phase": rate}, {"name": "latency", "phase": "Running"}]});
        assert_eq!(required(&runs("Running"), &analyses), Required::Running);
        assert_eq!(required(&runs("Successful"), &analyses), Required::Passed);
        assert_eq!(
            required(&runs("Successful"), &analyses[1..]),
            Required::None
        );
        assert_eq!(required(&json!({}), &analyses), Required::Running);
        // Templates without a duration run until the required analyses pass.
        let experiment = json!({"metadata": {"name": "web-abc-2-1"}});
        let mut status = runs("Successful");
        status["phase"] = json!("Running");
        status["availableAt"] = json!("1970-01-01T00:00:20Z");
        status["templateStatuses"] = json!([{"name": "canary", "status": "Running"}]);
        calculate_status(&experiment, &mut status, &analyses, false, at(60));
        assert_eq!(status["phase"], json!("Successful"));
        let mut status = runs("Running");
        status["phase"] = json!("Running");
        status["templateStatuses"] = json!([{"name": "canary", "status": "Running"}]);
        calculate_status(&experiment, &mut status, &analyses, false, at(60));
        assert_eq!(status["phase"], json!("Running"));
    }

    #[test]
    fn finished_templates_wait_for_the_analyses_only_when_one_is_required() {
        let done = ("Successful", "");
        assert_eq!(combined(done, ("Running", ""), Required::None), done);
        assert_eq!(
            combined(done, ("Running", ""), Required::Running),
            ("Running", "")
        );
        assert_eq!(
            combined(done, ("Inconclusive", "m"), Required::None),
            ("Inconclusive", "m")
        );
        let failed = (
            "Failed",
            "Template 'canary' exceeded its progressDeadlineSeconds (600)",
        );
        assert_eq!(
            combined(failed, ("Successful", ""), Required::Passed),
            failed
        );
    }

    #[test]
    fn an_experiment_is_available_once_its_templates_run_and_says_so() {
        let experiment = json!({"metadata": {"name": "web-abc-2-1"}});
        let mut status = json!({});
        calculate_status(&experiment, &mut status, &[], false, at(10));
        assert_eq!(status, json!({"phase": "Pending"}));
        status["templateStatuses"] = json!([{"name": "canary", "status": "Running"}]);
        calculate_status(&experiment, &mut status, &[], true, at(20));
        assert_eq!(status["phase"], json!("Running"));
        assert_eq!(status["availableAt"], json!("1970-01-01T00:00:20Z"));
        let progressing = &status["conditions"][0];
        assert_eq!(
            (&progressing["reason"], &progressing["message"]),
            (
                &json!("ReplicaSetUpdated"),
                &json!("Experiment \"web-abc-2-1\" is progressing.")
            )
        );
        calculate_status(&experiment, &mut status, &[], false, at(30));
        assert_eq!(
            status["conditions"][0]["reason"],
            json!("NewReplicaSetAvailable")
        );
        status["templateStatuses"][0]["status"] = json!("Successful");
        calculate_status(&experiment, &mut status, &[], false, at(150));
        assert_eq!(status["phase"], json!("Successful"));
        assert_eq!(
            (
                &status["conditions"][0]["status"],
                &status["conditions"][0]["reason"]
            ),
            (&json!("False"), &json!("ExperimentCompleted"))
        );
        assert_eq!(status["availableAt"], json!("1970-01-01T00:00:20Z"));
    }
}
