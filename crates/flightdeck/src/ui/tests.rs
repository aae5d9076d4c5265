//! Whole screens drawn into a `TestBackend` from a fixed fleet, at the
//! sizes people use: 80x24 over SSH, 120x40, and 200x60.

use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Modifier;

use super::{Theme, draw};
use crate::app::testing::{press, select, state_of, typed};
use crate::app::{Event, State, Viewport, settle, update};
use crate::cluster::{Change, ClusterEvent, Kind};
use crate::metrics::{MetricData, MetricInput, MetricSpec, Thresholds, judge};
use crate::metrics::{MetricState, MetricView, MetricsUpdate, RolloutMetricsReport};
use crate::model::Direction;
use crate::model::testing::{at, canary, replica_set, rollout};
use crate::model::{
    AnalysisMetric, AnalysisPhase, AnalysisRun, Condition, ObjectKey, Phase, Rollout, Strategy,
};

fn fleet_state(width: u16, height: u16) -> State {
    let contexts = ["sim-prod-eu", "sim-prod-us"];
    let mut state = state_of(&contexts, &contexts, width, height);
    let mut checkout = canary("sim-prod-eu", "shop", "checkout", Phase::Degraded, 2);
    checkout.message = "RolloutAborted: Rollout aborted update to revision 5".into();
    checkout.phase = Phase::Aborted;
    checkout.aborted = true;
    checkout.actual_weight = 0;
    checkout.revision = Some(5);
    checkout.conditions = vec![Condition {
        kind: "Progressing".into(),
        status: "False".into(),
        reason: "RolloutAborted".into(),
        message: "Rollout aborted update to revision 5".into(),
        since: Some(at(-30)),
    }];
    let search = canary("sim-prod-us", "search", "search", Phase::Paused, 1);
    let fraud = canary("sim-prod-eu", "payments", "fraud-check", Phase::Paused, 3);
    let mut preview = rollout("sim-prod-us", "shop", "storefront", Phase::Paused);
    preview.strategy = Strategy::BlueGreen;
    preview.active_selector = Some("sf-active".into());
    preview.preview_selector = Some("sf-preview".into());
    preview.stable_hash = Some("sf-active".into());
    preview.current_hash = Some("sf-preview".into());
    preview.message = "BlueGreenPause".into();
    let mut rollouts = vec![checkout.clone(), search, fraud, preview.clone()];
    for (i, name) in ["cart", "auth", "ledger", "inventory", "reviews", "pricing"]
        .iter()
        .enumerate()
    {
        let ctx = if i % 2 == 0 {
            "sim-prod-eu"
        } else {
            "sim-prod-us"
        };
        let ns = ["shop", "platform", "payments"][i % 3];
        rollouts.push(rollout(ctx, ns, name, Phase::Healthy));
    }
    rollouts.push(canary(
        "sim-prod-eu",
        "search",
        "recommendations",
        Phase::Progressing,
        2,
    ));
    for ctx in ["sim-prod-eu", "sim-prod-us"] {
        let items = rollouts
            .iter()
            .filter(|r| r.key.context == ctx)
            .cloned()
            .collect();
        listed_live(&mut state, ctx, items);
    }
    let mut sets = vec![
        replica_set(&checkout, "checkout-stable", 4, 4),
        replica_set(&checkout, "checkout-canary", 5, 0),
        replica_set(&preview, "sf-active", 7, 3),
        replica_set(&preview, "sf-preview", 8, 3),
    ];
    // Canaries without traffic routing get the share of their available pods.
    for r in rollouts
        .iter()
        .filter(|r| !r.steps.is_empty() && !r.aborted)
    {
        sets.push(replica_set(
            r,
            r.stable_hash.as_deref().unwrap(),
            1,
            10 - r.set_weight / 10,
        ));
        sets.push(replica_set(
            r,
            r.current_hash.as_deref().unwrap(),
            2,
            r.set_weight / 10,
        ));
    }
    sets[0].images = vec!["registry.example.com/shop/checkout:v2.4.0".into()];
    sets[1].images = vec!["registry.example.com/shop/checkout:v2.5.0".into()];
    for ctx in ["sim-prod-eu", "sim-prod-us"] {
        let items = sets
            .iter()
            .filter(|r| r.key.context == ctx)
            .cloned()
            .collect();
        update(
            &mut state,
            Event::Cluster(ClusterEvent::ReplicaSet(Change::Relisted {
                context: ctx.into(),
                namespace: None,
                items,
            })),
        );
    }
    let run = AnalysisRun {
        key: ObjectKey::new("sim-prod-eu", "shop", "checkout-checkout-canary-5"),
        owner: Some("checkout".into()),
        hash: Some("checkout-canary".into()),
        phase: AnalysisPhase::Failed,
        message: "Metric \"success-rate\" assessed Failed due to failed (3) > failureLimit (2)"
            .into(),
        metrics: vec![AnalysisMetric {
            name: "success-rate".into(),
            phase: AnalysisPhase::Failed,
            successful: 1,
            failed: 3,
            inconclusive: 0,
            errors: 0,
            values: vec![
                "[0.98]".into(),
                "[0.71]".into(),
                "[0.64]".into(),
                "[0.61]".into(),
            ],
        }],
        started: Some(at(-90)),
    };
    update(
        &mut state,
        Event::Cluster(ClusterEvent::AnalysisRun(Change::Applied(Box::new(run)))),
    );
    state.metrics_source = Some("simulated traffic".into());
    settle(&mut state);
    for (name, canary_errors, canary_latency) in [
        ("checkout", 380.0, 0.18),
        ("search", 2.0, 0.18),
        ("recommendations", 9.0, 1.1),
    ] {
        let key = state.view.iter().find(|k| k.name == name).unwrap().clone();
        let report = judged(canary_errors, canary_latency);
        update(
            &mut state,
            Event::Metrics(MetricsUpdate {
                key,
                report: Ok(report),
            }),
        );
    }
    let key = state
        .view
        .iter()
        .find(|k| k.name == "fraud-check")
        .unwrap()
        .clone();
    let down =
        Err("Prometheus at http://127.0.0.1:9090: unreachable: connection refused".to_string());
    update(
        &mut state,
        Event::Metrics(MetricsUpdate { key, report: down }),
    );
    settle(&mut state);
    state
}

/// A report judged from fixed figures: 1,000 requests a side, stable with 2
/// errors and a p99 near 180 ms.
fn judged(canary_errors: f64, canary_latency: f64) -> RolloutMetricsReport {
    let spec = |name: &str, unit: &str, critical| MetricSpec {
        name: name.into(),
        unit: unit.into(),
        direction: Direction::Lower,
        critical,
        group: name.into(),
        tolerance: None,
    };
    let wobble = |base: f64| {
        (0..30)
            .map(|i| base * (1.0 + 0.02 * ((i % 5) as f64 - 2.0)))
            .collect::<Vec<f64>>()
    };
    let inputs = [
        MetricInput {
            spec: spec("error rate", "errors/request", true),
            data: MetricData::Counts {
                canary_errors,
                canary_requests: 1000.0,
                baseline_errors: 2.0,
                baseline_requests: 1000.0,
            },
            data_rate: None,
        },
        MetricInput {
            spec: spec("latency p99", "s", false),
            data: MetricData::Samples {
                canary: wobble(canary_latency),
                baseline: wobble(0.18),
            },
            data_rate: None,
        },
    ];
    let verdict = judge(&inputs, &Default::default(), &Thresholds::default());
    let view = |input: &MetricInput, stable: f64, canary: f64| MetricView {
        name: input.spec.name.clone(),
        unit: input.spec.unit.clone(),
        direction: Direction::Lower,
        stable_now: Some(stable),
        canary_now: Some(canary),
        stable_trend: wobble(stable),
        canary_trend: wobble(canary),
        canary_worse: verdict.deciding.contains(&input.spec.name),
        state: MetricState::Ok,
    };
    RolloutMetricsReport {
        metrics: vec![
            view(&inputs[0], 0.002, canary_errors / 1000.0),
            view(&inputs[1], 0.18, canary_latency),
        ],
        rps: Some((992.0, 248.0)),
        verdict,
    }
}

/// `context`'s rollout watch lists `items` and is live.
fn listed_live(state: &mut State, context: &str, items: Vec<Rollout>) {
    update(
        state,
        Event::Cluster(ClusterEvent::Rollout(Change::Relisted {
            context: context.into(),
            namespace: None,
            items,
        })),
    );
    update(
        state,
        Event::Cluster(ClusterEvent::Live {
            context: context.into(),
            kind: Kind::Rollout,
        }),
    );
}

/// sim-prod-us's rollout watch fails at 3 s; the clock reads 15 s.
fn us_down_for_12s(state: &mut State) {
    update(state, Event::Tick(at(3)));
    update(
        state,
        Event::Cluster(ClusterEvent::Down {
            context: "sim-prod-us".into(),
            kind: Kind::Rollout,
            error: "unreachable: connection refused".into(),
        }),
    );
    update(state, Event::Tick(at(15)));
}

/// `/` and `text`, as typed.
fn filter(state: &mut State, text: &str) {
    typed(state, &format!("/{text}"));
}

/// The screen as the cockpit shows it: drawn, what the frame showed fed
/// back to `update` (which may scroll), and drawn again.
fn screen(state: &State) -> String {
    let (w, h) = state.size;
    let theme = Theme::builtin("default").unwrap();
    let mut state = state.clone();
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    let mut shown = Viewport::default();
    terminal.draw(|f| shown = draw(f, &state, &theme)).unwrap();
    update(&mut state, Event::Drawn(shown));
    let buffer = drawn(&state, &theme);
    (0..h)
        .map(|y| {
            (0..w)
                .map(|x| buffer[(x, y)].symbol())
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn fleet_at_80x24() {
    insta::assert_snapshot!(screen(&fleet_state(80, 24)));
}

#[test]
fn fleet_at_120x40() {
    insta::assert_snapshot!(screen(&fleet_state(120, 40)));
}

#[test]
fn fleet_at_200x60() {
    insta::assert_snapshot!(screen(&fleet_state(200, 60)));
}

#[test]
fn blue_green_selected_at_120x40() {
    let mut state = fleet_state(120, 40);
    select(&mut state, "storefront");
    insta::assert_snapshot!(screen(&state));
}

#[test]
fn a_stale_context_and_a_filter_at_120x40() {
    let mut state = fleet_state(120, 40);
    us_down_for_12s(&mut state);
    filter(&mut state, "sh");
    insta::assert_snapshot!(screen(&state));
}

#[test]
fn help_overlay_at_80x24() {
    let mut state = fleet_state(80, 24);
    press(&mut state, KeyCode::Char('?'));
    insta::assert_snapshot!(screen(&state));
}

#[test]
fn too_small() {
    let state = fleet_state(60, 20);
    insta::assert_snapshot!(screen(&state));
}

#[test]
fn abort_confirm_at_80x24() {
    let mut state = fleet_state(80, 24);
    select(&mut state, "search");
    press(&mut state, KeyCode::Char('a'));
    insta::assert_snapshot!(screen(&state));
}

#[test]
fn a_dialog_whose_action_no_longer_applies_says_so() {
    let mut state = fleet_state(120, 40);
    select(&mut state, "search");
    press(&mut state, KeyCode::Char('a'));
    assert!(!screen(&state).contains("no longer applies"));
    if let crate::app::Mode::Confirm(confirm) = &mut state.mode {
        confirm.allowed = Err("abort: nothing to abort".into());
    }
    let text = screen(&state);
    assert!(
        text.contains("✗ no longer applies: abort: nothing to abort;"),
        "{text}"
    );
}

#[test]
fn pending_and_failed_actions_show_on_their_rows_at_120x40() {
    use crate::model::RolloutAction;
    let mut state = fleet_state(120, 40);
    let key_of =
        |state: &State, name: &str| state.view.iter().find(|k| k.name == name).unwrap().clone();
    let search = key_of(&state, "search");
    let fraud = key_of(&state, "fraud-check");
    state.actions.insert(
        search.clone(),
        crate::app::ActionState::Pending {
            action: RolloutAction::Promote,
            since: at(0),
            acknowledged: true,
            before: state.rollouts[&search].clone(),
        },
    );
    update(
        &mut state,
        Event::ActionSent {
            key: fraud,
            action: RolloutAction::Abort,
            result: Err("RBAC: user dev cannot patch rollouts/status in namespace payments".into()),
        },
    );
    insta::assert_snapshot!(screen(&state));
}

/// The screen's cells, with their colours.
fn drawn(state: &State, theme: &Theme) -> Buffer {
    let (w, h) = state.size;
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal
        .draw(|f| {
            draw(f, state, theme);
        })
        .unwrap();
    terminal.backend().buffer().clone()
}

/// The column where `text` starts on row `y`.
fn column_of(buffer: &Buffer, y: u16, text: &str) -> u16 {
    let line: String = (0..buffer.area.width)
        .map(|x| buffer[(x, y)].symbol())
        .collect();
    line.find(text)
        .map(|i| line[..i].chars().count() as u16)
        .unwrap_or_else(|| panic!("no {text:?} on row {y}: {line}"))
}

/// The footer names every action; those that do not apply to the selected
/// rollout (the aborted checkout: abort) are dimmed, the others stand out.
#[test]
fn the_footer_dims_the_actions_that_do_not_apply() {
    let theme = Theme::builtin("default").unwrap();
    let buffer = drawn(&fleet_state(120, 40), &theme);
    let key = |text: &str| buffer[(column_of(&buffer, 39, text), 39)].clone();
    let abort = key("a abort");
    assert!(abort.modifier.contains(Modifier::DIM), "{abort:?}");
    assert_eq!(abort.fg, theme.muted);
    for applies in [
        "p promote",
        "P full",
        "␣ pause",
        "r retry",
        "u undo",
        "R restart",
    ] {
        let cell = key(applies);
        assert!(
            !cell.modifier.contains(Modifier::DIM),
            "{applies}: {cell:?}"
        );
        assert_eq!(cell.fg, theme.accent, "{applies}");
    }
}

/// Colour carries meaning the snapshots (text only) cannot show: the
/// selected row is highlighted across the pane, a phase and a failing
/// verdict keep their colours on it and off it.
#[test]
fn fleet_rows_carry_their_colours() {
    let theme = Theme::builtin("default").unwrap();
    let buffer = drawn(&fleet_state(120, 40), &theme);
    let row = |y: u16| (0..120).map(|x| &buffer[(x, y)]).collect::<Vec<_>>();
    let find = |y: u16, text: &str| column_of(&buffer, y, text);
    // Row 3 is the selected checkout (aborted, FAIL); row 4 is the failing
    // recommendations canary, row 6 search (paused at 20%).
    let fleet_width = 57;
    assert!(
        row(3)[1..fleet_width]
            .iter()
            .all(|c| c.bg == theme.selection_bg),
        "the selection covers the row"
    );
    assert!(
        row(4)[1..fleet_width]
            .iter()
            .all(|c| c.bg != theme.selection_bg)
    );
    let fail = &buffer[(find(3, "FAIL"), 3)];
    assert_eq!(fail.fg, theme.error);
    assert!(fail.modifier.contains(Modifier::BOLD));
    assert_eq!(buffer[(find(3, "⊘"), 3)].fg, theme.aborted);
    assert_eq!(buffer[(find(4, "FAIL"), 4)].fg, theme.error);
    assert_eq!(buffer[(find(6, "‖"), 6)].fg, theme.paused);
    assert_eq!(buffer[(find(6, "20%"), 6)].fg, theme.canary);
    assert_eq!(buffer[(find(2, "NAME"), 2)].fg, theme.muted);
}

/// A settled canary has one version, stable, with all the traffic (Argo
/// reports its actual weight as 100, which is not a canary's share).
#[test]
fn a_settled_canary_shows_all_traffic_on_stable() {
    let mut state = fleet_state(120, 40);
    let cart = state
        .view
        .iter()
        .find(|k| k.name == "cart")
        .unwrap()
        .clone();
    let set = replica_set(&state.rollouts[&cart], "cart-stable", 2, 4);
    update(
        &mut state,
        Event::Cluster(ClusterEvent::ReplicaSet(Change::Applied(Box::new(set)))),
    );
    filter(&mut state, "cart");
    settle(&mut state);
    let screen = screen(&state);
    let version = screen
        .lines()
        .find(|l| l.contains("stable ") && l.contains("cart-stabl"))
        .unwrap_or_else(|| panic!("no stable version line:\n{screen}"));
    assert!(
        version.trim_end_matches('│').trim_end().ends_with("100%"),
        "{version}"
    );
}

/// A settled blue-green (`activeSelector == previewSelector`): its one
/// version is active, with all the traffic, not a preview at 0%.
#[test]
fn a_settled_blue_green_shows_its_live_version_with_all_traffic() {
    let contexts = ["sim-prod-us"];
    let mut state = state_of(&contexts, &contexts, 120, 40);
    let mut ledger = rollout("sim-prod-us", "payments", "ledger", Phase::Healthy);
    ledger.strategy = Strategy::BlueGreen;
    ledger.stable_hash = Some("ledger-live".into());
    ledger.current_hash = Some("ledger-live".into());
    ledger.active_selector = Some("ledger-live".into());
    ledger.preview_selector = Some("ledger-live".into());
    let set = replica_set(&ledger, "ledger-live", 3, 4);
    listed_live(&mut state, "sim-prod-us", vec![ledger]);
    update(
        &mut state,
        Event::Cluster(ClusterEvent::ReplicaSet(Change::Applied(Box::new(set)))),
    );
    settle(&mut state);
    let screen = screen(&state);
    let version = screen
        .lines()
        .find(|l| l.contains("ledger-liv") && l.contains('%'))
        .unwrap_or_else(|| panic!("no version line:\n{screen}"));
    assert!(version.contains("active "), "{version}");
    assert!(
        version.trim_end_matches('│').trim_end().ends_with("100%"),
        "{version}"
    );
}

/// Ten contexts at 80 columns, one of them down: the ones up are counted,
/// and the one down and the counts per phase stay in view.
#[test]
fn many_contexts_fit_the_header_at_80_columns() {
    let contexts: Vec<String> = (1..=10).map(|i| format!("prod-{i:02}")).collect();
    let names: Vec<&str> = contexts.iter().map(String::as_str).collect();
    let mut state = state_of(&names, &names, 80, 24);
    for context in &names {
        listed_live(
            &mut state,
            context,
            vec![rollout(context, "shop", "cart", Phase::Healthy)],
        );
    }
    update(
        &mut state,
        Event::Cluster(ClusterEvent::Down {
            context: "prod-07".into(),
            kind: Kind::Rollout,
            error: "unreachable: connection refused".into(),
        }),
    );
    update(&mut state, Event::Tick(at(9)));
    settle(&mut state);
    let header = screen(&state).lines().next().unwrap().to_string();
    assert_eq!(
        header,
        " flightdeck · ●9 live ✖ prod-07 stale 9s · 10 rollouts ✔10 · all ns"
    );
}

/// A rollout of a context whose watch is down says so in its pane: what is
/// shown is as last seen.
#[test]
fn a_rollout_of_a_down_context_says_its_data_is_stale() {
    let mut state = fleet_state(200, 60);
    us_down_for_12s(&mut state);
    let warning =
        "✖ sim-prod-us: no updates for 12s (unreachable: connection refused); shown as last seen";
    assert!(
        !screen(&state).contains(warning),
        "checkout is in sim-prod-eu"
    );
    filter(&mut state, "storefront");
    settle(&mut state);
    assert!(screen(&state).contains(warning), "{}", screen(&state));
}

/// A context that never connected says why in the fleet pane, beside the
/// rollouts of the others; a long message in the footer says where to
/// read it all; scrolled rows show which are on screen.
#[test]
fn the_fleet_says_why_a_context_never_connected_and_which_rows_show() {
    let contexts = ["sim-prod-eu", "sim-prod-3"];
    let mut state = state_of(&contexts, &contexts, 80, 24);
    let many = (0..20)
        .map(|i| {
            rollout(
                "sim-prod-eu",
                "shop",
                &format!("svc-{i:02}"),
                Phase::Healthy,
            )
        })
        .collect();
    listed_live(&mut state, "sim-prod-eu", many);
    update(
        &mut state,
        Event::Cluster(ClusterEvent::Down {
            context: "sim-prod-3".into(),
            kind: Kind::Rollout,
            error: "cannot reach 127.0.0.1:6443: connection refused".into(),
        }),
    );
    state.say(crate::app::Flash::Error(
        "undo: RBAC: user dev cannot patch rollouts in namespace shop (it may list and get them, not change them)".into(),
    ));
    settle(&mut state);
    let screen = screen(&state);
    assert!(
        screen.contains("✖ sim-prod-3: cannot reach 127.0.0.1:6443: connection refused"),
        "{screen}"
    );
    assert!(screen.contains("FLEET 20 · 1–6"), "{screen}");
    let footer = screen.lines().last().unwrap();
    assert!(footer.ends_with("… (:messages)"), "{footer}");
    assert!(!screen.contains("Connecting"), "{screen}");
}

/// A user who may list rollouts but not ReplicaSets: the rollouts show,
/// the context is live (not stale), and the pane says what is missing
/// where the versions would be.
#[test]
fn replica_sets_the_user_may_not_read_are_said_where_they_would_be() {
    let contexts = ["sim-prod-eu"];
    let mut state = state_of(&contexts, &contexts, 120, 40);
    listed_live(
        &mut state,
        "sim-prod-eu",
        vec![canary("sim-prod-eu", "shop", "checkout", Phase::Paused, 1)],
    );
    update(
        &mut state,
        Event::Cluster(ClusterEvent::Down {
            context: "sim-prod-eu".into(),
            kind: Kind::ReplicaSet,
            error: "RBAC: viewer cannot list replicasets.apps in all namespaces".into(),
        }),
    );
    settle(&mut state);
    let screen = screen(&state);
    assert!(
        screen.contains("ReplicaSets: RBAC: viewer cannot list replicasets.apps in"),
        "{screen}"
    );
    let header = screen.lines().next().unwrap();
    assert!(
        header.contains("● sim-prod-eu") && !header.contains("stale"),
        "{header}"
    );
}

/// What the plugin's tree shows of a rollout beyond its live versions: the
/// step's experiment with its templates and analyses, the revisions scaled
/// down, every container's image, and a ping-pong canary's services.
#[test]
fn experiments_old_revisions_images_and_ping_pong_show_in_the_pane() {
    use crate::model::{Experiment, ExperimentTemplate};
    let contexts = ["sim-prod-us"];
    let mut state = state_of(&contexts, &contexts, 120, 40);
    let mut ranking = canary("sim-prod-us", "search", "ranking", Phase::Progressing, 2);
    ranking.stable_ping_pong = Some("pong".into());
    listed_live(&mut state, "sim-prod-us", vec![ranking.clone()]);
    let mut canary_set = replica_set(&ranking, "ranking-canary", 4, 5);
    canary_set
        .images
        .push("registry.example.com/mesh/envoy:v1.29".into());
    let sets = vec![
        replica_set(&ranking, "ranking-old", 2, 0),
        replica_set(&ranking, "ranking-stable", 3, 5),
        canary_set,
    ];
    update(
        &mut state,
        Event::Cluster(ClusterEvent::ReplicaSet(Change::Relisted {
            context: "sim-prod-us".into(),
            namespace: None,
            items: sets,
        })),
    );
    let experiment = Experiment {
        key: ObjectKey::new("sim-prod-us", "search", "ranking-canary-4-2"),
        owner: Some("ranking".into()),
        hash: Some("ranking-canary".into()),
        phase: AnalysisPhase::Running,
        message: String::new(),
        templates: vec![ExperimentTemplate {
            name: "baseline".into(),
            images: vec!["registry.example.com/search/ranking:v1.3.0".into()],
            replicas: 1,
            ready: 1,
            available: 1,
            status: "Running".into(),
        }],
        analyses: vec![("success-rate".into(), AnalysisPhase::Running)],
        created: Some(at(-60)),
    };
    update(
        &mut state,
        Event::Cluster(ClusterEvent::Experiment(Change::Applied(Box::new(
            experiment,
        )))),
    );
    settle(&mut state);
    let screen = screen(&state);
    for shown in [
        "experiment ranking-canary-4-2  ◌ Running",
        "baseline",
        "analysis success-rate  ◌ Running",
        "revision r2",
        "ScaledDown",
        "envoy:v1.29",
        "stable·pong",
        "canary·ping",
    ] {
        assert!(screen.contains(shown), "{shown:?} missing:\n{screen}");
    }
}

/// An audit trail that cannot be written is found at start: the fleet says
/// so, and every action key is dimmed and refuses with the reason.
#[test]
fn an_audit_trail_that_cannot_be_written_is_said_and_every_action_dimmed() {
    let theme = Theme::builtin("default").unwrap();
    let mut state = fleet_state(120, 40);
    state.audit_unwritable = Some("attempt to write a readonly database".into());
    settle(&mut state);
    let screen = screen(&state);
    assert!(
        screen.contains("✖ no action will be sent: the audit trail"),
        "{screen}"
    );
    let buffer = drawn(&state, &theme);
    for action in ["p promote", "␣ pause", "r retry", "u undo", "R restart"] {
        let cell = &buffer[(column_of(&buffer, 39, action), 39)];
        assert!(cell.modifier.contains(Modifier::DIM), "{action}: {cell:?}");
    }
    press(&mut state, KeyCode::Char('r'));
    assert!(
        matches!(state.flash(), Some(crate::app::Flash::Error(e)) if e.contains("audit trail cannot be written")),
        "{:?}",
        state.flash()
    );
}
