//! May this user act? SelfSubjectAccessReviews for `patch` on Argo's
//! `rollouts` and `rollouts/status` in a namespace, asked before acting so
//! that a refusal is said before any confirmation, not after it.

use std::future::Future;

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::{Api, PostParams};

use super::Connection;
use super::actions::errors::{ActionError, ApiRequest, Site, words};
use crate::model::{Rollout, RolloutAction};

/// What the API server says the context's user may do in a namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub patch_rollouts: bool,
    pub patch_status: bool,
    /// The server's reason for a refusal, when it gives one.
    pub reason: Option<String>,
}

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

impl Access {
    /// Whether `action` on `rollout` may go ahead; the refusal in the words
    /// the API server's 403 would get.
    pub fn check(
        &self,
        action: RolloutAction,
        rollout: &Rollout,
        user: &str,
    ) -> Result<(), ActionError> {
        let (spec, status) = patches(action, rollout);
        let refused = if status && !self.patch_status {
            "rollouts/status"
        } else if spec && !self.patch_rollouts {
            "rollouts"
        } else {
            return Ok(());
        };
        Err(ActionError::Forbidden {
            user: user.to_string(),
            verb: "patch",
            resource: refused,
            namespace: rollout.key.namespace.to_string(),
        })
    }
}

fn review(namespace: &str, subresource: Option<&str>) -> SelfSubjectAccessReview {
    SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                namespace: Some(namespace.to_string()),
                verb: Some("patch".into()),
                group: Some("argoproj.io".into()),
                resource: Some("rollouts".into()),
                subresource: subresource.map(str::to_string),
                ..ResourceAttributes::default()
            }),
            ..SelfSubjectAccessReviewSpec::default()
        },
        ..SelfSubjectAccessReview::default()
    }
}

impl Connection {
    /// Ask the API server whether the context's user may patch rollouts and
    /// their status in `namespace`. Callers cache the answer for a while.
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
            let mut answers = Vec::new();
            for subresource in [None, Some("status")] {
                let answer = api
                    .create(&PostParams::default(), &review(&namespace, subresource))
                    .await
                    .map_err(|e| words(&e, ApiRequest::ReviewAccess, &site))?;
                answers.push(answer.status.unwrap_or_default());
            }
            let reason = answers
                .iter()
                .find(|a| !a.allowed)
                .and_then(|a| a.reason.clone().or_else(|| a.evaluation_error.clone()));
            Ok(Access {
                patch_rollouts: answers[0].allowed,
                patch_status: answers[1].allowed,
                reason,
            })
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
            reason: None,
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
            reason: None,
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
}
