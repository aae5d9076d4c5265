//! Text the fleet holds many times over, shared rather than copied: tens of thousands
//! of rollouts name a handful of contexts and namespaces, the same few condition types,
//! statuses and reasons, and the same few step plans. A shared string is one pointer
//! (`ArcStr`); an interned one is stored once for the life of the process, so only
//! words from small vocabularies are interned, never names. Messages are shared while
//! they are held: most objects of a fleet say the same few sentences ("Rollout is
//! healthy"), but some name a ReplicaSet or a revision, so those must not pile up.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::hash::Hash;
use std::sync::{Arc, LazyLock, Mutex};

pub use arcstr::ArcStr as Text;
/// An object's name or a template hash: kept inline up to 24 bytes (most names
/// and every hash), so the many copies of a key allocate nothing.
pub use compact_str::CompactString as Name;

use super::Step;

static WORDS: LazyLock<Mutex<HashSet<Text>>> = LazyLock::new(Mutex::default);
static PLANS: LazyLock<Mutex<HashSet<Arc<[Step]>>>> = LazyLock::new(Mutex::default);
static MESSAGES: LazyLock<Mutex<Held<Text>>> = LazyLock::new(Mutex::default);
static IMAGES: LazyLock<Mutex<Held<Arc<[Text]>>>> = LazyLock::new(Mutex::default);

/// What is shared while held: a table of one copy each, from which those that only
/// the table still holds are pruned.
struct Held<T> {
    held: HashSet<T>,
    /// The table's size after its last pruning: pruned again once it has doubled,
    /// so pruning costs O(1) per value shared.
    pruned_at: usize,
}

impl<T> Default for Held<T> {
    fn default() -> Self {
        Held {
            held: HashSet::new(),
            pruned_at: 0,
        }
    }
}

impl<T: Hash + Eq + Clone> Held<T> {
    /// The held copy of `value`, made by `make` if there is none; `only_here` says
    /// whether the table holds the last copy.
    fn share<Q>(&mut self, value: &Q, make: impl FnOnce() -> T, only_here: fn(&T) -> bool) -> T
    where
        T: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if let Some(known) = self.held.get(value) {
            return known.clone();
        }
        if self.held.len() >= 2 * self.pruned_at.max(512) {
            self.held.retain(|held| !only_here(held));
            self.pruned_at = self.held.len();
        }
        let made = make();
        self.held.insert(made.clone());
        made
    }
}

fn lock<T>(table: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    table
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The one copy of `word`.
pub fn interned(word: &str) -> Text {
    let mut words = lock(&WORDS);
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
    lock(&MESSAGES).share(
        message,
        || Text::from(message),
        |m| Text::strong_count(m) == Some(1),
    )
}

/// A pod template's images, in the order of its containers: shared while held, for a
/// rollout, its ReplicaSets and its deploys name the same ones (a pointer each, not a
/// list of strings each).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Images(Option<Arc<[Text]>>);

impl Images {
    pub fn new<S: AsRef<str>>(images: impl IntoIterator<Item = S>) -> Images {
        let list: Vec<Text> = images
            .into_iter()
            .map(|image| Text::from(image.as_ref()))
            .collect();
        if list.is_empty() {
            return Images(None);
        }
        let shared = lock(&IMAGES).share(
            list.as_slice(),
            || list.as_slice().into(),
            |l| Arc::strong_count(l) == 1,
        );
        Images(Some(shared))
    }

    pub fn as_slice(&self) -> &[Text] {
        self.0.as_deref().unwrap_or_default()
    }

    /// `a:v1, b:v2`.
    pub fn joined(&self) -> String {
        self.as_slice().join(", ")
    }
}

impl std::ops::Deref for Images {
    type Target = [Text];
    fn deref(&self) -> &[Text] {
        self.as_slice()
    }
}

impl serde::Serialize for Images {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.as_slice().iter().map(Text::as_str))
    }
}

impl<'de> serde::Deserialize<'de> for Images {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Images, D::Error> {
        Vec::<std::borrow::Cow<'de, str>>::deserialize(d).map(Images::new)
    }
}

/// The one copy of a rollout's steps: most rollouts share their plan with many others.
pub fn shared_steps(steps: Vec<Step>) -> Arc<[Step]> {
    let mut plans = lock(&PLANS);
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

    #[test]
    fn an_image_list_is_shared_while_held() {
        let a = Images::new(["shop/checkout:v2", "envoy:v1.29"]);
        let b = Images::new(vec![String::from("shop/checkout:v2"), "envoy:v1.29".into()]);
        let (Some(a_list), Some(b_list)) = (&a.0, &b.0) else {
            panic!("no list");
        };
        assert!(Arc::ptr_eq(a_list, b_list));
        assert_eq!(*a, ["shop/checkout:v2", "envoy:v1.29"]);
        assert_eq!(a.joined(), "shop/checkout:v2, envoy:v1.29");
        // Another order is another pod template.
        let c = Images::new(["envoy:v1.29", "shop/checkout:v2"]);
        assert!(!Arc::ptr_eq(a_list, c.0.as_ref().unwrap()));
        // None allocates nothing.
        assert!(Images::new(Vec::<String>::new()).0.is_none());
        // Lists no one holds any more are pruned as the table grows.
        for i in 0..5_000 {
            drop(Images::new([format!("svc-{i}:v1")]));
        }
        assert!(IMAGES.lock().unwrap().held.len() <= 1_100);
        let kept = Images::new(["shop/checkout:v2", "envoy:v1.29"]);
        assert!(Arc::ptr_eq(a_list, kept.0.as_ref().unwrap()));
        // Read back from JSON as the same list.
        let read: Images = serde_json::from_str(r#"["shop/checkout:v2","envoy:v1.29"]"#).unwrap();
        assert!(Arc::ptr_eq(a_list, read.0.as_ref().unwrap()));
        assert_eq!(
            serde_json::to_string(&read).unwrap(),
            r#"["shop/checkout:v2","envoy:v1.29"]"#
        );
    }
}
