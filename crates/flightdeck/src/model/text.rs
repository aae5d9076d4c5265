//! Text the fleet holds many times over, shared rather than copied: tens of thousands
//! of rollouts name a handful of contexts and namespaces, the same few condition types,
//! statuses and reasons, and the same few step plans. A shared string is one pointer
//! (`ArcStr`); an interned one is stored once for the life of the process, so only
//! words from small vocabularies are interned, never names. Messages are shared while
//! they are held: most objects of a fleet say the same few sentences ("Rollout is
//! healthy"), but some name a ReplicaSet or a revision, so those must not pile up.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock, Mutex};

pub use arcstr::ArcStr as Text;
/// An object's name or a template hash: kept inline up to 24 bytes (most names
/// and every hash), so the many copies of a key allocate nothing.
pub use compact_str::CompactString as Name;

use super::Step;

static WORDS: LazyLock<Mutex<HashSet<Text>>> = LazyLock::new(Mutex::default);
static PLANS: LazyLock<Mutex<HashSet<Arc<[Step]>>>> = LazyLock::new(Mutex::default);
static MESSAGES: LazyLock<Mutex<Messages>> = LazyLock::new(Mutex::default);

#[derive(Default)]
struct Messages {
    held: HashSet<Text>,
    /// The table's size after its last pruning: pruned again once it has doubled,
    /// so pruning costs O(1) per message shared.
    pruned_at: usize,
}

/// The one copy of `word`.
pub fn interned(word: &str) -> Text {
    let mut words = WORDS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(known) = words.get(word) {
        return known.clone();
    }
    let text = Text::from(word);
    words.insert(text.clone());
    text
}

/// `message`, shared with every other holder of the same text while any holds it.
pub fn shared_message(message: &str) -> Text {
    if message.is_empty() {
        return Text::new();
    }
    let mut messages = MESSAGES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(known) = messages.held.get(message) {
        return known.clone();
    }
    if messages.held.len() >= 2 * messages.pruned_at.max(512) {
        // Those only the table still holds are no one's message any more.
        messages.held.retain(|m| Text::strong_count(m) != Some(1));
        messages.pruned_at = messages.held.len();
    }
    let text = Text::from(message);
    messages.held.insert(text.clone());
    text
}

/// The one copy of a rollout's steps: most rollouts share their plan with many others.
pub fn shared_steps(steps: Vec<Step>) -> Arc<[Step]> {
    let mut plans = PLANS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(known) = plans.get(steps.as_slice()) {
        return known.clone();
    }
    let plan: Arc<[Step]> = steps.into();
    plans.insert(plan.clone());
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_word_or_plan_is_stored_once() {
        let a = interned("sim-prod-eu");
        let b = interned(&String::from("sim-prod-eu"));
        assert!(Text::ptr_eq(&a, &b));
        assert_eq!(a, "sim-prod-eu");
        let plan = || vec![Step::SetWeight(20), Step::Pause { seconds: None }];
        assert!(Arc::ptr_eq(&shared_steps(plan()), &shared_steps(plan())));
        assert!(!Arc::ptr_eq(
            &shared_steps(plan()),
            &shared_steps(vec![Step::SetWeight(30)])
        ));
    }

    #[test]
    fn a_message_is_shared_while_held_and_forgotten_when_no_one_holds_it() {
        let healthy = shared_message("Rollout is healthy");
        assert!(Text::ptr_eq(
            &healthy,
            &shared_message("Rollout is healthy")
        ));
        let count = |m: &str| {
            let messages = MESSAGES.lock().unwrap();
            messages.held.iter().filter(|h| h.as_str() == m).count()
        };
        // Thousands of messages held once each, then dropped: pruned as the table grows.
        for i in 0..5_000 {
            drop(shared_message(&format!(
                "ReplicaSet \"svc-{i}\" has successfully progressed."
            )));
        }
        let held = MESSAGES.lock().unwrap().held.len();
        assert!(
            held <= 1_100,
            "{held} messages kept after their holders dropped them"
        );
        // One still held is kept, and shared.
        assert_eq!(count("Rollout is healthy"), 1);
        assert!(Text::ptr_eq(
            &healthy,
            &shared_message("Rollout is healthy")
        ));
    }
}
