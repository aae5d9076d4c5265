//! A simulated Datadog for one simulated cluster: `GET /api/v1/validate` and
//! `POST /api/v2/query/timeseries`, as Datadog's API reference describes them, answering
//! the APM preset's queries (`sum:trace.<op>.hits|errors{…}.as_count()`,
//! `p99:trace.<op>{…}`) from the cluster's traffic model. Every request is checked:
//! method, path, no query string, both key headers, the JSON body's every field, each
//! query's metric, aggregator and tags; a wrong one is answered 400 and kept.

use std::sync::Arc;

use flightdeck_sim::TrafficHandle;
use serde_json::{Value, json};

use super::buckets::{Bucket, buckets, history_of};
use super::server::{Answer, Request, Served, serve};

/// What the simulated Datadog expects of its clients.
#[derive(Debug, Clone)]
pub struct DatadogExpects {
    pub api_key: String,
    pub application_key: String,
    /// The traced operation: `trace.<operation>.hits`.
    pub operation: String,
    /// The `env` tag the queries must carry, if any.
    pub env: Option<String>,
}

/// Starts it on 127.0.0.1, serving `traffic`.
pub async fn start(traffic: TrafficHandle, expects: DatadogExpects) -> std::io::Result<Served> {
    serve(Arc::new(move |request: &Request| {
        answer(&traffic, &expects, request)
    }))
    .await
}

fn answer(
    traffic: &TrafficHandle,
    expects: &DatadogExpects,
    request: &Request,
) -> Result<Answer, String> {
    if let Some(query) = &request.query {
        return Err(format!(
            "a query string `{query}`: the keys and the query go in headers and body"
        ));
    }
    let api_key = request.header("dd-api-key")?;
    match (request.method.as_str(), request.path.as_str()) {
        ("GET", "/api/v1/validate") => Ok(if api_key == expects.api_key {
            Answer::json(200, json!({"valid": true}))
        } else {
            Answer::json(403, json!({"errors": ["Forbidden"]}))
        }),
        ("POST", "/api/v2/query/timeseries") => {
            let application_key = request.header("dd-application-key")?;
            if !request
                .header("content-type")?
                .starts_with("application/json")
            {
                return Err("the body is not sent as application/json".into());
            }
            if api_key != expects.api_key || application_key != expects.application_key {
                return Ok(Answer::json(403, json!({"errors": ["Forbidden"]})));
            }
            timeseries(traffic, expects, &request.body)
        }
        (method, path) => Err(format!("no such endpoint: {method} {path}")),
    }
}

/// What one query asks for.
#[derive(Debug, PartialEq)]
enum Asked {
    Hits,
    Errors,
    P99,
}

fn timeseries(
    traffic: &TrafficHandle,
    expects: &DatadogExpects,
    body: &str,
) -> Result<Answer, String> {
    let body: Value =
        serde_json::from_str(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let data = body.get("data").ok_or("no `data`")?;
    if data.get("type") != Some(&json!("timeseries_request")) {
        return Err("data.type is not \"timeseries_request\"".into());
    }
    let attributes = data.get("attributes").ok_or("no data.attributes")?;
    let number = |name: &str| {
        attributes.get(name).and_then(Value::as_i64).ok_or(format!(
            "data.attributes.{name} is not a number of milliseconds"
        ))
    };
    let (from, to, interval) = (number("from")?, number("to")?, number("interval")?);
    if from >= to || interval < 10_000 || interval % 10_000 != 0 {
        return Err(format!(
            "from {from}, to {to}, interval {interval}: a span and 10 s buckets or whole multiples"
        ));
    }
    let queries = attributes
        .get("queries")
        .and_then(Value::as_array)
        .ok_or("no queries")?;
    let formulas = attributes
        .get("formulas")
        .and_then(Value::as_array)
        .ok_or("no formulas")?;
    if formulas.len() != queries.len() {
        return Err("a formula per query".into());
    }
    let step = interval / 1000;
    let mut series = Vec::new();
    let mut values = Vec::new();
    let mut times = Vec::new();
    for (i, (query, formula)) in queries.iter().zip(formulas).enumerate() {
        let name = format!("q{i}");
        if query.get("data_source") != Some(&json!("metrics"))
            || query.get("name") != Some(&json!(name))
        {
            return Err(format!(
                "query {i}: data_source \"metrics\" and name {name:?}"
            ));
        }
        if formula != &json!({"formula": name}) {
            return Err(format!("formula {i} is not {{\"formula\": {name:?}}}"));
        }
        let text = query
            .get("query")
            .and_then(Value::as_str)
            .ok_or("a query without text")?;
        let (asked, rollout, version) = parse(text, expects)?;
        // A version the model does not have matches no series, as in Datadog.
        let Some(history) = history_of(traffic, &rollout, &version) else {
            continue;
        };
        let buckets = buckets(&history, from / 1000, to / 1000, step);
        times = buckets.iter().map(|b| b.start * 1000).collect();
        series.push(json!({"group_tags": [], "query_index": i, "unit": null}));
        values.push(buckets.iter().map(|b| value(&asked, b)).collect::<Vec<_>>());
    }
    Ok(Answer::json(
        200,
        json!({"data": {"type": "timeseries_response", "attributes": {"series": series, "times": times, "values": values}}}),
    ))
}

fn value(asked: &Asked, bucket: &Bucket) -> Value {
    match asked {
        Asked::Hits if bucket.requests > 0 => json!(bucket.requests),
        Asked::Errors if bucket.requests > 0 => json!(bucket.errors),
        Asked::P99 => json!(bucket.p99),
        _ => Value::Null,
    }
}

/// `sum:trace.<op>.hits{service:X,version:Y[,env:Z]}.as_count()` and the like: what it
/// asks, of which rollout and version.
fn parse(query: &str, expects: &DatadogExpects) -> Result<(Asked, String, String), String> {
    let wrong = |why: &str| format!("query `{query}`: {why}");
    let trace = format!("trace.{}", expects.operation);
    let (head, rest) = query.split_once('{').ok_or_else(|| wrong("no {tags}"))?;
    let (tags, tail) = rest
        .split_once('}')
        .ok_or_else(|| wrong("unclosed {tags}"))?;
    let asked = match (head, tail) {
        (h, ".as_count()") if h == format!("sum:{trace}.hits") => Asked::Hits,
        (h, ".as_count()") if h == format!("sum:{trace}.errors") => Asked::Errors,
        (h, "") if h == format!("p99:{trace}") => Asked::P99,
        _ => {
            return Err(wrong(&format!(
                "not one of sum:{trace}.hits|errors{{…}}.as_count(), p99:{trace}{{…}}"
            )));
        }
    };
    let (mut service, mut version, mut env) = (None, None, None);
    for tag in tags.split(',') {
        match tag.split_once(':') {
            Some(("service", v)) => service = Some(v.to_string()),
            Some(("version", v)) => version = Some(v.to_string()),
            Some(("env", v)) => env = Some(v.to_string()),
            _ => return Err(wrong(&format!("an unexpected tag `{tag}`"))),
        }
    }
    if env != expects.env {
        return Err(wrong(&format!(
            "env tag {env:?}, expected {:?}",
            expects.env
        )));
    }
    Ok((
        asked,
        service.ok_or_else(|| wrong("no service tag"))?,
        version.ok_or_else(|| wrong("no version tag"))?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expects() -> DatadogExpects {
        DatadogExpects {
            api_key: "a".into(),
            application_key: "b".into(),
            operation: "http.request".into(),
            env: None,
        }
    }

    #[test]
    fn the_presets_queries_parse_and_others_do_not() {
        let parsed = parse(
            "sum:trace.http.request.hits{service:checkout,version:5d2a}.as_count()",
            &expects(),
        );
        assert_eq!(parsed, Ok((Asked::Hits, "checkout".into(), "5d2a".into())));
        assert_eq!(
            parse(
                "p99:trace.http.request{service:checkout,version:5d2a}",
                &expects()
            )
            .unwrap()
            .0,
            Asked::P99
        );
        assert!(
            parse(
                "sum:trace.http.request.hits{service:checkout,version:5d2a}",
                &expects()
            )
            .is_err()
        );
        assert!(
            parse(
                "avg:trace.http.request{service:checkout,version:5d2a}",
                &expects()
            )
            .is_err()
        );
        assert!(
            parse(
                "p99:trace.http.request{service:checkout,version:5d2a,env:prod}",
                &expects()
            )
            .is_err()
        );
    }
}
