//! Who is calling and what they may do: users with RBAC-like rules, the API server's
//! SelfSubjectAccessReview and SelfSubjectRulesReview answers, and a log of the requests
//! received so tests can compare exact calls.
//!
//! Each kubeconfig context has its own listener and the listener decides the user:
//! kubectl sends no credentials over plain http, so a token could not tell users apart
//! (the `-token` contexts check a bearer token, but still act as one user).

use std::collections::VecDeque;
use std::sync::Mutex;

use serde_json::{Value, json};

use super::api_error::ApiError;

/// One RBAC rule, as a (Cluster)Role holds it, with where it is bound.
#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    /// The ClusterRole the rule comes from (named in access review reasons).
    pub role: &'static str,
    /// `get`, `list`, ...; `*` for every verb.
    pub verbs: &'static [&'static str],
    /// `""` is the core group; `*` every group.
    pub api_groups: &'static [&'static str],
    /// Plural names, `rollouts/status` for a subresource; `*` every resource and subresource.
    pub resources: &'static [&'static str],
    /// `None`: bound by a ClusterRoleBinding, so it applies everywhere, cluster scope
    /// included. `Some(namespaces)`: bound by a RoleBinding in each of them, so it applies
    /// to requests in those namespaces only.
    pub namespaces: Option<&'static [&'static str]>,
}

/// A user of the simulated clusters.
#[derive(Debug, PartialEq, Eq)]
pub struct User {
    pub name: &'static str,
    /// Its context is `<cluster>-<context_suffix>`; empty for the cluster's own context.
    pub context_suffix: &'static str,
    pub rules: &'static [Rule],
}

const READ: &[&str] = &["get", "list", "watch"];
const EVERYTHING: &[&str] = &["*"];

pub static ADMIN: User = User {
    name: "admin@flightdeck.sim",
    context_suffix: "",
    rules: &[Rule {
        role: "cluster-admin",
        verbs: EVERYTHING,
        api_groups: EVERYTHING,
        resources: EVERYTHING,
        namespaces: None,
    }],
};

/// Reads everything, writes nothing: context `<cluster>-readonly`.
pub static VIEWER: User = User {
    name: "viewer@flightdeck.sim",
    context_suffix: "readonly",
    // Simplified: the real `view` ClusterRole lists kinds one by one (and leaves out secrets).
    rules: &[Rule {
        role: "view",
        verbs: READ,
        api_groups: EVERYTHING,
        resources: EVERYTHING,
        namespaces: None,
    }],
};

/// Reads Rollouts (not their status subresource) and nothing else, in every namespace:
/// context `<cluster>-rollouts-only`.
pub static ROLLOUTS_ONLY: User = User {
    name: "rollouts-viewer@flightdeck.sim",
    context_suffix: "rollouts-only",
    rules: &[Rule {
        role: "rollouts-viewer",
        verbs: READ,
        api_groups: &["argoproj.io"],
        resources: &["rollouts"],
        namespaces: None,
    }],
};

/// Reads everything in namespace `shop` (by a RoleBinding there) and nothing elsewhere,
/// cluster scope included: context `<cluster>-shop-only`.
pub static SHOP_ONLY: User = User {
    name: "shop-viewer@flightdeck.sim",
    context_suffix: "shop-only",
    rules: &[Rule {
        role: "view",
        verbs: READ,
        api_groups: EVERYTHING,
        resources: EVERYTHING,
        namespaces: Some(&["shop"]),
    }],
};

/// The user behind the `<cluster>-token` contexts, whose listener checks bearer tokens.
pub static TOKEN_HOLDER: User = User {
    name: "token-holder@flightdeck.sim",
    context_suffix: "token",
    rules: ADMIN.rules,
};

/// What a request asks to do, as the API server's authorizer sees it.
#[derive(Debug, Clone, Copy)]
pub struct Attributes<'a> {
    pub verb: &'a str,
    pub group: &'a str,
    pub resource: &'a str,
    pub subresource: Option<&'a str>,
    /// `None` at the cluster scope. The API server takes a Namespace's own name as the
    /// namespace of requests for it, so a RoleBinding may grant `get` on its namespace.
    pub namespace: Option<&'a str>,
}

fn matches(allowed: &[&str], wanted: &str) -> bool {
    allowed.iter().any(|a| *a == "*" || *a == wanted)
}

impl Rule {
    fn applies_in(&self, namespace: Option<&str>) -> bool {
        match (self.namespaces, namespace) {
            (None, _) => true,
            (Some(bound), Some(ns)) => bound.contains(&ns),
            (Some(_), None) => false,
        }
    }

    fn allows(&self, a: &Attributes) -> bool {
        let resource = match a.subresource {
            Some(sub) => format!("{}/{sub}", a.resource),
            None => a.resource.to_string(),
        };
        self.applies_in(a.namespace)
            && matches(self.verbs, a.verb)
            && matches(self.api_groups, a.group)
            && matches(self.resources, &resource)
    }

    /// As access review reasons name bindings: `ClusterRoleBinding "view"`,
    /// `RoleBinding "view/shop"`.
    fn binding(&self, namespace: Option<&str>) -> String {
        match (self.namespaces, namespace) {
            (Some(_), Some(ns)) => format!("RoleBinding \"{}/{ns}\"", self.role),
            _ => format!("ClusterRoleBinding \"{}\"", self.role),
        }
    }
}

/// Every authenticated user may create access and rules reviews (`system:basic-user`).
const BASIC_USER_RULES: [(&str, &[&str]); 2] = [
    (
        "authorization.k8s.io",
        &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
    ),
    ("authentication.k8s.io", &["selfsubjectreviews"]),
];

/// The rule that allows the request, if any.
fn allowing_rule<'u>(user: &'u User, a: &Attributes) -> Option<&'u Rule> {
    user.rules.iter().find(|rule| rule.allows(a))
}

pub fn authorize(user: &User, a: &Attributes) -> bool {
    allowing_rule(user, a).is_some()
}

/// Answer a `SelfSubjectAccessReview` for `user`: the request echoed with a status worded
/// as the RBAC authorizer words it (it never denies outright, so `denied` is never set).
pub fn review(user: &User, mut request: Value) -> Result<Value, ApiError> {
    let attributes = request["spec"]["resourceAttributes"].clone();
    let non_resource = &request["spec"]["nonResourceAttributes"];
    let allowed_by = if attributes.is_object() {
        let text = |key: &str| attributes[key].as_str().unwrap_or("");
        let a = Attributes {
            verb: text("verb"),
            group: text("group"),
            resource: text("resource"),
            subresource: Some(text("subresource")).filter(|s| !s.is_empty()),
            namespace: Some(text("namespace")).filter(|s| !s.is_empty()),
        };
        allowing_rule(user, &a).map(|rule| (rule.binding(a.namespace), rule.role))
    } else if non_resource.is_object() {
        // Discovery and health paths are open to every user (`system:discovery`).
        (non_resource["verb"] == "get").then(|| {
            (
                "ClusterRoleBinding \"system:discovery\"".to_string(),
                "system:discovery",
            )
        })
    } else {
        return Err(ApiError::bad_request(
            "SelfSubjectAccessReview: exactly one of nonResourceAttributes or resourceAttributes must be specified",
        ));
    };
    request["apiVersion"] = json!("authorization.k8s.io/v1");
    request["kind"] = json!("SelfSubjectAccessReview");
    request["status"] = match allowed_by {
        Some((binding, role)) => json!({
            "allowed": true,
            "reason": format!("RBAC: allowed by {binding} of ClusterRole \"{role}\" to User \"{}\"", user.name),
        }),
        None => json!({"allowed": false}),
    };
    if request.get("metadata").is_none() {
        request["metadata"] = json!({});
    }
    Ok(request)
}

/// Answer a `SelfSubjectRulesReview`: what `user` may do in `spec.namespace`, from the
/// rules bound cluster-wide and those bound in that namespace, as the API server lists them.
pub fn rules_review(user: &User, request: &Value) -> Result<Value, ApiError> {
    let namespace = request["spec"]["namespace"].as_str().unwrap_or("");
    if namespace.is_empty() {
        return Err(ApiError::bad_request("no namespace on request"));
    }
    let mut resource_rules: Vec<Value> = user
        .rules
        .iter()
        .filter(|rule| rule.applies_in(Some(namespace)))
        .map(|rule| {
            json!({"verbs": rule.verbs, "apiGroups": rule.api_groups, "resources": rule.resources})
        })
        .collect();
    for (group, resources) in BASIC_USER_RULES {
        resource_rules
            .push(json!({"verbs": ["create"], "apiGroups": [group], "resources": resources}));
    }
    let mut non_resource_rules = Vec::new();
    if user
        .rules
        .iter()
        .any(|r| r.namespaces.is_none() && r.verbs == EVERYTHING && r.resources == EVERYTHING)
    {
        non_resource_rules.push(json!({"verbs": ["*"], "nonResourceURLs": ["*"]}));
    }
    non_resource_rules.push(json!({"verbs": ["get"], "nonResourceURLs": [
        "/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*",
        "/readyz", "/version", "/version/"]}));
    non_resource_rules.push(json!({"verbs": ["get"], "nonResourceURLs": [
        "/healthz", "/livez", "/readyz", "/version", "/version/"]}));
    Ok(json!({
        "kind": "SelfSubjectRulesReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": null},
        "spec": {},
        "status": {
            "resourceRules": resource_rules,
            "nonResourceRules": non_resource_rules,
            "incomplete": false,
        },
    }))
}

/// One request as the server received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub user: String,
    pub method: String,
    /// Path and query, as sent.
    pub path: String,
    pub content_type: Option<String>,
    pub body: String,
    /// The token of an `Authorization: Bearer` header, if the request carried one.
    pub bearer_token: Option<String>,
}

/// The most recent requests a simulated cluster received (older ones are dropped).
#[derive(Default)]
pub struct RequestLog(Mutex<VecDeque<RecordedRequest>>);

const KEEP_REQUESTS: usize = 10_000;

impl RequestLog {
    pub fn record(&self, request: RecordedRequest) {
        let mut log = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if log.len() == KEEP_REQUESTS {
            log.pop_front();
        }
        log.push_back(request);
    }

    pub fn by_user(&self, user: &str) -> Vec<RecordedRequest> {
        let log = self.0.lock().unwrap_or_else(|p| p.into_inner());
        log.iter().filter(|r| r.user == user).cloned().collect()
    }

    pub fn clear(&self) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(
        group: &'static str,
        resource: &'static str,
        namespace: Option<&'static str>,
    ) -> Attributes<'static> {
        Attributes {
            verb: "list",
            group,
            resource,
            subresource: None,
            namespace,
        }
    }

    #[test]
    fn rules_match_verbs_groups_resources_and_namespaces_as_rbac_does() {
        assert!(authorize(
            &ROLLOUTS_ONLY,
            &list("argoproj.io", "rollouts", None)
        ));
        assert!(!authorize(
            &ROLLOUTS_ONLY,
            &list("argoproj.io", "analysisruns", Some("shop"))
        ));
        assert!(!authorize(
            &ROLLOUTS_ONLY,
            &list("apps", "replicasets", Some("shop"))
        ));
        let status = Attributes {
            verb: "get",
            subresource: Some("status"),
            ..list("argoproj.io", "rollouts", Some("shop"))
        };
        assert!(
            !authorize(&ROLLOUTS_ONLY, &status),
            "rollouts does not cover rollouts/status"
        );
        assert!(authorize(&VIEWER, &status));
        assert!(authorize(
            &SHOP_ONLY,
            &list("apps", "replicasets", Some("shop"))
        ));
        assert!(!authorize(
            &SHOP_ONLY,
            &list("apps", "replicasets", Some("payments"))
        ));
        assert!(!authorize(&SHOP_ONLY, &list("apps", "replicasets", None)));
        assert!(!authorize(&SHOP_ONLY, &list("", "namespaces", None)));
        let patch = Attributes {
            verb: "patch",
            ..list("argoproj.io", "rollouts", Some("shop"))
        };
        assert!(!authorize(&SHOP_ONLY, &patch) && !authorize(&VIEWER, &patch));
        assert!(authorize(&ADMIN, &patch));
    }
}
