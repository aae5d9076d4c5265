//! How Prometheus answers the judge per version: counts as instant `increase()` queries
//! over the lifetime (the backend's own extrapolation at the window's edges, never a sum
//! of overlapping rates), a series as a range query whose points are the samples, each a
//! `rate()` over `rate_interval`, and each trend as a range query over the last
//! [`TREND_SPAN`](crate::metrics::rollout_metrics::TREND_SPAN).

use std::collections::BTreeMap;

use futures::future::BoxFuture;

use crate::metrics::queried::{CountQueries, Plan, Resolution, VersionRead, VersionReader};
use crate::metrics::rollout_metrics::{VersionFigures, WindowData};
use crate::metrics::source::{MetricsError, MetricsSource, QueryResult};

pub struct PrometheusReader {
    source: Box<dyn MetricsSource>,
    resolution: Resolution,
}

impl PrometheusReader {
    pub fn new(source: Box<dyn MetricsSource>, resolution: Resolution) -> PrometheusReader {
        PrometheusReader { source, resolution }
    }

    async fn counts_of(
        &self,
        queries: &CountQueries,
        plan: &Plan,
    ) -> Result<VersionRead, MetricsError> {
        let (errors_total, requests_total, errors_recent, requests_recent) = futures::try_join!(
            self.source.query(&queries.errors.lifetime, Some(plan.now)),
            self.source
                .query(&queries.requests.lifetime, Some(plan.now)),
            self.source.query_range(&queries.errors.point, plan.trend),
            self.source.query_range(&queries.requests.point, plan.trend),
        )?;
        let rate_seconds = self.resolution.rate_interval.as_secs_f64();
        Ok(VersionRead {
            figures: VersionFigures {
                window: requests_total
                    .single_value()
                    .map(|requests| WindowData::Counts {
                        // No error series at all: no errors.
                        errors: errors_total.single_value().unwrap_or(0.0),
                        requests,
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

    async fn series_of(&self, query: &str, plan: &Plan) -> Result<VersionRead, MetricsError> {
        let (window, trend) = futures::try_join!(
            self.source.query_range(query, plan.window),
            self.source.query_range(query, plan.trend),
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

impl VersionReader for PrometheusReader {
    fn ready(&self) -> BoxFuture<'_, Result<(), MetricsError>> {
        self.source.ready()
    }

    fn counts<'a>(
        &'a self,
        versions: &'a [CountQueries],
        plan: &'a Plan,
    ) -> BoxFuture<'a, Result<Vec<VersionRead>, MetricsError>> {
        Box::pin(futures::future::try_join_all(
            versions.iter().map(|q| self.counts_of(q, plan)),
        ))
    }

    fn series<'a>(
        &'a self,
        versions: &'a [String],
        plan: &'a Plan,
    ) -> BoxFuture<'a, Result<Vec<VersionRead>, MetricsError>> {
        Box::pin(futures::future::try_join_all(
            versions.iter().map(|q| self.series_of(q, plan)),
        ))
    }

    fn resolution(&self) -> Resolution {
        self.resolution
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::source::{Point, Series};

    fn matrix(points: &[(f64, f64)]) -> QueryResult {
        QueryResult::Matrix(vec![Series {
            labels: Default::default(),
            points: points
                .iter()
                .map(|&(time, value)| Point { time, value })
                .collect(),
        }])
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
