//! Whole screens drawn into a `TestBackend` from a fixed fleet, at the
//! sizes people use: 80x24 over SSH, 120x40, and 200x60; what each pane says in
//! particular cases is checked in `panes`.

mod dora;
mod flagger;
mod panes;

use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

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

pub(super) fn fleet_state(width: u16, height: u16) -> State {
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
        since: Some(at(-30)).into(),
    }];
    let search = canary("sim-prod-us", "search", "search", Phase::Paused, 1);
    let fraud = canary("sim-prod-eu", "payments", "fraud-check", Phase::Paused, 3);
    let mut preview = rollout("sim-prod-us", "shop", "storefront", Phase::Paused);
    preview.strategy = Strategy::BlueGreen;
    preview.detail_mut().active_selector = Some("sf-active".into());
    preview.detail_mut().preview_selector = Some("sf-preview".into());
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
    sets[0].images = crate::model::Images::new(["registry.example.com/shop/checkout:v2.4.0"]);
    sets[1].images = crate::model::Images::new(["registry.example.com/shop/checkout:v2.5.0"]);
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
    state.metrics_sources.default = Some("simulated traffic".into());
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
pub(super) fn judged(canary_errors: f64, canary_latency: f64) -> RolloutMetricsReport {
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
pub(super) fn listed_live(state: &mut State, context: &str, items: Vec<Rollout>) {
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
pub(super) fn us_down_for_12s(state: &mut State) {
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
pub(super) fn filter(state: &mut State, text: &str) {
    typed(state, &format!("/{text}"));
}

/// The screen as the cockpit shows it: drawn, what the frame showed fed
/// back to `update` (which may scroll), and drawn again.
pub(super) fn screen(state: &State) -> String {
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

/// The screen's cells, with their colours.
pub(super) fn drawn(state: &State, theme: &Theme) -> Buffer {
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
pub(super) fn column_of(buffer: &Buffer, y: u16, text: &str) -> u16 {
    let line: String = (0..buffer.area.width)
        .map(|x| buffer[(x, y)].symbol())
        .collect();
    line.find(text)
        .map(|i| line[..i].chars().count() as u16)
        .unwrap_or_else(|| panic!("no {text:?} on row {y}: {line}"))
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
