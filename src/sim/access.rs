//! Who is calling and what they may do, SelfSubjectAccessReview answers, and a log of the
//! requests received so tests can compare exact calls.
//!
//! Each kubeconfig context has its own listener and the listener decides the user:
//! kubectl sends no credentials over plain http, so a token could not tell users apart.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde_json::{Value, json};

use super::api_error::ApiError;

/// A user of the simulated clusters.
#[derive(Debug, PartialEq, Eq)]
pub struct User {
    pub name: &'static str,
    /// May create, patch, update and delete; otherwise only get, list and watch.
    pub may_write: bool,
}

pub static ADMIN: User = User {
    name: "admin@flightdeck.sim",
    may_write: true,
};
pub static VIEWER: User = User {
    name: "viewer@flightdeck.sim",
    may_write: false,
};

pub fn allows(user: &User, verb: &str) -> bool {
    user.may_write || matches!(verb, "get" | "list" | "watch")
}

/// Answer a `SelfSubjectAccessReview` for `user`: the request echoed with `status.allowed`.
pub fn review(user: &User, mut request: Value) -> Result<Value, ApiError> {
    let attributes = &request["spec"]["resourceAttributes"];
    if !attributes.is_object() {
        return Err(ApiError::bad_request(
            "SelfSubjectAccessReview spec.resourceAttributes is required (the simulator does not review non-resource URLs)",
        ));
    }
    let verb = attributes["verb"].as_str().unwrap_or("").to_string();
    let allowed = allows(user, &verb);
    request["apiVersion"] = json!("authorization.k8s.io/v1");
    request["kind"] = json!("SelfSubjectAccessReview");
    request["status"] = if allowed {
        json!({"allowed": true, "reason": format!("the simulator lets {} {verb}", user.name)})
    } else {
        json!({"allowed": false, "denied": true, "reason": format!("{} may only get, list and watch", user.name)})
    };
    if request.get("metadata").is_none() {
        request["metadata"] = json!({});
    }
    Ok(request)
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
