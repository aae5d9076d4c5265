//! Pure mapping from raw Kubernetes objects (as JSON) to `model` types.
//!
//! Tolerant where real controllers differ (a string `observedGeneration`,
//! missing status, unknown fields) and precise where they do not: a field
//! of the wrong type is a `MapError` naming the object and the field.

mod analysis_run;
mod canary;
mod condition;
mod deployment;
mod experiment;
mod fields;
mod meta;
mod phase;
mod replica_set;
mod rollout;
mod steps;

pub use analysis_run::map_analysis_run;
pub use canary::map_canary;
pub use deployment::map_deployment;
pub use experiment::map_experiment;
pub use fields::MapError;
pub(crate) use meta::{DEPLOYMENT_HASH_LABEL, HASH_LABEL};
pub use replica_set::{map_deployment_replica_set, map_replica_set};
pub use rollout::map_rollout;
