//! The simulator-backed `RolloutMetrics` on the demo fleet: its incidents fail on the
//! metric that shows them, a healthy canary passes, a canary just begun waits for data.

mod sim_support;

use std::time::Duration;

use flightdeck::cluster::{map_replica_set, map_rollout};
use flightdeck::metrics::rollout_metrics::{MetricState, RolloutMetricsReport, Target, report};
use flightdeck::metrics::sim_source::SimMetrics;
use flightdeck::model::verdict::Outcome;
use flightdeck::sim::{Fleet, FleetOptions};

async fn demo() -> (Fleet, SimMetrics) {
    // Faster than life, so that a wait for more data stays short.
    let fleet = Fleet::start(FleetOptions {
        speed: 5.0,
        ..FleetOptions::default()
    })
    .await
    .expect("the fleet starts");
    let source = SimMetrics::new(&fleet);
    (fleet, source)
}

/// The canary of a rollout, as the cockpit would find it through the API.
async fn target(fleet: &Fleet, context: &str, namespace: &str, name: &str) -> Target {
    let client = sim_support::client(fleet, context).await;
    let rollout = sim_support::get_json(
        &client,
        &format!("/apis/argoproj.io/v1alpha1/namespaces/{namespace}/rollouts/{name}"),
    )
    .await;
    let sets = sim_support::get_json(
        &client,
        &format!("/apis/apps/v1/namespaces/{namespace}/replicasets"),
    )
    .await;
    let sets: Vec<_> = sets["items"]
        .as_array()
        .expect("a ReplicaSet list")
        .iter()
        .map(|s| map_replica_set(context, s).unwrap())
        .collect();
    let rollout = map_rollout(context, &rollout).unwrap();
    Target::of(&rollout, &sets).unwrap_or_else(|| panic!("{name} has a canary in progress"))
}

/// The report once the judge has enough data (bounded: the demo's canaries have minutes
/// of history, so this is at most a few simulated minutes).
async fn judged(source: &SimMetrics, target: &Target) -> RolloutMetricsReport {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let report = report(source, target).await;
        if !matches!(report.verdict.outcome, Outcome::InsufficientData { .. }) {
            return report;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still {} for {}",
            report.verdict,
            target.key
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn metric<'a>(
    report: &'a RolloutMetricsReport,
    name: &str,
) -> &'a flightdeck::metrics::rollout_metrics::MetricView {
    report
        .metrics
        .iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("no metric {name}"))
}

#[tokio::test]
async fn the_checkout_canary_that_times_out_fails_on_its_error_rate() {
    let (fleet, source) = demo().await;
    let checkout = target(&fleet, "sim-prod-eu", "shop", "checkout").await;
    let report = judged(&source, &checkout).await;
    assert_eq!(report.verdict.outcome, Outcome::Fail, "{}", report.verdict);
    assert_eq!(report.verdict.deciding, ["error rate"]);
    let errors = metric(&report, "error rate");
    assert_eq!(errors.state, MetricState::Ok);
    assert!(errors.canary_worse);
    let (stable, canary) = (errors.stable_now.unwrap(), errors.canary_now.unwrap());
    assert!(canary > 0.3 && stable < 0.01, "{stable} vs {canary}");
    let (stable_rps, canary_rps) = report.rps.expect("measured traffic");
    assert!(stable_rps > canary_rps && canary_rps > 0.0);
}

#[tokio::test]
async fn the_search_canary_with_an_n_plus_one_query_fails_on_latency() {
    let (fleet, source) = demo().await;
    let search = target(&fleet, "sim-prod-us", "search", "search-api").await;
    let report = judged(&source, &search).await;
    assert_eq!(report.verdict.outcome, Outcome::Fail, "{}", report.verdict);
    assert_eq!(report.verdict.deciding, ["latency p99"]);
    let latency = metric(&report, "latency p99");
    assert!(latency.canary_worse);
    assert!(latency.canary_now.unwrap() > 2.0 * latency.stable_now.unwrap());
    assert!(!metric(&report, "error rate").canary_worse);
    assert!(!latency.canary_trend.is_empty() && !latency.stable_trend.is_empty());
}

#[tokio::test]
async fn a_healthy_canary_passes() {
    let (fleet, source) = demo().await;
    let frontend = target(&fleet, "sim-prod-eu", "shop", "frontend").await;
    let report = judged(&source, &frontend).await;
    assert_eq!(report.verdict.outcome, Outcome::Pass, "{}", report.verdict);
    assert!(
        report
            .metrics
            .iter()
            .all(|m| m.state == MetricState::Ok && !m.canary_worse)
    );
}

#[tokio::test]
async fn a_canary_just_begun_has_insufficient_data() {
    let (fleet, source) = demo().await;
    let mut frontend = target(&fleet, "sim-prod-eu", "shop", "frontend").await;
    frontend.since = fleet.now();
    let report = report(&source, &frontend).await;
    let Outcome::InsufficientData { have, needed, .. } = report.verdict.outcome else {
        panic!("{}", report.verdict)
    };
    assert!(have < needed);
    assert_eq!(report.verdict.score, None);
}
