//! The kinds watched: where each is served, how it is mapped, and how its changes are
//! told to the app.

use kube::api::{ApiResource, GroupVersionKind};
use serde_json::Value;

use crate::cluster::decode::{Kept, Shape, shape_of};
use crate::cluster::map::{
    MapError, map_analysis_run, map_canary, map_deployment, map_deployment_replica_set,
    map_experiment, map_replica_set, map_rollout,
};
use crate::cluster::{Change, ClusterEvent, Kind};
use crate::model::{AnalysisRun, Experiment, ReplicaSet, Rollout};

pub(super) fn api_resource(kind: Kind) -> ApiResource {
    let (group, version, name, plural) = match kind {
        Kind::Rollout => ("argoproj.io", "v1alpha1", "Rollout", "rollouts"),
        Kind::ReplicaSet | Kind::DeploymentReplicaSet => {
            ("apps", "v1", "ReplicaSet", "replicasets")
        }
        Kind::AnalysisRun => ("argoproj.io", "v1alpha1", "AnalysisRun", "analysisruns"),
        Kind::Experiment => ("argoproj.io", "v1alpha1", "Experiment", "experiments"),
        Kind::Canary => ("flagger.app", "v1beta1", "Canary", "canaries"),
        Kind::Deployment => ("apps", "v1", "Deployment", "deployments"),
    };
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, name), plural)
}

/// A kind of object that is watched: how it is mapped, and how its
/// changes are told to the app.
pub(super) trait Watched: Kept {
    const KIND: Kind;
    fn map(context: &str, object: &Value) -> Result<Self, MapError>;
    fn wrap(change: Change<Self>) -> ClusterEvent;
}

impl Kept for Rollout {
    const SHAPE: &'static Shape = shape_of(Kind::Rollout);
}

impl Watched for Rollout {
    const KIND: Kind = Kind::Rollout;
    fn map(context: &str, object: &Value) -> Result<Self, MapError> {
        map_rollout(context, object)
    }
    fn wrap(change: Change<Self>) -> ClusterEvent {
        ClusterEvent::Rollout(change)
    }
}

impl Kept for ReplicaSet {
    const SHAPE: &'static Shape = shape_of(Kind::ReplicaSet);
}

impl Watched for ReplicaSet {
    const KIND: Kind = Kind::ReplicaSet;
    fn map(context: &str, object: &Value) -> Result<Self, MapError> {
        map_replica_set(context, object)
    }
    fn wrap(change: Change<Self>) -> ClusterEvent {
        ClusterEvent::ReplicaSet(change)
    }
}

impl Kept for Experiment {
    const SHAPE: &'static Shape = shape_of(Kind::Experiment);
}

impl Watched for Experiment {
    const KIND: Kind = Kind::Experiment;
    fn map(context: &str, object: &Value) -> Result<Self, MapError> {
        map_experiment(context, object)
    }
    fn wrap(change: Change<Self>) -> ClusterEvent {
        ClusterEvent::Experiment(change)
    }
}

impl Kept for AnalysisRun {
    const SHAPE: &'static Shape = shape_of(Kind::AnalysisRun);
}

impl Watched for AnalysisRun {
    const KIND: Kind = Kind::AnalysisRun;
    fn map(context: &str, object: &Value) -> Result<Self, MapError> {
        map_analysis_run(context, object)
    }
    fn wrap(change: Change<Self>) -> ClusterEvent {
        ClusterEvent::AnalysisRun(change)
    }
}

/// A Flagger Canary as watched: a rollout of kind Flagger Canary, told to the app apart
/// from Argo's (a relist of one kind must not drop the other).
#[derive(Debug, Clone)]
pub(super) struct FlaggerCanary(pub Rollout);

fn rewrap<T, U>(change: Change<T>, inner: impl Fn(T) -> U) -> Change<U> {
    match change {
        Change::Applied(c) => Change::Applied(Box::new(inner(*c))),
        Change::Deleted(key) => Change::Deleted(key),
        Change::Listing {
            context,
            namespace,
            items,
        } => Change::Listing {
            context,
            namespace,
            items: items.into_iter().map(inner).collect(),
        },
        Change::Relisted {
            context,
            namespace,
            items,
        } => Change::Relisted {
            context,
            namespace,
            items: items.into_iter().map(inner).collect(),
        },
    }
}

/// A Deployment's ReplicaSet as watched: its revision of the pod template.
#[derive(Debug, Clone)]
pub(super) struct DeploymentReplicaSet(pub ReplicaSet);

impl Kept for DeploymentReplicaSet {
    const SHAPE: &'static Shape = shape_of(Kind::DeploymentReplicaSet);
}

impl Watched for DeploymentReplicaSet {
    const KIND: Kind = Kind::DeploymentReplicaSet;
    fn map(context: &str, object: &Value) -> Result<Self, MapError> {
        map_deployment_replica_set(context, object).map(DeploymentReplicaSet)
    }
    fn wrap(change: Change<Self>) -> ClusterEvent {
        ClusterEvent::DeploymentReplicaSet(rewrap(change, |rs| rs.0))
    }
}

/// A Deployment as watched: a rollout of kind Deployment.
#[derive(Debug, Clone)]
pub(super) struct Deployment(pub Rollout);

impl Kept for Deployment {
    const SHAPE: &'static Shape = shape_of(Kind::Deployment);
}

impl Watched for Deployment {
    const KIND: Kind = Kind::Deployment;
    fn map(context: &str, object: &Value) -> Result<Self, MapError> {
        map_deployment(context, object).map(Deployment)
    }
    fn wrap(change: Change<Self>) -> ClusterEvent {
        ClusterEvent::Deployment(rewrap(change, |d| d.0))
    }
}

impl Kept for FlaggerCanary {
    const SHAPE: &'static Shape = shape_of(Kind::Canary);
}

impl Watched for FlaggerCanary {
    const KIND: Kind = Kind::Canary;
    fn map(context: &str, object: &Value) -> Result<Self, MapError> {
        map_canary(context, object).map(FlaggerCanary)
    }
    fn wrap(change: Change<Self>) -> ClusterEvent {
        ClusterEvent::Canary(rewrap(change, |c| c.0))
    }
}
