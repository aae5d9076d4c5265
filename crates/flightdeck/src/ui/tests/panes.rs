//! What each pane says in the cases people meet: colours, dimmed keys, stale and
//! unreadable data, settled versions, experiments, dialogs.
use crossterm::event::KeyCode;
use ratatui::style::Modifier;

use super::*;
use crate::app::testing::{press, select, state_of};
use crate::app::{Event, settle, update};
use crate::cluster::{Change, ClusterEvent, Kind};
use crate::model::testing::{at, canary, replica_set, rollout};
use crate::model::{AnalysisPhase, ObjectKey, Phase, Strategy};
use crate::ui::Theme;

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
    ledger.detail_mut().active_selector = Some("ledger-live".into());
    ledger.detail_mut().preview_selector = Some("ledger-live".into());
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
    ranking.detail_mut().stable_ping_pong = Some("pong".into());
    listed_live(&mut state, "sim-prod-us", vec![ranking.clone()]);
    let mut canary_set = replica_set(&ranking, "ranking-canary", 4, 5);
    canary_set.images = crate::model::Images::new(
        canary_set
            .images
            .iter()
            .map(|i| i.as_str())
            .chain(["registry.example.com/mesh/envoy:v1.29"]),
    );
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
            images: crate::model::Images::new(["registry.example.com/search/ranking:v1.3.0"]),
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

/// Contexts that read different backends: the metrics pane names the one the selected
/// rollout's context reads, and says so when its context reads none.
#[test]
fn the_metrics_pane_names_the_backend_of_the_selected_rollouts_context() {
    let mut state = fleet_state(120, 40);
    state.metrics_sources = crate::metrics::BackendNames {
        default: None,
        contexts: [(
            "sim-prod-eu".to_string(),
            "eu: Datadog (datadoghq.eu)".to_string(),
        )]
        .into(),
    };
    select(&mut state, "checkout");
    let text = screen(&state);
    assert!(
        text.contains("METRICS stable | canary · eu: Datadog (datadoghq.eu)"),
        "{text}"
    );
    select(&mut state, "search");
    let text = screen(&state);
    assert!(
        text.contains("METRICS stable | canary · no metrics backend"),
        "{text}"
    );
    assert!(
        text.contains("no metrics backend for sim-prod-us: name one in [contexts.sim-prod-us]"),
        "{text}"
    );
    state.metrics_sources.default = Some("us: New Relic (US, account 42)".into());
    let text = screen(&state);
    assert!(
        text.contains("METRICS stable | canary · us: New Relic (US, account 42)"),
        "{text}"
    );
}

/// A plain Deployment's pane lists its revision history from its ReplicaSets, newest
/// first, the current revision marked.
#[test]
fn a_deployments_pane_lists_its_revisions() {
    use crate::model::testing::{deployment, deployment_replica_set};
    let contexts = ["sim-prod-us"];
    let mut state = state_of(&contexts, &contexts, 120, 40);
    let web = deployment("sim-prod-us", "platform", "web", 3, 4);
    let sets: Vec<_> = [(1, 0), (2, 0), (3, 4)]
        .map(|(revision, pods)| deployment_replica_set(&web, revision, pods))
        .into();
    update(
        &mut state,
        Event::Cluster(ClusterEvent::Deployment(Change::Relisted {
            context: "sim-prod-us".into(),
            namespace: None,
            items: vec![web],
        })),
    );
    update(
        &mut state,
        Event::Cluster(ClusterEvent::DeploymentReplicaSet(Change::Relisted {
            context: "sim-prod-us".into(),
            namespace: None,
            items: sets,
        })),
    );
    settle(&mut state);
    let screen = screen(&state);
    let revisions: Vec<&str> = screen
        .lines()
        .filter_map(|l| l.split('│').find(|cell| cell.trim_start().starts_with("r")))
        .map(str::trim)
        .filter(|cell| cell.contains("web:v1."))
        .collect();
    assert_eq!(revisions.len(), 3, "{screen}");
    assert!(
        revisions[0].starts_with("r3   current") && revisions[0].contains("web:v1.3.0"),
        "{screen}"
    );
    assert!(revisions[0].contains(" 4/4 "), "{}", revisions[0]);
    assert!(
        revisions[2].starts_with("r1 ") && revisions[2].contains(" 0/0 "),
        "{}",
        revisions[2]
    );
}
