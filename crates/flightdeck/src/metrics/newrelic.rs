//! New Relic's NerdGraph as buckets: every NRQL query of a reading in one GraphQL request
//! (`actor { account(id:) { q0: nrql(query:) { results } … } }`), each query given the
//! canary's span and the bucket size as `SINCE <ms> UNTIL <ms> TIMESERIES <n> seconds`,
//! the user key in `API-Key`, the region picking the endpoint.
//!
//! Argo Rollouts' provider sends one NRQL through newrelic-client-go and compares its
//! first result; Flagger's asks the older Insights API for one number `SINCE <interval>
//! seconds ago`. Here each query's buckets come back whole: counts are summed over the
//! canary's lifetime, a percentile's buckets are the rank test's samples. NRQL counts
//! events exactly, so the sum of the buckets is the lifetime's count.

use futures::future::BoxFuture;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::metrics::backend_config::NewRelicConfig;
use crate::metrics::buckets::BucketApi;
use crate::metrics::config::Secret;
use crate::metrics::http::{VendorClient, first_line};
use crate::metrics::source::{MetricsError, Point, Range};

/// NerdGraph's own limit for a query is 5 s unless asked for more.
const NRQL_TIMEOUT_SECONDS: u64 = 10;

#[derive(Debug)]
pub struct NewRelic {
    client: VendorClient,
    endpoint: String,
    account: u64,
    api_key_env: String,
}

impl NewRelic {
    /// The client; the key is read now from the environment variable the config names.
    pub fn new(config: &NewRelicConfig) -> Result<NewRelic, MetricsError> {
        Self::with_env(config, |name| std::env::var(name).ok())
    }

    /// As [`NewRelic::new`], reading environment variables through `env`.
    pub fn with_env(
        config: &NewRelicConfig,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<NewRelic, MetricsError> {
        let key = env(&config.api_key_env).map(Secret::new).ok_or_else(|| {
            MetricsError::Config(format!(
                "environment variable {} (the New Relic user key) is not set",
                config.api_key_env
            ))
        })?;
        let region = format!("{:?}", config.region).to_uppercase();
        let (endpoint, name) = match &config.url {
            Some(url) => (
                url.clone(),
                format!(
                    "New Relic ({region}, account {}) at {url}",
                    config.account_id
                ),
            ),
            None => (
                config.region.endpoint().to_string(),
                format!("New Relic ({region}, account {})", config.account_id),
            ),
        };
        Ok(NewRelic {
            client: VendorClient::new(name, config.timeout, &[("api-key", &key)])?,
            endpoint,
            account: config.account_id,
            api_key_env: config.api_key_env.clone(),
        })
    }

    /// What errors and the metrics pane call it.
    pub fn name(&self) -> &str {
        &self.client.name
    }

    async fn graphql(&self, body: Value) -> Result<Value, MetricsError> {
        let (status, answer) = self
            .client
            .send(self.client.post(&self.endpoint, &body))
            .await?;
        decode_graphql(&self.client.name, &self.api_key_env, status, &answer)
    }
}

impl BucketApi for NewRelic {
    fn ready(&self) -> BoxFuture<'_, Result<(), MetricsError>> {
        Box::pin(async move {
            let body = json!({
                "query": "query($account: Int!) { actor { account(id: $account) { id } } }",
                "variables": {"account": self.account},
            });
            let data = self.graphql(body).await?;
            match data.pointer("/actor/account/id").and_then(Value::as_u64) {
                Some(id) if id == self.account => Ok(()),
                _ => Err(MetricsError::Refused {
                    backend: self.client.name.clone(),
                    status: 200,
                    reason: format!(
                        "the user key in {} cannot read account {}",
                        self.api_key_env, self.account
                    ),
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
            tracing::debug!(
                "{}: NerdGraph, {} NRQL queries, {} to {} by {:?}",
                self.client.name,
                queries.len(),
                range.start,
                range.end,
                range.step
            );
            let data = self
                .graphql(nrql_request(self.account, queries, range))
                .await?;
            (0..queries.len())
                .map(|i| {
                    let results = data
                        .pointer(&format!("/actor/account/q{i}/results"))
                        .and_then(Value::as_array)
                        .ok_or_else(|| MetricsError::Partial {
                            backend: self.client.name.clone(),
                            reason: format!("no results for query q{i}"),
                        })?;
                    buckets_of(&self.client.name, i, results)
                })
                .collect()
        })
    }
}

/// The NRQL of one query with the span and buckets appended.
pub fn with_window(query: &str, range: Range) -> String {
    format!(
        "{query} SINCE {} UNTIL {} TIMESERIES {} seconds",
        range.start.as_millisecond(),
        range.end.as_millisecond(),
        range.step.as_secs().max(1)
    )
}

/// The GraphQL request for `queries`, as NerdGraph's NRQL tutorial writes one, each query
/// under an alias `q<i>` and passed as a variable (so no NRQL is ever spliced into the
/// GraphQL text).
pub fn nrql_request(account: u64, queries: &[String], range: Range) -> Value {
    let names: Vec<String> = (0..queries.len()).map(|i| format!("q{i}")).collect();
    let parameters: String = names.iter().map(|n| format!(", ${n}: Nrql!")).collect();
    let fields: String = names
        .iter()
        .map(|n| format!(" {n}: nrql(query: ${n}, timeout: {NRQL_TIMEOUT_SECONDS}) {{ results }}"))
        .collect();
    let mut variables = serde_json::Map::new();
    variables.insert("account".into(), json!(account));
    for (name, query) in names.iter().zip(queries) {
        variables.insert(name.clone(), json!(with_window(query, range)));
    }
    json!({
        "query": format!("query($account: Int!{parameters}) {{ actor {{ account(id: $account) {{{fields} }} }} }}"),
        "variables": variables,
    })
}

/// Decodes a NerdGraph answer into its `data`, or an error naming `backend`: GraphQL
/// errors beside data are a partial answer, without data the query's error.
pub fn decode_graphql(
    backend: &str,
    key_env: &str,
    status: StatusCode,
    body: &str,
) -> Result<Value, MetricsError> {
    let refused = |status: u16| MetricsError::Refused {
        backend: backend.to_string(),
        status,
        reason: format!("New Relic does not accept the user key in {key_env}"),
    };
    if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
        return Err(refused(status.as_u16()));
    }
    let answer: Value = match serde_json::from_str(body) {
        Ok(answer) => answer,
        Err(_) if !status.is_success() => {
            return Err(MetricsError::Http {
                backend: backend.to_string(),
                status: status.as_u16(),
                body: first_line(body),
            });
        }
        Err(e) => {
            return Err(MetricsError::Unparseable {
                backend: backend.to_string(),
                status: status.as_u16(),
                reason: e.to_string(),
                body: first_line(body),
            });
        }
    };
    let errors: Vec<&Value> = answer
        .get("errors")
        .and_then(Value::as_array)
        .map(|e| e.iter().collect())
        .unwrap_or_default();
    let data = answer.get("data").filter(|d| !d.is_null());
    let Some(first) = errors.first() else {
        return data.cloned().ok_or_else(|| MetricsError::Unparseable {
            backend: backend.to_string(),
            status: status.as_u16(),
            reason: "neither `data` nor `errors`".into(),
            body: first_line(body),
        });
    };
    let message = first
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("an error without a message")
        .to_string();
    let class = first
        .pointer("/extensions/errorClass")
        .and_then(Value::as_str)
        .unwrap_or("error");
    if class == "UNAUTHORIZED" || class == "FORBIDDEN" || message.contains("API key") {
        return Err(refused(status.as_u16()));
    }
    Err(match data {
        Some(_) => MetricsError::Partial {
            backend: backend.to_string(),
            reason: first_line(&message),
        },
        None => MetricsError::Query {
            backend: backend.to_string(),
            kind: class.to_lowercase(),
            message: first_line(&message),
        },
    })
}

/// One query's `TIMESERIES` results as points: each bucket's `beginTimeSeconds` and its
/// one value (a number, or a percentile's `{"99": value}`), NaN where it is null.
fn buckets_of(backend: &str, query: usize, results: &[Value]) -> Result<Vec<Point>, MetricsError> {
    let wrong = |reason: String| MetricsError::Partial {
        backend: backend.to_string(),
        reason: format!("query q{query}: {reason}"),
    };
    results
        .iter()
        .map(|bucket| {
            let time = bucket
                .get("beginTimeSeconds")
                .and_then(Value::as_f64)
                .ok_or_else(|| wrong("a result without `beginTimeSeconds`".into()))?;
            let mut values = bucket.as_object().into_iter().flatten().filter(|(k, _)| {
                !matches!(k.as_str(), "beginTimeSeconds" | "endTimeSeconds" | "facet")
            });
            let value = match (values.next(), values.next()) {
                (Some((_, value)), None) => value,
                _ => {
                    return Err(wrong(
                        "a query selects one value, as in SELECT count(*)".into(),
                    ));
                }
            };
            let number = match value {
                Value::Object(percentiles) if percentiles.len() == 1 => percentiles.values().next(),
                other => Some(other),
            };
            Ok(Point {
                time,
                value: number.and_then(Value::as_f64).unwrap_or(f64::NAN),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_documented_answer_decodes_to_its_data() {
        // NerdGraph's NRQL tutorial: `SELECT count(*) FROM Transaction SINCE 1 HOUR AGO`.
        let body = r#"{"data": {"actor": {"account": {"nrql": {"results": [{"count": 1000}]}}}}}"#;
        let data = decode_graphql("New Relic", "NR_KEY", StatusCode::OK, body).unwrap();
        assert_eq!(
            data.pointer("/actor/account/nrql/results/0/count"),
            Some(&json!(1000))
        );
    }

    #[test]
    fn timeseries_results_are_buckets_and_a_percentile_is_its_one_value() {
        let counts = json!([
            {"beginTimeSeconds": 1700000000, "endTimeSeconds": 1700000010, "count": 42},
            {"beginTimeSeconds": 1700000010, "endTimeSeconds": 1700000020, "count": 0}
        ]);
        let points = buckets_of("New Relic", 0, counts.as_array().unwrap()).unwrap();
        assert_eq!(
            points,
            [
                Point {
                    time: 1.7e9,
                    value: 42.0
                },
                Point {
                    time: 1.7e9 + 10.0,
                    value: 0.0
                }
            ]
        );
        let p99 = json!([
            {"beginTimeSeconds": 1700000000, "endTimeSeconds": 1700000010, "percentile.duration": {"99": 0.42}},
            {"beginTimeSeconds": 1700000010, "endTimeSeconds": 1700000020, "percentile.duration": {"99": null}}
        ]);
        let points = buckets_of("New Relic", 1, p99.as_array().unwrap()).unwrap();
        assert_eq!(points[0].value, 0.42);
        assert!(points[1].value.is_nan());
        let two = json!([{"beginTimeSeconds": 1, "count": 1, "sum.duration": 2}]);
        assert!(buckets_of("New Relic", 2, two.as_array().unwrap()).is_err());
    }

    #[test]
    fn graphql_errors_are_partial_beside_data_and_the_query_error_without() {
        let syntax = r#"{"data": {"actor": {"account": {"q0": null}}}, "errors": [{"message": "NRQL Syntax Error: Error at line 1 position 8", "extensions": {"errorClass": "INVALID_INPUT"}}]}"#;
        assert_eq!(
            decode_graphql("New Relic", "NR_KEY", StatusCode::OK, syntax)
                .unwrap_err()
                .to_string(),
            "New Relic: partial answer: NRQL Syntax Error: Error at line 1 position 8"
        );
        let no_data = r#"{"errors": [{"message": "Account 1 not found", "extensions": {"errorClass": "NOT_FOUND"}}]}"#;
        assert_eq!(
            decode_graphql("New Relic", "NR_KEY", StatusCode::OK, no_data)
                .unwrap_err()
                .to_string(),
            "New Relic: not_found: Account 1 not found"
        );
        let key = r#"{"errors": [{"message": "Invalid API key", "extensions": {"errorClass": "UNAUTHORIZED"}}]}"#;
        assert_eq!(
            decode_graphql("New Relic", "NR_KEY", StatusCode::OK, key)
                .unwrap_err()
                .to_string(),
            "New Relic: 200: New Relic does not accept the user key in NR_KEY"
        );
    }

    #[test]
    fn each_query_is_a_variable_with_its_window() {
        let range = Range {
            start: jiff::Timestamp::from_second(1_000).unwrap(),
            end: jiff::Timestamp::from_second(1_600).unwrap(),
            step: Duration::from_secs(10),
        };
        let body = nrql_request(7, &["SELECT count(*) FROM Transaction".into()], range);
        assert_eq!(
            body["query"],
            "query($account: Int!, $q0: Nrql!) { actor { account(id: $account) { q0: nrql(query: $q0, timeout: 10) { results } } } }"
        );
        assert_eq!(
            body["variables"],
            json!({"account": 7, "q0": "SELECT count(*) FROM Transaction SINCE 1000000 UNTIL 1600000 TIMESERIES 10 seconds"})
        );
    }
}
