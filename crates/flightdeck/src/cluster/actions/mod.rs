//! The API calls behind each action, sent as the `kubectl argo rollouts`
//! plugin sends them (DESIGN.md, "Action semantics"), with failures in
//! plain words and a Kubernetes Event on the rollout afterwards.
//!
//! `plan` decides the calls from the rollout's JSON (pure); `execute` reads,
//! plans and sends them; `event` is the Event recorded on success.

mod deployment;
pub(super) mod errors;
mod event;
mod execute;
mod flagger;
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
use crate::model::{ObjectKey, RolloutAction, Workload};

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
    /// Take `action` on the workload `key` of kind `workload`: an Argo Rollout as
    /// [`act`](Self::act) does, a Flagger Canary with Flagger's calls (`spec.suspend`,
    /// the load tester's gates, `spec.skipAnalysis`).
    pub fn act_as(
        &self,
        key: &ObjectKey,
        workload: Workload,
        action: RolloutAction,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<ActionReport, ActionError>> + Send + 'static>>
    {
        match workload {
            Workload::FlaggerCanary => Box::pin(self.act_on_canary(key, action)),
            Workload::Deployment => Box::pin(self.act_on_deployment(key, action)),
            _ => Box::pin(self.act(key, action)),
        }
    }

    fn act_on_deployment(
        &self,
        key: &ObjectKey,
        action: RolloutAction,
    ) -> impl Future<Output = Result<ActionReport, ActionError>> + Send + 'static + use<> {
        let connection = self.clone();
        let key = key.clone();
        async move {
            let (context, site) = reach(&connection, &key).await?;
            let deployments: Api<DynamicObject> = Api::namespaced_with(
                context.client.clone(),
                &key.namespace,
                &ApiResource::erase::<k8s_openapi::api::apps::v1::Deployment>(&()),
            );
            let deployment = deployments
                .get(&key.name)
                .await
                .and_then(json)
                .map_err(|e| errors::words(&e, errors::ApiRequest::GetDeployment, &site))?;
            let (patched, sent) = if let RolloutAction::Undo { revision } = action {
                let selector =
                    deployment::selector(&deployment).map_err(ActionError::NotApplicable)?;
                let replica_sets: Api<DynamicObject> = Api::namespaced_with(
                    context.client.clone(),
                    &key.namespace,
                    &ApiResource::erase::<k8s_openapi::api::apps::v1::ReplicaSet>(&()),
                );
                let sets: Vec<Value> = replica_sets
                    .list(&ListParams::default().labels(&selector))
                    .await
                    .and_then(|list| list.items.into_iter().map(json).collect())
                    .map_err(|e| errors::words(&e, errors::ApiRequest::ListReplicaSets, &site))?;
                let Some(patch) = deployment::undo(&deployment, &sets, revision)
                    .map_err(ActionError::NotApplicable)?
                else {
                    return Ok(ActionReport {
                        key,
                        action,
                        sent: Vec::new(),
                        note: Some(match revision {
                            Some(r) => format!("the template already matches revision {r}"),
                            None => "the template already matches the previous revision".into(),
                        }),
                        event_error: None,
                    });
                };
                let patch: json_patch::Patch = serde_json::from_value(patch)
                    .map_err(|e| ActionError::NotApplicable(format!("undo: {e}")))?;
                let patched = deployments
                    .patch(
                        &key.name,
                        &PatchParams::default(),
                        &Patch::<()>::Json(patch),
                    )
                    .await
                    .and_then(json)
                    .map_err(|e| errors::words(&e, errors::ApiRequest::PatchDeployment, &site))?;
                let said = "JSON patch of /spec/template and /metadata/annotations back to the \
                            previous revision";
                (patched, said.to_string())
            } else {
                let body = deployment::plan(action, &deployment, Timestamp::now())
                    .map_err(ActionError::NotApplicable)?;
                let patched = deployments
                    .patch(&key.name, &PatchParams::default(), &Patch::Strategic(&body))
                    .await
                    .and_then(json)
                    .map_err(|e| errors::words(&e, errors::ApiRequest::PatchDeployment, &site))?;
                (patched, format!("strategic merge patch {body}"))
            };
            let event_error =
                announce(&context, &key, action, &patched, ("apps/v1", "Deployment")).await;
            Ok(ActionReport {
                key,
                action,
                sent: vec![sent],
                note: None,
                event_error,
            })
        }
    }

    fn act_on_canary(
        &self,
        key: &ObjectKey,
        action: RolloutAction,
    ) -> impl Future<Output = Result<ActionReport, ActionError>> + Send + 'static + use<> {
        let connection = self.clone();
        let key = key.clone();
        async move {
            let (context, site) = reach(&connection, &key).await?;
            let canaries: Api<DynamicObject> =
                Api::namespaced_with(context.client.clone(), &key.namespace, &canary_resource());
            let canary = canaries
                .get(&key.name)
                .await
                .and_then(json)
                .map_err(|e| errors::words(&e, errors::ApiRequest::GetCanary, &site))?;
            let calls = flagger::plan(action, &canary).map_err(ActionError::NotApplicable)?;
            let mut sent = Vec::new();
            for call in &calls {
                let result = match call {
                    flagger::FlaggerCall::Spec(body) => canaries
                        .patch(&key.name, &PatchParams::default(), &Patch::Merge(body))
                        .await
                        .map(|_| ())
                        .map_err(|e| errors::words(&e, errors::ApiRequest::PatchCanary, &site)),
                    flagger::FlaggerCall::Gate { path, body, .. } => {
                        open_gate(&context.client, path, body)
                            .await
                            .map_err(|e| errors::words(&e, errors::ApiRequest::OpenGate, &site))
                    }
                };
                if let Err(cause) = result {
                    return Err(if sent.is_empty() {
                        cause
                    } else {
                        ActionError::Partial {
                            applied: sent,
                            not_applied: calls[1..].iter().map(|c| c.describe()).collect(),
                            cause: Box::new(cause),
                        }
                    });
                }
                sent.push(call.describe());
            }
            let event_error = announce(
                &context,
                &key,
                action,
                &canary,
                ("flagger.app/v1beta1", "Canary"),
            )
            .await;
            Ok(ActionReport {
                key,
                action,
                sent,
                note: None,
                event_error,
            })
        }
    }

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
            let (context, site) = reach(&connection, &key).await?;
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
                name: key.name.to_string(),
            };
            let sent = execute::run(&api, action, &site, Timestamp::now()).await?;
            let mut event_error = None;
            if !sent.calls.is_empty() {
                let kind = ("argoproj.io/v1alpha1", "Rollout");
                event_error = announce(&context, &key, action, &sent.rollout, kind).await;
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

/// The action recorded as an Event on the object it acted on (`api_version`, `kind`);
/// a failure to record it is said, never the action's failure.
async fn announce(
    context: &super::connect::ContextClient,
    key: &ObjectKey,
    action: RolloutAction,
    object: &Value,
    (api_version, kind): (&str, &str),
) -> Option<String> {
    let (event, mut regarding) = event::event(key, action, &context.user, object);
    regarding.api_version = Some(api_version.into());
    regarding.kind = Some(kind.into());
    let error = context.recorder.publish(&event, &regarding).await.err()?;
    let error = format!("the Event was not recorded: {error}");
    tracing::warn!(object = %key, "{error}");
    Some(error)
}

/// The client of `key`'s context, and where errors about `key` are said to be.
async fn reach(
    connection: &Connection,
    key: &ObjectKey,
) -> Result<(std::sync::Arc<super::connect::ContextClient>, Site), ActionError> {
    let context = connection
        .client(&key.context)
        .await
        .map_err(ActionError::Kubeconfig)?;
    let site = Site::of(key, &context.user, &context.server);
    Ok((context, site))
}

fn canary_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("flagger.app", "v1beta1", "Canary"),
        "canaries",
    )
}

/// POST `body` to a load tester's gate through the API server's service proxy.
async fn open_gate(client: &kube::Client, path: &str, body: &Value) -> Result<(), kube::Error> {
    let request = http::Request::post(path)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(serde_json::to_vec(body).map_err(kube::Error::SerdeError)?)
        .map_err(kube::Error::HttpError)?;
    client.request_text(request).await.map(|_| ())
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
