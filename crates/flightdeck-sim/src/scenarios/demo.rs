//! The demo: its services (where they run, their releases, their traffic) and the
//! history that brings them to the incidents and healthy services described in DESIGN.md,
//! how their versions behave, and which images the registry has.

use jiff::Timestamp;
use serde_json::json;

use super::manifests::{
    ANALYSED_CANARY, EXPERIMENT_CANARY, GATED_CANARY, LONG_CANARY, QUICK_CANARY, SEARCH_CANARY,
    Strategy, image, namespace, rollout, success_rate_template,
};
use super::{Action, Change};
use crate::store::ObjectKey;
use crate::traffic::Behaviour;

/// One demo service: where it runs, its image history, and the update (if any) in flight.
pub(super) struct Service {
    pub cluster: usize,
    pub namespace: &'static str,
    pub name: &'static str,
    replicas: i64,
    strategy: Strategy,
    /// Released tags, oldest first; the last is stable.
    history: &'static [&'static str],
    /// The tag being rolled out, and how many seconds before the live start it began.
    update: Option<(&'static str, i64)>,
    /// Requests/s, median and p99 latency (s), error rate of its healthy versions.
    traffic: (f64, f64, f64, f64),
    /// Whether new revisions start on it on their own.
    pub lively: bool,
    /// Its `progressDeadlineSeconds`, when not Argo's default (600).
    progress_deadline_seconds: Option<i64>,
}

pub(super) const DEMO: &[Service] = &[
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

/// Whether a demo rollout gets thirty days of past (`past.rs`): all but identity, which
/// shows Argo's revision history limit at work (five old revisions kept, no more).
pub fn has_past(key: &ObjectKey) -> bool {
    key.name != "identity"
}

/// Seconds of history played before the live start.
pub const DEMO_HISTORY: i64 = 900;

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
    for cluster in 0..clusters {
        actions.extend(super::flagger::demo_flagger(cluster, start));
        actions.extend(super::deployments::demo_deployments(cluster, start));
    }
    actions.sort_by_key(|a| a.at);
    actions
}

/// Whether the registry has an image: issue #11's canary image was never pushed.
pub fn image_exists(image: &str) -> bool {
    !image.ends_with("/payments/fraud-check:v3.2.0")
        && !image.ends_with(super::deployments::NEVER_PULLED)
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
    if let Some(flagger) = super::flagger::behaviour(healthy, image) {
        flagger
    } else if image.ends_with("/shop/checkout:v2.5.0") {
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
