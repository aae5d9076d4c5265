//! Plain Deployments against the simulated fleet: flightdeck's pause, resume and restart
//! and `kubectl rollout pause|resume|restart` on twin Deployments leave the same objects
//! (the restart's time aside); the requests are kubectl's strategic merge patches; and
//! the watch shows the demo's plain Deployments while the ones Flagger owns stay under
//! their Canaries.

use flightdeck::cluster::{self, Connection, Scope, map_deployment};
use flightdeck::model::{ObjectKey, Phase, RolloutAction, Workload};
use flightdeck_sim::{Fleet, Scenario};
use flightdeck_testkit::{client, kubectl, start};
use serde_json::{Value, json};

const US: &str = "sim-prod-us";
const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

async fn connection(fleet: &Fleet) -> Connection {
    cluster::connect(&Scope {
        kubeconfig: Some(fleet.kubeconfig_path().to_path_buf()),
        all_contexts: true,
        ..Scope::default()
    })
    .await
    .expect("the kubeconfig reads")
}

fn twin(name: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "platform", "labels": {"app": "twin"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "twin"}},
                 "template": {"metadata": {"labels": {"app": "twin"}},
                              "spec": {"containers": [{"name": "app", "image": "twin:v1"}]}}},
        "status": {"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2,
                   "readyReplicas": 2, "availableReplicas": 2}
    })
}

async fn get(fleet: &Fleet, name: &str) -> Value {
    let client = client(fleet, US).await;
    let path = format!("/apis/apps/v1/namespaces/platform/deployments/{name}");
    client
        .request(hyper::Request::get(path).body(Vec::new()).unwrap())
        .await
        .unwrap()
}

/// The spec and the annotations, with the restart's time blanked: what both tools change.
fn comparable(mut d: Value) -> Value {
    let annotations = &mut d["spec"]["template"]["metadata"]["annotations"];
    if let Some(at) = annotations.get_mut(RESTARTED_AT) {
        let text = at.as_str().unwrap().to_string();
        // RFC 3339, as kubectl writes it.
        assert!(text.parse::<jiff::Timestamp>().is_ok(), "{text}");
        *at = json!("<time>");
    }
    json!({"spec": d["spec"], "annotations": d["metadata"]["annotations"]})
}

// kubectl blocks its thread: the simulated API server answers on another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_resume_and_restart_leave_what_kubectl_leaves() {
    let fleet = start(Scenario::Demo, false).await;
    fleet.load(US, twin("by-kubectl")).unwrap();
    fleet.load(US, twin("by-flightdeck")).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let connection = connection(&fleet).await;
    let ours = ObjectKey::of(Workload::Deployment, US, "platform", "by-flightdeck");
    for (verb, action) in [
        ("pause", RolloutAction::Pause),
        ("resume", RolloutAction::Resume),
        ("restart", RolloutAction::Restart),
    ] {
        let out = kubectl(
            &fleet,
            cache.path(),
            &[
                "--context",
                US,
                "-n",
                "platform",
                "rollout",
                verb,
                "deployment/by-kubectl",
            ],
        );
        assert!(
            out.status.success(),
            "kubectl rollout {verb}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        fleet.clear_requests(US);
        let report = connection
            .act_as(&ours, Workload::Deployment, action)
            .await
            .unwrap_or_else(|e| panic!("{verb}: {e}"));
        assert_eq!(report.event_error, None);
        let patches: Vec<_> = fleet
            .requests(US)
            .into_iter()
            .filter(|r| r.method == "PATCH")
            .collect();
        assert_eq!(patches.len(), 1, "{verb}");
        assert_eq!(
            patches[0].content_type.as_deref(),
            Some("application/strategic-merge-patch+json"),
            "{verb}"
        );
        // What the tools wrote: the revision annotation is the controller's, written
        // whenever it next looks at each twin.
        let written = |mut d: Value| {
            if let Some(annotations) = d["metadata"]["annotations"].as_object_mut() {
                annotations.remove("deployment.kubernetes.io/revision");
                if annotations.is_empty() {
                    d["metadata"]["annotations"] = Value::Null;
                }
            }
            comparable(d)
        };
        assert_eq!(
            written(get(&fleet, "by-flightdeck").await),
            written(get(&fleet, "by-kubectl").await),
            "after {verb}"
        );
    }
    let mapped = map_deployment(US, &get(&fleet, "by-flightdeck").await).unwrap();
    assert!(!mapped.paused_by_user);
    assert!(mapped.deployment.unwrap().restarted_at.is_some());
}

#[tokio::test]
async fn the_watch_shows_plain_deployments_and_not_those_flagger_owns() {
    use flightdeck::app::{Event, Keymap, State, update};
    let fleet = start(Scenario::Demo, false).await;
    let connection = connection(&fleet).await;
    let (tx, mut events) = tokio::sync::mpsc::channel(1024);
    let _watches = connection.watch(connection.selected(), None, tx);
    let mut state = State::new(
        connection.selected().to_vec(),
        connection.known().to_vec(),
        None,
        Keymap::default_keys(),
        jiff::Timestamp::now(),
    );
    let kinds = |s: &State, w: Workload| s.rollouts.values().filter(|r| r.workload == w).count();
    let gateway = ObjectKey::of(Workload::Deployment, US, "platform", "gateway");
    for _ in 0..2000 {
        let Ok(Some(event)) =
            tokio::time::timeout(std::time::Duration::from_secs(20), events.recv()).await
        else {
            break;
        };
        update(&mut state, Event::Cluster(event));
        let history = state.replica_sets_of(&gateway).len();
        if kinds(&state, Workload::Deployment) >= 4
            && kinds(&state, Workload::FlaggerCanary) >= 3
            && history >= 2
        {
            break;
        }
    }
    assert_eq!(kinds(&state, Workload::FlaggerCanary), 3);
    let plain: Vec<&str> = state
        .rollouts
        .values()
        .filter(|r| r.workload == Workload::Deployment)
        .map(|r| r.key.name.as_str())
        .collect();
    // The demo's four plain ones; not basket, basket-primary, billing, ...
    assert_eq!(plain.len(), 4, "{plain:?}");
    assert!(
        plain
            .iter()
            .all(|n| !n.starts_with("basket") && !n.starts_with("billing"))
    );
    // A Deployment's revision history: its ReplicaSets by `pod-template-hash`.
    let mut history: Vec<(Option<u64>, u32, bool)> = state
        .replica_sets_of(&gateway)
        .iter()
        .map(|rs| {
            let named = rs.key.name == format!("gateway-{}", rs.hash);
            (rs.revision, rs.replicas.desired, named)
        })
        .collect();
    history.sort();
    assert_eq!(history, [(Some(1), 0, true), (Some(2), 4, true)]);
    assert_eq!(state.rollouts[&gateway].revision, Some(2));
    let stuck = &state.rollouts[&ObjectKey::of(Workload::Deployment, US, "payments", "invoices")];
    assert_eq!(stuck.phase, Phase::Degraded);
    let paused = &state.rollouts[&ObjectKey::of(Workload::Deployment, US, "shop", "recommender")];
    assert_eq!(paused.phase, Phase::Paused);
    // The Canaries have their pods from their Deployments.
    let billing = &state.rollouts[&ObjectKey::of(
        Workload::FlaggerCanary,
        "sim-prod-eu",
        "payments",
        "billing",
    )];
    assert_eq!(billing.replicas.desired, 3);
    assert!(
        billing
            .images
            .first()
            .is_some_and(|i| i.ends_with("billing:v1.8.0"))
    );
}

/// A Deployment at revision `revisions` (image `v<revisions>`) with the ReplicaSets of
/// revisions 1 to `revisions`; they are there before it, so that the simulated
/// Deployment controller finds its history rather than making one.
async fn with_history(fleet: &Fleet, name: &str, revisions: u64) {
    let app = format!("{name}-app");
    let uid = format!("uid-{name}");
    let template = |tag: &str, hash: Option<&str>| {
        let mut labels = json!({"app": app});
        if let Some(h) = hash {
            labels["pod-template-hash"] = json!(h);
        }
        json!({"metadata": {"labels": labels},
               "spec": {"containers": [{"name": "app", "image": format!("twin:{tag}")}]}})
    };
    for revision in 1..=revisions {
        let (tag, hash) = (format!("v{revision}"), format!("h{revision}"));
        let replicas = if revision == revisions { 2 } else { 0 };
        fleet
            .load(
                US,
                json!({
                    "apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "metadata": {"name": format!("{name}-{hash}"), "namespace": "platform",
                                 "labels": {"app": app, "pod-template-hash": hash},
                                 "annotations": {"deployment.kubernetes.io/revision": revision.to_string(),
                                                 "team": format!("web-{tag}")},
                                 "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                                      "name": name, "uid": uid, "controller": true}]},
                    "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": app, "pod-template-hash": hash}},
                             "template": template(&tag, Some(&hash))},
                    "status": {"replicas": replicas, "readyReplicas": replicas,
                               "availableReplicas": replicas}
                }),
            )
            .unwrap();
    }
    fleet
        .load(
            US,
            json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": name, "namespace": "platform", "uid": uid,
                             "annotations": {"deployment.kubernetes.io/revision": revisions.to_string()}},
                "spec": {"replicas": 2, "selector": {"matchLabels": {"app": app}},
                         "template": template(&format!("v{revisions}"), None)},
                "status": {"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2,
                           "readyReplicas": 2, "availableReplicas": 2}
            }),
        )
        .unwrap();
}

/// Nulls and empty objects gone: kubectl sends the template as Go's typed
/// `PodTemplateSpec` writes it (`creationTimestamp: null`, `resources: {}`), which a real
/// API server defaults away or back the same for both; the simulator keeps them as sent.
fn without_empties(v: &mut Value) {
    if let Some(map) = v.as_object_mut() {
        map.values_mut().for_each(without_empties);
        map.retain(|_, x| !x.is_null() && x.as_object().is_none_or(|o| !o.is_empty()));
    } else if let Some(list) = v.as_array_mut() {
        list.iter_mut().for_each(without_empties);
    }
}

/// Without the app label (each twin has its own), the spec and annotations.
fn undone(mut d: Value) -> Value {
    without_empties(&mut d);
    d["spec"]["selector"]["matchLabels"]["app"] = json!("<app>");
    d["spec"]["template"]["metadata"]["labels"]["app"] = json!("<app>");
    comparable(d)
}

/// The Deployment once the controller has seen its last change (and written its revision).
async fn observed(fleet: &Fleet, name: &str) -> Value {
    for _ in 0..600 {
        let d = get(fleet, name).await;
        if d["status"]["observedGeneration"] == d["metadata"]["generation"] {
            return d;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{name}: the controller never observed its last change");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undo_leaves_what_kubectl_rollout_undo_leaves() {
    let fleet = start(Scenario::Demo, false).await;
    let connection = connection(&fleet).await;
    let cache = tempfile::tempdir().unwrap();
    // The previous revision, and one chosen (`--to-revision`), as the picker sends it.
    for (twins, revisions, to, image) in [
        ("undo", 2, None, "twin:v1"),
        ("undo-to-1", 3, Some(1), "twin:v1"),
    ] {
        let (by_kubectl, by_flightdeck) = (
            format!("{twins}-by-kubectl"),
            format!("{twins}-by-flightdeck"),
        );
        with_history(&fleet, &by_kubectl, revisions).await;
        with_history(&fleet, &by_flightdeck, revisions).await;
        let target = format!("deployment/{by_kubectl}");
        let to_revision = to.map(|r| format!("--to-revision={r}"));
        let mut args = vec![
            "--context",
            US,
            "-n",
            "platform",
            "rollout",
            "undo",
            &target,
        ];
        args.extend(to_revision.as_deref());
        let out = kubectl(&fleet, cache.path(), &args);
        assert!(
            out.status.success(),
            "kubectl rollout undo: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ours = ObjectKey::of(Workload::Deployment, US, "platform", by_flightdeck.clone());
        fleet.clear_requests(US);
        let report = connection
            .act_as(
                &ours,
                Workload::Deployment,
                RolloutAction::Undo { revision: to },
            )
            .await
            .unwrap();
        assert_eq!(report.sent.len(), 1, "{report:?}");
        let patch = fleet
            .requests(US)
            .into_iter()
            .find(|r| r.method == "PATCH")
            .unwrap();
        assert_eq!(
            patch.content_type.as_deref(),
            Some("application/json-patch+json")
        );
        let kubectls = observed(&fleet, &by_kubectl).await;
        assert_eq!(
            kubectls["spec"]["template"]["spec"]["containers"][0]["image"],
            image
        );
        // Both back on the old ReplicaSet, under a new revision.
        assert_eq!(
            kubectls["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
            (revisions + 1).to_string()
        );
        assert_eq!(
            undone(observed(&fleet, &by_flightdeck).await),
            undone(kubectls)
        );
    }
}
