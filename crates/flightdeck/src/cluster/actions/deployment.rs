//! Actions on a plain Deployment, as `kubectl rollout pause|resume|restart` send them:
//! strategic merge patches of `spec.paused` (resume removes it: kubectl's two-way merge
//! of `paused: false`, which is omitted when false) and of the pod template's
//! `kubectl.kubernetes.io/restartedAt` annotation (RFC 3339, as kubectl writes it).

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::model::RolloutAction;

/// The one patch for `action`, or why there is none.
pub fn plan(action: RolloutAction, deployment: &Value, now: Timestamp) -> Result<Value, String> {
    let paused = deployment["spec"]["paused"] == json!(true);
    match action {
        RolloutAction::Pause if paused => Err("pause: the Deployment is already paused".into()),
        RolloutAction::Pause => Ok(json!({"spec": {"paused": true}})),
        RolloutAction::Resume if !paused => Err("resume: the Deployment is not paused".into()),
        RolloutAction::Resume => Ok(json!({"spec": {"paused": null}})),
        RolloutAction::Restart => Ok(json!({"spec": {"template": {"metadata": {"annotations": {
            "kubectl.kubernetes.io/restartedAt": now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
        }}}}})),
        other => Err(format!(
            "{}: not an action flightdeck takes on a Deployment",
            other.verb()
        )),
    }
}

/// Annotations `kubectl rollout undo` keeps from the Deployment rather than taking from
/// the ReplicaSet (kubectl's `annotationsToSkip`).
const ANNOTATIONS_TO_SKIP: [&str; 6] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
];

/// The label selector that finds a Deployment's ReplicaSets (its `matchLabels`).
pub fn selector(deployment: &Value) -> Result<String, String> {
    let labels = deployment["spec"]["selector"]["matchLabels"]
        .as_object()
        .filter(|l| !l.is_empty())
        .ok_or("undo: the Deployment has no spec.selector.matchLabels")?;
    Ok(labels
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join(","))
}

/// `kubectl rollout undo deployment/X [--to-revision=N]`: the JSON patch that puts back
/// the pod template (without `pod-template-hash`) and the annotations of the ReplicaSet
/// of revision `to` (or the previous one); `None` when the template already matches it.
/// Only the ReplicaSets this Deployment controls count (kubectl's `deploymentRevision`).
pub fn undo(
    deployment: &Value,
    replica_sets: &[Value],
    to: Option<u64>,
) -> Result<Option<Value>, String> {
    let uid = &deployment["metadata"]["uid"];
    let revision = |rs: &Value| {
        rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
            .as_str()
            .and_then(|r| r.parse::<u64>().ok())
    };
    let mut owned: Vec<(&Value, u64)> = replica_sets
        .iter()
        .filter(|rs| {
            rs["metadata"]["ownerReferences"]
                .as_array()
                .is_some_and(|refs| {
                    refs.iter()
                        .any(|r| r["controller"] == json!(true) && r["uid"] == *uid)
                })
        })
        .filter_map(|rs| Some((rs, revision(rs)?)))
        .collect();
    owned.sort_by_key(|(_, r)| std::cmp::Reverse(*r));
    let chosen = match to {
        Some(to) => owned
            .iter()
            .find(|(_, r)| *r == to)
            .ok_or_else(|| format!("undo: unable to find specified revision {to} in history"))?,
        None => owned
            .get(1)
            .ok_or("undo: no rollout history found for the Deployment")?,
    };
    let previous = chosen.0;
    let mut template = previous["spec"]["template"].clone();
    if let Some(labels) = template["metadata"]["labels"].as_object_mut() {
        labels.remove("pod-template-hash");
    }
    if template == deployment["spec"]["template"] {
        return Ok(None);
    }
    let mut annotations = serde_json::Map::new();
    for key in ANNOTATIONS_TO_SKIP {
        if let Some(v) = deployment["metadata"]["annotations"].get(key) {
            annotations.insert(key.to_string(), v.clone());
        }
    }
    if let Some(theirs) = previous["metadata"]["annotations"].as_object() {
        for (k, v) in theirs {
            if !ANNOTATIONS_TO_SKIP.contains(&k.as_str()) {
                annotations.insert(k.clone(), v.clone());
            }
        }
    }
    Ok(Some(json!([
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations}
    ])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undo_puts_back_the_previous_revisions_template_without_its_hash() {
        let rs = |rev: &str, image: &str, owner: &str| {
            json!({"metadata": {"annotations": {"deployment.kubernetes.io/revision": rev, "team": "web"},
                                "ownerReferences": [{"controller": true, "uid": owner}]},
                   "spec": {"template": {"metadata": {"labels": {"app": "web", "pod-template-hash": "h"}},
                                         "spec": {"containers": [{"name": "web", "image": image}]}}}})
        };
        let d = json!({"metadata": {"uid": "u1", "annotations": {"deployment.kubernetes.io/revision": "3"}},
                       "spec": {"template": {"metadata": {"labels": {"app": "web"}},
                                             "spec": {"containers": [{"name": "web", "image": "web:v3"}]}}}});
        let sets = [
            rs("3", "web:v3", "u1"),
            rs("2", "web:v2", "u1"),
            rs("9", "web:v9", "other"),
        ];
        let patch = undo(&d, &sets, None).unwrap().unwrap();
        assert_eq!(
            patch[0]["value"]["spec"]["containers"][0]["image"],
            "web:v2"
        );
        assert_eq!(
            patch[0]["value"]["metadata"]["labels"],
            json!({"app": "web"})
        );
        assert_eq!(
            patch[1]["value"],
            json!({"deployment.kubernetes.io/revision": "3", "team": "web"})
        );
        assert!(undo(&d, &sets[..1], None).is_err());
        // A chosen revision, as `--to-revision`; one not among its own is refused.
        let older = [rs("1", "web:v1", "u1"), sets[0].clone(), sets[1].clone()];
        let patch = undo(&d, &older, Some(1)).unwrap().unwrap();
        assert_eq!(
            patch[0]["value"]["spec"]["containers"][0]["image"],
            "web:v1"
        );
        assert!(
            undo(&d, &older, Some(9))
                .unwrap_err()
                .contains("unable to find specified revision 9")
        );
        // Already at that template: nothing to send.
        assert_eq!(undo(&d, &older, Some(3)), Ok(None));
    }

    #[test]
    fn patches_are_kubectls() {
        let d = json!({"spec": {"replicas": 2}});
        let now: Timestamp = "2026-12-01T13:05:00Z".parse().unwrap();
        assert_eq!(
            plan(RolloutAction::Pause, &d, now),
            Ok(json!({"spec": {"paused": true}}))
        );
        assert!(plan(RolloutAction::Resume, &d, now).is_err());
        let paused = json!({"spec": {"paused": true}});
        assert_eq!(
            plan(RolloutAction::Resume, &paused, now),
            Ok(json!({"spec": {"paused": null}}))
        );
        assert_eq!(
            plan(RolloutAction::Restart, &d, now).unwrap()["spec"]["template"]["metadata"]["annotations"]
                ["kubectl.kubernetes.io/restartedAt"],
            "2026-12-01T13:05:00Z"
        );
        assert!(plan(RolloutAction::Abort, &d, now).is_err());
    }
}
