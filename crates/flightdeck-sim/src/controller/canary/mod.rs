//! A canary's steps, as Argo's rollout/canary.go takes them: the current step (`setWeight`,
//! `pause`, `analysis`, `experiment`) completes, waits or aborts the update; then the
//! ReplicaSet sizes and traffic weights of the step in force ([`sizing`]), and the
//! promotion once every step is done.

mod pause;
mod sizing;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::Controller;
use super::analysis::Verdict;
use super::rollout::{Decision, Round, pause_conditions, write_pause_conditions};
use crate::api_error::ApiError;
use crate::experiments;
use crate::objects::{int_at, remove, str_at, truthy};

/// The rollout's canary steps (none for a blue-green).
pub(super) fn steps(spec: &Value) -> &[Value] {
    spec["strategy"]["canary"]["steps"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn traffic_routed(spec: &Value) -> bool {
    spec["strategy"]["canary"]["trafficRouting"].is_object()
}

/// The step to take up: `status.currentStepIndex`, within the steps (`n` past the last).
fn current_step(status: &Value, n: usize) -> usize {
    (int_at(status, "currentStepIndex").unwrap_or(0).max(0) as usize).min(n)
}

/// How a step is named in its RolloutStepCompleted event (Argo's `CanaryStepString`).
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
    /// Take the canary through its current step, then size its ReplicaSets and weights for
    /// the step in force.
    pub(super) fn reconcile_canary(
        &mut self,
        round: &mut Round,
        now: Timestamp,
        tick: bool,
    ) -> Result<Decision, ApiError> {
        let spec = &round.rollout["spec"];
        let n = steps(spec).len();
        let updating = round.stable() != round.hash;
        let mut decision = Decision::default();
        let mut index = current_step(&round.status, n);
        let stepping =
            updating && !truthy(&round.status["abort"]) && !truthy(&spec["paused"]) && index < n;
        if stepping && self.take_step(round, &mut decision, index, now, tick)? {
            index += 1;
        }
        if truthy(&round.status["abort"]) {
            for field in ["pauseConditions", "controllerPause"] {
                remove(&mut round.status, field);
            }
            remove(&mut round.status["canary"], "currentExperiment");
            index = if updating { 0 } else { n };
        }
        // Experiments of other steps, revisions, or of an aborted or fully promoted
        // update are terminated, as Argo cancels them.
        let keep = decision.experiment.as_ref().map(|e| e.name.as_str());
        experiments::cancel_others(&self.store, round.rollout, keep)?;
        if n > 0 {
            round.status["currentStepIndex"] = json!(index);
        }
        sizing::size_for_step(round, &mut decision, index);
        Ok(decision)
    }

    /// Run step `index` and, when it completes, leave it (its pause, analysis status and
    /// experiment) with an event. Says whether it completed.
    fn take_step(
        &mut self,
        round: &mut Round,
        decision: &mut Decision,
        index: usize,
        now: Timestamp,
        tick: bool,
    ) -> Result<bool, ApiError> {
        let rollout = round.rollout;
        let steps = steps(&rollout["spec"]);
        let mut pauses = pause_conditions(&round.status);
        let completed = self.run_step(round, decision, &mut pauses, index, now, tick)?;
        if completed {
            remove(&mut round.status["canary"], "currentExperiment");
            pauses.retain(|c| c["reason"] != "CanaryPauseStep");
            remove(&mut round.status, "controllerPause");
            remove(&mut round.status["canary"], "currentStepAnalysisRunStatus");
            let message = format!(
                "Rollout step {}/{} completed ({})",
                index + 1,
                steps.len(),
                step_name(&steps[index])
            );
            self.record(rollout, "Normal", "RolloutStepCompleted", &message, now);
        }
        write_pause_conditions(&mut round.status, pauses);
        Ok(completed)
    }

    /// Run step `index`; says whether it is complete.
    fn run_step(
        &mut self,
        round: &mut Round,
        decision: &mut Decision,
        pauses: &mut Vec<Value>,
        index: usize,
        now: Timestamp,
        tick: bool,
    ) -> Result<bool, ApiError> {
        let rollout = round.rollout;
        let step = &steps(&rollout["spec"])[index];
        if let Some(weight) = step["setWeight"].as_i64() {
            return Ok(sizing::at_weight(round, weight));
        }
        if step["pause"].is_object() {
            return Ok(self.pause(round, decision, pauses, step, now));
        }
        if step["analysis"].is_object() {
            decision.analysing = true;
            let (phase, message) = self.run_analysis_step(round, index, step, now, tick)?;
            return Ok(match Verdict::of(&phase) {
                Verdict::Passed => true,
                Verdict::Failed => {
                    round.status["abort"] = json!(true);
                    let event = format!("Step analysis run failed: {message}");
                    self.record(rollout, "Warning", "AnalysisRunFailed", &event, now);
                    decision.abort_detail = Some(message);
                    false
                }
                Verdict::Running => {
                    let name = str_at(rollout, "metadata.name");
                    round.status["canary"]["currentStepAnalysisRunStatus"] = json!({
                        "name": crate::analysis::run_name(name, &round.hash, round.revision, index),
                        "status": phase,
                    });
                    false
                }
            });
        }
        if step["experiment"].is_object() {
            decision.analysing = true;
            let current = self.run_experiment_step(round, index, now)?;
            return Ok(match Verdict::of(&current.phase) {
                Verdict::Passed => true,
                Verdict::Failed => {
                    round.status["abort"] = json!(true);
                    decision.abort_detail = Some(current.message);
                    false
                }
                Verdict::Running => {
                    round.status["canary"]["currentExperiment"] = json!(current.name);
                    decision.experiment = Some(current);
                    false
                }
            });
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps_of(steps: Value) -> Vec<Value> {
        steps.as_array().unwrap().clone()
    }

    #[test]
    fn the_step_index_stays_within_the_steps() {
        assert_eq!(current_step(&json!({"currentStepIndex": 2}), 4), 2);
        assert_eq!(current_step(&json!({"currentStepIndex": 9}), 4), 4);
        assert_eq!(current_step(&json!({"currentStepIndex": -1}), 4), 0);
        assert_eq!(current_step(&json!({}), 4), 0);
    }

    #[test]
    fn steps_are_named_as_argo_names_them_in_events() {
        let names: Vec<String> = steps_of(json!([{"setWeight": 20}, {"pause": {}},
            {"pause": {"duration": "1h"}}, {"pause": {"duration": 30}}, {"analysis": {}},
            {"experiment": {}}, {"setCanaryScale": {}}]))
        .iter()
        .map(step_name)
        .collect();
        assert_eq!(
            names,
            [
                "setWeight: 20",
                "pause",
                "pause: 1h",
                "pause: 30",
                "analysis",
                "experiment",
                "unsupported step"
            ]
        );
    }
}
