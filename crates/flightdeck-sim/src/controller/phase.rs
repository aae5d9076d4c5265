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
