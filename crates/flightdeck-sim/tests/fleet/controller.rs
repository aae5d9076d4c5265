//! The simulated controller's reactions to what flightdeck's actions send, driven through
//! kube-rs against the demo fleet. Waits are bounded by a generous deadline, never timed.

use std::time::Duration;

use flightdeck_testkit::*;
use futures::{StreamExt, TryStreamExt};
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams, WatchEvent, WatchParams};
use kube::discovery::ApiResource;
use serde_json::{Value, json};

use flightdeck_sim::{Fleet, FleetOptions};

const EU: &str = "sim-prod-eu";
const US: &str = "sim-prod-us";

async fn demo(speed: f64) -> Fleet {
    Fleet::start(FleetOptions {
        speed,
        ..FleetOptions::default()
    })
    .await
    .expect("the fleet starts")
}

fn rollouts(client: &kube::Client, namespace: &str) -> Api<DynamicObject> {
    let resource = ApiResource::from_gvk_with_plural(
        &kube::api::GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Rollout"),
        "rollouts",
    );
    Api::namespaced_with(client.clone(), namespace, &resource)
}

fn replica_sets(client: &kube::Client, namespace: &str) -> Api<DynamicObject> {
    let resource = ApiResource::from_gvk_with_plural(
        &kube::api::GroupVersionKind::gvk("apps", "v1", "ReplicaSet"),
        "replicasets",
    );
    Api::namespaced_with(client.clone(), namespace, &resource)
}

/// Poll until `ready` holds for the rollout (deadline: a minute of wall time).
async fn wait_for(
    api: &Api<DynamicObject>,
    name: &str,
    what: &str,
    ready: impl Fn(&Value) -> bool,
) -> Value {
    for _ in 0..600 {
        let object = serde_json::to_value(api.get(name).await.unwrap()).unwrap();
        if ready(&object) {
            return object;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let last = serde_json::to_value(api.get(name).await.unwrap()).unwrap();
    panic!("{name}: never {what}; last status: {}", last["status"]);
}

fn merge(value: Value) -> Patch<Value> {
    Patch::Merge(value)
}

#[tokio::test]
async fn abort_sends_the_canary_weight_to_zero_in_the_first_reconcile() {
    let fleet = demo(1.0).await;
    let client = client(&fleet, EU).await;
    let api = rollouts(&client, "shop");
    let before = api.get("checkout").await.unwrap();
    assert_eq!(before.data["status"]["phase"], json!("Paused"));
    assert_eq!(
        before.data["status"]["canary"]["weights"]["canary"]["weight"],
        json!(20)
    );

    let patched = api
        .patch_status(
            "checkout",
            &PatchParams::default(),
            &merge(json!({"status": {"abort": true}})),
        )
        .await
        .unwrap();
    let from = patched.metadata.resource_version.unwrap();
    let mut events = api
        .watch(
            &WatchParams::default()
                .fields("metadata.name=checkout")
                .timeout(60),
            &from,
        )
        .await
        .unwrap()
        .boxed();
    // The first status the controller writes after the abort already has the weight at 0.
    let reacted = loop {
        match events.try_next().await.unwrap() {
            Some(WatchEvent::Modified(o)) if !o.data["status"]["abortedAt"].is_null() => break o,
            Some(_) => continue,
            None => panic!("the watch ended before the controller reacted"),
        }
    };
    let status = &reacted.data["status"];
    assert_eq!(status["canary"]["weights"]["canary"]["weight"], json!(0));
    assert_eq!(status["canary"]["weights"]["stable"]["weight"], json!(100));
    assert_eq!(status["phase"], json!("Degraded"));
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .starts_with("RolloutAborted: Rollout aborted update to revision"),
        "{status}"
    );
    assert_eq!(status["currentStepIndex"], json!(0));

    let canary_rs = replica_sets(&client, "shop")
        .get(&format!(
            "checkout-{}",
            status["currentPodHash"].as_str().unwrap()
        ))
        .await
        .unwrap();
    assert_eq!(canary_rs.data["spec"]["replicas"], json!(0));

    // Retry: the steps start over from the first.
    api.patch_status(
        "checkout",
        &PatchParams::default(),
        &merge(json!({"status": {"abort": false}})),
    )
    .await
    .unwrap();
    let retried = wait_for(&api, "checkout", "retried", |o| {
        o["status"]["abort"].is_null()
            && o["status"]["canary"]["weights"]["canary"]["weight"] == json!(20)
    })
    .await;
    assert_ne!(retried["status"]["phase"], json!("Degraded"));
    assert!(retried["status"]["abortedAt"].is_null());
}

#[tokio::test]
async fn promote_and_manual_pause_move_a_canary_as_argo_does() {
    let fleet = demo(1.0).await;
    let client = client(&fleet, EU).await;
    let api = rollouts(&client, "shop");
    let frontend = api.get("frontend").await.unwrap();
    assert_eq!(
        frontend.data["status"]["pauseConditions"][0]["reason"],
        json!("CanaryPauseStep")
    );
    assert_eq!(frontend.data["status"]["currentStepIndex"], json!(1));

    // A person pauses: the spec changes, the generation moves and the controller observes it.
    let paused = api
        .patch(
            "frontend",
            &PatchParams::default(),
            &merge(json!({"spec": {"paused": true}})),
        )
        .await
        .unwrap();
    let generation = paused.metadata.generation.unwrap().to_string();
    let observed = wait_for(&api, "frontend", "observed the pause", |o| {
        o["status"]["observedGeneration"] == json!(generation)
    })
    .await;
    assert_eq!(observed["status"]["message"], json!("manually paused"));
    api.patch(
        "frontend",
        &PatchParams::default(),
        &merge(json!({"spec": {"paused": false}})),
    )
    .await
    .unwrap();

    // Promote, as the plugin does for a step pause: clear the pause conditions.
    api.patch_status(
        "frontend",
        &PatchParams::default(),
        &merge(json!({"status": {"pauseConditions": null}})),
    )
    .await
    .unwrap();
    let promoted = wait_for(&api, "frontend", "moved past the pause", |o| {
        o["status"]["currentStepIndex"].as_i64() >= Some(2)
    })
    .await;
    assert_eq!(
        promoted["status"]["canary"]["weights"]["canary"]["weight"],
        json!(50)
    );

    // Promote --full skips the remaining steps.
    api.patch_status(
        "frontend",
        &PatchParams::default(),
        &merge(json!({"status": {"promoteFull": true}})),
    )
    .await
    .unwrap();
    let full = wait_for(&api, "frontend", "fully promoted", |o| {
        o["status"]["phase"] == json!("Healthy")
    })
    .await;
    assert_eq!(full["status"]["stableRS"], full["status"]["currentPodHash"]);
    assert_eq!(full["status"]["currentStepIndex"], json!(6));
    assert_eq!(
        full["status"]["duration"]["completionStatus"],
        json!("Succeeded")
    );
}

#[tokio::test]
async fn blue_green_waits_for_promotion_then_switches_the_active_selector() {
    // Fast enough that the 30 s scale-down delay passes in 3 s.
    let fleet = demo(10.0).await;
    let client = client(&fleet, EU).await;
    let api = rollouts(&client, "payments");
    let ledger = api.get("ledger").await.unwrap();
    let status = &ledger.data["status"];
    assert_eq!(status["phase"], json!("Paused"));
    assert_eq!(status["message"], json!("BlueGreenPause"));
    assert_ne!(
        status["blueGreen"]["activeSelector"],
        status["currentPodHash"]
    );
    assert_eq!(
        status["blueGreen"]["previewSelector"],
        status["currentPodHash"]
    );
    let old = status["stableRS"].as_str().unwrap().to_string();

    api.patch_status(
        "ledger",
        &PatchParams::default(),
        &merge(json!({"status": {"pauseConditions": null}})),
    )
    .await
    .unwrap();
    let promoted = wait_for(&api, "ledger", "promoted", |o| {
        o["status"]["phase"] == json!("Healthy")
    })
    .await;
    assert_eq!(
        promoted["status"]["blueGreen"]["activeSelector"],
        promoted["status"]["currentPodHash"]
    );
    // The old active ReplicaSet keeps its pods until its scale-down deadline, then goes.
    let sets = replica_sets(&client, "payments");
    let old_name = format!("ledger-{old}");
    let kept = serde_json::to_value(sets.get(&old_name).await.unwrap()).unwrap();
    assert_eq!(kept["spec"]["replicas"], json!(4));
    assert!(
        kept["metadata"]["annotations"]["scale-down-deadline"].is_string(),
        "{}",
        kept["metadata"]
    );
    let scaled = wait_for(&sets, &old_name, "scaled down", |rs| {
        rs["spec"]["replicas"] == json!(0)
    })
    .await;
    assert!(scaled["metadata"]["annotations"]["scale-down-deadline"].is_null());
}

#[tokio::test]
async fn undo_to_the_stable_template_skips_the_steps_and_bumps_the_revision() {
    let fleet = demo(1.0).await;
    let client = client(&fleet, EU).await;
    let api = rollouts(&client, "shop");
    let checkout = api.get("checkout").await.unwrap();
    let stable = checkout.data["status"]["stableRS"]
        .as_str()
        .unwrap()
        .to_string();
    let revision: u64 =
        checkout.metadata.annotations.as_ref().unwrap()["rollout.argoproj.io/revision"]
            .parse()
            .unwrap();
    let sets = replica_sets(&client, "shop")
        .list(&ListParams::default())
        .await
        .unwrap();
    let stable_rs = sets
        .items
        .iter()
        .find(|rs| rs.metadata.name.as_deref() == Some(&format!("checkout-{stable}")))
        .unwrap();
    let mut template = stable_rs.data["spec"]["template"].clone();
    template["metadata"]["labels"]
        .as_object_mut()
        .unwrap()
        .remove("rollouts-pod-template-hash");

    let undo: json_patch::Patch = serde_json::from_value(
        json!([{"op": "replace", "path": "/spec/template", "value": template}]),
    )
    .unwrap();
    api.patch(
        "checkout",
        &PatchParams::default(),
        &Patch::<Value>::Json(undo),
    )
    .await
    .unwrap();
    let undone = wait_for(&api, "checkout", "back on the stable template", |o| {
        o["status"]["currentPodHash"] == json!(stable) && o["status"]["phase"] == json!("Healthy")
    })
    .await;
    assert_eq!(
        undone["metadata"]["annotations"]["rollout.argoproj.io/revision"],
        json!((revision + 1).to_string())
    );
    let rs = replica_sets(&client, "shop")
        .get(&format!("checkout-{stable}"))
        .await
        .unwrap();
    assert_eq!(
        rs.metadata.annotations.unwrap()["rollout.argoproj.io/revision"],
        (revision + 1).to_string()
    );
}

#[tokio::test]
async fn a_failing_analysis_aborts_the_rollout_and_restart_is_observed() {
    let fleet = demo(20.0).await;
    let client = client(&fleet, US).await;
    let api = rollouts(&client, "shop");
    // Give recommendations the checkout incident's image: four in ten requests fail.
    let bad = json!([{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "registry.example.com/shop/checkout:v2.5.0"}]);
    api.patch(
        "recommendations",
        &PatchParams::default(),
        &Patch::<Value>::Json(serde_json::from_value(bad).unwrap()),
    )
    .await
    .unwrap();
    let aborted = wait_for(&api, "recommendations", "aborted by its analysis", |o| {
        o["status"]["phase"] == json!("Degraded")
    })
    .await;
    let message = aborted["status"]["message"].as_str().unwrap();
    assert!(
        message.contains(
            "Metric \"success-rate\" assessed Failed due to failed (2) > failureLimit (1)"
        ),
        "{message}"
    );
    assert_eq!(aborted["status"]["abort"], json!(true));

    let runs_resource = ApiResource::from_gvk_with_plural(
        &kube::api::GroupVersionKind::gvk("argoproj.io", "v1alpha1", "AnalysisRun"),
        "analysisruns",
    );
    let runs: Api<DynamicObject> = Api::namespaced_with(client.clone(), "shop", &runs_resource);
    let failed = runs
        .list(&ListParams::default().labels("rollout-type=Step"))
        .await
        .unwrap();
    assert!(
        failed
            .items
            .iter()
            .any(|r| r.data["status"]["phase"] == json!("Failed"))
    );

    let at = "2030-01-01T00:00:00Z";
    let platform = rollouts(&client, "platform");
    platform
        .patch(
            "auth",
            &PatchParams::default(),
            &merge(json!({"spec": {"restartAt": at}})),
        )
        .await
        .unwrap();
    wait_for(&platform, "auth", "restarted", |o| {
        o["status"]["restartedAt"] == json!(at)
    })
    .await;
}

#[tokio::test]
async fn the_same_seed_gives_the_same_fleet() {
    // A clock this slow never ticks during the test: both fleets stop at the end of their history.
    let start = || {
        Fleet::start(FleetOptions {
            speed: 1e-6,
            ..FleetOptions::default()
        })
    };
    let (a, b) = (start().await.unwrap(), start().await.unwrap());
    let (ta, tb) = (
        a.traffic(EU).unwrap().snapshot(),
        b.traffic(EU).unwrap().snapshot(),
    );
    assert_eq!(ta.versions, tb.versions);
    assert!(ta.versions.len() >= 7);
    assert_eq!(shop_rollouts(&a).await, shop_rollouts(&b).await);
}

/// Name, uid and current pod-template hash of the first context's `shop` rollouts.
async fn shop_rollouts(fleet: &Fleet) -> Vec<(String, String, Value)> {
    let client = client(fleet, &fleet.contexts()[0].name).await;
    let list = rollouts(&client, "shop")
        .list(&ListParams::default())
        .await
        .unwrap();
    list.items
        .into_iter()
        .map(|o| {
            (
                o.metadata.name.unwrap(),
                o.metadata.uid.unwrap(),
                o.data["status"]["currentPodHash"].clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_timed_pause_ends_on_its_own() {
    let fleet = demo(1.0).await;
    let client = client(&fleet, EU).await;
    let api = rollouts(&client, "shop");
    let steps = json!([{"setWeight": 50}, {"pause": {"duration": "2s"}}, {"setWeight": 80}]);
    api.patch(
        "catalog",
        &PatchParams::default(),
        &merge(json!({"spec": {
            "strategy": {"canary": {"steps": steps}},
            "template": {"spec": {"containers": [{"name": "catalog", "image": "registry.example.com/shop/catalog:v9.9.9"}]}},
        }})),
    )
    .await
    .unwrap();
    wait_for(&api, "catalog", "paused at the timed step", |o| {
        o["status"]["currentStepIndex"] == json!(1)
            && o["status"]["pauseConditions"][0]["reason"] == json!("CanaryPauseStep")
    })
    .await;
    let resumed = wait_for(&api, "catalog", "past the timed pause", |o| {
        o["status"]["currentStepIndex"].as_i64() >= Some(2)
    })
    .await;
    assert!(resumed["status"]["pauseConditions"].is_null());
}

fn experiments(client: &kube::Client, namespace: &str) -> Api<DynamicObject> {
    let resource = ApiResource::from_gvk_with_plural(
        &kube::api::GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Experiment"),
        "experiments",
    );
    Api::namespaced_with(client.clone(), namespace, &resource)
}

fn analysis_runs(client: &kube::Client, namespace: &str) -> Api<DynamicObject> {
    let resource = ApiResource::from_gvk_with_plural(
        &kube::api::GroupVersionKind::gvk("argoproj.io", "v1alpha1", "AnalysisRun"),
        "analysisruns",
    );
    Api::namespaced_with(client.clone(), namespace, &resource)
}

async fn json_of(api: &Api<DynamicObject>, name: &str) -> Value {
    serde_json::to_value(api.get(name).await.unwrap()).unwrap()
}

pub(super) fn progressing(rollout: &Value) -> Value {
    rollout["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Progressing")
        .cloned()
        .unwrap()
}

#[tokio::test]
async fn issue_11_a_canary_whose_pods_never_start_times_out_and_aborts_back_to_stable() {
    let fleet = demo(1.0).await;
    let client = client(&fleet, EU).await;
    let api = rollouts(&client, "payments");
    let stuck = json_of(&api, "fraud-check").await;
    let status = &stuck["status"];
    let canary_rs = format!("fraud-check-{}", status["currentPodHash"].as_str().unwrap());
    let condition = progressing(&stuck);
    assert_eq!(
        (&condition["status"], &condition["reason"]),
        (&json!("False"), &json!("ProgressDeadlineExceeded"))
    );
    let timed_out = format!("ReplicaSet \"{canary_rs}\" has timed out progressing.");
    assert_eq!(condition["message"], json!(timed_out));
    assert_eq!(status["phase"], json!("Degraded"));
    assert_eq!(
        status["message"],
        json!(format!("ProgressDeadlineExceeded: {timed_out}"))
    );
    assert!(
        status["abort"].is_null(),
        "no progressDeadlineAbort: it waits for a person"
    );
    // The pods exist but never become ready, so the canary gets no traffic.
    let sets = replica_sets(&client, "payments");
    let canary = json_of(&sets, &canary_rs).await;
    assert_eq!(canary["status"]["replicas"], json!(1));
    assert_eq!(
        canary["status"]["availableReplicas"].as_i64().unwrap_or(0),
        0
    );
    assert_eq!(status["canary"]["weights"]["canary"]["weight"], json!(0));
    assert_eq!(status["currentStepIndex"], json!(0));

    api.patch_status(
        "fraud-check",
        &PatchParams::default(),
        &merge(json!({"status": {"abort": true}})),
    )
    .await
    .unwrap();
    let aborted = wait_for(&api, "fraud-check", "aborted", |o| {
        o["status"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("RolloutAborted: Rollout aborted update to revision"))
    })
    .await;
    assert_eq!(aborted["status"]["phase"], json!("Degraded"));
    assert_eq!(
        aborted["status"]["canary"]["weights"]["stable"]["weight"],
        json!(100)
    );
    let canary = wait_for(&sets, &canary_rs, "scaled down", |rs| {
        rs["spec"]["replicas"] == json!(0)
    })
    .await;
    assert_eq!(canary["status"]["replicas"].as_i64().unwrap_or(0), 0);
}

#[tokio::test]
async fn progress_deadline_abort_aborts_an_update_that_stops_progressing() {
    let fleet = demo(5.0).await;
    let client = client(&fleet, EU).await;
    let api = rollouts(&client, "shop");
    // Give catalog issue #11's image, which cannot be pulled, and a 10 s deadline.
    api.patch(
        "catalog",
        &PatchParams::default(),
        &merge(json!({"spec": {
            "progressDeadlineSeconds": 10,
            "progressDeadlineAbort": true,
            "template": {"spec": {"containers": [{"name": "catalog", "image": "registry.example.com/payments/fraud-check:v3.2.0"}]}},
        }})),
    )
    .await
    .unwrap();
    let aborted = wait_for(&api, "catalog", "aborted by its deadline", |o| {
        o["status"]["abort"] == json!(true)
            && o["status"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("RolloutAborted"))
    })
    .await;
    assert_eq!(aborted["status"]["phase"], json!("Degraded"));
    assert_eq!(aborted["status"]["currentStepIndex"], json!(0));
    let canary_rs = format!(
        "catalog-{}",
        aborted["status"]["currentPodHash"].as_str().unwrap()
    );
    let events: Api<k8s_openapi::api::core::v1::Event> = Api::namespaced(client.clone(), "shop");
    let listed = events.list(&ListParams::default()).await.unwrap();
    assert!(
        listed
            .items
            .iter()
            .any(|e| e.reason.as_deref() == Some("RolloutAborted")
                && e.type_.as_deref() == Some("Warning")
                && e.message.as_deref()
                    == Some(&format!(
                        "ReplicaSet \"{canary_rs}\" has timed out progressing."
                    ))),
        "no timed-out abort event"
    );
    wait_for(
        &replica_sets(&client, "shop"),
        &canary_rs,
        "scaled down",
        |rs| rs["spec"]["replicas"] == json!(0),
    )
    .await;
}

#[tokio::test]
async fn an_experiment_step_runs_baseline_and_canary_side_by_side_then_the_canary_moves_on() {
    let fleet = demo(10.0).await;
    let client = client(&fleet, US).await;
    let api = rollouts(&client, "search");
    let ranking = wait_for(&api, "ranking", "at its experiment", |o| {
        !o["status"]["canary"]["currentExperiment"].is_null()
            && o["status"]["canary"]["weights"]["additional"].is_array()
    })
    .await;
    let status = &ranking["status"];
    assert_eq!(status["currentStepIndex"], json!(1));
    let hash = status["currentPodHash"].as_str().unwrap();
    let revision = ranking["metadata"]["annotations"]["rollout.argoproj.io/revision"]
        .as_str()
        .unwrap();
    let name = format!("ranking-{hash}-{revision}-1");
    assert_eq!(status["canary"]["currentExperiment"], json!(name));
    // Each template takes 5% of the traffic from stable while the experiment runs.
    let weights = &status["canary"]["weights"];
    assert_eq!(weights["canary"]["weight"], json!(20));
    assert_eq!(weights["stable"]["weight"], json!(70));
    let additional = weights["additional"].as_array().unwrap();
    assert_eq!(additional.len(), 2);
    assert_eq!(
        additional[0]["serviceName"],
        json!(format!("{name}-baseline"))
    );

    let experiments = experiments(&client, "search");
    let experiment = json_of(&experiments, &name).await;
    assert_eq!(
        experiment["metadata"]["labels"]["rollouts-pod-template-hash"],
        json!(hash)
    );
    assert_eq!(
        experiment["metadata"]["ownerReferences"][0]["kind"],
        json!("Rollout")
    );
    assert_eq!(
        experiment["metadata"]["ownerReferences"][0]["name"],
        json!("ranking")
    );
    assert_eq!(experiment["spec"]["duration"], json!("2m"));
    assert_eq!(
        experiment["spec"]["analyses"][0]["templateName"],
        json!("success-rate")
    );
    let templates: Vec<&Value> = experiment["spec"]["templates"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(
        templates
            .iter()
            .map(|t| t["name"].clone())
            .collect::<Vec<_>>(),
        [json!("baseline"), json!("canary")]
    );
    let image = |t: &Value| t["template"]["spec"]["containers"][0]["image"].clone();
    assert_eq!(
        image(templates[0]),
        json!("registry.example.com/search/ranking:v2.7.1")
    );
    assert_eq!(
        image(templates[1]),
        json!("registry.example.com/search/ranking:v2.8.0")
    );
    assert_eq!(experiment["status"]["phase"], json!("Running"));
    assert!(experiment["status"]["availableAt"].is_string());
    let sets = replica_sets(&client, "search");
    for template in ["baseline", "canary"] {
        let rs = json_of(&sets, &format!("{name}-{template}")).await;
        assert_eq!(
            rs["metadata"]["ownerReferences"][0]["kind"],
            json!("Experiment")
        );
        assert_eq!(
            rs["metadata"]["annotations"]["experiment.argoproj.io/template-name"],
            json!(template)
        );
        assert_eq!(
            rs["spec"]["template"]["metadata"]["labels"]["role"],
            json!(template)
        );
    }
    let run = wait_for(
        &analysis_runs(&client, "search"),
        &format!("{name}-success-rate"),
        "created",
        |_| true,
    )
    .await;
    assert_eq!(
        run["metadata"]["ownerReferences"][0]["kind"],
        json!("Experiment")
    );

    // Two minutes later the experiment has succeeded and the rollout is past the step.
    let moved = wait_for(&api, "ranking", "past the experiment", |o| {
        o["status"]["currentStepIndex"].as_i64() >= Some(2)
    })
    .await;
    assert!(moved["status"]["canary"]["currentExperiment"].is_null());
    assert!(moved["status"]["canary"]["weights"]["additional"].is_null());
    let done = json_of(&experiments, &name).await;
    assert_eq!(done["status"]["phase"], json!("Successful"));
    assert_eq!(
        done["status"]["analysisRuns"][0]["phase"],
        json!("Successful")
    );
    let condition = &done["status"]["conditions"][0];
    assert_eq!(
        (&condition["type"], &condition["reason"]),
        (&json!("Progressing"), &json!("ExperimentCompleted"))
    );
    // Its ReplicaSets scale down once their delay has passed.
    wait_for(&sets, &format!("{name}-canary"), "scaled down", |rs| {
        rs["spec"]["replicas"] == json!(0)
    })
    .await;
}

#[tokio::test]
async fn a_failing_experiment_aborts_the_rollout() {
    let fleet = demo(20.0).await;
    let client = client(&fleet, US).await;
    let api = rollouts(&client, "search");
    wait_for(&api, "ranking", "done with its update", |o| {
        o["status"]["phase"] == json!("Healthy")
    })
    .await;
    // The checkout incident's image: four in ten requests fail.
    let bad = json!([{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "registry.example.com/shop/checkout:v2.5.0"}]);
    api.patch(
        "ranking",
        &PatchParams::default(),
        &Patch::<Value>::Json(serde_json::from_value(bad).unwrap()),
    )
    .await
    .unwrap();
    let aborted = wait_for(&api, "ranking", "aborted by its experiment", |o| {
        o["status"]["abort"] == json!(true)
    })
    .await;
    let message = aborted["status"]["message"].as_str().unwrap();
    assert!(
        message.contains(
            "Metric \"success-rate\" assessed Failed due to failed (2) > failureLimit (1)"
        ),
        "{message}"
    );
    let listed = experiments(&client, "search")
        .list(&ListParams::default())
        .await
        .unwrap();
    assert!(
        listed
            .items
            .iter()
            .any(|e| e.data["status"]["phase"] == json!("Failed"))
    );
}

#[tokio::test]
async fn old_revisions_are_kept_scaled_down_up_to_the_history_limit() {
    let fleet = demo(1.0).await;
    let client = client(&fleet, US).await;
    let identity = json_of(&rollouts(&client, "platform"), "identity").await;
    assert_eq!(identity["spec"]["revisionHistoryLimit"], json!(5));
    let stable = identity["status"]["stableRS"].as_str().unwrap().to_string();
    let listed = replica_sets(&client, "platform")
        .list(&ListParams::default().labels("app.kubernetes.io/name=identity"))
        .await
        .unwrap();
    let mut revisions: Vec<(u64, i64, bool)> = listed
        .items
        .iter()
        .map(|rs| {
            let annotations = rs.metadata.annotations.clone().unwrap_or_default();
            (
                annotations["rollout.argoproj.io/revision"].parse().unwrap(),
                rs.data["spec"]["replicas"].as_i64().unwrap(),
                rs.metadata.name.as_deref() == Some(&format!("identity-{stable}")),
            )
        })
        .collect();
    revisions.sort();
    // Eight releases: the stable one and the five before it; the two oldest are gone.
    assert_eq!(
        revisions,
        [
            (3, 0, false),
            (4, 0, false),
            (5, 0, false),
            (6, 0, false),
            (7, 0, false),
            (8, 4, true)
        ]
    );
}

#[tokio::test]
async fn a_ping_pong_canary_swaps_its_services_at_each_promotion() {
    let fleet = demo(10.0).await;
    let client = client(&fleet, US).await;
    let api = rollouts(&client, "platform");
    // Deployed as ping, then seven promotions.
    let before = json_of(&api, "identity").await;
    assert_eq!(before["status"]["canary"]["stablePingPong"], json!("pong"));
    assert_eq!(
        before["status"]["canary"]["weights"]["stable"]["serviceName"],
        json!("identity-pong")
    );
    let old_stable = before["status"]["stableRS"].as_str().unwrap().to_string();

    api.patch(
        "identity",
        &PatchParams::default(),
        &merge(json!({"spec": {"template": {"spec": {"containers": [{"name": "identity", "image": "registry.example.com/platform/identity:v5.6.0"}]}}}})),
    )
    .await
    .unwrap();
    let canary = wait_for(&api, "identity", "at its first step", |o| {
        o["status"]["canary"]["weights"]["canary"]["weight"] == json!(20)
    })
    .await;
    let weights = &canary["status"]["canary"]["weights"];
    assert_eq!(weights["canary"]["serviceName"], json!("identity-ping"));
    assert_eq!(weights["stable"]["serviceName"], json!("identity-pong"));

    api.patch_status(
        "identity",
        &PatchParams::default(),
        &merge(json!({"status": {"promoteFull": true}})),
    )
    .await
    .unwrap();
    let promoted = wait_for(&api, "identity", "promoted", |o| {
        o["status"]["phase"] == json!("Healthy")
            && o["status"]["canary"]["weights"]["stable"]["serviceName"] == json!("identity-ping")
    })
    .await;
    assert_eq!(
        promoted["status"]["canary"]["stablePingPong"],
        json!("ping")
    );
    // The old stable ReplicaSet keeps its pods for the scale-down delay, then goes to 0.
    let sets = replica_sets(&client, "platform");
    let old = json_of(&sets, &format!("identity-{old_stable}")).await;
    assert!(
        old["metadata"]["annotations"]["scale-down-deadline"].is_string(),
        "{}",
        old["metadata"]
    );
    wait_for(
        &sets,
        &format!("identity-{old_stable}"),
        "scaled down",
        |rs| rs["spec"]["replicas"] == json!(0),
    )
    .await;
}
