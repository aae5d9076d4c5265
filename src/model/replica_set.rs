//! A ReplicaSet of a rollout: one revision of its pod template.

use jiff::Timestamp;

use super::{ObjectKey, Replicas, Rollout, Strategy};

#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaSet {
    pub key: ObjectKey,
    /// The name of the Rollout that owns it (its controller ownerReference).
    pub owner: Option<String>,
    /// `rollouts-pod-template-hash`.
    pub hash: String,
    /// `rollout.argoproj.io/revision`.
    pub revision: Option<u64>,
    pub images: Vec<String>,
    pub replicas: Replicas,
    pub created: Option<Timestamp>,
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
        let is = |h: &Option<String>| h.as_deref() == Some(self.hash.as_str());
        let mut roles = Vec::new();
        if is(&rollout.stable_hash) {
            roles.push(Role::Stable);
        }
        match rollout.strategy {
            Strategy::BlueGreen => {
                if is(&rollout.active_selector) {
                    roles.push(Role::Active);
                }
                if is(&rollout.preview_selector) {
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
