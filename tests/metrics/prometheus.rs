//! The Prometheus client against responses recorded from a real Prometheus
//! (tests/fixtures/prometheus), served from 127.0.0.1.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use flightdeck::metrics::MetricsConfig;
use flightdeck::metrics::Prometheus;
use flightdeck::metrics::{MetricsError, MetricsSource, QueryResult, Range};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves one fixture (or hangs, for `None`) to every request; keeps each request's head.
struct FixtureServer {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

fn fixture(name: &str) -> (u16, String) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/prometheus");
    let body = std::fs::read_to_string(format!("{dir}/{name}.json")).unwrap();
    let status = std::fs::read_to_string(format!("{dir}/{name}.status")).unwrap();
    (status.trim().parse().unwrap(), body)
}

async fn serve(response: Option<(u16, String)>) -> FixtureServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let response = response.clone();
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                seen.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&head).into_owned());
                let Some((status, body)) = response else {
                    // Never answer: the client's timeout must fire.
                    std::future::pending::<()>().await;
                    return;
                };
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(reply.as_bytes()).await;
            });
        }
    });
    FixtureServer { url, requests }
}

fn config(url: &str, extra: &str) -> MetricsConfig {
    #[derive(serde::Deserialize)]
    struct File {
        metrics: MetricsConfig,
    }
    let text = format!("[metrics]\nurl = \"{url}\"\ntimeout = \"2s\"\n{extra}");
    toml::from_str::<File>(&text).unwrap().metrics
}

async fn instant(name: &str) -> (Result<QueryResult, MetricsError>, String, Vec<String>) {
    let server = serve(Some(fixture(name))).await;
    let prom: Box<dyn MetricsSource> = Box::new(Prometheus::new(&config(&server.url, "")).unwrap());
    let at = "2026-11-22T00:56:43.488Z".parse().unwrap();
    let result = prom.query("up", Some(at)).await;
    let requests = server.requests.lock().unwrap().clone();
    (result, server.url, requests)
}

#[tokio::test]
async fn vector_with_labels_and_the_query_sent() {
    let (result, _, requests) = instant("vector").await;
    let QueryResult::Vector(series) = result.unwrap() else {
        panic!("not a vector")
    };
    assert_eq!(series.len(), 1);
    assert_eq!(series[0].labels["job"], "prometheus");
    assert_eq!(series[0].points[0].value, 1.0);
    assert_eq!(series[0].points[0].time, 1795309003.488);
    assert!(
        requests[0].starts_with("GET /api/v1/query?query=up&time=1795309003.488 "),
        "{}",
        requests[0]
    );
}

#[tokio::test]
async fn nan_and_infinities_arrive_as_numbers() {
    let (result, _, _) = instant("vector_special").await;
    let values = result.unwrap().values();
    assert!(values[0].is_nan());
    assert_eq!(values[1..], [f64::INFINITY, f64::NEG_INFINITY]);
}

#[tokio::test]
async fn an_empty_vector_has_no_single_value() {
    let (result, _, _) = instant("vector_empty").await;
    let result = result.unwrap();
    assert_eq!(result, QueryResult::Vector(Vec::new()));
    assert_eq!(result.single_value(), None);
}

#[tokio::test]
async fn scalars_and_strings() {
    let (scalar, _, _) = instant("scalar").await;
    assert_eq!(scalar.unwrap().single_value(), Some(1.0));
    let (nan, _, _) = instant("scalar_nan").await;
    assert!(nan.unwrap().single_value().unwrap().is_nan());
    let (string, _, _) = instant("string").await;
    assert_eq!(
        string.unwrap(),
        QueryResult::String {
            time: 1795309003.547,
            value: "hello".into()
        }
    );
}

#[tokio::test]
async fn matrix_from_a_range_query() {
    let server = serve(Some(fixture("matrix"))).await;
    let prom = Prometheus::new(&config(&server.url, "")).unwrap();
    let range = Range {
        start: "2026-11-22T00:56:37Z".parse().unwrap(),
        end: "2026-11-22T00:56:43Z".parse().unwrap(),
        step: Duration::from_secs(2),
    };
    let QueryResult::Matrix(series) = prom.query_range("up", range).await.unwrap() else {
        panic!("not a matrix")
    };
    assert_eq!(series[0].labels["handler"], "/-/ready");
    assert_eq!(
        series[0].points.iter().map(|p| p.time).collect::<Vec<_>>(),
        [1795309001.0, 1795309003.0]
    );
    let request = &server.requests.lock().unwrap()[0];
    assert!(
        request.starts_with(
            "GET /api/v1/query_range?query=up&start=1795308997.000&end=1795309003.000&step=2 "
        ),
        "{request}"
    );
}

#[tokio::test]
async fn each_error_type_becomes_plain_words() {
    for (name, words) in [
        (
            "error_bad_data",
            "bad_data: invalid parameter \"query\": 1:16: parse error: unclosed left parenthesis",
        ),
        (
            "error_execution",
            "execution: vector cannot contain metrics with the same labelset",
        ),
        (
            "error_timeout",
            "timeout: query timed out in expression evaluation",
        ),
        (
            "error_too_many_points",
            "bad_data: exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
        ),
        ("not_found", "HTTP 404: 404 page not found"),
    ] {
        let (result, url, _) = instant(name).await;
        assert_eq!(
            result.unwrap_err().to_string(),
            format!("Prometheus at {url}: {words}"),
            "{name}"
        );
    }
}

/// Bodies that are not Prometheus' JSON, as a proxy, a wrong port or a cut connection give
/// them: each is an error naming the backend, the HTTP status and what was wrong.
#[tokio::test]
async fn an_unparseable_answer_names_the_backend_and_status() {
    let vector = fixture("vector").1;
    for (body, words) in [
        (
            "garbage {".to_string(),
            "expected value at line 1 column 1 (body: garbage {)".to_string(),
        ),
        (
            "<!DOCTYPE html>\n<html><body>Sign in to continue</body></html>".to_string(),
            "expected value at line 1 column 1 (body: <!DOCTYPE html>)".to_string(),
        ),
        (
            vector[..vector.len() / 2].to_string(),
            format!(
                "EOF while parsing a string at line 1 column {} (body: {})",
                vector.len() / 2,
                &vector[..vector.len() / 2]
            ),
        ),
        (
            r#"{"status":"success","data":{"resultType":"vector","result":"none"}}"#.to_string(),
            "invalid type: string \"none\", expected a sequence at line 1 column 65 (body: {\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":\"none\"}})".to_string(),
        ),
        (
            r#"{"status":"success"}"#.to_string(),
            "`success` without `data` (body: {\"status\":\"success\"})".to_string(),
        ),
    ] {
        let server = serve(Some((200, body.clone()))).await;
        let prom = Prometheus::new(&config(&server.url, "")).unwrap();
        for result in [
            prom.query("up", None).await,
            prom.query_range(
                "up",
                Range {
                    start: "2026-11-22T00:00:00Z".parse().unwrap(),
                    end: "2026-11-22T00:01:00Z".parse().unwrap(),
                    step: Duration::from_secs(10),
                },
            )
            .await,
        ] {
            assert_eq!(
                result.unwrap_err().to_string(),
                format!("Prometheus at {}: 200: unparseable answer: {words}", server.url),
                "{body}"
            );
        }
    }
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let server = serve(None).await;
    let mut cfg = config(&server.url, "");
    cfg.timeout = Duration::from_millis(300);
    let err = Prometheus::new(&cfg)
        .unwrap()
        .query("up", None)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("Prometheus at {}: timed out after 300ms", server.url)
    );
}

#[tokio::test]
async fn a_closed_port_is_unreachable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let prom = Prometheus::new(&config(&url, "")).unwrap();
    let err = prom.query("up", None).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("Prometheus at {url}: unreachable: connection refused")
    );
}

#[tokio::test]
async fn readiness() {
    let ready = serve(Some((200, "Prometheus Server is Ready.\n".into()))).await;
    Prometheus::new(&config(&ready.url, ""))
        .unwrap()
        .ready()
        .await
        .unwrap();
    assert!(ready.requests.lock().unwrap()[0].starts_with("GET /-/ready "));

    let starting = serve(Some((503, "Service Unavailable\n".into()))).await;
    let err = Prometheus::new(&config(&starting.url, ""))
        .unwrap()
        .ready()
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "Prometheus at {}: not ready: HTTP 503: Service Unavailable",
            starting.url
        )
    );
}

#[tokio::test]
async fn credentials_from_the_environment_are_sent_and_never_shown() {
    let server = serve(Some(fixture("vector"))).await;
    let cfg = config(
        &server.url,
        "bearer_token_env = \"PROM_TOKEN\"\nheaders = { \"X-Scope-OrgID\" = \"shop\" }\nheaders_env = { \"X-Api-Key\" = \"PROM_KEY\" }",
    );
    let env = |name: &str| match name {
        "PROM_TOKEN" => Some("t0ken-s3cret".to_string()),
        "PROM_KEY" => Some("k3y-s3cret".to_string()),
        _ => None,
    };
    let prom = Prometheus::with_env(&cfg, env).unwrap();
    prom.query("up", None).await.unwrap();
    let request = server.requests.lock().unwrap()[0].to_lowercase();
    assert!(
        request.contains("authorization: bearer t0ken-s3cret\r\n"),
        "{request}"
    );
    assert!(request.contains("x-api-key: k3y-s3cret\r\n"));
    assert!(request.contains("x-scope-orgid: shop\r\n"));
    assert!(!format!("{cfg:?}").contains("s3cret"));

    let missing = Prometheus::with_env(&cfg, |_| None).err().unwrap();
    assert_eq!(
        missing.to_string(),
        "metrics backend: environment variable PROM_KEY (header X-Api-Key) is not set"
    );
}

#[tokio::test]
async fn basic_auth_and_inline_secrets_stay_out_of_debug_output() {
    let server = serve(Some(fixture("vector"))).await;
    let cfg = config(
        &server.url,
        "basic_auth = { username = \"user\", password = \"pa55-s3cret\" }",
    );
    assert!(!format!("{cfg:?}").contains("s3cret"));
    Prometheus::new(&cfg)
        .unwrap()
        .query("up", None)
        .await
        .unwrap();
    // base64("user:pa55-s3cret"), by Python's base64 module.
    let request = &server.requests.lock().unwrap()[0];
    assert!(
        request.contains("authorization: Basic dXNlcjpwYTU1LXMzY3JldA==\r\n"),
        "{request}"
    );
}

#[test]
fn credentials_in_the_url_are_not_in_errors() {
    let cfg = config("http://me:hunter2@127.0.0.1:1", "");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = runtime.block_on(async {
        Prometheus::new(&cfg)
            .unwrap()
            .query("up", None)
            .await
            .unwrap_err()
    });
    assert!(!err.to_string().contains("hunter2"), "{err}");
    assert!(
        err.to_string()
            .starts_with("Prometheus at http://127.0.0.1:1: unreachable"),
        "{err}"
    );
}
