//! Experiments (`argoproj.io/v1alpha1`), as a canary's `experiment` step runs them. The
//! rollouts controller's side is in [`rollout_step`]: one Experiment per step, named
//! `<rollout>-<hash>-<revision>-<step>` and owned by the Rollout, which moves past the step
//! when the Experiment succeeds and aborts when it fails. The experiment controller's side
//! is in [`controller`], with the phase and conditions it works out in [`status`].
//!
//! Simplified: no Services are made for templates (a template's `weight` reaches the
//! traffic model through the rollout's weights), and the AnalysisRuns measure the success
//! rate of the template named `canary` (or else the last one), whatever their metrics say.

mod controller;
mod rollout_step;
mod status;

use serde_json::Value;

use crate::analysis;
use crate::objects;

pub use controller::ExperimentController;
pub use rollout_step::{Current, Step, cancel_others, step};

fn completed(phase: &str) -> bool {
    analysis::is_finished(phase)
}

fn template_completed(status: &str) -> bool {
    matches!(status, "Successful" | "Failed" | "Error")
}

/// The pod-template hash of a template's ReplicaSet (its own hash label ignored).
fn template_hash(template: &Value) -> String {
    objects::pod_template_hash(&template["template"])
}
