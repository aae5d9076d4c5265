//! The deploys in memory, by workload, each workload's in the order they started:
//! what the figures walk, and where new facts are merged.

use std::collections::HashMap;

use jiff::Timestamp;

use super::deploy::{Deploy, DeployId};
use crate::model::ObjectKey;

#[derive(Debug, Clone, Default)]
pub struct History {
    workloads: HashMap<ObjectKey, Vec<Deploy>>,
    len: usize,
}

fn order(d: &Deploy) -> (Timestamp, u64) {
    (d.started, d.id.revision)
}

impl History {
    pub fn new() -> History {
        History::default()
    }

    pub fn from_deploys(deploys: impl IntoIterator<Item = Deploy>) -> History {
        let mut history = History::new();
        for deploy in deploys {
            history.merge(deploy);
        }
        history
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Merge a fact about a deploy in; returns the deploy as it now stands when
    /// that changed anything (what the ledger needs to write), `None` otherwise.
    pub fn merge(&mut self, fact: Deploy) -> Option<&Deploy> {
        let list = self.workloads.entry(fact.id.workload()).or_default();
        match list.iter().position(|d| d.id == fact.id) {
            Some(at) => {
                let before = order(&list[at]);
                if !list[at].merge(&fact) {
                    return None;
                }
                let at = if order(&list[at]) == before {
                    at
                } else {
                    let deploy = list.remove(at);
                    let to = list.partition_point(|d| order(d) <= order(&deploy));
                    list.insert(to, deploy);
                    to
                };
                Some(&list[at])
            }
            None => {
                let to = list.partition_point(|d| order(d) <= order(&fact));
                list.insert(to, fact);
                self.len += 1;
                Some(&list[to])
            }
        }
    }

    pub fn get(&self, id: &DeployId) -> Option<&Deploy> {
        self.workloads
            .get(&id.workload())?
            .iter()
            .find(|d| d.id == *id)
    }

    /// A workload's deploys, oldest first.
    pub fn of(&self, key: &ObjectKey) -> &[Deploy] {
        self.workloads.get(key).map_or(&[], Vec::as_slice)
    }

    /// Every workload with its deploys, oldest first (in no order of workloads).
    pub fn workloads(&self) -> impl Iterator<Item = (&ObjectKey, &[Deploy])> {
        self.workloads.iter().map(|(k, v)| (k, v.as_slice()))
    }

    /// The deploys that started at or after `since`, newest first.
    pub fn since(&self, since: Timestamp) -> Vec<&Deploy> {
        let mut found: Vec<&Deploy> = self
            .workloads
            .values()
            .flat_map(|list| {
                let from = list.partition_point(|d| d.started < since);
                &list[from..]
            })
            .collect();
        found.sort_unstable_by(|a, b| order(b).cmp(&order(a)).then_with(|| a.id.cmp(&b.id)));
        found
    }

    /// The deploy of `key` that was the newest at `at` (the one an action then acted on).
    pub fn current_at(&self, key: &ObjectKey, at: Timestamp) -> Option<&Deploy> {
        let list = self.workloads.get(key)?;
        let to = list.partition_point(|d| d.started <= at);
        to.checked_sub(1).map(|i| &list[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deploy(name: &str, revision: u64, started: i64) -> Deploy {
        let id = DeployId {
            context: "eu".into(),
            namespace: "shop".into(),
            name: name.into(),
            hash: format!("h{revision}"),
            revision,
        };
        Deploy::new(id, Timestamp::from_second(started).unwrap())
    }

    #[test]
    fn facts_about_one_deploy_make_one_deploy_kept_in_start_order() {
        let mut history = History::new();
        assert!(history.merge(deploy("a", 2, 200)).is_some());
        assert!(history.merge(deploy("a", 1, 100)).is_some());
        assert!(history.merge(deploy("a", 2, 200)).is_none(), "nothing new");
        // The same deploy seen earlier moves to its place.
        assert!(history.merge(deploy("a", 2, 50)).is_some());
        assert!(history.merge(deploy("b", 1, 150)).is_some());
        assert_eq!(history.len(), 3);
        let a = history.of(&ObjectKey::new("eu", "shop", "a"));
        assert_eq!(a.iter().map(|d| d.id.revision).collect::<Vec<_>>(), [2, 1]);
        let newest: Vec<_> = history
            .since(Timestamp::from_second(100).unwrap())
            .iter()
            .map(|d| (d.id.name.as_str(), d.id.revision))
            .collect();
        assert_eq!(newest, [("b", 1), ("a", 1)]);
        let key = ObjectKey::new("eu", "shop", "a");
        let at = |s| Timestamp::from_second(s).unwrap();
        assert_eq!(history.current_at(&key, at(120)).unwrap().id.revision, 1);
        assert_eq!(history.current_at(&key, at(60)).unwrap().id.revision, 2);
        assert!(history.current_at(&key, at(10)).is_none());
    }
}
