//! A Rollout's `status.phase` and `status.message`, as Argo derives them from its spec and
//! status (Healthy, Progressing, Paused, Degraded).

use serde_json::Value;

use crate::objects::{int_at, str_at, truthy};

/// Argo's `CalculateRolloutPhase`, from utils/rollout/rolloututil.go.
pub fn rollout_phase(spec: &Value, status: &Value) -> (&'static str, String) {
    for c in status["conditions"].as_array().into_iter().flatten() {
        if c["type"] == "InvalidSpec" {
            return ("Degraded", format!("InvalidSpec: {}", str_at(c, "message")));
        }
        if matches!(
            str_at(c, "reason"),
            "RolloutAborted" | "ProgressDeadlineExceeded"
        ) {
            return (
                "Degraded",
                format!("{}: {}", str_at(c, "reason"), str_at(c, "message")),
            );
        }
    }
    if truthy(&spec["paused"]) {
        return ("Paused", "manually paused".into());
    }
    if let Some(first) = status["pauseConditions"].as_array().and_then(|p| p.first()) {
        return ("Paused", str_at(first, "reason").to_string());
    }
    if !spec["restartAt"].is_null() && spec["restartAt"] != status["restartedAt"] {
        return ("Progressing", "rollout is restarting".into());
    }
    let replicas = int_at(spec, "replicas").unwrap_or(1);
    let updated = int_at(status, "updatedReplicas").unwrap_or(0);
    if updated < replicas {
        return ("Progressing", "more replicas need to be updated".into());
    }
    if int_at(status, "availableReplicas").unwrap_or(0) < updated {
        return (
            "Progressing",
            "updated replicas are still becoming available".into(),
        );
    }
    let current = str_at(status, "currentPodHash");
    let stable = str_at(status, "stableRS");
    if spec["strategy"]["blueGreen"].is_object() {
        let active = str_at(status, "blueGreen.activeSelector");
        if active.is_empty() || active != current {
            return ("Progressing", "active service cutover pending".into());
        }
        if stable.is_empty() || stable != current {
            return (
                "Progressing",
                "waiting for post-promotion verification to complete".into(),
            );
        }
    } else if spec["strategy"]["canary"].is_object() {
        if spec["strategy"]["canary"]["trafficRouting"].is_null()
            && int_at(status, "replicas").unwrap_or(0) > updated
        {
            return ("Progressing", "old replicas are pending termination".into());
        }
        if stable.is_empty() || stable != current {
            return ("Progressing", "waiting for all steps to complete".into());
        }
    }
    ("Healthy", String::new())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn phase(spec: Value, status: Value) -> (&'static str, String) {
        rollout_phase(&spec, &status)
    }

    #[test]
    fn an_abort_or_a_missed_deadline_is_degraded_before_anything_else() {
        let spec = json!({"paused": true, "strategy": {"canary": {}}});
        let aborted = json!({"conditions": [{"type": "Progressing", "reason": "RolloutAborted",
                                             "message": "Rollout aborted update to revision 2"}]});
        assert_eq!(
            phase(spec, aborted),
            (
                "Degraded",
                "RolloutAborted: Rollout aborted update to revision 2".into()
            )
        );
    }

    #[test]
    fn a_pause_says_who_paused() {
        let spec = json!({"replicas": 1, "strategy": {"canary": {}}});
        let mut manual = spec.clone();
        manual["paused"] = json!(true);
        assert_eq!(
            phase(manual, json!({})),
            ("Paused", "manually paused".into())
        );
        let step = json!({"pauseConditions": [{"reason": "CanaryPauseStep"}]});
        assert_eq!(phase(spec, step), ("Paused", "CanaryPauseStep".into()));
    }

    #[test]
    fn an_update_progresses_until_its_pods_and_its_strategy_are_done() {
        let canary = json!({"replicas": 2, "strategy": {"canary": {}}});
        let done = json!({"replicas": 2, "updatedReplicas": 2, "availableReplicas": 2,
                          "currentPodHash": "new", "stableRS": "new"});
        assert_eq!(
            phase(canary.clone(), done.clone()),
            ("Healthy", String::new())
        );
        let mut updating = done.clone();
        updating["updatedReplicas"] = json!(1);
        assert_eq!(
            phase(canary.clone(), updating),
            ("Progressing", "more replicas need to be updated".into())
        );
        let mut old_pods = done.clone();
        old_pods["replicas"] = json!(3);
        assert_eq!(
            phase(canary.clone(), old_pods),
            ("Progressing", "old replicas are pending termination".into())
        );
        let mut steps_left = done.clone();
        steps_left["stableRS"] = json!("old");
        assert_eq!(
            phase(canary, steps_left),
            ("Progressing", "waiting for all steps to complete".into())
        );
        let blue_green = json!({"replicas": 2, "strategy": {"blueGreen": {}}});
        let mut before_cutover = done;
        before_cutover["blueGreen"] = json!({"activeSelector": "old"});
        assert_eq!(
            phase(blue_green, before_cutover),
            ("Progressing", "active service cutover pending".into())
        );
    }
}
