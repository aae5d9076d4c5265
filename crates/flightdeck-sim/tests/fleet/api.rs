//! The simulated API server as kube-rs and kubectl see it: discovery, list, watch, patch,
//! errors, permissions, events and the request log. The scenario is empty (no controller),
//! so every object is one the test loaded.

use flightdeck_testkit::*;
use futures::{StreamExt, TryStreamExt};
use kube::api::{
    Api, DynamicObject, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::discovery::{self, Scope};
use kube::runtime::watcher;
use serde_json::{Value, json};

use flightdeck_sim::Scenario;

async fn rollouts_api(client: &kube::Client, namespace: Option<&str>) -> Api<DynamicObject> {
    let (resource, caps) = discovery::pinned_kind(
        client,
        &kube::api::GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Rollout"),
    )
    .await
    .expect("discovery finds Rollouts");
    assert_eq!(caps.scope, Scope::Namespaced);
    match namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &resource),
        None => Api::all_with(client.clone(), &resource),
    }
}

#[tokio::test]
async fn fixtures_read_back_unchanged() {
    let fleet = start(Scenario::Empty, false).await;
    let client = client(&fleet, "sim-prod-eu").await;
    let mut objects = Vec::new();
    let mut unloadable = Vec::new();
    for folder in ["crds", "examples", "status"] {
        let (loaded, not_json) = fixture_objects_and_unloadable(folder);
        objects.extend(loaded);
        unloadable.extend(not_json);
    }
    // The linkerd example's AnalysisTemplate has an unquoted `{{args.linkerd-enabled}}`, which
    // YAML reads as a mapping used as a key: no JSON (and no API server) can hold it.
    assert_eq!(unloadable.len(), 1, "{unloadable:?}");
    assert!(
        unloadable[0].contains("rollout-linkerd.yaml"),
        "{unloadable:?}"
    );
    assert!(
        objects.len() >= 30,
        "only {} fixture objects found",
        objects.len()
    );
    for (index, (file, mut object)) in objects.into_iter().enumerate() {
        // Examples leave the namespace to kubectl; several files reuse a name.
        // Old files name ReplicaSets as extensions/v1beta1, which no current cluster serves;
        // they load (and are compared) as apps/v1.
        if object["apiVersion"] == "extensions/v1beta1" {
            object["apiVersion"] = json!("apps/v1");
        }
        let cluster_scoped = object["kind"] == "CustomResourceDefinition"
            || object["kind"] == "ClusterAnalysisTemplate";
        if !cluster_scoped {
            object["metadata"]["namespace"] = json!(format!("fixture-{index}"));
        }
        fleet
            .load("sim-prod-eu", object.clone())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let kind = object["kind"].as_str().unwrap().to_lowercase();
        let plural = if kind.ends_with('s') {
            format!("{kind}es")
        } else {
            format!("{kind}s")
        };
        let prefix = match object["apiVersion"].as_str().unwrap() {
            "v1" => "/api/v1".to_string(),
            group_version => format!("/apis/{group_version}"),
        };
        let name = object["metadata"]["name"].as_str().unwrap();
        let path = match object["metadata"]["namespace"].as_str() {
            Some(ns) => format!("{prefix}/namespaces/{ns}/{plural}/{name}"),
            None => format!("{prefix}/{plural}/{name}"),
        };
        let mut read = get_json(&client, &path).await;
        assert!(
            read["metadata"]["resourceVersion"]
                .as_str()
                .is_some_and(|rv| rv.parse::<u64>().is_ok()),
            "{file}"
        );
        // The store assigns resourceVersion, and uid, creationTimestamp and generation only
        // where the object had none; everything else must come back as it went in.
        let meta = read["metadata"].as_object_mut().unwrap();
        meta.insert(
            "resourceVersion".into(),
            object["metadata"]["resourceVersion"].clone(),
        );
        if object["metadata"]["resourceVersion"].is_null() {
            meta.remove("resourceVersion");
        }
        for filled in ["uid", "creationTimestamp", "generation"] {
            if object["metadata"].get(filled).is_none() {
                meta.remove(filled);
            }
        }
        assert_eq!(
            read, object,
            "{file}: {name} changed on the way through the store"
        );
    }
}

#[tokio::test]
async fn lists_page_and_filter_by_label() {
    let fleet = start(Scenario::Empty, false).await;
    for i in 0..7 {
        let app = if i % 2 == 0 { "even" } else { "odd" };
        fleet
            .load("sim-prod-eu", rollout("shop", &format!("r{i}"), app))
            .unwrap();
    }
    fleet
        .load("sim-prod-eu", rollout("search", "other", "even"))
        .unwrap();
    let client = client(&fleet, "sim-prod-eu").await;
    let all = rollouts_api(&client, None).await;

    let first = all.list(&ListParams::default().limit(3)).await.unwrap();
    assert_eq!(first.items.len(), 3);
    let token = first.metadata.continue_.clone().expect("a continue token");
    assert_eq!(first.metadata.remaining_item_count, Some(5));
    let rest = all
        .list(&ListParams::default().limit(10).continue_token(&token))
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 5);
    assert!(rest.metadata.continue_.is_none());
    let names: Vec<String> = first
        .items
        .iter()
        .chain(&rest.items)
        .map(|o| o.metadata.name.clone().unwrap())
        .collect();
    assert_eq!(names, ["other", "r0", "r1", "r2", "r3", "r4", "r5", "r6"]);

    let shop = rollouts_api(&client, Some("shop")).await;
    let even = shop
        .list(&ListParams::default().labels("app=even"))
        .await
        .unwrap();
    assert_eq!(
        even.items
            .iter()
            .map(|o| o.metadata.name.clone().unwrap())
            .collect::<Vec<_>>(),
        ["r0", "r2", "r4", "r6"]
    );
    let by_name = shop
        .list(&ListParams::default().fields("metadata.name=r3"))
        .await
        .unwrap();
    assert_eq!(by_name.items.len(), 1);

    // kube-rs's watcher pages through the list and then watches.
    let seen: Vec<DynamicObject> = watcher(all, watcher::Config::default().page_size(2))
        .take_while(|event| futures::future::ready(!matches!(event, Ok(watcher::Event::InitDone))))
        .filter_map(|event| async move {
            match event {
                Ok(watcher::Event::InitApply(object)) => Some(object),
                _ => None,
            }
        })
        .collect()
        .await;
    assert_eq!(seen.len(), 8);
}

#[tokio::test]
async fn watch_streams_changes_and_resumes_from_a_resource_version() {
    let fleet = start(Scenario::Empty, false).await;
    fleet
        .load("sim-prod-eu", rollout("shop", "checkout", "checkout"))
        .unwrap();
    let client = client(&fleet, "sim-prod-eu").await;
    let api = rollouts_api(&client, Some("shop")).await;
    let listed = api.list(&ListParams::default()).await.unwrap();
    let list_rv = listed.metadata.resource_version.clone().unwrap();

    api.patch(
        "checkout",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"paused": true}})),
    )
    .await
    .unwrap();
    api.patch(
        "checkout",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 3}})),
    )
    .await
    .unwrap();

    // Resuming from the list's version replays both changes, in order.
    let mut stream = api
        .watch(&WatchParams::default().timeout(5), &list_rv)
        .await
        .unwrap()
        .boxed();
    let mut replicas_seen = Vec::new();
    for _ in 0..2 {
        match stream.try_next().await.unwrap() {
            Some(WatchEvent::Modified(o)) => replicas_seen.push(o.data["spec"]["replicas"].clone()),
            other => panic!("expected MODIFIED, got {other:?}"),
        }
    }
    assert_eq!(replicas_seen, [json!(2), json!(3)]);

    // A live change arrives on the open stream.
    api.patch(
        "checkout",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"paused": false}})),
    )
    .await
    .unwrap();
    match stream.try_next().await.unwrap() {
        Some(WatchEvent::Modified(o)) => assert_eq!(o.data["spec"]["paused"], json!(false)),
        other => panic!("expected MODIFIED, got {other:?}"),
    }

    // Bookmarks come when asked for.
    let mut bookmarked = api
        .watch(&WatchParams::default().timeout(10), &list_rv)
        .await
        .unwrap()
        .boxed();
    loop {
        match bookmarked.try_next().await.unwrap() {
            Some(WatchEvent::Bookmark(b)) => {
                assert!(
                    b.metadata.resource_version.parse::<u64>().unwrap()
                        > list_rv.parse::<u64>().unwrap()
                );
                break;
            }
            Some(_) => continue,
            None => panic!("the watch ended without a bookmark"),
        }
    }

    // A streaming list (sendInitialEvents) ends its initial objects with a bookmark.
    let streamed: Vec<_> = watcher(api.clone(), watcher::Config::default().streaming_lists())
        .take_while(|e| futures::future::ready(!matches!(e, Ok(watcher::Event::InitDone))))
        .try_collect()
        .await
        .unwrap();
    assert!(streamed.iter().any(|e| matches!(e, watcher::Event::InitApply(o) if o.metadata.name.as_deref() == Some("checkout"))));
}

fn api_error(result: Result<impl std::fmt::Debug, kube::Error>) -> kube::core::Status {
    match result {
        Err(kube::Error::Api(status)) => *status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn errors_come_back_as_status_bodies() {
    let fleet = start(Scenario::Empty, true).await;
    fleet.load("sim-prod-eu", namespace("shop")).unwrap();
    fleet
        .load("sim-prod-eu", rollout("shop", "checkout", "checkout"))
        .unwrap();
    let client = client(&fleet, "sim-prod-eu").await;
    let api = rollouts_api(&client, Some("shop")).await;

    let missing = api_error(api.get("nope").await);
    assert_eq!((missing.code, missing.reason.as_str()), (404, "NotFound"));
    assert_eq!(missing.message, "rollouts.argoproj.io \"nope\" not found");

    let again: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "checkout"}, "spec": {}
    }))
    .unwrap();
    let exists = api_error(api.create(&PostParams::default(), &again).await);
    assert_eq!(
        (exists.code, exists.reason.as_str()),
        (409, "AlreadyExists")
    );

    let invalid = api_error(
        api.patch(
            "checkout",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": "three"}})),
        )
        .await,
    );
    assert_eq!((invalid.code, invalid.reason.as_str()), (422, "Invalid"));
    assert!(
        invalid
            .message
            .contains("Rollout.argoproj.io \"checkout\" is invalid: spec.replicas"),
        "{}",
        invalid.message
    );

    let stale = api_error(
        api.patch(
            "checkout",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"resourceVersion": "1"}, "spec": {"paused": true}})),
        )
        .await,
    );
    assert_eq!((stale.code, stale.reason.as_str()), (409, "Conflict"));

    let strategic = api_error(
        api.patch(
            "checkout",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"paused": true}})),
        )
        .await,
    );
    assert_eq!(strategic.code, 415);

    // The read-only context may read but not write; the message names the user and resource.
    let viewer = client_for_readonly(&fleet).await;
    let viewer_api = rollouts_api(&viewer, Some("shop")).await;
    assert!(viewer_api.get("checkout").await.is_ok());
    let denied = api_error(
        viewer_api
            .patch_status(
                "checkout",
                &PatchParams::default(),
                &Patch::Merge(json!({"status": {"abort": true}})),
            )
            .await,
    );
    assert_eq!((denied.code, denied.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        denied.message,
        "rollouts.argoproj.io \"checkout\" is forbidden: User \"viewer@flightdeck.sim\" cannot patch resource \"rollouts/status\" in API group \"argoproj.io\" in the namespace \"shop\""
    );
}

async fn client_for_readonly(fleet: &flightdeck_sim::Fleet) -> kube::Client {
    client(fleet, "sim-prod-eu-readonly").await
}

#[tokio::test]
async fn access_reviews_answer_per_context() {
    let fleet = start(Scenario::Empty, true).await;
    let review = json!({
        "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {"verb": "patch", "group": "argoproj.io", "resource": "rollouts", "namespace": "shop"}}
    });
    for (context, allowed) in [("sim-prod-eu", true), ("sim-prod-eu-readonly", false)] {
        let client = client(&fleet, context).await;
        let request =
            hyper::Request::post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")
                .header("content-type", "application/json")
                .body(serde_json::to_vec(&review).unwrap())
                .unwrap();
        let answer: Value = client.request(request).await.unwrap();
        assert_eq!(
            answer["status"]["allowed"],
            json!(allowed),
            "{context}: {answer}"
        );
    }
}

#[tokio::test]
async fn status_subresource_and_generation_follow_the_api_server() {
    let fleet = start(Scenario::Empty, false).await;
    fleet
        .load("sim-prod-eu", rollout("shop", "checkout", "checkout"))
        .unwrap();
    let client = client(&fleet, "sim-prod-eu").await;
    let api = rollouts_api(&client, Some("shop")).await;
    let before = api.get("checkout").await.unwrap();
    let generation = before.metadata.generation.unwrap();

    let main = api
        .patch(
            "checkout",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"paused": true}, "status": {"phase": "Degraded"}})),
        )
        .await
        .unwrap();
    assert_eq!(main.data["spec"]["paused"], json!(true));
    assert_eq!(
        main.data["status"]["phase"],
        json!("Healthy"),
        "status sent to the main resource is ignored"
    );
    assert_eq!(main.metadata.generation, Some(generation + 1));

    let status = api
        .patch_status(
            "checkout",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"abort": true}, "spec": {"replicas": 9}})),
        )
        .await
        .unwrap();
    assert_eq!(status.data["status"]["abort"], json!(true));
    assert_eq!(
        status.data["spec"]["replicas"],
        json!(2),
        "spec sent to status is ignored"
    );
    assert_eq!(
        status.metadata.generation,
        Some(generation + 1),
        "status changes keep the generation"
    );

    let undo = Patch::<Value>::Json(
        serde_json::from_value(json!([{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "registry.example.com/checkout:v0"}]))
            .unwrap(),
    );
    let undone = api
        .patch("checkout", &PatchParams::default(), &undo)
        .await
        .unwrap();
    assert_eq!(
        undone.data["spec"]["template"]["spec"]["containers"][0]["image"],
        json!("registry.example.com/checkout:v0")
    );
    assert_eq!(undone.metadata.generation, Some(generation + 2));
}

#[tokio::test]
async fn events_can_be_posted_listed_and_the_requests_are_recorded() {
    let fleet = start(Scenario::Empty, false).await;
    fleet.load("sim-prod-eu", namespace("shop")).unwrap();
    let client = client(&fleet, "sim-prod-eu").await;
    fleet.clear_requests("sim-prod-eu");
    let events: Api<k8s_openapi::api::core::v1::Event> = Api::namespaced(client.clone(), "shop");
    let event: k8s_openapi::api::core::v1::Event = serde_json::from_value(json!({
        "metadata": {"generateName": "checkout."},
        "involvedObject": {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "checkout", "namespace": "shop"},
        "reason": "Aborted", "message": "aborted by flightdeck", "type": "Normal"
    }))
    .unwrap();
    let created = events.create(&PostParams::default(), &event).await.unwrap();
    assert!(created.metadata.name.unwrap().starts_with("checkout."));
    let listed = events.list(&ListParams::default()).await.unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].reason.as_deref(), Some("Aborted"));

    let requests = fleet.requests("sim-prod-eu");
    let post = requests
        .iter()
        .find(|r| r.method == "POST")
        .expect("the POST was recorded");
    assert_eq!(post.path, "/api/v1/namespaces/shop/events?");
    assert_eq!(post.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        serde_json::from_str::<Value>(&post.body).unwrap()["reason"],
        json!("Aborted")
    );
    assert_eq!(post.user, "admin@flightdeck.sim");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_gets_watches_and_patches() {
    let fleet = start(Scenario::Empty, false).await;
    for ns in ["shop", "search"] {
        fleet.load("sim-prod-eu", namespace(ns)).unwrap();
    }
    fleet
        .load("sim-prod-eu", rollout("shop", "checkout", "checkout"))
        .unwrap();
    fleet
        .load("sim-prod-eu", rollout("search", "search-api", "search-api"))
        .unwrap();
    for (_, object) in fixture_objects("status/canary")
        .into_iter()
        .filter(|(_, o)| o["kind"] == "ReplicaSet")
    {
        fleet.load("sim-prod-eu", object).unwrap();
    }
    let cache = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = kubectl(&fleet, cache.path(), args);
        assert!(
            out.status.success(),
            "kubectl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };

    let listed = run(&["get", "rollouts.argoproj.io", "-A"]);
    assert!(
        listed.contains("checkout") && listed.contains("search-api"),
        "{listed}"
    );
    let yaml = run(&["get", "replicasets", "-A", "-o", "yaml"]);
    assert!(
        yaml.contains("rollouts-pod-template-hash: 65fb5ffc84"),
        "{yaml}"
    );

    run(&[
        "patch",
        "rollout",
        "checkout",
        "-n",
        "shop",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"paused":true}}"#,
    ]);
    run(&[
        "patch",
        "rollout",
        "checkout",
        "-n",
        "shop",
        "--subresource",
        "status",
        "--type",
        "merge",
        "-p",
        r#"{"status":{"abort":true}}"#,
    ]);
    let after: Value = serde_json::from_str(&run(&[
        "get", "rollout", "checkout", "-n", "shop", "-o", "json",
    ]))
    .unwrap();
    assert_eq!(after["spec"]["paused"], json!(true));
    assert_eq!(after["status"]["abort"], json!(true));

    let missing = kubectl(
        &fleet,
        cache.path(),
        &["get", "rollout", "nope", "-n", "shop"],
    );
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr)
            .contains("rollouts.argoproj.io \"nope\" not found")
    );

    // `get -w` prints the current rollouts, then changes as they happen.
    let mut watch = std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(fleet.kubeconfig_path())
        .arg("--cache-dir")
        .arg(cache.path())
        .args(["get", "rollouts", "-n", "shop", "-w", "-o", "name"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = watch.stdout.take().unwrap();
    let lines = std::thread::spawn(move || {
        use std::io::BufRead;
        std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .take(2)
            .collect::<Vec<_>>()
    });
    // Patch until the watch has printed the change (kubectl may still be starting).
    let mut patched = 0;
    while !lines.is_finished() && patched < 50 {
        patched += 1;
        run(&[
            "patch",
            "rollout",
            "checkout",
            "-n",
            "shop",
            "--type",
            "merge",
            "-p",
            &format!(r#"{{"spec":{{"replicas":{patched}}}}}"#),
        ]);
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    watch.kill().unwrap();
    let _ = watch.wait();
    let lines = lines.join().unwrap();
    assert_eq!(
        lines,
        [
            "rollout.argoproj.io/checkout",
            "rollout.argoproj.io/checkout"
        ]
    );
}

/// Send a request straight to a context's listener (no kubeconfig credentials) and read
/// the answer's status and JSON body.
async fn raw(
    fleet: &flightdeck_sim::Fleet,
    context: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
    bearer: Option<&str>,
) -> (u16, Value) {
    let server = &fleet
        .contexts()
        .iter()
        .find(|c| c.name == context)
        .unwrap_or_else(|| panic!("no context {context}"))
        .server;
    let mut request = reqwest::Client::new().request(method, format!("{server}{path}"));
    if let Some(body) = body {
        request = request.json(&body);
    }
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn forbidden(message: &str, group: Option<&str>, kind: &str, name: Option<&str>) -> Value {
    let mut details = json!({});
    if let Some(name) = name {
        details["name"] = json!(name);
    }
    if let Some(group) = group {
        details["group"] = json!(group);
    }
    details["kind"] = json!(kind);
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
           "message": message, "reason": "Forbidden", "details": details, "code": 403})
}

async fn restricted_fleet() -> flightdeck_sim::Fleet {
    let fleet = flightdeck_sim::Fleet::start(flightdeck_sim::FleetOptions {
        scenario: Scenario::Empty,
        extra_users: vec![
            &flightdeck_sim::VIEWER,
            &flightdeck_sim::ROLLOUTS_ONLY,
            &flightdeck_sim::SHOP_ONLY,
        ],
        ..flightdeck_sim::FleetOptions::default()
    })
    .await
    .expect("the fleet starts");
    for ns in ["shop", "payments"] {
        fleet.load("sim-prod-eu", namespace(ns)).unwrap();
        fleet
            .load("sim-prod-eu", rollout(ns, &format!("{ns}-api"), "api"))
            .unwrap();
    }
    fleet
}

#[tokio::test]
async fn restricted_users_are_refused_as_the_api_server_refuses_them() {
    use reqwest::Method;
    let fleet = restricted_fleet().await;
    let names: Vec<&str> = fleet.contexts().iter().map(|c| c.name.as_str()).collect();
    for expected in [
        "sim-prod-eu",
        "sim-prod-eu-readonly",
        "sim-prod-eu-rollouts-only",
        "sim-prod-eu-shop-only",
        "sim-prod-us-shop-only",
    ] {
        assert!(names.contains(&expected), "{names:?}");
    }
    let get = |context: &'static str, path: &'static str| {
        let fleet = &fleet;
        async move { raw(fleet, context, Method::GET, path, None, None).await }
    };

    // Rollouts only: every namespace's rollouts, nothing else.
    let ro = "sim-prod-eu-rollouts-only";
    let (code, list) = get(ro, "/apis/argoproj.io/v1alpha1/rollouts").await;
    assert_eq!(
        (code, list["items"].as_array().map(Vec::len)),
        (200, Some(2))
    );
    assert_eq!(
        get(ro, "/apis/apps/v1/namespaces/shop/replicasets").await,
        (
            403,
            forbidden(
                "replicasets.apps is forbidden: User \"rollouts-viewer@flightdeck.sim\" cannot list resource \"replicasets\" in API group \"apps\" in the namespace \"shop\"",
                Some("apps"),
                "replicasets",
                None
            )
        )
    );
    assert_eq!(
        get(ro, "/apis/argoproj.io/v1alpha1/analysisruns").await,
        (
            403,
            forbidden(
                "analysisruns.argoproj.io is forbidden: User \"rollouts-viewer@flightdeck.sim\" cannot list resource \"analysisruns\" in API group \"argoproj.io\" at the cluster scope",
                Some("argoproj.io"),
                "analysisruns",
                None
            )
        )
    );
    let (code, watch) = get(
        ro,
        "/apis/argoproj.io/v1alpha1/namespaces/payments/experiments?watch=1",
    )
    .await;
    assert_eq!(code, 403);
    assert_eq!(
        watch["message"],
        json!(
            "experiments.argoproj.io is forbidden: User \"rollouts-viewer@flightdeck.sim\" cannot watch resource \"experiments\" in API group \"argoproj.io\" in the namespace \"payments\""
        )
    );
    let (code, status) = get(
        ro,
        "/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/shop-api/status",
    )
    .await;
    assert_eq!(
        (code, status["details"]["name"].clone()),
        (403, json!("shop-api"))
    );
    let (code, _) = raw(
        &fleet,
        ro,
        Method::PATCH,
        "/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/shop-api",
        None,
        None,
    )
    .await;
    assert_eq!(code, 403);

    // Shop only: what is in shop, nothing cluster-wide, nothing elsewhere.
    let shop = "sim-prod-eu-shop-only";
    let (code, list) = get(shop, "/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts").await;
    assert_eq!(
        (code, list["items"][0]["metadata"]["name"].clone()),
        (200, json!("shop-api"))
    );
    assert_eq!(
        get(shop, "/apis/argoproj.io/v1alpha1/rollouts?watch=1").await,
        (
            403,
            forbidden(
                "rollouts.argoproj.io is forbidden: User \"shop-viewer@flightdeck.sim\" cannot watch resource \"rollouts\" in API group \"argoproj.io\" at the cluster scope",
                Some("argoproj.io"),
                "rollouts",
                None
            )
        )
    );
    assert_eq!(
        get(shop, "/api/v1/namespaces").await,
        (
            403,
            forbidden(
                "namespaces is forbidden: User \"shop-viewer@flightdeck.sim\" cannot list resource \"namespaces\" in API group \"\" at the cluster scope",
                None,
                "namespaces",
                None
            )
        )
    );
    assert_eq!(get(shop, "/api/v1/namespaces/shop").await.0, 200);
    assert_eq!(
        get(shop, "/api/v1/namespaces/payments").await,
        (
            403,
            forbidden(
                "namespaces \"payments\" is forbidden: User \"shop-viewer@flightdeck.sim\" cannot get resource \"namespaces\" in API group \"\" in the namespace \"payments\"",
                None,
                "namespaces",
                Some("payments")
            )
        )
    );
    assert_eq!(
        get(shop, "/apis/apps/v1/namespaces/payments/replicasets")
            .await
            .1["message"],
        json!(
            "replicasets.apps is forbidden: User \"shop-viewer@flightdeck.sim\" cannot list resource \"replicasets\" in API group \"apps\" in the namespace \"payments\""
        )
    );
    // Discovery is open to every user.
    assert_eq!(get(shop, "/apis/argoproj.io/v1alpha1").await.0, 200);

    // kube-rs reads the same refusal.
    let client = client(&fleet, shop).await;
    let everywhere = rollouts_api(&client, None).await;
    let refused = api_error(everywhere.list(&ListParams::default()).await);
    assert_eq!((refused.code, refused.reason.as_str()), (403, "Forbidden"));
    assert!(
        rollouts_api(&client, Some("shop"))
            .await
            .list(&ListParams::default())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn access_and_rules_reviews_follow_each_users_rules() {
    use reqwest::Method;
    let fleet = restricted_fleet().await;
    let review = |context: &'static str, attributes: Value| {
        let fleet = &fleet;
        async move {
            let body = json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                              "spec": {"resourceAttributes": attributes}});
            let (code, answer) = raw(
                fleet,
                context,
                Method::POST,
                "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                Some(body),
                None,
            )
            .await;
            assert_eq!(code, 201, "{answer}");
            answer["status"].clone()
        }
    };
    let list_rs = |ns: &str| json!({"verb": "list", "group": "apps", "resource": "replicasets", "namespace": ns});
    assert_eq!(
        review("sim-prod-eu-rollouts-only", list_rs("shop")).await,
        json!({"allowed": false})
    );
    assert_eq!(
        review("sim-prod-eu-shop-only", list_rs("shop")).await,
        json!({"allowed": true, "reason": "RBAC: allowed by RoleBinding \"view/shop\" of ClusterRole \"view\" to User \"shop-viewer@flightdeck.sim\""})
    );
    assert_eq!(
        review("sim-prod-eu-shop-only", list_rs("payments")).await["allowed"],
        json!(false)
    );
    assert_eq!(
        review(
            "sim-prod-eu-shop-only",
            json!({"verb": "list", "group": "argoproj.io", "resource": "rollouts"})
        )
        .await["allowed"],
        json!(false),
        "no namespace: the cluster scope"
    );
    assert_eq!(
        review(
            "sim-prod-eu-rollouts-only",
            json!({"verb": "watch", "group": "argoproj.io", "resource": "rollouts"})
        )
        .await,
        json!({"allowed": true, "reason": "RBAC: allowed by ClusterRoleBinding \"rollouts-viewer\" of ClusterRole \"rollouts-viewer\" to User \"rollouts-viewer@flightdeck.sim\""})
    );
    let patch_status = json!({"verb": "patch", "group": "argoproj.io", "resource": "rollouts", "subresource": "status", "namespace": "shop"});
    assert_eq!(
        review("sim-prod-eu-readonly", patch_status.clone()).await["allowed"],
        json!(false)
    );
    assert_eq!(
        review("sim-prod-eu", patch_status).await["allowed"],
        json!(true)
    );

    let rules = |context: &'static str, spec: Value| {
        let fleet = &fleet;
        async move {
            let body = json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview", "spec": spec});
            raw(
                fleet,
                context,
                Method::POST,
                "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
                Some(body),
                None,
            )
            .await
        }
    };
    let basic = [
        json!({"verbs": ["create"], "apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]}),
        json!({"verbs": ["create"], "apiGroups": ["authentication.k8s.io"], "resources": ["selfsubjectreviews"]}),
    ];
    let (code, in_shop) = rules("sim-prod-eu-shop-only", json!({"namespace": "shop"})).await;
    assert_eq!(code, 201);
    assert_eq!(in_shop["kind"], json!("SelfSubjectRulesReview"));
    let mut expected =
        vec![json!({"verbs": ["get", "list", "watch"], "apiGroups": ["*"], "resources": ["*"]})];
    expected.extend(basic.clone());
    assert_eq!(in_shop["status"]["resourceRules"], json!(expected));
    assert_eq!(in_shop["status"]["incomplete"], json!(false));
    assert!(
        in_shop["status"]["nonResourceRules"][0]["nonResourceURLs"]
            .as_array()
            .unwrap()
            .contains(&json!("/apis/*"))
    );
    let (_, in_payments) = rules("sim-prod-eu-shop-only", json!({"namespace": "payments"})).await;
    assert_eq!(in_payments["status"]["resourceRules"], json!(basic));
    let (_, rollouts_only) = rules(
        "sim-prod-eu-rollouts-only",
        json!({"namespace": "payments"}),
    )
    .await;
    assert_eq!(
        rollouts_only["status"]["resourceRules"][0],
        json!({"verbs": ["get", "list", "watch"], "apiGroups": ["argoproj.io"], "resources": ["rollouts"]})
    );
    let (code, no_namespace) = rules("sim-prod-eu-shop-only", json!({})).await;
    assert_eq!(
        (code, no_namespace["message"].clone()),
        (400, json!("no namespace on request"))
    );
}

#[tokio::test]
async fn the_token_context_accepts_fresh_tokens_only() {
    use reqwest::Method;
    let dir = tempfile::tempdir().unwrap();
    let plugin = dir.path().join("fd-token");
    std::fs::write(
        &plugin,
        "#!/bin/sh\nnow=$(date +%s)\nexp=$(date -u -d @$((now + 7)) +%Y-%m-%dT%H:%M:%SZ)\nprintf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"fd-%s\",\"expirationTimestamp\":\"%s\"}}' \"$now\" \"$exp\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let fleet = flightdeck_sim::Fleet::start(flightdeck_sim::FleetOptions {
        scenario: Scenario::Empty,
        token_context: Some(plugin.clone()),
        ..flightdeck_sim::FleetOptions::default()
    })
    .await
    .expect("the fleet starts");
    fleet.load("sim-prod-eu", namespace("shop")).unwrap();
    let kubeconfig = std::fs::read_to_string(fleet.kubeconfig_path()).unwrap();
    assert!(
        kubeconfig.contains("apiVersion: client.authentication.k8s.io/v1"),
        "{kubeconfig}"
    );
    assert!(
        kubeconfig.contains("interactiveMode: Never"),
        "{kubeconfig}"
    );
    assert!(
        kubeconfig.contains(&plugin.display().to_string()),
        "{kubeconfig}"
    );

    let context = "sim-prod-eu-token";
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let unauthorized = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                              "message": "Unauthorized", "reason": "Unauthorized", "code": 401});
    for token in [
        None,
        Some(format!("fd-{}", now - 8)),
        Some("not-ours".to_string()),
    ] {
        assert_eq!(
            raw(
                &fleet,
                context,
                Method::GET,
                "/api/v1/namespaces",
                None,
                token.as_deref()
            )
            .await,
            (401, unauthorized.clone()),
            "{token:?}"
        );
    }
    let fresh = format!("fd-{now}");
    let (code, _) = raw(
        &fleet,
        context,
        Method::GET,
        "/api/v1/namespaces",
        None,
        Some(&fresh),
    )
    .await;
    assert_eq!(code, 200);

    // kube-rs runs the plugin and sends its tokens; every request is recorded with its token.
    fleet.clear_requests(context);
    let client = client(&fleet, context).await;
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client);
    assert_eq!(
        namespaces
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    let tokens: Vec<Option<String>> = fleet
        .requests(context)
        .into_iter()
        .map(|r| r.bearer_token)
        .collect();
    assert!(!tokens.is_empty());
    assert!(
        tokens
            .iter()
            .all(|t| t.as_deref().is_some_and(|t| t.starts_with("fd-"))),
        "{tokens:?}"
    );
    assert!(
        fleet
            .requests("sim-prod-eu")
            .iter()
            .all(|r| r.bearer_token.is_none())
    );
}

#[tokio::test]
async fn events_k8s_io_events_are_created_then_patched_by_kube_runtime_recorder() {
    use kube::runtime::events::{Event, EventType, Recorder, Reporter};
    let fleet = start(Scenario::Empty, false).await;
    fleet.load("sim-prod-eu", namespace("shop")).unwrap();
    fleet
        .load("sim-prod-eu", rollout("shop", "checkout", "checkout"))
        .unwrap();
    let client = client(&fleet, "sim-prod-eu").await;
    let (resource, _) = discovery::pinned_kind(
        &client,
        &kube::api::GroupVersionKind::gvk("events.k8s.io", "v1", "Event"),
    )
    .await
    .expect("discovery finds events.k8s.io Events");
    let events: Api<DynamicObject> = Api::namespaced_with(client.clone(), "shop", &resource);
    let mut watch = events
        .watch(&WatchParams::default().timeout(10), "0")
        .await
        .unwrap()
        .boxed();

    let checkout = rollouts_api(&client, Some("shop"))
        .await
        .get("checkout")
        .await
        .unwrap();
    let reference = k8s_openapi::api::core::v1::ObjectReference {
        api_version: Some("argoproj.io/v1alpha1".into()),
        kind: Some("Rollout".into()),
        name: checkout.metadata.name.clone(),
        namespace: checkout.metadata.namespace.clone(),
        uid: checkout.metadata.uid.clone(),
        ..Default::default()
    };
    let recorder = Recorder::new(client.clone(), Reporter::from("flightdeck"));
    let event = Event {
        type_: EventType::Warning,
        reason: "Aborted".into(),
        note: Some("aborted by flightdeck".into()),
        action: "Abort".into(),
        secondary: None,
    };
    recorder.publish(&event, &reference).await.unwrap();
    recorder.publish(&event, &reference).await.unwrap();

    let listed = events.list(&ListParams::default()).await.unwrap();
    assert_eq!(listed.items.len(), 1);
    let stored = &listed.items[0];
    assert_eq!(stored.data["series"]["count"], json!(2));
    assert_eq!(stored.data["regarding"]["name"], json!("checkout"));
    assert_eq!(stored.data["reportingController"], json!("flightdeck"));
    let name = stored.metadata.name.clone().unwrap();
    assert_eq!(
        events.get(&name).await.unwrap().data["note"],
        json!("aborted by flightdeck")
    );
    let kinds: Vec<&str> = [
        watch.try_next().await.unwrap(),
        watch.try_next().await.unwrap(),
    ]
    .iter()
    .map(|e| match e {
        Some(WatchEvent::Added(_)) => "ADDED",
        Some(WatchEvent::Modified(_)) => "MODIFIED",
        other => panic!("unexpected {other:?}"),
    })
    .collect();
    assert_eq!(kinds, ["ADDED", "MODIFIED"]);
    let writes: Vec<(String, Option<String>)> = fleet
        .requests("sim-prod-eu")
        .into_iter()
        .filter(|r| {
            r.path
                .starts_with("/apis/events.k8s.io/v1/namespaces/shop/events")
                && r.method != "GET"
        })
        .map(|r| (r.method, r.content_type))
        .collect();
    assert_eq!(
        writes,
        [
            ("POST".to_string(), Some("application/json".to_string())),
            (
                "PATCH".to_string(),
                Some("application/merge-patch+json".to_string())
            ),
        ]
    );
}

#[tokio::test]
async fn compaction_ends_open_watches_with_410_and_clients_must_list_again() {
    let fleet = start(Scenario::Empty, false).await;
    fleet
        .load("sim-prod-eu", rollout("shop", "checkout", "checkout"))
        .unwrap();
    let client = client(&fleet, "sim-prod-eu").await;
    let api = rollouts_api(&client, Some("shop")).await;
    let list_rv = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let mut open = api
        .watch(&WatchParams::default().timeout(30), &list_rv)
        .await
        .unwrap()
        .boxed();
    let mut relisting = watcher(api.clone(), watcher::Config::default()).boxed();
    loop {
        if let watcher::Event::InitDone = relisting.try_next().await.unwrap().unwrap() {
            break;
        }
    }
    api.patch(
        "checkout",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"paused": true}})),
    )
    .await
    .unwrap();
    assert!(matches!(
        open.try_next().await.unwrap(),
        Some(WatchEvent::Modified(_))
    ));

    fleet.compact("sim-prod-eu").unwrap();
    match open.try_next().await.unwrap() {
        Some(WatchEvent::Error(e)) => {
            assert_eq!((e.code, e.reason.as_str()), (410, "Expired"));
            assert!(
                e.message.starts_with("too old resource version"),
                "{}",
                e.message
            );
        }
        other => panic!("expected a 410 ERROR event, got {other:?}"),
    }
    assert!(open.try_next().await.unwrap().is_none(), "the watch ends");

    // A watch from before the compaction is refused the same way.
    let mut stale = api
        .watch(&WatchParams::default().timeout(5), &list_rv)
        .await
        .unwrap()
        .boxed();
    assert!(matches!(stale.try_next().await.unwrap(), Some(WatchEvent::Error(e)) if e.code == 410));

    // kube-rs's watcher passes the 410 on and lists again.
    let mut saw_gone = false;
    loop {
        match relisting.next().await.unwrap() {
            Ok(watcher::Event::Init) => break,
            Ok(watcher::Event::Apply(_) | watcher::Event::Delete(_)) => continue,
            Err(watcher::Error::WatchError(status)) if status.code == 410 => saw_gone = true,
            other => panic!("expected a new list, got {other:?}"),
        }
    }
    assert!(saw_gone);
}

#[tokio::test]
async fn latency_delays_every_answer() {
    let latency = std::time::Duration::from_millis(300);
    let fleet = flightdeck_sim::Fleet::start(flightdeck_sim::FleetOptions {
        scenario: Scenario::Empty,
        latency: Some(latency),
        ..flightdeck_sim::FleetOptions::default()
    })
    .await
    .expect("the fleet starts");
    for path in ["/version", "/apis/argoproj.io/v1alpha1/rollouts"] {
        let started = std::time::Instant::now();
        let (code, _) = raw(
            &fleet,
            "sim-prod-eu",
            reqwest::Method::GET,
            path,
            None,
            None,
        )
        .await;
        assert_eq!(code, 200);
        assert!(
            started.elapsed() >= latency,
            "{path} answered in {:?}",
            started.elapsed()
        );
    }
}
