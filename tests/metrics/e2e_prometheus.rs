//! End to end with a real Prometheus: it scrapes two simulated clusters' `/metrics` every
//! second, each under its own `cluster` label (as a Thanos or federation would hold them),
//! and the Prometheus-backed `RolloutMetrics` reads both versions of the demo's canaries
//! from it, each from its own cluster: the checkout canary that times out fails on its
//! error rate, the healthy frontend canary passes.
//!
//! Needs the `prometheus` binary (Debian's package; `.ci/run` installs it). Without it the
//! test is skipped with a note, except under CI (`CI` set), where that is a failure.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use flightdeck::metrics::MetricSpec;
use flightdeck::metrics::MetricsConfig;
use flightdeck::metrics::Preset;
use flightdeck::metrics::Prometheus;
use flightdeck::metrics::{Backends, PrometheusReader, QueriedRollouts, Resolution};
use flightdeck::metrics::{MetricDefinition, MetricQueries};
use flightdeck::metrics::{MetricState, RolloutMetrics, Scoring, WindowData, judge_reading};
use flightdeck::metrics::{Target, spawn_poller};
use flightdeck::model::Outcome;
use flightdeck::model::{Direction, ObjectKey};
use flightdeck_sim::{Fleet, FleetOptions};
use flightdeck_testkit::{judged, metric, target};

const CONTEXT: &str = "sim-prod-eu";
const OTHER_CONTEXT: &str = "sim-prod-us";
/// Prometheus needs a couple of scrapes for a rate and ten points for the judge's samples.
const PATIENCE: Duration = Duration::from_secs(60);

/// Kills Prometheus when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn prometheus_binary() -> Option<&'static str> {
    let found = Command::new("prometheus")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    found.then_some("prometheus")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Prometheus on a loopback port with its data in `dir`, scraping each `(cluster, host:port)`
/// with that `cluster` label.
fn start_prometheus(binary: &str, dir: &Path, targets: &[(&str, &str)]) -> (Running, String) {
    let config = dir.join("prometheus.yml");
    let static_configs: String = targets
        .iter()
        .map(|(cluster, target)| {
            format!("      - targets: ['{target}']\n        labels: {{cluster: '{cluster}'}}\n")
        })
        .collect();
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: sim\n    static_configs:\n{static_configs}"
        ),
    )
    .unwrap();
    let port = free_port();
    let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
    let child = Command::new(binary)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--log.level=warn")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("prometheus starts");
    (Running(child), format!("http://127.0.0.1:{port}"))
}

async fn wait_ready(source: &dyn RolloutMetrics, log: &Path) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while let Err(e) = source.ready().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "Prometheus not ready after 30 s: {e}\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn a_real_prometheus_scraping_the_simulator_gives_the_canary_verdicts() {
    let Some(binary) = prometheus_binary() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but no `prometheus` binary is on PATH (apt-get install prometheus)"
        );
        eprintln!("skipped: no `prometheus` binary on PATH (apt-get install prometheus)");
        return;
    };
    // Two clusters in one Prometheus, told apart by their `cluster` label: the EU's is
    // "eu-1", mapped from its context as `[metrics] clusters` would; the US's is its name.
    let fleet = Fleet::start(FleetOptions {
        clusters: vec![CONTEXT.into(), OTHER_CONTEXT.into()],
        ..FleetOptions::default()
    })
    .await
    .expect("the fleet starts");
    let host = |context: &str| {
        let found = fleet.contexts().iter().find(|c| c.name == context);
        let server = &found.expect("the context is served").server;
        server.trim_start_matches("http://").to_string()
    };
    let dir = tempfile::tempdir().unwrap();
    let (_prometheus, url) = start_prometheus(
        binary,
        dir.path(),
        &[
            ("eu-1", &host(CONTEXT)),
            (OTHER_CONTEXT, &host(OTHER_CONTEXT)),
        ],
    );

    let client = Prometheus::new(&MetricsConfig::for_url(&url)).unwrap();
    // Scrapes every second: a rate over five seconds, a point a second.
    let reader = PrometheusReader::new(
        Box::new(client),
        Resolution {
            rate_interval: Duration::from_secs(5),
            step: Duration::from_secs(1),
        },
    );
    let source = QueriedRollouts::new(
        Box::new(reader),
        Preset::Argo.metrics(Some("cluster")),
        Scoring::default(),
    )
    .with_clusters([(CONTEXT.to_string(), "eu-1".to_string())].into());
    wait_ready(&source, &dir.path().join("prometheus.log")).await;

    let checkout = target(&fleet, CONTEXT, "shop", "checkout").await;
    let report = judged(&source, &checkout, PATIENCE).await;
    assert_eq!(report.verdict.outcome, Outcome::Fail, "{}", report.verdict);
    assert!(
        report.verdict.deciding.contains(&"error rate".to_string()),
        "{}",
        report.verdict
    );
    let errors = metric(&report, "error rate");
    assert!(errors.canary_worse && errors.state == MetricState::Ok);
    let (stable_rps, canary_rps) = report.rps.expect("requests per second from Prometheus");
    assert!(stable_rps > 0.0 && canary_rps > 0.0);

    // Both versions' series, as Prometheus returned them.
    let reading = source.read(&checkout).await;
    for m in &reading.metrics {
        let versions = m.versions.as_ref().expect("the queries succeed");
        for (version, figures) in [("stable", &versions.stable), ("canary", &versions.canary)] {
            match &figures.window {
                Some(WindowData::Counts { requests, .. }) => assert!(*requests > 0.0),
                Some(WindowData::Samples { values, .. }) => assert!(!values.is_empty()),
                None => panic!("{} has no {version} series", m.spec.name),
            }
            assert!(!figures.trend.is_empty(), "{} {version} trend", m.spec.name);
        }
    }
    assert_eq!(
        judge_reading(&reading, source.scoring()).verdict.outcome,
        Outcome::Fail
    );

    let frontend = target(&fleet, CONTEXT, "shop", "frontend").await;
    let report = judged(&source, &frontend, PATIENCE).await;
    assert_eq!(report.verdict.outcome, Outcome::Pass, "{}", report.verdict);

    // A query Prometheus rejects is its metric's error; the others are still read.
    let mut metrics = Preset::Argo.metrics(None);
    metrics.push(MetricDefinition {
        spec: MetricSpec {
            name: "orders/min".into(),
            unit: "orders/min".into(),
            direction: Direction::Higher,
            critical: false,
            group: "business".into(),
            tolerance: None,
        },
        queries: MetricQueries::Series {
            query: "sum(rate(orders_total{namespace=\"{{namespace}}\"}[{{rate_interval}}]) * 60"
                .into(),
        },
    });
    let client = Prometheus::new(&MetricsConfig::for_url(&url)).unwrap();
    let with_a_broken_query = QueriedRollouts::new(
        Box::new(PrometheusReader::new(
            Box::new(client),
            Resolution::default(),
        )),
        metrics,
        Scoring::default(),
    );
    let report = flightdeck::metrics::report(&with_a_broken_query, &checkout).await;
    let MetricState::QueryError(error) = &metric(&report, "orders/min").state else {
        panic!("{:?}", metric(&report, "orders/min").state)
    };
    assert!(error.contains("bad_data"), "{error}");
    assert_eq!(metric(&report, "error rate").state, MetricState::Ok);
}

#[tokio::test]
async fn a_prometheus_that_is_not_there_is_reported_down_for_every_canary() {
    let url = format!("http://127.0.0.1:{}", free_port());
    let backends = Backends::from_config(&MetricsConfig::for_url(&url), &Default::default());
    let source = backends.unwrap().all()[0].source.clone();
    let (events, mut updates) = tokio::sync::mpsc::channel(8);
    let poller = spawn_poller(source, Duration::from_secs(3600), events);
    let canary = |name: &str| Target {
        key: ObjectKey::new(CONTEXT, "shop", name),
        stable_hash: "7f9c".into(),
        canary_hash: "5d2a".into(),
        baseline_hash: None,
        since: jiff::Timestamp::now(),
        flagger_target: None,
    };
    poller.set_targets(vec![canary("checkout"), canary("cart")]);
    for _ in 0..2 {
        let update = tokio::time::timeout(Duration::from_secs(30), updates.recv())
            .await
            .expect("an update")
            .expect("the poller runs");
        let down = update.report.expect_err("no report without a backend");
        assert!(down.contains("unreachable"), "{down}");
    }
}
