//! Flagger Canaries in the app: a relist of one kind keeps the other's rows, the offers
//! follow Flagger's calls (no retry, undo, restart or promote --full; abort only through
//! a rollback gate), and an action goes out as an `Act` with the Canary as it was seen.
use crossterm::event::KeyCode;

use super::super::testing::press;
use super::*;
use crate::app::Action;
use crate::model::testing::flagger_canary;
use crate::model::{FlaggerPhase, RolloutAction, Workload};

fn canaries(state: &mut State, items: Vec<Rollout>) {
    update(
        state,
        Event::Cluster(ClusterEvent::Canary(Change::Relisted {
            context: "eu".into(),
            namespace: None,
            items,
        })),
    );
    settle(state);
}

fn podinfo_eu(phase: FlaggerPhase, weight: u32) -> Rollout {
    let mut c = flagger_canary(phase, weight);
    c.key = ObjectKey::of(Workload::FlaggerCanary, "eu", "test", "podinfo");
    c
}

#[test]
fn a_relist_of_one_kind_keeps_the_other_kinds_rows() {
    let mut s = state();
    relist(&mut s, "eu", fleet());
    canaries(&mut s, vec![podinfo_eu(FlaggerPhase::Progressing, 20)]);
    assert_eq!(s.view.len(), 8);
    // Argo's list again: the Canary stays.
    relist(&mut s, "eu", fleet());
    assert!(names(&s).contains(&"podinfo"));
    // The Canaries' list again, empty: the rollouts stay.
    canaries(&mut s, Vec::new());
    assert_eq!(s.view.len(), 7);
    assert!(!names(&s).contains(&"podinfo"));
    assert!(!s.view.widths().kinds);
}

fn offered(s: &State) -> Vec<(RolloutAction, Result<(), String>)> {
    s.offers
        .iter()
        .map(|o| (o.rollout_action, o.allowed.clone()))
        .collect()
}

#[test]
fn a_canarys_offers_are_flaggers_calls() {
    let mut s = state();
    canaries(&mut s, vec![podinfo_eu(FlaggerPhase::Progressing, 20)]);
    let offers = offered(&s);
    let allowed = |a: RolloutAction| offers.iter().find(|(x, _)| *x == a).unwrap().1.clone();
    assert_eq!(allowed(RolloutAction::Promote), Ok(()));
    assert_eq!(allowed(RolloutAction::Abort), Ok(()));
    assert_eq!(allowed(RolloutAction::Pause), Ok(()));
    assert!(
        allowed(RolloutAction::PromoteFull)
            .unwrap_err()
            .contains("Flagger has no promote --full")
    );
    assert!(
        allowed(RolloutAction::Retry)
            .unwrap_err()
            .starts_with("retry: Flagger retries")
    );
    assert!(
        allowed(RolloutAction::Restart)
            .unwrap_err()
            .contains("kubectl rollout restart")
    );
    // Suspended: space resumes.
    let mut suspended = podinfo_eu(FlaggerPhase::Progressing, 20);
    suspended.paused_by_user = true;
    suspended.flagger.as_mut().unwrap().suspended = true;
    canaries(&mut s, vec![suspended]);
    let space = s
        .offers
        .iter()
        .find(|o| o.action == Action::PauseResume)
        .unwrap();
    assert_eq!(
        (space.rollout_action, space.allowed.clone()),
        (RolloutAction::Resume, Ok(()))
    );
    // Succeeded: nothing to promote or abort.
    canaries(&mut s, vec![podinfo_eu(FlaggerPhase::Succeeded, 0)]);
    let offers = offered(&s);
    let refused = |a: RolloutAction| offers.iter().find(|(x, _)| *x == a).unwrap().1.is_err();
    assert!(refused(RolloutAction::Promote) && refused(RolloutAction::Abort));
}

#[test]
fn abort_of_a_canary_goes_out_as_an_act_on_the_canary() {
    let mut s = state();
    canaries(&mut s, vec![podinfo_eu(FlaggerPhase::Progressing, 20)]);
    press(&mut s, KeyCode::Char('a'));
    let Mode::Confirm(confirm) = &s.mode else {
        panic!("a confirm dialog: {:?}", s.mode)
    };
    assert_eq!(confirm.radius.new_version_share(), (20, 0));
    assert!(
        confirm
            .warnings
            .iter()
            .any(|w| w.contains("opens the rollback gate")),
        "{:?}",
        confirm.warnings
    );
    let out = press(&mut s, KeyCode::Enter);
    let [Effect::Act { action, before, .. }] = out.effects.as_slice() else {
        panic!("one Act effect: {:?}", out.effects)
    };
    assert_eq!(*action, RolloutAction::Abort);
    assert_eq!(before.workload, Workload::FlaggerCanary);
}

#[test]
fn a_rollout_and_a_canary_of_one_name_are_two_rows_that_act_apart() {
    let mut s = state();
    relist(
        &mut s,
        "eu",
        vec![crate::model::testing::rollout(
            "eu",
            "test",
            "podinfo",
            crate::model::Phase::Healthy,
        )],
    );
    canaries(&mut s, vec![podinfo_eu(FlaggerPhase::Progressing, 20)]);
    let kinds = |s: &State| -> Vec<Workload> {
        s.view
            .iter()
            .filter_map(|k| s.rollouts.get(k))
            .map(|r| r.workload)
            .collect()
    };
    assert_eq!(names(&s), ["podinfo", "podinfo"]);
    assert_eq!(kinds(&s), [Workload::FlaggerCanary, Workload::ArgoRollout]);
    // The canary (more urgent, first) aborted: the Rollout is not the one acted on.
    press(&mut s, KeyCode::Char('a'));
    let out = press(&mut s, KeyCode::Enter);
    let [Effect::Act { key, before, .. }] = out.effects.as_slice() else {
        panic!("one Act effect: {:?}", out.effects)
    };
    assert_eq!(before.workload, Workload::FlaggerCanary);
    assert_eq!(s.rollouts[key].workload, Workload::FlaggerCanary);
    assert_eq!(s.actions.len(), 1);
    // The Canaries' list again, empty: the Rollout of that name stays.
    canaries(&mut s, Vec::new());
    assert_eq!(kinds(&s), [Workload::ArgoRollout]);
}
