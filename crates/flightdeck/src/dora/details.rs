//! What few deploys have: a failure, a request rate, verdicts and actions. Kept apart
//! from the deploy, boxed, for most deploys (read from the cluster's history) have
//! none of it, and the cockpit and the ledger hold a great many deploys.

use std::mem::size_of;

use jiff::Timestamp;

use super::deploy::Failure;
use super::marks::{ActionMark, Verdicts};
use crate::model::earliest;

#[derive(Debug, Clone, PartialEq)]
pub struct Details {
    /// How and when its failure was detected.
    pub failed: Option<(Failure, Timestamp)>,
    /// When it stopped taking traffic after a failure (the stable version back at 100%).
    pub stopped: Option<Timestamp>,
    /// Requests per second to the workload (both versions) when known.
    pub request_rate: Option<f64>,
    /// The latest verdict on it: `PASS`, `FAIL 33/100`, ...
    pub verdict: Option<Box<str>>,
    /// Every verdict it had, oldest first (none in ledgers of schema 1).
    pub verdicts: Verdicts,
    pub actions: Vec<ActionMark>,
}

/// What a deploy without details reads.
static NONE: Details = Details {
    failed: None,
    stopped: None,
    request_rate: None,
    verdict: None,
    verdicts: Verdicts::new(),
    actions: Vec::new(),
};

impl Details {
    /// Fold `other`'s in: the earliest failure and stop, the highest request rate,
    /// `other`'s verdict when it has one, the union of the marks.
    pub(super) fn merge(&mut self, other: &Details) {
        self.failed = match (self.failed, other.failed) {
            (Some(a), Some(b)) => Some(if b.1 < a.1 { b } else { a }),
            (a, b) => a.or(b),
        };
        self.stopped = earliest(self.stopped, other.stopped);
        if let Some(rate) = other.request_rate {
            self.request_rate = Some(self.request_rate.map_or(rate, |r| r.max(rate)));
        }
        if other.verdict.is_some() {
            self.verdict.clone_from(&other.verdict);
        }
        self.verdicts.merge(&other.verdicts);
        for action in &other.actions {
            if !self.actions.contains(action) {
                self.actions.push(action.clone());
            }
        }
        self.actions
            .sort_by(|a, b| (a.at, &a.action).cmp(&(b.at, &b.action)));
    }
}

/// A deploy's details: 8 bytes and nothing allocated while it has none.
#[derive(Clone, Default)]
pub struct BoxedDetails(Option<Box<Details>>);

impl BoxedDetails {
    pub fn get(&self) -> &Details {
        self.0.as_deref().unwrap_or(&NONE)
    }

    pub fn get_mut(&mut self) -> &mut Details {
        self.0.get_or_insert_with(|| Box::new(NONE.clone()))
    }

    pub fn is_none(&self) -> bool {
        self.0.is_none()
    }

    /// The bytes they take.
    pub fn heap_bytes(&self) -> usize {
        self.0.as_ref().map_or(0, |d| {
            size_of::<Details>()
                + d.verdict.as_ref().map_or(0, |v| v.len())
                + d.verdicts.heap_bytes()
                + d.actions.capacity() * size_of::<ActionMark>()
                + d.actions
                    .iter()
                    .map(|a| a.user.capacity() + a.action.capacity())
                    .sum::<usize>()
        })
    }
}

impl From<Details> for BoxedDetails {
    fn from(details: Details) -> BoxedDetails {
        BoxedDetails((details != NONE).then(|| Box::new(details)))
    }
}

/// None, or none that say anything: the same.
impl PartialEq for BoxedDetails {
    fn eq(&self, other: &BoxedDetails) -> bool {
        self.get() == other.get()
    }
}

impl std::fmt::Debug for BoxedDetails {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}
