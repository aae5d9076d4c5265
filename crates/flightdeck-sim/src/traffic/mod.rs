//! The traffic model: each version (pod-template hash) of each rollout serves a share of its
//! rollout's requests, set by the weights the controller writes, with that version's error
//! rate and latency. It advances one simulated second at a time; the noise comes from the
//! seed, the version and the second, so a seed and a simulated time give the same counts.
//! Each request fails, and falls in a latency bucket, at random with the version's
//! probabilities, as real requests do: a judge measured on this traffic meets the
//! sampling noise of real counts and histograms.

mod handle;
mod histogram;

use std::collections::{BTreeMap, VecDeque};

use jiff::Timestamp;

pub use handle::TrafficHandle;
pub use histogram::{BUCKETS, histogram_quantile};
use histogram::{CodeCounts, Latency, binomial};

/// Seconds of per-second counts kept for rates and analysis measurements.
const RECENT: usize = 120;
/// Seconds of traffic one history interval sums.
pub const INTERVAL_SECONDS: u64 = 10;
/// Intervals of history kept per version: an hour.
const INTERVALS_KEPT: usize = 360;

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

/// One version's traffic over one interval of its history (all status codes together).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrafficInterval {
    pub end: Timestamp,
    pub requests: u32,
    pub errors: u32,
    /// The 99th percentile latency of the interval's requests, seconds, read from the
    /// histogram as Prometheus' `histogram_quantile` does; NaN without requests.
    pub p99: f32,
}

/// Kept compactly: scale runs hold thousands of versions.
#[derive(Debug, Clone, Copy)]
struct Interval {
    /// Seconds since the model's start.
    end: u32,
    requests: u32,
    errors: u32,
    p99: f32,
}

/// Cumulative counts where the interval in progress began.
#[derive(Debug, Default)]
struct IntervalStart {
    requests: u64,
    errors: u64,
    buckets: [u64; BUCKETS.len()],
    /// Whether the version shared its rollout's traffic (0 < weight < 100) at some second
    /// of the interval. Only such intervals are kept: they are the ones a canary is judged
    /// on, and versions serving all or nothing are most of a scale run.
    shared: bool,
}

#[derive(Debug)]
struct Series {
    behaviour: Behaviour,
    /// The behaviour's latencies of successful and of failed requests.
    ok_latency: Latency,
    error_latency: Latency,
    weight: f64,
    ok: CodeCounts,
    errors: CodeCounts,
    /// (requests, errors) per recent second, newest last.
    recent: VecDeque<(u32, u32)>,
    interval_start: IntervalStart,
    /// Intervals while the version shared traffic, oldest first.
    history: VecDeque<Interval>,
}

pub struct TrafficModel {
    seed: u64,
    /// Noise depends on seconds since here, so runs started at different times agree.
    start: Timestamp,
    now: Timestamp,
    series: BTreeMap<VersionKey, Series>,
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
                ok_latency: Latency::new(behaviour.p50, behaviour.p99),
                error_latency: Latency::new(behaviour.error_p50, behaviour.error_p99),
                weight: 0.0,
                ok: CodeCounts::default(),
                errors: CodeCounts::default(),
                recent: VecDeque::new(),
                interval_start: IntervalStart::default(),
                history: VecDeque::new(),
            });
            series.weight = *weight;
            if series.behaviour != *behaviour {
                series.ok_latency = Latency::new(behaviour.p50, behaviour.p99);
                series.error_latency = Latency::new(behaviour.error_p50, behaviour.error_p99);
            }
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
            let errors = binomial(&mut rng, n, b.error_rate);
            series.ok_latency.add(&mut series.ok, &mut rng, n - errors);
            series
                .error_latency
                .add(&mut series.errors, &mut rng, errors);
            series.recent.push_back((n as u32, errors as u32));
            if series.recent.len() > RECENT {
                series.recent.pop_front();
            }
            series.interval_start.shared |= series.weight > 0.0 && series.weight < 100.0;
            if second.is_multiple_of(INTERVAL_SECONDS) {
                series.close_interval(second);
            }
        }
    }

    /// The history of one version, oldest first: its intervals while it shared traffic.
    pub fn history(&self, key: &VersionKey) -> Vec<TrafficInterval> {
        let Some(series) = self.series.get(key) else {
            return Vec::new();
        };
        series
            .history
            .iter()
            .map(|i| TrafficInterval {
                end: self.start + jiff::SignedDuration::from_secs(i64::from(i.end)),
                requests: i.requests,
                errors: i.errors,
                p99: i.p99,
            })
            .collect()
    }

    pub fn now(&self) -> Timestamp {
        self.now
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

impl Series {
    fn close_interval(&mut self, second: u64) {
        let mut buckets = [0; BUCKETS.len()];
        for (i, b) in buckets.iter_mut().enumerate() {
            *b = self.ok.buckets[i] + self.errors.buckets[i];
        }
        let requests = self.ok.requests + self.errors.requests;
        let start = std::mem::replace(
            &mut self.interval_start,
            IntervalStart {
                requests,
                errors: self.errors.requests,
                buckets,
                shared: false,
            },
        );
        if !start.shared {
            return;
        }
        let mut delta = [0; BUCKETS.len()];
        for (i, d) in delta.iter_mut().enumerate() {
            *d = buckets[i] - start.buckets[i];
        }
        let count = requests - start.requests;
        self.history.push_back(Interval {
            end: u32::try_from(second).unwrap_or(u32::MAX),
            requests: u32::try_from(count).unwrap_or(u32::MAX),
            errors: u32::try_from(self.errors.requests - start.errors).unwrap_or(u32::MAX),
            p99: histogram_quantile(0.99, &delta, count) as f32,
        });
        if self.history.len() > INTERVALS_KEPT {
            self.history.pop_front();
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
    fn history_keeps_intervals_while_a_version_shares_traffic() {
        let mut model = TrafficModel::new(7, Timestamp::UNIX_EPOCH);
        let split = |model: &mut TrafficModel, canary: f64| {
            model.set_split(
                "shop",
                "checkout",
                &[
                    ("stable".into(), 100.0 - canary, behaviour(0.001)),
                    ("canary".into(), canary, behaviour(0.4)),
                ],
            );
        };
        split(&mut model, 0.0);
        for s in 1..=30 {
            model.step(Timestamp::from_second(s).unwrap());
        }
        split(&mut model, 20.0);
        for s in 31..=60 {
            model.step(Timestamp::from_second(s).unwrap());
        }
        let key = |hash: &str| VersionKey {
            namespace: "shop".into(),
            rollout: "checkout".into(),
            pod_template_hash: hash.into(),
        };
        let canary = model.history(&key("canary"));
        let stable = model.history(&key("stable"));
        let ends: Vec<i64> = canary.iter().map(|i| i.end.as_second()).collect();
        assert_eq!(ends, [40, 50, 60], "only intervals with shared traffic");
        assert_eq!(stable.len(), 3);
        let requests: u32 = canary.iter().map(|i| i.requests).sum();
        let errors: u32 = canary.iter().map(|i| i.errors).sum();
        assert!((500..700).contains(&requests), "{requests}");
        assert!((errors as f64 / requests as f64 - 0.4).abs() < 0.05);
        for i in &canary {
            // Successful requests' p99 is 0.2 s, failed ones take 0.5 s: 40% fail.
            assert!(i.p99 > 0.25 && i.p99 <= 1.0, "{}", i.p99);
        }
        for i in &stable {
            assert!(i.p99 > 0.1 && i.p99 <= 0.25, "{}", i.p99);
        }
    }
}
