//! A shared handle on one simulated cluster's traffic model.

use std::sync::{Arc, Mutex};

use jiff::Timestamp;

use super::{TrafficInterval, TrafficModel, TrafficSnapshot, VersionKey};

/// A shared handle on one simulated cluster's traffic model, for `/metrics` and for an
/// in-process metrics source.
#[derive(Clone)]
pub struct TrafficHandle(pub(crate) Arc<Mutex<TrafficModel>>);

impl TrafficHandle {
    fn model(&self) -> std::sync::MutexGuard<'_, TrafficModel> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn snapshot(&self) -> TrafficSnapshot {
        self.model().snapshot()
    }

    /// The simulated time of the last second counted.
    pub fn now(&self) -> Timestamp {
        self.model().now()
    }

    /// One version's history, oldest first (see [`TrafficModel::history`]).
    pub fn history(&self, key: &VersionKey) -> Vec<TrafficInterval> {
        self.model().history(key)
    }
}
