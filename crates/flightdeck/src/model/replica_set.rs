//! A ReplicaSet of a rollout: one revision of its pod template.

use super::{Images, Name, ObjectKey, OptionalTime, Replicas, Rollout, Strategy, TemplateTimes};

#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaSet {
    pub key: ObjectKey,
    /// The name of the Rollout that owns it (its controller ownerReference).
    pub owner: Option<Name>,
    /// `rollouts-pod-template-hash`.
    pub hash: Name,
    /// `rollout.argoproj.io/revision`.
    pub revision: Option<u64>,
    pub images: Images,
    pub replicas: Replicas,
    pub created: OptionalTime,
    /// The pod template's annotations that read as a time (where a commit time is found).
    pub template_times: TemplateTimes,
    /// `rollout.argoproj.io/revision-history`: the revisions this template
    /// held before an undo brought it back under a new one.
    pub revision_history: Box<[u64]>,
}

/// What a ReplicaSet is to its rollout, as `kubectl argo rollouts get` labels it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Stable,
    Canary,
    Active,
    Preview,
    Old,
}

impl Role {
    pub fn label(self) -> &'static str {
        match self {
            Role::Stable => "stable",
            Role::Canary => "canary",
            Role::Active => "active",
            Role::Preview => "preview",
            Role::Old => "old",
        }
    }
}

impl ReplicaSet {
    /// The roles follow from `status.stableRS`, `status.currentPodHash` and,
    /// for blue-green, `status.blueGreen.{active,preview}Selector`.
    pub fn roles(&self, rollout: &Rollout) -> Vec<Role> {
        let is = |h: &Option<Name>| h.as_deref() == Some(self.hash.as_str());
        let mut roles = Vec::new();
        if is(&rollout.stable_hash) {
            roles.push(Role::Stable);
        }
        match rollout.strategy {
            Strategy::BlueGreen => {
                if is(&rollout.detail().active_selector) {
                    roles.push(Role::Active);
                }
                if is(&rollout.detail().preview_selector) {
                    roles.push(Role::Preview);
                }
            }
            _ => {
                if is(&rollout.current_hash) && !is(&rollout.stable_hash) {
                    roles.push(Role::Canary);
                }
            }
        }
        if roles.is_empty() {
            roles.push(Role::Old);
        }
        roles
    }
}

/// The ReplicaSet an undo goes back to: revision `n`, or the one before
/// the newest (as `kubectl argo rollouts undo` picks it).
pub fn undo_target(replica_sets: &[ReplicaSet], revision: Option<u64>) -> Option<&ReplicaSet> {
    match revision {
        Some(n) => replica_sets.iter().find(|rs| rs.revision == Some(n)),
        None => {
            let mut by_revision: Vec<&ReplicaSet> = replica_sets
                .iter()
                .filter(|rs| rs.revision.is_some())
                .collect();
            by_revision.sort_by_key(|rs| std::cmp::Reverse(rs.revision));
            by_revision.get(1).copied()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undo_goes_to_the_revision_asked_or_the_one_before_the_newest() {
        let rs = |revision: u64| ReplicaSet {
            key: ObjectKey::new("eu", "shop", format!("checkout-{revision}")),
            owner: Some("checkout".into()),
            hash: format!("h{revision}").into(),
            revision: Some(revision),
            images: crate::model::Images::default(),
            replicas: Default::default(),
            created: None.into(),
            template_times: Box::default(),
            revision_history: Box::default(),
        };
        let history = [rs(3), rs(5), rs(4)];
        assert_eq!(undo_target(&history, None).unwrap().revision, Some(4));
        assert_eq!(undo_target(&history, Some(3)).unwrap().revision, Some(3));
        assert!(undo_target(&history, Some(9)).is_none());
        assert!(undo_target(&history[..1], None).is_none());
    }
}
