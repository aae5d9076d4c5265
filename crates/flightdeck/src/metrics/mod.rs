//! Metrics: where the numbers come from (Prometheus, Datadog, New Relic, each behind a
//! [`VersionReader`]; which backend each context reads, `backends`), which queries to ask
//! (`templates`, `apm_presets`, `config`), and what they mean (`judge`); per rollout
//! version (`rollout_metrics`, from a backend or a traffic history), kept fresh for the
//! cockpit by the `poller`.

mod apm_presets;
mod backend_config;
mod backends;
mod buckets;
mod config;
mod datadog;
mod http;
mod judge;
mod newrelic;
mod poller;
mod prometheus;
mod prometheus_versions;
mod queried;
mod rollout_metrics;
mod source;
mod templates;
mod traffic_history;
mod version_variables;

pub use backend_config::{
    ApmPreset, BackendConfig, DATADOG_SITES, DatadogConfig, NewRelicConfig, NewRelicRegion,
};
pub use backends::{Backend, BackendNames, Backends};
pub use buckets::{BucketApi, Bucketed};
pub use config::{MetricsConfig, SECTION_BACKEND, Secret};
pub use datadog::{Datadog, decode_timeseries, timeseries_request};
pub use judge::{
    MetricData, MetricInput, MetricSpec, Thresholds, Tolerance, judge, rate_test, shift_test,
};
pub use newrelic::{NewRelic, decode_graphql, nrql_request, with_window};
pub use poller::{MetricsUpdate, Poller, read_once, spawn_poller};
pub use prometheus::{Prometheus, decode_response};
pub use prometheus_versions::PrometheusReader;
pub use queried::{
    CountQueries, Now, Plan, QueriedRollouts, Rendered, Resolution, VersionRead, VersionReader,
    window_step,
};
pub use rollout_metrics::{
    MetricKind, MetricReading, MetricState, MetricView, PerVersion, RolloutMetrics,
    RolloutMetricsReport, RolloutReading, Scoring, Target, VersionFigures, WindowData,
    judge_reading, report,
};
pub use source::{MetricsError, MetricsSource, Point, QueryResult, Range, Series};
pub use templates::{MetricDefinition, MetricQueries, Preset};
pub use traffic_history::{HistoryMetrics, Interval, TrafficHistory, VersionOf};
