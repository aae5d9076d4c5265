//! Live watches: per context, a kube-rs `watcher` (a streamed list where the server
//! serves one, else a list in pages; then a watch; never a poll) on Rollouts,
//! ReplicaSets, AnalysisRuns and Experiments, turned into
//! `ClusterEvent`s. The watcher is kept through failures with kube-runtime's
//! backoff: it resumes from the last resourceVersion and relists only when
//! the server says that version is gone (410). A failure is reported as
//! `Down` (and `Live` again on the next event); one kind failing never
//! stops another, nor one context another; an object that cannot be mapped
//! is reported and skipped. A user who may not list rollouts across all
//! namespaces is watched namespace by namespace, in the namespaces they may
//! read.

use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams, PostParams};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

mod kind;
mod relay;
mod streamed;
mod watched;

use kind::watch_kind;

use super::connect::ContextClient;
use super::errors::WatchSite;
use super::{ClusterEvent, Connection, Kind};
use crate::model::{AnalysisRun, Experiment, ReplicaSet, Rollout};

/// One context to watch.
pub struct WatchTarget {
    pub context: String,
    pub connection: Connection,
    /// `None`: all namespaces.
    pub namespace: Option<String>,
}

/// Running watches; dropping this stops them all.
#[must_use = "dropping Watches stops the watches"]
pub struct Watches {
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Watches {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Starts one task per target; see `Connection::watch`.
pub fn spawn_watchers(
    targets: impl IntoIterator<Item = WatchTarget>,
    events: mpsc::Sender<ClusterEvent>,
) -> Watches {
    let tasks = targets
        .into_iter()
        .map(|target| tokio::spawn(watch_context(target, events.clone())))
        .collect();
    Watches { tasks }
}

const KINDS: [Kind; 7] = [
    Kind::Rollout,
    Kind::ReplicaSet,
    Kind::AnalysisRun,
    Kind::Experiment,
    Kind::Canary,
    Kind::Deployment,
    Kind::DeploymentReplicaSet,
];

/// Namespaces checked for access at once, when looking for those a user may read.
const ACCESS_CHECKS_AT_ONCE: usize = 8;

/// How a watch ended.
enum End {
    /// Nobody listens any more.
    Gone,
    /// The user may not list across all namespaces (and nothing was listed).
    Forbidden(String),
}

async fn watch_context(target: WatchTarget, events: mpsc::Sender<ClusterEvent>) {
    let context = target.context.clone();
    let client = match target.connection.client(&context).await {
        Ok(client) => client,
        Err(error) => {
            tracing::warn!(%context, %error, "cannot watch");
            for kind in KINDS {
                let down = ClusterEvent::Down {
                    context: context.clone(),
                    kind,
                    error: error.clone(),
                };
                if events.send(down).await.is_err() {
                    return;
                }
            }
            return;
        }
    };
    if client.insecure {
        let warning = ClusterEvent::Insecure {
            context: context.clone(),
        };
        if events.send(warning).await.is_err() {
            return;
        }
    }
    let watch_timeout = target.connection.watch_timeout();
    let scope = Scope {
        client: client.clone(),
        context: &context,
        namespace: target.namespace.as_deref(),
        watch_timeout,
    };
    let End::Forbidden(refused) = watch_scope(&scope, &events, target.namespace.is_none()).await
    else {
        return;
    };
    // Not across all namespaces: in those the user may read.
    let (namespaces, from) = match readable_namespaces(&client, &context).await {
        Some(found) => (found, "the namespaces they may read"),
        None => (
            target.connection.namespaces_of(&context).to_vec(),
            "config.toml",
        ),
    };
    let note = if namespaces.is_empty() {
        format!(
            "{refused}; name the namespaces to watch: [contexts.\"{context}\"] namespaces = [...] in config.toml, or -n"
        )
    } else {
        format!("{refused}; watching {} ({from})", namespaces.join(", "))
    };
    tracing::info!(%context, "{note}");
    let scoped = ClusterEvent::Scoped {
        context: context.clone(),
        namespaces: namespaces.clone(),
        note,
    };
    if events.send(scoped).await.is_err() || namespaces.is_empty() {
        return;
    }
    let scopes: Vec<Scope> = namespaces
        .iter()
        .map(|namespace| Scope {
            client: client.clone(),
            context: &context,
            namespace: Some(namespace),
            watch_timeout,
        })
        .collect();
    futures::future::join_all(
        scopes
            .iter()
            .map(|scope| watch_scope(scope, &events, false)),
    )
    .await;
}

/// Where one set of watches runs: a context, and a namespace or all.
struct Scope<'a> {
    client: Arc<ContextClient>,
    context: &'a str,
    namespace: Option<&'a str>,
    watch_timeout: std::time::Duration,
}

impl Scope<'_> {
    fn site(&self) -> WatchSite<'_> {
        WatchSite {
            context: self.context,
            user: &self.client.user,
            namespace: self.namespace,
            server: &self.client.server,
        }
    }
}

/// The rollouts first: the fleet shows as soon as they are listed, and the
/// larger lists of the other kinds neither compete with theirs for the link
/// nor are held in memory at the same time. `may_narrow`: a cluster-wide
/// list that is forbidden ends the watches, for the caller to watch
/// namespace by namespace instead.
async fn watch_scope(
    scope: &Scope<'_>,
    events: &mpsc::Sender<ClusterEvent>,
    may_narrow: bool,
) -> End {
    let (listed, rollouts_listed) = oneshot::channel();
    let rollouts = watch_kind::<Rollout>(scope, events.clone(), Some(listed), may_narrow);
    let others = async {
        futures::join!(
            // Beside the rollouts, not after them: a cluster may run Flagger (or plain
            // Deployments) without Argo.
            watch_kind::<watched::FlaggerCanary>(scope, events.clone(), None, false),
            watch_kind::<watched::Deployment>(scope, events.clone(), None, false),
            watch_kind::<watched::DeploymentReplicaSet>(scope, events.clone(), None, false),
            async {
                if rollouts_listed.await.is_ok() {
                    futures::join!(
                        watch_kind::<ReplicaSet>(scope, events.clone(), None, false),
                        watch_kind::<AnalysisRun>(scope, events.clone(), None, false),
                        watch_kind::<Experiment>(scope, events.clone(), None, false)
                    );
                }
            }
        )
    };
    // The rollouts' watch ends the scope (a forbidden cluster-wide list is watched
    // namespace by namespace instead): the others end with it.
    match futures::future::select(std::pin::pin!(rollouts), std::pin::pin!(others)).await {
        futures::future::Either::Left((end, _)) => end,
        futures::future::Either::Right(_) => End::Gone,
    }
}

/// The namespaces whose rollouts the user may list, when they may list the
/// namespaces (`None` when they may not).
async fn readable_namespaces(client: &ContextClient, context: &str) -> Option<Vec<String>> {
    let namespaces: Api<Namespace> = Api::all(client.client.clone());
    let listed = match namespaces.list_metadata(&ListParams::default()).await {
        Ok(list) => list,
        Err(error) => {
            tracing::info!(%context, %error, "cannot list namespaces");
            return None;
        }
    };
    let reviews: Api<SelfSubjectAccessReview> = Api::all(client.client.clone());
    let names = listed.items.into_iter().filter_map(|n| n.metadata.name);
    let allowed = futures::stream::iter(names)
        .map(|namespace| {
            let reviews = reviews.clone();
            async move {
                let review = list_review(&namespace);
                let answer = reviews.create(&PostParams::default(), &review).await;
                let allowed = answer.is_ok_and(|a| a.status.is_some_and(|s| s.allowed));
                allowed.then_some(namespace)
            }
        })
        .buffered(ACCESS_CHECKS_AT_ONCE)
        .filter_map(|found| async move { found })
        .collect()
        .await;
    Some(allowed)
}

/// May the user list rollouts in `namespace`?
fn list_review(namespace: &str) -> SelfSubjectAccessReview {
    SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                namespace: Some(namespace.to_string()),
                verb: Some("list".into()),
                group: Some("argoproj.io".into()),
                resource: Some("rollouts".into()),
                ..ResourceAttributes::default()
            }),
            ..SelfSubjectAccessReviewSpec::default()
        },
        ..SelfSubjectAccessReview::default()
    }
}
