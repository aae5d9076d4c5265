//! Metrics: where the numbers come from (`MetricsSource`, Prometheus), which
//! queries to ask (`templates`, `config`), and what they mean (`judge`); per
//! rollout version (`rollout_metrics`, from Prometheus or a traffic history),
//! kept fresh for the cockpit by the `poller`.

mod config;
mod judge;
mod poller;
mod prometheus;
mod prometheus_rollout;
mod rollout_metrics;
mod source;
mod templates;
mod traffic_history;

use std::sync::Arc;

pub use config::{MetricsConfig, Secret};
pub use judge::{
    MetricData, MetricInput, MetricSpec, Thresholds, Tolerance, judge, rate_test, shift_test,
};
pub use poller::{MetricsUpdate, Poller, read_once, spawn_poller};
pub use prometheus::{Prometheus, decode_response};
pub use prometheus_rollout::{PrometheusRollouts, Resolution, window_step};
pub use rollout_metrics::{
    MetricKind, MetricReading, MetricState, MetricView, PerVersion, RolloutMetrics,
    RolloutMetricsReport, RolloutReading, Scoring, Target, VersionFigures, WindowData,
    judge_reading, report,
};
pub use source::{MetricsError, MetricsSource, Point, QueryResult, Range, Series};
pub use templates::{MetricDefinition, MetricQueries, Preset};
pub use traffic_history::{HistoryMetrics, Interval, TrafficHistory, VersionOf};

/// The metrics of the `[metrics]` section's backend, for real clusters.
pub fn from_config(config: &MetricsConfig) -> Result<Arc<dyn RolloutMetrics>, MetricsError> {
    Ok(Arc::new(PrometheusRollouts::from_config(config)?))
}
