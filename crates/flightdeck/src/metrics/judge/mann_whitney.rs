//! Mann-Whitney U (Wilcoxon rank-sum) test with the Hodges-Lehmann shift and
//! its confidence interval, following R's `wilcox.test(canary, baseline,
//! conf.int = TRUE)`, which Kayenta's `MannWhitney` ports.
//!
//! - **Estimate**: the Hodges-Lehmann shift, the median of all `m·n`
//!   differences `canary_i − baseline_j`. (R's large-sample branch finds the
//!   same point by root-finding; where the middle two differences differ it
//!   lands anywhere between them, we take their midpoint.)
//! - **Interval**: order statistics of those differences, picked by the
//!   Mann-Whitney critical value. With fewer than 50 values on each side and
//!   no ties, the critical value comes from the exact distribution of U
//!   (`qwilcox`). Otherwise from the normal approximation with the tie
//!   correction of the variance and a continuity correction: the bound is
//!   the difference at which the standardised U statistic of
//!   `(canary − μ, baseline)` crosses the normal quantile, the point R's
//!   `uniroot` converges to, found here exactly by walking the sorted
//!   differences.
//! - **Ties** get mid-ranks. They switch off the exact branch (its
//!   distribution assumes none) and reduce the variance by
//!   `Σ(t³ − t) / ((m + n)(m + n − 1))` over tie groups of size t.
//! - **p-value**: two-sided, exact or normal with continuity correction,
//!   on the same rule as the interval.

use std::cmp::Ordering;

use statrs::distribution::{ContinuousCDF, Normal};

/// Samples per side below which (and without ties) the exact distribution is used, as in R.
const EXACT_BELOW: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShiftTest {
    /// Hodges-Lehmann estimate of canary − baseline.
    pub estimate: f64,
    pub lower: f64,
    pub upper: f64,
    pub p_value: f64,
}

/// Why no interval can be computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShiftTestError {
    EmptySample,
    /// Every observation on both sides has the same value: no spread to rank.
    AllTied,
}

/// Tests canary against baseline at `confidence` (e.g. 0.98). Samples must be finite.
pub fn shift_test(
    canary: &[f64],
    baseline: &[f64],
    confidence: f64,
) -> Result<ShiftTest, ShiftTestError> {
    let (m, n) = (canary.len(), baseline.len());
    if m == 0 || n == 0 {
        return Err(ShiftTestError::EmptySample);
    }
    let mut diffs: Vec<f64> = canary
        .iter()
        .flat_map(|c| baseline.iter().map(move |b| c - b))
        .collect();
    diffs.sort_by(f64::total_cmp);
    let estimate = median_of_sorted(&diffs);

    let mut pooled: Vec<f64> = canary.iter().chain(baseline).copied().collect();
    pooled.sort_by(f64::total_cmp);
    let pooled_ties = tie_term(&pooled);
    let alpha = 1.0 - confidence;
    // U of the canary: pairs where canary > baseline, ties counting half.
    let u = diffs
        .iter()
        .map(|d| match d.total_cmp(&0.0) {
            Ordering::Greater => 1.0,
            Ordering::Equal => 0.5,
            Ordering::Less => 0.0,
        })
        .sum::<f64>();

    if m < EXACT_BELOW && n < EXACT_BELOW && pooled_ties == 0.0 {
        let dist = UDistribution::new(m, n);
        // u is a whole number here: no ties.
        let u = u as usize;
        let half = (m * n) as f64 / 2.0;
        // P(U ≥ u) = P(U ≤ mn − u) by symmetry, without cancellation.
        let tail = dist.cdf(if u as f64 > half { m * n - u } else { u });
        let qu = dist.quantile(alpha / 2.0).max(1);
        return Ok(ShiftTest {
            estimate,
            lower: diffs[qu - 1],
            upper: diffs[m * n - qu],
            p_value: (2.0 * tail).min(1.0),
        });
    }

    let normal = Normal::standard();
    let sigma_at_zero = sigma(m, n, pooled_ties);
    if sigma_at_zero == 0.0 {
        return Err(ShiftTestError::AllTied);
    }
    let z = corrected(u - (m * n) as f64 / 2.0) / sigma_at_zero;
    let p_value = (2.0 * normal.cdf(-z.abs())).min(1.0);

    // Away from the differences themselves, the ties of (canary − μ, baseline)
    // are the ties within each sample, so σ is one constant there.
    let within_ties = {
        let mut c = canary.to_vec();
        c.sort_by(f64::total_cmp);
        let mut b = baseline.to_vec();
        b.sort_by(f64::total_cmp);
        tie_term(&c) + tie_term(&b)
    };
    // Positive: ties within the samples fall short of N³ − N by 3mn(m + n).
    let sigma_between = sigma(m, n, within_ties);
    let zq = normal.inverse_cdf(1.0 - alpha / 2.0);
    Ok(ShiftTest {
        estimate,
        lower: crossing(&diffs, m * n, sigma_between, zq),
        upper: crossing(&diffs, m * n, sigma_between, -zq),
        p_value,
    })
}

/// The μ at which `(U(μ) − mn/2 ∓ ½) / σ`, a step function falling by a
/// step at each difference, crosses `zq`; clamped to the smallest and
/// largest difference as R's `wilcox.test` does.
fn crossing(sorted_diffs: &[f64], mn: usize, sigma: f64, zq: f64) -> f64 {
    let standardised = |above: usize| corrected(above as f64 - mn as f64 / 2.0) / sigma - zq;
    // Left of every difference, all mn pairs have canary − μ > baseline.
    if standardised(mn) <= 0.0 {
        return sorted_diffs[0];
    }
    let mut i = 0;
    while i < sorted_diffs.len() {
        let value = sorted_diffs[i];
        let next = i + sorted_diffs[i..].partition_point(|d| *d == value);
        let above = mn - next;
        let f = standardised(above);
        if f < 0.0 {
            return value;
        }
        if f == 0.0 {
            // Flat at the target on (value, next value): R returns a point in
            // there; the midpoint is as good as any.
            return sorted_diffs.get(next).map_or(value, |n| (value + n) / 2.0);
        }
        i = next;
    }
    sorted_diffs[mn - 1]
}

/// Continuity correction towards zero by one half.
fn corrected(dz: f64) -> f64 {
    match dz.total_cmp(&0.0) {
        Ordering::Greater => dz - 0.5,
        Ordering::Less => dz + 0.5,
        Ordering::Equal => 0.0,
    }
}

/// Standard deviation of U with the tie correction.
fn sigma(m: usize, n: usize, ties: f64) -> f64 {
    let (m, n) = (m as f64, n as f64);
    ((m * n / 12.0) * ((m + n + 1.0) - ties / ((m + n) * (m + n - 1.0)))).sqrt()
}

/// `Σ (t³ − t)` over groups of equal values in a sorted slice.
fn tie_term(sorted: &[f64]) -> f64 {
    sorted
        .chunk_by(|a, b| a == b)
        .map(|g| {
            let t = g.len() as f64;
            t * t * t - t
        })
        .sum()
}

fn median_of_sorted(v: &[f64]) -> f64 {
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

/// Exact null distribution of U for sample sizes m and n without ties.
struct UDistribution {
    /// Cumulative probabilities P(U ≤ u), u = 0..=mn.
    cumulative: Vec<f64>,
}

impl UDistribution {
    /// The counts are the coefficients of the Gaussian binomial
    /// `[m+n choose m]_q = Π_{i=1..m} (1 − q^{n+i}) / (1 − q^i)`, computed in
    /// exact integers (C(98, 49) < 2^127).
    fn new(m: usize, n: usize) -> Self {
        let mut counts = vec![0i128; m * n + 1];
        counts[0] = 1;
        for i in 1..=m {
            // Multiply by (1 − q^{n+i}), highest powers first.
            for k in (n + i..counts.len()).rev() {
                counts[k] -= counts[k - n - i];
            }
            // Divide by (1 − q^i): a running sum with stride i.
            for k in i..counts.len() {
                counts[k] += counts[k - i];
            }
        }
        let total: i128 = counts.iter().sum();
        let mut running = 0i128;
        let cumulative = counts
            .iter()
            .map(|c| {
                running += c;
                running as f64 / total as f64
            })
            .collect();
        Self { cumulative }
    }

    fn cdf(&self, u: usize) -> f64 {
        self.cumulative[u]
    }

    /// Smallest u with P(U ≤ u) ≥ p (R's `qwilcox`).
    fn quantile(&self, p: f64) -> usize {
        // R compares with a small fuzz so that p equal to a cumulative
        // probability lands on it despite rounding.
        self.cumulative
            .partition_point(|c| *c < p * (1.0 - 64.0 * f64::EPSILON))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_distribution_is_symmetric_and_sums_to_one() {
        let d = UDistribution::new(4, 6);
        // P(U ≤ 0) = 1 / C(10, 4)
        assert!((d.cdf(0) - 1.0 / 210.0).abs() < 1e-15);
        assert_eq!(d.cdf(24), 1.0);
        for u in 0..24 {
            let p_le = d.cdf(u);
            let p_ge_mirror = 1.0 - d.cdf(24 - u - 1);
            assert!((p_le - p_ge_mirror).abs() < 1e-12, "u={u}");
        }
    }

    #[test]
    fn large_exact_sizes_do_not_overflow() {
        let d = UDistribution::new(49, 49);
        assert!((d.cumulative[49 * 49] - 1.0).abs() < 1e-12);
        assert!(d.cdf(0) > 0.0);
    }

    #[test]
    fn empty_and_all_tied_samples_are_errors() {
        assert_eq!(
            shift_test(&[], &[1.0], 0.98),
            Err(ShiftTestError::EmptySample)
        );
        assert_eq!(
            shift_test(&[2.0; 60], &[2.0; 60], 0.98),
            Err(ShiftTestError::AllTied)
        );
    }
}
