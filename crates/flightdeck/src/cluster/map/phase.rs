//! Argo's `GetRolloutPhase`: the phase and message `kubectl argo rollouts get` shows,
//! from what the status says and, for controllers before v1.0 that wrote no
//! `status.phase`, from the conditions and replica counts (`CalculateRolloutPhase`).

use crate::model::{Condition, Name, PauseCondition, Phase, Replicas, Strategy};

/// What Argo's `GetRolloutPhase` reads, besides the conditions.
pub(super) struct PhaseFacts {
    pub(super) generation: i64,
    pub(super) observed_generation: Option<i64>,
    pub(super) workload_generation_observed: bool,
    pub(super) controller_pause: bool,
    pub(super) status_phase: Option<Phase>,
    pub(super) status_message: String,
    pub(super) paused_by_user: bool,
    pub(super) restart_pending: bool,
    pub(super) replicas: Replicas,
    pub(super) strategy: Strategy,
    pub(super) stable_hash: Option<Name>,
    pub(super) current_hash: Option<Name>,
    pub(super) active_selector: Option<Name>,
    pub(super) post_promotion_analysis_pending: bool,
}

impl PhaseFacts {
    /// Argo's `isGenerationObserved`: an observedGeneration that is missing,
    /// not a number, or ahead counts as observed.
    pub(super) fn generation_observed(&self) -> bool {
        self.observed_generation
            .is_none_or(|observed| observed >= self.generation)
    }
}

/// Argo's `GetRolloutPhase`, falling back to `CalculateRolloutPhase` when
/// the controller (before v1.0) wrote no `status.phase`.
pub(super) fn argo_phase(
    facts: &PhaseFacts,
    conditions: &[Condition],
    pause_conditions: &[PauseCondition],
) -> (Phase, String) {
    let progressing = |message: &str| (Phase::Progressing, message.to_string());
    if !facts.generation_observed() {
        return progressing("waiting for rollout spec update to be observed");
    }
    if facts.controller_pause && pause_conditions.is_empty() {
        return progressing("waiting for rollout to unpause");
    }
    if !facts.workload_generation_observed {
        return progressing(
            "waiting for rollout spec update to be observed for the reference workload",
        );
    }
    if let Some(phase) = facts.status_phase {
        return (phase, facts.status_message.clone());
    }

    // CalculateRolloutPhase
    for c in conditions {
        if c.kind == "InvalidSpec" {
            return (Phase::Degraded, format!("InvalidSpec: {}", c.message));
        }
        if c.reason == "RolloutAborted" || c.reason == "ProgressDeadlineExceeded" {
            return (Phase::Degraded, format!("{}: {}", c.reason, c.message));
        }
    }
    if facts.paused_by_user {
        return (Phase::Paused, "manually paused".into());
    }
    if let Some(c) = pause_conditions.first() {
        return (Phase::Paused, c.reason.clone());
    }
    if facts.restart_pending {
        return progressing("rollout is restarting");
    }
    let r = facts.replicas;
    if r.updated < r.desired {
        return progressing("more replicas need to be updated");
    }
    if r.available < r.updated {
        return progressing("updated replicas are still becoming available");
    }
    let fully_promoted = facts.stable_hash.is_some() && facts.stable_hash == facts.current_hash;
    match facts.strategy {
        Strategy::BlueGreen => {
            if facts.active_selector.is_none() || facts.active_selector != facts.current_hash {
                return progressing("active service cutover pending");
            }
            if !fully_promoted {
                return progressing(if facts.post_promotion_analysis_pending {
                    "waiting for analysis to complete"
                } else {
                    "waiting for post-promotion verification to complete"
                });
            }
        }
        Strategy::Canary { traffic_routed } => {
            if !traffic_routed && r.current > r.updated {
                return progressing("old replicas are pending termination");
            }
            if !fully_promoted {
                return progressing("waiting for all steps to complete");
            }
        }
        Strategy::Other => {}
    }
    (Phase::Healthy, String::new())
}
