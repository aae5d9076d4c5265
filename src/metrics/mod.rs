//! Metrics: where the numbers come from (`MetricsSource`, Prometheus), which
//! queries to ask (`templates`, `config`), and what they mean (`judge`).

pub mod config;
pub mod judge;
pub mod prometheus;
pub mod source;
pub mod templates;
