//! Metrics: where the numbers come from (`MetricsSource`, Prometheus), which
//! queries to ask (`templates`, `config`), and what they mean (`judge`); per
//! rollout version (`rollout_metrics`, from Prometheus or the simulator),
//! kept fresh for the cockpit by the `poller`.

pub mod config;
pub mod judge;
pub mod poller;
pub mod prometheus;
pub mod prometheus_rollout;
pub mod rollout_metrics;
pub mod source;
pub mod templates;
pub mod traffic_history;

use std::sync::Arc;

pub use poller::{MetricsUpdate, Poller, read_once, spawn_poller};
pub use rollout_metrics::{
    MetricState, MetricView, RolloutMetrics, RolloutMetricsReport, Target, report,
};

use config::MetricsConfig;
use prometheus_rollout::PrometheusRollouts;
use source::MetricsError;

/// The metrics of the `[metrics]` section's backend, for real clusters.
pub fn from_config(config: &MetricsConfig) -> Result<Arc<dyn RolloutMetrics>, MetricsError> {
    Ok(Arc::new(PrometheusRollouts::from_config(config)?))
}
