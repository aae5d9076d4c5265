//! Flagger Canaries in the fleet beside Argo Rollouts: the kind column, Flagger's
//! phases, the analysis plan, the A/B test's segments, and the dialogs that say which
//! of Flagger's mechanisms an action uses.
use crossterm::event::KeyCode;

use super::*;
use crate::model::testing::flagger_canary;
use crate::model::{FlaggerPhase, FlaggerStrategy, Step};

/// The fleet of `fleet_state` and three Canaries in sim-prod-eu: one failing its
/// checks, one A/B test on a header and a cookie, one at its promotion gate.
fn with_canaries(width: u16, height: u16) -> State {
    let mut state = fleet_state(width, height);
    let mut failing = flagger_canary(FlaggerPhase::Progressing, 20);
    failing.key = ObjectKey::new("sim-prod-eu", "shop", "basket");
    let f = failing.flagger.as_mut().unwrap();
    f.target = "basket".into();
    f.failed_checks = 4;
    let mut ab = flagger_canary(FlaggerPhase::Progressing, 0);
    ab.key = ObjectKey::new("sim-prod-eu", "shop", "storefront-ab");
    ab.steps = (1..=5)
        .map(|i| Step::Other(format!("#{i}")))
        .chain([Step::Other("promote".into())])
        .collect();
    ab.current_step = Some(2);
    let f = ab.flagger.as_mut().unwrap();
    f.target = "storefront-ab".into();
    f.strategy = FlaggerStrategy::AbTesting;
    f.step_weight = None;
    f.max_weight = None;
    f.max_iterations = Some(5);
    f.iterations = 2;
    f.failed_checks = 0;
    f.promotion_gate = None;
    f.matches = vec![
        "header x-canary = insider".into(),
        "cookie ~ ^(.*?;)?(type=insider)(;.*)?$".into(),
    ];
    let mut gated = flagger_canary(FlaggerPhase::WaitingPromotion, 50);
    gated.key = ObjectKey::new("sim-prod-eu", "payments", "billing");
    gated.current_step = Some(5);
    gated.flagger.as_mut().unwrap().target = "billing".into();
    gated.flagger.as_mut().unwrap().failed_checks = 0;
    update(
        &mut state,
        Event::Cluster(ClusterEvent::Canary(Change::Relisted {
            context: "sim-prod-eu".into(),
            namespace: None,
            items: vec![failing, ab, gated],
        })),
    );
    settle(&mut state);
    state
}

#[test]
fn canaries_beside_rollouts_at_120x40() {
    let mut state = with_canaries(120, 40);
    select(&mut state, "basket");
    insta::assert_snapshot!(screen(&state));
}

#[test]
fn an_ab_test_shows_who_sees_the_canary_at_120x40() {
    let mut state = with_canaries(120, 40);
    select(&mut state, "storefront-ab");
    let text = screen(&state);
    assert!(text.contains("requests that match any of:"), "{text}");
    assert!(text.contains("header x-canary = insider"), "{text}");
    assert!(text.contains("primary  every other request"), "{text}");
    assert!(text.contains("A/B every 30s · iteration 2/5"), "{text}");
}

#[test]
fn promote_says_which_of_flaggers_mechanisms_it_uses() {
    let mut state = with_canaries(120, 40);
    select(&mut state, "billing");
    press(&mut state, KeyCode::Char('p'));
    let text = screen(&state);
    assert!(text.contains("opens the confirm-promotion gate"), "{text}");
    press(&mut state, KeyCode::Esc);
    select_again(&mut state, "storefront-ab");
    press(&mut state, KeyCode::Char('p'));
    let text = screen(&state);
    assert!(text.contains("spec.skipAnalysis: true"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn kind_narrows_the_fleet_to_one_kind() {
    let mut state = with_canaries(120, 40);
    assert!(screen(&state).contains(" K NAME"));
    typed(&mut state, ":kind canary");
    press(&mut state, KeyCode::Enter);
    settle(&mut state);
    let names: Vec<&str> = state.view.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    let header = screen(&state).lines().next().unwrap().to_string();
    assert!(
        header.contains("3 rollouts") && header.ends_with("· kind canary"),
        "{header}"
    );
    assert!(names.contains(&"basket") && names.contains(&"billing"));
    // The urgency order holds across kinds: the aborted Argo checkout, then the
    // canaries waiting for a person.
    typed(&mut state, ":kind all");
    press(&mut state, KeyCode::Enter);
    settle(&mut state);
    assert_eq!(state.view.len(), 14);
}

/// Move the cursor from wherever it is to the row called `name`.
fn select_again(state: &mut State, name: &str) {
    press(state, KeyCode::Char('g'));
    select(state, name);
}
