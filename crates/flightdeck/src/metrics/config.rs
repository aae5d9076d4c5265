//! The `[metrics]` section of `config.toml`: one Prometheus in the section itself (as
//! earlier versions read it), named backends of any kind in `[metrics.backends.NAME]`
//! (see `backend_config`), and the verdict's thresholds, shared by all of them.
//!
//! ```toml
//! [metrics]
//! default = "eu"              # the backend of a context that names none ([contexts.X] metrics = "NAME")
//! url = "https://prometheus.example:9090"   # this Prometheus is the backend named "default"
//! preset = "istio"            # argo (default) | istio | linkerd | nginx | none
//! timeout = "5s"
//! poll_every = "5s"           # how often each canary is read
//! insecure = false            # true skips TLS certificate verification
//! bearer_token_env = "PROM_TOKEN"
//! headers = { "X-Scope-OrgID" = "shop" }
//! headers_env = { "X-Api-Key" = "PROM_API_KEY" }   # header → environment variable
//! group_weights = { errors = 60, latency = 30, business = 10 }
//! cluster_label = "cluster"   # one Prometheus, many clusters: presets match cluster="{{cluster}}"
//! clusters = { "admin@prod-eu" = "prod-eu" }   # context → its cluster label (default: its name)
//!
//! [metrics.thresholds]
//! pass = 95
//! marginal = 75
//! tolerance = 0.25            # allowed change: a fraction of the baseline's error rate or median
//!
//! [[metrics.metric]]
//! name = "orders/min"
//! unit = "orders/min"
//! direction = "higher"
//! group = "business"
//! tolerance = 0.1             # this metric's own allowed change
//! min_shift = 5               # and never less than 5 orders/min
//! query = 'sum(rate(orders_total{namespace="{{namespace}}",rollouts_pod_template_hash="{{hash}}"}[{{rate_interval}}])) * 60'
//! ```
//!
//! Secrets can be written inline or, better, named by environment variable
//! (`*_env`); either way they never appear in `Debug` output or errors.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Deserialize;

use crate::metrics::apm_presets;
use crate::metrics::backend_config::BackendConfig;
use crate::metrics::judge::{MetricSpec, Thresholds, Tolerance};
use crate::metrics::templates::{self, MetricDefinition, MetricQueries, Preset};
use crate::model::Direction;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Named backends: `[metrics.backends.NAME]`.
    #[serde(default)]
    pub backends: BTreeMap<String, BackendConfig>,
    /// The backend of a context that names none.
    #[serde(default)]
    pub default: Option<String>,
    /// A Prometheus' base URL, e.g. `http://prometheus:9090`: in `[metrics]` itself, the
    /// backend named "default".
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub preset: Preset,
    #[serde(default = "default_timeout", with = "duration_text")]
    pub timeout: Duration,
    /// How often each canary is read.
    #[serde(default = "default_poll", with = "duration_text")]
    pub poll_every: Duration,
    #[serde(default)]
    pub insecure: bool,
    #[serde(default)]
    pub bearer_token: Option<Secret>,
    /// Environment variable holding the bearer token.
    #[serde(default)]
    pub bearer_token_env: Option<String>,
    #[serde(default)]
    pub basic_auth: Option<BasicAuth>,
    #[serde(default)]
    pub headers: BTreeMap<String, Secret>,
    /// Header name → environment variable holding its value.
    #[serde(default)]
    pub headers_env: BTreeMap<String, String>,
    #[serde(default)]
    pub thresholds: Thresholds,
    /// Scoring weight per metric group; groups left out share the rest of 100.
    #[serde(default)]
    pub group_weights: BTreeMap<String, f64>,
    /// The user's metrics; one named like a preset's replaces it.
    #[serde(default, rename = "metric")]
    pub metrics: Vec<CustomMetric>,
    /// The label that tells clusters apart in a Prometheus holding several
    /// (Thanos, Mimir, federation): the presets then match it.
    #[serde(default)]
    pub cluster_label: Option<String>,
    /// Kubeconfig context → the value of `cluster_label` for it (and of the
    /// `{{cluster}}` variable); a context not listed is its own name.
    #[serde(default)]
    pub clusters: BTreeMap<String, String>,
}

fn default_timeout() -> Duration {
    Duration::from_secs(5)
}

fn default_poll() -> Duration {
    Duration::from_secs(5)
}

/// The name of the Prometheus written in `[metrics]` itself.
pub const SECTION_BACKEND: &str = "default";

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    pub username: String,
    #[serde(default)]
    pub password: Option<Secret>,
    /// Environment variable holding the password.
    #[serde(default)]
    pub password_env: Option<String>,
}

/// A credential; shows as `<redacted>`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A user-defined metric: counts (`errors` and `requests` queries) or a series (`query`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomMetric {
    pub name: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub direction: Direction,
    #[serde(default)]
    pub critical: bool,
    /// Scoring group; the metric's name when left out.
    #[serde(default)]
    pub group: Option<String>,
    /// The change allowed before the metric can fail, as a fraction of the baseline's level
    /// (its error rate, or its median), instead of `[metrics.thresholds] tolerance`.
    #[serde(default, deserialize_with = "checked::non_negative_option")]
    pub tolerance: Option<f64>,
    /// Continuous metrics: the smallest shift, in the metric's unit, that can fail it.
    #[serde(default, deserialize_with = "checked::non_negative_option")]
    pub min_shift: Option<f64>,
    /// Range query whose points are the samples (latency, business figures).
    #[serde(default)]
    pub query: Option<String>,
    /// Instant query: errors over the canary's lifetime (with `requests`).
    #[serde(default)]
    pub errors: Option<String>,
    /// Instant query: requests over the canary's lifetime (with `errors`).
    #[serde(default)]
    pub requests: Option<String>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("metrics.metric `{metric}`: {problem}")]
pub struct MetricConfigError {
    pub metric: String,
    pub problem: String,
}

impl CustomMetric {
    fn definition(&self) -> Result<MetricDefinition, MetricConfigError> {
        let queries = match (&self.query, &self.errors, &self.requests) {
            (Some(query), None, None) => MetricQueries::Series {
                query: query.clone(),
            },
            (None, Some(errors), Some(requests)) => MetricQueries::Counts {
                errors: errors.clone(),
                requests: requests.clone(),
            },
            (Some(_), _, _) => {
                return Err(
                    self.problem("give either `query` or `errors` with `requests`, not both")
                );
            }
            (None, None, None) => {
                return Err(self.problem("needs `query`, or `errors` and `requests`"));
            }
            (None, _, _) => return Err(self.problem("`errors` and `requests` go together")),
        };
        for template in [&self.query, &self.errors, &self.requests]
            .into_iter()
            .flatten()
        {
            templates::check(template).map_err(|e| MetricConfigError {
                metric: self.name.clone(),
                problem: e.to_string(),
            })?;
        }
        Ok(MetricDefinition {
            spec: MetricSpec {
                name: self.name.clone(),
                unit: self.unit.clone(),
                direction: self.direction,
                critical: self.critical,
                group: self.group.clone().unwrap_or_else(|| self.name.clone()),
                tolerance: (self.tolerance.is_some() || self.min_shift.is_some()).then(|| {
                    Tolerance {
                        fraction: self.tolerance,
                        min_shift: self.min_shift.unwrap_or(0.0),
                    }
                }),
            },
            queries,
        })
    }

    fn problem(&self, problem: &str) -> MetricConfigError {
        MetricConfigError {
            metric: self.name.clone(),
            problem: problem.to_string(),
        }
    }
}

impl MetricsConfig {
    /// A backend at `url` with every setting at its default (the Argo preset, no auth).
    pub fn for_url(url: &str) -> Self {
        MetricsConfig {
            backends: BTreeMap::new(),
            default: None,
            url: Some(url.to_string()),
            preset: Preset::default(),
            timeout: default_timeout(),
            poll_every: default_poll(),
            insecure: false,
            bearer_token: None,
            bearer_token_env: None,
            basic_auth: None,
            headers: BTreeMap::new(),
            headers_env: BTreeMap::new(),
            thresholds: Thresholds::default(),
            group_weights: BTreeMap::new(),
            metrics: Vec::new(),
            cluster_label: None,
            clusters: BTreeMap::new(),
        }
    }

    /// What cannot be right whatever the data: thresholds outside 0–100, a
    /// marginal one above the pass one, a query with an unknown variable, a backend
    /// named that is not there.
    pub fn check(&self) -> Result<(), String> {
        let t = &self.thresholds;
        for (name, value) in [("pass", t.pass), ("marginal", t.marginal)] {
            if !(0.0..=100.0).contains(&value) {
                return Err(format!(
                    "[metrics.thresholds] {name} = {value}: a score threshold is 0 to 100"
                ));
            }
        }
        if t.marginal > t.pass {
            return Err(format!(
                "[metrics.thresholds] marginal = {} is above pass = {}: MARGINAL is between them",
                t.marginal, t.pass
            ));
        }
        if self.url.is_none() {
            if self.backends.is_empty() {
                return Err(
                    "[metrics] needs a `url` (a Prometheus) or [metrics.backends.NAME] tables"
                        .into(),
                );
            }
            if let Some(metric) = self.metrics.first() {
                return Err(format!(
                    "metrics.metric `{}`: [[metrics.metric]] belongs to the Prometheus at [metrics] url; a named backend's are [[metrics.backends.NAME.metric]]",
                    metric.name
                ));
            }
        }
        self.definitions().map_err(|e| e.to_string())?;
        for (name, backend) in &self.backends {
            backend.check(name)?;
            backend.definitions().map_err(|e| e.to_string())?;
        }
        if let Some(default) = &self.default
            && !self.names().contains(&default.as_str())
        {
            return Err(format!(
                "[metrics] default = {default:?}: no such backend; there are {}",
                self.names().join(", ")
            ));
        }
        Ok(())
    }

    /// Every backend's name: "default" for `[metrics] url`, then the named ones.
    pub fn names(&self) -> Vec<&str> {
        let section = self.url.as_ref().map(|_| SECTION_BACKEND);
        section
            .into_iter()
            .chain(self.backends.keys().map(String::as_str))
            .collect()
    }

    /// The backend a context reads when it names none: `default`, else the Prometheus in
    /// `[metrics]`, else the only named one.
    pub fn default_backend(&self) -> Option<&str> {
        match (&self.default, self.names().as_slice()) {
            (Some(name), _) => Some(name),
            (None, [only]) => Some(only),
            (None, _) => self.url.as_ref().map(|_| SECTION_BACKEND),
        }
    }

    /// The preset's metrics followed by the user's; a user metric named like
    /// a preset's takes its place.
    pub fn definitions(&self) -> Result<Vec<MetricDefinition>, MetricConfigError> {
        merged(
            self.preset.metrics(self.cluster_label.as_deref()),
            &self.metrics,
        )
    }
}

impl BackendConfig {
    /// The backend's preset metrics followed by its own.
    pub fn definitions(&self) -> Result<Vec<MetricDefinition>, MetricConfigError> {
        match self {
            BackendConfig::Prometheus(prometheus) => prometheus.definitions(),
            BackendConfig::Datadog(datadog) => {
                merged(apm_presets::datadog(datadog), &datadog.metrics)
            }
            BackendConfig::Newrelic(newrelic) => {
                merged(apm_presets::newrelic(newrelic), &newrelic.metrics)
            }
        }
    }
}

/// A preset's metrics followed by the user's; a user metric named like a preset's takes
/// its place.
fn merged(
    preset: Vec<MetricDefinition>,
    custom: &[CustomMetric],
) -> Result<Vec<MetricDefinition>, MetricConfigError> {
    let custom = custom
        .iter()
        .map(CustomMetric::definition)
        .collect::<Result<Vec<_>, _>>()?;
    let mut all: Vec<MetricDefinition> = preset
        .into_iter()
        .filter(|p| !custom.iter().any(|c| c.spec.name == p.spec.name))
        .collect();
    all.extend(custom);
    Ok(all)
}

/// Numbers that must lie in a range, refused while the file is read (so the error names
/// its line).
pub(crate) mod checked {
    use serde::{Deserialize, Deserializer, de::Error};

    pub fn non_negative<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        let value = f64::deserialize(d)?;
        if value.is_finite() && value >= 0.0 {
            Ok(value)
        } else {
            Err(D::Error::custom(format!(
                "`{value}` must be a number of 0 or more"
            )))
        }
    }

    pub fn non_negative_option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        non_negative(d).map(Some)
    }

    pub fn probability<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        let value = f64::deserialize(d)?;
        if value > 0.0 && value < 1.0 {
            Ok(value)
        } else {
            Err(D::Error::custom(format!(
                "`{value}` must lie between 0 and 1, e.g. 0.99"
            )))
        }
    }
}

/// Durations written as text: `"5s"`, `"1m30s"`, `"250ms"`, `"PT5S"`.
pub(crate) mod duration_text {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, de::Error};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        let span: jiff::SignedDuration = text.parse().map_err(|e| {
            D::Error::custom(format!("`{text}` is not a duration like \"5s\": {e}"))
        })?;
        Duration::try_from(span).map_err(|_| D::Error::custom(format!("`{text}` is negative")))
    }
}
