//! The in-process fleet: what the real watchers tell the cockpit about the
//! simulated clusters, replayed through `app::update` into a `State` of the
//! size asked for.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use color_eyre::eyre::{self, bail};
use jiff::Timestamp;
use tokio::sync::mpsc;

use flightdeck::app::{self, Event, Keymap, State};
use flightdeck::cluster::Scope;
use flightdeck::cluster::{self, Change, ClusterEvent, Kind};
use flightdeck::model::ObjectKey;

/// The events of the first list of every kind in every context, as the
/// cockpit receives them.
pub struct Listed {
    pub contexts: Vec<String>,
    pub events: Vec<ClusterEvent>,
}

pub async fn list(kubeconfig: &Path) -> eyre::Result<Listed> {
    let scope = Scope {
        kubeconfig: Some(kubeconfig.to_path_buf()),
        all_contexts: true,
        ..Scope::default()
    };
    let connection = cluster::connect(&scope).await?;
    let contexts = connection.selected().to_vec();
    let (tx, mut rx) = mpsc::channel(4096);
    let _watches = connection.watch(&contexts, None, tx);
    let mut waiting: HashSet<(String, Kind)> = contexts
        .iter()
        .flat_map(|c| [Kind::Rollout, Kind::ReplicaSet, Kind::AnalysisRun].map(|k| (c.clone(), k)))
        .collect();
    let mut events = Vec::new();
    while !waiting.is_empty() {
        let Ok(Some(event)) = tokio::time::timeout(Duration::from_secs(60), rx.recv()).await else {
            bail!("the simulator's watches did not all list within 60 s");
        };
        match &event {
            ClusterEvent::Live { context, kind } => {
                waiting.remove(&(context.clone(), *kind));
            }
            ClusterEvent::Down { error, .. } => bail!("a watch failed: {error}"),
            _ => {}
        }
        events.push(event);
    }
    Ok(Listed { contexts, events })
}

/// A cockpit's state holding the first `rollouts` rollouts (contexts in
/// order, names in order) with their ReplicaSets and AnalysisRuns, sized
/// `width`x`height`, settled and ready to draw.
pub fn state(listed: &Listed, rollouts: usize, (width, height): (u16, u16)) -> State {
    let mut keys: Vec<&ObjectKey> = listed
        .events
        .iter()
        .filter_map(|e| match e {
            ClusterEvent::Rollout(
                Change::Relisted { items, .. } | Change::Listing { items, .. },
            ) => Some(items),
            _ => None,
        })
        .flatten()
        .map(|r| &r.key)
        .collect();
    let order = |k: &ObjectKey| listed.contexts.iter().position(|c| *c == k.context);
    keys.sort_by(|a, b| (order(a), &a.name).cmp(&(order(b), &b.name)));
    let kept: HashSet<&ObjectKey> = keys.into_iter().take(rollouts).collect();
    let owned = |key: &ObjectKey, owner: &Option<flightdeck::model::Name>| {
        owner.as_ref().is_some_and(|name| {
            kept.contains(&ObjectKey::new(&key.context, &key.namespace, name.as_str()))
        })
    };

    let mut state = State::new(
        listed.contexts.clone(),
        listed.contexts.clone(),
        None,
        Keymap::default_keys(),
        Timestamp::now(),
    );
    app::update(&mut state, Event::Resize { width, height });
    for event in &listed.events {
        let event = match event.clone() {
            ClusterEvent::Rollout(change) => {
                retain(change, |r| kept.contains(&r.key)).map(ClusterEvent::Rollout)
            }
            ClusterEvent::ReplicaSet(change) => {
                retain(change, |rs| owned(&rs.key, &rs.owner)).map(ClusterEvent::ReplicaSet)
            }
            ClusterEvent::AnalysisRun(change) => {
                retain(change, |run| owned(&run.key, &run.owner)).map(ClusterEvent::AnalysisRun)
            }
            other => Some(other),
        };
        let Some(event) = event else { continue };
        app::update(&mut state, Event::Cluster(event));
    }
    app::settle(&mut state);
    state
}

/// The change with only the objects `keep` keeps; an applied one not kept is none.
fn retain<T>(change: Change<T>, keep: impl Fn(&T) -> bool) -> Option<Change<T>> {
    match change {
        Change::Listing {
            context,
            namespace,
            mut items,
        } => {
            items.retain(&keep);
            Some(Change::Listing {
                context,
                namespace,
                items,
            })
        }
        Change::Relisted {
            context,
            namespace,
            mut items,
        } => {
            items.retain(&keep);
            Some(Change::Relisted {
                context,
                namespace,
                items,
            })
        }
        Change::Applied(item) if !keep(&item) => None,
        other => Some(other),
    }
}
