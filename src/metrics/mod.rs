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
pub mod sim_source;
pub mod source;
pub mod templates;

use std::sync::Arc;

pub use poller::{MetricsUpdate, Poller, read_once, spawn_poller};
pub use rollout_metrics::{
    MetricState, MetricView, RolloutMetrics, RolloutMetricsReport, Target, report,
};

use config::MetricsConfig;
use prometheus_rollout::PrometheusRollouts;
use sim_source::SimMetrics;
use source::MetricsError;

/// The metrics of the `[metrics]` section's backend, for real clusters.
pub fn from_config(config: &MetricsConfig) -> Result<Arc<dyn RolloutMetrics>, MetricsError> {
    Ok(Arc::new(PrometheusRollouts::from_config(config)?))
}

/// The demo's metrics: a Prometheus that scrapes the simulated clusters' `/metrics` when
/// its URL is given (`flightdeck demo --prometheus`), else the traffic model in-process.
pub fn for_demo(
    fleet: &crate::sim::Fleet,
    prometheus: Option<&reqwest::Url>,
) -> Result<Arc<dyn RolloutMetrics>, MetricsError> {
    match prometheus {
        Some(url) => from_config(&MetricsConfig::for_url(url.as_str())),
        None => Ok(Arc::new(SimMetrics::new(fleet))),
    }
}
