//! What a Flagger Canary says about its deploys: one per spec of its target
//! Deployment that Flagger analysed (`status.lastAppliedSpec`, the hash of the
//! deploy), numbered by the target's `deployment.kubernetes.io/revision`. Flagger
//! keeps no revision history, so a deploy is known from when the watch sees a new
//! spec, or from the `Promoted` condition (`Unknown` while an analysis runs: its
//! transition time is when the analysis began).

use super::deploy::{Deploy, Failure, WorkloadKind};
use super::observe::{Observation, at_full, id_of, replaced};
use crate::model::{FlaggerPhase, first_time};

/// The facts about the Canary's deploy now (and the one it replaced). `before`:
/// the `lastAppliedSpec` seen before this observation, if any.
pub fn canary_deploys(o: &Observation<'_>, known: &[Deploy], before: Option<&str>) -> Vec<Deploy> {
    let rollout = o.rollout;
    let Some(canary) = rollout.flagger.as_deref() else {
        return Vec::new();
    };
    let (Some(hash), Some(target)) = (canary.last_applied.as_deref(), o.target) else {
        return Vec::new();
    };
    let Some(revision) = target.revision else {
        return Vec::new();
    };
    let id = id_of(&rollout.key, WorkloadKind::Canary, hash, revision);
    let promoted = |status: &str| {
        rollout
            .conditions
            .iter()
            .find(|c| c.kind == "Promoted" && c.status == status)
            .and_then(|c| c.since.get())
    };
    let in_flight = canary.phase.in_flight();
    let started = known
        .iter()
        .find(|d| d.id == id)
        .map(|d| d.started)
        .or_else(|| promoted("Unknown").filter(|_| in_flight))
        .or_else(|| o.live.filter(|_| before.is_some_and(|b| b != hash)));
    let Some(started) = started else {
        // A spec whose analysis began unseen, and which nothing dates.
        return Vec::new();
    };
    let mut deploy = Deploy::new(id, started);
    deploy.images.clone_from(&target.images);
    deploy.set_commit(
        target
            .deployment
            .as_ref()
            .and_then(|d| first_time(&d.template_times, o.commit_annotations)),
    );
    let when = |status: &str| o.live.or_else(|| promoted(status)).or(rollout.since.get());
    let promoted_now = canary.last_promoted.as_deref() == Some(hash);
    match canary.phase {
        FlaggerPhase::Succeeded | FlaggerPhase::Initialized if promoted_now => {
            // Promoted: the primary runs the new spec and takes all traffic.
            at_full(&mut deploy, when("True"));
        }
        FlaggerPhase::Failed => {
            // Rolled back: the canary scaled to zero, all traffic to the primary.
            if let Some(at) = when("False") {
                deploy.details_mut().failed = Some((Failure::RolledBack, at));
                deploy.details_mut().stopped = Some(at);
            }
        }
        _ if in_flight => o.under_way(&mut deploy, canary.canary_weight.min(100)),
        _ => {}
    }
    let mut facts: Vec<Deploy> = replaced(known, &deploy).into_iter().collect();
    facts.push(deploy);
    facts
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::*;
    use crate::dora::{History, Outcome};
    use crate::model::testing::{at, flagger_canary, rolling_update, rollout};
    use crate::model::{Condition, Phase, Rollout, Workload};

    /// The target Deployment `podinfo` at `revision`, with a commit time.
    fn target(revision: u64) -> Rollout {
        Rollout {
            revision: Some(revision),
            images: crate::model::Images::new([format!("podinfo:v{revision}")]),
            workload: Workload::Deployment,
            deployment: Some(rolling_update(
                true,
                &[("flightdeck.io/commit-time", "1789999000")],
            )),
            ..rollout("eu", "test", "podinfo", Phase::Healthy)
        }
    }

    fn promoted(status: &str, since: Timestamp) -> Condition {
        Condition {
            kind: "Promoted".into(),
            status: status.into(),
            reason: "".into(),
            message: "".into(),
            since: Some(since).into(),
        }
    }

    fn seen(
        history: &mut History,
        canary: &Rollout,
        target: &Rollout,
        live: Option<Timestamp>,
        before: Option<&str>,
    ) {
        let names = ["flightdeck.io/commit-time".to_string()];
        let o = Observation {
            rollout: canary,
            replica_sets: &[],
            target: Some(target),
            live,
            commit_annotations: &names,
            verdict: None,
            request_rate: None,
        };
        let key = canary.key.clone();
        for fact in canary_deploys(&o, history.of(&key), before) {
            history.merge(fact);
        }
    }

    #[test]
    fn a_new_spec_seen_is_a_canary_deploy_until_promoted() {
        let mut history = History::new();
        let mut canary = flagger_canary(FlaggerPhase::Succeeded, 0);
        canary.flagger.as_mut().unwrap().last_applied = Some("7f9c".into());
        canary.conditions = vec![promoted("True", at(-600))];
        // Promoted before anyone watched, and nothing dates when its analysis began.
        seen(&mut history, &canary, &target(3), None, None);
        assert_eq!(history.len(), 0, "no deploy without a start");
        // A new spec seen: analysis under way at 10%, then 30%.
        let mut moving = flagger_canary(FlaggerPhase::Progressing, 10);
        seen(&mut history, &moving, &target(4), Some(at(0)), Some("7f9c"));
        moving.flagger.as_mut().unwrap().canary_weight = 30;
        seen(
            &mut history,
            &moving,
            &target(4),
            Some(at(60)),
            Some("5d2a"),
        );
        let key = moving.key.clone();
        let d = &history.of(&key)[0];
        assert_eq!(
            (d.id.kind, d.id.hash.as_str(), d.id.revision),
            (WorkloadKind::Canary, "5d2a", 4)
        );
        assert_eq!(
            (d.started, d.peak_weight, d.outcome()),
            (at(0), 30, Outcome::InProgress)
        );
        assert_eq!(*d.images, ["podinfo:v4"]);
        assert_eq!(d.commit(), Some(at(-1000)));
        // Promoted: its spec is the primary's.
        let mut done = flagger_canary(FlaggerPhase::Succeeded, 0);
        done.flagger.as_mut().unwrap().last_promoted = Some("5d2a".into());
        seen(&mut history, &done, &target(4), Some(at(300)), Some("5d2a"));
        let d = &history.of(&key)[0];
        assert_eq!(
            (d.outcome(), d.completed(), d.peak_weight),
            (Outcome::Succeeded, Some(at(300)), 100)
        );
        assert_eq!(d.exposure(), None);
    }

    #[test]
    fn a_failed_analysis_read_from_the_status_is_a_rollback_dated_by_its_condition() {
        let mut history = History::new();
        let mut moving = flagger_canary(FlaggerPhase::Progressing, 20);
        moving.conditions = vec![promoted("Unknown", at(-300))];
        // Listed while its analysis runs: the condition says when it began.
        seen(&mut history, &moving, &target(5), None, None);
        let mut failed = flagger_canary(FlaggerPhase::Failed, 0);
        failed.conditions = vec![promoted("False", at(-100))];
        seen(&mut history, &failed, &target(5), None, Some("5d2a"));
        let d = &history.of(&moving.key)[0];
        assert_eq!(d.started, at(-300));
        assert_eq!(d.outcome(), Outcome::Failed(Failure::RolledBack));
        assert_eq!(
            (d.failed().unwrap().1, d.stopped()),
            (at(-100), Some(at(-100)))
        );
        assert_eq!(d.peak_weight, 20);
        // A Rollout of the same namespace and name is another deploy.
        let mut rollout_fact = d.clone();
        rollout_fact.id.kind = WorkloadKind::Rollout;
        assert!(history.merge(rollout_fact).is_some());
        assert_eq!(history.len(), 2);
    }
}
