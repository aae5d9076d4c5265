//! DORA in the app: deploys derived from what the watches show and sent to the ledger,
//! actions marking them, the ledger's answers, the strip's figures, the views' keys.

use crossterm::event::KeyCode;

use super::*;
use crate::app::testing::{press, typed};
use crate::dora::{Deploy, DeployId, Failure, Outcome};
use crate::model::RolloutAction;
use crate::model::testing::at;

fn applied_rollout(s: &mut State, r: Rollout) -> Reaction {
    update(
        s,
        Event::Cluster(ClusterEvent::Rollout(Change::Applied(Box::new(r)))),
    )
}

fn applied_set(s: &mut State, rs: crate::model::ReplicaSet) -> Reaction {
    update(
        s,
        Event::Cluster(ClusterEvent::ReplicaSet(Change::Applied(Box::new(rs)))),
    )
}

/// The facts a reaction sends to the ledger.
pub(super) fn recorded(reaction: &Reaction) -> Vec<Deploy> {
    reaction
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::Record(facts) => Some(facts.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

/// A canary at 20% on eu, its two ReplicaSets (a day apart) seen live.
fn live_canary() -> (State, Rollout) {
    let mut s = state();
    let r = canary("eu", "shop", "checkout", Phase::Progressing, 0);
    applied_rollout(&mut s, r.clone());
    let mut stable = replica_set(&r, "checkout-stable", 1, 8);
    stable.created = Some(at(-86_400)).into();
    applied_set(&mut s, stable);
    applied_set(&mut s, replica_set(&r, "checkout-canary", 2, 2));
    settle(&mut s);
    (s, r)
}

#[test]
fn what_the_watches_show_goes_to_the_ledger_once() {
    let mut s = state();
    let r = canary("eu", "shop", "checkout", Phase::Progressing, 0);
    assert!(
        recorded(&applied_rollout(&mut s, r.clone())).is_empty(),
        "no ReplicaSet yet"
    );
    let facts = recorded(&applied_set(
        &mut s,
        replica_set(&r, "checkout-stable", 1, 8),
    ));
    assert_eq!(facts.len(), 1);
    assert_eq!(facts[0].id.revision, 1);
    assert_eq!(facts[0].peak_weight, 100, "the stable version");
    let facts = recorded(&applied_set(
        &mut s,
        replica_set(&r, "checkout-canary", 2, 2),
    ));
    let canary_fact = facts.iter().find(|d| d.id.revision == 2).unwrap();
    assert_eq!(canary_fact.outcome(), Outcome::InProgress);
    assert_eq!(canary_fact.traffic.last().unwrap().weight, 20);
    // The same objects again: nothing new for the ledger.
    assert!(recorded(&applied_rollout(&mut s, r)).is_empty());
    assert_eq!(s.dora.history.len(), 2);
}

#[test]
fn an_abort_through_flightdeck_is_a_failure_with_who_did_it() {
    let (mut s, r) = live_canary();
    s.access.insert(
        ("eu".into(), "shop".into()),
        AccessState::Known {
            at: at(0),
            user: "alice".into(),
            access: None,
        },
    );
    let out = update(
        &mut s,
        Event::ActionSent {
            key: r.key.clone(),
            action: RolloutAction::Abort,
            result: Ok("status patch".into()),
        },
    );
    let facts = recorded(&out);
    assert_eq!(facts.len(), 1);
    assert_eq!(facts[0].id.revision, 2);
    assert_eq!(facts[0].failed().map(|(f, _)| f), Some(Failure::Aborted));
    assert_eq!(facts[0].actions()[0].user, "alice");
    // A failed call marks nothing.
    let out = update(
        &mut s,
        Event::ActionSent {
            key: r.key.clone(),
            action: RolloutAction::Undo { revision: None },
            result: Err("RBAC: no".into()),
        },
    );
    assert!(recorded(&out).is_empty());
}

#[test]
fn the_strip_counts_the_abort() {
    let (mut s, r) = live_canary();
    let before = s.dora.strip.clone().unwrap().fleet;
    assert_eq!((before.deploys, before.failed), (2, 0));
    update(
        &mut s,
        Event::ActionSent {
            key: r.key.clone(),
            action: RolloutAction::Abort,
            result: Ok("status patch".into()),
        },
    );
    // Figures are computed again at most every two seconds.
    update(&mut s, Event::Tick(at(5)));
    settle(&mut s);
    let after = s.dora.strip.clone().unwrap().fleet;
    assert_eq!(after.failed, 1);
    assert!(after.change_fail_rate > before.change_fail_rate);
    let selected = s.dora.strip.unwrap().selected.unwrap();
    assert_eq!(selected.0, r.key);
}

#[test]
fn a_list_is_history_read_from_the_objects_timestamps() {
    let mut s = state();
    let r = rollout("eu", "shop", "cart", Phase::Healthy);
    relist(&mut s, "eu", vec![r.clone()]);
    update(
        &mut s,
        Event::Cluster(ClusterEvent::ReplicaSet(Change::Relisted {
            context: "eu".into(),
            namespace: None,
            items: vec![
                replica_set(&r, "old", 1, 0),
                replica_set(&r, "cart-stable", 2, 4),
            ],
        })),
    );
    let list = s.dora.history.of(&r.key);
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].superseded(), Some(list[1].started));
    assert_eq!(
        list[0].started,
        replica_set(&r, "old", 1, 0).created.get().unwrap()
    );
    // Settled, but no condition says since when: no completion time is made up.
    assert_eq!(list[1].completed(), None);
}

#[test]
fn the_ledgers_deploys_join_and_its_trouble_is_kept_to_say() {
    let mut s = state();
    let id = DeployId {
        context: "eu".into(),
        namespace: "shop".into(),
        kind: Default::default(),
        name: "gone".into(),
        hash: "h1".into(),
        revision: 1,
    };
    update(
        &mut s,
        Event::Ledger(LedgerEvent::Opened {
            at: "/data/ledger.sqlite".into(),
            deploys: crate::dora::History::from_deploys([Deploy::new(id.clone(), at(-600))]),
        }),
    );
    assert!(
        s.dora.history.get(&id).is_some(),
        "a deploy the cluster has forgotten"
    );
    assert_eq!(
        s.dora.ledger,
        LedgerState::Ready("/data/ledger.sqlite".into())
    );
    update(
        &mut s,
        Event::Ledger(LedgerEvent::Unavailable(
            "cannot open the ledger at /x: corrupt".into(),
        )),
    );
    assert!(matches!(&s.dora.ledger, LedgerState::Unavailable(w) if w.contains("/x")));
}

#[test]
fn the_views_open_by_key_and_command_sort_change_window_and_go_to_the_rollout() {
    let (mut s, r) = live_canary();
    relist(
        &mut s,
        "eu",
        vec![
            canary("eu", "shop", "checkout", Phase::Progressing, 0),
            rollout("eu", "shop", "cart", Phase::Healthy),
        ],
    );
    press(&mut s, KeyCode::Char('D'));
    assert!(matches!(s.mode, Mode::Dora(_)));
    settle(&mut s);
    assert_eq!(s.dora.rows.len(), 1);
    press(&mut s, KeyCode::Char('s'));
    settle(&mut s);
    assert_eq!(s.dora.sort, 1);
    press(&mut s, KeyCode::Char('w'));
    assert_eq!(s.dora.window, crate::dora::Window::Quarter);
    press(&mut s, KeyCode::Esc);
    assert_eq!(s.mode, Mode::Normal);
    press(&mut s, KeyCode::Char(':'));
    typed(&mut s, "changes");
    press(&mut s, KeyCode::Enter);
    assert!(matches!(s.mode, Mode::Changes(_)));
    settle(&mut s);
    assert_eq!(s.dora.changes.len(), 2, "both revisions");
    assert_eq!(s.dora.changes[0].revision, 2, "newest first");
    press(&mut s, KeyCode::Enter);
    assert_eq!(s.mode, Mode::Normal);
    assert_eq!(s.selected.as_ref(), Some(&r.key));
    assert_eq!(s.focus, Focus::Rollout);
}

#[test]
fn each_verdict_transition_is_marked_on_the_deploy_it_judges() {
    use crate::model::Outcome as Verdict;
    let (mut s, r) = live_canary();
    // A metrics backend follows the canary.
    s.metrics_sources.default = Some("test".into());
    s.targets_dirty = true;
    settle(&mut s);
    let judged = |s: &mut State, outcome, second| {
        s.now = at(second);
        let update_of = crate::metrics::MetricsUpdate {
            key: r.key.clone(),
            report: Ok(super::report(outcome)),
        };
        recorded(&update(s, Event::Metrics(update_of)))
    };
    assert_eq!(judged(&mut s, Verdict::Pass, 10).len(), 1);
    assert!(
        judged(&mut s, Verdict::Pass, 20).is_empty(),
        "no transition"
    );
    assert_eq!(judged(&mut s, Verdict::Fail, 30).len(), 1);
    assert_eq!(judged(&mut s, Verdict::Pass, 40).len(), 1);
    let d = s.dora.history.of(&r.key).last().unwrap();
    let marks: Vec<(&str, jiff::Timestamp)> = d
        .verdicts()
        .iter()
        .map(|v| (v.outcome.as_str(), v.at))
        .collect();
    assert_eq!(
        marks,
        [("PASS", at(10)), ("FAIL", at(30)), ("PASS", at(40))]
    );
}
