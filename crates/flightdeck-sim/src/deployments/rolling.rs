//! A rolling update's arithmetic, as Kubernetes' Deployment controller does it
//! (`pkg/controller/deployment/rolling.go`, `util/deployment_util.go`): how many pods may
//! be added above the desired count and how many may be missing, and from those how far
//! the new ReplicaSet scales up and the old ones down in one round.

use serde_json::Value;

/// `maxSurge` / `maxUnavailable` against `replicas`: an int as it is, a percentage of
/// `replicas` rounded up (surge) or down (unavailable); both zero would stall, so
/// unavailable becomes 1 (`ResolveFenceposts`). Absent: Kubernetes' default 25%.
pub fn resolve(surge: &Value, unavailable: &Value, replicas: i64) -> (i64, i64) {
    let surge = scaled(surge, replicas, true);
    let unavailable = scaled(unavailable, replicas, false);
    match (surge, unavailable) {
        (0, 0) => (0, 1),
        (s, u) => (s, u.min(replicas)),
    }
}

fn scaled(value: &Value, replicas: i64, round_up: bool) -> i64 {
    let percent = |text: &str| {
        text.strip_suffix('%')
            .and_then(|p| p.trim().parse::<i64>().ok())
    };
    match value {
        Value::Number(n) => n.as_i64().unwrap_or(0).max(0),
        Value::String(text) => match percent(text) {
            Some(p) if round_up => (p * replicas + 99) / 100,
            Some(p) => p * replicas / 100,
            None => text.trim().parse().unwrap_or(0),
        },
        _ => scaled(&Value::from("25%"), replicas, round_up),
    }
}

/// The new ReplicaSet's size this round (`NewRSNewReplicas`): up to `replicas`, keeping
/// every ReplicaSet's pods together (`total`, the sum of their `spec.replicas`) within
/// `replicas + max_surge`.
pub fn new_replicas(replicas: i64, max_surge: i64, new: i64, total: i64) -> i64 {
    if new >= replicas {
        return replicas;
    }
    let room = (replicas + max_surge - total).max(0);
    new + room.min(replicas - new)
}

/// One old ReplicaSet as the scale-down sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Old {
    pub desired: i64,
    pub available: i64,
}

/// The old ReplicaSets' sizes this round (`reconcileOldReplicaSets`), oldest first: no
/// more pods go than keep `replicas - max_unavailable` available, counting the new
/// ReplicaSet's pods not yet available as missing; unhealthy old pods go first
/// (`cleanupUnhealthyReplicas`), then available ones down to the minimum.
pub fn old_replicas(
    replicas: i64,
    max_unavailable: i64,
    (new_desired, new_available): (i64, i64),
    olds: &[Old],
) -> Vec<i64> {
    let mut sizes: Vec<i64> = olds.iter().map(|o| o.desired).collect();
    let old_total: i64 = sizes.iter().sum();
    if old_total == 0 {
        return sizes;
    }
    let min_available = replicas - max_unavailable;
    let all = old_total + new_desired;
    let new_unavailable = new_desired - new_available;
    let mut room = all - min_available - new_unavailable;
    if room <= 0 {
        return sizes;
    }
    for (size, old) in sizes.iter_mut().zip(olds) {
        let unhealthy = (*size - old.available).max(0).min(room);
        *size -= unhealthy;
        room -= unhealthy;
    }
    let available: i64 = new_available
        + sizes
            .iter()
            .zip(olds)
            .map(|(s, o)| o.available.min(*s))
            .sum::<i64>();
    let mut down = (available - min_available).max(0);
    for size in sizes.iter_mut() {
        let step = (*size).min(down);
        *size -= step;
        down -= step;
    }
    sizes
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn percentages_round_surge_up_and_unavailable_down() {
        assert_eq!(resolve(&json!("25%"), &json!("25%"), 10), (3, 2));
        assert_eq!(resolve(&json!("25%"), &json!("25%"), 1), (1, 0));
        assert_eq!(resolve(&json!(2), &json!(0), 5), (2, 0));
        assert_eq!(resolve(&json!("30%"), &json!("30%"), 3), (1, 0));
        // Absent: Kubernetes' defaults.
        assert_eq!(resolve(&Value::Null, &Value::Null, 4), (1, 1));
    }

    #[test]
    fn both_zero_lets_one_pod_be_unavailable() {
        assert_eq!(resolve(&json!(0), &json!("0%"), 4), (0, 1));
        assert_eq!(resolve(&json!("10%"), &json!("10%"), 5), (1, 0));
    }

    #[test]
    fn the_new_set_grows_within_the_surge() {
        // 4 wanted, surge 1: with 4 old pods the new set may have 1.
        assert_eq!(new_replicas(4, 1, 0, 4), 1);
        // Old pods gone to 2, new at 1: 2 more fit.
        assert_eq!(new_replicas(4, 1, 1, 3), 3);
        // Never above the desired count, and already full stays.
        assert_eq!(new_replicas(4, 10, 0, 0), 4);
        assert_eq!(new_replicas(4, 1, 4, 6), 4);
        // No room: stays.
        assert_eq!(new_replicas(4, 1, 1, 5), 1);
    }

    #[test]
    fn old_sets_go_down_no_further_than_the_minimum_available() {
        let old = |desired, available| Old { desired, available };
        // 4 wanted, 1 unavailable allowed, new set of 1 not yet available: one old pod goes.
        assert_eq!(old_replicas(4, 1, (1, 0), &[old(4, 4)]), [3]);
        // The new pod available: one more goes.
        assert_eq!(old_replicas(4, 1, (1, 1), &[old(3, 3)]), [2]);
        // New set stuck (never available), no unavailability allowed: nothing goes.
        assert_eq!(old_replicas(4, 0, (1, 0), &[old(4, 4)]), [4]);
        // Unhealthy old pods go first, then the oldest set's.
        assert_eq!(old_replicas(4, 1, (2, 2), &[old(1, 0), old(3, 3)]), [0, 1]);
    }
}
