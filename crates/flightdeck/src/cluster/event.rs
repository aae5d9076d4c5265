//! What the cluster side tells the app: objects changed, a watch came up or went down.

use crate::model::{AnalysisRun, Experiment, ObjectKey, ReplicaSet, Rollout};

/// The kinds of object flightdeck watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Rollout,
    ReplicaSet,
    AnalysisRun,
    Experiment,
    /// Flagger's `Canary`: optional, a cluster without Flagger serves none.
    Canary,
    Deployment,
    /// A Deployment's ReplicaSets (`pod-template-hash`), watched apart from Argo's.
    DeploymentReplicaSet,
}

impl Kind {
    /// The kind of workload the objects of this kind are (Argo's for those that are
    /// not workloads): part of their keys.
    pub fn workload(self) -> crate::model::Workload {
        use crate::model::Workload;
        match self {
            Kind::Canary => Workload::FlaggerCanary,
            Kind::Deployment | Kind::DeploymentReplicaSet => Workload::Deployment,
            Kind::Rollout | Kind::ReplicaSet | Kind::AnalysisRun | Kind::Experiment => {
                Workload::ArgoRollout
            }
        }
    }

    /// A kind a cluster may well not serve (its CRD not installed): no failure to report.
    pub fn optional(self) -> bool {
        self == Kind::Canary
    }
}

/// A change to the objects of one kind in one context.
#[derive(Debug, Clone, PartialEq)]
pub enum Change<T> {
    /// Created or modified. Boxed: a rollout is large, and events are moved
    /// through channels by value.
    Applied(Box<T>),
    Deleted(ObjectKey),
    /// Part of a (re)list still arriving: these objects exist. Sent as a list
    /// streams in, so that the fleet shows what has come so far and no list is
    /// held whole twice.
    Listing {
        context: String,
        namespace: Option<String>,
        items: Vec<T>,
    },
    /// The end of a (re)list, with its last part: the objects of this kind in
    /// `context`, in `namespace` (or in all namespaces when `None`), are now
    /// these and those of the `Listing`s before it.
    Relisted {
        context: String,
        namespace: Option<String>,
        items: Vec<T>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum ClusterEvent {
    /// A watch has listed and is streaming.
    Live {
        context: String,
        kind: Kind,
    },
    /// A watch failed; it retries with backoff. `error` is plain words.
    Down {
        context: String,
        kind: Kind,
        error: String,
    },
    /// The context's TLS is not verified (`insecure-skip-tls-verify`).
    Insecure {
        context: String,
    },
    /// The user may not list across all namespaces: the context is watched
    /// in `namespaces` only (none: nothing can be watched), `note` says why.
    Scoped {
        context: String,
        namespaces: Vec<String>,
        note: String,
    },
    /// An object of `kind` that could not be read (mapped); its watch goes
    /// on without it. `error` names the object and the field at fault.
    Unreadable {
        key: ObjectKey,
        kind: Kind,
        error: String,
    },
    Rollout(Change<Rollout>),
    ReplicaSet(Change<ReplicaSet>),
    AnalysisRun(Change<AnalysisRun>),
    Experiment(Change<Experiment>),
    /// Flagger Canaries, mapped to rollouts of kind Flagger Canary.
    Canary(Change<Rollout>),
    /// Deployments, mapped to rollouts of kind Deployment (those a Canary or a Rollout
    /// owns included: the app places them).
    Deployment(Change<Rollout>),
    /// A Deployment's ReplicaSets, keyed (and owned) as Deployments.
    DeploymentReplicaSet(Change<ReplicaSet>),
}
