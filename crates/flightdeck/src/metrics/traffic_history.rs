//! [`RolloutMetrics`] read in-process from a history of each version's traffic kept in
//! fixed intervals ([`TrafficHistory`]): the demo's metrics when no Prometheus is given,
//! where the simulator's traffic model is the history. Reads the Argo preset's two
//! metrics, error rate (counts) and latency p99 (a sample per interval).

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use jiff::{SignedDuration, Timestamp};

use super::rollout_metrics::{
    MetricKind, MetricReading, PerVersion, RolloutMetrics, RolloutReading, Scoring, TREND_SPAN,
    Target, VersionFigures, WindowData,
};
use super::templates::{MetricDefinition, Preset};

/// One interval of a version's traffic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub end: Timestamp,
    pub requests: u32,
    pub errors: u32,
    /// The 99th percentile latency of the interval's requests, seconds; NaN without
    /// requests.
    pub p99: f32,
}

/// One version of a rollout, as a history names it.
#[derive(Debug, Clone, Copy)]
pub struct VersionOf<'a> {
    pub context: &'a str,
    pub namespace: &'a str,
    pub rollout: &'a str,
    pub pod_template_hash: &'a str,
}

/// Where the traffic's history is kept.
pub trait TrafficHistory: Send + Sync {
    /// How long each interval is.
    fn interval(&self) -> Duration;
    /// The present in the history's clock, or `None` when it holds no cluster of that
    /// context.
    fn now(&self, context: &str) -> Option<Timestamp>;
    /// One version's intervals, oldest first; empty when it has served nothing.
    fn history(&self, version: VersionOf<'_>) -> Vec<Interval>;
}

pub struct HistoryMetrics {
    history: Arc<dyn TrafficHistory>,
    metrics: Vec<MetricDefinition>,
    scoring: Scoring,
}

impl HistoryMetrics {
    pub fn new(history: Arc<dyn TrafficHistory>) -> HistoryMetrics {
        HistoryMetrics {
            history,
            metrics: Preset::Argo.metrics(None),
            scoring: Scoring::default(),
        }
    }
}

/// The history of each version, and the time it was read at.
struct Histories {
    now: Timestamp,
    interval: Duration,
    stable: Vec<Interval>,
    canary: Vec<Interval>,
    baseline: Option<Vec<Interval>>,
}

impl Histories {
    fn read(source: &dyn TrafficHistory, now: Timestamp, target: &Target) -> Histories {
        let history = |hash: &str| {
            source.history(VersionOf {
                context: &target.key.context,
                namespace: &target.key.namespace,
                rollout: &target.key.name,
                pod_template_hash: hash,
            })
        };
        Histories {
            now,
            interval: source.interval(),
            stable: history(&target.stable_hash),
            canary: history(&target.canary_hash),
            baseline: target.baseline_hash.as_deref().map(history),
        }
    }
}

/// One version's figures for a metric of `kind`: the intervals ending after `since` for
/// the window, the ones within [`TREND_SPAN`] of `now` for the trend.
fn figures(
    history: &[Interval],
    interval: Duration,
    kind: MetricKind,
    since: Timestamp,
    now: Timestamp,
) -> VersionFigures {
    let window: Vec<&Interval> = history.iter().filter(|i| i.end > since).collect();
    let trend_from = now - SignedDuration::try_from(TREND_SPAN).unwrap_or_default();
    let recent = history.iter().filter(|i| i.end > trend_from);
    match kind {
        MetricKind::Counts => VersionFigures {
            window: (!history.is_empty()).then(|| WindowData::Counts {
                errors: window.iter().map(|i| f64::from(i.errors)).sum(),
                requests: window.iter().map(|i| f64::from(i.requests)).sum(),
            }),
            trend: recent
                .filter(|i| i.requests > 0)
                .map(|i| f64::from(i.errors) / f64::from(i.requests))
                .collect(),
        },
        MetricKind::Samples => VersionFigures {
            window: (!history.is_empty()).then(|| WindowData::Samples {
                values: window.iter().map(|i| f64::from(i.p99)).collect(),
                // Each interval's p99 is of its own requests.
                every: interval,
                span: interval,
            }),
            trend: recent
                .map(|i| f64::from(i.p99))
                .filter(|v| v.is_finite())
                .collect(),
        },
    }
}

/// Requests per second over the latest interval, or 0 when the version has had no share
/// of traffic lately.
fn rps(history: &[Interval], interval: Duration, now: Timestamp) -> f64 {
    let fresh = now - SignedDuration::try_from(2 * interval).unwrap_or_default();
    history
        .last()
        .filter(|i| i.end >= fresh)
        .map_or(0.0, |i| f64::from(i.requests) / interval.as_secs_f64())
}

fn reading(
    histories: &Histories,
    metrics: &[MetricDefinition],
    since: Timestamp,
) -> RolloutReading {
    let metrics = metrics
        .iter()
        .map(|definition| {
            let kind = MetricKind::of(definition);
            let of = |h: &[Interval]| figures(h, histories.interval, kind, since, histories.now);
            MetricReading {
                spec: definition.spec.clone(),
                kind,
                versions: Ok(PerVersion {
                    stable: of(&histories.stable),
                    canary: of(&histories.canary),
                    baseline: histories.baseline.as_deref().map(of),
                }),
            }
        })
        .collect();
    let served = !(histories.stable.is_empty() && histories.canary.is_empty());
    RolloutReading {
        metrics,
        rps: served.then(|| {
            (
                rps(&histories.stable, histories.interval, histories.now),
                rps(&histories.canary, histories.interval, histories.now),
            )
        }),
    }
}

impl RolloutMetrics for HistoryMetrics {
    fn ready(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }

    fn read<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, RolloutReading> {
        Box::pin(async move {
            let Some(now) = self.history.now(&target.key.context) else {
                let problem = format!("no traffic history for context {}", target.key.context);
                return RolloutReading {
                    metrics: self
                        .metrics
                        .iter()
                        .map(|d| MetricReading {
                            spec: d.spec.clone(),
                            kind: MetricKind::of(d),
                            versions: Err(problem.clone()),
                        })
                        .collect(),
                    rps: None,
                };
            };
            reading(
                &Histories::read(self.history.as_ref(), now, target),
                &self.metrics,
                target.since,
            )
        })
    }

    fn scoring(&self) -> &Scoring {
        &self.scoring
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INTERVAL: Duration = Duration::from_secs(10);

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(second).unwrap()
    }

    fn interval(end: i64, requests: u32, errors: u32, p99: f32) -> Interval {
        Interval {
            end: at(end),
            requests,
            errors,
            p99,
        }
    }

    #[test]
    fn the_window_counts_intervals_after_the_canarys_start_and_the_trend_the_recent_ones() {
        let history: Vec<Interval> = (1..=200)
            .map(|i| interval(i * 10, 100, i as u32 % 3, 0.2))
            .collect();
        let since = at(1000);
        let now = at(2000);
        let counts = figures(&history, INTERVAL, MetricKind::Counts, since, now);
        // Intervals ending 1010..=2000: 100 of them.
        let expected_errors: u32 = (101..=200).map(|i| i % 3).sum();
        assert_eq!(
            counts.window,
            Some(WindowData::Counts {
                errors: f64::from(expected_errors),
                requests: 10_000.0
            })
        );
        // 15 minutes of 10 s intervals.
        assert_eq!(counts.trend.len(), 90);
        let samples = figures(&history, INTERVAL, MetricKind::Samples, since, now);
        let Some(WindowData::Samples {
            values,
            every,
            span,
        }) = samples.window
        else {
            panic!("latency is samples")
        };
        assert_eq!((values.len(), every, span), (100, INTERVAL, INTERVAL));
        assert!(
            figures(&[], INTERVAL, MetricKind::Counts, since, now)
                .window
                .is_none()
        );
    }

    #[test]
    fn rps_is_the_latest_intervals_while_it_is_fresh() {
        let history = [interval(990, 500, 0, 0.1), interval(1000, 700, 0, 0.1)];
        assert_eq!(rps(&history, INTERVAL, at(1005)), 70.0);
        assert_eq!(rps(&history, INTERVAL, at(1100)), 0.0);
        assert_eq!(rps(&[], INTERVAL, at(1100)), 0.0);
    }
}
