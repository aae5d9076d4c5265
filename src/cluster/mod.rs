//! The clusters: one kube client per context, watchers that turn objects
//! into `model` types, and (later) the API calls behind each action.

mod event;
mod map;

pub use event::{Change, ClusterEvent, Kind};
pub use map::{MapError, actual_weight, map_analysis_run, map_replica_set, map_rollout};
