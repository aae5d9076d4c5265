//! The Kubernetes Event flightdeck leaves on a rollout it acted on, so that
//! `kubectl describe rollout` shows who did what, from where.

use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::events::{Event, EventType};
use serde_json::Value;

use crate::model::{ObjectKey, RolloutAction};

/// The Event for `action` taken by `user` on the rollout (as last seen),
/// and the rollout it is about. kube's `Recorder` publishes it (as an
/// `events.k8s.io` Event, a series when it repeats).
pub fn event(
    key: &ObjectKey,
    action: RolloutAction,
    user: &str,
    rollout: &Value,
) -> (Event, ObjectReference) {
    let text = |v: &Value| v.as_str().map(str::to_string);
    let regarding = ObjectReference {
        api_version: Some("argoproj.io/v1alpha1".into()),
        kind: Some("Rollout".into()),
        namespace: Some(key.namespace.to_string()),
        name: Some(key.name.to_string()),
        uid: text(&rollout["metadata"]["uid"]),
        resource_version: text(&rollout["metadata"]["resourceVersion"]),
        ..ObjectReference::default()
    };
    let event = Event {
        type_: EventType::Normal,
        reason: action.event_reason().into(),
        note: Some(format!("{action} by {user} via flightdeck")),
        action: action.verb().into(),
        secondary: None,
    };
    (event, regarding)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_event_names_the_rollout_the_user_and_the_action() {
        let key = ObjectKey::new("prod-eu", "shop", "checkout");
        let rollout = json!({"metadata": {"uid": "u-1", "resourceVersion": "42"}});
        let (event, regarding) = event(&key, RolloutAction::Abort, "alice", &rollout);
        assert_eq!(event.reason, "FlightdeckAbort");
        assert_eq!(event.type_, EventType::Normal);
        assert_eq!(event.action, "abort");
        assert_eq!(event.note.as_deref(), Some("abort by alice via flightdeck"));
        assert_eq!(
            serde_json::to_value(&regarding).unwrap(),
            json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "checkout",
                   "namespace": "shop", "resourceVersion": "42", "uid": "u-1"})
        );
    }
}
