//! Writes from clients: merge and JSON patches and replaces, with the API server's rules for
//! the `status` subresource, `metadata.generation`, preconditions and validation.

use serde_json::Value;

use super::api_error::ApiError;
use super::discovery::Resource;

/// Which part of an object a request writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Main,
    Status,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    Merge,
    Json,
    /// Built-in kinds only. Applied as a merge patch: lists are replaced, not merged by key.
    Strategic,
}

impl PatchType {
    pub fn from_content_type(content_type: &str, resource: &Resource) -> Result<Self, ApiError> {
        let media = content_type.split(';').next().unwrap_or("").trim();
        match media {
            "application/merge-patch+json" => Ok(PatchType::Merge),
            "application/json-patch+json" => Ok(PatchType::Json),
            "application/strategic-merge-patch+json" if !resource.custom => {
                Ok(PatchType::Strategic)
            }
            _ => Err(ApiError::unsupported_media_type(content_type)),
        }
    }
}

/// Apply a patch body to a copy of `current`.
pub fn apply_patch(current: &Value, patch_type: PatchType, body: &[u8]) -> Result<Value, ApiError> {
    let mut doc = current.clone();
    match patch_type {
        PatchType::Merge | PatchType::Strategic => {
            let mut patch: Value = serde_json::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
            if !patch.is_object() {
                return Err(ApiError::bad_request(
                    "error decoding patch: a merge patch must be a JSON object",
                ));
            }
            if patch_type == PatchType::Strategic {
                without_directives(&mut patch);
            }
            json_patch::merge(&mut doc, &patch);
        }
        PatchType::Json => {
            let patch: json_patch::Patch = serde_json::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
            json_patch::patch(&mut doc, &patch).map_err(|e| ApiError {
                code: 422,
                reason: "Invalid",
                message: format!(
                    "the server rejected our request due to an error in our request: {e}"
                ),
                details: None,
            })?;
        }
    }
    Ok(doc)
}

/// A strategic merge patch's directives (`$setElementOrder/containers`, `$patch`,
/// `$retainKeys`) steer the merge; they are never stored, as kubectl's `set image` sends them.
fn without_directives(patch: &mut Value) {
    if let Some(map) = patch.as_object_mut() {
        map.retain(|k, _| !k.starts_with('$'));
        map.values_mut().for_each(without_directives);
    } else if let Some(list) = patch.as_array_mut() {
        list.iter_mut().for_each(without_directives);
    }
}

fn without(object: &Value, fields: &[&str]) -> Value {
    let mut copy = object.clone();
    if let Some(map) = copy.as_object_mut() {
        for f in fields {
            map.remove(*f);
        }
    }
    copy
}

/// Turn a client's intended object into what is stored, as the API server would:
/// writes to the main resource keep the old status (when the kind has a status
/// subresource), writes to `status` keep everything but the status, server-owned metadata
/// stays, a `resourceVersion` in the body must match, `generation` moves on spec changes.
pub fn admit(
    resource: &Resource,
    target: Target,
    before: &Value,
    intended: Value,
) -> Result<Value, ApiError> {
    let name = before["metadata"]["name"].as_str().unwrap_or("");
    if let Some(rv) = intended["metadata"]
        .get("resourceVersion")
        .and_then(Value::as_str)
        && before["metadata"]["resourceVersion"].as_str() != Some(rv)
    {
        return Err(ApiError::conflict(resource, name));
    }
    let mut after = match target {
        Target::Status => {
            let mut after = before.clone();
            match intended.get("status") {
                Some(status) if !status.is_null() => after["status"] = status.clone(),
                _ => {
                    after.as_object_mut().map(|m| m.remove("status"));
                }
            }
            after
        }
        Target::Main => {
            let mut after = intended;
            if resource.status_subresource {
                match before.get("status") {
                    Some(status) => after["status"] = status.clone(),
                    None => {
                        after.as_object_mut().map(|m| m.remove("status"));
                    }
                }
            }
            after
        }
    };
    for field in ["uid", "creationTimestamp", "generation", "resourceVersion"] {
        match before["metadata"].get(field) {
            Some(v) => after["metadata"][field] = v.clone(),
            None => {
                after["metadata"].as_object_mut().map(|m| m.remove(field));
            }
        }
    }
    after["apiVersion"] = before["apiVersion"].clone();
    after["kind"] = before["kind"].clone();
    validate(resource, name, &after)?;
    if resource.generation {
        let ignored: &[&str] = if resource.status_subresource {
            &["metadata", "status"]
        } else {
            &["metadata"]
        };
        if without(before, ignored) != without(&after, ignored) {
            let generation = before["metadata"]["generation"].as_i64().unwrap_or(0) + 1;
            after["metadata"]["generation"] = generation.into();
        }
    }
    Ok(after)
}

#[derive(Clone, Copy)]
enum Type {
    Integer,
    Boolean,
    String,
    Object,
    Array,
}

/// The fields flightdeck and the simulated controller read, with the types the CRDs'
/// OpenAPI schemas give them. Not the whole schema: enough to refuse the writes that
/// would break a reader, with a 422 naming the field.
const FIELD_TYPES: &[(&str, &str, Type)] = &[
    ("*", "metadata.labels", Type::Object),
    ("*", "metadata.annotations", Type::Object),
    ("Rollout", "spec.replicas", Type::Integer),
    ("Rollout", "spec.paused", Type::Boolean),
    ("Rollout", "spec.restartAt", Type::String),
    ("Rollout", "spec.template", Type::Object),
    ("Rollout", "spec.strategy", Type::Object),
    ("Rollout", "spec.strategy.canary.steps", Type::Array),
    ("Rollout", "status.abort", Type::Boolean),
    ("Rollout", "status.promoteFull", Type::Boolean),
    ("Rollout", "status.controllerPause", Type::Boolean),
    ("Rollout", "status.currentStepIndex", Type::Integer),
    ("Rollout", "status.pauseConditions", Type::Array),
    ("ReplicaSet", "spec.replicas", Type::Integer),
    ("Deployment", "spec.replicas", Type::Integer),
    ("Deployment", "spec.paused", Type::Boolean),
];

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn validate(resource: &Resource, name: &str, object: &Value) -> Result<(), ApiError> {
    for (kind, path, want) in FIELD_TYPES {
        if *kind != "*" && *kind != resource.kind {
            continue;
        }
        let Some(value) = path
            .split('.')
            .try_fold(object, |node, part| node.get(part))
        else {
            continue;
        };
        if value.is_null() {
            continue;
        }
        let ok = match want {
            Type::Integer => value.is_i64() || value.is_u64(),
            Type::Boolean => value.is_boolean(),
            Type::String => value.is_string(),
            Type::Object => value.is_object(),
            Type::Array => value.is_array(),
        };
        if !ok {
            let want_name = match want {
                Type::Integer => "integer",
                Type::Boolean => "boolean",
                Type::String => "string",
                Type::Object => "object",
                Type::Array => "array",
            };
            let got = type_name(value);
            return Err(ApiError::invalid(
                resource,
                name,
                path,
                &format!(
                    "Invalid value: \"{got}\": {path} in body must be of type {want_name}: \"{got}\""
                ),
            ));
        }
    }
    if let Some(labels) = object["metadata"]["labels"].as_object()
        && let Some((key, v)) = labels.iter().find(|(_, v)| !v.is_string())
    {
        let field = format!("metadata.labels.{key}");
        return Err(ApiError::invalid(
            resource,
            name,
            &field,
            &format!("Invalid value: {v}: must be a string"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::{ANALYSIS_RUNS, RESOURCES, ROLLOUTS};
    use serde_json::json;

    fn rollout() -> Value {
        json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
               "metadata": {"name": "checkout", "namespace": "shop", "generation": 3, "resourceVersion": "10", "uid": "u"},
               "spec": {"replicas": 5, "x-unknown": {"kept": true}},
               "status": {"phase": "Healthy"}})
    }

    #[test]
    fn a_strategic_patchs_directives_are_not_stored() {
        let before = json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "web:v1"}]}}}});
        let body = br#"{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"}],"containers":[{"image":"web:v2","name":"web"}]}}}}"#;
        let after = apply_patch(&before, PatchType::Strategic, body).unwrap();
        assert_eq!(
            after,
            json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "web:v2"}]}}}})
        );
    }

    #[test]
    fn spec_change_moves_generation_and_status_on_main_is_ignored() {
        let r = &RESOURCES[ROLLOUTS];
        let before = rollout();
        let patched = apply_patch(
            &before,
            PatchType::Merge,
            br#"{"spec":{"paused":true},"status":{"phase":"Degraded"}}"#,
        )
        .unwrap();
        let after = admit(r, Target::Main, &before, patched).unwrap();
        assert_eq!(after["spec"]["paused"], json!(true));
        assert_eq!(after["spec"]["x-unknown"], json!({"kept": true}));
        assert_eq!(after["status"]["phase"], json!("Healthy"));
        assert_eq!(after["metadata"]["generation"], json!(4));
    }

    #[test]
    fn status_target_changes_only_status_and_not_generation() {
        let r = &RESOURCES[ROLLOUTS];
        let before = rollout();
        let patched = apply_patch(&before, PatchType::Json, br#"[{"op":"add","path":"/status/abort","value":true},{"op":"replace","path":"/spec/replicas","value":1}]"#).unwrap();
        let after = admit(r, Target::Status, &before, patched).unwrap();
        assert_eq!(after["status"]["abort"], json!(true));
        assert_eq!(after["spec"]["replicas"], json!(5));
        assert_eq!(after["metadata"]["generation"], json!(3));
    }

    #[test]
    fn no_status_subresource_means_status_is_written_with_the_object() {
        let r = &RESOURCES[ANALYSIS_RUNS];
        let before =
            json!({"metadata": {"name": "a", "generation": 1}, "status": {"phase": "Running"}});
        let patched = apply_patch(
            &before,
            PatchType::Merge,
            br#"{"status":{"phase":"Successful"}}"#,
        )
        .unwrap();
        let after = admit(r, Target::Main, &before, patched).unwrap();
        assert_eq!(after["status"]["phase"], json!("Successful"));
        assert_eq!(after["metadata"]["generation"], json!(2));
    }

    #[test]
    fn errors_name_the_field_and_the_object() {
        let r = &RESOURCES[ROLLOUTS];
        let before = rollout();
        let patched = apply_patch(
            &before,
            PatchType::Merge,
            br#"{"spec":{"replicas":"three"}}"#,
        )
        .unwrap();
        let err = admit(r, Target::Main, &before, patched).unwrap_err();
        assert_eq!((err.code, err.reason), (422, "Invalid"));
        assert!(
            err.message
                .starts_with("Rollout.argoproj.io \"checkout\" is invalid: spec.replicas"),
            "{}",
            err.message
        );

        let stale = apply_patch(
            &before,
            PatchType::Merge,
            br#"{"metadata":{"resourceVersion":"9"},"spec":{"paused":true}}"#,
        )
        .unwrap();
        assert_eq!(
            admit(r, Target::Main, &before, stale).unwrap_err().reason,
            "Conflict"
        );

        let bad_op = apply_patch(
            &before,
            PatchType::Json,
            br#"[{"op":"replace","path":"/spec/nope/deeper","value":1}]"#,
        )
        .unwrap_err();
        assert_eq!(bad_op.code, 422);
        assert_eq!(
            apply_patch(&before, PatchType::Merge, b"{not json")
                .unwrap_err()
                .code,
            400
        );
        assert_eq!(
            PatchType::from_content_type("application/strategic-merge-patch+json", r)
                .unwrap_err()
                .code,
            415
        );
    }
}
