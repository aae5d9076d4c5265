//! The API calls behind each action, sent as the `kubectl argo rollouts`
//! plugin sends them (DESIGN.md, "Action semantics"), with failures in
//! plain words and a Kubernetes Event on the rollout afterwards.
//!
//! `plan` decides the calls from the rollout's JSON (pure); `execute` reads,
//! plans and sends them; `event` is the Event recorded on success.

pub(super) mod errors;
mod event;
mod execute;
mod plan;
mod undo;

use std::future::Future;

use jiff::Timestamp;
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams,
};
use serde_json::Value;

pub use errors::ActionError;
use errors::Site;
use execute::RolloutApi;
use plan::Call;

use super::Connection;
use crate::model::{ObjectKey, RolloutAction};

/// What an action sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionReport {
    pub key: ObjectKey,
    pub action: RolloutAction,
    /// One line per call sent, in order (`status patch {"status":{"abort":true}}`).
    pub sent: Vec<String>,
    /// Why nothing was sent, when nothing was (undo to the current template).
    pub note: Option<String>,
    /// Why the Event could not be recorded; the action itself went through.
    pub event_error: Option<String>,
}

impl ActionReport {
    /// What went through, in one line: the calls sent, or why there were none.
    pub fn summary(&self) -> String {
        if self.sent.is_empty() {
            let why = self.note.as_deref().unwrap_or("nothing to do");
            format!("nothing sent: {why}")
        } else {
            self.sent.join("; ")
        }
    }
}

impl Connection {
    /// Take `action` on the rollout `key`: read it where the plugin does,
    /// send the calls, retry a 409 conflict from a fresh read, and record a
    /// `Flightdeck<Action>` Event on it (a failed Event is logged, not fatal).
    /// The future owns what it needs, so it can be spawned.
    pub fn act(
        &self,
        key: &ObjectKey,
        action: RolloutAction,
    ) -> impl Future<Output = Result<ActionReport, ActionError>> + Send + 'static + use<> {
        let connection = self.clone();
        let key = key.clone();
        async move {
            let context = connection
                .client(&key.context)
                .await
                .map_err(ActionError::Kubeconfig)?;
            let site = Site {
                context: key.context.to_string(),
                namespace: key.namespace.to_string(),
                name: key.name.clone(),
                user: context.user.clone(),
                server: context.server.clone(),
            };
            let api = KubeRollout {
                rollouts: Api::namespaced_with(
                    context.client.clone(),
                    &key.namespace,
                    &rollout_resource(),
                ),
                replica_sets: Api::namespaced_with(
                    context.client.clone(),
                    &key.namespace,
                    &ApiResource::erase::<k8s_openapi::api::apps::v1::ReplicaSet>(&()),
                ),
                name: key.name.clone(),
            };
            let sent = execute::run(&api, action, &site, Timestamp::now()).await?;
            let mut event_error = None;
            if !sent.calls.is_empty() {
                let (event, regarding) = event::event(&key, action, &context.user, &sent.rollout);
                if let Err(e) = context.recorder.publish(&event, &regarding).await {
                    let e = format!("the Event was not recorded: {e}");
                    tracing::warn!(rollout = %key, "{e}");
                    event_error = Some(e);
                }
            }
            Ok(ActionReport {
                key,
                action,
                sent: sent.calls,
                note: sent.note,
                event_error,
            })
        }
    }
}

fn rollout_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Rollout"),
        "rollouts",
    )
}

/// One rollout on a real (or simulated) API server, through kube's API:
/// merge patches to the rollout or its status subresource, JSON patches
/// for undo.
struct KubeRollout {
    rollouts: Api<DynamicObject>,
    replica_sets: Api<DynamicObject>,
    name: String,
}

fn json(object: DynamicObject) -> Result<Value, kube::Error> {
    serde_json::to_value(object).map_err(kube::Error::SerdeError)
}

impl RolloutApi for KubeRollout {
    async fn get(&self) -> Result<Value, kube::Error> {
        json(self.rollouts.get(&self.name).await?)
    }

    async fn list_replica_sets(&self, selector: &str) -> Result<Vec<Value>, kube::Error> {
        let list = self
            .replica_sets
            .list(&ListParams::default().labels(selector))
            .await?;
        list.items.into_iter().map(json).collect()
    }

    async fn patch(&self, call: &Call, status: bool) -> Result<Value, kube::Error> {
        let params = PatchParams::default();
        let patched = match call {
            Call::Spec(body) | Call::Status(body) => {
                let patch = Patch::Merge(body);
                if status {
                    self.rollouts
                        .patch_status(&self.name, &params, &patch)
                        .await?
                } else {
                    self.rollouts.patch(&self.name, &params, &patch).await?
                }
            }
            Call::Template { patch, .. } => {
                let patch: json_patch::Patch =
                    serde_json::from_value(patch.clone()).map_err(kube::Error::SerdeError)?;
                self.rollouts
                    .patch(&self.name, &params, &Patch::<()>::Json(patch))
                    .await?
            }
        };
        json(patched)
    }
}
