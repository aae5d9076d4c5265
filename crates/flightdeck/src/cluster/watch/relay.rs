//! A watcher's events as the app hears them: a (re)list in parts (`Listing`s, then a
//! last `Relisted`), then each change, every object mapped as it arrives.

use kube::runtime::watcher;
use serde_json::Value;

use super::watched::Watched;
use crate::cluster::{Change, ClusterEvent, Kind};
use crate::model::ObjectKey;

/// Objects per part of a list told to the app.
const LISTING_PART: usize = 500;

/// Turns one watcher's events into `ClusterEvent`s: the objects of a
/// (re)list go out in parts of [`LISTING_PART`], the last one `Relisted`,
/// followed by `Live`. Each is mapped as it arrives, so that a list of
/// thousands never holds more than one raw object at a time (raw JSON is ten
/// times the size of the model), nor the whole list before the app has it.
pub(super) struct Relay<T> {
    context: String,
    /// The namespace the watch covers (`None`: all).
    namespace: Option<String>,
    listing: Vec<T>,
    /// Objects of the listing that could not be read, reported ahead of it.
    unreadable: Vec<ClusterEvent>,
}

impl<T: Watched> Relay<T> {
    pub(super) fn new(context: &str, namespace: Option<&str>) -> Self {
        Relay {
            context: context.to_string(),
            namespace: namespace.map(str::to_string),
            listing: Vec::new(),
            unreadable: Vec::new(),
        }
    }

    pub(super) fn on_event(&mut self, event: watcher::Event<Value>) -> Vec<ClusterEvent> {
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
                if self.listing.len() < LISTING_PART {
                    return Vec::new();
                }
                vec![T::wrap(Change::Listing {
                    context: self.context.clone(),
                    namespace: self.namespace.clone(),
                    items: std::mem::take(&mut self.listing),
                })]
            }
            watcher::Event::InitDone => {
                let mut out = vec![T::wrap(Change::Relisted {
                    context: self.context.clone(),
                    namespace: self.namespace.clone(),
                    items: std::mem::take(&mut self.listing),
                })];
                // After the list, which forgets the scope's earlier unreadable objects.
                out.append(&mut self.unreadable);
                out.push(self.live());
                out
            }
            watcher::Event::Apply(obj) => vec![match self.read(&obj) {
                Ok(item) => T::wrap(Change::Applied(Box::new(item))),
                Err(report) => report,
            }],
            // A deleted object goes whether or not it could be read.
            watcher::Event::Delete(obj) => {
                vec![T::wrap(Change::Deleted(object_key(
                    T::KIND,
                    &self.context,
                    &obj,
                )))]
            }
        }
    }

    pub(super) fn live(&self) -> ClusterEvent {
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
                key: object_key(T::KIND, context, obj),
                kind: T::KIND,
                error: error.to_string(),
            }
        })
    }
}

fn object_key(kind: Kind, context: &str, obj: &Value) -> ObjectKey {
    let meta = |field: &str| obj["metadata"][field].as_str().unwrap_or_default();
    ObjectKey::of(kind.workload(), context, meta("namespace"), meta("name"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use watcher::Event;

    use super::*;
    use crate::cluster::Kind;
    use crate::cluster::map::HASH_LABEL;
    use crate::model::ReplicaSet;

    fn rs(name: &str, hash: &str) -> Value {
        json!({
            "metadata": {"name": name, "namespace": "shop", "labels": {HASH_LABEL: hash}},
            "spec": {"replicas": 2}
        })
    }

    fn names(event: &ClusterEvent) -> Vec<String> {
        match event {
            ClusterEvent::ReplicaSet(
                Change::Relisted { items, .. } | Change::Listing { items, .. },
            ) => items.iter().map(|rs| rs.key.name.to_string()).collect(),
            ClusterEvent::ReplicaSet(Change::Applied(rs)) => vec![rs.key.name.to_string()],
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
    fn a_long_list_goes_out_in_parts_as_it_arrives() {
        let mut relay = Relay::<ReplicaSet>::new("prod", None);
        relay.on_event(Event::Init);
        let mut out = Vec::new();
        for i in 0..LISTING_PART * 2 + 1 {
            out.extend(relay.on_event(Event::InitApply(rs(&format!("a-{i}"), "1"))));
        }
        out.extend(relay.on_event(Event::InitDone));
        let parts: Vec<(&str, usize)> = out
            .iter()
            .map(|e| match e {
                ClusterEvent::ReplicaSet(Change::Listing { items, .. }) => ("listing", items.len()),
                ClusterEvent::ReplicaSet(Change::Relisted { items, .. }) => {
                    ("relisted", items.len())
                }
                ClusterEvent::Live { .. } => ("live", 0),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            parts,
            [
                ("listing", LISTING_PART),
                ("listing", LISTING_PART),
                ("relisted", 1),
                ("live", 0)
            ]
        );
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
        assert_eq!(names(&out[0]), ["a-1"]);
        // After the list: the app forgets a scope's unreadable objects on a relist.
        assert_eq!(
            out[1],
            ClusterEvent::Unreadable {
                key: ObjectKey::new("prod", "shop", "a-2"),
                kind: Kind::ReplicaSet,
                error: r#"shop/a-2: spec.replicas: expected an integer, found "two""#.into(),
            }
        );
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
