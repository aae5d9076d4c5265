//! What the simulated clusters hold: the demo's services and incidents, or generated
//! rollouts for scale runs, set up by playing their history through the controller before
//! the servers answer; and the new revisions that start on their own afterwards.

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::clock::rfc3339;
use super::discovery::{ANALYSIS_TEMPLATES, NAMESPACES, ROLLOUTS};
use super::objects::str_at;
use super::store::{ObjectKey, Store};
use super::traffic::Behaviour;

const REGISTRY: &str = "registry.example.com";

/// Something the scenario does to a cluster at a simulated second (relative to the start
/// of the live run; the history before it is negative).
pub struct Action {
    pub at: i64,
    pub cluster: usize,
    pub change: Change,
}

pub enum Change {
    Create(Value),
    /// Roll out a new image (a new pod template).
    SetImage {
        key: ObjectKey,
        image: String,
    },
    /// Skip the steps of the update in progress (`status.promoteFull`), as history does.
    PromoteFull(ObjectKey),
    Abort(ObjectKey),
}

#[derive(Clone, Copy)]
enum Strategy {
    /// Basic canary: weights follow replica counts.
    Canary(&'static [Step]),
    /// Canary with Istio traffic routing: weights in `status.canary.weights`.
    IstioCanary(&'static [Step]),
    /// Canary behind an ALB with a ping-pong pair of services that swap at each promotion.
    PingPongCanary(&'static [Step]),
    BlueGreenManual,
}

#[derive(Clone, Copy)]
enum Step {
    Weight(i64),
    Pause,
    PauseFor(&'static str),
    Analysis,
    /// A two-minute experiment: a baseline (stable) and a canary template, 5% of the
    /// traffic each, and the success-rate analysis.
    Experiment,
}

/// One demo service: where it runs, its image history, and the update (if any) in flight.
struct Service {
    cluster: usize,
    namespace: &'static str,
    name: &'static str,
    replicas: i64,
    strategy: Strategy,
    /// Released tags, oldest first; the last is stable.
    history: &'static [&'static str],
    /// The tag being rolled out, and how many seconds before the live start it began.
    update: Option<(&'static str, i64)>,
    /// Requests/s, median and p99 latency (s), error rate of its healthy versions.
    traffic: (f64, f64, f64, f64),
    /// Whether new revisions start on it on their own.
    lively: bool,
    /// Its `progressDeadlineSeconds`, when not Argo's default (600).
    progress_deadline_seconds: Option<i64>,
}

const LONG_CANARY: &[Step] = &[
    Step::Weight(20),
    Step::PauseFor("1h"),
    Step::Weight(40),
    Step::PauseFor("1h"),
    Step::Weight(60),
    Step::PauseFor("1h"),
    Step::Weight(80),
    Step::PauseFor("1h"),
];
const SEARCH_CANARY: &[Step] = &[
    Step::Weight(20),
    Step::PauseFor("2m"),
    Step::Weight(40),
    Step::PauseFor("1h"),
    Step::Weight(70),
    Step::PauseFor("1h"),
];
const QUICK_CANARY: &[Step] = &[
    Step::Weight(20),
    Step::PauseFor("30s"),
    Step::Weight(50),
    Step::PauseFor("30s"),
    Step::Weight(80),
    Step::PauseFor("30s"),
];
const GATED_CANARY: &[Step] = &[
    Step::Weight(25),
    Step::Pause,
    Step::Weight(50),
    Step::PauseFor("1m"),
    Step::Weight(75),
    Step::PauseFor("1m"),
];
const EXPERIMENT_CANARY: &[Step] = &[
    Step::Weight(20),
    Step::Experiment,
    Step::Weight(50),
    Step::PauseFor("30s"),
    Step::Weight(80),
    Step::PauseFor("30s"),
];
const ANALYSED_CANARY: &[Step] = &[
    Step::Weight(20),
    Step::PauseFor("30s"),
    Step::Analysis,
    Step::Weight(60),
    Step::PauseFor("30s"),
];

const DEMO: &[Service] = &[
    // prod-eu
    Service {
        cluster: 0,
        namespace: "shop",
        name: "checkout",
        replicas: 10,
        strategy: Strategy::IstioCanary(LONG_CANARY),
        history: &["v2.3.0", "v2.4.0", "v2.4.1"],
        update: Some(("v2.5.0", 240)),
        traffic: (620.0, 0.12, 0.31, 0.001),
        lively: false,
        progress_deadline_seconds: None,
    },
    Service {
        cluster: 0,
        namespace: "shop",
        name: "cart",
        replicas: 5,
        strategy: Strategy::Canary(QUICK_CANARY),
        history: &["v1.11.0", "v1.12.0"],
        update: Some(("v1.12.1", 40)),
        traffic: (240.0, 0.03, 0.09, 0.0005),
        lively: true,
        progress_deadline_seconds: None,
    },
    Service {
        cluster: 0,
        namespace: "shop",
        name: "frontend",
        replicas: 8,
        strategy: Strategy::IstioCanary(GATED_CANARY),
        history: &["v5.2.0", "v5.3.0"],
        update: Some(("v5.4.0", 120)),
        traffic: (900.0, 0.08, 0.25, 0.0008),
        lively: false,
        progress_deadline_seconds: None,
    },
    Service {
        cluster: 0,
        namespace: "shop",
        name: "catalog",
        replicas: 6,
        strategy: Strategy::Canary(QUICK_CANARY),
        history: &["v3.0.4", "v3.1.0"],
        update: None,
        traffic: (410.0, 0.02, 0.07, 0.0003),
        lively: true,
        progress_deadline_seconds: None,
    },
    Service {
        cluster: 0,
        namespace: "payments",
        name: "ledger",
        replicas: 4,
        strategy: Strategy::BlueGreenManual,
        history: &["v7.0.2", "v7.1.0"],
        update: Some(("v7.2.0", 120)),
        traffic: (85.0, 0.04, 0.11, 0.0002),
        lively: false,
        progress_deadline_seconds: None,
    },
    Service {
        cluster: 0,
        namespace: "payments",
        name: "payments-api",
        replicas: 6,
        strategy: Strategy::IstioCanary(QUICK_CANARY),
        history: &["v4.8.0", "v4.9.2"],
        update: None,
        traffic: (180.0, 0.09, 0.28, 0.0004),
        lively: true,
        progress_deadline_seconds: None,
    },
    Service {
        cluster: 0,
        namespace: "platform",
        name: "gateway",
        replicas: 12,
        strategy: Strategy::Canary(QUICK_CANARY),
        history: &["v1.26.0", "v1.27.3"],
        update: None,
        traffic: (2400.0, 0.004, 0.02, 0.0001),
        lively: true,
        progress_deadline_seconds: None,
    },
    // prod-us
    Service {
        cluster: 1,
        namespace: "search",
        name: "search-api",
        replicas: 10,
        strategy: Strategy::Canary(SEARCH_CANARY),
        history: &["v3.6.0", "v3.7.2"],
        update: Some(("v3.8.0", 300)),
        traffic: (350.0, 0.045, 0.18, 0.0005),
        lively: false,
        progress_deadline_seconds: None,
    },
    Service {
        cluster: 1,
        namespace: "search",
        name: "suggest",
        replicas: 4,
        strategy: Strategy::Canary(QUICK_CANARY),
        history: &["v0.9.1", "v0.9.4"],
        update: None,
        traffic: (520.0, 0.01, 0.04, 0.0002),
        lively: true,
        progress_deadline_seconds: None,
    },
    Service {
        cluster: 1,
        namespace: "search",
        name: "indexer",
        replicas: 3,
        strategy: Strategy::Canary(QUICK_CANARY),
        history: &["v2.2.0"],
        update: None,
        traffic: (40.0, 0.2, 0.6, 0.001),
        lively: true,
        progress_deadline_seconds: None,
    },
    Service {
        cluster: 1,
        namespace: "shop",
        name: "recommendations",
        replicas: 5,
        strategy: Strategy::IstioCanary(ANALYSED_CANARY),
        history: &["v1.4.0", "v1.5.0"],
        update: Some(("v1.6.0", 40)),
        traffic: (300.0, 0.06, 0.2, 0.0006),
        lively: true,
        progress_deadline_seconds: None,
    },
    Service {
        cluster: 1,
        namespace: "shop",
        name: "checkout",
        replicas: 10,
        strategy: Strategy::IstioCanary(LONG_CANARY),
        history: &["v2.4.0", "v2.4.1"],
        update: None,
        traffic: (540.0, 0.12, 0.31, 0.001),
        lively: false,
        progress_deadline_seconds: None,
    },
    Service {
        cluster: 1,
        namespace: "payments",
        name: "ledger",
        replicas: 4,
        strategy: Strategy::BlueGreenManual,
        history: &["v7.1.0"],
        update: None,
        traffic: (70.0, 0.04, 0.11, 0.0002),
        lively: false,
        progress_deadline_seconds: None,
    },
    Service {
        cluster: 1,
        namespace: "platform",
        name: "auth",
        replicas: 6,
        strategy: Strategy::Canary(QUICK_CANARY),
        history: &["v9.3.0", "v9.4.1"],
        update: None,
        traffic: (1300.0, 0.006, 0.03, 0.0002),
        lively: true,
        progress_deadline_seconds: None,
    },
    Service {
        cluster: 1,
        namespace: "platform",
        name: "notifications",
        replicas: 3,
        strategy: Strategy::Canary(QUICK_CANARY),
        history: &["v2.0.0", "v2.1.0"],
        update: None,
        traffic: (60.0, 0.03, 0.15, 0.001),
        lively: true,
        progress_deadline_seconds: None,
    },
    // Issue #11: the new image cannot be pulled, its pods never become ready, and after
    // a minute without progress the canary is Degraded (ProgressDeadlineExceeded).
    Service {
        cluster: 0,
        namespace: "payments",
        name: "fraud-check",
        replicas: 4,
        strategy: Strategy::IstioCanary(QUICK_CANARY),
        history: &["v3.0.0", "v3.1.0"],
        update: Some(("v3.2.0", 300)),
        traffic: (150.0, 0.05, 0.14, 0.0005),
        lively: false,
        progress_deadline_seconds: Some(60),
    },
    // A canary that runs an experiment (baseline and canary side by side) at its second step.
    Service {
        cluster: 1,
        namespace: "search",
        name: "ranking",
        replicas: 4,
        strategy: Strategy::IstioCanary(EXPERIMENT_CANARY),
        history: &["v2.6.0", "v2.7.1"],
        update: Some(("v2.8.0", 60)),
        traffic: (280.0, 0.03, 0.11, 0.0004),
        lively: false,
        progress_deadline_seconds: None,
    },
    // A ping-pong canary with a long history: eight revisions, five old ones kept.
    Service {
        cluster: 1,
        namespace: "platform",
        name: "identity",
        replicas: 4,
        strategy: Strategy::PingPongCanary(QUICK_CANARY),
        history: &[
            "v5.0.0", "v5.1.0", "v5.1.1", "v5.2.0", "v5.3.0", "v5.3.1", "v5.4.0", "v5.5.0",
        ],
        update: None,
        traffic: (700.0, 0.008, 0.04, 0.0002),
        lively: false,
        progress_deadline_seconds: None,
    },
];

/// Seconds of history played before the live start.
pub const DEMO_HISTORY: i64 = 900;
/// Seconds of history for scale runs: enough for updates to reach their states.
pub const SCALE_HISTORY: i64 = 12;

fn image(namespace: &str, name: &str, tag: &str) -> String {
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

fn rollout(
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

fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
           "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
}

fn success_rate_template(namespace: &str) -> Value {
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

/// The demo's history and live start, for `clusters` clusters (services alternate between
/// the first two roles when there are more).
pub fn demo(clusters: usize, origin: Timestamp) -> Vec<Action> {
    let mut actions = Vec::new();
    let start = -DEMO_HISTORY;
    for cluster in 0..clusters {
        let services: Vec<&Service> = DEMO.iter().filter(|s| s.cluster == cluster % 2).collect();
        let mut namespaces: Vec<&str> = services.iter().map(|s| s.namespace).collect();
        namespaces.sort();
        namespaces.dedup();
        for ns in namespaces {
            actions.push(Action {
                at: start,
                cluster,
                change: Change::Create(namespace(ns)),
            });
            actions.push(Action {
                at: start,
                cluster,
                change: Change::Create(success_rate_template(ns)),
            });
        }
        for (i, s) in services.iter().enumerate() {
            let key = ObjectKey::new(s.namespace, s.name);
            let created = origin - jiff::SignedDuration::from_hours(24 * (30 + 11 * i as i64 % 90));
            let first = image(s.namespace, s.name, s.history[0]);
            let mut object = rollout(s.namespace, s.name, s.replicas, s.strategy, &first, created);
            if let Some(seconds) = s.progress_deadline_seconds {
                object["spec"]["progressDeadlineSeconds"] = json!(seconds);
            }
            actions.push(Action {
                at: start,
                cluster,
                change: Change::Create(object),
            });
            for (n, tag) in s.history.iter().enumerate().skip(1) {
                let at = start + 60 * n as i64;
                actions.push(Action {
                    at,
                    cluster,
                    change: Change::SetImage {
                        key: key.clone(),
                        image: image(s.namespace, s.name, tag),
                    },
                });
                actions.push(Action {
                    at: at + 1,
                    cluster,
                    change: Change::PromoteFull(key.clone()),
                });
            }
            if let Some((tag, seconds_before)) = s.update {
                actions.push(Action {
                    at: -seconds_before,
                    cluster,
                    change: Change::SetImage {
                        key,
                        image: image(s.namespace, s.name, tag),
                    },
                });
            }
        }
    }
    actions.sort_by_key(|a| a.at);
    actions
}

/// `per_cluster` generated rollouts per cluster in 50 namespaces: six in ten Healthy, and
/// one each progressing, paused at `pause: {}`, blue-green awaiting promotion, aborted.
pub fn scale(clusters: usize, per_cluster: usize, origin: Timestamp) -> Vec<Action> {
    let mut actions = Vec::new();
    let start = -SCALE_HISTORY;
    for cluster in 0..clusters {
        for ns in 0..50 {
            actions.push(Action {
                at: start,
                cluster,
                change: Change::Create(namespace(&format!("team-{ns:02}"))),
            });
        }
        for i in 0..per_cluster {
            let ns = format!("team-{:02}", i % 50);
            let name = format!("svc-{i:05}");
            let strategy = match i % 10 {
                6 => Strategy::Canary(LONG_CANARY),
                7 => Strategy::IstioCanary(GATED_CANARY),
                8 => Strategy::BlueGreenManual,
                _ => Strategy::Canary(QUICK_CANARY),
            };
            let first = image(&ns, &name, "v1.0.0");
            let created = origin - jiff::SignedDuration::from_hours(24 * (1 + i as i64 % 300));
            actions.push(Action {
                at: start,
                cluster,
                change: Change::Create(rollout(&ns, &name, 3, strategy, &first, created)),
            });
            let key = ObjectKey::new(&ns, &name);
            if i % 10 >= 6 {
                actions.push(Action {
                    at: start + 2,
                    cluster,
                    change: Change::SetImage {
                        key: key.clone(),
                        image: image(&ns, &name, "v1.1.0"),
                    },
                });
            }
            if i % 10 == 9 {
                actions.push(Action {
                    at: start + 6,
                    cluster,
                    change: Change::Abort(key),
                });
            }
        }
    }
    actions.sort_by_key(|a| a.at);
    actions
}

fn bump_generation(rollout: &mut Value) {
    let generation = rollout["metadata"]["generation"].as_i64().unwrap_or(1) + 1;
    rollout["metadata"]["generation"] = json!(generation);
}

pub fn apply(store: &Store, change: Change, now: Timestamp) {
    let result = match change {
        Change::Create(object) => {
            let resource = match str_at(&object, "kind") {
                "Namespace" => NAMESPACES,
                "AnalysisTemplate" => ANALYSIS_TEMPLATES,
                _ => ROLLOUTS,
            };
            store.create(resource, object, now).map(|_| ())
        }
        Change::SetImage { key, image } => store
            .update(ROLLOUTS, &key, |r| {
                r["spec"]["template"]["spec"]["containers"][0]["image"] = json!(image);
                bump_generation(r);
                Ok(())
            })
            .map(|_| ()),
        Change::PromoteFull(key) => store
            .update(ROLLOUTS, &key, |r| {
                r["status"]["promoteFull"] = json!(true);
                Ok(())
            })
            .map(|_| ()),
        Change::Abort(key) => store
            .update(ROLLOUTS, &key, |r| {
                r["status"]["abort"] = json!(true);
                Ok(())
            })
            .map(|_| ()),
    };
    if let Err(e) = result {
        tracing::warn!("simulated scenario: {e}");
    }
}

/// Whether the registry has an image: issue #11's canary image was never pushed.
pub fn image_exists(image: &str) -> bool {
    !image.ends_with("/payments/fraud-check:v3.2.0")
}

/// How a version behaves: the service's healthy figures, or an incident's.
pub fn behaviour(namespace: &str, rollout: &str, image: &str) -> Behaviour {
    let (rps, p50, p99, error_rate) = DEMO
        .iter()
        .find(|s| s.namespace == namespace && s.name == rollout)
        .map(|s| s.traffic)
        .unwrap_or((20.0, 0.03, 0.12, 0.0005));
    let healthy = Behaviour {
        rps,
        error_rate,
        error_code: 500,
        p50,
        p99,
        error_p50: p50,
        error_p99: p99,
    };
    if image.ends_with("/shop/checkout:v2.5.0") {
        // The new payment call takes about 600 ms against a 500 ms timeout: four in ten time out.
        Behaviour {
            error_rate: 0.4,
            error_code: 503,
            p50: 0.38,
            p99: 0.49,
            error_p50: 0.5,
            error_p99: 0.52,
            ..healthy
        }
    } else if image.ends_with("/search/search-api:v3.8.0") {
        // An N+1 query: every result costs another round trip.
        Behaviour {
            p50: 0.21,
            p99: 1.2,
            ..healthy
        }
    } else {
        healthy
    }
}

/// A demo service that rolls out as a canary, with how its versions behave.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DemoCanary {
    pub namespace: &'static str,
    pub name: &'static str,
    /// Its stable version's behaviour.
    pub healthy: Behaviour,
    /// The update in the demo's story, when it is one of its incidents.
    pub incident: Option<Behaviour>,
}

fn demo_canary(s: &Service) -> DemoCanary {
    let version = |tag: &str| behaviour(s.namespace, s.name, &image(s.namespace, s.name, tag));
    let healthy = version(s.history[s.history.len() - 1]);
    let incident = s
        .update
        .map(|(tag, _)| version(tag))
        .filter(|b| *b != healthy);
    DemoCanary {
        namespace: s.namespace,
        name: s.name,
        healthy,
        incident,
    }
}

/// The demo's canary services (one of each name), with their traffic: what the judge
/// meets in the demo.
pub fn demo_canaries() -> Vec<DemoCanary> {
    let mut seen = Vec::new();
    DEMO.iter()
        .filter(|s| !matches!(s.strategy, Strategy::BlueGreenManual))
        .filter(|s| {
            let new = !seen.contains(&(s.namespace, s.name));
            seen.push((s.namespace, s.name));
            new
        })
        .map(demo_canary)
        .collect()
}

/// The demo's incidents: the checkout canary that times out and the search canary with an
/// N+1 query, each with its stable version's behaviour and the incident's.
pub fn demo_incidents() -> Vec<DemoCanary> {
    DEMO.iter()
        .map(demo_canary)
        .filter(|c| c.incident.is_some())
        .collect()
}

/// Now and then, a new revision of a Healthy, idle demo service starts on its own.
pub struct Liveliness {
    rng: fastrand::Rng,
    candidates: Vec<ObjectKey>,
}

/// On average one new revision per cluster every this many simulated seconds.
const NEW_REVISION_EVERY: u32 = 240;

impl Liveliness {
    pub fn demo(cluster: usize, seed: u64) -> Self {
        let candidates = DEMO
            .iter()
            .filter(|s| s.cluster == cluster % 2 && s.lively)
            .map(|s| ObjectKey::new(s.namespace, s.name))
            .collect();
        Liveliness {
            rng: fastrand::Rng::with_seed(seed ^ (cluster as u64) << 32),
            candidates,
        }
    }

    /// Called once per tick.
    pub fn tick(&mut self, store: &Arc<Store>, now: Timestamp) {
        if self.candidates.is_empty() || self.rng.u32(..NEW_REVISION_EVERY) != 0 {
            return;
        }
        let key = &self.candidates[self.rng.usize(..self.candidates.len())];
        let Some(current) = store.get(ROLLOUTS, key).map(|s| s.value()) else {
            return;
        };
        if str_at(&current, "status.phase") != "Healthy" {
            return;
        }
        let image = str_at(
            &current["spec"]["template"]["spec"]["containers"][0],
            "image",
        );
        if let Some(next) = next_patch_version(image) {
            apply(
                store,
                Change::SetImage {
                    key: key.clone(),
                    image: next,
                },
                now,
            );
        }
    }
}

/// `…:v1.8.2` → `…:v1.8.3`
fn next_patch_version(image: &str) -> Option<String> {
    let (head, patch) = image.rsplit_once('.')?;
    let patch: u64 = patch.parse().ok()?;
    Some(format!("{head}.{}", patch + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_has_the_promised_shape() {
        let services: Vec<&Service> = DEMO.iter().collect();
        assert!(services.len() >= 12);
        let mut namespaces: Vec<&str> = services.iter().map(|s| s.namespace).collect();
        namespaces.sort();
        namespaces.dedup();
        assert!(namespaces.len() >= 3);
        assert_eq!(
            next_patch_version("r.example.com/a/b:v1.8.9").as_deref(),
            Some("r.example.com/a/b:v1.8.10")
        );
        let bad = behaviour(
            "shop",
            "checkout",
            "registry.example.com/shop/checkout:v2.5.0",
        );
        assert_eq!(bad.error_rate, 0.4);
        assert_eq!(
            behaviour(
                "shop",
                "checkout",
                "registry.example.com/shop/checkout:v2.4.1"
            )
            .error_rate,
            0.001
        );
        let incidents: Vec<(&str, f64, f64)> = demo_incidents()
            .iter()
            .map(|c| (c.name, c.healthy.p99, c.incident.unwrap().error_rate))
            .collect();
        assert_eq!(
            incidents,
            [("checkout", 0.31, 0.4), ("search-api", 0.18, 0.0005)]
        );
        let canaries = demo_canaries();
        assert!(canaries.iter().all(|c| c.healthy.error_rate < 0.01));
        assert!(!canaries.iter().any(|c| c.name == "ledger"), "blue-green");
        assert_eq!(canaries.iter().filter(|c| c.name == "checkout").count(), 1);
    }
}
