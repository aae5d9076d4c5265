//! Building and reading the objects the controller writes: pod-template hashes as Argo
//! derives them, ReplicaSets for a Rollout revision, Events, and small JSON accessors.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::clock::rfc3339;

pub const HASH_LABEL: &str = "rollouts-pod-template-hash";
pub const REVISION_ANNOTATION: &str = "rollout.argoproj.io/revision";
/// Argo's: on a ReplicaSet an undo brought back, the revisions its template held before.
pub const REVISION_HISTORY_ANNOTATION: &str = "rollout.argoproj.io/revision-history";
/// The pod-template annotation a CI pipeline sets with the commit's time (flightdeck's
/// default for change lead time).
pub const COMMIT_TIME_ANNOTATION: &str = "flightdeck.io/commit-time";

/// FNV-1a over `value` with object keys sorted and nulls skipped, so that a template read
/// back from a ReplicaSet (hash label removed) hashes like the one the Rollout holds.
fn feed(hash: &mut u32, bytes: &[u8]) {
    for b in bytes {
        *hash ^= u32::from(*b);
        *hash = hash.wrapping_mul(0x0100_0193);
    }
}

fn fnv_canonical(value: &Value, hash: &mut u32) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().filter(|k| !map[*k].is_null()).collect();
            keys.sort();
            feed(hash, b"{");
            for k in keys {
                feed(hash, k.as_bytes());
                feed(hash, b":");
                fnv_canonical(&map[k], hash);
                feed(hash, b",");
            }
            feed(hash, b"}");
        }
        Value::Array(items) => {
            feed(hash, b"[");
            for item in items {
                fnv_canonical(item, hash);
                feed(hash, b",");
            }
            feed(hash, b"]");
        }
        other => feed(hash, other.to_string().as_bytes()),
    }
}

/// Kubernetes' `rand.SafeEncodeString` of the decimal hash, as Argo writes pod-template hashes.
fn safe_encode(n: u32) -> String {
    const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    n.to_string()
        .bytes()
        .map(|b| ALPHANUMS[usize::from(b) % ALPHANUMS.len()] as char)
        .collect()
}

pub fn hash_of(value: &Value) -> String {
    let mut hash = 0x811c_9dc5;
    fnv_canonical(value, &mut hash);
    safe_encode(hash)
}

/// The `rollouts-pod-template-hash` of a pod template (its own hash label ignored, and
/// the simulated pipeline's commit time, so that a seed gives the same hashes whenever
/// the fleet starts: Argo would hash it too).
pub fn pod_template_hash(template: &Value) -> String {
    let mut template = template.clone();
    if let Some(labels) = template["metadata"]["labels"].as_object_mut() {
        labels.remove(HASH_LABEL);
    }
    if let Some(annotations) = template["metadata"]["annotations"].as_object_mut() {
        annotations.remove(COMMIT_TIME_ANNOTATION);
        if annotations.is_empty() {
            template["metadata"]
                .as_object_mut()
                .map(|m| m.remove("annotations"));
        }
    }
    hash_of(&template)
}

/// The string at a dotted path of plain keys (`status.phase`); "" when absent.
pub fn str_at<'a>(value: &'a Value, path: &str) -> &'a str {
    path.split('.')
        .try_fold(value, |v, k| v.get(k))
        .and_then(Value::as_str)
        .unwrap_or("")
}

pub fn int_at(value: &Value, path: &str) -> Option<i64> {
    path.split('.')
        .try_fold(value, |v, k| v.get(k))
        .and_then(Value::as_i64)
}

pub fn revision_of(object: &Value) -> u64 {
    object["metadata"]["annotations"][REVISION_ANNOTATION]
        .as_str()
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

/// The controller reference to an Argo object (a Rollout, an Experiment) its children carry.
pub fn owner_reference(owner: &Value) -> Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

/// A new, empty ReplicaSet for the rollout's current pod template.
pub fn replica_set(rollout: &Value, hash: &str, revision: u64, now: Timestamp) -> Value {
    let name = str_at(rollout, "metadata.name");
    let mut template = rollout["spec"]["template"].clone();
    template["metadata"]["labels"][HASH_LABEL] = json!(hash);
    let mut selector = rollout["spec"]["selector"].clone();
    selector["matchLabels"][HASH_LABEL] = json!(hash);
    json!({
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": format!("{name}-{hash}"),
            "namespace": rollout["metadata"]["namespace"],
            "creationTimestamp": rfc3339(now),
            "labels": template["metadata"]["labels"],
            "annotations": {
                REVISION_ANNOTATION: revision.to_string(),
                "rollout.argoproj.io/desired-replicas": rollout["spec"]["replicas"].as_i64().unwrap_or(1).to_string(),
            },
            "ownerReferences": [owner_reference(rollout)],
        },
        "spec": {"replicas": 0, "selector": selector, "template": template},
        "status": {"replicas": 0, "observedGeneration": 1},
    })
}

/// A `v1` Event about an Argo object (a Rollout, an Experiment), worded as the rollouts
/// controller words its events.
pub fn event(
    object: &Value,
    sequence: u64,
    kind: &str,
    reason: &str,
    message: &str,
    now: Timestamp,
) -> Value {
    let name = str_at(object, "metadata.name");
    json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": format!("{name}.{sequence:016x}"), "namespace": object["metadata"]["namespace"]},
        "involvedObject": {
            "apiVersion": "argoproj.io/v1alpha1", "kind": object["kind"], "name": name,
            "namespace": object["metadata"]["namespace"], "uid": object["metadata"]["uid"],
        },
        "reason": reason,
        "message": message,
        "type": kind,
        "source": {"component": "rollouts-controller"},
        "reportingComponent": "rollouts-controller",
        "firstTimestamp": rfc3339(now),
        "lastTimestamp": rfc3339(now),
        "count": 1,
    })
}

/// Set a condition of type `kind` as Argo's `SetRolloutCondition` does: the transition
/// time moves when the status does, the update time when anything does.
pub fn set_condition(
    conditions: &mut Vec<Value>,
    kind: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: Timestamp,
) {
    let now = rfc3339(now);
    match conditions.iter_mut().find(|c| c["type"] == kind) {
        Some(c) => {
            if c["status"] != status {
                c["lastTransitionTime"] = json!(now);
            }
            if c["status"] != status || c["reason"] != reason || c["message"] != message {
                c["lastUpdateTime"] = json!(now);
            }
            c["status"] = json!(status);
            c["reason"] = json!(reason);
            c["message"] = json!(message);
        }
        None => conditions.push(json!({
            "type": kind, "status": status, "reason": reason, "message": message,
            "lastTransitionTime": now, "lastUpdateTime": now,
        })),
    }
}

/// Remove a field of an object, if it is one.
pub fn remove(map: &mut Value, field: &str) {
    if let Some(m) = map.as_object_mut() {
        m.remove(field);
    }
}

pub fn truthy(v: &Value) -> bool {
    v.as_bool().unwrap_or(false)
}

/// Argo's step and pause durations: `30s`, `5m`, `1h`, `1m30s`, or plain seconds.
pub fn duration_seconds(value: &Value) -> Option<f64> {
    if let Some(n) = value.as_f64() {
        return Some(n);
    }
    let text = value.as_str()?;
    if let Ok(n) = text.parse::<f64>() {
        return Some(n);
    }
    let (mut total, mut number) = (0.0, String::new());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            number.push(c);
            continue;
        }
        let n: f64 = number.parse().ok()?;
        number.clear();
        total += match c {
            'h' => n * 3600.0,
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                n / 1000.0
            }
            'm' => n * 60.0,
            's' => n,
            _ => return None,
        };
    }
    number.is_empty().then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_ignores_key_order_nulls_and_its_own_label() {
        let a = json!({"metadata": {"labels": {"app": "x"}, "creationTimestamp": null}, "spec": {"containers": [{"name": "x", "image": "i:1"}]}});
        let b = json!({"spec": {"containers": [{"image": "i:1", "name": "x"}]}, "metadata": {"labels": {"app": "x", HASH_LABEL: "zzz"}}});
        assert_eq!(pod_template_hash(&a), pod_template_hash(&b));
        let c = json!({"spec": {"containers": [{"image": "i:2", "name": "x"}]}, "metadata": {"labels": {"app": "x"}}});
        assert_ne!(pod_template_hash(&a), pod_template_hash(&c));
        assert!(
            pod_template_hash(&a)
                .chars()
                .all(|ch| "bcdfghjklmnpqrstvwxz2456789".contains(ch))
        );
    }

    #[test]
    fn durations_read_as_argo_writes_them() {
        assert_eq!(duration_seconds(&json!("10s")), Some(10.0));
        assert_eq!(duration_seconds(&json!("1m30s")), Some(90.0));
        assert_eq!(duration_seconds(&json!("1h")), Some(3600.0));
        assert_eq!(duration_seconds(&json!(20)), Some(20.0));
        assert_eq!(duration_seconds(&json!("500ms")), Some(0.5));
        assert_eq!(duration_seconds(&json!("soon")), None);
    }
}
