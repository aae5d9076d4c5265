//! Which actions the selected rollout offers now, and why not where it does not: worked
//! out once per change in `settle`, read by the footer and the confirm dialog, and
//! checked again when a key is pressed.

use super::keymap::KeyMode;
use super::state::{AccessState, ActionState, Mode, RevisionChoice};
use super::{Action, State};
use crate::model::{ObjectKey, Rollout, RolloutAction, availability};

/// An action key the selected rollout offers, and whether it may be used now.
#[derive(Debug, Clone, PartialEq)]
pub struct Offer {
    pub action: Action,
    pub rollout_action: RolloutAction,
    /// The reason in plain words when the action may not be used now.
    pub allowed: Result<(), String>,
}

/// The action keys in the footer's order, so a key is always found in the same place.
const OFFERED: [Action; 7] = [
    Action::Promote,
    Action::PromoteFull,
    Action::PauseResume,
    Action::Abort,
    Action::Retry,
    Action::Undo,
    Action::Restart,
];

/// The offers of the selected rollout (none without one, or on a read-only context),
/// and an open dialog's verdict on its own action: both as the state is now.
pub(super) fn refresh(state: &mut State) {
    let offers = match state.selected_rollout() {
        Some(rollout) if !state.policy.readonly(&rollout.key.context) => OFFERED
            .iter()
            .filter(|a| !state.keymap.keys(KeyMode::Normal, **a).is_empty())
            .filter_map(|&action| {
                let rollout_action = rollout_action(action, rollout)?;
                Some(Offer {
                    action,
                    rollout_action,
                    allowed: check(state, rollout, rollout_action),
                })
            })
            .collect(),
        _ => Vec::new(),
    };
    state.offers = offers;
    let still = match &state.mode {
        Mode::Confirm(confirm) => Some(still_applies(state, &confirm.key, confirm.action)),
        _ => None,
    };
    if let (Mode::Confirm(confirm), Some(still)) = (&mut state.mode, still) {
        confirm.allowed = still;
    }
}

/// Whether an action a dialog asks about may still be sent: the rollout may have moved
/// on while a person read (a promote the controller has already made, an abort of a
/// rollout that has since finished).
pub(super) fn still_applies(
    state: &State,
    key: &ObjectKey,
    action: RolloutAction,
) -> Result<(), String> {
    let Some(rollout) = state.rollouts.get(key) else {
        return Err(format!("{} is gone from {}", key.name, key.context));
    };
    check(state, rollout, action)
}

/// The rollout action a key stands for on this rollout (`space` pauses or
/// resumes); `None` for keys that are not actions, and for undo, which
/// first asks which revision.
pub(super) fn rollout_action(action: Action, rollout: &Rollout) -> Option<RolloutAction> {
    Some(match action {
        Action::Promote => RolloutAction::Promote,
        Action::PromoteFull => RolloutAction::PromoteFull,
        Action::PauseResume if rollout.paused_by_user => RolloutAction::Resume,
        Action::PauseResume => RolloutAction::Pause,
        Action::Abort => RolloutAction::Abort,
        Action::Retry => RolloutAction::Retry,
        Action::Undo => RolloutAction::Undo { revision: None },
        Action::Restart => RolloutAction::Restart,
        _ => return None,
    })
}

/// Whether the key for `action` may be used on `rollout` now; the reason
/// in plain words when not (shown in the footer and when pressed).
pub(super) fn check(state: &State, rollout: &Rollout, action: RolloutAction) -> Result<(), String> {
    let key = &rollout.key;
    if state.policy.readonly(&key.context) {
        return Err(format!("read-only: no actions are sent to {}", key.context));
    }
    if let Some(problem) = &state.audit_unwritable {
        return Err(format!(
            "{}: not sent: the audit trail cannot be written: {problem}",
            action.verb()
        ));
    }
    if let Some(AccessState::Known {
        access: Some(access),
        user,
        ..
    }) = state
        .access
        .get(&(key.context.clone(), key.namespace.clone()))
    {
        access
            .check(action, rollout, user)
            .map_err(|e| format!("{}: {e}", action.verb()))?;
    }
    if let Some(ActionState::Pending { action: sent, .. }) = state.actions.get(key) {
        return Err(format!("{} is still in flight", sent.verb()));
    }
    availability(rollout, action, !undo_choices(state, rollout).is_empty())
}

/// The revisions one can undo to: every ReplicaSet's revision but the
/// rollout's own, newest first.
pub(super) fn undo_choices(state: &State, rollout: &Rollout) -> Vec<RevisionChoice> {
    let mut choices: Vec<RevisionChoice> = state
        .replica_sets_of(&rollout.key)
        .iter()
        .filter_map(|rs| {
            let revision = rs.revision?;
            (Some(revision) != rollout.revision).then(|| RevisionChoice {
                revision,
                image: rs.images.first().map(|i| i.to_string()).unwrap_or_default(),
                created: rs.created.get(),
                stable: rollout.stable_hash.as_deref() == Some(rs.hash.as_str()),
            })
        })
        .collect();
    choices.sort_by_key(|c| std::cmp::Reverse(c.revision));
    choices
}
