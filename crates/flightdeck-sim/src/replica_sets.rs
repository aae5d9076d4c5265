//! ReplicaSets as the simulated controllers reconcile them (a Rollout's revisions, an
//! Experiment's templates): read once, changed in memory and written back only when
//! changed; their pods, which start and become ready over the following ticks unless their
//! image cannot be pulled; and Argo's `scale-down-deadline`, which keeps a ReplicaSet that
//! is no longer wanted scaled up for a while.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::api_error::ApiError;
use super::clock::rfc3339;
use super::discovery::{REPLICASETS, RESOURCES};
use super::objects::{HASH_LABEL, int_at, str_at};
use super::store::{ObjectKey, Store, Stored};

/// Argo's annotation: when a ReplicaSet kept up after it stopped being wanted scales down.
pub const SCALE_DOWN_DEADLINE: &str = "scale-down-deadline";

/// Argo's default `scaleDownDelaySeconds` (blue-green, traffic-routed canaries, experiments).
pub const DEFAULT_SCALE_DOWN_DELAY_SECONDS: i64 = 30;

/// A ReplicaSet being reconciled, with the object as read so that only changes are written.
pub struct Set {
    pub key: ObjectKey,
    read: Value,
    pub value: Value,
    pub created: bool,
}

impl Set {
    /// A ReplicaSet to be created.
    pub fn new(value: Value) -> Self {
        Set {
            key: ObjectKey::of(&value),
            read: Value::Null,
            value,
            created: true,
        }
    }

    pub fn read(stored: &Stored) -> Self {
        let value = stored.value();
        Set {
            key: stored.key.clone(),
            read: value.clone(),
            value,
            created: false,
        }
    }

    pub fn hash(&self) -> &str {
        str_at(&self.value["metadata"]["labels"], HASH_LABEL)
    }
    pub fn count(&self, field: &str) -> i64 {
        int_at(&self.value["status"], field).unwrap_or(0)
    }
    pub fn desired(&self) -> i64 {
        int_at(&self.value, "spec.replicas").unwrap_or(0)
    }
    pub fn image(&self) -> &str {
        str_at(
            &self.value["spec"]["template"]["spec"]["containers"][0],
            "image",
        )
    }
    pub fn converged(&self) -> bool {
        let d = self.desired();
        self.count("replicas") == d
            && self.count("readyReplicas") == d
            && self.count("availableReplicas") == d
    }

    /// Pods started last tick become ready; new pods are created. Pods whose image cannot
    /// be pulled are created and never become ready (`ImagePullBackOff`).
    pub fn advance_pods(&mut self, image_pulls: bool) {
        let desired = self.desired();
        let status = &mut self.value["status"];
        if int_at(status, "replicas").unwrap_or(0) != desired {
            status["replicas"] = json!(desired);
            status["fullyLabeledReplicas"] = json!(desired);
        } else if image_pulls {
            status["readyReplicas"] = json!(desired);
            status["availableReplicas"] = json!(desired);
        }
    }

    /// Scale to `desired`; pods going away go at once.
    pub fn scale(&mut self, desired: i64) {
        self.value["spec"]["replicas"] = json!(desired);
        let status = &mut self.value["status"];
        for field in [
            "replicas",
            "fullyLabeledReplicas",
            "readyReplicas",
            "availableReplicas",
        ] {
            if int_at(status, field).unwrap_or(0) > desired {
                status[field] = json!(desired);
            }
        }
    }

    /// A ReplicaSet no longer wanted scales to 0 `delay_seconds` after it was first found
    /// so: until then it keeps its pods and carries the deadline (Argo's
    /// `scaleDownDelaySeconds`), which is removed when it scales down. Returns the
    /// deadline while it waits.
    pub fn scale_down_after(&mut self, delay_seconds: i64, now: Timestamp) -> Option<Timestamp> {
        if self.desired() == 0 {
            self.drop_scale_down_deadline();
            return None;
        }
        let deadline = str_at(&self.value["metadata"]["annotations"], SCALE_DOWN_DEADLINE)
            .parse::<Timestamp>()
            .ok();
        match deadline {
            Some(at) if at <= now => {
                self.scale(0);
                self.drop_scale_down_deadline();
                None
            }
            Some(at) => Some(at),
            None => {
                let at = now + SignedDuration::from_secs(delay_seconds);
                self.value["metadata"]["annotations"][SCALE_DOWN_DEADLINE] = json!(rfc3339(at));
                Some(at)
            }
        }
    }

    /// A ReplicaSet wanted again (an undo within the delay) loses its deadline.
    pub fn drop_scale_down_deadline(&mut self) {
        if let Some(annotations) = self.value["metadata"]["annotations"].as_object_mut() {
            annotations.remove(SCALE_DOWN_DEADLINE);
        }
    }

    /// Create it, or write what changed unless someone else wrote it since it was read.
    pub fn write(&self, store: &Store, now: Timestamp) -> Result<(), ApiError> {
        if self.created {
            store.create(REPLICASETS, self.value.clone(), now)?;
        } else if self.value != self.read {
            let expected = self.read["metadata"]["resourceVersion"].clone();
            store.update(REPLICASETS, &self.key, |current| {
                if current["metadata"]["resourceVersion"] != expected {
                    return Err(ApiError::conflict(&RESOURCES[REPLICASETS], &self.key.name));
                }
                *current = self.value.clone();
                Ok(())
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(replicas: i64) -> Set {
        Set::new(
            json!({"metadata": {"name": "r-abc", "namespace": "shop", "labels": {HASH_LABEL: "abc"}},
                        "spec": {"replicas": replicas}, "status": {"replicas": 0}}),
        )
    }

    #[test]
    fn pods_start_then_become_ready_unless_their_image_cannot_be_pulled() {
        let mut good = set(2);
        good.advance_pods(true);
        assert_eq!(
            (good.count("replicas"), good.count("readyReplicas")),
            (2, 0)
        );
        good.advance_pods(true);
        assert!(good.converged());
        let mut bad = set(2);
        for _ in 0..5 {
            bad.advance_pods(false);
        }
        assert_eq!(
            (bad.count("replicas"), bad.count("availableReplicas")),
            (2, 0)
        );
        assert!(!bad.converged());
    }

    #[test]
    fn a_set_no_longer_wanted_waits_for_its_deadline_then_scales_down() {
        let at = |s: i64| Timestamp::from_second(s).unwrap();
        let mut old = set(3);
        assert_eq!(old.scale_down_after(30, at(100)), Some(at(130)));
        assert_eq!(
            old.value["metadata"]["annotations"][SCALE_DOWN_DEADLINE],
            json!("1970-01-01T00:02:10Z")
        );
        assert_eq!(old.scale_down_after(30, at(129)), Some(at(130)));
        assert_eq!(old.desired(), 3);
        assert_eq!(old.scale_down_after(30, at(130)), None);
        assert_eq!(old.desired(), 0);
        assert!(old.value["metadata"]["annotations"][SCALE_DOWN_DEADLINE].is_null());
    }
}
