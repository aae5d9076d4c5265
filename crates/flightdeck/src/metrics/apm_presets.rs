//! The vendors' built-in metrics: what their APM agents record of every request, split by
//! the version it was served by. Counts, never ratios of rates, for the error rate; the
//! 99th percentile of each bucket's own requests for latency. The backend adds the time
//! span and the bucket size to each query (Datadog's `from`, `to` and `interval`; NRQL's
//! `SINCE`, `UNTIL` and `TIMESERIES`).

use crate::metrics::backend_config::{ApmPreset, DatadogConfig, NewRelicConfig};
use crate::metrics::templates::{MetricDefinition, MetricQueries, error_rate, latency_p99};

/// Datadog's APM trace metrics, tagged as unified service tagging tags them (`service`,
/// `env`, `version`): `trace.<operation>.hits` and `.errors` are counts (`.as_count()`
/// gives each bucket's own count, so that buckets add up to the lifetime's), and
/// `trace.<operation>` is a distribution whose `p99:` is computed over each bucket's
/// requests.
pub fn datadog(config: &DatadogConfig) -> Vec<MetricDefinition> {
    if config.preset == ApmPreset::None {
        return Vec::new();
    }
    let mut scope = format!("service:{},version:{{{{version}}}}", config.service);
    if let Some(env) = &config.env {
        scope.push_str(&format!(",env:{env}"));
    }
    let trace = format!("trace.{}", config.operation);
    vec![
        MetricDefinition {
            spec: error_rate(),
            queries: MetricQueries::Counts {
                errors: format!("sum:{trace}.errors{{{scope}}}.as_count()"),
                requests: format!("sum:{trace}.hits{{{scope}}}.as_count()"),
            },
        },
        MetricDefinition {
            spec: latency_p99("s"),
            queries: MetricQueries::Series {
                query: format!("p99:{trace}{{{scope}}}"),
            },
        },
    ]
}

/// New Relic's `Transaction` events of the APM application, one per request: counted
/// (`error IS true` for the failed ones), and the 99th percentile of their `duration`
/// (seconds), each version's by its attribute.
pub fn newrelic(config: &NewRelicConfig) -> Vec<MetricDefinition> {
    if config.preset == ApmPreset::None {
        return Vec::new();
    }
    let mut condition = format!(
        "appName = '{}' AND `{}` = '{{{{version}}}}'",
        config.app_name, config.version_attribute
    );
    if let Some(filter) = &config.filter {
        condition.push_str(&format!(" AND ({filter})"));
    }
    vec![
        MetricDefinition {
            spec: error_rate(),
            queries: MetricQueries::Counts {
                errors: format!(
                    "SELECT count(*) FROM Transaction WHERE {condition} AND error IS true"
                ),
                requests: format!("SELECT count(*) FROM Transaction WHERE {condition}"),
            },
        },
        MetricDefinition {
            spec: latency_p99("s"),
            queries: MetricQueries::Series {
                query: format!(
                    "SELECT percentile(duration, 99) FROM Transaction WHERE {condition}"
                ),
            },
        },
    ]
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::metrics::templates::render;

    fn vars() -> BTreeMap<String, String> {
        [
            ("rollout", "checkout"),
            ("version", "5d2a"),
            ("cluster", "eu-1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    fn queries(definitions: &[MetricDefinition]) -> Vec<String> {
        definitions
            .iter()
            .flat_map(|d| match &d.queries {
                MetricQueries::Counts { errors, requests } => {
                    vec![errors.clone(), requests.clone()]
                }
                MetricQueries::Series { query } => vec![query.clone()],
            })
            .map(|q| render(&q, &vars()).unwrap())
            .collect()
    }

    #[test]
    fn datadog_reads_trace_metrics_by_service_env_and_version() {
        let config: DatadogConfig = toml::from_str("env = \"{{cluster}}\"").unwrap();
        assert_eq!(
            queries(&datadog(&config)),
            [
                "sum:trace.http.request.errors{service:checkout,version:5d2a,env:eu-1}.as_count()",
                "sum:trace.http.request.hits{service:checkout,version:5d2a,env:eu-1}.as_count()",
                "p99:trace.http.request{service:checkout,version:5d2a,env:eu-1}",
            ]
        );
        let none: DatadogConfig = toml::from_str("preset = \"none\"").unwrap();
        assert!(datadog(&none).is_empty());
    }

    #[test]
    fn newrelic_reads_transactions_by_app_and_version_attribute() {
        let config: NewRelicConfig = toml::from_str(
            "account_id = 1\nversion_attribute = \"appVersion\"\nfilter = \"`tags.cluster` = '{{cluster}}'\"",
        )
        .unwrap();
        let condition =
            "appName = 'checkout' AND `appVersion` = '5d2a' AND (`tags.cluster` = 'eu-1')";
        assert_eq!(
            queries(&newrelic(&config)),
            [
                format!("SELECT count(*) FROM Transaction WHERE {condition} AND error IS true"),
                format!("SELECT count(*) FROM Transaction WHERE {condition}"),
                format!("SELECT percentile(duration, 99) FROM Transaction WHERE {condition}"),
            ]
        );
    }
}
