//! Kayenta's weighted group score (`WeightedSumScorer`).
//!
//! Each group scores the share of its judged metrics (Pass, High, Low) that
//! passed, ×100; a group whose metrics all lack data scores nothing and its
//! weight is not handed to the others. Groups weigh what `group_weights`
//! says; groups it leaves out share what remains of 100 equally. Unlike
//! Kayenta, the sum is divided by the total weight, so weights that do not add
//! up to 100 still give a score in 0..=100.

use std::collections::BTreeMap;

use crate::model::Classification;

/// Score 0-100 for (group, classification) pairs.
pub fn weighted_group_score<'a>(
    results: impl IntoIterator<Item = (&'a str, Classification)>,
    group_weights: &BTreeMap<String, f64>,
) -> f64 {
    // group → (passed, judged)
    let mut groups: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
    for (group, class) in results {
        let entry = groups.entry(group).or_default();
        match class {
            Classification::Pass => {
                entry.0 += 1;
                entry.1 += 1;
            }
            Classification::High | Classification::Low => entry.1 += 1,
            Classification::NoData => {}
        }
    }
    let named: f64 = groups.keys().filter_map(|g| group_weights.get(*g)).sum();
    let unnamed = groups
        .keys()
        .filter(|g| !group_weights.contains_key(**g))
        .count();
    let share = if unnamed == 0 {
        0.0
    } else {
        (100.0 - named).max(0.0) / unnamed as f64
    };
    let weight = |g: &str| group_weights.get(g).copied().unwrap_or(share);
    let total: f64 = groups.keys().map(|g| weight(g)).sum();
    if total <= 0.0 {
        return 0.0;
    }
    groups
        .iter()
        .filter(|(_, (_, judged))| *judged > 0)
        .map(|(g, (passed, judged))| weight(g) * f64::from(*passed) / f64::from(*judged))
        .sum::<f64>()
        / total
        * 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use Classification::*;

    fn weights(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
        pairs.iter().map(|(g, w)| (g.to_string(), *w)).collect()
    }

    #[test]
    fn weighted_groups_as_kayenta() {
        // errors (70): 1 of 2 pass → 50; latency (30): 1 of 1 → 100.
        let score = weighted_group_score(
            [("errors", Pass), ("errors", High), ("latency", Pass)],
            &weights(&[("errors", 70.0), ("latency", 30.0)]),
        );
        assert!((score - (0.7 * 50.0 + 0.3 * 100.0)).abs() < 1e-9);
    }

    #[test]
    fn unweighted_groups_share_the_rest() {
        // errors 50; latency and business share 50 → 25 each.
        let score = weighted_group_score(
            [("errors", Pass), ("latency", Low), ("business", Pass)],
            &weights(&[("errors", 50.0)]),
        );
        assert!((score - 75.0).abs() < 1e-9);
    }

    #[test]
    fn a_group_without_data_keeps_its_weight_and_scores_nothing() {
        let score = weighted_group_score([("errors", Pass), ("latency", NoData)], &BTreeMap::new());
        assert!((score - 50.0).abs() < 1e-9);
    }

    #[test]
    fn weights_not_adding_to_100_are_normalised() {
        let score = weighted_group_score(
            [("a", Pass), ("b", High)],
            &weights(&[("a", 1.0), ("b", 3.0)]),
        );
        assert!((score - 25.0).abs() < 1e-9);
    }
}
