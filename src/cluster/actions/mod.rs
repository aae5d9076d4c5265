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

use hyper::{Method, Request};
use jiff::Timestamp;
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use serde_json::Value;

pub use errors::ActionError;
use errors::Site;
use execute::RolloutApi;
use plan::Call;

use super::Connection;
use super::connect::client_for;
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
    /// The kubeconfig user of a context, for the audit trail.
    pub fn user(&self, context: &str) -> Option<&str> {
        self.kubeconfig()
            .contexts
            .iter()
            .find(|c| c.name == context)?
            .context
            .as_ref()?
            .user
            .as_deref()
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
        let kubeconfig = self.kubeconfig().clone();
        let key = key.clone();
        async move {
            let (client, server, user) = client_for(kubeconfig, &key.context)
                .await
                .map_err(ActionError::Kubeconfig)?;
            let site = Site {
                context: key.context.clone(),
                namespace: key.namespace.clone(),
                name: key.name.clone(),
                user: user.clone(),
                server,
            };
            let api = KubeRollout {
                client: client.clone(),
                namespace: key.namespace.clone(),
                name: key.name.clone(),
            };
            let sent = execute::run(&api, action, &site, Timestamp::now()).await?;
            let mut event_error = None;
            if !sent.calls.is_empty() {
                let event = event::event(&key, action, &user, &sent.rollout, Timestamp::now());
                if let Err(e) = event::record(client, &event).await {
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

/// One rollout on a real (or simulated) API server.
struct KubeRollout {
    client: kube::Client,
    namespace: String,
    name: String,
}

impl KubeRollout {
    fn path(&self, status: bool) -> String {
        let mut path = format!(
            "/apis/argoproj.io/v1alpha1/namespaces/{}/rollouts/{}",
            self.namespace, self.name
        );
        if status {
            path.push_str("/status");
        }
        path
    }
}

impl RolloutApi for KubeRollout {
    async fn get(&self) -> Result<Value, kube::Error> {
        let request = Request::get(self.path(false))
            .body(Vec::new())
            .map_err(kube::Error::HttpError)?;
        self.client.request(request).await
    }

    async fn list_replica_sets(&self, selector: &str) -> Result<Vec<Value>, kube::Error> {
        let resource = ApiResource::erase::<k8s_openapi::api::apps::v1::ReplicaSet>(&());
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.client.clone(), &self.namespace, &resource);
        let list = api.list(&ListParams::default().labels(selector)).await?;
        list.items
            .iter()
            .map(|rs| serde_json::to_value(rs).map_err(kube::Error::SerdeError))
            .collect()
    }

    async fn patch(&self, call: &Call, status: bool) -> Result<Value, kube::Error> {
        let (content_type, body) = match call {
            Call::Spec(body) | Call::Status(body) => ("application/merge-patch+json", body),
            Call::Template { patch, .. } => ("application/json-patch+json", patch),
        };
        let body = serde_json::to_vec(body).map_err(kube::Error::SerdeError)?;
        let request = Request::builder()
            .method(Method::PATCH)
            .uri(self.path(status))
            .header("content-type", content_type)
            .body(body)
            .map_err(kube::Error::HttpError)?;
        self.client.request(request).await
    }
}
