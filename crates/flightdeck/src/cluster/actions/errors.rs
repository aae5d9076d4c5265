//! Why an action failed, in the words a person at the terminal should read,
//! made from the API server's answer.

use crate::cluster::errors::{forbidden_user, root_cause};

/// Where an action runs, for its error messages.
#[derive(Debug, Clone)]
pub struct Site {
    pub context: String,
    pub namespace: String,
    pub name: String,
    /// The kubeconfig user, in case the server does not name one.
    pub user: String,
    /// The API server's address.
    pub server: String,
}

impl Site {
    /// The object at `key`, reached as `user` on `server`.
    pub fn of(key: &crate::model::ObjectKey, user: &str, server: &str) -> Site {
        Site {
            context: key.context.to_string(),
            namespace: key.namespace.to_string(),
            name: key.name.to_string(),
            user: user.to_string(),
            server: server.to_string(),
        }
    }
}

/// checkout in shop on prod-eu, as alice: the site of the tests' actions.
#[cfg(test)]
pub fn test_site() -> Site {
    Site {
        context: "prod-eu".into(),
        namespace: "shop".into(),
        name: "checkout".into(),
        user: "alice".into(),
        server: "https://10.0.0.1:6443".into(),
    }
}

/// A request an action makes, by the verb and resource RBAC names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiRequest {
    GetRollout,
    ListReplicaSets,
    PatchRollout,
    PatchStatus,
    /// A SelfSubjectAccessReview: may the user do what an action needs?
    ReviewAccess,
    GetCanary,
    PatchCanary,
    GetDeployment,
    PatchDeployment,
    /// A POST to a Flagger load tester's gate, through the API server's service proxy.
    OpenGate,
}

impl ApiRequest {
    fn verb(self) -> &'static str {
        match self {
            ApiRequest::GetRollout => "get",
            ApiRequest::ListReplicaSets => "list",
            ApiRequest::PatchRollout | ApiRequest::PatchStatus => "patch",
            ApiRequest::ReviewAccess | ApiRequest::OpenGate => "create",
            ApiRequest::GetCanary | ApiRequest::GetDeployment => "get",
            ApiRequest::PatchCanary | ApiRequest::PatchDeployment => "patch",
        }
    }

    fn resource(self) -> &'static str {
        match self {
            ApiRequest::GetRollout | ApiRequest::PatchRollout => "rollouts",
            ApiRequest::ListReplicaSets => "replicasets",
            ApiRequest::PatchStatus => "rollouts/status",
            ApiRequest::ReviewAccess => "selfsubjectaccessreviews",
            ApiRequest::GetCanary | ApiRequest::PatchCanary => "canaries.flagger.app",
            ApiRequest::GetDeployment | ApiRequest::PatchDeployment => "deployments.apps",
            ApiRequest::OpenGate => "services/proxy",
        }
    }

    fn is_of_the_rollout(self) -> bool {
        matches!(
            self,
            ApiRequest::GetRollout
                | ApiRequest::PatchRollout
                | ApiRequest::PatchStatus
                | ApiRequest::GetCanary
                | ApiRequest::PatchCanary
                | ApiRequest::GetDeployment
                | ApiRequest::PatchDeployment
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    #[error("RBAC: user {user} cannot {verb} {resource} in namespace {namespace}")]
    Forbidden {
        user: String,
        verb: &'static str,
        resource: &'static str,
        namespace: String,
    },
    #[error("rollout {namespace}/{name} not found in {context}")]
    NotFound {
        context: String,
        namespace: String,
        name: String,
    },
    /// The server refused the request (422 and the like): its own message.
    #[error("{0}")]
    Rejected(String),
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// The action does not apply to the rollout as it is.
    #[error("{0}")]
    NotApplicable(String),
    /// Others kept changing the rollout between our read and our write.
    #[error(
        "the rollout kept changing under us (409 conflict {tries} times); nothing more was sent"
    )]
    Conflict { tries: u32 },
    /// The kubeconfig has no usable entry for the context.
    #[error("{0}")]
    Kubeconfig(String),
    /// Some calls went through and a later one did not: said, never silent.
    #[error("only part of the action applied: {} applied; {} NOT applied: {cause}", applied.join(", "), not_applied.join(", "))]
    Partial {
        applied: Vec<String>,
        not_applied: Vec<String>,
        cause: Box<ActionError>,
    },
}

/// Whether a failed call should be tried again from a fresh read.
pub fn is_conflict(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if status.code == 409)
}

/// Whether the server answered 404 (for a status patch: no status subresource).
pub fn is_not_found(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if status.code == 404)
}

/// A failed request in plain words.
pub fn words(error: &kube::Error, request: ApiRequest, site: &Site) -> ActionError {
    match error {
        kube::Error::Api(status) => match status.code {
            403 => ActionError::Forbidden {
                user: forbidden_user(&status.message)
                    .unwrap_or(&site.user)
                    .to_string(),
                verb: request.verb(),
                resource: request.resource(),
                namespace: site.namespace.clone(),
            },
            404 if request.is_of_the_rollout() => ActionError::NotFound {
                context: site.context.clone(),
                namespace: site.namespace.clone(),
                name: site.name.clone(),
            },
            401 => ActionError::Rejected(format!(
                "{} did not accept the credentials of {}: {}",
                site.context, site.user, status.message
            )),
            422 => ActionError::Rejected(status.message.clone()),
            code => ActionError::Rejected(format!("{} ({code})", status.message)),
        },
        kube::Error::HyperError(_) | kube::Error::Service(_) => {
            ActionError::Unreachable(format!("{}: {}", site.server, root_cause(error)))
        }
        kube::Error::Auth(_) => ActionError::Rejected(format!(
            "cannot log in to {}: {}",
            site.context,
            root_cause(error)
        )),
        other => ActionError::Rejected(format!("{}: {}", site.context, root_cause(other))),
    }
}

#[cfg(test)]
mod tests {
    use kube::core::Status;

    use super::*;

    fn api(code: u16, message: &str) -> kube::Error {
        kube::Error::Api(Status::failure(message, "").with_code(code).boxed())
    }

    #[test]
    fn forbidden_names_the_user_the_verb_and_the_namespace() {
        let error = api(
            403,
            r#"rollouts.argoproj.io "checkout" is forbidden: User "bob" cannot patch resource "rollouts/status" in API group "argoproj.io" in the namespace "shop""#,
        );
        assert_eq!(
            words(&error, ApiRequest::PatchStatus, &test_site()).to_string(),
            "RBAC: user bob cannot patch rollouts/status in namespace shop"
        );
        assert_eq!(
            words(
                &api(403, "forbidden"),
                ApiRequest::PatchRollout,
                &test_site()
            )
            .to_string(),
            "RBAC: user alice cannot patch rollouts in namespace shop"
        );
    }

    #[test]
    fn not_found_names_the_rollout_and_context_and_422_keeps_the_servers_words() {
        assert_eq!(
            words(&api(404, "not found"), ApiRequest::GetRollout, &test_site()).to_string(),
            "rollout shop/checkout not found in prod-eu"
        );
        let invalid = r#"Rollout.argoproj.io "checkout" is invalid: spec.restartAt: Invalid value"#;
        assert_eq!(
            words(&api(422, invalid), ApiRequest::PatchRollout, &test_site()).to_string(),
            invalid
        );
        assert_eq!(
            words(
                &api(500, "etcd timeout"),
                ApiRequest::PatchRollout,
                &test_site()
            )
            .to_string(),
            "etcd timeout (500)"
        );
    }

    #[test]
    fn a_partial_failure_says_what_applied_and_what_did_not() {
        let error = ActionError::Partial {
            applied: vec![r#"status patch {"status":{"pauseConditions":null}}"#.into()],
            not_applied: vec![r#"spec patch {"spec":{"paused":false}}"#.into()],
            cause: Box::new(ActionError::Unreachable(
                "https://10.0.0.1:6443: refused".into(),
            )),
        };
        assert_eq!(
            error.to_string(),
            r#"only part of the action applied: status patch {"status":{"pauseConditions":null}} applied; spec patch {"spec":{"paused":false}} NOT applied: unreachable: https://10.0.0.1:6443: refused"#
        );
    }
}
