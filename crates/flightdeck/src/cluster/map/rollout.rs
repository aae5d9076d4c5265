//! An Argo `Rollout` (argoproj.io/v1alpha1) → `model::Rollout`, with the
//! phase, step and weights computed as `kubectl argo rollouts get` does.

use serde_json::Value;

use crate::model::{
    Name, ObjectKey, PauseCondition, Phase, Replicas, Rollout, Scaling, Strategy, StrategyDetail,
    Workload, canary_set_weight, current_canary_step, shared_message, shared_steps,
};

use super::condition::map_condition;
use super::fields::{Field, MapError};
use super::meta::Meta;
use super::phase::{PhaseFacts, argo_phase};
use super::steps::map_steps;

/// Maps a raw Rollout as the API server serves it.
pub fn map_rollout(context: &str, obj: &Value) -> Result<Rollout, MapError> {
    let meta = Meta::read(obj)?;
    let root = Field::root(&meta.object, obj);
    let present = |keys: &[&str]| root.at(keys, |f| Ok(f.is_present()));
    let text = |keys: &[&str]| -> Result<Option<Name>, MapError> {
        Ok(root
            .at(keys, |f| f.str())?
            .filter(|s| !s.is_empty())
            .map(Name::from))
    };

    let strategy = if present(&spec(&["strategy", "canary"]))? {
        Strategy::Canary {
            traffic_routed: present(&spec(&["strategy", "canary", "trafficRouting"]))?,
        }
    } else if present(&spec(&["strategy", "blueGreen"]))? {
        Strategy::BlueGreen
    } else {
        Strategy::Other
    };
    let steps = match strategy {
        Strategy::Canary { .. } => root.at(&spec(&["strategy", "canary", "steps"]), map_steps)?,
        _ => Vec::new(),
    };
    let pause_conditions = root.at(&status(&["pauseConditions"]), |list| {
        list.each(|c| {
            Ok(PauseCondition {
                reason: c.at(&["reason"], |f| f.string())?,
                since: c.at(&["startTime"], |f| f.time())?,
            })
        })
    })?;
    let mut progressing_updated = None;
    let conditions = root.at(&status(&["conditions"]), |list| {
        list.each(|c| {
            let condition = map_condition(c, "lastTransitionTime")?;
            if condition.kind == "Progressing" {
                progressing_updated = c.at(&["lastUpdateTime"], |f| f.time())?;
            }
            Ok(condition)
        })
    })?;
    let replicas = Replicas {
        // Argo's GetReplicasOrDefault: an unset spec.replicas means 1.
        desired: root.at(&spec(&["replicas"]), |f| f.count())?.unwrap_or(1),
        current: root.at(&status(&["replicas"]), |f| f.count_or_zero())?,
        updated: root.at(&status(&["updatedReplicas"]), |f| f.count_or_zero())?,
        ready: root.at(&status(&["readyReplicas"]), |f| f.count_or_zero())?,
        available: root.at(&status(&["availableReplicas"]), |f| f.count_or_zero())?,
    };

    let strategy_key = match strategy {
        Strategy::BlueGreen => "blueGreen",
        _ => "canary",
    };
    let scaling = Scaling {
        scale_down_delay: root.at(
            &spec(&["strategy", strategy_key, "scaleDownDelaySeconds"]),
            |f| f.count(),
        )?,
        abort_scale_down_delay: root.at(
            &spec(&["strategy", strategy_key, "abortScaleDownDelaySeconds"]),
            |f| f.count(),
        )?,
        preview_replicas: root.at(
            &spec(&["strategy", "blueGreen", "previewReplicaCount"]),
            |f| f.count(),
        )?,
        dynamic_stable_scale: root
            .at(&spec(&["strategy", "canary", "dynamicStableScale"]), |f| {
                f.flag()
            })?,
    };

    let facts = PhaseFacts {
        generation: root
            .at(&["metadata", "generation"], |f| f.int())?
            .unwrap_or(0),
        observed_generation: root.at(&status(&["observedGeneration"]), generation_number)?,
        workload_generation_observed: workload_generation_observed(&root)?,
        controller_pause: root.at(&status(&["controllerPause"]), |f| f.flag())?,
        status_phase: root.at(&status(&["phase"]), controller_phase)?,
        status_message: root.at(&status(&["message"]), |f| f.string())?,
        paused_by_user: root.at(&spec(&["paused"]), |f| f.flag())?,
        restart_pending: match root.at(&spec(&["restartAt"]), |f| f.time())? {
            Some(at) => root.at(&status(&["restartedAt"]), |f| f.time())? != Some(at),
            None => false,
        },
        replicas,
        strategy,
        stable_hash: text(&status(&["stableRS"]))?,
        current_hash: text(&status(&["currentPodHash"]))?,
        active_selector: text(&status(&["blueGreen", "activeSelector"]))?,
        post_promotion_analysis_pending: present(&spec(&[
            "strategy",
            "blueGreen",
            "postPromotionAnalysis",
        ]))? && !root.at(
            &status(&["blueGreen", "postPromotionAnalysisRunStatus", "status"]),
            |f| Ok(f.str()?.is_some_and(analysis_completed)),
        )?,
    };
    let (argo_phase, message) = argo_phase(&facts, &conditions, &pause_conditions);
    let aborted = root.at(&status(&["abort"]), |f| f.flag())?;
    // An abort is Degraded to Argo; the cockpit names it. A spec change the
    // controller has not yet seen clears the abort, so that reads Progressing.
    let phase = if aborted && facts.generation_observed() {
        Phase::Aborted
    } else {
        argo_phase
    };

    let current_step = root.at(&status(&["currentStepIndex"]), |f| f.count())?;
    let set_weight = match strategy {
        Strategy::Canary { .. } => canary_set_weight(&steps, current_step, aborted),
        // A blue-green's new version gets all traffic once the active
        // service points at it, none before.
        Strategy::BlueGreen => {
            let cut_over =
                facts.active_selector.is_some() && facts.active_selector == facts.current_hash;
            if cut_over { 100 } else { 0 }
        }
        Strategy::Other => 100,
    };
    let actual_weight = match strategy {
        Strategy::Canary { .. } if current_canary_step(&steps, current_step).is_none() => 100,
        Strategy::Canary { .. } if replicas.available == 0 => 0,
        Strategy::Canary {
            traffic_routed: true,
        } => {
            let routed = root.at(&status(&["canary", "weights", "canary", "weight"]), |f| {
                f.percent()
            })?;
            routed.unwrap_or(set_weight)
        }
        // Needs the canary ReplicaSet's available pods: see `actual_weight`.
        Strategy::Canary {
            traffic_routed: false,
        } => 0,
        _ => set_weight,
    };
    let since = pause_conditions
        .iter()
        .filter_map(|c| c.since)
        .min()
        .or(progressing_updated);

    Ok(Rollout {
        key: ObjectKey::new(context, &meta.namespace, &meta.name),
        created: meta.created.into(),
        generation: facts.generation,
        // Argo reads a missing or non-numeric observedGeneration as observed.
        observed_generation: facts.observed_generation.unwrap_or(facts.generation),
        revision: meta.revision,
        strategy,
        phase,
        message: shared_message(&message),
        paused_by_user: facts.paused_by_user,
        pause_conditions,
        controller_pause: facts.controller_pause,
        aborted,
        steps: shared_steps(steps),
        current_step,
        set_weight,
        actual_weight,
        stable_hash: facts.stable_hash,
        current_hash: facts.current_hash,
        images: root.at(&spec(&["template", "spec", "containers"]), |list| {
            list.images()
        })?,
        replicas,
        detail: StrategyDetail {
            active_selector: facts.active_selector,
            preview_selector: text(&status(&["blueGreen", "previewSelector"]))?,
            stable_ping_pong: text(&status(&["canary", "stablePingPong"]))?,
            workload_ref: text(&spec(&["workloadRef", "name"]))?,
            scaling,
        }
        .boxed(),
        conditions,
        since: since.into(),
        workload: Workload::ArgoRollout,
        flagger: None,
        deployment: None,
    })
}

/// `status.observedGeneration` (and `workloadObservedGeneration`): a string
/// ("429") before Argo v1.0, an integer after. Anything else (v0.9 wrote a
/// hash there) is no number, which Argo reads as observed.
fn generation_number(field: Field<'_, '_>) -> Result<Option<i64>, MapError> {
    match field.str() {
        Ok(text) => Ok(text.and_then(|t| t.trim().parse().ok())),
        Err(_) => field.int(),
    }
}

fn controller_phase(field: Field<'_, '_>) -> Result<Option<Phase>, MapError> {
    match field.str()? {
        None | Some("") => Ok(None),
        Some("Healthy") => Ok(Some(Phase::Healthy)),
        Some("Progressing") => Ok(Some(Phase::Progressing)),
        Some("Paused") => Ok(Some(Phase::Paused)),
        Some("Degraded") => Ok(Some(Phase::Degraded)),
        Some(other) => Err(field.error(format!(
            "expected Healthy, Progressing, Paused or Degraded, found {other:?}"
        ))),
    }
}

/// Argo's `isWorkloadGenerationObserved`, for a rollout whose pod template
/// comes from a `workloadRef`.
fn workload_generation_observed(root: &Field<'_, '_>) -> Result<bool, MapError> {
    if !root.at(&["spec", "workloadRef"], |f| Ok(f.is_present()))? {
        return Ok(true);
    }
    let wanted = root.at(
        &[
            "metadata",
            "annotations",
            "rollout.argoproj.io/workload-generation",
        ],
        generation_number,
    )?;
    let observed = root.at(&["status", "workloadObservedGeneration"], generation_number)?;
    Ok(match (wanted, observed) {
        (Some(wanted), Some(observed)) => wanted == observed,
        _ => true,
    })
}

/// Argo's `AnalysisPhase.Completed()`.
fn analysis_completed(phase: &str) -> bool {
    matches!(phase, "Successful" | "Failed" | "Error" | "Inconclusive")
}

fn spec<'a>(keys: &[&'a str]) -> Vec<&'a str> {
    [&["spec"][..], keys].concat()
}

fn status<'a>(keys: &[&'a str]) -> Vec<&'a str> {
    [&["status"][..], keys].concat()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    /// A canary as a v1.x controller reports it, to vary per test.
    fn canary() -> Value {
        json!({
            "metadata": {"name": "checkout", "namespace": "shop", "generation": 3},
            "spec": {
                "replicas": 5,
                "strategy": {"canary": {"steps": [
                    {"setWeight": 20}, {"pause": {}}, {"analysis": {}},
                    {"setWeight": 50}, {"pause": {"duration": "1m"}}
                ]}}
            },
            "status": {
                "observedGeneration": 3,
                "phase": "Paused",
                "message": "CanaryPauseStep",
                "currentStepIndex": 1,
                "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "2024-05-02T10:00:00Z"}],
                "controllerPause": true,
                "stableRS": "7f9c",
                "currentPodHash": "5d2a",
                "replicas": 6, "updatedReplicas": 1, "availableReplicas": 6
            }
        })
    }

    fn map(obj: &Value) -> Rollout {
        map_rollout("prod", obj).unwrap()
    }

    #[test]
    fn a_v1_controller_phase_and_message_are_taken_as_written() {
        let r = map(&canary());
        assert_eq!(
            (r.phase, r.message.as_str()),
            (Phase::Paused, "CanaryPauseStep")
        );
        assert_eq!(r.since.get(), Some("2024-05-02T10:00:00Z".parse().unwrap()));
        assert_eq!(r.step_label().as_deref(), Some("1/5"));
    }

    #[test]
    fn an_unobserved_spec_change_is_progressing() {
        let mut obj = canary();
        obj["metadata"]["generation"] = 4.into();
        let r = map(&obj);
        assert_eq!(r.phase, Phase::Progressing);
        assert_eq!(r.message, "waiting for rollout spec update to be observed");
        // Even over an abort: a new spec is what clears it.
        obj["status"]["abort"] = true.into();
        assert_eq!(map(&obj).phase, Phase::Progressing);
    }

    #[test]
    fn cleared_pause_conditions_under_a_controller_pause_are_unpausing() {
        let mut obj = canary();
        obj["status"]["pauseConditions"] = json!(null);
        let r = map(&obj);
        assert_eq!(r.phase, Phase::Progressing);
        assert_eq!(r.message, "waiting for rollout to unpause");
    }

    #[test]
    fn an_abort_is_shown_as_aborted_with_no_set_weight() {
        let mut obj = canary();
        obj["status"]["abort"] = true.into();
        obj["status"]["phase"] = "Degraded".into();
        obj["status"]["message"] = "RolloutAborted: metric failed".into();
        let r = map(&obj);
        assert_eq!(r.phase, Phase::Aborted);
        assert_eq!(r.message, "RolloutAborted: metric failed");
        assert!(r.aborted);
        assert_eq!(r.set_weight, 0);
    }

    #[test]
    fn set_weight_walks_back_to_the_last_set_weight_step() {
        let at = |index: Option<usize>| {
            let mut obj = canary();
            obj["status"]["currentStepIndex"] = json!(index);
            map(&obj).set_weight
        };
        assert_eq!(at(None), 20);
        assert_eq!(at(Some(2)), 20);
        assert_eq!(at(Some(3)), 50);
        assert_eq!(at(Some(4)), 50);
        // All steps done.
        assert_eq!(at(Some(5)), 100);
        let mut obj = canary();
        obj["spec"]["strategy"]["canary"]["steps"] = json!([{"pause": {}}, {"setWeight": 10}]);
        obj["status"]["currentStepIndex"] = 0.into();
        assert_eq!(map(&obj).set_weight, 0, "no setWeight yet");
    }

    #[test]
    fn traffic_routed_actual_weight_is_what_the_controller_set() {
        let mut obj = canary();
        obj["spec"]["strategy"]["canary"]["trafficRouting"] = json!({"nginx": {}});
        assert_eq!(
            map(&obj).actual_weight,
            20,
            "no weights yet: the set weight"
        );
        obj["status"]["canary"] = json!({"weights": {"canary": {"weight": 15}}});
        assert_eq!(map(&obj).actual_weight, 15);
        obj["status"]["currentStepIndex"] = 5.into();
        assert_eq!(map(&obj).actual_weight, 100, "steps done");
        obj["status"]["currentStepIndex"] = 1.into();
        obj["status"]["canary"]["weights"]["canary"]["weight"] = 150.into();
        let err = map_rollout("prod", &obj).unwrap_err();
        assert_eq!(err.field, "status.canary.weights.canary.weight");
    }

    #[test]
    fn without_status_a_rollout_is_progressing() {
        let mut obj = canary();
        obj.as_object_mut().unwrap().remove("status");
        let r = map(&obj);
        assert_eq!(r.phase, Phase::Progressing);
        assert_eq!(r.message, "more replicas need to be updated");
        assert_eq!(r.observed_generation, r.generation);
    }

    #[test]
    fn a_finished_canary_without_a_controller_phase_is_healthy() {
        let mut obj = canary();
        let status = obj["status"].as_object_mut().unwrap();
        for key in ["phase", "message", "pauseConditions", "controllerPause"] {
            status.remove(key);
        }
        status.insert("currentPodHash".into(), "7f9c".into());
        status.insert("currentStepIndex".into(), 5.into());
        status.insert("updatedReplicas".into(), 5.into());
        status.insert("replicas".into(), 5.into());
        status.insert("availableReplicas".into(), 5.into());
        let r = map(&obj);
        assert_eq!((r.phase, r.message.as_str()), (Phase::Healthy, ""));
        assert_eq!((r.set_weight, r.actual_weight), (100, 100));
    }

    #[test]
    fn wrong_types_are_errors_that_name_the_field() {
        let mut obj = canary();
        obj["status"]["currentStepIndex"] = "x".into();
        let err = map_rollout("prod", &obj).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"shop/checkout: status.currentStepIndex: expected an integer, found "x""#
        );
        let mut obj = canary();
        obj["status"]["phase"] = "Sleeping".into();
        let err = map_rollout("prod", &obj).unwrap_err();
        assert_eq!(err.field, "status.phase");
    }
}
