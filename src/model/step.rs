//! A step of a canary strategy.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
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
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
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
}
