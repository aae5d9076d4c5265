//! A step of a canary strategy.

use std::fmt;

use jiff::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Step {
    SetWeight(u32),
    /// `pause: {}` waits for a person; `pause: {duration}` for a time.
    Pause {
        seconds: Option<u64>,
    },
    Analysis {
        templates: Vec<String>,
    },
    /// Any other step (`setCanaryScale`, `experiment`, a plugin): its key.
    Other(String),
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::SetWeight(w) => write!(f, "{w}%"),
            Step::Pause { seconds: None } => f.write_str("pause"),
            Step::Pause { seconds: Some(s) } => write!(f, "{}", short_duration(*s)),
            Step::Analysis { templates } if templates.is_empty() => f.write_str("analysis"),
            Step::Analysis { templates } => write!(f, "analysis {}", templates.join(",")),
            Step::Other(kind) => f.write_str(kind),
        }
    }
}

/// The canary weight the steps ask for at step `index` (Argo's
/// `GetCurrentSetWeight` without the abort): 100 when all steps are done,
/// else the last `setWeight` at or before it (0 if none).
pub fn set_weight_at(steps: &[Step], index: Option<usize>) -> u32 {
    let index = index.unwrap_or(0);
    if index >= steps.len() {
        return 100;
    }
    steps[..=index]
        .iter()
        .rev()
        .find_map(|step| match step {
            Step::SetWeight(w) => Some(*w),
            _ => None,
        })
        .unwrap_or(0)
}

/// "45s", "5m", "1h30m": the shortest exact form.
pub fn short_duration(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    let mut out = String::new();
    if h > 0 {
        out += &format!("{h}h");
    }
    if m > 0 {
        out += &format!("{m}m");
    }
    if s > 0 || out.is_empty() {
        out += &format!("{s}s");
    }
    out
}

/// "12s", "5m", "3h", "2d": an age in one unit, rounded down.
pub fn short_age(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..60 => format!("{s}s"),
        _ => minute_age(s),
    }
}

/// An age to the minute: "<1m", "5m", "3h", "2d". The fleet shows ages so,
/// since a column of seconds would redraw the screen every second for nothing
/// a person acts on (the rollout pane and countdowns keep the seconds).
pub fn minute_age(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..60 => "<1m".to_string(),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}

/// When the age of `since`, shown by [`short_age`], next reads differently
/// after `now`: the next second, minute, hour or day of its age.
pub fn age_changes_at(since: Timestamp, now: Timestamp) -> Timestamp {
    changes_at(since, now, 1)
}

/// When the age of `since`, shown by [`minute_age`], next reads differently.
pub fn minute_age_changes_at(since: Timestamp, now: Timestamp) -> Timestamp {
    changes_at(since, now, 60)
}

/// The next second (or `first_unit`), minute, hour or day of an age.
fn changes_at(since: Timestamp, now: Timestamp, first_unit: i64) -> Timestamp {
    let age = (now.as_second() - since.as_second()).max(0);
    let unit = match age {
        0..60 => first_unit,
        60..3600 => 60,
        3600..86400 => 3600,
        _ => 86400,
    };
    let at = since.as_second() + (age / unit + 1) * unit;
    Timestamp::from_second(at).unwrap_or(Timestamp::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_read_as_the_plugin_shows_them() {
        assert_eq!(Step::SetWeight(20).to_string(), "20%");
        assert_eq!(Step::Pause { seconds: None }.to_string(), "pause");
        assert_eq!(Step::Pause { seconds: Some(90) }.to_string(), "1m30s");
        assert_eq!(
            Step::Pause {
                seconds: Some(3600)
            }
            .to_string(),
            "1h"
        );
        assert_eq!(Step::Pause { seconds: Some(0) }.to_string(), "0s");
    }

    #[test]
    fn ages_use_one_unit() {
        assert_eq!(short_age(-3), "0s");
        assert_eq!(short_age(59), "59s");
        assert_eq!(short_age(60), "1m");
        assert_eq!(short_age(7199), "1h");
        assert_eq!(short_age(86400 * 3 + 5), "3d");
    }

    #[test]
    fn an_age_changes_at_the_next_step_of_its_unit() {
        let t = |s: i64| Timestamp::from_second(1_000_000 + s).unwrap();
        let since = t(0);
        assert_eq!(age_changes_at(since, t(12)), t(13));
        assert_eq!(age_changes_at(since, t(61)), t(120));
        assert_eq!(age_changes_at(since, t(7199)), t(7200));
        assert_eq!(age_changes_at(since, t(86_400 * 3 + 5)), t(86_400 * 4));
        // Not yet begun (a clock behind the cluster's): "0s" until it has.
        assert_eq!(age_changes_at(t(10), t(5)), t(11));
        for now in [0, 59, 60, 3599, 3600, 86_399, 86_400, 200_000] {
            let next = age_changes_at(since, t(now));
            let shown = |at: Timestamp| short_age(at.as_second() - since.as_second());
            assert_ne!(shown(t(now)), shown(next), "at {now}");
            let just_before = Timestamp::from_second(next.as_second() - 1).unwrap();
            assert_eq!(shown(t(now)), shown(just_before), "at {now}");
        }
    }

    #[test]
    fn the_fleet_reads_ages_to_the_minute_and_ticks_only_then() {
        assert_eq!(minute_age(0), "<1m");
        assert_eq!(minute_age(59), "<1m");
        assert_eq!(minute_age(60), "1m");
        assert_eq!(minute_age(7200), "2h");
        let since = Timestamp::from_second(1_000).unwrap();
        let now = Timestamp::from_second(1_012).unwrap();
        assert_eq!(minute_age_changes_at(since, now).as_second(), 1_060);
        assert_eq!(age_changes_at(since, now).as_second(), 1_013);
        let later = Timestamp::from_second(1_000 + 3_601).unwrap();
        assert_eq!(
            minute_age_changes_at(since, later),
            age_changes_at(since, later)
        );
    }
}
