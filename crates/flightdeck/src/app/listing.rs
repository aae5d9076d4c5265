//! Lists in progress: a list arrives in parts, and at its end what the state held in
//! its scope that it never showed is gone. Kept as what is still *unconfirmed*, not as
//! what has been seen: at start-up the state is empty, so a fleet's first lists cost
//! nothing here however large they are; only a relist holds the keys it may remove.

use std::collections::{HashMap, HashSet};

use crate::cluster::Kind;
use crate::model::ObjectKey;

/// A list's scope: the kind, the context, and the namespace (`None`: all).
pub(super) type Scope = (Kind, String, Option<String>);

#[derive(Debug, Clone, Default)]
pub(super) struct Listing {
    unconfirmed: HashMap<Scope, HashSet<ObjectKey>>,
}

impl Listing {
    /// A part of the list in `scope`. `held` reads what the state holds in that scope,
    /// asked once, at the list's first part, before anything of it is applied.
    pub fn part<'a>(
        &mut self,
        scope: Scope,
        held: impl FnOnce() -> HashSet<ObjectKey>,
        shown: impl IntoIterator<Item = &'a ObjectKey>,
    ) {
        let unconfirmed = self.unconfirmed.entry(scope).or_insert_with(held);
        if !unconfirmed.is_empty() {
            shown.into_iter().for_each(|key| {
                unconfirmed.remove(key);
            });
        }
    }

    /// The list's end, with its last items: what the state held in `scope` that the
    /// list never showed. `held` is asked only for a list that came in one part.
    pub fn end<'a>(
        &mut self,
        scope: Scope,
        held: impl FnOnce() -> HashSet<ObjectKey>,
        shown: impl IntoIterator<Item = &'a ObjectKey>,
    ) -> HashSet<ObjectKey> {
        let mut unconfirmed = self.unconfirmed.remove(&scope).unwrap_or_else(held);
        if !unconfirmed.is_empty() {
            shown.into_iter().for_each(|key| {
                unconfirmed.remove(key);
            });
        }
        unconfirmed
    }
}

/// Whether `key` is among what a list of `context` (in `namespace`, or all) covers.
pub(super) fn in_scope(key: &ObjectKey, context: &str, namespace: Option<&str>) -> bool {
    key.context == context && namespace.is_none_or(|ns| key.namespace == ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> ObjectKey {
        ObjectKey::new("eu", "shop", name)
    }

    fn scope() -> Scope {
        (Kind::Rollout, "eu".into(), None)
    }

    #[test]
    fn what_the_state_held_and_no_part_showed_is_gone_at_the_end() {
        let mut listing = Listing::default();
        let held = || HashSet::from([key("a"), key("b"), key("c")]);
        listing.part(scope(), held, &[key("a")]);
        // Asked once only: what the first part applied is not "held before".
        listing.part(scope(), || panic!("held is read at the first part"), &[]);
        let gone = listing.end(scope(), || panic!("read already"), &[key("c")]);
        assert_eq!(gone, HashSet::from([key("b")]));
        // The next list starts afresh.
        let gone = listing.end(scope(), || HashSet::from([key("a")]), &[]);
        assert_eq!(gone, HashSet::from([key("a")]));
    }

    #[test]
    fn a_first_list_into_an_empty_state_holds_nothing() {
        let mut listing = Listing::default();
        listing.part(scope(), HashSet::new, &[key("a"), key("b")]);
        assert!(listing.unconfirmed.values().all(HashSet::is_empty));
        assert!(listing.end(scope(), HashSet::new, &[key("c")]).is_empty());
        assert!(listing.unconfirmed.is_empty());
    }
}
