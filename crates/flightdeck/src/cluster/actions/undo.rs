//! Undo as the plugin does it: among the ReplicaSets the rollout controls,
//! take the pod template of the revision asked for (by default the one
//! before the newest) and put it back as `/spec/template`.

use serde_json::{Value, json};

use super::plan::{Call, Plan};

const REVISION_ANNOTATION: &str = "rollout.argoproj.io/revision";
const HASH_LABEL: &str = "rollouts-pod-template-hash";

/// The rollout's `spec.selector` as a label selector for listing its
/// ReplicaSets (`matchLabels` and `matchExpressions`).
pub fn replica_set_selector(rollout: &Value) -> Result<String, String> {
    let selector = &rollout["spec"]["selector"];
    let mut terms: Vec<String> = selector["matchLabels"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    for expression in selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let key = expression["key"].as_str().unwrap_or_default();
        let values: Vec<&str> = expression["values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        terms.push(match expression["operator"].as_str() {
            Some("In") => format!("{key} in ({})", values.join(",")),
            Some("NotIn") => format!("{key} notin ({})", values.join(",")),
            Some("Exists") => key.to_string(),
            Some("DoesNotExist") => format!("!{key}"),
            other => return Err(format!("undo: unknown selector operator {other:?}")),
        });
    }
    if terms.is_empty() {
        return Err("undo: the rollout has no spec.selector to find its ReplicaSets by".into());
    }
    Ok(terms.join(","))
}

/// The ReplicaSet's revision; 0 without the annotation, as the plugin counts.
fn revision(replica_set: &Value) -> Option<u64> {
    match &replica_set["metadata"]["annotations"][REVISION_ANNOTATION] {
        Value::Null => Some(0),
        value => value.as_str()?.parse().ok(),
    }
}

fn controlled_by(replica_set: &Value, uid: &str) -> bool {
    replica_set["metadata"]["ownerReferences"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|o| o["controller"] == json!(true) && o["uid"] == uid)
}

/// The JSON patch back to `revision` (`None`: the second newest), or no
/// call when the rollout's template is that revision's already.
pub fn plan(rollout: &Value, replica_sets: &[Value], wanted: Option<u64>) -> Result<Plan, String> {
    let uid = rollout["metadata"]["uid"].as_str().unwrap_or_default();
    let mut owned: Vec<(u64, &Value)> = replica_sets
        .iter()
        .filter(|rs| controlled_by(rs, uid))
        .filter_map(|rs| Some((revision(rs)?, rs)))
        .collect();
    owned.sort_by_key(|(revision, _)| std::cmp::Reverse(*revision));
    let (revision, replica_set) = match wanted {
        Some(n) => owned
            .iter()
            .find(|(r, _)| *r == n)
            .ok_or_else(|| format!("undo: revision {n} is not in the rollout's history"))?,
        None => owned
            .get(1)
            .ok_or_else(|| "undo: there is no previous revision".to_string())?,
    };
    let mut template = replica_set["spec"]["template"].clone();
    if derivative(
        &without_hash_label(&rollout["spec"]["template"]),
        &without_hash_label(&template),
    ) {
        return Ok(Plan {
            calls: Vec::new(),
            note: Some(format!(
                "the template already matches revision {revision}: nothing to undo"
            )),
        });
    }
    template = without_hash_label(&template);
    Ok(Plan {
        calls: vec![Call::Template {
            revision: *revision,
            patch: json!([{"op": "replace", "path": "/spec/template", "value": template}]),
        }],
        note: None,
    })
}

fn without_hash_label(template: &Value) -> Value {
    let mut template = template.clone();
    if let Some(labels) = template["metadata"]["labels"].as_object_mut() {
        labels.remove(HASH_LABEL);
    }
    template
}

/// Kubernetes' `Semantic.DeepDerivative(a, b)`: `b` equals `a` wherever `a`
/// says something; what `a` leaves unset or empty is not compared (so the
/// defaults the API server filled into a ReplicaSet do not count).
fn derivative(a: &Value, b: &Value) -> bool {
    match a {
        Value::Null => true,
        Value::String(s) if s.is_empty() => true,
        Value::Array(items) if items.is_empty() => true,
        Value::Object(fields) if fields.is_empty() => true,
        Value::Array(items) => b.as_array().is_some_and(|other| {
            other.len() == items.len() && items.iter().zip(other).all(|(x, y)| derivative(x, y))
        }),
        Value::Object(fields) => b.as_object().is_some_and(|other| {
            fields
                .iter()
                .all(|(k, v)| derivative(v, other.get(k).unwrap_or(&Value::Null)))
        }),
        scalar => scalar == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(image: &str, hash: Option<&str>) -> Value {
        let mut labels = json!({"app": "checkout"});
        if let Some(hash) = hash {
            labels[HASH_LABEL] = json!(hash);
        }
        json!({"metadata": {"labels": labels},
               "spec": {"containers": [{"name": "app", "image": image}]}})
    }

    fn replica_set(revision: u64, image: &str, owner: &str) -> Value {
        let hash = format!("h{revision}");
        let mut t = template(image, Some(&hash));
        // What the API server fills in: not part of the rollout's template.
        t["spec"]["containers"][0]["terminationMessagePath"] = json!("/dev/termination-log");
        json!({
            "metadata": {"name": format!("checkout-{hash}"),
                         "annotations": {REVISION_ANNOTATION: revision.to_string()},
                         "ownerReferences": [{"kind": "Rollout", "name": "checkout", "uid": owner, "controller": true}]},
            "spec": {"template": t}
        })
    }

    fn rollout(image: &str) -> Value {
        json!({"metadata": {"name": "checkout", "uid": "u1"},
               "spec": {"selector": {"matchLabels": {"app": "checkout"}}, "template": template(image, None)}})
    }

    fn history() -> Vec<Value> {
        vec![
            replica_set(2, "app:v2", "u1"),
            replica_set(4, "app:v4", "u1"),
            replica_set(3, "app:v3", "u1"),
            // Not the rollout's: a newer revision that must not count.
            replica_set(9, "app:v9", "someone-else"),
        ]
    }

    #[test]
    fn undo_puts_back_the_previous_revisions_template_without_its_hash_label() {
        let p = plan(&rollout("app:v4"), &history(), None).unwrap();
        let mut expected = history()[2]["spec"]["template"].clone();
        expected["metadata"]["labels"]
            .as_object_mut()
            .unwrap()
            .remove(HASH_LABEL);
        assert_eq!(
            p.calls,
            [Call::Template {
                revision: 3,
                patch: json!([{"op": "replace", "path": "/spec/template", "value": expected}]),
            }]
        );
    }

    #[test]
    fn undo_to_a_named_revision_or_say_it_is_not_there() {
        let p = plan(&rollout("app:v4"), &history(), Some(2)).unwrap();
        assert!(matches!(&p.calls[..], [Call::Template { revision: 2, .. }]));
        assert_eq!(
            plan(&rollout("app:v4"), &history(), Some(9)),
            Err("undo: revision 9 is not in the rollout's history".into())
        );
        assert_eq!(
            plan(&rollout("app:v4"), &history()[1..2], None),
            Err("undo: there is no previous revision".into())
        );
    }

    #[test]
    fn no_call_when_the_template_already_matches() {
        // Defaults filled in by the server do not make the templates differ.
        let p = plan(&rollout("app:v3"), &history(), Some(3)).unwrap();
        assert!(p.calls.is_empty());
        assert_eq!(
            p.note.as_deref(),
            Some("the template already matches revision 3: nothing to undo")
        );
    }

    #[test]
    fn selectors_cover_labels_and_expressions() {
        let r = json!({"spec": {"selector": {
            "matchLabels": {"app": "checkout"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["web", "api"]},
                {"key": "legacy", "operator": "DoesNotExist"}
            ]
        }}});
        assert_eq!(
            replica_set_selector(&r).unwrap(),
            "app=checkout,tier in (web,api),!legacy"
        );
        assert!(replica_set_selector(&json!({"spec": {}})).is_err());
    }

    #[test]
    fn derivative_ignores_what_the_first_leaves_unset() {
        assert!(derivative(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
        assert!(!derivative(&json!({"a": 1, "b": 2}), &json!({"a": 1})));
        assert!(derivative(&json!({"a": ""}), &json!({"a": "x"})));
        assert!(!derivative(&json!([1]), &json!([1, 2])));
    }
}
