//! The Deployments' revision history: their ReplicaSets (labelled
//! `pod-template-hash`, which the watches leave out: only Argo's are watched),
//! listed once per scope in pages, mapped and told to the app, which reads their
//! revisions, creation times and templates into the ledger and keeps none of them.

use kube::api::{Api, DynamicObject, ListParams};
use tokio::sync::mpsc;

use super::Scope;
use super::kind::LIST_PAGE;
use super::watched::api_resource;
use crate::cluster::map::map_deployment_replica_set;
use crate::cluster::{ClusterEvent, Kind};

pub(super) async fn deployment_history(scope: &Scope<'_>, events: &mpsc::Sender<ClusterEvent>) {
    let resource = api_resource(Kind::ReplicaSet);
    let client = scope.client.client.clone();
    let api: Api<DynamicObject> = match scope.namespace {
        Some(ns) => Api::namespaced_with(client, ns, &resource),
        None => Api::all_with(client, &resource),
    };
    let mut params = ListParams::default()
        .labels("pod-template-hash")
        .limit(LIST_PAGE);
    let mut sets = Vec::new();
    loop {
        let page = match api.list(&params).await {
            Ok(page) => page,
            Err(error) => {
                // The ledger then counts the Deployments from what the watches see.
                tracing::info!(
                    context = scope.context,
                    "the Deployments' ReplicaSets cannot be listed: {error}"
                );
                return;
            }
        };
        for object in page.items {
            let Ok(json) = serde_json::to_value(object) else {
                continue;
            };
            match map_deployment_replica_set(scope.context, &json) {
                Ok(set) if set.owner.is_some() => sets.push(set),
                Ok(_) => {}
                Err(error) => tracing::debug!(context = scope.context, "{error}"),
            }
        }
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => params = params.continue_token(&token),
            _ => break,
        }
    }
    let history = ClusterEvent::DeploymentHistory {
        context: scope.context.to_string(),
        sets,
    };
    let _ = events.send(history).await;
}
