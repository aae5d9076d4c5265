//! `MetricsSource` for Prometheus' HTTP API (`/api/v1/query`,
//! `/api/v1/query_range`, `/-/ready`).

use std::collections::BTreeMap;
use std::time::Duration;

use futures::future::BoxFuture;
use jiff::Timestamp;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;

use crate::metrics::config::{MetricsConfig, Secret};
use crate::metrics::http::{first_line, transport_error};
use crate::metrics::source::{MetricsError, MetricsSource, Point, QueryResult, Range, Series};

/// A Prometheus server (or anything speaking its API: Thanos, Mimir, VictoriaMetrics).
pub struct Prometheus {
    http: reqwest::Client,
    base: String,
    /// "Prometheus at <url without credentials>", the start of every error.
    name: String,
    timeout: Duration,
    auth: Option<Auth>,
}

/// Sent on every request; reqwest marks the header sensitive.
#[derive(Debug)]
enum Auth {
    Bearer(Secret),
    Basic { username: String, password: Secret },
}

impl Prometheus {
    /// Builds the client; secrets named by environment variable are read now.
    pub fn new(config: &MetricsConfig) -> Result<Self, MetricsError> {
        Self::with_env(config, |name| std::env::var(name).ok())
    }

    /// As [`Prometheus::new`], reading environment variables through `env`.
    pub fn with_env(
        config: &MetricsConfig,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, MetricsError> {
        let secret_from = |var: &str, what: &str| {
            env(var).map(Secret::new).ok_or_else(|| {
                MetricsError::Config(format!("environment variable {var} ({what}) is not set"))
            })
        };
        let mut headers = HeaderMap::new();
        let mut add = |name: &str, value: &Secret| -> Result<(), MetricsError> {
            let name = HeaderName::try_from(name).map_err(|_| {
                MetricsError::Config(format!("`{name}` is not a valid header name"))
            })?;
            let mut value = HeaderValue::try_from(value.expose()).map_err(|_| {
                MetricsError::Config(format!(
                    "the value of header `{name}` is not valid in a header"
                ))
            })?;
            value.set_sensitive(true);
            headers.insert(name, value);
            Ok(())
        };
        for (name, value) in &config.headers {
            add(name, value)?;
        }
        for (name, var) in &config.headers_env {
            add(name, &secret_from(var, &format!("header {name}"))?)?;
        }
        let auth = match (
            &config.bearer_token,
            &config.bearer_token_env,
            &config.basic_auth,
        ) {
            (Some(token), _, _) => Some(Auth::Bearer(token.clone())),
            (None, Some(var), _) => Some(Auth::Bearer(secret_from(var, "bearer token")?)),
            (None, None, Some(basic)) => Some(Auth::Basic {
                username: basic.username.clone(),
                password: match (&basic.password, &basic.password_env) {
                    (Some(p), _) => p.clone(),
                    (None, Some(var)) => secret_from(var, "basic auth password")?,
                    (None, None) => Secret::new(""),
                },
            }),
            (None, None, None) => None,
        };

        let text = config
            .url
            .as_deref()
            .ok_or_else(|| MetricsError::Config("a Prometheus needs a `url`".into()))?;
        let url = reqwest::Url::parse(text).map_err(|e| {
            MetricsError::Config(format!("url `{}` is not valid: {e}", redact(text)))
        })?;
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .tls_danger_accept_invalid_certs(config.insecure)
            .default_headers(headers)
            .build()
            .map_err(|e| MetricsError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            http,
            base: text.trim_end_matches('/').to_string(),
            name: format!(
                "Prometheus at {}",
                redact(url.as_str()).trim_end_matches('/')
            ),
            timeout: config.timeout,
            auth,
        })
    }

    /// What errors and the metrics pane call it: `Prometheus at <url>`.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        let request = self.http.get(format!("{}{path}", self.base));
        match &self.auth {
            Some(Auth::Bearer(token)) => request.bearer_auth(token.expose()),
            Some(Auth::Basic { username, password }) => {
                request.basic_auth(username, Some(password.expose()))
            }
            None => request,
        }
    }

    async fn api(
        &self,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<QueryResult, MetricsError> {
        let response = self
            .get(path)
            .query(params)
            .send()
            .await
            .map_err(|e| self.transport_error(&e))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| self.transport_error(&e))?;
        decode_response(&self.name, status, &body)
    }

    fn transport_error(&self, e: &reqwest::Error) -> MetricsError {
        transport_error(&self.name, self.timeout, e)
    }
}

impl MetricsSource for Prometheus {
    fn query<'a>(
        &'a self,
        query: &'a str,
        at: Option<Timestamp>,
    ) -> BoxFuture<'a, Result<QueryResult, MetricsError>> {
        Box::pin(async move {
            let mut params = vec![("query", query.to_string())];
            if let Some(at) = at {
                params.push(("time", unix_seconds(at)));
            }
            self.api("/api/v1/query", &params).await
        })
    }

    fn query_range<'a>(
        &'a self,
        query: &'a str,
        range: Range,
    ) -> BoxFuture<'a, Result<QueryResult, MetricsError>> {
        Box::pin(async move {
            let params = [
                ("query", query.to_string()),
                ("start", unix_seconds(range.start)),
                ("end", unix_seconds(range.end)),
                ("step", range.step.as_secs_f64().to_string()),
            ];
            self.api("/api/v1/query_range", &params).await
        })
    }

    fn ready(&self) -> BoxFuture<'_, Result<(), MetricsError>> {
        Box::pin(async move {
            let response = self
                .get("/-/ready")
                .send()
                .await
                .map_err(|e| self.transport_error(&e))?;
            if response.status().is_success() {
                return Ok(());
            }
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            Err(MetricsError::NotReady {
                backend: self.name.clone(),
                reason: format!("HTTP {}: {}", status.as_u16(), first_line(&body)),
            })
        })
    }
}

/// Decodes an answer of Prometheus' query API (its HTTP status and body)
/// into a result or an error naming `backend`: the decoder the client uses,
/// public so that it can be fuzzed and tested without a server.
pub fn decode_response(
    backend: &str,
    status: StatusCode,
    body: &str,
) -> Result<QueryResult, MetricsError> {
    let unparseable = |reason: String| MetricsError::Unparseable {
        backend: backend.to_string(),
        status: status.as_u16(),
        reason,
        body: first_line(body),
    };
    let envelope: Envelope = match serde_json::from_str(body) {
        Ok(envelope) => envelope,
        Err(e) if status.is_success() => return Err(unparseable(e.to_string())),
        Err(_) => {
            return Err(MetricsError::Http {
                backend: backend.to_string(),
                status: status.as_u16(),
                body: first_line(body),
            });
        }
    };
    match envelope {
        Envelope {
            status: answer,
            data: Some(data),
            ..
        } if answer == "success" => data.into_result().map_err(unparseable),
        Envelope {
            status: answer,
            error: None,
            ..
        } if answer == "success" => Err(unparseable("`success` without `data`".into())),
        Envelope {
            error_type, error, ..
        } => Err(MetricsError::Query {
            backend: backend.to_string(),
            kind: error_type.unwrap_or_else(|| "error".into()),
            message: error.unwrap_or_else(|| format!("HTTP {status} without a message")),
        }),
    }
}

fn unix_seconds(t: Timestamp) -> String {
    format!("{:.3}", t.as_millisecond() as f64 / 1000.0)
}

/// The URL without user and password.
fn redact(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        _ => url.split('@').next_back().unwrap_or(url).to_string(),
    }
}

/// Prometheus' response envelope.
#[derive(Deserialize)]
struct Envelope {
    status: String,
    data: Option<Data>,
    #[serde(rename = "errorType")]
    error_type: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
enum Data {
    Vector(Vec<RawInstant>),
    Matrix(Vec<RawRange>),
    Scalar(RawPoint),
    String((f64, String)),
}

#[derive(Deserialize)]
struct RawInstant {
    metric: BTreeMap<String, String>,
    value: RawPoint,
}

#[derive(Deserialize)]
struct RawRange {
    metric: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<RawPoint>,
}

/// `[time, "value"]`: values are strings so that NaN and ±Inf survive JSON.
type RawPoint = (f64, String);

fn point((time, text): RawPoint) -> Result<Point, String> {
    let value = match text.as_str() {
        "NaN" => f64::NAN,
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        other => other
            .parse()
            .map_err(|_| format!("sample value `{other}` is not a number"))?,
    };
    Ok(Point { time, value })
}

impl Data {
    fn into_result(self) -> Result<QueryResult, String> {
        Ok(match self {
            Data::Vector(v) => QueryResult::Vector(
                v.into_iter()
                    .map(|s| {
                        Ok(Series {
                            labels: s.metric,
                            points: vec![point(s.value)?],
                        })
                    })
                    .collect::<Result<_, String>>()?,
            ),
            Data::Matrix(m) => QueryResult::Matrix(
                m.into_iter()
                    .map(|s| {
                        let points = s.values.into_iter().map(point).collect::<Result<_, _>>()?;
                        Ok(Series {
                            labels: s.metric,
                            points,
                        })
                    })
                    .collect::<Result<_, String>>()?,
            ),
            Data::Scalar(p) => QueryResult::Scalar(point(p)?),
            Data::String((time, value)) => QueryResult::String { time, value },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_credentials() {
        assert_eq!(
            redact("https://me:hunter2@prom.example:9090/"),
            "https://prom.example:9090/"
        );
        assert_eq!(redact("http://prom:9090"), "http://prom:9090");
    }
}
