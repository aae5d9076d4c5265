//! Deployments in the app: plain ones are rows, those a Canary or a Rollout owns are not
//! (and give their owner its pods), whatever order the lists come in; undo goes to the
//! previous revision without a picker, as `kubectl rollout undo` does.
use crossterm::event::KeyCode;

use super::super::testing::press;
use super::*;
use crate::model::testing::{deployment_replica_set, flagger_canary};
use crate::model::{FlaggerPhase, RolloutAction, Workload};

fn deployment(name: &str, desired: u32) -> Rollout {
    crate::model::testing::deployment("eu", "test", name, 4, desired)
}

fn deployments(state: &mut State, items: Vec<Rollout>) {
    update(
        state,
        Event::Cluster(ClusterEvent::Deployment(Change::Relisted {
            context: "eu".into(),
            namespace: None,
            items,
        })),
    );
    settle(state);
}

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

fn podinfo() -> Rollout {
    flagger_canary(FlaggerPhase::Progressing, 20)
}

#[test]
fn a_canarys_deployments_show_under_it_in_either_order() {
    let listed = || {
        vec![
            deployment("podinfo", 1),
            deployment("podinfo-primary", 4),
            deployment("web", 2),
        ]
    };
    for canary_first in [true, false] {
        let mut s = state();
        if canary_first {
            canaries(&mut s, vec![podinfo()]);
            deployments(&mut s, listed());
        } else {
            deployments(&mut s, listed());
            assert_eq!(names(&s).len(), 3, "all plain until the Canary comes");
            canaries(&mut s, vec![podinfo()]);
        }
        let mut shown = names(&s);
        shown.sort();
        assert_eq!(shown, ["podinfo", "web"], "canary first: {canary_first}");
        let row = &s.rollouts[&ObjectKey::of(Workload::FlaggerCanary, "eu", "test", "podinfo")];
        assert_eq!(row.workload, Workload::FlaggerCanary);
        assert_eq!((row.replicas.desired, row.replicas.updated), (4, 1));
        assert_eq!(*row.images, ["podinfo:v4"]);
        assert!(s.view.widths().kinds);
    }
    // The Canary gone: its Deployments are plain again.
    let mut s = state();
    canaries(&mut s, vec![podinfo()]);
    deployments(&mut s, listed());
    canaries(&mut s, Vec::new());
    assert_eq!(names(&s).len(), 3);
}

#[test]
fn undo_of_a_deployment_picks_a_revision_of_its_replica_sets() {
    let mut s = state();
    let web = deployment("web", 2);
    deployments(&mut s, vec![web.clone()]);
    let sets: Vec<_> = [(1, 0), (3, 0), (4, 2)]
        .map(|(revision, pods)| deployment_replica_set(&web, revision, pods))
        .into();
    update(
        &mut s,
        Event::Cluster(ClusterEvent::DeploymentReplicaSet(Change::Relisted {
            context: "eu".into(),
            namespace: None,
            items: sets,
        })),
    );
    settle(&mut s);
    press(&mut s, KeyCode::Char('u'));
    let Mode::Undo(picker) = &s.mode else {
        panic!("the revision picker: {:?}", s.mode)
    };
    let listed: Vec<u64> = picker.choices.iter().map(|c| c.revision).collect();
    assert_eq!(
        listed,
        [3, 1],
        "every revision but the current one, newest first"
    );
    press(&mut s, KeyCode::Char('j'));
    press(&mut s, KeyCode::Enter);
    let Mode::Confirm(confirm) = &s.mode else {
        panic!("a confirm dialog: {:?}", s.mode)
    };
    assert_eq!(confirm.action, RolloutAction::Undo { revision: Some(1) });
    assert_eq!(confirm.allowed, Ok(()));
    // The blast radius: both pods move from revision 4 to 1, within the surge.
    let moves: Vec<_> = confirm
        .radius
        .versions
        .iter()
        .map(|v| (v.revision, v.pods_before, v.pods_after))
        .collect();
    assert_eq!(moves, [(Some(4), 2, 0), (Some(1), 0, 2)]);
    assert!(confirm.radius.rolling.is_some());
    let out = press(&mut s, KeyCode::Enter);
    let [Effect::Act { action, .. }] = out.effects.as_slice() else {
        panic!("one Act effect: {:?}", out.effects)
    };
    assert_eq!(*action, RolloutAction::Undo { revision: Some(1) });
    // An Argo ReplicaSet list leaves the Deployment's history alone.
    update(
        &mut s,
        Event::Cluster(ClusterEvent::ReplicaSet(Change::Relisted {
            context: "eu".into(),
            namespace: None,
            items: Vec::new(),
        })),
    );
    assert_eq!(s.replica_sets_of(&web.key).len(), 3);
}

#[test]
fn undo_of_a_deployment_without_its_replica_sets_seen_goes_to_the_previous_revision() {
    let mut s = state();
    deployments(&mut s, vec![deployment("web", 2)]);
    press(&mut s, KeyCode::Char('u'));
    let Mode::Confirm(confirm) = &s.mode else {
        panic!("a confirm dialog: {:?}", s.mode)
    };
    assert_eq!(confirm.action, RolloutAction::Undo { revision: None });
    assert_eq!(confirm.allowed, Ok(()));
    let first = deployment("web", 2);
    let mut only = first.clone();
    only.revision = Some(1);
    assert!(
        crate::model::availability(&only, RolloutAction::Undo { revision: None }, false)
            .unwrap_err()
            .contains("no previous revision")
    );
    assert!(crate::model::availability(&first, RolloutAction::Abort, false).is_err());
}
