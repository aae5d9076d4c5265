//! Deployments in the fleet: every one is kept, and shown as a row of its own unless it
//! belongs to something else (a Flagger Canary's target or the `-primary` Flagger made,
//! an Argo Rollout's `workloadRef`, or an ownerReference to either), in which case it
//! shows under its owner: a Canary takes its pods from its primary and target.

use std::collections::{HashMap, HashSet};

use super::listing::in_scope;

use super::State;
use super::view;
use crate::cluster::{Change, Kind};
use crate::model::{ObjectKey, Replicas, Rollout, Workload};

pub(super) fn on_deployments(state: &mut State, change: Change<Rollout>) {
    let touched: Vec<ObjectKey> = match change {
        Change::Applied(d) => {
            let key = d.key.clone();
            state.deployments.insert(key.clone(), d);
            vec![key]
        }
        Change::Deleted(key) => {
            state.deployments.remove(&key);
            vec![key]
        }
        Change::Listing {
            context,
            namespace,
            items,
        } => {
            let held = held(&state.deployments, &context, namespace.as_deref());
            let keys = items.iter().map(|d| &d.key);
            let scope = (Kind::Deployment, context.clone(), namespace.clone());
            state.listing.part(scope, held, keys);
            let mut touched = Vec::new();
            for d in items {
                touched.push(d.key.clone());
                state.deployments.insert(d.key.clone(), Box::new(d));
            }
            state.reorder.all();
            touched
        }
        Change::Relisted {
            context,
            namespace,
            items,
        } => {
            let held = held(&state.deployments, &context, namespace.as_deref());
            let keys = items.iter().map(|d| &d.key);
            let scope = (Kind::Deployment, context.clone(), namespace.clone());
            let gone = state.listing.end(scope, held, keys);
            state.deployments.retain(|k, _| !gone.contains(k));
            let mut touched: Vec<ObjectKey> = gone.into_iter().collect();
            for d in items {
                touched.push(d.key.clone());
                state.deployments.insert(d.key.clone(), Box::new(d));
            }
            state.reorder.all();
            touched
        }
    };
    for key in &touched {
        place(state, key);
    }
    state.targets_dirty = true;
}

/// The Deployments a list in this scope would show again, read when it starts.
fn held(
    deployments: &HashMap<ObjectKey, Box<Rollout>>,
    context: &str,
    namespace: Option<&str>,
) -> impl FnOnce() -> HashSet<ObjectKey> {
    move || {
        deployments
            .keys()
            .filter(|k| in_scope(k, context, namespace))
            .cloned()
            .collect()
    }
}

/// The Deployments a Canary or a Rollout owns.
fn claimed_by(owner: &Rollout) -> Vec<ObjectKey> {
    let at = |name: &str| {
        ObjectKey::of(
            Workload::Deployment,
            &owner.key.context,
            &owner.key.namespace,
            name,
        )
    };
    match (&owner.flagger, &owner.detail().workload_ref) {
        (Some(canary), _) => vec![
            at(&canary.target),
            at(&format!("{}-primary", canary.target)),
        ],
        (None, Some(name)) => vec![at(name)],
        _ => Vec::new(),
    }
}

/// A Canary or a Rollout came or changed: it owns its Deployments from now on.
pub(super) fn owner_applied(state: &mut State, owner: &ObjectKey) {
    let Some(rollout) = state.rollouts.get(owner) else {
        return;
    };
    if rollout.workload == Workload::Deployment {
        return;
    }
    let claims = claimed_by(rollout);
    let dropped: Vec<ObjectKey> = state
        .claims
        .iter()
        .filter(|(k, o)| *o == owner && !claims.contains(k))
        .map(|(k, _)| k.clone())
        .collect();
    for key in &dropped {
        state.claims.remove(key);
    }
    for key in &claims {
        state.claims.insert(key.clone(), owner.clone());
    }
    for key in dropped.iter().chain(&claims) {
        place(state, key);
    }
    fill_pods(state, owner);
}

/// Rollouts or Canaries went or were listed again: who owns which Deployment, anew.
pub(super) fn claims_anew(state: &mut State) {
    let before: HashSet<ObjectKey> = state.claims.keys().cloned().collect();
    state.claims = state
        .rollouts
        .values()
        .flat_map(|r| claimed_by(r).into_iter().map(|k| (k, r.key.clone())))
        .collect();
    let owners: HashSet<ObjectKey> = state.claims.values().cloned().collect();
    let affected: HashSet<ObjectKey> = before
        .into_iter()
        .chain(state.claims.keys().cloned())
        .collect();
    for key in &affected {
        place(state, key);
    }
    for owner in &owners {
        fill_pods(state, owner);
    }
}

/// Show the Deployment `key` as its own row, or not.
fn place(state: &mut State, key: &ObjectKey) {
    let plain = state
        .deployments
        .get(key)
        .filter(|_| !state.claims.contains_key(key))
        .filter(|d| !d.deployment.as_ref().is_some_and(|x| x.owned))
        .cloned();
    match (plain, state.rollouts.get(key)) {
        (Some(d), before) => {
            let moved = before.is_none_or(|b| {
                view::urgency_rank(b, &state.metrics) != view::urgency_rank(&d, &state.metrics)
            });
            let phase_changed = before.is_some_and(|b| b.phase != d.phase);
            state.rollouts.insert(key.clone(), d);
            if moved {
                state.reorder.moved(key.clone());
            }
            state.view_dirty |= phase_changed;
        }
        (None, Some(_)) => {
            state.rollouts.remove(key);
            state.reorder.moved(key.clone());
        }
        (None, None) => {}
    }
    if let Some(owner) = state.claims.get(key).cloned() {
        fill_pods(state, &owner);
    }
}

/// A Canary's pods: its primary's (stable) and its target's (canary), and the target's
/// images, from the Deployments.
fn fill_pods(state: &mut State, owner: &ObjectKey) {
    let Some(target) = state
        .rollouts
        .get(owner)
        .and_then(|r| r.flagger.as_ref())
        .map(|f| f.target.clone())
    else {
        return;
    };
    let at =
        |name: &str| ObjectKey::of(Workload::Deployment, &owner.context, &owner.namespace, name);
    let zero = Replicas::default();
    let primary = state
        .deployments
        .get(&at(&format!("{target}-primary")))
        .map_or(zero, |d| d.replicas);
    let canary = state.deployments.get(&at(&target));
    let images = canary.map(|d| d.images.clone()).unwrap_or_default();
    let canary = canary.map_or(zero, |d| d.replicas);
    if let Some(row) = state.rollouts.get_mut(owner) {
        row.replicas = Replicas {
            desired: primary.desired,
            current: primary.current + canary.current,
            updated: canary.current,
            ready: primary.ready + canary.ready,
            available: primary.available + canary.available,
        };
        row.images = images;
    }
}
