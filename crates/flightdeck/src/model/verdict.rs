//! The canary verdict: what `metrics::judge` concluded, per metric and overall.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Which way a metric is allowed to move. A move the other way is never a
/// failure (a canary with fewer errors is welcome).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Lower is better (errors, latency): only a significant rise fails.
    #[default]
    Lower,
    /// Higher is better (orders per minute, conversion): only a significant fall fails.
    Higher,
    /// Any significant move fails.
    Either,
}

/// One metric's classification, as Kayenta names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Classification {
    Pass,
    /// The canary is higher than the baseline by more than the allowed change.
    High,
    /// The canary is lower than the baseline by more than the allowed change.
    Low,
    /// Not judged: the metric could not be read, or has too little data yet.
    NoData,
}

impl Classification {
    /// High or Low, which the judge leaves only for a move the wrong way.
    pub fn is_failure(self) -> bool {
        matches!(self, Self::High | Self::Low)
    }

    pub fn is_pass(self) -> bool {
        self == Self::Pass
    }
}

impl fmt::Display for Classification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pass => "Pass",
            Self::High => "High",
            Self::Low => "Low",
            Self::NoData => "no data",
        })
    }
}

/// The estimated difference between canary and baseline, with its confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum EffectSize {
    /// Hodges-Lehmann shift, canary minus baseline, in the metric's unit.
    Shift {
        estimate: f64,
        lower: f64,
        upper: f64,
    },
    /// Canary rate over baseline rate (errors per request); 1 means equal.
    /// Infinite when the baseline had no errors and the canary had some.
    RateRatio {
        estimate: f64,
        lower: f64,
        upper: f64,
    },
}

/// What a metric's data is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DataUnit {
    /// Requests served (count metrics).
    Requests,
    /// Independent points of a series (continuous metrics).
    Points,
}

impl fmt::Display for DataUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Requests => "requests",
            Self::Points => "points",
        })
    }
}

/// How much data a metric has against how much the judge needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DataAmount {
    /// Requests (count metrics) or independent points (continuous metrics) on the
    /// thinner side.
    pub have: u64,
    pub needed: u64,
    pub unit: DataUnit,
}

impl DataAmount {
    pub fn is_enough(&self) -> bool {
        self.have >= self.needed
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricResult {
    pub name: String,
    pub unit: String,
    pub critical: bool,
    pub group: String,
    pub classification: Classification,
    /// None when there is no data, too little, or the two sides are identical.
    pub effect: Option<EffectSize>,
    /// Two-sided p-value of the test; None when no test ran.
    pub p_value: Option<f64>,
    /// None when the metric could not be read.
    pub data: Option<DataAmount>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Outcome {
    Pass,
    Marginal,
    Fail,
    /// Some metric has too little data to judge yet. Never shown as green.
    InsufficientData {
        have: u64,
        needed: u64,
        unit: DataUnit,
        /// When the thinnest metric should have enough, at its current rate.
        eta: Option<Duration>,
    },
    /// Some metric could not be read (its queries failed): the backend's trouble, which
    /// neither passes nor fails the canary.
    NoData,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub outcome: Outcome,
    /// Kayenta's 0-100 score; None while a metric is not judged, unless the others
    /// already fail the canary (then the score it would have if the rest passed).
    pub score: Option<f64>,
    pub metrics: Vec<MetricResult>,
    /// The metric(s) that decided the outcome (failing ones, or the ones short of data).
    pub deciding: Vec<String>,
}

impl Verdict {
    fn deciding_results(&self) -> impl Iterator<Item = &MetricResult> {
        self.deciding
            .iter()
            .filter_map(|name| self.metrics.iter().find(|m| &m.name == name))
    }
}

/// One line for the fleet row and the rollout pane, saying what each number is:
/// `FAIL score 33/100: error rate High, latency High`,
/// `INSUFFICIENT DATA 120/250 requests, ETA 2m: error rate`,
/// `NO DATA: queries failed for error rate, latency p99`.
impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = self.deciding.join(", ");
        match &self.outcome {
            Outcome::InsufficientData {
                have,
                needed,
                unit,
                eta,
            } => {
                write!(f, "INSUFFICIENT DATA {have}/{needed} {unit}")?;
                match eta {
                    Some(eta) => write!(f, ", ETA {}", short_duration(*eta))?,
                    None => f.write_str(", ETA unknown")?,
                }
                if !names.is_empty() {
                    write!(f, ": {names}")?;
                }
                Ok(())
            }
            Outcome::NoData if names.is_empty() => f.write_str("NO DATA: no metrics to judge"),
            Outcome::NoData => write!(f, "NO DATA: queries failed for {names}"),
            outcome => {
                let word = match outcome {
                    Outcome::Pass => "PASS",
                    Outcome::Marginal => "MARGINAL",
                    _ => "FAIL",
                };
                write!(f, "{word} score {:.0}/100", self.score.unwrap_or(0.0))?;
                let mut sep = ": ";
                for m in self.deciding_results() {
                    write!(f, "{sep}{} {}", m.name, m.classification)?;
                    sep = ", ";
                }
                Ok(())
            }
        }
    }
}

/// `45s`, `3m`, `1h20m`: whole units, enough for an ETA.
fn short_duration(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs.div_ceil(60)),
        _ => format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60),
    }
}
