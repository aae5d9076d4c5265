//! Builders for tests: plain rollouts and ReplicaSets without a cluster.

use jiff::Timestamp;

use super::*;

pub fn at(second: i64) -> Timestamp {
    Timestamp::from_second(1_790_000_000 + second).unwrap()
}

pub fn rollout(context: &str, namespace: &str, name: &str, phase: Phase) -> Rollout {
    Rollout {
        key: ObjectKey::new(context, namespace, name),
        created: Some(at(-86_400)).into(),
        generation: 3,
        observed_generation: 3,
        revision: Some(2),
        strategy: Strategy::Canary {
            traffic_routed: false,
        },
        phase,
        message: Default::default(),
        paused_by_user: false,
        pause_conditions: Vec::new(),
        controller_pause: false,
        aborted: phase == Phase::Aborted,
        steps: Vec::new().into(),
        current_step: None,
        set_weight: 100,
        actual_weight: 100,
        stable_hash: Some(format!("{name}-stable").into()),
        current_hash: Some(format!("{name}-stable").into()),
        images: crate::model::Images::new([format!(
            "registry.example.com/{namespace}/{name}:v1.0.0"
        )]),
        replicas: Replicas {
            desired: 4,
            current: 4,
            updated: 4,
            ready: 4,
            available: 4,
        },
        detail: None,
        conditions: Vec::new(),
        since: Some(at(-3_600)).into(),
        workload: Workload::ArgoRollout,
        flagger: None,
        deployment: None,
    }
}

/// A canary at step `step` of setWeight 20, pause {}, setWeight 50, pause 60s.
pub fn canary(context: &str, namespace: &str, name: &str, phase: Phase, step: usize) -> Rollout {
    let steps = vec![
        Step::SetWeight(20),
        Step::Pause { seconds: None },
        Step::SetWeight(50),
        Step::Pause { seconds: Some(60) },
    ];
    let weight = match step {
        0 | 1 => 20,
        2 | 3 => 50,
        _ => 100,
    };
    let pause_conditions = match (phase, step) {
        (Phase::Paused, 1 | 3) => vec![PauseCondition {
            reason: "CanaryPauseStep".into(),
            since: Some(at(-20)),
        }],
        _ => Vec::new(),
    };
    Rollout {
        steps: steps.into(),
        current_step: Some(step),
        set_weight: weight,
        actual_weight: if phase == Phase::Aborted { 0 } else { weight },
        current_hash: Some(format!("{name}-canary").into()),
        pause_conditions,
        since: Some(at(-20)).into(),
        replicas: Replicas {
            desired: 10,
            current: 10,
            updated: weight / 10,
            ready: 10,
            available: 10,
        },
        ..rollout(context, namespace, name, phase)
    }
}

pub fn replica_set(owner: &Rollout, hash: &str, revision: u64, replicas: u32) -> ReplicaSet {
    let key = &owner.key;
    ReplicaSet {
        key: ObjectKey::new(&key.context, &key.namespace, format!("{}-{hash}", key.name)),
        owner: Some(key.name.clone()),
        hash: hash.into(),
        revision: Some(revision),
        images: crate::model::Images::new([format!(
            "registry.example.com/{}/{}:v1.{revision}.0",
            key.namespace, key.name
        )]),
        replicas: Replicas {
            desired: replicas,
            current: replicas,
            updated: replicas,
            ready: replicas,
            available: replicas,
        },
        created: Some(at(-7_200 + revision as i64 * 600)).into(),
        template_times: Box::default(),
        revision_history: Box::default(),
    }
}

/// A Deployment's rolling update with Kubernetes' defaults.
pub fn rolling_update(owned: bool, template_annotations: &[(&str, &str)]) -> Box<DeploymentDetail> {
    Box::new(DeploymentDetail {
        strategy: "RollingUpdate".into(),
        max_surge: "25%".into(),
        max_unavailable: "25%".into(),
        deadline_exceeded: false,
        restarted_at: None,
        owned,
        template_times: super::template_times(template_annotations.iter().copied()),
    })
}

/// A Flagger Canary of podinfo in test, weighted 10% steps to 50%, at `weight`, with a
/// load tester's confirm-promotion and rollback gates.
pub fn flagger_canary(phase: FlaggerPhase, weight: u32) -> Rollout {
    let gate = |name: &str, path: &str| Gate {
        webhook: name.into(),
        url: format!("http://flagger-loadtester.test/{path}"),
    };
    let flagger = FlaggerCanary {
        phase,
        strategy: FlaggerStrategy::Canary,
        target: "podinfo".into(),
        suspended: false,
        skip_analysis: false,
        canary_weight: weight,
        iterations: 0,
        failed_checks: 1,
        threshold: Some(5),
        interval: Some(30),
        step_weight: Some(10),
        step_weights: Vec::new(),
        max_weight: Some(50),
        max_iterations: None,
        matches: Vec::new(),
        last_applied: Some("5d2a".into()),
        last_promoted: Some("7f9c".into()),
        promotion_gate: Some(gate("ask", "gate/check")),
        rollback_gate: Some(gate("undo", "rollback/check")),
        rollout_gate: None,
    };
    let steps: Vec<Step> = [10, 20, 30, 40, 50]
        .map(Step::SetWeight)
        .into_iter()
        .chain([Step::Other("gate".into()), Step::Other("promote".into())])
        .collect();
    Rollout {
        strategy: Strategy::Canary {
            traffic_routed: true,
        },
        phase: phase.common(false),
        aborted: phase == FlaggerPhase::Failed,
        current_step: Some((weight / 10).saturating_sub(1) as usize),
        steps: steps.into(),
        set_weight: weight,
        actual_weight: weight,
        stable_hash: Some("7f9c".into()),
        current_hash: Some(if phase.in_flight() { "5d2a" } else { "7f9c" }.into()),
        replicas: Replicas {
            desired: 4,
            current: 4,
            updated: 1,
            ready: 4,
            available: 4,
        },
        revision: None,
        key: ObjectKey::of(Workload::FlaggerCanary, "eu", "test", "podinfo"),
        workload: Workload::FlaggerCanary,
        flagger: Some(Box::new(flagger)),
        ..rollout("eu", "test", "podinfo", phase.common(false))
    }
}

/// A plain Deployment at `revision` with `desired` pods, all up, rolling 25% / 25%.
pub fn deployment(
    context: &str,
    namespace: &str,
    name: &str,
    revision: u64,
    desired: u32,
) -> Rollout {
    Rollout {
        key: ObjectKey::of(Workload::Deployment, context, namespace, name),
        workload: Workload::Deployment,
        strategy: Strategy::Other,
        revision: Some(revision),
        replicas: Replicas {
            desired,
            current: desired,
            updated: desired,
            ready: desired,
            available: desired,
        },
        images: crate::model::Images::new([format!("{name}:v{revision}")]),
        deployment: Some(Box::new(DeploymentDetail {
            strategy: "RollingUpdate".into(),
            max_surge: "25%".into(),
            max_unavailable: "25%".into(),
            deadline_exceeded: false,
            restarted_at: None,
            owned: false,
            template_times: Box::default(),
        })),
        ..rollout(context, namespace, name, Phase::Healthy)
    }
}

/// A Deployment's ReplicaSet of `revision` (hash `h<revision>`) with `replicas` pods.
pub fn deployment_replica_set(owner: &Rollout, revision: u64, replicas: u32) -> ReplicaSet {
    let mut rs = replica_set(owner, &format!("h{revision}"), revision, replicas);
    rs.key.kind = Workload::Deployment;
    rs
}
