//! Text the fleet holds many times over, shared rather than copied: tens of thousands
//! of rollouts name a handful of contexts and namespaces, the same few condition types,
//! statuses and reasons, and the same few step plans. A shared string is one pointer
//! (`ArcStr`); an interned one is stored once for the life of the process, so only
//! words from small vocabularies are interned, never names or messages.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock, Mutex};

pub use arcstr::ArcStr as Text;

use super::Step;

static WORDS: LazyLock<Mutex<HashSet<Text>>> = LazyLock::new(Mutex::default);
static PLANS: LazyLock<Mutex<HashSet<Arc<[Step]>>>> = LazyLock::new(Mutex::default);

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
}
