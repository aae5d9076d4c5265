//! The demo's plain Deployments in prod-us: settled ones, one paused halfway through its
//! rolling update, and one stuck on its progress deadline (its new pods never ready).
//! Their status is as a Deployment controller would have left it; the simulator has no
//! Deployment controller, so nothing moves them but a client's writes.

use serde_json::{Value, json};

use jiff::{SignedDuration, Timestamp};

use super::manifests::image;
use super::{Action, Change, DEPLOYMENT_REVISION, commit_lag};
use crate::clock::rfc3339;
use crate::objects::COMMIT_TIME_ANNOTATION;

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

/// The revisions each Deployment's ReplicaSets keep: the current one (7) and two
/// before it, created this many days before the demo's start.
const KEPT: [(u64, i64); 3] = [(5, 20), (6, 11), (7, 2)];

/// A ReplicaSet of `p` at `revision`, as the Deployment controller leaves one: named
/// `<deployment>-<pod-template-hash>`, the revision annotated, created at `created`,
/// its template's commit time a while before.
fn replica_set(p: &Plain, revision: u64, created: Timestamp) -> Value {
    let (namespace, name, tag, replicas, ..) = *p;
    let current = revision == 7;
    let hash = if current {
        "7c9f8d6b5".to_string()
    } else {
        format!("6b{revision}d4f9c")
    };
    let image = if current {
        image(namespace, name, tag)
    } else {
        image(namespace, name, &format!("{tag}-r{revision}"))
    };
    let committed = created - SignedDuration::from_secs(commit_lag(&image));
    json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {
            "name": format!("{name}-{hash}"), "namespace": namespace,
            "creationTimestamp": rfc3339(created),
            "labels": {"app": name, "pod-template-hash": hash},
            "annotations": {DEPLOYMENT_REVISION: revision.to_string()},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                                 "controller": true, "blockOwnerDeletion": true}]
        },
        "spec": {
            "replicas": if current { replicas } else { 0 },
            "selector": {"matchLabels": {"app": name, "pod-template-hash": hash}},
            "template": {
                "metadata": {"labels": {"app": name, "pod-template-hash": hash},
                             "annotations": {COMMIT_TIME_ANNOTATION: rfc3339(committed)}},
                "spec": {"containers": [{"name": name, "image": image}]}
            }
        },
        "status": {"replicas": if current { replicas } else { 0 }}
    })
}

/// The plain Deployments of `cluster` (prod-us only), created at `start`, with the
/// ReplicaSets of their last revisions (`origin`: the live start).
pub(super) fn demo_deployments(cluster: usize, start: i64, origin: Timestamp) -> Vec<Action> {
    if cluster != 1 {
        return Vec::new();
    }
    let mut actions = Vec::new();
    for p in PLAIN {
        let create = |change| Action {
            at: start,
            cluster,
            change,
        };
        actions.push(create(Change::Create(deployment(p))));
        for (revision, days) in KEPT {
            let created = origin - SignedDuration::from_hours(24 * days);
            actions.push(create(Change::Create(replica_set(p, revision, created))));
        }
    }
    actions
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
        let origin = Timestamp::from_second(1_800_000_000).unwrap();
        assert_eq!(
            demo_deployments(1, -900, origin).len(),
            4 * (1 + KEPT.len())
        );
        assert!(demo_deployments(0, -900, origin).is_empty());
    }
}
