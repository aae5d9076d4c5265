//! The kinds watched: where each is served, how it is mapped, and how its changes are
//! told to the app.

use kube::api::{ApiResource, GroupVersionKind};
use serde_json::Value;

use crate::cluster::decode::{Kept, Shape, shape_of};
use crate::cluster::map::{
    MapError, map_analysis_run, map_experiment, map_replica_set, map_rollout,
};
use crate::cluster::{Change, ClusterEvent, Kind};
use crate::model::{AnalysisRun, Experiment, ReplicaSet, Rollout};

pub(super) fn api_resource(kind: Kind) -> ApiResource {
    let (group, version, name, plural) = match kind {
        Kind::Rollout => ("argoproj.io", "v1alpha1", "Rollout", "rollouts"),
        Kind::ReplicaSet => ("apps", "v1", "ReplicaSet", "replicasets"),
        Kind::AnalysisRun => ("argoproj.io", "v1alpha1", "AnalysisRun", "analysisruns"),
        Kind::Experiment => ("argoproj.io", "v1alpha1", "Experiment", "experiments"),
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
