//! The demo's plain Deployments in prod-us: settled ones, one paused halfway through its
//! rolling update, and one stuck on its progress deadline (its new pods never ready).
//! Their status is as a Deployment controller would have left it; the simulator has no
//! Deployment controller, so nothing moves them but a client's writes.

use serde_json::{Value, json};

use super::manifests::image;
use super::{Action, Change};

/// (namespace, name, tag, replicas, updated, available, paused, past its deadline).
type Plain = (
    &'static str,
    &'static str,
    &'static str,
    i64,
    i64,
    i64,
    bool,
    bool,
);

const PLAIN: &[Plain] = &[
    ("platform", "gateway", "v4.2.0", 4, 4, 4, false, false),
    ("platform", "config-api", "v1.12.3", 2, 2, 2, false, false),
    ("shop", "recommender", "v2.3.0", 6, 3, 6, true, false),
    ("payments", "invoices", "v3.0.1", 3, 1, 2, false, true),
];

fn deployment(p: &Plain) -> Value {
    let (namespace, name, tag, replicas, updated, available, paused, stuck) = *p;
    let progressing = if stuck {
        json!({"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
               "message": format!("ReplicaSet \"{name}-7c9f8d6b5\" has timed out progressing.")})
    } else {
        json!({"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
               "message": format!("ReplicaSet \"{name}-7c9f8d6b5\" has successfully progressed.")})
    };
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name},
                     "annotations": {"deployment.kubernetes.io/revision": "7"}},
        "spec": {
            "replicas": replicas,
            "paused": paused,
            "progressDeadlineSeconds": 600,
            "selector": {"matchLabels": {"app": name}},
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name, "image": image(namespace, name, tag)}]}
            }
        },
        "status": {
            "observedGeneration": 1,
            "replicas": replicas + if stuck { 1 } else { 0 },
            "updatedReplicas": updated,
            "readyReplicas": available,
            "availableReplicas": available,
            "unavailableReplicas": (replicas - available).max(0),
            "conditions": [
                {"type": "Available", "status": if available >= replicas - 1 { "True" } else { "False" },
                 "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."},
                progressing
            ]
        }
    })
}

/// The plain Deployments of `cluster` (prod-us only), created at `start`.
pub(super) fn demo_deployments(cluster: usize, start: i64) -> Vec<Action> {
    if cluster != 1 {
        return Vec::new();
    }
    PLAIN
        .iter()
        .map(|p| Action {
            at: start,
            cluster,
            change: Change::Create(deployment(p)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_paused_and_one_is_past_its_deadline() {
        let all: Vec<Value> = PLAIN.iter().map(deployment).collect();
        assert_eq!(
            all.iter().filter(|d| d["spec"]["paused"] == true).count(),
            1
        );
        let stuck = &all[3]["status"]["conditions"][1];
        assert_eq!(stuck["reason"], "ProgressDeadlineExceeded");
        assert_eq!(demo_deployments(1, -900).len(), 4);
        assert!(demo_deployments(0, -900).is_empty());
    }
}
