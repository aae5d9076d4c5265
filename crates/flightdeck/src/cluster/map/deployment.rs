//! A `Deployment` (apps/v1) → `model::Rollout` of kind Deployment: a rolling update's
//! progress (updated, ready, available against desired; `maxSurge`, `maxUnavailable`),
//! `spec.paused`, and `ProgressDeadlineExceeded` as failed, with the phase as
//! `kubectl rollout status` reads it (deploymentutil's `DeploymentComplete`).

use serde_json::Value;

use crate::model::{
    DeploymentDetail, ObjectKey, Phase, Replicas, Rollout, Strategy, Workload, shared_message,
};

use super::condition::map_condition;
use super::fields::{Field, MapError};
use super::meta::Meta;
use super::replica_set::template_annotation_times;

const REVISION: &str = "deployment.kubernetes.io/revision";
const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

/// An int-or-string of the rolling update (`1`, `"25%"`).
fn int_or_percent(field: Field<'_, '_>, default: &str) -> Result<String, MapError> {
    if let Ok(Some(n)) = field.int() {
        return Ok(n.to_string());
    }
    Ok(field.str()?.unwrap_or(default).to_string())
}

pub fn map_deployment(context: &str, obj: &Value) -> Result<Rollout, MapError> {
    let meta = Meta::read(obj)?;
    let root = Field::root(&meta.object, obj);
    let replicas = Replicas {
        // An unset spec.replicas means 1.
        desired: root.at(&["spec", "replicas"], |f| f.count())?.unwrap_or(1),
        current: root.at(&["status", "replicas"], |f| f.count_or_zero())?,
        updated: root.at(&["status", "updatedReplicas"], |f| f.count_or_zero())?,
        ready: root.at(&["status", "readyReplicas"], |f| f.count_or_zero())?,
        available: root.at(&["status", "availableReplicas"], |f| f.count_or_zero())?,
    };
    let conditions = root.at(&["status", "conditions"], |list| {
        list.each(|c| map_condition(c, "lastUpdateTime"))
    })?;
    let generation = root
        .at(&["metadata", "generation"], |f| f.int())?
        .unwrap_or(0);
    let observed = root
        .at(&["status", "observedGeneration"], |f| f.int())?
        .unwrap_or(generation);
    let paused = root.at(&["spec", "paused"], |f| f.flag())?;
    let progressing = conditions.iter().find(|c| c.kind == "Progressing");
    let deadline_exceeded = progressing.is_some_and(|c| c.reason == "ProgressDeadlineExceeded");
    let rolling = observed < generation
        || replicas.updated < replicas.desired
        || replicas.current > replicas.updated
        || replicas.available < replicas.updated;
    let (phase, message) = if deadline_exceeded {
        let message = progressing.map(|c| c.message.clone()).unwrap_or_default();
        (
            Phase::Degraded,
            format!("ProgressDeadlineExceeded: {message}"),
        )
    } else if paused {
        (Phase::Paused, "paused (spec.paused)".into())
    } else if rolling {
        (
            Phase::Progressing,
            format!(
                "{} of {} updated replicas are available",
                replicas.available.min(replicas.updated),
                replicas.desired
            ),
        )
    } else {
        (Phase::Healthy, String::new())
    };
    let strategy_type = root
        .at(&["spec", "strategy", "type"], |f| f.str())?
        .unwrap_or("RollingUpdate")
        .to_string();
    let rolling_update = |key: &str| {
        root.at(&["spec", "strategy", "rollingUpdate", key], |f| {
            int_or_percent(f, "25%")
        })
    };
    let owned = root.at(&["metadata", "ownerReferences"], |refs| {
        Ok(refs
            .each(|r| {
                let controller = r.at(&["controller"], |f| f.flag())?;
                let kind = r.at(&["kind"], |f| f.str())?;
                Ok(controller && matches!(kind, Some("Canary" | "Rollout")))
            })?
            .into_iter()
            .any(|o| o))
    })?;
    let detail = DeploymentDetail {
        max_surge: rolling_update("maxSurge")?,
        max_unavailable: rolling_update("maxUnavailable")?,
        strategy: strategy_type,
        deadline_exceeded,
        restarted_at: root
            .at(
                &["spec", "template", "metadata", "annotations", RESTARTED_AT],
                |f| f.str(),
            )?
            .map(str::to_string),
        owned,
        template_times: template_annotation_times(&root)?,
    };
    // The new pods' share while rolling: updated of all current pods.
    let new_share = if rolling && replicas.current > 0 {
        u32::try_from(
            u64::from(replicas.updated.min(replicas.current)) * 100 / u64::from(replicas.current),
        )
        .unwrap_or(100)
    } else {
        100
    };
    Ok(Rollout {
        key: ObjectKey::of(Workload::Deployment, context, &meta.namespace, &meta.name),
        created: meta.created.into(),
        generation,
        observed_generation: observed,
        revision: root.at(&["metadata", "annotations", REVISION], |f| {
            f.numeric_string()
        })?,
        strategy: Strategy::Other,
        phase,
        message: shared_message(&message),
        paused_by_user: paused,
        pause_conditions: Vec::new(),
        controller_pause: false,
        aborted: false,
        steps: Vec::new().into(),
        current_step: None,
        set_weight: new_share,
        actual_weight: new_share,
        stable_hash: None,
        current_hash: None,
        images: root.at(&["spec", "template", "spec", "containers"], |list| {
            list.images()
        })?,
        replicas,
        detail: None,
        since: progressing.and_then(|c| c.since.get()).into(),
        conditions,
        workload: Workload::Deployment,
        flagger: None,
        deployment: Some(Box::new(detail)),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn deployment() -> Value {
        json!({
            "metadata": {"name": "web", "namespace": "shop", "generation": 4,
                         "annotations": {"deployment.kubernetes.io/revision": "3"}},
            "spec": {"replicas": 4, "strategy": {"type": "RollingUpdate",
                     "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "0"}},
                     "template": {"spec": {"containers": [{"name": "web", "image": "web:v3"}]}}},
            "status": {"observedGeneration": 4, "replicas": 5, "updatedReplicas": 2,
                       "readyReplicas": 4, "availableReplicas": 4,
                       "conditions": [{"type": "Progressing", "status": "True",
                                       "reason": "ReplicaSetUpdated", "message": "progressing"}]}
        })
    }

    #[test]
    fn a_rolling_update_is_progressing_with_its_surge() {
        let d = map_deployment("prod", &deployment()).unwrap();
        assert_eq!((d.phase, d.revision), (Phase::Progressing, Some(3)));
        assert_eq!(d.actual_weight, 40);
        let detail = d.deployment.unwrap();
        assert_eq!(
            (detail.max_surge.as_str(), detail.max_unavailable.as_str()),
            ("1", "0")
        );
    }

    #[test]
    fn paused_complete_and_past_its_deadline() {
        let mut obj = deployment();
        obj["spec"]["paused"] = true.into();
        assert_eq!(map_deployment("prod", &obj).unwrap().phase, Phase::Paused);
        let mut obj = deployment();
        obj["status"] = json!({"observedGeneration": 4, "replicas": 4, "updatedReplicas": 4,
                               "readyReplicas": 4, "availableReplicas": 4});
        assert_eq!(map_deployment("prod", &obj).unwrap().phase, Phase::Healthy);
        let mut obj = deployment();
        obj["status"]["conditions"][0] = json!({"type": "Progressing", "status": "False",
            "reason": "ProgressDeadlineExceeded",
            "message": "ReplicaSet \"web-5d\" has timed out progressing."});
        let d = map_deployment("prod", &obj).unwrap();
        assert_eq!(d.phase, Phase::Degraded);
        assert!(
            d.message
                .starts_with("ProgressDeadlineExceeded: ReplicaSet")
        );
        let mut obj = deployment();
        obj["status"]["updatedReplicas"] = "two".into();
        let err = map_deployment("prod", &obj).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"shop/web: status.updatedReplicas: expected an integer, found "two""#
        );
    }
}
