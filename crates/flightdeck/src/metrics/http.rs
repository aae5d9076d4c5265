//! What the HTTP clients of every backend share: a failed transport in plain words, the
//! wait a rate limit asks for (and no request before it is over), and credentials cut
//! out of any text a backend sends back.

use std::sync::Mutex;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::time::Instant;

use crate::metrics::config::Secret;
use crate::metrics::source::MetricsError;

/// A request that got no answer: timed out, refused, or cut short.
pub(crate) fn transport_error(
    backend: &str,
    timeout: Duration,
    e: &reqwest::Error,
) -> MetricsError {
    let backend = backend.to_string();
    if e.is_timeout() {
        return MetricsError::Timeout {
            backend,
            after: timeout,
        };
    }
    // The innermost cause says what happened ("connection refused"),
    // and carries no URL, so no credentials.
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let reason = match cause
        .downcast_ref::<std::io::Error>()
        .map(std::io::Error::kind)
    {
        Some(std::io::ErrorKind::ConnectionRefused) => "connection refused".to_string(),
        _ => cause.to_string(),
    };
    if e.is_connect() || e.is_request() {
        MetricsError::Unreachable { backend, reason }
    } else {
        MetricsError::Decode { backend, reason }
    }
}

/// The first line of a body, cut to a readable length (proxies answer with whole HTML pages).
pub(crate) fn first_line(body: &str) -> String {
    let line = body
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    match line.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_string(),
    }
}

/// A header whose value is a credential: reqwest keeps sensitive values out of its Debug.
pub(crate) fn secret_header(
    name: &'static str,
    value: &Secret,
) -> Result<(HeaderName, HeaderValue), MetricsError> {
    let mut header = HeaderValue::try_from(value.expose()).map_err(|_| {
        MetricsError::Config(format!(
            "the value for header `{name}` is not valid in a header"
        ))
    })?;
    header.set_sensitive(true);
    Ok((HeaderName::from_static(name), header))
}

/// The credentials a client sends, to be cut out of whatever a backend answers: an
/// error page may echo the request's headers.
#[derive(Debug, Clone, Default)]
pub(crate) struct Redact(Vec<Secret>);

impl Redact {
    pub(crate) fn new(secrets: impl IntoIterator<Item = Secret>) -> Redact {
        Redact(
            secrets
                .into_iter()
                .filter(|s| !s.expose().is_empty())
                .collect(),
        )
    }

    pub(crate) fn text(&self, text: &str) -> String {
        self.0.iter().fold(text.to_string(), |text, s| {
            text.replace(s.expose(), "<redacted>")
        })
    }
}

/// How long a 429 asks to wait, and which header said so: Datadog's `X-RateLimit-Reset`
/// (seconds until the period resets), else the standard `Retry-After` (seconds), else a
/// minute.
pub(crate) fn wait_asked(headers: &HeaderMap) -> (Duration, &'static str) {
    let seconds = |name: &str| {
        headers
            .get(name)?
            .to_str()
            .ok()?
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s >= 0.0)
    };
    match (seconds("x-ratelimit-reset"), seconds("retry-after")) {
        (Some(s), _) => (Duration::from_secs_f64(s), "X-RateLimit-Reset"),
        (None, Some(s)) => (Duration::from_secs_f64(s), "Retry-After"),
        (None, None) => (Duration::from_secs(60), "no header; a minute"),
    }
}

/// After a 429, no request goes out until the wait it asked for is over: each one asked
/// meanwhile fails at once, saying how long is left.
#[derive(Debug, Default)]
pub(crate) struct RateGate(Mutex<Option<(Instant, &'static str)>>);

impl RateGate {
    /// `Err` while a wait is on.
    pub(crate) fn check(&self, backend: &str) -> Result<(), MetricsError> {
        let mut held = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match *held {
            Some((until, told_by)) if until > Instant::now() => Err(MetricsError::RateLimited {
                backend: backend.to_string(),
                wait: until - Instant::now(),
                told_by: told_by.to_string(),
            }),
            _ => {
                *held = None;
                Ok(())
            }
        }
    }

    /// A 429: hold every request for the time asked; the error to give for it.
    pub(crate) fn hold(&self, backend: &str, headers: &HeaderMap) -> MetricsError {
        let (wait, told_by) = wait_asked(headers);
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now() + wait, told_by));
        tracing::warn!("{backend}: 429: rate limited; no queries for {wait:?} ({told_by})");
        MetricsError::RateLimited {
            backend: backend.to_string(),
            wait,
            told_by: told_by.to_string(),
        }
    }
}

/// A vendor's HTTP client: its credentials in sensitive default headers, no request while
/// a 429's wait is on, and each answer as its status and its body with the credentials
/// cut out.
#[derive(Debug)]
pub(crate) struct VendorClient {
    http: reqwest::Client,
    /// The backend's name, the start of every error.
    pub(crate) name: String,
    timeout: Duration,
    gate: RateGate,
    redact: Redact,
}

impl VendorClient {
    pub(crate) fn new(
        name: String,
        timeout: Duration,
        credentials: &[(&'static str, &Secret)],
    ) -> Result<VendorClient, MetricsError> {
        let mut headers = HeaderMap::new();
        for (header, value) in credentials {
            let (name, value) = secret_header(header, value)?;
            headers.insert(name, value);
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .default_headers(headers)
            .build()
            .map_err(|e| MetricsError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(VendorClient {
            http,
            name,
            timeout,
            gate: RateGate::default(),
            redact: Redact::new(credentials.iter().map(|(_, s)| (*s).clone())),
        })
    }

    pub(crate) fn get(&self, url: &str) -> reqwest::RequestBuilder {
        self.http.get(url)
    }

    pub(crate) fn post(&self, url: &str, body: &serde_json::Value) -> reqwest::RequestBuilder {
        self.http.post(url).json(body)
    }

    /// Sends `request` unless a rate limit holds; a 429 holds the next ones.
    pub(crate) async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(StatusCode, String), MetricsError> {
        self.gate.check(&self.name)?;
        let response = request
            .send()
            .await
            .map_err(|e| transport_error(&self.name, self.timeout, &e))?;
        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(self.gate.hold(&self.name, response.headers()));
        }
        let body = response
            .text()
            .await
            .map_err(|e| transport_error(&self.name, self.timeout, &e))?;
        Ok((status, self.redact.text(&body)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_comes_from_the_headers_a_429_carries() {
        let mut headers = HeaderMap::new();
        assert_eq!(
            wait_asked(&headers),
            (Duration::from_secs(60), "no header; a minute")
        );
        headers.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(
            wait_asked(&headers),
            (Duration::from_secs(7), "Retry-After")
        );
        headers.insert("x-ratelimit-reset", HeaderValue::from_static("37"));
        assert_eq!(
            wait_asked(&headers),
            (Duration::from_secs(37), "X-RateLimit-Reset")
        );
    }

    #[tokio::test]
    async fn a_held_gate_refuses_until_its_wait_is_over() {
        let gate = RateGate::default();
        assert!(gate.check("Datadog").is_ok());
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-reset", HeaderValue::from_static("3600"));
        let error = gate.hold("Datadog", &headers);
        assert!(
            error.to_string().starts_with("Datadog: 429: rate limited"),
            "{error}"
        );
        let Err(MetricsError::RateLimited { wait, .. }) = gate.check("Datadog") else {
            panic!("held")
        };
        assert!(wait > Duration::from_secs(3500));
        headers.insert("x-ratelimit-reset", HeaderValue::from_static("0"));
        gate.hold("Datadog", &headers);
        assert!(gate.check("Datadog").is_ok());
    }

    #[test]
    fn credentials_are_cut_out_of_text() {
        let redact = Redact::new([Secret::new("k-123"), Secret::new("")]);
        assert_eq!(
            redact.text("bad header DD-API-KEY: k-123"),
            "bad header DD-API-KEY: <redacted>"
        );
    }
}
