//! The latency histogram and the draws that fill it: log-normal latencies as bucket
//! shares, binomial draws of failures and of requests per bucket, and Prometheus'
//! `histogram_quantile` to read a quantile back.

/// Upper bounds of the latency histogram's buckets, in seconds (Prometheus' defaults).
pub const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Cumulative counts of one status code's requests: all, per latency bucket, and their
/// summed latency.
#[derive(Debug, Default)]
pub(super) struct CodeCounts {
    pub requests: u64,
    pub buckets: [u64; BUCKETS.len()],
    pub sum: f64,
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

/// A log-normal latency with a given median and 99th percentile, as the histogram sees it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Latency {
    /// The share of requests at or below each bucket's bound.
    cdf: [f64; BUCKETS.len()],
    mean: f64,
}

impl Latency {
    pub fn new(p50: f64, p99: f64) -> Latency {
        let mu = p50.ln();
        let sigma = ((p99 / p50).ln() / 2.326_348).max(1e-6);
        Latency {
            cdf: BUCKETS.map(|le| normal_cdf((le.ln() - mu) / sigma)),
            mean: (mu + sigma * sigma / 2.0).exp(),
        }
    }

    /// Counts `n` requests, each falling in a bucket at random (a multinomial draw, bucket
    /// by bucket).
    pub fn add(&self, counts: &mut CodeCounts, rng: &mut fastrand::Rng, n: u64) {
        counts.requests += n;
        counts.sum += n as f64 * self.mean;
        let (mut below, mut cdf_below, mut left) = (0, 0.0, n);
        for (bucket, cdf) in counts.buckets.iter_mut().zip(self.cdf) {
            if left > 0 && cdf_below < 1.0 {
                let within = binomial(
                    rng,
                    left,
                    ((cdf - cdf_below) / (1.0 - cdf_below)).clamp(0.0, 1.0),
                );
                below += within;
                left -= within;
            }
            cdf_below = cdf;
            *bucket += below;
        }
    }
}

/// A draw from Binomial(n, p): exact by inversion while `n·p` is small (the tails that
/// errors and p99s are made of), the normal approximation beyond.
pub(super) fn binomial(rng: &mut fastrand::Rng, n: u64, p: f64) -> u64 {
    if p > 0.5 {
        return n - binomial(rng, n, 1.0 - p);
    }
    let mean = n as f64 * p;
    if n == 0 || p <= 0.0 {
        return 0;
    }
    if mean < 30.0 {
        let odds = p / (1.0 - p);
        let mut pmf = (1.0 - p).powf(n as f64);
        let mut u = rng.f64();
        let mut k = 0;
        while u > pmf && k < n {
            u -= pmf;
            pmf *= (n - k) as f64 / (k + 1) as f64 * odds;
            k += 1;
        }
        return k;
    }
    // Box-Muller.
    let z = (-2.0 * (1.0 - rng.f64()).ln()).sqrt() * (std::f64::consts::TAU * rng.f64()).cos();
    (mean + z * (mean * (1.0 - p)).sqrt())
        .round()
        .clamp(0.0, n as f64) as u64
}

/// The `q` quantile of a histogram with cumulative counts per bucket of [`BUCKETS`] and
/// `count` in all, as Prometheus' `histogram_quantile`: linear within the bucket holding
/// the rank, the highest finite bound when the rank falls beyond it, NaN when empty.
pub fn histogram_quantile(q: f64, cumulative: &[u64; BUCKETS.len()], count: u64) -> f64 {
    if count == 0 {
        return f64::NAN;
    }
    let rank = q * count as f64;
    let mut below = (0.0, 0);
    for (le, &c) in BUCKETS.iter().zip(cumulative) {
        if c as f64 >= rank {
            let (lower, lower_count) = below;
            let in_bucket = (c - lower_count) as f64;
            return lower + (le - lower) * (rank - lower_count as f64) / in_bucket;
        }
        below = (*le, c);
    }
    BUCKETS[BUCKETS.len() - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_within_the_bucket_as_prometheus_does() {
        let mut cumulative = [0u64; BUCKETS.len()];
        // 50 requests at or below 0.1 s, 100 at or below 0.25 s.
        for (i, le) in BUCKETS.iter().enumerate() {
            cumulative[i] = if *le < 0.1 {
                0
            } else if *le < 0.25 {
                50
            } else {
                100
            };
        }
        assert!((histogram_quantile(0.5, &cumulative, 100) - 0.1).abs() < 1e-12);
        assert!((histogram_quantile(0.99, &cumulative, 100) - 0.247).abs() < 1e-12);
        assert!(histogram_quantile(0.99, &[0; BUCKETS.len()], 0).is_nan());
        // Beyond the last finite bound: that bound.
        assert_eq!(histogram_quantile(0.99, &[0; BUCKETS.len()], 5), 10.0);
    }

    #[test]
    fn binomial_draws_have_the_binomial_mean_and_spread() {
        let mut rng = fastrand::Rng::with_seed(3);
        for (n, p) in [(120, 0.001), (600, 0.04), (2400, 0.4), (500, 0.97)] {
            let draws: Vec<f64> = (0..4000).map(|_| binomial(&mut rng, n, p) as f64).collect();
            let mean = draws.iter().sum::<f64>() / draws.len() as f64;
            let var = draws.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / draws.len() as f64;
            let (expected, expected_var) = (n as f64 * p, n as f64 * p * (1.0 - p));
            assert!(
                (mean - expected).abs() < 4.0 * (expected_var / 4000.0).sqrt() + 1e-9,
                "n {n} p {p}: mean {mean}"
            );
            assert!(
                (var / expected_var - 1.0).abs() < 0.15,
                "n {n} p {p}: variance {var} vs {expected_var}"
            );
        }
        assert_eq!(binomial(&mut rng, 0, 0.5), 0);
        assert_eq!(binomial(&mut rng, 10, 0.0), 0);
        assert_eq!(binomial(&mut rng, 10, 1.0), 10);
    }

    #[test]
    fn the_normal_cdf_is_accurate() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(2.326_348) - 0.99).abs() < 1e-5);
        assert!((normal_cdf(-1.0) - 0.158_655).abs() < 1e-5);
    }
}
