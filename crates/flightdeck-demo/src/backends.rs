//! The demo's metrics backends, by `--metrics`: the traffic model read in-process, a
//! Prometheus scraping the simulated clusters (`--prometheus URL`, or one started here
//! from the `prometheus` on PATH), or a simulated Datadog or New Relic per cluster,
//! each cluster's context reading its own (as a company with a backend per region does),
//! through the product's real clients and config.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use color_eyre::eyre::{self, WrapErr, eyre};
use flightdeck::metrics::{Backend, Backends, HistoryMetrics, MetricsConfig};
use flightdeck_sim::Fleet;

use crate::SimTraffic;
use crate::vendors::{self, Served};

/// Where `flightdeck demo` reads its canaries' metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DemoMetrics {
    /// The simulator's traffic model, in-process.
    #[default]
    Sim,
    Prometheus,
    Datadog,
    NewRelic,
}

/// What the demo's backends need kept running; dropping it stops them.
#[derive(Default)]
pub struct Running {
    pub servers: Vec<Served>,
    prometheus: Option<Child>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(child) = &mut self.prometheus {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The keys the simulated vendors expect, made up for this run, and the environment
/// variables the demo's config names for them.
pub const DATADOG_API_KEY_ENV: &str = "FLIGHTDECK_DEMO_DD_API_KEY";
pub const DATADOG_APPLICATION_KEY_ENV: &str = "FLIGHTDECK_DEMO_DD_APP_KEY";
pub const NEWRELIC_API_KEY_ENV: &str = "FLIGHTDECK_DEMO_NEW_RELIC_API_KEY";
/// The simulated New Relic's account.
pub const NEWRELIC_ACCOUNT: u64 = 4_242_424;

fn made_up_key(prefix: &str) -> String {
    let mut rng = fastrand::Rng::new();
    let tail: String = (0..32).map(|_| rng.alphanumeric()).collect();
    format!("{prefix}{tail}")
}

/// The demo's backends for `metrics`, and what keeps them running.
pub async fn demo_metrics(
    fleet: &Fleet,
    metrics: DemoMetrics,
    prometheus: Option<&reqwest::Url>,
) -> eyre::Result<(Backends, Running)> {
    let mut running = Running::default();
    let (text, env) = match (metrics, prometheus) {
        (DemoMetrics::Sim, None) => {
            let backend = Backend {
                label: "simulated traffic".into(),
                source: Arc::new(HistoryMetrics::new(Arc::new(SimTraffic::of(fleet)))),
                poll_every: Duration::from_secs(5),
            };
            return Ok((Backends::one(backend), running));
        }
        (DemoMetrics::Sim | DemoMetrics::Prometheus, Some(url)) => {
            (format!("[metrics]\nurl = \"{url}\"\n"), BTreeMap::new())
        }
        (DemoMetrics::Prometheus, None) => {
            let (child, url) = start_prometheus(fleet).await?;
            running.prometheus = Some(child);
            (
                format!("[metrics]\nurl = \"{url}\"\ncluster_label = \"cluster\"\n"),
                BTreeMap::new(),
            )
        }
        (DemoMetrics::Datadog | DemoMetrics::NewRelic, Some(_)) => {
            return Err(eyre!("--prometheus goes with --metrics prometheus"));
        }
        (DemoMetrics::Datadog, None) => datadogs(fleet, &mut running).await?,
        (DemoMetrics::NewRelic, None) => newrelics(fleet, &mut running).await?,
    };
    let config = parse(&text)?;
    let contexts: BTreeMap<String, String> = match config.backends.is_empty() {
        true => BTreeMap::new(),
        false => fleet
            .contexts()
            .iter()
            .map(|c| (c.name.clone(), c.name.clone()))
            .collect(),
    };
    let backends = Backends::build(
        &config,
        &contexts,
        &|name| env.get(name).cloned(),
        Arc::new(fleet.clock()),
    )?;
    Ok((backends, running))
}

fn parse(text: &str) -> eyre::Result<MetricsConfig> {
    #[derive(serde::Deserialize)]
    struct File {
        metrics: MetricsConfig,
    }
    let config = toml::from_str::<File>(text)
        .map_err(|e| eyre!("the demo's metrics config: {e}"))?
        .metrics;
    config
        .check()
        .map_err(|e| eyre!("the demo's metrics config: {e}"))?;
    Ok(config)
}

/// The first cluster in the EU, the others in the US.
fn region(i: usize) -> (&'static str, &'static str) {
    if i == 0 {
        ("datadoghq.eu", "eu")
    } else {
        ("datadoghq.com", "us")
    }
}

async fn datadogs(
    fleet: &Fleet,
    running: &mut Running,
) -> eyre::Result<(String, BTreeMap<String, String>)> {
    let (api_key, application_key) = (made_up_key("dd-api-"), made_up_key("dd-app-"));
    let mut text = String::from("[metrics]\n");
    for (i, context) in fleet.contexts().iter().enumerate() {
        let traffic = fleet
            .traffic(&context.name)
            .ok_or_else(|| eyre!("no traffic for {}", context.name))?;
        let expects = vendors::datadog::DatadogExpects {
            api_key: api_key.clone(),
            application_key: application_key.clone(),
            operation: "http.request".into(),
            env: None,
        };
        let served = vendors::datadog::start(traffic, expects).await?;
        text.push_str(&format!(
            "[metrics.backends.{}]\nkind = \"datadog\"\nsite = \"{}\"\nurl = \"{}\"\napi_key_env = \"{DATADOG_API_KEY_ENV}\"\napplication_key_env = \"{DATADOG_APPLICATION_KEY_ENV}\"\npoll_every = \"10s\"\n",
            context.name,
            region(i).0,
            served.url
        ));
        running.servers.push(served);
    }
    let env = [
        (DATADOG_API_KEY_ENV.to_string(), api_key),
        (DATADOG_APPLICATION_KEY_ENV.to_string(), application_key),
    ];
    Ok((text, env.into()))
}

async fn newrelics(
    fleet: &Fleet,
    running: &mut Running,
) -> eyre::Result<(String, BTreeMap<String, String>)> {
    let api_key = made_up_key("NRAK-");
    let mut text = String::from("[metrics]\n");
    for (i, context) in fleet.contexts().iter().enumerate() {
        let traffic = fleet
            .traffic(&context.name)
            .ok_or_else(|| eyre!("no traffic for {}", context.name))?;
        let expects = vendors::newrelic::NewRelicExpects {
            api_key: api_key.clone(),
            account: NEWRELIC_ACCOUNT,
            version_attribute: "tags.version".into(),
        };
        let served = vendors::newrelic::start(traffic, expects).await?;
        text.push_str(&format!(
            "[metrics.backends.{}]\nkind = \"newrelic\"\naccount_id = {NEWRELIC_ACCOUNT}\nregion = \"{}\"\nurl = \"{}/graphql\"\napi_key_env = \"{NEWRELIC_API_KEY_ENV}\"\npoll_every = \"10s\"\n",
            context.name,
            region(i).1,
            served.url
        ));
        running.servers.push(served);
    }
    Ok((text, [(NEWRELIC_API_KEY_ENV.to_string(), api_key)].into()))
}

/// A Prometheus from PATH scraping every simulated cluster each second under its own
/// `cluster` label, its data in a directory of its own; ready when this returns.
async fn start_prometheus(fleet: &Fleet) -> eyre::Result<(Child, String)> {
    let dir =
        std::env::temp_dir().join(format!("flightdeck-demo-prometheus-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let targets: String = fleet
        .contexts()
        .iter()
        .map(|c| {
            let host = c.server.trim_start_matches("http://");
            format!(
                "      - targets: ['{host}']\n        labels: {{cluster: '{}'}}\n",
                c.name
            )
        })
        .collect();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: sim\n    static_configs:\n{targets}"
        ),
    )?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--log.level=warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .wrap_err("--metrics prometheus starts `prometheus` from PATH (apt-get install prometheus), or give --prometheus URL")?;
    let url = format!("http://127.0.0.1:{port}");
    let ready = format!("{url}/-/ready");
    for _ in 0..120 {
        if reqwest::get(&ready)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Ok((child, url));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Err(eyre!(
        "the Prometheus started at {url} was not ready after 30 s"
    ))
}
