//! `metadata` common to every object flightdeck maps.

use jiff::Timestamp;
use serde_json::Value;

use super::fields::{Field, MapError};

/// The label Argo puts on its ReplicaSets and AnalysisRuns: the pod template hash.
pub const HASH_LABEL: &str = "rollouts-pod-template-hash";
const REVISION_ANNOTATION: &str = "rollout.argoproj.io/revision";

pub struct Meta {
    /// `namespace/name`, the object's name in errors.
    pub object: String,
    pub namespace: String,
    pub name: String,
    pub created: Option<Timestamp>,
    /// `rollout.argoproj.io/revision`.
    pub revision: Option<u64>,
    /// The name of the Rollout (or, for what an experiment step runs, the
    /// Experiment) that controls this object, if one does.
    pub owner: Option<String>,
    /// `rollouts-pod-template-hash`.
    pub hash: Option<String>,
}

impl Meta {
    pub fn read(obj: &Value) -> Result<Meta, MapError> {
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
        let revision = meta.at(&["metadata", "annotations", REVISION_ANNOTATION], |f| {
            f.numeric_string()
        })?;
        let hash = meta
            .at(&["metadata", "labels", HASH_LABEL], |f| f.str())?
            .map(str::to_string);
        let owner = meta.at(&["metadata", "ownerReferences"], |refs| {
            let owners = refs.each(|r| {
                let controller = r.at(&["controller"], |f| f.flag())?;
                let kind = r.at(&["kind"], |f| f.str())?;
                let name = r.at(&["name"], |f| f.string())?;
                let argo = matches!(kind, Some("Rollout" | "Experiment"));
                Ok((controller && argo).then_some(name))
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
