//! How the vendors answer the judge: each query as buckets of a fixed size (Datadog's
//! `interval`, NRQL's `TIMESERIES`), each bucket the aggregate of its own requests. So a
//! count's buckets add up exactly to the lifetime's total (no extrapolation, no ratio of
//! rates), and a percentile's buckets are independent points, one per bucket. One request
//! per metric covers every version of the canary, its lifetime and its recent trend.

use std::time::Duration;

use futures::future::BoxFuture;
use jiff::Timestamp;

use crate::metrics::queried::{
    CountQueries, Plan, Resolution, VersionRead, VersionReader, window_step,
};
use crate::metrics::rollout_metrics::{VersionFigures, WindowData};
use crate::metrics::source::{MetricsError, Point, Range};

/// A vendor's query API, as buckets.
pub trait BucketApi: Send + Sync {
    fn ready(&self) -> BoxFuture<'_, Result<(), MetricsError>>;

    /// Each query's buckets of `range.step` over `range`, all in one request: a point's
    /// time is its bucket's start (Unix seconds), its value NaN where the bucket is empty.
    fn buckets<'a>(
        &'a self,
        queries: &'a [String],
        range: Range,
    ) -> BoxFuture<'a, Result<Vec<Vec<Point>>, MetricsError>>;
}

/// A [`VersionReader`] over a [`BucketApi`] whose finest bucket is `step`.
pub struct Bucketed<A> {
    api: A,
    step: Duration,
}

impl<A: BucketApi> Bucketed<A> {
    pub fn new(api: A, step: Duration) -> Bucketed<A> {
        Bucketed { api, step }
    }

    /// One range for the whole reading: the lifetime and the trend, in buckets small
    /// enough for the judge and few enough for the API.
    fn range(&self, plan: &Plan) -> Range {
        let start = plan.since.min(plan.trend.start);
        let span = Duration::try_from(plan.now.duration_since(start)).unwrap_or_default();
        Range {
            start,
            end: plan.now,
            step: window_step(span, self.resolution()),
        }
    }
}

/// The buckets of one query, split by what the reading needs of them.
struct Split<'a> {
    /// Buckets that overlap the canary's lifetime.
    lifetime: Vec<&'a Point>,
    /// Buckets that start within the trend's span.
    recent: Vec<&'a Point>,
    /// The newest bucket that has ended and has requests, if it is one of the last few:
    /// a vendor's newest buckets are still being filled as its intake catches up.
    last_whole: Option<&'a Point>,
}

fn split<'a>(points: &'a [Point], plan: &Plan, step: Duration) -> Split<'a> {
    let seconds = |t: Timestamp| t.as_millisecond() as f64 / 1000.0;
    let (since, trend, now) = (
        seconds(plan.since),
        seconds(plan.trend.start),
        seconds(plan.now),
    );
    let step = step.as_secs_f64();
    Split {
        lifetime: points
            .iter()
            .filter(|p| p.time + step > since && p.time < now)
            .collect(),
        recent: points.iter().filter(|p| p.time >= trend).collect(),
        last_whole: points
            .iter()
            .rev()
            .filter(|p| p.time + step <= now && p.time + step * (1.0 + FILLING) > now)
            .find(|p| finite(p.value) > 0.0),
    }
}

/// Buckets before now that may still be filling.
const FILLING: f64 = 3.0;

fn finite(value: f64) -> f64 {
    if value.is_finite() { value } else { 0.0 }
}

/// One version's counts from its errors' and requests' buckets.
fn counts(errors: &[Point], requests: &[Point], plan: &Plan, step: Duration) -> VersionRead {
    let (errors, requests) = (split(errors, plan, step), split(requests, plan, step));
    let total = |points: &[&Point]| points.iter().map(|p| finite(p.value)).sum::<f64>();
    // Buckets pair by time; an error bucket left out had no errors.
    let errors_at = |time: f64| {
        errors
            .recent
            .iter()
            .find(|e| e.time == time)
            .map_or(0.0, |e| finite(e.value))
    };
    VersionRead {
        figures: VersionFigures {
            window: (!requests.lifetime.is_empty()).then(|| WindowData::Counts {
                errors: total(&errors.lifetime),
                requests: total(&requests.lifetime),
            }),
            trend: requests
                .recent
                .iter()
                .filter(|r| finite(r.value) > 0.0)
                .map(|r| errors_at(r.time) / r.value)
                .collect(),
        },
        rps: Some(
            requests
                .last_whole
                .map_or(0.0, |r| finite(r.value) / step.as_secs_f64()),
        ),
    }
}

/// One version's series: each bucket a sample of its own requests.
fn series(points: &[Point], plan: &Plan, step: Duration) -> VersionRead {
    let split = split(points, plan, step);
    VersionRead {
        figures: VersionFigures {
            window: (!split.lifetime.is_empty()).then(|| WindowData::Samples {
                values: split.lifetime.iter().map(|p| p.value).collect(),
                every: step,
                span: step,
            }),
            trend: split
                .recent
                .iter()
                .map(|p| p.value)
                .filter(|v| v.is_finite())
                .collect(),
        },
        rps: None,
    }
}

impl<A: BucketApi> VersionReader for Bucketed<A> {
    fn ready(&self) -> BoxFuture<'_, Result<(), MetricsError>> {
        self.api.ready()
    }

    fn counts<'a>(
        &'a self,
        versions: &'a [CountQueries],
        plan: &'a Plan,
    ) -> BoxFuture<'a, Result<Vec<VersionRead>, MetricsError>> {
        Box::pin(async move {
            let range = self.range(plan);
            let queries: Vec<String> = versions
                .iter()
                .flat_map(|v| [v.errors.point.clone(), v.requests.point.clone()])
                .collect();
            let buckets = self.api.buckets(&queries, range).await?;
            Ok(buckets
                .chunks_exact(2)
                .map(|pair| counts(&pair[0], &pair[1], plan, range.step))
                .collect())
        })
    }

    fn series<'a>(
        &'a self,
        versions: &'a [String],
        plan: &'a Plan,
    ) -> BoxFuture<'a, Result<Vec<VersionRead>, MetricsError>> {
        Box::pin(async move {
            let range = self.range(plan);
            let buckets = self.api.buckets(versions, range).await?;
            Ok(buckets
                .iter()
                .map(|points| series(points, plan, range.step))
                .collect())
        })
    }

    fn resolution(&self) -> Resolution {
        Resolution::buckets(self.step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEP: Duration = Duration::from_secs(10);

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(second).unwrap()
    }

    fn points(from: i64, values: &[f64]) -> Vec<Point> {
        values
            .iter()
            .enumerate()
            .map(|(i, &value)| Point {
                time: (from + 10 * i as i64) as f64,
                value,
            })
            .collect()
    }

    #[test]
    fn counts_add_up_the_buckets_of_the_lifetime_and_rps_is_the_last_whole_bucket() {
        // The canary began at 1005; the reading is at 1041, in the bucket from 1040.
        let plan = Plan::new(at(1005), at(1041), Resolution::buckets(STEP));
        let requests = points(990, &[100.0, 200.0, 300.0, 400.0, 500.0, 60.0]);
        let errors = points(990, &[1.0, 2.0, f64::NAN, 4.0, 5.0, 6.0]);
        let read = counts(&errors, &requests, &plan, STEP);
        // Buckets from 1000 (it holds the start) to 1040 (still filling): not 990's.
        assert_eq!(
            read.figures.window,
            Some(WindowData::Counts {
                errors: 2.0 + 0.0 + 4.0 + 5.0 + 6.0,
                requests: 200.0 + 300.0 + 400.0 + 500.0 + 60.0
            })
        );
        assert_eq!(read.rps, Some(50.0));
        // The newest whole bucket still empty (the vendor's intake behind): the one before.
        let mut filling = requests.clone();
        filling[4].value = 0.0;
        assert_eq!(counts(&errors, &filling, &plan, STEP).rps, Some(40.0));
        // Nothing for four buckets: no traffic now.
        let quiet = Plan::new(at(1005), at(1081), Resolution::buckets(STEP));
        assert_eq!(counts(&errors, &requests, &quiet, STEP).rps, Some(0.0));
        assert_eq!(read.figures.trend.len(), 6);
        assert_eq!(read.figures.trend[2], 0.0);
    }

    #[test]
    fn a_series_is_a_sample_per_bucket_of_the_lifetime() {
        let plan = Plan::new(at(1000), at(1030), Resolution::buckets(STEP));
        let read = series(&points(980, &[0.1, 0.2, 0.3, f64::NAN, 0.5]), &plan, STEP);
        let Some(WindowData::Samples {
            values,
            every,
            span,
        }) = read.figures.window
        else {
            panic!("samples")
        };
        assert_eq!((values.len(), every, span), (3, STEP, STEP));
        assert_eq!(read.figures.trend, [0.1, 0.2, 0.3, 0.5]);
        assert!(series(&[], &plan, STEP).figures.window.is_none());
    }

    #[test]
    fn one_range_covers_the_lifetime_and_the_trend_in_bounded_buckets() {
        struct Never;
        impl BucketApi for Never {
            fn ready(&self) -> BoxFuture<'_, Result<(), MetricsError>> {
                unreachable!()
            }
            fn buckets<'a>(
                &'a self,
                _: &'a [String],
                _: Range,
            ) -> BoxFuture<'a, Result<Vec<Vec<Point>>, MetricsError>> {
                unreachable!()
            }
        }
        let bucketed = Bucketed::new(Never, STEP);
        let young = bucketed.range(&Plan::new(at(10_000), at(10_120), bucketed.resolution()));
        assert_eq!((young.start, young.step), (at(10_120 - 900), STEP));
        let old = bucketed.range(&Plan::new(at(0), at(24_000), bucketed.resolution()));
        assert_eq!((old.start, old.step), (at(0), Duration::from_secs(100)));
    }
}
