//! Datadog and New Relic end to end, through the product's real clients over HTTP: the
//! demo's simulated vendors answer from the simulator's traffic model and check every
//! request (a wrong one fails the test). The failing checkout canary is FAIL and the
//! healthy frontend PASS through each; the figures agree with each other and with a real
//! Prometheus scraping the same clusters; and the bad days: a 429's wait, refused keys,
//! keys kept out of errors, logs and Debug output.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use flightdeck::metrics::{
    Backends, DatadogConfig, MetricState, MetricsConfig, RolloutMetrics, RolloutReading,
    WindowData, report,
};
use flightdeck::model::Outcome;
use flightdeck_demo::vendors::{self, Answer, Served};
use flightdeck_demo::{DemoMetrics, Running, demo_metrics};
use flightdeck_sim::{Fleet, FleetOptions};
use flightdeck_testkit::{judged, metric, target};

const EU: &str = "sim-prod-eu";
const PATIENCE: Duration = Duration::from_secs(90);

async fn fleet(speed: f64) -> Fleet {
    Fleet::start(FleetOptions {
        speed,
        ..FleetOptions::default()
    })
    .await
    .expect("the fleet starts")
}

/// The source `context` reads.
fn source(backends: &Backends, context: &str) -> Arc<dyn RolloutMetrics> {
    let i = backends
        .index_of(context)
        .expect("the context reads a backend");
    backends.all()[i].source.clone()
}

fn no_wrong_requests(running: &Running) {
    for server in &running.servers {
        assert!(server.violations().is_empty(), "{:#?}", server.violations());
    }
    let asked: usize = running.servers.iter().map(Served::requests).sum();
    assert!(asked > 0, "the simulated vendors were asked");
}

async fn checkout_fails_and_frontend_passes(metrics: DemoMetrics) {
    let fleet = fleet(5.0).await;
    let (backends, running) = demo_metrics(&fleet, metrics, None).await.unwrap();
    let eu = source(&backends, EU);
    eu.ready().await.expect("the simulated vendor is ready");

    let checkout = target(&fleet, EU, "shop", "checkout").await;
    let report = judged(eu.as_ref(), &checkout, PATIENCE).await;
    assert_eq!(report.verdict.outcome, Outcome::Fail, "{}", report.verdict);
    assert!(
        report.verdict.deciding.contains(&"error rate".to_string()),
        "{}",
        report.verdict
    );
    let errors = metric(&report, "error rate");
    assert!(errors.canary_worse && errors.state == MetricState::Ok);
    assert!(errors.canary_now.unwrap() > 0.3 && errors.stable_now.unwrap() < 0.01);
    let (stable_rps, canary_rps) = report.rps.expect("requests per second");
    assert!(stable_rps > canary_rps && canary_rps > 0.0);

    let frontend = target(&fleet, EU, "shop", "frontend").await;
    let report = judged(eu.as_ref(), &frontend, PATIENCE).await;
    assert_eq!(report.verdict.outcome, Outcome::Pass, "{}", report.verdict);

    // The US cluster's canaries read the US backend.
    let us = source(&backends, "sim-prod-us");
    let search = target(&fleet, "sim-prod-us", "search", "search-api").await;
    let report = judged(us.as_ref(), &search, PATIENCE).await;
    assert_eq!(report.verdict.outcome, Outcome::Fail, "{}", report.verdict);
    assert_eq!(report.verdict.deciding, ["latency p99"]);
    no_wrong_requests(&running);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_datadog_checkout_fails_and_frontend_passes() {
    checkout_fails_and_frontend_passes(DemoMetrics::Datadog).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_new_relic_checkout_fails_and_frontend_passes() {
    checkout_fails_and_frontend_passes(DemoMetrics::NewRelic).await;
}

/// What a reading says of the canary and stable: error rates over the lifetime, the
/// median of the latency samples.
#[derive(Debug)]
struct Figures {
    canary_errors: f64,
    stable_errors: f64,
    canary_p99: f64,
    stable_p99: f64,
}

fn figures(reading: &RolloutReading) -> Figures {
    let versions = |name: &str| {
        let m = reading
            .metrics
            .iter()
            .find(|m| m.spec.name == name)
            .unwrap();
        m.versions.clone().unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let rate = |w: &Option<WindowData>| match w {
        Some(WindowData::Counts { errors, requests }) => errors / requests,
        other => panic!("counts, not {other:?}"),
    };
    let median = |w: &Option<WindowData>| match w {
        Some(WindowData::Samples { values, .. }) => {
            let mut v: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        }
        other => panic!("samples, not {other:?}"),
    };
    let (errors, latency) = (versions("error rate"), versions("latency p99"));
    Figures {
        canary_errors: rate(&errors.canary.window),
        stable_errors: rate(&errors.stable.window),
        canary_p99: median(&latency.canary.window),
        stable_p99: median(&latency.stable.window),
    }
}

fn has_samples(reading: &RolloutReading) -> bool {
    reading.metrics.iter().all(|m| match &m.versions {
        Ok(v) => [&v.stable, &v.canary].iter().all(|f| match &f.window {
            Some(WindowData::Samples { values, .. }) => values.iter().any(|v| v.is_finite()),
            Some(WindowData::Counts { requests, .. }) => *requests > 0.0,
            None => false,
        }),
        Err(_) => false,
    })
}

fn close(what: &str, a: f64, b: f64, tolerance: f64) {
    assert!(
        (a - b).abs() <= tolerance,
        "{what}: {a} vs {b}, more than {tolerance} apart"
    );
}

/// One fleet read three ways. Datadog and New Relic sum the same 10 s intervals, so they
/// agree to the bucket; Prometheus counts with `increase()` over scrapes since it started
/// (extrapolated at the edges) and takes its p99 from a 1-minute rate of the histogram,
/// so it agrees within sampling and interpolation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_figures_agree_across_prometheus_datadog_and_new_relic() {
    if std::process::Command::new("prometheus")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but there is no `prometheus` on PATH"
        );
        eprintln!("skipped: no `prometheus` binary on PATH (apt-get install prometheus)");
        return;
    }
    let fleet = fleet(1.0).await;
    let mut read = Vec::new();
    let mut kept = Vec::new();
    for metrics in [
        DemoMetrics::Prometheus,
        DemoMetrics::Datadog,
        DemoMetrics::NewRelic,
    ] {
        let (backends, running) = demo_metrics(&fleet, metrics, None).await.unwrap();
        read.push((metrics, source(&backends, EU)));
        kept.push(running);
    }
    let checkout = target(&fleet, EU, "shop", "checkout").await;
    // Until Prometheus has scraped long enough for its rates to have points.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !has_samples(&read[0].1.read(&checkout).await) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no latency points from Prometheus"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let mut all = Vec::new();
    for (metrics, source) in &read {
        let reading = source.read(&checkout).await;
        let outcome = flightdeck::metrics::judge_reading(&reading, source.scoring())
            .verdict
            .outcome;
        assert_eq!(outcome, Outcome::Fail, "{metrics:?}");
        all.push((metrics, figures(&reading)));
    }
    eprintln!("{all:#?}");
    let [(_, prometheus), (_, datadog), (_, newrelic)] = &all[..] else {
        unreachable!()
    };
    close(
        "canary error rate, Datadog and New Relic",
        datadog.canary_errors,
        newrelic.canary_errors,
        0.005,
    );
    close(
        "stable error rate, Datadog and New Relic",
        datadog.stable_errors,
        newrelic.stable_errors,
        0.0005,
    );
    close(
        "canary p99, Datadog and New Relic",
        datadog.canary_p99,
        newrelic.canary_p99,
        0.01,
    );
    close(
        "stable p99, Datadog and New Relic",
        datadog.stable_p99,
        newrelic.stable_p99,
        0.01,
    );
    close(
        "canary error rate, Prometheus and Datadog",
        prometheus.canary_errors,
        datadog.canary_errors,
        0.05,
    );
    close(
        "stable error rate, Prometheus and Datadog",
        prometheus.stable_errors,
        datadog.stable_errors,
        0.005,
    );
    close(
        "canary p99, Prometheus and Datadog",
        prometheus.canary_p99,
        datadog.canary_p99,
        0.1 * datadog.canary_p99,
    );
    close(
        "stable p99, Prometheus and Datadog",
        prometheus.stable_p99,
        datadog.stable_p99,
        0.1 * datadog.stable_p99,
    );
    for running in &kept[1..] {
        no_wrong_requests(running);
    }
}

const API_KEY: &str = "dd-api-0123456789abcdef-secret";
const APP_KEY: &str = "dd-app-fedcba9876543210-secret";

/// A simulated Datadog for the EU cluster, and a backend reading it with the keys above.
async fn datadog(fleet: &Fleet) -> (Served, Backends) {
    let served = vendors::datadog::start(
        fleet.traffic(EU).unwrap(),
        vendors::datadog::DatadogExpects {
            api_key: API_KEY.into(),
            application_key: APP_KEY.into(),
            operation: "http.request".into(),
            env: None,
        },
    )
    .await
    .unwrap();
    #[derive(serde::Deserialize)]
    struct File {
        metrics: MetricsConfig,
    }
    let text = format!(
        "[metrics.backends.eu]\nkind = \"datadog\"\nsite = \"datadoghq.eu\"\nurl = \"{}\"\n",
        served.url
    );
    let config = toml::from_str::<File>(&text).unwrap().metrics;
    let env = |name: &str| match name {
        "DD_API_KEY" => Some(API_KEY.to_string()),
        "DD_APP_KEY" => Some(APP_KEY.to_string()),
        _ => None,
    };
    let backends =
        Backends::build(&config, &BTreeMap::new(), &env, Arc::new(fleet.clock())).unwrap();
    (served, backends)
}

fn errors_of(report: &flightdeck::metrics::RolloutMetricsReport) -> Vec<String> {
    report
        .metrics
        .iter()
        .map(|m| match &m.state {
            MetricState::QueryError(e) => e.clone(),
            other => panic!("{}: {other:?}", m.name),
        })
        .collect()
}

#[tokio::test]
async fn a_429_holds_every_query_for_the_wait_it_names_and_says_so() {
    let fleet = fleet(1.0).await;
    let (served, backends) = datadog(&fleet).await;
    let source = source(&backends, EU);
    let checkout = target(&fleet, EU, "shop", "checkout").await;
    served.queue(Answer {
        status: 429,
        headers: vec![("x-ratelimit-reset".into(), "1".into())],
        body: r#"{"errors": ["Too many requests"]}"#.into(),
    });
    let report = report(source.as_ref(), &checkout).await;
    assert_eq!(
        report.verdict.outcome,
        Outcome::NoData,
        "{}",
        report.verdict
    );
    let backend = format!("Datadog (datadoghq.eu) at {}", served.url);
    for error in errors_of(&report) {
        assert_eq!(
            error,
            format!("{backend}: 429: rate limited; no queries for 1s (X-RateLimit-Reset)")
        );
    }
    // Held: neither the second metric's query nor the readiness check went out.
    let asked = served.requests();
    assert_eq!(asked, 1);
    let down = source.ready().await.unwrap_err();
    assert!(down.contains("429: rate limited; no queries for"), "{down}");
    assert_eq!(served.requests(), asked);
    // Once the wait is over, the queries go out again.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    source.ready().await.unwrap();
    let report = flightdeck::metrics::report(source.as_ref(), &checkout).await;
    assert!(
        report.metrics.iter().all(|m| m.state == MetricState::Ok),
        "{:?}",
        report.metrics
    );
    assert!(served.violations().is_empty(), "{:?}", served.violations());
}

#[tokio::test]
async fn refused_keys_are_named_plainly_and_the_verdict_is_no_data() {
    let fleet = fleet(1.0).await;
    let (served, backends) = datadog(&fleet).await;
    let source = source(&backends, EU);
    let checkout = target(&fleet, EU, "shop", "checkout").await;
    let backend = format!("Datadog (datadoghq.eu) at {}", served.url);
    for (status, words) in [
        (
            403,
            "403: forbidden: the application key in DD_APP_KEY lacks the timeseries_query permission, or the keys are not of datadoghq.eu (Datadog: Forbidden)",
        ),
        (
            401,
            "401: unauthorized: Datadog does not accept the keys in DD_API_KEY and DD_APP_KEY (Datadog: Unauthorized)",
        ),
    ] {
        let said = if status == 403 {
            "Forbidden"
        } else {
            "Unauthorized"
        };
        for _ in 0..2 {
            served.queue(Answer::json(status, serde_json::json!({"errors": [said]})));
        }
        let report = report(source.as_ref(), &checkout).await;
        assert_eq!(
            report.verdict.outcome,
            Outcome::NoData,
            "{}",
            report.verdict
        );
        for error in errors_of(&report) {
            assert_eq!(error, format!("{backend}: {words}"));
        }
    }
    assert!(served.violations().is_empty(), "{:?}", served.violations());
}

/// Log lines, kept for the test.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn keys_never_show_in_errors_logs_or_debug_output() {
    let log = Log::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _logging = tracing::subscriber::set_default(subscriber);

    let fleet = fleet(1.0).await;
    let (served, backends) = datadog(&fleet).await;
    let source = source(&backends, EU);
    let checkout = target(&fleet, EU, "shop", "checkout").await;
    // A proxy that echoes the request's headers in its error page, and a 429.
    for _ in 0..2 {
        served.queue(Answer {
            status: 502,
            headers: Vec::new(),
            body: format!("bad gateway for DD-API-KEY: {API_KEY}, DD-APPLICATION-KEY: {APP_KEY}"),
        });
    }
    let mut shown = errors_of(&report(source.as_ref(), &checkout).await);
    assert!(
        shown[0].contains("HTTP 502: bad gateway for DD-API-KEY: <redacted>"),
        "{shown:?}"
    );
    served.queue(Answer {
        status: 429,
        headers: vec![("x-ratelimit-reset".into(), "0".into())],
        body: API_KEY.into(),
    });
    let limited = report(source.as_ref(), &checkout).await;
    shown.extend(limited.metrics.iter().map(|m| format!("{:?}", m.state)));
    shown.push(report(source.as_ref(), &checkout).await.verdict.to_string());

    let env = |name: &str| Some(format!("{name}={API_KEY}"));
    let config: DatadogConfig = toml::from_str("site = \"datadoghq.eu\"").unwrap();
    shown.push(format!(
        "{:?}",
        flightdeck::metrics::Datadog::with_env(&config, env).unwrap()
    ));
    shown.push(format!("{config:?}"));
    shown.push(String::from_utf8_lossy(&log.0.lock().unwrap()).into_owned());
    assert!(
        shown
            .last()
            .unwrap()
            .contains("POST /api/v2/query/timeseries"),
        "the log was kept"
    );
    for text in &shown {
        for key in [API_KEY, APP_KEY] {
            assert!(!text.contains(key), "a key in: {text}");
        }
    }
}

/// New Relic's bad days through its simulated NerdGraph: a refused key, an answer whose
/// queries partly failed, a NerdGraph that never answers. NO DATA each time.
#[tokio::test]
async fn new_relics_refusals_partial_answers_and_silence_are_no_data() {
    let fleet = fleet(1.0).await;
    let served = vendors::newrelic::start(
        fleet.traffic(EU).unwrap(),
        vendors::newrelic::NewRelicExpects {
            api_key: "NRAK-test-key-0123456789".into(),
            account: 77,
            version_attribute: "tags.version".into(),
        },
    )
    .await
    .unwrap();
    // A port that takes connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    #[derive(serde::Deserialize)]
    struct File {
        metrics: MetricsConfig,
    }
    let text = format!(
        "[metrics.backends.nr]\nkind = \"newrelic\"\naccount_id = 77\nregion = \"eu\"\nurl = \"{}/graphql\"\n\
         [metrics.backends.silent]\nkind = \"newrelic\"\naccount_id = 77\ntimeout = \"300ms\"\nurl = \"http://{}/graphql\"\n",
        served.url,
        silent.local_addr().unwrap()
    );
    let config = toml::from_str::<File>(&text).unwrap().metrics;
    config.check().unwrap();
    let env =
        |name: &str| (name == "NEW_RELIC_API_KEY").then(|| "NRAK-test-key-0123456789".to_string());
    let contexts = [
        (EU.to_string(), "nr".to_string()),
        ("sim-prod-us".to_string(), "silent".to_string()),
    ];
    let backends =
        Backends::build(&config, &contexts.into(), &env, Arc::new(fleet.clock())).unwrap();
    let source = source(&backends, EU);
    let checkout = target(&fleet, EU, "shop", "checkout").await;
    let backend = format!("New Relic (EU, account 77) at {}/graphql", served.url);

    source.ready().await.unwrap();
    let unauthorized = json_answer(
        401,
        r#"{"errors": [{"message": "Invalid API key", "extensions": {"errorClass": "UNAUTHORIZED"}}]}"#,
    );
    let partial = json_answer(
        200,
        r#"{"data": {"actor": {"account": {"q0": {"results": []}, "q1": null}}}, "errors": [{"message": "NRQL Syntax Error: Error at line 1 position 20", "path": ["actor", "account", "q1"], "extensions": {"errorClass": "INVALID_INPUT"}}]}"#,
    );
    for (answer, words) in [
        (
            unauthorized,
            "401: New Relic does not accept the user key in NEW_RELIC_API_KEY".to_string(),
        ),
        (
            partial,
            "partial answer: NRQL Syntax Error: Error at line 1 position 20".to_string(),
        ),
    ] {
        served.queue(answer.clone());
        served.queue(answer);
        let report = report(source.as_ref(), &checkout).await;
        assert_eq!(
            report.verdict.outcome,
            Outcome::NoData,
            "{}",
            report.verdict
        );
        for error in errors_of(&report) {
            assert_eq!(error, format!("{backend}: {words}"));
        }
    }
    assert!(served.violations().is_empty(), "{:?}", served.violations());

    let silent_source = backends.all()[backends.index_of("sim-prod-us").unwrap()]
        .source
        .clone();
    let down = silent_source.ready().await.unwrap_err();
    assert_eq!(
        down,
        format!(
            "New Relic (US, account 77) at http://{}/graphql: timed out after 300ms",
            silent.local_addr().unwrap()
        )
    );
}

fn json_answer(status: u16, body: &str) -> Answer {
    Answer::json(status, serde_json::from_str(body).unwrap())
}
