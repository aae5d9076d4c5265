//! Live watches: per context, a kube-rs `watcher` (list, then watch; never
//! poll) on Rollouts, ReplicaSets and AnalysisRuns, turned into
//! `ClusterEvent`s. A failure is reported as `Down` and the watch starts
//! over with a fresh list after a backoff; one context failing never stops
//! another; an object that cannot be mapped is reported and skipped.

use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use kube::config::Kubeconfig;
use kube::runtime::watcher;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::errors::{WatchSite, watch_error_words};
use super::map::{HASH_LABEL, MapError, map_analysis_run, map_replica_set, map_rollout};
use super::{Change, ClusterEvent, Kind, connect};
use crate::model::{AnalysisRun, ObjectKey, ReplicaSet, Rollout};

/// One context to watch.
pub struct Target {
    pub context: String,
    pub kubeconfig: Kubeconfig,
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
    targets: impl IntoIterator<Item = Target>,
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

const KINDS: [Kind; 3] = [Kind::Rollout, Kind::ReplicaSet, Kind::AnalysisRun];

async fn watch_context(target: Target, events: mpsc::Sender<ClusterEvent>) {
    let context = target.context;
    let (client, server, user) = match connect::client_for(target.kubeconfig, &context).await {
        Ok(found) => found,
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
    let site = WatchSite {
        context: &context,
        user: &user,
        namespace: target.namespace.as_deref(),
        server: &server,
    };
    // The rollouts first: the fleet shows as soon as they are listed, and
    // the larger lists of the other kinds neither compete with theirs for
    // the link nor are held in memory at the same time.
    let (listed, rollouts_listed) = oneshot::channel();
    futures::join!(
        watch_kind::<Rollout>(client.clone(), &site, events.clone(), Some(listed)),
        async {
            if rollouts_listed.await.is_ok() {
                futures::join!(
                    watch_kind::<ReplicaSet>(client.clone(), &site, events.clone(), None),
                    watch_kind::<AnalysisRun>(client.clone(), &site, events.clone(), None)
                );
            }
        }
    );
}

/// Watches one kind in one context until the receiver is gone; says on
/// `listed` when the first list is done.
async fn watch_kind<T: Watched>(
    client: kube::Client,
    site: &WatchSite<'_>,
    events: mpsc::Sender<ClusterEvent>,
    mut listed: Option<oneshot::Sender<()>>,
) {
    let kind = T::KIND;
    let resource = api_resource(kind);
    let api: Api<DynamicObject> = match site.namespace {
        Some(ns) => Api::namespaced_with(client, ns, &resource),
        None => Api::all_with(client, &resource),
    };
    let mut config = watcher::Config::default().page_size(LIST_PAGE);
    if kind == Kind::ReplicaSet {
        // Only Argo's ReplicaSets, not every Deployment's.
        config = config.labels(HASH_LABEL);
    }
    let mut failures = 0;
    loop {
        let mut relay = Relay::<T>::new(site.context);
        let mut stream = std::pin::pin!(watcher(api.clone(), config.clone()));
        let error = loop {
            match stream.next().await {
                Some(Ok(event)) => {
                    let out = relay.on_event(to_json(event));
                    let live = out.iter().any(|e| matches!(e, ClusterEvent::Live { .. }));
                    for event in out {
                        if events.send(event).await.is_err() {
                            return;
                        }
                    }
                    if live {
                        failures = 0;
                        if let Some(listed) = listed.take() {
                            let _ = listed.send(());
                        }
                    }
                }
                Some(Err(error)) => break error,
                // The watcher stream does not end on its own.
                None => return,
            }
        };
        failures += 1;
        let words = watch_error_words(&error, kind, site);
        tracing::warn!(context = site.context, ?kind, %error, "watch down: {words}");
        let down = ClusterEvent::Down {
            context: site.context.to_string(),
            kind,
            error: words,
        };
        if events.send(down).await.is_err() {
            return;
        }
        tokio::time::sleep(retry_delay(failures)).await;
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
    };
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, name), plural)
}

/// How long to wait before the `failures`-th retry: 1 s, doubling, at most 30 s.
fn retry_delay(failures: u32) -> Duration {
    let seconds = 1u64 << failures.saturating_sub(1).min(5);
    Duration::from_secs(seconds.min(30))
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
    listing: Vec<T>,
    /// Objects of the listing that could not be read, reported ahead of it.
    unreadable: Vec<ClusterEvent>,
}

impl<T: Watched> Relay<T> {
    fn new(context: &str) -> Self {
        Relay {
            context: context.to_string(),
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
                    items: std::mem::take(&mut self.listing),
                }));
                out.push(ClusterEvent::Live {
                    context: self.context.clone(),
                    kind: T::KIND,
                });
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
        let mut relay = Relay::<ReplicaSet>::new("prod");
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
        let mut relay = Relay::<ReplicaSet>::new("prod");
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
        let mut relay = Relay::<ReplicaSet>::new("prod");
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

    #[test]
    fn retries_back_off_to_half_a_minute() {
        let delays: Vec<u64> = (1..=8).map(|n| retry_delay(n).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 30, 30, 30]);
    }
}
