//! May this user act? SelfSubjectAccessReviews, asked before acting so that a refusal
//! is said before any confirmation, not after it: `patch` on Argo's `rollouts` and
//! `rollouts/status`, on Flagger's `canaries`, on `deployments` (and `list` on the
//! `replicasets` an undo reads), and `create` on `services/proxy` (a load tester's gate,
//! opened through the API server's service proxy), in a namespace.

use std::future::Future;

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::{Api, PostParams};

use super::Connection;
use super::actions::errors::{ActionError, ApiRequest, Site, words};
use crate::model::{Rollout, RolloutAction, Workload};

/// What the API server says the context's user may do in a namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub patch_rollouts: bool,
    pub patch_status: bool,
    pub patch_canaries: bool,
    pub patch_deployments: bool,
    pub list_replica_sets: bool,
    /// `create` on `services/proxy`: a POST to a load tester's gate in this namespace.
    pub proxy_services: bool,
    /// The server's reason for a refusal, when it gives one.
    pub reason: Option<String>,
}

/// One question put to the API server: verb, group, resource, subresource.
type Question = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
);

/// The questions, in the order of `Access`'s fields.
const QUESTIONS: [Question; 6] = [
    ("patch", "argoproj.io", "rollouts", None),
    ("patch", "argoproj.io", "rollouts", Some("status")),
    ("patch", "flagger.app", "canaries", None),
    ("patch", "apps", "deployments", None),
    ("list", "apps", "replicasets", None),
    ("create", "", "services", Some("proxy")),
];

/// The patches an action sends to a rollout in its present state:
/// (the rollout itself, its status).
fn patches(action: RolloutAction, rollout: &Rollout) -> (bool, bool) {
    let unpauses = rollout.paused_by_user;
    match action {
        RolloutAction::Pause | RolloutAction::Restart | RolloutAction::Undo { .. } => (true, false),
        RolloutAction::Abort | RolloutAction::Retry => (false, true),
        RolloutAction::Promote | RolloutAction::PromoteFull => (unpauses, true),
        RolloutAction::Resume => (unpauses, !unpauses),
    }
}

/// The namespace of a gate's Service (`http://loadtester.test/gate/check` is in `test`;
/// a bare name is in the Canary's own).
fn gate_namespace<'a>(url: &'a str, own: &'a str) -> &'a str {
    let host = url.split_once("://").map_or(url, |(_, rest)| rest);
    let host = host.split(['/', ':']).next().unwrap_or_default();
    host.split('.').nth(1).unwrap_or(own)
}

impl Access {
    /// Whether `action` on `rollout` may go ahead; the refusal in the words
    /// the API server's 403 would get: the kind and the verb it lacks.
    pub fn check(
        &self,
        action: RolloutAction,
        rollout: &Rollout,
        user: &str,
    ) -> Result<(), ActionError> {
        let namespace = rollout.key.namespace.as_str();
        let refused: Option<(&'static str, &'static str)> = match rollout.workload {
            Workload::ArgoRollout => {
                let (spec, status) = patches(action, rollout);
                if status && !self.patch_status {
                    Some(("patch", "rollouts/status"))
                } else if spec && !self.patch_rollouts {
                    Some(("patch", "rollouts"))
                } else {
                    None
                }
            }
            Workload::FlaggerCanary => {
                let canary = rollout.flagger.as_deref();
                let gate = match action {
                    RolloutAction::Promote => canary.and_then(|c| c.promotion_gate.as_ref()),
                    RolloutAction::Abort => canary.and_then(|c| c.rollback_gate.as_ref()),
                    _ => None,
                };
                match gate {
                    // Asked in this namespace only: a gate elsewhere is the server's to judge.
                    Some(g) if gate_namespace(&g.url, namespace) == namespace => {
                        (!self.proxy_services).then_some(("create", "services/proxy"))
                    }
                    Some(_) => None,
                    None => (!self.patch_canaries).then_some(("patch", "canaries")),
                }
            }
            Workload::Deployment => {
                let undo = matches!(action, RolloutAction::Undo { .. });
                if !self.patch_deployments {
                    Some(("patch", "deployments"))
                } else if undo && !self.list_replica_sets {
                    Some(("list", "replicasets"))
                } else {
                    None
                }
            }
        };
        match refused {
            None => Ok(()),
            Some((verb, resource)) => Err(ActionError::Forbidden {
                user: user.to_string(),
                verb,
                resource,
                namespace: namespace.to_string(),
            }),
        }
    }
}

fn review(
    namespace: &str,
    (verb, group, resource, subresource): Question,
) -> SelfSubjectAccessReview {
    SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                namespace: Some(namespace.to_string()),
                verb: Some(verb.into()),
                group: Some(group.into()),
                resource: Some(resource.into()),
                subresource: subresource.map(str::to_string),
                ..ResourceAttributes::default()
            }),
            ..SelfSubjectAccessReviewSpec::default()
        },
        ..SelfSubjectAccessReview::default()
    }
}

impl Connection {
    /// Ask the API server what the context's user may do to each kind in `namespace`.
    /// Callers cache the answer for a while.
    pub fn access(
        &self,
        context: &str,
        namespace: &str,
    ) -> impl Future<Output = Result<Access, ActionError>> + Send + 'static + use<> {
        let connection = self.clone();
        let (context, namespace) = (context.to_string(), namespace.to_string());
        async move {
            let client = connection
                .client(&context)
                .await
                .map_err(ActionError::Kubeconfig)?;
            let site = Site {
                context,
                namespace: namespace.clone(),
                name: String::new(),
                user: client.user.clone(),
                server: client.server.clone(),
            };
            let api: Api<SelfSubjectAccessReview> = Api::all(client.client.clone());
            let answers = futures::future::try_join_all(QUESTIONS.map(|q| {
                let (api, review) = (api.clone(), review(&namespace, q));
                async move { api.create(&PostParams::default(), &review).await }
            }))
            .await
            .map_err(|e| words(&e, ApiRequest::ReviewAccess, &site))?;
            let answers: Vec<_> = answers
                .into_iter()
                .map(|a| a.status.unwrap_or_default())
                .collect();
            let reason = answers
                .iter()
                .find(|a| !a.allowed)
                .and_then(|a| a.reason.clone().or_else(|| a.evaluation_error.clone()));
            let allowed = |i: usize| answers[i].allowed;
            Ok(Access {
                patch_rollouts: allowed(0),
                patch_status: allowed(1),
                patch_canaries: allowed(2),
                patch_deployments: allowed(3),
                list_replica_sets: allowed(4),
                proxy_services: allowed(5),
                reason,
            })
        }
    }
}

#[cfg(test)]
impl Access {
    /// Every question answered yes.
    pub(crate) fn everything() -> Access {
        Access {
            patch_rollouts: true,
            patch_status: true,
            patch_canaries: true,
            patch_deployments: true,
            list_replica_sets: true,
            proxy_services: true,
            reason: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Phase;
    use crate::model::testing;

    fn rollout(paused_by_user: bool) -> Rollout {
        let mut r = testing::rollout("prod-eu", "shop", "checkout", Phase::Paused);
        r.paused_by_user = paused_by_user;
        r
    }

    #[test]
    fn each_action_needs_the_patches_it_sends() {
        let status_only = Access {
            patch_rollouts: false,
            patch_status: true,
            ..Access::everything()
        };
        assert!(
            status_only
                .check(RolloutAction::Abort, &rollout(false), "bob")
                .is_ok()
        );
        assert!(
            status_only
                .check(RolloutAction::Promote, &rollout(false), "bob")
                .is_ok()
        );
        assert_eq!(
            status_only
                .check(RolloutAction::Promote, &rollout(true), "bob")
                .unwrap_err()
                .to_string(),
            "RBAC: user bob cannot patch rollouts in namespace shop"
        );
        let spec_only = Access {
            patch_rollouts: true,
            patch_status: false,
            ..Access::everything()
        };
        assert!(
            spec_only
                .check(RolloutAction::Pause, &rollout(false), "bob")
                .is_ok()
        );
        assert!(
            spec_only
                .check(RolloutAction::Resume, &rollout(true), "bob")
                .is_ok()
        );
        assert_eq!(
            spec_only
                .check(RolloutAction::Retry, &rollout(false), "bob")
                .unwrap_err()
                .to_string(),
            "RBAC: user bob cannot patch rollouts/status in namespace shop"
        );
    }

    #[test]
    fn each_kind_needs_what_its_actions_send() {
        use crate::model::testing::flagger_canary;
        use crate::model::{FlaggerPhase, Workload};
        let refusal = |access: &Access, action, r: &Rollout| {
            access.check(action, r, "bob").map_err(|e| e.to_string())
        };
        let podinfo = flagger_canary(FlaggerPhase::Progressing, 20);
        let no_canaries = Access {
            patch_canaries: false,
            ..Access::everything()
        };
        assert_eq!(
            refusal(&no_canaries, RolloutAction::Pause, &podinfo),
            Err("RBAC: user bob cannot patch canaries in namespace test".into())
        );
        // Promote and abort open the load tester's gates (in test): the proxy, not a patch.
        assert!(refusal(&no_canaries, RolloutAction::Promote, &podinfo).is_ok());
        let no_proxy = Access {
            proxy_services: false,
            ..Access::everything()
        };
        assert_eq!(
            refusal(&no_proxy, RolloutAction::Abort, &podinfo),
            Err("RBAC: user bob cannot create services/proxy in namespace test".into())
        );
        assert!(refusal(&no_proxy, RolloutAction::Pause, &podinfo).is_ok());
        let mut web = rollout(false);
        web.workload = Workload::Deployment;
        let no_sets = Access {
            list_replica_sets: false,
            ..Access::everything()
        };
        assert!(refusal(&no_sets, RolloutAction::Restart, &web).is_ok());
        assert_eq!(
            refusal(&no_sets, RolloutAction::Undo { revision: Some(1) }, &web),
            Err("RBAC: user bob cannot list replicasets in namespace shop".into())
        );
        let no_deployments = Access {
            patch_deployments: false,
            ..Access::everything()
        };
        assert_eq!(
            refusal(&no_deployments, RolloutAction::Pause, &web),
            Err("RBAC: user bob cannot patch deployments in namespace shop".into())
        );
        // Argo's rollouts need none of these.
        assert!(refusal(&no_deployments, RolloutAction::Pause, &rollout(false)).is_ok());
    }

    #[test]
    fn a_gates_service_is_in_the_namespace_its_host_names() {
        assert_eq!(
            gate_namespace("http://flagger-loadtester.test/gate/check", "shop"),
            "test"
        );
        assert_eq!(
            gate_namespace("http://loadtester:8080/gate/check", "shop"),
            "shop"
        );
        assert_eq!(
            gate_namespace(
                "https://lt.flagger.svc.cluster.local:443/rollback/check",
                "shop"
            ),
            "flagger"
        );
    }
}
