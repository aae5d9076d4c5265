//! The fleet pane's rows: the rollouts in scope that match the filter,
//! most urgent first.

use std::collections::{HashMap, HashSet};

use super::State;
use crate::metrics::RolloutMetricsReport;
use crate::model::{ObjectKey, Phase, Rollout, Urgency, rank};

/// Case-insensitive substring of the name, namespace or context.
pub fn matches_filter(rollout: &Rollout, filter: &str) -> bool {
    key_matches(&rollout.key, filter)
}

fn key_matches(key: &ObjectKey, filter: &str) -> bool {
    filter.is_empty()
        || contains_ignore_case(&key.name, filter)
        || contains_ignore_case(&key.namespace, filter)
        || contains_ignore_case(&key.context, filter)
}

fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    if n.len() > h.len() {
        return false;
    }
    if !needle.is_ascii() {
        return haystack.to_lowercase().contains(&needle.to_lowercase());
    }
    h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

fn in_scope(state: &State, key: &ObjectKey) -> bool {
    let kind = state
        .kind_scope
        .is_none_or(|kind| state.rollouts.get(key).is_some_and(|r| r.workload == kind));
    kind && state
        .context_scope
        .as_ref()
        .is_none_or(|c| *c == key.context)
        && state
            .namespace_scope
            .as_ref()
            .is_none_or(|n| *n == key.namespace)
}

/// The fleet pane's rows: every rollout sorted by urgency (kept, and mended
/// where a rollout comes, goes or changes urgency), and the rows shown
/// (those in scope that match the filter) as indexes into that order, so
/// that a filter keystroke neither sorts nor clones keys.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    sorted: Vec<ObjectKey>,
    shown: Vec<usize>,
    widths: DataWidths,
}

/// How wide the fleet's names are, and whether a name alone tells rollouts
/// apart: facts about the data that the fleet pane's columns follow.
/// Counted when the rollouts change, not on every frame.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DataWidths {
    /// The longest name and namespace, in characters.
    pub name: usize,
    pub namespace: usize,
    /// Some name is used in two namespaces (of one context or two).
    pub names_repeat: bool,
    /// More than one kind of workload (Argo Rollouts, Flagger Canaries,
    /// Deployments) is in the fleet: the fleet shows each row's kind.
    pub kinds: bool,
}

impl DataWidths {
    fn of<'a>(rollouts: impl Iterator<Item = &'a Rollout>) -> DataWidths {
        let mut widths = DataWidths::default();
        let mut namespace_of: HashMap<&str, &str> = HashMap::new();
        let mut first_kind = None;
        for r in rollouts {
            widths.kinds |= *first_kind.get_or_insert(r.workload) != r.workload;
            let k = &r.key;
            widths.name = widths.name.max(k.name.chars().count());
            widths.namespace = widths.namespace.max(k.namespace.chars().count());
            if !widths.names_repeat {
                let first = *namespace_of.entry(&k.name).or_insert(&k.namespace);
                widths.names_repeat = first != k.namespace;
            }
        }
        widths
    }
}

impl Rows {
    pub fn widths(&self) -> DataWidths {
        self.widths
    }

    pub fn len(&self) -> usize {
        self.shown.len()
    }

    pub fn is_empty(&self) -> bool {
        self.shown.is_empty()
    }

    pub fn get(&self, row: usize) -> Option<&ObjectKey> {
        self.shown.get(row).map(|&i| &self.sorted[i])
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = &ObjectKey> + '_ {
        self.shown.iter().map(|&i| &self.sorted[i])
    }
}

/// What the kept order needs before the rows are shown again.
#[derive(Debug, Clone, Default)]
pub enum Reorder {
    #[default]
    Kept,
    /// These rollouts came, went or changed urgency: each is taken out and
    /// put back in its place (a search and a move, not a sort of all).
    Move(HashSet<ObjectKey>),
    /// Sort every rollout again (after a list, or many moves at once).
    All,
}

/// Beyond this many moves, one sort costs less than moving each.
const MOVES_AT_MOST: usize = 64;

impl Reorder {
    pub fn moved(&mut self, key: ObjectKey) {
        match self {
            Reorder::Kept => *self = Reorder::Move(HashSet::from([key])),
            Reorder::Move(keys) => {
                keys.insert(key);
                if keys.len() > MOVES_AT_MOST {
                    *self = Reorder::All;
                }
            }
            Reorder::All => {}
        }
    }

    pub fn all(&mut self) {
        *self = Reorder::All;
    }

    pub fn is_needed(&self) -> bool {
        !matches!(self, Reorder::Kept)
    }
}

/// How worrying a rollout is, knowing its verdict (see `model::rank`).
pub(super) fn urgency_rank(rollout: &Rollout, metrics: &Metrics) -> (Urgency, u8) {
    let verdict = match metrics.get(&rollout.key) {
        Some(Ok(report)) => Some(&report.verdict.outcome),
        _ => None,
    };
    rank(rollout, verdict)
}

type Metrics = HashMap<ObjectKey, Result<RolloutMetricsReport, String>>;

/// Where a rollout goes in the fleet: most urgent first, then by name,
/// namespace and context.
fn order<'a>(r: &'a Rollout, metrics: &Metrics) -> (Urgency, u8, &'a str, &'a str, &'a str) {
    let k = &r.key;
    let (urgency, worry) = urgency_rank(r, metrics);
    (urgency, worry, &k.name, &k.namespace, &k.context)
}

/// Bring the kept order up to date with the rollouts.
fn reorder(state: &mut State) {
    let metrics = &state.metrics;
    let order = |r| order(r, metrics);
    let reorder = std::mem::take(&mut state.reorder);
    if reorder.is_needed() {
        state.view.widths = DataWidths::of(state.rollouts.values().map(|r| &**r));
    }
    match reorder {
        Reorder::Kept => {}
        Reorder::All => {
            let mut all: Vec<&Rollout> = state.rollouts.values().map(|r| &**r).collect();
            all.sort_by_cached_key(|r| order(*r));
            state.view.sorted = all.into_iter().map(|r| r.key.clone()).collect();
        }
        Reorder::Move(keys) => {
            let sorted = &mut state.view.sorted;
            sorted.retain(|k| !keys.contains(k));
            for key in keys {
                let Some(rollout) = state.rollouts.get(&key) else {
                    continue;
                };
                let place = order(rollout);
                let at = sorted
                    .partition_point(|k| state.rollouts.get(k).is_some_and(|r| order(r) < place));
                sorted.insert(at, key);
            }
        }
    }
}

/// Rebuild the rows and the phase counts; keep the cursor on the rollout
/// it was on when that rollout is still shown.
pub(super) fn rebuild(state: &mut State) {
    reorder(state);
    let mut counts = [0; 5];
    for rollout in state.rollouts.values() {
        if in_scope(state, &rollout.key)
            && let Some(i) = Phase::ALL.iter().position(|p| *p == rollout.phase)
        {
            counts[i] += 1;
        }
    }
    let shown = (0..state.view.sorted.len())
        .filter(|&i| {
            let key = &state.view.sorted[i];
            in_scope(state, key) && key_matches(key, &state.filter)
        })
        .collect();
    state.view.shown = shown;
    state.phase_counts = counts;
    state.view_dirty = false;
    // Until a person moves it, the cursor is on the most urgent rollout
    // (the lists of several contexts arrive one after another); after, it
    // stays on its rollout as rows move.
    let found = state
        .selected
        .as_ref()
        .filter(|_| state.cursor_moved)
        .and_then(|sel| state.view.iter().position(|k| k == sel));
    match found {
        Some(i) => state.cursor = i,
        None if !state.cursor_moved => select(state, 0),
        None => select(state, state.cursor),
    }
}

/// Put the cursor on row `index` (clamped), and that row's rollout under it.
pub(super) fn select(state: &mut State, index: usize) {
    let last = state.view.len().saturating_sub(1);
    let index = index.min(last);
    if state.view.get(state.cursor) != state.view.get(index) {
        state.detail_scroll = 0;
    }
    state.cursor = index;
    state.selected = state.view.get(index).cloned();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substring_match_ignores_case() {
        assert!(contains_ignore_case("sim-prod-EU", "eu"));
        assert!(contains_ignore_case("checkout", "CHECK"));
        assert!(!contains_ignore_case("search", "checkout"));
        assert!(contains_ignore_case("Zürich", "zü"));
    }
}
