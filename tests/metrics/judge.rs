//! The judge's statistics against tests/stats/reference.json (SciPy, NumPy
//! and R; see tests/stats/reference.py), and its verdict rules.

use std::collections::BTreeMap;
use std::time::Duration;

use flightdeck::metrics::{
    MetricData, MetricInput, MetricSpec, Thresholds, Tolerance, judge, rate_test, shift_test,
};
use flightdeck::model::{Classification, Direction};
use flightdeck::model::{DataUnit, EffectSize, Outcome};
use serde::Deserialize;

#[derive(Deserialize)]
struct Reference {
    confidence: f64,
    shift: Vec<ShiftCase>,
    rate: Vec<RateCase>,
}

#[derive(Deserialize)]
struct ShiftCase {
    name: String,
    canary: Vec<f64>,
    baseline: Vec<f64>,
    method: String,
    p_value: f64,
    estimate: f64,
    r_estimate: f64,
    lower: f64,
    upper: f64,
}

#[derive(Deserialize)]
struct RateCase {
    name: String,
    canary_errors: f64,
    canary_requests: f64,
    baseline_errors: f64,
    baseline_requests: f64,
    p_value: f64,
    /// null stands for +∞ (JSON has no infinity).
    ratio: Option<f64>,
    lower: Option<f64>,
    upper: Option<f64>,
}

fn reference() -> Reference {
    serde_json::from_str(include_str!("../stats/reference.json")).expect("reference.json parses")
}

fn close(actual: f64, expected: f64, rel: f64, abs: f64) -> bool {
    if expected.is_infinite() {
        return actual == expected;
    }
    (actual - expected).abs() <= abs.max(rel * expected.abs())
}

#[test]
fn mann_whitney_matches_scipy_and_r() {
    let r = reference();
    for c in &r.shift {
        let t = shift_test(&c.canary, &c.baseline, r.confidence).unwrap();
        assert!(
            close(t.p_value, c.p_value, 1e-9, 1e-300),
            "{}: p {} vs {}",
            c.name,
            t.p_value,
            c.p_value
        );
        assert!(
            close(t.estimate, c.estimate, 1e-12, 1e-9),
            "{}: HL {} vs {}",
            c.name,
            t.estimate,
            c.estimate
        );
        // R's exact branch reads the interval off the sorted differences, as we
        // do; its large-sample branch finds the same points with uniroot(tol = 1e-4).
        let tol = if c.method == "exact" { 1e-9 } else { 2e-4 };
        assert!(
            close(t.lower, c.lower, 0.0, tol),
            "{}: lower {} vs {}",
            c.name,
            t.lower,
            c.lower
        );
        assert!(
            close(t.upper, c.upper, 0.0, tol),
            "{}: upper {} vs {}",
            c.name,
            t.upper,
            c.upper
        );
        if c.method == "exact" {
            assert!(close(t.estimate, c.r_estimate, 1e-12, 1e-9), "{}", c.name);
        }
    }
}

#[test]
fn rate_test_matches_scipy() {
    let r = reference();
    for c in &r.rate {
        let t = rate_test(
            c.canary_errors,
            c.canary_requests,
            c.baseline_errors,
            c.baseline_requests,
            r.confidence,
        );
        assert!(
            close(t.p_value, c.p_value, 1e-8, 1e-300),
            "{}: p {} vs {}",
            c.name,
            t.p_value,
            c.p_value
        );
        let [ratio, lower, upper] = [c.ratio, c.lower, c.upper].map(|v| v.unwrap_or(f64::INFINITY));
        assert!(
            close(t.ratio, ratio, 1e-12, 0.0),
            "{}: ratio {} vs {ratio}",
            c.name,
            t.ratio
        );
        assert!(
            close(t.lower, lower, 1e-8, 1e-12),
            "{}: lower {} vs {lower}",
            c.name,
            t.lower
        );
        assert!(
            close(t.upper, upper, 1e-8, 1e-12),
            "{}: upper {} vs {upper}",
            c.name,
            t.upper
        );
    }
}

fn spec(name: &str, group: &str, direction: Direction, critical: bool) -> MetricSpec {
    MetricSpec {
        name: name.into(),
        unit: String::new(),
        direction,
        critical,
        group: group.into(),
        tolerance: None,
    }
}

fn counts(ce: f64, cn: f64, be: f64, bn: f64) -> MetricData {
    MetricData::Counts {
        canary_errors: ce,
        canary_requests: cn,
        baseline_errors: be,
        baseline_requests: bn,
    }
}

fn samples(
    canary: impl IntoIterator<Item = f64>,
    baseline: impl IntoIterator<Item = f64>,
) -> MetricData {
    MetricData::Samples {
        canary: canary.into_iter().collect(),
        baseline: baseline.into_iter().collect(),
    }
}

fn input(spec: MetricSpec, data: MetricData) -> MetricInput {
    MetricInput {
        spec,
        data,
        data_rate: None,
    }
}

/// Latency-like series without ties: base + i·step, interleaved per side.
fn series(base: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| base + i as f64 * 1.37 + (i % 7) as f64 * 0.11)
        .collect()
}

#[test]
fn a_healthy_canary_passes_with_100() {
    let v = judge(
        &[
            input(
                spec("error rate", "errors", Direction::Lower, true),
                counts(10.0, 1000.0, 41.0, 4000.0),
            ),
            input(
                spec("latency", "latency", Direction::Lower, false),
                samples(series(100.0, 30), series(100.3, 30)),
            ),
        ],
        &BTreeMap::new(),
        &Thresholds::default(),
    );
    assert_eq!(v.outcome, Outcome::Pass);
    assert_eq!(v.score, Some(100.0));
    assert!(v.deciding.is_empty());
    assert_eq!(v.to_string(), "PASS score 100/100");
}

#[test]
fn a_failing_critical_metric_forces_zero_and_names_itself() {
    let v = judge(
        &[
            input(
                spec("error rate", "errors", Direction::Lower, true),
                counts(400.0, 1000.0, 40.0, 4000.0),
            ),
            input(
                spec("latency", "latency", Direction::Lower, false),
                samples(series(100.0, 30), series(100.0, 30)),
            ),
        ],
        &BTreeMap::new(),
        &Thresholds::default(),
    );
    assert_eq!(v.outcome, Outcome::Fail);
    assert_eq!(v.score, Some(0.0));
    assert_eq!(v.deciding, vec!["error rate"]);
    assert_eq!(v.metrics[0].classification, Classification::High);
    assert_eq!(v.to_string(), "FAIL score 0/100: error rate High");
}

#[test]
fn direction_decides_which_move_fails() {
    // Orders per minute fell by about half: bad when higher is better, fine when lower is.
    let canary: Vec<f64> = series(40.0, 30);
    let baseline: Vec<f64> = series(100.0, 30);
    let run = |direction| {
        judge(
            &[input(
                spec("orders/min", "business", direction, false),
                samples(canary.clone(), baseline.clone()),
            )],
            &BTreeMap::new(),
            &Thresholds::default(),
        )
    };
    let higher = run(Direction::Higher);
    assert_eq!(higher.metrics[0].classification, Classification::Low);
    assert_eq!(higher.outcome, Outcome::Fail);
    assert!(
        matches!(higher.metrics[0].effect, Some(EffectSize::Shift { estimate, .. }) if estimate < -25.0)
    );
    assert_eq!(run(Direction::Lower).outcome, Outcome::Pass);
    assert_eq!(
        run(Direction::Either).metrics[0].classification,
        Classification::Low
    );
}

#[test]
fn group_weights_give_marginal() {
    // errors (80) pass, latency (20) fails: 80 → marginal at the default 75.
    let weights = BTreeMap::from([("errors".to_string(), 80.0), ("latency".to_string(), 20.0)]);
    let v = judge(
        &[
            input(
                spec("error rate", "errors", Direction::Lower, false),
                counts(5.0, 1000.0, 20.0, 4000.0),
            ),
            input(
                spec("p99", "latency", Direction::Lower, false),
                samples(series(180.0, 30), series(100.0, 30)),
            ),
        ],
        &weights,
        &Thresholds::default(),
    );
    assert_eq!(v.score, Some(80.0));
    assert_eq!(v.outcome, Outcome::Marginal);
    assert_eq!(v.to_string(), "MARGINAL score 80/100: p99 High");
}

/// A metric whose query failed is the backend's trouble: it blocks a pass and never fails.
#[test]
fn a_metric_that_could_not_be_read_gives_no_data_never_a_failure() {
    let errors = |data| input(spec("error rate", "errors", Direction::Lower, true), data);
    let latency = |canary_base| {
        input(
            spec("latency", "latency", Direction::Lower, false),
            samples(series(canary_base, 30), series(100.0, 30)),
        )
    };
    let run = |inputs: &[MetricInput]| judge(inputs, &BTreeMap::new(), &Thresholds::default());

    // Every query failed (a Prometheus answering garbage): no data, for the critical one too.
    let v = run(&[
        errors(MetricData::Missing),
        input(
            spec("latency", "latency", Direction::Lower, false),
            MetricData::Missing,
        ),
    ]);
    assert_eq!(v.outcome, Outcome::NoData);
    assert_eq!(
        (v.score, v.deciding.clone()),
        (None, vec!["error rate".to_string(), "latency".to_string()])
    );
    assert_eq!(
        v.to_string(),
        "NO DATA: queries failed for error rate, latency"
    );

    // The critical metric unreadable, the other passing: no pass, no failure.
    let v = run(&[errors(MetricData::Missing), latency(100.3)]);
    assert_eq!(v.outcome, Outcome::NoData);
    assert_eq!(v.deciding, ["error rate"]);

    // Unreadable beats too little data: waiting will not mend it.
    let v = run(&[
        errors(MetricData::Missing),
        input(
            spec("latency", "latency", Direction::Lower, false),
            samples(series(100.0, 2), series(100.0, 2)),
        ),
    ]);
    assert_eq!(v.outcome, Outcome::NoData);

    // Its own data fails a canary whatever the unreadable metric would say: latency alone
    // scores 50 at best, below marginal.
    let v = run(&[errors(MetricData::Missing), latency(200.0)]);
    assert_eq!(v.outcome, Outcome::Fail);
    assert_eq!(
        (v.score, v.deciding.clone()),
        (Some(50.0), vec!["latency".to_string()])
    );
    assert_eq!(v.to_string(), "FAIL score 50/100: latency High");

    // Nothing to judge at all is no data, not a failure.
    assert_eq!(run(&[]).outcome, Outcome::NoData);
}

#[test]
fn too_little_data_is_its_own_verdict_with_an_eta() {
    let mut latency = input(
        spec("latency", "latency", Direction::Lower, false),
        samples(series(100.0, 2), series(100.0, 40)),
    );
    latency.data_rate = Some(1.0 / 15.0); // one independent point per 15 s
    let mut errors = input(
        spec("error rate", "errors", Direction::Lower, true),
        counts(40.0, 120.0, 0.0, 4000.0),
    );
    errors.data_rate = Some(2.0);
    let v = judge(&[errors, latency], &BTreeMap::new(), &Thresholds::default());
    // Latency has 2 of 5 points (40%), errors 120 of 250 requests (48%): latency is the thinnest.
    assert_eq!(
        v.outcome,
        Outcome::InsufficientData {
            have: 2,
            needed: 5,
            unit: DataUnit::Points,
            eta: Some(Duration::from_secs(45))
        }
    );
    assert_eq!(v.score, None);
    assert_eq!(v.deciding, vec!["error rate", "latency"]);
    assert_eq!(
        v.to_string(),
        "INSUFFICIENT DATA 2/5 points, ETA 45s: error rate, latency"
    );
    // The error rate alone is short: counted in requests.
    let v = judge(
        &[input(
            spec("error rate", "errors", Direction::Lower, true),
            counts(0.0, 120.0, 0.0, 4000.0),
        )],
        &BTreeMap::new(),
        &Thresholds::default(),
    );
    assert_eq!(
        v.to_string(),
        "INSUFFICIENT DATA 120/250 requests, ETA unknown: error rate"
    );
}

#[test]
fn ties_and_constant_series_as_kayenta() {
    let run = |canary: Vec<f64>, baseline: Vec<f64>| {
        judge(
            &[input(
                spec("latency", "latency", Direction::Either, false),
                samples(canary, baseline),
            )],
            &BTreeMap::new(),
            &Thresholds::default(),
        )
    };
    // One value throughout on both sides: identical, pass untested.
    let same = run(vec![1.0; 12], vec![1.0; 15]);
    assert_eq!(same.metrics[0].classification, Classification::Pass);
    assert_eq!(same.metrics[0].p_value, None);
    // Two constant series a whole unit apart: every difference is 1.
    let apart = run(vec![2.0; 12], vec![1.0; 15]);
    assert_eq!(apart.metrics[0].classification, Classification::High);
    assert_eq!(
        apart.metrics[0].effect,
        Some(EffectSize::Shift {
            estimate: 1.0,
            lower: 1.0,
            upper: 1.0
        })
    );
    // NaN points (no requests in a step) carry no information and are dropped.
    let mut with_nan = series(100.0, 12);
    with_nan.push(f64::NAN);
    let nan = run(with_nan, series(100.0, 12));
    assert_eq!(nan.metrics[0].classification, Classification::Pass);
    assert_eq!(nan.metrics[0].data.map(|d| d.have), Some(12));
}

/// A shift is High only when its whole interval lies beyond the allowed change, a fraction
/// of the baseline's median: a canary 10% slower, measured to within a percent, passes at
/// the default 25% (Kayenta's band, 25% of the estimate, failed it), and fails at 5%
/// unless the metric's floor is higher still.
#[test]
fn a_shift_fails_only_beyond_the_allowed_change_of_the_baselines_level() {
    let tight =
        |base: f64| (0..40).map(move |i| base + f64::from(i) * 0.05 + f64::from(i % 7) * 0.011);
    let (canary, baseline): (Vec<f64>, Vec<f64>) = (tight(110.0).collect(), tight(100.0).collect());
    let run = |tolerance| {
        let mut s = spec("latency", "latency", Direction::Lower, false);
        s.tolerance = tolerance;
        judge(
            &[input(s, samples(canary.clone(), baseline.clone()))],
            &BTreeMap::new(),
            &Thresholds::default(),
        )
    };
    let by_default = run(None);
    assert_eq!(by_default.metrics[0].classification, Classification::Pass);
    assert_eq!(by_default.outcome, Outcome::Pass);
    let strict = Tolerance {
        fraction: Some(0.05),
        min_shift: 0.0,
    };
    assert_eq!(
        run(Some(strict)).metrics[0].classification,
        Classification::High
    );
    let floored = Tolerance {
        min_shift: 12.0,
        ..strict
    };
    assert_eq!(
        run(Some(floored)).metrics[0].classification,
        Classification::Pass
    );
}

/// A canary whose error rate is far above stable's fails on it, however
/// skewed the rate ratio's interval (here 190x, interval about 45x..2,600x),
/// and a rate within 25% of stable's passes even with plenty of data.
#[test]
fn error_rates_are_judged_against_a_band_around_stable() {
    let errors = |ce, be| {
        let m = input(
            spec("error rate", "errors", Direction::Lower, true),
            counts(ce, 1000.0, be, 1000.0),
        );
        judge(&[m], &BTreeMap::new(), &Thresholds::default())
    };
    let failing = errors(380.0, 2.0);
    assert_eq!(failing.outcome, Outcome::Fail);
    assert_eq!(failing.deciding, ["error rate"]);
    assert_eq!(failing.metrics[0].classification, Classification::High);
    let close_enough = errors(22.0, 20.0);
    assert_eq!(close_enough.outcome, Outcome::Pass);
}

/// Only a failing metric fails a canary: groups weighed 0 bring the score to 0 without one.
#[test]
fn weights_alone_never_fail_a_canary() {
    let v = judge(
        &[input(
            spec("error rate", "errors", Direction::Lower, true),
            counts(5.0, 1000.0, 20.0, 4000.0),
        )],
        &BTreeMap::from([("errors".to_string(), 0.0)]),
        &Thresholds::default(),
    );
    assert_eq!(v.score, Some(0.0));
    assert_eq!(v.outcome, Outcome::Pass, "{v}");
    assert!(v.deciding.is_empty());
}
