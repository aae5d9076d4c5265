//! An Experiment: what a canary's `experiment` step runs beside it (a
//! baseline and a canary of their own, say), with its analyses.

use jiff::Timestamp;

use super::{AnalysisPhase, Images, Name, ObjectKey};

/// One template of an experiment: its own ReplicaSet of pods.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentTemplate {
    pub name: String,
    pub images: Images,
    pub replicas: u32,
    pub ready: u32,
    pub available: u32,
    /// As the controller reports it: `Progressing`, `Running`, `Successful`, ...
    pub status: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Experiment {
    pub key: ObjectKey,
    /// The Rollout that owns it.
    pub owner: Option<Name>,
    /// The pod-template hash of the rollout's version it was made for.
    pub hash: Option<Name>,
    /// An experiment's phases are an analysis's.
    pub phase: AnalysisPhase,
    pub message: String,
    pub templates: Vec<ExperimentTemplate>,
    /// Each analysis (by its name in the experiment) and where it stands.
    pub analyses: Vec<(String, AnalysisPhase)>,
    pub created: Option<Timestamp>,
}
