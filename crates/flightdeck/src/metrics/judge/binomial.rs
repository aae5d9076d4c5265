//! Exact conditional test comparing two error rates from counts.
//!
//! The canary served `n_c` requests with `e_c` errors, the baseline `n_b`
//! with `e_b`. Treat errors as Poisson (or binomial) with rates proportional
//! to the requests served. Given the total `k = e_c + e_b`, the canary's
//! share is `Binomial(k, p)` with `p = n_c / (n_c + n_b)` when the rates are
//! equal, whatever the common rate is. That makes the test exact for any
//! traffic level and free of the nuisance rate, where a ratio of two
//! `rate()` values has no known distribution and hides how many requests
//! stand behind it (1 error in 10 and 1,000 in 10,000 look the same). This
//! is why the judge wants `increase()` counts over the canary's lifetime.
//!
//! - **p-value**: two-sided, summing the outcomes no more likely than the
//!   observed one (R's `binom.test`, SciPy's `binomtest`), with their
//!   relative tolerance of 1e-7 for ties in probability.
//! - **Interval**: Clopper-Pearson for the share `p̂ = e_c / k`, mapped to
//!   the rate ratio `ρ = (p / (1 − p)) · (n_b / n_c)`, which is monotone in `p`.
//! - `increase()` extrapolates to the window's edges, so counts arrive
//!   fractional: error counts are rounded to whole events; request totals
//!   only weigh the sides and stay as they are.

use statrs::function::beta::{beta_reg, inv_beta_reg};
use statrs::function::factorial::ln_binomial;

/// Relative tolerance for "as likely as the observed outcome" (R, SciPy).
const RELATIVE_ERROR: f64 = 1.0 + 1e-7;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateTest {
    /// Canary error rate over baseline error rate; NaN when neither side had errors.
    pub ratio: f64,
    pub lower: f64,
    pub upper: f64,
    pub p_value: f64,
}

/// Compares canary and baseline error counts; both request totals must be positive.
pub fn rate_test(
    canary_errors: f64,
    canary_requests: f64,
    baseline_errors: f64,
    baseline_requests: f64,
    confidence: f64,
) -> RateTest {
    let e_c = canary_errors.max(0.0).round() as u64;
    let e_b = baseline_errors.max(0.0).round() as u64;
    let k = e_c + e_b;
    let p = canary_requests / (canary_requests + baseline_requests);
    let odds_to_ratio = |share: f64| share / (1.0 - share) * (baseline_requests / canary_requests);
    if k == 0 {
        return RateTest {
            ratio: f64::NAN,
            lower: 0.0,
            upper: f64::INFINITY,
            p_value: 1.0,
        };
    }
    let (lo, hi) = clopper_pearson(e_c, k, confidence);
    RateTest {
        ratio: odds_to_ratio(e_c as f64 / k as f64),
        lower: odds_to_ratio(lo),
        upper: odds_to_ratio(hi),
        p_value: two_sided_p(e_c, k, p),
    }
}

/// Exact (Clopper-Pearson) interval for a binomial proportion x/n.
pub fn clopper_pearson(x: u64, n: u64, confidence: f64) -> (f64, f64) {
    let alpha = 1.0 - confidence;
    let (xf, nf) = (x as f64, n as f64);
    let lower = if x == 0 {
        0.0
    } else {
        inv_beta_reg(xf, nf - xf + 1.0, alpha / 2.0)
    };
    let upper = if x == n {
        1.0
    } else {
        inv_beta_reg(xf + 1.0, nf - xf, 1.0 - alpha / 2.0)
    };
    (lower, upper)
}

/// Two-sided exact binomial p-value of x successes in n trials at probability p.
pub fn two_sided_p(x: u64, n: u64, p: f64) -> f64 {
    let pmf =
        |i: u64| (ln_binomial(n, i) + i as f64 * p.ln() + (n - i) as f64 * (1.0 - p).ln()).exp();
    let expected = p * n as f64;
    let d = pmf(x) * RELATIVE_ERROR;
    let xf = x as f64;
    let pval = if xf == expected {
        1.0
    } else if xf < expected {
        // Upper tail: the first i above the mode with pmf(i) ≤ d onwards.
        let first = first_at_or_below(expected.ceil() as u64, n, |i| pmf(i) <= d);
        cdf(x, n, p) + first.map_or(0.0, |j| upper_tail(j, n, p))
    } else {
        // Lower tail: every i below the mode with pmf(i) ≤ d.
        let last = last_at_or_below(0, expected.floor() as u64, |i| pmf(i) <= d);
        last.map_or(0.0, |j| cdf(j, n, p)) + upper_tail(x, n, p)
    };
    pval.min(1.0)
}

/// Smallest i in [from, to] with `pred(i)`, for a predicate that turns true and stays true.
fn first_at_or_below(from: u64, to: u64, pred: impl Fn(u64) -> bool) -> Option<u64> {
    if from > to || !pred(to) {
        return None;
    }
    let (mut lo, mut hi) = (from, to);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) { hi = mid } else { lo = mid + 1 }
    }
    Some(lo)
}

/// Largest i in [from, to] with `pred(i)`, for a predicate true up to a point.
fn last_at_or_below(from: u64, to: u64, pred: impl Fn(u64) -> bool) -> Option<u64> {
    if from > to || !pred(from) {
        return None;
    }
    let (mut lo, mut hi) = (from, to);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if pred(mid) { lo = mid } else { hi = mid - 1 }
    }
    Some(lo)
}

/// P(X ≤ x) for X ~ Binomial(n, p).
fn cdf(x: u64, n: u64, p: f64) -> f64 {
    if x >= n {
        1.0
    } else {
        beta_reg((n - x) as f64, x as f64 + 1.0, 1.0 - p)
    }
}

/// P(X ≥ x) for X ~ Binomial(n, p).
fn upper_tail(x: u64, n: u64, p: f64) -> f64 {
    if x == 0 {
        1.0
    } else {
        beta_reg(x as f64, (n - x) as f64 + 1.0, p)
    }
}
