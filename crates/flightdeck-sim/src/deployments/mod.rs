//! A simulated Deployment controller, as Kubernetes' own moves Deployments
//! (`pkg/controller/deployment`): one ReplicaSet per pod template, named
//! `<deployment>-<pod-template-hash>` and numbered by `deployment.kubernetes.io/revision`
//! (an old template brought back gets its old ReplicaSet back under a new revision); a
//! rolling update within `maxSurge` / `maxUnavailable` ([`rolling`]); `spec.paused` stops
//! it; `revisionHistoryLimit` old ReplicaSets kept; and the status with its `Progressing`
//! and `Available` conditions and the progress deadline ([`status`]).
//!
//! The Deployments a Canary targets, and their `-primary`, are Flagger's in the simulator
//! (it gives them their pods at once), so this controller leaves them alone.

mod rolling;
mod status;

use std::collections::HashSet;
use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::api_error::ApiError;
use crate::controller::Versions;
use crate::discovery::{CANARIES, DEPLOYMENTS, REPLICASETS};
use crate::events::Recorder;
use crate::objects::{hash_of, int_at, str_at};
use crate::replica_sets::Set;
use crate::store::{ObjectKey, Store};
use rolling::Old;

/// The label Kubernetes puts on a Deployment's ReplicaSets and their pods.
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";
pub const REVISION: &str = "deployment.kubernetes.io/revision";
const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
/// The Deployment's annotations that are not copied to its ReplicaSets
/// (`annotationsToSkip` in Kubernetes' deployment util).
const NOT_COPIED: [&str; 5] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    REVISION_HISTORY,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
];

pub struct DeploymentController {
    store: Arc<Store>,
    versions: Versions,
    events: Recorder,
}

impl DeploymentController {
    pub fn new(store: Arc<Store>, versions: Versions) -> Self {
        DeploymentController {
            events: Recorder::new(store.clone()),
            store,
            versions,
        }
    }

    /// A round over every Deployment; `tick`: a simulated second has passed, so pods
    /// started become ready.
    pub fn reconcile(&mut self, now: Timestamp, tick: bool) {
        let flaggers = self.flaggers();
        let deployments = self.store.list(DEPLOYMENTS, None, None, 0, &|_| true).items;
        for stored in deployments {
            if flaggers.contains(&stored.key) {
                continue;
            }
            // A client wrote in between: read again next round.
            if let Err(e) = self.reconcile_one(&stored.value(), now, tick)
                && e.reason != "Conflict"
            {
                tracing::warn!(
                    "simulated Deployment controller: {}/{}: {e}",
                    stored.key.namespace,
                    stored.key.name
                );
            }
        }
    }

    /// The Deployments Flagger moves: each Canary's target and its primary.
    fn flaggers(&self) -> HashSet<ObjectKey> {
        let canaries = self.store.list(CANARIES, None, None, 0, &|_| true).items;
        canaries
            .iter()
            .flat_map(|c| {
                let canary = c.value();
                let target = str_at(&canary, "spec.targetRef.name").to_string();
                let ns = c.key.namespace.clone();
                [
                    ObjectKey::new(&ns, &format!("{target}-primary")),
                    ObjectKey::new(&ns, &target),
                ]
            })
            .collect()
    }

    fn reconcile_one(&mut self, d: &Value, now: Timestamp, tick: bool) -> Result<(), ApiError> {
        let key = ObjectKey::of(d);
        let mut sets = self.owned_sets(&key);
        if tick {
            for set in &mut sets {
                let pulls = (self.versions.image_exists)(set.image());
                set.advance_pods(pulls);
            }
        }
        let spec = &d["spec"];
        let replicas = int_at(spec, "replicas").unwrap_or(1);
        let paused = spec["paused"] == true;
        let rolling = &spec["strategy"]["rollingUpdate"];
        let (max_surge, max_unavailable) =
            rolling::resolve(&rolling["maxSurge"], &rolling["maxUnavailable"], replicas);
        let hash = template_hash(&spec["template"]);
        let mut found = sets
            .iter()
            .position(|s| same_template(s, &spec["template"]));
        let newest_old = sets
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != found)
            .filter_map(|(_, s)| revision(s))
            .max()
            .unwrap_or(0);
        let before: Vec<i64> = sets.iter().map(Set::desired).collect();
        let mut created = None;
        if found.is_none() && !paused {
            let total: i64 = sets.iter().map(Set::desired).sum();
            let size = rolling::new_replicas(replicas, max_surge, 0, total);
            let set = new_set(d, &hash, newest_old + 1, size);
            created = Some(set.key.name.clone());
            sets.push(set);
            found = Some(sets.len() - 1);
        }
        if let Some(at) = found.filter(|_| !paused) {
            keep_annotations(d, &mut sets[at], newest_old + 1, replicas + max_surge);
            let total: i64 = sets.iter().map(Set::desired).sum();
            let new_size = rolling::new_replicas(replicas, max_surge, sets[at].desired(), total);
            sets[at].scale(new_size);
            let mut olds: Vec<usize> = (0..sets.len()).filter(|i| *i != at).collect();
            olds.sort_by_key(|i| revision(&sets[*i]).unwrap_or(0));
            let seen: Vec<Old> = olds
                .iter()
                .map(|i| Old {
                    desired: sets[*i].desired(),
                    available: sets[*i].count("availableReplicas"),
                })
                .collect();
            let new = (sets[at].desired(), sets[at].count("availableReplicas"));
            let sizes = rolling::old_replicas(replicas, max_unavailable, new, &seen);
            for (i, size) in olds.iter().zip(sizes) {
                sets[*i].scale(size);
            }
        }
        for (set, was) in sets.iter().zip(before.iter().copied().chain([0])) {
            set.write(&self.store, now)?;
            let is = set.desired();
            if is != was || set.created {
                let way = if is > was { "up" } else { "down" };
                let message = format!(
                    "Scaled {way} replica set {} from {was} to {is}",
                    set.key.name
                );
                self.events
                    .record(d, "Normal", "ScalingReplicaSet", &message, now);
            }
        }
        let new = found.map(|at| &sets[at]);
        let next = status::next(d, &sets, new, created.as_deref(), max_unavailable, now);
        let complete = status::complete(d, &next);
        let revision_now = new.and_then(revision);
        self.store.update(DEPLOYMENTS, &key, |current| {
            if let Some(r) = revision_now {
                current["metadata"]["annotations"][REVISION] = json!(r.to_string());
            }
            current["status"] = next;
            Ok(())
        })?;
        if complete && !paused {
            self.clean_up(d, &sets, found);
        }
        Ok(())
    }

    /// The ReplicaSets this Deployment controls.
    fn owned_sets(&self, key: &ObjectKey) -> Vec<Set> {
        let prefix = format!("{}-", key.name);
        self.store
            .with_name_prefix(REPLICASETS, &key.namespace, &prefix)
            .iter()
            .map(|s| Set::read(s))
            .filter(|s| {
                let owner = &s.value["metadata"]["ownerReferences"][0];
                owner["kind"] == "Deployment" && owner["name"] == key.name.as_str()
            })
            .collect()
    }

    /// Old ReplicaSets without pods beyond `revisionHistoryLimit` (default 10), oldest
    /// first, are deleted (`cleanupDeployment`).
    fn clean_up(&self, d: &Value, sets: &[Set], new: Option<usize>) {
        let limit = int_at(d, "spec.revisionHistoryLimit").unwrap_or(10).max(0) as usize;
        let mut idle: Vec<&Set> = sets
            .iter()
            .enumerate()
            .filter(|(i, s)| Some(*i) != new && s.desired() == 0 && s.count("replicas") == 0)
            .map(|(_, s)| s)
            .collect();
        idle.sort_by_key(|s| revision(s).unwrap_or(0));
        let excess = idle.len().saturating_sub(limit);
        for set in &idle[..excess] {
            if let Err(e) = self.store.delete(REPLICASETS, &set.key) {
                tracing::warn!("simulated Deployment controller: {}: {e}", set.key.name);
            }
        }
    }
}

fn revision(set: &Set) -> Option<u64> {
    // Not `str_at`: the annotation's name has dots.
    set.value["metadata"]["annotations"][REVISION]
        .as_str()?
        .parse()
        .ok()
}

/// Kubernetes' `EqualIgnoreHash`: the ReplicaSet's template is the Deployment's once its
/// `pod-template-hash` label is set aside.
fn same_template(set: &Set, template: &Value) -> bool {
    let mut theirs = set.value["spec"]["template"].clone();
    if let Some(labels) = theirs["metadata"]["labels"].as_object_mut() {
        labels.remove(POD_TEMPLATE_HASH);
        if labels.is_empty() {
            theirs["metadata"]
                .as_object_mut()
                .map(|m| m.remove("labels"));
        }
    }
    template_hash(&theirs) == template_hash(template)
}

/// The template's hash as the API server would have stored it: Go clients such as
/// kubectl send `creationTimestamp: null` and `resources: {}`, which a real server
/// defaults away or back the same for every copy; the simulator keeps what is sent.
fn template_hash(template: &Value) -> String {
    fn without_empties(v: &mut Value) {
        if let Some(map) = v.as_object_mut() {
            map.values_mut().for_each(without_empties);
            map.retain(|_, x| !x.is_null() && x.as_object().is_none_or(|o| !o.is_empty()));
        } else if let Some(list) = v.as_array_mut() {
            list.iter_mut().for_each(without_empties);
        }
    }
    let mut template = template.clone();
    without_empties(&mut template);
    hash_of(&template)
}

/// The ReplicaSet of the Deployment's current template, with `replicas` pods.
fn new_set(d: &Value, hash: &str, revision: u64, replicas: i64) -> Set {
    let meta = &d["metadata"];
    let name = str_at(meta, "name");
    let mut template = d["spec"]["template"].clone();
    template["metadata"]["labels"][POD_TEMPLATE_HASH] = json!(hash);
    let mut selector = d["spec"]["selector"].clone();
    selector["matchLabels"][POD_TEMPLATE_HASH] = json!(hash);
    let mut set = Set::new(json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {
            "name": format!("{name}-{hash}"),
            "namespace": meta["namespace"],
            "labels": template["metadata"]["labels"],
            "annotations": {REVISION: revision.to_string()},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                                 "uid": meta["uid"], "controller": true,
                                 "blockOwnerDeletion": true}],
        },
        "spec": {"replicas": 0, "selector": selector, "template": template},
        "status": {"replicas": 0},
    }));
    set.scale(replicas);
    set
}

/// The Deployment's annotations copied onto its new ReplicaSet, and its revision moved
/// on (the revisions it had before kept in `revision-history`), as
/// `SetNewReplicaSetAnnotations` does.
fn keep_annotations(d: &Value, set: &mut Set, revision_now: u64, max_replicas: i64) {
    let theirs = d["metadata"]["annotations"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let before = revision(set);
    let annotations = &mut set.value["metadata"]["annotations"];
    for (k, v) in theirs
        .iter()
        .filter(|(k, _)| !NOT_COPIED.contains(&k.as_str()))
    {
        annotations[k] = v.clone();
    }
    match before {
        Some(old) if old < revision_now => {
            let history = match annotations[REVISION_HISTORY].as_str().unwrap_or_default() {
                "" => old.to_string(),
                h => format!("{h},{old}"),
            };
            annotations[REVISION_HISTORY] = json!(history);
            annotations[REVISION] = json!(revision_now.to_string());
        }
        Some(_) => {}
        None => annotations[REVISION] = json!(revision_now.to_string()),
    }
    let desired = int_at(d, "spec.replicas").unwrap_or(1);
    annotations[DESIRED_REPLICAS] = json!(desired.to_string());
    annotations[MAX_REPLICAS] = json!(max_replicas.to_string());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_sent_back_by_kubectl_is_its_old_replica_sets() {
        let template = json!({"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": "web:v1"}]}});
        let d = json!({"metadata": {"name": "web", "namespace": "shop", "uid": "u"},
                       "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template}});
        let set = new_set(&d, &template_hash(&template), 1, 2);
        assert_eq!(set.key.name, format!("web-{}", template_hash(&template)));
        assert_eq!(
            set.value["spec"]["template"]["metadata"]["labels"][POD_TEMPLATE_HASH],
            json!(template_hash(&template))
        );
        let from_kubectl = json!({"metadata": {"creationTimestamp": null, "labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "web", "image": "web:v1", "resources": {}}]}});
        assert!(same_template(&set, &from_kubectl));
        let v2 = json!({"metadata": {"labels": {"app": "web"}},
                        "spec": {"containers": [{"name": "web", "image": "web:v2"}]}});
        assert!(!same_template(&set, &v2));
    }
}
