//! The handlers of what is not a resource kind: the version, health checks, `/metrics`,
//! discovery documents, and the access reviews a client asks about its own permissions.

use std::net::SocketAddr;

use hyper::{Response, StatusCode};
use serde_json::json;

use super::{ApiState, Body, full, json_response, parse_json};
use crate::access::{self, User};
use crate::api_error::ApiError;
use crate::discovery;

pub(super) fn version() -> Response<Body> {
    json_response(
        StatusCode::OK,
        &json!({"major": "1", "minor": "33", "gitVersion": "v1.33.0-flightdeck-sim", "platform": "linux/amd64"}),
    )
}

/// `/healthz`, `/readyz`, `/livez`.
pub(super) fn health() -> Response<Body> {
    full(StatusCode::OK, "text/plain", "ok")
}

/// The traffic model's figures in Prometheus text format.
pub(super) fn metrics(state: &ApiState) -> Response<Body> {
    full(
        StatusCode::OK,
        "text/plain; version=0.0.4",
        (state.metrics)(),
    )
}

/// `/api`: the core group's versions, served from `address`.
pub(super) fn core_versions(address: SocketAddr) -> Response<Body> {
    json_response(
        StatusCode::OK,
        &discovery::core_versions(&address.to_string()),
    )
}

/// `/apis`.
pub(super) fn group_list() -> Response<Body> {
    json_response(StatusCode::OK, &discovery::group_list())
}

/// `/apis/<group>`, at `path`.
pub(super) fn group(group: &str, path: &str) -> Result<Response<Body>, ApiError> {
    discovery::group(group)
        .map(|doc| json_response(StatusCode::OK, &doc))
        .ok_or_else(|| ApiError::no_route(path))
}

/// `/api/v1` or `/apis/<group>/<version>`, at `path`.
pub(super) fn resource_list(
    group: &str,
    version: &str,
    path: &str,
) -> Result<Response<Body>, ApiError> {
    discovery::resource_list(group, version)
        .map(|doc| json_response(StatusCode::OK, &doc))
        .ok_or_else(|| ApiError::no_route(path))
}

/// A SelfSubjectAccessReview: may the user do what the review asks?
pub(super) fn access_review(user: &User, body: &[u8]) -> Result<Response<Body>, ApiError> {
    parse_json(body)
        .and_then(|review| access::review(user, review))
        .map(|answer| json_response(StatusCode::CREATED, &answer))
}

/// A SelfSubjectRulesReview: what may the user do in the review's namespace?
pub(super) fn rules_review(user: &User, body: &[u8]) -> Result<Response<Body>, ApiError> {
    parse_json(body)
        .and_then(|review| access::rules_review(user, &review))
        .map(|answer| json_response(StatusCode::CREATED, &answer))
}

/// The simulated Flagger load tester's gates (flagger's `cmd/loadtester`): `/gate/open`,
/// `/gate/close`, `/rollback/open`, `/rollback/close` and their `/check`, each with
/// `{"name", "namespace"}` of the Canary.
pub(super) fn load_tester(
    state: &ApiState,
    path: &str,
    body: &[u8],
) -> Result<Response<Body>, ApiError> {
    let canary = parse_json(body)?;
    let field = |key: &str| canary[key].as_str().filter(|s| !s.is_empty());
    let (Some(name), Some(namespace)) = (field("name"), field("namespace")) else {
        return Err(ApiError::bad_request(
            "the load tester wants {\"name\", \"namespace\"} of the Canary",
        ));
    };
    let (gate, verb) = match path.trim_end_matches('/').rsplit_once('/') {
        Some((gate, verb)) => (gate.trim_start_matches('/'), verb),
        None => return Err(ApiError::no_route(path)),
    };
    if !matches!(gate, "gate" | "rollback") {
        return Err(ApiError::no_route(path));
    }
    match verb {
        "open" | "close" => {
            state.store.set_gate(namespace, name, gate, verb == "open");
            let said = if verb == "open" { "opened" } else { "closed" };
            Ok(full(StatusCode::OK, "text/plain", format!("{gate} {said}")))
        }
        "check" if state.store.gate_open(namespace, name, gate) => {
            Ok(full(StatusCode::OK, "text/plain", "approved"))
        }
        "check" => Ok(full(StatusCode::FORBIDDEN, "text/plain", "forbidden")),
        _ => Err(ApiError::no_route(path)),
    }
}
