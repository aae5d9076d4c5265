//! The embedded demo fleet: simulated Argo Rollouts clusters that speak the Kubernetes API.
//!
//! Each simulated cluster is an HTTP server on 127.0.0.1 over its own [`store`], with a
//! controller that moves rollouts through their steps with Argo's semantics and a traffic
//! model served at `/metrics`. [`Fleet::start`] starts them and writes a kubeconfig with
//! one context per cluster, so flightdeck (and kubectl) connect exactly as in production.

mod access;
mod analysis;
mod api_error;
mod bearer;
mod clock;
mod controller;
mod deployments;
mod discovery;
mod events;
mod experiments;
mod flagger;
mod kubeconfig;
mod metrics_text;
mod objects;
mod patch;
mod replica_sets;
mod scenarios;
mod selector;
mod server;
mod store;
mod traffic;
mod watch;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use serde_json::Value;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

pub use access::{ROLLOUTS_ONLY, RecordedRequest, Rule, SHOP_ONLY, User, VIEWER};
pub use api_error::ApiError;
pub use bearer::TOKEN_LIFETIME;
pub use kubeconfig::SimContext;
pub use scenarios::{DemoCanary, demo_canaries, demo_incidents};
pub use traffic::{
    BUCKETS, Behaviour, CodeTraffic, INTERVAL_SECONDS, TrafficHandle, TrafficInterval,
    TrafficModel, TrafficSnapshot, VersionKey, VersionTraffic, histogram_quantile,
};

use clock::SimClock;
use store::Store;

/// What the simulated fleet holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Scenario {
    /// The demo: the incidents and healthy services described in DESIGN.md.
    Demo,
    /// `rollouts_per_cluster` generated rollouts per cluster in a mix of states, for scale runs.
    Scale { rollouts_per_cluster: usize },
    /// Nothing but the API, no controller: for tests that load their own objects and
    /// want them left as they are.
    Empty,
}

#[derive(Debug, Clone)]
pub struct FleetOptions {
    /// Same seed, same fleet: names, uids, traffic and the revisions that start on their own.
    pub seed: u64,
    /// How fast simulated time runs against the wall clock.
    pub speed: f64,
    /// One simulated cluster (and kubeconfig context) per name.
    pub clusters: Vec<String>,
    pub scenario: Scenario,
    /// Also write, per cluster, a context `<cluster>-readonly` whose user ([`VIEWER`]) may
    /// not write.
    pub deny_patch_context: bool,
    /// Also write, per cluster and user, a context `<cluster>-<user.context_suffix>` acting
    /// as that user ([`VIEWER`], [`ROLLOUTS_ONLY`], [`SHOP_ONLY`] or a test's own).
    pub extra_users: Vec<&'static User>,
    /// Also write, per cluster, a context `<cluster>-token` whose kubeconfig user runs this
    /// exec credential plugin and whose listener accepts only `Bearer fd-<issued unix
    /// seconds>` tokens, for [`TOKEN_LIFETIME`] after they were issued.
    pub token_context: Option<PathBuf>,
    /// Every request waits this long before it is answered (a slow link).
    pub latency: Option<Duration>,
    /// Serve streamed lists (Kubernetes with the WatchList feature); `false` refuses
    /// them with 422 as Kubernetes 1.33 does by default.
    pub streamed_lists: bool,
    /// Where to write the kubeconfig (default: a new directory under the system temp dir,
    /// removed when the fleet stops).
    pub kubeconfig_dir: Option<PathBuf>,
    /// The demo scenario with thirty days of past behind each rollout (`flightdeck demo`
    /// has it; without it, the demo's revisions are those of its short history alone).
    pub past: bool,
}

impl FleetOptions {
    /// The users with a context of their own on every cluster, the admin first.
    fn users(&self) -> Vec<&'static User> {
        let mut users = vec![&access::ADMIN];
        if self.deny_patch_context {
            users.push(&VIEWER);
        }
        for user in &self.extra_users {
            if !users.contains(user) {
                users.push(user);
            }
        }
        users
    }
}

impl Default for FleetOptions {
    fn default() -> Self {
        FleetOptions {
            seed: 1,
            speed: 1.0,
            clusters: vec!["sim-prod-eu".into(), "sim-prod-us".into()],
            scenario: Scenario::Demo,
            deny_patch_context: false,
            extra_users: Vec::new(),
            token_context: None,
            latency: None,
            streamed_lists: true,
            kubeconfig_dir: None,
            past: false,
        }
    }
}

struct Cluster {
    name: String,
    store: Arc<Store>,
    requests: Arc<access::RequestLog>,
    traffic: TrafficHandle,
    tasks: Vec<JoinHandle<()>>,
}

/// A running simulated fleet. Dropping it stops the servers and controllers.
pub struct Fleet {
    clusters: Vec<Cluster>,
    contexts: Vec<SimContext>,
    kubeconfig: PathBuf,
    /// The kubeconfig directory when the fleet made it (and so removes it).
    owned_dir: Option<PathBuf>,
    clock: SimClock,
}

fn invalid_input(message: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, message)
}

impl Fleet {
    pub async fn start(options: FleetOptions) -> std::io::Result<Fleet> {
        if options.clusters.is_empty() {
            return Err(invalid_input(
                "FleetOptions.clusters: at least one cluster name is needed".into(),
            ));
        }
        if !(options.speed.is_finite() && options.speed > 0.0) {
            return Err(invalid_input(format!(
                "FleetOptions.speed: {} is not a positive number",
                options.speed
            )));
        }
        let clock = SimClock::new(Timestamp::now(), options.speed);
        let (history, actions) = match &options.scenario {
            Scenario::Demo => (
                scenarios::DEMO_HISTORY,
                scenarios::demo(options.clusters.len(), clock.origin()),
            ),
            Scenario::Scale {
                rollouts_per_cluster,
            } => (
                scenarios::SCALE_HISTORY,
                scenarios::scale(
                    options.clusters.len(),
                    *rollouts_per_cluster,
                    clock.origin(),
                ),
            ),
            Scenario::Empty => (0, Vec::new()),
        };
        let mut per_cluster: Vec<Vec<scenarios::Action>> =
            options.clusters.iter().map(|_| Vec::new()).collect();
        for action in actions {
            per_cluster[action.cluster].push(action);
        }
        let mut clusters = Vec::new();
        let mut contexts = Vec::new();
        for (index, name) in options.clusters.iter().enumerate() {
            let seed = options.seed.wrapping_add(index as u64);
            let store = Arc::new(Store::new(seed));
            let requests = Arc::new(access::RequestLog::default());
            let client_wrote = Arc::new(Notify::new());
            let model = Arc::new(Mutex::new(traffic::TrafficModel::new(
                seed,
                clock.at(-(history as f64)),
            )));
            let traffic = TrafficHandle(model.clone());
            let mut tasks = Vec::new();
            if options.scenario != Scenario::Empty {
                // Play the scenario's history through the controller, then let it run live.
                let versions = controller::Versions {
                    behaviour: scenarios::behaviour,
                    image_exists: scenarios::image_exists,
                };
                let mut controller =
                    controller::Controller::new(store.clone(), model.clone(), versions);
                let mut mine = std::mem::take(&mut per_cluster[index])
                    .into_iter()
                    .peekable();
                for second in -history..=0 {
                    let now = clock.at(second as f64);
                    while let Some(action) = mine.next_if(|a| a.at <= second) {
                        scenarios::apply(&store, action.change, now);
                    }
                    controller.tick(now);
                    // The demo's thirty days of past, once its rollouts have their first
                    // ReplicaSets and before the short history plays on.
                    if options.past && options.scenario == Scenario::Demo && second == -history {
                        scenarios::backfill(&store, clock.at(0.0), seed, scenarios::has_past);
                    }
                }
                if options.past && options.scenario == Scenario::Demo {
                    scenarios::retime(&store, clock.at(0.0), seed, scenarios::has_past);
                }
                let liveliness = (options.scenario == Scenario::Demo)
                    .then(|| scenarios::Liveliness::demo(index, options.seed));
                tasks.push(tokio::spawn(controller::run(
                    controller,
                    store.clone(),
                    clock,
                    client_wrote.clone(),
                    liveliness,
                )));
            }
            let metrics_source = traffic.clone();
            let state = Arc::new(server::ApiState {
                store: store.clone(),
                requests: requests.clone(),
                client_wrote,
                clock,
                metrics: Box::new(move || metrics_text::render(&metrics_source.snapshot())),
                latency: options.latency,
                streamed_lists: options.streamed_lists,
            });
            let mut listeners: Vec<(server::Listener, Option<PathBuf>)> = options
                .users()
                .into_iter()
                .map(|user| {
                    let listener = server::Listener {
                        user,
                        checks_tokens: false,
                    };
                    (listener, None)
                })
                .collect();
            if let Some(plugin) = &options.token_context {
                let listener = server::Listener {
                    user: &access::TOKEN_HOLDER,
                    checks_tokens: true,
                };
                listeners.push((listener, Some(plugin.clone())));
            }
            for (listener, plugin) in listeners {
                let (address, task) = server::start(state.clone(), listener).await?;
                let context = match listener.user.context_suffix {
                    "" => name.clone(),
                    suffix => format!("{name}-{suffix}"),
                };
                contexts.push(SimContext::new(
                    context,
                    name,
                    &format!("http://{address}"),
                    listener.user,
                    plugin,
                ));
                tasks.push(task);
            }
            clusters.push(Cluster {
                name: name.clone(),
                store,
                requests,
                traffic,
                tasks,
            });
        }
        let (dir, owned_dir) = match &options.kubeconfig_dir {
            Some(dir) => (dir.clone(), None),
            None => {
                let port = contexts[0].server.rsplit(':').next().unwrap_or("0");
                let dir = std::env::temp_dir()
                    .join(format!("flightdeck-sim-{}-{port}", std::process::id()));
                (dir.clone(), Some(dir))
            }
        };
        let kubeconfig = kubeconfig::write(&dir, &contexts)?;
        Ok(Fleet {
            clusters,
            contexts,
            kubeconfig,
            owned_dir,
            clock,
        })
    }

    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    /// The kubeconfig's contexts: name, cluster, server address and user.
    pub fn contexts(&self) -> &[SimContext] {
        &self.contexts
    }

    /// The current simulated time.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The simulated clock, for a cockpit that must read the fleet's
    /// timestamps in its time (`--speed`).
    pub fn clock(&self) -> impl Fn() -> Timestamp + Send + Sync + 'static {
        let clock = self.clock;
        move || clock.now()
    }

    fn context(&self, context: &str) -> Option<(&SimContext, &Cluster)> {
        let ctx = self.contexts.iter().find(|c| c.name == context)?;
        let cluster = self.clusters.iter().find(|c| c.name == ctx.cluster)?;
        Some((ctx, cluster))
    }

    /// The requests a context's user sent to its cluster, oldest first.
    pub fn requests(&self, context: &str) -> Vec<RecordedRequest> {
        self.context(context)
            .map(|(ctx, cluster)| cluster.requests.by_user(&ctx.user))
            .unwrap_or_default()
    }

    /// The traffic model of a context's cluster: per-version request, error and latency
    /// figures, the same ones its `/metrics` serves.
    pub fn traffic(&self, context: &str) -> Option<TrafficHandle> {
        self.context(context)
            .map(|(_, cluster)| cluster.traffic.clone())
    }

    /// Forget the requests a context's cluster has received.
    pub fn clear_requests(&self, context: &str) {
        if let Some((_, cluster)) = self.context(context) {
            cluster.requests.clear();
        }
    }

    /// Put an object into a context's cluster as a controller would: everything it holds is
    /// kept, status included; the store assigns `resourceVersion` (and a uid,
    /// creationTimestamp and generation when missing).
    pub fn load(&self, context: &str, object: Value) -> Result<(), ApiError> {
        let (_, cluster) = self.context(context).ok_or_else(|| {
            ApiError::bad_request(format!("no simulated context named {context:?}"))
        })?;
        let api_version = object["apiVersion"].as_str().unwrap_or("");
        let kind = object["kind"].as_str().unwrap_or("");
        let resource = discovery::find_kind(api_version, kind).ok_or_else(|| {
            ApiError::bad_request(format!(
                "the simulator does not serve kind {kind:?} of apiVersion {api_version:?}"
            ))
        })?;
        cluster
            .store
            .create(resource, object, self.clock.now())
            .map(|_| ())
    }

    /// Compact a context's cluster as etcd compaction does: every open watch of the cluster
    /// gets an `ERROR` event with a `410 Gone` Status and ends, and watches (or paged lists)
    /// from a resourceVersion before now get `410 Gone`, so clients must list again.
    pub fn compact(&self, context: &str) -> Result<(), ApiError> {
        let (_, cluster) = self.context(context).ok_or_else(|| {
            ApiError::bad_request(format!("no simulated context named {context:?}"))
        })?;
        cluster.store.compact();
        Ok(())
    }

    /// Stop the servers and controllers and remove the kubeconfig the fleet wrote.
    pub fn shutdown(self) {}
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for task in self.clusters.iter().flat_map(|c| &c.tasks) {
            task.abort();
        }
        if let Some(dir) = &self.owned_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// `--latency 100ms`: a duration as Argo and Go write them (`250ms`, `1s`, `1m30s`).
pub fn parse_latency(text: &str) -> Result<Duration, String> {
    objects::duration_seconds(&Value::from(text))
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| format!("{text:?} is not a duration such as 100ms or 1s"))
}
