//! The objects the scenarios create: Rollouts of each strategy the demo shows (basic,
//! Istio-routed and ping-pong canaries, a blue-green promoted by hand) with their steps,
//! Namespaces, and the success-rate AnalysisTemplate.

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::clock::rfc3339;

const REGISTRY: &str = "registry.example.com";

#[derive(Clone, Copy)]
pub(super) enum Strategy {
    /// Basic canary: weights follow replica counts.
    Canary(&'static [Step]),
    /// Canary with Istio traffic routing: weights in `status.canary.weights`.
    IstioCanary(&'static [Step]),
    /// Canary behind an ALB with a ping-pong pair of services that swap at each promotion.
    PingPongCanary(&'static [Step]),
    BlueGreenManual,
}

#[derive(Clone, Copy)]
pub(super) enum Step {
    Weight(i64),
    Pause,
    PauseFor(&'static str),
    Analysis,
    /// A two-minute experiment: a baseline (stable) and a canary template, 5% of the
    /// traffic each, and the success-rate analysis.
    Experiment,
}

pub(super) const LONG_CANARY: &[Step] = &[
    Step::Weight(20),
    Step::PauseFor("1h"),
    Step::Weight(40),
    Step::PauseFor("1h"),
    Step::Weight(60),
    Step::PauseFor("1h"),
    Step::Weight(80),
    Step::PauseFor("1h"),
];
pub(super) const SEARCH_CANARY: &[Step] = &[
    Step::Weight(20),
    Step::PauseFor("2m"),
    Step::Weight(40),
    Step::PauseFor("1h"),
    Step::Weight(70),
    Step::PauseFor("1h"),
];
pub(super) const QUICK_CANARY: &[Step] = &[
    Step::Weight(20),
    Step::PauseFor("30s"),
    Step::Weight(50),
    Step::PauseFor("30s"),
    Step::Weight(80),
    Step::PauseFor("30s"),
];
pub(super) const GATED_CANARY: &[Step] = &[
    Step::Weight(25),
    Step::Pause,
    Step::Weight(50),
    Step::PauseFor("1m"),
    Step::Weight(75),
    Step::PauseFor("1m"),
];
pub(super) const EXPERIMENT_CANARY: &[Step] = &[
    Step::Weight(20),
    Step::Experiment,
    Step::Weight(50),
    Step::PauseFor("30s"),
    Step::Weight(80),
    Step::PauseFor("30s"),
];
pub(super) const ANALYSED_CANARY: &[Step] = &[
    Step::Weight(20),
    Step::PauseFor("30s"),
    Step::Analysis,
    Step::Weight(60),
    Step::PauseFor("30s"),
];

pub(super) fn image(namespace: &str, name: &str, tag: &str) -> String {
    format!("{REGISTRY}/{namespace}/{name}:{tag}")
}

fn steps_json(steps: &[Step]) -> Value {
    json!(
        steps
            .iter()
            .map(|s| match s {
                Step::Weight(w) => json!({"setWeight": w}),
                Step::Pause => json!({"pause": {}}),
                Step::PauseFor(d) => json!({"pause": {"duration": d}}),
                Step::Analysis => json!({"analysis": {"templates": [{"templateName": "success-rate"}],
                                                      "args": [{"name": "service", "value": "from-rollout"}]}}),
                Step::Experiment => json!({"experiment": {
                    "duration": "2m",
                    "templates": [
                        {"name": "baseline", "specRef": "stable", "weight": 5, "metadata": {"labels": {"role": "baseline"}}},
                        {"name": "canary", "specRef": "canary", "weight": 5, "metadata": {"labels": {"role": "canary"}}},
                    ],
                    "analyses": [{"name": "success-rate", "templateName": "success-rate"}],
                }}),
            })
            .collect::<Vec<_>>()
    )
}

pub(super) fn rollout(
    namespace: &str,
    name: &str,
    replicas: i64,
    strategy: Strategy,
    image: &str,
    created: Timestamp,
) -> Value {
    let labels = json!({"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": namespace});
    let strategy = match strategy {
        Strategy::Canary(steps) => {
            json!({"canary": {"maxSurge": "25%", "maxUnavailable": 0, "steps": steps_json(steps)}})
        }
        Strategy::IstioCanary(steps) => json!({"canary": {
            "canaryService": format!("{name}-canary"), "stableService": format!("{name}-stable"),
            "trafficRouting": {"istio": {"virtualService": {"name": name, "routes": ["primary"]}}},
            "steps": steps_json(steps)}}),
        Strategy::PingPongCanary(steps) => json!({"canary": {
            "pingPong": {"pingService": format!("{name}-ping"), "pongService": format!("{name}-pong")},
            "trafficRouting": {"alb": {"ingress": name, "rootService": name, "servicePort": 443}},
            "steps": steps_json(steps)}}),
        Strategy::BlueGreenManual => json!({"blueGreen": {
            "activeService": format!("{name}-active"), "previewService": format!("{name}-preview"),
            "autoPromotionEnabled": false, "scaleDownDelaySeconds": 30}}),
    };
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": name, "namespace": namespace, "labels": labels, "creationTimestamp": rfc3339(created)},
        "spec": {
            "replicas": replicas,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{
                    "name": name, "image": image,
                    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
                }]},
            },
            "strategy": strategy,
        },
    })
}

pub(super) fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
           "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
}

pub(super) fn success_rate_template(namespace: &str) -> Value {
    let selector = "namespace=\"{{args.namespace}}\",rollout=\"{{args.rollout}}\",rollouts_pod_template_hash=\"{{args.canary-hash}}\"";
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisTemplate",
        "metadata": {"name": "success-rate", "namespace": namespace},
        "spec": {
            "args": [{"name": "namespace"}, {"name": "rollout"}, {"name": "canary-hash"}],
            "metrics": [{
                "name": "success-rate",
                "interval": "20s",
                "count": 4,
                "failureLimit": 1,
                "successCondition": "result[0] >= 0.95",
                "provider": {"prometheus": {
                    "address": "http://prometheus.monitoring:9090",
                    "query": format!("sum(rate(http_requests_total{{{selector},code!~\"5..\"}}[1m])) / sum(rate(http_requests_total{{{selector}}}[1m]))"),
                }},
            }],
        },
    })
}
