//! Actions on a plain Deployment, as `kubectl rollout pause|resume|restart` send them:
//! strategic merge patches of `spec.paused` (resume removes it: kubectl's two-way merge
//! of `paused: false`, which is omitted when false) and of the pod template's
//! `kubectl.kubernetes.io/restartedAt` annotation (RFC 3339, as kubectl writes it).

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::model::RolloutAction;

/// The one patch for `action`, or why there is none.
pub fn plan(action: RolloutAction, deployment: &Value, now: Timestamp) -> Result<Value, String> {
    let paused = deployment["spec"]["paused"] == json!(true);
    match action {
        RolloutAction::Pause if paused => Err("pause: the Deployment is already paused".into()),
        RolloutAction::Pause => Ok(json!({"spec": {"paused": true}})),
        RolloutAction::Resume if !paused => Err("resume: the Deployment is not paused".into()),
        RolloutAction::Resume => Ok(json!({"spec": {"paused": null}})),
        RolloutAction::Restart => Ok(json!({"spec": {"template": {"metadata": {"annotations": {
            "kubectl.kubernetes.io/restartedAt": now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
        }}}}})),
        other => Err(format!(
            "{}: not an action flightdeck takes on a Deployment",
            other.verb()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_are_kubectls() {
        let d = json!({"spec": {"replicas": 2}});
        let now: Timestamp = "2026-12-01T13:05:00Z".parse().unwrap();
        assert_eq!(
            plan(RolloutAction::Pause, &d, now),
            Ok(json!({"spec": {"paused": true}}))
        );
        assert!(plan(RolloutAction::Resume, &d, now).is_err());
        let paused = json!({"spec": {"paused": true}});
        assert_eq!(
            plan(RolloutAction::Resume, &paused, now),
            Ok(json!({"spec": {"paused": null}}))
        );
        assert_eq!(
            plan(RolloutAction::Restart, &d, now).unwrap()["spec"]["template"]["metadata"]["annotations"]
                ["kubectl.kubernetes.io/restartedAt"],
            "2026-12-01T13:05:00Z"
        );
        assert!(plan(RolloutAction::Abort, &d, now).is_err());
    }
}
