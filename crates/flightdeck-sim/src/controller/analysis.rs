//! The runs a canary's `analysis` and `experiment` steps start (Argo's
//! rollout/analysis.go and rollout/experiment.go): the step's AnalysisRun, created on first
//! sight and measured on the canary's traffic every tick, or its Experiment; and what their
//! phase means for the step.

use jiff::Timestamp;
use serde_json::Value;

use super::Controller;
use super::rollout::Round;
use crate::analysis;
use crate::api_error::ApiError;
use crate::discovery::ANALYSIS_RUNS;
use crate::experiments;
use crate::objects::str_at;
use crate::store::ObjectKey;
use crate::traffic::VersionKey;

/// What a step's run says of the step.
#[derive(Debug, PartialEq)]
pub(super) enum Verdict {
    /// The step is complete.
    Passed,
    /// The update aborts.
    Failed,
    /// The step waits (an Inconclusive analysis included: Argo would pause the rollout).
    Running,
}

impl Verdict {
    /// From the phase of an AnalysisRun or Experiment (Argo's `AnalysisPhase`).
    pub fn of(phase: &str) -> Verdict {
        match phase {
            "Successful" => Verdict::Passed,
            "Failed" | "Error" => Verdict::Failed,
            _ => Verdict::Running,
        }
    }
}

impl Controller {
    /// The phase and message of the step's AnalysisRun, created on first sight and measured
    /// on ticks.
    pub(super) fn run_analysis_step(
        &mut self,
        round: &Round,
        index: usize,
        step: &Value,
        now: Timestamp,
        tick: bool,
    ) -> Result<(String, String), ApiError> {
        let rollout = round.rollout;
        let (hash, revision) = (round.hash.as_str(), round.revision);
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
    pub(super) fn run_experiment_step(
        &mut self,
        round: &Round,
        index: usize,
        now: Timestamp,
    ) -> Result<experiments::Current, ApiError> {
        let of = |h: &str| round.sets.iter().find(|s| s.hash() == h).map(|s| &s.value);
        let (Some(stable_rs), Some(new_rs)) = (of(&round.stable()), of(&round.hash)) else {
            return Err(ApiError::internal(
                "the experiment step has no stable or canary ReplicaSet",
            ));
        };
        let step = experiments::Step {
            rollout: round.rollout,
            stable_rs,
            new_rs,
            revision: round.revision,
            index,
        };
        experiments::step(&self.store, &mut self.events, step, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_successful_run_completes_the_step_and_a_failed_or_erroring_one_aborts() {
        let verdicts: Vec<Verdict> = [
            "Successful",
            "Failed",
            "Error",
            "Inconclusive",
            "Running",
            "Pending",
            "",
        ]
        .into_iter()
        .map(Verdict::of)
        .collect();
        assert_eq!(
            verdicts,
            [
                Verdict::Passed,
                Verdict::Failed,
                Verdict::Failed,
                Verdict::Running,
                Verdict::Running,
                Verdict::Running,
                Verdict::Running
            ]
        );
    }
}
