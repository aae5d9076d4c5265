//! The canary judge: per metric, canary against baseline (or stable) over
//! the same window, then Kayenta's score. Pure: numbers in, `Verdict` out.
//!
//! Per metric, after the test (see [`binomial`] for counts and
//! [`mann_whitney`] for continuous values), the classification follows
//! Kayenta's `MannWhitneyClassifier`: with the effect's estimate `e` and its
//! interval `[lo, hi]` (at `confidence`, 0.98 by default), the tolerance band
//! is `±tolerance·|e|`, i.e. ±25% *of the estimate itself*. The canary is
//! High when `lo > tolerance·|e|` and Low when `hi < −tolerance·|e|`: the
//! whole interval must clear zero by a quarter of the estimated move, so a
//! difference that is barely significant, or estimated imprecisely, passes.
//! For counts the effect is the rate ratio's excess over 1 (`ρ − 1`), which
//! is the rate difference in units of the baseline rate. The metric's
//! direction decides which of High and Low fail it.
//!
//! Overall, in this order: a critical metric that is not Pass (Kayenta counts
//! no data as not Pass) fails the canary with score 0; a metric short of its
//! minimum data makes the verdict `InsufficientData`, never a pass; half or
//! more of the metrics without data force the score to 0; otherwise the
//! weighted group score (see [`score`]) against the pass and marginal
//! thresholds.

mod binomial;
mod mann_whitney;
mod score;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::model::verdict::DataAmount;
use crate::model::verdict::{Effect, Outcome};
use crate::model::{Classification, Direction, MetricResult, Verdict};

pub use binomial::{RateTest, clopper_pearson, rate_test, two_sided_p};
pub use mann_whitney::{ShiftTest, ShiftTestError, shift_test};
pub use score::weighted_group_score;

/// Score thresholds and statistical settings; the `[metrics.thresholds]` table of the config.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// Minimum score for PASS.
    pub pass: f64,
    /// Minimum score for MARGINAL; below it is FAIL.
    pub marginal: f64,
    /// Confidence level of the intervals.
    pub confidence: f64,
    /// Tolerance band as a fraction of the estimate, unless a metric overrides it.
    pub tolerance: f64,
    /// Requests each side must have served before a count metric is judged.
    pub min_requests: u64,
    /// Samples each side must have before a continuous metric is judged.
    pub min_samples: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            pass: 95.0,
            marginal: 75.0,
            confidence: 0.98,
            tolerance: 0.25,
            min_requests: 250,
            min_samples: 10,
        }
    }
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
    /// Overrides `Thresholds::tolerance` for this metric.
    pub tolerance: Option<f64>,
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
    /// Samples of a continuous value (latency, orders per minute), e.g. the
    /// points of a `query_range` series. Non-finite values are dropped.
    Samples {
        canary: Vec<f64>,
        baseline: Vec<f64>,
    },
    /// The backend has nothing for this metric (no series, or the query failed).
    Missing,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MetricInput {
    pub spec: MetricSpec,
    pub data: MetricData,
    /// How fast the canary's side gains data, per second (requests/s for
    /// counts, samples/s for series); gives the ETA of insufficient data.
    pub data_rate: Option<f64>,
}

/// Judges a canary. `group_weights` maps group names to weights (see [`score`]).
pub fn judge(
    metrics: &[MetricInput],
    group_weights: &BTreeMap<String, f64>,
    thresholds: &Thresholds,
) -> Verdict {
    let results: Vec<MetricResult> = metrics.iter().map(|m| classify(m, thresholds)).collect();

    let failed_critical: Vec<String> = results
        .iter()
        .filter(|r| r.critical && r.classification != Classification::Pass && r.data.is_enough())
        .map(|r| r.name.clone())
        .collect();
    if !failed_critical.is_empty() {
        return Verdict {
            outcome: Outcome::Fail,
            score: Some(0.0),
            metrics: results,
            deciding: failed_critical,
        };
    }

    if let Some(outcome) = insufficient(metrics, &results) {
        let deciding = results
            .iter()
            .filter(|r| !r.data.is_enough())
            .map(|r| r.name.clone())
            .collect();
        return Verdict {
            outcome,
            score: None,
            metrics: results,
            deciding,
        };
    }

    let no_data: Vec<String> = results
        .iter()
        .filter(|r| r.classification == Classification::NoData)
        .map(|r| r.name.clone())
        .collect();
    let (score, deciding) = if !results.is_empty() && 2 * no_data.len() >= results.len() {
        (0.0, no_data)
    } else {
        let score = weighted_group_score(
            results.iter().map(|r| (r.group.as_str(), r.classification)),
            group_weights,
        );
        let failing = results
            .iter()
            .filter(|r| r.classification != Classification::Pass)
            .map(|r| r.name.clone())
            .collect();
        (score, failing)
    };
    let outcome = if results.is_empty() {
        Outcome::Fail
    } else if score >= thresholds.pass {
        Outcome::Pass
    } else if score >= thresholds.marginal {
        Outcome::Marginal
    } else {
        Outcome::Fail
    };
    Verdict {
        outcome,
        score: Some(score),
        metrics: results,
        deciding,
    }
}

/// The thinnest metric's data (lowest share of its need) and its ETA, if any metric is short.
fn insufficient(inputs: &[MetricInput], results: &[MetricResult]) -> Option<Outcome> {
    let (input, result) = inputs
        .iter()
        .zip(results)
        .filter(|(_, r)| !r.data.is_enough())
        .min_by(|(_, a), (_, b)| share(a.data).total_cmp(&share(b.data)))?;
    let DataAmount { have, needed } = result.data;
    let eta = input
        .data_rate
        .filter(|rate| *rate > 0.0 && rate.is_finite())
        .map(|rate| Duration::from_secs_f64((needed - have) as f64 / rate));
    Some(Outcome::InsufficientData { have, needed, eta })
}

fn share(d: DataAmount) -> f64 {
    d.have as f64 / d.needed as f64
}

fn classify(input: &MetricInput, thresholds: &Thresholds) -> MetricResult {
    let spec = &input.spec;
    let tolerance = spec.tolerance.unwrap_or(thresholds.tolerance);
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
                let effect = (!t.ratio.is_nan()).then_some(Effect::RateRatio {
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
            if canary.is_empty() || baseline.is_empty() {
                (None, None)
            } else {
                let have = canary.len().min(baseline.len()) as u64;
                let amount = DataAmount {
                    have,
                    needed: thresholds.min_samples.max(1),
                };
                let test = amount
                    .is_enough()
                    .then(|| shift_class(&canary, &baseline, thresholds.confidence, tolerance));
                (Some(amount), test)
            }
        }
    };
    // Missing data counts as enough: there is nothing to wait for, and the
    // no-data rules decide.
    let data = data.unwrap_or(DataAmount { have: 0, needed: 0 });
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

fn shift_class(
    canary: &[f64],
    baseline: &[f64],
    confidence: f64,
    tolerance: f64,
) -> (Classification, Option<Effect>, Option<f64>) {
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
            excess_class(t.estimate, t.lower, t.upper, tolerance),
            Some(Effect::Shift {
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

/// Kayenta's rule: the interval must clear the tolerance band `±tolerance·|estimate|`.
fn excess_class(estimate: f64, lower: f64, upper: f64, tolerance: f64) -> Classification {
    let band = tolerance * estimate.abs();
    if lower > band {
        Classification::High
    } else if upper < -band {
        Classification::Low
    } else {
        Classification::Pass
    }
}

/// Counts: the canary's error rate differs when the whole confidence
/// interval of the rate ratio lies outside 1 ± tolerance, i.e. the rates
/// differ by more than the tolerance *of the baseline's rate*. (Kayenta's
/// band, a fraction of the estimate, suits shifts whose intervals are near
/// symmetric; a ratio's interval is skewed, and at a 190x error rate its
/// lower end can sit below a quarter of the estimate, which would pass.)
fn ratio_class(lower: f64, upper: f64, tolerance: f64) -> Classification {
    if lower > 1.0 + tolerance {
        Classification::High
    } else if upper < 1.0 - tolerance {
        Classification::Low
    } else {
        Classification::Pass
    }
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
