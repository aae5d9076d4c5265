//! Datadog's metrics query API as buckets: `POST /api/v2/query/timeseries` with every
//! query of a reading in one request and the bucket size as its `interval`, the keys in
//! `DD-API-KEY` and `DD-APPLICATION-KEY`, the site picking the endpoint; readiness is
//! `GET /api/v1/validate`, as Flagger's provider checks it.
//!
//! Argo Rollouts' and Flagger's providers ask `/api/v1/query` (or v2) for one number,
//! the newest (Argo) or oldest (Flagger) point of a ratio over the last interval. Here
//! each query's points come back whole: counts are summed over the canary's lifetime for
//! the binomial test, a percentile's points are the rank test's samples. v2, because Argo
//! Rollouts' docs note Datadog limits v1 more strictly, and because it takes the bucket
//! size as a parameter instead of a `.rollup()` in the query.

use futures::future::BoxFuture;
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::metrics::backend_config::DatadogConfig;
use crate::metrics::buckets::BucketApi;
use crate::metrics::config::Secret;
use crate::metrics::http::{VendorClient, first_line};
use crate::metrics::source::{MetricsError, Point, Range};

#[derive(Debug)]
pub struct Datadog {
    client: VendorClient,
    base: String,
    site: String,
    api_key_env: String,
    application_key_env: String,
}

impl Datadog {
    /// The client; the keys are read now from the environment variables the config names.
    pub fn new(config: &DatadogConfig) -> Result<Datadog, MetricsError> {
        Self::with_env(config, |name| std::env::var(name).ok())
    }

    /// As [`Datadog::new`], reading environment variables through `env`.
    pub fn with_env(
        config: &DatadogConfig,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Datadog, MetricsError> {
        let key = |var: &str, what: &str| {
            env(var).map(Secret::new).ok_or_else(|| {
                MetricsError::Config(format!("environment variable {var} ({what}) is not set"))
            })
        };
        let api_key = key(&config.api_key_env, "the Datadog API key")?;
        let application_key = key(&config.application_key_env, "the Datadog application key")?;
        let (base, name) = match &config.url {
            Some(url) => (url.clone(), format!("Datadog ({}) at {url}", config.site)),
            None => (
                format!("https://api.{}", config.site),
                format!("Datadog ({})", config.site),
            ),
        };
        Ok(Datadog {
            client: VendorClient::new(
                name,
                config.timeout,
                &[
                    ("dd-api-key", &api_key),
                    ("dd-application-key", &application_key),
                ],
            )?,
            base: base.trim_end_matches('/').to_string(),
            site: config.site.clone(),
            api_key_env: config.api_key_env.clone(),
            application_key_env: config.application_key_env.clone(),
        })
    }

    /// What errors and the metrics pane call it.
    pub fn name(&self) -> &str {
        &self.client.name
    }

    /// A 401 or 403 in words that say which key to look at.
    fn refused(&self, status: StatusCode, body: &str) -> MetricsError {
        let said = errors_of(body);
        let reason = match status {
            StatusCode::UNAUTHORIZED => format!(
                "unauthorized: Datadog does not accept the keys in {} and {}",
                self.api_key_env, self.application_key_env
            ),
            _ => format!(
                "forbidden: the application key in {} lacks the timeseries_query permission, or the keys are not of {}",
                self.application_key_env, self.site
            ),
        };
        MetricsError::Refused {
            backend: self.client.name.clone(),
            status: status.as_u16(),
            reason: match said {
                Some(said) => format!("{reason} (Datadog: {said})"),
                None => reason,
            },
        }
    }
}

impl BucketApi for Datadog {
    fn ready(&self) -> BoxFuture<'_, Result<(), MetricsError>> {
        Box::pin(async move {
            let request = self.client.get(&format!("{}/api/v1/validate", self.base));
            let (status, body) = self.client.send(request).await?;
            match status {
                StatusCode::OK => Ok(()),
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(MetricsError::Refused {
                    backend: self.client.name.clone(),
                    status: status.as_u16(),
                    reason: format!(
                        "the API key in {} is not valid for {}",
                        self.api_key_env, self.site
                    ),
                }),
                _ => Err(MetricsError::NotReady {
                    backend: self.client.name.clone(),
                    reason: format!("HTTP {}: {}", status.as_u16(), first_line(&body)),
                }),
            }
        })
    }

    fn buckets<'a>(
        &'a self,
        queries: &'a [String],
        range: Range,
    ) -> BoxFuture<'a, Result<Vec<Vec<Point>>, MetricsError>> {
        Box::pin(async move {
            let body = timeseries_request(queries, range);
            tracing::debug!(
                "{}: POST /api/v2/query/timeseries, {} queries, {} to {} by {:?}",
                self.client.name,
                queries.len(),
                range.start,
                range.end,
                range.step
            );
            let url = format!("{}/api/v2/query/timeseries", self.base);
            let (status, answer) = self.client.send(self.client.post(&url, &body)).await?;
            if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
                return Err(self.refused(status, &answer));
            }
            decode_timeseries(&self.client.name, status, &answer, queries.len())
        })
    }
}

/// The request body of `POST /api/v2/query/timeseries`, as Datadog's API reference writes
/// it: a `timeseries_request` with the span in milliseconds, the bucket size as
/// `interval` (ms), each query named `q<i>` and a formula per query so that the answer's
/// series come back in the queries' order.
pub fn timeseries_request(queries: &[String], range: Range) -> Value {
    json!({
        "data": {
            "type": "timeseries_request",
            "attributes": {
                "from": range.start.as_millisecond(),
                "to": range.end.as_millisecond(),
                "interval": range.step.as_millis() as u64,
                "queries": queries
                    .iter()
                    .enumerate()
                    .map(|(i, q)| json!({"data_source": "metrics", "name": format!("q{i}"), "query": q}))
                    .collect::<Vec<_>>(),
                "formulas": (0..queries.len())
                    .map(|i| json!({"formula": format!("q{i}")}))
                    .collect::<Vec<_>>(),
            }
        }
    })
}

/// Datadog's errors from a body, `{"errors": ["…"]}` or `{"errors": "…"}`.
fn errors_of(body: &str) -> Option<String> {
    let errors = serde_json::from_str::<Value>(body)
        .ok()?
        .get("errors")?
        .clone();
    let text = match errors {
        Value::String(text) => text,
        Value::Array(list) => list
            .iter()
            .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_string))
            .collect::<Vec<_>>()
            .join("; "),
        _ => return None,
    };
    (!text.trim().is_empty()).then(|| first_line(&text))
}

#[derive(Deserialize)]
struct Answer {
    data: Option<AnswerData>,
}

#[derive(Deserialize)]
struct AnswerData {
    attributes: Attributes,
}

#[derive(Deserialize)]
struct Attributes {
    #[serde(default)]
    series: Vec<SeriesMeta>,
    #[serde(default)]
    times: Vec<i64>,
    #[serde(default)]
    values: Vec<Vec<Option<f64>>>,
}

#[derive(Deserialize)]
struct SeriesMeta {
    query_index: usize,
    #[serde(default)]
    group_tags: Vec<String>,
}

/// Decodes an answer of `POST /api/v2/query/timeseries` to `queries` queries: each one's
/// points (none for a query that matched nothing), or an error naming `backend`. An
/// answer with `errors` beside its data is partial: some of its queries failed.
pub fn decode_timeseries(
    backend: &str,
    status: StatusCode,
    body: &str,
    queries: usize,
) -> Result<Vec<Vec<Point>>, MetricsError> {
    if !status.is_success() {
        return Err(match (status, errors_of(body)) {
            (StatusCode::BAD_REQUEST, Some(said)) => MetricsError::Query {
                backend: backend.to_string(),
                kind: "bad request".into(),
                message: said,
            },
            _ => MetricsError::Http {
                backend: backend.to_string(),
                status: status.as_u16(),
                body: first_line(body),
            },
        });
    }
    let unparseable = |reason: String| MetricsError::Unparseable {
        backend: backend.to_string(),
        status: status.as_u16(),
        reason,
        body: first_line(body),
    };
    let answer: Answer = serde_json::from_str(body).map_err(|e| unparseable(e.to_string()))?;
    if let Some(said) = errors_of(body) {
        return Err(MetricsError::Partial {
            backend: backend.to_string(),
            reason: said,
        });
    }
    let attributes = answer
        .data
        .ok_or_else(|| unparseable("no `data`".into()))?
        .attributes;
    let mut points = vec![Vec::new(); queries];
    for (series, values) in attributes.series.iter().zip(&attributes.values) {
        let slot = points.get_mut(series.query_index).ok_or_else(|| {
            unparseable(format!(
                "a series of query {} of {queries}",
                series.query_index
            ))
        })?;
        if !slot.is_empty() {
            return Err(MetricsError::Partial {
                backend: backend.to_string(),
                reason: format!(
                    "query q{} gives more than one series ({}): a version needs one; drop its `by {{…}}`",
                    series.query_index,
                    series.group_tags.join(",")
                ),
            });
        }
        *slot = attributes
            .times
            .iter()
            .zip(values)
            .map(|(&ms, value)| Point {
                time: ms as f64 / 1000.0,
                value: value.unwrap_or(f64::NAN),
            })
            .collect();
    }
    if attributes.series.len() != attributes.values.len() {
        return Err(unparseable(format!(
            "{} series but {} lists of values",
            attributes.series.len(),
            attributes.values.len()
        )));
    }
    Ok(points)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// An answer of `POST /api/v2/query/timeseries` in the form of Datadog's API reference
    /// ("Query timeseries data across multiple products", `TimeseriesResponse`: `series`
    /// with `group_tags`, `query_index` and `unit`; shared `times` in ms; `values` per
    /// series, null where a bucket is empty), at the reference example's times.
    const DOCUMENTED: &str = r#"{
      "data": {
        "type": "timeseries_response",
        "attributes": {
          "series": [
            {"group_tags": ["env:prod"], "query_index": 0, "unit": [{"family": "time", "name": "second", "plural": "seconds", "scale_factor": 1.0, "short_name": "s"}]},
            {"group_tags": [], "query_index": 1, "unit": null}
          ],
          "times": [1568899800000, 1568899810000, 1568899820000],
          "values": [[0.253, null, 0.31], [12.0, 9.0, 14.0]]
        }
      }
    }"#;

    #[test]
    fn points_come_back_per_query_with_null_as_nan() {
        let points = decode_timeseries("Datadog", StatusCode::OK, DOCUMENTED, 3).unwrap();
        assert_eq!(points[0].len(), 3);
        assert_eq!(
            points[0][0],
            Point {
                time: 1_568_899_800.0,
                value: 0.253
            }
        );
        assert!(points[0][1].value.is_nan());
        assert_eq!(points[1].iter().map(|p| p.value).sum::<f64>(), 35.0);
        // The third query matched no series: no points, not an error.
        assert!(points[2].is_empty());
    }

    #[test]
    fn errors_name_what_failed() {
        let partial = r#"{"data": {"type": "timeseries_response", "attributes": {"series": [], "times": [], "values": []}}, "errors": "Error parsing query: unknown function 'p999'"}"#;
        assert_eq!(
            decode_timeseries("Datadog", StatusCode::OK, partial, 1)
                .unwrap_err()
                .to_string(),
            "Datadog: partial answer: Error parsing query: unknown function 'p999'"
        );
        // The error body of Datadog's API reference for a 400.
        let bad = r#"{"errors": ["Bad Request"]}"#;
        assert_eq!(
            decode_timeseries("Datadog", StatusCode::BAD_REQUEST, bad, 1)
                .unwrap_err()
                .to_string(),
            "Datadog: bad request: Bad Request"
        );
        let proxy = "<html><body>502 Bad Gateway</body></html>";
        assert_eq!(
            decode_timeseries("Datadog", StatusCode::BAD_GATEWAY, proxy, 1)
                .unwrap_err()
                .to_string(),
            "Datadog: HTTP 502: <html><body>502 Bad Gateway</body></html>"
        );
        let grouped = r#"{"data": {"attributes": {"series": [{"group_tags": ["version:a"], "query_index": 0}, {"group_tags": ["version:b"], "query_index": 0}], "times": [1], "values": [[1.0], [2.0]]}}}"#;
        let error = decode_timeseries("Datadog", StatusCode::OK, grouped, 1).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("more than one series (version:b)"),
            "{error}"
        );
    }

    #[test]
    fn the_request_names_each_query_and_its_formula() {
        let range = Range {
            start: jiff::Timestamp::from_second(1_000).unwrap(),
            end: jiff::Timestamp::from_second(1_600).unwrap(),
            step: Duration::from_secs(10),
        };
        let body = timeseries_request(&["sum:a{*}.as_count()".into(), "p99:b{*}".into()], range);
        assert_eq!(
            body,
            json!({"data": {"type": "timeseries_request", "attributes": {
                "from": 1_000_000, "to": 1_600_000, "interval": 10_000,
                "queries": [
                    {"data_source": "metrics", "name": "q0", "query": "sum:a{*}.as_count()"},
                    {"data_source": "metrics", "name": "q1", "query": "p99:b{*}"}
                ],
                "formulas": [{"formula": "q0"}, {"formula": "q1"}]
            }}})
        );
    }
}
