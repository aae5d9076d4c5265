//! A ReplicaSet that Argo created for a Rollout, or Kubernetes for a Deployment →
//! `model::ReplicaSet`.

use serde_json::Value;

use crate::model::{ObjectKey, ReplicaSet, Replicas};

use super::fields::{Field, MapError};
use super::meta::{HASH_LABEL, Meta};

/// The annotations of an object's pod template (where a commit time may be found).
pub(super) fn template_annotations(
    root: &Field<'_, '_>,
) -> Result<Vec<(String, String)>, MapError> {
    root.at(&["spec", "template", "metadata", "annotations"], |f| {
        f.keys()?
            .into_iter()
            .map(|k| Ok((k.to_string(), f.with(k, |v| v.string())??)))
            .collect::<Result<Vec<_>, MapError>>()
    })
}

/// How a controller labels its ReplicaSets: Argo's for a Rollout, Kubernetes' own
/// for a Deployment.
struct Names {
    hash_label: &'static str,
    revision: &'static str,
    revision_history: &'static str,
}

const ARGO: Names = Names {
    hash_label: HASH_LABEL,
    revision: "rollout.argoproj.io/revision",
    revision_history: "rollout.argoproj.io/revision-history",
};

const DEPLOYMENT: Names = Names {
    hash_label: "pod-template-hash",
    revision: "deployment.kubernetes.io/revision",
    revision_history: "deployment.kubernetes.io/revision-history",
};

/// Maps a raw `apps/v1` ReplicaSet. It must carry Argo's
/// `rollouts-pod-template-hash` label (the watcher selects on it).
pub fn map_replica_set(context: &str, obj: &Value) -> Result<ReplicaSet, MapError> {
    let meta = Meta::read(obj)?;
    map_set(context, obj, &ARGO, meta.owner.clone(), meta)
}

/// Maps a raw ReplicaSet of a Deployment: `pod-template-hash`, the Deployment
/// controller's revision annotations, and the Deployment that owns it.
pub fn map_deployment_replica_set(context: &str, obj: &Value) -> Result<ReplicaSet, MapError> {
    let meta = Meta::read(obj)?;
    let root = Field::root(&meta.object, obj);
    let owner = root.at(&["metadata", "ownerReferences"], |refs| {
        let owners = refs.each(|r| {
            let controller = r.at(&["controller"], |f| f.flag())?;
            let kind = r.at(&["kind"], |f| f.str())?;
            let name = r.at(&["name"], |f| f.string())?;
            Ok((controller && kind == Some("Deployment")).then_some(name))
        })?;
        Ok(owners.into_iter().flatten().next())
    })?;
    map_set(context, obj, &DEPLOYMENT, owner, meta)
}

fn map_set(
    context: &str,
    obj: &Value,
    names: &Names,
    owner: Option<String>,
    meta: Meta,
) -> Result<ReplicaSet, MapError> {
    let root = Field::root(&meta.object, obj);
    let annotation = |name: &str| root.at(&["metadata", "annotations", name], |f| f.string());
    let hash = root.at(&["metadata", "labels", names.hash_label], |f| f.string())?;
    if hash.is_empty() {
        return Err(root
            .at(&["metadata", "labels"], |labels| {
                labels.with(names.hash_label, |f| f.error("missing"))
            })
            .unwrap_or_else(|e| e));
    }
    let revision = root.at(&["metadata", "annotations", names.revision], |f| {
        f.numeric_string()
    })?;
    let current = root.at(&["status", "replicas"], |f| f.count_or_zero())?;
    Ok(ReplicaSet {
        key: ObjectKey::new(context, &meta.namespace, &meta.name),
        owner,
        hash,
        revision,
        images: root.at(&["spec", "template", "spec", "containers"], |list| {
            list.each(|c| c.at(&["image"], |f| f.string()))
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
        created: meta.created,
        template_annotations: template_annotations(&root)?,
        revision_history: annotation(names.revision_history)?
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
    fn a_deployments_replica_set_reads_the_deployment_controllers_names() {
        let set = json!({
            "metadata": {
                "name": "web-7c9f8d6b5", "namespace": "shop",
                "creationTimestamp": "2026-11-30T10:00:00Z",
                "labels": {"app": "web", "pod-template-hash": "7c9f8d6b5"},
                "annotations": {"deployment.kubernetes.io/revision": "9",
                                "deployment.kubernetes.io/revision-history": "4,7"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                     "name": "web", "controller": true}]
            },
            "spec": {"replicas": 3, "template": {
                "metadata": {"annotations": {"flightdeck.io/commit-time": "1790000000"}},
                "spec": {"containers": [{"name": "web", "image": "web:v9"}]}}},
            "status": {"replicas": 3, "readyReplicas": 3, "availableReplicas": 3}
        });
        let rs = map_deployment_replica_set("prod", &set).unwrap();
        assert_eq!(
            (rs.owner.as_deref(), rs.hash.as_str(), rs.revision),
            (Some("web"), "7c9f8d6b5", Some(9))
        );
        assert_eq!(rs.revision_history, [4, 7]);
        assert_eq!(rs.images, ["web:v9"]);
        assert_eq!(rs.template_annotations.len(), 1);
        // Argo's reading of it finds no hash of its own.
        let err = map_replica_set("prod", &set).unwrap_err().to_string();
        assert!(err.contains("rollouts-pod-template-hash"), "{err}");
    }
}
