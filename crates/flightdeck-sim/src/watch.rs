//! `?watch=1`: a stream of `WatchEvent` lines read from the store's shared history with a
//! per-watcher cursor. Resumes from a resourceVersion, sends bookmarks when asked,
//! supports streaming lists (`sendInitialEvents`), and ends with an `ERROR` event carrying
//! a `410 Expired` Status when the cursor falls out of the history or the history is
//! compacted.

use std::sync::Arc;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use serde_json::json;
use tokio::sync::mpsc;

use super::api_error::ApiError;
use super::discovery::RESOURCES;
use super::discovery::ResourceId;
use super::selector::{FieldSelector, LabelSelector};
use super::store::{Store, Stored};

/// How often a watch that asked for bookmarks gets one while nothing changes.
const BOOKMARK_EVERY: Duration = Duration::from_secs(5);
/// Changes read from the history per round, so one busy watcher cannot hold the store.
const BATCH: usize = 512;

pub struct WatchRequest {
    pub resource: ResourceId,
    pub namespace: Option<String>,
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    /// `None` (or `0`): start with the current objects as `ADDED` events.
    pub resource_version: Option<u64>,
    pub bookmarks: bool,
    /// Streaming list: the current objects, then a bookmark marking the end of them.
    pub send_initial_events: bool,
    pub timeout: Duration,
}

impl WatchRequest {
    fn wants(&self, stored: &Stored) -> bool {
        self.namespace
            .as_deref()
            .is_none_or(|ns| stored.key.namespace == ns)
            && self.labels.matches(&stored.labels)
            && self.fields.matches(&stored.key.namespace, &stored.key.name)
    }
}

fn event_line(kind: &str, object: &[u8]) -> Bytes {
    let mut line = BytesMut::with_capacity(object.len() + 32);
    line.put_slice(b"{\"type\":\"");
    line.put_slice(kind.as_bytes());
    line.put_slice(b"\",\"object\":");
    line.put_slice(object);
    line.put_slice(b"}\n");
    line.freeze()
}

fn bookmark(resource: ResourceId, revision: u64, initial_events_end: bool) -> Bytes {
    let r = &RESOURCES[resource];
    let mut metadata = json!({"resourceVersion": revision.to_string()});
    if initial_events_end {
        metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    let object = json!({"kind": r.kind, "apiVersion": r.api_version(), "metadata": metadata});
    event_line(
        "BOOKMARK",
        &serde_json::to_vec(&object).expect("JSON values serialize"),
    )
}

fn error_line(error: &ApiError) -> Bytes {
    event_line(
        "ERROR",
        &serde_json::to_vec(&error.to_status()).expect("JSON values serialize"),
    )
}

/// Start a watch; its lines arrive on the returned channel until the client goes away,
/// the timeout passes or the history no longer reaches back to the cursor.
pub fn start(store: Arc<Store>, request: WatchRequest) -> mpsc::Receiver<Bytes> {
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        let _ = tokio::time::timeout(request.timeout, run(store, request, tx)).await;
    });
    rx
}

async fn run(store: Arc<Store>, request: WatchRequest, tx: mpsc::Sender<Bytes>) -> Result<(), ()> {
    let send = |line: Bytes| {
        let tx = tx.clone();
        async move { tx.send(line).await.map_err(|_| ()) }
    };
    let mut revisions = store.subscribe();
    let compactions = store.compactions();
    let mut cursor = match request.resource_version {
        Some(rv) if rv > 0 && !request.send_initial_events => rv,
        _ => {
            let (objects, revision) =
                store.snapshot(request.resource, request.namespace.as_deref(), &|s| {
                    request.wants(s)
                });
            for object in objects {
                send(event_line("ADDED", &object.json)).await?;
            }
            if request.send_initial_events {
                send(bookmark(request.resource, revision, true)).await?;
            }
            revision
        }
    };
    loop {
        // A compaction ends every open watch: the client must list again.
        if store.compactions() != compactions {
            let expired = ApiError::expired(format!(
                "too old resource version: {cursor} ({})",
                store.revision() + 1
            ));
            send(error_line(&expired)).await?;
            return Ok(());
        }
        let changes = match store.changes_after(cursor, BATCH) {
            Ok(changes) => changes,
            Err(expired) => {
                send(error_line(&expired)).await?;
                return Ok(());
            }
        };
        if let Some(last) = changes.last() {
            cursor = last.object.revision;
            for change in changes
                .iter()
                .filter(|c| c.resource == request.resource && request.wants(&c.object))
            {
                send(event_line(change.kind.watch_type(), &change.object.json)).await?;
            }
            continue;
        }
        tokio::select! {
            changed = revisions.changed() => changed.map_err(|_| ())?,
            _ = tokio::time::sleep(BOOKMARK_EVERY), if request.bookmarks => {
                send(bookmark(request.resource, cursor, false)).await?;
            }
            _ = tx.closed() => return Err(()),
        }
    }
}
