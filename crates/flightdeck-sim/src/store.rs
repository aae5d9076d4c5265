//! One simulated cluster's objects: every kind in its own ordered table, each object kept as
//! its serialized JSON (lists are a concatenation, never a re-serialization), a single
//! `resourceVersion` counter, and a bounded history of changes that watches read from.
//!
//! Watchers do not get a copy of anything: they hold a cursor (a resourceVersion) and read
//! the shared history after it; a watcher that falls behind the history gets `410 Gone`.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use jiff::Timestamp;
use serde_json::{Value, json};
use tokio::sync::watch;

use super::api_error::ApiError;
use super::discovery::{RESOURCES, ResourceId};

/// How many changes the store remembers for watches that resume from a resourceVersion.
const HISTORY: usize = 16_384;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    /// Empty for cluster-scoped kinds.
    pub namespace: String,
    pub name: String,
}

impl ObjectKey {
    pub fn new(namespace: &str, name: &str) -> Self {
        ObjectKey {
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }

    pub fn of(object: &Value) -> Self {
        let meta = &object["metadata"];
        ObjectKey::new(
            meta["namespace"].as_str().unwrap_or(""),
            meta["name"].as_str().unwrap_or(""),
        )
    }
}

/// An object as stored: its JSON, plus what lists and watches filter on.
#[derive(Debug)]
pub struct Stored {
    pub key: ObjectKey,
    pub json: Bytes,
    pub labels: BTreeMap<String, String>,
    pub revision: u64,
}

impl Stored {
    pub fn value(&self) -> Value {
        serde_json::from_slice(&self.json).expect("the store holds only JSON it serialized")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

impl ChangeKind {
    pub fn watch_type(self) -> &'static str {
        match self {
            ChangeKind::Added => "ADDED",
            ChangeKind::Modified => "MODIFIED",
            ChangeKind::Deleted => "DELETED",
        }
    }
}

#[derive(Debug)]
pub struct Change {
    pub resource: ResourceId,
    pub kind: ChangeKind,
    pub object: Arc<Stored>,
}

/// One page of a list.
pub struct ListPage {
    pub items: Vec<Arc<Stored>>,
    pub revision: u64,
    /// The last key of this page when more items follow.
    pub next: Option<ObjectKey>,
    pub remaining: usize,
}

struct Inner {
    revision: u64,
    tables: Vec<BTreeMap<ObjectKey, Arc<Stored>>>,
    history: VecDeque<Arc<Change>>,
    /// Every change up to this revision has left the history.
    forgotten_through: u64,
    /// How many times the history was compacted away ([`Store::compact`]).
    compactions: u64,
    uids: fastrand::Rng,
}

pub struct Store {
    inner: Mutex<Inner>,
    latest: watch::Sender<u64>,
    /// The simulated Flagger load tester's open gates: (namespace, canary, gate), where
    /// gate is `gate` (confirm-rollout and confirm-promotion) or `rollback`.
    gates: Mutex<std::collections::BTreeSet<(String, String, String)>>,
}

fn labels_of(object: &Value) -> BTreeMap<String, String> {
    object["metadata"]["labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn new_uid(rng: &mut fastrand::Rng) -> String {
    let b: [u8; 16] = std::array::from_fn(|_| rng.u8(..));
    format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-4{:01x}{:02x}-{:01x}{:01x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        b[0],
        b[1],
        b[2],
        b[3],
        b[4],
        b[5],
        b[6] & 0x0f,
        b[7],
        8 | (b[8] & 0x3),
        b[8] >> 4,
        b[9],
        b[10],
        b[11],
        b[12],
        b[13],
        b[14],
        b[15]
    )
}

impl Inner {
    fn commit(&mut self, resource: ResourceId, kind: ChangeKind, mut object: Value) -> Arc<Stored> {
        self.revision += 1;
        object["metadata"]["resourceVersion"] = json!(self.revision.to_string());
        let key = ObjectKey::of(&object);
        let stored = Arc::new(Stored {
            labels: labels_of(&object),
            json: Bytes::from(serde_json::to_vec(&object).expect("JSON values serialize")),
            key: key.clone(),
            revision: self.revision,
        });
        match kind {
            ChangeKind::Deleted => self.tables[resource].remove(&key),
            _ => self.tables[resource].insert(key, stored.clone()),
        };
        self.history.push_back(Arc::new(Change {
            resource,
            kind,
            object: stored.clone(),
        }));
        if self.history.len() > HISTORY {
            let gone = self.history.pop_front().expect("history is not empty");
            self.forgotten_through = gone.object.revision;
        }
        stored
    }
}

/// The API server's words for a resourceVersion older than its history.
fn too_old(revision: u64, forgotten_through: u64) -> ApiError {
    ApiError::expired(format!(
        "too old resource version: {revision} ({})",
        forgotten_through + 1
    ))
}

impl Store {
    pub fn new(seed: u64) -> Self {
        Store {
            inner: Mutex::new(Inner {
                revision: 0,
                tables: RESOURCES.iter().map(|_| BTreeMap::new()).collect(),
                history: VecDeque::new(),
                forgotten_through: 0,
                compactions: 0,
                uids: fastrand::Rng::with_seed(seed),
            }),
            latest: watch::channel(0).0,
            gates: Mutex::default(),
        }
    }

    fn gates(&self) -> MutexGuard<'_, std::collections::BTreeSet<(String, String, String)>> {
        self.gates.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Open or close a load tester gate of a Canary (`POST /gate/open` and the like).
    pub fn set_gate(&self, namespace: &str, canary: &str, gate: &str, open: bool) {
        let key = (namespace.to_string(), canary.to_string(), gate.to_string());
        if open {
            self.gates().insert(key);
        } else {
            self.gates().remove(&key);
        }
    }

    pub fn gate_open(&self, namespace: &str, canary: &str, gate: &str) -> bool {
        let key = (namespace.to_string(), canary.to_string(), gate.to_string());
        self.gates().contains(&key)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn announce(&self, revision: u64) {
        self.latest.send_replace(revision);
    }

    pub fn revision(&self) -> u64 {
        self.lock().revision
    }

    /// Wakes when the store's revision moves on.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.latest.subscribe()
    }

    pub fn get(&self, resource: ResourceId, key: &ObjectKey) -> Option<Arc<Stored>> {
        self.lock().tables[resource].get(key).cloned()
    }

    /// Up to `limit` objects (0: all) after `start_after`, in (namespace, name) order.
    pub fn list(
        &self,
        resource: ResourceId,
        namespace: Option<&str>,
        start_after: Option<&ObjectKey>,
        limit: usize,
        filter: &dyn Fn(&Stored) -> bool,
    ) -> ListPage {
        use std::ops::Bound::{Excluded, Included, Unbounded};
        let inner = self.lock();
        let table = &inner.tables[resource];
        let lower = match (start_after, namespace) {
            (Some(key), _) => Excluded(key.clone()),
            (None, Some(ns)) => Included(ObjectKey::new(ns, "")),
            (None, None) => Unbounded,
        };
        let mut matching = table
            .range((lower, Unbounded))
            .take_while(|(k, _)| namespace.is_none_or(|ns| k.namespace == ns))
            .map(|(_, v)| v)
            .filter(|v| filter(v));
        let limit = if limit == 0 { usize::MAX } else { limit };
        let items: Vec<Arc<Stored>> = matching.by_ref().take(limit).cloned().collect();
        let remaining = matching.count();
        let next = (remaining > 0)
            .then(|| items.last().map(|s| s.key.clone()))
            .flatten();
        ListPage {
            items,
            revision: inner.revision,
            next,
            remaining,
        }
    }

    /// The objects of one namespace whose names start with `prefix`.
    pub fn with_name_prefix(
        &self,
        resource: ResourceId,
        namespace: &str,
        prefix: &str,
    ) -> Vec<Arc<Stored>> {
        let inner = self.lock();
        inner.tables[resource]
            .range(ObjectKey::new(namespace, prefix)..)
            .take_while(|(k, _)| k.namespace == namespace && k.name.starts_with(prefix))
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Create an object. `metadata.uid`, `creationTimestamp` and `generation` are kept when
    /// given (objects loaded from files) and filled in when not.
    pub fn create(
        &self,
        resource: ResourceId,
        mut object: Value,
        now: Timestamp,
    ) -> Result<Arc<Stored>, ApiError> {
        let r = &RESOURCES[resource];
        let key = ObjectKey::of(&object);
        if key.name.is_empty() {
            return Err(ApiError::invalid(
                r,
                "",
                "metadata.name",
                "Required value: name is required",
            ));
        }
        if r.namespaced == key.namespace.is_empty() {
            let why = if r.namespaced {
                "Required value"
            } else {
                "Forbidden: not allowed on this type"
            };
            return Err(ApiError::invalid(r, &key.name, "metadata.namespace", why));
        }
        let mut inner = self.lock();
        if inner.tables[resource].contains_key(&key) {
            return Err(ApiError::already_exists(r, &key.name));
        }
        object["apiVersion"] = json!(r.api_version());
        object["kind"] = json!(r.kind);
        let meta = &mut object["metadata"];
        if meta.get("uid").is_none_or(Value::is_null) {
            meta["uid"] = json!(new_uid(&mut inner.uids));
        }
        if meta.get("creationTimestamp").is_none_or(Value::is_null) {
            meta["creationTimestamp"] = json!(super::clock::rfc3339(now));
        }
        if r.generation && meta.get("generation").is_none_or(Value::is_null) {
            meta["generation"] = json!(1);
        }
        let stored = inner.commit(resource, ChangeKind::Added, object);
        drop(inner);
        self.announce(stored.revision);
        Ok(stored)
    }

    /// Read, change and write one object atomically. A change that leaves the object as it
    /// was writes nothing and keeps its resourceVersion, as the API server does.
    pub fn update(
        &self,
        resource: ResourceId,
        key: &ObjectKey,
        change: impl FnOnce(&mut Value) -> Result<(), ApiError>,
    ) -> Result<Arc<Stored>, ApiError> {
        let r = &RESOURCES[resource];
        let mut inner = self.lock();
        let current = inner.tables[resource]
            .get(key)
            .ok_or_else(|| ApiError::not_found(r, &key.name))?
            .clone();
        let before = current.value();
        let mut after = before.clone();
        change(&mut after)?;
        if ObjectKey::of(&after) != *key {
            return Err(ApiError::bad_request(format!(
                "the name or namespace of the object ({}/{}) does not match the request ({}/{})",
                after["metadata"]["namespace"].as_str().unwrap_or(""),
                after["metadata"]["name"].as_str().unwrap_or(""),
                key.namespace,
                key.name
            )));
        }
        after["metadata"]["resourceVersion"] = before["metadata"]["resourceVersion"].clone();
        if after == before {
            return Ok(current);
        }
        let stored = inner.commit(resource, ChangeKind::Modified, after);
        drop(inner);
        self.announce(stored.revision);
        Ok(stored)
    }

    pub fn delete(&self, resource: ResourceId, key: &ObjectKey) -> Result<Arc<Stored>, ApiError> {
        let mut inner = self.lock();
        let current = inner.tables[resource]
            .get(key)
            .ok_or_else(|| ApiError::not_found(&RESOURCES[resource], &key.name))?
            .value();
        let stored = inner.commit(resource, ChangeKind::Deleted, current);
        drop(inner);
        self.announce(stored.revision);
        Ok(stored)
    }

    /// Every object of a kind (optionally one namespace) that passes `filter`, and the
    /// revision they are current at: the start of a watch without a resourceVersion.
    pub fn snapshot(
        &self,
        resource: ResourceId,
        namespace: Option<&str>,
        filter: &dyn Fn(&Stored) -> bool,
    ) -> (Vec<Arc<Stored>>, u64) {
        let page = self.list(resource, namespace, None, 0, filter);
        (page.items, page.revision)
    }

    /// Forget the whole history, as an etcd compaction at the current revision does: a
    /// watch or paged list from an older resourceVersion gets `410 Gone`, and watches open
    /// now end with one (see [`Store::compactions`]).
    pub fn compact(&self) {
        let mut inner = self.lock();
        inner.history.clear();
        inner.forgotten_through = inner.revision;
        inner.compactions += 1;
        let revision = inner.revision;
        drop(inner);
        // Wake the watches even though nothing changed.
        self.announce(revision);
    }

    /// How many times the history was compacted: a watch that sees this move ends.
    pub fn compactions(&self) -> u64 {
        self.lock().compactions
    }

    /// Whether a list or watch from `revision` reaches back further than the history.
    pub fn expired(&self, revision: u64) -> Option<ApiError> {
        let inner = self.lock();
        (revision < inner.forgotten_through).then(|| too_old(revision, inner.forgotten_through))
    }

    /// The changes after `revision`, oldest first, at most `max`; `410 Gone` when some of
    /// them have already left the history.
    pub fn changes_after(&self, revision: u64, max: usize) -> Result<Vec<Arc<Change>>, ApiError> {
        let inner = self.lock();
        if revision < inner.forgotten_through {
            return Err(too_old(revision, inner.forgotten_through));
        }
        let Some(first) = inner.history.front().map(|c| c.object.revision) else {
            return Ok(Vec::new());
        };
        let skip = (revision + 1).saturating_sub(first) as usize;
        Ok(inner.history.iter().skip(skip).take(max).cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::ROLLOUTS;

    fn rollout(ns: &str, name: &str, app: &str) -> Value {
        json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
               "metadata": {"namespace": ns, "name": name, "labels": {"app": app}}, "spec": {}})
    }

    #[test]
    fn list_pages_in_key_order_and_counts_the_rest() {
        let store = Store::new(1);
        for (ns, name) in [("b", "x"), ("a", "z"), ("a", "y"), ("c", "w")] {
            store
                .create(ROLLOUTS, rollout(ns, name, name), Timestamp::UNIX_EPOCH)
                .unwrap();
        }
        let page = store.list(ROLLOUTS, None, None, 2, &|_| true);
        let names: Vec<_> = page.items.iter().map(|s| s.key.name.as_str()).collect();
        assert_eq!(names, ["y", "z"]);
        assert_eq!(page.remaining, 2);
        let rest = store.list(ROLLOUTS, None, page.next.as_ref(), 2, &|_| true);
        assert_eq!(
            rest.items
                .iter()
                .map(|s| s.key.name.as_str())
                .collect::<Vec<_>>(),
            ["x", "w"]
        );
        assert!(rest.next.is_none());
        let in_a = store.list(ROLLOUTS, Some("a"), None, 0, &|_| true);
        assert_eq!(in_a.items.len(), 2);
    }

    #[test]
    fn unchanged_update_keeps_the_resource_version() {
        let store = Store::new(1);
        let key = ObjectKey::new("a", "x");
        let created = store
            .create(ROLLOUTS, rollout("a", "x", "x"), Timestamp::UNIX_EPOCH)
            .unwrap();
        let same = store.update(ROLLOUTS, &key, |_| Ok(())).unwrap();
        assert_eq!(same.revision, created.revision);
        let changed = store
            .update(ROLLOUTS, &key, |v| {
                v["spec"]["paused"] = json!(true);
                Ok(())
            })
            .unwrap();
        assert_eq!(changed.revision, created.revision + 1);
        assert_eq!(
            changed.value()["metadata"]["resourceVersion"],
            json!(changed.revision.to_string())
        );
    }

    #[test]
    fn history_is_bounded_and_old_cursors_expire() {
        let store = Store::new(1);
        store
            .create(ROLLOUTS, rollout("a", "x", "x"), Timestamp::UNIX_EPOCH)
            .unwrap();
        let key = ObjectKey::new("a", "x");
        for i in 0..HISTORY + 10 {
            store
                .update(ROLLOUTS, &key, |v| {
                    v["spec"]["replicas"] = json!(i);
                    Ok(())
                })
                .unwrap();
        }
        assert_eq!(store.changes_after(1, 10).unwrap_err().code, 410);
        let latest = store.revision();
        let recent = store.changes_after(latest - 3, 10).unwrap();
        assert_eq!(
            recent.iter().map(|c| c.object.revision).collect::<Vec<_>>(),
            [latest - 2, latest - 1, latest]
        );
    }

    #[test]
    fn compaction_forgets_the_history_up_to_now() {
        let store = Store::new(1);
        store
            .create(ROLLOUTS, rollout("a", "x", "x"), Timestamp::UNIX_EPOCH)
            .unwrap();
        store
            .create(ROLLOUTS, rollout("a", "y", "y"), Timestamp::UNIX_EPOCH)
            .unwrap();
        store.compact();
        assert_eq!(store.compactions(), 1);
        assert_eq!(store.changes_after(1, 10).unwrap_err().code, 410);
        assert!(store.expired(1).is_some() && store.expired(2).is_none());
        assert!(store.changes_after(2, 10).unwrap().is_empty());
        store
            .create(ROLLOUTS, rollout("a", "z", "z"), Timestamp::UNIX_EPOCH)
            .unwrap();
        assert_eq!(store.changes_after(2, 10).unwrap().len(), 1);
    }
}
