//! Query templates: `{{var}}` substitution and the built-in metric sets.
//!
//! Variables filled in per version (canary or baseline) by whoever runs the
//! queries: `namespace`, `rollout`, `hash` (the version's
//! `rollouts-pod-template-hash`, or a Deployment's `pod-template-hash`), `version` (the
//! pods' version label), `version_match` (a regex for Istio's `destination_version`: the
//! hash, or `.*` for a Flagger Canary, whose versions are told apart by workload),
//! `pods` (the label matcher of the version's pods as its controller labels them:
//! `rollouts_pod_template_hash="…"`, `pod_template_hash="…"`, or a Canary's
//! `app="<target>-primary"` / `app="<target>"`), `workload` (the Rollout or Deployment
//! whose pods serve the version), `service` (the version's Service, for NGINX ingress;
//! a Canary's `<target>-primary` / `<target>-canary`), `interval` (the canary's lifetime so far, e.g. `37m`, for
//! `increase()`), `rate_interval` (the `rate()` window behind each point of a
//! series, e.g. `1m`), `context` (the kubeconfig context) and `cluster`
//! (its value of the `[metrics] cluster_label`, for one Prometheus over
//! many clusters). The queries follow Flagger's built-in ones, but count
//! with `increase()` over the lifetime instead of a success-rate ratio, and
//! give latency as a series to sample rather than one number.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::metrics::judge::MetricSpec;
use crate::model::Direction;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TemplateError {
    #[error("unknown variable {{{{{name}}}}} in query `{template}`; known: {known}")]
    UnknownVariable {
        name: String,
        template: String,
        known: String,
    },
    #[error("unclosed `{{{{` in query `{template}`")]
    Unclosed { template: String },
}

/// Every variable a query may use.
pub const VARIABLES: [&str; 12] = [
    "namespace",
    "rollout",
    "hash",
    "version",
    "version_match",
    "pods",
    "workload",
    "service",
    "interval",
    "rate_interval",
    "context",
    "cluster",
];

/// Whether `template` uses only known variables and closes its braces, as
/// checked when the config is read (not when the first canary is queried).
pub fn check(template: &str) -> Result<(), TemplateError> {
    let vars: BTreeMap<String, String> = VARIABLES
        .iter()
        .map(|v| (v.to_string(), String::new()))
        .collect();
    render(template, &vars).map(|_| ())
}

/// Replaces each `{{name}}` (spaces inside the braces allowed, as in Flagger's templates).
pub fn render(template: &str, vars: &BTreeMap<String, String>) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let close = after.find("}}").ok_or_else(|| TemplateError::Unclosed {
            template: template.to_string(),
        })?;
        let name = after[..close].trim();
        let value = vars
            .get(name)
            .ok_or_else(|| TemplateError::UnknownVariable {
                name: name.to_string(),
                template: template.to_string(),
                known: vars
                    .keys()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        out.push_str(value);
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// How a metric is queried, which also says how it is judged.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricQueries {
    /// Two instant queries giving counts over the canary's lifetime.
    Counts { errors: String, requests: String },
    /// A range query whose points are the samples.
    Series { query: String },
}

/// A metric to query and judge: a preset's or the user's.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricDefinition {
    /// What the judge needs of it.
    pub spec: MetricSpec,
    pub queries: MetricQueries,
}

/// The built-in metric sets, by how the versions are told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// Application metrics `http_requests_total{code}` and
    /// `http_request_duration_seconds_bucket` with the pods' labels (Prometheus' pod
    /// label mapping): `rollouts_pod_template_hash`, a Deployment's `pod_template_hash`,
    /// a Flagger Canary's `app`.
    #[default]
    Argo,
    /// Istio's `istio_requests_total` and `istio_request_duration_milliseconds_bucket`
    /// by `destination_workload` and `destination_version` (a Canary's by workload).
    Istio,
    /// Linkerd's `response_total` and `response_latency_ms_bucket`, inbound,
    /// by the pods' labels, as the Argo preset.
    Linkerd,
    /// NGINX ingress' `nginx_ingress_controller_requests` and
    /// `nginx_ingress_controller_request_duration_seconds_bucket` by the version's Service.
    Nginx,
    /// No built-in metrics: only the ones in the config.
    None,
}

impl Preset {
    /// The preset's error-rate (critical) and p99 latency metrics; with a
    /// `cluster_label`, each selector also matches `label="{{cluster}}"`, so
    /// that a Prometheus holding many clusters' series (Thanos, Mimir, a
    /// federation) gives each version's own.
    pub fn metrics(self, cluster_label: Option<&str>) -> Vec<MetricDefinition> {
        let (selector, requests, errors_matcher, latency_bucket, unit) = match self {
            Self::None => return Vec::new(),
            Self::Argo => (
                r#"namespace="{{namespace}}",{{pods}}"#,
                "http_requests_total",
                r#"code=~"5..""#,
                "http_request_duration_seconds_bucket",
                "s",
            ),
            Self::Istio => (
                r#"reporter="destination",destination_workload_namespace="{{namespace}}",destination_workload="{{workload}}",destination_version=~"{{version_match}}""#,
                "istio_requests_total",
                r#"response_code=~"5.*""#,
                "istio_request_duration_milliseconds_bucket",
                "ms",
            ),
            Self::Linkerd => (
                r#"namespace="{{namespace}}",{{pods}},direction="inbound""#,
                "response_total",
                r#"classification="failure""#,
                "response_latency_ms_bucket",
                "ms",
            ),
            Self::Nginx => (
                r#"namespace="{{namespace}}",service="{{service}}""#,
                "nginx_ingress_controller_requests",
                r#"status=~"5.*""#,
                "nginx_ingress_controller_request_duration_seconds_bucket",
                "s",
            ),
        };
        let selector = match cluster_label {
            Some(label) => format!(r#"{selector},{label}="{{{{cluster}}}}""#),
            None => selector.to_string(),
        };
        vec![
            MetricDefinition {
                spec: error_rate(),
                queries: MetricQueries::Counts {
                    errors: format!(
                        "sum(increase({requests}{{{selector},{errors_matcher}}}[{{{{interval}}}}]))"
                    ),
                    requests: format!("sum(increase({requests}{{{selector}}}[{{{{interval}}}}]))"),
                },
            },
            MetricDefinition {
                spec: latency_p99(unit),
                queries: MetricQueries::Series {
                    query: format!(
                        "histogram_quantile(0.99, sum by (le) (rate({latency_bucket}{{{selector}}}[{{{{rate_interval}}}}])))"
                    ),
                },
            },
        ]
    }
}

/// Every preset's first metric: errors out of requests, critical.
pub(crate) fn error_rate() -> MetricSpec {
    MetricSpec {
        name: "error rate".into(),
        unit: "errors/request".into(),
        direction: Direction::Lower,
        critical: true,
        group: "errors".into(),
        tolerance: None,
    }
}

/// Every preset's second metric: the 99th percentile of latency, in `unit`.
pub(crate) fn latency_p99(unit: &str) -> MetricSpec {
    MetricSpec {
        name: "latency p99".into(),
        unit: unit.into(),
        direction: Direction::Lower,
        critical: false,
        group: "latency".into(),
        tolerance: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn renders_variables_with_or_without_spaces() {
        let out = render(
            r#"up{namespace="{{namespace}}",pod=~"{{ rollout }}-.*"}"#,
            &vars(&[("namespace", "shop"), ("rollout", "checkout")]),
        );
        assert_eq!(out.unwrap(), r#"up{namespace="shop",pod=~"checkout-.*"}"#);
    }

    #[test]
    fn an_unknown_variable_is_named_with_the_known_ones() {
        let err = render("x{a=\"{{nmespace}}\"}", &vars(&[("namespace", "shop")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown variable {{nmespace}} in query `x{a=\"{{nmespace}}\"}`; known: namespace"
        );
    }

    #[test]
    fn an_unclosed_variable_is_an_error() {
        assert_eq!(
            render("up{{namespace", &BTreeMap::new()),
            Err(TemplateError::Unclosed {
                template: "up{{namespace".into()
            })
        );
    }

    #[test]
    fn argo_preset_counts_over_the_lifetime_by_pod_template_hash() {
        let v = vars(&[
            ("namespace", "shop"),
            ("hash", "5d2a"),
            ("pods", r#"rollouts_pod_template_hash="5d2a""#),
            ("interval", "37m"),
            ("rate_interval", "1m"),
        ]);
        let metrics = Preset::Argo.metrics(None);
        let MetricQueries::Counts { errors, requests } = &metrics[0].queries else {
            panic!("error rate is a count metric")
        };
        assert_eq!(
            render(errors, &v).unwrap(),
            r#"sum(increase(http_requests_total{namespace="shop",rollouts_pod_template_hash="5d2a",code=~"5.."}[37m]))"#
        );
        assert_eq!(
            render(requests, &v).unwrap(),
            r#"sum(increase(http_requests_total{namespace="shop",rollouts_pod_template_hash="5d2a"}[37m]))"#
        );
        let MetricQueries::Series { query } = &metrics[1].queries else {
            panic!("latency is a series")
        };
        assert_eq!(
            render(query, &v).unwrap(),
            r#"histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{namespace="shop",rollouts_pod_template_hash="5d2a"}[1m])))"#
        );
    }

    #[test]
    fn every_preset_renders_with_the_documented_variables() {
        let v = vars(&[
            ("namespace", "shop"),
            ("rollout", "checkout"),
            ("hash", "5d2a"),
            ("version", "v2"),
            ("version_match", "v2"),
            ("pods", r#"rollouts_pod_template_hash="5d2a""#),
            ("workload", "checkout"),
            ("service", "checkout-canary"),
            ("interval", "10m"),
            ("rate_interval", "1m"),
        ]);
        for preset in [Preset::Argo, Preset::Istio, Preset::Linkerd, Preset::Nginx] {
            for m in preset.metrics(None) {
                let queries = match &m.queries {
                    MetricQueries::Counts { errors, requests } => vec![errors, requests],
                    MetricQueries::Series { query } => vec![query],
                };
                for q in queries {
                    let out =
                        render(q, &v).unwrap_or_else(|e| panic!("{preset:?} {}: {e}", m.spec.name));
                    assert!(!out.contains("{{"), "{out}");
                }
            }
        }
        assert!(Preset::None.metrics(None).is_empty());
    }
}
