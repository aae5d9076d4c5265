//! A simulated fleet for a test, reached as kube-rs and kubectl reach it, and small
//! objects to load into it.

use std::process::Output;

use flightdeck_sim::{Fleet, FleetOptions, Scenario};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::{Value, json};

pub async fn start(scenario: Scenario, deny_patch_context: bool) -> Fleet {
    Fleet::start(FleetOptions {
        scenario,
        deny_patch_context,
        ..FleetOptions::default()
    })
    .await
    .expect("the fleet starts")
}

pub async fn client(fleet: &Fleet, context: &str) -> kube::Client {
    let kubeconfig = Kubeconfig::read_from(fleet.kubeconfig_path()).expect("the kubeconfig reads");
    let options = KubeConfigOptions {
        context: Some(context.to_string()),
        ..Default::default()
    };
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .expect("the context resolves");
    kube::Client::try_from(config).expect("a client")
}

/// GET a path and parse the JSON answer, whatever its status.
pub async fn get_json(client: &kube::Client, path: &str) -> Value {
    let request = hyper::Request::get(path).body(Vec::new()).unwrap();
    let text = client
        .request_text(request)
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

pub fn kubectl(fleet: &Fleet, cache: &std::path::Path, args: &[&str]) -> Output {
    std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(fleet.kubeconfig_path())
        .arg("--cache-dir")
        .arg(cache)
        .args(args)
        .output()
        .expect("kubectl runs")
}

pub fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

/// A small canary Rollout with a status, as a controller would have written it.
pub fn rollout(namespace: &str, name: &str, app: &str) -> Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": {"namespace": namespace, "name": name, "labels": {"app": app}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": app}},
                 "template": {"metadata": {"labels": {"app": app}}, "spec": {"containers": [{"name": app, "image": format!("registry.example.com/{app}:v1")}]}},
                 "strategy": {"canary": {"steps": [{"setWeight": 50}, {"pause": {}}]}}},
        "status": {"phase": "Healthy", "replicas": 2}
    })
}
