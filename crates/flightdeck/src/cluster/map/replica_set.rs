//! A ReplicaSet that Argo created for a Rollout → `model::ReplicaSet`.

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

/// Maps a raw `apps/v1` ReplicaSet. It must carry Argo's
/// `rollouts-pod-template-hash` label (the watcher selects on it).
pub fn map_replica_set(context: &str, obj: &Value) -> Result<ReplicaSet, MapError> {
    let meta = Meta::read(obj)?;
    let root = Field::root(&meta.object, obj);
    let hash = meta.hash.clone().ok_or_else(|| {
        root.at(&["metadata", "labels"], |labels| {
            labels.with(HASH_LABEL, |f| f.error("missing"))
        })
        .unwrap_or_else(|e| e)
    })?;
    let current = root.at(&["status", "replicas"], |f| f.count_or_zero())?;
    Ok(ReplicaSet {
        key: ObjectKey::new(context, &meta.namespace, &meta.name),
        owner: meta.owner,
        hash,
        revision: meta.revision,
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
        revision_history: root
            .at(
                &[
                    "metadata",
                    "annotations",
                    "rollout.argoproj.io/revision-history",
                ],
                |f| f.string(),
            )?
            .split(',')
            .filter_map(|r| r.trim().parse().ok())
            .collect(),
    })
}
