//! `update` without a terminal: the fleet (navigation, filtering, sorting, live and
//! stale contexts, verdicts, messages) and the actions (keys, dialogs, RBAC).

mod actions;
mod deployments;
mod dora;
mod dora_kinds;
mod flagger;
mod fleet;
mod listing;

use super::testing::state_of;
use super::*;
use crate::cluster::{Change, ClusterEvent};
use crate::model::testing::{canary, replica_set, rollout};
use crate::model::{ObjectKey, Phase, Rollout};

pub(super) fn state() -> State {
    let mut s = state_of(&["eu", "us"], &["eu", "us", "staging"], 120, 40);
    // As a 120x40 frame reports it: 28 fleet rows.
    update(
        &mut s,
        Event::Drawn(Viewport {
            fleet_rows: 28,
            ..Viewport::default()
        }),
    );
    s
}

pub(super) fn relist(state: &mut State, context: &str, items: Vec<Rollout>) {
    update(
        state,
        Event::Cluster(ClusterEvent::Rollout(Change::Relisted {
            context: context.into(),
            namespace: None,
            items,
        })),
    );
    settle(state);
}

/// The fleet on eu, and a checkout of the same name on us.
pub(super) fn fleet_and_a_us_checkout() -> State {
    let mut s = state();
    relist(&mut s, "eu", fleet());
    relist(
        &mut s,
        "us",
        vec![rollout("us", "shop", "checkout", Phase::Healthy)],
    );
    s
}

pub(super) fn names(state: &State) -> Vec<&str> {
    state.view.iter().map(|k| k.name.as_str()).collect()
}

pub(super) fn fleet() -> Vec<Rollout> {
    vec![
        rollout("eu", "shop", "cart", Phase::Healthy),
        canary("eu", "shop", "checkout", Phase::Degraded, 2),
        canary("eu", "search", "search", Phase::Progressing, 2),
        canary("eu", "payments", "ledger", Phase::Paused, 1),
        canary("eu", "payments", "fraud", Phase::Paused, 3),
        rollout("eu", "platform", "auth", Phase::Healthy),
        canary("eu", "shop", "basket", Phase::Aborted, 2),
    ]
}

pub(super) fn report(outcome: crate::model::Outcome) -> crate::metrics::RolloutMetricsReport {
    crate::metrics::RolloutMetricsReport {
        metrics: Vec::new(),
        rps: None,
        verdict: crate::model::Verdict {
            outcome,
            score: None,
            metrics: Vec::new(),
            deciding: Vec::new(),
        },
    }
}

pub(super) fn acting_state() -> (State, ObjectKey) {
    let mut s = state();
    let checkout = canary("eu", "shop", "checkout", Phase::Paused, 2);
    let target = checkout.key.clone();
    relist(
        &mut s,
        "eu",
        vec![
            checkout.clone(),
            rollout("eu", "shop", "cart", Phase::Healthy),
        ],
    );
    update(
        &mut s,
        Event::Cluster(ClusterEvent::ReplicaSet(Change::Relisted {
            context: "eu".into(),
            namespace: None,
            items: vec![
                replica_set(&checkout, "checkout-stable", 1, 5),
                replica_set(&checkout, "checkout-canary", 2, 5),
            ],
        })),
    );
    settle(&mut s);
    assert_eq!(s.selected.as_ref(), Some(&target));
    (s, target)
}
