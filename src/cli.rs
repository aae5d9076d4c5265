//! The command line: what a person or a script can ask of flightdeck.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use flightdeck::model::RolloutAction;

#[derive(Debug, Parser)]
#[command(
    name = "flightdeck",
    version,
    about = "A terminal cockpit for progressive delivery (Argo Rollouts)",
    long_about = "A terminal cockpit for progressive delivery.\n\n\
        Without a command it opens the cockpit on the current kubeconfig context. \
        `flightdeck demo` opens it on a simulated fleet built into the binary."
)]
pub struct Cli {
    #[command(flatten)]
    pub scope: Scope,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Which clusters and namespaces to look at.
#[derive(Debug, Clone, Default, Args)]
pub struct Scope {
    /// Path of the kubeconfig (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// A kubeconfig context to watch; repeat for several (default: the current one).
    #[arg(long = "context", global = true, value_name = "NAME")]
    pub contexts: Vec<String>,
    /// Watch every context of the kubeconfig.
    #[arg(long, global = true, conflicts_with = "contexts")]
    pub all_contexts: bool,
    /// Only this namespace (default: all namespaces).
    #[arg(short = 'n', long, global = true, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Send no action to any cluster (keys hidden, action commands refuse).
    #[arg(long, global = true)]
    pub readonly: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the simulated demo fleet and open the cockpit on it.
    Demo(DemoArgs),
    /// Print the fleet once, most urgent first, and exit (non-zero when a context cannot be read).
    Status {
        /// Output format.
        #[arg(short, long, value_enum, default_value = "table")]
        output: Output,
    },
    #[command(flatten)]
    Act(ActCommand),
    /// List the audit trail: who did what to which rollout through flightdeck.
    Audit {
        /// How far back: 30m, 24h, 7d, ...
        #[arg(long, default_value = "24h", value_name = "AGE")]
        since: String,
        /// Output format.
        #[arg(short, long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Watch the clusters and keep the deploy ledger current, without a terminal,
    /// until stopped (SIGTERM, SIGINT). Restarting it loses nothing and counts
    /// nothing twice.
    Record,
    /// The DORA figures from the ledger: deployment frequency, lead time, change
    /// fail rate, recovery time and rework rate, with their bands and trends.
    Dora {
        /// How far back: 1d, 7d, 30d, 90d, ...
        #[arg(long, default_value = "30d", value_name = "AGE")]
        since: String,
        /// One row per workload, namespace or context (default: the fleet).
        #[arg(long, value_enum, value_name = "GROUP")]
        by: Option<DoraBy>,
        /// Output format.
        #[arg(short, long, value_enum, default_value = "table")]
        output: DoraOutput,
    },
    /// Every deploy and action from the ledger, newest first: what changed.
    Changes {
        /// How far back: 30m, 1h, 24h, ...
        #[arg(long, default_value = "1h", value_name = "AGE")]
        since: String,
        /// Output format.
        #[arg(short, long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Measure speed and memory at scale against a simulated fleet, and print
    /// each figure beside its target (run the release build).
    Bench {
        /// Measure only these parts (repeat or comma-separate; default: all).
        #[arg(long, value_enum, value_delimiter = ',', value_name = "PART")]
        only: Vec<flightdeck_bench::Part>,
    },
}

/// How a headless command prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    Table,
    Json,
}

impl From<Output> for flightdeck::headless::OutputFormat {
    fn from(output: Output) -> Self {
        match output {
            Output::Table => Self::Table,
            Output::Json => Self::Json,
        }
    }
}

/// `dora --by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DoraBy {
    Workload,
    Namespace,
    Context,
}

impl DoraBy {
    pub fn grouping(by: Option<DoraBy>) -> flightdeck::dora::By {
        use flightdeck::dora::By;
        match by {
            None => By::Fleet,
            Some(DoraBy::Workload) => By::Workload,
            Some(DoraBy::Namespace) => By::Namespace,
            Some(DoraBy::Context) => By::Context,
        }
    }
}

/// `dora -o`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DoraOutput {
    Table,
    Json,
    Csv,
}

impl From<DoraOutput> for flightdeck::headless::DoraFormat {
    fn from(output: DoraOutput) -> Self {
        match output {
            DoraOutput::Table => Self::Table,
            DoraOutput::Json => Self::Json,
            DoraOutput::Csv => Self::Csv,
        }
    }
}

/// One action on one rollout: show its blast radius, confirm, audit, act.
#[derive(Debug, Subcommand)]
pub enum ActCommand {
    /// Move a paused canary on to its next step, or promote a waiting blue-green.
    Promote {
        #[command(flatten)]
        target: ActTarget,
        /// Skip every remaining step, pause and analysis.
        #[arg(long)]
        full: bool,
    },
    /// Pause a rollout where it stands.
    Pause(ActTarget),
    /// Lift a person's pause (spec.paused); a step's pause or a blue-green's
    /// wait for promotion is `promote`'s.
    Resume(ActTarget),
    /// Send all traffic back to the stable version.
    Abort(ActTarget),
    /// Start an aborted rollout over.
    Retry(ActTarget),
    /// Roll back to an earlier revision's pod template.
    Undo {
        #[command(flatten)]
        target: ActTarget,
        /// The revision to go back to (default: the previous one).
        #[arg(long, value_name = "N")]
        to_revision: Option<u64>,
    },
    /// Replace every pod of a rollout, a few at a time.
    Restart(ActTarget),
}

impl ActCommand {
    pub fn action(&self) -> (RolloutAction, &ActTarget) {
        match self {
            ActCommand::Promote { target, full } => (
                if *full {
                    RolloutAction::PromoteFull
                } else {
                    RolloutAction::Promote
                },
                target,
            ),
            ActCommand::Pause(target) => (RolloutAction::Pause, target),
            ActCommand::Resume(target) => (RolloutAction::Resume, target),
            ActCommand::Abort(target) => (RolloutAction::Abort, target),
            ActCommand::Retry(target) => (RolloutAction::Retry, target),
            ActCommand::Undo {
                target,
                to_revision,
            } => (
                RolloutAction::Undo {
                    revision: *to_revision,
                },
                target,
            ),
            ActCommand::Restart(target) => (RolloutAction::Restart, target),
        }
    }
}

impl ActCommand {
    /// The action as the headless layer takes it.
    pub fn request(&self) -> flightdeck::headless::ActRequest {
        let (action, target) = self.action();
        flightdeck::headless::ActRequest {
            action,
            rollout: target.rollout.clone(),
            yes: target.yes,
            confirm: target.confirm.clone(),
        }
    }
}

impl Scope {
    /// The clusters and namespaces to connect to; `namespaces`: per context,
    /// the namespaces config names for users who may not list them all.
    pub fn cluster(
        &self,
        namespaces: std::collections::BTreeMap<String, Vec<String>>,
    ) -> flightdeck::cluster::Scope {
        flightdeck::cluster::Scope {
            kubeconfig: self.kubeconfig.clone(),
            contexts: self.contexts.clone(),
            all_contexts: self.all_contexts,
            namespace: self.namespace.clone(),
            namespaces,
            watch_timeout: None,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ActTarget {
    /// The rollout; the context defaults to --context or the kubeconfig's current one.
    #[arg(value_name = "[CONTEXT/]NAMESPACE/NAME")]
    pub rollout: String,
    /// Act without asking (needed when stdin is not a terminal).
    #[arg(short, long)]
    pub yes: bool,
    /// On a `production = true` context, abort, undo and promote --full need
    /// the rollout's name: typed at the prompt, or given here.
    #[arg(long, value_name = "NAME")]
    pub confirm: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Only serve the simulated fleet (print the kubeconfig path, run until interrupted).
    #[arg(long)]
    pub serve: bool,
    /// Seed for a repeatable run.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// How fast the simulated clock runs (2 = twice as fast).
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// How many simulated clusters (contexts sim-prod-eu, sim-prod-us, then sim-prod-3, ...).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub clusters: u16,
    /// Instead of the demo's services, generate this many rollouts per cluster (scale runs).
    #[arg(long, value_name = "N")]
    pub rollouts: Option<usize>,
    /// Also write a `<cluster>-readonly` context per cluster whose user may read but not patch.
    #[arg(long)]
    pub deny_patch_context: bool,
    /// Where the canaries' metrics are read: the simulator's traffic model in-process, a
    /// Prometheus scraping the simulated clusters (one started from PATH, or --prometheus),
    /// or a simulated Datadog or New Relic per cluster, through the real clients.
    #[arg(long, value_enum, default_value_t = DemoMetricsArg::Sim)]
    pub metrics: DemoMetricsArg,
    /// Read the canaries' metrics from this Prometheus (which scrapes the simulated
    /// clusters' /metrics) instead of from the simulator's traffic model.
    #[arg(long, value_name = "URL")]
    pub prometheus: Option<reqwest::Url>,
    /// Make every request to the simulated clusters wait this long (100ms, 1s): a slow link.
    #[arg(long, value_name = "DURATION", value_parser = flightdeck_sim::parse_latency)]
    pub latency: Option<std::time::Duration>,
    /// Refuse streamed lists (422), as Kubernetes without the WatchList feature (its
    /// default before 1.27 and in 1.33): flightdeck lists in pages then.
    #[arg(long)]
    pub no_streamed_lists: bool,
}

/// `--metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DemoMetricsArg {
    Sim,
    Prometheus,
    Datadog,
    Newrelic,
}

impl DemoArgs {
    pub fn options(&self) -> flightdeck_demo::DemoOptions {
        use flightdeck_demo::DemoMetrics;
        flightdeck_demo::DemoOptions {
            seed: self.seed,
            speed: self.speed,
            clusters: self.clusters,
            rollouts: self.rollouts,
            deny_patch_context: self.deny_patch_context,
            metrics: match self.metrics {
                DemoMetricsArg::Sim => DemoMetrics::Sim,
                DemoMetricsArg::Prometheus => DemoMetrics::Prometheus,
                DemoMetricsArg::Datadog => DemoMetrics::Datadog,
                DemoMetricsArg::Newrelic => DemoMetrics::NewRelic,
            },
            prometheus: self.prometheus.clone(),
            latency: self.latency,
            no_streamed_lists: self.no_streamed_lists,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn demo_takes_a_prometheus_url() {
        let cli = Cli::try_parse_from([
            "flightdeck",
            "demo",
            "--prometheus",
            "http://127.0.0.1:9090",
        ])
        .unwrap();
        let Some(Command::Demo(args)) = cli.command else {
            panic!("the demo command")
        };
        assert_eq!(
            args.prometheus.map(String::from).as_deref(),
            Some("http://127.0.0.1:9090/")
        );
        assert!(Cli::try_parse_from(["flightdeck", "demo", "--prometheus", "not a url"]).is_err());
    }

    #[test]
    fn demo_takes_a_metrics_backend() {
        let cli = Cli::try_parse_from(["flightdeck", "demo", "--metrics", "datadog"]).unwrap();
        let Some(Command::Demo(args)) = cli.command else {
            panic!("the demo command")
        };
        assert_eq!(
            args.options().metrics,
            flightdeck_demo::DemoMetrics::Datadog
        );
        assert!(Cli::try_parse_from(["flightdeck", "demo", "--metrics", "graphite"]).is_err());
    }

    #[test]
    fn demo_takes_a_latency() {
        let cli = Cli::try_parse_from(["flightdeck", "demo", "--latency", "100ms"]).unwrap();
        let Some(Command::Demo(args)) = cli.command else {
            panic!("the demo command")
        };
        assert_eq!(args.latency, Some(std::time::Duration::from_millis(100)));
        assert!(Cli::try_parse_from(["flightdeck", "demo", "--latency", "slow"]).is_err());
    }
}
