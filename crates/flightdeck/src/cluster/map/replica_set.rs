//! A ReplicaSet that Argo created for a Rollout, or Kubernetes for a Deployment →
//! `model::ReplicaSet`.

use serde_json::Value;

use crate::model::{ObjectKey, ReplicaSet, Replicas, TemplateTimes, Workload, template_times};

use super::fields::{Field, MapError};
use super::meta::{ARGO, DEPLOYMENTS, Maker, Meta};

/// The annotations of an object's pod template that read as a time (where a commit
/// time is found).
pub(super) fn template_annotation_times(root: &Field<'_, '_>) -> Result<TemplateTimes, MapError> {
    root.at(&["spec", "template", "metadata", "annotations"], |f| {
        let annotations = f
            .keys()?
            .into_iter()
            .map(|k| Ok((k, f.with(k, |v| v.str())??.unwrap_or_default())))
            .collect::<Result<Vec<_>, MapError>>()?;
        Ok(template_times(annotations))
    })
}

/// Maps a raw `apps/v1` ReplicaSet. It must carry Argo's
/// `rollouts-pod-template-hash` label (the watcher selects on it).
pub fn map_replica_set(context: &str, obj: &Value) -> Result<ReplicaSet, MapError> {
    map_made_by(context, obj, &ARGO, Workload::ArgoRollout)
}

/// Maps a Deployment's ReplicaSet: `pod-template-hash`, `deployment.kubernetes.io/revision`,
/// keyed as a Deployment's so that its owner's key is the Deployment's.
pub fn map_deployment_replica_set(context: &str, obj: &Value) -> Result<ReplicaSet, MapError> {
    map_made_by(context, obj, &DEPLOYMENTS, Workload::Deployment)
}

fn map_made_by(
    context: &str,
    obj: &Value,
    maker: &Maker,
    kind: Workload,
) -> Result<ReplicaSet, MapError> {
    let meta = Meta::read_as(obj, maker)?;
    let root = Field::root(&meta.object, obj);
    let hash = meta.hash.clone().ok_or_else(|| {
        root.at(&["metadata", "labels"], |labels| {
            labels.with(maker.hash_label, |f| f.error("missing"))
        })
        .unwrap_or_else(|e| e)
    })?;
    let current = root.at(&["status", "replicas"], |f| f.count_or_zero())?;
    Ok(ReplicaSet {
        key: ObjectKey::of(kind, context, &meta.namespace, &meta.name),
        owner: meta.owner,
        hash,
        revision: meta.revision,
        images: root.at(&["spec", "template", "spec", "containers"], |list| {
            list.images()
        })?,
        replicas: Replicas {
            // Kubernetes defaults an unset spec.replicas to 1.
            desired: root.at(&["spec", "replicas"], |f| f.count())?.unwrap_or(1),
            current,
            // Every pod of a ReplicaSet runs its template.
            updated: current,
            ready: root.at(&["status", "readyReplicas"], |f| f.count_or_zero())?,
            available: root.at(&["status", "availableReplicas"], |f| f.count_or_zero())?,
        },
        created: meta.created.into(),
        template_times: template_annotation_times(&root)?,
        revision_history: root
            .at(&["metadata", "annotations", maker.revision_history], |f| {
                f.string()
            })?
            .split(',')
            .filter_map(|r| r.trim().parse().ok())
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_deployments_replica_set_reads_kubernetes_labels_and_is_keyed_as_the_deployments() {
        let rs = json!({
            "metadata": {"name": "web-7c9f8d6b5", "namespace": "shop",
                         "labels": {"app": "web", "pod-template-hash": "7c9f8d6b5"},
                         "annotations": {"deployment.kubernetes.io/revision": "4",
                                         "deployment.kubernetes.io/revision-history": "1,2"},
                         "ownerReferences": [{"kind": "Deployment", "name": "web", "controller": true}]},
            "spec": {"replicas": 2,
                     "template": {"metadata": {"annotations": {
                                      "checksum/config": "9f86d081884c7d659a2feaa0c55ad015",
                                      "flightdeck.io/commit-time": "2024-05-01T00:00:00Z"}},
                                  "spec": {"containers": [{"name": "web", "image": "web:v4"}]}}}
        });
        let mapped = map_deployment_replica_set("eu", &rs).unwrap();
        // Of the template's annotations, those that are times.
        assert_eq!(
            *mapped.template_times,
            [(
                crate::model::interned("flightdeck.io/commit-time"),
                "2024-05-01T00:00:00Z".parse().unwrap()
            )]
        );
        assert_eq!(mapped.key.kind, Workload::Deployment);
        assert_eq!(
            (
                mapped.owner.as_deref(),
                mapped.hash.as_str(),
                mapped.revision
            ),
            (Some("web"), "7c9f8d6b5", Some(4))
        );
        assert_eq!(*mapped.revision_history, [1, 2]);
        // Argo's reading wants Argo's label.
        assert!(map_replica_set("eu", &rs).is_err());
    }
}
