//! Scale figures, measured by hand (never asserted on: shared machines are noisy):
//! `cargo test --release --test sim_scale -- --ignored --nocapture`

use std::time::Instant;

use flightdeck_testkit::client;
use kube::api::{Api, DynamicObject, ListParams};
use kube::discovery::ApiResource;

use flightdeck_sim::{Fleet, FleetOptions, Scenario};

fn resident_memory_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement to run by hand, not a check"]
async fn ten_thousand_rollouts_list_quickly() {
    let before = resident_memory_mib();
    let started = Instant::now();
    let fleet = Fleet::start(FleetOptions {
        clusters: vec!["sim-scale".into()],
        scenario: Scenario::Scale {
            rollouts_per_cluster: 10_000,
        },
        ..FleetOptions::default()
    })
    .await
    .unwrap();
    let start_time = started.elapsed();
    let after_start = resident_memory_mib();
    let client = client(&fleet, "sim-scale").await;
    let resource = ApiResource::from_gvk_with_plural(
        &kube::api::GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Rollout"),
        "rollouts",
    );
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);

    let raw = hyper::Request::get("/apis/argoproj.io/v1alpha1/rollouts")
        .body(Vec::new())
        .unwrap();
    let t = Instant::now();
    let body = client.request_text(raw).await.unwrap();
    let raw_time = t.elapsed();

    let mut times = Vec::new();
    let mut count = 0;
    for _ in 0..3 {
        let t = Instant::now();
        count = api.list(&ListParams::default()).await.unwrap().items.len();
        times.push(t.elapsed());
    }
    let t = Instant::now();
    let (mut paged, mut token) = (0, None::<String>);
    loop {
        let mut params = ListParams::default().limit(500);
        if let Some(t) = &token {
            params = params.continue_token(t);
        }
        let page = api.list(&params).await.unwrap();
        paged += page.items.len();
        token = page.metadata.continue_;
        if token.is_none() {
            break;
        }
    }
    let paged_time = t.elapsed();
    println!("fleet start with history: {start_time:?}");
    println!(
        "list of {count} rollouts, raw HTTP ({} MB of JSON): {raw_time:?}",
        body.len() / 1_000_000
    );
    println!("list of {count} rollouts into kube-rs DynamicObjects: {times:?}");
    println!("paged list (limit 500) of {paged} rollouts: {paged_time:?}");
    println!(
        "resident memory: {before:.0} MiB before, {after_start:.0} MiB with the fleet, {:.0} MiB now",
        resident_memory_mib()
    );
    assert_eq!(count, 10_000);
}
