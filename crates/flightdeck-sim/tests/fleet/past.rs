//! The demo's thirty days of past, as a cluster shows it: old ReplicaSets with their
//! revisions and creation times, the commit time on their templates, undos recorded in
//! `revision-history`; the live revisions above them; identity kept to its history limit.

use flightdeck_testkit::client;
use jiff::{SignedDuration, Timestamp};
use kube::api::{Api, DynamicObject, ListParams};
use kube::discovery::ApiResource;

use flightdeck_sim::{Fleet, FleetOptions};

async fn sets(fleet: &Fleet, context: &str, namespace: &str, name: &str) -> Vec<DynamicObject> {
    let resource = ApiResource {
        group: "apps".into(),
        version: "v1".into(),
        api_version: "apps/v1".into(),
        kind: "ReplicaSet".into(),
        plural: "replicasets".into(),
    };
    let api: Api<DynamicObject> =
        Api::namespaced_with(client(fleet, context).await, namespace, &resource);
    let mut items: Vec<DynamicObject> = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|rs| {
            rs.metadata
                .owner_references
                .as_ref()
                .is_some_and(|o| o[0].name == name)
        })
        .collect();
    items.sort_by_key(revision);
    items
}

fn revision(rs: &DynamicObject) -> u64 {
    rs.metadata.annotations.as_ref().unwrap()["rollout.argoproj.io/revision"]
        .parse()
        .unwrap()
}

fn created(rs: &DynamicObject) -> Timestamp {
    rs.metadata.creation_timestamp.as_ref().unwrap().0
}

#[tokio::test]
async fn the_demo_starts_with_thirty_days_behind_each_rollout() {
    let fleet = Fleet::start(FleetOptions {
        speed: 1e-6,
        past: true,
        ..FleetOptions::default()
    })
    .await
    .unwrap();
    let now = Timestamp::now();
    let checkout = sets(&fleet, "sim-prod-eu", "shop", "checkout").await;
    assert!(checkout.len() > 10, "{} ReplicaSets", checkout.len());
    let oldest = created(&checkout[0]);
    assert!(
        oldest < now - SignedDuration::from_hours(24 * 20),
        "{oldest}"
    );
    assert!(
        oldest > now - SignedDuration::from_hours(24 * 31),
        "{oldest}"
    );
    // Revisions go up with time, but for templates an undo brought back.
    let undone = checkout.iter().filter(|rs| {
        rs.metadata
            .annotations
            .as_ref()
            .unwrap()
            .contains_key("rollout.argoproj.io/revision-history")
    });
    let mut by_time: Vec<(Timestamp, u64)> = checkout
        .iter()
        .filter(|rs| {
            !rs.metadata
                .annotations
                .as_ref()
                .unwrap()
                .contains_key("rollout.argoproj.io/revision-history")
        })
        .map(|rs| (created(rs), revision(rs)))
        .collect();
    by_time.sort();
    assert!(by_time.windows(2).all(|w| w[0].1 < w[1].1), "{by_time:?}");
    let all_sets = [
        sets(&fleet, "sim-prod-eu", "shop", "cart").await,
        sets(&fleet, "sim-prod-us", "shop", "recommendations").await,
        checkout.clone(),
    ];
    let undos = undone.count()
        + all_sets[..2]
            .iter()
            .flatten()
            .filter(|rs| {
                rs.metadata
                    .annotations
                    .as_ref()
                    .unwrap()
                    .contains_key("rollout.argoproj.io/revision-history")
            })
            .count();
    assert!(undos > 0, "some deploys were undone");
    // Past templates carry the simulated pipeline's commit time, before their deploy.
    let data = checkout[0].data["spec"]["template"]["metadata"]["annotations"]
        ["flightdeck.io/commit-time"]
        .as_str()
        .unwrap()
        .parse::<Timestamp>()
        .unwrap();
    assert!(data < created(&checkout[0]));
    // Identity keeps to Argo's history limit: no past.
    let identity = sets(&fleet, "sim-prod-us", "platform", "identity").await;
    assert!(identity.len() <= 6, "{}", identity.len());
}
