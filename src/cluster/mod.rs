//! The clusters: one kube client per context, watchers that turn objects
//! into `model` types, and (later) the API calls behind each action.

mod event;

pub use event::{Change, ClusterEvent, Kind};
