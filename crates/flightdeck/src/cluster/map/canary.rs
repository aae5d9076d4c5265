//! A Flagger `Canary` (flagger.app/v1beta1) → `model::Rollout` of kind Flagger Canary:
//! Flagger's phase, weights, iterations and failed checks from `status`
//! (pkg/apis/flagger/v1beta1/status.go), the analysis plan from `spec.analysis` as a
//! timeline of steps, A/B `match` rules, and the webhooks whose gates flightdeck opens.
//! The target Deployment is the canary version and its `-primary` the stable one; their
//! pods come from the Deployments' watch.

use serde_json::Value;

use crate::model::{
    FlaggerCanary, FlaggerPhase, FlaggerStrategy, Gate, Images, Name, ObjectKey, Phase, Replicas,
    Rollout, Step, Strategy, Workload, shared_message, shared_steps,
};

use super::condition::map_condition;
use super::fields::{Field, MapError};
use super::meta::Meta;
use super::steps::pause_seconds;

/// Flagger's default `analysis.interval` when none is set.
const DEFAULT_INTERVAL: u64 = 60;
/// Flagger caps a weighted canary at 100 (`maxWeight` defaults to 100).
const DEFAULT_MAX_WEIGHT: u32 = 100;

/// Maps a raw Canary as the API server serves it.
pub fn map_canary(context: &str, obj: &Value) -> Result<Rollout, MapError> {
    let meta = Meta::read(obj)?;
    let root = Field::root(&meta.object, obj);
    // Canaries of Flagger < 1.0 keep the plan under `canaryAnalysis`.
    let plan_key = if root.at(&["spec", "analysis"], |f| Ok(f.is_present()))? {
        "analysis"
    } else {
        "canaryAnalysis"
    };
    let plan = |key: &str| ["spec".to_string(), plan_key.to_string(), key.to_string()];
    let target = root
        .at(&["spec", "targetRef", "name"], |f| f.str())?
        .filter(|n| !n.is_empty())
        .ok_or_else(|| root_error(&meta.object, "spec.targetRef.name", "missing"))?
        .to_string();
    let interval = root
        .at(&path(&plan("interval")), pause_seconds)?
        .or(Some(DEFAULT_INTERVAL));
    let threshold = root.at(&path(&plan("threshold")), |f| f.count())?;
    let step_weight = root.at(&path(&plan("stepWeight")), |f| f.percent())?;
    let step_weights = root.at(&path(&plan("stepWeights")), |list| {
        list.each(|w| Ok(w.percent()?.unwrap_or(0)))
    })?;
    let max_weight = root.at(&path(&plan("maxWeight")), |f| f.percent())?;
    let max_iterations = root.at(&path(&plan("iterations")), |f| f.count())?;
    let matches: Vec<String> = root.at(&path(&plan("match")), |list| {
        Ok(list.each(match_rule)?.into_iter().flatten().collect())
    })?;
    let webhooks = root.at(&path(&plan("webhooks")), |list| {
        list.each(|hook| {
            Ok((
                hook.at(&["type"], |f| f.string())?,
                Gate {
                    webhook: hook.at(&["name"], |f| f.string())?,
                    url: hook.at(&["url"], |f| f.string())?,
                },
            ))
        })
    })?;
    let gate = |kind: &str| {
        webhooks
            .iter()
            .find(|(t, _)| t == kind)
            .map(|(_, g)| g.clone())
    };
    let strategy = if !step_weights.is_empty() || step_weight.is_some() {
        FlaggerStrategy::Canary
    } else if !matches.is_empty() {
        FlaggerStrategy::AbTesting
    } else {
        FlaggerStrategy::BlueGreen
    };

    let status = |key: &str| [String::from("status"), key.to_string()];
    let phase = match root.at(&path(&status("phase")), |f| f.str())? {
        None | Some("") => FlaggerPhase::Initializing,
        Some(text) => FlaggerPhase::parse(text).ok_or_else(|| {
            root_error(
                &meta.object,
                "status.phase",
                &format!(
                    "expected one of Flagger's phases (Initializing, Initialized, Waiting, \
                     Progressing, WaitingPromotion, Promoting, Finalising, Succeeded, Failed, \
                     Terminating, Terminated), found {text:?}"
                ),
            )
        })?,
    };
    let canary_weight = root
        .at(&path(&status("canaryWeight")), |f| f.percent())?
        .unwrap_or(0);
    let iterations = root
        .at(&path(&status("iterations")), |f| f.count())?
        .unwrap_or(0);
    let failed_checks = root
        .at(&path(&status("failedChecks")), |f| f.count())?
        .unwrap_or(0);
    let text = |key: &str| -> Result<Option<Name>, MapError> {
        Ok(root
            .at(&path(&status(key)), |f| f.str())?
            .filter(|s| !s.is_empty())
            .map(Name::from))
    };
    let last_applied = text("lastAppliedSpec")?;
    let last_promoted = text("lastPromotedSpec")?;
    let since = root.at(&["status", "lastTransitionTime"], |f| f.time())?;
    let conditions = root.at(&["status", "conditions"], |list| {
        list.each(|c| map_condition(c, "lastTransitionTime"))
    })?;
    let suspended = root.at(&["spec", "suspend"], |f| f.flag())?;
    let skip_analysis = root.at(&["spec", "skipAnalysis"], |f| f.flag())?;

    let flagger = FlaggerCanary {
        phase,
        strategy,
        target,
        suspended,
        skip_analysis,
        canary_weight,
        iterations,
        failed_checks,
        threshold,
        interval,
        step_weight,
        step_weights,
        max_weight,
        max_iterations,
        matches,
        last_applied,
        last_promoted,
        promotion_gate: gate("confirm-promotion"),
        rollback_gate: gate("rollback"),
        rollout_gate: gate("confirm-rollout"),
    };
    let steps = plan_steps(&flagger);
    let current_step = Some(current_step(&flagger, &steps));
    let message = conditions
        .iter()
        .find(|c| c.kind == "Promoted")
        .map(|c| c.message.to_string())
        .unwrap_or_default();
    let common = phase.common(suspended);
    // The share the canary has now: its weight while the analysis runs; a
    // blue/green's canary none until promotion; an A/B test's matched users only.
    let weight = match phase {
        FlaggerPhase::Promoting | FlaggerPhase::Finalising => 100,
        _ if phase.in_flight() => canary_weight,
        _ => 0,
    };
    let rollout = Rollout {
        key: ObjectKey::of(
            Workload::FlaggerCanary,
            context,
            &meta.namespace,
            &meta.name,
        ),
        created: meta.created.into(),
        generation: root
            .at(&["metadata", "generation"], |f| f.int())?
            .unwrap_or(0),
        observed_generation: root
            .at(&["status", "observedGeneration"], |f| f.int())?
            .or(root.at(&["metadata", "generation"], |f| f.int())?)
            .unwrap_or(0),
        revision: None,
        strategy: match strategy {
            FlaggerStrategy::BlueGreen => Strategy::BlueGreen,
            _ => Strategy::Canary {
                traffic_routed: true,
            },
        },
        phase: common,
        message: shared_message(&message),
        paused_by_user: suspended,
        pause_conditions: Vec::new(),
        controller_pause: false,
        aborted: phase == FlaggerPhase::Failed,
        steps: shared_steps(steps),
        current_step,
        set_weight: weight,
        actual_weight: weight,
        // The spec hashes: an update is in flight while the applied spec is not the
        // promoted one, and the analysis is running on it.
        stable_hash: flagger.last_promoted.clone(),
        current_hash: if phase.in_flight() || phase == FlaggerPhase::Failed {
            flagger.last_applied.clone()
        } else {
            flagger.last_promoted.clone()
        },
        images: Images::default(),
        replicas: Replicas::default(),
        detail: None,
        conditions,
        since: since.into(),
        workload: Workload::FlaggerCanary,
        flagger: Some(Box::new(flagger)),
        deployment: None,
    };
    debug_assert!(matches!(
        rollout.phase,
        Phase::Healthy | Phase::Progressing | Phase::Paused | Phase::Aborted
    ));
    Ok(rollout)
}

fn path(keys: &[String]) -> Vec<&str> {
    keys.iter().map(String::as_str).collect()
}

fn root_error(object: &str, field: &str, problem: &str) -> MapError {
    MapError {
        object: object.to_string(),
        field: field.to_string(),
        problem: problem.to_string(),
    }
}

/// One `match` entry of an A/B test, in words: each header (a cookie is the `cookie`
/// header) with how it is matched, and source labels. Within an entry all must hold;
/// any entry sends the request to the canary.
fn match_rule(rule: Field<'_, '_>) -> Result<Option<String>, MapError> {
    let mut parts = Vec::new();
    let headers = rule.at(&["headers"], |h| h.keys())?;
    for name in headers {
        let how = rule.at(&["headers", name], |m| {
            for (op, sign) in [
                ("exact", "="),
                ("regex", "~"),
                ("prefix", "^="),
                ("suffix", "$="),
            ] {
                if let Some(v) = m.at(&[op], |f| f.str())? {
                    return Ok(format!("{sign} {v}"));
                }
            }
            Ok("present".to_string())
        })?;
        let what = if name.eq_ignore_ascii_case("cookie") {
            "cookie".to_string()
        } else {
            format!("header {name}")
        };
        parts.push(format!("{what} {how}"));
    }
    let labels = rule.at(&["sourceLabels"], |l| l.keys())?;
    for label in labels {
        let value = rule.at(&["sourceLabels", label], |f| f.string())?;
        parts.push(format!("from pods {label}={value}"));
    }
    Ok((!parts.is_empty()).then(|| parts.join(" and ")))
}

/// The analysis plan as steps: a weighted canary's weights up to `maxWeight`
/// (`stepWeights` as given, else `stepWeight` increments, as Flagger's
/// `GetAnalysis().StepWeights` and scheduler step them); an A/B test's or blue/green's
/// iterations, one check each; then the promotion.
fn plan_steps(canary: &FlaggerCanary) -> Vec<Step> {
    let max = canary.max_weight.unwrap_or(DEFAULT_MAX_WEIGHT).min(100);
    let mut steps: Vec<Step> = match canary.strategy {
        FlaggerStrategy::Canary if !canary.step_weights.is_empty() => canary
            .step_weights
            .iter()
            .map(|w| Step::SetWeight(*w))
            .collect(),
        FlaggerStrategy::Canary => {
            let step = canary.step_weight.unwrap_or(0);
            let mut out = Vec::new();
            let mut w = step;
            while step > 0 && w < max {
                out.push(Step::SetWeight(w));
                w += step;
            }
            if step > 0 {
                out.push(Step::SetWeight(max));
            }
            out
        }
        FlaggerStrategy::AbTesting | FlaggerStrategy::BlueGreen => {
            (1..=canary.max_iterations.unwrap_or(0).min(1000))
                .map(|i| Step::Other(format!("#{i}")))
                .collect()
        }
    };
    if canary.promotion_gate.is_some() {
        steps.push(Step::Other("gate".into()));
    }
    steps.push(Step::Other("promote".into()));
    steps
}

/// Where the analysis is in its steps: a weighted canary at the step of its weight, an
/// iterating one at its iteration; all done once promoting or succeeded; none yet
/// before an analysis starts.
fn current_step(canary: &FlaggerCanary, steps: &[Step]) -> usize {
    let gate = canary.promotion_gate.is_some() as usize;
    let analysis_steps = steps.len() - 1 - gate;
    match canary.phase {
        FlaggerPhase::Succeeded | FlaggerPhase::Promoting | FlaggerPhase::Finalising => steps.len(),
        FlaggerPhase::WaitingPromotion => analysis_steps,
        FlaggerPhase::Progressing => match canary.strategy {
            FlaggerStrategy::Canary => steps[..analysis_steps]
                .iter()
                .position(|s| matches!(s, Step::SetWeight(w) if *w >= canary.canary_weight))
                .unwrap_or(analysis_steps),
            _ => (canary.iterations as usize).min(analysis_steps),
        },
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn canary() -> Value {
        json!({
            "metadata": {"name": "podinfo", "namespace": "test", "generation": 2},
            "spec": {
                "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo"},
                "analysis": {"interval": "15s", "threshold": 5, "maxWeight": 50, "stepWeight": 10}
            },
            "status": {
                "phase": "Progressing", "canaryWeight": 20, "failedChecks": 1, "iterations": 0,
                "lastAppliedSpec": "5d2a", "lastPromotedSpec": "7f9c",
                "lastTransitionTime": "2024-05-02T10:00:00Z"
            }
        })
    }

    #[test]
    fn a_weighted_canary_steps_up_to_its_max_weight() {
        let r = map_canary("prod", &canary()).unwrap();
        assert_eq!(r.workload, Workload::FlaggerCanary);
        assert_eq!(
            r.steps.to_vec(),
            [10, 20, 30, 40, 50]
                .map(Step::SetWeight)
                .into_iter()
                .chain([Step::Other("promote".into())])
                .collect::<Vec<_>>()
        );
        assert_eq!(r.current_step, Some(1));
        assert_eq!((r.phase, r.actual_weight), (Phase::Progressing, 20));
        assert!(r.update_in_flight());
        let f = r.flagger.unwrap();
        assert_eq!(f.checks_label(), "1/5 failed checks");
        assert_eq!(f.interval, Some(15));
    }

    #[test]
    fn a_wrong_phase_or_a_missing_target_names_the_field() {
        let mut obj = canary();
        obj["status"]["phase"] = "Paused".into();
        let err = map_canary("prod", &obj).unwrap_err();
        assert_eq!(err.field, "status.phase");
        assert!(
            err.to_string()
                .starts_with("test/podinfo: status.phase: expected one of Flagger's phases")
        );
        let mut obj = canary();
        obj["spec"]["targetRef"] = json!({});
        let err = map_canary("prod", &obj).unwrap_err();
        assert_eq!(
            err.to_string(),
            "test/podinfo: spec.targetRef.name: missing"
        );
        let mut obj = canary();
        obj["status"]["canaryWeight"] = "ten".into();
        assert_eq!(
            map_canary("prod", &obj).unwrap_err().field,
            "status.canaryWeight"
        );
    }
}
