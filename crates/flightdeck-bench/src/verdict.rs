//! How far the canary verdict can be trusted, measured as a statistician would: many
//! seeded canaries of the simulator's traffic model (`sim::TrafficModel`, the demo's rates
//! and behaviours), each read as the Prometheus reader reads it, judged by the production
//! code (`judge_reading`). Deterministic: a seed gives the same canary, no wall clock.
//!
//! A canary takes [`WEIGHT`]% of its service's traffic from its start; stable has served
//! all of it for a rate window before. Every [`STEP`] the model's cumulative counters are
//! scraped, as Prometheus would. At each window end the reading holds what the reader's
//! queries return: errors and requests as `increase()` over the canary's lifetime, and the
//! latency series `histogram_quantile(0.99, rate(bucket[rate_interval]))` at the reader's
//! step over the lifetime.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use flightdeck::metrics::Preset;
use flightdeck::metrics::{
    MetricKind, MetricReading, PerVersion, RolloutReading, Scoring, VersionFigures, WindowData,
    judge_reading,
};
use flightdeck::metrics::{Resolution, window_step};
use flightdeck::model::Outcome;
use flightdeck::model::Verdict;
use flightdeck_sim::{
    BUCKETS, Behaviour, TrafficModel, VersionKey, demo_canaries, demo_incidents, histogram_quantile,
};

use super::report::Figure;

/// The canary's share of traffic: the first step of the demo's canaries.
pub const WEIGHT: f64 = 20.0;
/// How often the counters are scraped, and the reader's finest step.
const STEP: u64 = 10;
/// The windows reported: 1, 5 and 15 minutes of a canary's life.
pub const WINDOWS: [u64; 3] = [60, 300, 900];

/// A canary to simulate: a service's stable version and the canary's behaviour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Case {
    pub service: &'static str,
    pub stable: Behaviour,
    pub canary: Behaviour,
    /// The metric the canary is worse on; None when it behaves as stable.
    pub worse_on: Option<&'static str>,
}

impl Case {
    /// Whether a verdict is the FAIL this case should get: any FAIL of a healthy canary
    /// (a false one), a FAIL naming the worse metric of a regression.
    fn failed(&self, verdict: &Verdict) -> bool {
        verdict.outcome == Outcome::Fail
            && self
                .worse_on
                .is_none_or(|metric| verdict.deciding.iter().any(|d| d == metric))
    }
}

/// One seeded canary, judged every [`STEP`] of its first minutes until it FAILs (as
/// [`Case::failed`] counts them), and at the end of each of [`WINDOWS`].
#[derive(Debug, Clone, PartialEq)]
pub struct Life {
    /// The outcome at the end of each of [`WINDOWS`], and whether it was the case's FAIL.
    pub windows: Vec<(Outcome, bool)>,
    /// Seconds from the start to the first FAIL, if it came within the life.
    pub first_fail: Option<u64>,
}

impl Life {
    /// The window of `seconds`, one of [`WINDOWS`].
    fn at(&self, seconds: u64) -> &(Outcome, bool) {
        let i = WINDOWS.iter().position(|w| *w == seconds);
        &self.windows[i.expect("one of WINDOWS")]
    }
}

/// Each version's cumulative counters, as scraped every [`STEP`].
#[derive(Debug, Clone, Copy, Default)]
struct Counters {
    requests: u64,
    errors: u64,
    /// Cumulative per bucket of [`BUCKETS`], all status codes together.
    buckets: [u64; BUCKETS.len()],
}

impl Counters {
    fn minus(&self, earlier: &Counters) -> Counters {
        let mut buckets = self.buckets;
        for (b, e) in buckets.iter_mut().zip(earlier.buckets) {
            *b -= e;
        }
        Counters {
            requests: self.requests - earlier.requests,
            errors: self.errors - earlier.errors,
            buckets,
        }
    }
}

/// Each version's scrapes, every [`STEP`] from the model's start; the canary starts at
/// index `before`, a rate window in.
struct Scrapes {
    before: usize,
    stable: Vec<Counters>,
    canary: Vec<Counters>,
}

/// Simulates `case` with `seed` for the longest of [`WINDOWS`] and judges it.
pub fn live(case: &Case, seed: u64) -> Life {
    let resolution = Resolution::default();
    let last = WINDOWS[WINDOWS.len() - 1];
    let scrapes = simulate(case, seed, last, resolution.rate_interval.as_secs());
    let judged = |seconds| {
        judge_reading(&reading(&scrapes, seconds, resolution), &Scoring::default()).verdict
    };
    let first_fail = (1..=last / STEP)
        .map(|k| k * STEP)
        .find(|seconds| case.failed(&judged(*seconds)));
    Life {
        windows: WINDOWS
            .iter()
            .map(|seconds| {
                let verdict = judged(*seconds);
                let failed = case.failed(&verdict);
                (verdict.outcome, failed)
            })
            .collect(),
        first_fail,
    }
}

fn simulate(case: &Case, seed: u64, seconds: u64, warm_up: u64) -> Scrapes {
    let key = |hash: &str| VersionKey {
        namespace: "bench".into(),
        rollout: case.service.into(),
        pod_template_hash: hash.into(),
    };
    let (stable_key, canary_key) = (key("stable"), key("canary"));
    let mut model = TrafficModel::new(seed, Timestamp::UNIX_EPOCH);
    let split = |model: &mut TrafficModel, weight: f64| {
        model.set_split(
            "bench",
            case.service,
            &[
                ("stable".into(), 100.0 - weight, case.stable),
                ("canary".into(), weight, case.canary),
            ],
        );
    };
    split(&mut model, 0.0);
    let mut scrapes = Scrapes {
        before: (warm_up / STEP) as usize,
        stable: Vec::new(),
        canary: Vec::new(),
    };
    for second in 0..=warm_up + seconds {
        if second > 0 {
            model.step(Timestamp::UNIX_EPOCH + SignedDuration::from_secs(second as i64));
        }
        if second % STEP == 0 {
            let snapshot = model.snapshot();
            for v in &snapshot.versions {
                let key = VersionKey {
                    namespace: v.namespace.clone(),
                    rollout: v.rollout.clone(),
                    pod_template_hash: v.pod_template_hash.clone(),
                };
                let mut counters = Counters::default();
                for code in &v.by_code {
                    counters.requests += code.requests;
                    if code.code >= 500 {
                        counters.errors += code.requests;
                    }
                    for (total, (_, n)) in counters.buckets.iter_mut().zip(&code.latency_buckets) {
                        *total += n;
                    }
                }
                if key == stable_key {
                    scrapes.stable.push(counters);
                } else if key == canary_key {
                    scrapes.canary.push(counters);
                }
            }
        }
        // The canary starts right after this scrape.
        if second == warm_up {
            split(&mut model, WEIGHT);
        }
    }
    scrapes
}

/// What the Prometheus reader returns `lifetime` seconds into the canary's life.
fn reading(scrapes: &Scrapes, lifetime: u64, resolution: Resolution) -> RolloutReading {
    let at = |seconds: u64| scrapes.before + (seconds / STEP) as usize;
    let now = at(lifetime);
    let rate_steps = (resolution.rate_interval.as_secs() / STEP) as usize;
    let step = window_step(Duration::from_secs(lifetime), resolution);
    let step_scrapes = (step.as_secs() / STEP).max(1) as usize;
    let version = |scraped: &[Counters], kind: MetricKind| {
        let window = match kind {
            MetricKind::Counts => {
                let total = scraped[now].minus(&scraped[at(0)]);
                WindowData::Counts {
                    errors: total.errors as f64,
                    requests: total.requests as f64,
                }
            }
            MetricKind::Samples => WindowData::Samples {
                values: (at(0)..=now)
                    .step_by(step_scrapes)
                    .map(|i| {
                        let rate = scraped[i].minus(&scraped[i - rate_steps]);
                        histogram_quantile(0.99, &rate.buckets, rate.requests)
                    })
                    .collect(),
                every: step,
                span: resolution.rate_interval,
            },
        };
        VersionFigures {
            window: Some(window),
            trend: Vec::new(),
        }
    };
    let metrics = Preset::Argo
        .metrics(None)
        .into_iter()
        .map(|definition| {
            let kind = MetricKind::of(&definition);
            MetricReading {
                spec: definition.spec,
                kind,
                versions: Ok(PerVersion {
                    stable: version(&scrapes.stable, kind),
                    canary: version(&scrapes.canary, kind),
                    baseline: None,
                }),
            }
        })
        .collect();
    let rps = |scraped: &[Counters]| {
        scraped[now].minus(&scraped[now - rate_steps]).requests as f64
            / resolution.rate_interval.as_secs_f64()
    };
    RolloutReading {
        metrics,
        rps: Some((rps(&scrapes.stable), rps(&scrapes.canary))),
    }
}

/// The demo's canary services with a canary that behaves as its stable (A/A), one seed
/// each in turn.
pub fn healthy_canaries() -> Vec<Case> {
    demo_canaries()
        .into_iter()
        .map(|c| Case {
            service: c.name,
            stable: c.healthy,
            canary: c.healthy,
            worse_on: None,
        })
        .collect()
}

/// The demo's incidents (A/B): the 600 ms call against a 500 ms timeout, the N+1 query.
pub fn incidents() -> Vec<(&'static str, Case)> {
    demo_incidents()
        .into_iter()
        .filter_map(|c| {
            let (label, worse_on) = match c.name {
                "checkout" => ("checkout, 40% errors (timeouts)", "error rate"),
                "search-api" => ("search-api, p99 180 ms → 1.2 s (N+1)", "latency p99"),
                _ => return None,
            };
            Some((
                label,
                Case {
                    service: c.name,
                    stable: c.healthy,
                    canary: c.incident?,
                    worse_on: Some(worse_on),
                },
            ))
        })
        .collect()
}

/// Smaller regressions on checkout's traffic: errors 0.5% → 1%; latency 20%, 50% and 100%
/// slower (median and p99 alike).
pub fn smaller_regressions() -> Vec<(&'static str, Case)> {
    let checkout = demo_incidents()[0].healthy;
    let erring = |error_rate| Behaviour {
        error_rate,
        ..checkout
    };
    let slower = |factor: f64| Behaviour {
        p50: checkout.p50 * factor,
        p99: checkout.p99 * factor,
        error_p50: checkout.error_p50 * factor,
        error_p99: checkout.error_p99 * factor,
        ..checkout
    };
    let case = |stable, canary, worse_on| Case {
        service: "checkout",
        stable,
        canary,
        worse_on: Some(worse_on),
    };
    vec![
        (
            "errors 0.5% → 1%",
            case(erring(0.005), erring(0.01), "error rate"),
        ),
        ("p99 +20%", case(checkout, slower(1.2), "latency p99")),
        ("p99 +50%", case(checkout, slower(1.5), "latency p99")),
        ("p99 ×2", case(checkout, slower(2.0), "latency p99")),
    ]
}

/// `count` seeded lives of 15 minutes, cycling over `cases`, on every core (each seed's
/// life is the same on any number of them).
pub fn lives(cases: &[Case], count: usize) -> Vec<Life> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let seeds: Vec<usize> = (0..count).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = seeds
            .chunks(count.div_ceil(threads).max(1))
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|&i| live(&cases[i % cases.len()], i as u64))
                        .collect::<Vec<Life>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a life is simulated"))
            .collect()
    })
}

/// The outcomes of one window length over many lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    pub windows: usize,
    /// FAILs as the case counts them (see [`Case::failed`]).
    pub fail: usize,
    pub pass: usize,
    /// Still short of the configured minimum of data.
    pub insufficient: usize,
    /// The data of one of them, e.g. `1/5 points`.
    pub short: Option<String>,
}

impl Tally {
    pub fn of(lives: &[Life], seconds: u64) -> Tally {
        let windows: Vec<&(Outcome, bool)> = lives.iter().map(|l| l.at(seconds)).collect();
        let count =
            |keep: &dyn Fn(&(Outcome, bool)) -> bool| windows.iter().filter(|w| keep(w)).count();
        Tally {
            windows: lives.len(),
            fail: count(&|(_, failed)| *failed),
            pass: count(&|(o, _)| *o == Outcome::Pass),
            insufficient: count(&|(o, _)| matches!(o, Outcome::InsufficientData { .. })),
            short: windows.iter().find_map(|(o, _)| match o {
                Outcome::InsufficientData {
                    have, needed, unit, ..
                } => Some(format!("{have}/{needed} {unit}")),
                _ => None,
            }),
        }
    }

    /// Windows where the judge had its minimum of data.
    pub fn judged(&self) -> usize {
        self.windows - self.insufficient
    }

    /// Most windows still short of data: no rate to speak of.
    fn mostly_short(&self) -> bool {
        2 * self.insufficient > self.windows
    }

    fn short_words(&self) -> String {
        format!(
            "{} INSUFFICIENT DATA{}",
            self.insufficient,
            self.short
                .as_ref()
                .map_or(String::new(), |s| format!(", e.g. {s}"))
        )
    }
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

fn minutes(seconds: u64) -> String {
    format!("{} min", seconds / 60)
}

fn median_seconds(mut times: Vec<u64>) -> Option<u64> {
    times.sort_unstable();
    (!times.is_empty()).then(|| times[(times.len() - 1) / 2])
}

/// The figures of `flightdeck bench --only verdict`, over `count` lives per case set.
pub fn figures(count: usize) -> Vec<Figure> {
    let mut figures = Vec::new();
    let healthy = lives(&healthy_canaries(), count);
    for seconds in WINDOWS {
        let t = Tally::of(&healthy, seconds);
        let fail = percent(t.fail, t.windows);
        figures.push(
            Figure::new(
                format!("A/A {}: FAIL", minutes(seconds)),
                format!("{fail:.1}% of {} windows", t.windows),
            )
            .target("≤ 0.5%", fail <= 0.5),
        );
        let not_pass = percent(t.judged() - t.pass, t.judged());
        let figure = Figure::new(
            format!(
                "A/A {}: not PASS, of windows with enough data",
                minutes(seconds)
            ),
            format!("{not_pass:.1}% of {} ({})", t.judged(), t.short_words()),
        );
        figures.push(if t.mostly_short() {
            figure
        } else {
            figure.target("≤ 2%", not_pass <= 2.0)
        });
    }
    let ever = healthy.iter().filter(|l| l.first_fail.is_some()).count();
    figures.push(Figure::new(
        format!("A/A: FAIL at any of {} looks in 15 min", WINDOWS[2] / STEP),
        format!(
            "{:.1}% of {} canaries",
            percent(ever, healthy.len()),
            healthy.len()
        ),
    ));

    for (label, case) in incidents() {
        let lives = lives(&[case], count);
        for seconds in WINDOWS {
            let t = Tally::of(&lives, seconds);
            let fail = percent(t.fail, t.judged());
            let figure = Figure::new(
                format!("A/B {label}, {}: FAIL", minutes(seconds)),
                format!(
                    "{fail:.1}% of {} with enough data ({})",
                    t.judged(),
                    t.short_words()
                ),
            );
            figures.push(if t.mostly_short() {
                figure
            } else {
                figure.target("≥ 99%", fail >= 99.0)
            });
        }
        figures.push(time_to_fail(&format!("A/B {label}"), &lives));
    }

    for (label, case) in smaller_regressions() {
        let lives = lives(&[case], count);
        let detected = WINDOWS
            .map(|seconds| {
                let t = Tally::of(&lives, seconds);
                format!("{} {:.1}%", minutes(seconds), percent(t.fail, t.windows))
            })
            .join(", ");
        figures.push(Figure::new(format!("{label}: FAIL on it"), detected));
        figures.push(time_to_fail(label, &lives));
    }
    figures
}

fn time_to_fail(label: &str, lives: &[Life]) -> Figure {
    let times: Vec<u64> = lives.iter().filter_map(|l| l.first_fail).collect();
    let within = percent(times.len(), lives.len());
    Figure::new(
        format!("{label}: time to FAIL"),
        match median_seconds(times) {
            Some(median) => format!("median {median} s ({within:.1}% within 15 min)"),
            None => "none within 15 min".to_string(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_holds_what_the_reader_would_ask_prometheus_for() {
        let checkout = demo_incidents()[0];
        let case = Case {
            service: checkout.name,
            stable: checkout.healthy,
            canary: checkout.healthy,
            worse_on: None,
        };
        let scrapes = simulate(&case, 7, 300, 60);
        assert_eq!((scrapes.before, scrapes.stable.len()), (6, 37));
        let reading = reading(&scrapes, 300, Resolution::default());
        let versions = reading.metrics[0].versions.as_ref().unwrap();
        let Some(WindowData::Counts { requests, .. }) = versions.canary.window else {
            panic!("error rate is counts")
        };
        // 20% of 620 requests/s for 300 s, give or take the model's ±10% noise.
        assert!((requests / 300.0 - 124.0).abs() < 5.0, "{requests}");
        let latency = reading.metrics[1].versions.as_ref().unwrap();
        let Some(WindowData::Samples {
            values,
            every,
            span,
        }) = &latency.canary.window
        else {
            panic!("latency is a series")
        };
        // 31 points 10 s apart over 5 minutes; the first one's rate window lies before the
        // canary's start, so it has no requests.
        assert_eq!(
            (values.len(), *every, *span),
            (31, Duration::from_secs(10), Duration::from_secs(60))
        );
        assert!(values[0].is_nan() && values[1..].iter().all(|v| (0.25..0.5).contains(v)));
        let (stable_rps, canary_rps) = reading.rps.unwrap();
        assert!((stable_rps / canary_rps - 4.0).abs() < 0.5);
    }
}
