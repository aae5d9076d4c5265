//! `flightdeck record` on a simulated fleet whose clock stands still, so that what the
//! ledger should hold does not move while the test looks.

use std::time::Duration;

use flightdeck_sim::Fleet;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams};
use kube::discovery::ApiResource;

use super::{Running, dump, flightdeck, frozen_fleet, ledger_path, settled, stderr_of};

const QUIET: Duration = Duration::from_secs(3);
const TIMEOUT: Duration = Duration::from_secs(90);

fn record(home: &std::path::Path, fleet: &Fleet) -> Running {
    let kubeconfig = fleet.kubeconfig_path().display().to_string();
    Running(flightdeck(
        home,
        &["record", "--kubeconfig", &kubeconfig, "--all-contexts"],
    ))
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_and_restarted_the_recorder_loses_nothing_and_counts_nothing_twice() {
    let fleet = frozen_fleet().await;
    let home = tempfile::tempdir().unwrap();
    let path = ledger_path(home.path());
    let mut first = record(home.path(), &fleet);
    let before = settled(&path, QUIET, TIMEOUT).await;
    // The demo's thirty days: hundreds of deploys, from the cluster's history alone.
    assert!(before.len() > 100, "{} deploys", before.len());
    // Every kind: the Canaries' analyses under way, and each plain Deployment's two
    // ReplicaSets (its revision history: the demo rolls each to a new image).
    let of_kind = |kind: &str| {
        let said = format!("\"kind\":\"{kind}\"");
        before.iter().filter(|d| d.contains(&said)).count()
    };
    assert!(of_kind("Canary") >= 3, "{}", of_kind("Canary"));
    assert_eq!(of_kind("Deployment"), 4 * 2);
    first.kill().unwrap(); // SIGKILL: no chance to tidy up.
    first.wait().unwrap();
    assert_eq!(dump(&path), before, "all that was written survives kill -9");
    let mut second = record(home.path(), &fleet);
    let start = std::time::Instant::now();
    while !stderr_of(home.path()).contains(" open") {
        assert!(start.elapsed() < TIMEOUT, "{}", stderr_of(home.path()));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let after = settled(&path, QUIET, TIMEOUT).await;
    second.kill().unwrap();
    second.wait().unwrap();
    assert_eq!(after.len(), before.len(), "nothing counted twice");
    assert_eq!(after, before, "the same ledger");
}

fn replica_sets(client: kube::Client, namespace: &str) -> Api<DynamicObject> {
    let resource = ApiResource {
        group: "apps".into(),
        version: "v1".into(),
        api_version: "apps/v1".into(),
        kind: "ReplicaSet".into(),
        plural: "replicasets".into(),
    };
    Api::namespaced_with(client, namespace, &resource)
}

/// The number of deploys `flightdeck dora --by workload -o json` counts for `workload`.
fn dora_deploys(home: &std::path::Path, workload: &str) -> u64 {
    let out = flightdeck(
        home,
        &["dora", "--by", "workload", "--since", "90d", "-o", "json"],
    )
    .wait_with_output()
    .unwrap();
    assert!(out.status.success(), "{}", stderr_of(home));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["group"] == workload)
        .unwrap_or_else(|| panic!("no {workload} in {rows}"))["deploys"]
        .as_u64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deploy_the_cluster_has_forgotten_still_counts() {
    let fleet = frozen_fleet().await;
    let home = tempfile::tempdir().unwrap();
    let path = ledger_path(home.path());
    let mut recorder = record(home.path(), &fleet);
    settled(&path, QUIET, TIMEOUT).await;
    recorder.kill().unwrap();
    recorder.wait().unwrap();
    let workload = "sim-prod-eu/shop/checkout";
    let counted = dora_deploys(home.path(), workload);
    // The cluster forgets checkout's oldest revisions, as a revision history limit does.
    let client = flightdeck_testkit::client(&fleet, "sim-prod-eu").await;
    let api = replica_sets(client, "shop");
    let mut sets: Vec<(u64, String)> = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|rs| {
            rs.metadata
                .name
                .as_deref()
                .unwrap_or("")
                .starts_with("checkout-")
        })
        .filter_map(|rs| {
            let revision = rs
                .metadata
                .annotations
                .as_ref()?
                .get("rollout.argoproj.io/revision")?;
            Some((revision.parse().ok()?, rs.metadata.name.clone()?))
        })
        .collect();
    sets.sort();
    assert!(sets.len() > 10, "{sets:?}");
    for (_, name) in &sets[..5] {
        api.delete(name, &DeleteParams::default()).await.unwrap();
    }
    let left = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .iter()
        .filter(|rs| {
            rs.metadata
                .name
                .as_deref()
                .unwrap_or("")
                .starts_with("checkout-")
        })
        .count();
    assert_eq!(
        left,
        sets.len() - 5,
        "the cluster has forgotten five revisions"
    );
    // The recorder starts again on a cluster that no longer shows them.
    let mut recorder = record(home.path(), &fleet);
    let start = std::time::Instant::now();
    while !stderr_of(home.path()).contains(" open") {
        assert!(start.elapsed() < TIMEOUT, "{}", stderr_of(home.path()));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    settled(&path, QUIET, TIMEOUT).await;
    recorder.kill().unwrap();
    recorder.wait().unwrap();
    assert_eq!(dora_deploys(home.path(), workload), counted);
}
