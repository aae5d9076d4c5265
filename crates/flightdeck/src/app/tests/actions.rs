//! Acting from the keys: dialogs with the blast radius, refusals with the reason, RBAC.
use crossterm::event::KeyCode;

use super::super::testing::{press, typed};
use super::*;
use crate::app::*;
use crate::cluster::{Access, Change, ClusterEvent};
use crate::model::Phase;
use crate::model::testing::{at, canary};

#[test]
fn abort_asks_with_the_blast_radius_then_sends_and_waits_for_the_watch() {
    use crate::model::RolloutAction;
    let (mut s, target) = acting_state();
    let out = press(&mut s, KeyCode::Char('a'));
    assert!(out.effects.is_empty(), "nothing is sent before confirming");
    let Mode::Confirm(confirm) = &s.mode else {
        panic!("a confirm dialog: {:?}", s.mode)
    };
    assert_eq!(confirm.radius.new_version_share(), (50, 0));
    assert_eq!(confirm.typed, None);
    let out = press(&mut s, KeyCode::Enter);
    let [
        Effect::Act {
            key: sent,
            action: RolloutAction::Abort,
            before,
            typed_name: None,
        },
    ] = out.effects.as_slice()
    else {
        panic!("one Act effect: {:?}", out.effects)
    };
    assert_eq!((sent, before.phase), (&target, Phase::Paused));
    assert!(matches!(
        s.actions.get(&target),
        Some(ActionState::Pending {
            acknowledged: false,
            ..
        })
    ));
    // A second abort while the first is in flight is refused with the reason.
    press(&mut s, KeyCode::Char('a'));
    assert_eq!(s.mode, Mode::Normal);
    assert!(matches!(s.flash(), Some(Flash::Error(e)) if e == "abort is still in flight"));
    // The API server accepts; the row stays pending until the watch shows it.
    update(
        &mut s,
        Event::ActionSent {
            key: target.clone(),
            action: RolloutAction::Abort,
            result: Ok("sent".into()),
        },
    );
    assert!(matches!(
        s.actions.get(&target),
        Some(ActionState::Pending {
            acknowledged: true,
            ..
        })
    ));
    let mut aborted = canary("eu", "shop", "checkout", Phase::Aborted, 2);
    aborted.aborted = true;
    update(
        &mut s,
        Event::Cluster(ClusterEvent::Rollout(Change::Applied(Box::new(aborted)))),
    );
    assert_eq!(s.actions.get(&target), None);
    assert!(matches!(s.flash(), Some(Flash::Info(m)) if m == "abort checkout: done"));
}

#[test]
fn a_failed_action_says_why_in_the_row_and_the_flash() {
    use crate::model::RolloutAction;
    let (mut s, target) = acting_state();
    press(&mut s, KeyCode::Char('p'));
    press(&mut s, KeyCode::Char('y'));
    let error = "RBAC: user dev cannot patch rollouts/status in namespace shop".to_string();
    update(
        &mut s,
        Event::ActionSent {
            key: target.clone(),
            action: RolloutAction::Promote,
            result: Err(error.clone()),
        },
    );
    assert_eq!(
        s.actions.get(&target),
        Some(&ActionState::Failed {
            action: RolloutAction::Promote,
            error: error.clone()
        })
    );
    assert!(matches!(s.flash(), Some(Flash::Error(e)) if e.ends_with(&error)));
}

#[test]
fn pause_goes_at_once_and_esc_cancels_a_confirm() {
    use crate::model::RolloutAction;
    let (mut s, target) = acting_state();
    press(&mut s, KeyCode::Char('j'));
    assert_eq!(s.selected.as_ref().unwrap().name, "cart");
    let out = press(&mut s, KeyCode::Char(' '));
    assert!(matches!(
        out.effects.as_slice(),
        [Effect::Act {
            action: RolloutAction::Pause,
            ..
        }]
    ));
    press(&mut s, KeyCode::Char('k'));
    assert_eq!(s.selected.as_ref(), Some(&target));
    press(&mut s, KeyCode::Char('R'));
    assert!(matches!(s.mode, Mode::Confirm(_)));
    let out = press(&mut s, KeyCode::Esc);
    assert!(out.effects.is_empty());
    assert_eq!(
        (s.mode.clone(), s.actions.get(&target)),
        (Mode::Normal, None)
    );
}

#[test]
fn keys_that_do_not_apply_are_refused_with_the_reason() {
    let (mut s, _) = acting_state();
    let out = press(&mut s, KeyCode::Char('r'));
    assert!(out.effects.is_empty());
    assert_eq!(s.mode, Mode::Normal);
    assert!(
        matches!(s.flash(), Some(Flash::Error(e)) if e == "retry: the rollout is not aborted (retry restarts an aborted rollout)")
    );
    // RBAC lets this user patch rollouts but not their status: the keys
    // that patch the status are refused, pause (a spec patch) is not.
    let status_denied = Access {
        patch_rollouts: true,
        patch_status: false,
        ..Access::everything()
    };
    update(
        &mut s,
        Event::Access {
            context: "eu".into(),
            namespace: "shop".into(),
            user: "dev".into(),
            result: Ok(status_denied),
        },
    );
    press(&mut s, KeyCode::Char('a'));
    assert!(
        matches!(s.flash(), Some(Flash::Error(e)) if e == "abort: RBAC: user dev cannot patch rollouts/status in namespace shop")
    );
    let rollout = s.selected_rollout().unwrap();
    assert!(super::offer::check(&s, rollout, crate::model::RolloutAction::Restart).is_ok());
    // Read-only contexts send nothing.
    let (mut s, _) = acting_state();
    s.policy.readonly_contexts = vec!["eu".into()];
    press(&mut s, KeyCode::Char('a'));
    assert!(matches!(s.flash(), Some(Flash::Error(e)) if e.starts_with("read-only")));
}

#[test]
fn production_makes_you_type_the_name_for_abort() {
    let (mut s, target) = acting_state();
    s.policy.production_contexts = vec!["eu".into()];
    press(&mut s, KeyCode::Char('a'));
    assert!(matches!(&s.mode, Mode::Confirm(c) if c.typed == Some(String::new())));
    // `y` is text here, not a yes.
    typed(&mut s, "y");
    let out = press(&mut s, KeyCode::Enter);
    assert!(out.effects.is_empty());
    assert!(matches!(s.flash(), Some(Flash::Error(e)) if e == "type \"checkout\" to confirm"));
    press(&mut s, KeyCode::Backspace);
    typed(&mut s, "checkout");
    let out = press(&mut s, KeyCode::Enter);
    assert!(matches!(out.effects.as_slice(), [Effect::Act { key: k, .. }] if *k == target));
    // Promote (not a typed action) still takes one key there.
    let (mut s, _) = acting_state();
    s.policy.production_contexts = vec!["eu".into()];
    press(&mut s, KeyCode::Char('p'));
    assert!(matches!(&s.mode, Mode::Confirm(c) if c.typed.is_none()));
}

#[test]
fn undo_picks_a_revision_first() {
    use crate::model::RolloutAction;
    let (mut s, _) = acting_state();
    press(&mut s, KeyCode::Char('u'));
    let Mode::Undo(picker) = &s.mode else {
        panic!("the revision picker: {:?}", s.mode)
    };
    // The rollout is at revision 2: revision 1 (stable) is the choice.
    assert_eq!(
        picker
            .choices
            .iter()
            .map(|c| (c.revision, c.stable))
            .collect::<Vec<_>>(),
        [(1, true)]
    );
    press(&mut s, KeyCode::Enter);
    let Mode::Confirm(confirm) = &s.mode else {
        panic!("confirm: {:?}", s.mode)
    };
    assert_eq!(confirm.action, RolloutAction::Undo { revision: Some(1) });
    // Undoing to the stable revision sends the canary's traffic back at once.
    assert_eq!(confirm.radius.new_version_share().1, 0);
}

#[test]
fn the_selection_asks_for_rbac_once_per_namespace() {
    let (mut s, _) = acting_state();
    // `acting_state` settled once: the check for eu/shop is under way.
    assert_eq!(
        s.access.get(&("eu".into(), "shop".into())),
        Some(&AccessState::Checking)
    );
    assert!(settle(&mut s).is_empty());
    update(
        &mut s,
        Event::Access {
            context: "eu".into(),
            namespace: "shop".into(),
            user: "dev".into(),
            result: Ok(Access::everything()),
        },
    );
    press(&mut s, KeyCode::Char('j'));
    assert!(settle(&mut s).is_empty(), "same namespace: no new check");
    // After five minutes the answer is old and asked again.
    update(&mut s, Event::Tick(at(301)));
    assert_eq!(
        settle(&mut s),
        [Effect::CheckAccess {
            context: "eu".into(),
            namespace: "shop".into()
        }]
    );
}

/// The confirm dialog's keys come from `[confirm]`: a remapped yes sends,
/// and where the name must be typed, `y` and `n` are letters of it.
#[test]
fn confirm_keys_follow_the_keymap_and_a_typed_name_takes_every_letter() {
    let (mut s, _) = acting_state();
    s.keymap = Keymap::parse(
        "[confirm]\nyes = [\"enter\", \"o\"]\n",
        Some(&Keymap::default_keys()),
    )
    .unwrap();
    press(&mut s, KeyCode::Char('a'));
    assert!(matches!(s.mode, Mode::Confirm(_)));
    assert!(press(&mut s, KeyCode::Char('y')).effects.is_empty());
    assert!(
        matches!(s.mode, Mode::Confirm(_)),
        "y is not bound any more"
    );
    let out = press(&mut s, KeyCode::Char('o'));
    assert!(matches!(out.effects.as_slice(), [Effect::Act { .. }]));

    let (mut s, target) = acting_state();
    s.policy.production_contexts = vec![target.context.to_string()];
    press(&mut s, KeyCode::Char('a'));
    typed(&mut s, "checkout");
    let Mode::Confirm(confirm) = &s.mode else {
        panic!("{:?}", s.mode)
    };
    assert_eq!(confirm.typed.as_deref(), Some("checkout"));
    typed(&mut s, "yn");
    press(&mut s, KeyCode::Backspace);
    press(&mut s, KeyCode::Backspace);
    let out = press(&mut s, KeyCode::Enter);
    assert!(
        matches!(out.effects.as_slice(), [Effect::Act { typed_name: Some(n), .. }] if n == "checkout"),
        "{:?}",
        out.effects
    );
}

/// A dialog left open while the rollout moves on says so, and its yes sends nothing: an
/// abort confirmed after someone else finished the rollout would otherwise go out.
#[test]
fn a_dialog_whose_action_no_longer_applies_sends_nothing() {
    let (mut s, target) = acting_state();
    press(&mut s, KeyCode::Char('a'));
    assert!(matches!(&s.mode, Mode::Confirm(c) if c.allowed.is_ok()));
    let abort = s.offers.iter().find(|o| o.action == Action::Abort).unwrap();
    assert!(abort.allowed.is_ok(), "{abort:?}");
    // Promoted to the end by someone else while the dialog was open.
    let mut done = canary("eu", "shop", "checkout", Phase::Healthy, 2);
    done.current_step = Some(done.steps.len());
    done.stable_hash = done.current_hash.clone();
    done.pause_conditions.clear();
    update(
        &mut s,
        Event::Cluster(ClusterEvent::Rollout(Change::Applied(Box::new(done)))),
    );
    settle(&mut s);
    let Mode::Confirm(confirm) = &s.mode else {
        panic!("the dialog stays open: {:?}", s.mode)
    };
    let reason = confirm.allowed.clone().unwrap_err();
    assert!(reason.starts_with("abort"), "{reason}");
    let out = press(&mut s, KeyCode::Enter);
    assert!(out.effects.is_empty(), "{:?}", out.effects);
    assert_eq!(s.mode, Mode::Normal);
    assert!(matches!(s.flash(), Some(Flash::Error(e)) if *e == format!("not sent: {reason}")));
    assert!(!s.actions.contains_key(&target));
    // The footer's offers followed the same change.
    let abort = s.offers.iter().find(|o| o.action == Action::Abort).unwrap();
    assert_eq!(abort.allowed, Err(reason));
}
