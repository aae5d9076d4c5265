//! The fleet pane's rows: the rollouts in scope that match the filter,
//! most urgent first.

use super::State;
use crate::model::{ObjectKey, Phase, Rollout};

/// Case-insensitive substring of the name, namespace or context.
pub fn matches_filter(rollout: &Rollout, filter: &str) -> bool {
    let key = &rollout.key;
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
    state
        .context_scope
        .as_ref()
        .is_none_or(|c| *c == key.context)
        && state
            .namespace_scope
            .as_ref()
            .is_none_or(|n| *n == key.namespace)
}

/// Rebuild the rows and the phase counts; keep the cursor on the rollout
/// it was on when that rollout is still shown.
pub(super) fn rebuild(state: &mut State) {
    let mut counts = [0; 5];
    let mut rows: Vec<&Rollout> = Vec::with_capacity(state.rollouts.len());
    for rollout in state.rollouts.values() {
        if !in_scope(state, &rollout.key) {
            continue;
        }
        if let Some(i) = Phase::ALL.iter().position(|p| *p == rollout.phase) {
            counts[i] += 1;
        }
        if matches_filter(rollout, &state.filter) {
            rows.push(rollout);
        }
    }
    rows.sort_unstable_by(|a, b| {
        (a.urgency(), &a.key.name, &a.key.namespace, &a.key.context).cmp(&(
            b.urgency(),
            &b.key.name,
            &b.key.namespace,
            &b.key.context,
        ))
    });
    state.view = rows.into_iter().map(|r| r.key.clone()).collect();
    state.phase_counts = counts;
    state.view_dirty = false;
    let found = state
        .selected
        .as_ref()
        .and_then(|sel| state.view.iter().position(|k| k == sel));
    match found {
        Some(i) => state.cursor = i,
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
