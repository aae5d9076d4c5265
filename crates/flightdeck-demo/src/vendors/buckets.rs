//! The simulator's traffic history in a vendor's buckets: each 10 s interval of the model
//! goes to the bucket its start falls in, buckets starting on the epoch's multiples of
//! their size (as Datadog aligns its rollups). Counts add up; a bucket of one interval
//! has that interval's p99, of several the mean of theirs weighted by requests (the
//! history keeps each interval's p99, not its histogram: an approximation, used only when
//! a canary is older than 40 minutes and the buckets grow).

use flightdeck_sim::{INTERVAL_SECONDS, TrafficHandle, TrafficInterval, VersionKey};

/// One bucket of one version.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// Unix seconds.
    pub start: i64,
    pub requests: u64,
    pub errors: u64,
    /// None without requests.
    pub p99: Option<f64>,
}

/// The buckets of `step` seconds from the one holding `from` up to `to` (Unix seconds),
/// empty ones included.
pub fn buckets(history: &[TrafficInterval], from: i64, to: i64, step: i64) -> Vec<Bucket> {
    let first = from - from.rem_euclid(step);
    (0..)
        .map(|i| first + i * step)
        .take_while(|start| *start < to)
        .map(|start| {
            let inside: Vec<&TrafficInterval> = history
                .iter()
                .filter(|i| {
                    let began = i.end.as_second() - INTERVAL_SECONDS as i64;
                    began >= start && began < start + step
                })
                .collect();
            let requests: u64 = inside.iter().map(|i| u64::from(i.requests)).sum();
            let weighted: f64 = inside
                .iter()
                .filter(|i| i.p99.is_finite())
                .map(|i| f64::from(i.p99) * f64::from(i.requests))
                .sum();
            Bucket {
                start,
                requests,
                errors: inside.iter().map(|i| u64::from(i.errors)).sum(),
                p99: (requests > 0).then(|| weighted / requests as f64),
            }
        })
        .collect()
}

/// The history of the version of `rollout` with pod-template hash `hash`, found in the
/// model by those two (vendors' tags carry no namespace); None when the model has no
/// such version.
pub fn history_of(
    traffic: &TrafficHandle,
    rollout: &str,
    hash: &str,
) -> Option<Vec<TrafficInterval>> {
    let version = traffic
        .snapshot()
        .versions
        .into_iter()
        .find(|v| v.rollout == rollout && v.pod_template_hash == hash)?;
    Some(traffic.history(&VersionKey {
        namespace: version.namespace,
        rollout: version.rollout,
        pod_template_hash: version.pod_template_hash,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interval(end: i64, requests: u32, errors: u32, p99: f32) -> TrafficInterval {
        TrafficInterval {
            end: jiff::Timestamp::from_second(end).unwrap(),
            requests,
            errors,
            p99,
        }
    }

    #[test]
    fn intervals_fall_in_the_bucket_of_their_start() {
        let history = [
            interval(1_013, 100, 1, 0.2),
            interval(1_023, 300, 3, 0.4),
            interval(1_033, 0, 0, f32::NAN),
        ];
        let tens = buckets(&history, 1_001, 1_040, 10);
        assert_eq!(
            tens.iter().map(|b| b.start).collect::<Vec<_>>(),
            [1_000, 1_010, 1_020, 1_030]
        );
        assert_eq!((tens[0].requests, tens[0].errors), (100, 1));
        assert_eq!(tens[3].p99, None);
        let twenties = buckets(&history, 1_000, 1_040, 20);
        assert_eq!((twenties[0].requests, twenties[0].errors), (400, 4));
        let p99 = twenties[0].p99.unwrap();
        assert!(
            (p99 - (0.2 * 100.0 + 0.4 * 300.0) / 400.0).abs() < 1e-6,
            "{p99}"
        );
    }
}
