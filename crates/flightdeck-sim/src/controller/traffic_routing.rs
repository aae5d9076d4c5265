//! What Argo's traffic routing reconciler writes and decides for a canary: the
//! `status.canary.weights` (services, pod-template hashes, weights, the templates of a
//! running experiment as `additional` destinations), the ping-pong pair of services that
//! swap roles at each promotion (`canary.pingPong`), and how long an old ReplicaSet stays
//! up after it stops taking traffic (`scaleDownDelaySeconds`).

use serde_json::{Value, json};

use crate::objects::{int_at, str_at};
use crate::replica_sets::DEFAULT_SCALE_DOWN_DELAY_SECONDS;

/// `status.canary.stablePingPong` when the ping service is the stable one.
pub const PING: &str = "ping";
const PONG: &str = "pong";

/// Where part of the traffic goes.
pub struct Destination<'a> {
    pub hash: &'a str,
    pub weight: i64,
}

/// Whether the rollout's canary uses a ping-pong pair of services.
pub fn ping_pong(spec: &Value) -> bool {
    spec["strategy"]["canary"]["pingPong"].is_object()
}

/// The other side: each promotion moves stable to the service the canary used.
pub fn swapped(stable_ping_pong: &str) -> &'static str {
    if stable_ping_pong == PING { PONG } else { PING }
}

/// (stable service, canary service), as Argo's `GetStableAndCanaryServices` picks them.
fn services<'a>(spec: &'a Value, status: &Value) -> (&'a Value, &'a Value) {
    let canary = &spec["strategy"]["canary"];
    if !ping_pong(spec) {
        return (&canary["stableService"], &canary["canaryService"]);
    }
    let pair = &canary["pingPong"];
    if str_at(status, "canary.stablePingPong") == PING {
        (&pair["pingService"], &pair["pongService"])
    } else {
        (&pair["pongService"], &pair["pingService"])
    }
}

/// `status.canary.weights`: the canary's share, the additional destinations' (an
/// experiment's templates), and the rest to stable.
pub fn weights(
    spec: &Value,
    status: &Value,
    canary: Destination,
    stable_hash: &str,
    additional: &[Value],
) -> Value {
    let (stable_service, canary_service) = services(spec, status);
    let others: i64 = additional.iter().filter_map(|d| d["weight"].as_i64()).sum();
    let mut weights = json!({
        "canary": {"podTemplateHash": canary.hash, "serviceName": canary_service, "weight": canary.weight},
        "stable": {"podTemplateHash": stable_hash, "serviceName": stable_service, "weight": 100 - canary.weight - others},
    });
    if !additional.is_empty() {
        weights["additional"] = json!(additional);
    }
    weights
}

/// How long an old ReplicaSet keeps its pods after it stops being wanted: blue-greens and
/// traffic-routed canaries wait `scaleDownDelaySeconds` (30 by default) for the traffic
/// to have moved; a basic canary's old pods go as the new ones come.
pub fn scale_down_delay_seconds(spec: &Value) -> Option<i64> {
    let strategy = &spec["strategy"];
    let configured = if strategy["blueGreen"].is_object() {
        &strategy["blueGreen"]
    } else if strategy["canary"]["trafficRouting"].is_object() {
        &strategy["canary"]
    } else {
        return None;
    };
    Some(int_at(configured, "scaleDownDelaySeconds").unwrap_or(DEFAULT_SCALE_DOWN_DELAY_SECONDS))
        .filter(|delay| *delay > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_pong_services_swap_with_the_stable_side() {
        let spec = json!({"strategy": {"canary": {
            "pingPong": {"pingService": "web-ping", "pongService": "web-pong"},
            "trafficRouting": {"alb": {"ingress": "web"}}}}});
        let canary = || Destination {
            hash: "new",
            weight: 20,
        };
        let ping = weights(
            &spec,
            &json!({"canary": {"stablePingPong": "ping"}}),
            canary(),
            "old",
            &[],
        );
        assert_eq!(ping["stable"]["serviceName"], json!("web-ping"));
        assert_eq!(ping["canary"]["serviceName"], json!("web-pong"));
        assert_eq!(ping["stable"]["weight"], json!(80));
        let pong = weights(
            &spec,
            &json!({"canary": {"stablePingPong": swapped("ping")}}),
            canary(),
            "old",
            &[],
        );
        assert_eq!(pong["stable"]["serviceName"], json!("web-pong"));
        assert_eq!(swapped("pong"), "ping");
        let with_experiment = weights(
            &spec,
            &json!({}),
            canary(),
            "old",
            &[json!({"serviceName": "e-canary", "podTemplateHash": "c", "weight": 5})],
        );
        assert_eq!(with_experiment["stable"]["weight"], json!(75));
        assert_eq!(scale_down_delay_seconds(&spec), Some(30));
        assert_eq!(
            scale_down_delay_seconds(&json!({"strategy": {"canary": {}}})),
            None
        );
        assert_eq!(
            scale_down_delay_seconds(
                &json!({"strategy": {"blueGreen": {"scaleDownDelaySeconds": 0}}})
            ),
            None
        );
    }
}
