//! Acting on a rollout: from the key, through the confirm dialog with the
//! blast radius, to the effect the watch shows (or the failure).

use crossterm::event::KeyEvent;

use super::keymap::KeyMode;
use super::keys::typed_char;
use super::offer::{check, rollout_action, still_applies, undo_choices};
use super::state::{AccessState, ActionState, Confirm, UndoPicker};
use super::update::Reaction;
use super::{Action, Effect, Flash, Mode, State};
use crate::cluster::Access;
use crate::model::Outcome as VerdictOutcome;
use crate::model::{
    BlastRadius, ObjectKey, Rollout, RolloutAction, blast_radius, interned, unusual,
};

/// How long an RBAC answer is trusted.
const ACCESS_TTL_SECONDS: i64 = 300;

/// An action key in the normal mode.
pub(super) fn on_action_key(state: &mut State, action: Action) -> Reaction {
    let Some(rollout) = state.selected_rollout() else {
        return flash(state, Flash::Error("no rollout selected".into()));
    };
    let Some(rollout_action) = rollout_action(action, rollout) else {
        return Reaction::default();
    };
    if let Err(reason) = check(state, rollout, rollout_action) {
        return flash(state, Flash::Error(reason));
    }
    // The revision to go back to is chosen (for a Deployment, `kubectl rollout undo
    // --to-revision`); a Deployment whose ReplicaSets are not seen goes to the previous
    // one, as `kubectl rollout undo` does (its ReplicaSets are read when it is sent).
    let choices = undo_choices(state, rollout);
    let unseen = choices.is_empty() && rollout.workload == crate::model::Workload::Deployment;
    if let RolloutAction::Undo { .. } = rollout_action
        && !unseen
    {
        state.mode = Mode::Undo(UndoPicker {
            key: rollout.key.clone(),
            choices,
            cursor: 0,
        });
        return Reaction::redraw();
    }
    let key = rollout.key.clone();
    ask_or_send(state, key, rollout_action)
}

/// Pause goes at once; everything else asks first, with the blast radius.
fn ask_or_send(state: &mut State, key: ObjectKey, action: RolloutAction) -> Reaction {
    if !state.rollouts.contains_key(&key) {
        return flash(state, Flash::Error(format!("{} is gone", key.name)));
    }
    if !action.needs_confirmation() {
        return send(state, key, action, None);
    }
    let (radius, warnings) = preview(state, &key, action);
    let typed = (state.policy.production(&key.context) && action.needs_typed_confirmation())
        .then(String::new);
    let allowed = still_applies(state, &key, action);
    state.mode = Mode::Confirm(Confirm {
        key,
        action,
        radius,
        warnings,
        typed,
        allowed,
    });
    Reaction::redraw()
}

/// The blast radius of `action` on the rollout as it is now, and what a
/// person should know before confirming it.
fn preview(state: &State, key: &ObjectKey, action: RolloutAction) -> (BlastRadius, Vec<String>) {
    let Some(rollout) = state.rollouts.get(key) else {
        let gone = BlastRadius {
            versions: Vec::new(),
            moved_percent: 0,
            moved_rps: None,
            basis: crate::model::TrafficBasis::Replicas,
            pods_replaced: 0,
            note: Some("the rollout is gone"),
            rolling: None,
        };
        return (
            gone,
            vec![format!("{} is gone from {}", key.name, key.context)],
        );
    };
    let report = state.report(key);
    let radius = blast_radius(
        rollout,
        state.replica_sets_of(key),
        action,
        report.and_then(|r| r.rps),
    );
    let mut warnings: Vec<String> = unusual(rollout, action).into_iter().collect();
    let promotes = matches!(action, RolloutAction::Promote | RolloutAction::PromoteFull);
    if let Some(verdict) = report.map(|r| &r.verdict)
        && promotes
    {
        match verdict.outcome {
            VerdictOutcome::Fail => warnings.push(format!("the canary is failing: {verdict}")),
            VerdictOutcome::Marginal => warnings.push(format!("the canary is marginal: {verdict}")),
            VerdictOutcome::NoData => {
                warnings.push(format!("no verdict to go by: {verdict}"));
            }
            _ => {}
        }
    }
    if let Some(health) = state.health(&key.context)
        && let Some(since) = health.stale_since
    {
        warnings.push(format!(
            "data from {} is {} old ({}): the rollout may have moved since",
            key.context,
            crate::model::short_age(state.now.as_second() - since.as_second()),
            health.error().unwrap_or("its watch is down"),
        ));
    }
    (radius, warnings)
}

/// Keep an open dialog's blast radius and warnings current: the rollout
/// moves, the metrics change and contexts go stale while a person reads.
pub(super) fn refresh_confirm(state: &mut State) {
    let Mode::Confirm(confirm) = &state.mode else {
        return;
    };
    let (radius, warnings) = preview(state, &confirm.key, confirm.action);
    if let Mode::Confirm(confirm) = &mut state.mode {
        confirm.radius = radius;
        confirm.warnings = warnings;
    }
}

fn send(
    state: &mut State,
    key: ObjectKey,
    action: RolloutAction,
    typed_name: Option<String>,
) -> Reaction {
    let Some(rollout) = state.rollouts.get(&key) else {
        return flash(state, Flash::Error(format!("{} is gone", key.name)));
    };
    let before = rollout.clone();
    state.actions.insert(
        key.clone(),
        ActionState::Pending {
            action,
            since: state.now,
            acknowledged: false,
            before: before.clone(),
        },
    );
    state.say(Flash::Info(format!("{action} {}: sending…", key.name)));
    Reaction {
        redraw: true,
        effects: vec![Effect::Act {
            key,
            action,
            before,
            typed_name,
        }],
    }
}

pub(super) fn on_confirm_key(state: &mut State, key: KeyEvent, mut confirm: Confirm) -> Reaction {
    let mut action = state.keymap.action(KeyMode::Confirm, &key);
    // Typing the name, characters are the name: `y` and `n` too.
    if confirm.typed.is_some() && typed_char(&key).is_some() {
        action = None;
    }
    match (action, confirm.typed.as_mut()) {
        (Some(Action::No), _) => {
            state.mode = Mode::Normal;
            return flash(state, Flash::Info(format!("{}: cancelled", confirm.action)));
        }
        (Some(Action::Yes), _) if confirm.allowed.is_err() => {
            state.mode = Mode::Normal;
            let reason = confirm.allowed.err().unwrap_or_default();
            return flash(state, Flash::Error(format!("not sent: {reason}")));
        }
        (Some(Action::Yes), Some(typed)) if *typed != confirm.key.name => {
            return flash(
                state,
                Flash::Error(format!("type {:?} to confirm", confirm.key.name)),
            );
        }
        (Some(Action::Yes), _) => {
            state.mode = Mode::Normal;
            return send(state, confirm.key, confirm.action, confirm.typed);
        }
        (Some(Action::DeleteChar), Some(typed)) => {
            typed.pop();
        }
        (None, Some(typed)) => match typed_char(&key) {
            Some(c) => typed.push(c),
            None => return Reaction::default(),
        },
        _ => return Reaction::default(),
    }
    state.mode = Mode::Confirm(confirm);
    Reaction::redraw()
}

pub(super) fn on_undo_key(state: &mut State, key: KeyEvent, mut picker: UndoPicker) -> Reaction {
    match state.keymap.action(KeyMode::Undo, &key) {
        Some(Action::Cancel) => {
            state.mode = Mode::Normal;
            return Reaction::redraw();
        }
        Some(Action::Down) => {
            picker.cursor = (picker.cursor + 1).min(picker.choices.len().saturating_sub(1));
        }
        Some(Action::Up) => picker.cursor = picker.cursor.saturating_sub(1),
        Some(Action::Choose) => {
            state.mode = Mode::Normal;
            let Some(choice) = picker.choices.get(picker.cursor) else {
                return Reaction::redraw();
            };
            let action = RolloutAction::Undo {
                revision: Some(choice.revision),
            };
            return ask_or_send(state, picker.key, action);
        }
        _ => return Reaction::default(),
    }
    state.mode = Mode::Undo(picker);
    Reaction::redraw()
}

/// The API server answered: a failure ends the action here; success leaves
/// it pending until the watch shows the effect.
pub(super) fn on_sent(
    state: &mut State,
    key: ObjectKey,
    action: RolloutAction,
    result: Result<String, String>,
) -> Reaction {
    match result {
        Err(error) => {
            state.say(Flash::Error(format!("{action} {}: {error}", key.name)));
            state
                .actions
                .insert(key, ActionState::Failed { action, error });
        }
        Ok(_) => {
            if let Some(ActionState::Pending { acknowledged, .. }) = state.actions.get_mut(&key) {
                *acknowledged = true;
            }
            observe(state, &key);
        }
    }
    Reaction::redraw()
}

/// Whether the rollout now shows what `action` asked for.
fn effect_seen(action: RolloutAction, before: &Rollout, now: &Rollout) -> bool {
    let moved = now.current_step != before.current_step
        || now.phase != before.phase
        || now.pause_conditions != before.pause_conditions;
    match action {
        RolloutAction::Abort => now.aborted,
        RolloutAction::Retry => !now.aborted,
        RolloutAction::Pause => now.paused_by_user,
        RolloutAction::Resume => !now.paused_by_user,
        RolloutAction::Promote => moved,
        RolloutAction::PromoteFull => moved || now.current_hash == now.stable_hash,
        RolloutAction::Undo { .. } if now.workload == crate::model::Workload::Deployment => {
            now.generation != before.generation
        }
        RolloutAction::Undo { .. } => now.current_hash != before.current_hash,
        RolloutAction::Restart => now.generation != before.generation,
    }
}

/// A rollout changed: settle its pending action if the change shows it.
pub(super) fn observe(state: &mut State, key: &ObjectKey) {
    let Some(ActionState::Pending {
        action,
        acknowledged: true,
        before,
        ..
    }) = state.actions.get(key)
    else {
        return;
    };
    let Some(now) = state.rollouts.get(key) else {
        return;
    };
    if effect_seen(*action, before, now) {
        let done = format!("{action} {}: done", key.name);
        state.actions.remove(key);
        state.say(Flash::Info(done));
    }
}

pub(super) fn on_access(
    state: &mut State,
    context: String,
    namespace: String,
    user: String,
    result: Result<Access, String>,
) {
    // Could not ask: do not block the keys (the API server will judge), and
    // do not ask again before an answer would have expired.
    let access = result.ok();
    state.access.insert(
        (interned(&context), interned(&namespace)),
        AccessState::Known {
            at: state.now,
            user,
            access,
        },
    );
}

/// Ask about RBAC for the selected rollout's namespace when the answer is
/// missing or old.
pub(super) fn access_effects(state: &mut State) -> Vec<Effect> {
    let Some(key) = state.selected.clone() else {
        return Vec::new();
    };
    if state.policy.readonly(&key.context) {
        return Vec::new();
    }
    let slot = (key.context.clone(), key.namespace.clone());
    let fresh = match state.access.get(&slot) {
        Some(AccessState::Checking) => true,
        Some(AccessState::Known { at, .. }) => {
            state.now.as_second() - at.as_second() < ACCESS_TTL_SECONDS
        }
        None => false,
    };
    if fresh {
        return Vec::new();
    }
    state.access.insert(slot, AccessState::Checking);
    vec![Effect::CheckAccess {
        context: key.context.to_string(),
        namespace: key.namespace.to_string(),
    }]
}

fn flash(state: &mut State, message: Flash) -> Reaction {
    state.say(message);
    Reaction::redraw()
}
