//! The demo's Flagger Canaries in prod-eu, beside Argo's rollouts: a canary failing its
//! checks (its new image errs on three requests in ten) with a rollback gate, an A/B test
//! on a header and a cookie, and a canary held at its confirm-promotion gate. Each is a
//! target Deployment and its Canary; the simulated Flagger creates the `-primary`.

use serde_json::{Value, json};

use super::manifests::image;
use super::{Action, Change};
use crate::store::ObjectKey;
use crate::traffic::Behaviour;

/// The new image of the failing canary.
const FAILING_IMAGE: &str = "/shop/basket:v2.0.0";

struct FlaggerService {
    namespace: &'static str,
    name: &'static str,
    /// The analysis, as the Canary's `spec.analysis` has it (webhooks added).
    analysis: fn() -> Value,
    gates: &'static [(&'static str, &'static str)],
    /// The tag rolled out, and how many seconds before the live start.
    update: (&'static str, i64),
}

const LOAD_TESTER: &str = "http://flagger-loadtester.test";

const SERVICES: &[FlaggerService] = &[
    FlaggerService {
        namespace: "shop",
        name: "basket",
        analysis: || json!({"interval": "15s", "threshold": 15, "maxWeight": 50, "stepWeight": 10}),
        gates: &[("rollback", "rollback/check")],
        update: ("v2.0.0", 45),
    },
    FlaggerService {
        namespace: "shop",
        name: "storefront-ab",
        analysis: || {
            json!({"interval": "20s", "threshold": 5, "iterations": 40, "match": [
                {"headers": {"x-canary": {"exact": "insider"}}},
                {"headers": {"cookie": {"regex": "^(.*?;)?(type=insider)(;.*)?$"}}}
            ]})
        },
        gates: &[("rollback", "rollback/check")],
        update: ("v5.1.0", 120),
    },
    FlaggerService {
        namespace: "payments",
        name: "billing",
        analysis: || json!({"interval": "10s", "threshold": 5, "maxWeight": 50, "stepWeight": 25}),
        gates: &[
            ("confirm-promotion", "gate/check"),
            ("rollback", "rollback/check"),
        ],
        update: ("v1.8.0", 300),
    },
];

fn deployment(namespace: &str, name: &str, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name},
                     "annotations": {crate::deployments::REVISION: "1"}},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name, "image": image}]}
            }
        },
        "status": {"replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3}
    })
}

fn canary(s: &FlaggerService) -> Value {
    let mut analysis = (s.analysis)();
    analysis["metrics"] = json!([
        {"name": "request-success-rate", "thresholdRange": {"min": 99}, "interval": "1m"}
    ]);
    analysis["webhooks"] = s
        .gates
        .iter()
        .map(|(kind, path)| json!({"name": kind, "type": kind, "url": format!("{LOAD_TESTER}/{path}")}))
        .collect();
    json!({
        "apiVersion": "flagger.app/v1beta1", "kind": "Canary",
        "metadata": {"name": s.name, "namespace": s.namespace},
        "spec": {
            "provider": "istio",
            "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": s.name},
            "service": {"port": 80},
            "analysis": analysis
        }
    })
}

/// The Canaries' history in `cluster` (prod-eu only), from `start`.
pub(super) fn demo_flagger(cluster: usize, start: i64) -> Vec<Action> {
    if cluster != 0 {
        return Vec::new();
    }
    let mut actions = Vec::new();
    for s in SERVICES {
        let first = image(s.namespace, s.name, "v1.0.0");
        let at = |at, change| Action {
            at,
            cluster,
            change,
        };
        actions.push(at(
            start,
            Change::Create(deployment(s.namespace, s.name, &first)),
        ));
        actions.push(at(start, Change::Create(canary(s))));
        let (tag, before) = s.update;
        actions.push(at(
            -before,
            Change::SetDeploymentImage {
                key: ObjectKey::new(s.namespace, s.name),
                image: image(s.namespace, s.name, tag),
            },
        ));
    }
    actions
}

/// How the Canaries' versions behave, when `image` is one of theirs.
pub(super) fn behaviour(healthy: Behaviour, image: &str) -> Option<Behaviour> {
    image.ends_with(FAILING_IMAGE).then_some(Behaviour {
        error_rate: 0.3,
        error_code: 500,
        ..healthy
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prod_eu_gets_a_failing_canary_an_ab_test_and_a_gated_one() {
        let actions = demo_flagger(0, -900);
        assert_eq!(actions.len(), 9);
        assert!(demo_flagger(1, -900).is_empty());
        let gated = canary(&SERVICES[2]);
        assert_eq!(
            gated["spec"]["analysis"]["webhooks"][0]["url"],
            "http://flagger-loadtester.test/gate/check"
        );
        assert!(canary(&SERVICES[1])["spec"]["analysis"]["match"].is_array());
    }
}
