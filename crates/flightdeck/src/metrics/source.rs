//! `MetricsSource`: what the cockpit asks of a metrics backend, and what it gets back.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::future::BoxFuture;
use jiff::Timestamp;

/// One point: Unix time in seconds and the value (NaN and ±∞ included).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub time: f64,
    pub value: f64,
}

pub type Labels = BTreeMap<String, String>;

/// A labelled series: one point for an instant query, many for a range query.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: Labels,
    pub points: Vec<Point>,
}

/// A query's result, by the backend's result type.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryResult {
    /// Instant query over series: one point per series.
    Vector(Vec<Series>),
    /// Range query: many points per series.
    Matrix(Vec<Series>),
    Scalar(Point),
    String {
        time: f64,
        value: String,
    },
}

impl QueryResult {
    /// The single number of an instant query (`sum(...)` or a scalar); None
    /// when the query matched no series.
    pub fn single_value(&self) -> Option<f64> {
        match self {
            Self::Scalar(p) => Some(p.value),
            Self::Vector(series) => series.first()?.points.first().map(|p| p.value),
            _ => None,
        }
    }

    /// Every point's value over all series, e.g. a latency series for the judge.
    pub fn values(&self) -> Vec<f64> {
        match self {
            Self::Vector(series) | Self::Matrix(series) => series
                .iter()
                .flat_map(|s| s.points.iter().map(|p| p.value))
                .collect(),
            Self::Scalar(p) => vec![p.value],
            Self::String { .. } => Vec::new(),
        }
    }
}

/// The time span and resolution of a range query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    pub start: Timestamp,
    pub end: Timestamp,
    pub step: Duration,
}

/// A failed query, in words a person can act on. `backend` names the
/// backend and its address, never its credentials.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricsError {
    /// The backend answered with its error envelope (`bad_data`, `execution`, `timeout`, ...).
    #[error("{backend}: {kind}: {message}")]
    Query {
        backend: String,
        kind: String,
        message: String,
    },
    #[error("{backend}: timed out after {}", seconds(*after))]
    Timeout { backend: String, after: Duration },
    #[error("{backend}: unreachable: {reason}")]
    Unreachable { backend: String, reason: String },
    /// An HTTP error without the backend's envelope (a proxy, a wrong path, no permission).
    #[error("{backend}: HTTP {status}: {body}")]
    Http {
        backend: String,
        status: u16,
        body: String,
    },
    /// Refused for the credentials (401, 403), in words saying which one to look at.
    #[error("{backend}: {status}: {reason}")]
    Refused {
        backend: String,
        status: u16,
        reason: String,
    },
    /// A 429: no query goes out for `wait`, as the header `told_by` asked.
    #[error("{backend}: 429: rate limited; no queries for {} ({told_by})", whole_seconds(*wait))]
    RateLimited {
        backend: String,
        wait: Duration,
        told_by: String,
    },
    /// Some of the queries of one request failed: the answer cannot be judged on.
    #[error("{backend}: partial answer: {reason}")]
    Partial { backend: String, reason: String },
    #[error("{backend}: not ready: {reason}")]
    NotReady { backend: String, reason: String },
    /// An answer that is not Prometheus' JSON (a proxy's HTML page, a truncated body).
    #[error("{backend}: {status}: unparseable answer: {reason} (body: {body})")]
    Unparseable {
        backend: String,
        status: u16,
        reason: String,
        /// The body's first line, cut short.
        body: String,
    },
    /// The answer's body could not be read to its end.
    #[error("{backend}: unexpected response: {reason}")]
    Decode { backend: String, reason: String },
    /// The client could not be built from the configuration.
    #[error("metrics backend: {0}")]
    Config(String),
}

/// A wait, counting down: whole seconds, rounded up.
fn whole_seconds(d: Duration) -> String {
    format!("{}s", d.as_secs() + u64::from(d.subsec_nanos() > 0))
}

fn seconds(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// A metrics backend. Object-safe: the cockpit holds a `Box<dyn MetricsSource>`.
pub trait MetricsSource: Send + Sync {
    /// An instant query, evaluated at `at` (the backend's now when None).
    fn query<'a>(
        &'a self,
        query: &'a str,
        at: Option<Timestamp>,
    ) -> BoxFuture<'a, Result<QueryResult, MetricsError>>;

    /// A range query.
    fn query_range<'a>(
        &'a self,
        query: &'a str,
        range: Range,
    ) -> BoxFuture<'a, Result<QueryResult, MetricsError>>;

    /// Whether the backend is up and ready to answer queries.
    fn ready(&self) -> BoxFuture<'_, Result<(), MetricsError>>;
}
