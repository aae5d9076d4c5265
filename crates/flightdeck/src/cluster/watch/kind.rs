//! One kind watched in one scope: a streamed list where the server can (one request,
//! objects decoded one at a time as they arrive), else pages of a list; then the watch.

use futures::StreamExt;
use kube::api::Api;
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use super::relay::Relay;
use super::streamed::InitialStream;
use super::watched::{Watched, api_resource};
use super::{End, Scope};
use crate::cluster::decode::Decoded;
use crate::cluster::errors::watch_error_words;
use crate::cluster::map::{DEPLOYMENT_HASH_LABEL, HASH_LABEL};
use crate::cluster::{ClusterEvent, Kind};

/// Objects per page of a list, where lists cannot be streamed: kubectl's 500. A page is
/// held as the server's bytes until decoded (decoding keeps only what is read), so ten
/// contexts listing at once hold a few tens of MB at the peak.
pub(super) const LIST_PAGE: u32 = 500;

/// Watches one kind in one scope until the receiver is gone; says on
/// `listed` when the first list is done.
pub(super) async fn watch_kind<T: Watched>(
    scope: &Scope<'_>,
    events: mpsc::Sender<ClusterEvent>,
    mut listed: Option<oneshot::Sender<()>>,
    may_narrow: bool,
) -> End {
    let kind = T::KIND;
    let resource = api_resource(kind);
    let client = scope.client.client.clone();
    let api: Api<Decoded<T>> = match scope.namespace {
        Some(ns) => Api::namespaced_with(client, ns, &resource),
        None => Api::all_with(client, &resource),
    };
    let site = scope.site();
    let mut relay = Relay::<T>::new(scope.context, scope.namespace);
    // The words of the failure being reported, while the watch is down.
    let mut down: Option<String> = None;
    // An optional kind the server does not serve has been told as listed.
    let mut absent_said = false;
    'watcher: loop {
        let streaming = scope.client.streams_lists();
        let config = watcher_config(kind, scope.watch_timeout, streaming);
        let mut stream = std::pin::pin!(watcher(api.clone(), config).default_backoff());
        let mut initial = InitialStream::default();
        let give_up = |why: &str| {
            tracing::info!(
                context = scope.context,
                ?kind,
                "lists are not streamed ({why}): listing in pages"
            );
            scope.client.stop_streaming_lists();
        };
        loop {
            let next = match initial.deadline() {
                Some(limit) => match tokio::time::timeout(limit, stream.next()).await {
                    Ok(next) => next,
                    Err(_) => {
                        give_up(initial.on_stall());
                        continue 'watcher;
                    }
                },
                None => stream.next().await,
            };
            // The watcher stream does not end on its own.
            let Some(item) = next else {
                return End::Gone;
            };
            let out = match item {
                Ok(event) => {
                    if streaming && let Some(why) = initial.on_event(&event) {
                        give_up(why);
                        continue 'watcher;
                    }
                    let mut out = relay.on_event(into_json(event));
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
                // A server without streamed lists (WatchList off, as by default in
                // Kubernetes 1.33, or before 1.27) refuses the parameters: list instead.
                Err(watcher::Error::WatchStartFailed(kube::Error::Api(status)))
                    if streaming && refuses_streaming(status.code) =>
                {
                    give_up(&format!("{}: {}", status.code, status.message));
                    continue 'watcher;
                }
                // The history the watch resumed from is gone (etcd compacted
                // it): the watcher lists again, which is no failure to report.
                Err(watcher::Error::WatchError(status)) if status.code == 410 => {
                    if let Some(why) = initial.on_gone() {
                        give_up(why);
                        continue 'watcher;
                    }
                    tracing::debug!(context = scope.context, ?kind, "410 Gone: listing again");
                    continue;
                }
                // A cluster without the kind's CRD (Flagger not installed): nothing to
                // show and nothing wrong; the watcher keeps looking with its backoff.
                // Said once as listed (none of them), so that no one waits for it.
                Err(error) if kind.optional() && is_not_found(&error) => {
                    tracing::debug!(context = scope.context, ?kind, "not served: {error}");
                    if absent_said {
                        continue;
                    }
                    absent_said = true;
                    if let Some(listed) = listed.take() {
                        let _ = listed.send(());
                    }
                    vec![relay.live()]
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
    }
}

fn watcher_config(
    kind: Kind,
    watch_timeout: std::time::Duration,
    streaming: bool,
) -> watcher::Config {
    let timeout = u32::try_from(watch_timeout.as_secs())
        .unwrap_or(u32::MAX)
        .max(1);
    let mut config = watcher::Config::default().timeout(timeout);
    config = if streaming {
        config.streaming_lists()
    } else {
        config.page_size(LIST_PAGE)
    };
    // Argo's ReplicaSets and Deployments' apart: a selector cannot ask for either label.
    match kind {
        Kind::ReplicaSet => config = config.labels(HASH_LABEL),
        Kind::DeploymentReplicaSet => config = config.labels(DEPLOYMENT_HASH_LABEL),
        _ => {}
    }
    config
}

/// How an API server answers a streamed list it does not serve: 422 Invalid
/// (`sendInitialEvents` / `resourceVersionMatch` forbidden for a watch), or 400 from
/// servers and proxies that reject unknown parameters.
fn refuses_streaming(code: u16) -> bool {
    matches!(code, 400 | 422)
}

fn is_not_found(error: &watcher::Error) -> bool {
    match error {
        watcher::Error::InitialListFailed(kube::Error::Api(status))
        | watcher::Error::WatchStartFailed(kube::Error::Api(status))
        | watcher::Error::WatchFailed(kube::Error::Api(status)) => status.code == 404,
        watcher::Error::WatchError(status) => status.code == 404,
        _ => false,
    }
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

/// The mapping reads the decoded JSON.
fn into_json<T>(event: watcher::Event<Decoded<T>>) -> watcher::Event<Value> {
    let json = |object: Decoded<T>| object.json;
    match event {
        watcher::Event::Init => watcher::Event::Init,
        watcher::Event::InitApply(obj) => watcher::Event::InitApply(json(obj)),
        watcher::Event::InitDone => watcher::Event::InitDone,
        watcher::Event::Apply(obj) => watcher::Event::Apply(json(obj)),
        watcher::Event::Delete(obj) => watcher::Event::Delete(json(obj)),
    }
}
