//! Per-version metrics of one canary and its verdict. A [`RolloutMetrics`] backend (a
//! Prometheus, or the simulator's traffic model) reads each metric for each version of a
//! [`Target`]; [`judge_reading`] turns that into the [`RolloutMetricsReport`] the cockpit shows.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::future::BoxFuture;
use jiff::Timestamp;

use crate::metrics::judge::{MetricData, MetricInput, MetricSpec, Thresholds, judge};
use crate::metrics::templates::{MetricDefinition, MetricQueries};
use crate::model::{
    Classification, Direction, ObjectKey, ReplicaSet, Rollout, Strategy, Verdict, Workload,
};

/// How far back the trend (sparkline) of each metric reaches.
pub const TREND_SPAN: Duration = Duration::from_secs(15 * 60);

/// A canary in progress: what to compare, and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub key: ObjectKey,
    pub stable_hash: String,
    pub canary_hash: String,
    /// A baseline started beside the canary (Kayenta style): compared instead of stable.
    pub baseline_hash: Option<String>,
    /// When the canary began; counts and samples are taken from here to now.
    pub since: Timestamp,
    /// A Flagger Canary's target Deployment: its pods are the canary's, those of its
    /// `-primary` the stable's.
    pub flagger_target: Option<String>,
}

impl Target {
    /// The canary of a rollout, while it has one: a canary strategy whose newest version is
    /// not its stable one (also after an abort, whose metrics say why). The window starts at
    /// the canary ReplicaSet's creation, else when the rollout's current state began.
    /// Blue-green previews get no production traffic, so they have nothing to compare.
    pub fn of(rollout: &Rollout, replica_sets: &[ReplicaSet]) -> Option<Target> {
        if rollout.workload == Workload::Deployment {
            return Target::rolling(rollout, replica_sets);
        }
        if !matches!(rollout.strategy, Strategy::Canary { .. }) {
            return None;
        }
        let stable = rollout.stable_hash.as_ref()?;
        let canary = rollout.current_hash.as_ref()?;
        if stable == canary {
            return None;
        }
        let since = replica_sets
            .iter()
            .find(|rs| rs.hash == canary)
            .and_then(|rs| rs.created.get())
            .or(rollout.since.get())?;
        Some(Target {
            key: rollout.key.clone(),
            stable_hash: stable.to_string(),
            canary_hash: canary.to_string(),
            baseline_hash: None,
            since,
            flagger_target: rollout.flagger.as_ref().map(|f| f.target.clone()),
        })
    }

    /// A Deployment's rolling update, while it has pods of two revisions: the current
    /// revision's ReplicaSet against the newest one before it that still has pods.
    fn rolling(deployment: &Rollout, replica_sets: &[ReplicaSet]) -> Option<Target> {
        let current = replica_sets
            .iter()
            .find(|rs| rs.revision.is_some() && rs.revision == deployment.revision)?;
        let old = replica_sets
            .iter()
            .filter(|rs| rs.key != current.key)
            .filter(|rs| rs.replicas.desired > 0 || rs.replicas.current > 0)
            .max_by_key(|rs| rs.revision)?;
        Some(Target {
            key: deployment.key.clone(),
            stable_hash: old.hash.to_string(),
            canary_hash: current.hash.to_string(),
            baseline_hash: None,
            since: current.created.get().or(deployment.since.get())?,
            flagger_target: None,
        })
    }
}

#[cfg(test)]
impl Target {
    /// checkout in prod/shop: stable 7f9c, canary 5d2a since the epoch.
    pub(crate) fn checkout() -> Target {
        Target {
            key: ObjectKey::new("prod", "shop", "checkout"),
            stable_hash: "7f9c".into(),
            canary_hash: "5d2a".into(),
            baseline_hash: None,
            since: Timestamp::UNIX_EPOCH,
            flagger_target: None,
        }
    }
}

/// What one version did over the canary's window, for one metric.
#[derive(Debug, Clone, PartialEq)]
pub enum WindowData {
    /// Errors out of requests over the window (`increase()` over the canary's lifetime).
    Counts { errors: f64, requests: f64 },
    /// Values of a continuous metric at points `every` apart over the window, oldest first,
    /// each summing up the `span` before it (a `rate()` window): points closer than `span`
    /// share data, and only points `span` apart are independent.
    Samples {
        values: Vec<f64>,
        every: Duration,
        span: Duration,
    },
}

/// One version's figures for one metric.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VersionFigures {
    /// None when the backend has no series for this version.
    pub window: Option<WindowData>,
    /// Recent values over [`TREND_SPAN`], oldest first; for counts, errors per request at
    /// each point.
    pub trend: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PerVersion {
    pub stable: VersionFigures,
    pub canary: VersionFigures,
    pub baseline: Option<VersionFigures>,
}

impl PerVersion {
    fn compared(&self) -> &VersionFigures {
        self.baseline.as_ref().unwrap_or(&self.stable)
    }
}

/// How a metric is measured, which says how it is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// Errors out of requests ([`WindowData::Counts`]).
    Counts,
    /// A continuous value ([`WindowData::Samples`]).
    Samples,
}

impl MetricKind {
    pub fn of(definition: &MetricDefinition) -> MetricKind {
        match definition.queries {
            MetricQueries::Counts { .. } => MetricKind::Counts,
            MetricQueries::Series { .. } => MetricKind::Samples,
        }
    }
}

/// One metric as read from the backend; `Err` is the query's failure in words.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricReading {
    pub spec: MetricSpec,
    pub kind: MetricKind,
    pub versions: Result<PerVersion, String>,
}

/// Everything a backend read about one canary.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RolloutReading {
    pub metrics: Vec<MetricReading>,
    /// Requests per second now, (stable, canary); None when no metric counts requests.
    pub rps: Option<(f64, f64)>,
}

/// How a backend's metrics are scored: the `[metrics]` section's weights and thresholds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scoring {
    pub group_weights: BTreeMap<String, f64>,
    pub thresholds: Thresholds,
}

/// A metrics backend seen per rollout version. Object-safe: the cockpit holds an
/// `Arc<dyn RolloutMetrics>`.
pub trait RolloutMetrics: Send + Sync {
    /// Whether the backend can answer now; `Err` says why not (unreachable, not ready).
    fn ready(&self) -> BoxFuture<'_, Result<(), String>>;

    /// Each configured metric for each version of the target. A failing query fails only
    /// its metric.
    fn read<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, RolloutReading>;

    fn scoring(&self) -> &Scoring;
}

/// Reads a canary's metrics and judges them.
pub async fn report(source: &dyn RolloutMetrics, target: &Target) -> RolloutMetricsReport {
    judge_reading(&source.read(target).await, source.scoring())
}

/// Whether a metric could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetricState {
    Ok,
    /// The canary or the version it is compared with has no data (no series, no traffic yet).
    NoData,
    QueryError(String),
}

/// One metric as the metrics pane shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricView {
    pub name: String,
    pub unit: String,
    pub direction: Direction,
    /// The latest trend point of each version.
    pub stable_now: Option<f64>,
    pub canary_now: Option<f64>,
    pub stable_trend: Vec<f64>,
    pub canary_trend: Vec<f64>,
    /// The judge found the canary significantly worse on this metric.
    pub canary_worse: bool,
    pub state: MetricState,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RolloutMetricsReport {
    pub metrics: Vec<MetricView>,
    /// Requests per second now, (stable, canary): the blast radius' measured traffic.
    pub rps: Option<(f64, f64)>,
    pub verdict: Verdict,
}

/// Judges a reading: canary against baseline (or stable) per metric, then overall.
pub fn judge_reading(reading: &RolloutReading, scoring: &Scoring) -> RolloutMetricsReport {
    let canary_rps = reading.rps.map(|(_, canary)| canary);
    let inputs: Vec<MetricInput> = reading
        .metrics
        .iter()
        .map(|m| judge_input(m, canary_rps))
        .collect();
    let verdict = judge(&inputs, &scoring.group_weights, &scoring.thresholds);
    let metrics = reading
        .metrics
        .iter()
        .zip(&verdict.metrics)
        .map(|(m, result)| view(m, result.classification))
        .collect();
    RolloutMetricsReport {
        metrics,
        rps: reading.rps,
        verdict,
    }
}

fn judge_input(reading: &MetricReading, canary_rps: Option<f64>) -> MetricInput {
    let (data, data_rate) = match (&reading.versions, reading.kind) {
        (Err(_), _) => (MetricData::Missing, None),
        // A side without a series has no points yet: too little data, as for counts.
        (Ok(v), MetricKind::Samples) => {
            let (canary, rate) = independent_points(&v.canary.window);
            let (baseline, _) = independent_points(&v.compared().window);
            (MetricData::Samples { canary, baseline }, rate)
        }
        // A side without series has served no requests yet: too little data, not a
        // missing metric, so a canary that has just started is not failed for it.
        (Ok(v), MetricKind::Counts) => {
            let (canary_errors, canary_requests) = counts(&v.canary.window);
            let (baseline_errors, baseline_requests) = counts(&v.compared().window);
            let data = MetricData::Counts {
                canary_errors,
                canary_requests,
                baseline_errors,
                baseline_requests,
            };
            (data, canary_rps)
        }
    };
    MetricInput {
        spec: reading.spec.clone(),
        data,
        data_rate,
    }
}

/// The finite values of a series that share no data: the newest, and then each one at
/// least `span` older than the last one kept (dropping NaN points first only widens the
/// gaps). With the independent points gained per second.
fn independent_points(window: &Option<WindowData>) -> (Vec<f64>, Option<f64>) {
    let Some(WindowData::Samples {
        values,
        every,
        span,
    }) = window
    else {
        return (Vec::new(), None);
    };
    let every = every.as_secs_f64().max(1e-3);
    let stride = (span.as_secs_f64() / every - 1e-9).ceil().max(1.0) as usize;
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let mut kept: Vec<f64> = finite.iter().rev().step_by(stride).copied().collect();
    kept.reverse();
    (kept, Some(1.0 / (every * stride as f64)))
}

fn counts(window: &Option<WindowData>) -> (f64, f64) {
    match window {
        Some(WindowData::Counts { errors, requests }) => (*errors, *requests),
        _ => (0.0, 0.0),
    }
}

fn has_data(figures: &VersionFigures) -> bool {
    match &figures.window {
        Some(WindowData::Counts { requests, .. }) => *requests > 0.0,
        Some(WindowData::Samples { values, .. }) => values.iter().any(|v| v.is_finite()),
        None => false,
    }
}

fn view(reading: &MetricReading, classification: Classification) -> MetricView {
    let spec = &reading.spec;
    let latest = |trend: &[f64]| trend.iter().rev().copied().find(|v| v.is_finite());
    let (state, stable_trend, canary_trend) = match &reading.versions {
        Err(e) => (MetricState::QueryError(e.clone()), Vec::new(), Vec::new()),
        Ok(v) => {
            let state = if has_data(&v.canary) && has_data(v.compared()) {
                MetricState::Ok
            } else {
                MetricState::NoData
            };
            (state, v.stable.trend.clone(), v.canary.trend.clone())
        }
    };
    MetricView {
        name: spec.name.clone(),
        unit: spec.unit.clone(),
        direction: spec.direction,
        stable_now: latest(&stable_trend),
        canary_now: latest(&canary_trend),
        stable_trend,
        canary_trend,
        // The judge has applied the direction: High or Low left is a move the wrong way.
        canary_worse: matches!(classification, Classification::High | Classification::Low),
        state,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::templates::Preset;
    use crate::model::Phase;
    use crate::model::{DataUnit, Outcome};

    fn specs() -> (MetricSpec, MetricSpec) {
        let defs = Preset::Argo.metrics(None);
        (defs[0].spec.clone(), defs[1].spec.clone())
    }

    fn counts(errors: f64, requests: f64) -> VersionFigures {
        VersionFigures {
            window: Some(WindowData::Counts { errors, requests }),
            trend: vec![errors / requests],
        }
    }

    fn samples(center: f64) -> VersionFigures {
        let values: Vec<f64> = (0..30).map(|i| center + 0.001 * f64::from(i % 7)).collect();
        VersionFigures {
            window: Some(WindowData::Samples {
                values: values.clone(),
                every: Duration::from_secs(10),
                span: Duration::from_secs(10),
            }),
            trend: values,
        }
    }

    fn reading(errors: PerVersion, latency: Result<PerVersion, String>) -> RolloutReading {
        let (error_spec, latency_spec) = specs();
        RolloutReading {
            metrics: vec![
                MetricReading {
                    spec: error_spec,
                    kind: MetricKind::Counts,
                    versions: Ok(errors),
                },
                MetricReading {
                    spec: latency_spec,
                    kind: MetricKind::Samples,
                    versions: latency,
                },
            ],
            rps: Some((400.0, 100.0)),
        }
    }

    fn pair(stable: VersionFigures, canary: VersionFigures) -> PerVersion {
        PerVersion {
            stable,
            canary,
            baseline: None,
        }
    }

    #[test]
    fn a_canary_with_many_more_errors_fails_on_the_error_rate() {
        let report = judge_reading(
            &reading(
                pair(counts(40.0, 40_000.0), counts(4_000.0, 10_000.0)),
                Ok(pair(samples(0.3), samples(0.3))),
            ),
            &Scoring::default(),
        );
        assert_eq!(report.verdict.outcome, Outcome::Fail);
        assert_eq!(report.verdict.deciding, ["error rate"]);
        let errors = &report.metrics[0];
        assert!(errors.canary_worse && errors.state == MetricState::Ok);
        assert_eq!(errors.canary_now, Some(0.4));
        assert_eq!(errors.stable_now, Some(0.001));
        assert!(!report.metrics[1].canary_worse);
        assert_eq!(report.rps, Some((400.0, 100.0)));
    }

    #[test]
    fn a_canary_like_stable_passes() {
        let report = judge_reading(
            &reading(
                pair(counts(40.0, 40_000.0), counts(10.0, 10_000.0)),
                Ok(pair(samples(0.3), samples(0.3))),
            ),
            &Scoring::default(),
        );
        assert_eq!(report.verdict.outcome, Outcome::Pass, "{}", report.verdict);
        assert!(report.metrics.iter().all(|m| !m.canary_worse));
    }

    #[test]
    fn a_baseline_is_compared_instead_of_stable() {
        let mut versions = pair(counts(4_000.0, 10_000.0), counts(4_000.0, 10_000.0));
        versions.baseline = Some(counts(10.0, 10_000.0));
        let report = judge_reading(
            &reading(versions, Ok(pair(samples(0.3), samples(0.3)))),
            &Scoring::default(),
        );
        assert_eq!(report.verdict.outcome, Outcome::Fail);
    }

    #[test]
    fn a_canary_without_traffic_yet_is_insufficient_data_not_a_failure() {
        let no_series = VersionFigures::default();
        let report = judge_reading(
            &reading(
                pair(counts(4.0, 4_000.0), no_series.clone()),
                Ok(pair(samples(0.3), no_series)),
            ),
            &Scoring::default(),
        );
        assert!(
            matches!(
                report.verdict.outcome,
                Outcome::InsufficientData {
                    have: 0,
                    needed: 250,
                    unit: DataUnit::Requests,
                    eta: Some(_)
                }
            ),
            "{}",
            report.verdict
        );
        assert_eq!(report.metrics[0].state, MetricState::NoData);
        assert_eq!(report.metrics[1].state, MetricState::NoData);
    }

    #[test]
    fn a_query_error_is_its_metrics_state_and_the_others_are_judged() {
        let report = judge_reading(
            &reading(
                pair(counts(40.0, 40_000.0), counts(10.0, 10_000.0)),
                Err("Prometheus at http://p:9090: bad_data: parse error".into()),
            ),
            &Scoring::default(),
        );
        assert_eq!(
            report.metrics[1].state,
            MetricState::QueryError("Prometheus at http://p:9090: bad_data: parse error".into())
        );
        assert_eq!(report.metrics[0].state, MetricState::Ok);
        // The backend's trouble: neither a pass nor a failure.
        assert_eq!(report.verdict.outcome, Outcome::NoData);
        assert_eq!(report.verdict.deciding, ["latency p99"]);
    }

    #[test]
    fn only_points_a_rate_window_apart_are_judged() {
        let window = |values: Vec<f64>, every: u64, span: u64| {
            Some(WindowData::Samples {
                values,
                every: Duration::from_secs(every),
                span: Duration::from_secs(span),
            })
        };
        let values: Vec<f64> = (0..=30).map(f64::from).collect();
        // 10 s apart, each a rate over 60 s: every sixth, counting back from the newest.
        let (kept, rate) = independent_points(&window(values.clone(), 10, 60));
        assert_eq!(kept, [0.0, 6.0, 12.0, 18.0, 24.0, 30.0]);
        assert_eq!(rate, Some(1.0 / 60.0));
        // Points that sum up only their own step are all independent.
        assert_eq!(independent_points(&window(values, 10, 10)).0.len(), 31);
        // NaN points (no requests) are dropped before thinning, which only widens the gaps.
        let with_nan = vec![1.0, f64::NAN, 2.0, 3.0, f64::NAN, 4.0];
        assert_eq!(independent_points(&window(with_nan, 10, 20)).0, [2.0, 4.0]);
        assert_eq!(independent_points(&None), (Vec::new(), None));
    }

    fn rollout(strategy: Strategy, stable: &str, current: &str) -> Rollout {
        let mut r = crate::model::testing::rollout("prod", "shop", "checkout", Phase::Paused);
        r.strategy = strategy;
        r.stable_hash = Some(stable.into());
        r.current_hash = Some(current.into());
        r.since = Some(Timestamp::from_second(100).unwrap()).into();
        r
    }

    fn replica_set(hash: &str, created: i64) -> ReplicaSet {
        ReplicaSet {
            key: ObjectKey::new("prod", "shop", format!("checkout-{hash}")),
            owner: Some("checkout".into()),
            hash: hash.into(),
            revision: None,
            images: crate::model::Images::default(),
            replicas: Default::default(),
            created: Some(Timestamp::from_second(created).unwrap()).into(),
            template_times: Box::default(),
            revision_history: Box::default(),
        }
    }

    #[test]
    fn a_target_is_a_canary_whose_newest_version_is_not_stable() {
        let canary = Strategy::Canary {
            traffic_routed: true,
        };
        let sets = [replica_set("7f9c", 10), replica_set("5d2a", 50)];
        let target = Target::of(&rollout(canary, "7f9c", "5d2a"), &sets).unwrap();
        assert_eq!(
            (target.stable_hash.as_str(), target.canary_hash.as_str()),
            ("7f9c", "5d2a")
        );
        assert_eq!(target.since, Timestamp::from_second(50).unwrap());
        // Without the canary's ReplicaSet, the state's start.
        let target = Target::of(&rollout(canary, "7f9c", "5d2a"), &sets[..1]).unwrap();
        assert_eq!(target.since, Timestamp::from_second(100).unwrap());
        assert_eq!(Target::of(&rollout(canary, "7f9c", "7f9c"), &sets), None);
        assert_eq!(
            Target::of(&rollout(Strategy::BlueGreen, "7f9c", "5d2a"), &sets),
            None
        );
    }
}
