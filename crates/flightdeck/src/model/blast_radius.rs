//! What an action does to live traffic: per version, the share of traffic
//! and the pods before and after, the requests per second that move, and
//! when the controller's delayed scale-downs happen. The replica arithmetic
//! is Argo's (`DesiredReplicaCountsForCanary`, blue-green's active and
//! preview), so the numbers are the ones the cluster will show.

use super::{Name, ReplicaSet, Role, Rollout, RolloutAction, Strategy, set_weight_at, undo_target};

/// Argo's default for `scaleDownDelaySeconds` and `abortScaleDownDelaySeconds`.
const DEFAULT_SCALE_DOWN_DELAY: u32 = 30;

/// Where the requests-per-second figure comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TrafficBasis {
    /// Measured by the metrics backend: requests per second into the rollout.
    Measured { rps: f64 },
    /// No metrics: shares follow replicas, and no rate can be given.
    Replicas,
}

/// One version of the rollout, now and once the controller has acted.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionChange {
    /// Stable or canary (active or preview for blue-green); `Old` for the
    /// revision an undo brings back.
    pub role: Role,
    pub hash: String,
    pub revision: Option<u64>,
    pub image: Option<String>,
    /// Percent of traffic.
    pub share_before: u32,
    pub share_after: u32,
    pub pods_before: u32,
    pub pods_after: u32,
    /// The pods go only this many seconds after the action
    /// (`scaleDownDelaySeconds`, `abortScaleDownDelaySeconds`).
    pub scale_down_after: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BlastRadius {
    /// The old version (stable, active) first, then the new ones.
    pub versions: Vec<VersionChange>,
    /// The share of all traffic that changes version.
    pub moved_percent: u32,
    /// Requests per second that change version, when measured.
    pub moved_rps: Option<f64>,
    pub basis: TrafficBasis,
    /// Pods replaced one by one, whatever their version (a restart).
    pub pods_replaced: u32,
    /// Words for what the numbers cannot say.
    pub note: Option<&'static str>,
    /// A Deployment's rolling update: how far above and below its desired pods it goes.
    pub rolling: Option<Rolling>,
}

/// A rolling update's bounds, `maxSurge` and `maxUnavailable` resolved to pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rolling {
    pub desired: u32,
    pub surge: u32,
    pub unavailable: u32,
}

impl Rolling {
    pub fn words(self) -> String {
        format!(
            "a rolling update: at most {} pods at once (maxSurge {}), at least {} available \
             (maxUnavailable {})",
            self.desired.saturating_add(self.surge),
            self.surge,
            self.desired.saturating_sub(self.unavailable),
            self.unavailable
        )
    }
}

impl BlastRadius {
    /// The versions' changes, with the share of traffic that changes version (what the
    /// versions gain) and, when `measured` (requests per second on stable and canary),
    /// the requests that move; nothing replaced, nothing noted.
    pub(super) fn moving(versions: Vec<VersionChange>, measured: Option<(f64, f64)>) -> Self {
        let moved_percent = versions
            .iter()
            .map(|v| v.share_after.saturating_sub(v.share_before))
            .sum::<u32>()
            .min(100);
        let total = measured.map(|(stable, canary)| stable + canary);
        BlastRadius {
            versions,
            moved_percent,
            moved_rps: total.map(|rps| rps * f64::from(moved_percent) / 100.0),
            basis: match total {
                Some(rps) => TrafficBasis::Measured { rps },
                None => TrafficBasis::Replicas,
            },
            pods_replaced: 0,
            note: None,
            rolling: None,
        }
    }

    pub fn pods_started(&self) -> u32 {
        self.versions
            .iter()
            .map(|v| v.pods_after.saturating_sub(v.pods_before))
            .fold(self.pods_replaced, u32::saturating_add)
    }

    pub fn pods_stopped(&self) -> u32 {
        self.versions
            .iter()
            .map(|v| v.pods_before.saturating_sub(v.pods_after))
            .fold(self.pods_replaced, u32::saturating_add)
    }

    /// The share of the newest version (canary, preview, or the revision
    /// undone to), before and after.
    pub fn new_version_share(&self) -> (u32, u32) {
        self.versions
            .iter()
            .skip(1)
            .fold((0, 0), |(b, a), v| (b + v.share_before, a + v.share_after))
    }
}

/// The pods each side of a canary gets at `weight` (Argo's
/// `DesiredReplicaCountsForCanary`): ceil(replicas × weight) canary pods;
/// the stable side keeps all its pods under traffic routing (unless
/// `dynamicStableScale`), else ceil(replicas × (1 − weight)).
fn canary_pods(rollout: &Rollout, weight: u32) -> (u32, u32) {
    let n = rollout.replicas.desired;
    // In u64: a large spec.replicas times 100 overflows u32 (found by fuzzing).
    let share = |percent: u32| {
        let pods = (u64::from(n) * u64::from(percent.min(100))).div_ceil(100);
        u32::try_from(pods).unwrap_or(u32::MAX)
    };
    let canary = share(weight);
    let full_stable = matches!(
        rollout.strategy,
        Strategy::Canary {
            traffic_routed: true
        }
    ) && !rollout.detail().scaling.dynamic_stable_scale;
    let stable = if full_stable {
        n
    } else {
        share(100 - weight.min(100))
    };
    (stable, canary)
}

/// A version as it stands, before the action.
fn version(role: Role, rs: Option<&ReplicaSet>, hash: &str, share: u32) -> VersionChange {
    VersionChange {
        role,
        hash: hash.to_string(),
        revision: rs.and_then(|rs| rs.revision),
        image: rs.and_then(|rs| rs.images.first().map(|i| i.to_string())),
        share_before: share,
        share_after: share,
        pods_before: rs.map_or(0, |rs| rs.replicas.desired),
        pods_after: rs.map_or(0, |rs| rs.replicas.desired),
        scale_down_after: None,
    }
}

impl VersionChange {
    fn to(mut self, share: u32, pods: u32, delay: Option<u32>) -> Self {
        self.share_after = share;
        self.pods_after = pods;
        self.scale_down_after = delay.filter(|d| *d > 0 && pods < self.pods_before);
        self
    }
}

/// What `action` would do to `rollout`. `measured`: requests per second
/// now on (stable, canary), from the metrics backend.
pub fn blast_radius(
    rollout: &Rollout,
    replica_sets: &[ReplicaSet],
    action: RolloutAction,
    measured: Option<(f64, f64)>,
) -> BlastRadius {
    if rollout.flagger.is_some() {
        return super::flagger_actions::radius(rollout, action, measured);
    }
    if rollout.deployment.is_some() {
        return super::deployment_radius::radius(rollout, replica_sets, action, measured);
    }
    let mut versions = match rollout.strategy {
        Strategy::BlueGreen => blue_green(rollout, replica_sets, action),
        Strategy::Canary { .. } => canary(rollout, replica_sets, action),
        Strategy::Other => vec![{
            let hash = rollout.current_hash.clone().unwrap_or_default();
            let rs = replica_sets.iter().find(|rs| rs.hash == hash);
            version(Role::Stable, rs, &hash, 100)
        }],
    };
    // An image the ReplicaSets do not show yet is the template's.
    for v in &mut versions {
        if v.image.is_none() && rollout.current_hash.as_deref() == Some(v.hash.as_str()) {
            v.image = rollout.images.first().map(|i| i.to_string());
        }
    }
    let (pods_replaced, note) = match action {
        RolloutAction::Restart => (
            rollout.replicas.current,
            Some("every pod is replaced, a few at a time; traffic stays where it is"),
        ),
        _ => (0, None),
    };
    BlastRadius {
        pods_replaced,
        note,
        ..BlastRadius::moving(versions, measured)
    }
}

fn delay(setting: Option<u32>, applies: bool) -> Option<u32> {
    applies.then(|| setting.unwrap_or(DEFAULT_SCALE_DOWN_DELAY))
}

fn canary(rollout: &Rollout, sets: &[ReplicaSet], action: RolloutAction) -> Vec<VersionChange> {
    let find = |hash: &Option<Name>| {
        hash.as_ref()
            .and_then(|h| sets.iter().find(|rs| rs.hash == h))
    };
    let stable_hash = rollout.stable_hash.clone().unwrap_or_default();
    let w = rollout.new_version_weight();
    let routed = matches!(
        rollout.strategy,
        Strategy::Canary {
            traffic_routed: true
        }
    );
    let mut stable = version(
        Role::Stable,
        find(&rollout.stable_hash),
        &stable_hash,
        100 - w,
    );
    let mut canary = rollout.update_in_flight().then(|| {
        let hash = rollout.current_hash.clone().unwrap_or_default();
        version(Role::Canary, find(&rollout.current_hash), &hash, w)
    });
    // Under traffic routing old pods linger for the configured delays.
    let abort_delay = delay(rollout.detail().scaling.abort_scale_down_delay, routed);
    let promote_delay = delay(rollout.detail().scaling.scale_down_delay, routed);
    let n = rollout.replicas.desired;
    // Moves the canary to `weight`, and on to stable at 100.
    let step_to = |stable: VersionChange, canary: VersionChange, weight: u32| {
        if weight >= 100 {
            (stable.to(0, 0, promote_delay), canary.to(100, n, None))
        } else {
            let (s, c) = canary_pods(rollout, weight);
            (stable.to(100 - weight, s, None), canary.to(weight, c, None))
        }
    };
    match (action, canary.take()) {
        (RolloutAction::Abort, Some(c)) => {
            stable = stable.to(100, n, None);
            canary = Some(c.to(0, 0, abort_delay));
        }
        (RolloutAction::Promote, Some(c)) if !rollout.aborted => {
            let next = rollout
                .current_step
                .map_or(1, |i| i + 1)
                .min(rollout.steps.len());
            let (s, c) = step_to(stable, c, set_weight_at(&rollout.steps, Some(next)));
            (stable, canary) = (s, Some(c));
        }
        (RolloutAction::PromoteFull, Some(c)) => {
            let (s, c) = step_to(stable, c, 100);
            (stable, canary) = (s, Some(c));
        }
        (RolloutAction::Retry, Some(c)) => {
            let (s, c) = step_to(stable, c, set_weight_at(&rollout.steps, Some(0)));
            (stable, canary) = (s, Some(c));
        }
        (RolloutAction::Undo { revision }, current) => {
            let Some(target) = undo_target(sets, revision) else {
                return [stable].into_iter().chain(current).collect();
            };
            let replaced = current.map(|c| c.to(0, 0, promote_delay));
            if Some(&target.hash) == rollout.stable_hash.as_ref() {
                // Back to stable: Argo skips the steps at once.
                let stable = stable.to(100, n, None);
                return [stable].into_iter().chain(replaced).collect();
            }
            // The old template comes back as a new canary, from the first step.
            let back = version(Role::Old, Some(target), &target.hash, 0);
            let (s, b) = step_to(stable, back, set_weight_at(&rollout.steps, Some(0)));
            return [s].into_iter().chain(replaced).chain([b]).collect();
        }
        (_, current) => canary = current,
    }
    [stable].into_iter().chain(canary).collect()
}

fn blue_green(rollout: &Rollout, sets: &[ReplicaSet], action: RolloutAction) -> Vec<VersionChange> {
    let find = |hash: &str| sets.iter().find(|rs| rs.hash == hash);
    let active_hash = rollout
        .detail()
        .active_selector
        .clone()
        .or_else(|| rollout.stable_hash.clone())
        .unwrap_or_default();
    let active = version(Role::Active, find(&active_hash), &active_hash, 100);
    let preview = rollout
        .current_hash
        .clone()
        .filter(|h| *h != active_hash)
        .map(|h| version(Role::Preview, find(&h), &h, 0));
    let n = rollout.replicas.desired;
    let preview_pods = rollout.detail().scaling.preview_replicas.unwrap_or(n);
    let promote_delay = delay(rollout.detail().scaling.scale_down_delay, true);
    let abort_delay = delay(rollout.detail().scaling.abort_scale_down_delay, true);
    let (active, preview) = match (action, preview) {
        (RolloutAction::Promote | RolloutAction::PromoteFull, Some(p)) => {
            (active.to(0, 0, promote_delay), Some(p.to(100, n, None)))
        }
        (RolloutAction::Abort, Some(p)) => (active, Some(p.to(0, 0, abort_delay))),
        (RolloutAction::Retry, Some(p)) => (active, Some(p.to(0, preview_pods, None))),
        (RolloutAction::Undo { revision }, current) => {
            let Some(target) = undo_target(sets, revision) else {
                return [active].into_iter().chain(current).collect();
            };
            let replaced = current.map(|p| p.to(0, 0, abort_delay));
            if target.hash == active_hash {
                return [active].into_iter().chain(replaced).collect();
            }
            let back = version(Role::Old, Some(target), &target.hash, 0).to(0, preview_pods, None);
            return [active].into_iter().chain(replaced).chain([back]).collect();
        }
        (_, preview) => (active, preview),
    };
    [active].into_iter().chain(preview).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::{canary, replica_set, rollout};
    use crate::model::{Phase, Step, Strategy};

    fn pods(b: &BlastRadius) -> Vec<(Role, u32, u32, Option<u32>)> {
        b.versions
            .iter()
            .map(|v| (v.role, v.pods_before, v.pods_after, v.scale_down_after))
            .collect()
    }

    fn shares(b: &BlastRadius) -> Vec<(Role, u32, u32)> {
        b.versions
            .iter()
            .map(|v| (v.role, v.share_before, v.share_after))
            .collect()
    }

    /// search-api: a basic canary of 10 replicas at 40%: stable 6 pods, canary 4.
    fn search_api() -> (Rollout, Vec<ReplicaSet>) {
        let mut r = canary("eu", "search", "search-api", Phase::Paused, 1);
        r.steps = vec![
            Step::SetWeight(40),
            Step::Pause { seconds: None },
            Step::SetWeight(70),
        ]
        .into();
        r.actual_weight = 40;
        let sets = vec![
            replica_set(&r, "search-api-stable", 3, 6),
            replica_set(&r, "search-api-canary", 4, 4),
        ];
        (r, sets)
    }

    #[test]
    fn a_basic_canarys_pods_move_on_both_sides() {
        let (r, sets) = search_api();
        let full = blast_radius(&r, &sets, RolloutAction::PromoteFull, None);
        assert_eq!(
            pods(&full),
            [(Role::Stable, 6, 0, None), (Role::Canary, 4, 10, None)]
        );
        assert_eq!((full.pods_started(), full.pods_stopped()), (6, 6));
        let abort = blast_radius(&r, &sets, RolloutAction::Abort, None);
        assert_eq!(
            pods(&abort),
            [(Role::Stable, 6, 10, None), (Role::Canary, 4, 0, None)]
        );
        assert_eq!((abort.pods_started(), abort.pods_stopped()), (4, 4));
        let promote = blast_radius(&r, &sets, RolloutAction::Promote, None);
        assert_eq!(
            pods(&promote),
            [(Role::Stable, 6, 3, None), (Role::Canary, 4, 7, None)]
        );
        assert_eq!(
            shares(&promote),
            [(Role::Stable, 60, 30), (Role::Canary, 40, 70)]
        );
        assert_eq!(promote.moved_percent, 30);
    }

    #[test]
    fn a_traffic_routed_canary_keeps_stable_full_and_its_old_pods_linger() {
        let (mut r, sets) = search_api();
        r.strategy = Strategy::Canary {
            traffic_routed: true,
        };
        let sets: Vec<ReplicaSet> = sets
            .into_iter()
            .map(|mut rs| {
                if rs.hash.ends_with("stable") {
                    rs.replicas.desired = 10;
                }
                rs
            })
            .collect();
        let abort = blast_radius(&r, &sets, RolloutAction::Abort, None);
        assert_eq!(
            pods(&abort),
            [(Role::Stable, 10, 10, None), (Role::Canary, 4, 0, Some(30))]
        );
        r.detail_mut().scaling.scale_down_delay = Some(600);
        let full = blast_radius(&r, &sets, RolloutAction::PromoteFull, None);
        assert_eq!(
            pods(&full),
            [
                (Role::Stable, 10, 0, Some(600)),
                (Role::Canary, 4, 10, None)
            ]
        );
        r.detail_mut().scaling.dynamic_stable_scale = true;
        let promote = blast_radius(&r, &sets, RolloutAction::Promote, None);
        assert_eq!(
            pods(&promote),
            [(Role::Stable, 10, 3, None), (Role::Canary, 4, 7, None)]
        );
    }

    #[test]
    fn blue_green_promotion_switches_all_traffic_and_the_old_active_goes_later() {
        let mut bg = rollout("eu", "payments", "ledger", Phase::Paused);
        bg.strategy = Strategy::BlueGreen;
        bg.detail_mut().active_selector = Some("ledger-stable".into());
        bg.current_hash = Some("ledger-preview".into());
        let sets = vec![
            replica_set(&bg, "ledger-stable", 1, 4),
            replica_set(&bg, "ledger-preview", 2, 4),
        ];
        let b = blast_radius(&bg, &sets, RolloutAction::Promote, Some((300.0, 0.0)));
        assert_eq!(
            shares(&b),
            [(Role::Active, 100, 0), (Role::Preview, 0, 100)]
        );
        assert_eq!(
            pods(&b),
            [(Role::Active, 4, 0, Some(30)), (Role::Preview, 4, 4, None)]
        );
        assert_eq!((b.moved_percent, b.moved_rps), (100, Some(300.0)));
        let abort = blast_radius(&bg, &sets, RolloutAction::Abort, None);
        assert_eq!(abort.moved_percent, 0);
        assert_eq!(
            pods(&abort),
            [(Role::Active, 4, 4, None), (Role::Preview, 4, 0, Some(30))]
        );
    }

    #[test]
    fn the_rate_that_moves_is_measured_even_when_the_canary_has_none() {
        // Aborted: all traffic on stable, 620 req/s there, 0 on the canary.
        let aborted = canary("eu", "shop", "checkout", Phase::Aborted, 0);
        let sets = vec![
            replica_set(&aborted, "checkout-stable", 1, 10),
            replica_set(&aborted, "checkout-canary", 2, 0),
        ];
        let b = blast_radius(&aborted, &sets, RolloutAction::Retry, Some((620.0, 0.0)));
        assert_eq!(b.new_version_share(), (0, 20));
        assert_eq!(b.moved_rps, Some(124.0));
        assert_eq!(
            pods(&b),
            [(Role::Stable, 10, 8, None), (Role::Canary, 0, 2, None)]
        );
        // Promote while aborted moves nothing: the abort holds the traffic.
        let b = blast_radius(&aborted, &sets, RolloutAction::Promote, Some((620.0, 0.0)));
        assert_eq!((b.moved_percent, b.moved_rps), (0, Some(0.0)));
    }

    #[test]
    fn undo_brings_an_old_revision_back_as_a_canary_unless_it_is_stable() {
        let r = canary("eu", "shop", "checkout", Phase::Paused, 2);
        let sets = vec![
            replica_set(&r, "checkout-old", 1, 0),
            replica_set(&r, "checkout-stable", 2, 5),
            replica_set(&r, "checkout-canary", 3, 5),
        ];
        let b = blast_radius(&r, &sets, RolloutAction::Undo { revision: Some(1) }, None);
        assert_eq!(
            shares(&b),
            [
                (Role::Stable, 50, 80),
                (Role::Canary, 50, 0),
                (Role::Old, 0, 20)
            ]
        );
        assert_eq!(b.versions[2].revision, Some(1));
        assert_eq!(
            b.versions[2].image.as_deref(),
            Some("registry.example.com/shop/checkout:v1.1.0")
        );
        assert_eq!((b.pods_started(), b.pods_stopped()), (5, 5));
        let to_stable = blast_radius(&r, &sets, RolloutAction::Undo { revision: Some(2) }, None);
        assert_eq!(
            shares(&to_stable),
            [(Role::Stable, 50, 100), (Role::Canary, 50, 0)]
        );
        assert_eq!(
            pods(&to_stable),
            [(Role::Stable, 5, 10, None), (Role::Canary, 5, 0, None)]
        );
    }

    #[test]
    fn pause_and_resume_move_nothing_and_restart_replaces_every_pod() {
        let (r, sets) = search_api();
        for action in [RolloutAction::Pause, RolloutAction::Resume] {
            let b = blast_radius(&r, &sets, action, Some((600.0, 400.0)));
            assert_eq!(
                (b.moved_percent, b.pods_started(), b.pods_stopped()),
                (0, 0, 0)
            );
        }
        let b = blast_radius(&r, &sets, RolloutAction::Restart, Some((600.0, 400.0)));
        assert_eq!(
            (
                b.moved_percent,
                b.moved_rps,
                b.pods_started(),
                b.pods_stopped()
            ),
            (0, Some(0.0), 10, 10)
        );
        assert!(b.note.is_some());
    }

    #[test]
    fn pods_are_counted_for_any_number_of_replicas() {
        // Found by fuzzing: 70,705,218 replicas × 100% overflowed a u32.
        let (mut r, sets) = search_api();
        r.replicas.desired = 70_705_218;
        let b = blast_radius(&r, &sets, RolloutAction::PromoteFull, None);
        assert_eq!(b.versions[1].pods_after, 70_705_218);
        let b = blast_radius(&r, &sets, RolloutAction::Promote, None);
        assert_eq!(b.versions[1].pods_after, 49_493_653);
    }

    #[test]
    fn a_settled_canary_has_one_version_with_all_the_traffic() {
        let mut healthy = rollout("eu", "shop", "cart", Phase::Healthy);
        healthy.steps = vec![Step::SetWeight(20), Step::Pause { seconds: None }].into();
        healthy.current_step = Some(2);
        let sets = vec![
            replica_set(&healthy, "cart-old", 1, 0),
            replica_set(&healthy, "cart-stable", 2, 4),
        ];
        let b = blast_radius(&healthy, &sets, RolloutAction::Pause, None);
        assert_eq!(shares(&b), [(Role::Stable, 100, 100)]);
        // Undo on a settled rollout starts a canary of the old revision.
        let b = blast_radius(
            &healthy,
            &sets,
            RolloutAction::Undo { revision: None },
            None,
        );
        assert_eq!(shares(&b), [(Role::Stable, 100, 80), (Role::Old, 0, 20)]);
        assert_eq!((b.pods_started(), b.pods_stopped()), (1, 0));
    }
}
