//! What an action does to live traffic: the share on each version before
//! and after, the requests per second that move, the pods started or stopped.

use super::{Rollout, RolloutAction, Strategy, set_weight_at};

/// Where the requests-per-second figure comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TrafficBasis {
    /// Measured by the metrics backend: requests per second into the rollout.
    Measured { rps: f64 },
    /// No metrics: shares follow replicas, and no rate can be given.
    Replicas,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BlastRadius {
    /// The new version's share of traffic now and after the action, in
    /// percent (canary, or preview for blue-green).
    pub new_before: u32,
    pub new_after: u32,
    /// The share of all traffic that changes version.
    pub moved_percent: u32,
    /// Requests per second that change version, when measured.
    pub moved_rps: Option<f64>,
    pub basis: TrafficBasis,
    pub pods_started: u32,
    pub pods_stopped: u32,
    /// Words for what the numbers cannot say (a restart replaces every pod).
    pub note: Option<&'static str>,
}

/// The canary's (or preview's) share of traffic once the controller has
/// acted. `undo_to_stable`: the revision undone to is the stable one, which
/// Argo rolls back to at once instead of stepping through the canary again.
pub fn new_version_weight_after(
    rollout: &Rollout,
    action: RolloutAction,
    undo_to_stable: bool,
) -> u32 {
    let now = rollout.new_version_weight();
    let next_step = || {
        let next = rollout
            .current_step
            .map_or(1, |i| i + 1)
            .min(rollout.steps.len());
        set_weight_at(&rollout.steps, Some(next))
    };
    match (rollout.strategy, action) {
        (Strategy::BlueGreen, RolloutAction::Promote | RolloutAction::PromoteFull) => 100,
        (Strategy::BlueGreen, RolloutAction::Abort) => 0,
        (_, RolloutAction::PromoteFull) => 100,
        (_, RolloutAction::Promote) => next_step(),
        // Resuming a pause step is a promote; resuming a person's pause
        // lets the controller carry on from where it stood.
        (_, RolloutAction::Resume)
            if !rollout.paused_by_user && !rollout.pause_conditions.is_empty() =>
        {
            next_step()
        }
        (_, RolloutAction::Abort) => 0,
        (_, RolloutAction::Retry) => set_weight_at(&rollout.steps, Some(0)),
        (_, RolloutAction::Undo { .. }) if undo_to_stable => 0,
        (_, RolloutAction::Undo { .. }) => set_weight_at(&rollout.steps, Some(0)),
        _ => now,
    }
}

pub fn blast_radius(
    rollout: &Rollout,
    action: RolloutAction,
    undo_to_stable: bool,
    measured_rps: Option<f64>,
) -> BlastRadius {
    let new_before = rollout.new_version_weight();
    let new_after = new_version_weight_after(rollout, action, undo_to_stable);
    let moved_percent = new_before.abs_diff(new_after);
    let desired = rollout.replicas.desired;
    // Argo sizes a canary as ceil(replicas × weight); a blue-green preview
    // runs at full size whatever its traffic.
    let new_pods = |weight: u32| match rollout.strategy {
        Strategy::BlueGreen => desired,
        // In u64: a large spec.replicas times 100 overflows u32.
        _ => {
            let pods = (u64::from(desired) * u64::from(weight)).div_ceil(100);
            u32::try_from(pods).unwrap_or(u32::MAX)
        }
    };
    let (before, after) = (new_pods(new_before), new_pods(new_after));
    let (mut started, mut stopped) = (after.saturating_sub(before), before.saturating_sub(after));
    let mut note = None;
    match action {
        RolloutAction::Restart => {
            (started, stopped) = (rollout.replicas.current, rollout.replicas.current);
            note = Some("every pod is replaced, a few at a time; traffic stays where it is");
        }
        RolloutAction::Abort if rollout.strategy == Strategy::BlueGreen => {
            stopped = desired;
            started = 0;
        }
        _ => {}
    }
    let basis = match measured_rps {
        Some(rps) => TrafficBasis::Measured { rps },
        None => TrafficBasis::Replicas,
    };
    BlastRadius {
        new_before,
        new_after,
        moved_percent,
        moved_rps: measured_rps.map(|rps| rps * f64::from(moved_percent) / 100.0),
        basis,
        pods_started: started,
        pods_stopped: stopped,
        note,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::{canary, rollout};
    use crate::model::{Phase, Strategy};

    #[test]
    fn abort_sends_the_canary_share_back_to_stable() {
        // Step 2 of [20%, pause, 50%, pause 60s], 10 replicas.
        let r = canary("eu", "shop", "checkout", Phase::Paused, 2);
        let b = blast_radius(&r, RolloutAction::Abort, false, Some(1240.0));
        assert_eq!((b.new_before, b.new_after, b.moved_percent), (50, 0, 50));
        assert_eq!(b.moved_rps, Some(620.0));
        assert_eq!((b.pods_started, b.pods_stopped), (0, 5));
        assert_eq!(b.basis, TrafficBasis::Measured { rps: 1240.0 });
    }

    #[test]
    fn pods_are_counted_for_any_number_of_replicas() {
        // Found by fuzzing: 70,705,218 replicas × 100% overflowed a u32.
        let mut r = canary("eu", "shop", "checkout", Phase::Paused, 1);
        r.replicas.desired = 70_705_218;
        let b = blast_radius(&r, RolloutAction::PromoteFull, false, None);
        assert_eq!((b.pods_started, b.pods_stopped), (56_564_174, 0));
    }

    #[test]
    fn promote_moves_to_the_next_steps_weight() {
        let at_pause = canary("eu", "shop", "checkout", Phase::Paused, 1);
        let b = blast_radius(&at_pause, RolloutAction::Promote, false, None);
        assert_eq!((b.new_before, b.new_after), (20, 50));
        assert_eq!((b.pods_started, b.pods_stopped), (3, 0));
        assert_eq!((b.moved_rps, b.basis), (None, TrafficBasis::Replicas));
        // From the last step, promote finishes the rollout.
        let last = canary("eu", "shop", "checkout", Phase::Paused, 3);
        assert_eq!(
            new_version_weight_after(&last, RolloutAction::Promote, false),
            100
        );
        assert_eq!(
            new_version_weight_after(&at_pause, RolloutAction::PromoteFull, false),
            100
        );
        // Resuming a pause step promotes; pausing changes nothing.
        assert_eq!(
            new_version_weight_after(&at_pause, RolloutAction::Resume, false),
            50
        );
        assert_eq!(
            new_version_weight_after(&at_pause, RolloutAction::Pause, false),
            20
        );
    }

    #[test]
    fn retry_and_undo_start_the_steps_over_unless_undoing_to_stable() {
        let aborted = canary("eu", "shop", "checkout", Phase::Aborted, 2);
        assert_eq!(
            new_version_weight_after(&aborted, RolloutAction::Retry, false),
            20
        );
        let undo = RolloutAction::Undo { revision: None };
        let r = canary("eu", "shop", "checkout", Phase::Paused, 2);
        assert_eq!(new_version_weight_after(&r, undo, false), 20);
        assert_eq!(new_version_weight_after(&r, undo, true), 0);
    }

    #[test]
    fn blue_green_promotion_moves_everything_and_restart_moves_nothing() {
        let mut bg = rollout("eu", "shop", "storefront", Phase::Paused);
        bg.strategy = Strategy::BlueGreen;
        bg.actual_weight = 0;
        let b = blast_radius(&bg, RolloutAction::Promote, false, Some(300.0));
        assert_eq!(
            (b.new_before, b.new_after, b.moved_rps),
            (0, 100, Some(300.0))
        );
        let b = blast_radius(&bg, RolloutAction::Abort, false, None);
        assert_eq!((b.moved_percent, b.pods_stopped), (0, 4));
        let mut healthy = rollout("eu", "shop", "cart", Phase::Healthy);
        healthy.steps = vec![
            crate::model::Step::SetWeight(20),
            crate::model::Step::Pause { seconds: None },
        ];
        healthy.current_step = Some(2);
        // Undo on a settled rollout starts a canary of the old revision.
        let b = blast_radius(
            &healthy,
            RolloutAction::Undo { revision: Some(1) },
            false,
            None,
        );
        assert_eq!(
            (b.new_before, b.new_after, b.pods_started, b.pods_stopped),
            (0, 20, 1, 0)
        );
        let b = blast_radius(&healthy, RolloutAction::Restart, false, Some(50.0));
        assert_eq!(
            (b.moved_percent, b.moved_rps, b.pods_started, b.pods_stopped),
            (0, Some(0.0), 4, 4)
        );
        assert!(b.note.is_some());
    }
}
