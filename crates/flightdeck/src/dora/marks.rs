//! The marks of a deploy's course: its traffic, its verdicts and the actions taken
//! on it, each with its time.

use std::mem::size_of;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Verdict transitions kept per deploy: the first and the latest ones.
const VERDICT_MARKS: usize = 32;

/// A share of traffic the new version had from a moment on, and the canary step it
/// had reached then: the steps of a deploy with their times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrafficMark {
    pub at: Timestamp,
    /// Percent of traffic, 0 to 100.
    pub weight: u32,
    /// `status.currentStepIndex` then, if the rollout has steps.
    #[serde(default)]
    pub step: Option<u16>,
}

/// An action taken on the deploy through flightdeck.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionMark {
    pub at: Timestamp,
    pub user: String,
    /// `abort`, `promote`, `undo to revision 3`, ...
    pub action: String,
}

/// A verdict the deploy had from a moment on: its outcome and the metrics that
/// decided it. A new mark only when either changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictMark {
    pub at: Timestamp,
    /// `PASS`, `MARGINAL`, `FAIL`.
    pub outcome: String,
    /// The deciding metrics, `error rate, latency p99` (empty for a pass).
    #[serde(default)]
    pub deciding: String,
}

/// The verdict transitions a deploy had, oldest first: boxed, for most deploys (read
/// from the cluster's history) have none, and a ledger holds millions of deploys.
/// Serialized as the list.
#[derive(Debug, Clone, Default)]
#[expect(
    clippy::box_collection,
    reason = "a thin pointer: 8 bytes a deploy, not a Vec's 24, for most have no verdict"
)]
pub struct Verdicts(Option<Box<Vec<VerdictMark>>>);

impl Verdicts {
    pub const fn new() -> Verdicts {
        Verdicts(None)
    }

    pub fn as_slice(&self) -> &[VerdictMark] {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }

    pub fn push(&mut self, mark: VerdictMark) {
        self.0.get_or_insert_with(Default::default).push(mark);
    }

    /// The bytes its marks take.
    pub fn heap_bytes(&self) -> usize {
        self.0.as_ref().map_or(0, |list| {
            size_of::<Vec<VerdictMark>>()
                + list.capacity() * size_of::<VerdictMark>()
                + list
                    .iter()
                    .map(|v| v.outcome.capacity() + v.deciding.capacity())
                    .sum::<usize>()
        })
    }

    /// Fold `other`'s in: by time, one mark a moment, a repeat of the verdict before
    /// it no transition; the first and the latest kept when there are too many.
    pub(super) fn merge(&mut self, other: &Verdicts) {
        if other.as_slice().is_empty() {
            return;
        }
        let list = self.0.get_or_insert_with(Default::default);
        for mark in other.as_slice() {
            if !list.contains(mark) {
                list.push(mark.clone());
            }
        }
        list.sort_by(|a, b| (a.at, &a.outcome, &a.deciding).cmp(&(b.at, &b.outcome, &b.deciding)));
        list.dedup_by(|later, first| later.at == first.at);
        list.dedup_by(|later, first| {
            (&later.outcome, &later.deciding) == (&first.outcome, &first.deciding)
        });
        if list.len() > VERDICT_MARKS {
            let extra = list.len() - VERDICT_MARKS;
            list.drain(1..=extra);
        }
    }
}

impl From<Vec<VerdictMark>> for Verdicts {
    fn from(list: Vec<VerdictMark>) -> Verdicts {
        Verdicts((!list.is_empty()).then(|| Box::new(list)))
    }
}

impl PartialEq for Verdicts {
    fn eq(&self, other: &Verdicts) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Serialize for Verdicts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.as_slice().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Verdicts {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Verdicts, D::Error> {
        Vec::<VerdictMark>::deserialize(d).map(Verdicts::from)
    }
}
