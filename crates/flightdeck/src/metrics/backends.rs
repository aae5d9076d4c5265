//! The metrics backends of a config, built, and which one each context reads: its own
//! (`[contexts.X] metrics = "NAME"`), else the default.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::metrics::backend_config::BackendConfig;
use crate::metrics::buckets::Bucketed;
use crate::metrics::config::{MetricsConfig, SECTION_BACKEND};
use crate::metrics::datadog::Datadog;
use crate::metrics::newrelic::NewRelic;
use crate::metrics::prometheus::Prometheus;
use crate::metrics::prometheus_versions::PrometheusReader;
use crate::metrics::queried::{Now, QueriedRollouts, Resolution, VersionReader};
use crate::metrics::rollout_metrics::{RolloutMetrics, Scoring, Target};
use crate::metrics::source::MetricsError;

/// The vendors' finest bucket: Datadog's trace metrics come in 10 s points.
const VENDOR_BUCKET: Duration = Duration::from_secs(10);

/// One backend, ready to read.
pub struct Backend {
    /// What the metrics pane calls it: `eu: Datadog (datadoghq.eu)`.
    pub label: String,
    pub source: Arc<dyn RolloutMetrics>,
    /// How often each of its canaries is read.
    pub poll_every: Duration,
}

/// The backends, and which one each context reads.
pub struct Backends {
    backends: Vec<Backend>,
    contexts: BTreeMap<String, usize>,
    default: Option<usize>,
}

/// Which backend each context reads, by the label the metrics pane shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BackendNames {
    pub default: Option<String>,
    pub contexts: BTreeMap<String, String>,
}

impl BackendNames {
    /// The label of the backend `context` reads; `None` when it reads none.
    pub fn of(&self, context: &str) -> Option<&str> {
        self.contexts
            .get(context)
            .or(self.default.as_ref())
            .map(String::as_str)
    }

    /// No context reads any backend.
    pub fn is_empty(&self) -> bool {
        self.default.is_none() && self.contexts.is_empty()
    }
}

impl Backends {
    /// One backend for every context (the demo's).
    pub fn one(backend: Backend) -> Backends {
        Backends {
            backends: vec![backend],
            contexts: BTreeMap::new(),
            default: Some(0),
        }
    }

    /// The `[metrics]` section's backends, keys read from the environment, by the wall
    /// clock; `contexts` maps a context to the backend it names.
    pub fn from_config(
        config: &MetricsConfig,
        contexts: &BTreeMap<String, String>,
    ) -> Result<Backends, MetricsError> {
        Self::build(
            config,
            contexts,
            &|name| std::env::var(name).ok(),
            Arc::new(jiff::Timestamp::now),
        )
    }

    /// As [`Backends::from_config`], reading environment variables through `env` and the
    /// time through `now`.
    pub fn build(
        config: &MetricsConfig,
        contexts: &BTreeMap<String, String>,
        env: &dyn Fn(&str) -> Option<String>,
        now: Now,
    ) -> Result<Backends, MetricsError> {
        let scoring = Scoring {
            group_weights: config.group_weights.clone(),
            thresholds: config.thresholds.clone(),
        };
        let mut names = Vec::new();
        let mut backends = Vec::new();
        if config.url.is_some() {
            let (source, label) = prometheus(config, &scoring, env, now.clone())?;
            names.push(SECTION_BACKEND.to_string());
            backends.push(Backend {
                label,
                source,
                poll_every: config.poll_every,
            });
        }
        for (name, backend) in &config.backends {
            let (source, label) = match backend {
                BackendConfig::Prometheus(prometheus_config) => {
                    prometheus(prometheus_config, &scoring, env, now.clone())?
                }
                BackendConfig::Datadog(datadog) => {
                    let client = Datadog::with_env(datadog, env)?;
                    let label = client.name().to_string();
                    let reader = Bucketed::new(client, VENDOR_BUCKET);
                    vendor(reader, backend, &scoring, now.clone(), label)?
                }
                BackendConfig::Newrelic(newrelic) => {
                    let client = NewRelic::with_env(newrelic, env)?;
                    let label = client.name().to_string();
                    let reader = Bucketed::new(client, VENDOR_BUCKET);
                    vendor(reader, backend, &scoring, now.clone(), label)?
                }
            };
            names.push(name.clone());
            backends.push(Backend {
                label: format!("{name}: {label}"),
                source,
                poll_every: backend.poll_every(),
            });
        }
        let index = |name: &str| {
            names.iter().position(|n| n == name).ok_or_else(|| {
                MetricsError::Config(format!(
                    "no metrics backend {name:?}; there are {}",
                    names.join(", ")
                ))
            })
        };
        Ok(Backends {
            contexts: contexts
                .iter()
                .map(|(context, name)| Ok((context.clone(), index(name)?)))
                .collect::<Result<_, MetricsError>>()?,
            default: config.default_backend().map(index).transpose()?,
            backends,
        })
    }

    pub fn all(&self) -> &[Backend] {
        &self.backends
    }

    /// The index in [`Backends::all`] of the backend `context` reads.
    pub fn index_of(&self, context: &str) -> Option<usize> {
        self.contexts.get(context).copied().or(self.default)
    }

    /// The targets each backend reads, in [`Backends::all`]'s order; a target of a
    /// context that reads none is left out.
    pub fn split(&self, targets: Vec<Target>) -> Vec<Vec<Target>> {
        let mut split = vec![Vec::new(); self.backends.len()];
        for target in targets {
            if let Some(i) = self.index_of(&target.key.context) {
                split[i].push(target);
            }
        }
        split
    }

    pub fn names(&self) -> BackendNames {
        let label = |i: usize| self.backends[i].label.clone();
        BackendNames {
            default: self.default.map(label),
            contexts: self
                .contexts
                .iter()
                .map(|(context, &i)| (context.clone(), label(i)))
                .collect(),
        }
    }
}

/// A vendor's backend over its `reader`, and its label.
fn vendor(
    reader: impl VersionReader + 'static,
    config: &BackendConfig,
    scoring: &Scoring,
    now: Now,
    label: String,
) -> Result<(Arc<dyn RolloutMetrics>, String), MetricsError> {
    let definitions = config
        .definitions()
        .map_err(|e| MetricsError::Config(e.to_string()))?;
    let rollouts = QueriedRollouts::new(Box::new(reader), definitions, scoring.clone());
    Ok((Arc::new(rollouts.with_clock(now)), label))
}

/// A Prometheus backend and its label.
fn prometheus(
    config: &MetricsConfig,
    scoring: &Scoring,
    env: &dyn Fn(&str) -> Option<String>,
    now: Now,
) -> Result<(Arc<dyn RolloutMetrics>, String), MetricsError> {
    let definitions = config
        .definitions()
        .map_err(|e| MetricsError::Config(e.to_string()))?;
    let client = Prometheus::with_env(config, env)?;
    let label = client.name().to_string();
    let reader = PrometheusReader::new(Box::new(client), Resolution::default());
    let rollouts = QueriedRollouts::new(Box::new(reader), definitions, scoring.clone())
        .with_clusters(config.clusters.clone())
        .with_clock(now);
    Ok((Arc::new(rollouts), label))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ObjectKey;

    fn config(text: &str) -> MetricsConfig {
        #[derive(serde::Deserialize)]
        struct File {
            metrics: MetricsConfig,
        }
        let config = toml::from_str::<File>(text).unwrap().metrics;
        config.check().unwrap();
        config
    }

    fn env(name: &str) -> Option<String> {
        Some(format!("value of {name}"))
    }

    const TWO_REGIONS: &str = r#"
[metrics]
default = "us"
[metrics.backends.eu]
kind = "datadog"
site = "datadoghq.eu"
[metrics.backends.us]
kind = "newrelic"
account_id = 42
"#;

    #[test]
    fn each_context_reads_its_own_backend_else_the_default() {
        let contexts = [("prod-eu".to_string(), "eu".to_string())].into();
        let backends = Backends::build(
            &config(TWO_REGIONS),
            &contexts,
            &env,
            Arc::new(jiff::Timestamp::now),
        )
        .unwrap();
        let names = backends.names();
        assert_eq!(names.of("prod-eu"), Some("eu: Datadog (datadoghq.eu)"));
        assert_eq!(names.of("prod-us"), Some("us: New Relic (US, account 42)"));
        let target = |context: &str| Target {
            key: ObjectKey::new(context, "shop", "checkout"),
            stable_hash: "a".into(),
            canary_hash: "b".into(),
            baseline_hash: None,
            since: jiff::Timestamp::UNIX_EPOCH,
            flagger_target: None,
        };
        let split = backends.split(vec![target("prod-eu"), target("prod-us"), target("lab")]);
        assert_eq!(split[0].len(), 1);
        assert_eq!(split[1].len(), 2);
        assert_eq!(backends.all()[0].poll_every, Duration::from_secs(30));
    }

    #[test]
    fn the_section_prometheus_is_the_default_and_a_missing_key_is_named() {
        let backends = Backends::build(
            &config("[metrics]\nurl = \"http://p:9090\"\n"),
            &BTreeMap::new(),
            &env,
            Arc::new(jiff::Timestamp::now),
        )
        .unwrap();
        assert_eq!(
            backends.names().of("any"),
            Some("Prometheus at http://p:9090")
        );
        let error = Backends::build(
            &config(TWO_REGIONS),
            &BTreeMap::new(),
            &|_| None,
            Arc::new(jiff::Timestamp::now),
        )
        .err()
        .unwrap();
        assert_eq!(
            error.to_string(),
            "metrics backend: environment variable DD_API_KEY (the Datadog API key) is not set"
        );
        let contexts = [("prod".to_string(), "nope".to_string())].into();
        let error = Backends::build(
            &config(TWO_REGIONS),
            &contexts,
            &env,
            Arc::new(jiff::Timestamp::now),
        )
        .err()
        .unwrap();
        assert_eq!(
            error.to_string(),
            "metrics backend: no metrics backend \"nope\"; there are eu, us"
        );
    }
}
