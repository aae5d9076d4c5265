//! Shared by the per-version metrics tests: a demo canary as the cockpit finds it, and its
//! report once the judge has enough data.

use std::time::Duration;

use flightdeck::cluster::{map_replica_set, map_rollout};
use flightdeck::metrics::{MetricView, RolloutMetrics, RolloutMetricsReport, Target, report};
use flightdeck::model::Outcome;
use flightdeck_sim::Fleet;

use crate::fleet::{client, get_json};

/// The canary of a rollout, found through the simulated cluster's API as the cockpit would.
pub async fn target(fleet: &Fleet, context: &str, namespace: &str, name: &str) -> Target {
    let client = client(fleet, context).await;
    let rollout = get_json(
        &client,
        &format!("/apis/argoproj.io/v1alpha1/namespaces/{namespace}/rollouts/{name}"),
    )
    .await;
    let sets = get_json(
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

/// The report once the judge has enough data, waiting at most `patience`.
pub async fn judged(
    source: &dyn RolloutMetrics,
    target: &Target,
    patience: Duration,
) -> RolloutMetricsReport {
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        let report = report(source, target).await;
        if !matches!(report.verdict.outcome, Outcome::InsufficientData { .. }) {
            return report;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still {} for {} after {patience:?}",
            report.verdict,
            target.key
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

pub fn metric<'a>(report: &'a RolloutMetricsReport, name: &str) -> &'a MetricView {
    report
        .metrics
        .iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("no metric {name}"))
}
