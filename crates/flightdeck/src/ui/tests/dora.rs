//! The DORA strip, the DORA view and the changes view, drawn from a hand-made history.

use crossterm::event::KeyCode;

use super::{fleet_state, screen};
use crate::app::testing::press;
use crate::app::{Event, LedgerEvent, Retry, State, settle, update};
use crate::dora::{ActionMark, Deploy, DeployId, Failure, TrafficMark, VerdictMark, WorkloadKind};
use crate::model::testing::at;

const H: i64 = 3_600;
const D: i64 = 86_400;

fn deploy(context: &str, ns: &str, name: &str, revision: u64, started: i64) -> Deploy {
    let id = DeployId {
        context: context.into(),
        namespace: ns.into(),
        kind: Default::default(),
        name: name.into(),
        hash: format!("{name}{revision}").into(),
        revision,
    };
    let mut d = Deploy::new(id, at(started));
    d.images =
        crate::model::Images::new([format!("registry.example.com/{ns}/{name}:v1.{revision}.0")]);
    d
}

/// checkout: three shipped deploys (commit 2 h before each reached 100%) and an abort
/// by alice 20 minutes in; cart: two shipped deploys a week apart.
fn history() -> Vec<Deploy> {
    let mut out = Vec::new();
    for (revision, started) in [(1, -20 * D), (2, -9 * D), (3, -2 * D)] {
        let mut d = deploy("sim-prod-eu", "shop", "checkout", revision, started);
        d.set_commit(Some(at(started - 2 * H)));
        d.set_completed(Some(at(started + 1_800)));
        d.set_superseded(Some(at(started + D)));
        out.push(d);
    }
    let mut bad = deploy("sim-prod-eu", "shop", "checkout", 4, -H);
    bad.traffic = vec![
        TrafficMark {
            at: at(-H),
            weight: 20,
            step: Some(0),
        },
        TrafficMark {
            at: at(-H + 1_200),
            weight: 0,
            step: Some(0),
        },
    ]
    .into();
    bad.peak_weight = 20;
    bad.details_mut().failed = Some((Failure::Aborted, at(-H + 1_200)));
    bad.details_mut().stopped = Some(at(-H + 1_260));
    bad.details_mut().verdict = Some("FAIL score 12/100".into());
    bad.details_mut().request_rate = Some(400.0);
    bad.details_mut().actions = vec![ActionMark {
        at: at(-H + 1_200),
        user: "alice".into(),
        action: "abort".into(),
    }];
    bad.details_mut().verdicts = vec![
        verdict(-H + 60, "PASS", ""),
        verdict(-H + 600, "FAIL", "error rate"),
    ]
    .into();
    out.push(bad);
    // A Canary's deploy, rolled back by Flagger after its verdict turned.
    let mut canary = deploy("sim-prod-eu", "shop", "basket", 5, -3 * H);
    canary.id.kind = WorkloadKind::Canary;
    canary.peak_weight = 30;
    canary.details_mut().failed = Some((Failure::RolledBack, at(-3 * H + 900)));
    canary.details_mut().stopped = canary.failed().map(|f| f.1);
    canary.details_mut().verdict = Some("FAIL score 40/100".into());
    canary.details_mut().verdicts = vec![
        verdict(-3 * H + 60, "PASS", ""),
        verdict(-3 * H + 300, "MARGINAL", "latency p99"),
        verdict(-3 * H + 600, "FAIL", "error rate"),
    ]
    .into();
    out.push(canary);
    for (revision, started) in [(1, -14 * D), (2, -7 * D)] {
        let mut d = deploy("sim-prod-us", "platform", "auth", revision, started);
        d.set_completed(Some(at(started + 600)));
        out.push(d);
    }
    out
}

fn verdict(second: i64, outcome: &str, deciding: &str) -> VerdictMark {
    VerdictMark {
        at: at(second),
        outcome: outcome.into(),
        deciding: deciding.into(),
    }
}

fn with_history(width: u16, height: u16) -> State {
    let mut state = fleet_state(width, height);
    // Only the hand-made deploys (not those of the fleet's ReplicaSets).
    state.dora.history = crate::dora::History::new();
    update(
        &mut state,
        Event::Ledger(LedgerEvent::Opened {
            at: "/home/ops/.local/share/flightdeck/ledger.sqlite".into(),
            deploys: crate::dora::History::from_deploys(history()),
        }),
    );
    settle(&mut state);
    state
}

#[test]
fn dora_strip_at_120x40() {
    insta::assert_snapshot!(screen(&with_history(120, 40)));
}

#[test]
fn no_dora_strip_at_120x30_the_metrics_stay() {
    let text = screen(&with_history(120, 30));
    assert!(!text.contains("DORA 30d"), "{text}");
}

#[test]
fn a_ledger_that_cannot_be_used_says_why_in_the_strip() {
    let mut state = fleet_state(120, 40);
    update(
        &mut state,
        Event::Ledger(LedgerEvent::Unavailable(
            "cannot open the ledger at /data/ledger.sqlite: file is not a database".into(),
        )),
    );
    settle(&mut state);
    let text = screen(&state);
    assert!(
        text.contains(
            "ledger not in use: cannot open the ledger at /data/ledger.sqlite: file is not a database"
        ),
        "{text}"
    );
}

#[test]
fn an_unreachable_ledger_is_tried_again_and_the_strip_says_so() {
    let mut state = with_history(120, 40);
    update(
        &mut state,
        Event::Ledger(LedgerEvent::Retrying(Retry {
            why: "cannot open the ledger at postgres://fd@db/ledger: connection refused".into(),
            after: std::time::Duration::from_secs(8),
            kept: 1_200,
            dropped: 0,
        })),
    );
    settle(&mut state);
    let text = screen(&state);
    assert!(
        text.contains(
            "ledger unreachable, trying again in 8s, 1,200 deploys kept in memory: cannot open the"
        ),
        "{text}"
    );
    assert!(text.contains("DORA 30d fleet"), "the figures stay: {text}");
    update(
        &mut state,
        Event::Ledger(LedgerEvent::Opened {
            at: "postgres://fd@db/ledger".into(),
            deploys: crate::dora::History::new(),
        }),
    );
    settle(&mut state);
    let text = screen(&state);
    assert!(!text.contains("ledger unreachable"), "recovered: {text}");
    assert!(text.contains("DORA 30d fleet"), "{text}");
}

#[test]
fn dora_view_at_120x40() {
    let mut state = with_history(120, 40);
    press(&mut state, KeyCode::Char('D'));
    settle(&mut state);
    insta::assert_snapshot!(screen(&state));
}

#[test]
fn changes_view_at_120x40() {
    let mut state = with_history(120, 40);
    press(&mut state, KeyCode::Char('c'));
    settle(&mut state);
    insta::assert_snapshot!(screen(&state));
}
