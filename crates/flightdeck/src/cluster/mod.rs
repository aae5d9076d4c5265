//! The clusters: one kube client per context, watchers that turn objects
//! into `model` types, and the API calls behind each action.
//!
//! `connect` reads the kubeconfig and picks the contexts; `Connection::watch`
//! streams `ClusterEvent`s from them; `map_*` are the pure mappings from raw
//! objects, usable on their own (the simulator and tests use them too).
//! `Connection::act` takes an action on a rollout.

mod access;
mod actions;
mod connect;
mod decode;
mod errors;
mod event;
mod map;
mod watch;

pub use access::Access;
pub use actions::{ActionError, ActionReport};
pub use connect::{Connection, Scope, connect};
pub use decode::as_watched;
pub use errors::ConnectError;
pub use event::{Change, ClusterEvent, Kind};
pub use map::{
    MapError, map_analysis_run, map_canary, map_deployment, map_deployment_replica_set,
    map_experiment, map_replica_set, map_rollout,
};
pub use watch::Watches;
