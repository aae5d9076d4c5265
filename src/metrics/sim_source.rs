//! [`RolloutMetrics`] from the simulated fleet's traffic model, read in-process: the demo's
//! metrics when no Prometheus is given. Reads the Argo preset's two metrics, error rate
//! (counts) and latency p99 (a sample per history interval), from each version's history.

use std::time::Duration;

use futures::future::BoxFuture;
use jiff::{SignedDuration, Timestamp};

use crate::metrics::rollout_metrics::{
    MetricKind, MetricReading, PerVersion, RolloutMetrics, RolloutReading, Scoring, TREND_SPAN,
    Target, VersionFigures, WindowData,
};
use crate::metrics::templates::{MetricDefinition, Preset};
use crate::sim::{Fleet, INTERVAL_SECONDS, TrafficHandle, TrafficInterval, VersionKey};

pub struct SimMetrics {
    /// Each context's traffic model.
    traffic: Vec<(String, TrafficHandle)>,
    metrics: Vec<MetricDefinition>,
    scoring: Scoring,
}

impl SimMetrics {
    pub fn new(fleet: &Fleet) -> SimMetrics {
        SimMetrics {
            traffic: fleet
                .contexts()
                .iter()
                .filter_map(|c| Some((c.name.clone(), fleet.traffic(&c.name)?)))
                .collect(),
            metrics: Preset::Argo.metrics(None),
            scoring: Scoring::default(),
        }
    }
}

const INTERVAL: Duration = Duration::from_secs(INTERVAL_SECONDS);

/// The history of each version, and the simulated time it was read at.
struct Histories {
    now: Timestamp,
    stable: Vec<TrafficInterval>,
    canary: Vec<TrafficInterval>,
    baseline: Option<Vec<TrafficInterval>>,
}

impl Histories {
    fn read(traffic: &TrafficHandle, target: &Target) -> Histories {
        let history = |hash: &str| {
            traffic.history(&VersionKey {
                namespace: target.key.namespace.clone(),
                rollout: target.key.name.clone(),
                pod_template_hash: hash.to_string(),
            })
        };
        Histories {
            now: traffic.now(),
            stable: history(&target.stable_hash),
            canary: history(&target.canary_hash),
            baseline: target.baseline_hash.as_deref().map(history),
        }
    }
}

/// One version's figures for a metric of `kind`: the intervals ending after `since` for
/// the window, the ones within [`TREND_SPAN`] of `now` for the trend.
fn figures(
    history: &[TrafficInterval],
    kind: MetricKind,
    since: Timestamp,
    now: Timestamp,
) -> VersionFigures {
    let window: Vec<&TrafficInterval> = history.iter().filter(|i| i.end > since).collect();
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
                every: INTERVAL,
                span: INTERVAL,
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
fn rps(history: &[TrafficInterval], now: Timestamp) -> f64 {
    let fresh = now - SignedDuration::from_secs(2 * INTERVAL_SECONDS as i64);
    history
        .last()
        .filter(|i| i.end >= fresh)
        .map_or(0.0, |i| f64::from(i.requests) / INTERVAL_SECONDS as f64)
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
            let of = |h: &[TrafficInterval]| figures(h, kind, since, histories.now);
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
                rps(&histories.stable, histories.now),
                rps(&histories.canary, histories.now),
            )
        }),
    }
}

impl RolloutMetrics for SimMetrics {
    fn ready(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }

    fn read<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, RolloutReading> {
        Box::pin(async move {
            let Some((_, traffic)) = self.traffic.iter().find(|(c, _)| *c == target.key.context)
            else {
                let problem = format!("no simulated cluster has context {}", target.key.context);
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
                &Histories::read(traffic, target),
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

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(second).unwrap()
    }

    fn interval(end: i64, requests: u32, errors: u32, p99: f32) -> TrafficInterval {
        TrafficInterval {
            end: at(end),
            requests,
            errors,
            p99,
        }
    }

    #[test]
    fn the_window_counts_intervals_after_the_canarys_start_and_the_trend_the_recent_ones() {
        let history: Vec<TrafficInterval> = (1..=200)
            .map(|i| interval(i * 10, 100, i as u32 % 3, 0.2))
            .collect();
        let since = at(1000);
        let now = at(2000);
        let counts = figures(&history, MetricKind::Counts, since, now);
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
        let samples = figures(&history, MetricKind::Samples, since, now);
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
            figures(&[], MetricKind::Counts, since, now)
                .window
                .is_none()
        );
    }

    #[test]
    fn rps_is_the_latest_intervals_while_it_is_fresh() {
        let history = [interval(990, 500, 0, 0.1), interval(1000, 700, 0, 0.1)];
        assert_eq!(rps(&history, at(1005)), 70.0);
        assert_eq!(rps(&history, at(1100)), 0.0);
        assert_eq!(rps(&[], at(1100)), 0.0);
    }
}
