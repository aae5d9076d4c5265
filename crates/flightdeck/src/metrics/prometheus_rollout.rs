//! [`RolloutMetrics`] over a [`MetricsSource`] (Prometheus): each metric's query templates
//! rendered per version and asked over the canary's window. Counts are instant
//! `increase()` queries over the lifetime; continuous metrics are range queries whose
//! points are the samples; each trend is a range query over [`TREND_SPAN`].

use std::collections::BTreeMap;
use std::time::Duration;

use futures::future::BoxFuture;
use jiff::{SignedDuration, Timestamp};

use crate::metrics::config::MetricsConfig;
use crate::metrics::prometheus::Prometheus;
use crate::metrics::rollout_metrics::{
    MetricKind, MetricReading, PerVersion, RolloutMetrics, RolloutReading, Scoring, TREND_SPAN,
    Target, VersionFigures, WindowData,
};
use crate::metrics::source::{MetricsError, MetricsSource, QueryResult, Range};
use crate::metrics::templates::{MetricDefinition, MetricQueries, render};

/// Points of a window's series at most; longer windows get a longer step.
const MAX_WINDOW_POINTS: f64 = 240.0;

/// How finely series are read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Resolution {
    /// The `rate()` window behind each point (`{{rate_interval}}`): at least two scrape
    /// intervals of the backend.
    pub rate_interval: Duration,
    /// Between the points of a series, at the finest.
    pub step: Duration,
}

impl Default for Resolution {
    fn default() -> Self {
        Resolution {
            rate_interval: Duration::from_secs(60),
            step: Duration::from_secs(10),
        }
    }
}

pub struct PrometheusRollouts {
    source: Box<dyn MetricsSource>,
    metrics: Vec<MetricDefinition>,
    scoring: Scoring,
    resolution: Resolution,
    /// Kubeconfig context → its cluster label, for `{{cluster}}`.
    clusters: BTreeMap<String, String>,
}

impl PrometheusRollouts {
    pub fn new(
        source: Box<dyn MetricsSource>,
        metrics: Vec<MetricDefinition>,
        scoring: Scoring,
        resolution: Resolution,
    ) -> Self {
        PrometheusRollouts {
            source,
            metrics,
            scoring,
            resolution,
            clusters: BTreeMap::new(),
        }
    }

    /// Each context's value of the cluster label (a context not listed is its own name).
    pub fn with_clusters(mut self, clusters: BTreeMap<String, String>) -> Self {
        self.clusters = clusters;
        self
    }

    /// The `[metrics]` section's backend, metrics and scoring.
    pub fn from_config(config: &MetricsConfig) -> Result<Self, MetricsError> {
        let metrics = config
            .definitions()
            .map_err(|e| MetricsError::Config(e.to_string()))?;
        Ok(Self::new(
            Box::new(Prometheus::new(config)?),
            metrics,
            Scoring {
                group_weights: config.group_weights.clone(),
                thresholds: config.thresholds.clone(),
            },
            Resolution::default(),
        )
        .with_clusters(config.clusters.clone()))
    }

    async fn metric(
        &self,
        definition: &MetricDefinition,
        target: &Target,
        now: Timestamp,
    ) -> (MetricReading, Option<(f64, f64)>) {
        let plan = Plan::new(target.since, now, self.resolution);
        let of = |hash: &str, role: &str| {
            let cluster = self.clusters.get(&target.key.context);
            let vars = variables(target, cluster, hash, role, &plan, self.resolution);
            self.version(definition, vars, &plan)
        };
        let baseline = async {
            match &target.baseline_hash {
                Some(hash) => of(hash, "baseline").await.map(Some),
                None => Ok(None),
            }
        };
        let (stable, canary, baseline) = futures::join!(
            of(&target.stable_hash, "stable"),
            of(&target.canary_hash, "canary"),
            baseline
        );
        let read = || -> Result<_, MetricsError> { Ok((stable?, canary?, baseline?)) };
        let (versions, rps) = match read() {
            Ok((stable, canary, baseline)) => {
                let rps = stable.rps.zip(canary.rps);
                let versions = PerVersion {
                    stable: stable.figures,
                    canary: canary.figures,
                    baseline: baseline.map(|b| b.figures),
                };
                (Ok(versions), rps)
            }
            Err(e) => (Err(e.to_string()), None),
        };
        let reading = MetricReading {
            spec: definition.spec.clone(),
            kind: MetricKind::of(definition),
            versions,
        };
        (reading, rps)
    }

    async fn version(
        &self,
        definition: &MetricDefinition,
        mut vars: BTreeMap<String, String>,
        plan: &Plan,
    ) -> Result<VersionRead, MetricsError> {
        let rendered = |template: &str, vars: &BTreeMap<String, String>| {
            render(template, vars).map_err(|e| MetricsError::Config(e.to_string()))
        };
        match &definition.queries {
            MetricQueries::Counts { errors, requests } => {
                let (errors_total, requests_total) =
                    (rendered(errors, &vars)?, rendered(requests, &vars)?);
                // The trend's points count over one rate interval each.
                vars.insert("interval".into(), vars["rate_interval"].clone());
                let (errors_recent, requests_recent) =
                    (rendered(errors, &vars)?, rendered(requests, &vars)?);
                let (errors_total, requests_total, errors_recent, requests_recent) = futures::try_join!(
                    self.source.query(&errors_total, Some(plan.now)),
                    self.source.query(&requests_total, Some(plan.now)),
                    self.source.query_range(&errors_recent, plan.trend),
                    self.source.query_range(&requests_recent, plan.trend),
                )?;
                let rate_seconds = self.resolution.rate_interval.as_secs_f64();
                Ok(VersionRead {
                    figures: VersionFigures {
                        window: requests_total.single_value().map(|requests| {
                            WindowData::Counts {
                                // No error series at all: no errors.
                                errors: errors_total.single_value().unwrap_or(0.0),
                                requests,
                            }
                        }),
                        trend: error_ratios(&errors_recent, &requests_recent),
                    },
                    rps: Some(
                        requests_recent
                            .values()
                            .last()
                            .map_or(0.0, |n| n / rate_seconds),
                    ),
                })
            }
            MetricQueries::Series { query } => {
                let query = rendered(query, &vars)?;
                let (window, trend) = futures::try_join!(
                    self.source.query_range(&query, plan.window),
                    self.source.query_range(&query, plan.trend),
                )?;
                let values = window.values();
                Ok(VersionRead {
                    figures: VersionFigures {
                        window: (!values.is_empty()).then_some(WindowData::Samples {
                            values,
                            every: plan.window.step,
                            span: self.resolution.rate_interval,
                        }),
                        trend: trend
                            .values()
                            .into_iter()
                            .filter(|v| v.is_finite())
                            .collect(),
                    },
                    rps: None,
                })
            }
        }
    }
}

struct VersionRead {
    figures: VersionFigures,
    /// Requests per second now, from a count metric's requests.
    rps: Option<f64>,
}

/// The time spans of one reading.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Plan {
    now: Timestamp,
    /// The canary's lifetime, at least one step long (the canary's start may lie ahead of
    /// the backend's clock: a simulated fleet running faster than life).
    lifetime: Duration,
    window: Range,
    trend: Range,
}

impl Plan {
    fn new(since: Timestamp, now: Timestamp, resolution: Resolution) -> Plan {
        let elapsed = Duration::try_from(now.duration_since(since)).unwrap_or_default();
        let lifetime = Duration::from_secs(elapsed.as_secs()).max(resolution.step);
        let back = |d: Duration| now - SignedDuration::try_from(d).unwrap_or_default();
        Plan {
            now,
            lifetime,
            window: Range {
                start: back(lifetime),
                end: now,
                step: window_step(lifetime, resolution),
            },
            trend: Range {
                start: back(TREND_SPAN),
                end: now,
                step: resolution.step,
            },
        }
    }
}

/// The step of a window's series: the finest, unless the window would then have more than
/// [`MAX_WINDOW_POINTS`] points.
pub fn window_step(lifetime: Duration, resolution: Resolution) -> Duration {
    resolution.step.max(Duration::from_secs_f64(
        lifetime.as_secs_f64() / MAX_WINDOW_POINTS,
    ))
}

/// Prometheus' duration text in whole seconds: `37s`.
fn seconds(d: Duration) -> String {
    format!("{}s", d.as_secs().max(1))
}

/// The template variables for one version (see `templates`). Without the pods' labels,
/// `version` is the pod-template hash and `service` the Service Argo's examples name for
/// the role (`checkout-canary`); `cluster` is the context's name unless mapped.
fn variables(
    target: &Target,
    cluster: Option<&String>,
    hash: &str,
    role: &str,
    plan: &Plan,
    resolution: Resolution,
) -> BTreeMap<String, String> {
    [
        ("context", target.key.context.clone()),
        (
            "cluster",
            cluster.unwrap_or(&target.key.context).to_string(),
        ),
        ("namespace", target.key.namespace.clone()),
        ("rollout", target.key.name.clone()),
        ("hash", hash.to_string()),
        ("version", hash.to_string()),
        ("service", format!("{}-{role}", target.key.name)),
        ("interval", seconds(plan.lifetime)),
        ("rate_interval", seconds(resolution.rate_interval)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// Errors per request at each point where requests were counted; a point without an
/// error series had no errors.
fn error_ratios(errors: &QueryResult, requests: &QueryResult) -> Vec<f64> {
    let points = |r: &QueryResult| -> Vec<(i64, f64)> {
        match r {
            QueryResult::Matrix(series) | QueryResult::Vector(series) => series
                .iter()
                .flat_map(|s| &s.points)
                .map(|p| ((p.time * 1000.0).round() as i64, p.value))
                .collect(),
            _ => Vec::new(),
        }
    };
    let errors: BTreeMap<i64, f64> = points(errors).into_iter().collect();
    points(requests)
        .into_iter()
        .filter(|(_, n)| *n > 0.0)
        .map(|(t, n)| errors.get(&t).copied().unwrap_or(0.0) / n)
        .collect()
}

impl RolloutMetrics for PrometheusRollouts {
    fn ready(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move { self.source.ready().await.map_err(|e| e.to_string()) })
    }

    fn read<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, RolloutReading> {
        Box::pin(async move {
            let now = Timestamp::now();
            let mut reading = RolloutReading::default();
            for definition in &self.metrics {
                let (metric, rps) = self.metric(definition, target, now).await;
                reading.metrics.push(metric);
                reading.rps = reading.rps.or(rps);
            }
            reading
        })
    }

    fn scoring(&self) -> &Scoring {
        &self.scoring
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::rollout_metrics::MetricState;
    use crate::metrics::source::{Point, Series};
    use crate::model::ObjectKey;
    use crate::model::Outcome;

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(second).unwrap()
    }

    #[test]
    fn the_window_runs_from_the_canarys_start_with_a_bounded_number_of_points() {
        let resolution = Resolution::default();
        let plan = Plan::new(at(1_000), at(3_400), resolution);
        assert_eq!(plan.lifetime, Duration::from_secs(2_400));
        assert_eq!((plan.window.start, plan.window.end), (at(1_000), at(3_400)));
        assert_eq!(plan.window.step, Duration::from_secs(10));
        assert_eq!(plan.trend.start, at(3_400 - 900));
        // A day-long canary: 240 points, not 8640.
        let plan = Plan::new(at(0), at(86_400), resolution);
        assert_eq!(plan.window.step, Duration::from_secs(360));
        // A start ahead of the clock: one step.
        let plan = Plan::new(at(5_000), at(3_400), resolution);
        assert_eq!(plan.lifetime, Duration::from_secs(10));
    }

    #[test]
    fn each_version_gets_its_own_variables() {
        let target = Target {
            key: ObjectKey::new("prod", "shop", "checkout"),
            stable_hash: "7f9c".into(),
            canary_hash: "5d2a".into(),
            baseline_hash: None,
            since: at(0),
        };
        let plan = Plan::new(at(0), at(2_220), Resolution::default());
        let vars = variables(
            &target,
            None,
            "5d2a",
            "canary",
            &plan,
            Resolution::default(),
        );
        let errors_query = |cluster_label| match &crate::metrics::templates::Preset::Argo
            .metrics(cluster_label)[0]
            .queries
        {
            MetricQueries::Counts { errors, .. } => errors.clone(),
            other => panic!("error rate counts, not {other:?}"),
        };
        assert_eq!(
            render(&errors_query(None), &vars).unwrap(),
            r#"sum(increase(http_requests_total{namespace="shop",rollouts_pod_template_hash="5d2a",code=~"5.."}[2220s]))"#
        );
        assert_eq!(vars["service"], "checkout-canary");
        assert_eq!(vars["rate_interval"], "60s");
        assert_eq!((&*vars["context"], &*vars["cluster"]), ("prod", "prod"));

        // One Prometheus over many clusters: the context's own label value.
        let mapped = "eu-west-1".to_string();
        let vars = variables(
            &target,
            Some(&mapped),
            "5d2a",
            "canary",
            &plan,
            Resolution::default(),
        );
        assert_eq!(
            render(&errors_query(Some("k8s_cluster")), &vars).unwrap(),
            r#"sum(increase(http_requests_total{namespace="shop",rollouts_pod_template_hash="5d2a",k8s_cluster="eu-west-1",code=~"5.."}[2220s]))"#
        );
    }

    fn matrix(points: &[(f64, f64)]) -> QueryResult {
        QueryResult::Matrix(vec![Series {
            labels: Default::default(),
            points: points
                .iter()
                .map(|&(time, value)| Point { time, value })
                .collect(),
        }])
    }

    /// A backend whose every query fails with one error.
    struct Failing(MetricsError);

    impl MetricsSource for Failing {
        fn query<'a>(
            &'a self,
            _: &'a str,
            _: Option<Timestamp>,
        ) -> BoxFuture<'a, Result<QueryResult, MetricsError>> {
            Box::pin(async { Err(self.0.clone()) })
        }

        fn query_range<'a>(
            &'a self,
            _: &'a str,
            _: Range,
        ) -> BoxFuture<'a, Result<QueryResult, MetricsError>> {
            Box::pin(async { Err(self.0.clone()) })
        }

        fn ready(&self) -> BoxFuture<'_, Result<(), MetricsError>> {
            Box::pin(async { Ok(()) })
        }
    }

    /// Whatever way the backend's queries fail, the verdict is NO DATA naming the metrics,
    /// and each metric shows its query's error: never a FAIL.
    #[tokio::test]
    async fn failing_queries_give_no_data_never_a_failure() {
        let backend = "Prometheus at http://p:9090".to_string();
        let target = Target {
            key: ObjectKey::new("prod", "shop", "checkout"),
            stable_hash: "7f9c".into(),
            canary_hash: "5d2a".into(),
            baseline_hash: None,
            since: Timestamp::now() - SignedDuration::from_mins(10),
        };
        for error in [
            MetricsError::Query {
                backend: backend.clone(),
                kind: "execution".into(),
                message: "query timed out in expression evaluation".into(),
            },
            MetricsError::Timeout {
                backend: backend.clone(),
                after: Duration::from_secs(5),
            },
            MetricsError::Unreachable {
                backend: backend.clone(),
                reason: "connection refused".into(),
            },
            MetricsError::Unparseable {
                backend: backend.clone(),
                status: 200,
                reason: "expected value at line 1 column 1".into(),
                body: "<html>".into(),
            },
        ] {
            let rollouts = PrometheusRollouts::new(
                Box::new(Failing(error.clone())),
                crate::metrics::templates::Preset::Argo.metrics(None),
                Scoring::default(),
                Resolution::default(),
            );
            let report = crate::metrics::report(&rollouts, &target).await;
            assert_eq!(report.verdict.outcome, Outcome::NoData, "{error}");
            assert_eq!(report.verdict.deciding, ["error rate", "latency p99"]);
            for metric in &report.metrics {
                assert_eq!(metric.state, MetricState::QueryError(error.to_string()));
            }
        }
    }

    #[test]
    fn error_ratios_pair_points_by_time_and_a_missing_error_point_is_no_errors() {
        let errors = matrix(&[(10.0, 5.0), (30.0, 2.0)]);
        let requests = matrix(&[(10.0, 100.0), (20.0, 50.0), (30.0, 0.0)]);
        assert_eq!(error_ratios(&errors, &requests), [0.05, 0.0]);
        let no_error_series = QueryResult::Matrix(Vec::new());
        assert_eq!(error_ratios(&no_error_series, &requests), [0.0, 0.0]);
    }
}
