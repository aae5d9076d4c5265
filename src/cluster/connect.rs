//! From the command line's scope to the contexts to watch: read the
//! kubeconfig (`--kubeconfig`, `$KUBECONFIG`, `~/.kube/config`), pick the
//! contexts (named, all, or the current one), and make a client per context.

use std::path::Path;

use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use tokio::sync::mpsc;

use super::ClusterEvent;
use super::errors::ConnectError;
use super::watch::{self, Target, Watches};
use crate::cli::Scope;

/// A kubeconfig and the contexts chosen from it.
#[derive(Debug, Clone)]
pub struct Connection {
    kubeconfig: Kubeconfig,
    known: Vec<String>,
    selected: Vec<String>,
}

/// Reads the kubeconfig and checks the contexts the scope asks for. No
/// cluster is contacted yet: a cluster that is down shows up in its watch.
pub async fn connect(scope: &Scope) -> Result<Connection, ConnectError> {
    let kubeconfig = read_kubeconfig(scope.kubeconfig.as_deref())?;
    let selected = choose_contexts(&kubeconfig, &scope.contexts, scope.all_contexts)?;
    Ok(Connection {
        known: context_names(&kubeconfig),
        kubeconfig,
        selected,
    })
}

impl Connection {
    /// The contexts the scope chose.
    pub fn selected(&self) -> &[String] {
        &self.selected
    }

    /// Every context of the kubeconfig.
    pub fn known(&self) -> &[String] {
        &self.known
    }

    /// The kubeconfig the contexts come from.
    pub(super) fn kubeconfig(&self) -> &Kubeconfig {
        &self.kubeconfig
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
        let targets = contexts.iter().map(|context| Target {
            context: context.clone(),
            kubeconfig: self.kubeconfig.clone(),
            namespace: namespace.map(str::to_string),
        });
        watch::spawn_watchers(targets, events)
    }
}

/// Builds the client of one context, with its server address and user name.
pub(super) async fn client_for(
    kubeconfig: Kubeconfig,
    context: &str,
) -> Result<(kube::Client, String, String), String> {
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
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| format!("bad kubeconfig entry for {context}: {e}"))?;
    let server = config.cluster_url.to_string();
    let client = kube::Client::try_from(config)
        .map_err(|e| format!("cannot make a client for {context}: {e}"))?;
    Ok((client, server, user))
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
    async fn each_context_gets_its_own_client() {
        let (_, server, user) = client_for(kubeconfig(), "prod-us").await.unwrap();
        assert_eq!(server, "https://us.example:6443/");
        assert_eq!(user, "alice");
    }
}
