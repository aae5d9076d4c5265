//! The canary judge: per metric, canary against baseline (or stable) over
//! the same window, then Kayenta's score. Pure: numbers in, `Verdict` out.
//!
//! Per metric, after the test (see [`binomial`] for counts and
//! [`mann_whitney`] for continuous values), the metric is High when the
//! whole confidence interval of its change (at `confidence`, 0.99 by
//! default) lies above the allowed change, Low when it lies wholly below
//! minus it, and Pass otherwise. The allowed change is `tolerance` (0.25)
//! of the baseline's own level: for counts, of the baseline's error rate
//! (the rate ratio's interval must clear `1 ± tolerance`); for continuous
//! values, of the baseline's median, and never less than the metric's
//! `min_shift`. Kayenta's own band, ±25% *of the estimate*, shrinks with the
//! estimate, so a tiny shift measured precisely fails; a band tied to the
//! baseline's level is a practical-significance floor (Kayenta's
//! `allowedIncrease` is the same idea as a ratio: `1 + tolerance`). The
//! metric's direction decides which of High and Low fail it.
//!
//! Overall, in this order, so that only a metric's own data can fail a
//! canary and a backend in trouble never does:
//! 1. a critical metric that is High or Low (the wrong way) fails it, score 0;
//! 2. a score below `marginal` even if every metric not yet judged passed
//!    fails it: nothing left to read could save it;
//! 3. a metric that could not be read (its query failed) gives `NoData`;
//! 4. a metric short of its minimum data gives `InsufficientData`;
//! 5. otherwise the weighted group score (see [`score`]) against the pass
//!    and marginal thresholds.
//!
//! Kayenta also fails a critical metric without data, and scores 0 when
//! half the metrics have none; here missing data blocks a pass (3 and 4)
//! and never fails.

mod binomial;
mod mann_whitney;
mod score;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::metrics::config::checked;
use crate::model::{Classification, Direction, MetricResult, Verdict};
use crate::model::{DataAmount, DataUnit, EffectSize, Outcome};

pub use binomial::rate_test;
pub use mann_whitney::{ShiftTestError, shift_test};
pub use score::weighted_group_score;

/// Score thresholds and statistical settings; the `[metrics.thresholds]` table of the config.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// Minimum score for PASS.
    pub pass: f64,
    /// Minimum score for MARGINAL; below it is FAIL.
    pub marginal: f64,
    /// Confidence level of the intervals, between 0 and 1. Kayenta's 0.98 is for one look
    /// at the end of an interval; the cockpit judges a canary again every few seconds, and
    /// 0.99 keeps the chance that a healthy canary ever shows FAIL as low as one look's.
    #[serde(deserialize_with = "checked::probability")]
    pub confidence: f64,
    /// The change a metric may make before it can fail, as a fraction of the baseline's
    /// level (its error rate, or its median), unless the metric overrides it.
    #[serde(deserialize_with = "checked::non_negative")]
    pub tolerance: f64,
    /// Requests each side must have served before a count metric is judged.
    pub min_requests: u64,
    /// Independent points (one rate window apart) each side must have before a continuous
    /// metric is judged: 5 is the fewest for which a 99% rank interval exists.
    pub min_samples: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            pass: 95.0,
            marginal: 75.0,
            confidence: 0.99,
            tolerance: 0.25,
            min_requests: 250,
            min_samples: 5,
        }
    }
}

/// A metric's own allowed change, overriding [`Thresholds::tolerance`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Tolerance {
    /// Fraction of the baseline's level; the thresholds' when None.
    pub fraction: Option<f64>,
    /// Continuous metrics: the smallest shift, in the metric's unit, that can fail the
    /// metric however low the baseline's level (e.g. 0.005 s for latency).
    pub min_shift: f64,
}

/// What the judge needs to know about a metric besides its numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSpec {
    pub name: String,
    pub unit: String,
    pub direction: Direction,
    pub critical: bool,
    /// Scoring group (Kayenta's); metrics of one group count equally.
    pub group: String,
    /// Overrides the thresholds' allowed change for this metric.
    pub tolerance: Option<Tolerance>,
}

/// A metric's numbers for both sides over the same window. The kind of
/// metric (count or continuous) is the variant.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricData {
    /// Errors out of requests, e.g. `increase()` over the canary's lifetime.
    /// Zero requests is "no traffic yet" (insufficient data), not missing data.
    Counts {
        canary_errors: f64,
        canary_requests: f64,
        baseline_errors: f64,
        baseline_requests: f64,
    },
    /// Independent samples of a continuous value (latency, orders per minute), e.g. the
    /// points of a `query_range` series one rate window apart. Non-finite values are
    /// dropped; no values is "no traffic yet".
    Samples {
        canary: Vec<f64>,
        baseline: Vec<f64>,
    },
    /// The metric could not be read: its query failed, or the backend's answer made no sense.
    Missing,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MetricInput {
    pub spec: MetricSpec,
    pub data: MetricData,
    /// How fast the canary's side gains data, per second (requests/s for
    /// counts, independent points/s for series); gives the ETA of insufficient data.
    pub data_rate: Option<f64>,
}

/// Judges a canary. `group_weights` maps group names to weights (see [`score`]).
pub fn judge(
    metrics: &[MetricInput],
    group_weights: &BTreeMap<String, f64>,
    thresholds: &Thresholds,
) -> Verdict {
    let results: Vec<MetricResult> = metrics.iter().map(|m| classify(m, thresholds)).collect();
    let names = |keep: &dyn Fn(&MetricResult) -> bool| -> Vec<String> {
        results
            .iter()
            .filter(|r| keep(r))
            .map(|r| r.name.clone())
            .collect()
    };
    let verdict = |outcome, score, deciding| Verdict {
        outcome,
        score,
        metrics: results.clone(),
        deciding,
    };
    let failing = |r: &MetricResult| r.classification.is_failure();

    let failed_critical = names(&|r| r.critical && failing(r));
    if !failed_critical.is_empty() {
        return verdict(Outcome::Fail, Some(0.0), failed_critical);
    }
    // What the score would be if every metric not judged yet passed.
    let best_case = weighted_group_score(
        results.iter().map(|r| match r.classification {
            Classification::NoData => (r.group.as_str(), Classification::Pass),
            class => (r.group.as_str(), class),
        }),
        group_weights,
    );
    let failed = names(&failing);
    if !failed.is_empty() && best_case < thresholds.marginal {
        return verdict(Outcome::Fail, Some(best_case), failed);
    }
    let unreadable = names(&|r| r.data.is_none());
    if results.is_empty() || !unreadable.is_empty() {
        return verdict(Outcome::NoData, None, unreadable);
    }
    if let Some(outcome) = insufficient(metrics, &results) {
        let short = names(&|r| r.data.is_some_and(|d| !d.is_enough()));
        return verdict(outcome, None, short);
    }
    // Every metric is judged: the best case is the score. Groups weighed 0 can bring it
    // low without a metric failing; that is no failure.
    let outcome = if failed.is_empty() || best_case >= thresholds.pass {
        Outcome::Pass
    } else if best_case >= thresholds.marginal {
        Outcome::Marginal
    } else {
        Outcome::Fail
    };
    verdict(outcome, Some(best_case), failed)
}

/// The thinnest metric's data (lowest share of its need) and its ETA, if any metric is short.
fn insufficient(inputs: &[MetricInput], results: &[MetricResult]) -> Option<Outcome> {
    let (input, data) = inputs
        .iter()
        .zip(results)
        .filter_map(|(i, r)| Some((i, r.data?)))
        .filter(|(_, d)| !d.is_enough())
        .min_by(|(_, a), (_, b)| share(a).total_cmp(&share(b)))?;
    let DataAmount { have, needed, unit } = data;
    let eta = input
        .data_rate
        .filter(|rate| *rate > 0.0 && rate.is_finite())
        .map(|rate| Duration::from_secs_f64((needed - have) as f64 / rate));
    Some(Outcome::InsufficientData {
        have,
        needed,
        unit,
        eta,
    })
}

fn share(d: &DataAmount) -> f64 {
    d.have as f64 / d.needed as f64
}

fn classify(input: &MetricInput, thresholds: &Thresholds) -> MetricResult {
    let spec = &input.spec;
    let own = spec.tolerance.unwrap_or_default();
    let tolerance = own.fraction.unwrap_or(thresholds.tolerance);
    let (data, test) = match &input.data {
        MetricData::Missing => (None, None),
        MetricData::Counts {
            canary_errors,
            canary_requests,
            baseline_errors,
            baseline_requests,
        } => {
            let have = canary_requests.min(*baseline_requests).max(0.0).floor() as u64;
            let amount = DataAmount {
                have,
                needed: thresholds.min_requests.max(1),
                unit: DataUnit::Requests,
            };
            let test = amount.is_enough().then(|| {
                let t = rate_test(
                    *canary_errors,
                    *canary_requests,
                    *baseline_errors,
                    *baseline_requests,
                    thresholds.confidence,
                );
                // No errors on either side: nothing to tell them apart.
                let effect = (!t.ratio.is_nan()).then_some(EffectSize::RateRatio {
                    estimate: t.ratio,
                    lower: t.lower,
                    upper: t.upper,
                });
                let class = effect.map_or(Classification::Pass, |_| {
                    ratio_class(t.lower, t.upper, tolerance)
                });
                (class, effect, Some(t.p_value))
            });
            (Some(amount), test)
        }
        MetricData::Samples { canary, baseline } => {
            let canary: Vec<f64> = canary.iter().copied().filter(|v| v.is_finite()).collect();
            let baseline: Vec<f64> = baseline.iter().copied().filter(|v| v.is_finite()).collect();
            let amount = DataAmount {
                have: canary.len().min(baseline.len()) as u64,
                needed: thresholds.min_samples.max(1),
                unit: DataUnit::Points,
            };
            let test = amount.is_enough().then(|| {
                let allowed = (tolerance * median(&baseline).abs()).max(own.min_shift);
                shift_class(&canary, &baseline, thresholds.confidence, allowed)
            });
            (Some(amount), test)
        }
    };
    let (classification, effect, p_value) = match test {
        Some((class, effect, p)) => (apply_direction(class, spec.direction), effect, p),
        None => (Classification::NoData, None, None),
    };
    MetricResult {
        name: spec.name.clone(),
        unit: spec.unit.clone(),
        critical: spec.critical,
        group: spec.group.clone(),
        classification,
        effect,
        p_value,
        data,
    }
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    }
}

fn shift_class(
    canary: &[f64],
    baseline: &[f64],
    confidence: f64,
    allowed: f64,
) -> (Classification, Option<EffectSize>, Option<f64>) {
    // Kayenta: identical samples, or one value throughout, pass untested.
    let mut c = canary.to_vec();
    let mut b = baseline.to_vec();
    c.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    if c == b {
        return (Classification::Pass, None, None);
    }
    match shift_test(canary, baseline, confidence) {
        Ok(t) => (
            beyond(t.lower, t.upper, allowed),
            Some(EffectSize::Shift {
                estimate: t.estimate,
                lower: t.lower,
                upper: t.upper,
            }),
            Some(t.p_value),
        ),
        Err(ShiftTestError::AllTied | ShiftTestError::EmptySample) => {
            (Classification::Pass, None, None)
        }
    }
}

/// High when the whole interval of the shift lies above `allowed`, Low when wholly below
/// `−allowed`: a shift that is significant but small enough to live with passes.
fn beyond(lower: f64, upper: f64, allowed: f64) -> Classification {
    if lower > allowed {
        Classification::High
    } else if upper < -allowed {
        Classification::Low
    } else {
        Classification::Pass
    }
}

/// Counts: the canary's error rate differs when the whole confidence
/// interval of the rate ratio lies outside 1 ± tolerance, i.e. the rates
/// differ by more than the tolerance *of the baseline's rate*.
fn ratio_class(lower: f64, upper: f64, tolerance: f64) -> Classification {
    beyond(lower - 1.0, upper - 1.0, tolerance)
}

/// A move in the allowed direction is a pass.
fn apply_direction(class: Classification, direction: Direction) -> Classification {
    match (class, direction) {
        (Classification::High, Direction::Higher) | (Classification::Low, Direction::Lower) => {
            Classification::Pass
        }
        (class, _) => class,
    }
}
