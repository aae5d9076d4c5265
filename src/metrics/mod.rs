//! Metrics: where the numbers come from (`MetricsSource`, Prometheus), which
//! queries to ask (`templates`, `config`), and what they mean (`judge`).

pub mod config;
pub mod judge;
pub mod poller;
pub mod prometheus;
pub mod rollout_metrics;
pub mod sim_source;
pub mod source;
pub mod templates;
