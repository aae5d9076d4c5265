//! The kind-agnostic domain: what a rollout is, whatever controller runs it.
//!
//! Everything here is plain data. `cluster` maps raw Kubernetes objects into
//! these types; `app` decides on them; `ui` draws them.

mod analysis;
mod replica_set;
mod rollout;
mod step;
#[cfg(test)]
pub mod testing;
pub mod verdict;

pub use analysis::{AnalysisMetric, AnalysisPhase, AnalysisRun};
pub use replica_set::{ReplicaSet, Role};
pub use rollout::{
    Condition, ObjectKey, PauseCondition, Phase, Replicas, Rollout, Strategy, Urgency,
};
pub use step::Step;
pub use verdict::{Classification, Direction, MetricResult, Verdict};
