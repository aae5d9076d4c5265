//! Live watches: per context, a kube-rs `watcher` (list, then watch; never
//! poll) on Rollouts, ReplicaSets, AnalysisRuns and Experiments, turned into
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
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::connect::ContextClient;
use super::errors::{WatchSite, watch_error_words};
use super::map::{
    HASH_LABEL, MapError, map_analysis_run, map_experiment, map_replica_set, map_rollout,
};
use super::{Change, ClusterEvent, Connection, Kind};
use crate::model::{AnalysisRun, Experiment, ObjectKey, ReplicaSet, Rollout};

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

/// Objects per page of a list. Every context lists at once, and a page is
/// held as raw JSON (several times the size of the model) until it is
/// mapped: at 500 (kube's default) ten contexts of 1,000 rollouts peak at
/// 100 MB; at 100, at 70 MB, for four more round trips per 500 objects.
const LIST_PAGE: u32 = 100;

const KINDS: [Kind; 4] = [
    Kind::Rollout,
    Kind::ReplicaSet,
    Kind::AnalysisRun,
    Kind::Experiment,
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
    let (rollouts, _) = futures::join!(
        watch_kind::<Rollout>(scope, events.clone(), Some(listed), may_narrow),
        async {
            if rollouts_listed.await.is_ok() {
                futures::join!(
                    watch_kind::<ReplicaSet>(scope, events.clone(), None, false),
                    watch_kind::<AnalysisRun>(scope, events.clone(), None, false),
                    watch_kind::<Experiment>(scope, events.clone(), None, false)
                );
            }
        }
    );
    rollouts
}

/// Watches one kind in one scope until the receiver is gone; says on
/// `listed` when the first list is done.
async fn watch_kind<T: Watched>(
    scope: &Scope<'_>,
    events: mpsc::Sender<ClusterEvent>,
    mut listed: Option<oneshot::Sender<()>>,
    may_narrow: bool,
) -> End {
    let kind = T::KIND;
    let resource = api_resource(kind);
    let client = scope.client.client.clone();
    let api: Api<DynamicObject> = match scope.namespace {
        Some(ns) => Api::namespaced_with(client, ns, &resource),
        None => Api::all_with(client, &resource),
    };
    let timeout = u32::try_from(scope.watch_timeout.as_secs())
        .unwrap_or(u32::MAX)
        .max(1);
    let mut config = watcher::Config::default()
        .page_size(LIST_PAGE)
        .timeout(timeout);
    if kind == Kind::ReplicaSet {
        // Only Argo's ReplicaSets, not every Deployment's.
        config = config.labels(HASH_LABEL);
    }
    let site = scope.site();
    let mut relay = Relay::<T>::new(scope.context, scope.namespace);
    let mut stream = std::pin::pin!(watcher(api, config).default_backoff());
    // The words of the failure being reported, while the watch is down.
    let mut down: Option<String> = None;
    while let Some(item) = stream.next().await {
        let out = match item {
            Ok(event) => {
                let mut out = relay.on_event(to_json(event));
                let live = out.iter().any(|e| matches!(e, ClusterEvent::Live { .. }));
                if live && let Some(listed) = listed.take() {
                    let _ = listed.send(());
                }
                // Back: the watcher resumed; the next event says so.
                if down.take().is_some() && !live {
                    out.insert(0, relay.live());
                }
                out
            }
            // The history the watch resumed from is gone (etcd compacted
            // it): the watcher lists again, which is no failure to report.
            Err(watcher::Error::WatchError(status)) if status.code == 410 => {
                tracing::debug!(context = scope.context, ?kind, "410 Gone: listing again");
                continue;
            }
            Err(error) => {
                let words = watch_error_words(&error, kind, &site);
                if may_narrow && listed.is_some() && is_forbidden(&error) {
                    return End::Forbidden(words);
                }
                if down.as_ref() == Some(&words) {
                    continue;
                }
                tracing::warn!(context = scope.context, ?kind, %error, "watch down: {words}");
                down = Some(words.clone());
                vec![ClusterEvent::Down {
                    context: scope.context.to_string(),
                    kind,
                    error: words,
                }]
            }
        };
        for event in out {
            if events.send(event).await.is_err() {
                return End::Gone;
            }
        }
    }
    // The watcher stream does not end on its own.
    End::Gone
}

fn is_forbidden(error: &watcher::Error) -> bool {
    match error {
        watcher::Error::InitialListFailed(kube::Error::Api(status))
        | watcher::Error::WatchStartFailed(kube::Error::Api(status))
        | watcher::Error::WatchFailed(kube::Error::Api(status)) => status.code == 403,
        watcher::Error::WatchError(status) => status.code == 403,
        _ => false,
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

/// The watcher decodes into `DynamicObject`; the mapping reads plain JSON.
fn to_json(event: watcher::Event<DynamicObject>) -> watcher::Event<Value> {
    let json = |object| serde_json::to_value(object).unwrap_or(Value::Null);
    match event {
        watcher::Event::Init => watcher::Event::Init,
        watcher::Event::InitApply(obj) => watcher::Event::InitApply(json(obj)),
        watcher::Event::InitDone => watcher::Event::InitDone,
        watcher::Event::Apply(obj) => watcher::Event::Apply(json(obj)),
        watcher::Event::Delete(obj) => watcher::Event::Delete(json(obj)),
    }
}

fn api_resource(kind: Kind) -> ApiResource {
    let (group, version, name, plural) = match kind {
        Kind::Rollout => ("argoproj.io", "v1alpha1", "Rollout", "rollouts"),
        Kind::ReplicaSet => ("apps", "v1", "ReplicaSet", "replicasets"),
        Kind::AnalysisRun => ("argoproj.io", "v1alpha1", "AnalysisRun", "analysisruns"),
        Kind::Experiment => ("argoproj.io", "v1alpha1", "Experiment", "experiments"),
    };
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, name), plural)
}

/// A kind of object that is watched: how it is mapped, and how its
/// changes are told to the app.
trait Watched: Sized {
    const KIND: Kind;
    fn map(context: &str, object: &Value) -> Result<Self, MapError>;
    fn wrap(change: Change<Self>) -> ClusterEvent;
}

impl Watched for Rollout {
    const KIND: Kind = Kind::Rollout;
    fn map(context: &str, object: &Value) -> Result<Self, MapError> {
        map_rollout(context, object)
    }
    fn wrap(change: Change<Self>) -> ClusterEvent {
        ClusterEvent::Rollout(change)
    }
}

impl Watched for ReplicaSet {
    const KIND: Kind = Kind::ReplicaSet;
    fn map(context: &str, object: &Value) -> Result<Self, MapError> {
        map_replica_set(context, object)
    }
    fn wrap(change: Change<Self>) -> ClusterEvent {
        ClusterEvent::ReplicaSet(change)
    }
}

impl Watched for Experiment {
    const KIND: Kind = Kind::Experiment;
    fn map(context: &str, object: &Value) -> Result<Self, MapError> {
        map_experiment(context, object)
    }
    fn wrap(change: Change<Self>) -> ClusterEvent {
        ClusterEvent::Experiment(change)
    }
}

impl Watched for AnalysisRun {
    const KIND: Kind = Kind::AnalysisRun;
    fn map(context: &str, object: &Value) -> Result<Self, MapError> {
        map_analysis_run(context, object)
    }
    fn wrap(change: Change<Self>) -> ClusterEvent {
        ClusterEvent::AnalysisRun(change)
    }
}

/// Turns one watcher's events into `ClusterEvent`s: the objects of a
/// (re)list are buffered into one `Relisted`, followed by `Live`. Each is
/// mapped as it arrives, so that a list of thousands never holds more than
/// one raw object at a time (raw JSON is ten times the size of the model).
struct Relay<T> {
    context: String,
    /// The namespace the watch covers (`None`: all).
    namespace: Option<String>,
    listing: Vec<T>,
    /// Objects of the listing that could not be read, reported ahead of it.
    unreadable: Vec<ClusterEvent>,
}

impl<T: Watched> Relay<T> {
    fn new(context: &str, namespace: Option<&str>) -> Self {
        Relay {
            context: context.to_string(),
            namespace: namespace.map(str::to_string),
            listing: Vec::new(),
            unreadable: Vec::new(),
        }
    }

    fn on_event(&mut self, event: watcher::Event<Value>) -> Vec<ClusterEvent> {
        match event {
            watcher::Event::Init => {
                self.listing.clear();
                self.unreadable.clear();
                Vec::new()
            }
            watcher::Event::InitApply(obj) => {
                match self.read(&obj) {
                    Ok(item) => self.listing.push(item),
                    Err(report) => self.unreadable.push(report),
                }
                Vec::new()
            }
            watcher::Event::InitDone => {
                let mut out = std::mem::take(&mut self.unreadable);
                out.push(T::wrap(Change::Relisted {
                    context: self.context.clone(),
                    namespace: self.namespace.clone(),
                    items: std::mem::take(&mut self.listing),
                }));
                out.push(self.live());
                out
            }
            watcher::Event::Apply(obj) => vec![match self.read(&obj) {
                Ok(item) => T::wrap(Change::Applied(Box::new(item))),
                Err(report) => report,
            }],
            // A deleted object goes whether or not it could be read.
            watcher::Event::Delete(obj) => {
                vec![T::wrap(Change::Deleted(object_key(&self.context, &obj)))]
            }
        }
    }

    fn live(&self) -> ClusterEvent {
        ClusterEvent::Live {
            context: self.context.clone(),
            kind: T::KIND,
        }
    }

    /// The object mapped, or the report of why it cannot be read.
    fn read(&self, obj: &Value) -> Result<T, ClusterEvent> {
        let context = self.context.as_str();
        T::map(context, obj).map_err(|error| {
            tracing::warn!(context, kind = ?T::KIND, "cannot read: {error}");
            ClusterEvent::Unreadable {
                key: object_key(context, obj),
                kind: T::KIND,
                error: error.to_string(),
            }
        })
    }
}

fn object_key(context: &str, obj: &Value) -> ObjectKey {
    let meta = |field: &str| obj["metadata"][field].as_str().unwrap_or_default();
    ObjectKey::new(context, meta("namespace"), meta("name"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use watcher::Event;

    use super::*;

    fn rs(name: &str, hash: &str) -> Value {
        json!({
            "metadata": {"name": name, "namespace": "shop", "labels": {HASH_LABEL: hash}},
            "spec": {"replicas": 2}
        })
    }

    fn names(event: &ClusterEvent) -> Vec<String> {
        match event {
            ClusterEvent::ReplicaSet(Change::Relisted { items, .. }) => {
                items.iter().map(|rs| rs.key.name.clone()).collect()
            }
            ClusterEvent::ReplicaSet(Change::Applied(rs)) => vec![rs.key.name.clone()],
            other => panic!("not a ReplicaSet change: {other:?}"),
        }
    }

    #[test]
    fn a_list_becomes_one_relisted_then_live() {
        let mut relay = Relay::<ReplicaSet>::new("prod", None);
        assert!(relay.on_event(Event::Init).is_empty());
        assert!(relay.on_event(Event::InitApply(rs("a-1", "1"))).is_empty());
        assert!(relay.on_event(Event::InitApply(rs("a-2", "2"))).is_empty());
        let out = relay.on_event(Event::InitDone);
        assert_eq!(out.len(), 2);
        assert_eq!(names(&out[0]), ["a-1", "a-2"]);
        assert!(
            matches!(&out[0], ClusterEvent::ReplicaSet(Change::Relisted { context, .. }) if context == "prod")
        );
        assert_eq!(
            out[1],
            ClusterEvent::Live {
                context: "prod".into(),
                kind: Kind::ReplicaSet
            }
        );
        // A relist starts from nothing.
        relay.on_event(Event::Init);
        relay.on_event(Event::InitApply(rs("a-3", "3")));
        assert_eq!(names(&relay.on_event(Event::InitDone)[0]), ["a-3"]);
    }

    #[test]
    fn applies_and_deletes_pass_through() {
        let mut relay = Relay::<ReplicaSet>::new("prod", None);
        let out = relay.on_event(Event::Apply(rs("a-1", "1")));
        assert_eq!(names(&out[0]), ["a-1"]);
        let out = relay.on_event(Event::Delete(rs("a-1", "1")));
        assert_eq!(
            out,
            vec![ClusterEvent::ReplicaSet(Change::Deleted(ObjectKey::new(
                "prod", "shop", "a-1"
            )))]
        );
    }

    #[test]
    fn an_object_that_does_not_map_is_reported_and_the_rest_go_on() {
        let mut relay = Relay::<ReplicaSet>::new("prod", None);
        let mut bad = rs("a-2", "2");
        bad["spec"]["replicas"] = "two".into();
        relay.on_event(Event::Init);
        relay.on_event(Event::InitApply(rs("a-1", "1")));
        relay.on_event(Event::InitApply(bad.clone()));
        let out = relay.on_event(Event::InitDone);
        assert_eq!(out.len(), 3);
        assert_eq!(
            out[0],
            ClusterEvent::Unreadable {
                key: ObjectKey::new("prod", "shop", "a-2"),
                kind: Kind::ReplicaSet,
                error: r#"shop/a-2: spec.replicas: expected an integer, found "two""#.into(),
            }
        );
        assert_eq!(names(&out[1]), ["a-1"]);
        assert!(matches!(out[2], ClusterEvent::Live { .. }));
        // Applied: only the report. Deleted: the key, readable or not.
        let out = relay.on_event(Event::Apply(bad.clone()));
        assert!(matches!(&out[..], [ClusterEvent::Unreadable { .. }]));
        let out = relay.on_event(Event::Delete(bad));
        assert!(matches!(
            &out[..],
            [ClusterEvent::ReplicaSet(Change::Deleted(_))]
        ));
    }
}
