//! Which actions a Flagger Canary offers, what each will do (said in the dialog), and
//! its blast radius. Flagger has no promote or abort call: promote opens the
//! `confirm-promotion` gate of a load tester or sets `spec.skipAnalysis`, abort opens
//! the `rollback` gate, pause and resume set `spec.suspend` (DESIGN.md).

use super::blast_radius::{BlastRadius, VersionChange};
use super::{FlaggerCanary, FlaggerPhase, Gate, Role, Rollout, RolloutAction};

/// Whether a load tester's gate is behind a webhook: its url ends in the gate's
/// `/check` (or `/halt`).
pub fn is_load_tester_gate(gate: &Gate, kind: &str) -> bool {
    let path = gate.url.trim_end_matches('/');
    path.ends_with(&format!("/{kind}/check")) || path.ends_with(&format!("/{kind}/halt"))
}

pub fn availability(canary: &FlaggerCanary, action: RolloutAction) -> Result<(), String> {
    let verb = action.verb();
    let analysing = matches!(
        canary.phase,
        FlaggerPhase::Waiting | FlaggerPhase::Progressing | FlaggerPhase::WaitingPromotion
    );
    let why: Option<String> = match action {
        RolloutAction::Pause if canary.suspended => Some("the Canary is already suspended".into()),
        RolloutAction::Pause => None,
        RolloutAction::Resume if !canary.suspended => Some("the Canary is not suspended".into()),
        RolloutAction::Resume => None,
        RolloutAction::Promote if !analysing => Some(format!(
            "no analysis is waiting or running (the Canary is {})",
            canary.phase.label()
        )),
        RolloutAction::Promote => None,
        RolloutAction::Abort if !analysing => Some(format!(
            "no analysis is running to roll back (the Canary is {})",
            canary.phase.label()
        )),
        RolloutAction::Abort => match &canary.rollback_gate {
            Some(g) if is_load_tester_gate(g, "rollback") => None,
            Some(g) => Some(format!(
                "the rollback webhook {} is not a load tester gate (/rollback/check): \
                 Flagger has no other abort call",
                g.url
            )),
            None => Some(
                "the Canary has no rollback webhook, and Flagger has no abort call: \
                 add one on the load tester's /rollback/check, or pause"
                    .into(),
            ),
        },
        RolloutAction::PromoteFull => {
            Some("Flagger has no promote --full; promote skips the analysis".into())
        }
        RolloutAction::Retry => {
            Some("Flagger retries by itself when the target Deployment's spec changes again".into())
        }
        RolloutAction::Undo { .. } => Some(
            "Flagger has no undo: put the target Deployment's previous spec back (in git)".into(),
        ),
        RolloutAction::Restart => Some(
            "a restart of the target Deployment starts a new analysis; use kubectl rollout restart"
                .into(),
        ),
    };
    match why {
        Some(why) => Err(format!("{verb}: {why}")),
        None => Ok(()),
    }
}

/// What the action will do, in the dialog: which of Flagger's mechanisms it uses.
pub fn what_happens(canary: &FlaggerCanary, action: RolloutAction) -> Option<String> {
    match action {
        RolloutAction::Promote => Some(match &canary.promotion_gate {
            Some(g) if is_load_tester_gate(g, "gate") => format!(
                "opens the confirm-promotion gate ({}, POST .../gate/open): Flagger promotes \
                 once the analysis passes",
                g.webhook
            ),
            _ => "no load tester gate on confirm-promotion: sets spec.skipAnalysis: true, and \
                  Flagger promotes without further checks; GitOps (Flux, Argo CD) may revert it, \
                  and until removed it skips the next release's analysis too"
                .into(),
        }),
        RolloutAction::Abort => canary.rollback_gate.as_ref().map(|g| {
            format!(
                "opens the rollback gate ({}, POST .../rollback/open): Flagger rolls back at its \
                 next check and scales the canary to zero",
                g.webhook
            )
        }),
        RolloutAction::Pause => {
            Some("sets spec.suspend: true; Flagger holds the analysis where it is".into())
        }
        RolloutAction::Resume => Some("sets spec.suspend: false; the analysis goes on".into()),
        _ => None,
    }
}

/// The blast radius on a Canary: the primary (stable) and the canary Deployment. A
/// promotion sends all traffic to the new spec (the primary is rolled to it, then the
/// canary scaled to zero); an abort sends all back to the primary.
pub fn radius(
    rollout: &Rollout,
    action: RolloutAction,
    measured: Option<(f64, f64)>,
) -> BlastRadius {
    let canary = rollout.flagger.as_deref();
    let target = canary.map_or_else(|| rollout.key.name.to_string(), |c| c.target.clone());
    let w = rollout.actual_weight.min(100);
    let (primary_pods, canary_pods) = (rollout.replicas.desired, rollout.replicas.updated);
    let (share_after, pods_after, replaced, note) = match action {
        RolloutAction::Promote => (
            100,
            0,
            primary_pods,
            Some(
                "the primary's pods are replaced by the new spec's, then the canary scales to zero",
            ),
        ),
        RolloutAction::Abort => (0, 0, 0, Some("the canary scales to zero")),
        _ => (w, canary_pods, 0, None),
    };
    let versions = vec![
        VersionChange {
            role: Role::Stable,
            hash: format!("{target}-primary"),
            revision: None,
            image: None,
            share_before: 100 - w,
            share_after: 100 - share_after,
            pods_before: primary_pods,
            pods_after: primary_pods,
            scale_down_after: None,
        },
        VersionChange {
            role: Role::Canary,
            hash: target,
            revision: None,
            image: rollout.images.first().map(|i| i.to_string()),
            share_before: w,
            share_after,
            pods_before: canary_pods,
            pods_after,
            scale_down_after: None,
        },
    ];
    BlastRadius {
        pods_replaced: replaced,
        note,
        ..BlastRadius::moving(versions, measured)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::flagger_canary;

    use RolloutAction::*;

    #[test]
    fn a_progressing_canary_is_paused_promoted_or_aborted_through_its_gates() {
        let mut c = flagger_canary(FlaggerPhase::Progressing, 20);
        let f = c.flagger.as_deref().unwrap();
        for action in [Pause, Promote, Abort] {
            assert_eq!(availability(f, action), Ok(()), "{action}");
        }
        assert_eq!(
            availability(f, Resume),
            Err("resume: the Canary is not suspended".into())
        );
        assert!(
            availability(f, Retry)
                .unwrap_err()
                .starts_with("retry: Flagger retries")
        );
        assert!(
            what_happens(f, Promote)
                .unwrap()
                .contains("opens the confirm-promotion gate")
        );
        c.flagger.as_mut().unwrap().promotion_gate = None;
        let f = c.flagger.as_deref().unwrap();
        assert!(
            what_happens(f, Promote)
                .unwrap()
                .contains("spec.skipAnalysis: true")
        );
        assert!(what_happens(f, Promote).unwrap().contains("GitOps"));
    }

    #[test]
    fn without_a_rollback_gate_there_is_no_abort() {
        let mut c = flagger_canary(FlaggerPhase::Progressing, 20);
        c.flagger.as_mut().unwrap().rollback_gate = None;
        let err = availability(c.flagger.as_deref().unwrap(), Abort).unwrap_err();
        assert!(
            err.starts_with("abort: the Canary has no rollback webhook"),
            "{err}"
        );
        let done = flagger_canary(FlaggerPhase::Succeeded, 0);
        let f = done.flagger.as_deref().unwrap();
        assert!(availability(f, Abort).is_err() && availability(f, Promote).is_err());
    }

    #[test]
    fn abort_sends_the_canarys_share_back_to_the_primary() {
        let c = flagger_canary(FlaggerPhase::Progressing, 20);
        let r = radius(&c, Abort, Some((800.0, 200.0)));
        assert_eq!(
            (r.versions[1].share_before, r.versions[1].share_after),
            (20, 0)
        );
        assert_eq!(r.moved_rps, Some(200.0));
        let p = radius(&c, Promote, None);
        assert_eq!(
            (p.versions[0].share_after, p.versions[1].share_after),
            (0, 100)
        );
        assert_eq!(p.moved_percent, 80);
    }
}
