//! What an action does to a plain Deployment: a rolling update from the ReplicaSets that
//! have pods now to the one the action asks for (the chosen revision of an undo, a new
//! template for a restart), within `maxSurge` / `maxUnavailable` as Kubernetes rounds
//! them (surge up, unavailability down). Without traffic routing, a version's share of
//! traffic is its share of the available pods.

use super::blast_radius::{BlastRadius, Rolling, VersionChange};
use super::{ReplicaSet, Role, Rollout, RolloutAction, undo_target};

/// `maxSurge` or `maxUnavailable` against `replicas`: an int as it is, a percentage rounded
/// up (surge) or down (unavailability), as `GetScaledValueFromIntOrPercent` does.
pub fn scaled(value: &str, replicas: u32, round_up: bool) -> u32 {
    let replicas = u64::from(replicas);
    let pods = match value.trim().strip_suffix('%') {
        Some(p) => {
            let p = p.trim().parse::<u64>().unwrap_or(25);
            if round_up {
                (p * replicas).div_ceil(100)
            } else {
                p * replicas / 100
            }
        }
        None => value.trim().parse::<u64>().unwrap_or(0),
    };
    u32::try_from(pods).unwrap_or(u32::MAX)
}

pub fn radius(
    rollout: &Rollout,
    sets: &[ReplicaSet],
    action: RolloutAction,
    measured: Option<(f64, f64)>,
) -> BlastRadius {
    let n = rollout.replicas.desired;
    let available: u32 = sets.iter().map(|rs| rs.replicas.available).sum();
    let share = |rs: &ReplicaSet| match available {
        0 => 0,
        all => rs.replicas.available * 100 / all,
    };
    let current = |rs: &&ReplicaSet| rs.revision.is_some() && rs.revision == rollout.revision;
    let mut running: Vec<&ReplicaSet> = sets
        .iter()
        .filter(|rs| rs.replicas.desired > 0 || current(rs))
        .collect();
    running.sort_by_key(|rs| rs.revision);
    let target = match action {
        RolloutAction::Undo { revision } => undo_target(sets, revision),
        _ => None,
    };
    let version =
        |rs: &ReplicaSet, role: Role, (share_after, pods_after): (u32, u32)| VersionChange {
            role,
            hash: rs.hash.to_string(),
            revision: rs.revision,
            image: rs.images.first().map(|i| i.to_string()),
            share_before: share(rs),
            share_after,
            pods_before: rs.replicas.desired,
            pods_after,
            scale_down_after: None,
        };
    let mut versions: Vec<VersionChange> = running
        .iter()
        .filter(|rs| target.is_none_or(|t| t.key != rs.key))
        .map(|rs| {
            let role = if current(rs) { Role::Stable } else { Role::Old };
            let after = match target {
                Some(_) => (0, 0),
                None => (share(rs), rs.replicas.desired),
            };
            version(rs, role, after)
        })
        .collect();
    if let Some(t) = target {
        versions.push(version(t, Role::Old, (100, n)));
    }
    let detail = rollout.deployment.as_deref();
    let surge = detail.map_or(0, |d| scaled(&d.max_surge, n, true));
    let unavailable = detail.map_or(0, |d| scaled(&d.max_unavailable, n, false));
    let (surge, unavailable) = match (surge, unavailable) {
        (0, 0) => (0, 1),
        pair => pair,
    };
    let rolls = target.is_some() || action == RolloutAction::Restart;
    BlastRadius {
        pods_replaced: if action == RolloutAction::Restart {
            n
        } else {
            0
        },
        rolling: rolls.then_some(Rolling {
            desired: n,
            surge,
            unavailable,
        }),
        ..BlastRadius::moving(versions, measured)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::{deployment, deployment_replica_set};

    #[test]
    fn percentages_round_as_kubernetes_does() {
        assert_eq!(scaled("25%", 10, true), 3);
        assert_eq!(scaled("25%", 10, false), 2);
        assert_eq!(scaled("1", 10, false), 1);
        assert_eq!(scaled("30%", 3, false), 0);
    }

    #[test]
    fn undo_moves_every_pod_to_the_chosen_revision_within_the_surge() {
        let mut web = deployment("eu", "shop", "web", 3, 4);
        web.deployment.as_mut().unwrap().max_unavailable = "0".into();
        let sets = [
            deployment_replica_set(&web, 1, 0),
            deployment_replica_set(&web, 2, 0),
            deployment_replica_set(&web, 3, 4),
        ];
        let radius = radius(&web, &sets, RolloutAction::Undo { revision: Some(1) }, None);
        let moves: Vec<_> = radius
            .versions
            .iter()
            .map(|v| {
                (
                    v.revision,
                    v.share_before,
                    v.share_after,
                    v.pods_before,
                    v.pods_after,
                )
            })
            .collect();
        assert_eq!(moves, [(Some(3), 100, 0, 4, 0), (Some(1), 0, 100, 0, 4)]);
        assert_eq!(
            (
                radius.moved_percent,
                radius.pods_started(),
                radius.pods_stopped()
            ),
            (100, 4, 4)
        );
        assert_eq!(
            radius.rolling.map(Rolling::words).as_deref(),
            Some(
                "a rolling update: at most 5 pods at once (maxSurge 1), at least 4 available (maxUnavailable 0)"
            )
        );
        // Pause moves nothing.
        let paused = super::radius(&web, &sets, RolloutAction::Pause, None);
        assert_eq!((paused.moved_percent, paused.pods_started()), (0, 0));
    }
}
