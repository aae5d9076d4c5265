//! Errors as the Kubernetes API server words them: a `Status` body with code, reason,
//! message and details, so clients (kubectl, kube-rs) show and classify them as usual.

use serde_json::{Value, json};

use super::discovery::Resource;

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    pub details: Option<Value>,
}

/// `StatusDetails` as the API server serializes them: empty name and group left out.
fn details(resource: &Resource, name: &str) -> Value {
    let mut details = json!({});
    if !name.is_empty() {
        details["name"] = json!(name);
    }
    if !resource.group.is_empty() {
        details["group"] = json!(resource.group);
    }
    details["kind"] = json!(resource.plural);
    details
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError {
            code: 400,
            reason: "BadRequest",
            message: message.into(),
            details: None,
        }
    }

    /// 403, worded as the API server's RBAC authorizer words it.
    pub fn forbidden(
        resource: &Resource,
        subresource: Option<&str>,
        name: &str,
        namespace: Option<&str>,
        user: &str,
        verb: &str,
    ) -> Self {
        let what = match subresource {
            Some(sub) => format!("{}/{sub}", resource.plural),
            None => resource.plural.to_string(),
        };
        let object = if name.is_empty() {
            resource.qualified_plural()
        } else {
            format!("{} \"{name}\"", resource.qualified_plural())
        };
        let scope = match namespace {
            Some(ns) => format!(" in the namespace \"{ns}\""),
            None => " at the cluster scope".to_string(),
        };
        ApiError {
            code: 403,
            reason: "Forbidden",
            message: format!(
                "{object} is forbidden: User \"{user}\" cannot {verb} resource \"{what}\" in API group \"{}\"{scope}",
                resource.group
            ),
            details: Some(details(resource, name)),
        }
    }

    pub fn not_found(resource: &Resource, name: &str) -> Self {
        ApiError {
            code: 404,
            reason: "NotFound",
            message: format!("{} \"{name}\" not found", resource.qualified_plural()),
            details: Some(details(resource, name)),
        }
    }

    /// A path that names no served resource.
    pub fn no_route(path: &str) -> Self {
        ApiError {
            code: 404,
            reason: "NotFound",
            message: format!("the server could not find the requested resource ({path})"),
            details: None,
        }
    }

    pub fn method_not_allowed(method: &str, path: &str) -> Self {
        ApiError {
            code: 405,
            reason: "MethodNotAllowed",
            message: format!(
                "the server does not allow this method on the requested resource ({method} {path})"
            ),
            details: None,
        }
    }

    pub fn already_exists(resource: &Resource, name: &str) -> Self {
        ApiError {
            code: 409,
            reason: "AlreadyExists",
            message: format!("{} \"{name}\" already exists", resource.qualified_plural()),
            details: Some(details(resource, name)),
        }
    }

    pub fn conflict(resource: &Resource, name: &str) -> Self {
        ApiError {
            code: 409,
            reason: "Conflict",
            message: format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                resource.qualified_plural()
            ),
            details: Some(details(resource, name)),
        }
    }

    /// 401, as the API server answers a request whose credentials it does not accept.
    pub fn unauthorized() -> Self {
        ApiError {
            code: 401,
            reason: "Unauthorized",
            message: "Unauthorized".into(),
            details: None,
        }
    }

    /// 410 for a watch or list that asks for history the server no longer keeps.
    pub fn expired(message: impl Into<String>) -> Self {
        ApiError {
            code: 410,
            reason: "Expired",
            message: message.into(),
            details: None,
        }
    }

    pub fn unsupported_media_type(content_type: &str) -> Self {
        ApiError {
            code: 415,
            reason: "UnsupportedMediaType",
            message: format!(
                "the body of the request was in an unknown format ({content_type}) - accepted media types include: application/json-patch+json, application/merge-patch+json"
            ),
            details: None,
        }
    }

    /// 422 naming the object and the field at fault.
    pub fn invalid(resource: &Resource, name: &str, field: &str, cause: &str) -> Self {
        let message = format!(
            "{} \"{name}\" is invalid: {field}: {cause}",
            resource.qualified_kind()
        );
        let mut d = details(resource, name);
        d["kind"] = json!(resource.kind);
        d["causes"] = json!([{"reason": "FieldValueInvalid", "message": cause, "field": field}]);
        ApiError {
            code: 422,
            reason: "Invalid",
            message,
            details: Some(d),
        }
    }

    /// 422 for a request's list options, as `ValidateListOptions` words it: each cause is
    /// a field and what is wrong with it ("Forbidden: …", "Unsupported value: …").
    pub fn invalid_options(causes: &[(&str, String)]) -> Self {
        let words: Vec<String> = causes
            .iter()
            .map(|(field, what)| format!("{field}: {what}"))
            .collect();
        let listed = match words.as_slice() {
            [one] => one.clone(),
            many => format!("[{}]", many.join(", ")),
        };
        let causes: Vec<Value> = causes
            .iter()
            .map(|(field, what)| {
                let reason = if what.starts_with("Forbidden") {
                    "FieldValueForbidden"
                } else {
                    "FieldValueNotSupported"
                };
                json!({"reason": reason, "message": what, "field": field})
            })
            .collect();
        ApiError {
            code: 422,
            reason: "Invalid",
            message: format!("ListOptions.meta.k8s.io \"\" is invalid: {listed}"),
            details: Some(json!({"group": "meta.k8s.io", "kind": "ListOptions", "causes": causes})),
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ApiError {
            code: 500,
            reason: "InternalError",
            message: message.into(),
            details: None,
        }
    }

    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(details) = &self.details {
            status["details"] = details.clone();
        }
        status
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({} {})", self.message, self.code, self.reason)
    }
}

impl std::error::Error for ApiError {}
