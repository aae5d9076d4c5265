//! Actions on a Flagger Canary, which has no promote or abort call of its own
//! (DESIGN.md, "Action semantics"): pause and resume set `spec.suspend`; promote opens
//! the load tester's gate (`POST /gate/open` with `{"name","namespace"}`) when the
//! Canary's `confirm-promotion` webhook is one, else sets `spec.skipAnalysis: true`;
//! abort opens the `rollback` webhook's gate (`POST /rollback/open`). A gate is reached
//! as `curl` from inside the cluster would, through the API server's service proxy.
//! Pure: the Canary comes in as the API server's JSON.

use serde_json::{Value, json};

use crate::model::RolloutAction;

/// One call on a Canary.
#[derive(Debug, Clone, PartialEq)]
pub enum FlaggerCall {
    /// `application/merge-patch+json` to the Canary.
    Spec(Value),
    /// A POST of `body` to the load tester behind `url`, at the API server's
    /// `path` (its service proxy).
    Gate {
        url: String,
        path: String,
        body: Value,
    },
}

impl FlaggerCall {
    pub fn describe(&self) -> String {
        match self {
            FlaggerCall::Spec(body) => format!("spec patch {body}"),
            FlaggerCall::Gate { url, body, .. } => format!("POST {url} {body}"),
        }
    }
}

/// The calls for `action` on the Canary as read, or why it does not apply.
pub fn plan(action: RolloutAction, canary: &Value) -> Result<Vec<FlaggerCall>, String> {
    let verb = action.verb();
    let spec = |body: Value| Ok(vec![FlaggerCall::Spec(body)]);
    match action {
        RolloutAction::Pause => spec(json!({"spec": {"suspend": true}})),
        RolloutAction::Resume if canary["spec"]["suspend"] == json!(true) => {
            spec(json!({"spec": {"suspend": false}}))
        }
        RolloutAction::Resume => Err("resume: the Canary is not suspended".into()),
        RolloutAction::Promote => match webhook_url(canary, "confirm-promotion")
            .and_then(|url| gate_call(canary, &url, "gate"))
        {
            Some(call) => call.map(|c| vec![c]),
            None => spec(json!({"spec": {"skipAnalysis": true}})),
        },
        RolloutAction::Abort => match webhook_url(canary, "rollback") {
            Some(url) => match gate_call(canary, &url, "rollback") {
                Some(call) => call.map(|c| vec![c]),
                None => Err(format!(
                    "abort: the rollback webhook {url} is not a load tester gate \
                     (/rollback/check): Flagger has no other abort call"
                )),
            },
            None => Err(NO_ROLLBACK_GATE.into()),
        },
        _ => Err(format!("{verb}: {}", not_for_flagger(action))),
    }
}

pub const NO_ROLLBACK_GATE: &str = "abort: the Canary has no rollback webhook, and Flagger has \
     no abort call: add a `rollback` webhook on the load tester's /rollback/check, or pause it";

/// Why an action Argo has is none of Flagger's.
pub fn not_for_flagger(action: RolloutAction) -> &'static str {
    match action {
        RolloutAction::PromoteFull => "Flagger has no promote --full; promote skips the analysis",
        RolloutAction::Retry => {
            "Flagger retries by itself when the target Deployment's spec changes again"
        }
        RolloutAction::Undo { .. } => {
            "Flagger has no undo: put the target Deployment's previous spec back (in git)"
        }
        RolloutAction::Restart => {
            "a restart of the target Deployment starts a new analysis; use kubectl rollout restart"
        }
        _ => "not an action on a Flagger Canary",
    }
}

/// The url of the Canary's first webhook of `kind` (`confirm-promotion`, `rollback`).
pub fn webhook_url(canary: &Value, kind: &str) -> Option<String> {
    let analysis = if canary["spec"]["analysis"].is_object() {
        &canary["spec"]["analysis"]
    } else {
        &canary["spec"]["canaryAnalysis"]
    };
    analysis["webhooks"]
        .as_array()?
        .iter()
        .find(|hook| hook["type"] == kind)
        .and_then(|hook| hook["url"].as_str())
        .map(str::to_string)
}

/// The POST that opens a load tester's gate (`gate` or `rollback`) whose check is at
/// `check_url` (`http://flagger-loadtester.test/gate/check`); `None` when the url is
/// not a load tester's gate; an error when it cannot be reached through the proxy.
pub fn gate_call(
    canary: &Value,
    check_url: &str,
    gate: &str,
) -> Option<Result<FlaggerCall, String>> {
    let (scheme, rest) = check_url.split_once("://")?;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let path = format!("/{path}");
    let base = path
        .strip_suffix(&format!("/{gate}/check"))
        .or_else(|| path.strip_suffix(&format!("/{gate}/halt")))?;
    let open = format!("{base}/{gate}/open");
    let name = canary["metadata"]["name"].as_str().unwrap_or_default();
    let namespace = canary["metadata"]["namespace"].as_str().unwrap_or_default();
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.to_string()),
        None => (
            authority,
            if scheme == "https" { "443" } else { "80" }.to_string(),
        ),
    };
    let mut parts = host.split('.');
    let service = parts.next().unwrap_or_default();
    let service_namespace = parts.next().unwrap_or(namespace);
    let in_cluster = match parts.next() {
        None => true,
        Some("svc") => true,
        Some(_) => false,
    };
    if service.is_empty() || !in_cluster {
        return Some(Err(format!(
            "the gate {check_url} is not a service in the cluster: flightdeck opens gates \
             through the API server's service proxy"
        )));
    }
    let scheme_part = if scheme == "https" { "https:" } else { "" };
    let url = format!("{scheme}://{authority}{open}");
    Some(Ok(FlaggerCall::Gate {
        path: format!(
            "/api/v1/namespaces/{service_namespace}/services/{scheme_part}{service}:{port}/proxy{open}"
        ),
        url,
        body: json!({"name": name, "namespace": namespace}),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canary(webhooks: Value) -> Value {
        json!({
            "metadata": {"name": "podinfo", "namespace": "test"},
            "spec": {"analysis": {"webhooks": webhooks}}
        })
    }

    #[test]
    fn promote_opens_the_load_testers_gate_else_skips_the_analysis() {
        let gated = canary(json!([{"name": "ask", "type": "confirm-promotion",
                                   "url": "http://flagger-loadtester.test/gate/check"}]));
        assert_eq!(
            plan(RolloutAction::Promote, &gated),
            Ok(vec![FlaggerCall::Gate {
                url: "http://flagger-loadtester.test/gate/open".into(),
                path: "/api/v1/namespaces/test/services/flagger-loadtester:80/proxy/gate/open"
                    .into(),
                body: json!({"name": "podinfo", "namespace": "test"}),
            }])
        );
        let ungated = canary(json!([{"name": "load", "type": "rollout",
                                     "url": "http://flagger-loadtester.test/"}]));
        assert_eq!(
            plan(RolloutAction::Promote, &ungated),
            Ok(vec![FlaggerCall::Spec(
                json!({"spec": {"skipAnalysis": true}})
            )])
        );
    }

    #[test]
    fn abort_opens_the_rollback_gate_and_needs_one() {
        let gated = canary(json!([{"name": "rb", "type": "rollback",
                                   "url": "http://loadtester.flagger:8080/rollback/check"}]));
        let calls = plan(RolloutAction::Abort, &gated).unwrap();
        assert_eq!(
            calls[0].describe(),
            r#"POST http://loadtester.flagger:8080/rollback/open {"name":"podinfo","namespace":"test"}"#
        );
        let FlaggerCall::Gate { path, .. } = &calls[0] else {
            panic!()
        };
        assert_eq!(
            path,
            "/api/v1/namespaces/flagger/services/loadtester:8080/proxy/rollback/open"
        );
        assert_eq!(
            plan(RolloutAction::Abort, &canary(json!([]))),
            Err(NO_ROLLBACK_GATE.into())
        );
    }

    #[test]
    fn pause_and_resume_set_suspend() {
        let mut c = canary(json!([]));
        assert_eq!(
            plan(RolloutAction::Pause, &c),
            Ok(vec![FlaggerCall::Spec(json!({"spec": {"suspend": true}}))])
        );
        assert!(plan(RolloutAction::Resume, &c).is_err());
        c["spec"]["suspend"] = true.into();
        assert_eq!(
            plan(RolloutAction::Resume, &c),
            Ok(vec![FlaggerCall::Spec(json!({"spec": {"suspend": false}}))])
        );
        assert!(
            plan(RolloutAction::Retry, &c)
                .unwrap_err()
                .starts_with("retry: ")
        );
    }
}
