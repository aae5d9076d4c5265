//! The demo's past: thirty days of deploys behind each rollout, as a cluster keeps them
//! (scaled-down ReplicaSets with their revisions, creation times and pod templates), so
//! that DORA figures show at once. Written after the short history played through the
//! controller: that history's ReplicaSets move back in time and up in revision, and older
//! ones are created before them. Per service, a cadence of its own; most deploys ship, some
//! are fixed forward within the hour, some are undone (the old template's ReplicaSet
//! brought back under a new revision, with `revision-history`, as Argo does).

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::clock::rfc3339;
use crate::discovery::{REPLICASETS, ROLLOUTS};
use crate::objects::{
    self, COMMIT_TIME_ANNOTATION, REVISION_ANNOTATION, REVISION_HISTORY_ANNOTATION, str_at,
};
use crate::store::{ObjectKey, Store};

/// How far back the demo's history goes.
pub const PAST_DAYS: i64 = 30;
const HOUR: i64 = 3_600;
const DAY: i64 = 24 * HOUR;

/// What happened to one past deploy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Shipped,
    /// Followed within the hour by its fix.
    FixedForward,
    /// Undone: the previous template back.
    Undone,
}

fn fate(rng: &mut fastrand::Rng) -> Fate {
    match rng.u32(0..100) {
        0..8 => Fate::FixedForward,
        8..14 => Fate::Undone,
        _ => Fate::Shipped,
    }
}

fn set_created(set: &mut Value, at: Timestamp) {
    set["metadata"]["creationTimestamp"] = json!(rfc3339(at));
}

fn set_revision(set: &mut Value, revision: u64) {
    set["metadata"]["annotations"][REVISION_ANNOTATION] = json!(revision.to_string());
}

/// Give every rollout in `store` that `wanted` names its past, ending before `origin`
/// (the live start): called once the rollouts exist and their first ReplicaSet is made,
/// before the short history plays on (so that every later revision, and what is named
/// after one, follows the past's). [`retime`] then moves that short history back.
pub fn backfill(store: &Store, origin: Timestamp, seed: u64, wanted: fn(&ObjectKey) -> bool) {
    let rollouts = store.list(ROLLOUTS, None, None, 0, &|_| true).items;
    for (n, stored) in rollouts.iter().enumerate() {
        if !wanted(&stored.key) {
            continue;
        }
        let mut rng = rng(seed, n);
        backfill_one(store, &stored.key, origin, &mut rng);
    }
}

fn rng(seed: u64, n: usize) -> fastrand::Rng {
    fastrand::Rng::with_seed(seed.wrapping_mul(31).wrapping_add(n as u64))
}

/// A service's cadence: a deploy every 8 hours to 3 days.
fn gap(rng: &mut fastrand::Rng) -> i64 {
    rng.i64(8 * HOUR..3 * DAY)
}

fn owned_sets(store: &Store, key: &ObjectKey) -> Vec<Value> {
    let mut sets: Vec<Value> = store
        .with_name_prefix(REPLICASETS, &key.namespace, &format!("{}-", key.name))
        .iter()
        .map(|s| s.value())
        .filter(|s| s["metadata"]["ownerReferences"][0]["name"] == key.name.as_str())
        .collect();
    sets.sort_by_key(objects::revision_of);
    sets
}

/// After the short history: its settled revisions (all but an update in flight) move
/// back to the days before `origin`, at the service's cadence, after the past.
pub fn retime(store: &Store, origin: Timestamp, seed: u64, wanted: fn(&ObjectKey) -> bool) {
    let rollouts = store.list(ROLLOUTS, None, None, 0, &|_| true).items;
    for (n, stored) in rollouts.iter().enumerate() {
        if !wanted(&stored.key) {
            continue;
        }
        let mut rng = rng(seed, n);
        let gap = gap(&mut rng);
        let rollout = stored.value();
        let current = str_at(&rollout, "status.currentPodHash");
        let in_flight = current != str_at(&rollout, "status.stableRS");
        let recent: Vec<Value> = owned_sets(store, &stored.key)
            .into_iter()
            .filter(|s| s["metadata"]["annotations"][PAST].is_null())
            .filter(|s| {
                !(in_flight && str_at(s, "metadata.labels.rollouts-pod-template-hash") == current)
            })
            .collect();
        let mut at = origin - SignedDuration::from_secs(rng.i64(2 * HOUR..gap.max(3 * HOUR)));
        for set in recent.iter().rev() {
            let key = ObjectKey::of(set);
            let _ = store.update(REPLICASETS, &key, |s| {
                set_created(s, at);
                Ok(())
            });
            at -= SignedDuration::from_secs(rng.i64(gap / 2..gap));
        }
    }
}

/// Marks a ReplicaSet made by the past (the short history's are retimed, not these).
const PAST: &str = "sim.flightdeck.io/past";

fn backfill_one(store: &Store, key: &ObjectKey, origin: Timestamp, rng: &mut fastrand::Rng) {
    let Some(stored) = store.get(ROLLOUTS, key) else {
        return;
    };
    let rollout = stored.value();
    let mut existing = owned_sets(store, key);
    let gap = gap(rng);
    // The past ends where the short history's revisions will be retimed to begin.
    let mut at = origin - SignedDuration::from_secs(4 * gap);
    let first = origin - SignedDuration::from_secs(PAST_DAYS * DAY);
    let mut past: Vec<(Timestamp, Fate)> = Vec::new();
    while at > first {
        past.push((at, fate(rng)));
        at -= SignedDuration::from_secs(gap / 2 + rng.i64(0..gap));
    }
    past.reverse();
    // A fix-forward comes soon after the deploy it fixes.
    for i in 1..past.len() {
        if past[i - 1].1 == Fate::FixedForward {
            past[i].0 = past[i - 1].0 + SignedDuration::from_secs(rng.i64(900..3_000));
        }
    }
    let template = rollout["spec"]["template"].clone();
    let mut sets: Vec<Value> = Vec::new();
    let mut revision = 0;
    let mut undone_last = false;
    for (k, (when, fate)) in past.iter().enumerate() {
        revision += 1;
        if undone_last && sets.len() >= 2 {
            // The template before the bad one comes back under this revision.
            let back = sets.len() - 2;
            let old = objects::revision_of(&sets[back]);
            let held = str_at(
                &sets[back]["metadata"]["annotations"],
                REVISION_HISTORY_ANNOTATION,
            );
            let held = if held.is_empty() {
                old.to_string()
            } else {
                format!("{held},{old}")
            };
            sets[back]["metadata"]["annotations"][REVISION_HISTORY_ANNOTATION] = json!(held);
            set_revision(&mut sets[back], revision);
            let set = sets.remove(back);
            sets.push(set);
            undone_last = false;
            continue;
        }
        let mut t = template.clone();
        let tag = format!("v0.{}.{}", k / 3 + 1, k % 3);
        let image = str_at(&template["spec"]["containers"][0], "image");
        let base = image.rsplit_once(':').map_or(image, |(b, _)| b);
        t["spec"]["containers"][0]["image"] = json!(format!("{base}:{tag}"));
        let committed = *when - SignedDuration::from_secs(super::commit_lag(&tag));
        t["metadata"]["annotations"][COMMIT_TIME_ANNOTATION] = json!(rfc3339(committed));
        let hash = objects::pod_template_hash(&t);
        let mut with_template = rollout.clone();
        with_template["spec"]["template"] = t;
        let mut set = objects::replica_set(&with_template, &hash, revision, *when);
        set["metadata"]["annotations"][PAST] = json!("true");
        sets.push(set);
        undone_last = *fate == Fate::Undone;
    }
    let shift = revision;
    for set in &mut existing {
        let own = objects::revision_of(set);
        set_revision(set, own + shift);
    }
    // The cluster keeps them all (the demo's choice: Argo's default keeps ten).
    let keep = sets.len() + existing.len() + 5;
    let _ = store.update(ROLLOUTS, key, |r| {
        r["spec"]["revisionHistoryLimit"] = json!(keep);
        let own = objects::revision_of(r);
        if own > 0 {
            r["metadata"]["annotations"][REVISION_ANNOTATION] = json!((own + shift).to_string());
        }
        Ok(())
    });
    for set in existing {
        let set_key = ObjectKey::of(&set);
        let _ = store.update(REPLICASETS, &set_key, |s| {
            *s = set.clone();
            Ok(())
        });
    }
    for set in sets {
        if let Err(e) = store.create(REPLICASETS, set, origin) {
            tracing::warn!("simulated past: {e}");
        }
    }
}
