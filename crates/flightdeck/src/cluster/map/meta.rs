//! `metadata` common to every object flightdeck maps.

use jiff::Timestamp;
use serde_json::Value;

use super::fields::{Field, MapError};
use crate::model::Name;

/// The label Argo puts on its ReplicaSets and AnalysisRuns: the pod template hash.
pub const HASH_LABEL: &str = "rollouts-pod-template-hash";
/// The label Kubernetes' Deployment controller puts on its ReplicaSets.
pub const DEPLOYMENT_HASH_LABEL: &str = "pod-template-hash";

/// Who makes an object, and so which labels and annotations say its revision and hash.
pub struct Maker {
    pub hash_label: &'static str,
    pub revision_annotation: &'static str,
    /// The revisions a template held before an undo brought it back.
    pub revision_history: &'static str,
    /// The kinds whose controller ownerReference names the owner.
    pub owners: &'static [&'static str],
}

/// Argo Rollouts' controller: Rollouts and Experiments own what it makes.
pub const ARGO: Maker = Maker {
    hash_label: HASH_LABEL,
    revision_annotation: "rollout.argoproj.io/revision",
    revision_history: "rollout.argoproj.io/revision-history",
    owners: &["Rollout", "Experiment"],
};

/// Kubernetes' Deployment controller.
pub const DEPLOYMENTS: Maker = Maker {
    hash_label: DEPLOYMENT_HASH_LABEL,
    revision_annotation: "deployment.kubernetes.io/revision",
    revision_history: "deployment.kubernetes.io/revision-history",
    owners: &["Deployment"],
};

pub struct Meta {
    /// `namespace/name`, the object's name in errors.
    pub object: String,
    pub namespace: String,
    pub name: String,
    pub created: Option<Timestamp>,
    /// `rollout.argoproj.io/revision` (a Deployment's: `deployment.kubernetes.io/revision`).
    pub revision: Option<u64>,
    /// The name of the Rollout (or, for what an experiment step runs, the
    /// Experiment; or the Deployment) that controls this object, if one does.
    pub owner: Option<Name>,
    /// `rollouts-pod-template-hash` (a Deployment's: `pod-template-hash`).
    pub hash: Option<Name>,
}

impl Meta {
    pub fn read(obj: &Value) -> Result<Meta, MapError> {
        Meta::read_as(obj, &ARGO)
    }

    pub fn read_as(obj: &Value, maker: &Maker) -> Result<Meta, MapError> {
        let unnamed = Field::root("<unnamed>", obj);
        let name = unnamed
            .at(&["metadata", "name"], |f| f.str())?
            .filter(|n| !n.is_empty())
            .ok_or_else(|| MapError {
                object: "<unnamed>".into(),
                field: "metadata.name".into(),
                problem: "missing".into(),
            })?
            .to_string();
        let namespace = unnamed.at(&["metadata", "namespace"], |f| f.string())?;
        let object = format!("{namespace}/{name}");
        let meta = Field::root(&object, obj);
        let created = meta.at(&["metadata", "creationTimestamp"], |f| f.time())?;
        let revision = meta.at(
            &["metadata", "annotations", maker.revision_annotation],
            |f| f.numeric_string(),
        )?;
        let hash = meta
            .at(&["metadata", "labels", maker.hash_label], |f| f.str())?
            .map(Name::from);
        let owner = meta.at(&["metadata", "ownerReferences"], |refs| {
            let owners = refs.each(|r| {
                let controller = r.at(&["controller"], |f| f.flag())?;
                let kind = r.at(&["kind"], |f| f.str())?;
                let name = r.at(&["name"], |f| Ok(Name::from(f.str()?.unwrap_or_default())))?;
                let ours = kind.is_some_and(|k| maker.owners.contains(&k));
                Ok((controller && ours).then_some(name))
            })?;
            Ok(owners.into_iter().flatten().next())
        })?;
        Ok(Meta {
            object,
            namespace,
            name,
            created,
            revision,
            owner,
            hash,
        })
    }
}
