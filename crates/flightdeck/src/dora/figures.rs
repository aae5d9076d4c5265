//! The figures: DORA's five measures and the exposure of failed deploys, per
//! workload, namespace, context or fleet, over a period. Pure: a walk over each
//! workload's deploys in start order.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::bands::{self, Band};
use super::deploy::{Deploy, Exposure};
use super::history::History;

/// What the figures count as what.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// A deploy followed this soon (from when it reached 100%, or its start) by
    /// another of the same workload was fixed forward: it counts as failed.
    pub fix_forward: SignedDuration,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            fix_forward: SignedDuration::from_hours(1),
        }
    }
}

/// The windows offered: 1d, 7d, 30d, 90d.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Window {
    Day,
    Week,
    Month,
    Quarter,
}

impl Window {
    pub const ALL: [Window; 4] = [Window::Day, Window::Week, Window::Month, Window::Quarter];

    pub fn days(self) -> i64 {
        match self {
            Window::Day => 1,
            Window::Week => 7,
            Window::Month => 30,
            Window::Quarter => 90,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Window::Day => "1d",
            Window::Week => "7d",
            Window::Month => "30d",
            Window::Quarter => "90d",
        }
    }

    pub fn next(self) -> Window {
        let at = Window::ALL.iter().position(|w| *w == self).unwrap_or(0);
        Window::ALL[(at + 1) % Window::ALL.len()]
    }

    /// The window ending at `now`.
    pub fn ending(self, now: Timestamp) -> Period {
        Period::days_before(now, self.days())
    }
}

/// `[from, to)`: a deploy belongs to the period it started in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub from: Timestamp,
    pub to: Timestamp,
}

const DAY_MS: i64 = 86_400_000;

impl Period {
    pub fn days_before(to: Timestamp, days: i64) -> Period {
        let from = Timestamp::from_millisecond(to.as_millisecond() - days * DAY_MS)
            .unwrap_or(Timestamp::MIN);
        Period { from, to }
    }

    pub fn contains(&self, at: Timestamp) -> bool {
        self.from <= at && at < self.to
    }

    /// The period of the same length just before this one.
    pub fn previous(&self) -> Period {
        let length = self.to.as_millisecond() - self.from.as_millisecond();
        Period {
            from: Timestamp::from_millisecond(self.from.as_millisecond() - length)
                .unwrap_or(Timestamp::MIN),
            to: self.from,
        }
    }

    pub fn days(&self) -> f64 {
        (self.to.as_millisecond() - self.from.as_millisecond()) as f64 / DAY_MS as f64
    }
}

/// What to group the figures by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum By {
    Workload,
    Namespace,
    Context,
    Fleet,
}

/// The figures of one group over one period. A figure that cannot be known (no
/// deploy, no commit time, no recovery yet) is `None`, never zero.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub period: Period,
    /// Every deploy that started in the period.
    pub deploys: usize,
    pub succeeded: usize,
    /// Successful deploys per day.
    pub per_day: f64,
    /// The share of the period's days with a successful deploy.
    pub days_with_deploy: f64,
    /// Median commit → running at 100%, over the deploys that have both times.
    pub lead_time: Option<SignedDuration>,
    /// Successful deploys whose lead time is unknown (no commit time, or not seen
    /// reaching 100%).
    pub lead_time_unknown: usize,
    pub failed: usize,
    /// Failed over all deploys.
    pub change_fail_rate: Option<f64>,
    /// Median failure detection → a healthy version at 100% again.
    pub recovery: Option<SignedDuration>,
    /// Failures with no healthy version at 100% since.
    pub unrecovered: usize,
    /// Deploys that fix a failed one.
    pub reworks: usize,
    pub rework_rate: Option<f64>,
    /// The traffic failed deploys took, as far as it is known.
    pub exposure: Exposure,
    /// Failed deploys whose traffic is not known (from the cluster's history alone).
    pub exposure_unknown: usize,
}

impl Figures {
    pub fn frequency_band(&self) -> Option<Band> {
        (self.deploys > 0).then(|| bands::frequency_band(self.per_day))
    }
    pub fn lead_time_band(&self) -> Option<Band> {
        self.lead_time.map(bands::lead_time_band)
    }
    pub fn change_fail_band(&self) -> Option<Band> {
        self.change_fail_rate.map(bands::change_fail_band)
    }
    pub fn recovery_band(&self) -> Option<Band> {
        self.recovery.map(bands::recovery_band)
    }
}

/// How a figure moved against the previous window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Trend {
    Better,
    Worse,
    Same,
}

fn trend<T: PartialOrd>(
    now: Option<T>,
    before: Option<T>,
    higher_is_better: bool,
) -> Option<Trend> {
    let (now, before) = (now?, before?);
    Some(if now == before {
        Trend::Same
    } else if (now > before) == higher_is_better {
        Trend::Better
    } else {
        Trend::Worse
    })
}

/// Each figure's trend against `before` (the previous window).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Trends {
    pub frequency: Option<Trend>,
    pub lead_time: Option<Trend>,
    pub change_fail_rate: Option<Trend>,
    pub recovery: Option<Trend>,
    pub rework_rate: Option<Trend>,
}

pub fn trends(now: &Figures, before: &Figures) -> Trends {
    let frequency = |f: &Figures| (f.deploys > 0 || f.period.days() > 0.0).then_some(f.per_day);
    Trends {
        frequency: trend(frequency(now), frequency(before), true),
        lead_time: trend(now.lead_time, before.lead_time, false),
        change_fail_rate: trend(now.change_fail_rate, before.change_fail_rate, false),
        recovery: trend(now.recovery, before.recovery, false),
        rework_rate: trend(now.rework_rate, before.rework_rate, false),
    }
}

/// What the walk gathers for one group.
#[derive(Debug, Default)]
struct Tally {
    deploys: usize,
    succeeded: usize,
    days: Vec<bool>,
    lead_ms: Vec<i64>,
    lead_unknown: usize,
    failed: usize,
    recovery_ms: Vec<i64>,
    unrecovered: usize,
    reworks: usize,
    exposure: Exposure,
    exposure_unknown: usize,
}

fn millis(from: Timestamp, to: Timestamp) -> i64 {
    to.as_millisecond() - from.as_millisecond()
}

/// When deploy `i` of a workload's list was found to have failed: its own failure,
/// or the start of the fix-forward that followed it within the window.
fn failure_at(list: &[Deploy], i: usize, settings: &Settings) -> Option<Timestamp> {
    let d = &list[i];
    if let Some((_, at)) = d.failed() {
        return Some(at);
    }
    let next = list.get(i + 1)?;
    let from = d.completed().unwrap_or(d.started);
    (millis(from, next.started) <= settings.fix_forward.as_millis() as i64).then_some(next.started)
}

/// When a healthy version had all traffic again after deploy `i` failed at `at`:
/// the stable version back after an abort, or the next deploy seen at 100%.
fn recovered_at(list: &[Deploy], i: usize, at: Timestamp) -> Option<Option<Timestamp>> {
    let d = &list[i];
    if let Some(stopped) = d.stopped().filter(|s| *s >= at) {
        return Some(Some(stopped));
    }
    let later = list[i + 1..].iter().find(|n| n.succeeded())?;
    // Recovered; when is known if it was seen reaching 100%, else bounded by when it
    // was replaced in turn.
    Some(later.completed_by().map(|c| c.max(at)))
}

fn walk(list: &[Deploy], period: &Period, settings: &Settings, tally: &mut Tally) {
    let days = period.days().ceil().max(1.0) as usize;
    if tally.days.len() < days {
        tally.days.resize(days, false);
    }
    let from = list.partition_point(|d| d.started < period.from);
    for i in from..list.len() {
        let d = &list[i];
        if d.started >= period.to {
            break;
        }
        tally.deploys += 1;
        let failed = failure_at(list, i, settings);
        if let Some(at) = failed {
            tally.failed += 1;
            match recovered_at(list, i, at) {
                None => tally.unrecovered += 1,
                Some(Some(back)) => tally.recovery_ms.push(millis(at, back)),
                Some(None) => {}
            }
            let end = if d.failed().is_some() {
                d.stop_time().unwrap_or(at)
            } else {
                at
            };
            match d.exposure_until(end) {
                Some(e) => tally.exposure.add(e),
                None => tally.exposure_unknown += 1,
            }
        } else if d.succeeded() {
            tally.succeeded += 1;
            let day = (millis(period.from, d.started) / DAY_MS) as usize;
            if let Some(slot) = tally.days.get_mut(day) {
                *slot = true;
            }
            match (d.commit(), d.completed_by()) {
                (Some(commit), Some(done)) if done >= commit => {
                    tally.lead_ms.push(millis(commit, done));
                }
                _ => tally.lead_unknown += 1,
            }
        }
        if i > 0 && failure_at(list, i - 1, settings).is_some() {
            tally.reworks += 1;
        }
    }
}

/// The median of `values` (the mean of the middle two for an even count).
fn median(values: &mut [i64]) -> Option<SignedDuration> {
    if values.is_empty() {
        return None;
    }
    let mid = values.len() / 2;
    let (_, &mut upper, _) = values.select_nth_unstable(mid);
    let ms = if values.len().is_multiple_of(2) {
        let lower = *values[..mid].iter().max().unwrap_or(&upper);
        (lower + upper) / 2
    } else {
        upper
    };
    Some(SignedDuration::from_millis(ms))
}

fn finish(mut tally: Tally, period: Period) -> Figures {
    let rate = |n: usize| (tally.deploys > 0).then(|| n as f64 / tally.deploys as f64);
    let days = period.days();
    Figures {
        period,
        deploys: tally.deploys,
        succeeded: tally.succeeded,
        per_day: if days > 0.0 {
            tally.succeeded as f64 / days
        } else {
            0.0
        },
        days_with_deploy: if tally.days.is_empty() {
            0.0
        } else {
            tally.days.iter().filter(|d| **d).count() as f64 / tally.days.len() as f64
        },
        lead_time: median(&mut tally.lead_ms),
        lead_time_unknown: tally.lead_unknown,
        failed: tally.failed,
        change_fail_rate: rate(tally.failed),
        recovery: median(&mut tally.recovery_ms),
        unrecovered: tally.unrecovered,
        reworks: tally.reworks,
        rework_rate: rate(tally.reworks),
        exposure: tally.exposure,
        exposure_unknown: tally.exposure_unknown,
    }
}

/// The figures of one workload's deploys (oldest first).
pub fn figures_of(list: &[Deploy], period: Period, settings: &Settings) -> Figures {
    let mut tally = Tally::default();
    walk(list, &period, settings, &mut tally);
    finish(tally, period)
}

/// The figures per group (`By::Fleet`: one group, named `fleet`), by name.
pub fn figures_by(
    history: &History,
    by: By,
    period: Period,
    settings: &Settings,
) -> BTreeMap<String, Figures> {
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    for (key, list) in history.workloads() {
        let group = match by {
            By::Workload => key.to_string(),
            By::Namespace => format!("{}/{}", key.context, key.namespace),
            By::Context => key.context.to_string(),
            By::Fleet => "fleet".to_string(),
        };
        walk(list, &period, settings, tallies.entry(group).or_default());
    }
    if by == By::Fleet && tallies.is_empty() {
        tallies.insert("fleet".into(), Tally::default());
    }
    tallies
        .into_iter()
        .map(|(group, tally)| (group, finish(tally, period)))
        .collect()
}

/// The whole fleet's figures.
pub fn fleet(history: &History, period: Period, settings: &Settings) -> Figures {
    figures_by(history, By::Fleet, period, settings)
        .into_values()
        .next()
        .unwrap_or_else(|| finish(Tally::default(), period))
}

/// Successful deploys per week, oldest week first, the last week ending at `now`.
pub fn weekly(list: &[Deploy], weeks: usize, now: Timestamp, settings: &Settings) -> Vec<u64> {
    let mut counts = vec![0; weeks];
    let week = 7 * DAY_MS;
    let shipped = |(i, d): &(usize, &Deploy)| {
        d.succeeded() && d.started < now && failure_at(list, *i, settings).is_none()
    };
    for (_, d) in list.iter().enumerate().filter(shipped) {
        let back = (millis(d.started, now) / week) as usize;
        if back < weeks {
            counts[weeks - 1 - back] += 1;
        }
    }
    counts
}
