//! [`RolloutMetrics`] over a backend's queries: each metric's templates rendered per version
//! and handed to a [`VersionReader`], the part each backend answers in its own way
//! (Prometheus with `increase()` and range queries, Datadog and New Relic with buckets):
//! counts over the canary's lifetime for the binomial test, and a series' points over the
//! window for the rank test, with each one's recent points for the trend over
//! [`TREND_SPAN`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use jiff::{SignedDuration, Timestamp};

use crate::metrics::rollout_metrics::{
    MetricKind, MetricReading, PerVersion, RolloutMetrics, RolloutReading, Scoring, TREND_SPAN,
    Target, VersionFigures,
};
use crate::metrics::source::{MetricsError, Range};
use crate::metrics::templates::{MetricDefinition, MetricQueries, render};
use crate::metrics::version_variables::variables;

/// Points of a window's series at most; longer windows get a longer step.
const MAX_WINDOW_POINTS: f64 = 240.0;

/// How finely series are read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Resolution {
    /// The window each point sums up: Prometheus' `rate()` window (`{{rate_interval}}`, at
    /// least two scrape intervals), or a vendor's bucket (the step itself).
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

impl Resolution {
    /// A vendor's: each point is its own bucket of `step`, sharing no data with the next.
    pub fn buckets(step: Duration) -> Resolution {
        Resolution {
            rate_interval: step,
            step,
        }
    }
}

/// A count metric's query for one version, rendered twice: `{{interval}}` as the canary's
/// lifetime (a total), and as one point's span (the trend's points).
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub lifetime: String,
    pub point: String,
}

/// One version's two count queries.
#[derive(Debug, Clone, PartialEq)]
pub struct CountQueries {
    pub errors: Rendered,
    pub requests: Rendered,
}

/// What a backend read of one version for one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionRead {
    pub figures: VersionFigures,
    /// Requests per second now, from a count metric's requests.
    pub rps: Option<f64>,
}

/// How one backend answers the judge's two questions, for the versions of one canary at
/// once (stable, canary, then the baseline if any), so that a backend may ask for them in
/// one request.
pub trait VersionReader: Send + Sync {
    /// Whether the backend can answer now.
    fn ready(&self) -> BoxFuture<'_, Result<(), MetricsError>>;

    /// Each version's errors and requests over the lifetime, and their recent points.
    fn counts<'a>(
        &'a self,
        versions: &'a [CountQueries],
        plan: &'a Plan,
    ) -> BoxFuture<'a, Result<Vec<VersionRead>, MetricsError>>;

    /// Each version's series over the window, and its recent points.
    fn series<'a>(
        &'a self,
        versions: &'a [String],
        plan: &'a Plan,
    ) -> BoxFuture<'a, Result<Vec<VersionRead>, MetricsError>>;

    fn resolution(&self) -> Resolution;
}

/// The time a backend's clock reads: the wall clock, or the demo's simulated one.
pub type Now = Arc<dyn Fn() -> Timestamp + Send + Sync>;

pub struct QueriedRollouts {
    reader: Box<dyn VersionReader>,
    metrics: Vec<MetricDefinition>,
    scoring: Scoring,
    /// Kubeconfig context → its cluster label, for `{{cluster}}`.
    clusters: BTreeMap<String, String>,
    now: Now,
}

impl QueriedRollouts {
    pub fn new(
        reader: Box<dyn VersionReader>,
        metrics: Vec<MetricDefinition>,
        scoring: Scoring,
    ) -> Self {
        QueriedRollouts {
            reader,
            metrics,
            scoring,
            clusters: BTreeMap::new(),
            now: Arc::new(Timestamp::now),
        }
    }

    /// Each context's value of the cluster label (a context not listed is its own name).
    pub fn with_clusters(mut self, clusters: BTreeMap<String, String>) -> Self {
        self.clusters = clusters;
        self
    }

    /// Read by another clock than the wall's (a backend serving a simulated fleet's time).
    pub fn with_clock(mut self, now: Now) -> Self {
        self.now = now;
        self
    }

    async fn metric(
        &self,
        definition: &MetricDefinition,
        target: &Target,
        now: Timestamp,
    ) -> (MetricReading, Option<(f64, f64)>) {
        let resolution = self.reader.resolution();
        let plan = Plan::new(target.since, now, resolution);
        let cluster = self.clusters.get(target.key.context.as_str());
        let mut versions = vec![
            (&target.stable_hash, "stable"),
            (&target.canary_hash, "canary"),
        ];
        versions.extend(target.baseline_hash.iter().map(|h| (h, "baseline")));
        let vars: Vec<_> = versions
            .iter()
            .map(|(hash, role)| variables(target, cluster, hash, role, &plan, resolution))
            .collect();
        let read = match &definition.queries {
            MetricQueries::Counts { errors, requests } => match vars
                .into_iter()
                .map(|v| count_queries(errors, requests, v))
                .collect::<Result<Vec<_>, _>>()
            {
                Ok(queries) => self.reader.counts(&queries, &plan).await,
                Err(e) => Err(e),
            },
            MetricQueries::Series { query } => match vars
                .iter()
                .map(|v| rendered(query, v))
                .collect::<Result<Vec<_>, _>>()
            {
                Ok(queries) => self.reader.series(&queries, &plan).await,
                Err(e) => Err(e),
            },
        };
        let (versions, rps) = match read {
            Ok(reads) if reads.len() == versions.len() => {
                let mut reads = reads.into_iter();
                let (stable, canary) = (reads.next().unwrap(), reads.next().unwrap());
                let rps = stable.rps.zip(canary.rps);
                let versions = PerVersion {
                    stable: stable.figures,
                    canary: canary.figures,
                    baseline: reads.next().map(|b| b.figures),
                };
                (Ok(versions), rps)
            }
            Ok(reads) => (
                Err(format!(
                    "{} versions asked, {} answered",
                    versions.len(),
                    reads.len()
                )),
                None,
            ),
            Err(e) => (Err(e.to_string()), None),
        };
        let reading = MetricReading {
            spec: definition.spec.clone(),
            kind: MetricKind::of(definition),
            versions,
        };
        (reading, rps)
    }
}

fn rendered(template: &str, vars: &BTreeMap<String, String>) -> Result<String, MetricsError> {
    render(template, vars).map_err(|e| MetricsError::Config(e.to_string()))
}

fn count_queries(
    errors: &str,
    requests: &str,
    mut vars: BTreeMap<String, String>,
) -> Result<CountQueries, MetricsError> {
    let (errors_total, requests_total) = (rendered(errors, &vars)?, rendered(requests, &vars)?);
    // The trend's points count over one rate interval each.
    vars.insert("interval".into(), vars["rate_interval"].clone());
    Ok(CountQueries {
        errors: Rendered {
            lifetime: errors_total,
            point: rendered(errors, &vars)?,
        },
        requests: Rendered {
            lifetime: requests_total,
            point: rendered(requests, &vars)?,
        },
    })
}

/// The time spans of one reading.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    pub now: Timestamp,
    /// The canary's start: `now - lifetime`.
    pub since: Timestamp,
    /// The canary's lifetime, at least one step long (the canary's start may lie ahead of
    /// the backend's clock: a simulated fleet running faster than life).
    pub lifetime: Duration,
    pub window: Range,
    pub trend: Range,
}

impl Plan {
    pub fn new(since: Timestamp, now: Timestamp, resolution: Resolution) -> Plan {
        let elapsed = Duration::try_from(now.duration_since(since)).unwrap_or_default();
        let lifetime = Duration::from_secs(elapsed.as_secs()).max(resolution.step);
        let back = |d: Duration| now - SignedDuration::try_from(d).unwrap_or_default();
        Plan {
            now,
            since: back(lifetime),
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

impl RolloutMetrics for QueriedRollouts {
    fn ready(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move { self.reader.ready().await.map_err(|e| e.to_string()) })
    }

    fn read<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, RolloutReading> {
        Box::pin(async move {
            let now = (self.now)();
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
    use std::sync::Mutex;

    use super::*;
    use crate::metrics::rollout_metrics::{MetricState, WindowData};
    use crate::metrics::templates::Preset;
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
        assert_eq!(plan.since, at(1_000));
        assert_eq!(plan.window.step, Duration::from_secs(10));
        assert_eq!(plan.trend.start, at(3_400 - 900));
        // A day-long canary: 240 points, not 8640.
        let plan = Plan::new(at(0), at(86_400), resolution);
        assert_eq!(plan.window.step, Duration::from_secs(360));
        // A start ahead of the clock: one step.
        let plan = Plan::new(at(5_000), at(3_400), resolution);
        assert_eq!(plan.lifetime, Duration::from_secs(10));
    }

    /// A reader that answers with fixed figures and keeps what it was asked.
    struct Recording {
        asked: Mutex<Vec<String>>,
        answer: Result<usize, MetricsError>,
    }

    impl Recording {
        fn answer(&self, n: usize) -> Result<Vec<VersionRead>, MetricsError> {
            let versions = self.answer.clone()?.min(n);
            Ok((0..versions)
                .map(|i| VersionRead {
                    figures: VersionFigures {
                        window: Some(WindowData::Counts {
                            errors: i as f64,
                            requests: 1000.0,
                        }),
                        trend: vec![0.0],
                    },
                    rps: Some(10.0 * (i + 1) as f64),
                })
                .collect())
        }
    }

    impl VersionReader for Arc<Recording> {
        fn ready(&self) -> BoxFuture<'_, Result<(), MetricsError>> {
            Box::pin(async { Ok(()) })
        }

        fn counts<'a>(
            &'a self,
            versions: &'a [CountQueries],
            _: &'a Plan,
        ) -> BoxFuture<'a, Result<Vec<VersionRead>, MetricsError>> {
            let mut asked = self.asked.lock().unwrap();
            asked.extend(versions.iter().map(|q| q.errors.lifetime.clone()));
            asked.extend(versions.iter().map(|q| q.errors.point.clone()));
            let answer = self.answer(versions.len());
            Box::pin(async move { answer })
        }

        fn series<'a>(
            &'a self,
            versions: &'a [String],
            _: &'a Plan,
        ) -> BoxFuture<'a, Result<Vec<VersionRead>, MetricsError>> {
            self.asked.lock().unwrap().extend(versions.iter().cloned());
            let answer = self.answer(versions.len());
            Box::pin(async move { answer })
        }

        fn resolution(&self) -> Resolution {
            Resolution::default()
        }
    }

    fn queried(answer: Result<usize, MetricsError>) -> (QueriedRollouts, Arc<Recording>) {
        let recording = Arc::new(Recording {
            asked: Mutex::new(Vec::new()),
            answer,
        });
        let rollouts = QueriedRollouts::new(
            Box::new(recording.clone()),
            Preset::Argo.metrics(None),
            Scoring::default(),
        )
        .with_clock(Arc::new(|| at(600)));
        (rollouts, recording)
    }

    #[tokio::test]
    async fn each_metric_asks_for_all_versions_at_once_in_their_order() {
        let (rollouts, recording) = queried(Ok(3));
        let mut target = Target::checkout();
        target.baseline_hash = Some("b4se".into());
        let reading = rollouts.read(&target).await;
        let asked = recording.asked.lock().unwrap().clone();
        let hashes: Vec<&str> = asked
            .iter()
            .map(|q| {
                ["7f9c", "5d2a", "b4se"]
                    .into_iter()
                    .find(|h| q.contains(h))
                    .unwrap()
            })
            .collect();
        // Error counts over the lifetime, then per point, then the latency series.
        assert_eq!(hashes, ["7f9c", "5d2a", "b4se"].repeat(3));
        assert!(
            asked[0].contains("[600s]") && asked[3].contains("[60s]"),
            "{asked:?}"
        );
        let errors = reading.metrics[0].versions.as_ref().unwrap();
        assert_eq!(
            errors.baseline.as_ref().unwrap().window,
            Some(WindowData::Counts {
                errors: 2.0,
                requests: 1000.0
            })
        );
        assert_eq!(reading.rps, Some((10.0, 20.0)));
    }

    #[tokio::test]
    async fn an_answer_short_of_a_version_is_the_metrics_error() {
        let (rollouts, _) = queried(Ok(1));
        let reading = rollouts.read(&Target::checkout()).await;
        assert_eq!(
            reading.metrics[0].versions,
            Err("2 versions asked, 1 answered".into())
        );
    }

    /// Whatever way the backend's queries fail, the verdict is NO DATA naming the metrics,
    /// and each metric shows its query's error: never a FAIL.
    #[tokio::test]
    async fn failing_queries_give_no_data_never_a_failure() {
        let backend = "Datadog (datadoghq.com)".to_string();
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
            MetricsError::RateLimited {
                backend: backend.clone(),
                wait: Duration::from_secs(37),
                told_by: "X-RateLimit-Reset".into(),
            },
            MetricsError::Refused {
                backend: backend.clone(),
                status: 403,
                reason: "forbidden".into(),
            },
            MetricsError::Partial {
                backend: backend.clone(),
                reason: "query q1: unknown metric".into(),
            },
        ] {
            let (rollouts, _) = queried(Err(error.clone()));
            let report = crate::metrics::report(&rollouts, &Target::checkout()).await;
            assert_eq!(report.verdict.outcome, Outcome::NoData, "{error}");
            assert_eq!(report.verdict.deciding, ["error rate", "latency p99"]);
            for metric in &report.metrics {
                assert_eq!(metric.state, MetricState::QueryError(error.to_string()));
            }
        }
    }
}
