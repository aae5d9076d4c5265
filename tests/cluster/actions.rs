//! Each action against the simulated fleet over HTTP: the exact requests
//! (method, path, content type, body) compared with DESIGN.md's table, then
//! the rollout as the controller left it, read fresh and mapped to the model.
//! Waits poll with a bounded count, never a timing assertion.

use std::time::Duration;

use flightdeck::cluster::Scope;
use flightdeck::cluster::{self, Access, ActionError, Connection, map_rollout};
use flightdeck::model::{ObjectKey, Phase, RolloutAction, Workload};
use flightdeck_sim::{Fleet, RecordedRequest, Scenario};
use flightdeck_testkit::{client, start};
use serde_json::{Value, json};

const EU: &str = "sim-prod-eu";
const US: &str = "sim-prod-us";
const MERGE: &str = "application/merge-patch+json";
const ROLLOUTS: &str = "/apis/argoproj.io/v1alpha1/namespaces";

async fn fleet(deny_patch_context: bool) -> Fleet {
    start(Scenario::Demo, deny_patch_context).await
}

async fn connection(fleet: &Fleet) -> Connection {
    cluster::connect(&Scope {
        kubeconfig: Some(fleet.kubeconfig_path().to_path_buf()),
        all_contexts: true,
        ..Scope::default()
    })
    .await
    .expect("the kubeconfig reads")
}

fn key(context: &str, namespace: &str, name: &str) -> ObjectKey {
    ObjectKey::new(context, namespace, name)
}

/// One request as the test expects it: method, path, content type, body.
type Expected = (&'static str, String, Option<&'static str>, Value);

fn seen(request: &RecordedRequest) -> (String, String, Option<String>, Value) {
    let body = if request.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&request.body).expect("a JSON body")
    };
    (
        request.method.clone(),
        // kube's Api writes an empty query as a bare `?`.
        request.path.trim_end_matches('?').to_string(),
        request.content_type.clone(),
        body,
    )
}

/// Act, then compare what reached the server (the Event aside) with
/// `expected`, and return the Event bodies sent.
async fn act_and_compare(
    fleet: &Fleet,
    key: &ObjectKey,
    action: RolloutAction,
    expected: &[Expected],
) -> Vec<Value> {
    let connection = connection(fleet).await;
    fleet.clear_requests(&key.context);
    let report = connection
        .act(key, action)
        .await
        .unwrap_or_else(|e| panic!("{action} {key}: {e}"));
    assert_eq!(report.event_error, None);
    let requests = fleet.requests(&key.context);
    let (events, calls): (Vec<_>, Vec<_>) = requests.iter().partition(|r| {
        r.path.starts_with(&format!(
            "/apis/events.k8s.io/v1/namespaces/{}/events",
            key.namespace
        ))
    });
    let calls: Vec<_> = calls.into_iter().map(seen).collect();
    let expected: Vec<_> = expected
        .iter()
        .map(|(m, p, c, b)| (m.to_string(), p.clone(), c.map(str::to_string), b.clone()))
        .collect();
    assert_eq!(calls, expected, "{action} {key}");
    // What the report says was sent is what was sent.
    let patches = expected.iter().filter(|(m, ..)| m == "PATCH").count();
    assert_eq!(report.sent.len(), patches, "{:?}", report.sent);
    events
        .iter()
        .map(|r| {
            assert_eq!(r.method, "POST");
            serde_json::from_str(&r.body).unwrap()
        })
        .collect()
}

/// A GET of the rollout.
fn read(namespace: &str, name: &str) -> Expected {
    ("GET", rollout_path(namespace, name), None, Value::Null)
}

/// A merge patch of the rollout.
fn merge(namespace: &str, name: &str, body: Value) -> Expected {
    ("PATCH", rollout_path(namespace, name), Some(MERGE), body)
}

/// A merge patch of the rollout's status subresource.
fn merge_status(namespace: &str, name: &str, body: Value) -> Expected {
    ("PATCH", status_path(namespace, name), Some(MERGE), body)
}

fn rollout_path(namespace: &str, name: &str) -> String {
    format!("{ROLLOUTS}/{namespace}/rollouts/{name}")
}

fn status_path(namespace: &str, name: &str) -> String {
    format!("{ROLLOUTS}/{namespace}/rollouts/{name}/status")
}

async fn get(fleet: &Fleet, key: &ObjectKey) -> Value {
    let client = client(fleet, &key.context).await;
    let request = hyper::Request::get(rollout_path(&key.namespace, &key.name))
        .body(Vec::new())
        .unwrap();
    client.request(request).await.unwrap()
}

/// Read the rollout until `ready` holds for it (at most 600 reads).
async fn wait_for(
    fleet: &Fleet,
    key: &ObjectKey,
    what: &str,
    ready: impl Fn(&Value) -> bool,
) -> Value {
    for _ in 0..600 {
        let object = get(fleet, key).await;
        if ready(&object) {
            return object;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{key}: never {what}: {}", get(fleet, key).await["status"]);
}

fn weight(rollout: &Value) -> &Value {
    &rollout["status"]["canary"]["weights"]["canary"]["weight"]
}

#[tokio::test]
async fn abort_then_retry() {
    let fleet = fleet(false).await;
    let checkout = key(EU, "shop", "checkout");
    let events = act_and_compare(
        &fleet,
        &checkout,
        RolloutAction::Abort,
        &[merge_status(
            "shop",
            "checkout",
            json!({"status": {"abort": true}}),
        )],
    )
    .await;
    let [event] = &events[..] else {
        panic!("one Event expected: {events:?}")
    };
    // kube's events Recorder: an events.k8s.io Event about the rollout.
    assert_eq!(event["apiVersion"], "events.k8s.io/v1");
    assert_eq!(event["reason"], "FlightdeckAbort");
    assert_eq!(event["action"], "abort");
    assert_eq!(event["type"], "Normal");
    assert_eq!(event["reportingController"], "flightdeck");
    assert_eq!(
        event["note"],
        "abort by admin@flightdeck.sim via flightdeck"
    );
    assert_eq!(event["regarding"]["kind"], "Rollout");
    assert_eq!(event["regarding"]["name"], "checkout");
    let aborted = wait_for(&fleet, &checkout, "aborted", |r| weight(r) == &json!(0)).await;
    let model = map_rollout(EU, &aborted).unwrap();
    assert_eq!((model.phase, model.actual_weight), (Phase::Aborted, 0));

    act_and_compare(
        &fleet,
        &checkout,
        RolloutAction::Retry,
        &[merge_status(
            "shop",
            "checkout",
            json!({"status": {"abort": false}}),
        )],
    )
    .await;
    let retried = wait_for(&fleet, &checkout, "retried", |r| weight(r) == &json!(20)).await;
    let model = map_rollout(EU, &retried).unwrap();
    assert!(!model.aborted);
    assert_ne!(model.phase, Phase::Aborted);
}

#[tokio::test]
async fn promote_clears_the_step_pause_and_the_canary_moves_on() {
    let fleet = fleet(false).await;
    let checkout = key(EU, "shop", "checkout");
    let before = map_rollout(EU, &get(&fleet, &checkout).await).unwrap();
    assert_eq!((before.current_step, before.actual_weight), (Some(1), 20));
    act_and_compare(
        &fleet,
        &checkout,
        RolloutAction::Promote,
        &[
            read("shop", "checkout"),
            merge_status(
                "shop",
                "checkout",
                json!({"status": {"pauseConditions": null}}),
            ),
        ],
    )
    .await;
    // Step 2 sets 40%; step 3 is the next hour-long pause.
    let after = wait_for(&fleet, &checkout, "at 40%", |r| {
        weight(r) == &json!(40) && r["status"]["currentStepIndex"] == json!(3)
    })
    .await;
    assert_eq!(map_rollout(EU, &after).unwrap().actual_weight, 40);
}

#[tokio::test]
async fn pause_then_resume_and_promote_of_a_person_paused_rollout_unpauses_after_the_status() {
    let fleet = fleet(false).await;
    let frontend = key(EU, "shop", "frontend");
    act_and_compare(
        &fleet,
        &frontend,
        RolloutAction::Pause,
        &[merge("shop", "frontend", json!({"spec": {"paused": true}}))],
    )
    .await;
    let paused = get(&fleet, &frontend).await;
    assert!(map_rollout(EU, &paused).unwrap().paused_by_user);

    // Paused by a person: resume only lifts that pause; the step's holds.
    act_and_compare(
        &fleet,
        &frontend,
        RolloutAction::Resume,
        &[
            read("shop", "frontend"),
            merge("shop", "frontend", json!({"spec": {"paused": false}})),
        ],
    )
    .await;
    let resumed = get(&fleet, &frontend).await;
    let model = map_rollout(EU, &resumed).unwrap();
    assert!(!model.paused_by_user);
    assert_eq!(model.current_step, Some(1));

    // Paused by a person at a step: promote clears the step, then unpauses.
    act_and_compare(
        &fleet,
        &frontend,
        RolloutAction::Pause,
        &[merge("shop", "frontend", json!({"spec": {"paused": true}}))],
    )
    .await;
    act_and_compare(
        &fleet,
        &frontend,
        RolloutAction::Promote,
        &[
            read("shop", "frontend"),
            merge_status(
                "shop",
                "frontend",
                json!({"status": {"pauseConditions": null}}),
            ),
            merge("shop", "frontend", json!({"spec": {"paused": false}})),
        ],
    )
    .await;
    wait_for(&fleet, &frontend, "at 50%", |r| weight(r) == &json!(50)).await;
}

#[tokio::test]
async fn promote_full_finishes_a_blue_green() {
    let fleet = fleet(false).await;
    let ledger = key(EU, "payments", "ledger");
    let before = get(&fleet, &ledger).await;
    assert_ne!(
        before["status"]["currentPodHash"],
        before["status"]["stableRS"]
    );
    act_and_compare(
        &fleet,
        &ledger,
        RolloutAction::PromoteFull,
        &[
            read("payments", "ledger"),
            merge_status(
                "payments",
                "ledger",
                json!({"status": {"promoteFull": true}}),
            ),
        ],
    )
    .await;
    let done = wait_for(&fleet, &ledger, "promoted", |r| {
        r["status"]["stableRS"] == before["status"]["currentPodHash"]
    })
    .await;
    assert_eq!(map_rollout(EU, &done).unwrap().phase, Phase::Healthy);
}

#[tokio::test]
async fn undo_puts_back_the_previous_template_and_does_nothing_when_it_already_matches() {
    let fleet = fleet(false).await;
    let checkout = key(US, "shop", "checkout");
    let image = |r: &Value| r["spec"]["template"]["spec"]["containers"][0]["image"].clone();
    let before = get(&fleet, &checkout).await;
    assert_eq!(
        image(&before),
        json!("registry.example.com/shop/checkout:v2.4.1")
    );
    let connection = connection(&fleet).await;
    fleet.clear_requests(US);
    let report = connection
        .act(&checkout, RolloutAction::Undo { revision: None })
        .await
        .unwrap();
    let requests: Vec<_> = fleet.requests(US).iter().map(seen).collect();
    assert_eq!(requests[0].1, rollout_path("shop", "checkout"));
    let (method, list_path, ..) = &requests[1];
    assert_eq!(method, "GET");
    assert!(
        list_path.starts_with("/apis/apps/v1/namespaces/shop/replicasets?")
            && list_path.contains("labelSelector=app.kubernetes.io%2Fname%3Dcheckout"),
        "{list_path}"
    );
    let (method, path, content_type, body) = &requests[2];
    assert_eq!(
        (method.as_str(), path.as_str(), content_type.as_deref()),
        (
            "PATCH",
            rollout_path("shop", "checkout").as_str(),
            Some("application/json-patch+json")
        )
    );
    let [op] = &body.as_array().unwrap()[..] else {
        panic!("one operation: {body}")
    };
    assert_eq!(
        (&op["op"], &op["path"]),
        (&json!("replace"), &json!("/spec/template"))
    );
    assert_eq!(
        op["value"]["spec"]["containers"][0]["image"],
        json!("registry.example.com/shop/checkout:v2.4.0")
    );
    assert!(op["value"]["metadata"]["labels"]["rollouts-pod-template-hash"].is_null());
    assert!(
        requests[3]
            .1
            .starts_with("/apis/events.k8s.io/v1/namespaces/shop/events")
    );
    assert_eq!(requests.len(), 4);
    assert_eq!(
        report.sent,
        ["JSON patch of /spec/template back to revision 1"]
    );
    let after = get(&fleet, &checkout).await;
    assert_eq!(
        image(&after),
        json!("registry.example.com/shop/checkout:v2.4.0")
    );

    // The controller takes the old ReplicaSet back as the newest revision;
    // undoing to that revision finds the template already there: no call.
    let revision_of =
        |r: &Value| r["metadata"]["annotations"]["rollout.argoproj.io/revision"].clone();
    let adopted = wait_for(&fleet, &checkout, "at a new revision", |r| {
        revision_of(r) != revision_of(&before) && !revision_of(r).is_null()
    })
    .await;
    let revision = revision_of(&adopted).as_str().unwrap().parse().unwrap();
    fleet.clear_requests(US);
    let report = connection
        .act(
            &checkout,
            RolloutAction::Undo {
                revision: Some(revision),
            },
        )
        .await
        .unwrap();
    assert!(report.sent.is_empty());
    assert_eq!(
        report.summary(),
        format!("nothing sent: the template already matches revision {revision}: nothing to undo")
    );
    let methods: Vec<_> = fleet
        .requests(US)
        .iter()
        .map(|r| r.method.clone())
        .collect();
    assert_eq!(methods, ["GET", "GET"]);
}

#[tokio::test]
async fn restart_stamps_restart_at_and_the_controller_restarts() {
    let fleet = fleet(false).await;
    let checkout = key(US, "shop", "checkout");
    let connection = connection(&fleet).await;
    fleet.clear_requests(US);
    let report = connection
        .act(&checkout, RolloutAction::Restart)
        .await
        .unwrap();
    let requests: Vec<_> = fleet.requests(US).iter().map(seen).collect();
    assert_eq!(requests[0].0, "GET");
    let (method, path, content_type, body) = &requests[1];
    assert_eq!(
        (method.as_str(), path.as_str(), content_type.as_deref()),
        (
            "PATCH",
            rollout_path("shop", "checkout").as_str(),
            Some(MERGE)
        )
    );
    let stamp = body["spec"]["restartAt"].as_str().unwrap();
    assert_eq!(body, &json!({"spec": {"restartAt": stamp}}));
    // RFC 3339 in UTC to the second, as the plugin writes it.
    assert!(stamp.ends_with('Z') && stamp.len() == 20, "{stamp}");
    stamp.parse::<jiff::Timestamp>().unwrap();
    assert_eq!(report.sent.len(), 1);
    wait_for(&fleet, &checkout, "restarted", |r| {
        r["status"]["restartedAt"] == json!(stamp)
    })
    .await;
}

#[tokio::test]
async fn failures_come_in_plain_words() {
    let fleet = fleet(true).await;
    let connection = connection(&fleet).await;
    let missing = connection
        .act(&key(EU, "shop", "nope"), RolloutAction::Abort)
        .await
        .unwrap_err();
    assert_eq!(
        missing.to_string(),
        "rollout shop/nope not found in sim-prod-eu"
    );
    let readonly = format!("{EU}-readonly");
    let denied = connection
        .act(&key(&readonly, "shop", "checkout"), RolloutAction::Abort)
        .await
        .unwrap_err();
    assert_eq!(
        denied.to_string(),
        "RBAC: user viewer@flightdeck.sim cannot patch rollouts/status in namespace shop"
    );
    let denied = connection
        .act(&key(&readonly, "shop", "checkout"), RolloutAction::Pause)
        .await
        .unwrap_err();
    assert!(matches!(
        denied,
        ActionError::Forbidden {
            resource: "rollouts",
            ..
        }
    ));
    // Nothing was changed by the denied calls.
    let after = get(&fleet, &key(EU, "shop", "checkout")).await;
    assert!(after["status"]["abort"].is_null() && after["spec"]["paused"].is_null());
    // Undo of a rollout without a previous revision sends nothing.
    let only_one = connection
        .act(
            &key(US, "payments", "ledger"),
            RolloutAction::Undo { revision: None },
        )
        .await
        .unwrap_err();
    assert_eq!(only_one.to_string(), "undo: there is no previous revision");
}

#[tokio::test]
async fn an_unreachable_cluster_says_so() {
    let fleet = fleet(false).await;
    let connection = connection(&fleet).await;
    drop(fleet);
    let error = connection
        .act(&key(EU, "shop", "checkout"), RolloutAction::Pause)
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("unreachable: http://127.0.0.1:"),
        "{error}"
    );
}

#[tokio::test]
async fn access_reviews_say_what_each_context_may_patch() {
    let fleet = fleet(true).await;
    let connection = connection(&fleet).await;
    let admin = connection.access(EU, "shop").await.unwrap();
    assert_eq!(
        admin,
        Access {
            patch_rollouts: true,
            patch_status: true,
            patch_canaries: true,
            patch_deployments: true,
            list_replica_sets: true,
            proxy_services: true,
            reason: None
        }
    );
    let readonly = format!("{EU}-readonly");
    fleet.clear_requests(&readonly);
    let viewer = connection.access(&readonly, "shop").await.unwrap();
    assert!(!viewer.patch_rollouts && !viewer.patch_status);
    assert!(!viewer.patch_canaries && !viewer.patch_deployments && !viewer.proxy_services);
    assert!(viewer.list_replica_sets, "a viewer reads");
    // RBAC gives no reason for a refusal, as a real API server's answer has none.
    assert_eq!(viewer.reason, None);
    assert_eq!(connection.user(&readonly), Some("viewer@flightdeck.sim"));
    // A review per kind and verb an action needs, in the namespace.
    let reviews: Vec<Value> = fleet
        .requests(&readonly)
        .iter()
        .map(|r| {
            assert_eq!(
                (r.method.as_str(), r.path.as_str()),
                (
                    "POST",
                    "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews?"
                )
            );
            serde_json::from_str::<Value>(&r.body).unwrap()["spec"]["resourceAttributes"].clone()
        })
        .collect();
    assert_eq!(
        reviews,
        [
            json!({"group": "argoproj.io", "namespace": "shop", "resource": "rollouts", "verb": "patch"}),
            json!({"group": "argoproj.io", "namespace": "shop", "resource": "rollouts", "subresource": "status", "verb": "patch"}),
            json!({"group": "flagger.app", "namespace": "shop", "resource": "canaries", "verb": "patch"}),
            json!({"group": "apps", "namespace": "shop", "resource": "deployments", "verb": "patch"}),
            json!({"group": "apps", "namespace": "shop", "resource": "replicasets", "verb": "list"}),
            json!({"group": "", "namespace": "shop", "resource": "services", "subresource": "proxy", "verb": "create"}),
        ]
    );
}

/// Reads everything; may patch Deployments but not Canaries, nor open a gate.
static DEPLOYER: flightdeck_sim::User = flightdeck_sim::User {
    name: "deployer@flightdeck.sim",
    context_suffix: "deployer",
    rules: &[
        flightdeck_sim::Rule {
            role: "view",
            verbs: &["get", "list", "watch"],
            api_groups: &["*"],
            resources: &["*"],
            namespaces: None,
        },
        flightdeck_sim::Rule {
            role: "deployer",
            verbs: &["patch"],
            api_groups: &["apps"],
            resources: &["deployments"],
            namespaces: None,
        },
    ],
};

/// Partial RBAC: what it lacks is said by kind and verb before the dialog, and what it
/// may do goes ahead.
#[tokio::test]
async fn partial_rbac_names_the_kind_and_verb_it_lacks() {
    let fleet = flightdeck_sim::Fleet::start(flightdeck_sim::FleetOptions {
        extra_users: vec![&DEPLOYER],
        ..flightdeck_sim::FleetOptions::default()
    })
    .await
    .unwrap();
    let connection = connection(&fleet).await;
    let context = format!("{EU}-deployer");
    let access = connection.access(&context, "shop").await.unwrap();
    assert!(access.patch_deployments && access.list_replica_sets);
    assert!(!access.patch_canaries && !access.proxy_services && !access.patch_rollouts);
    let ab = flightdeck_testkit::get_json(
        &client(&fleet, &context).await,
        "/apis/flagger.app/v1beta1/namespaces/shop/canaries/storefront-ab",
    )
    .await;
    let canary = cluster::map_canary(&context, &ab).unwrap();
    // No gate behind its promotion: promote patches `spec.skipAnalysis`.
    assert!(canary.flagger.as_ref().unwrap().promotion_gate.is_none());
    let refused = access
        .check(RolloutAction::Promote, &canary, "deployer")
        .unwrap_err();
    assert_eq!(
        refused.to_string(),
        "RBAC: user deployer cannot patch canaries in namespace shop"
    );
    let web = cluster::map_deployment(
        &context,
        &json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "shop",
                             "annotations": {"deployment.kubernetes.io/revision": "2"}},
                "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                         "template": {"metadata": {"labels": {"app": "web"}},
                                      "spec": {"containers": [{"name": "web", "image": "web:v2"}]}}}}),
    )
    .unwrap();
    assert_eq!(web.workload, Workload::Deployment);
    assert!(
        access
            .check(RolloutAction::Undo { revision: Some(1) }, &web, "deployer")
            .is_ok()
    );
}
