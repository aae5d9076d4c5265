//! The watchers end to end against a tiny fake API server: the kubeconfig is
//! read, a client made, Rollouts and ReplicaSets listed (and their watches
//! left open), and AnalysisRuns answered 404 as on a cluster without them.
//! Streamed lists are served, refused (422, as by a server without the
//! WatchList feature) or ignored (objects but no end marker, as by servers that
//! do not know `sendInitialEvents`): the fleet is the same in all three.

use std::convert::Infallible;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use flightdeck::cluster::Scope;
use flightdeck::cluster::{self, Change, ClusterEvent, Kind};
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::Frame;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

type Body = BoxBody<Bytes, Infallible>;

fn fixture_objects(kind: &str) -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures/argo-rollouts/status/canary");
    let mut objects = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let obj: Value = serde_saphyr::from_str(&text).unwrap();
        if obj["kind"] == kind {
            objects.push(obj);
        }
    }
    objects
}

fn json_response(status: StatusCode, body: &Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())).boxed())
        .unwrap()
}

/// What the fake server does with a streamed list (a watch with `sendInitialEvents`).
#[derive(Clone, Copy, Debug)]
enum Streams {
    /// The objects, then the bookmark marking their end, as Kubernetes with WatchList.
    Served,
    /// 422, as Kubernetes without the WatchList feature (1.33's default) answers.
    Refused,
    /// The objects and no end marker: the parameter is not known.
    Ignored,
}

fn watch_line(kind: &str, object: &Value) -> Bytes {
    Bytes::from(json!({"type": kind, "object": object}).to_string() + "\n")
}

/// Lists come back at once; a watch stays open with nothing more to say.
async fn serve(
    streams: Streams,
    request: Request<hyper::body::Incoming>,
) -> Result<Response<Body>, Infallible> {
    let path = request.uri().path();
    let query = request.uri().query().unwrap_or_default();
    let items = match path {
        "/apis/argoproj.io/v1alpha1/rollouts" => fixture_objects("Rollout"),
        // Deployments' ReplicaSets, watched apart by their own label: none here.
        "/apis/apps/v1/replicasets" if query.contains("labelSelector=pod-template-hash") => {
            Vec::new()
        }
        "/apis/apps/v1/replicasets" => {
            assert!(
                query.contains("labelSelector=rollouts-pod-template-hash"),
                "{query}"
            );
            fixture_objects("ReplicaSet")
        }
        _ => {
            let status = json!({
                "kind": "Status", "apiVersion": "v1", "status": "Failure",
                "message": "the server could not find the requested resource",
                "reason": "NotFound", "code": 404
            });
            return Ok(json_response(StatusCode::NOT_FOUND, &status));
        }
    };
    let has = |param: &str| query.split('&').any(|p| p == param);
    if has("watch=true") || has("watch=1") {
        let mut lines = Vec::new();
        if has("sendInitialEvents=true") {
            if matches!(streams, Streams::Refused) {
                let status = json!({
                    "kind": "Status", "apiVersion": "v1", "status": "Failure",
                    "message": "ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled",
                    "reason": "Invalid", "code": 422
                });
                return Ok(json_response(StatusCode::UNPROCESSABLE_ENTITY, &status));
            }
            lines.extend(items.iter().map(|item| watch_line("ADDED", item)));
            if matches!(streams, Streams::Served) {
                let end = json!({"kind": "Rollout", "apiVersion": "argoproj.io/v1alpha1",
                    "metadata": {"resourceVersion": "1",
                                 "annotations": {"k8s.io/initial-events-end": "true"}}});
                lines.push(watch_line("BOOKMARK", &end));
            }
        }
        let lines = futures::stream::iter(lines.into_iter().map(|l| Ok(Frame::data(l))));
        let silent = futures::stream::pending::<Result<Frame<Bytes>, Infallible>>();
        return Ok(Response::new(BodyExt::boxed(StreamBody::new(
            futures::StreamExt::chain(lines, silent),
        ))));
    }
    let list = json!({"kind": "List", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": items});
    Ok(json_response(StatusCode::OK, &list))
}

async fn fake_api_server(streams: Streams) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            tokio::spawn(hyper::server::conn::http1::Builder::new().serve_connection(
                TokioIo::new(stream),
                hyper::service::service_fn(move |r| serve(streams, r)),
            ));
        }
    });
    format!("http://{address}")
}

#[tokio::test]
async fn watchers_list_go_live_and_report_a_missing_kind() {
    for streams in [Streams::Served, Streams::Refused, Streams::Ignored] {
        let started = std::time::Instant::now();
        watch_the_fixtures(streams).await;
        println!("{streams:?}: the fleet whole in {:?}", started.elapsed());
    }
}

async fn watch_the_fixtures(streams: Streams) {
    let server = fake_api_server(streams).await;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("config");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: test\n\
             clusters: [{{name: fake, cluster: {{server: \"{server}\"}}}}]\n\
             users: [{{name: tester, user: {{}}}}]\n\
             contexts: [{{name: test, context: {{cluster: fake, user: tester}}}}]\n"
        ),
    )
    .unwrap();
    let scope = Scope {
        kubeconfig: Some(kubeconfig),
        ..Scope::default()
    };
    let connection = cluster::connect(&scope).await.unwrap();
    assert_eq!(connection.selected(), ["test"]);

    let (tx, mut events) = mpsc::channel(64);
    let watches = connection.watch(connection.selected(), None, tx);
    let (mut rollouts, mut replica_sets, mut live, mut down) = (None, None, Vec::new(), None);
    // Argo's kinds and Deployments' ReplicaSets (served, none of them); not the Canaries.
    let argo_live = |live: &[Kind]| live.iter().filter(|k| **k != Kind::Canary).count();
    while rollouts.is_none() || replica_sets.is_none() || argo_live(&live) < 3 || down.is_none() {
        match events.recv().await.unwrap() {
            ClusterEvent::Rollout(Change::Relisted { context, items, .. }) => {
                assert_eq!(context, "test");
                rollouts = Some(items);
            }
            ClusterEvent::ReplicaSet(Change::Relisted { items, .. }) => replica_sets = Some(items),
            ClusterEvent::DeploymentReplicaSet(Change::Relisted { items, .. }) => {
                assert!(items.is_empty(), "{items:?}");
            }
            ClusterEvent::Live { context, kind } => {
                assert_eq!(context, "test");
                live.push(kind);
            }
            ClusterEvent::Down { kind, error, .. } => {
                // The fixtures' server serves no Deployments either.
                assert!(
                    matches!(
                        kind,
                        Kind::AnalysisRun | Kind::Experiment | Kind::Deployment
                    ),
                    "{kind:?}"
                );
                if kind == Kind::AnalysisRun {
                    down = Some(error);
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    let mut names: Vec<_> = rollouts.unwrap().into_iter().map(|r| r.key.name).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "canary-demo",
            "canary-demo-pingpong",
            "canary-demo-weights",
            "canary-demo-weights-na",
            "canary-demo-workloadRef",
            "canary-demo-workloadRef-deploy"
        ]
    );
    assert_eq!(replica_sets.unwrap().len(), 3);
    // Flagger's Canaries, not served there, are said listed (none) rather than down.
    live.retain(|k| *k != Kind::Canary);
    live.sort_by_key(|k| *k as u8);
    assert_eq!(
        live,
        [Kind::Rollout, Kind::ReplicaSet, Kind::DeploymentReplicaSet]
    );
    assert_eq!(
        down.unwrap(),
        "Argo Rollouts is not installed in test (no analysisruns.argoproj.io)"
    );

    // Dropping the watches ends their tasks, and with them the last sender.
    drop(watches);
    let rest = tokio::time::timeout(Duration::from_secs(30), async {
        let mut rest = Vec::new();
        while let Some(event) = events.recv().await {
            rest.push(event);
        }
        rest
    })
    .await
    .expect("the watch tasks did not stop");
    assert!(
        rest.iter().all(|e| matches!(
            e,
            ClusterEvent::Down {
                kind: Kind::AnalysisRun | Kind::Experiment | Kind::Deployment,
                ..
            } | ClusterEvent::Live {
                kind: Kind::Canary,
                ..
            }
        )),
        "{rest:?}"
    );
}
