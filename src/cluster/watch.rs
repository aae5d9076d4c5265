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
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::errors::{WatchSite, watch_error_words};
use super::map::{HASH_LABEL, MapError, map_analysis_run, map_replica_set, map_rollout};
use super::{Change, ClusterEvent, Kind, connect};
use crate::model::ObjectKey;

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
    let watch = |kind| watch_kind(kind, client.clone(), &site, events.clone());
    futures::join!(
        watch(Kind::Rollout),
        watch(Kind::ReplicaSet),
        watch(Kind::AnalysisRun)
    );
}

/// Watches one kind in one context until the receiver is gone.
async fn watch_kind(
    kind: Kind,
    client: kube::Client,
    site: &WatchSite<'_>,
    events: mpsc::Sender<ClusterEvent>,
) {
    let resource = api_resource(kind);
    let api: Api<DynamicObject> = match site.namespace {
        Some(ns) => Api::namespaced_with(client, ns, &resource),
        None => Api::all_with(client, &resource),
    };
    let mut config = watcher::Config::default();
    if kind == Kind::ReplicaSet {
        // Only Argo's ReplicaSets, not every Deployment's.
        config = config.labels(HASH_LABEL);
    }
    let mut failures = 0;
    loop {
        let mut relay = Relay::new(site.context, kind);
        let mut stream = std::pin::pin!(watcher(api.clone(), config.clone()));
        let error = loop {
            match stream.next().await {
                Some(Ok(event)) => {
                    let out = relay.on_event(to_json(event));
                    if out.iter().any(|e| matches!(e, ClusterEvent::Live { .. })) {
                        failures = 0;
                    }
                    for event in out {
                        if events.send(event).await.is_err() {
                            return;
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

/// Turns one watcher's events into `ClusterEvent`s: the objects of a
/// (re)list are buffered into one `Relisted`, followed by `Live`.
struct Relay {
    context: String,
    kind: Kind,
    listing: Vec<Value>,
}

/// A change to raw objects, before mapping.
enum RawChange {
    Applied(Value),
    Deleted(Value),
    Relisted(Vec<Value>),
}

impl Relay {
    fn new(context: &str, kind: Kind) -> Self {
        Relay {
            context: context.to_string(),
            kind,
            listing: Vec::new(),
        }
    }

    fn on_event(&mut self, event: watcher::Event<Value>) -> Vec<ClusterEvent> {
        let raw = match event {
            watcher::Event::Init => {
                self.listing.clear();
                return Vec::new();
            }
            watcher::Event::InitApply(obj) => {
                self.listing.push(obj);
                return Vec::new();
            }
            watcher::Event::InitDone => RawChange::Relisted(std::mem::take(&mut self.listing)),
            watcher::Event::Apply(obj) => RawChange::Applied(obj),
            watcher::Event::Delete(obj) => RawChange::Deleted(obj),
        };
        let relisted = matches!(raw, RawChange::Relisted(_));
        let (context, kind) = (self.context.as_str(), self.kind);
        let mut out = match kind {
            Kind::Rollout => translate(raw, context, kind, map_rollout, ClusterEvent::Rollout),
            Kind::ReplicaSet => translate(
                raw,
                context,
                kind,
                map_replica_set,
                ClusterEvent::ReplicaSet,
            ),
            Kind::AnalysisRun => translate(
                raw,
                context,
                kind,
                map_analysis_run,
                ClusterEvent::AnalysisRun,
            ),
        };
        if relisted {
            out.push(ClusterEvent::Live {
                context: self.context.clone(),
                kind,
            });
        }
        out
    }
}

type MapFn<T> = fn(&str, &Value) -> Result<T, MapError>;

/// Maps a raw change; objects that do not map become `Unreadable` events,
/// ahead of the change itself.
fn translate<T>(
    raw: RawChange,
    context: &str,
    kind: Kind,
    map: MapFn<T>,
    wrap: fn(Change<T>) -> ClusterEvent,
) -> Vec<ClusterEvent> {
    let mut unreadable = Vec::new();
    let mut read = |obj: &Value| match map(context, obj) {
        Ok(item) => Some(item),
        Err(error) => {
            tracing::warn!(context, ?kind, "cannot read: {error}");
            unreadable.push(ClusterEvent::Unreadable {
                key: object_key(context, obj),
                kind,
                error: error.to_string(),
            });
            None
        }
    };
    let change = match raw {
        RawChange::Applied(obj) => read(&obj).map(|o| Change::Applied(Box::new(o))),
        // A deleted object goes whether or not it could be read.
        RawChange::Deleted(obj) => Some(Change::Deleted(object_key(context, &obj))),
        RawChange::Relisted(objs) => Some(Change::Relisted {
            context: context.to_string(),
            items: objs.iter().filter_map(&mut read).collect(),
        }),
    };
    unreadable.extend(change.map(wrap));
    unreadable
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
        let mut relay = Relay::new("prod", Kind::ReplicaSet);
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
        let mut relay = Relay::new("prod", Kind::ReplicaSet);
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
        let mut relay = Relay::new("prod", Kind::ReplicaSet);
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
