//! From the scope asked for to the contexts to watch: read the kubeconfig
//! (`--kubeconfig`, `$KUBECONFIG`, `~/.kube/config`), pick the contexts
//! (named, all, or the current one), and make one client per context, the
//! first time it is needed, shared by the watches, the actions and the
//! access reviews (so an exec credential plugin runs once per token, not
//! once per key press, and its connections are reused).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use kube::runtime::events::{Recorder, Reporter};
use tokio::sync::{OnceCell, mpsc};

use super::ClusterEvent;
use super::errors::ConnectError;
use super::watch::{self, WatchTarget, Watches};

/// Which clusters and namespaces to connect to: the command line's scope,
/// in the terms of this layer.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub kubeconfig: Option<PathBuf>,
    /// Named contexts; none: the current one (or all, with `all_contexts`).
    pub contexts: Vec<String>,
    pub all_contexts: bool,
    /// `None`: all namespaces.
    pub namespace: Option<String>,
    /// Per context, the namespaces to watch one by one when the user may
    /// not list across all of them (`[contexts.X] namespaces` in config).
    pub namespaces: BTreeMap<String, Vec<String>>,
    /// How long a watch may stay quiet before it is made again (the API
    /// server ends it then); a link that goes silent is found within half
    /// as long again. `None`: [`WATCH_TIMEOUT`].
    pub watch_timeout: Option<Duration>,
}

/// Watches are made again this often: a proxy or NAT that silently drops a
/// long-lived connection costs at most this (and a half) of staleness.
pub const WATCH_TIMEOUT: Duration = Duration::from_secs(60);

/// A kubeconfig and the contexts chosen from it, with a client per context.
#[derive(Clone)]
pub struct Connection {
    inner: Arc<Inner>,
}

struct Inner {
    kubeconfig: Kubeconfig,
    known: Vec<String>,
    selected: Vec<String>,
    namespaces: BTreeMap<String, Vec<String>>,
    watch_timeout: Duration,
    clients: Mutex<HashMap<String, Arc<ClientCell>>>,
}

/// A context's client once made, or why it could not be.
type ClientCell = OnceCell<Result<Arc<ContextClient>, String>>;

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("selected", &self.inner.selected)
            .finish()
    }
}

/// One context's client, made once.
pub(super) struct ContextClient {
    pub client: kube::Client,
    /// The API server's address, for messages.
    pub server: String,
    /// The kubeconfig user, for messages and the audit trail.
    pub user: String,
    /// Records flightdeck's Events (`events.k8s.io`), series and all.
    pub recorder: Recorder,
    /// `insecure-skip-tls-verify`: TLS is not verified for this context.
    pub insecure: bool,
    /// The server has refused a streamed list (`sendInitialEvents`): list in pages.
    pub lists_in_pages: AtomicBool,
}

impl ContextClient {
    /// Whether to ask for streamed lists: until the server refuses one.
    pub fn streams_lists(&self) -> bool {
        !self.lists_in_pages.load(Ordering::Relaxed)
    }

    pub fn stop_streaming_lists(&self) {
        self.lists_in_pages.store(true, Ordering::Relaxed);
    }
}

/// Reads the kubeconfig and checks the contexts the scope asks for. No
/// cluster is contacted yet: a cluster that is down shows up in its watch.
pub async fn connect(scope: &Scope) -> Result<Connection, ConnectError> {
    let kubeconfig = read_kubeconfig(scope.kubeconfig.as_deref())?;
    let selected = choose_contexts(&kubeconfig, &scope.contexts, scope.all_contexts)?;
    Ok(Connection {
        inner: Arc::new(Inner {
            known: context_names(&kubeconfig),
            kubeconfig,
            selected,
            namespaces: scope.namespaces.clone(),
            watch_timeout: scope.watch_timeout.unwrap_or(WATCH_TIMEOUT),
            clients: Mutex::default(),
        }),
    })
}

impl Connection {
    /// The contexts the scope chose.
    pub fn selected(&self) -> &[String] {
        &self.inner.selected
    }

    /// Every context of the kubeconfig.
    pub fn known(&self) -> &[String] {
        &self.inner.known
    }

    /// The kubeconfig user of a context, for the audit trail.
    pub fn user(&self, context: &str) -> Option<&str> {
        self.inner
            .kubeconfig
            .contexts
            .iter()
            .find(|c| c.name == context)?
            .context
            .as_ref()?
            .user
            .as_deref()
    }

    /// The namespaces config names for `context`.
    pub(super) fn namespaces_of(&self, context: &str) -> &[String] {
        self.inner
            .namespaces
            .get(context)
            .map_or(&[], Vec::as_slice)
    }

    /// How long a watch may stay quiet before it is made again.
    pub(super) fn watch_timeout(&self) -> Duration {
        self.inner.watch_timeout
    }

    /// The client of `context`, made the first time it is asked for.
    pub(super) async fn client(&self, context: &str) -> Result<Arc<ContextClient>, String> {
        let cell = {
            let mut clients = self.inner.clients.lock().unwrap_or_else(|p| p.into_inner());
            clients.entry(context.to_string()).or_default().clone()
        };
        let read_timeout = self.inner.watch_timeout * 3 / 2;
        cell.get_or_init(|| client_for(self.inner.kubeconfig.clone(), context, read_timeout))
            .await
            .clone()
    }

    /// Starts watching Rollouts, ReplicaSets and AnalysisRuns in each of
    /// `contexts`, in `namespace` or all namespaces, sending what changes to
    /// `events`. Must be called inside a tokio runtime; dropping the
    /// returned `Watches` stops them.
    pub fn watch(
        &self,
        contexts: &[String],
        namespace: Option<&str>,
        events: mpsc::Sender<ClusterEvent>,
    ) -> Watches {
        let targets = contexts.iter().map(|context| WatchTarget {
            context: context.clone(),
            connection: self.clone(),
            namespace: namespace.map(str::to_string),
        });
        watch::spawn_watchers(targets, events)
    }
}

/// Builds the client of one context.
/// `read_timeout`: how long any answer may stay silent (kube sets none, so
/// a stalled link would hang a watch for ever).
async fn client_for(
    kubeconfig: Kubeconfig,
    context: &str,
    read_timeout: Duration,
) -> Result<Arc<ContextClient>, String> {
    let user = kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == context)
        .and_then(|c| c.context.as_ref()?.user.clone())
        .unwrap_or_default();
    let options = KubeConfigOptions {
        context: Some(context.to_string()),
        ..KubeConfigOptions::default()
    };
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| format!("bad kubeconfig entry for {context}: {e}"))?;
    config.read_timeout = Some(read_timeout);
    // kube retries 429/503/504 up to 15 times over minutes before a request
    // fails: a cluster in trouble would look fine for that long. The
    // watches retry with their own backoff and say what is wrong at once.
    config.default_retry = false;
    let server = config.cluster_url.to_string();
    let insecure = config.accept_invalid_certs;
    if insecure {
        tracing::warn!(%context, "insecure-skip-tls-verify: TLS is not verified");
    }
    let client = kube::Client::try_from(config)
        .map_err(|e| format!("cannot make a client for {context}: {e}"))?;
    let recorder = Recorder::new(
        client.clone(),
        Reporter {
            controller: "flightdeck".into(),
            instance: None,
        },
    );
    Ok(Arc::new(ContextClient {
        client,
        server,
        user,
        recorder,
        insecure,
        lists_in_pages: AtomicBool::new(false),
    }))
}

fn read_kubeconfig(path: Option<&Path>) -> Result<Kubeconfig, ConnectError> {
    let named = path.is_some() || std::env::var_os("KUBECONFIG").is_some_and(|v| !v.is_empty());
    let read = match path {
        Some(path) => Kubeconfig::read_from(path),
        None => Kubeconfig::read(),
    };
    read.map_err(|e| match e {
        KubeconfigError::FindPath => ConnectError::NoKubeconfig,
        KubeconfigError::ReadConfig(io, at) if io.kind() == std::io::ErrorKind::NotFound => {
            if named {
                ConnectError::NoKubeconfigAt(at.display().to_string())
            } else {
                ConnectError::NoKubeconfig
            }
        }
        other => ConnectError::Unreadable(other.to_string()),
    })
}

fn context_names(kubeconfig: &Kubeconfig) -> Vec<String> {
    kubeconfig.contexts.iter().map(|c| c.name.clone()).collect()
}

/// The contexts to watch: those named (each must exist), all of them, or
/// the kubeconfig's current one.
fn choose_contexts(
    kubeconfig: &Kubeconfig,
    named: &[String],
    all: bool,
) -> Result<Vec<String>, ConnectError> {
    let known = context_names(kubeconfig);
    if known.is_empty() {
        return Err(ConnectError::NoContexts);
    }
    let check = |name: &String| {
        if known.contains(name) {
            Ok(name.clone())
        } else {
            Err(ConnectError::UnknownContext {
                name: name.clone(),
                known: known.clone(),
            })
        }
    };
    if all {
        return Ok(known.clone());
    }
    if !named.is_empty() {
        let mut chosen = Vec::new();
        for name in named {
            let name = check(name)?;
            if !chosen.contains(&name) {
                chosen.push(name);
            }
        }
        return Ok(chosen);
    }
    match kubeconfig
        .current_context
        .as_ref()
        .filter(|c| !c.is_empty())
    {
        Some(current) => Ok(vec![check(current)?]),
        None => Err(ConnectError::NoCurrentContext { known }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KUBECONFIG: &str = r#"
apiVersion: v1
kind: Config
current-context: prod-eu
clusters:
- name: eu
  cluster: {server: "https://eu.example:6443"}
- name: us
  cluster: {server: "https://us.example:6443"}
users:
- name: alice
  user: {token: "t"}
contexts:
- name: prod-eu
  context: {cluster: eu, user: alice}
- name: prod-us
  context: {cluster: us, user: alice, namespace: shop}
"#;

    fn kubeconfig() -> Kubeconfig {
        Kubeconfig::from_yaml(KUBECONFIG).unwrap()
    }

    fn names(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn contexts_are_the_current_one_all_or_those_named() {
        let k = kubeconfig();
        assert_eq!(
            choose_contexts(&k, &[], false).unwrap(),
            names(&["prod-eu"])
        );
        assert_eq!(
            choose_contexts(&k, &[], true).unwrap(),
            names(&["prod-eu", "prod-us"])
        );
        assert_eq!(
            choose_contexts(&k, &names(&["prod-us", "prod-us"]), false).unwrap(),
            names(&["prod-us"])
        );
    }

    #[test]
    fn an_unknown_context_is_named_with_the_known_ones() {
        let err = choose_contexts(&kubeconfig(), &names(&["prod-ap"]), false).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"no context "prod-ap" in the kubeconfig (known: prod-eu, prod-us)"#
        );
        let mut k = kubeconfig();
        k.current_context = Some("gone".into());
        let err = choose_contexts(&k, &[], false).unwrap_err();
        assert!(matches!(err, ConnectError::UnknownContext { name, .. } if name == "gone"));
        k.current_context = None;
        let err = choose_contexts(&k, &[], false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the kubeconfig names no current context; pick one with --context (known: prod-eu, prod-us)"
        );
        let err = choose_contexts(&Kubeconfig::default(), &[], true).unwrap_err();
        assert!(matches!(err, ConnectError::NoContexts));
    }

    #[test]
    fn a_missing_kubeconfig_file_suggests_the_demo() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        let err = read_kubeconfig(Some(&path)).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("no kubeconfig at {}; try `flightdeck demo`", path.display())
        );
        std::fs::write(&path, KUBECONFIG).unwrap();
        assert_eq!(
            context_names(&read_kubeconfig(Some(&path)).unwrap()).len(),
            2
        );
    }

    #[tokio::test]
    async fn each_context_gets_its_own_client_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, KUBECONFIG).unwrap();
        let scope = Scope {
            kubeconfig: Some(path),
            all_contexts: true,
            ..Scope::default()
        };
        let connection = connect(&scope).await.unwrap();
        let us = connection.client("prod-us").await.unwrap();
        assert_eq!(us.server, "https://us.example:6443/");
        assert_eq!(us.user, "alice");
        assert!(!us.insecure);
        let again = connection.client("prod-us").await.unwrap();
        assert!(Arc::ptr_eq(&us, &again), "the same client, not a new one");
        let eu = connection.client("prod-eu").await.unwrap();
        assert!(!Arc::ptr_eq(&us, &eu));
    }

    #[tokio::test]
    async fn a_context_that_skips_tls_verification_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        let insecure = KUBECONFIG.replace(
            "{server: \"https://eu.example:6443\"}",
            "{server: \"https://eu.example:6443\", insecure-skip-tls-verify: true}",
        );
        std::fs::write(&path, insecure).unwrap();
        let scope = Scope {
            kubeconfig: Some(path),
            all_contexts: true,
            ..Scope::default()
        };
        let connection = connect(&scope).await.unwrap();
        assert!(connection.client("prod-eu").await.unwrap().insecure);
        assert!(!connection.client("prod-us").await.unwrap().insecure);
    }
}
