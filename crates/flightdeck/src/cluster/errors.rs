//! Failures in plain words: what went wrong with a kubeconfig, a context or
//! a watch, as a person at the terminal should read it.

use kube::runtime::watcher;

use super::Kind;

/// Why flightdeck could not work out which clusters to watch.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("no kubeconfig found; try `flightdeck demo`")]
    NoKubeconfig,
    #[error("no kubeconfig at {0}; try `flightdeck demo`")]
    NoKubeconfigAt(String),
    #[error("cannot read the kubeconfig: {0}")]
    Unreadable(String),
    #[error("the kubeconfig has no contexts; try `flightdeck demo`")]
    NoContexts,
    #[error("the kubeconfig names no current context; pick one with --context ({})", known_list(.known))]
    NoCurrentContext { known: Vec<String> },
    #[error("no context {name:?} in the kubeconfig ({})", known_list(.known))]
    UnknownContext { name: String, known: Vec<String> },
}

fn known_list(known: &[String]) -> String {
    format!("known: {}", known.join(", "))
}

/// The resource a kind is served as, the way kubectl names it.
pub fn resource_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Rollout => "rollouts.argoproj.io",
        Kind::ReplicaSet | Kind::DeploymentReplicaSet => "replicasets.apps",
        Kind::AnalysisRun => "analysisruns.argoproj.io",
        Kind::Experiment => "experiments.argoproj.io",
        Kind::Canary => "canaries.flagger.app",
        Kind::Deployment => "deployments.apps",
    }
}

/// Where a watch runs, for its error messages.
pub struct WatchSite<'a> {
    pub context: &'a str,
    /// The kubeconfig user of the context, in case the server does not say.
    pub user: &'a str,
    /// `None`: all namespaces.
    pub namespace: Option<&'a str>,
    /// The API server's address.
    pub server: &'a str,
}

/// A watch failure in plain words.
pub fn watch_error_words(error: &watcher::Error, kind: Kind, site: &WatchSite<'_>) -> String {
    match error {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => client_error_words(e, kind, site),
        watcher::Error::WatchError(status) => status_words(status, kind, site),
        watcher::Error::NoResourceVersion => format!(
            "{} in {} cannot be watched (no resourceVersion)",
            resource_name(kind),
            site.context
        ),
    }
}

fn client_error_words(error: &kube::Error, kind: Kind, site: &WatchSite<'_>) -> String {
    match error {
        kube::Error::Api(status) => status_words(status, kind, site),
        _ if root_cause(error).contains("timed out") => format!(
            "no answer from {} in time: the link is stalled or has gone silent",
            site.server
        ),
        _ if ["end of file", "unexpected EOF"]
            .iter()
            .any(|cut| root_cause(error).contains(cut)) =>
        {
            format!(
                "the answer from {} was cut short (a proxy or the link closed it): {}",
                site.server,
                root_cause(error)
            )
        }
        kube::Error::HyperError(_) | kube::Error::Service(_) => {
            format!("unreachable: {}: {}", site.server, root_cause(error))
        }
        kube::Error::Auth(_) => format!("cannot log in to {}: {}", site.context, root_cause(error)),
        // What came back is not the API server's JSON: a proxy's error
        // page, a cut-off answer.
        kube::Error::SerdeError(e) => format!(
            "{} answered something that is not a Kubernetes object (a proxy's page, or cut short): {e}",
            site.server
        ),
        other => format!("{}: {}", site.context, root_cause(other)),
    }
}

fn status_words(status: &kube::core::Status, kind: Kind, site: &WatchSite<'_>) -> String {
    let resource = resource_name(kind);
    match status.code {
        404 if matches!(
            kind,
            Kind::ReplicaSet | Kind::Deployment | Kind::DeploymentReplicaSet
        ) =>
        {
            format!("{} does not serve {resource}", site.context)
        }
        404 if kind == Kind::Canary => {
            format!(
                "Flagger is not installed in {} (no {resource})",
                site.context
            )
        }
        404 => format!(
            "Argo Rollouts is not installed in {} (no {resource})",
            site.context
        ),
        403 => {
            let user = forbidden_user(&status.message).unwrap_or(site.user);
            let scope = match site.namespace {
                None => "all namespaces".to_string(),
                Some(ns) => format!("namespace {ns}"),
            };
            format!("RBAC: {user} cannot list {resource} in {scope}")
        }
        401 => format!(
            "{} did not accept the credentials of {}: {}",
            site.context, site.user, status.message
        ),
        429 => format!(
            "{} is throttling requests (429 Too Many Requests): {}; retrying with backoff",
            site.context, status.message
        ),
        code @ 500..=599 => format!(
            "{} answered {code}: {} (the API server, or a proxy in front of it, is in trouble)",
            site.context, status.message
        ),
        code => format!("{}: {} ({code})", site.context, status.message),
    }
}

/// The user in an API server's 403 message:
/// `... is forbidden: User "alice" cannot list resource ...`.
pub(super) fn forbidden_user(message: &str) -> Option<&str> {
    let rest = &message[message.find("User \"")? + 6..];
    rest.get(..rest.find('"')?)
}

/// The innermost error's message: `Connection refused (os error 111)` rather
/// than the wrappers around it.
pub(super) fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut inner = error;
    while let Some(source) = inner.source() {
        inner = source;
    }
    inner.to_string()
}

#[cfg(test)]
mod tests {
    use kube::core::Status;

    use super::*;

    fn site(namespace: Option<&str>) -> WatchSite<'_> {
        WatchSite {
            context: "prod-eu",
            user: "alice@prod-eu",
            namespace,
            server: "https://10.0.0.1:6443",
        }
    }

    fn api(code: u16, message: &str) -> watcher::Error {
        let mut status = Status::failure(message, "");
        status.code = code;
        watcher::Error::InitialListFailed(kube::Error::Api(status.boxed()))
    }

    #[test]
    fn a_missing_crd_means_argo_rollouts_is_not_installed() {
        let error = api(404, "the server could not find the requested resource");
        assert_eq!(
            watch_error_words(&error, Kind::Rollout, &site(None)),
            "Argo Rollouts is not installed in prod-eu (no rollouts.argoproj.io)"
        );
        assert_eq!(
            watch_error_words(&error, Kind::AnalysisRun, &site(None)),
            "Argo Rollouts is not installed in prod-eu (no analysisruns.argoproj.io)"
        );
    }

    #[test]
    fn forbidden_names_the_user_the_server_saw_and_the_scope() {
        let error = api(
            403,
            r#"rollouts.argoproj.io is forbidden: User "system:serviceaccount:ci:deployer" cannot list resource "rollouts" in API group "argoproj.io" at the cluster scope"#,
        );
        assert_eq!(
            watch_error_words(&error, Kind::Rollout, &site(None)),
            "RBAC: system:serviceaccount:ci:deployer cannot list rollouts.argoproj.io in all namespaces"
        );
        let error = api(403, "forbidden");
        assert_eq!(
            watch_error_words(&error, Kind::ReplicaSet, &site(Some("shop"))),
            "RBAC: alice@prod-eu cannot list replicasets.apps in namespace shop"
        );
    }

    #[test]
    fn other_api_errors_keep_the_servers_message() {
        let error = api(500, "etcdserver: request timed out");
        assert_eq!(
            watch_error_words(&error, Kind::Rollout, &site(None)),
            "prod-eu answered 500: etcdserver: request timed out (the API server, or a proxy in front of it, is in trouble)"
        );
    }

    #[tokio::test]
    async fn a_refused_connection_is_unreachable() {
        // A port that was just free: connecting to it is refused at once.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let server = format!("http://127.0.0.1:{port}");
        let config = kube::Config::new(server.parse().unwrap());
        let client = kube::Client::try_from(config).unwrap();
        let api: kube::Api<k8s_openapi::api::apps::v1::ReplicaSet> = kube::Api::all(client);
        let error = api.list(&Default::default()).await.unwrap_err();
        let words = watch_error_words(
            &watcher::Error::InitialListFailed(error),
            Kind::ReplicaSet,
            &WatchSite {
                server: &server,
                ..site(None)
            },
        );
        assert!(
            words.starts_with(&format!("unreachable: {server}: ")),
            "{words}"
        );
        assert!(words.to_lowercase().contains("refused"), "{words}");
    }

    #[test]
    fn connect_errors_list_the_known_contexts() {
        let error = ConnectError::UnknownContext {
            name: "prod-ap".into(),
            known: vec!["prod-eu".into(), "prod-us".into()],
        };
        assert_eq!(
            error.to_string(),
            r#"no context "prod-ap" in the kubeconfig (known: prod-eu, prod-us)"#
        );
    }
}
