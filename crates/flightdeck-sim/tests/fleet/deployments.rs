//! The simulated Deployment controller as kubectl sees it: the demo's plain Deployments
//! (one paused halfway, one past its progress deadline), a rolling update within its
//! surge and unavailability, `kubectl rollout status` until it is done, and
//! `kubectl rollout undo|restart|pause|resume` followed as Kubernetes follows them.
//! Waits are bounded by a generous deadline, never timed.

use std::time::Duration;

use flightdeck_testkit::*;
use kube::api::{Api, DynamicObject, ListParams};
use kube::discovery::ApiResource;
use serde_json::{Value, json};

use flightdeck_sim::{Fleet, FleetOptions};

use super::controller::progressing;

const US: &str = "sim-prod-us";

async fn demo() -> Fleet {
    Fleet::start(FleetOptions {
        speed: 10.0,
        ..FleetOptions::default()
    })
    .await
    .expect("the fleet starts")
}

fn api(client: &kube::Client, namespace: &str, kind: &str, plural: &str) -> Api<DynamicObject> {
    let gvk = kube::api::GroupVersionKind::gvk("apps", "v1", kind);
    let resource = ApiResource::from_gvk_with_plural(&gvk, plural);
    Api::namespaced_with(client.clone(), namespace, &resource)
}

async fn deployment(client: &kube::Client, namespace: &str, name: &str) -> Value {
    let d = api(client, namespace, "Deployment", "deployments");
    serde_json::to_value(d.get(name).await.unwrap()).unwrap()
}

/// (revision, name, spec.replicas, image) of a Deployment's ReplicaSets, by revision.
async fn sets(
    client: &kube::Client,
    namespace: &str,
    app: &str,
) -> Vec<(u64, String, i64, String)> {
    let listed = api(client, namespace, "ReplicaSet", "replicasets")
        .list(&ListParams::default().labels(&format!("app={app}")))
        .await
        .unwrap();
    let mut out: Vec<_> = listed
        .items
        .iter()
        .map(|rs| {
            let rs = serde_json::to_value(rs).unwrap();
            let revision = rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            let image = rs["spec"]["template"]["spec"]["containers"][0]["image"]
                .as_str()
                .unwrap();
            let name = rs["metadata"]["name"].as_str().unwrap().to_string();
            (
                revision,
                name,
                rs["spec"]["replicas"].as_i64().unwrap(),
                image.to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// (revision, spec.replicas, image) of each ReplicaSet.
fn revisions(listed: &[(u64, String, i64, String)]) -> Vec<(u64, i64, &str)> {
    listed.iter().map(|s| (s.0, s.2, s.3.as_str())).collect()
}

fn run(fleet: &Fleet, cache: &std::path::Path, args: &[&str]) -> (bool, String) {
    let mut all = vec!["--context", US, "-n", "platform"];
    all.extend(args);
    let out = kubectl(fleet, cache, &all);
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

fn web(image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "platform", "labels": {"app": "web"}},
        "spec": {"replicas": 4, "selector": {"matchLabels": {"app": "web"}},
                 "strategy": {"type": "RollingUpdate",
                              "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": image}]}}}
    })
}

// kubectl blocks its thread: the simulated API server answers on another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demos_deployments_rolled_one_paused_halfway_one_past_its_deadline() {
    let fleet = demo().await;
    let client = client(&fleet, US).await;
    let gateway = deployment(&client, "platform", "gateway").await;
    assert_eq!(
        gateway["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "2"
    );
    assert_eq!(progressing(&gateway)["reason"], "NewReplicaSetAvailable");
    let status = &gateway["status"];
    assert_eq!(
        (
            &status["replicas"],
            &status["updatedReplicas"],
            &status["availableReplicas"]
        ),
        (&json!(4), &json!(4), &json!(4))
    );
    let gateway_sets = sets(&client, "platform", "gateway").await;
    assert_eq!(gateway_sets.len(), 2, "{gateway_sets:?}");
    let (_, name, replicas, image) = &gateway_sets[1];
    assert!(image.ends_with("gateway:v4.2.0") && *replicas == 4);
    let rs = api(&client, "platform", "ReplicaSet", "replicasets")
        .get(name)
        .await
        .unwrap();
    let hash = &rs.metadata.labels.as_ref().unwrap()["pod-template-hash"];
    assert_eq!(*name, format!("gateway-{hash}"));
    assert_eq!(gateway_sets[0].2, 0, "the old revision scaled down");

    let invoices = deployment(&client, "payments", "invoices").await;
    assert_eq!(progressing(&invoices)["reason"], "ProgressDeadlineExceeded");
    assert_eq!(progressing(&invoices)["status"], "False");
    // maxUnavailable 25% of 3 is 0: the old pods all stay while the new one never starts.
    let status = &invoices["status"];
    assert_eq!(
        (&status["updatedReplicas"], &status["availableReplicas"]),
        (&json!(1), &json!(3))
    );
    let cache = tempfile::tempdir().unwrap();
    let out = kubectl(
        &fleet,
        cache.path(),
        &[
            "--context",
            US,
            "-n",
            "payments",
            "rollout",
            "status",
            "deployment/invoices",
        ],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("exceeded its progress deadline"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let recommender = deployment(&client, "shop", "recommender").await;
    assert_eq!(progressing(&recommender)["reason"], "DeploymentPaused");
    let status = &recommender["status"];
    // maxSurge 25% of 6 is 2: two new pods, one old one gone, then paused.
    assert_eq!(
        (&status["updatedReplicas"], &status["replicas"]),
        (&json!(2), &json!(7))
    );
}

// kubectl blocks its thread: the simulated API server answers on another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_update_keeps_within_its_surge_and_kubectl_follows_it_to_the_end() {
    let fleet = demo().await;
    let client = client(&fleet, US).await;
    let cache = tempfile::tempdir().unwrap();
    fleet.load(US, web("web:v1")).unwrap();
    let status = |args: &[&str]| run(&fleet, cache.path(), args);
    // `kubectl rollout status` waits until the controller is done.
    let rolled_out = || {
        let (done, text) = status(&["rollout", "status", "deployment/web", "--timeout=60s"]);
        assert!(done && text.contains("successfully rolled out"), "{text}");
    };
    rolled_out();
    let (ok, text) = status(&["set", "image", "deployment/web", "web=web:v2"]);
    assert!(ok, "{text}");
    // Polled while it rolls: never more than 4 + 1 pods asked for, never fewer than 4 available.
    let mut seen = Vec::new();
    for _ in 0..600 {
        let listed = sets(&client, "platform", "web").await;
        let d = deployment(&client, "platform", "web").await;
        let total: i64 = listed.iter().map(|s| s.2).sum();
        assert!(total <= 5, "{listed:?}");
        assert!(
            d["status"]["availableReplicas"].as_i64().unwrap() >= 4,
            "{}",
            d["status"]
        );
        seen.push(listed.iter().map(|s| s.2).collect::<Vec<_>>());
        if progressing(&d)["reason"] == "NewReplicaSetAvailable" && listed.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    rolled_out();
    let listed = sets(&client, "platform", "web").await;
    assert_eq!(
        revisions(&listed),
        [(1, 0, "web:v1"), (2, 4, "web:v2")],
        "sizes seen: {seen:?}"
    );
    let v1 = listed[0].1.clone();

    // Undo: revision 1's ReplicaSet back, as revision 3, its old number in the history.
    let (ok, text) = status(&["rollout", "undo", "deployment/web"]);
    assert!(ok, "{text}");
    rolled_out();
    let rs = api(&client, "platform", "ReplicaSet", "replicasets")
        .get(&v1)
        .await
        .unwrap();
    let annotations = rs.metadata.annotations.unwrap();
    assert_eq!(annotations["deployment.kubernetes.io/revision"], "3");
    assert_eq!(
        annotations["deployment.kubernetes.io/revision-history"],
        "1"
    );
    let listed = sets(&client, "platform", "web").await;
    assert_eq!(revisions(&listed), [(2, 0, "web:v2"), (3, 4, "web:v1")]);

    // Paused, a new image makes no ReplicaSet; resumed, it rolls.
    assert!(status(&["rollout", "pause", "deployment/web"]).0);
    assert!(status(&["set", "image", "deployment/web", "web=web:v3"]).0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sets(&client, "platform", "web").await.len(), 2);
    let d = deployment(&client, "platform", "web").await;
    assert_eq!(progressing(&d)["reason"], "DeploymentPaused");
    assert!(status(&["rollout", "resume", "deployment/web"]).0);
    rolled_out();
    // A restart is a new template too: revision 5.
    assert!(status(&["rollout", "restart", "deployment/web"]).0);
    rolled_out();
    let listed = sets(&client, "platform", "web").await;
    assert_eq!(
        listed.iter().map(|s| (s.0, s.2)).collect::<Vec<_>>(),
        [(2, 0), (3, 0), (4, 0), (5, 4)]
    );
}
