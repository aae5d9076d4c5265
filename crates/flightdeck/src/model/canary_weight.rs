//! The canary's share of traffic: what the steps set and what it actually gets, as Argo
//! reports them (`GetCurrentSetWeight`, `ActualWeight`).

use super::{Name, ReplicaSet, Rollout, Step, Strategy, set_weight_at};

/// The canary's share of traffic as `kubectl argo rollouts get` shows it
/// (ActualWeight). Without traffic routing it is the canary ReplicaSet's
/// available pods over the rollout's, so it needs the ReplicaSets; in every
/// other case it is what `map_rollout` already put in `rollout.actual_weight`.
pub fn actual_weight(rollout: &Rollout, replica_sets: &[ReplicaSet]) -> u32 {
    let Strategy::Canary {
        traffic_routed: false,
    } = rollout.strategy
    else {
        return rollout.actual_weight;
    };
    if current_canary_step(&rollout.steps, rollout.current_step).is_none()
        || rollout.replicas.available == 0
    {
        return rollout.actual_weight;
    }
    let is = |hash: &Option<Name>, rs: &ReplicaSet| hash.as_deref() == Some(rs.hash.as_str());
    let canary_available = replica_sets
        .iter()
        .find(|rs| {
            rs.key.context == rollout.key.context
                && rs.key.namespace == rollout.key.namespace
                && rs.owner.as_deref() == Some(rollout.key.name.as_str())
                && is(&rollout.current_hash, rs)
                && !is(&rollout.stable_hash, rs)
        })
        .map_or(0, |rs| rs.replicas.available);
    let percent = u64::from(canary_available) * 100 / u64::from(rollout.replicas.available);
    u32::try_from(percent).unwrap_or(u32::MAX)
}

/// Argo's `GetCurrentCanaryStep`: none when there are no steps or all are done.
pub fn current_canary_step(steps: &[Step], current_step: Option<usize>) -> Option<usize> {
    let index = current_step.unwrap_or(0);
    (index < steps.len()).then_some(index)
}

/// Argo's `GetCurrentSetWeight`: 0 once aborted, else as the steps say.
pub fn canary_set_weight(steps: &[Step], current_step: Option<usize>, aborted: bool) -> u32 {
    if aborted {
        return 0;
    }
    set_weight_at(steps, current_step)
}
