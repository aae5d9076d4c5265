//! The kind-agnostic domain: what a rollout is, whatever controller runs it.
//!
//! Everything here is plain data. `cluster` maps raw Kubernetes objects into
//! these types; `app` decides on them; `ui` draws them.

mod action;
mod analysis;
mod blast_radius;
mod canary_weight;
mod deployment_radius;
mod experiment;
mod flagger_actions;
mod optional_time;
mod replica_set;
mod rollout;
mod step;
mod template_times;
#[cfg(test)]
pub mod testing;
mod text;
mod verdict;
mod workload;

pub use action::{RolloutAction, availability, unusual};
pub use analysis::{AnalysisMetric, AnalysisPhase, AnalysisRun};
pub use blast_radius::{BlastRadius, Rolling, TrafficBasis, VersionChange, blast_radius};
pub use canary_weight::{actual_weight, canary_set_weight, current_canary_step};
pub use experiment::{Experiment, ExperimentTemplate};
pub use optional_time::{OptionalTime, earliest};
pub use replica_set::{ReplicaSet, Role, undo_target};
pub use rollout::{
    Condition, ObjectKey, PauseCondition, Phase, Replicas, Rollout, Scaling, Strategy,
    StrategyDetail, Urgency, rank,
};
pub use step::{
    Step, age_changes_at, minute_age, minute_age_changes_at, set_weight_at, short_age,
    short_duration,
};
pub use template_times::{TemplateTimes, first_time, template_times};
pub use text::{Images, Name, Text, interned, shared_message, shared_steps};
pub use verdict::{
    Classification, DataAmount, DataUnit, Direction, EffectSize, MetricResult, Outcome, Verdict,
};
pub use workload::{
    DeploymentDetail, FlaggerCanary, FlaggerPhase, FlaggerStrategy, Gate, Workload,
};
