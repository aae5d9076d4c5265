//! One consistent look at the fleet for a headless command: watch every
//! context until each has listed (or failed), through the same `app::update`
//! the cockpit uses.

use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::mpsc;

use crate::app::{self, ContextHealth, Event, Keymap, State};
use crate::cluster::{self, ClusterEvent, Kind};

/// How long a context may take to answer before it counts as down.
const DEADLINE: Duration = Duration::from_secs(15);

/// The context's rollouts cannot be read, or each kind has listed or
/// failed (a user who may not read ReplicaSets still gets the rollouts).
fn settled(health: &ContextHealth) -> bool {
    health.error().is_some()
        || [
            Kind::Rollout,
            Kind::ReplicaSet,
            Kind::AnalysisRun,
            Kind::Canary,
            Kind::Deployment,
            Kind::DeploymentReplicaSet,
        ]
        .iter()
        .all(|k| health.listed.contains(k) || health.problem(*k).is_some())
}

/// One look at the contexts `connection` chose, in `namespace` (or all).
pub async fn take(connection: &cluster::Connection, namespace: Option<&str>) -> State {
    let (tx, mut events) = mpsc::channel(1024);
    let _watches = connection.watch(connection.selected(), namespace, tx);
    let mut state = State::new(
        connection.selected().to_vec(),
        connection.known().to_vec(),
        namespace.map(str::to_string),
        Keymap::default_keys(),
        Timestamp::now(),
    );
    let deadline = tokio::time::sleep(DEADLINE);
    tokio::pin!(deadline);
    while !state.contexts.iter().all(|(_, h)| settled(h)) {
        tokio::select! {
            Some(event) = events.recv() => { app::update(&mut state, Event::Cluster(event)); }
            _ = &mut deadline => {
                let late: Vec<String> = state
                    .contexts
                    .iter()
                    .filter(|(_, h)| !settled(h))
                    .map(|(c, _)| c.clone())
                    .collect();
                for context in late {
                    let error = format!("no answer within {}s", DEADLINE.as_secs());
                    let down = ClusterEvent::Down { context, kind: Kind::Rollout, error };
                    app::update(&mut state, Event::Cluster(down));
                }
                break;
            }
        }
    }
    app::update(&mut state, Event::Tick(Timestamp::now()));
    app::settle(&mut state);
    state
}
