//! The traffic model: each version (pod-template hash) of each rollout serves a share of its
//! rollout's requests, set by the weights the controller writes, with that version's error
//! rate and latency. It advances one simulated second at a time; the noise comes from the
//! seed, the version and the second, so a seed and a simulated time give the same counts.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use jiff::Timestamp;

/// Upper bounds of the latency histogram's buckets, in seconds (Prometheus' defaults).
pub const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Seconds of per-second counts kept for rates and analysis measurements.
const RECENT: usize = 120;

/// How one version of a service behaves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Behaviour {
    /// Requests per second the whole rollout serves (all versions together).
    pub rps: f64,
    pub error_rate: f64,
    /// The status code failed requests get.
    pub error_code: u16,
    /// Latency of successful requests: median and 99th percentile, seconds.
    pub p50: f64,
    pub p99: f64,
    /// Latency of failed requests (a timeout fails at the timeout).
    pub error_p50: f64,
    pub error_p99: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VersionKey {
    pub namespace: String,
    pub rollout: String,
    pub pod_template_hash: String,
}

/// Cumulative figures for one status code of one version.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeTraffic {
    pub code: u16,
    pub requests: u64,
    /// Cumulative counts per bucket upper bound, as in a Prometheus histogram (`+Inf` is `requests`).
    pub latency_buckets: Vec<(f64, u64)>,
    pub latency_sum_seconds: f64,
}

/// One version's traffic at the snapshot's time.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionTraffic {
    pub namespace: String,
    pub rollout: String,
    pub pod_template_hash: String,
    /// Share of the rollout's traffic this version gets now, 0-100.
    pub weight: f64,
    /// Requests per second over the last simulated second.
    pub rps: f64,
    pub by_code: Vec<CodeTraffic>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TrafficSnapshot {
    /// The simulated time of the last second counted.
    pub at: Timestamp,
    pub versions: Vec<VersionTraffic>,
}

#[derive(Debug, Default)]
struct CodeCounts {
    requests: u64,
    buckets: [u64; BUCKETS.len()],
    sum: f64,
}

#[derive(Debug)]
struct Series {
    behaviour: Behaviour,
    weight: f64,
    ok: CodeCounts,
    errors: CodeCounts,
    /// (requests, errors) per recent second, newest last.
    recent: VecDeque<(u32, u32)>,
}

pub struct TrafficModel {
    seed: u64,
    /// Noise depends on seconds since here, so runs started at different times agree.
    start: Timestamp,
    now: Timestamp,
    series: BTreeMap<VersionKey, Series>,
}

/// The standard normal CDF (Abramowitz and Stegun 7.1.26, error below 1.5e-7).
fn normal_cdf(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-x * x).exp();
    if z >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

/// Latency is log-normal with the given median and 99th percentile.
fn add_latencies(counts: &mut CodeCounts, n: u64, p50: f64, p99: f64) {
    let mu = p50.ln();
    let sigma = ((p99 / p50).ln() / 2.326_348).max(1e-6);
    counts.requests += n;
    for (bucket, le) in counts.buckets.iter_mut().zip(BUCKETS) {
        *bucket += (n as f64 * normal_cdf((le.ln() - mu) / sigma)).round() as u64;
    }
    counts.sum += n as f64 * (mu + sigma * sigma / 2.0).exp();
}

impl TrafficModel {
    pub fn new(seed: u64, now: Timestamp) -> Self {
        TrafficModel {
            seed,
            start: now,
            now,
            series: BTreeMap::new(),
        }
    }

    /// Set the traffic split of one rollout: (version, weight 0-100, behaviour) per version.
    /// Versions no longer listed keep their counters at weight 0 until [`Self::forget`].
    pub fn set_split(
        &mut self,
        namespace: &str,
        rollout: &str,
        split: &[(String, f64, Behaviour)],
    ) {
        let range_start = VersionKey {
            namespace: namespace.into(),
            rollout: rollout.into(),
            pod_template_hash: String::new(),
        };
        for (key, series) in self.series.range_mut(range_start..) {
            if key.namespace != namespace || key.rollout != rollout {
                break;
            }
            series.weight = 0.0;
        }
        for (hash, weight, behaviour) in split {
            let key = VersionKey {
                namespace: namespace.into(),
                rollout: rollout.into(),
                pod_template_hash: hash.clone(),
            };
            let series = self.series.entry(key).or_insert_with(|| Series {
                behaviour: *behaviour,
                weight: 0.0,
                ok: CodeCounts::default(),
                errors: CodeCounts::default(),
                recent: VecDeque::new(),
            });
            series.weight = *weight;
            series.behaviour = *behaviour;
        }
    }

    /// Drop a version's counters (its ReplicaSet is gone).
    pub fn forget(&mut self, key: &VersionKey) {
        self.series.remove(key);
    }

    /// Count one simulated second of traffic ending at `now`.
    pub fn step(&mut self, now: Timestamp) {
        let second = (now.as_second() - self.start.as_second()) as u64;
        self.now = now;
        for (key, series) in &mut self.series {
            let mut rng = fastrand::Rng::with_seed(
                self.seed ^ second.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ key_hash(key),
            );
            let b = series.behaviour;
            let expected = b.rps * series.weight / 100.0;
            let n = (expected * (0.9 + 0.2 * rng.f64())).round() as u64;
            let error_expected = n as f64 * b.error_rate;
            let errors = ((error_expected + (rng.f64() - 0.5) * error_expected.sqrt() * 2.0)
                .round()
                .max(0.0) as u64)
                .min(n);
            add_latencies(&mut series.ok, n - errors, b.p50, b.p99);
            add_latencies(&mut series.errors, errors, b.error_p50, b.error_p99);
            series.recent.push_back((n as u32, errors as u32));
            if series.recent.len() > RECENT {
                series.recent.pop_front();
            }
        }
    }

    /// Share of successful requests over the last `seconds`; `None` without requests.
    pub fn success_rate(&self, key: &VersionKey, seconds: usize) -> Option<f64> {
        let series = self.series.get(key)?;
        let (n, errors) = series
            .recent
            .iter()
            .rev()
            .take(seconds.max(1))
            .fold((0u64, 0u64), |(n, e), (dn, de)| {
                (n + u64::from(*dn), e + u64::from(*de))
            });
        (n > 0).then(|| 1.0 - errors as f64 / n as f64)
    }

    pub fn snapshot(&self) -> TrafficSnapshot {
        let versions = self
            .series
            .iter()
            .map(|(key, s)| {
                let code = |code: u16, c: &CodeCounts| CodeTraffic {
                    code,
                    requests: c.requests,
                    latency_buckets: BUCKETS
                        .iter()
                        .copied()
                        .zip(c.buckets.iter().copied())
                        .collect(),
                    latency_sum_seconds: c.sum,
                };
                VersionTraffic {
                    namespace: key.namespace.clone(),
                    rollout: key.rollout.clone(),
                    pod_template_hash: key.pod_template_hash.clone(),
                    weight: s.weight,
                    rps: s.recent.back().map(|(n, _)| *n as f64).unwrap_or(0.0),
                    by_code: vec![code(200, &s.ok), code(s.behaviour.error_code, &s.errors)],
                }
            })
            .collect();
        TrafficSnapshot {
            at: self.now,
            versions,
        }
    }
}

fn key_hash(key: &VersionKey) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key
        .namespace
        .bytes()
        .chain([0])
        .chain(key.rollout.bytes())
        .chain([0])
        .chain(key.pod_template_hash.bytes())
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// A shared handle on one simulated cluster's traffic model, for `/metrics` and for an
/// in-process metrics source.
#[derive(Clone)]
pub struct TrafficHandle(pub(super) Arc<Mutex<TrafficModel>>);

impl TrafficHandle {
    pub fn snapshot(&self) -> TrafficSnapshot {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).snapshot()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn behaviour(error_rate: f64) -> Behaviour {
        Behaviour {
            rps: 100.0,
            error_rate,
            error_code: 500,
            p50: 0.05,
            p99: 0.2,
            error_p50: 0.5,
            error_p99: 0.51,
        }
    }

    #[test]
    fn weights_split_traffic_and_counts_repeat_for_a_seed() {
        let run = || {
            let mut model = TrafficModel::new(7, Timestamp::UNIX_EPOCH);
            model.set_split(
                "shop",
                "checkout",
                &[
                    ("stable".into(), 80.0, behaviour(0.001)),
                    ("canary".into(), 20.0, behaviour(0.4)),
                ],
            );
            for s in 1..=600 {
                model.step(Timestamp::from_second(s).unwrap());
            }
            model.snapshot()
        };
        let (a, b) = (run(), run());
        assert_eq!(a, b);
        let total = |v: &VersionTraffic| v.by_code.iter().map(|c| c.requests).sum::<u64>();
        let canary = a
            .versions
            .iter()
            .find(|v| v.pod_template_hash == "canary")
            .unwrap();
        let stable = a
            .versions
            .iter()
            .find(|v| v.pod_template_hash == "stable")
            .unwrap();
        let share = total(canary) as f64 / (total(canary) + total(stable)) as f64;
        assert!((share - 0.2).abs() < 0.02, "canary share {share}");
        let error_share = canary.by_code[1].requests as f64 / total(canary) as f64;
        assert!(
            (error_share - 0.4).abs() < 0.03,
            "canary errors {error_share}"
        );
        let buckets = &canary.by_code[0].latency_buckets;
        assert!(
            buckets.windows(2).all(|w| w[0].1 <= w[1].1),
            "cumulative buckets"
        );
    }

    #[test]
    fn the_normal_cdf_is_accurate() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(2.326_348) - 0.99).abs() < 1e-5);
        assert!((normal_cdf(-1.0) - 0.158_655).abs() < 1e-5);
    }
}
