//! DORA: the deploys flightdeck has seen, and the figures computed from them.
//!
//! Pure, on the model alone: [`observe`] turns what the watches show of a rollout
//! into facts about its deploys (a Canary's in [`canary_deploys`], a Deployment's
//! in [`deployment_deploys`]); [`History`] merges facts into deploys without
//! counting any twice; [`figures`] computes deployment frequency, change lead
//! time, change fail rate, failed-deployment recovery time, rework rate and the
//! exposure of failed deploys. The ledger (`crate::ledger`) keeps the deploys.

mod bands;
mod changes;
mod deploy;
mod deployment;
mod details;
mod figures;
mod flagger;
mod history;
mod marks;
mod observe;
#[cfg(test)]
mod tests;

pub use bands::{Band, change_fail_band, frequency_band, lead_time_band, recovery_band};
pub use changes::{Change, changes};
pub use deploy::{
    ActionMark, Deploy, DeployId, Details, Exposure, Failure, Outcome, TrafficMark, VerdictMark,
    WorkloadKind,
};
pub use deployment::{deployment_deploys, deployment_history};
pub use figures::{
    By, Figures, Period, Settings, Trend, Trends, Window, figures_by, figures_of, fleet, trends,
    weekly,
};
pub use flagger::canary_deploys;
pub use history::History;
pub use observe::{COMMIT_TIME_ANNOTATIONS, Observation, action_fact, deploys_of};
