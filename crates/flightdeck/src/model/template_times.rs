//! The pod template's annotations that read as a time: where a commit time is found
//! (`flightdeck.io/commit-time`, `dora/commitTimestamp`, what `[dora]` names). Only
//! these are kept: a real template carries many annotations (config checksums,
//! sidecar and scraping settings), and each ReplicaSet of a rollout's history holds
//! its own template.

use jiff::Timestamp;

use super::text::{Text, interned};

/// Annotation name (interned: a fleet uses a handful) and the time it reads as.
pub type TemplateTimes = Box<[(Text, Timestamp)]>;

/// Those of `annotations` that read as a time.
pub fn template_times<'a>(
    annotations: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> TemplateTimes {
    annotations
        .into_iter()
        .filter_map(|(name, value)| Some((interned(name), parse_time(value)?)))
        .collect()
}

/// `2024-05-01T10:00:00Z` or `1714557600`.
fn parse_time(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    text.parse::<Timestamp>()
        .ok()
        .or_else(|| Timestamp::from_second(text.parse().ok()?).ok())
}

/// The time the first of `names` that `times` holds gives.
pub fn first_time(times: &[(Text, Timestamp)], names: &[String]) -> Option<Timestamp> {
    names.iter().find_map(|name| {
        times
            .iter()
            .find(|(k, _)| k == name.as_str())
            .map(|(_, t)| *t)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(second: i64) -> Timestamp {
        Timestamp::from_second(1_714_521_600 + second).unwrap()
    }

    #[test]
    fn times_read_as_rfc3339_or_seconds() {
        assert_eq!(parse_time("2024-05-01T00:00:00Z"), Some(t(0)));
        assert_eq!(parse_time(" 1714521600 "), Some(t(0)));
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn only_annotations_that_are_times_are_kept_and_the_first_name_found_wins() {
        let times = template_times([
            (
                "checksum/config",
                "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            ),
            ("dora/commitTimestamp", "1714521660"),
            ("sidecar.istio.io/inject", "true"),
            ("flightdeck.io/commit-time", "2024-05-01T00:00:00Z"),
        ]);
        assert_eq!(times.len(), 2);
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            first_time(
                &times,
                &names(&["flightdeck.io/commit-time", "dora/commitTimestamp"])
            ),
            Some(t(0))
        );
        assert_eq!(
            first_time(&times, &names(&["dora/commitTimestamp"])),
            Some(t(60))
        );
        assert_eq!(first_time(&times, &names(&["checksum/config"])), None);
    }
}
