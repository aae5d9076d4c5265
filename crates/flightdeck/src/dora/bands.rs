//! DORA's performance bands.
//!
//! The thresholds are those of the performance clusters published in the
//! *Accelerate State of DevOps Report 2023* (DORA, Google Cloud), table
//! "Software delivery performance":
//!
//! | band   | deployment frequency                 | change lead time      | change fail rate | failed deployment recovery time |
//! |--------|--------------------------------------|-----------------------|------------------|---------------------------------|
//! | elite  | on demand (several a day)            | less than one day     | 5%               | less than one hour              |
//! | high   | between once a day and once a week   | one day to one week   | 10%              | less than one day               |
//! | medium | between once a week and once a month | one week to one month | 15%              | one day to one week             |
//! | low    | less often                           | longer                | more             | longer                          |
//!
//! The report's low cluster (64% change fail, one to six months to recover)
//! overlaps medium on frequency and lead time; here low is everything beyond
//! medium. Rework rate (added by the 2024 report) has no published bands.

use jiff::SignedDuration;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Band {
    Elite,
    High,
    Medium,
    Low,
}

impl Band {
    pub fn label(self) -> &'static str {
        match self {
            Band::Elite => "elite",
            Band::High => "high",
            Band::Medium => "medium",
            Band::Low => "low",
        }
    }
}

const HOUR: i64 = 3_600;
const DAY: i64 = 24 * HOUR;

/// Successful deploys per day: elite at one a day or more ("on demand"), high
/// at one a week, medium at one a month.
pub fn frequency_band(per_day: f64) -> Band {
    if per_day >= 1.0 {
        Band::Elite
    } else if per_day >= 1.0 / 7.0 {
        Band::High
    } else if per_day >= 1.0 / 30.0 {
        Band::Medium
    } else {
        Band::Low
    }
}

pub fn lead_time_band(lead: SignedDuration) -> Band {
    below(lead, [DAY, 7 * DAY, 30 * DAY])
}

pub fn recovery_band(recovery: SignedDuration) -> Band {
    below(recovery, [HOUR, DAY, 7 * DAY])
}

/// A rate of 0 to 1.
pub fn change_fail_band(rate: f64) -> Band {
    if rate <= 0.05 {
        Band::Elite
    } else if rate <= 0.10 {
        Band::High
    } else if rate <= 0.15 {
        Band::Medium
    } else {
        Band::Low
    }
}

fn below(d: SignedDuration, limits: [i64; 3]) -> Band {
    let s = d.as_secs();
    if s < limits[0] {
        Band::Elite
    } else if s < limits[1] {
        Band::High
    } else if s < limits[2] {
        Band::Medium
    } else {
        Band::Low
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_follow_the_published_thresholds_at_their_edges() {
        assert_eq!(frequency_band(3.0), Band::Elite);
        assert_eq!(frequency_band(1.0), Band::Elite);
        assert_eq!(frequency_band(0.99), Band::High);
        assert_eq!(frequency_band(1.0 / 7.0), Band::High);
        assert_eq!(frequency_band(0.1), Band::Medium);
        assert_eq!(frequency_band(0.01), Band::Low);
        let h = |h: i64| SignedDuration::from_hours(h);
        assert_eq!(lead_time_band(h(23)), Band::Elite);
        assert_eq!(lead_time_band(h(24)), Band::High);
        assert_eq!(lead_time_band(h(24 * 7)), Band::Medium);
        assert_eq!(lead_time_band(h(24 * 30)), Band::Low);
        assert_eq!(recovery_band(SignedDuration::from_mins(59)), Band::Elite);
        assert_eq!(recovery_band(h(1)), Band::High);
        assert_eq!(recovery_band(h(24)), Band::Medium);
        assert_eq!(recovery_band(h(24 * 7)), Band::Low);
        assert_eq!(change_fail_band(0.05), Band::Elite);
        assert_eq!(change_fail_band(0.06), Band::High);
        assert_eq!(change_fail_band(0.15), Band::Medium);
        assert_eq!(change_fail_band(0.16), Band::Low);
    }
}
