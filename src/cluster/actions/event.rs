//! The Kubernetes Event flightdeck leaves on a rollout it acted on, so that
//! `kubectl describe rollout` shows who did what, from where.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::api::{Api, PostParams};
use serde_json::Value;

use crate::model::{ObjectKey, RolloutAction};

const COMPONENT: &str = "flightdeck";

/// The Event for `action` taken by `user` on the rollout (as last seen).
pub fn event(
    key: &ObjectKey,
    action: RolloutAction,
    user: &str,
    rollout: &Value,
    now: Timestamp,
) -> Event {
    let text = |v: &Value| v.as_str().map(str::to_string);
    Event {
        metadata: ObjectMeta {
            // As client-go's recorder names them: unique per rollout and moment.
            name: Some(format!("{}.{:x}", key.name, now.as_nanosecond())),
            namespace: Some(key.namespace.clone()),
            ..ObjectMeta::default()
        },
        involved_object: ObjectReference {
            api_version: Some("argoproj.io/v1alpha1".into()),
            kind: Some("Rollout".into()),
            namespace: Some(key.namespace.clone()),
            name: Some(key.name.clone()),
            uid: text(&rollout["metadata"]["uid"]),
            resource_version: text(&rollout["metadata"]["resourceVersion"]),
            ..ObjectReference::default()
        },
        reason: Some(action.event_reason().into()),
        message: Some(format!("{action} by {user} via flightdeck")),
        type_: Some("Normal".into()),
        source: Some(EventSource {
            component: Some(COMPONENT.into()),
            host: None,
        }),
        reporting_component: Some(COMPONENT.into()),
        first_timestamp: Some(Time(now)),
        last_timestamp: Some(Time(now)),
        count: Some(1),
        ..Event::default()
    }
}

/// Create the Event; a failure is returned in words for the caller to log.
pub async fn record(client: kube::Client, event: &Event) -> Result<(), String> {
    let namespace = event.metadata.namespace.as_deref().unwrap_or_default();
    Api::<Event>::namespaced(client, namespace)
        .create(&PostParams::default(), event)
        .await
        .map(|_| ())
        .map_err(|e| format!("the Event was not recorded: {e}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_event_names_the_rollout_the_user_and_the_action() {
        let key = ObjectKey::new("prod-eu", "shop", "checkout");
        let rollout = json!({"metadata": {"uid": "u-1", "resourceVersion": "42"}});
        let e = event(
            &key,
            RolloutAction::Abort,
            "alice",
            &rollout,
            Timestamp::from_second(1_700_000_000).unwrap(),
        );
        let e = serde_json::to_value(&e).unwrap();
        assert_eq!(e["reason"], "FlightdeckAbort");
        assert_eq!(e["type"], "Normal");
        assert_eq!(e["message"], "abort by alice via flightdeck");
        assert_eq!(e["source"]["component"], "flightdeck");
        assert_eq!(
            e["involvedObject"],
            json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "checkout",
                   "namespace": "shop", "resourceVersion": "42", "uid": "u-1"})
        );
        assert_eq!(e["metadata"]["name"], "checkout.17979cfe362a0000");
        assert_eq!(e["firstTimestamp"], "2023-11-14T22:13:20Z");
    }
}
