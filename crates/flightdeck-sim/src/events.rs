//! The controllers' Events, and the API server's event TTL (`--event-ttl`, an hour by
//! default), which removes events of both APIs (`v1` and `events.k8s.io/v1`) that long
//! after they were last seen.
//!
//! Simplified: a real API server keeps both APIs' events in one table (an event created
//! through one is read through the other); the simulator keeps them apart.

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::Value;

use super::discovery::{EVENTS, EVENTS_K8S_IO};
use super::objects::{self, str_at};
use super::store::Store;

/// Events not seen for longer than this are removed.
const EVENT_TTL_SECONDS: i64 = 3600;

/// Writes `v1` Events about Argo objects, as the rollouts controller does.
pub struct Recorder {
    store: Arc<Store>,
    sequence: u64,
}

impl Recorder {
    pub fn new(store: Arc<Store>) -> Self {
        Recorder { store, sequence: 0 }
    }

    /// An event about `object` (a Rollout or an Experiment), `kind` Normal or Warning.
    pub fn record(
        &mut self,
        object: &Value,
        kind: &str,
        reason: &str,
        message: &str,
        now: Timestamp,
    ) {
        self.sequence += 1;
        let event = objects::event(object, self.sequence, kind, reason, message, now);
        if let Err(e) = self.store.create(EVENTS, event, now) {
            tracing::warn!("simulated controller: recording event {reason}: {e}");
        }
    }
}

/// When an event was last seen, whichever API wrote it.
fn last_seen(event: &Value) -> Option<Timestamp> {
    [
        "series.lastObservedTime",
        "lastTimestamp",
        "deprecatedLastTimestamp",
        "eventTime",
        "metadata.creationTimestamp",
    ]
    .into_iter()
    .find_map(|path| str_at(event, path).parse::<Timestamp>().ok())
}

/// Remove the events of both APIs that the TTL has run out on.
pub fn expire(store: &Store, now: Timestamp) {
    for resource in [EVENTS, EVENTS_K8S_IO] {
        for event in store.list(resource, None, None, 0, &|_| true).items {
            let seen = last_seen(&event.value()).unwrap_or(now);
            if now.as_second() - seen.as_second() > EVENT_TTL_SECONDS {
                let _ = store.delete(resource, &event.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::store::ObjectKey;

    #[test]
    fn the_ttl_removes_old_events_of_both_apis() {
        let store = Store::new(1);
        let at = |s: i64| Timestamp::from_second(s).unwrap();
        let new_api = |name: &str, seen: &str, series: Option<&str>| {
            let mut event = json!({"metadata": {"name": name, "namespace": "shop"},
                                   "eventTime": seen, "reason": "Scaled", "action": "Scale"});
            if let Some(last) = series {
                event["series"] = json!({"count": 2, "lastObservedTime": last});
            }
            event
        };
        store
            .create(
                EVENTS_K8S_IO,
                new_api("old", "1970-01-01T00:00:00.000000Z", None),
                at(0),
            )
            .unwrap();
        store
            .create(
                EVENTS_K8S_IO,
                new_api(
                    "repeated",
                    "1970-01-01T00:00:00.000000Z",
                    Some("1970-01-01T01:00:00.000000Z"),
                ),
                at(0),
            )
            .unwrap();
        store
            .create(EVENTS, json!({"metadata": {"name": "core", "namespace": "shop"}, "lastTimestamp": "1970-01-01T00:00:00Z"}), at(0))
            .unwrap();
        expire(&store, at(3601 + 60));
        let names = |resource| {
            store
                .list(resource, None, None, 0, &|_| true)
                .items
                .iter()
                .map(|s| s.key.name.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(EVENTS_K8S_IO), ["repeated"]);
        assert!(names(EVENTS).is_empty());
        assert!(
            store
                .get(EVENTS_K8S_IO, &ObjectKey::new("shop", "repeated"))
                .is_some()
        );
    }
}
