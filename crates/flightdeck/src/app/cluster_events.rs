//! What the watches report: objects applied, deleted and relisted, grouped under the
//! Rollout that owns them, and each context's health.

use std::collections::{HashMap, HashSet};

use super::act;
use super::listing::{Listing, in_scope};
use super::view;
use super::{Flash, State};
use crate::cluster::{Change, ClusterEvent, Kind};
use crate::model::{Name, ObjectKey, ReplicaSet, Rollout, Workload};

pub(super) fn on_cluster(state: &mut State, event: ClusterEvent) {
    match event {
        ClusterEvent::Live { context, kind } => {
            let health = health_mut(state, &context);
            health.down.retain(|(k, _)| *k != kind);
            if !health.listed.contains(&kind) {
                health.listed.push(kind);
            }
            if health.error().is_none() {
                health.stale_since = None;
            }
        }
        ClusterEvent::Down {
            context,
            kind,
            error,
        } => {
            let now = state.now;
            let health = health_mut(state, &context);
            match health.down.iter_mut().find(|(k, _)| *k == kind) {
                Some(slot) => slot.1 = error,
                None => health.down.push((kind, error)),
            }
            if kind == Kind::Rollout {
                health.stale_since.get_or_insert(now);
            }
        }
        ClusterEvent::Insecure { context } => health_mut(state, &context).insecure = true,
        ClusterEvent::Scoped {
            context,
            namespaces,
            note,
        } => {
            let health = health_mut(state, &context);
            if namespaces.is_empty() {
                // Nothing it may read: the context is down, and says why.
                health.down.retain(|(k, _)| *k != Kind::Rollout);
                health.down.push((Kind::Rollout, note));
            } else {
                health.scoped = Some(note);
            }
        }
        ClusterEvent::Unreadable { key, kind, error } => {
            state.say(Flash::Error(error.clone()));
            state.unreadable.insert(key, (kind, error));
        }
        ClusterEvent::Rollout(change) => on_rollouts(state, change, Kind::Rollout),
        ClusterEvent::Canary(change) => on_rollouts(state, change, Kind::Canary),
        ClusterEvent::Deployment(change) => super::deployments::on_deployments(state, change),
        ClusterEvent::ReplicaSet(change) => on_replica_sets(state, change, Kind::ReplicaSet),
        ClusterEvent::DeploymentReplicaSet(change) => {
            on_replica_sets(state, change, Kind::DeploymentReplicaSet)
        }
        ClusterEvent::AnalysisRun(change) => apply_owned(
            &mut state.analysis_runs,
            (&mut state.listing, Kind::AnalysisRun),
            change,
            |run| owner_key(&run.key, &run.owner),
            |run| &run.key,
        ),
        ClusterEvent::Experiment(change) => apply_owned(
            &mut state.experiments,
            (&mut state.listing, Kind::Experiment),
            change,
            |e| owner_key(&e.key, &e.owner),
            |e| &e.key,
        ),
    }
}

/// ReplicaSets of one watch (Argo's, or Deployments'), grouped under their owners.
fn on_replica_sets(state: &mut State, change: Change<ReplicaSet>, kind: Kind) {
    let touched: Vec<ObjectKey> = match &change {
        Change::Applied(rs) => owner_key(&rs.key, &rs.owner).into_iter().collect(),
        Change::Deleted(_) => Vec::new(),
        Change::Listing { items, .. } => items
            .iter()
            .filter_map(|rs| owner_key(&rs.key, &rs.owner))
            .collect(),
        Change::Relisted {
            context, namespace, ..
        } => state
            .rollouts
            .keys()
            .filter(|k| in_scope(k, context, namespace.as_deref()))
            .cloned()
            .collect(),
    };
    apply_owned(
        &mut state.replica_sets,
        (&mut state.listing, kind),
        change,
        |rs| owner_key(&rs.key, &rs.owner),
        |rs| &rs.key,
    );
    touched.iter().for_each(|k| refresh_actual_weight(state, k));
    // The rows depend on rollouts alone: no rebuild.
    state.targets_dirty = true;
}

/// Rollouts of a list, in: the rows are sorted again.
fn insert_listed(state: &mut State, items: Vec<Rollout>) {
    for rollout in items {
        let key = rollout.key.clone();
        state.rollouts.insert(key.clone(), Box::new(rollout));
        refresh_actual_weight(state, &key);
    }
    state.reorder.all();
}

/// Rollouts of one watched kind (Argo's, or Flagger Canaries) applied, deleted or
/// listed; a list of one kind leaves the other's rows alone.
fn on_rollouts(state: &mut State, change: Change<Rollout>, kind: Kind) {
    match change {
        Change::Applied(rollout) => {
            let key = rollout.key.clone();
            let (urgency, phase) = (view::urgency_rank(&rollout, &state.metrics), rollout.phase);
            state.unreadable.remove(&key);
            let before = state.rollouts.insert(key.clone(), rollout);
            refresh_actual_weight(state, &key);
            super::deployments::owner_applied(state, &key);
            act::observe(state, &key);
            // Most changes move no row: the order is kept unless the
            // rollout is new or its urgency changed.
            match before {
                Some(b) if view::urgency_rank(&b, &state.metrics) == urgency => {
                    state.view_dirty |= b.phase != phase;
                }
                _ => state.reorder.moved(key),
            }
        }
        Change::Deleted(key) => {
            state.unreadable.remove(&key);
            state.rollouts.remove(&key);
            state.reorder.moved(key);
            super::deployments::claims_anew(state);
        }
        Change::Listing {
            context,
            namespace,
            items,
        } => {
            let held = held_rows(&state.rollouts, kind, &context, namespace.as_deref());
            let keys = items.iter().map(|r| &r.key);
            let scope = (kind, context.clone(), namespace.clone());
            state.listing.part(scope, held, keys);
            insert_listed(state, items);
            super::deployments::claims_anew(state);
        }
        Change::Relisted {
            context,
            namespace,
            items,
        } => {
            let held = held_rows(&state.rollouts, kind, &context, namespace.as_deref());
            let keys = items.iter().map(|r| &r.key);
            let scope = (kind, context.clone(), namespace.clone());
            let gone = state.listing.end(scope, held, keys);
            state.rollouts.retain(|k, _| !gone.contains(k));
            let listed = |k: &ObjectKey| in_scope(k, &context, namespace.as_deref());
            state
                .unreadable
                .retain(|k, (of, _)| !listed(k) || *of != kind);
            insert_listed(state, items);
            let pending: Vec<ObjectKey> = state.actions.keys().cloned().collect();
            pending.iter().for_each(|k| act::observe(state, k));
            super::deployments::claims_anew(state);
        }
    }
    state.targets_dirty = true;
}

/// The rows a list of `kind` in this scope would show again, read when it starts.
fn held_rows(
    rollouts: &HashMap<ObjectKey, Box<Rollout>>,
    kind: Kind,
    context: &str,
    namespace: Option<&str>,
) -> impl FnOnce() -> HashSet<ObjectKey> {
    move || {
        rollouts
            .iter()
            .filter(|(k, r)| in_scope(k, context, namespace) && watched_as(r) == kind)
            .map(|(k, _)| k.clone())
            .collect()
    }
}

/// The watch a fleet row comes from.
fn watched_as(rollout: &Rollout) -> Kind {
    match rollout.workload {
        Workload::FlaggerCanary => Kind::Canary,
        Workload::Deployment => Kind::Deployment,
        Workload::ArgoRollout => Kind::Rollout,
    }
}

/// Without traffic routing, a canary's real share of traffic follows its
/// available pods, so it changes with the ReplicaSets as well.
fn refresh_actual_weight(state: &mut State, key: &ObjectKey) {
    let sets = state.replica_sets.get(key).map_or(&[][..], Vec::as_slice);
    if let Some(rollout) = state.rollouts.get_mut(key) {
        rollout.actual_weight = crate::model::actual_weight(rollout, sets);
    }
}

fn health_mut<'a>(state: &'a mut State, context: &str) -> &'a mut super::ContextHealth {
    let at = match state.contexts.iter().position(|(c, _)| c == context) {
        Some(at) => at,
        None => {
            state
                .contexts
                .push((context.to_string(), Default::default()));
            state.contexts.len() - 1
        }
    };
    &mut state.contexts[at].1
}

/// The owner is of the kind the object's key carries (a Deployment's ReplicaSets are
/// keyed as Deployments').
fn owner_key(key: &ObjectKey, owner: &Option<Name>) -> Option<ObjectKey> {
    owner.as_ref().map(|name| key.sibling(name.as_str()))
}

/// Keep objects grouped under the Rollout that owns them; unowned ones are
/// not shown and not kept. `listing` tracks the lists in progress.
fn apply_owned<T>(
    groups: &mut HashMap<ObjectKey, Vec<T>>,
    (listing, kind): (&mut Listing, Kind),
    change: Change<T>,
    owner: impl Fn(&T) -> Option<ObjectKey>,
    key: impl Fn(&T) -> &ObjectKey,
) {
    let upsert = |groups: &mut HashMap<ObjectKey, Vec<T>>, item: T| {
        let Some(owner) = owner(&item) else { return };
        let group = groups.entry(owner).or_default();
        match group.iter_mut().find(|x| key(x) == key(&item)) {
            Some(slot) => *slot = item,
            None => {
                // Groups are a few ReplicaSets or runs each, kept for life: grown
                // one at a time rather than doubled from four.
                group.reserve_exact(1);
                group.push(item);
            }
        }
    };
    // What the groups hold in a list's scope, read when the list starts.
    let held = |groups: &HashMap<ObjectKey, Vec<T>>, context: &str, namespace: Option<&str>| {
        groups
            .iter()
            // Only the owners of the listed kind: Argo's ReplicaSets and Deployments'
            // share the groups.
            .filter(|(o, _)| o.kind == kind.workload() && in_scope(o, context, namespace))
            .flat_map(|(_, group)| group.iter().map(|x| key(x).clone()))
            .collect()
    };
    match change {
        Change::Applied(item) => upsert(groups, *item),
        Change::Listing {
            context,
            namespace,
            items,
        } => {
            let before = || held(groups, &context, namespace.as_deref());
            let keys = items.iter().map(&key);
            listing.part((kind, context.clone(), namespace.clone()), before, keys);
            items.into_iter().for_each(|item| upsert(groups, item));
        }
        Change::Deleted(gone) => {
            let owner = groups
                .iter()
                .find(|(o, items)| {
                    o.context == gone.context && items.iter().any(|x| *key(x) == gone)
                })
                .map(|(o, _)| o.clone());
            if let Some(owner) = owner
                && let Some(group) = groups.get_mut(&owner)
            {
                group.retain(|x| *key(x) != gone);
                if group.is_empty() {
                    groups.remove(&owner);
                }
            }
        }
        Change::Relisted {
            context,
            namespace,
            items,
        } => {
            let before = || held(groups, &context, namespace.as_deref());
            let keys = items.iter().map(&key);
            let gone = listing.end((kind, context.clone(), namespace.clone()), before, keys);
            items.into_iter().for_each(|item| upsert(groups, item));
            if !gone.is_empty() {
                groups.retain(|_, group| {
                    group.retain(|x| !gone.contains(key(x)));
                    !group.is_empty()
                });
            }
        }
    }
}
