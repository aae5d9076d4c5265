//! Flagger Canaries against the simulated fleet: each action's exact requests (a merge
//! patch of the Canary, or a POST to the load tester's gate through the API server's
//! service proxy) and the Canary as the simulated Flagger then moves it, read fresh and
//! mapped to the model. Waits poll with a bounded count, never a timing assertion.

use std::time::Duration;

use flightdeck::cluster::{self, Connection, Scope, map_canary};
use flightdeck::model::{FlaggerPhase, ObjectKey, Phase, RolloutAction, Workload};
use flightdeck_sim::{Fleet, RecordedRequest, Scenario};
use flightdeck_testkit::{client, start};
use serde_json::{Value, json};

const EU: &str = "sim-prod-eu";
const MERGE: &str = "application/merge-patch+json";

async fn connection(fleet: &Fleet) -> Connection {
    cluster::connect(&Scope {
        kubeconfig: Some(fleet.kubeconfig_path().to_path_buf()),
        all_contexts: true,
        ..Scope::default()
    })
    .await
    .expect("the kubeconfig reads")
}

fn canary_path(namespace: &str, name: &str) -> String {
    format!("/apis/flagger.app/v1beta1/namespaces/{namespace}/canaries/{name}")
}

async fn get(fleet: &Fleet, key: &ObjectKey) -> Value {
    let client = client(fleet, &key.context).await;
    let request = hyper::Request::get(canary_path(&key.namespace, &key.name))
        .body(Vec::new())
        .unwrap();
    client.request(request).await.unwrap()
}

/// Read the Canary until its phase is `phase` (at most 600 reads, 100 ms apart).
async fn wait_for_phase(fleet: &Fleet, key: &ObjectKey, phase: &str) -> Value {
    let mut last = Value::Null;
    for _ in 0..600 {
        last = get(fleet, key).await;
        if last["status"]["phase"] == phase {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{key} never reached {phase}: {}", last["status"]);
}

/// (method, path, content type, body) of what reached the server, Events aside.
fn calls(fleet: &Fleet, key: &ObjectKey) -> Vec<(String, String, Option<String>, Value)> {
    let seen = |r: &RecordedRequest| {
        let body = if r.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&r.body).expect("a JSON body")
        };
        (
            r.method.clone(),
            r.path.trim_end_matches('?').to_string(),
            r.content_type.clone(),
            body,
        )
    };
    fleet
        .requests(&key.context)
        .iter()
        .filter(|r| !r.path.contains("/events"))
        .map(seen)
        .collect()
}

async fn act(fleet: &Fleet, key: &ObjectKey, action: RolloutAction) -> Vec<String> {
    let connection = connection(fleet).await;
    fleet.clear_requests(&key.context);
    let report = connection
        .act_as(key, Workload::FlaggerCanary, action)
        .await
        .unwrap_or_else(|e| panic!("{action} {key}: {e}"));
    assert_eq!(report.event_error, None);
    report.sent
}

fn get_call(key: &ObjectKey) -> (String, String, Option<String>, Value) {
    (
        "GET".into(),
        canary_path(&key.namespace, &key.name),
        None,
        Value::Null,
    )
}

#[tokio::test]
async fn abort_opens_the_rollback_gate_and_flagger_rolls_the_failing_canary_back() {
    let fleet = start(Scenario::Demo, false).await;
    let basket = ObjectKey::of(Workload::FlaggerCanary, EU, "shop", "basket");
    let before = wait_for_phase(&fleet, &basket, "Progressing").await;
    let mapped = map_canary(EU, &before).unwrap();
    assert_eq!(mapped.workload, Workload::FlaggerCanary);
    assert!(mapped.update_in_flight());
    let sent = act(&fleet, &basket, RolloutAction::Abort).await;
    assert_eq!(
        sent,
        [
            r#"POST http://flagger-loadtester.test/rollback/open {"name":"basket","namespace":"shop"}"#
        ]
    );
    let body = json!({"name": "basket", "namespace": "shop"});
    assert_eq!(
        calls(&fleet, &basket),
        [
            get_call(&basket),
            (
                "POST".into(),
                "/api/v1/namespaces/test/services/flagger-loadtester:80/proxy/rollback/open".into(),
                Some("application/json".into()),
                body
            )
        ]
    );
    let after = wait_for_phase(&fleet, &basket, "Failed").await;
    let mapped = map_canary(EU, &after).unwrap();
    assert_eq!(mapped.phase, Phase::Aborted);
    assert_eq!(mapped.actual_weight, 0);
    // The canary Deployment is scaled to zero.
    let client = client(&fleet, EU).await;
    let target: Value = client
        .request(
            hyper::Request::get("/apis/apps/v1/namespaces/shop/deployments/basket")
                .body(Vec::new())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(target["spec"]["replicas"], 0);
}

#[tokio::test]
async fn promote_opens_the_confirm_promotion_gate_of_a_waiting_canary() {
    let fleet = start(Scenario::Demo, false).await;
    let billing = ObjectKey::of(Workload::FlaggerCanary, EU, "payments", "billing");
    let waiting = wait_for_phase(&fleet, &billing, "WaitingPromotion").await;
    let mapped = map_canary(EU, &waiting).unwrap();
    assert_eq!(mapped.phase, Phase::Paused);
    assert!(mapped.waiting_for_person());
    let sent = act(&fleet, &billing, RolloutAction::Promote).await;
    assert_eq!(
        sent,
        [
            r#"POST http://flagger-loadtester.test/gate/open {"name":"billing","namespace":"payments"}"#
        ]
    );
    assert_eq!(
        calls(&fleet, &billing)[1].1,
        "/api/v1/namespaces/test/services/flagger-loadtester:80/proxy/gate/open"
    );
    let done = wait_for_phase(&fleet, &billing, "Succeeded").await;
    let mapped = map_canary(EU, &done).unwrap();
    assert_eq!(
        mapped.flagger.as_ref().unwrap().phase,
        FlaggerPhase::Succeeded
    );
    assert!(!mapped.update_in_flight());
    // The primary now runs the canary's image.
    let client = client(&fleet, EU).await;
    let primary: Value = client
        .request(
            hyper::Request::get("/apis/apps/v1/namespaces/payments/deployments/billing-primary")
                .body(Vec::new())
                .unwrap(),
        )
        .await
        .unwrap();
    let image = primary["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap();
    assert!(image.ends_with("billing:v1.8.0"), "{image}");
}

#[tokio::test]
async fn without_a_gate_promote_skips_the_analysis_and_pause_suspends() {
    let fleet = start(Scenario::Demo, false).await;
    let ab = ObjectKey::of(Workload::FlaggerCanary, EU, "shop", "storefront-ab");
    wait_for_phase(&fleet, &ab, "Progressing").await;
    let path = canary_path("shop", "storefront-ab");
    let sent = act(&fleet, &ab, RolloutAction::Pause).await;
    assert_eq!(sent, [r#"spec patch {"spec":{"suspend":true}}"#]);
    assert_eq!(
        calls(&fleet, &ab),
        [
            get_call(&ab),
            (
                "PATCH".into(),
                path.clone(),
                Some(MERGE.into()),
                json!({"spec": {"suspend": true}})
            )
        ]
    );
    let suspended = map_canary(EU, &get(&fleet, &ab).await).unwrap();
    assert_eq!(suspended.phase, Phase::Paused);
    assert_eq!(suspended.phase_label(), "Suspended");
    let sent = act(&fleet, &ab, RolloutAction::Resume).await;
    assert_eq!(sent, [r#"spec patch {"spec":{"suspend":false}}"#]);
    let sent = act(&fleet, &ab, RolloutAction::Promote).await;
    assert_eq!(sent, [r#"spec patch {"spec":{"skipAnalysis":true}}"#]);
    assert_eq!(
        calls(&fleet, &ab)[1],
        (
            "PATCH".into(),
            path,
            Some(MERGE.into()),
            json!({"spec": {"skipAnalysis": true}})
        )
    );
    wait_for_phase(&fleet, &ab, "Succeeded").await;
}
