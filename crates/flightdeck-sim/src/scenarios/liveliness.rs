//! The new revisions that start on their own once the demo runs live.

use std::sync::Arc;

use jiff::Timestamp;

use super::demo::DEMO;
use super::{Change, apply};
use crate::discovery::ROLLOUTS;
use crate::objects::str_at;
use crate::store::{ObjectKey, Store};

/// Now and then, a new revision of a Healthy, idle demo service starts on its own.
pub struct Liveliness {
    rng: fastrand::Rng,
    candidates: Vec<ObjectKey>,
}

/// On average one new revision per cluster every this many simulated seconds.
const NEW_REVISION_EVERY: u32 = 240;

impl Liveliness {
    pub fn demo(cluster: usize, seed: u64) -> Self {
        let candidates = DEMO
            .iter()
            .filter(|s| s.cluster == cluster % 2 && s.lively)
            .map(|s| ObjectKey::new(s.namespace, s.name))
            .collect();
        Liveliness {
            rng: fastrand::Rng::with_seed(seed ^ (cluster as u64) << 32),
            candidates,
        }
    }

    /// Called once per tick.
    pub fn tick(&mut self, store: &Arc<Store>, now: Timestamp) {
        if self.candidates.is_empty() || self.rng.u32(..NEW_REVISION_EVERY) != 0 {
            return;
        }
        let key = &self.candidates[self.rng.usize(..self.candidates.len())];
        let Some(current) = store.get(ROLLOUTS, key).map(|s| s.value()) else {
            return;
        };
        if str_at(&current, "status.phase") != "Healthy" {
            return;
        }
        let image = str_at(
            &current["spec"]["template"]["spec"]["containers"][0],
            "image",
        );
        if let Some(next) = next_patch_version(image) {
            apply(
                store,
                Change::SetImage {
                    key: key.clone(),
                    image: next,
                },
                now,
            );
        }
    }
}

/// `…:v1.8.2` → `…:v1.8.3`
fn next_patch_version(image: &str) -> Option<String> {
    let (head, patch) = image.rsplit_once('.')?;
    let patch: u64 = patch.parse().ok()?;
    Some(format!("{head}.{}", patch + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_revision_is_the_next_patch_version() {
        assert_eq!(
            next_patch_version("r.example.com/a/b:v1.8.9").as_deref(),
            Some("r.example.com/a/b:v1.8.10")
        );
        assert_eq!(next_patch_version("r.example.com/a/b:latest"), None);
    }
}
