//! `flightdeck demo`: the simulated fleet wired behind the product's own interfaces, the
//! kubeconfig its clusters are reached by and the metrics backends its canaries are read
//! from (the [`TrafficHistory`] of its traffic model, a Prometheus scraping it, or
//! simulated Datadogs and New Relics answering from it), so the cockpit runs exactly as
//! on real clusters.

pub mod backends;
pub mod vendors;

use std::time::Duration;

use color_eyre::eyre;
use jiff::Timestamp;

use flightdeck::metrics::{Interval, TrafficHistory, VersionOf};
use flightdeck::{cluster, cockpit, config};
use flightdeck_sim::{Fleet, FleetOptions, INTERVAL_SECONDS, Scenario, TrafficHandle, VersionKey};

pub use backends::{DemoMetrics, Running, demo_metrics};

/// What `flightdeck demo` is asked for.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Same seed, same fleet.
    pub seed: u64,
    /// How fast the simulated clock runs.
    pub speed: f64,
    pub clusters: u16,
    /// Generated rollouts per cluster instead of the demo's services (scale runs).
    pub rollouts: Option<usize>,
    /// Also a `<cluster>-readonly` context per cluster whose user may not patch.
    pub deny_patch_context: bool,
    /// Where the canaries' metrics are read.
    pub metrics: DemoMetrics,
    /// With [`DemoMetrics::Prometheus`]: this one, instead of one started here.
    pub prometheus: Option<reqwest::Url>,
    /// Every request to the simulated clusters waits this long.
    pub latency: Option<Duration>,
    /// Refuse streamed lists (422) as Kubernetes without the WatchList feature does.
    pub no_streamed_lists: bool,
}

/// The fleet `flightdeck demo` asks for: clusters `sim-prod-eu`, `sim-prod-us`, then
/// `sim-prod-3`, ...; the demo's services, or `--rollouts N` generated ones per cluster.
pub fn fleet_options(args: &DemoOptions) -> FleetOptions {
    let clusters = (0..usize::from(args.clusters))
        .map(|i| match i {
            0 => "sim-prod-eu".to_string(),
            1 => "sim-prod-us".to_string(),
            n => format!("sim-prod-{}", n + 1),
        })
        .collect();
    FleetOptions {
        seed: args.seed,
        speed: args.speed,
        clusters,
        scenario: match args.rollouts {
            Some(rollouts_per_cluster) => Scenario::Scale {
                rollouts_per_cluster,
            },
            None => Scenario::Demo,
        },
        deny_patch_context: args.deny_patch_context,
        extra_users: Vec::new(),
        token_context: None,
        latency: args.latency,
        streamed_lists: !args.no_streamed_lists,
        kubeconfig_dir: None,
        past: true,
    }
}

/// `flightdeck demo`: the cockpit on a simulated fleet started in this process.
pub async fn run(
    args: DemoOptions,
    mut scope: cluster::Scope,
    mut config: config::Config,
) -> eyre::Result<cockpit::Exit> {
    let fleet = Fleet::start(fleet_options(&args)).await?;
    // The simulated fleet's deploys go to a ledger of its own, never the user's.
    if let Some(dir) = fleet.kubeconfig_path().parent() {
        config.ledger = config::LedgerSettings {
            path: Some(dir.join("ledger.sqlite")),
            ..Default::default()
        };
    }
    // Kept until the cockpit ends: the simulated vendors, or the Prometheus started here.
    let (metrics, _running) = demo_metrics(&fleet, args.metrics, args.prometheus.as_ref()).await?;
    scope.kubeconfig = Some(fleet.kubeconfig_path().to_path_buf());
    if scope.contexts.is_empty() {
        scope.all_contexts = true;
    }
    let time = cockpit::Clock::from_fn(fleet.clock());
    cockpit::run(scope, config, Some(metrics), time).await
}

/// `flightdeck demo --serve`: run the simulated fleet until interrupted.
pub async fn serve(args: DemoOptions) -> eyre::Result<()> {
    let fleet = Fleet::start(fleet_options(&args)).await?;
    println!("{}", fleet.kubeconfig_path().display());
    for context in fleet.contexts() {
        eprintln!("context {} → {}", context.name, context.server);
    }
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    fleet.shutdown();
    Ok(())
}

/// The simulated clusters' traffic models as the product's [`TrafficHistory`].
pub struct SimTraffic {
    contexts: Vec<(String, TrafficHandle)>,
}

impl SimTraffic {
    pub fn of(fleet: &Fleet) -> SimTraffic {
        SimTraffic {
            contexts: fleet
                .contexts()
                .iter()
                .filter_map(|c| Some((c.name.clone(), fleet.traffic(&c.name)?)))
                .collect(),
        }
    }

    fn traffic(&self, context: &str) -> Option<&TrafficHandle> {
        self.contexts
            .iter()
            .find(|(name, _)| name == context)
            .map(|(_, traffic)| traffic)
    }
}

impl TrafficHistory for SimTraffic {
    fn interval(&self) -> Duration {
        Duration::from_secs(INTERVAL_SECONDS)
    }

    fn now(&self, context: &str) -> Option<Timestamp> {
        self.traffic(context).map(TrafficHandle::now)
    }

    fn history(&self, version: VersionOf<'_>) -> Vec<Interval> {
        let Some(traffic) = self.traffic(version.context) else {
            return Vec::new();
        };
        traffic
            .history(&VersionKey {
                namespace: version.namespace.to_string(),
                rollout: version.rollout.to_string(),
                pod_template_hash: version.pod_template_hash.to_string(),
            })
            .into_iter()
            .map(|i| Interval {
                end: i.end,
                requests: i.requests,
                errors: i.errors,
                p99: i.p99,
            })
            .collect()
    }
}
