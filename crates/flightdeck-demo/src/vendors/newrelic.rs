//! A simulated New Relic for one simulated cluster: NerdGraph's `POST /graphql` with the
//! account query flightdeck checks readiness with, and NRQL queries of the APM preset
//! (`SELECT count(*)` or `percentile(duration, 99)` `FROM Transaction WHERE appName = …
//! AND `<version attribute>` = … [AND error IS true] SINCE … UNTIL … TIMESERIES … seconds`)
//! answered as `TIMESERIES` results from the cluster's traffic model. Every request is
//! checked: path, the `API-Key` header, the GraphQL text, the account, each NRQL; a wrong
//! one is answered 400 and kept.

use std::sync::Arc;

use flightdeck_sim::TrafficHandle;
use serde_json::{Map, Value, json};

use super::buckets::{buckets, history_of};
use super::server::{Answer, Request, Served, serve};

/// What the simulated New Relic expects of its clients.
#[derive(Debug, Clone)]
pub struct NewRelicExpects {
    pub api_key: String,
    pub account: u64,
    pub version_attribute: String,
}

pub async fn start(traffic: TrafficHandle, expects: NewRelicExpects) -> std::io::Result<Served> {
    serve(Arc::new(move |request: &Request| {
        answer(&traffic, &expects, request)
    }))
    .await
}

const READY: &str = "query($account: Int!) { actor { account(id: $account) { id } } }";

fn answer(
    traffic: &TrafficHandle,
    expects: &NewRelicExpects,
    request: &Request,
) -> Result<Answer, String> {
    if (request.method.as_str(), request.path.as_str()) != ("POST", "/graphql")
        || request.query.is_some()
    {
        return Err(format!(
            "NerdGraph is POST /graphql, not {} {}",
            request.method, request.path
        ));
    }
    if !request
        .header("content-type")?
        .starts_with("application/json")
    {
        return Err("the body is not sent as application/json".into());
    }
    if request.header("api-key")? != expects.api_key {
        return Ok(Answer::json(
            401,
            json!({"errors": [{"message": "Invalid API key", "extensions": {"errorClass": "UNAUTHORIZED"}}]}),
        ));
    }
    let body: Value =
        serde_json::from_str(&request.body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let query = body
        .get("query")
        .and_then(Value::as_str)
        .ok_or("no `query`")?;
    let variables = body
        .get("variables")
        .and_then(Value::as_object)
        .ok_or("no `variables`")?;
    if variables.get("account") != Some(&json!(expects.account)) {
        return Err(format!("variables.account is not {}", expects.account));
    }
    if query == READY {
        return Ok(Answer::json(
            200,
            json!({"data": {"actor": {"account": {"id": expects.account}}}}),
        ));
    }
    let names: Vec<String> = (0..variables.len() - 1).map(|i| format!("q{i}")).collect();
    let parameters: String = names.iter().map(|n| format!(", ${n}: Nrql!")).collect();
    let fields: String = names
        .iter()
        .map(|n| format!(" {n}: nrql(query: ${n}, timeout: 10) {{ results }}"))
        .collect();
    let expected = format!(
        "query($account: Int!{parameters}) {{ actor {{ account(id: $account) {{{fields} }} }} }}"
    );
    if query != expected {
        return Err(format!("the GraphQL `{query}` is not `{expected}`"));
    }
    let mut account = Map::new();
    for name in names {
        let nrql = variables
            .get(&name)
            .and_then(Value::as_str)
            .ok_or(format!("no variable {name}"))?;
        account.insert(name, json!({"results": results(traffic, expects, nrql)?}));
    }
    Ok(Answer::json(
        200,
        json!({"data": {"actor": {"account": account}}}),
    ))
}

fn results(
    traffic: &TrafficHandle,
    expects: &NewRelicExpects,
    nrql: &str,
) -> Result<Vec<Value>, String> {
    let wrong = |why: &str| format!("NRQL `{nrql}`: {why}");
    let (select, rest) = nrql
        .strip_prefix("SELECT ")
        .and_then(|r| r.split_once(" FROM Transaction WHERE appName = '"))
        .ok_or_else(|| wrong("not SELECT … FROM Transaction WHERE appName = '…'"))?;
    let (rollout, rest) = rest
        .split_once("' AND `")
        .ok_or_else(|| wrong("no version condition"))?;
    let (attribute, rest) = rest
        .split_once("` = '")
        .ok_or_else(|| wrong("no version condition"))?;
    if attribute != expects.version_attribute {
        return Err(wrong(&format!(
            "the version attribute is {}",
            expects.version_attribute
        )));
    }
    let (version, rest) = rest
        .split_once('\'')
        .ok_or_else(|| wrong("an unclosed version"))?;
    let (errors_only, rest) = match rest.strip_prefix(" AND error IS true") {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    let words: Vec<&str> = rest.split_whitespace().collect();
    let [
        "SINCE",
        since,
        "UNTIL",
        until,
        "TIMESERIES",
        step,
        "seconds",
    ] = words[..]
    else {
        return Err(wrong("not … SINCE <ms> UNTIL <ms> TIMESERIES <n> seconds"));
    };
    let number = |text: &str| {
        text.parse::<i64>()
            .map_err(|_| wrong(&format!("`{text}` is not a number")))
    };
    let (since, until, step) = (number(since)?, number(until)?, number(step)?);
    if since >= until || step < 10 || step % 10 != 0 {
        return Err(wrong("a span, and buckets of 10 s or whole multiples"));
    }
    let percentile = match select {
        "count(*)" => false,
        "percentile(duration, 99)" if !errors_only => true,
        other => {
            return Err(wrong(&format!(
                "`{other}` is not count(*) or percentile(duration, 99)"
            )));
        }
    };
    let history = history_of(traffic, rollout, version).unwrap_or_default();
    Ok(buckets(&history, since / 1000, until / 1000, step)
        .iter()
        .map(|b| {
            let times = (b.start, b.start + step);
            match (percentile, errors_only) {
                (true, _) => json!({"beginTimeSeconds": times.0, "endTimeSeconds": times.1, "percentile.duration": {"99": b.p99}}),
                (false, true) => json!({"beginTimeSeconds": times.0, "endTimeSeconds": times.1, "count": b.errors}),
                (false, false) => json!({"beginTimeSeconds": times.0, "endTimeSeconds": times.1, "count": b.requests}),
            }
        })
        .collect())
}
