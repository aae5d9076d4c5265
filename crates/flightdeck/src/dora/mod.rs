//! DORA: the deploys flightdeck has seen, and the figures computed from them.
//!
//! Pure, on the model alone: [`observe`] turns what the watches show of a rollout
//! into facts about its deploys; [`History`] merges facts into deploys without
//! counting any twice; [`figures`] computes deployment frequency, change lead
//! time, change fail rate, failed-deployment recovery time, rework rate and the
//! exposure of failed deploys. The ledger (`crate::ledger`) keeps the deploys.

mod bands;
mod changes;
mod deploy;
mod figures;
mod history;
mod observe;
#[cfg(test)]
mod tests;

pub use bands::{Band, change_fail_band, frequency_band, lead_time_band, recovery_band};
pub use changes::{Change, changes};
pub use deploy::{
    ActionMark, Deploy, DeployId, Exposure, Failure, Outcome, TrafficMark, WorkloadKind,
};
pub use figures::{
    By, Figures, Period, Settings, Trend, Trends, Window, figures_by, figures_of, fleet, trends,
    weekly,
};
pub use history::History;
pub use observe::{
    COMMIT_TIME_ANNOTATION, Observation, action_fact, deploys_of, parse_commit_time,
};
