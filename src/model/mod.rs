//! The kind-agnostic domain: what a rollout is, whatever controller runs it.
//!
//! Everything here is plain data. `cluster` maps raw Kubernetes objects into
//! these types; `app` decides on them; `ui` draws them.

mod action;
mod analysis;
mod blast_radius;
mod replica_set;
mod rollout;
mod step;
#[cfg(test)]
pub mod testing;
pub mod verdict;

pub use action::{RolloutAction, availability};
pub use analysis::{AnalysisMetric, AnalysisPhase, AnalysisRun};
pub use blast_radius::{BlastRadius, TrafficBasis, blast_radius, new_version_weight_after};
pub use replica_set::{ReplicaSet, Role};
pub use rollout::{
    Condition, ObjectKey, PauseCondition, Phase, Replicas, Rollout, Strategy, Urgency,
};
pub use step::{Step, set_weight_at};
pub use verdict::{Classification, Direction, MetricResult, Verdict};
