//! `update` without a terminal: navigation, filtering, sorting, live/stale.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::testing::{press, state_of, typed};
use super::*;
use crate::cluster::{Access, Change, ClusterEvent, Kind};
use crate::model::testing::{at, canary, replica_set, rollout};
use crate::model::{ObjectKey, Phase, Rollout};

fn state() -> State {
    let mut s = state_of(&["eu", "us"], &["eu", "us", "staging"], 120, 40);
    // As a 120x40 frame reports it: 28 fleet rows.
    update(
        &mut s,
        Event::Drawn(Viewport {
            fleet_rows: 28,
            ..Viewport::default()
        }),
    );
    s
}

fn relist(state: &mut State, context: &str, items: Vec<Rollout>) {
    update(
        state,
        Event::Cluster(ClusterEvent::Rollout(Change::Relisted {
            context: context.into(),
            namespace: None,
            items,
        })),
    );
    settle(state);
}

/// The fleet on eu, and a checkout of the same name on us.
fn fleet_and_a_us_checkout() -> State {
    let mut s = state();
    relist(&mut s, "eu", fleet());
    relist(
        &mut s,
        "us",
        vec![rollout("us", "shop", "checkout", Phase::Healthy)],
    );
    s
}

fn names(state: &State) -> Vec<&str> {
    state.view.iter().map(|k| k.name.as_str()).collect()
}

fn fleet() -> Vec<Rollout> {
    vec![
        rollout("eu", "shop", "cart", Phase::Healthy),
        canary("eu", "shop", "checkout", Phase::Degraded, 2),
        canary("eu", "search", "search", Phase::Progressing, 2),
        canary("eu", "payments", "ledger", Phase::Paused, 1),
        canary("eu", "payments", "fraud", Phase::Paused, 3),
        rollout("eu", "platform", "auth", Phase::Healthy),
        canary("eu", "shop", "basket", Phase::Aborted, 2),
    ]
}

#[test]
fn rows_sort_by_urgency_then_name() {
    let mut s = state();
    relist(&mut s, "eu", fleet());
    // Failing first (aborted counts as failing), then the pause that waits
    // for a person, then the moving ones (a timed pause moves by itself).
    assert_eq!(
        names(&s),
        [
            "basket", "checkout", "ledger", "fraud", "search", "auth", "cart"
        ]
    );
    assert_eq!(s.phase_counts, [1, 1, 2, 1, 2]);
    assert_eq!(s.selected.as_ref().unwrap().name, "basket");
}

#[test]
fn the_cursor_stays_on_its_rollout_when_rows_move() {
    let mut s = state();
    relist(&mut s, "eu", fleet());
    press(&mut s, KeyCode::Char('G'));
    assert_eq!(s.selected.as_ref().unwrap().name, "cart");
    // `search` starts failing: it moves to the top; the cursor stays on cart.
    let failing = canary("eu", "search", "search", Phase::Degraded, 2);
    update(
        &mut s,
        Event::Cluster(ClusterEvent::Rollout(Change::Applied(Box::new(failing)))),
    );
    settle(&mut s);
    assert_eq!(names(&s)[..3], ["basket", "checkout", "search"]);
    assert_eq!(s.selected.as_ref().unwrap().name, "cart");
    assert_eq!(s.cursor, 6);
    // The selected rollout is deleted: the cursor stays at its row index.
    let gone = ObjectKey::new("eu", "shop", "cart");
    update(
        &mut s,
        Event::Cluster(ClusterEvent::Rollout(Change::Deleted(gone))),
    );
    settle(&mut s);
    assert_eq!(s.cursor, 5);
    assert_eq!(s.selected.as_ref().unwrap().name, "auth");
}

/// The lists of several contexts arrive one after another: until a person
/// moves it, the cursor stays on the top row (an immediate `a` must hit the
/// most urgent rollout, not the one that was first before the next list).
#[test]
fn the_cursor_starts_on_the_top_row_while_contexts_list() {
    let mut s = state();
    relist(
        &mut s,
        "eu",
        vec![rollout("eu", "shop", "cart", Phase::Healthy)],
    );
    assert_eq!(s.selected.as_ref().unwrap().name, "cart");
    relist(
        &mut s,
        "us",
        fleet()
            .into_iter()
            .map(|mut r| {
                r.key.context = "us".into();
                r
            })
            .collect(),
    );
    assert_eq!(
        (s.cursor, s.selected.as_ref().unwrap().name.as_str()),
        (0, "basket")
    );
    // Once a person has moved it, it follows its rollout.
    press(&mut s, KeyCode::Char('j'));
    let chosen = s.selected.clone();
    relist(
        &mut s,
        "eu",
        vec![canary("eu", "shop", "a-stuck", Phase::Degraded, 1)],
    );
    assert_eq!(s.selected, chosen);
    assert_eq!(s.cursor, 2);
}

#[test]
fn navigation_keys_move_and_clamp() {
    let mut s = state();
    relist(&mut s, "eu", fleet());
    press(&mut s, KeyCode::Char('k'));
    assert_eq!(s.cursor, 0);
    press(&mut s, KeyCode::Char('j'));
    press(&mut s, KeyCode::Down);
    assert_eq!(s.cursor, 2);
    press(&mut s, KeyCode::PageDown);
    assert_eq!(s.cursor, 6);
    press(&mut s, KeyCode::Char('g'));
    assert_eq!(s.cursor, 0);
    press(&mut s, KeyCode::End);
    assert_eq!(s.selected.as_ref().unwrap().name, "cart");
    // With the rollout pane focused, j/k scroll it instead (within its text).
    update(
        &mut s,
        Event::Drawn(Viewport {
            fleet_rows: 28,
            detail_lines: 30,
            detail_rows: 12,
            ..Viewport::default()
        }),
    );
    press(&mut s, KeyCode::Tab);
    assert_eq!(s.focus, Focus::Rollout);
    press(&mut s, KeyCode::Char('j'));
    assert_eq!((s.cursor, s.detail_scroll), (6, 1));
}

#[test]
fn scrolling_keeps_the_cursor_on_screen() {
    let mut s = state();
    update(
        &mut s,
        Event::Resize {
            width: 80,
            height: 24,
        },
    );
    let many = (0..40)
        .map(|i| rollout("eu", "shop", &format!("svc-{i:02}"), Phase::Healthy))
        .collect();
    relist(&mut s, "eu", many);
    // The frame says how many rows fit (7 at 80x24).
    let rows = 7;
    update(
        &mut s,
        Event::Drawn(Viewport {
            fleet_rows: rows,
            ..Viewport::default()
        }),
    );
    for _ in 0..10 {
        press(&mut s, KeyCode::Char('j'));
    }
    assert_eq!(s.cursor, 10);
    assert_eq!(s.offset, 10 + 1 - rows);
    press(&mut s, KeyCode::Char('G'));
    assert_eq!(s.offset, 40 - rows);
    press(&mut s, KeyCode::Char('g'));
    assert_eq!(s.offset, 0);
}

#[test]
fn filter_narrows_live_and_esc_clears_it() {
    let mut s = fleet_and_a_us_checkout();
    press(&mut s, KeyCode::Char('/'));
    assert_eq!(s.mode, Mode::Filter);
    typed(&mut s, "che");
    assert_eq!(names(&s), ["checkout", "checkout"]);
    typed(&mut s, "X");
    assert!(s.view.is_empty());
    assert_eq!(s.selected, None);
    press(&mut s, KeyCode::Backspace);
    assert_eq!(s.view.len(), 2);
    press(&mut s, KeyCode::Enter);
    assert_eq!((s.mode.clone(), s.filter.as_str()), (Mode::Normal, "che"));
    // In normal mode the keys are actions again, and esc clears the filter.
    press(&mut s, KeyCode::Char('j'));
    assert_eq!(s.selected.as_ref().unwrap().context, "us");
    press(&mut s, KeyCode::Esc);
    assert_eq!(s.view.len(), 8);
    assert_eq!(s.selected.as_ref().unwrap().context, "us");
    // A filter matches namespaces and contexts too.
    press(&mut s, KeyCode::Char('/'));
    typed(&mut s, "US");
    assert_eq!(names(&s), ["checkout"]);
    press(&mut s, KeyCode::Esc);
    assert_eq!((s.mode.clone(), s.view.len()), (Mode::Normal, 8));
}

#[test]
fn commands_scope_the_view_and_watch_new_contexts() {
    let mut s = fleet_and_a_us_checkout();
    press(&mut s, KeyCode::Char(':'));
    typed(&mut s, "ns shop");
    let out = press(&mut s, KeyCode::Enter);
    assert!(out.effects.is_empty());
    assert_eq!(names(&s), ["basket", "checkout", "cart", "checkout"]);
    press(&mut s, KeyCode::Char(':'));
    typed(&mut s, "ctx us");
    press(&mut s, KeyCode::Enter);
    assert_eq!(names(&s), ["checkout"]);
    assert_eq!(s.phase_counts.iter().sum::<usize>(), 1);
    // A context not yet watched is added to the watches.
    press(&mut s, KeyCode::Char(':'));
    typed(&mut s, "ctx staging");
    let out = press(&mut s, KeyCode::Enter);
    assert_eq!(
        out.effects,
        [Effect::Watch {
            contexts: vec!["eu".into(), "us".into(), "staging".into()],
            namespace: None
        }]
    );
    press(&mut s, KeyCode::Char(':'));
    typed(&mut s, "ctx mars");
    press(&mut s, KeyCode::Enter);
    assert!(matches!(s.flash(), Some(Flash::Error(e)) if e.contains("no context \"mars\"")));
    press(&mut s, KeyCode::Char(':'));
    typed(&mut s, "q");
    assert_eq!(press(&mut s, KeyCode::Enter).effects, [Effect::Quit]);
}

#[test]
fn a_namespace_outside_the_watches_moves_them() {
    let mut s = State::new(
        vec!["eu".into()],
        vec!["eu".into()],
        Some("shop".into()),
        Keymap::default_keys(),
        at(0),
    );
    press(&mut s, KeyCode::Char(':'));
    typed(&mut s, "ns payments");
    let out = press(&mut s, KeyCode::Enter);
    assert_eq!(
        out.effects,
        [Effect::Watch {
            contexts: vec!["eu".into()],
            namespace: Some("payments".into())
        }]
    );
}

/// The rollouts' watch going down makes the context stale; another kind's
/// (ReplicaSets forbidden to this user, say) does not: the rollouts are
/// still current, and the pane says what is missing.
#[test]
fn contexts_go_stale_and_come_back() {
    let mut s = state();
    let live = |k| {
        Event::Cluster(ClusterEvent::Live {
            context: "us".into(),
            kind: k,
        })
    };
    let down = |k, error: &str| {
        Event::Cluster(ClusterEvent::Down {
            context: "us".into(),
            kind: k,
            error: error.into(),
        })
    };
    update(&mut s, live(Kind::Rollout));
    assert!(s.health("us").unwrap().is_live());
    update(&mut s, Event::Tick(at(5)));
    update(
        &mut s,
        down(
            Kind::ReplicaSet,
            "RBAC: bob cannot list replicasets.apps in all namespaces",
        ),
    );
    let health = s.health("us").unwrap();
    assert!(health.is_live());
    assert_eq!(health.stale_since, None);
    assert_eq!(
        health.problem(Kind::ReplicaSet),
        Some("RBAC: bob cannot list replicasets.apps in all namespaces")
    );
    update(
        &mut s,
        down(Kind::Rollout, "unreachable: connection refused"),
    );
    let health = s.health("us").unwrap();
    assert!(!health.is_live());
    assert_eq!(health.error(), Some("unreachable: connection refused"));
    assert_eq!(health.stale_since, Some(at(5)));
    // A second failure keeps the first time the data went stale.
    update(&mut s, Event::Tick(at(9)));
    update(&mut s, down(Kind::Rollout, "timed out"));
    assert_eq!(s.health("us").unwrap().stale_since, Some(at(5)));
    update(&mut s, live(Kind::ReplicaSet));
    assert!(!s.health("us").unwrap().is_live());
    update(&mut s, live(Kind::Rollout));
    let health = s.health("us").unwrap();
    assert!(health.is_live());
    assert_eq!(health.stale_since, None);
}

#[test]
fn ticks_redraw_only_when_the_clock_shows_a_change() {
    let mut s = state();
    let shown = |next: i64| {
        Event::Drawn(Viewport {
            next_change: Some(at(next)),
            ..Viewport::default()
        })
    };
    // The frame showed "2h": it next changes at 3h.
    update(&mut s, shown(3600));
    assert!(!update(&mut s, Event::Tick(at(2))).redraw);
    assert!(!update(&mut s, Event::Tick(at(3599))).redraw);
    assert!(update(&mut s, Event::Tick(at(3600))).redraw);
    // Nothing on screen moves with the clock: ticks never draw.
    update(&mut s, Event::Drawn(Viewport::default()));
    assert!(!update(&mut s, Event::Tick(at(100_000))).redraw);
}

/// The rollout pane scrolls to its last line and no further; the fleet's
/// offset follows a smaller frame.
#[test]
fn scrolling_stops_at_the_end_of_what_the_frame_showed() {
    let mut s = state();
    relist(&mut s, "eu", fleet());
    press(&mut s, KeyCode::Tab);
    update(
        &mut s,
        Event::Drawn(Viewport {
            fleet_rows: 5,
            detail_lines: 30,
            detail_rows: 12,
            ..Viewport::default()
        }),
    );
    for _ in 0..40 {
        press(&mut s, KeyCode::Char('j'));
    }
    assert_eq!(s.detail_scroll, 18);
    press(&mut s, KeyCode::Char('k'));
    assert_eq!(s.detail_scroll, 17);
    // A frame with more room clamps the scroll and asks to draw again.
    let again = update(
        &mut s,
        Event::Drawn(Viewport {
            fleet_rows: 5,
            detail_lines: 30,
            detail_rows: 20,
            ..Viewport::default()
        }),
    );
    assert!(again.redraw);
    assert_eq!(s.detail_scroll, 10);
}

#[test]
fn replica_sets_group_under_their_rollout() {
    let mut s = state();
    let owner = canary("eu", "shop", "checkout", Phase::Progressing, 2);
    relist(&mut s, "eu", vec![owner.clone()]);
    let stable = replica_set(&owner, "aaa", 1, 3);
    let canary_rs = replica_set(&owner, "bbb", 2, 1);
    let mut orphan = replica_set(&owner, "ccc", 1, 1);
    orphan.owner = None;
    update(
        &mut s,
        Event::Cluster(ClusterEvent::ReplicaSet(Change::Relisted {
            context: "eu".into(),
            namespace: None,
            items: vec![stable.clone(), canary_rs.clone(), orphan],
        })),
    );
    assert_eq!(s.replica_sets_of(&owner.key).len(), 2);
    update(
        &mut s,
        Event::Cluster(ClusterEvent::ReplicaSet(Change::Deleted(
            stable.key.clone(),
        ))),
    );
    assert_eq!(s.replica_sets_of(&owner.key), [canary_rs]);
}

#[test]
fn quit_and_help() {
    let mut s = state();
    press(&mut s, KeyCode::Char('?'));
    assert_eq!(s.mode, Mode::Help(0));
    // Any key closes help, and does nothing else.
    assert!(press(&mut s, KeyCode::Char('q')).effects.is_empty());
    assert_eq!(s.mode, Mode::Normal);
    assert_eq!(press(&mut s, KeyCode::Char('q')).effects, [Effect::Quit]);
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    s.mode = Mode::Filter;
    assert_eq!(update(&mut s, Event::Key(ctrl_c)).effects, [Effect::Quit]);
    assert_eq!(update(&mut s, Event::Terminate).effects, [Effect::Quit]);
}

fn acting_state() -> (State, ObjectKey) {
    let mut s = state();
    let checkout = canary("eu", "shop", "checkout", Phase::Paused, 2);
    let target = checkout.key.clone();
    relist(
        &mut s,
        "eu",
        vec![
            checkout.clone(),
            rollout("eu", "shop", "cart", Phase::Healthy),
        ],
    );
    update(
        &mut s,
        Event::Cluster(ClusterEvent::ReplicaSet(Change::Relisted {
            context: "eu".into(),
            namespace: None,
            items: vec![
                replica_set(&checkout, "checkout-stable", 1, 5),
                replica_set(&checkout, "checkout-canary", 2, 5),
            ],
        })),
    );
    settle(&mut s);
    assert_eq!(s.selected.as_ref(), Some(&target));
    (s, target)
}

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
        reason: None,
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
            result: Ok(Access {
                patch_rollouts: true,
                patch_status: true,
                reason: None,
            }),
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

#[test]
fn rows_follow_rollouts_that_come_change_and_go() {
    let mut s = state();
    relist(&mut s, "eu", fleet());
    let apply = |s: &mut State, r: Rollout| {
        update(
            s,
            Event::Cluster(ClusterEvent::Rollout(Change::Applied(Box::new(r)))),
        );
        settle(s);
    };
    // A change that moves no row keeps them as they were.
    let mut cart = rollout("eu", "shop", "cart", Phase::Healthy);
    cart.replicas.ready = 1;
    apply(&mut s, cart);
    assert_eq!(
        names(&s),
        [
            "basket", "checkout", "ledger", "fraud", "search", "auth", "cart"
        ]
    );
    // A new rollout takes its place; a deleted one leaves.
    apply(&mut s, rollout("us", "shop", "api", Phase::Degraded));
    update(
        &mut s,
        Event::Cluster(ClusterEvent::Rollout(Change::Deleted(ObjectKey::new(
            "eu", "shop", "checkout",
        )))),
    );
    settle(&mut s);
    assert_eq!(
        names(&s),
        ["api", "basket", "ledger", "fraud", "search", "auth", "cart"]
    );
    assert_eq!(s.phase_counts, [1, 1, 2, 1, 2]);
    // The filter narrows and widens the same order.
    press(&mut s, KeyCode::Char('/'));
    typed(&mut s, "shop");
    assert_eq!(names(&s), ["api", "basket", "cart"]);
    for _ in 0..3 {
        press(&mut s, KeyCode::Backspace);
    }
    assert_eq!(
        names(&s),
        ["api", "basket", "ledger", "fraud", "search", "cart"]
    );
}

/// The kept order, mended a rollout at a time (or sorted again after many
/// changes), is always the order a full sort gives.
#[test]
fn the_mended_order_is_the_sorted_order() {
    let mut s = state();
    relist(&mut s, "eu", fleet());
    let mut rng = fastrand::Rng::with_seed(6);
    for round in 0..200 {
        // Now and then a burst, more than are moved one at a time.
        let changes = if round % 25 == 0 {
            100
        } else {
            rng.usize(1..4)
        };
        for _ in 0..changes {
            let (context, name) = (
                ["eu", "us"][rng.usize(..2)],
                format!("svc-{}", rng.u8(..30)),
            );
            let change = if rng.u8(..5) == 0 {
                Change::Deleted(ObjectKey::new(context, "shop", &name))
            } else {
                let phase = Phase::ALL[rng.usize(..Phase::ALL.len())];
                let mut r = canary(context, "shop", &name, phase, rng.usize(..4));
                r.paused_by_user = rng.bool();
                Change::Applied(Box::new(r))
            };
            update(&mut s, Event::Cluster(ClusterEvent::Rollout(change)));
        }
        settle(&mut s);
        let mut expected: Vec<&Rollout> = s.rollouts.values().map(|r| &**r).collect();
        expected.sort_by_key(|r| (r.urgency(), &r.key.name, &r.key.namespace, &r.key.context));
        let expected: Vec<&ObjectKey> = expected.iter().map(|r| &r.key).collect();
        assert_eq!(s.view.iter().collect::<Vec<_>>(), expected, "round {round}");
    }
}

fn report(outcome: crate::model::Outcome) -> crate::metrics::RolloutMetricsReport {
    crate::metrics::RolloutMetricsReport {
        metrics: Vec::new(),
        rps: None,
        verdict: crate::model::Verdict {
            outcome,
            score: None,
            metrics: Vec::new(),
            deciding: Vec::new(),
        },
    }
}

/// A paused canary with 40% errors comes right after what is Degraded or
/// aborted, above a waiting blue-green and a passing canary, and goes back
/// when its verdict does; MARGINAL comes before PASS.
#[test]
fn a_failing_verdict_moves_its_canary_up_to_the_failing_ones() {
    use crate::metrics::MetricsUpdate;
    use crate::model::Outcome;
    let mut s = state();
    s.metrics_source = Some("test".into());
    // Step 1 of the test canary is a `pause: {}`: it waits for a person.
    let mut all = vec![
        canary("eu", "shop", "a-waiting", Phase::Paused, 1),
        canary("eu", "shop", "z-stuck", Phase::Degraded, 0),
    ];
    for name in ["m-checkout", "m-marginal", "m-pass"] {
        all.push(canary("eu", "shop", name, Phase::Progressing, 2));
    }
    relist(&mut s, "eu", all);
    assert_eq!(
        names(&s),
        ["z-stuck", "a-waiting", "m-checkout", "m-marginal", "m-pass"]
    );
    let verdict = |s: &mut State, name: &str, outcome| {
        let key = ObjectKey::new("eu", "shop", name);
        update(
            s,
            Event::Metrics(MetricsUpdate {
                key,
                report: Ok(report(outcome)),
            }),
        );
        settle(s);
    };
    verdict(&mut s, "m-pass", Outcome::Pass);
    verdict(&mut s, "m-marginal", Outcome::Marginal);
    verdict(&mut s, "m-checkout", Outcome::Fail);
    assert_eq!(
        names(&s),
        ["z-stuck", "m-checkout", "a-waiting", "m-marginal", "m-pass"]
    );
    verdict(&mut s, "m-checkout", Outcome::Pass);
    assert_eq!(
        names(&s),
        ["z-stuck", "a-waiting", "m-marginal", "m-checkout", "m-pass"]
    );
}

/// A message gives the key hints back after a few seconds, and every one
/// is kept for `:messages`, which scrolls within what the frame showed.
#[test]
fn messages_leave_the_footer_and_stay_in_messages() {
    let mut s = state();
    relist(&mut s, "eu", fleet());
    typed(&mut s, ":ctx mars");
    press(&mut s, KeyCode::Enter);
    assert!(matches!(s.flash(), Some(Flash::Error(e)) if e.contains("mars")));
    update(&mut s, Event::Tick(at(4)));
    assert!(s.flash().is_some());
    assert!(update(&mut s, Event::Tick(at(5))).redraw);
    assert_eq!(s.flash(), None);
    typed(&mut s, ":messages");
    press(&mut s, KeyCode::Enter);
    assert!(matches!(s.mode, Mode::Messages(_)));
    assert_eq!(s.messages.len(), 1);
    // The frame says the overlay holds 30 lines, 10 at a time.
    let shown = Viewport {
        overlay_lines: 30,
        overlay_rows: 10,
        ..s.viewport
    };
    update(&mut s, Event::Drawn(shown));
    assert_eq!(s.mode, Mode::Messages(20));
    press(&mut s, KeyCode::Char('g'));
    press(&mut s, KeyCode::PageDown);
    assert_eq!(s.mode, Mode::Messages(10));
    press(&mut s, KeyCode::Char('x'));
    assert_eq!(s.mode, Mode::Normal);
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
    s.policy.production_contexts = vec![target.context.clone()];
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
