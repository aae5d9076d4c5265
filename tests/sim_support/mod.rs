//! Shared by the simulator's integration tests: start a fleet, connect kube-rs and kubectl.
#![allow(dead_code)] // each test file uses a different part of this module

use std::path::PathBuf;
use std::process::Output;

use flightdeck::sim::{Fleet, FleetOptions, Scenario};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::{Value, json};

pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/argo-rollouts")
}

/// Every object in the YAML files of a fixtures folder, with the file it came from, and the
/// documents that YAML reads as something JSON cannot hold (so no API server could either).
pub fn fixture_objects_and_unloadable(folder: &str) -> (Vec<(String, Value)>, Vec<String>) {
    let mut files: Vec<_> = walk(&fixtures().join(folder));
    files.sort();
    let (mut objects, mut unloadable) = (Vec::new(), Vec::new());
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (index, doc) in text.split("\n---").enumerate() {
            match serde_saphyr::from_str::<Value>(doc) {
                Ok(value) if value.is_object() => objects.push((file.display().to_string(), value)),
                Ok(_) => {}
                Err(_) => unloadable.push(format!("{} document {index}", file.display())),
            }
        }
    }
    (objects, unloadable)
}

pub fn fixture_objects(folder: &str) -> Vec<(String, Value)> {
    let (objects, unloadable) = fixture_objects_and_unloadable(folder);
    assert!(unloadable.is_empty(), "{unloadable:?}");
    objects
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
    out
}

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
