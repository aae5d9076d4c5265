//! The deploys in memory, by workload, each workload's in the order they started:
//! what the figures walk, and where new facts are merged.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};

use hashbrown::HashTable;
use jiff::Timestamp;

use super::deploy::{Deploy, DeployId};
use crate::model::ObjectKey;

#[derive(Debug, Clone, Default)]
pub struct History {
    /// Each workload's deploys (one at least), found by the workload their ids name:
    /// no key beside them, for a fleet has tens of thousands of workloads with a
    /// deploy or two each.
    workloads: HashTable<Vec<Deploy>>,
    hasher: RandomState,
    len: usize,
}

fn order(d: &Deploy) -> (Timestamp, u64) {
    (d.started, d.id.revision)
}

/// Where a workload's deploys are: by its key, as its deploys' ids make it.
fn hash(hasher: &RandomState, key: &ObjectKey) -> u64 {
    hasher.hash_one(key)
}

fn hash_of(hasher: &RandomState, list: &[Deploy]) -> u64 {
    hash(hasher, &list[0].id.workload())
}

impl History {
    pub fn new() -> History {
        History::default()
    }

    /// The history of these deploys (facts about one deploy merged into one): grouped
    /// by workload and sorted, not merged one by one.
    pub fn from_deploys(deploys: impl IntoIterator<Item = Deploy>) -> History {
        let mut grouped: HashMap<ObjectKey, Vec<Deploy>> = HashMap::new();
        for deploy in deploys {
            match grouped.get_mut(&deploy.id.workload()) {
                Some(list) => list.push(deploy),
                None => {
                    grouped.insert(deploy.id.workload(), vec![deploy]);
                }
            }
        }
        let hasher = RandomState::new();
        let mut workloads = HashTable::with_capacity(grouped.len());
        let mut len = 0;
        for (key, mut list) in grouped {
            list.sort_by(|a, b| a.id.cmp(&b.id));
            let mut merged: Vec<Deploy> = Vec::with_capacity(list.len());
            for deploy in list.drain(..) {
                match merged.last_mut() {
                    Some(last) if last.id == deploy.id => {
                        last.merge(&deploy);
                    }
                    _ => merged.push(deploy),
                }
            }
            merged.sort_by_key(order);
            merged.shrink_to_fit();
            len += merged.len();
            workloads.insert_unique(hash(&hasher, &key), merged, |l| hash_of(&hasher, l));
        }
        History {
            workloads,
            hasher,
            len,
        }
    }

    /// Fold `other` in; returns how many deploys changed.
    pub fn absorb(&mut self, other: History) -> usize {
        let mut changed = 0;
        for list in other.workloads {
            for deploy in list {
                changed += usize::from(self.merge(deploy).is_some());
            }
        }
        changed
    }

    /// The approximate bytes the deploys take: their own sizes, what their strings and
    /// lists hold, and the index's entries (not the allocator's overhead).
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let mut bytes = self.workloads.capacity() * (size_of::<Vec<Deploy>>() + 1);
        for list in &self.workloads {
            bytes += list.capacity() * size_of::<Deploy>();
            for d in list {
                let id = &d.id;
                // Context and namespace interned; name and hash inline unless long.
                let name = |n: &crate::model::Name| {
                    if n.is_heap_allocated() {
                        n.capacity()
                    } else {
                        0
                    }
                };
                bytes += name(&id.name) + name(&id.hash);
                // Images are shared with the fleet's ReplicaSets: a pointer, counted above.
                bytes += d.traffic.len() * size_of::<super::deploy::TrafficMark>();
                bytes += d.details_heap_bytes();
            }
        }
        bytes
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
        let hasher = &self.hasher;
        let key = fact.id.workload();
        let entry = self.workloads.entry(
            hash(hasher, &key),
            |l| l[0].id.same_workload(&key),
            |l| hash_of(hasher, l),
        );
        let list = match entry {
            hashbrown::hash_table::Entry::Occupied(list) => list.into_mut(),
            hashbrown::hash_table::Entry::Vacant(none) => {
                self.len += 1;
                return Some(&none.insert(vec![fact]).into_mut()[0]);
            }
        };
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
                // Exactly: most workloads hold a few deploys, and a Vec's first
                // allocation would make room for four.
                list.reserve_exact(1);
                list.insert(to, fact);
                self.len += 1;
                Some(&list[to])
            }
        }
    }

    pub fn get(&self, id: &DeployId) -> Option<&Deploy> {
        self.of(&id.workload()).iter().find(|d| d.id == *id)
    }

    /// A workload's deploys, oldest first.
    pub fn of(&self, key: &ObjectKey) -> &[Deploy] {
        self.workloads
            .find(hash(&self.hasher, key), |l| l[0].id.same_workload(key))
            .map_or(&[], Vec::as_slice)
    }

    /// Every workload with its deploys, oldest first (in no order of workloads).
    pub fn workloads(&self) -> impl Iterator<Item = (ObjectKey, &[Deploy])> {
        self.workloads
            .iter()
            .map(|list| (list[0].id.workload(), list.as_slice()))
    }

    /// The deploys that started at or after `since`, newest first.
    pub fn since(&self, since: Timestamp) -> Vec<&Deploy> {
        self.since_with_previous(since)
            .into_iter()
            .map(|(d, _)| d)
            .collect()
    }

    /// The same, each with the deploy of its workload before it.
    pub fn since_with_previous(&self, since: Timestamp) -> Vec<(&Deploy, Option<&Deploy>)> {
        self.newest_since(since, usize::MAX)
    }

    /// The newest `limit` deploys that started at or after `since`, newest first, each
    /// with the deploy of its workload before it.
    pub fn newest_since(&self, since: Timestamp, limit: usize) -> Vec<(&Deploy, Option<&Deploy>)> {
        let mut found: Vec<(&Deploy, Option<&Deploy>)> = Vec::new();
        for list in &self.workloads {
            // From the end: a window is recent, most of a workload's deploys are older.
            let from = list
                .iter()
                .rposition(|d| d.started < since)
                .map_or(0, |i| i + 1);
            for i in from..list.len() {
                found.push((&list[i], i.checked_sub(1).map(|p| &list[p])));
            }
        }
        let newest_first = |(a, _): &(&Deploy, Option<&Deploy>),
                            (b, _): &(&Deploy, Option<&Deploy>)| {
            order(b).cmp(&order(a)).then_with(|| a.id.cmp(&b.id))
        };
        if found.len() > limit {
            found.select_nth_unstable_by(limit, newest_first);
            found.truncate(limit);
        }
        found.sort_unstable_by(newest_first);
        found
    }

    /// The deploy of `key` that was the newest at `at` (the one an action then acted on).
    pub fn current_at(&self, key: &ObjectKey, at: Timestamp) -> Option<&Deploy> {
        let list = self.of(key);
        let to = list.partition_point(|d| d.started <= at);
        to.checked_sub(1).map(|i| &list[i])
    }
}

/// The same deploys, however the index was built.
impl PartialEq for History {
    fn eq(&self, other: &History) -> bool {
        self.len == other.len
            && self
                .workloads
                .iter()
                .all(|list| other.of(&list[0].id.workload()) == list.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deploy(name: &str, revision: u64, started: i64) -> Deploy {
        let id = DeployId {
            context: "eu".into(),
            namespace: "shop".into(),
            kind: Default::default(),
            name: name.into(),
            hash: format!("h{revision}").into(),
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
