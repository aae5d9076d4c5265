//! DORA for Flagger Canaries and plain Deployments in the app: a Deployment's revision
//! seen changing is a deploy, undone through flightdeck a failure; a Canary's deploy
//! comes from its status and its target Deployment; a deploy the ledger knew is
//! finished from what the objects show when the ledger's answer comes.

use super::dora::recorded;
use super::*;
use crate::dora::{Deploy, Failure, Outcome, WorkloadKind};
use crate::model::testing::{at, flagger_canary, rolling_update};
use crate::model::{Condition, FlaggerPhase, Replicas, RolloutAction, Workload};

/// The Deployment `name` in eu/test at `revision`, `updated` of 4 replicas new.
fn deployment(name: &str, revision: u64, updated: u32) -> Rollout {
    let phase = if updated == 4 {
        Phase::Healthy
    } else {
        Phase::Progressing
    };
    let reason = if updated == 4 {
        "NewReplicaSetAvailable"
    } else {
        "ReplicaSetUpdated"
    };
    Rollout {
        workload: Workload::Deployment,
        strategy: crate::model::Strategy::Other,
        revision: Some(revision),
        steps: Vec::new().into(),
        current_step: None,
        replicas: Replicas {
            desired: 4,
            current: 4,
            updated,
            ready: 4,
            available: 4,
        },
        images: crate::model::Images::new([format!("{name}:v{revision}")]),
        conditions: vec![Condition {
            kind: "Progressing".into(),
            status: "True".into(),
            reason: reason.into(),
            message: format!("ReplicaSet \"{name}-h{revision}\" is progressing.")
                .as_str()
                .into(),
            since: Some(at(-60)).into(),
        }],
        deployment: Some(rolling_update(false, &[])),
        key: ObjectKey::of(Workload::Deployment, "eu", "test", name),
        ..rollout("eu", "test", name, phase)
    }
}

fn deployment_event(s: &mut State, change: Change<Rollout>) -> Vec<Deploy> {
    recorded(&update(s, Event::Cluster(ClusterEvent::Deployment(change))))
}

#[test]
fn a_deployments_new_revision_is_a_deploy_and_an_undo_through_flightdeck_fails_it() {
    let mut s = state();
    let listed = Change::Relisted {
        context: "eu".into(),
        namespace: None,
        items: vec![deployment("web", 7, 4)],
    };
    assert!(
        deployment_event(&mut s, listed).is_empty(),
        "rolled out unseen"
    );
    s.now = at(10);
    let facts = deployment_event(&mut s, Change::Applied(Box::new(deployment("web", 8, 1))));
    let d = facts.iter().find(|d| d.id.revision == 8).unwrap();
    assert_eq!(
        (d.id.kind, d.id.hash.as_str()),
        (WorkloadKind::Deployment, "h8")
    );
    assert_eq!((d.started, d.peak_weight), (at(10), 25));
    s.now = at(20);
    let out = update(
        &mut s,
        Event::ActionSent {
            key: ObjectKey::of(Workload::Deployment, "eu", "test", "web"),
            action: RolloutAction::Undo { revision: None },
            result: Ok("template patch".into()),
        },
    );
    let facts = recorded(&out);
    assert_eq!(facts.len(), 1);
    assert_eq!(facts[0].id.revision, 8);
    assert_eq!(facts[0].failed(), Some((Failure::Undone, at(20))));
}

#[test]
fn a_canarys_deploy_is_its_targets_revision_and_its_target_moves_it() {
    let mut s = state();
    let mut target = deployment("podinfo", 3, 4);
    target.deployment.as_mut().unwrap().owned = true;
    deployment_event(&mut s, Change::Applied(Box::new(target)));
    let mut canary = flagger_canary(FlaggerPhase::Progressing, 10);
    canary.conditions = vec![Condition {
        kind: "Promoted".into(),
        status: "Unknown".into(),
        reason: "Progressing".into(),
        message: "New revision detected, progressing canary analysis.".into(),
        since: Some(at(-120)).into(),
    }];
    let out = update(
        &mut s,
        Event::Cluster(ClusterEvent::Canary(Change::Applied(Box::new(
            canary.clone(),
        )))),
    );
    let facts = recorded(&out);
    assert_eq!(facts.len(), 1);
    let d = &facts[0];
    assert_eq!(
        (d.id.kind, d.id.hash.as_str(), d.id.revision),
        (WorkloadKind::Canary, "5d2a", 3)
    );
    assert_eq!(
        (d.started, d.images.first().map(|i| i.as_str())),
        (at(-120), Some("podinfo:v3"))
    );
    // The target's own event reaches the Canary's deploy.
    let mut failed = canary;
    failed.flagger.as_mut().unwrap().phase = FlaggerPhase::Failed;
    s.rollouts.insert(failed.key.clone(), Box::new(failed));
    s.now = at(30);
    let mut target = deployment("podinfo", 3, 4);
    target.deployment.as_mut().unwrap().owned = true;
    let facts = deployment_event(&mut s, Change::Applied(Box::new(target)));
    let d = facts
        .iter()
        .find(|d| d.id.kind == WorkloadKind::Canary)
        .unwrap();
    assert_eq!(d.outcome(), Outcome::Failed(Failure::RolledBack));
    assert_eq!(d.failed().unwrap().1, at(30));
}

#[test]
fn a_deploy_the_ledger_knew_is_finished_from_the_objects_when_the_ledger_answers() {
    let mut s = state();
    let listed = Change::Relisted {
        context: "eu".into(),
        namespace: None,
        items: vec![deployment("web", 8, 4)],
    };
    deployment_event(&mut s, listed);
    let mut known = Deploy::new(
        crate::dora::DeployId {
            context: "eu".into(),
            namespace: "test".into(),
            kind: WorkloadKind::Deployment,
            name: "web".into(),
            hash: "h8".into(),
            revision: 8,
        },
        at(-600),
    );
    known.peak_weight = 50;
    let out = update(
        &mut s,
        Event::Ledger(LedgerEvent::Opened {
            at: "/data/ledger.sqlite".into(),
            deploys: crate::dora::History::from_deploys([known]),
        }),
    );
    let facts = recorded(&out);
    assert_eq!(facts.len(), 1);
    assert_eq!(facts[0].outcome(), Outcome::Succeeded);
    assert_eq!(facts[0].completed(), Some(at(-60)), "the condition's time");
}

/// A ReplicaSet of the Deployment `owner`, as the Deployment controller made it.
fn set_of(owner: &str, revision: u64, created: i64) -> crate::model::ReplicaSet {
    crate::model::ReplicaSet {
        key: ObjectKey::of(
            Workload::Deployment,
            "eu",
            "test",
            format!("{owner}-h{revision}"),
        ),
        owner: Some(owner.into()),
        hash: format!("h{revision}").into(),
        revision: Some(revision),
        images: crate::model::Images::new([format!("{owner}:v{revision}")]),
        replicas: Replicas::default(),
        created: Some(at(created)).into(),
        template_times: crate::model::template_times([("flightdeck.io/commit-time", "1789990000")]),
        revision_history: Box::default(),
    }
}

/// The Canaries listed (which Deployments are a Canary's is known then), then the
/// Deployments' ReplicaSets `sets`: what that records.
fn replica_sets_after_canaries(s: &mut State, sets: Vec<crate::model::ReplicaSet>) -> Vec<Deploy> {
    update(
        s,
        Event::Cluster(ClusterEvent::Live {
            context: "eu".into(),
            kind: crate::cluster::Kind::Canary,
        }),
    );
    recorded(&update(
        s,
        Event::Cluster(ClusterEvent::DeploymentReplicaSet(Change::Relisted {
            context: "eu".into(),
            namespace: None,
            items: sets,
        })),
    ))
}

#[test]
fn a_plain_deployments_replica_sets_give_its_revision_history_and_a_canarys_target_none() {
    let mut s = state();
    let mut target = deployment("podinfo", 3, 4);
    target.deployment.as_mut().unwrap().owned = true;
    let listed = Change::Relisted {
        context: "eu".into(),
        namespace: None,
        items: vec![deployment("web", 7, 4), target],
    };
    deployment_event(&mut s, listed);
    update(
        &mut s,
        Event::Cluster(ClusterEvent::Canary(Change::Applied(Box::new(
            flagger_canary(FlaggerPhase::Succeeded, 0),
        )))),
    );
    let sets = vec![
        set_of("web", 5, -3_000),
        set_of("web", 7, -1_000),
        set_of("web", 6, -2_000),
        set_of("podinfo", 3, -500),
    ];
    let mut facts = replica_sets_after_canaries(&mut s, sets);
    facts.sort_by_key(|d| d.id.revision);
    assert!(
        facts
            .iter()
            .all(|d| d.id.name == "web" && d.id.kind == WorkloadKind::Deployment)
    );
    assert_eq!(
        facts.iter().map(|d| d.id.revision).collect::<Vec<_>>(),
        [5, 6, 7]
    );
    assert_eq!(facts[0].started, at(-3_000));
    assert_eq!(facts[0].superseded(), Some(at(-2_000)));
    assert_eq!(facts[0].commit(), Some(at(-10_000)));
    // The current revision, complete when its condition says.
    assert_eq!(
        (facts[2].outcome(), facts[2].completed()),
        (Outcome::Succeeded, Some(at(-60)))
    );
    // The Deployment's own list again finds the same deploy, not another.
    let again = Change::Relisted {
        context: "eu".into(),
        namespace: None,
        items: vec![deployment("web", 7, 4)],
    };
    assert!(deployment_event(&mut s, again).is_empty());
}

#[test]
fn a_deployment_listed_mid_rollout_before_its_replica_sets_gets_its_share_when_they_come() {
    // Listed while rolling out (1 of 4 replicas updated), before its ReplicaSets: the
    // revision's start is read from them, so its share is recorded when they come, not
    // only once the ledger, read back on the next start, knows the revision.
    let mut s = state();
    let listed = Change::Relisted {
        context: "eu".into(),
        namespace: None,
        items: vec![deployment("web", 2, 1)],
    };
    deployment_event(&mut s, listed);
    let facts = replica_sets_after_canaries(
        &mut s,
        vec![set_of("web", 1, -3_000), set_of("web", 2, -600)],
    );
    let current: Vec<_> = facts.iter().filter(|d| d.id.revision == 2).collect();
    assert!(!current.is_empty(), "{facts:?}");
    assert!(
        current.iter().all(|d| d.started == at(-600)),
        "started when its ReplicaSet was made"
    );
    assert_eq!(
        current.iter().map(|d| d.peak_weight).max(),
        Some(25),
        "1 of 4 replicas updated"
    );
}
