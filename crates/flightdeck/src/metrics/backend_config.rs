//! `[metrics.backends.NAME]`: a named backend of any kind, and the settings of the
//! Datadog and New Relic kinds (a Prometheus one takes the settings of `[metrics]`).
//!
//! ```toml
//! [metrics.backends.eu]
//! kind = "datadog"
//! site = "datadoghq.eu"                  # datadoghq.com (default), us3/us5.datadoghq.com, ap1/ap2.datadoghq.com, ddog-gov.com, ...
//! api_key_env = "DD_API_KEY"             # the environment variables holding the keys
//! application_key_env = "DD_APP_KEY"
//! env = "prod"                           # unified service tagging: service, env, version
//!
//! [metrics.backends.us]
//! kind = "newrelic"
//! account_id = 1234567
//! region = "us"                          # or "eu"
//! api_key_env = "NEW_RELIC_API_KEY"
//! version_attribute = "tags.version"     # or appVersion, a label
//! ```

use std::time::Duration;

use serde::Deserialize;

use crate::metrics::config::{CustomMetric, MetricsConfig, duration_text};

/// One named backend, by its `kind`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum BackendConfig {
    /// Settings as in `[metrics]` itself (`url`, `preset`, auth, `[[…metric]]`).
    Prometheus(Box<MetricsConfig>),
    Datadog(DatadogConfig),
    Newrelic(NewRelicConfig),
}

/// Which built-in metrics a vendor backend reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApmPreset {
    /// The APM agent's request counts, errors and latency, split by version.
    #[default]
    Apm,
    /// Only the metrics written in the config.
    None,
}

/// Datadog's sites, each with its API at `https://api.<site>` (the list of Datadog's API
/// reference, "Query timeseries points").
pub const DATADOG_SITES: [&str; 9] = [
    "datadoghq.com",
    "us3.datadoghq.com",
    "us5.datadoghq.com",
    "datadoghq.eu",
    "ap1.datadoghq.com",
    "ap2.datadoghq.com",
    "uk1.datadoghq.com",
    "ddog-gov.com",
    "us2.ddog-gov.com",
];

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatadogConfig {
    #[serde(default = "datadog_site")]
    pub site: String,
    /// Instead of the site's API: a proxy, or the demo's simulated Datadog.
    #[serde(default)]
    pub url: Option<String>,
    /// The environment variable holding the API key (`DD-API-KEY`).
    #[serde(default = "datadog_api_key_env")]
    pub api_key_env: String,
    /// The environment variable holding the application key (`DD-APPLICATION-KEY`).
    #[serde(default = "datadog_application_key_env")]
    pub application_key_env: String,
    #[serde(default = "request_timeout", with = "duration_text")]
    pub timeout: Duration,
    /// How often each canary is read: Datadog's trace metrics come in 10 s points, and
    /// its query endpoints are rate limited per organisation.
    #[serde(default = "vendor_poll", with = "duration_text")]
    pub poll_every: Duration,
    #[serde(default)]
    pub preset: ApmPreset,
    /// The traced operation whose `trace.<operation>.*` metrics the preset reads.
    #[serde(default = "http_request")]
    pub operation: String,
    /// The `service` tag, a template.
    #[serde(default = "rollout_name")]
    pub service: String,
    /// The `env` tag, a template; left out of the queries when not given.
    #[serde(default)]
    pub env: Option<String>,
    #[serde(default, rename = "metric")]
    pub metrics: Vec<CustomMetric>,
}

/// New Relic's data centres.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NewRelicRegion {
    #[default]
    Us,
    Eu,
}

impl NewRelicRegion {
    /// NerdGraph's endpoint in the region.
    pub fn endpoint(self) -> &'static str {
        match self {
            NewRelicRegion::Us => "https://api.newrelic.com/graphql",
            NewRelicRegion::Eu => "https://api.eu.newrelic.com/graphql",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRelicConfig {
    pub account_id: u64,
    #[serde(default)]
    pub region: NewRelicRegion,
    /// Instead of the region's NerdGraph: a proxy, or the demo's simulated New Relic.
    #[serde(default)]
    pub url: Option<String>,
    /// The environment variable holding the user key (`API-Key`).
    #[serde(default = "newrelic_api_key_env")]
    pub api_key_env: String,
    #[serde(default = "request_timeout", with = "duration_text")]
    pub timeout: Duration,
    #[serde(default = "vendor_poll", with = "duration_text")]
    pub poll_every: Duration,
    #[serde(default)]
    pub preset: ApmPreset,
    /// The APM application's name (`appName`), a template.
    #[serde(default = "rollout_name")]
    pub app_name: String,
    /// The attribute of `Transaction` events that names the version.
    #[serde(default = "tags_version")]
    pub version_attribute: String,
    /// A further NRQL condition for every preset query, a template (`` `tags.env` = 'prod' ``).
    #[serde(default)]
    pub filter: Option<String>,
    #[serde(default, rename = "metric")]
    pub metrics: Vec<CustomMetric>,
}

fn datadog_site() -> String {
    "datadoghq.com".into()
}

fn datadog_api_key_env() -> String {
    "DD_API_KEY".into()
}

fn datadog_application_key_env() -> String {
    "DD_APP_KEY".into()
}

fn newrelic_api_key_env() -> String {
    "NEW_RELIC_API_KEY".into()
}

fn request_timeout() -> Duration {
    Duration::from_secs(10)
}

fn vendor_poll() -> Duration {
    Duration::from_secs(30)
}

fn http_request() -> String {
    "http.request".into()
}

fn rollout_name() -> String {
    "{{rollout}}".into()
}

fn tags_version() -> String {
    "tags.version".into()
}

/// NRQL clauses flightdeck adds itself: a query of the config must leave them out.
const ADDED_CLAUSES: [&str; 5] = ["SINCE", "UNTIL", "TIMESERIES", "FACET", "COMPARE"];

impl BackendConfig {
    /// How often each of the backend's canaries is read.
    pub fn poll_every(&self) -> Duration {
        match self {
            BackendConfig::Prometheus(prometheus) => prometheus.poll_every,
            BackendConfig::Datadog(datadog) => datadog.poll_every,
            BackendConfig::Newrelic(newrelic) => newrelic.poll_every,
        }
    }

    /// What cannot be right whatever the data, as `[metrics.backends.NAME] key …: why`.
    pub fn check(&self, name: &str) -> Result<(), String> {
        let table = format!("[metrics.backends.{name}]");
        match self {
            BackendConfig::Prometheus(prometheus) => {
                if prometheus.url.is_none() {
                    return Err(format!("{table} kind = \"prometheus\" needs a `url`"));
                }
                if !prometheus.backends.is_empty() || prometheus.default.is_some() {
                    return Err(format!(
                        "{table} backends = …: backends are named in [metrics.backends] only"
                    ));
                }
                if !prometheus.group_weights.is_empty()
                    || prometheus.thresholds != Default::default()
                {
                    return Err(format!(
                        "{table} thresholds = …: every backend is scored alike, by [metrics.thresholds] and [metrics] group_weights"
                    ));
                }
                Ok(())
            }
            BackendConfig::Datadog(datadog) => {
                if !DATADOG_SITES.contains(&datadog.site.as_str()) {
                    return Err(format!(
                        "{table} site = {:?}: not a Datadog site; one of {}",
                        datadog.site,
                        DATADOG_SITES.join(", ")
                    ));
                }
                Ok(())
            }
            BackendConfig::Newrelic(newrelic) => {
                for metric in &newrelic.metrics {
                    let queries = [&metric.query, &metric.errors, &metric.requests];
                    for query in queries.into_iter().flatten() {
                        let words: Vec<String> = query
                            .split_whitespace()
                            .map(|w| w.to_ascii_uppercase())
                            .collect();
                        if let Some(clause) = ADDED_CLAUSES
                            .iter()
                            .find(|c| words.contains(&c.to_string()))
                        {
                            return Err(format!(
                                "metrics.metric `{}`: leave {clause} out of the NRQL: flightdeck adds SINCE, UNTIL and TIMESERIES for the canary's window",
                                metric.name
                            ));
                        }
                    }
                }
                Ok(())
            }
        }
    }
}
