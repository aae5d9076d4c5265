//! The fleet pane's state: rows, cursor, filter, scopes, contexts, verdicts, messages.
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::super::testing::{press, typed};
use super::*;
use crate::app::*;
use crate::cluster::{Change, ClusterEvent, Kind};
use crate::model::testing::{at, canary, replica_set, rollout};
use crate::model::{ObjectKey, Phase, Rollout};

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

/// A paused canary with 40% errors comes right after what is Degraded or
/// aborted, above a waiting blue-green and a passing canary, and goes back
/// when its verdict does; MARGINAL comes before PASS.
#[test]
fn a_failing_verdict_moves_its_canary_up_to_the_failing_ones() {
    use crate::metrics::MetricsUpdate;
    use crate::model::Outcome;
    let mut s = state();
    s.metrics_sources.default = Some("test".into());
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

/// A list arrives in parts: each part shows at once, and at the end of the list what
/// it did not show is gone (rollouts and the objects under them), in its scope only.
#[test]
fn a_list_in_parts_shows_as_it_comes_and_its_end_forgets_the_rest() {
    let mut s = state();
    let gone = canary("eu", "shop", "gone", Phase::Healthy, 0);
    let other = canary("us", "shop", "elsewhere", Phase::Healthy, 0);
    relist(&mut s, "eu", vec![gone.clone()]);
    relist(&mut s, "us", vec![other]);
    let stays = canary("eu", "shop", "first", Phase::Healthy, 0);
    let last = canary("eu", "shop", "last", Phase::Healthy, 0);
    let stale_rs = replica_set(&gone, "old", 1, 1);
    let kept_rs = replica_set(&stays, "aaa", 1, 3);
    let rs_part = |items| {
        Event::Cluster(ClusterEvent::ReplicaSet(Change::Listing {
            context: "eu".into(),
            namespace: None,
            items,
        }))
    };
    let rs_end = |items| {
        Event::Cluster(ClusterEvent::ReplicaSet(Change::Relisted {
            context: "eu".into(),
            namespace: None,
            items,
        }))
    };
    update(&mut s, rs_end(vec![stale_rs]));
    assert_eq!(s.replica_sets_of(&gone.key).len(), 1);
    // A relist of the ReplicaSets: a part, then its end.
    update(&mut s, rs_part(vec![kept_rs.clone()]));
    update(&mut s, rs_end(Vec::new()));
    update(
        &mut s,
        Event::Cluster(ClusterEvent::Rollout(Change::Listing {
            context: "eu".into(),
            namespace: None,
            items: vec![stays.clone()],
        })),
    );
    settle(&mut s);
    // The part is in the fleet before the list ends; nothing is gone yet.
    assert_eq!(names(&s), ["elsewhere", "first", "gone"]);
    relist(&mut s, "eu", vec![last]);
    assert_eq!(names(&s), ["elsewhere", "first", "last"]);
    assert_eq!(s.replica_sets_of(&stays.key), [kept_rs]);
    assert!(s.replica_sets_of(&gone.key).is_empty());
}
